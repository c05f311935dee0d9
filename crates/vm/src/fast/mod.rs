//! The fast engine: programs pre-decoded into compact ops with resolved
//! register slots, and gas charged once per straight-line run instead of
//! once per instruction.
//!
//! Exactness with the reference interpreter (`machine.rs`) is the contract:
//! - Each op slot knows the total cost of the straight-line run starting at
//!   it (up to and including the next control or system instruction). On
//!   entering a run the whole cost is charged at once; if it does not fit,
//!   the reference stepper finishes the run, so out-of-gas happens at exactly
//!   the same instruction.
//! - If an op inside a run traps, the cost of the ops after it is refunded,
//!   so `gas_used` matches.
//! - A store that needs a fresh page first refunds the rest of the run, so
//!   the page charge sees exactly the gas the reference would, then charges
//!   the rest again (or falls back to stepping if it no longer fits).

mod compile;
mod run;

pub(crate) use compile::FastCode;

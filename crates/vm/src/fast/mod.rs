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
//! - An op that would trap, or a store that needs a fresh page, is handed
//!   to the reference stepper after refunding the run from that op on, so
//!   the trap, the page charge and `gas_used` are exactly the reference's;
//!   the fast loop then resumes at the next instruction, charging the rest
//!   of the run again (or stepping if it no longer fits).
//! - Loads and stores go through a translation cache (`tlb`) that only
//!   ever short-cuts accesses the reference would perform with no trap and
//!   no allocation.
//! - Frequent sequences of consecutive ops run as one fused op (`kinds`)
//!   that executes exactly the plain ops of its slots in order; every slot
//!   keeps its own op, so entering mid-sequence, a part that needs the
//!   stepper, and out-of-gas inside a sequence all behave as unfused.
//!
//! Where the time goes, and why the loop looks the way it does (measured
//! with callgrind and wall clock on the benchmark guests): one `match`
//! dispatches every op with jump targets pre-resolved to slots, so a taken
//! branch is a table load; registers live in a local array indexed by the
//! op's `u8` fields with no bounds check; gas and instruction count are one
//! packed word (`compile::Meter`) charged with one addition per run; and
//! fusion roughly halves the number of dispatches on compiled Rust.

mod compile;
mod kinds;
mod run;
mod tlb;

pub(crate) use compile::FastCode;

//! # athena-interface
//!
//! The Rust side of Athena's host interface ("athcon"): the vocabulary shared
//! by the VM and every node that embeds it. The VM executes code; the host
//! (a node) owns accounts, storage, balances, logs and the chain context. This
//! crate is the narrow waist between the two, so it deliberately contains
//! only plain data types and one trait, [`Host`], with no execution logic.
//!
//! Every type is designed to be mirrored one-to-one by a C ABI (`athcon.h`)
//! in a later step, so that a Go node can act as a host:
//!
//! * identifiers are fixed-size byte arrays ([`Address`], [`Bytes32`]);
//! * amounts, gas and heights are plain `u64`;
//! * enums have `#[repr(..)]` and explicit, stable discriminants
//!   ([`StatusCode`], [`MessageKind`], [`StorageStatus`], [`Revision`]);
//! * flag sets are integer newtypes ([`Capabilities`]).
//!
//! [`mock::MockHost`] is a deterministic in-memory reference host for unit
//! tests of the VM and higher layers. The normative description lives in
//! `docs/interface.md`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod bytes;
mod host;
mod message;
pub mod mock;
mod revision;
mod status;

pub use bytes::{Address, Bytes32, FromHexError};
pub use host::{Host, StorageStatus, SPAWN_SELECTOR};
pub use message::{ExecutionResult, Message, MessageKind, TxContext};
pub use revision::{Capabilities, Revision};
pub use status::StatusCode;

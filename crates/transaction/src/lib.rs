//! Account-model foundations for Athena, independent of any network code:
//!
//! * [`address`]: how template and program (principal) addresses are derived,
//!   and how addresses are displayed and parsed in bech32 for a [`Network`];
//! * [`tx`]: the versioned SCALE transaction envelope, its limits, its signing
//!   message (bound to a network's genesis id), its id, and single-signature
//!   ed25519 helpers.
//!
//! Hashing is blake3 and the codec is SCALE throughout, matching the VM. The
//! derivations are frozen by golden vectors in `tests/vectors.json`; see
//! `docs/addresses.md` and `docs/transactions.md`.

#![deny(missing_docs)]

pub mod address;
pub mod tx;

pub use address::{
    address_kind, parse_address_any, program_address, template_address, AddressError, AddressKind, Network,
    NetworkError,
};
pub use athena_interface::{Address, Bytes32};
pub use tx::{
    decode, encode_payload, selector, sign_single, split_payload, verify_single, DecodeError, Field, Transaction,
    UnsignedTransaction,
};

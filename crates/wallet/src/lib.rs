//! # athena-wallet
//!
//! The client side of an Athena node, used by the `athena` CLI's wallet
//! commands (docs/wallet.md):
//!
//! * [`key`]: ed25519 key files (JSON, mode 0600, never overwritten by
//!   accident);
//! * [`builder`]: the single-sig wallet's address and its transactions
//!   (self-spawn, `spend`, `proxy`, `deploy`, `spawn_program`), signed with
//!   [`athena_transaction::sign_single`];
//! * [`multisig`]: k-of-n multisig accounts and proposal files for
//!   offline signing;
//! * [`args`]: `TYPE:VALUE` method arguments and return types, SCALE;
//! * [`client`]: a blocking HTTP client of the relay and the executor's
//!   query API (which the relay proxies);
//! * [`session`]: the flow around a transaction — network discovery, nonce,
//!   gas, balance check, dry run, submission, waiting for the receipt —
//!   with errors that say what to do;
//! * [`proof`]: checking account and storage proofs with `athena-store`'s
//!   pure verifier;
//! * [`item`]: reading an SDK typed storage item slot by slot, every slot
//!   proven, a value longer than one slot reassembled.

#![deny(missing_docs)]

pub mod args;
pub mod builder;
pub mod client;
pub mod item;
pub mod key;
pub mod multisig;
pub mod proof;
pub mod session;
#[cfg(any(test, feature = "test-util"))]
pub mod testing;

pub use builder::{wallet_address, Call, TxParams, Wallet};
pub use client::{ClientError, NodeClient};
pub use key::{Key, KeyError};
pub use session::{Prepared, SendOptions, Session, WalletError};

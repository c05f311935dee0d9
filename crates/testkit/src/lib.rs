//! # athena-testkit
//!
//! Test Athena contracts from ordinary `#[test]` functions on the host:
//!
//! 1. [`build_contract`] compiles a contract crate for the VM
//!    (`riscv32em`, release, via `athena-guest-builder`) and returns the
//!    ELF bytes, once per process;
//! 2. a [`Chain`] runs them in process, over `athena-runtime` — the same
//!    account model, call/spawn/deploy semantics and engine a node uses:
//!    create funded accounts, deploy templates, spawn programs with typed
//!    state, call methods by name with typed arguments, value and gas;
//! 3. each transaction returns a [`Receipt`] (status, gas used, output and
//!    its typed decoding, revert message, logs), and the chain answers
//!    balances, nonces, raw storage and typed storage items by name
//!    ([`storage`] implements the SDK's layout).
//!
//! ```no_run
//! use athena_testkit::{build_contract, Chain};
//!
//! #[test]
//! fn increments() -> Result<(), athena_testkit::Error> {
//!     let mut chain = Chain::new();
//!     let alice = chain.create_account(1_000);
//!     let template = chain.deploy(&build_contract(env!("CARGO_MANIFEST_DIR"))?)?;
//!     // State: `Counter { step: u64 }`; its SCALE encoding is a u64's.
//!     let counter = chain.spawn(template, &1u64).from(alice).send().spawned_address()?;
//!     chain.call(counter, "increment").arg(&5u64).from(alice).send().assert_success();
//!     assert_eq!(chain.call(counter, "get").send().decode::<u64>()?, 5);
//!     assert_eq!(chain.storage_value::<u64>(counter, "count")?, Some(5));
//!     Ok(())
//! }
//! ```
//!
//! The method-call ABI (selectors, SCALE arguments, revert messages) and
//! the storage layout are the SDK's (`docs/sdk.md`); the guide to this
//! crate is `docs/testkit.md`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod build;
mod chain;
mod error;
mod receipt;
/// The SDK's storage layout on the host (it lives in `athena-runtime`, so
/// non-test tools share it).
pub use athena_runtime::sdk_storage as storage;

pub use build::{build_contract, build_contract_binary, CONTRACT_TARGET_DIR};
pub use chain::{CallBuilder, Chain, SpawnBuilder, DEFAULT_BALANCE, DEFAULT_GAS};
pub use error::Error;
pub use receipt::Receipt;

pub use athena_interface::{Address, Bytes32, StatusCode};
pub use athena_runtime::{Account, Log};
pub use athena_transaction::{program_address, selector, template_address};
/// The SCALE codec, for deriving `Encode`/`Decode` on argument and state
/// types in tests (`#[codec(crate = athena_testkit::codec)]`).
pub use parity_scale_codec as codec;
pub use parity_scale_codec::{Decode, Encode};

//! [`Error`]: every way a testkit operation fails, typed so tests can match
//! on it and readable when a test just `?`s or `unwrap`s it.

use crate::storage::StorageError;
use athena_guest_builder::{BuildError, ToolchainError};
use athena_interface::StatusCode;
use athena_runtime::{DeployError, StateError};
use std::path::PathBuf;

/// A testkit operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No guest toolchain: contracts cannot be compiled for RISC-V. The
    /// message says how to install one.
    #[error("cannot build Athena contracts: {0}")]
    ToolchainMissing(#[source] ToolchainError),
    /// The contract crate did not build (compiler errors are in the message).
    #[error("building the contract crate at {}: {source}", dir.display())]
    Build {
        /// The contract crate.
        dir: PathBuf,
        /// What went wrong.
        #[source]
        source: BuildError,
    },
    /// The contract crate has several binaries and none is named after the
    /// package; name one with [`crate::build_contract_binary`].
    #[error("the contract crate at {} builds several binaries ({}); name one with build_contract_binary", dir.display(), built.join(", "))]
    AmbiguousBinary {
        /// The contract crate.
        dir: PathBuf,
        /// The binaries it produced.
        built: Vec<String>,
    },
    /// The code was refused as a template.
    #[error("deploying code: {0}")]
    Deploy(#[from] DeployError),
    /// A call or spawn did not succeed (see [`crate::Receipt`]).
    #[error("{what} failed with {status}{}", message.as_ref().map(|m| format!(": {m}")).unwrap_or_default())]
    Failed {
        /// What was attempted, e.g. ``call `increment` on 0x...``.
        what: String,
        /// How it ended.
        status: StatusCode,
        /// The revert message, if it reverted with one.
        message: Option<String>,
    },
    /// Bytes that should be the SCALE encoding of a type are not.
    #[error("decoding {what}: {source}")]
    Decode {
        /// What was being decoded (output, state, storage item).
        what: String,
        /// The codec's error.
        #[source]
        source: parity_scale_codec::Error,
    },
    /// A storage item's slots do not follow the typed-storage layout.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A test-setup helper was asked for something impossible.
    #[error("{0}")]
    Setup(String),
    /// The state backend failed (never for the in-memory chain).
    #[error(transparent)]
    State(#[from] StateError),
}

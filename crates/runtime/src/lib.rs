//! # athena-runtime
//!
//! Athena's account model on the host side, and the [`Host`] that executes
//! messages against it by re-entering the engine.
//!
//! * [`state`]: the [`Account`] record, the [`StateReader`] trait execution
//!   reads committed state through, the deterministic [`ChangeSet`] it
//!   produces, [`StateWriter`] to apply it, and the in-memory backend
//!   [`MemoryState`]. A database backend (a node's persistent state) plugs
//!   in by implementing the two traits.
//! * [`overlay`]: [`Overlay`], uncommitted writes over a `StateReader` with a
//!   journal, so nested frames checkpoint and revert cheaply; logs live
//!   there too and are truncated on revert.
//! * [`Runtime`]: the [`Host`] implementation. `Call` messages move value
//!   and run the recipient's template code, `Spawn` messages create
//!   programs and run their `spawn` method, `deploy` stores
//!   content-addressed templates; every frame runs under its own checkpoint
//!   and is reverted unless it succeeds.
//!
//! * [`tx`]: transaction execution on top of all this:
//!   [`apply_transaction`](tx::apply_transaction) checks a signed
//!   transaction (nonce, prepaid gas, the principal's `verify`), charges
//!   the fee, runs the payload under `max_spend` and returns a
//!   [`Receipt`](tx::Receipt) with the changes to commit.
//!
//! One transaction is one `Runtime`: build it over committed state, adjust
//! nonces/fees through [`Runtime::overlay_mut`], [`Runtime::execute`] the
//! top-level message, then [`Runtime::finish`] and apply the changes.
//!
//! ```no_run
//! use athena_runtime::{Env, MemoryState, Runtime, StateWriter};
//! use athena_engine::EngineConfig;
//! use athena_interface::{Address, Message, MessageKind};
//!
//! let mut state = MemoryState::new();
//! let code = std::fs::read("contract.elf").unwrap();
//! let mut runtime = Runtime::new(&state, EngineConfig::default(), Env::default());
//! let template = runtime.deploy_code(&code).unwrap();
//! let alice = Address::new([7; 24]);
//! runtime.overlay_mut().set_balance(alice, 1_000);
//! runtime.overlay_mut().bump_nonce(alice);
//! // Spawn a program of `template` whose immutable state is `b"args"`.
//! let spawn = Message {
//!     kind: MessageKind::Spawn,
//!     recipient: template,
//!     input: b"args".to_vec(),
//!     sender: alice,
//!     gas: 1_000_000,
//!     ..Message::default()
//! };
//! let result = runtime.execute(spawn);
//! assert!(result.is_success(), "{result:?}");
//! let program = Address::new(result.output.as_slice().try_into().unwrap());
//! let effects = runtime.finish().unwrap();
//! state.apply(&effects.changes).unwrap();
//! # let _ = program;
//! ```
//!
//! The normative description is `docs/runtime.md`.
//!
//! [`Host`]: athena_interface::Host

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod overlay;
mod runtime;
pub mod sdk_storage;
pub mod state;
pub mod tx;

#[cfg(test)]
mod testing;

pub use overlay::{Checkpoint, Effects, Overlay, TransferError};
pub use runtime::{DeployError, Env, Runtime};
pub use state::{Account, ChangeSet, Log, MemoryState, StateError, StateReader, StateWriter};

//! [`Runtime`]: the [`Host`] that runs messages against an [`Overlay`],
//! re-entering the engine for nested frames.

use crate::overlay::{Checkpoint, Effects, Overlay, TransferError};
use crate::state::{Log, StateError, StateReader};
use athena_engine::EngineConfig;
use athena_interface::{
    Address, Bytes32, ExecutionResult, Host, Message, MessageKind, Revision, StatusCode, StorageStatus, TxContext,
};
use athena_transaction::{address_kind, program_address, selector, template_address, AddressKind};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The world outside the state: the transaction's and block's context and
/// the block hashes programs may ask for. Constant for one execution.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Env {
    /// Returned by [`Host::get_tx_context`].
    pub tx: TxContext,
    /// Hashes of the blocks programs may look up (the lookup window is a
    /// protocol rule; heights not in the map read as zero).
    pub block_hashes: BTreeMap<u64, Bytes32>,
}

/// Why code could not be deployed as a template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeployError {
    /// Larger than `athena_abi::MAX_DEPLOY_CODE`.
    #[error("code is {len} bytes, more than the {max}-byte limit")]
    TooLarge {
        /// The code's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not a program the VM can load.
    #[error("code is not a loadable Athena program: {0}")]
    Invalid(#[from] athena_vm::LoadError),
}

/// Runs messages of one transaction against committed state `S`: a
/// [`Host`] over an [`Overlay`], an [`EngineConfig`], a [`Revision`] and an
/// [`Env`].
///
/// Use [`Runtime::execute`] for the transaction's top-level message (a call
/// or a spawn), then [`Runtime::finish`] for the changes to commit. Nested
/// frames reach [`Host::call`], which runs them with
/// [`athena_engine::execute_with`] on this same runtime, each under its own
/// checkpoint. Semantics are in `docs/runtime.md`.
#[derive(Debug)]
pub struct Runtime<'a, S: ?Sized> {
    overlay: Overlay<'a, S>,
    config: EngineConfig,
    revision: Revision,
    env: Env,
}

impl<'a, S: StateReader + ?Sized> Runtime<'a, S> {
    /// A runtime over `state` with the latest revision.
    pub fn new(state: &'a S, config: EngineConfig, env: Env) -> Self {
        Runtime { overlay: Overlay::new(state), config, revision: Revision::LATEST, env }
    }

    /// Selects the rule set (builder style).
    pub fn with_revision(mut self, revision: Revision) -> Self {
        self.revision = revision;
        self
    }

    /// The uncommitted state, for inspection.
    pub fn overlay(&self) -> &Overlay<'a, S> {
        &self.overlay
    }

    /// The uncommitted state, for changes outside execution (nonces, fees,
    /// genesis balances). Changes made here between executions are never
    /// reverted by them.
    pub fn overlay_mut(&mut self) -> &mut Overlay<'a, S> {
        &mut self.overlay
    }

    /// The engine knobs.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The transaction and block context.
    pub fn env(&self) -> &Env {
        &self.env
    }

    /// Runs a top-level message exactly as a nested one (same checkpoint,
    /// transfer and revert rules; see [`Host::call`]), and reports a state
    /// backend failure during the run as [`StatusCode::InternalError`].
    pub fn execute(&mut self, message: Message) -> ExecutionResult {
        let result = self.call(message);
        if self.overlay.fault().is_some() {
            return ExecutionResult::failure(StatusCode::InternalError);
        }
        result
    }

    /// Stores `code` as a template and returns its content address
    /// (`athena_transaction::template_address`). Deploying code that is
    /// already deployed returns the same address and changes nothing.
    /// New code must load as a program (`athena_vm::Program::from_elf`).
    pub fn deploy_code(&mut self, code: &[u8]) -> Result<Address, DeployError> {
        let max = athena_abi::MAX_DEPLOY_CODE as usize;
        if code.len() > max {
            return Err(DeployError::TooLarge { len: code.len(), max });
        }
        let address = template_address(code);
        if !self.overlay.has_template(&address) {
            athena_vm::Program::from_elf(code)?;
            self.overlay.insert_template(address, Arc::from(code));
        }
        Ok(address)
    }

    /// Ends the transaction: the changes and logs, or the backend error
    /// that made the execution unusable.
    pub fn finish(self) -> Result<Effects, StateError> {
        self.overlay.finish()
    }

    /// Runs `code` for `message` on the engine, with this runtime as host.
    fn run(&mut self, message: &Message, code: &[u8]) -> ExecutionResult {
        let config = self.config;
        let revision = self.revision;
        athena_engine::execute_with(&config, self, revision, message, code)
    }

    /// Resolves a frame's checkpoint: kept on success, reverted otherwise.
    /// A backend fault during the frame makes it an `internal_error`.
    fn settle(&mut self, checkpoint: Checkpoint, result: ExecutionResult) -> ExecutionResult {
        let result =
            if self.overlay.fault().is_some() { ExecutionResult::failure(StatusCode::InternalError) } else { result };
        if result.is_success() {
            self.overlay.keep(checkpoint);
        } else {
            self.overlay.revert_to(checkpoint);
        }
        result
    }

    /// Moves `value` for a frame that has opened `checkpoint`; on failure
    /// reverts it and returns the frame's result.
    fn move_value(
        &mut self,
        checkpoint: Checkpoint,
        msg: &Message,
        to: &Address,
    ) -> Result<Checkpoint, ExecutionResult> {
        match self.overlay.transfer(&msg.sender, to, msg.value) {
            Ok(()) => Ok(checkpoint),
            Err(e) => {
                self.overlay.revert_to(checkpoint);
                Err(match e {
                    TransferError::InsufficientBalance { .. } => {
                        ExecutionResult::not_started(StatusCode::InsufficientBalance, msg.gas)
                    }
                    TransferError::Overflow => ExecutionResult::failure(StatusCode::InternalError),
                })
            }
        }
    }

    /// A `Call` frame: transfer, then run the recipient's template code (if
    /// it is a program), all under one checkpoint.
    fn call_frame(&mut self, msg: Message) -> ExecutionResult {
        if address_kind(&msg.recipient) == AddressKind::Template {
            // Templates are code, not accounts: they run only as programs.
            return ExecutionResult::failure(StatusCode::Failure);
        }
        let checkpoint = self.overlay.checkpoint();
        let checkpoint = match self.move_value(checkpoint, &msg, &msg.recipient) {
            Ok(checkpoint) => checkpoint,
            Err(result) => return result,
        };
        let result = match self.overlay.template_of(&msg.recipient) {
            // Not a program: it just receives the value.
            None => ExecutionResult::success(msg.gas, Vec::new()),
            Some(template) => match self.overlay.template_code(&template) {
                Some(code) => self.run(&msg, &code),
                None => {
                    // A program whose template is gone: corrupt state.
                    let reason = format!("program {} has no template code at {}", msg.recipient, template);
                    self.overlay.record_fault(StateError::Corrupt(reason));
                    ExecutionResult::failure(StatusCode::InternalError)
                }
            },
        };
        self.settle(checkpoint, result)
    }

    /// A `Spawn` frame (docs/runtime.md, "Spawn"): create the program from
    /// template `msg.recipient` with state `msg.input`, move the value,
    /// run the template's `spawn` method, and answer with the address.
    fn spawn_frame(&mut self, msg: Message) -> ExecutionResult {
        let template = msg.recipient;
        let state = msg.input;
        if state.len() > athena_abi::MAX_SPAWN_STATE as usize {
            return ExecutionResult::failure(StatusCode::Failure);
        }
        let checkpoint = self.overlay.checkpoint();
        let Some(code) = self.overlay.template_code(&template) else {
            let result = ExecutionResult::failure(StatusCode::Failure);
            return self.settle(checkpoint, result);
        };
        let address = program_address(&template, &state);
        if self.overlay.template_of(&address).is_some() {
            // Spawned before: same template and state give the same address.
            return self.settle(checkpoint, ExecutionResult::failure(StatusCode::Failure));
        }
        self.overlay.create_program(address, template, state);
        let run = Message { kind: MessageKind::Spawn, recipient: address, input: selector("spawn").to_vec(), ..msg };
        let checkpoint = match self.move_value(checkpoint, &run, &address) {
            Ok(checkpoint) => checkpoint,
            Err(result) => return result,
        };
        let mut result = self.run(&run, &code);
        if result.is_success() {
            result.output = address.as_bytes().to_vec();
        }
        self.settle(checkpoint, result)
    }
}

impl<S: StateReader + ?Sized> Host for Runtime<'_, S> {
    fn account_exists(&self, address: &Address) -> bool {
        self.overlay.account_exists(address) || self.overlay.has_template(address)
    }

    fn get_storage(&self, address: &Address, key: &Bytes32) -> Bytes32 {
        self.overlay.storage(address, key)
    }

    fn set_storage(&mut self, address: &Address, key: &Bytes32, value: &Bytes32) -> StorageStatus {
        self.overlay.set_storage(*address, *key, *value)
    }

    fn get_balance(&self, address: &Address) -> u64 {
        self.overlay.balance(address)
    }

    fn call(&mut self, mut msg: Message) -> ExecutionResult {
        // Only the host knows which template the sender was spawned from.
        if msg.sender_template.is_none() {
            msg.sender_template = self.overlay.template_of(&msg.sender);
        }
        match msg.kind {
            MessageKind::Call => self.call_frame(msg),
            MessageKind::Spawn => self.spawn_frame(msg),
            // Templates are deployed with `Host::deploy`, not as frames.
            MessageKind::Deploy => ExecutionResult::failure(StatusCode::Failure),
        }
    }

    fn get_state(&self, address: &Address) -> Vec<u8> {
        self.overlay.program_state(address)
    }

    fn deploy(&mut self, code: &[u8]) -> Result<Address, StatusCode> {
        self.deploy_code(code).map_err(|_| StatusCode::Failure)
    }

    fn get_tx_context(&self) -> TxContext {
        self.env.tx
    }

    fn get_block_hash(&self, height: u64) -> Bytes32 {
        self.env.block_hashes.get(&height).copied().unwrap_or(Bytes32::ZERO)
    }

    fn emit_log(&mut self, address: &Address, topics: &[Bytes32], data: &[u8]) {
        self.overlay.push_log(Log { address: *address, topics: topics.to_vec(), data: data.to_vec() });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Broken;

    #[test]
    fn a_backend_fault_is_an_internal_error_and_nothing_is_applied() {
        let mut runtime = Runtime::new(&Broken, EngineConfig::default(), Env::default());
        let message = Message { recipient: Address::new([2; 24]), gas: 100, ..Message::default() };
        assert_eq!(runtime.execute(message), ExecutionResult::failure(StatusCode::InternalError));
        assert_eq!(runtime.overlay().checkpoint_depth(), 0);
        assert_eq!(runtime.finish().unwrap_err(), StateError::Backend("disk on fire".into()));
    }

    #[test]
    fn deploy_messages_are_not_frames() {
        let state = crate::MemoryState::new();
        let mut runtime =
            Runtime::new(&state, EngineConfig::default(), Env::default()).with_revision(Revision::Frontier);
        let message = Message { kind: MessageKind::Deploy, gas: 100, ..Message::default() };
        assert_eq!(runtime.execute(message).status, StatusCode::Failure);
        assert_eq!(runtime.config(), &EngineConfig::default());
        assert_eq!(runtime.env(), &Env::default());
    }
}

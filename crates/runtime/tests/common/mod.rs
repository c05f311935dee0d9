//! Shared helpers: real guest examples, hand-assembled "script" guests that
//! issue exact syscalls, and a [`World`] that runs one transaction per
//! call on a fresh `Runtime` and commits its changes.
#![allow(dead_code)]

use athena_engine::EngineConfig;
use athena_interface::{Address, Bytes32, ExecutionResult, Message, MessageKind};
use athena_runtime::{Effects, Env, MemoryState, Overlay, Runtime, StateWriter};

/// The guests, addresses and scripts the engine's tests use too.
#[path = "../../../engine/tests/common/shared.rs"]
mod shared;
#[allow(unused_imports)]
pub use shared::*;

/// Committed state plus the knobs every transaction runs with.
pub struct World {
    pub state: MemoryState,
    pub config: EngineConfig,
    pub env: Env,
}

impl Default for World {
    fn default() -> Self {
        World { state: MemoryState::new(), config: EngineConfig::default(), env: Env::default() }
    }
}

impl World {
    /// Runs one transaction: `f` gets a fresh runtime; its changes are
    /// committed and returned with `f`'s result.
    pub fn tx<R>(&mut self, f: impl FnOnce(&mut Runtime<'_, MemoryState>) -> R) -> (R, Effects) {
        let mut runtime = Runtime::new(&self.state, self.config, self.env.clone());
        let r = f(&mut runtime);
        assert_eq!(runtime.overlay().checkpoint_depth(), 0, "every frame resolved its checkpoint");
        let effects = runtime.finish().expect("memory state never faults");
        self.state.apply(&effects.changes).unwrap();
        (r, effects)
    }

    /// Deploys `code` as a template.
    pub fn deploy(&mut self, code: &[u8]) -> Address {
        self.tx(|rt| rt.deploy_code(code)).0.expect("valid code")
    }

    /// Makes `address` a program running `code` (with `state`), bypassing
    /// spawn: for scripts whose spawn run would execute their steps.
    pub fn install(&mut self, address: Address, code: &[u8], state: &[u8]) -> Address {
        let template = self.deploy(code);
        self.tx(|rt| rt.overlay_mut().create_program(address, template, state.to_vec()));
        template
    }

    pub fn fund(&mut self, address: Address, amount: u64) {
        self.tx(|rt| {
            let balance = rt.overlay().balance(&address);
            rt.overlay_mut().set_balance(address, balance + amount)
        });
    }

    /// A top-level `Call`.
    pub fn call(&mut self, from: Address, to: Address, input: &[u8], value: u64) -> (ExecutionResult, Effects) {
        let msg = Message { recipient: to, sender: from, input: input.to_vec(), value, gas: GAS, ..Message::default() };
        self.tx(|rt| rt.execute(msg))
    }

    /// A top-level `Spawn`.
    pub fn spawn(&mut self, from: Address, template: Address, state: &[u8], value: u64) -> (ExecutionResult, Effects) {
        let msg = Message {
            kind: MessageKind::Spawn,
            recipient: template,
            sender: from,
            input: state.to_vec(),
            value,
            gas: GAS,
            ..Message::default()
        };
        self.tx(|rt| rt.execute(msg))
    }

    fn view(&self) -> Overlay<'_, MemoryState> {
        Overlay::new(&self.state)
    }

    pub fn balance(&self, address: &Address) -> u64 {
        self.view().balance(address)
    }

    pub fn storage(&self, address: &Address, key: &Bytes32) -> Bytes32 {
        self.view().storage(address, key)
    }

    pub fn template_of(&self, address: &Address) -> Option<Address> {
        self.view().template_of(address)
    }

    pub fn exists(&self, address: &Address) -> bool {
        self.view().account_exists(address)
    }
}

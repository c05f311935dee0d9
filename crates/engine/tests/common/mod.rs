//! Shared test helpers: real guest examples, hand-assembled "script" guests
//! that issue exact syscalls, a `MockHost` whose nested calls re-enter the
//! engine, and a recording host wrapper.
#![allow(dead_code)]

use athena_engine::{execute_with, EngineConfig};
use athena_interface::mock::{Account, CallHandler, MockHost, MockHostState, MockWrapper};
use athena_interface::{Address, Bytes32, ExecutionResult, Host, Message, Revision, StatusCode, StorageStatus};
use std::cell::Cell;

mod shared;
#[allow(unused_imports)]
pub use shared::*;

/// A top-level call message to `recipient`.
pub fn message(recipient: Address, input: &[u8], gas: u64) -> Message {
    Message { gas, recipient, sender: addr(0xee), input: input.to_vec(), ..Message::default() }
}

/// The code an account runs: its own, or its template's.
pub fn code_of(state: &MockHostState, address: &Address) -> Vec<u8> {
    match state.accounts.get(address) {
        Some(a) if !a.code.is_empty() => a.code.clone(),
        Some(Account { template: Some(t), .. }) => state.accounts.get(t).map(|t| t.code.clone()).unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// A call handler that runs the callee's code with the engine, against the
/// same world state (moved into a fresh `MockHost` for the duration).
pub fn engine_handler(config: EngineConfig) -> CallHandler {
    Box::new(move |state, msg| {
        let code = code_of(state, &msg.recipient);
        let mut inner = MockHost::new();
        inner.state = std::mem::take(state);
        inner.set_call_handler(engine_handler(config));
        let result = execute_with(&config, &mut inner, Revision::LATEST, &msg, &code);
        *state = std::mem::take(&mut inner.state);
        result
    })
}

/// A `MockHost` whose nested calls re-enter the engine with `config`.
pub fn engine_host(config: EngineConfig) -> MockHost {
    let mut host = MockHost::new();
    host.set_call_handler(engine_handler(config));
    host
}

/// Installs `code` at `address`.
pub fn install(host: &mut MockHost, address: Address, code: Vec<u8>) {
    host.accounts.entry(address).or_default().code = code;
}

/// Runs `address`'s code as the top-level frame.
pub fn run(host: &mut MockHost, config: &EngineConfig, address: Address, input: &[u8], gas: u64) -> ExecutionResult {
    let code = code_of(host, &address);
    execute_with(config, host, Revision::LATEST, &message(address, input, gas), &code)
}

/// A host that records which callbacks the engine made, then delegates to
/// a `MockHost`.
#[derive(Default)]
pub struct Recorder {
    pub inner: MockHost,
    /// State-changing callbacks, in order.
    pub log: Vec<&'static str>,
    /// How many times `get_state` was asked (a `&self` callback).
    pub state_fetches: Cell<u32>,
}

impl Recorder {
    /// Whether any callback that changes state was made.
    pub fn wrote(&self) -> bool {
        self.log.iter().any(|c| matches!(*c, "set_storage" | "call" | "deploy" | "emit_log"))
    }
}

impl MockWrapper for Recorder {
    fn mock(&self) -> &MockHost {
        &self.inner
    }
    fn mock_mut(&mut self) -> &mut MockHost {
        &mut self.inner
    }
    fn set_storage(&mut self, address: &Address, key: &Bytes32, value: &Bytes32) -> StorageStatus {
        self.log.push("set_storage");
        self.inner.set_storage(address, key, value)
    }
    fn call(&mut self, msg: Message) -> ExecutionResult {
        self.log.push("call");
        self.inner.call(msg)
    }
    fn get_state(&self, address: &Address) -> Vec<u8> {
        self.state_fetches.set(self.state_fetches.get() + 1);
        self.inner.get_state(address)
    }
    fn deploy(&mut self, code: &[u8]) -> Result<Address, StatusCode> {
        self.log.push("deploy");
        self.inner.deploy(code)
    }
    fn emit_log(&mut self, address: &Address, topics: &[Bytes32], data: &[u8]) {
        self.log.push("emit_log");
        self.inner.emit_log(address, topics, data)
    }
}

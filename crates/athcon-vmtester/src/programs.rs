//! Checks of the program-state callback (`get_state`, served to guests as
//! `STATE_SIZE` / `STATE_READ`) and of spawning as a call message of kind
//! `ATHCON_SPAWN`, with two small hand-assembled programs
//! (`athena_test_elf::programs`, shared with the athcon host tests).

use athcon::client::Vm;
use athcon::ffi::ATHCON_MAX_STATE_SIZE;
use athena_interface::mock::{MockHost, MockWrapper};
use athena_interface::{Address, ExecutionResult, Host, Message, MessageKind, StatusCode};
use athena_test_elf::programs::{echo, factory};
use std::cell::Cell;

const GAS: u64 = 10_000_000;
/// The depth limit every Athena VM must support (`max_call_depth` default).
const MAX_DEPTH: u32 = 64;

/// A `MockHost` that counts `get_state` calls and can answer `get_state`
/// and `call` with canned values.
#[derive(Default)]
struct CheckHost {
    inner: MockHost,
    fetches: Cell<u32>,
    state: Option<Vec<u8>>,
    call_result: Option<ExecutionResult>,
}

impl MockWrapper for CheckHost {
    fn mock(&self) -> &MockHost {
        &self.inner
    }
    fn mock_mut(&mut self) -> &mut MockHost {
        &mut self.inner
    }
    fn call(&mut self, msg: Message) -> ExecutionResult {
        match &self.call_result {
            Some(r) => {
                self.inner.calls.push(msg);
                r.clone()
            }
            None => self.inner.call(msg),
        }
    }
    fn get_state(&self, a: &Address) -> Vec<u8> {
        self.fetches.set(self.fetches.get() + 1);
        self.state.clone().unwrap_or_else(|| self.inner.get_state(a))
    }
}

const ME: Address = Address([0x11; 24]);
const TEMPLATE: Address = Address([0x7e; 24]);

fn message(input: Vec<u8>) -> Message {
    Message { gas: GAS, recipient: ME, sender: Address::new([0x22; 24]), input, ..Message::default() }
}

fn describe(r: &ExecutionResult) -> String {
    format!("status {} gas_left {} output {} bytes", r.status, r.gas_left, r.output.len())
}

/// `STATE_SIZE` / `STATE_READ` serve the recipient's state, fetched once
/// per frame; empty without one; an over-long host answer is
/// `internal_error`.
pub fn check_state(vm: &Vm, mut check: impl FnMut(&str, bool, String)) {
    let state: Vec<u8> = (0..200u8).collect();
    let mut host = CheckHost::default();
    host.inner.accounts.entry(ME).or_default().state = state.clone();
    let r = vm.execute(&mut host, 0, &message(Vec::new()), &echo());
    check(
        "state_read",
        r.status == StatusCode::Success && r.output == state && host.fetches.get() == 1,
        format!("{} (want the 200-byte state), {} get_state calls (want 1)", describe(&r), host.fetches.get()),
    );

    let mut host = CheckHost::default();
    let r = vm.execute(&mut host, 0, &message(Vec::new()), &echo());
    check("state_empty", r.status == StatusCode::Success && r.output.is_empty(), describe(&r));

    let mut host = CheckHost { state: Some(vec![9; ATHCON_MAX_STATE_SIZE]), ..CheckHost::default() };
    let r = vm.execute(&mut host, 0, &message(Vec::new()), &echo());
    check(
        "state_max_size",
        r.status == StatusCode::Success && r.output.len() == ATHCON_MAX_STATE_SIZE,
        format!("{} (want {ATHCON_MAX_STATE_SIZE} bytes)", describe(&r)),
    );
    let mut host = CheckHost { state: Some(vec![9; ATHCON_MAX_STATE_SIZE + 1]), ..CheckHost::default() };
    let r = vm.execute(&mut host, 0, &message(Vec::new()), &echo());
    check("state_over_bound", r.status == StatusCode::InternalError, format!("{} (want internal_error)", describe(&r)));
}

/// Runs the factory with `TEMPLATE ‖ state`: the result, the status word
/// and the out bytes (when the factory got to return them).
fn factory_spawn(vm: &Vm, host: &mut CheckHost, depth: u32) -> (ExecutionResult, u32, Vec<u8>) {
    let input = [TEMPLATE.as_bytes().as_slice(), b"spawn state"].concat();
    let msg = Message { depth, ..message(input) };
    let r = vm.execute(host, 0, &msg, &factory());
    let (word, out) = match r.output.len() {
        28 => (u32::from_le_bytes([r.output[0], r.output[1], r.output[2], r.output[3]]), r.output[4..].to_vec()),
        _ => (u32::MAX, Vec::new()),
    };
    (r, word, out)
}

/// `SPAWN` reaches the host as a `call` of kind `ATHCON_SPAWN` (template as
/// recipient, state as input, depth + 1, gas forwarded) and writes the
/// 24-byte address it answers; failures zero the output; a success without
/// a 24-byte address is `internal_error`; the depth limit applies.
pub fn check_spawn(vm: &Vm, mut check: impl FnMut(&str, bool, String)) {
    let mut host = CheckHost::default();
    host.inner.accounts.entry(TEMPLATE).or_default().code = echo();
    let (r, word, out) = factory_spawn(vm, &mut host, 0);
    let program = Address::try_from(out.as_slice()).unwrap_or(Address::ZERO);
    let sent = host.inner.calls.first();
    let message_ok = sent.is_some_and(|m| {
        m.kind == MessageKind::Spawn
            && m.recipient == TEMPLATE
            && m.sender == ME
            && m.depth == 1
            && m.value == 0
            && m.input == b"spawn state"
            && m.gas > 0
            && m.gas < GAS
    });
    check(
        "spawn_is_a_call_message",
        host.inner.calls.len() == 1 && message_ok,
        format!("{} call(s); first: {:?}", host.inner.calls.len(), sent.map(|m| (m.kind, m.depth, m.gas))),
    );
    let account = host.inner.accounts.get(&program);
    check(
        "spawn_writes_the_address",
        r.status == StatusCode::Success
            && word == 0
            && !program.is_zero()
            && account.is_some_and(|a| a.template == Some(TEMPLATE) && a.state == b"spawn state"),
        format!("{} word {word} address {program}", describe(&r)),
    );

    let mut host = CheckHost { call_result: Some(ExecutionResult::revert(0, b"no".to_vec())), ..CheckHost::default() };
    let (r, word, out) = factory_spawn(vm, &mut host, 0);
    check(
        "spawn_failure_zeroes_the_output",
        r.status == StatusCode::Success && word == StatusCode::Revert as u32 && out == [0; 24],
        format!("{} word {word} out {out:02x?}", describe(&r)),
    );

    let mut host = CheckHost { call_result: Some(ExecutionResult::success(0, vec![1; 5])), ..CheckHost::default() };
    let (r, _, _) = factory_spawn(vm, &mut host, 0);
    check(
        "spawn_without_an_address_is_internal_error",
        r.status == StatusCode::InternalError,
        format!("{} (host answered success with 5 bytes)", describe(&r)),
    );

    let mut host = CheckHost::default();
    host.inner.accounts.entry(TEMPLATE).or_default().code = echo();
    let (r, word, out) = factory_spawn(vm, &mut host, MAX_DEPTH);
    check(
        "spawn_depth_limit",
        r.status == StatusCode::Success
            && word == StatusCode::CallDepthExceeded as u32
            && out == [0; 24]
            && host.inner.calls.is_empty(),
        format!("{} word {word}, {} host call(s)", describe(&r), host.inner.calls.len()),
    );
}

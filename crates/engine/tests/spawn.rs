//! `SPAWN` as a nested frame: a `MessageKind::Spawn` message through
//! `Host::call`, gas forwarded and charged exactly like `CALL`, the depth
//! limit, the 24-byte output contract, and zeroed outputs on failure.

mod common;

use athena_engine::abi::number as n;
use athena_engine::{execute, execute_with, gas, EngineConfig};
use athena_interface::mock::{MockHost, MockWrapper};
use athena_interface::{
    Address, Bytes32, ExecutionResult, Host, Message, MessageKind, Revision, StatusCode, SPAWN_SELECTOR,
};
use common::*;

const TEMPLATE: Address = Address([0x7e; 24]);
const SPAWNER: Address = Address([0xaa; 24]);
const STATE: &[u8] = b"spawn arguments";
/// Where the spawner script finds the template address, the state, and
/// where it gets the new address (pre-filled with 0xff to see the zeroing).
const TPL: u32 = DATA;
const ST: u32 = DATA + 0x20;
const OUT: u32 = DATA + 0x40;

/// SPAWN(template, state) then RETURNDATA_SIZE, returning 0x60 bytes of data
/// (template, state, out) followed by the step records.
fn spawner_ops() -> Vec<Op> {
    vec![
        sys(n::SPAWN, &[TPL, ST, STATE.len() as u32, OUT]),
        sys(n::RETURNDATA_SIZE, &[]),
        sys(n::RETURNDATA_COPY, &[DATA + 0x60, 0, 0x20]),
    ]
}

fn spawner_data() -> Vec<u8> {
    let mut data = vec![0u8; 0x80];
    data[..24].copy_from_slice(TEMPLATE.as_bytes());
    data[0x20..0x20 + STATE.len()].copy_from_slice(STATE);
    data[0x40..0x58].fill(0xff);
    data
}

/// The spawner's code: the ops above, then the data area and the results.
fn spawner() -> Vec<u8> {
    let mut ops = spawner_ops();
    // Copy the out buffer next to the results by returning the whole area.
    ops.push(sys(n::RETURN, &[DATA, 0x80]));
    script(&ops, &spawner_data())
}

/// The step results of the spawner: it returns its data area, so run the
/// same steps once more through `script`'s own RETURN of records.
fn spawner_with_records() -> Vec<u8> {
    script(&spawner_ops(), &spawner_data())
}

/// Template whose `spawn` run stores its state's first 32 bytes under key
/// 1 and its input (the selector) under key 2, then ends with `last`.
fn template(last: Op) -> Vec<u8> {
    let mut data = vec![0u8; 0x80];
    data[0x40..0x60].fill(1);
    data[0x60..0x80].fill(2);
    script(
        &[
            sys(n::STATE_READ, &[DATA, 0, 32]),
            sys(4, &[DATA + 0x20, 0, 32]), // INPUT_READ
            sys(n::STORAGE_WRITE, &[DATA + 0x40, DATA]),
            sys(n::STORAGE_WRITE, &[DATA + 0x60, DATA + 0x20]),
            last,
        ],
        &data,
    )
}

struct Spawned {
    result: ExecutionResult,
    host: MockHost,
}

impl Spawned {
    fn area(&self) -> &[u8] {
        &self.result.output
    }
    fn out(&self) -> &[u8] {
        &self.area()[0x40..0x58]
    }
}

fn spawn_with(config: EngineConfig, template_code: Vec<u8>, code: Vec<u8>) -> Spawned {
    let mut host = engine_host(config);
    install(&mut host, TEMPLATE, template_code);
    install(&mut host, SPAWNER, code.clone());
    let result = execute_with(&config, &mut host, Revision::LATEST, &message(SPAWNER, &[], GAS), &code);
    Spawned { result, host }
}

fn padded(bytes: &[u8]) -> Bytes32 {
    let mut w = [0u8; 32];
    w[..bytes.len()].copy_from_slice(bytes);
    Bytes32::new(w)
}

#[test]
fn success_creates_the_program_runs_its_spawn_method_and_writes_the_address() {
    let t = spawn_with(EngineConfig::default(), template(sys(n::RETURN, &[DATA, 0])), spawner());
    assert_eq!(t.result.status, StatusCode::Success, "{:?}", t.result);
    let program = Address::try_from(t.out()).unwrap();
    assert_eq!(t.host.accounts[&program].template, Some(TEMPLATE));
    assert_eq!(t.host.accounts[&program].state, STATE);
    assert_eq!(t.host.get_storage(&program, &word(1)), padded(STATE), "the init run read its state");
    assert_eq!(t.host.get_storage(&program, &word(2)), padded(&SPAWN_SELECTOR), "and got the spawn selector");
    assert_eq!(&t.area()[0x60..0x78], program.as_bytes(), "the return data is the address");
    let msg = &t.host.calls[0];
    assert_eq!(
        (msg.kind, msg.recipient, msg.sender, msg.depth, msg.value, msg.input.as_slice()),
        (MessageKind::Spawn, TEMPLATE, SPAWNER, 1, 0, STATE)
    );
    assert_eq!(t.host.checkpoint_depth(), 0);

    let t = spawn_with(EngineConfig::default(), template(sys(n::RETURN, &[DATA, 0])), spawner_with_records());
    let steps = results(&t.result.output);
    assert_eq!(steps[0].0, 0, "a0 = success");
    assert_eq!(steps[1].0, 24, "RETURNDATA_SIZE after a spawn");
}

#[test]
fn a_reverting_spawn_method_undoes_the_creation_and_zeroes_the_output() {
    let t = spawn_with(EngineConfig::default(), template(sys(n::REVERT, &[DATA, 5])), spawner());
    assert_eq!(t.result.status, StatusCode::Success, "the spawner continues");
    assert_eq!(t.out(), [0; 24]);
    assert_eq!(&t.area()[0x60..0x65], &STATE[..5], "revert data readable as return data");
    assert!(t.host.accounts.values().all(|a| a.template.is_none()), "no program left behind");
    assert_eq!(t.host.accounts.len(), 2);
    let t = spawn_with(EngineConfig::default(), template(sys(n::REVERT, &[DATA, 5])), spawner_with_records());
    let steps = results(&t.result.output);
    assert_eq!((steps[0].0, steps[1].0), (StatusCode::Revert as u32, 5));

    // A panicking spawn method: failure, nothing kept, output zeroed.
    let t = spawn_with(EngineConfig::default(), template(sys(0, &[101])), spawner());
    assert_eq!(t.out(), [0; 24]);
    assert!(t.host.accounts.values().all(|a| a.template.is_none() && a.storage.is_empty()));
}

#[test]
fn an_unknown_template_fails_and_consumes_the_forwarded_gas() {
    let config = EngineConfig::default();
    let mut host = engine_host(config);
    let code = spawner_with_records();
    let r = execute_with(&config, &mut host, Revision::LATEST, &message(SPAWNER, &[], GAS), &code);
    assert_eq!(results(&r.output)[0].0, StatusCode::Failure as u32);
    let forwarded = host.calls[0].gas;
    assert!(forwarded > GAS / 2 && r.gas_used(GAS) > forwarded, "all forwarded gas used: {}", r.gas_used(GAS));
}

#[test]
fn the_depth_limit_applies_and_the_host_is_not_asked() {
    let config = EngineConfig { max_call_depth: 0, ..EngineConfig::default() };
    let t = spawn_with(config, template(sys(n::RETURN, &[DATA, 0])), spawner_with_records());
    let steps = results(&t.result.output);
    assert_eq!((steps[0].0, steps[1].0), (StatusCode::CallDepthExceeded as u32, 0));
    assert!(t.host.calls.is_empty());
    let t = spawn_with(config, template(sys(n::RETURN, &[DATA, 0])), spawner());
    assert_eq!(t.out(), [0; 24]);
}

/// A host whose `call` answers with a fixed result (gas capped to what was
/// given) and records the messages; everything else is a `MockHost`.
struct Canned {
    inner: MockHost,
    result: ExecutionResult,
    calls: Vec<Message>,
}

impl MockWrapper for Canned {
    fn mock(&self) -> &MockHost {
        &self.inner
    }
    fn mock_mut(&mut self) -> &mut MockHost {
        &mut self.inner
    }
    fn call(&mut self, msg: Message) -> ExecutionResult {
        let gas = msg.gas;
        self.calls.push(msg);
        ExecutionResult { gas_left: self.result.gas_left.min(gas), ..self.result.clone() }
    }
}

/// SPAWN with `state_len` bytes of state against a canned host result,
/// then RETURN of the data area (no other host function, so gas differences
/// are the SPAWN's alone).
fn canned_with(result: ExecutionResult, state_len: u32) -> (ExecutionResult, Vec<Message>) {
    let mut host = Canned { inner: MockHost::new(), result, calls: Vec::new() };
    let ops = [sys(n::SPAWN, &[TPL, ST, state_len, OUT]), sys(n::RETURN, &[DATA, 0x80])];
    let r = execute(&mut host, Revision::LATEST, &message(SPAWNER, &[], GAS), &script(&ops, &spawner_data()));
    (r, host.calls)
}

fn canned(result: ExecutionResult) -> (ExecutionResult, Vec<Message>) {
    canned_with(result, STATE.len() as u32)
}

const ADDRESS: [u8; 24] = [0x5a; 24];

#[test]
fn gas_is_forwarded_and_charged_like_call() {
    let (free, calls) = canned(ExecutionResult::success(u64::MAX, ADDRESS.to_vec()));
    assert_eq!(free.status, StatusCode::Success);
    assert_eq!(&free.output[0x40..0x58], ADDRESS);
    // All but 1/64 of what is left after the SPAWN's own price is forwarded.
    let forwarded = calls[0].gas;
    let approx = (forwarded * 64).div_ceil(63);
    let available = (approx - 2..=approx + 2).find(|a| a - a / 64 == forwarded).expect("forwarded = a - a/64");
    assert!(GAS - available < gas::SPAWN + 1_000, "only the spawner's own costs kept back: {available}");

    let (costly, _) = canned(ExecutionResult::success(forwarded - 12_345, ADDRESS.to_vec()));
    assert_eq!(costly.gas_used(GAS) - free.gas_used(GAS), 12_345);
    let (reverted, _) = canned(ExecutionResult::revert(forwarded - 777, b"no".to_vec()));
    assert_eq!(reverted.gas_used(GAS) - free.gas_used(GAS), 777);
    assert_eq!(&reverted.output[0x40..0x58], [0; 24]);
    // Other failures consume the whole allowance, whatever gas_left says.
    let (failed, _) = canned(ExecutionResult::new(StatusCode::Failure, forwarded, vec![]));
    assert_eq!(failed.gas_used(GAS) - free.gas_used(GAS), forwarded);
    assert_eq!(&failed.output[0x40..0x58], [0; 24]);

    // The SPAWN's own price: base plus 8 per state byte, as before.
    let (empty, _) = canned_with(ExecutionResult::success(u64::MAX, ADDRESS.to_vec()), 0);
    assert_eq!(free.gas_used(GAS) - empty.gas_used(GAS), gas::SPAWN_PER_BYTE * STATE.len() as u64);
}

#[test]
fn a_success_without_a_24_byte_address_is_an_internal_error() {
    for output in [vec![], vec![1; 23], vec![1; 25], b"not an address at all, much too long".to_vec()] {
        let (r, _) = canned(ExecutionResult::success(0, output.clone()));
        assert_eq!((r.status, r.gas_left), (StatusCode::InternalError, 0), "{output:?}");
    }
    // Internal statuses from the host end the frame, as for CALL.
    let (r, _) = canned(ExecutionResult::failure(StatusCode::InternalError));
    assert_eq!(r.status, StatusCode::InternalError);
}

#[test]
fn a_spawn_deep_in_a_call_chain_carries_the_depth() {
    // The spawner is called (depth 1) and spawns (depth 2).
    let config = EngineConfig::default();
    let mut host = engine_host(config);
    install(&mut host, TEMPLATE, template(sys(n::RETURN, &[DATA, 0])));
    install(&mut host, SPAWNER, spawner());
    let mut data = vec![0u8; 32];
    data[..24].copy_from_slice(SPAWNER.as_bytes());
    let caller = script(&[sys(n::CALL, &[DATA, DATA, 0, 0, 0, athena_engine::abi::CALL_GAS_ALL])], &data);
    install(&mut host, addr(0xcc), caller);
    let r = run(&mut host, &config, addr(0xcc), &[], GAS);
    assert_eq!(r.status, StatusCode::Success);
    let kinds: Vec<_> = host.calls.iter().map(|m| (m.kind, m.depth)).collect();
    assert_eq!(kinds, [(MessageKind::Call, 1), (MessageKind::Spawn, 2)]);
    assert_eq!(host.calls[1].sender_template, None, "the spawner has no template");
    assert_eq!(host.accounts.values().filter(|a| a.template == Some(TEMPLATE)).count(), 1);
}

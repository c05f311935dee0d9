//! Frame-level behaviour: exit → status mapping, load errors, context
//! records, balances, logs, deploy (spawn has its own file).

mod common;

use athena_engine::abi::{self, context as c, number as n, tx_context as t};
use athena_engine::{execute, execute_traced, status_of_trap, EngineConfig};
use athena_interface::mock::{Log, MockHost};
use athena_interface::{Address, Bytes32, ExecutionResult, Host, Message, Revision, StatusCode, TxContext};
use athena_test_elf::{asm, ElfBuilder};
use athena_vm::Exit;
use common::*;

fn run_script(host: &mut MockHost, msg: &Message, ops: &[Op], data: &[u8]) -> ExecutionResult {
    execute(host, Revision::LATEST, msg, &script(ops, data))
}

fn raw_program(words: &[u32]) -> Vec<u8> {
    ElfBuilder::new(TEXT).text(TEXT, words).build()
}

#[test]
fn exits_map_to_statuses() {
    let msg = message(addr(1), &[], 10_000);
    let mut host = MockHost::new();
    let halt = |code: u32| [asm::li(asm::A0, code).as_slice(), &asm::li(asm::T0, 0), &[asm::ECALL]].concat();
    let cases: [(Vec<u32>, StatusCode); 5] = [
        (halt(0), StatusCode::Success),
        (halt(101), StatusCode::Failure),
        (vec![asm::UNIMP], StatusCode::InvalidInstruction),
        (vec![asm::lw(asm::A0, 0, 16)], StatusCode::InvalidMemoryAccess),
        (vec![0x0000_006f], StatusCode::OutOfGas),
    ];
    for (words, status) in cases {
        let result = execute(&mut host, Revision::LATEST, &msg, &raw_program(&words));
        assert_eq!(result.status, status, "{words:x?}");
        let gas_left = if status == StatusCode::Success { result.gas_left } else { 0 };
        assert_eq!(result.gas_left, gas_left);
        assert!(result.output.is_empty());
    }
}

#[test]
fn code_that_does_not_load_fails_with_no_gas_left() {
    let mut host = MockHost::new();
    let msg = message(addr(1), &[], 10_000);
    for code in [&b""[..], b"\x7fELF", b"not an elf at all"] {
        assert_eq!(execute(&mut host, Revision::LATEST, &msg, code), ExecutionResult::failure(StatusCode::Failure));
    }
    // An image larger than the memory limit does not load either.
    let config = EngineConfig { memory_limit: 0x1000, ..EngineConfig::default() };
    let trace = execute_traced(&config, &mut host, Revision::LATEST, &msg, &script(&[], &[]));
    assert_eq!((trace.result.status, trace.exit), (StatusCode::Failure, None));
}

#[test]
fn traced_execution_reports_exit_and_bounded_output() {
    let config = EngineConfig { debug_output_limit: 10, ..EngineConfig::default() };
    let mut host = MockHost::new();
    let trace = execute_traced(&config, &mut host, Revision::LATEST, &message(addr(1), &[], GAS), &example("panic"));
    assert_eq!(trace.result.status, StatusCode::Failure);
    assert_eq!(trace.exit, Some(Exit::Halted { code: 101 }));
    assert_eq!(trace.stderr, b"panicked a");
    assert!(trace.instructions > 0);
    let quiet = execute_traced(
        &EngineConfig::default(),
        &mut host,
        Revision::LATEST,
        &message(addr(1), &[], GAS),
        &example("panic"),
    );
    assert!(quiet.stderr.is_empty());
}

#[test]
fn trap_mapping_is_total() {
    use athena_vm::Trap;
    assert_eq!(status_of_trap(&Trap::Breakpoint { pc: 0 }), StatusCode::InvalidInstruction);
    assert_eq!(status_of_trap(&Trap::FetchFault { pc: 0 }), StatusCode::InvalidInstruction);
    assert_eq!(status_of_trap(&Trap::OutOfMemory { pc: 0, addr: 0 }), StatusCode::InvalidMemoryAccess);
    assert_eq!(status_of_trap(&Trap::UnknownSyscall { pc: 0, number: 9 }), StatusCode::InvalidSyscallArgument);
}

#[test]
fn return_revert_and_halt_zero() {
    let mut host = MockHost::new();
    let msg = message(addr(1), &[], GAS);
    let data = b"hello world";
    let r = run_script(&mut host, &msg, &[sys(n::RETURN, &[DATA, 5])], data);
    assert_eq!((r.status, r.output.as_slice()), (StatusCode::Success, &b"hello"[..]));
    let r = run_script(&mut host, &msg, &[sys(n::REVERT, &[DATA + 6, 5])], data);
    assert_eq!((r.status, r.output.as_slice()), (StatusCode::Revert, &b"world"[..]));
    assert!(r.gas_left > GAS - 1_000);
    let r = run_script(&mut host, &msg, &[sys(0, &[0])], data);
    assert_eq!((r.status, r.output.len()), (StatusCode::Success, 0), "HALT 0 is success without data");
}

#[test]
fn context_records_have_the_documented_layout() {
    let tx = TxContext {
        gas_price: 3,
        origin: addr(0x0a),
        block_height: 77,
        block_timestamp: 1_700_000_000,
        block_gas_limit: 9_999,
        chain_id: word(0xc1),
    };
    let mut host = MockHost::new().with_tx_context(tx);
    host.block_hashes.insert(0x1_0000_0005, word(0xb5));
    let msg = Message {
        depth: 2,
        value: 0x1_0000_0002,
        sender_template: Some(addr(0x7e)),
        ..message(addr(0x5e), b"in", GAS)
    };
    let ops = [
        sys(n::GET_CONTEXT, &[DATA]),
        sys(n::GET_TX_CONTEXT, &[DATA + 0x100]),
        sys(n::GET_BLOCK_HASH, &[5, 1, DATA + 0x200]),
        sys(n::GET_BLOCK_HASH, &[6, 0, DATA + 0x220]),
        sys(n::RETURN, &[DATA, 0x240]),
    ];
    let r = run_script(&mut host, &msg, &ops, &[0xffu8; 0x240]);
    assert_eq!(r.status, StatusCode::Success);
    let ctx = &r.output[..c::LEN];
    assert_eq!(&ctx[c::ADDRESS..c::CALLER], addr(0x5e).as_bytes());
    assert_eq!(&ctx[c::CALLER..c::CALLER_TEMPLATE], addr(0xee).as_bytes());
    assert_eq!(&ctx[c::CALLER_TEMPLATE..c::VALUE], addr(0x7e).as_bytes());
    assert_eq!(&ctx[c::VALUE..c::DEPTH], 0x1_0000_0002u64.to_le_bytes());
    assert_eq!(&ctx[c::DEPTH..c::RESERVED], 2u32.to_le_bytes());
    assert_eq!(&ctx[c::RESERVED..c::LEN], [0; 4]);
    let txr = &r.output[0x100..0x100 + t::LEN];
    assert_eq!(&txr[t::GAS_PRICE..t::ORIGIN], 3u64.to_le_bytes());
    assert_eq!(&txr[t::ORIGIN..t::BLOCK_HEIGHT], addr(0x0a).as_bytes());
    assert_eq!(&txr[t::BLOCK_HEIGHT..t::BLOCK_TIMESTAMP], 77u64.to_le_bytes());
    assert_eq!(&txr[t::BLOCK_TIMESTAMP..t::BLOCK_GAS_LIMIT], 1_700_000_000u64.to_le_bytes());
    assert_eq!(&txr[t::BLOCK_GAS_LIMIT..t::CHAIN_ID], 9_999u64.to_le_bytes());
    assert_eq!(&txr[t::CHAIN_ID..t::LEN], word(0xc1).as_bytes());
    assert_eq!(&r.output[0x200..0x220], word(0xb5).as_bytes());
    assert_eq!(&r.output[0x220..0x240], Bytes32::ZERO.as_bytes(), "unknown height reads as zero");
}

#[test]
fn balances_of_self_and_others() {
    let mut host = MockHost::new();
    host.set_balance(addr(1), 0x1234_5678_9abc);
    host.set_balance(addr(2), 5);
    let mut data = vec![0u8; 48];
    data[..24].copy_from_slice(addr(2).as_bytes());
    data[24..].copy_from_slice(addr(3).as_bytes());
    let ops = [sys(n::GET_BALANCE, &[0]), sys(n::GET_BALANCE, &[DATA]), sys(n::GET_BALANCE, &[DATA + 24])];
    let r = run_script(&mut host, &message(addr(1), &[], GAS), &ops, &data);
    assert_eq!(results(&r.output), [(0x5678_9abc, 0x1234), (5, 0), (0, 0)]);
}

#[test]
fn logs_are_recorded_for_the_own_account() {
    let mut host = MockHost::new();
    let mut data = vec![0u8; 0x100];
    data[..32].fill(1);
    data[32..64].fill(2);
    data[64..69].copy_from_slice(b"event");
    let ops = [sys(n::EMIT_LOG, &[DATA, 2, DATA + 64, 5]), sys(n::EMIT_LOG, &[0, 0, 0, 0])];
    let r = run_script(&mut host, &message(addr(4), &[], GAS), &ops, &data);
    assert_eq!(r.status, StatusCode::Success);
    assert_eq!(
        host.logs,
        [
            Log { address: addr(4), topics: vec![word(1), word(2)], data: b"event".to_vec() },
            Log { address: addr(4), topics: vec![], data: vec![] },
        ]
    );
}

#[test]
fn deploy_then_spawn_then_call_the_instance() {
    let config = EngineConfig::default();
    let mut host = engine_host(config);
    let code = example("storage-rw");
    // data: code at 0; template address written at 0x1_0000, instance at
    // 0x1_0020; state blob "st" at 0x1_0040.
    let mut data = code.clone();
    data.resize(0x1_0042, 0);
    data[0x1_0040..].copy_from_slice(b"st");
    let (tpl, inst) = (DATA + 0x1_0000, DATA + 0x1_0020);
    let ops = [
        sys(n::DEPLOY, &[DATA, code.len() as u32, tpl]),
        sys(n::SPAWN, &[tpl, DATA + 0x1_0040, 2, inst]),
        sys(n::CALL, &[inst, DATA, 0, 0, 0, abi::CALL_GAS_ALL]),
        sys(n::RETURNDATA_COPY, &[DATA + 0x1_0100, 0, 64]),
        sys(n::RETURN, &[tpl, 0x120]),
    ];
    let r = execute(&mut host, Revision::LATEST, &message(addr(9), &[], 100_000_000), &script(&ops, &data));
    assert_eq!(r.status, StatusCode::Success, "{r:?}");
    let template = Address::try_from(&r.output[..24]).unwrap();
    let instance = Address::try_from(&r.output[0x20..0x38]).unwrap();
    assert_eq!(host.accounts[&template].code, code);
    assert_eq!(host.accounts[&instance].template, Some(template));
    assert_eq!(host.accounts[&instance].state, b"st");
    assert_eq!(&r.output[0x100..0x120], [0x22; 32], "the instance ran storage-rw");
    assert_eq!(host.get_storage(&instance, &word(0x11)), word(0x22));
    // Code that is not an ELF, and a template that does not exist: failure
    // statuses, zeroed outputs, and invalid code never reaches the host.
    let mut rec = Recorder::default();
    let ops = [sys(n::DEPLOY, &[DATA + 1, 64, tpl]), sys(n::SPAWN, &[DATA + 0x1_0040, DATA, 0, inst])];
    let r = execute(&mut rec, Revision::LATEST, &message(addr(9), &[], GAS), &script(&ops, &data));
    let statuses: Vec<u32> = results(&r.output).iter().map(|s| s.0).collect();
    assert_eq!(statuses, [StatusCode::Failure as u32, StatusCode::Failure as u32]);
    assert_eq!(rec.log, ["call"], "invalid code never reaches Host::deploy; a spawn is a call");
}

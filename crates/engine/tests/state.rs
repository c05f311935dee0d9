//! The own program's immutable state: `STATE_SIZE` / `STATE_READ` clamp
//! like `RETURNDATA_COPY`, fetch from the host at most once per frame, cost
//! exactly the documented gas, and treat an over-long host answer as a
//! broken host.

mod common;

use athena_engine::abi::{self, number as n};
use athena_engine::{execute, gas};
use athena_interface::mock::MockHost;
use athena_interface::{Address, ExecutionResult, Revision, StatusCode};
use common::*;

const STATE: &[u8] = b"hello, immutable world";
/// Inside the guard page.
const GUARD: u32 = 0x10;

/// Runs `ops` as the frame of `me`, whose state is `state`, recording the
/// host's callbacks.
fn run_with_state(state: &[u8], ops: &[Op], gas: u64) -> (ExecutionResult, Recorder) {
    let me = addr(1);
    let mut host = Recorder::default();
    host.inner.accounts.entry(me).or_default().state = state.to_vec();
    // The data page holds data already, so writes into it pay no page.
    let result = execute(&mut host, Revision::LATEST, &message(me, &[], gas), &script(ops, &[0xee; 0x100]));
    (result, host)
}

#[test]
fn size_and_clamped_reads() {
    let len = STATE.len() as u32;
    let ops = [
        sys(n::STATE_SIZE, &[]),
        sys(n::STATE_READ, &[DATA, 0, 5]),
        sys(n::STATE_READ, &[DATA + 0x10, 7, 1000]),
        sys(n::STATE_READ, &[DATA + 0x40, len, 4]),
        sys(n::STATE_READ, &[DATA + 0x40, u32::MAX, u32::MAX]),
        // Nothing to copy: any destination is fine, even the guard page.
        sys(n::STATE_READ, &[GUARD, len - 1, 0]),
        sys(n::STATE_READ, &[GUARD, len + 1, 8]),
        sys(n::RETURN, &[DATA, 0x40]),
    ];
    let (r, host) = run_with_state(STATE, &ops, GAS);
    assert_eq!(r.status, StatusCode::Success, "{r:?}");
    assert_eq!(&r.output[..5], b"hello");
    assert_eq!(&r.output[5..0x10], [0xee; 11], "only n bytes written");
    assert_eq!(&r.output[0x10..0x10 + STATE.len() - 7], &STATE[7..]);
    assert_eq!(&r.output[0x10 + STATE.len() - 7..], [0xee; 0x30 - STATE.len() + 7]);
    assert_eq!(host.state_fetches.get(), 1, "fetched once for the whole frame");
    assert!(!host.wrote());
}

#[test]
fn step_results() {
    let len = STATE.len() as u32;
    let ops = [
        sys(n::STATE_SIZE, &[]),
        sys(n::STATE_READ, &[DATA, 0, 5]),
        sys(n::STATE_READ, &[DATA, 7, 1000]),
        sys(n::STATE_READ, &[DATA, len, 4]),
        sys(n::STATE_READ, &[DATA, u32::MAX, u32::MAX]),
        sys(n::STATE_READ, &[GUARD, len + 1, 8]),
        sys(n::STATE_SIZE, &[]),
    ];
    let (r, host) = run_with_state(STATE, &ops, GAS);
    let a0: Vec<u32> = results(&r.output).iter().map(|s| s.0).collect();
    assert_eq!(a0, [len, 5, len - 7, 0, 0, 0, len]);
    assert_eq!(host.state_fetches.get(), 1);
}

#[test]
fn accounts_without_state_read_as_empty_and_unused_state_is_never_fetched() {
    let (r, host) = run_with_state(&[], &[sys(n::STATE_SIZE, &[]), sys(n::STATE_READ, &[GUARD, 0, 32])], GAS);
    assert_eq!(results(&r.output), [(0, 0), (0, 0)]);
    assert_eq!(host.state_fetches.get(), 1);
    let (r, host) = run_with_state(STATE, &[sys(n::RETURNDATA_SIZE, &[])], GAS);
    assert_eq!(r.status, StatusCode::Success);
    assert_eq!(host.state_fetches.get(), 0);
}

#[test]
fn the_state_is_the_recipients() {
    let mut host = MockHost::new();
    host.accounts.entry(addr(1)).or_default().state = b"one".to_vec();
    host.accounts.entry(addr(2)).or_default().state = b"two!".to_vec();
    let code = script(&[sys(n::STATE_SIZE, &[])], &[]);
    for (who, len) in [(addr(1), 3), (addr(2), 4), (addr(3), 0)] {
        let r = execute(&mut host, Revision::LATEST, &message(who, &[], GAS), &code);
        assert_eq!(results(&r.output)[0].0, len, "{who}");
    }
}

/// Gas of `ops` minus gas of the same number of `RETURNDATA_SIZE` calls
/// (free, same instruction count): the host functions' own prices.
fn price(state: &[u8], ops: &[Op]) -> u64 {
    let baseline: Vec<Op> = ops.iter().map(|_| sys(n::RETURNDATA_SIZE, &[0, 0, 0])).collect();
    let (r, _) = run_with_state(state, ops, GAS);
    let (base, _) = run_with_state(state, &baseline, GAS);
    assert_eq!((r.status, base.status), (StatusCode::Success, StatusCode::Success));
    r.gas_used(GAS) - base.gas_used(GAS)
}

#[test]
fn gas_is_exact() {
    let fetch = gas::STATE_FETCH + gas::copy(STATE.len() as u32);
    assert_eq!(gas::STATE_FETCH, gas::STORAGE_READ);
    assert_eq!(price(STATE, &[sys(n::STATE_SIZE, &[0, 0, 0])]), fetch);
    assert_eq!(price(STATE, &[sys(n::STATE_SIZE, &[0, 0, 0]), sys(n::STATE_SIZE, &[0, 0, 0])]), fetch);
    assert_eq!(price(STATE, &[sys(n::STATE_READ, &[DATA, 0, 9])]), fetch + gas::copy(9));
    assert_eq!(
        price(STATE, &[sys(n::STATE_READ, &[DATA, 0, 9]), sys(n::STATE_READ, &[DATA, 20, 100])]),
        fetch + gas::copy(9) + gas::copy(STATE.len() as u32 - 20)
    );
    assert_eq!(price(&[], &[sys(n::STATE_READ, &[DATA, 0, 9])]), gas::STATE_FETCH);
    let big = vec![7u8; abi::MAX_SPAWN_STATE as usize];
    assert_eq!(price(&big, &[sys(n::STATE_SIZE, &[0, 0, 0])]), gas::STATE_FETCH + gas::copy(abi::MAX_SPAWN_STATE));
}

#[test]
fn unaffordable_copy_of_the_blob_runs_out_of_gas() {
    // Enough for the fetch's base price but not for copying 64 KiB.
    let big = vec![7u8; abi::MAX_SPAWN_STATE as usize];
    let (r, host) = run_with_state(&big, &[sys(n::STATE_SIZE, &[])], 1_000);
    assert_eq!((r.status, r.gas_left), (StatusCode::OutOfGas, 0));
    assert_eq!(host.state_fetches.get(), 1, "the base price was paid, the read was made");
}

#[test]
fn a_host_answer_over_the_bound_is_an_internal_error() {
    let mut over = vec![1u8; abi::MAX_SPAWN_STATE as usize + 1];
    let (r, _) = run_with_state(&over, &[sys(n::STATE_SIZE, &[])], GAS);
    assert_eq!((r.status, r.gas_left), (StatusCode::InternalError, 0));
    let (r, _) = run_with_state(&over, &[sys(n::STATE_READ, &[DATA, 0, 4])], GAS);
    assert_eq!(r.status, StatusCode::InternalError);
    over.pop();
    let (r, _) = run_with_state(&over, &[sys(n::STATE_SIZE, &[])], GAS);
    assert_eq!((r.status, results(&r.output)[0].0), (StatusCode::Success, abi::MAX_SPAWN_STATE));
}

#[test]
fn bad_destinations_trap_after_the_read() {
    for dst in [GUARD, TEXT, 0xffff_fffe] {
        let (r, host) = run_with_state(STATE, &[sys(n::STATE_READ, &[dst, 0, 4])], GAS);
        assert_eq!((r.status, r.gas_left), (StatusCode::InvalidSyscallArgument, 0), "{dst:#x}");
        assert!(!host.wrote());
    }
    // The same destination is fine when nothing is copied.
    let (r, _) = run_with_state(&[], &[sys(n::STATE_READ, &[GUARD, 0, 4])], GAS);
    assert_eq!(r.status, StatusCode::Success);
}

#[test]
fn a_spawned_program_reads_its_spawn_state() {
    // End to end with MockHost's spawn: the state given to the spawn is what
    // the program reads back.
    let mut host = MockHost::new();
    let code = script(&[sys(n::STATE_READ, &[DATA, 0, 64]), sys(n::RETURN, &[DATA, 8])], &[]);
    install(&mut host, addr(0x7e), code.clone());
    let program: Address = host.spawn_program(&addr(0x7e), b"12345678").unwrap();
    let r = execute(&mut host, Revision::LATEST, &message(program, &[], GAS), &code);
    assert_eq!(r.output, b"12345678");
}

//! Storage host functions: the `storage-rw` example end to end, status
//! codes of every kind of write, and gas charged before the host writes.

mod common;

use athena_engine::abi::number as n;
use athena_engine::{execute, gas};
use athena_interface::mock::MockHost;
use athena_interface::{Bytes32, Host, Revision, StatusCode, StorageStatus};
use common::*;

#[test]
fn storage_rw_example_writes_reads_back_and_returns_the_value() {
    let code = example("storage-rw");
    let me = addr(1);
    let mut host = MockHost::new();
    let result = execute(&mut host, Revision::LATEST, &message(me, &[], GAS), &code);
    assert_eq!(result.status, StatusCode::Success, "{result:?}");
    assert_eq!(result.output, [0x22; 32]);
    assert_eq!(host.get_storage(&me, &word(0x11)), word(0x22));
    assert!(result.gas_left < GAS);

    let mut input = [7u8; 64];
    input[32..].fill(9);
    let result = execute(&mut host, Revision::LATEST, &message(me, &input, GAS), &code);
    assert_eq!((result.status, result.output.as_slice()), (StatusCode::Success, &[9u8; 32][..]));
    assert_eq!(host.get_storage(&me, &word(7)), word(9));
    assert_eq!(host.get_storage(&me, &word(0x11)), word(0x22), "other slots untouched");
    assert!(host.get_storage(&addr(2), &word(7)).is_zero(), "only the own account is written");
}

#[test]
fn storage_rw_out_of_gas_fails_without_gas_left() {
    let code = example("storage-rw");
    let mut host = MockHost::new();
    let result = execute(&mut host, Revision::LATEST, &message(addr(1), &[], 5_000), &code);
    assert_eq!((result.status, result.gas_left), (StatusCode::OutOfGas, 0));
}

#[test]
fn write_statuses_and_read_back_through_syscalls() {
    // data: key at 0, values v1 at 32, v2 at 64, zero at 96; read buffer at 128.
    let mut data = vec![0u8; 160];
    data[..32].fill(0xaa);
    data[32..64].fill(1);
    data[64..96].fill(2);
    let (key, v1, v2, zero, out) = (DATA, DATA + 32, DATA + 64, DATA + 96, DATA + 128);
    let ops = [
        sys(n::STORAGE_WRITE, &[key, zero]),
        sys(n::STORAGE_WRITE, &[key, v1]),
        sys(n::STORAGE_WRITE, &[key, v1]),
        sys(n::STORAGE_WRITE, &[key, v2]),
        sys(n::STORAGE_READ, &[key, out]),
        sys(n::RETURN, &[out, 32]),
    ];
    let mut host = MockHost::new();
    let me = addr(3);
    let result = execute(&mut host, Revision::LATEST, &message(me, &[], GAS), &script(&ops, &data));
    assert_eq!(result.status, StatusCode::Success);
    assert_eq!(result.output, [2u8; 32], "STORAGE_READ returned the last write");
    assert_eq!(host.get_storage(&me, &word(0xaa)), word(2));

    let ops = [
        sys(n::STORAGE_WRITE, &[key, zero]),
        sys(n::STORAGE_WRITE, &[key, zero]),
        sys(n::STORAGE_WRITE, &[key, v1]),
        sys(n::STORAGE_WRITE, &[key, v1]),
        sys(n::STORAGE_WRITE, &[key, v2]),
    ];
    let mut host = MockHost::new();
    let result = execute(&mut host, Revision::LATEST, &message(me, &[], GAS), &script(&ops, &data));
    let statuses: Vec<u32> = results(&result.output).iter().map(|r| r.0).collect();
    use StorageStatus::*;
    assert_eq!(statuses, [Unchanged, Unchanged, Added, Unchanged, Modified].map(|s| s as u32));
    // Write then delete.
    let ops = [sys(n::STORAGE_WRITE, &[key, v1]), sys(n::STORAGE_WRITE, &[key, zero])];
    let result = execute(&mut MockHost::new(), Revision::LATEST, &message(me, &[], GAS), &script(&ops, &data));
    let statuses: Vec<u32> = results(&result.output).iter().map(|r| r.0).collect();
    assert_eq!(statuses, [Added as u32, Deleted as u32]);
}

/// Runs a one-write script (slot 0 ← `[1; 32]`, the slot initially
/// `initial`) with `gas_limit`: did the write reach the host, and how did
/// the frame end?
fn write_reaches_host(initial: Option<Bytes32>, gas_limit: u64) -> (bool, StatusCode) {
    let mut data = vec![0u8; 64];
    data[32..].fill(1);
    let code = script(&[sys(n::STORAGE_WRITE, &[DATA, DATA + 32])], &data);
    let mut host = Recorder::default();
    if let Some(v) = initial {
        host.inner.set_storage_value(addr(1), Bytes32::ZERO, v);
    }
    let result = execute(&mut host, Revision::LATEST, &message(addr(1), &[], gas_limit), &code);
    (host.log.contains(&"set_storage"), result.status)
}

/// The smallest gas limit with which the write reaches the host.
fn threshold(initial: Option<Bytes32>) -> u64 {
    let (mut lo, mut hi) = (0u64, 1_000_000u64);
    assert!(write_reaches_host(initial, hi).0);
    while lo + 1 < hi {
        let mid = (lo + hi) / 2;
        if write_reaches_host(initial, mid).0 {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

#[test]
fn storage_write_is_charged_in_full_before_the_host_writes() {
    let added = threshold(None);
    let unchanged = threshold(Some(word(1)));
    let modified = threshold(Some(word(2)));
    // If the engine charged after writing, all three thresholds would be
    // equal; they differ by exactly the price differences.
    assert_eq!(added - unchanged, gas::STORAGE_WRITE_ADDED - gas::STORAGE_WRITE_UNCHANGED);
    assert_eq!(modified - unchanged, gas::STORAGE_WRITE_MODIFIED - gas::STORAGE_WRITE_UNCHANGED);
    // One gas short: out of gas, and the host never saw the write.
    assert_eq!(write_reaches_host(None, added - 1), (false, StatusCode::OutOfGas));
    assert_eq!(write_reaches_host(Some(word(2)), modified - 1), (false, StatusCode::OutOfGas));
}

#[test]
fn storage_read_costs_its_price() {
    let mut data = vec![0u8; 64];
    data[..32].fill(5);
    let gas_of = |ops: &[Op]| {
        let result = execute(&mut MockHost::new(), Revision::LATEST, &message(addr(1), &[], GAS), &script(ops, &data));
        assert_eq!(result.status, StatusCode::Success);
        GAS - result.gas_left
    };
    let with_read = gas_of(&[sys(n::STORAGE_READ, &[DATA, DATA + 32])]);
    let with_size = gas_of(&[sys(n::RETURNDATA_SIZE, &[DATA, DATA + 32])]);
    assert_eq!(with_read - with_size, gas::STORAGE_READ);
}

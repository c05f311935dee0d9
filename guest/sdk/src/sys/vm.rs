//! The VM side of the host-function layer: thin conversions over
//! `athena_guest_rt::host`, which issues the syscalls.

use crate::host::{CallResult, Context, StorageStatus, TxContext, Word};
use crate::Address;
use alloc::vec::Vec;
use athena_guest_rt::host as rt;

pub fn input() -> Vec<u8> {
    athena_guest_rt::input()
}

pub fn return_data(data: &[u8]) -> ! {
    rt::return_data(data)
}

pub fn revert(data: &[u8]) -> ! {
    rt::revert(data)
}

pub fn storage_read(key: &Word) -> Word {
    rt::storage_read(key)
}

pub fn storage_read_into(key: &Word, out: &mut Word) {
    rt::storage_read_into(key, out)
}

pub fn storage_write(key: &Word, value: &Word) -> StorageStatus {
    match rt::storage_write(key, value) {
        rt::StorageStatus::Unchanged => StorageStatus::Unchanged,
        rt::StorageStatus::Added => StorageStatus::Added,
        rt::StorageStatus::Modified => StorageStatus::Modified,
        rt::StorageStatus::Deleted => StorageStatus::Deleted,
    }
}

pub fn balance(address: Option<&Address>) -> u64 {
    rt::balance(address.map(|a| &a.0))
}

pub fn call(address: &Address, input: &[u8], value: u64, gas: u32) -> CallResult {
    let result = rt::call(&address.0, input, value, gas);
    CallResult { status: result.status, output: result.output }
}

pub fn returndata_size() -> usize {
    rt::returndata_size()
}

pub fn returndata_copy(offset: usize, buf: &mut [u8]) -> usize {
    rt::returndata_copy(offset, buf)
}

pub fn spawn(template: &Address, state: &[u8]) -> Result<Address, u32> {
    rt::spawn(&template.0, state).map(Address)
}

pub fn deploy(code: &[u8]) -> Result<Address, u32> {
    rt::deploy(code).map(Address)
}

pub fn caller() -> Address {
    let raw = rt::context_raw();
    let mut caller = [0u8; 24];
    caller.copy_from_slice(&raw[24..48]);
    Address(caller)
}

pub fn context() -> Context {
    let c = rt::context();
    Context {
        address: Address(c.address),
        caller: Address(c.caller),
        caller_template: c.caller_template.map(Address),
        value: c.value,
        depth: c.depth,
    }
}

pub fn tx_context() -> TxContext {
    let t = rt::tx_context();
    TxContext {
        gas_price: t.gas_price,
        origin: Address(t.origin),
        block_height: t.block_height,
        block_timestamp: t.block_timestamp,
        block_gas_limit: t.block_gas_limit,
        chain_id: t.chain_id,
    }
}

pub fn block_hash(height: u64) -> Word {
    rt::block_hash(height)
}

pub fn emit_log(topics: &[Word], data: &[u8]) {
    rt::emit_log(topics, data)
}

pub fn state_size() -> usize {
    rt::state_size()
}

pub fn state_read(offset: usize, buf: &mut [u8]) -> usize {
    rt::state_read(offset, buf)
}

pub fn sha256(data: &[u8]) -> Word {
    rt::sha256(data)
}

pub fn blake3(data: &[u8]) -> Word {
    rt::blake3(data)
}

pub fn ed25519_verify(message: &[u8], public_key: &[u8; 32], signature: &[u8; 64]) -> bool {
    rt::ed25519_verify(message, public_key, signature)
}

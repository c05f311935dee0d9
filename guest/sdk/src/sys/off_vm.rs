//! The host-function layer outside the VM (a contract crate compiled for
//! the host, for its tests or `cargo run`): every function panics with a
//! message saying why, so code that only *mentions* host functions still
//! compiles and links.

use crate::host::{CallResult, Context, StorageStatus, TxContext, Word};
use crate::Address;
use alloc::vec::Vec;

#[cold]
#[track_caller]
fn unavailable(function: &str) -> ! {
    panic!(
        "athena-sdk: `{function}` is only available inside the Athena VM (build the contract for \
         riscv32em-unknown-none-elf with `athena build` and run it in the VM or a test host)"
    )
}

pub fn input() -> Vec<u8> {
    unavailable("input")
}

pub fn return_data(_: &[u8]) -> ! {
    unavailable("return_data")
}

pub fn revert(_: &[u8]) -> ! {
    unavailable("revert")
}

pub fn storage_read(_: &Word) -> Word {
    unavailable("storage_read")
}

pub fn storage_read_into(_: &Word, _: &mut Word) {
    unavailable("storage_read")
}

pub fn storage_write(_: &Word, _: &Word) -> StorageStatus {
    unavailable("storage_write")
}

pub fn balance(_: Option<&Address>) -> u64 {
    unavailable("balance")
}

pub fn call(_: &Address, _: &[u8], _: u64, _: u32) -> CallResult {
    unavailable("call")
}

pub fn returndata_size() -> usize {
    unavailable("returndata_size")
}

pub fn returndata_copy(_: usize, _: &mut [u8]) -> usize {
    unavailable("returndata_copy")
}

pub fn spawn(_: &Address, _: &[u8]) -> Result<Address, u32> {
    unavailable("spawn")
}

pub fn deploy(_: &[u8]) -> Result<Address, u32> {
    unavailable("deploy")
}

pub fn caller() -> Address {
    unavailable("caller")
}

pub fn context() -> Context {
    unavailable("context")
}

pub fn tx_context() -> TxContext {
    unavailable("tx_context")
}

pub fn block_hash(_: u64) -> Word {
    unavailable("block_hash")
}

pub fn emit_log(_: &[Word], _: &[u8]) {
    unavailable("emit_log")
}

pub fn state_size() -> usize {
    unavailable("state_size")
}

pub fn state_read(_: usize, _: &mut [u8]) -> usize {
    unavailable("state_read")
}

pub fn sha256(_: &[u8]) -> Word {
    unavailable("sha256")
}

pub fn blake3(_: &[u8]) -> Word {
    unavailable("blake3")
}

pub fn ed25519_verify(_: &[u8], _: &[u8; 32], _: &[u8; 64]) -> bool {
    unavailable("ed25519_verify")
}

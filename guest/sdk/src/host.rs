//! Host functions: input and output, balances, calls, spawn and deploy,
//! context records, logs, the immutable program state and precompiles.
//!
//! Everything here is re-exported at the crate root. Numbers, bounds,
//! gas and failure modes are normative in `docs/syscalls.md`: in short, an
//! argument over a bound (say, return data over [`MAX_RETURN_DATA`]) does
//! not return an error, it ends the whole frame with
//! `invalid_syscall_argument`. Outside the VM (host builds) every function
//! here panics; see the crate docs.
//!
//! The syscalls themselves, the records and their decoding are
//! `athena_guest_rt::host`'s (one copy for plain programs and the SDK);
//! this module adds the typed layer: [`Address`] instead of `[u8; 24]`,
//! SCALE arguments, results and state, selectors.

use crate::codec::{Decode, DecodeAll, Encode};
use crate::Address;
use alloc::vec::Vec;
use athena_guest_rt::host as rt;

/// The host-function layer's own items, used as they are: the bounds,
/// status codes, storage statuses and the raw call result.
pub use athena_guest_rt::host::{
    status, CallResult, StorageStatus, Word, GAS_ALL, MAX_CALL_INPUT, MAX_DEPLOY_CODE, MAX_LOG_DATA, MAX_LOG_TOPICS,
    MAX_PRECOMPILE_INPUT, MAX_RETURN_DATA, MAX_SPAWN_STATE,
};

/// A method selector: `blake3(name)[..4]`.
pub type Selector = [u8; 4];

/// The frame's context (`GET_CONTEXT`): own address, caller, the caller's
/// template, value, depth (the runtime's record, with SDK addresses).
pub type Context = rt::Context<Address>;

/// The transaction's context (`GET_TX_CONTEXT`): gas price, origin, block
/// data, chain id (the runtime's record, with SDK addresses).
pub type TxContext = rt::TxContext<Address>;

/// The typed reading of a [`CallResult`] for SCALE-speaking callers (the
/// result itself, with `is_success` and `revert_message`, is the
/// runtime's). In the prelude.
pub trait CallResultExt {
    /// The output decoded as `R` (all of it) if the call succeeded.
    fn decode<R: Decode>(&self) -> Option<R>;

    /// The decoded output, or this frame reverts: with the callee's own
    /// revert data if it reverted (so its message travels up unchanged),
    /// else with `athena: call failed with status N` or
    /// `athena: cannot decode the call's output`.
    fn unwrap_or_revert<R: Decode>(&self) -> R;
}

impl CallResultExt for CallResult {
    fn decode<R: Decode>(&self) -> Option<R> {
        if !self.is_success() {
            return None;
        }
        R::decode_all(&mut self.output.as_slice()).ok()
    }

    fn unwrap_or_revert<R: Decode>(&self) -> R {
        match self.status {
            status::SUCCESS => match R::decode_all(&mut self.output.as_slice()) {
                Ok(value) => value,
                Err(_) => revert("athena: cannot decode the call's output"),
            },
            status::REVERT => revert_data(&self.output),
            other => {
                let mut msg = Vec::with_capacity(48);
                msg.extend_from_slice(b"athena: call failed with status ");
                crate::private::push_decimal(&mut msg, other);
                revert_data(&msg)
            }
        }
    }
}

/// Ends the frame successfully with `data` as the output, bypassing the
/// SCALE encoding of a method's return value.
pub fn return_data(data: &[u8]) -> ! {
    rt::return_data(data)
}

/// Ends the frame successfully with `SCALE(value)` as the output: what a
/// `#[callable]` method's return does.
pub fn return_value<T: Encode + ?Sized>(value: &T) -> ! {
    value.using_encoded(|bytes| rt::return_data(bytes))
}

/// Ends the frame with status revert and the UTF-8 `message` as revert
/// data: all effects of the frame are undone and unused gas goes back to
/// the caller, which can read the message ([`CallResult::revert_message`]).
pub fn revert(message: &str) -> ! {
    rt::revert(message.as_bytes())
}

/// Like [`revert`] with arbitrary revert data.
pub fn revert_data(data: &[u8]) -> ! {
    rt::revert(data)
}

/// The own account's balance.
pub fn balance() -> u64 {
    rt::balance(None)
}

/// The balance of `address`.
pub fn balance_of(address: &Address) -> u64 {
    rt::balance(Some(&address.0))
}

/// Calls `address` with the raw `input`, transferring `value` coins and
/// forwarding all the gas allowed. A failing callee's effects are undone
/// and this frame continues with its status.
pub fn call(address: &Address, input: &[u8], value: u64) -> CallResult {
    rt::call(&address.0, input, value, GAS_ALL)
}

/// [`call`] offering at most `gas` ([`GAS_ALL`]: all that may be forwarded).
pub fn call_with_gas(address: &Address, input: &[u8], value: u64, gas: u32) -> CallResult {
    rt::call(&address.0, input, value, gas)
}

/// Calls method `selector` of an SDK template program at `address` with
/// `args` (a tuple: `&(a, b)`, `&(a,)`, `&()`), transferring `value`.
pub fn call_method<A: Encode>(address: &Address, selector: Selector, args: &A, value: u64) -> CallResult {
    call(address, &encode_call(selector, args), value)
}

/// A method call's input: `selector ‖ SCALE(args)`.
pub fn encode_call<A: Encode>(selector: Selector, args: &A) -> Vec<u8> {
    let mut input = Vec::with_capacity(4 + args.size_hint());
    input.extend_from_slice(&selector);
    args.encode_to(&mut input);
    input
}

/// The selector of method `name`, computed at run time with the BLAKE3
/// precompile. Prefer the free-of-charge compile-time
/// [`selector!`](crate::selector!) for constant names.
pub fn selector(name: &str) -> Selector {
    let hash = rt::blake3(name.as_bytes());
    [hash[0], hash[1], hash[2], hash[3]]
}

/// Spawns a program of `template` whose immutable state is `SCALE(state)`
/// (for an SDK template: its struct). The host runs the template's `spawn`
/// method first; `Err(status)` if the template does not exist, the program
/// already exists (same template and state) or `spawn` rejected it.
pub fn spawn<S: Encode + ?Sized>(template: &Address, state: &S) -> Result<Address, u32> {
    state.using_encoded(|bytes| spawn_raw(template, bytes))
}

/// [`spawn`] with an already encoded state blob.
pub fn spawn_raw(template: &Address, state: &[u8]) -> Result<Address, u32> {
    rt::spawn(&template.0, state).map(Address)
}

/// The running program's own address.
pub fn address() -> Address {
    context().address
}

/// The immediate caller's address.
pub fn caller() -> Address {
    Address(rt::caller())
}

/// The value received with this call.
pub fn value() -> u64 {
    context().value
}

/// A log topic naming an event: `blake3(name)` (BLAKE3 precompile).
pub fn topic(name: &str) -> Word {
    rt::blake3(name.as_bytes())
}

/// Emits a log entry whose data is `SCALE(value)`.
pub fn emit<T: Encode + ?Sized>(topics: &[Word], value: &T) {
    value.using_encoded(|bytes| rt::emit_log(topics, bytes))
}

/// The program's immutable state blob (what it was spawned with).
pub fn state() -> Vec<u8> {
    rt::state()
}

/// The state decoded as `T` (all of it), or `None` if it does not decode.
/// Template methods get it as `&self` without calling this.
pub fn state_as<T: Decode>() -> Option<T> {
    T::decode_all(&mut state().as_slice()).ok()
}

/// The output of the most recent call, copied into a new buffer.
pub fn returndata() -> Vec<u8> {
    rt::returndata()
}

/// The whole input of the frame (for a template method: selector and
/// arguments), read into a new buffer.
pub fn input() -> Vec<u8> {
    athena_guest_rt::input()
}

/// Length of the most recent call's output.
pub fn returndata_size() -> usize {
    rt::returndata_size()
}

/// Copies the most recent call's output from `offset` into `buf`; returns
/// the number of bytes copied.
pub fn returndata_copy(offset: usize, buf: &mut [u8]) -> usize {
    rt::returndata_copy(offset, buf)
}

/// Stores `code` (an ELF file, at most 1 MiB) as a new template and
/// returns its address; `Err(status)` if the code does not load as an
/// Athena program or the host refused it.
pub fn deploy(code: &[u8]) -> Result<Address, u32> {
    rt::deploy(code).map(Address)
}

/// The frame's [`Context`]: own address, caller, value, depth.
pub fn context() -> Context {
    rt::context().map_addresses(Address)
}

/// The transaction's [`TxContext`]: origin, gas price, block data.
pub fn tx_context() -> TxContext {
    rt::tx_context().map_addresses(Address)
}

/// The hash of block `height`, or zero if the host does not serve it.
pub fn block_hash(height: u64) -> Word {
    rt::block_hash(height)
}

/// Emits a log entry attributed to the own account: up to
/// [`MAX_LOG_TOPICS`] topics and up to [`MAX_LOG_DATA`] bytes of data.
/// Dropped if the frame does not succeed.
pub fn emit_log(topics: &[Word], data: &[u8]) {
    rt::emit_log(topics, data)
}

/// Length of the program's immutable state (`STATE_SIZE`).
pub fn state_size() -> usize {
    rt::state_size()
}

/// Copies the immutable state from `offset` into `buf` (`STATE_READ`);
/// returns the number of bytes copied (0 past the end).
pub fn state_read(offset: usize, buf: &mut [u8]) -> usize {
    rt::state_read(offset, buf)
}

/// SHA-256 of `data` (native precompile; at most 1 MiB).
pub fn sha256(data: &[u8]) -> Word {
    rt::sha256(data)
}

/// BLAKE3 of `data` (native precompile; at most 1 MiB).
pub fn blake3(data: &[u8]) -> Word {
    rt::blake3(data)
}

/// Whether `signature` is a valid (strict) Ed25519 signature of `message`
/// under `public_key` (native precompile; message at most 1 MiB).
pub fn ed25519_verify(message: &[u8], public_key: &[u8; 32], signature: &[u8; 64]) -> bool {
    rt::ed25519_verify(message, public_key, signature)
}

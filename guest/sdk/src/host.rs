//! Host functions: input and output, balances, calls, spawn and deploy,
//! context records, logs, the immutable program state and precompiles.
//!
//! Everything here is re-exported at the crate root. Numbers, bounds,
//! gas and failure modes are normative in `docs/syscalls.md`: in short, an
//! argument over a bound (say, return data over [`MAX_RETURN_DATA`]) does
//! not return an error, it ends the whole frame with
//! `invalid_syscall_argument`. Outside the VM (host builds) every function
//! here panics; see the crate docs.

use crate::codec::{Decode, DecodeAll, Encode};
use crate::{sys, Address};
use alloc::vec::Vec;

/// A storage key or value, a log topic, a hash (32 bytes).
pub type Word = [u8; 32];

/// A method selector: `blake3(name)[..4]`.
pub type Selector = [u8; 4];

/// Largest return/revert data.
pub const MAX_RETURN_DATA: usize = athena_abi::MAX_RETURN_DATA as usize;
/// Largest call input (selector included).
pub const MAX_CALL_INPUT: usize = athena_abi::MAX_CALL_INPUT as usize;
/// Largest spawn state.
pub const MAX_SPAWN_STATE: usize = athena_abi::MAX_SPAWN_STATE as usize;
/// Largest code [`deploy`] accepts.
pub const MAX_DEPLOY_CODE: usize = athena_abi::MAX_DEPLOY_CODE as usize;
/// Most topics of one log entry.
pub const MAX_LOG_TOPICS: usize = athena_abi::MAX_LOG_TOPICS as usize;
/// Largest log payload.
pub const MAX_LOG_DATA: usize = athena_abi::MAX_LOG_DATA as usize;
/// Largest input of the hash precompiles and of [`ed25519_verify`]'s message.
pub const MAX_PRECOMPILE_INPUT: usize = athena_abi::MAX_PRECOMPILE_INPUT as usize;
/// `gas` argument of [`call_with_gas`] meaning "all that may be forwarded"
/// (everything left but 1/64).
pub const GAS_ALL: u32 = athena_abi::CALL_GAS_ALL;

/// Status codes a callee (or spawn/deploy) can report: the
/// `athena_interface::StatusCode` values a guest may see.
pub mod status {
    /// The operation succeeded.
    pub const SUCCESS: u32 = 0;
    /// Generic failure (the callee trapped or halted with a non-zero
    /// code, an unknown template, an already spawned program, ...).
    pub const FAILURE: u32 = 1;
    /// The callee reverted; its revert data is the output.
    pub const REVERT: u32 = 2;
    /// The callee ran out of gas.
    pub const OUT_OF_GAS: u32 = 3;
    /// The call would exceed the depth limit; the callee never ran.
    pub const CALL_DEPTH_EXCEEDED: u32 = 6;
    /// The value exceeds the caller's balance; the callee never ran.
    pub const INSUFFICIENT_BALANCE: u32 = 7;
}

/// How a storage write changed the slot (the host's `StorageStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StorageStatus {
    /// The slot already held the value.
    Unchanged,
    /// Zero → non-zero.
    Added,
    /// Non-zero → another non-zero value.
    Modified,
    /// Non-zero → zero.
    Deleted,
}

/// What a call returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallResult {
    /// The callee's status ([`status`]); 0 is success.
    pub status: u32,
    /// Its return data (success) or revert data (revert); empty otherwise.
    pub output: Vec<u8>,
}

impl CallResult {
    /// Whether the callee succeeded (only then are its effects kept).
    pub fn is_success(&self) -> bool {
        self.status == status::SUCCESS
    }

    /// The output decoded as `R` (all of it) if the call succeeded.
    pub fn decode<R: Decode>(&self) -> Option<R> {
        if !self.is_success() {
            return None;
        }
        R::decode_all(&mut self.output.as_slice()).ok()
    }

    /// The revert message, if the callee reverted with UTF-8 data (as SDK
    /// templates do: `revert`, panics, ABI errors).
    pub fn revert_message(&self) -> Option<&str> {
        if self.status != status::REVERT {
            return None;
        }
        core::str::from_utf8(&self.output).ok()
    }

    /// The decoded output, or this frame reverts: with the callee's own
    /// revert data if it reverted (so its message travels up unchanged),
    /// else with `athena: call failed with status N` or
    /// `athena: cannot decode the call's output`.
    pub fn unwrap_or_revert<R: Decode>(&self) -> R {
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

/// The frame's context (`GET_CONTEXT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Context {
    /// The own account (the program running).
    pub address: Address,
    /// The immediate caller.
    pub caller: Address,
    /// The caller's template, if the host reported one.
    pub caller_template: Option<Address>,
    /// Value received with this call.
    pub value: u64,
    /// Call depth (0 for the transaction's top frame).
    pub depth: u32,
}

/// The transaction's context (`GET_TX_CONTEXT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxContext {
    /// Price of one unit of gas.
    pub gas_price: u64,
    /// The account that signed the transaction.
    pub origin: Address,
    /// Height of the block being executed.
    pub block_height: u64,
    /// Timestamp of the block being executed.
    pub block_timestamp: u64,
    /// Gas limit of the block.
    pub block_gas_limit: u64,
    /// The chain's identifier.
    pub chain_id: Word,
}

/// Ends the frame successfully with `data` as the output, bypassing the
/// SCALE encoding of a method's return value.
pub fn return_data(data: &[u8]) -> ! {
    sys::return_data(data)
}

/// Ends the frame successfully with `SCALE(value)` as the output: what a
/// `#[callable]` method's return does.
pub fn return_value<T: Encode + ?Sized>(value: &T) -> ! {
    value.using_encoded(|bytes| sys::return_data(bytes))
}

/// Ends the frame with status revert and the UTF-8 `message` as revert
/// data: all effects of the frame are undone and unused gas goes back to
/// the caller, which can read the message ([`CallResult::revert_message`]).
pub fn revert(message: &str) -> ! {
    sys::revert(message.as_bytes())
}

/// Like [`revert`] with arbitrary revert data.
pub fn revert_data(data: &[u8]) -> ! {
    sys::revert(data)
}

/// The own account's balance.
pub fn balance() -> u64 {
    sys::balance(None)
}

/// The balance of `address`.
pub fn balance_of(address: &Address) -> u64 {
    sys::balance(Some(address))
}

/// Calls `address` with the raw `input`, transferring `value` coins and
/// forwarding all the gas allowed. A failing callee's effects are undone
/// and this frame continues with its status.
pub fn call(address: &Address, input: &[u8], value: u64) -> CallResult {
    sys::call(address, input, value, GAS_ALL)
}

/// [`call`] offering at most `gas` ([`GAS_ALL`]: all that may be forwarded).
pub fn call_with_gas(address: &Address, input: &[u8], value: u64, gas: u32) -> CallResult {
    sys::call(address, input, value, gas)
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
    let hash = sys::blake3(name.as_bytes());
    [hash[0], hash[1], hash[2], hash[3]]
}

/// Spawns a program of `template` whose immutable state is `SCALE(state)`
/// (for an SDK template: its struct). The host runs the template's `spawn`
/// method first; `Err(status)` if the template does not exist, the program
/// already exists (same template and state) or `spawn` rejected it.
pub fn spawn<S: Encode + ?Sized>(template: &Address, state: &S) -> Result<Address, u32> {
    state.using_encoded(|bytes| sys::spawn(template, bytes))
}

/// [`spawn`] with an already encoded state blob.
pub fn spawn_raw(template: &Address, state: &[u8]) -> Result<Address, u32> {
    sys::spawn(template, state)
}

/// The running program's own address.
pub fn address() -> Address {
    context().address
}

/// The immediate caller's address.
pub fn caller() -> Address {
    sys::caller()
}

/// The value received with this call.
pub fn value() -> u64 {
    context().value
}

/// A log topic naming an event: `blake3(name)` (BLAKE3 precompile).
pub fn topic(name: &str) -> Word {
    sys::blake3(name.as_bytes())
}

/// Emits a log entry whose data is `SCALE(value)`.
pub fn emit<T: Encode + ?Sized>(topics: &[Word], value: &T) {
    value.using_encoded(|bytes| sys::emit_log(topics, bytes))
}

/// The program's immutable state blob (what it was spawned with).
pub fn state() -> Vec<u8> {
    let mut buf = alloc::vec![0u8; sys::state_size()];
    let n = sys::state_read(0, &mut buf);
    buf.truncate(n);
    buf
}

/// The state decoded as `T` (all of it), or `None` if it does not decode.
/// Template methods get it as `&self` without calling this.
pub fn state_as<T: Decode>() -> Option<T> {
    T::decode_all(&mut state().as_slice()).ok()
}

/// The output of the most recent call, copied into a new buffer.
pub fn returndata() -> Vec<u8> {
    let mut buf = alloc::vec![0u8; sys::returndata_size()];
    let n = sys::returndata_copy(0, &mut buf);
    buf.truncate(n);
    buf
}

/// The whole input of the frame (for a template method: selector and
/// arguments), read into a new buffer.
pub fn input() -> Vec<u8> {
    sys::input()
}

/// Length of the most recent call's output.
pub fn returndata_size() -> usize {
    sys::returndata_size()
}

/// Copies the most recent call's output from `offset` into `buf`; returns
/// the number of bytes copied.
pub fn returndata_copy(offset: usize, buf: &mut [u8]) -> usize {
    sys::returndata_copy(offset, buf)
}

/// Stores `code` (an ELF file, at most 1 MiB) as a new template and
/// returns its address; `Err(status)` if the code does not load as an
/// Athena program or the host refused it.
pub fn deploy(code: &[u8]) -> Result<Address, u32> {
    sys::deploy(code)
}

/// The frame's [`Context`]: own address, caller, value, depth.
pub fn context() -> Context {
    sys::context()
}

/// The transaction's [`TxContext`]: origin, gas price, block data.
pub fn tx_context() -> TxContext {
    sys::tx_context()
}

/// The hash of block `height`, or zero if the host does not serve it.
pub fn block_hash(height: u64) -> Word {
    sys::block_hash(height)
}

/// Emits a log entry attributed to the own account: up to
/// [`MAX_LOG_TOPICS`] topics and up to [`MAX_LOG_DATA`] bytes of data.
/// Dropped if the frame does not succeed.
pub fn emit_log(topics: &[Word], data: &[u8]) {
    sys::emit_log(topics, data)
}

/// Length of the program's immutable state (`STATE_SIZE`).
pub fn state_size() -> usize {
    sys::state_size()
}

/// Copies the immutable state from `offset` into `buf` (`STATE_READ`);
/// returns the number of bytes copied (0 past the end).
pub fn state_read(offset: usize, buf: &mut [u8]) -> usize {
    sys::state_read(offset, buf)
}

/// SHA-256 of `data` (native precompile; at most 1 MiB).
pub fn sha256(data: &[u8]) -> Word {
    sys::sha256(data)
}

/// BLAKE3 of `data` (native precompile; at most 1 MiB).
pub fn blake3(data: &[u8]) -> Word {
    sys::blake3(data)
}

/// Whether `signature` is a valid (strict) Ed25519 signature of `message`
/// under `public_key` (native precompile; message at most 1 MiB).
pub fn ed25519_verify(message: &[u8], public_key: &[u8; 32], signature: &[u8; 64]) -> bool {
    sys::ed25519_verify(message, public_key, signature)
}

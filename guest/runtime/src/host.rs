//! Host functions: storage, balances, calls, spawn/deploy, context, logs,
//! return data and precompiles.
//!
//! These are the syscalls `athena-engine` serves from the node (numbers
//! `0x100` and up). The numbers, register conventions, bounds and gas are
//! normative in `docs/syscalls.md` and `docs/gas.md`; the numbers and
//! bounds come from the dependency-free `athena-abi` crate the engine uses
//! too, so the two sides cannot disagree.
//!
//! This module is the one guest-side copy of the host-function layer:
//! plain programs use it directly, and `athena-sdk` wraps it with its
//! typed API (`Address` newtype, SCALE) instead of issuing syscalls
//! itself. So the records ([`Context`], [`TxContext`]) are generic over
//! the address type, and off the VM targets every function here panics
//! (see the crate docs).
//!
//! Invalid arguments (a buffer in the guard page, a length over a bound)
//! never return an error here: the engine ends the whole frame with
//! `invalid_syscall_argument`. The safe wrappers only pass valid slices, so
//! they can only hit the length bounds, which each wrapper documents.

use alloc::vec::Vec;

/// Host-function syscall numbers, shared with the engine through the
/// `athena-abi` crate.
pub use athena_abi::number;

/// Largest return/revert data accepted by [`return_data`] and [`revert`].
pub const MAX_RETURN_DATA: usize = athena_abi::MAX_RETURN_DATA as usize;
/// Largest call input accepted by [`call`] (selector included, for a
/// method call).
pub const MAX_CALL_INPUT: usize = athena_abi::MAX_CALL_INPUT as usize;
/// Largest state blob accepted by [`spawn`].
pub const MAX_SPAWN_STATE: usize = athena_abi::MAX_SPAWN_STATE as usize;
/// Largest code accepted by [`deploy`].
pub const MAX_DEPLOY_CODE: usize = athena_abi::MAX_DEPLOY_CODE as usize;
/// Most topics of one log entry.
pub const MAX_LOG_TOPICS: usize = athena_abi::MAX_LOG_TOPICS as usize;
/// Largest log payload.
pub const MAX_LOG_DATA: usize = athena_abi::MAX_LOG_DATA as usize;
/// Largest input of the hash precompiles and of [`ed25519_verify`]'s
/// message.
pub const MAX_PRECOMPILE_INPUT: usize = athena_abi::MAX_PRECOMPILE_INPUT as usize;
/// `gas` argument of [`call`] meaning "as much as may be forwarded" (all
/// that is left but 1/64).
pub const GAS_ALL: u32 = athena_abi::CALL_GAS_ALL;

/// An account address (24 bytes).
pub type Address = [u8; 24];
/// A storage key or value, log topic or hash (32 bytes).
pub type Word = [u8; 32];

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

/// Raw host syscall with six arguments, returning `(a0, a1)`.
///
/// # Safety
///
/// The engine reads and writes the guest memory the arguments name; the
/// caller must make those ranges valid for that access.
#[cfg(all(target_arch = "riscv32", target_os = "none"))]
#[inline(always)]
pub unsafe fn syscall6(n: u32, args: [u32; 6]) -> (u32, u32) {
    let (a0, a1): (u32, u32);
    core::arch::asm!(
        "ecall",
        in("t0") n,
        inlateout("a0") args[0] => a0,
        inlateout("a1") args[1] => a1,
        in("a2") args[2],
        in("a3") args[3],
        in("a4") args[4],
        in("a5") args[5],
        options(nostack),
    );
    (a0, a1)
}

/// [`syscall6`] off the VM: panics, naming the host function
/// ([`unavailable`](crate::syscall::unavailable)).
///
/// # Safety
///
/// Always safe; `unsafe` only to match the VM signature.
#[cfg(not(all(target_arch = "riscv32", target_os = "none")))]
pub unsafe fn syscall6(n: u32, _args: [u32; 6]) -> (u32, u32) {
    crate::syscall::unavailable(n)
}

fn ptr<T>(p: *const T) -> u32 {
    p as u32
}

/// Runs `fill` on an uninitialised `N`-byte buffer that the syscall it
/// issues writes completely, and returns the buffer.
///
/// Used for outputs the engine always writes in full (or else ends the
/// frame): skipping the zero-initialisation saves a `memset` and a copy
/// per call, in code size and in gas.
///
/// # Safety
///
/// `fill` must issue a host function that writes all `N` bytes at the
/// pointer it is given.
#[inline(always)]
unsafe fn filled<const N: usize>(fill: impl FnOnce(u32)) -> [u8; N] {
    let mut out = core::mem::MaybeUninit::<[u8; N]>::uninit();
    fill(ptr(out.as_mut_ptr()));
    // SAFETY: the caller guarantees that the host wrote all N bytes.
    unsafe { out.assume_init() }
}

/// Ends the frame successfully with `data` as return data. Data longer
/// than [`MAX_RETURN_DATA`] ends the frame with `invalid_syscall_argument`.
pub fn return_data(data: &[u8]) -> ! {
    end(number::RETURN, data)
}

/// Ends the frame with status revert and `data` as revert data: the
/// frame's effects are undone, unused gas goes back to the caller.
pub fn revert(data: &[u8]) -> ! {
    end(number::REVERT, data)
}

fn end(n: u32, data: &[u8]) -> ! {
    // SAFETY: `data` is readable for its length.
    unsafe { syscall6(n, [ptr(data.as_ptr()), data.len() as u32, 0, 0, 0, 0]) };
    // The engine never resumes a frame after RETURN/REVERT; a host that did
    // would see a failure rather than the guest running on.
    crate::syscall::exit(1)
}

/// The own account's storage slot `key` (zero if never written).
pub fn storage_read(key: &Word) -> Word {
    // SAFETY: STORAGE_READ writes all 32 bytes at the out pointer (zero
    // for an absent slot) or ends the frame; `key` is readable.
    unsafe {
        filled(|out| {
            syscall6(number::STORAGE_READ, [ptr(key.as_ptr()), out, 0, 0, 0, 0]);
        })
    }
}

/// Reads the own account's storage slot `key` into `out`, which the host
/// overwrites entirely. Saves a copy over [`storage_read`] when the
/// destination already exists (e.g. a slot of a larger buffer).
pub fn storage_read_into(key: &Word, out: &mut Word) {
    // SAFETY: both buffers are valid for 32 bytes.
    unsafe { syscall6(number::STORAGE_READ, [ptr(key.as_ptr()), ptr(out.as_mut_ptr()), 0, 0, 0, 0]) };
}

/// How a [`storage_write`] changed the slot (the `StorageStatus` values).
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

/// Sets the own account's slot `key` to `value` (zero deletes it).
pub fn storage_write(key: &Word, value: &Word) -> StorageStatus {
    // SAFETY: both buffers are valid for 32 bytes.
    let (s, _) = unsafe { syscall6(number::STORAGE_WRITE, [ptr(key.as_ptr()), ptr(value.as_ptr()), 0, 0, 0, 0]) };
    match s {
        0 => StorageStatus::Unchanged,
        1 => StorageStatus::Added,
        2 => StorageStatus::Modified,
        _ => StorageStatus::Deleted,
    }
}

/// The balance of `address`, or of the own account for `None`.
pub fn balance(address: Option<&Address>) -> u64 {
    let p = address.map_or(0, |a| ptr(a.as_ptr()));
    // SAFETY: `p` is 0 (own account) or a valid 24-byte address.
    let (lo, hi) = unsafe { syscall6(number::GET_BALANCE, [p, 0, 0, 0, 0, 0]) };
    u64::from(lo) | (u64::from(hi) << 32)
}

/// What a [`call`] returned.
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

    /// The revert message, if the callee reverted with UTF-8 data (as SDK
    /// templates do: `revert`, panics, ABI errors).
    pub fn revert_message(&self) -> Option<&str> {
        if self.status != status::REVERT {
            return None;
        }
        core::str::from_utf8(&self.output).ok()
    }
}

/// Calls `address` with `input`, transferring `value` and offering at most
/// `gas` ([`GAS_ALL`] for as much as may be forwarded: all but 1/64 of what
/// is left). A failing callee's effects are undone and this frame
/// continues. Input longer than [`MAX_CALL_INPUT`] ends this frame with
/// `invalid_syscall_argument`.
pub fn call(address: &Address, input: &[u8], value: u64, gas: u32) -> CallResult {
    let args =
        [ptr(address.as_ptr()), ptr(input.as_ptr()), input.len() as u32, value as u32, (value >> 32) as u32, gas];
    // SAFETY: the address and input are readable for their lengths.
    let (status, len) = unsafe { syscall6(number::CALL, args) };
    let mut output = alloc::vec![0u8; len as usize];
    returndata_copy(0, &mut output);
    CallResult { status, output }
}

/// Length of the most recent call's output.
pub fn returndata_size() -> usize {
    // SAFETY: touches no memory.
    unsafe { syscall6(number::RETURNDATA_SIZE, [0; 6]).0 as usize }
}

/// Copies the most recent call's output from `offset` into `buf`; returns
/// the number of bytes copied.
pub fn returndata_copy(offset: usize, buf: &mut [u8]) -> usize {
    copy_out(number::RETURNDATA_COPY, offset, buf)
}

/// The most recent call's output, copied into a new buffer.
pub fn returndata() -> Vec<u8> {
    read_all(returndata_size(), returndata_copy)
}

/// Issues `n`, a host function that copies from `offset` of some host
/// buffer into `buf` (`RETURNDATA_COPY`, `STATE_READ`: same registers),
/// and returns what it reports as copied; nothing for an empty `buf`.
fn copy_out(n: u32, offset: usize, buf: &mut [u8]) -> usize {
    if buf.is_empty() {
        return 0;
    }
    // SAFETY: the engine writes at most `buf.len()` bytes into `buf`.
    let (copied, _) = unsafe { syscall6(n, [ptr(buf.as_mut_ptr()), offset as u32, buf.len() as u32, 0, 0, 0]) };
    copied as usize
}

/// A host buffer of `size` bytes read whole through `copy` (one of the
/// `*_copy`/`*_read` wrappers), trimmed to what was copied.
fn read_all(size: usize, copy: fn(usize, &mut [u8]) -> usize) -> Vec<u8> {
    let mut buf = alloc::vec![0u8; size];
    let n = copy(0, &mut buf);
    buf.truncate(n);
    buf
}

/// Creates an instance of `template` with the immutable `state` blob;
/// `Err(status)` if the host refused (e.g. unknown template).
pub fn spawn(template: &Address, state: &[u8]) -> Result<Address, u32> {
    let mut out = [0u8; 24];
    let args = [ptr(template.as_ptr()), ptr(state.as_ptr()), state.len() as u32, ptr(out.as_mut_ptr()), 0, 0];
    // SAFETY: inputs readable, `out` writable for 24 bytes.
    match unsafe { syscall6(number::SPAWN, args) } {
        (0, _) => Ok(out),
        (s, _) => Err(s),
    }
}

/// Stores `code` (an ELF file) as a new template and returns its address;
/// `Err(status)` if the code does not load or the host refused it.
pub fn deploy(code: &[u8]) -> Result<Address, u32> {
    let mut out = [0u8; 24];
    // SAFETY: `code` readable, `out` writable for 24 bytes.
    match unsafe { syscall6(number::DEPLOY, [ptr(code.as_ptr()), code.len() as u32, ptr(out.as_mut_ptr()), 0, 0, 0]) } {
        (0, _) => Ok(out),
        (s, _) => Err(s),
    }
}

/// The frame's context (`GET_CONTEXT`), with addresses of type `A`:
/// [`Address`] here, `athena_sdk::Address` in the SDK.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Context<A = Address> {
    /// The own account (the program running).
    pub address: A,
    /// The immediate caller.
    pub caller: A,
    /// The caller's template, if the host reported one.
    pub caller_template: Option<A>,
    /// Value received with this call.
    pub value: u64,
    /// Call depth (0 for the transaction's top frame).
    pub depth: u32,
}

impl<A> Context<A> {
    /// The same record with every address converted by `f`.
    pub fn map_addresses<B>(self, mut f: impl FnMut(A) -> B) -> Context<B> {
        Context {
            address: f(self.address),
            caller: f(self.caller),
            caller_template: self.caller_template.map(f),
            value: self.value,
            depth: self.depth,
        }
    }
}

/// Size of the raw `GET_CONTEXT` record.
pub const CONTEXT_LEN: usize = athena_abi::context::LEN;

/// The raw `GET_CONTEXT` record (layout: `athena_abi::context`), for
/// callers that need one field and not a whole [`Context`].
pub fn context_raw() -> [u8; CONTEXT_LEN] {
    // SAFETY: GET_CONTEXT writes the whole record or ends the frame.
    unsafe {
        filled(|out| {
            syscall6(number::GET_CONTEXT, [out, 0, 0, 0, 0, 0]);
        })
    }
}

/// Reads the frame's [`Context`].
pub fn context() -> Context {
    use athena_abi::context as at;
    const ADDRESS: usize = athena_abi::ADDRESS_LEN as usize;
    let raw = context_raw();
    let address = |at: usize| -> Address { raw[at..at + ADDRESS].try_into().unwrap_or([0; ADDRESS]) };
    let template = address(at::CALLER_TEMPLATE);
    Context {
        address: address(at::ADDRESS),
        caller: address(at::CALLER),
        caller_template: if template == [0; ADDRESS] { None } else { Some(template) },
        value: u64::from_le_bytes(raw[at::VALUE..at::VALUE + 8].try_into().unwrap_or([0; 8])),
        depth: u32::from_le_bytes(raw[at::DEPTH..at::DEPTH + 4].try_into().unwrap_or([0; 4])),
    }
}

/// The immediate caller: one field of the context record, without
/// decoding the rest.
pub fn caller() -> Address {
    use athena_abi::context::CALLER;
    let raw = context_raw();
    raw[CALLER..CALLER + 24].try_into().unwrap_or([0; 24])
}

/// The transaction's context (`GET_TX_CONTEXT`), with the origin's
/// address of type `A` (as [`Context`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxContext<A = Address> {
    /// Price of one unit of gas.
    pub gas_price: u64,
    /// The account that signed the transaction.
    pub origin: A,
    /// Height of the block being executed.
    pub block_height: u64,
    /// Timestamp of the block being executed.
    pub block_timestamp: u64,
    /// Gas limit of the block.
    pub block_gas_limit: u64,
    /// The chain's identifier.
    pub chain_id: Word,
}

impl<A> TxContext<A> {
    /// The same record with the origin converted by `f`.
    pub fn map_addresses<B>(self, f: impl FnOnce(A) -> B) -> TxContext<B> {
        TxContext {
            gas_price: self.gas_price,
            origin: f(self.origin),
            block_height: self.block_height,
            block_timestamp: self.block_timestamp,
            block_gas_limit: self.block_gas_limit,
            chain_id: self.chain_id,
        }
    }
}

/// Reads the transaction's [`TxContext`].
pub fn tx_context() -> TxContext {
    use athena_abi::tx_context as at;
    // SAFETY: GET_TX_CONTEXT writes the whole record or ends the frame.
    let raw: [u8; at::LEN] = unsafe {
        filled(|out| {
            syscall6(number::GET_TX_CONTEXT, [out, 0, 0, 0, 0, 0]);
        })
    };
    let u64_at = |at: usize| u64::from_le_bytes(raw[at..at + 8].try_into().unwrap_or([0; 8]));
    TxContext {
        gas_price: u64_at(at::GAS_PRICE),
        origin: raw[at::ORIGIN..at::ORIGIN + 24].try_into().unwrap_or([0; 24]),
        block_height: u64_at(at::BLOCK_HEIGHT),
        block_timestamp: u64_at(at::BLOCK_TIMESTAMP),
        block_gas_limit: u64_at(at::BLOCK_GAS_LIMIT),
        chain_id: raw[at::CHAIN_ID..at::CHAIN_ID + 32].try_into().unwrap_or([0; 32]),
    }
}

/// The hash of block `height`, or zero if the host does not serve it.
pub fn block_hash(height: u64) -> Word {
    // SAFETY: GET_BLOCK_HASH writes all 32 bytes (zero for an unknown
    // height) or ends the frame.
    unsafe {
        filled(|out| {
            syscall6(number::GET_BLOCK_HASH, [height as u32, (height >> 32) as u32, out, 0, 0, 0]);
        })
    }
}

/// Length of the own program's immutable state (the blob it was spawned
/// with; 0 for an account without one).
pub fn state_size() -> usize {
    // SAFETY: touches no memory.
    unsafe { syscall6(number::STATE_SIZE, [0; 6]).0 as usize }
}

/// Copies the own immutable state from `offset` into `buf`; returns the
/// number of bytes copied (`min(buf.len(), size - offset)`, 0 past the end).
pub fn state_read(offset: usize, buf: &mut [u8]) -> usize {
    copy_out(number::STATE_READ, offset, buf).min(buf.len())
}

/// The own immutable state, read into a heap buffer.
pub fn state() -> Vec<u8> {
    read_all(state_size(), state_read)
}

/// Emits a log entry with up to [`MAX_LOG_TOPICS`] topics and up to
/// [`MAX_LOG_DATA`] bytes of data (more ends the frame).
pub fn emit_log(topics: &[Word], data: &[u8]) {
    let args = [ptr(topics.as_ptr()), topics.len() as u32, ptr(data.as_ptr()), data.len() as u32, 0, 0];
    // SAFETY: topics and data are readable for their lengths.
    unsafe { syscall6(number::EMIT_LOG, args) };
}

fn digest(n: u32, data: &[u8]) -> Word {
    // SAFETY: `data` is readable; the hash precompiles write all 32 bytes
    // of the digest or end the frame.
    unsafe {
        filled(|out| {
            syscall6(n, [ptr(data.as_ptr()), data.len() as u32, out, 0, 0, 0]);
        })
    }
}

/// SHA-256 of `data` (native precompile; at most 1 MiB).
pub fn sha256(data: &[u8]) -> Word {
    digest(number::SHA256, data)
}

/// BLAKE3 of `data` (native precompile; at most 1 MiB).
pub fn blake3(data: &[u8]) -> Word {
    digest(number::BLAKE3, data)
}

/// Whether `signature` is a valid (strict) Ed25519 signature of `message`
/// under `public_key` (native precompile; message at most 1 MiB).
pub fn ed25519_verify(message: &[u8], public_key: &[u8; 32], signature: &[u8; 64]) -> bool {
    let args = [ptr(message.as_ptr()), message.len() as u32, ptr(public_key.as_ptr()), ptr(signature.as_ptr()), 0, 0];
    // SAFETY: all three buffers are readable for their lengths.
    unsafe { syscall6(number::ED25519_VERIFY, args).0 == 1 }
}

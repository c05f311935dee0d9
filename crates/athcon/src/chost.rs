//! The VM side of the host interface: a C `athcon_host_interface` plus its
//! context pointer, presented to the engine as an `athena_interface::Host`.

use crate::ffi::*;
use athena_interface::{Address, Bytes32, ExecutionResult, Host, Message, StatusCode, StorageStatus, TxContext};

/// Every callback of a complete `athcon_host_interface`, unwrapped.
#[derive(Clone, Copy)]
struct Callbacks {
    account_exists: unsafe extern "C" fn(*mut athcon_host_context, *const athcon_address) -> bool,
    get_storage:
        unsafe extern "C" fn(*mut athcon_host_context, *const athcon_address, *const athcon_bytes32) -> athcon_bytes32,
    set_storage: unsafe extern "C" fn(
        *mut athcon_host_context,
        *const athcon_address,
        *const athcon_bytes32,
        *const athcon_bytes32,
    ) -> u32,
    get_balance: unsafe extern "C" fn(*mut athcon_host_context, *const athcon_address) -> u64,
    call: unsafe extern "C" fn(*mut athcon_host_context, *const athcon_message) -> athcon_result,
    get_state: unsafe extern "C" fn(*mut athcon_host_context, *const athcon_address, *mut u8, usize) -> usize,
    deploy: unsafe extern "C" fn(*mut athcon_host_context, *const u8, usize, *mut athcon_address) -> i32,
    get_tx_context: unsafe extern "C" fn(*mut athcon_host_context) -> athcon_tx_context,
    get_block_hash: unsafe extern "C" fn(*mut athcon_host_context, u64) -> athcon_bytes32,
    emit_log: unsafe extern "C" fn(
        *mut athcon_host_context,
        *const athcon_address,
        *const athcon_bytes32,
        usize,
        *const u8,
        usize,
    ),
}

/// A C host seen as a Rust [`Host`].
///
/// Invariant (established by [`CHost::new`]'s caller): `context` is the
/// pointer the host passed to `execute` and the callbacks are the host's, so
/// calling any callback with `context` and pointers to live locals is what
/// the ABI allows for the duration of that `execute` call, which outlives
/// this value.
pub(crate) struct CHost {
    callbacks: Callbacks,
    context: *mut athcon_host_context,
}

impl CHost {
    /// `None` if any callback is missing.
    ///
    /// # Safety
    /// Every callback in `host` must be a function that follows the
    /// `athcon.h` contract for `context`, and both must stay valid while the
    /// returned value is used (i.e. for the `execute` call that received them).
    pub(crate) unsafe fn new(host: &athcon_host_interface, context: *mut athcon_host_context) -> Option<Self> {
        let callbacks = Callbacks {
            account_exists: host.account_exists?,
            get_storage: host.get_storage?,
            set_storage: host.set_storage?,
            get_balance: host.get_balance?,
            call: host.call?,
            get_state: host.get_state?,
            deploy: host.deploy?,
            get_tx_context: host.get_tx_context?,
            get_block_hash: host.get_block_hash?,
            emit_log: host.emit_log?,
        };
        Some(Self { callbacks, context })
    }
}

/// Copies a host-owned result into an [`ExecutionResult`] and releases it.
///
/// Host contract violations become `internal_error`: an unknown status
/// code, or `output_data == NULL` with a non-zero `output_size`. A
/// `gas_left` larger than the gas the frame was given is clamped to it, so
/// a buggy host cannot mint gas.
///
/// # Safety
/// `result` must come from an athcon function that returned it to us: its
/// `output_data` (when non-null) points to `output_size` readable bytes and
/// `release` (when non-null) may be called once with it.
pub(crate) unsafe fn take_foreign_result(result: athcon_result, gas_given: u64) -> ExecutionResult {
    let status = StatusCode::from_i32(result.status_code);
    let output = if result.output_size == 0 {
        Some(Vec::new())
    } else if result.output_data.is_null() {
        None
    } else {
        // SAFETY: per this function's contract the creator guarantees
        // `output_size` readable bytes at a non-null `output_data` until
        // `release` is called below; we copy them out first.
        Some(unsafe { std::slice::from_raw_parts(result.output_data, result.output_size) }.to_vec())
    };
    if let Some(release) = result.release {
        // SAFETY: the receiver of a result must call its release function
        // exactly once with the unchanged result; we never use it again.
        unsafe { release(&result) };
    }
    match (status, output) {
        (Some(status), Some(output)) => ExecutionResult::new(status, result.gas_left.min(gas_given), output),
        _ => ExecutionResult::failure(StatusCode::InternalError),
    }
}

impl Host for CHost {
    fn account_exists(&self, address: &Address) -> bool {
        let address = athcon_address::from(*address);
        // SAFETY: struct invariant; `address` is a live local.
        unsafe { (self.callbacks.account_exists)(self.context, &address) }
    }

    fn get_storage(&self, address: &Address, key: &Bytes32) -> Bytes32 {
        let (address, key) = (athcon_address::from(*address), athcon_bytes32::from(*key));
        // SAFETY: struct invariant; arguments are live locals.
        unsafe { (self.callbacks.get_storage)(self.context, &address, &key) }.into()
    }

    fn set_storage(&mut self, address: &Address, key: &Bytes32, value: &Bytes32) -> StorageStatus {
        let (a, k, v) = (athcon_address::from(*address), athcon_bytes32::from(*key), athcon_bytes32::from(*value));
        // SAFETY: struct invariant; arguments are live locals.
        let raw = unsafe { (self.callbacks.set_storage)(self.context, &a, &k, &v) };
        // An unknown classification is a host bug. Charge the most
        // expensive class rather than trusting garbage (docs/athcon.md).
        StorageStatus::from_u32(raw).unwrap_or(StorageStatus::Added)
    }

    fn get_balance(&self, address: &Address) -> u64 {
        let address = athcon_address::from(*address);
        // SAFETY: struct invariant; `address` is a live local.
        unsafe { (self.callbacks.get_balance)(self.context, &address) }
    }

    fn call(&mut self, msg: Message) -> ExecutionResult {
        let raw = athcon_message::borrowing(&msg);
        // SAFETY: struct invariant; `raw` and the input it points to
        // (`msg.input`) live until the callback returns.
        let result = unsafe { (self.callbacks.call)(self.context, &raw) };
        // SAFETY: the host's call callback returns a result it created,
        // which per the ABI we now own and must release.
        unsafe { take_foreign_result(result, msg.gas) }
    }

    /// One callback with a buffer of `ATHCON_MAX_STATE_SIZE` bytes (states
    /// are never longer). A host that reports a longer state breaks the
    /// contract: the engine is handed a blob one byte over the bound, which
    /// it turns into `internal_error`, without allocating what a broken
    /// length might claim.
    fn get_state(&self, address: &Address) -> Vec<u8> {
        let address = athcon_address::from(*address);
        let mut out = vec![0u8; ATHCON_MAX_STATE_SIZE];
        // SAFETY: struct invariant; `address` is a live local and `out` is
        // writable for the capacity passed.
        let len = unsafe { (self.callbacks.get_state)(self.context, &address, out.as_mut_ptr(), out.len()) };
        out.resize(len.min(ATHCON_MAX_STATE_SIZE + 1), 0);
        out
    }

    fn deploy(&mut self, code: &[u8]) -> Result<Address, StatusCode> {
        let mut out = athcon_address::default();
        let data = if code.is_empty() { std::ptr::null() } else { code.as_ptr() };
        // SAFETY: struct invariant; `code` and `out` are live for the call.
        let status = unsafe { (self.callbacks.deploy)(self.context, data, code.len(), &mut out) };
        status_to_result(status, out)
    }

    fn get_tx_context(&self) -> TxContext {
        // SAFETY: struct invariant.
        unsafe { (self.callbacks.get_tx_context)(self.context) }.into()
    }

    fn get_block_hash(&self, height: u64) -> Bytes32 {
        // SAFETY: struct invariant.
        unsafe { (self.callbacks.get_block_hash)(self.context, height) }.into()
    }

    fn emit_log(&mut self, address: &Address, topics: &[Bytes32], data: &[u8]) {
        let address = athcon_address::from(*address);
        let topics: Vec<athcon_bytes32> = topics.iter().map(|t| (*t).into()).collect();
        let topics_ptr = if topics.is_empty() { std::ptr::null() } else { topics.as_ptr() };
        let data_ptr = if data.is_empty() { std::ptr::null() } else { data.as_ptr() };
        // SAFETY: struct invariant; all pointers are to live locals/borrows
        // with the lengths passed alongside.
        unsafe { (self.callbacks.emit_log)(self.context, &address, topics_ptr, topics.len(), data_ptr, data.len()) }
    }
}

/// Deploy's return convention: `success` means the address was written.
/// Any other known code is the error; an unknown code is `internal_error`,
/// and so is `success` with the all-zero address (never a valid account).
fn status_to_result(status: i32, address: athcon_address) -> Result<Address, StatusCode> {
    match StatusCode::from_i32(status) {
        Some(StatusCode::Success) if address.bytes != [0; 24] => Ok(address.into()),
        Some(StatusCode::Success) | None => Err(StatusCode::InternalError),
        Some(other) => Err(other),
    }
}

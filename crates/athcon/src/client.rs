//! The host side, in Rust: load any athcon VM library, and drive a VM with
//! a Rust [`Host`] through the C ABI.
//!
//! This is what `athcon-vmtester` and the Rust tests use, so that they need
//! no `unsafe` of their own: every raw call lives here.

use crate::ffi::*;
use athena_interface::{Address, Bytes32, ExecutionResult, Host, Message, MessageKind, StatusCode};
use std::any::Any;
use std::ffi::CStr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::ptr::NonNull;
use std::sync::Arc;

/// Why a VM could not be loaded or created.
#[derive(Debug)]
pub enum LoadError {
    /// `dlopen` failed.
    Open(libloading::Error),
    /// Neither `athcon_create_<name>` nor `athcon_create` is exported.
    NoCreateFunction {
        /// The name-derived symbol that was tried first.
        tried: String,
    },
    /// The create function returned null.
    CreateFailed,
    /// The instance reports another ABI version; it was destroyed.
    AbiMismatch {
        /// What the VM reported.
        found: u32,
    },
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Open(e) => write!(f, "cannot open library: {e}"),
            LoadError::NoCreateFunction { tried } => write!(f, "library exports neither {tried} nor athcon_create"),
            LoadError::CreateFailed => write!(f, "the create function returned NULL"),
            LoadError::AbiMismatch { found } => {
                write!(f, "ABI version mismatch: VM has {found}, host expects {ATHCON_ABI_VERSION}")
            }
        }
    }
}

impl std::error::Error for LoadError {}

/// The athcon library cargo built together with the running executable, for
/// tests and tools that drive "this build's" library: `ATHCON_LIB` if set,
/// else `libathcon.so` (platform naming) in the executable's directory or its
/// parent (cargo puts test executables in `deps/`, next to the cdylib of the
/// package under test and of its dependencies).
pub fn built_cdylib() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("ATHCON_LIB") {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe().map_err(|e| format!("executable path: {e}"))?;
    let deps = exe.parent().ok_or("the executable has no directory")?;
    let name = format!("{}athcon{}", std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX);
    [deps, deps.parent().unwrap_or(deps)].iter().map(|dir| dir.join(&name)).find(|path| path.is_file()).ok_or_else(
        || format!("{name} not found next to {} (build the athcon crate, or set ATHCON_LIB)", exe.display()),
    )
}

/// The loader rule of docs/athcon.md: base name, leading `lib` dropped, cut
/// at the first `.`, `-` → `_`, prefixed with `athcon_create_`.
/// `libathena-vm.so.1` → `athcon_create_athena_vm`.
pub fn create_symbol_name(path: &Path) -> String {
    let base = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let base = base.strip_prefix("lib").unwrap_or(&base);
    let name = base.split('.').next().unwrap_or_default().replace('-', "_");
    format!("athcon_create_{name}")
}

/// An opened athcon library.
pub struct Library {
    lib: Arc<libloading::Library>,
    create: athcon_create_fn,
    symbol: String,
}

impl Library {
    /// Opens `path` and resolves its create function by the loader rule.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, LoadError> {
        let path = path.as_ref();
        // SAFETY: loading a library runs its initialisers; loading an
        // athcon VM is exactly what the caller asked for.
        let lib = unsafe { libloading::Library::new(path) }.map_err(LoadError::Open)?;
        let tried = create_symbol_name(path);
        let mut found = None;
        for symbol in [tried.as_str(), "athcon_create"] {
            // SAFETY: athcon.h fixes the type of every athcon_create*
            // symbol as `struct athcon_vm* (void)`.
            if let Ok(f) = unsafe { lib.get::<athcon_create_fn>(symbol.as_bytes()) } {
                found = Some((*f, symbol.to_owned()));
                break;
            }
        }
        let (create, symbol) = found.ok_or(LoadError::NoCreateFunction { tried })?;
        Ok(Self { lib: Arc::new(lib), create, symbol })
    }

    /// The symbol the create function was found under.
    pub fn create_symbol(&self) -> &str {
        &self.symbol
    }

    /// A new VM instance, after checking its ABI version (a mismatching
    /// instance is destroyed if it has a destroy function).
    pub fn create(&self) -> Result<Vm, LoadError> {
        // SAFETY: `create` has the athcon_create signature (see `load`).
        let raw = unsafe { (self.create)() };
        // SAFETY: the library stays loaded: the Vm keeps an Arc to it.
        unsafe { Vm::from_raw(raw, Some(self.lib.clone())) }
    }
}

/// An owned VM instance; destroyed on drop.
pub struct Vm {
    raw: NonNull<athcon_vm>,
    // Keeps the library mapped while the instance (and its code) is used.
    // Declared after `raw` is irrelevant: Drop for Vm destroys first.
    _lib: Option<Arc<libloading::Library>>,
}

// SAFETY: athcon.h allows `execute` to be called concurrently on one
// instance from any thread; `set_option` and `destroy` need exclusive
// access, which `&mut self` / `Drop` provide.
unsafe impl Send for Vm {}
// SAFETY: see `Send`; only `execute` and read-only accessors take `&self`.
unsafe impl Sync for Vm {}

impl Vm {
    /// The Athena VM of this crate, without loading a library.
    pub fn athena() -> Self {
        // SAFETY: our own create function; the code is linked in.
        unsafe { Self::from_raw(crate::vm::athcon_create_athenavm(), None) }.expect("the Athena VM can be created")
    }

    /// # Safety
    /// `raw` must be null or a fresh instance from an athcon create
    /// function whose code stays mapped while the `Vm` lives (`lib`).
    unsafe fn from_raw(raw: *mut athcon_vm, lib: Option<Arc<libloading::Library>>) -> Result<Self, LoadError> {
        let raw = NonNull::new(raw).ok_or(LoadError::CreateFailed)?;
        // SAFETY: a non-null instance's head is readable (athcon.h).
        let version = unsafe { raw.as_ref() }.abi_version;
        let vm = Self { raw, _lib: lib };
        if version != ATHCON_ABI_VERSION {
            // Dropping calls destroy (if any) on the instance.
            return Err(LoadError::AbiMismatch { found: version });
        }
        Ok(vm)
    }

    fn head(&self) -> &athcon_vm {
        // SAFETY: `raw` is a live instance until drop.
        unsafe { self.raw.as_ref() }
    }

    /// `abi_version`.
    pub fn abi_version(&self) -> u32 {
        self.head().abi_version
    }

    fn c_str(ptr: *const std::ffi::c_char) -> Option<String> {
        // SAFETY: athcon.h: name/version are null or NUL-terminated static
        // strings.
        (!ptr.is_null()).then(|| unsafe { CStr::from_ptr(ptr) }.to_string_lossy().into_owned())
    }

    /// `name`, or `None` if null.
    pub fn name(&self) -> Option<String> {
        Self::c_str(self.head().name)
    }

    /// `version`, or `None` if null.
    pub fn version(&self) -> Option<String> {
        Self::c_str(self.head().version)
    }

    /// Whether the instance has all mandatory functions.
    pub fn has_mandatory_functions(&self) -> bool {
        let h = self.head();
        h.destroy.is_some() && h.execute.is_some() && h.get_capabilities.is_some()
    }

    /// `get_capabilities`, or `None` if the function is missing.
    pub fn capabilities(&self) -> Option<u32> {
        let f = self.head().get_capabilities?;
        // SAFETY: live instance, function from its own table.
        Some(unsafe { f(self.raw.as_ptr()) })
    }

    /// `set_option` (an `enum athcon_set_option_result`), or `None` if the
    /// VM has no options (null function). Interior NULs → `ERROR`.
    pub fn set_option(&mut self, name: &str, value: &str) -> Option<i32> {
        let f = self.head().set_option?;
        let (Ok(name), Ok(value)) = (std::ffi::CString::new(name), std::ffi::CString::new(value)) else {
            return Some(set_option::ERROR);
        };
        // SAFETY: live instance, exclusive access, valid C strings.
        Some(unsafe { f(self.raw.as_ptr(), name.as_ptr(), value.as_ptr()) })
    }

    /// Executes `msg` with `host`. Results with an unknown status code
    /// become `internal_error`; the VM's result is always released.
    pub fn execute(&self, host: &mut dyn Host, revision: u32, msg: &Message, code: &[u8]) -> ExecutionResult {
        let raw = self.execute_raw(RawExecute {
            host: Some(host),
            message: Some(msg),
            code: Some(code),
            revision,
            ..RawExecute::default()
        });
        ExecutionResult::new(
            StatusCode::from_i32(raw.status_code).unwrap_or(StatusCode::InternalError),
            raw.gas_left,
            raw.output,
        )
    }

    /// Executes with any combination of null arguments, for conformance
    /// checks. A panic of `host` inside a callback is carried back here
    /// and resumed after the VM returns.
    pub fn execute_raw(&self, args: RawExecute<'_>) -> RawResult {
        let execute = self.head().execute.expect("execute is mandatory");
        let mut bridge = args.host.map(|host| Bridge { host, panic: None });
        let (iface, context): (*const athcon_host_interface, *mut athcon_host_context) = match bridge.as_mut() {
            Some(b) => (&BRIDGE_INTERFACE, (b as *mut Bridge<'_>).cast()),
            None => (std::ptr::null(), std::ptr::null_mut()),
        };
        let msg = args.message.map(|m| athcon_message {
            input_data: if args.null_input { std::ptr::null() } else { m.input.as_ptr() },
            ..athcon_message::borrowing(m)
        });
        let msg_ptr = msg.as_ref().map_or(std::ptr::null(), |m| m as *const athcon_message);
        let (code_ptr, code_size) = match args.code {
            Some(c) => (c.as_ptr(), c.len()),
            None => (std::ptr::null(), 0),
        };
        let vm = if args.null_vm { std::ptr::null_mut() } else { self.raw.as_ptr() };
        // SAFETY: every non-null pointer is to a live local or borrow for
        // the call; `context` points to `bridge`, which no Rust reference
        // touches until the call returns (callbacks re-borrow it).
        let result = unsafe { execute(vm, iface, context, args.revision, msg_ptr, code_ptr, code_size) };
        let had_release = result.release.is_some();
        let (status_code, gas_left) = (result.status_code, result.gas_left);
        let output_missing = result.output_size != 0 && result.output_data.is_null();
        // SAFETY: the VM returned this result to us; we own and release it.
        let copied = unsafe { crate::chost::take_foreign_result(result, u64::MAX) };
        if let Some(payload) = bridge.and_then(|b| b.panic) {
            std::panic::resume_unwind(payload);
        }
        RawResult { status_code, gas_left, output: copied.output, had_release, output_missing }
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        if let Some(destroy) = self.head().destroy {
            // SAFETY: we own the instance; nothing else uses it after drop.
            unsafe { destroy(self.raw.as_ptr()) }
        }
    }
}

/// Arguments of [`Vm::execute_raw`]; `None` means a null pointer.
#[derive(Default)]
pub struct RawExecute<'a> {
    /// The host (null host interface and context if `None`).
    pub host: Option<&'a mut dyn Host>,
    /// `revision` as a raw number.
    pub revision: u32,
    /// The message.
    pub message: Option<&'a Message>,
    /// The code.
    pub code: Option<&'a [u8]>,
    /// Pass `input_data = NULL` with the message's real `input_size`.
    pub null_input: bool,
    /// Pass `vm = NULL` to the instance's own execute function.
    pub null_vm: bool,
}

/// A VM's result, copied and released.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawResult {
    /// Raw `status_code`.
    pub status_code: i32,
    /// Raw `gas_left`.
    pub gas_left: u64,
    /// Copy of the output.
    pub output: Vec<u8>,
    /// Whether the result carried a release function.
    pub had_release: bool,
    /// Whether `output_data` was null with a non-zero size (an ABI violation).
    pub output_missing: bool,
}

/// The context behind [`BRIDGE_INTERFACE`]'s callbacks.
struct Bridge<'h> {
    host: &'h mut dyn Host,
    panic: Option<Box<dyn Any + Send>>,
}

/// Runs `f` on the bridge behind `context`, catching a host panic (kept
/// for `execute_raw` to resume) and returning `fallback` instead.
///
/// # Safety
/// `context` must be the `Bridge` passed to execute by `execute_raw`, with
/// no other live reference to it (the VM calls back sequentially).
unsafe fn with_bridge<T>(context: *mut athcon_host_context, fallback: T, f: impl FnOnce(&mut dyn Host) -> T) -> T {
    // SAFETY: per the contract.
    let bridge = unsafe { &mut *context.cast::<Bridge<'_>>() };
    if bridge.panic.is_some() {
        return fallback;
    }
    match catch_unwind(AssertUnwindSafe(|| f(&mut *bridge.host))) {
        Ok(v) => v,
        Err(payload) => {
            bridge.panic = Some(payload);
            fallback
        }
    }
}

/// # Safety
/// `p` must point to a readable `T`.
unsafe fn read<T: Copy>(p: *const T) -> T {
    // SAFETY: per the contract (the VM passes pointers to live values).
    unsafe { *p }
}

/// # Safety
/// `data` must point to `size` readable bytes when non-null.
unsafe fn bytes<'a>(data: *const u8, size: usize) -> &'a [u8] {
    if data.is_null() || size == 0 {
        &[]
    } else {
        // SAFETY: per the contract.
        unsafe { std::slice::from_raw_parts(data, size) }
    }
}

unsafe extern "C" fn b_account_exists(c: *mut athcon_host_context, a: *const athcon_address) -> bool {
    // SAFETY: called by the VM with our context and a valid address.
    unsafe { with_bridge(c, false, |h| h.account_exists(&read(a).into())) }
}

unsafe extern "C" fn b_get_storage(
    c: *mut athcon_host_context,
    a: *const athcon_address,
    k: *const athcon_bytes32,
) -> athcon_bytes32 {
    // SAFETY: as above.
    unsafe { with_bridge(c, Bytes32::ZERO, |h| h.get_storage(&read(a).into(), &read(k).into())) }.into()
}

unsafe extern "C" fn b_set_storage(
    c: *mut athcon_host_context,
    a: *const athcon_address,
    k: *const athcon_bytes32,
    v: *const athcon_bytes32,
) -> u32 {
    // SAFETY: as above.
    unsafe { with_bridge(c, 0, |h| h.set_storage(&read(a).into(), &read(k).into(), &read(v).into()) as u32) }
}

unsafe extern "C" fn b_get_balance(c: *mut athcon_host_context, a: *const athcon_address) -> u64 {
    // SAFETY: as above.
    unsafe { with_bridge(c, 0, |h| h.get_balance(&read(a).into())) }
}

unsafe extern "C" fn b_call(c: *mut athcon_host_context, m: *const athcon_message) -> athcon_result {
    // SAFETY: the VM passes a valid message whose input is readable.
    let msg = unsafe {
        let m = read(m);
        m.to_message(MessageKind::from_u32(m.kind).unwrap_or_default(), bytes(m.input_data, m.input_size).to_vec())
    };
    let fallback = ExecutionResult::failure(StatusCode::InternalError);
    // SAFETY: our context.
    crate::vm::into_c_result(unsafe { with_bridge(c, fallback, |h| h.call(msg)) })
}

fn address_status(r: Result<Address, StatusCode>, out: *mut athcon_address) -> i32 {
    match r {
        Ok(a) => {
            // SAFETY: the VM passes a writable out pointer.
            unsafe { *out = a.into() };
            0
        }
        Err(s) => s.as_i32(),
    }
}

unsafe extern "C" fn b_get_state(
    c: *mut athcon_host_context,
    a: *const athcon_address,
    out: *mut u8,
    capacity: usize,
) -> usize {
    // SAFETY: called by the VM with our context and a valid address.
    let state = unsafe { with_bridge(c, Vec::new(), |h| h.get_state(&read(a).into())) };
    let n = state.len().min(capacity);
    if n > 0 && !out.is_null() {
        // SAFETY: the VM passes `capacity` writable bytes at `out`; `n` is
        // at most that, and the source is our own vector.
        unsafe { std::ptr::copy_nonoverlapping(state.as_ptr(), out, n) };
    }
    state.len()
}

unsafe extern "C" fn b_deploy(c: *mut athcon_host_context, code: *const u8, n: usize, out: *mut athcon_address) -> i32 {
    // SAFETY: as above.
    let r = unsafe { with_bridge(c, Err(StatusCode::InternalError), |h| h.deploy(bytes(code, n))) };
    address_status(r, out)
}

unsafe extern "C" fn b_get_tx_context(c: *mut athcon_host_context) -> athcon_tx_context {
    // SAFETY: our context.
    unsafe { with_bridge(c, Default::default(), |h| h.get_tx_context()) }.into()
}

unsafe extern "C" fn b_get_block_hash(c: *mut athcon_host_context, height: u64) -> athcon_bytes32 {
    // SAFETY: our context.
    unsafe { with_bridge(c, Bytes32::ZERO, |h| h.get_block_hash(height)) }.into()
}

unsafe extern "C" fn b_emit_log(
    c: *mut athcon_host_context,
    a: *const athcon_address,
    topics: *const athcon_bytes32,
    topics_count: usize,
    data: *const u8,
    data_size: usize,
) {
    // SAFETY: VM-provided pointers are valid for the call with these sizes.
    unsafe {
        let topics: Vec<Bytes32> = if topics.is_null() || topics_count == 0 {
            Vec::new()
        } else {
            std::slice::from_raw_parts(topics, topics_count).iter().map(|t| (*t).into()).collect()
        };
        let data = bytes(data, data_size);
        with_bridge(c, (), |h| h.emit_log(&read(a).into(), &topics, data))
    }
}

/// The function table handed to VMs for a Rust [`Host`].
static BRIDGE_INTERFACE: athcon_host_interface = athcon_host_interface {
    account_exists: Some(b_account_exists),
    get_storage: Some(b_get_storage),
    set_storage: Some(b_set_storage),
    get_balance: Some(b_get_balance),
    call: Some(b_call),
    get_state: Some(b_get_state),
    deploy: Some(b_deploy),
    get_tx_context: Some(b_get_tx_context),
    get_block_hash: Some(b_get_block_hash),
    emit_log: Some(b_emit_log),
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbol_names() {
        for (file, sym) in [
            ("libathcon.so", "athcon_create_athcon"),
            ("/x/y/libathenavm.so", "athcon_create_athenavm"),
            ("libathena-vm.so.1", "athcon_create_athena_vm"),
            ("athenavm.dll", "athcon_create_athenavm"),
            ("libfoo.1.2.dylib", "athcon_create_foo"),
        ] {
            assert_eq!(create_symbol_name(Path::new(file)), sym, "{file}");
        }
    }
}

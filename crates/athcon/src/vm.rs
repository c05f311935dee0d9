//! The Athena VM behind the C ABI: `athcon_create_athenavm` / `athcon_create`
//! and the functions of `struct athcon_vm`.

use crate::chost::CHost;
use crate::engine::{self, EngineChoice};
use crate::ffi::*;
use athena_interface::{Capabilities, ExecutionResult, MessageKind, Revision, StatusCode};
use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Mutex, PoisonError};

/// `athcon_vm.name`.
pub const VM_NAME: &CStr = c"athena";
/// `athcon_vm.version`: this crate's version.
pub const VM_VERSION: &CStr = match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
    Ok(v) => v,
    Err(_) => panic!("version contains NUL"),
};

/// The options of one instance (`set_option`), copied at the start of
/// every `execute` so that a concurrent `set_option` affects only later
/// executions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// `engine`: which interpreter loop runs guests.
    pub engine: EngineChoice,
    /// `max_call_depth`: the deepest allowed frame (default
    /// `athena_engine::DEFAULT_MAX_CALL_DEPTH`; may only be lowered).
    pub max_call_depth: u32,
}

impl Default for Options {
    fn default() -> Self {
        Self { engine: EngineChoice::default(), max_call_depth: athena_engine::DEFAULT_MAX_CALL_DEPTH }
    }
}

/// Applies `name = value` to `options`; the `enum athcon_set_option_result`.
pub fn apply_option(options: &mut Options, name: &str, value: &str) -> i32 {
    match name {
        "engine" => match value {
            "fast" => options.engine = EngineChoice::Fast,
            "reference" => options.engine = EngineChoice::Reference,
            _ => return set_option::INVALID_VALUE,
        },
        "max_call_depth" => match value {
            "default" => options.max_call_depth = athena_engine::DEFAULT_MAX_CALL_DEPTH,
            v => match v.parse::<u32>() {
                Ok(d) if v.bytes().all(|b| b.is_ascii_digit()) && d <= athena_engine::DEFAULT_MAX_CALL_DEPTH => {
                    options.max_call_depth = d
                }
                _ => return set_option::INVALID_VALUE,
            },
        },
        _ => return set_option::INVALID_NAME,
    }
    set_option::SUCCESS
}

/// One VM instance. `#[repr(C)]` with the public head first, so a pointer
/// to the instance is a valid `*mut athcon_vm` and back.
#[repr(C)]
struct AthenaVm {
    head: athcon_vm,
    options: Mutex<Options>,
}

fn new_instance() -> *mut athcon_vm {
    let vm = Box::new(AthenaVm {
        head: athcon_vm {
            abi_version: ATHCON_ABI_VERSION,
            name: VM_NAME.as_ptr(),
            version: VM_VERSION.as_ptr(),
            destroy: Some(destroy),
            execute: Some(execute),
            get_capabilities: Some(get_capabilities),
            set_option: Some(set_option_fn),
        },
        options: Mutex::new(Options::default()),
    });
    Box::into_raw(vm).cast::<athcon_vm>()
}

/// Creates a new Athena VM instance (`athcon.h`). Never returns null.
#[no_mangle]
pub extern "C" fn athcon_create_athenavm() -> *mut athcon_vm {
    catch_unwind(new_instance).unwrap_or(std::ptr::null_mut())
}

/// The generic entry point (loader fallback); same as
/// [`athcon_create_athenavm`].
#[no_mangle]
pub extern "C" fn athcon_create() -> *mut athcon_vm {
    athcon_create_athenavm()
}

/// The instance behind `vm`, if non-null.
///
/// # Safety
/// `vm` must be null or a pointer returned by [`new_instance`] that has not
/// been destroyed.
unsafe fn instance<'a>(vm: *mut athcon_vm) -> Option<&'a AthenaVm> {
    // SAFETY: per the contract, a non-null `vm` points to a live `AthenaVm`
    // whose first field is the head (repr(C)); we hand out shared access
    // only (all mutation goes through the Mutex).
    unsafe { vm.cast::<AthenaVm>().as_ref() }
}

unsafe extern "C" fn destroy(vm: *mut athcon_vm) {
    if vm.is_null() {
        return;
    }
    // SAFETY: the ABI lets the host destroy an instance it got from
    // athcon_create* exactly once, with no call running or following; the
    // pointer came from Box::into_raw in `new_instance`.
    let _ = catch_unwind(|| drop(unsafe { Box::from_raw(vm.cast::<AthenaVm>()) }));
}

unsafe extern "C" fn get_capabilities(_vm: *mut athcon_vm) -> u32 {
    (Capabilities::RV32E | Capabilities::RV32I).bits()
}

unsafe extern "C" fn set_option_fn(vm: *mut athcon_vm, name: *const c_char, value: *const c_char) -> i32 {
    // SAFETY: the ABI requires `vm` to be a live instance (or null, which
    // `instance` maps to None).
    let Some(vm) = (unsafe { instance(vm) }) else {
        return set_option::ERROR;
    };
    if name.is_null() || value.is_null() {
        return set_option::ERROR;
    }
    // SAFETY: non-null `name` and `value` are NUL-terminated strings valid
    // for this call (athcon.h).
    let (name, value) = unsafe { (CStr::from_ptr(name), CStr::from_ptr(value)) };
    let (Ok(name), Ok(value)) = (name.to_str(), value.to_str()) else {
        return set_option::ERROR;
    };
    catch_unwind(AssertUnwindSafe(|| {
        let mut options = vm.options.lock().unwrap_or_else(PoisonError::into_inner);
        apply_option(&mut options, name, value)
    }))
    .unwrap_or(set_option::ERROR)
}

/// A result that owns `result.output` (freed by [`release_result`]).
pub(crate) fn into_c_result(result: ExecutionResult) -> athcon_result {
    let mut output = std::mem::ManuallyDrop::new(result.output);
    let (data, size, capacity) = if output.capacity() == 0 {
        (std::ptr::null(), 0, 0)
    } else {
        (output.as_mut_ptr().cast_const(), output.len(), output.capacity())
    };
    athcon_result {
        status_code: result.status.as_i32(),
        gas_left: result.gas_left,
        output_data: data,
        output_size: size,
        release: Some(release_result),
        private_data: athcon_result_private { word: capacity as u64 },
    }
}

/// `athcon_result.release` for results created by this library: frees the
/// output `Vec` whose capacity is stored in `private_data.word`.
unsafe extern "C" fn release_result(result: *const athcon_result) {
    // SAFETY: the receiver passes the result we created, unchanged (or null).
    let Some(result) = (unsafe { result.as_ref() }) else {
        return;
    };
    // SAFETY: `into_c_result` always writes the `word` member.
    let capacity = unsafe { result.private_data.word } as usize;
    if capacity != 0 && !result.output_data.is_null() {
        // SAFETY: (output_data, output_size, capacity) are the raw parts of
        // a Vec<u8> leaked by `into_c_result`; release is called once.
        drop(unsafe { Vec::from_raw_parts(result.output_data.cast_mut(), result.output_size, capacity) });
    }
}

fn reject(status: StatusCode) -> athcon_result {
    into_c_result(ExecutionResult::failure(status))
}

/// `athcon_vm.execute`. Argument checks, in order (the first failing one
/// decides the status; docs/athcon.md):
/// null `vm` → internal_error; null `msg`, null `host` or an incomplete
/// host table → rejected; unknown revision → rejected; unknown message
/// kind → rejected; `input_data` null with `input_size > 0`,
/// `input_size > ATHCON_MAX_INPUT_SIZE`, or `code` null with
/// `code_size > 0` → rejected. Everything else is the engine's decision
/// (e.g. code that is not a loadable ELF → failure; `depth >
/// max_call_depth` → call_depth_exceeded with all gas returned).
///
/// # Safety
/// Non-null pointers must be valid as described in `athcon.h` for the
/// duration of the call.
unsafe extern "C" fn execute(
    vm: *mut athcon_vm,
    host: *const athcon_host_interface,
    context: *mut athcon_host_context,
    revision: u32,
    msg: *const athcon_message,
    code: *const u8,
    code_size: usize,
) -> athcon_result {
    // Nothing may unwind into the caller's C frames: every panic below
    // (ours or the engine's) becomes `internal_error`.
    let outcome = catch_unwind(AssertUnwindSafe(|| -> ExecutionResult {
        // SAFETY: `vm` is null or a live instance (ABI).
        let Some(vm) = (unsafe { instance(vm) }) else {
            return ExecutionResult::failure(StatusCode::InternalError);
        };
        let options = *vm.options.lock().unwrap_or_else(PoisonError::into_inner);
        // SAFETY: non-null `msg` and `host` point to valid structs for the
        // call (ABI); we only read them.
        let (Some(msg), Some(host)) = (unsafe { msg.as_ref() }, unsafe { host.as_ref() }) else {
            return ExecutionResult::failure(StatusCode::Rejected);
        };
        // SAFETY: the host's callbacks follow athcon.h for `context` and stay
        // valid for this call, which outlives `chost`.
        let Some(mut chost) = (unsafe { CHost::new(host, context) }) else {
            return ExecutionResult::failure(StatusCode::Rejected);
        };
        let Some(revision) = Revision::from_u32(revision) else {
            return ExecutionResult::failure(StatusCode::Rejected);
        };
        let Some(kind) = MessageKind::from_u32(msg.kind) else {
            return ExecutionResult::failure(StatusCode::Rejected);
        };
        if msg.input_size > ATHCON_MAX_INPUT_SIZE
            || (msg.input_data.is_null() && msg.input_size != 0)
            || (code.is_null() && code_size != 0)
        {
            return ExecutionResult::failure(StatusCode::Rejected);
        }
        let input = if msg.input_size == 0 {
            Vec::new()
        } else {
            // SAFETY: checked non-null above; the ABI guarantees `input_size`
            // readable bytes for the call. Copied because `Message` owns input.
            unsafe { std::slice::from_raw_parts(msg.input_data, msg.input_size) }.to_vec()
        };
        let code = if code_size == 0 {
            &[][..]
        } else {
            // SAFETY: checked non-null above; the ABI guarantees `code_size`
            // readable bytes for the call.
            unsafe { std::slice::from_raw_parts(code, code_size) }
        };
        engine::execute(&mut chost, revision, &msg.to_message(kind, input), code, &options)
    }));
    match outcome {
        Ok(result) => into_c_result(result),
        Err(_) => reject(StatusCode::InternalError),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options() {
        let mut o = Options::default();
        assert_eq!(apply_option(&mut o, "engine", "reference"), set_option::SUCCESS);
        assert_eq!(o.engine, EngineChoice::Reference);
        assert_eq!(apply_option(&mut o, "engine", "turbo"), set_option::INVALID_VALUE);
        assert_eq!(apply_option(&mut o, "max_call_depth", "3"), set_option::SUCCESS);
        assert_eq!(o.max_call_depth, 3);
        for bad in ["-1", "+3", "x", "", "65", "99999999999"] {
            assert_eq!(apply_option(&mut o, "max_call_depth", bad), set_option::INVALID_VALUE, "{bad}");
        }
        assert_eq!(apply_option(&mut o, "max_call_depth", "default"), set_option::SUCCESS);
        assert_eq!(o, Options { engine: EngineChoice::Reference, ..Options::default() });
        assert_eq!(apply_option(&mut o, "nope", "1"), set_option::INVALID_NAME);
    }

    #[test]
    fn result_round_trip_frees_output() {
        let r = into_c_result(ExecutionResult::success(7, vec![1, 2, 3]));
        assert_eq!((r.status_code, r.gas_left, r.output_size), (0, 7, 3));
        // SAFETY: `r` was just created by into_c_result; released once.
        unsafe { (r.release.unwrap())(&r) };
        let empty = into_c_result(ExecutionResult::failure(StatusCode::Failure));
        assert!(empty.output_data.is_null());
        // SAFETY: as above.
        unsafe { (empty.release.unwrap())(&empty) };
    }
}

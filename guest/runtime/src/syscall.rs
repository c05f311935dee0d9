//! Raw access to the VM's syscalls.
//!
//! A syscall is an `ecall` with its number in `t0` (`x5`), arguments in
//! `a0..a5` and results in `a0` (and `a1`). The numbers and semantics are
//! the VM's (`docs/machine.md`), taken from the `athena-abi` crate the VM
//! itself uses; this module is the only place that issues them. Prefer the safe wrappers in [`crate::io`] and
//! [`exit`].

use core::arch::asm;

/// Syscall numbers understood by the VM itself (shared with the VM through
/// the `athena-abi` crate).
pub use athena_abi::machine as number;

/// Performs syscall `n` with up to three arguments and returns `a0`.
///
/// # Safety
///
/// The VM may read or write guest memory named by the arguments (as
/// `WRITE` and `INPUT_READ` do); the caller must make those ranges valid
/// for that access. Calling [`number::HALT`] through this function is
/// allowed but the compiler will not know it does not return: use [`exit`].
#[inline(always)]
pub unsafe fn syscall3(n: u32, a0: u32, a1: u32, a2: u32) -> u32 {
    let ret: u32;
    // No `nomem`/`readonly`: the VM may read and write memory we point at.
    asm!(
        "ecall",
        in("t0") n,
        inlateout("a0") a0 => ret,
        in("a1") a1,
        in("a2") a2,
        options(nostack),
    );
    ret
}

/// Ends the run with `code` as the exit code (the `HALT` syscall).
///
/// Pending `print!` output needs no flushing: the macros write through
/// before they return.
#[inline]
pub fn exit(code: u32) -> ! {
    // SAFETY: HALT reads no memory and does not return; the loop after it
    // only guards against a host that resumes the guest anyway.
    unsafe {
        asm!(
            "ecall",
            "1: j 1b",
            in("t0") number::HALT,
            in("a0") code,
            options(noreturn, nostack),
        )
    }
}

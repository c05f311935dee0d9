//! Raw access to the VM's syscalls.
//!
//! A syscall is an `ecall` with its number in `t0` (`x5`), arguments in
//! `a0..a5` and results in `a0` (and `a1`). The numbers and semantics are
//! the VM's (`docs/machine.md`), taken from the `athena-abi` crate the VM
//! itself uses; this module and [`crate::host`] are the only places that
//! issue them. Prefer the safe wrappers in [`crate::io`] and [`exit`].
//!
//! Off the VM targets there is no `ecall`: every syscall panics with its
//! name ([`unavailable`]), so code over the wrappers compiles on the host
//! (see the crate docs).

#[cfg(all(target_arch = "riscv32", target_os = "none"))]
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
#[cfg(all(target_arch = "riscv32", target_os = "none"))]
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
#[cfg(all(target_arch = "riscv32", target_os = "none"))]
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

/// [`syscall3`] off the VM: panics (see [`unavailable`]).
///
/// # Safety
///
/// Always safe; `unsafe` only to match the VM signature.
#[cfg(not(all(target_arch = "riscv32", target_os = "none")))]
pub unsafe fn syscall3(n: u32, _a0: u32, _a1: u32, _a2: u32) -> u32 {
    unavailable(n)
}

/// [`exit`] off the VM: panics (see [`unavailable`]).
#[cfg(not(all(target_arch = "riscv32", target_os = "none")))]
pub fn exit(_code: u32) -> ! {
    unavailable(number::HALT)
}

/// What every syscall does off the VM targets: panic, naming the syscall
/// (as `docs/machine.md` and `docs/syscalls.md` do), so a contract crate
/// built on the host for its tests compiles and links, and a test that
/// reaches a host function learns why it cannot run there.
#[cfg(not(all(target_arch = "riscv32", target_os = "none")))]
#[cold]
#[track_caller]
pub fn unavailable(n: u32) -> ! {
    let name = match n {
        number::HALT => "HALT",
        number::WRITE => "WRITE",
        number::INPUT_LEN => "INPUT_LEN",
        number::INPUT_READ => "INPUT_READ",
        _ => athena_abi::number::ALL.iter().find(|(m, _)| *m == n).map_or("unknown syscall", |(_, name)| name),
    };
    panic!(
        "athena-guest-rt: `{name}` is only available inside the Athena VM (build the program for \
         riscv32em-unknown-none-elf with `athena build` and run it in the VM or a test host)"
    )
}

//! Athena guest glue (riscv32em-unknown-none-elf), shared by the two guest
//! binaries: `bench-guest-athena` (every workload, `src/main.rs`) and
//! `bench-guest-athena-load` (the smaller `load` program, `src/load.rs`).
//!
//! [`guest!`] expands to a program that reads the workload id (u32 LE)
//! from the input, runs it, WRITEs the 8-byte LE checksum to fd 1 and
//! HALTs with exit code 0 (101 on panic).
//!
//! ABI: `ecall` with the number in `t0`: 0 HALT(a0), 2 WRITE(a0 fd, a1 ptr,
//! a2 len), 3 INPUT_LEN -> a0, 4 INPUT_READ(a0 dst, a1 off, a2 len) -> a0.

#![no_std]

pub use bench_workloads;

/// The guest program: `_start`, the allocator and the panic handler, with
/// `$run: fn(u32) -> u64` running the workload with the given id.
#[macro_export]
macro_rules! guest {
    ($run:path) => {
        #[global_allocator]
        static ALLOC: $crate::bench_workloads::bump::BumpAlloc<{ 3 << 20 }> =
            $crate::bench_workloads::bump::BumpAlloc::new();

        ::core::arch::global_asm!(
            ".section .text._start,\"ax\",@progbits",
            ".globl _start",
            "_start:",
            "  lui sp, 0x80000", // sp = 0x8000_0000
            "  call {entry}",
            "  unimp",
            entry = sym entry,
        );

        extern "C" fn entry() -> ! {
            $crate::halt_after($run($crate::workload_id()))
        }

        #[panic_handler]
        fn panic(_: &::core::panic::PanicInfo) -> ! {
            $crate::halt(101)
        }
    };
}

#[inline(always)]
fn ecall(number: u32, a0: u32, a1: u32, a2: u32) -> u32 {
    let ret;
    // SAFETY: the Athena VM handles ecall; it only touches a0 (and memory
    // the arguments describe).
    unsafe {
        core::arch::asm!("ecall", in("t0") number, inlateout("a0") a0 => ret, in("a1") a1, in("a2") a2,
            options(nostack));
    }
    ret
}

/// The workload id from the input (0 when the input is shorter).
pub fn workload_id() -> u32 {
    let mut id = [0u8; 4];
    if ecall(3, 0, 0, 0) >= 4 {
        ecall(4, id.as_mut_ptr() as u32, 0, 4);
    }
    u32::from_le_bytes(id)
}

/// WRITEs `checksum` (8 bytes LE) to fd 1, then HALTs with 0.
pub fn halt_after(checksum: u64) -> ! {
    let bytes = checksum.to_le_bytes();
    ecall(2, 1, bytes.as_ptr() as u32, 8);
    halt(0)
}

/// HALTs with exit code `code`.
pub fn halt(code: u32) -> ! {
    ecall(0, code, 0, 0);
    loop {}
}

//! Athena guest (riscv32em-unknown-none-elf): reads the workload id (u32 LE)
//! from the input, runs it, WRITEs the 8-byte LE checksum to fd 1 and HALTs
//! with exit code 0 (101 on panic).
//!
//! ABI: `ecall` with the number in `t0`: 0 HALT(a0), 2 WRITE(a0 fd, a1 ptr,
//! a2 len), 3 INPUT_LEN -> a0, 4 INPUT_READ(a0 dst, a1 off, a2 len) -> a0.

#![no_std]
#![no_main]

use bench_workloads::bump::BumpAlloc;

#[global_allocator]
static ALLOC: BumpAlloc<{ 3 << 20 }> = BumpAlloc::new();

core::arch::global_asm!(
    ".section .text._start,\"ax\",@progbits",
    ".globl _start",
    "_start:",
    "  lui sp, 0x80000", // sp = 0x8000_0000
    "  call {entry}",
    "  unimp",
    entry = sym entry,
);

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

fn halt(code: u32) -> ! {
    ecall(0, code, 0, 0);
    loop {}
}

extern "C" fn entry() -> ! {
    let mut id = [0u8; 4];
    if ecall(3, 0, 0, 0) >= 4 {
        ecall(4, id.as_mut_ptr() as u32, 0, 4);
    }
    let checksum = bench_workloads::run(u32::from_le_bytes(id)).to_le_bytes();
    ecall(2, 1, checksum.as_ptr() as u32, 8);
    halt(0)
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    halt(101)
}

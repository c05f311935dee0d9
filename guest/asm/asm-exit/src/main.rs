//! Hand-written assembly: halts at once with exit code 42 (`t0` = 0,
//! `a0` = 42). No runtime and no stack.
#![no_std]
#![no_main]

core::arch::global_asm!(
    ".section .text._start, \"ax\", @progbits",
    ".globl _start",
    ".p2align 2",
    "_start:",
    "    li   t0, 0              # HALT",
    "    li   a0, 42             # exit code",
    "    ecall",
    "1:  j    1b",
);

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {}
}

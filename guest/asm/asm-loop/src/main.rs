//! Hand-written assembly: loops forever, for out-of-gas tests. No runtime
//! and no stack.
#![no_std]
#![no_main]

core::arch::global_asm!(
    ".section .text._start, \"ax\", @progbits",
    ".globl _start",
    ".p2align 2",
    "_start:",
    "    addi a0, a0, 1          # do some work so every step costs gas",
    "    j    _start",
);

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {}
}

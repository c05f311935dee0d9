//! Hand-written assembly: writes `hi from asm\n` (from `.rodata`) to fd 1
//! with `WRITE` (`t0` = 2), then halts with exit code 0 (`t0` = 0).
//! No runtime and no stack: `sp` is never read or written.
#![no_std]
#![no_main]

core::arch::global_asm!(
    ".section .text._start, \"ax\", @progbits",
    ".globl _start",
    ".p2align 2",
    "_start:",
    "    li   t0, 2              # WRITE",
    "    li   a0, 1              # fd 1 (stdout)",
    "    la   a1, message        # buffer",
    "    la   a2, message_end",
    "    sub  a2, a2, a1         # length",
    "    ecall",
    "    li   t0, 0              # HALT",
    "    li   a0, 0              # exit code 0",
    "    ecall",
    "1:  j    1b",
    ".section .rodata.message, \"a\", @progbits",
    "message:",
    "    .ascii \"hi from asm\\n\"",
    "message_end:",
);

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {}
}

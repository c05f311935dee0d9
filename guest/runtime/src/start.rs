//! The program entry point.
//!
//! `_start` trusts no register value at entry: it sets `sp` to
//! [`STACK_TOP`](crate::layout::STACK_TOP) itself, calls the function that
//! [`entry!`](crate::entry) registered as `__athena_main`, and halts with exit
//! code 0 when it returns. `.bss` needs no clearing: the loader zero-fills
//! every byte a segment's file image does not cover.

// `lui sp, 0x80000` loads 0x8000_0000 (= layout::STACK_TOP) exactly; it is
// spelt out because `const` operands would need a newer compiler.
core::arch::global_asm!(
    ".section .text._start, \"ax\", @progbits",
    ".globl _start",
    ".type _start, @function",
    ".p2align 2",
    "_start:",
    "    lui sp, 0x80000",
    "    call __athena_main",
    "    li a0, 0",
    "    li t0, 0",
    "    ecall",
    "1:  j 1b",
    ".size _start, . - _start",
);

const _: () = assert!(crate::layout::STACK_TOP == 0x8000_0000);

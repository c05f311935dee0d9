//! Compact `memcpy` and `memset` for programs built with the SDK.
//!
//! `compiler_builtins` provides both as *weak* symbols, tuned for speed on
//! large misaligned buffers: together about 640 bytes of code, 8% of a
//! small template. These strong definitions replace them in every binary
//! that links the SDK (and only there: the plain runtime's programs keep
//! the originals) at about 120 bytes:
//!
//! * when destination and source are 4-byte aligned, a word loop while at
//!   least 4 bytes remain, then a byte loop for the rest; otherwise a byte
//!   loop for everything (the VM traps on misaligned word accesses, so
//!   there is no cheaper unaligned path);
//! * same cost as the originals for aligned copies, up to ~2.5x more
//!   instructions per byte for misaligned ones. Guest copies are small
//!   (addresses, words, context records, SCALE buffers), so the smaller
//!   image, which every call pays to load, wins.
//!
//! Written in assembly: a Rust loop here could be recognised by LLVM as a
//! `memcpy` idiom and compiled into a call to itself. Only `a0..a5` and
//! `t0..t2` are used (RV32E has no higher registers).

core::arch::global_asm!(
    ".section .text.memcpy, \"ax\", @progbits",
    ".globl memcpy",
    ".type memcpy, @function",
    ".p2align 2",
    // memcpy(a0 = dest, a1 = src, a2 = n) -> a0 = dest
    "memcpy:",
    "    mv t1, a0",
    "    or t0, a0, a1",
    "    andi t0, t0, 3",
    "    bnez t0, 2f",
    "    li t2, 4",
    "1:  bltu a2, t2, 2f",
    "    lw t0, 0(a1)",
    "    sw t0, 0(t1)",
    "    addi a1, a1, 4",
    "    addi t1, t1, 4",
    "    addi a2, a2, -4",
    "    j 1b",
    "2:  beqz a2, 3f",
    "    lbu t0, 0(a1)",
    "    sb t0, 0(t1)",
    "    addi a1, a1, 1",
    "    addi t1, t1, 1",
    "    addi a2, a2, -1",
    "    j 2b",
    "3:  ret",
    ".size memcpy, . - memcpy",
    "",
    ".section .text.memset, \"ax\", @progbits",
    ".globl memset",
    ".type memset, @function",
    ".p2align 2",
    // memset(a0 = dest, a1 = byte, a2 = n) -> a0 = dest
    "memset:",
    "    mv t1, a0",
    "    andi a1, a1, 0xff",
    "    andi t0, a0, 3",
    "    bnez t0, 2f",
    "    slli t0, a1, 8",
    "    or t0, t0, a1",
    "    slli t2, t0, 16",
    "    or t0, t0, t2",
    "    li t2, 4",
    "1:  bltu a2, t2, 2f",
    "    sw t0, 0(t1)",
    "    addi t1, t1, 4",
    "    addi a2, a2, -4",
    "    j 1b",
    "2:  beqz a2, 3f",
    "    sb a1, 0(t1)",
    "    addi t1, t1, 1",
    "    addi a2, a2, -1",
    "    j 2b",
    "3:  ret",
    ".size memset, . - memset",
);

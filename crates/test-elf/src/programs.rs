//! Small hand-assembled programs that exercise the program-state and spawn
//! host functions, shared by the athcon host tests and the conformance
//! checker (`athcon-vmtester`) so both check the same guests.
//!
//! No branches, so they stay readable as assembly.

use crate::{asm, ElfBuilder, PF_R, PF_W};
use athena_abi::machine::INPUT_READ;
use athena_abi::number as n;

/// Where the programs' code is loaded.
const TEXT: u32 = 0x1_0000;
/// Their writable (or, for [`reverter`], read-only) data.
const BUF: u32 = 0x2_0000;

/// Appends `t0 = number; ecall`.
pub fn ecall(words: &mut Vec<u32>, number: u32) {
    words.extend(asm::li(asm::T0, number));
    words.push(asm::ECALL);
}

/// Input `template (24) ‖ state`: `SPAWN(template, state)`, then returns
/// the status word (4 bytes, little-endian) and the 24 bytes written at the
/// out pointer (the new address, or zeros).
pub fn factory() -> Vec<u8> {
    const STATUS: u32 = BUF + 0x2_0000;
    let mut w = Vec::new();
    w.extend(asm::li(asm::A0, BUF));
    w.extend(asm::li(asm::A1, 0));
    w.extend(asm::li(asm::A2, 0x2_0000));
    ecall(&mut w, INPUT_READ); // a0 = input length
    w.push(asm::addi(asm::A2, asm::A0, -24)); // state length
    w.extend(asm::li(asm::A0, BUF));
    w.extend(asm::li(asm::A1, BUF + 24));
    w.extend(asm::li(asm::A3, STATUS + 4));
    ecall(&mut w, n::SPAWN);
    w.extend(asm::li(asm::T1, STATUS));
    w.push(asm::sw(asm::A0, asm::T1, 0));
    w.extend(asm::li(asm::A0, STATUS));
    w.extend(asm::li(asm::A1, 28));
    ecall(&mut w, n::RETURN);
    ElfBuilder::new(TEXT).text(TEXT, &w).segment(BUF, PF_R | PF_W, vec![0; 4], 0x3_0000).build()
}

/// Returns its own immutable state: `STATE_SIZE`, then `STATE_READ` of
/// that many bytes, then `RETURN` of what was read.
pub fn echo() -> Vec<u8> {
    let mut w = Vec::new();
    ecall(&mut w, n::STATE_SIZE);
    w.push(asm::addi(asm::A2, asm::A0, 0));
    w.extend(asm::li(asm::A0, BUF));
    w.extend(asm::li(asm::A1, 0));
    ecall(&mut w, n::STATE_READ);
    w.push(asm::addi(asm::A1, asm::A0, 0));
    w.extend(asm::li(asm::A0, BUF));
    ecall(&mut w, n::RETURN);
    ElfBuilder::new(TEXT).text(TEXT, &w).segment(BUF, PF_R | PF_W, vec![0; 4], 0x1_1000).build()
}

/// Reverts with the data `no` whatever it is asked: as a template, its
/// spawn method rejects every state.
pub fn reverter() -> Vec<u8> {
    let mut w = Vec::new();
    w.extend(asm::li(asm::A0, BUF));
    w.extend(asm::li(asm::A1, 2));
    ecall(&mut w, n::REVERT);
    ElfBuilder::new(TEXT).text(TEXT, &w).segment(BUF, PF_R, b"no".to_vec(), 0x1000).build()
}

//! Differential test aimed at the fast engine's fused ops: random programs
//! built from the op sequences it fuses, with random registers (overlapping
//! destinations and sources, `x0` destinations), loads and stores that may
//! trap or need a fresh page in any part, branches and jumps into the
//! middle of sequences, branches inside sequences (taken or not), and every
//! gas limit up to completion, so that out of gas lands on each instruction
//! of each sequence.

mod common;

use athena_test_elf::asm::{b_type, i_type, j_type, li, lui, r_type, s_type};
use athena_vm::RegisterSet;
use common::{assert_same, program_with_data, run, ALIAS_BASE, CODE_BASE, DATA_BASE, RODATA};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// The sequences the fast engine fuses (`crates/vm/src/fast/kinds.rs`),
/// plus a few it does not, by instruction name.
const SEQUENCES: &[&[&str]] = &[
    &["lbu", "lbu", "bne", "addi", "addi", "addi", "bne"],
    &["addi", "addi", "add", "addi", "bne", "add", "lbu", "bne"],
    &["addi", "addi", "add", "addi", "bne+2", "jal", "add", "lbu", "bne"],
    &["addi", "addi", "add", "addi", "bne+2", "jal"],
    &["bne+2", "jal", "add", "lbu", "bne"],
    &["bltu", "lw", "add", "sw"],
    &["sltu", "lw", "add", "sw", "lw"],
    &["srli", "slli", "or", "sw", "lw"],
    &["mul", "sw", "mulhu", "sw"],
    &["slt", "srli", "sub", "andi"],
    &["xori", "and", "xor"],
    &["sw", "sltu", "lw"],
    &["sb", "srli", "sb"],
    &["lui", "jalr"],
    &["auipc", "jalr"],
    &["sub", "jalr"],
    &["addi", "addi", "add", "addi", "bne"],
    &["sb", "add", "add", "bltu"],
    &["addi", "addi", "addi", "bne"],
    &["lbu", "lbu", "bne"],
    &["sw", "addi", "bltu"],
    &["lbu", "addi", "sb"],
    &["srli", "slli", "or"],
    &["slli", "srli", "or"],
    &["sb", "add", "add"],
    &["add", "add", "bltu"],
    &["lw", "add", "sw"],
    &["slli", "or", "sw"],
    &["add", "sw", "lw"],
    &["xor", "sw", "lw"],
    &["lw", "lw", "add"],
    &["lw", "xor", "sw"],
    &["sw", "lw", "lw"],
    &["add", "addi", "bne"],
    &["add", "lbu", "bne"],
    &["addi", "addi", "bne"],
    &["sw", "lw", "xor"],
    &["lw", "xor", "lw"],
    &["addi", "beq"],
    &["addi", "bltu"],
    &["lbu", "beq"],
    &["and", "xor"],
    &["mul", "sw"],
    &["sltu", "lw"],
    &["add", "sltu"],
    &["sw", "mulhu"],
    &["lw", "mul"],
    &["sw", "sw"],
    &["lbu", "lbu"],
    &["lw", "and"],
    &["srli", "lw"],
    &["xori", "lw"],
    &["addi", "sw"],
    &["addi", "lw"],
    &["sw", "add"],
    &["sub", "sw"],
    &["srai", "sra"],
];

/// Value registers: few, so that parts often share registers.
fn value(rng: &mut SmallRng) -> u32 {
    rng.gen_range(7..13)
}

/// Destination: a value register, sometimes `x0`.
fn dest(rng: &mut SmallRng) -> u32 {
    if rng.gen_bool(0.1) {
        0
    } else {
        value(rng)
    }
}

/// A load or store base: the data page (`x3`) mostly, else the read-only
/// page (`x4`), the guard region (`x5`), a fresh page (`x6`) or a value
/// register holding anything.
fn base(rng: &mut SmallRng) -> u32 {
    match rng.gen_range(0..20) {
        0 => 4,
        1 => 5,
        2 => 6,
        3 => value(rng),
        _ => 3,
    }
}

/// A byte offset for an access of `size` bytes, sometimes misaligned.
fn offset(rng: &mut SmallRng, size: i32) -> i32 {
    rng.gen_range(0..32) * size + if rng.gen_bool(0.05) { 1 } else { 0 }
}

/// Encodes instruction `name` at word `at` of a `len`-word program, with
/// random operands; branches and `jal` target any word from `first` on, a
/// branch named `+2` mostly the word after the next (over a jump).
fn encode(rng: &mut SmallRng, name: &str, at: usize, first: usize, len: usize) -> u32 {
    let alu = |f7: u32, f3: u32, rng: &mut SmallRng| r_type(f7, value(rng), value(rng), f3, dest(rng));
    let shift = |f3: u32, f7: u32, rng: &mut SmallRng| {
        i_type(rng.gen_range(0..32) | (f7 << 5) as i32, value(rng), f3, dest(rng), 0x13)
    };
    let imm = |f3: u32, rng: &mut SmallRng| i_type(rng.gen_range(-64..64), value(rng), f3, dest(rng), 0x13);
    let load = |f3: u32, size: i32, rng: &mut SmallRng| i_type(offset(rng, size), base(rng), f3, dest(rng), 0x03);
    let store = |f3: u32, size: i32, rng: &mut SmallRng| s_type(offset(rng, size), value(rng), base(rng), f3);
    let branch = |f3: u32, rng: &mut SmallRng| {
        let target = rng.gen_range(first..len) as i32;
        b_type((target - at as i32) * 4, value(rng), value(rng), f3)
    };
    match name {
        "add" => alu(0, 0, rng),
        "slt" => alu(0, 2, rng),
        "sub" => alu(0x20, 0, rng),
        "sltu" => alu(0, 3, rng),
        "xor" => alu(0, 4, rng),
        "sra" => alu(0x20, 5, rng),
        "or" => alu(0, 6, rng),
        "and" => alu(0, 7, rng),
        "mul" => alu(1, 0, rng),
        "mulhu" => alu(1, 3, rng),
        "addi" => imm(0, rng),
        "andi" => imm(7, rng),
        "xori" => imm(4, rng),
        "slli" => shift(1, 0, rng),
        "srli" => shift(5, 0, rng),
        "srai" => shift(5, 0x20, rng),
        "lbu" => load(4, 1, rng),
        "lw" => load(2, 4, rng),
        "sb" => store(0, 1, rng),
        "sw" => store(2, 4, rng),
        // Mostly the code page (CODE_BASE) or the pc itself.
        "lui" => lui(dest(rng), if rng.gen_bool(0.8) { CODE_BASE >> 12 } else { rng.gen_range(0..0x100) }),
        "auipc" => (rng.gen_range(0..2) << 12) | (dest(rng) << 7) | 0x17,
        // Mostly a code address (the base of `lui`/`auipc` plus a word
        // offset), so the jump lands in the program.
        "jalr" => i_type(rng.gen_range(-8..64) * 4 + rng.gen_range(0..2), value(rng), 0, dest(rng), 0x67),
        "beq" => branch(0, rng),
        "bne" => branch(1, rng),
        "bne+2" if rng.gen_bool(0.9) => b_type(8, value(rng), value(rng), 1),
        "bne+2" => branch(1, rng),
        "jal" => j_type((rng.gen_range(first..len) as i32 - at as i32) * 4, rng.gen_range(0..2)),
        "bltu" => branch(6, rng),
        other => panic!("no encoder for {other}"),
    }
}

/// A prologue setting the base registers, then random sequences from
/// [`SEQUENCES`] with an occasional jump to any word, then a halt.
fn fused_program(rng: &mut SmallRng, sequences: usize) -> Vec<u32> {
    let mut words: Vec<u32> = Vec::new();
    for (reg, addr) in [(3, DATA_BASE), (4, RODATA), (5, 0x800), (6, ALIAS_BASE)] {
        words.extend(li(reg, addr));
    }
    let first = words.len();
    let names: Vec<&str> = (0..sequences)
        .flat_map(|_| {
            let mut names = SEQUENCES[rng.gen_range(0..SEQUENCES.len())].to_vec();
            if rng.gen_bool(0.1) {
                names.push("jal");
            }
            names
        })
        .collect();
    let len = first + names.len() + 2;
    for (k, name) in names.iter().enumerate() {
        let at = first + k;
        words.push(encode(rng, name, at, first, len));
    }
    words.push(i_type(0, 0, 0, 5, 0x13)); // t0 = HALT
    words.push(0x73);
    words
}

#[test]
fn fused_sequences_match_reference_at_every_gas_limit() {
    let mut rng = SmallRng::seed_from_u64(0xf05e);
    for case in 0..400 {
        let regs = if case % 2 == 0 { RegisterSet::Rv32e } else { RegisterSet::Rv32i };
        let sequences = rng.gen_range(2..8);
        let words = fused_program(&mut rng, sequences);
        let program = program_with_data(regs, &words);
        let memory_limit = if rng.gen_bool(0.2) { 0x4000 } else { 1 << 20 };
        let full = run(&program, athena_vm::Engine::Reference, 2_000, memory_limit).gas_used;
        for gas in (0..=full.min(300)).chain([2_000]) {
            assert_same(&program, gas, memory_limit, &format!("case {case} gas {gas} words {words:08x?}"));
        }
    }
}

/// The fused sequences that end in a conditional branch, with its funct3.
const LOOPS: &[(&[&str], u32)] = &[
    (&["lbu", "lbu", "bne", "addi", "addi", "addi"], 1),
    (&["addi", "addi", "add", "addi"], 1),
    (&["addi", "addi", "add", "addi", "bne+2", "jal", "add", "lbu"], 1),
    (&["sb", "add", "add"], 6),
    (&["addi", "addi", "addi"], 1),
    (&["lbu", "lbu"], 1),
    (&["sw", "addi"], 6),
    (&["add", "add"], 6),
    (&["add", "addi"], 1),
    (&["add", "lbu"], 1),
    (&["addi", "addi"], 1),
    (&["addi"], 1),
    (&["addi"], 0),
    (&["add"], 6),
    (&["lbu"], 1),
    (&["lbu"], 0),
    (&["addi"], 6),
];

/// A start address for a pointer walking by `step`: inside the data pages,
/// just below their end (into the read-only page), just below a fresh page
/// or the guard region, or anywhere.
fn walk_start(rng: &mut SmallRng, step: i32) -> u32 {
    let before = |end: u32, rng: &mut SmallRng| end.wrapping_sub((rng.gen_range(1..24) * step) as u32);
    match rng.gen_range(0..6) {
        0 => DATA_BASE + rng.gen_range(0..0x1000) * 4,
        1 => before(RODATA, rng),
        2 => before(ALIAS_BASE + 0x1000, rng),
        3 => before(ALIAS_BASE, rng),
        4 => before(0x1000, rng).wrapping_add(0x10),
        _ => rng.gen(),
    }
}

/// A sequence from [`LOOPS`] (or a hand-written byte or word loop) whose
/// final branch goes back to the sequence's first instruction, after a
/// prologue giving the value registers pointers, steps and bounds that make
/// it iterate a few to a few dozen times (or until out of gas), walking
/// across page boundaries: fresh pages, the read-only page, the guard.
fn loop_program(rng: &mut SmallRng) -> Vec<u32> {
    let mut words: Vec<u32> = Vec::new();
    for (reg, addr) in [(3, DATA_BASE), (4, RODATA), (5, 0x800), (6, ALIAS_BASE)] {
        words.extend(li(reg, addr));
    }
    let step = [1, 2, 4, 8, 64][rng.gen_range(0..5)];
    let start = walk_start(rng, step);
    let count = rng.gen_range(1..40u32);
    // x7, x8: pointers; x9: counter; x10: step; x11: end; x12: one.
    let values = [
        (7, start),
        (8, if rng.gen_bool(0.5) { walk_start(rng, step) } else { start }),
        (9, count),
        (10, step as u32),
        (11, start.wrapping_add(count * step as u32)),
        (12, if rng.gen_bool(0.8) { 1 } else { rng.gen() }),
    ];
    for (reg, value) in values {
        words.extend(li(reg, value));
    }
    let head = words.len();
    let body: Vec<u32> = match rng.gen_range(0..4) {
        // sieve: sb; add ptr, ptr, step; add cnt, cnt, one; bltu ptr, end
        0 => vec![s_type(0, 12, 7, 0), r_type(0, 10, 7, 0, 7), r_type(0, 12, 9, 0, 9), b_type(-12, 11, 7, 6)],
        // memset: sw; addi ptr, ptr, 4; bltu ptr, end
        1 => vec![s_type(0, 12, 7, 2), i_type(4, 7, 0, 7, 0x13), b_type(-8, 11, 7, 6)],
        // memcmp: lbu; lbu; bne (out); addi; addi; addi cnt, -1; bne cnt, x0
        2 => vec![
            i_type(0, 7, 4, 13, 0x03),
            i_type(0, 8, 4, 14, 0x03),
            b_type(20, 14, 13, 1),
            i_type(1, 7, 0, 7, 0x13),
            i_type(1, 8, 0, 8, 0x13),
            i_type(-1, 9, 0, 9, 0x13),
            b_type(-24, 0, 9, 1),
        ],
        _ => {
            let (names, funct3) = LOOPS[rng.gen_range(0..LOOPS.len())];
            let len = head + names.len() + 3;
            let mut body: Vec<u32> =
                names.iter().enumerate().map(|(k, name)| encode(rng, name, head + k, head, len)).collect();
            let back = -4 * names.len() as i32;
            body.push(b_type(back, rng.gen_range(7..13), rng.gen_range(7..13), funct3));
            body
        }
    };
    words.extend(body);
    words.push(i_type(0, 0, 0, 5, 0x13)); // t0 = HALT
    words.push(0x73);
    words
}

#[test]
fn fused_loops_match_reference_at_every_gas_limit() {
    let mut rng = SmallRng::seed_from_u64(0x100b);
    for case in 0..300 {
        let regs = if case % 2 == 0 { RegisterSet::Rv32e } else { RegisterSet::Rv32i };
        let words = loop_program(&mut rng);
        let program = program_with_data(regs, &words);
        let memory_limit = [0x4000, 0x5000, 1 << 20][rng.gen_range(0..3)];
        let full = run(&program, athena_vm::Engine::Reference, 3_000, memory_limit).gas_used;
        for gas in (0..=full.min(600)).chain([3_000]) {
            assert_same(&program, gas, memory_limit, &format!("case {case} gas {gas} words {words:08x?}"));
        }
    }
}

//! Differential test: the fast engine must agree with the reference
//! interpreter bit for bit (exit, gas, instruction count, output, registers,
//! pc, memory) on random programs biased toward valid, deep-running code,
//! and on programs aimed at its translation cache.

mod common;

use athena_test_elf::asm::{b_type, i_type, j_type, li, r_type, s_type};
use athena_vm::{Program, RegisterSet};
use common::{assert_same, check_with_data, ALIAS_BASE, CODE_BASE, DATA_BASE, RODATA};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// A random program: a prologue pointing `x3` at a writable data area, then
/// a mix of ALU, M, memory (mostly through `x3`), branch, jump and syscall
/// instructions, with an occasional raw random word.
fn random_program(rng: &mut SmallRng, regs: RegisterSet, len: usize) -> Vec<u32> {
    let nregs = if regs == RegisterSet::Rv32e { 16 } else { 32 };
    let reg = |rng: &mut SmallRng| rng.gen_range(1..nregs);
    let mut words = vec![
        (DATA_BASE & 0xffff_f000) | (3 << 7) | 0x37, // lui x3, DATA_BASE
        i_type(0x123, 0, 0, 10, 0x13),               // addi a0, x0, 0x123
    ];
    while words.len() < len {
        let at = words.len() as i32;
        let span = len as i32;
        let w = match rng.gen_range(0..100) {
            0..=29 => {
                let f3 = rng.gen_range(0..8);
                let imm = match f3 {
                    1 => rng.gen_range(0..32),
                    5 => rng.gen_range(0..32) | if rng.gen_bool(0.5) { 0x400 } else { 0 },
                    _ => rng.gen_range(-2048..2048),
                };
                i_type(imm, reg(rng), f3, reg(rng), 0x13)
            }
            30..=49 => {
                let (f7, f3) = match rng.gen_range(0..3) {
                    0 => (0, rng.gen_range(0..8)),
                    1 => (0x20, if rng.gen_bool(0.5) { 0 } else { 5 }),
                    _ => (1, rng.gen_range(0..8)),
                };
                r_type(f7, reg(rng), reg(rng), f3, reg(rng))
            }
            50..=59 => {
                // Loads, mostly from the data area through x3.
                let f3 = [0, 1, 2, 4, 5][rng.gen_range(0..5)];
                let base = if rng.gen_bool(0.9) { 3 } else { reg(rng) };
                i_type(
                    rng.gen_range(-16..64) * 4 + if rng.gen_bool(0.95) { 0 } else { rng.gen_range(1..4) },
                    base,
                    f3,
                    reg(rng),
                    0x03,
                )
            }
            60..=69 => {
                let f3 = rng.gen_range(0..3);
                let base = if rng.gen_bool(0.9) { 3 } else { reg(rng) };
                let mut rs2 = reg(rng);
                if rs2 == 3 {
                    rs2 = 4;
                }
                s_type(
                    rng.gen_range(0..256) * 4 + if rng.gen_bool(0.95) { 0 } else { rng.gen_range(1..4) },
                    rs2,
                    base,
                    f3,
                )
            }
            70..=81 => {
                let target = rng.gen_range(0..span);
                let f3 = [0, 1, 4, 5, 6, 7][rng.gen_range(0..6)];
                b_type((target - at) * 4, reg(rng), reg(rng), f3)
            }
            82..=86 => {
                let target = rng.gen_range(0..span);
                j_type((target - at) * 4, if rng.gen_bool(0.5) { 1 } else { 0 })
            }
            87..=88 => {
                // jalr through a register holding a code address (x1 after jal) or junk
                i_type(rng.gen_range(-8..8), if rng.gen_bool(0.7) { 1 } else { reg(rng) }, 0, reg(rng), 0x67)
            }
            89..=91 => {
                // lui/auipc
                let opc = if rng.gen_bool(0.5) { 0x37 } else { 0x17 };
                (rng.gen::<u32>() & 0xffff_f000) | (reg(rng) << 7) | opc
            }
            92..=95 => {
                // syscall: t0 = 2 (write) / 3 / 4 / 0 (halt) / junk, then ecall
                let num = [2, 3, 4, 0, 7][rng.gen_range(0..5)];
                words.push(i_type(num, 0, 0, 5, 0x13));
                if num == 2 {
                    words.push(i_type(1, 0, 0, 10, 0x13));
                    words.push(i_type(0, 3, 0, 11, 0x13));
                    words.push(i_type(rng.gen_range(0..64), 0, 0, 12, 0x13));
                } else if num == 4 {
                    words.push(i_type(0x40, 3, 0, 10, 0x13));
                }
                0x73
            }
            96 => 0x0ff0_000f, // fence
            _ => rng.gen(),
        };
        words.push(w);
    }
    words.truncate(len);
    words
}

#[test]
fn fast_engine_matches_reference_on_random_programs() {
    let mut rng = SmallRng::seed_from_u64(0xa7e4a);
    for case in 0..3000 {
        let regs = if case % 2 == 0 { RegisterSet::Rv32e } else { RegisterSet::Rv32i };
        let len = rng.gen_range(4..200);
        let words = random_program(&mut rng, regs, len);
        check_with_data(&mut rng, regs, &words, &format!("case {case}"));
    }
}

/// Base registers of [`memory_program`] and the addresses they hold: the
/// data pages, the read-only page, pages aliasing both in the translation
/// cache (never written before the program runs), the end of the guard
/// region, and the last word of a data page.
const MEMORY_BASES: [(u32, u32); 7] = [
    (3, DATA_BASE),
    (4, RODATA),
    (5, ALIAS_BASE),
    (6, ALIAS_BASE + 0x2000),
    (7, 0x1000 - 8),
    (8, DATA_BASE + 0xff8),
    (9, ALIAS_BASE + 0x1000),
];

/// A random program of loads and stores of every size through
/// [`MEMORY_BASES`] (offsets that straddle pages, sometimes misaligned),
/// with some ALU work on the value registers `x10..x14` and backward
/// branches counted down by `x15`, so that translations are filled,
/// evicted by aliases and hit again, read entries exist before the first
/// store to a page, and stores hit read-only, fresh, guard and
/// over-the-limit pages.
fn memory_program(rng: &mut SmallRng, len: usize) -> Vec<u32> {
    let mut words: Vec<u32> = Vec::new();
    for (reg, addr) in MEMORY_BASES {
        words.extend(li(reg, addr));
    }
    words.push(i_type(rng.gen_range(0..6), 0, 0, 15, 0x13));
    let prologue = words.len();
    let value = |rng: &mut SmallRng| rng.gen_range(10..15);
    while words.len() < len {
        let (base, _) = MEMORY_BASES[rng.gen_range(0..MEMORY_BASES.len())];
        let size_log = rng.gen_range(0..3u32);
        let mut offset = rng.gen_range(-4..8) << size_log;
        if rng.gen_bool(0.05) {
            offset += 1;
        }
        match rng.gen_range(0..10) {
            0..=3 => {
                let unsigned = if size_log < 2 && rng.gen_bool(0.5) { 4 } else { 0 };
                words.push(i_type(offset, base, size_log + unsigned, value(rng), 0x03));
            }
            4..=6 => words.push(s_type(offset, value(rng), base, size_log)),
            7 => words.push(r_type(0, value(rng), value(rng), rng.gen_range(0..8), value(rng))),
            8 => words.push(i_type(rng.gen_range(-64..64), value(rng), 0, value(rng), 0x13)),
            _ => {
                // addi x15, x15, -1; blt x0, x15, back
                let back = rng.gen_range(1..=(words.len() - prologue).clamp(1, 12)) as i32;
                words.push(i_type(-1, 15, 0, 15, 0x13));
                words.push(b_type(-(back + 1) * 4, 15, 0, 4));
            }
        }
    }
    words.push(i_type(0, 0, 0, 5, 0x13)); // t0 = HALT
    words.push(0x73);
    words
}

#[test]
fn fast_engine_matches_reference_on_memory_programs() {
    let mut rng = SmallRng::seed_from_u64(0x71b);
    for case in 0..1500 {
        let regs = if case % 2 == 0 { RegisterSet::Rv32e } else { RegisterSet::Rv32i };
        let len = rng.gen_range(16..120);
        let words = memory_program(&mut rng, len);
        check_with_data(&mut rng, regs, &words, &format!("memory case {case}"));
    }
}

#[test]
fn fast_engine_matches_reference_on_raw_random_words() {
    let mut rng = SmallRng::seed_from_u64(7);
    for case in 0..2000 {
        let regs = if case % 2 == 0 { RegisterSet::Rv32e } else { RegisterSet::Rv32i };
        let words: Vec<u32> = (0..rng.gen_range(1..64)).map(|_| rng.gen()).collect();
        let program = Program::from_words(CODE_BASE, &words, regs).expect("valid");
        assert_same(&program, 10_000, 1 << 20, &format!("case {case}"));
    }
}

/// A loop long enough to take many gas budgets inside the fast engine,
/// stopped by out-of-gas at limits around budget boundaries, and run to
/// completion.
#[test]
fn fast_engine_matches_reference_on_long_loops() {
    // x5 = 200_000; loop: addi x6, x6, 3; addi x5, x5, -1; bne x5, x0, loop; halt
    let mut words = li(5, 200_000).to_vec();
    words.extend([i_type(3, 6, 0, 6, 0x13), i_type(-1, 5, 0, 5, 0x13), b_type(-8, 0, 5, 1)]);
    words.extend([i_type(0, 0, 0, 5, 0x13), i_type(0, 0, 0, 10, 0x13), 0x73]);
    let program = Program::from_words(CODE_BASE, &words, RegisterSet::Rv32e).expect("valid");
    let mut gases = vec![600_005, 10_000_000];
    for k in 1..6u64 {
        gases.extend([k * 65_536 - 1, k * 65_536, k * 65_536 + 1, k * 65_537 + 2]);
    }
    for gas in gases {
        assert_same(&program, gas, 1 << 20, &format!("gas {gas}"));
    }
}

/// A straight-line run costing more than the fast engine's usual gas
/// budget: it must still run as one charged run, and out of gas anywhere
/// in it must match.
#[test]
fn fast_engine_matches_reference_on_a_run_longer_than_a_budget() {
    // x3 = DATA_BASE; 40_000 x `lw x4, 0(x3)` (2 gas each); halt
    let mut words = li(3, DATA_BASE).to_vec();
    words.extend(std::iter::repeat_n(i_type(0, 3, 2, 4, 0x03), 40_000));
    words.extend([i_type(0, 0, 0, 5, 0x13), i_type(0, 0, 0, 10, 0x13), 0x73]);
    let program = common::program_with_data(RegisterSet::Rv32e, &words);
    for gas in [1_000_000, 80_000, 80_015, 65_536, 3] {
        assert_same(&program, gas, 1 << 20, &format!("gas {gas}"));
    }
}

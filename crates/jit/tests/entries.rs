//! Differential tests of how native code is entered and left in the middle
//! of a run: a `JALR` into every slot of a long straight-line run (its run
//! charge comes from the entry table, so slots that start no run, slots
//! inside a stack-window segment and slow slots are all targets), exits
//! through trap sites in the shared access routines (guard region,
//! misalignment, read-only bytes, a store that allocates a page and is
//! stepped, after which the Rust loop re-enters mid-run), at every gas
//! limit (out of gas at every instruction of the run, including right at
//! an entry).
#![cfg(all(target_arch = "x86_64", target_os = "linux"))]

mod common;

use athena_jit::JitProgram;
use athena_vm::{MachineConfig, Program, RegisterSet, Segment};
use common::*;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const SP: u32 = 2;
const RODATA: u32 = 0x3000;

/// The code, a written page, then a .bss page (allocated by the first
/// store), then read-only bytes at `RODATA`.
fn image(code: &[u32]) -> Vec<Segment> {
    common::image(code, noise(0x1000, 9), 0x2000, RODATA, vec![5; 0x40])
}

fn pages() -> Vec<u32> {
    let mut pages: Vec<u32> = (0..4).map(|p| DATA_BASE + p * 0x1000).collect();
    pages.extend((0..4).map(|p| 0x7fff_c000 + p * 0x1000));
    pages
}

/// What a body slot at a chosen position does instead of its normal work.
#[derive(Clone, Copy, Debug)]
enum Trap {
    None,
    /// A load from the guard region (through an entry's routine).
    Guard,
    /// A misaligned load through a pointer.
    Misaligned,
    /// A store to read-only bytes (the store routine's helper refuses).
    ReadOnly,
    /// A misaligned `sp`-relative store (not a window access).
    MisalignedStack,
    /// `EBREAK`: a slow slot.
    Ebreak,
    /// An illegal word: a slow slot.
    Illegal,
}

/// A straight-line body of `len` normal slots (ALU ops, window accesses,
/// checked loads and stores through pointers, a load to x0, stores to the
/// .bss page, multiplies and divides), with `trap` at slot `at`.
fn body(rng: &mut SmallRng, len: usize, trap: Trap, at: usize) -> Vec<u32> {
    let reg = |rng: &mut SmallRng| -> u32 { rng.gen_range(10..16) };
    let mut w = Vec::with_capacity(len);
    for k in 0..len {
        if k == at {
            w.push(match trap {
                Trap::None => enc_i(1, 10, 0, 10, 0x13),
                Trap::Guard => enc_i(0x10, 0, 2, reg(rng), 0x03),
                Trap::Misaligned => enc_i(0x42, 3, 2, reg(rng), 0x03),
                Trap::ReadOnly => enc_s(8, reg(rng), 4, 2),
                Trap::MisalignedStack => enc_s(6, reg(rng), SP, 2),
                Trap::Ebreak => 0x0010_0073,
                Trap::Illegal => 0,
            });
            continue;
        }
        let word = match rng.gen_range(0..12) {
            0..=2 => {
                // Window accesses (aligned offsets: segments).
                let (f3, size) = [(2, 4), (1, 2), (0, 1), (4, 1), (5, 2)][rng.gen_range(0..5)];
                let off = rng.gen_range(-8..24) * size;
                if rng.gen_bool(0.5) && f3 < 3 {
                    enc_s(off, reg(rng), SP, f3)
                } else {
                    enc_i(off, SP, f3, reg(rng), 0x03)
                }
            }
            3 => enc_i(rng.gen_range(0..64) * 4, 3, 2, reg(rng), 0x03),
            4 => enc_s(rng.gen_range(0..64) * 4, reg(rng), 3, 2),
            5 => enc_s(rng.gen_range(0..64) * 4, reg(rng), 5, rng.gen_range(0..3)), // .bss
            6 => enc_i(rng.gen_range(0..16) * 4, 3, 4, 0, 0x03),                    // load to x0
            7 => enc_r(1, reg(rng), reg(rng), [0, 3, 4, 7][rng.gen_range(0..4)], reg(rng)),
            _ => {
                let f3 = [0, 4, 6, 7, 1, 5][rng.gen_range(0..6)];
                let imm = if f3 == 1 || f3 == 5 { rng.gen_range(0..32) } else { rng.gen_range(-64..64) };
                enc_i(imm, reg(rng), f3, reg(rng), 0x13)
            }
        };
        w.push(word);
    }
    w
}

/// A program that sets up its pointers, jumps with `JALR` to slot `entry`
/// of `body`, runs to the body's end and halts with a checksum.
fn program(body: &[u32], entry: usize, sp: u32, regs: RegisterSet) -> Program {
    let mut code = Vec::new();
    code.extend(load_const(3, DATA_BASE));
    code.extend(load_const(5, DATA_BASE + 0x1000));
    code.extend(load_const(4, DATA_BASE + RODATA));
    code.extend(load_const(SP, sp));
    for r in 10..16 {
        code.extend(load_const(r, 0x3141_5926u32.wrapping_mul(r)));
    }
    // auipc x7, 0; jalr x1, (body - auipc + 4 * entry)(x7)
    code.extend([(7 << 7) | 0x17, enc_i(8 + 4 * entry as i32, 7, 0, 1, 0x67)]);
    code.extend_from_slice(body);
    // a0 = xor of the body's registers; halt.
    code.push(enc_i(0, 10, 0, 9, 0x13));
    for r in 11..16 {
        code.push(enc_r(0, r, 9, 4, 9));
    }
    code.extend([enc_i(0, 0, 0, 5, 0x13), enc_i(0, 9, 0, 10, 0x13), 0x73]);
    Program::from_segments(CODE_BASE, regs, image(&code)).expect("valid program")
}

#[test]
fn jalr_into_every_slot_of_a_run_at_every_gas_limit() {
    let mut rng = SmallRng::seed_from_u64(0x5eed_0201);
    let traps =
        [Trap::None, Trap::Guard, Trap::Misaligned, Trap::ReadOnly, Trap::MisalignedStack, Trap::Ebreak, Trap::Illegal];
    let pages = pages();
    for case in 0..28 {
        let regs = if case % 2 == 0 { RegisterSet::Rv32e } else { RegisterSet::Rv32i };
        let len = rng.gen_range(12..40);
        let trap = traps[case % traps.len()];
        let at = rng.gen_range(0..len);
        let code = body(&mut rng, len, trap, at);
        // The frame in the middle of a page (window segments run), or
        // straddling a page boundary (their checked copies run).
        let sp = if case % 4 < 2 { 0x7fff_e800 } else { 0x7fff_dfe0 + 16 * rng.gen_range(0..5) };
        for entry in 0..=len {
            let program = program(&code, entry, sp, regs);
            let jit = JitProgram::compile(&program).expect("compile");
            let full = observe(None, &program, MachineConfig::default(), true);
            let used = gas_used(&full.0);
            for memory_limit in [1 << 20, 0x5000] {
                for gas in (0..=used + 1).chain([1_000_000]) {
                    let config = MachineConfig { gas_limit: gas, memory_limit };
                    check_memory(&program, &jit, config, &pages, &|| {
                        format!("case {case} {trap:?} at {at} entry {entry} gas {gas} mem {memory_limit:#x} {regs:?}")
                    });
                }
            }
        }
    }
}

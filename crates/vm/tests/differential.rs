//! Differential test: the fast engine must agree with the reference
//! interpreter bit for bit (exit, gas, instruction count, output, registers,
//! pc, memory) on random programs biased toward valid, deep-running code,
//! and on programs aimed at its translation cache.

use athena_test_elf::asm::{b_type, i_type, j_type, lui, r_type, s_type};
use athena_vm::memory::{PAGE_SIZE, STACK_TOP};
use athena_vm::{CollectingEnvironment, Engine, Machine, MachineConfig, Program, RegisterSet, Segment};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const CODE_BASE: u32 = 0x1_0000;
const DATA_BASE: u32 = 0x4_0000;
/// Read-only page right after the two writable data pages.
const RODATA: u32 = DATA_BASE + 0x2000;
/// Pages whose numbers equal the data pages' modulo every power of two up
/// to 2^20: they share the translation cache's entries with them.
const ALIAS_BASE: u32 = DATA_BASE + 0x10_0000;

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

/// FNV-1a digest of the allocated page count and of every allocated page
/// among the ones the test programs can reach: the data areas, the stack
/// top, and a page window around every final register value.
fn memory_digest(machine: &Machine<'_>) -> u64 {
    let memory = machine.memory();
    let mut pages: Vec<u32> = (0..8).map(|p| DATA_BASE + p * PAGE_SIZE).collect();
    pages.extend((0..8).map(|p| ALIAS_BASE + p * PAGE_SIZE));
    pages.push(STACK_TOP - PAGE_SIZE);
    for &r in machine.registers() {
        let page = r & !(PAGE_SIZE - 1);
        pages.extend([page.wrapping_sub(PAGE_SIZE), page, page.wrapping_add(PAGE_SIZE)]);
    }
    pages.sort_unstable();
    pages.dedup();
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ u64::from(memory.allocated_pages());
    let mut bytes = vec![0u8; PAGE_SIZE as usize];
    for p in pages.into_iter().filter(|&p| memory.is_allocated(p)) {
        memory.read_bytes(p, &mut bytes);
        for &b in bytes.iter().chain(&p.to_le_bytes()) {
            h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    h
}

/// Everything observable after a run.
#[derive(Debug, PartialEq, Eq)]
struct Observed {
    outcome: String,
    registers: Vec<u32>,
    pc: u32,
    output: CollectingEnvironment,
    memory: u64,
}

fn run(program: &Program, engine: Engine, gas: u64, memory_limit: u32) -> Observed {
    let mut machine = Machine::new(program, MachineConfig { gas_limit: gas, memory_limit }).expect("instantiate");
    let mut env = CollectingEnvironment::with_input(b"differential input bytes".to_vec());
    let outcome = machine.run_with(engine, &mut env);
    Observed {
        outcome: format!("{outcome:?}"),
        registers: machine.registers().to_vec(),
        pc: machine.pc(),
        output: env,
        memory: memory_digest(&machine),
    }
}

fn assert_same(program: &Program, gas: u64, memory_limit: u32, what: &str) {
    let reference = run(program, Engine::Reference, gas, memory_limit);
    let fast = run(program, Engine::Fast, gas, memory_limit);
    assert_eq!(reference.outcome, fast.outcome, "{what}: outcome differs");
    assert_eq!(reference.registers, fast.registers, "{what}: registers differ");
    assert_eq!(reference.output, fast.output, "{what}: output differs");
    // The pc after a halt or trap is part of the observable state too.
    assert_eq!(reference.pc, fast.pc, "{what}: pc differs");
    assert_eq!(reference.memory, fast.memory, "{what}: memory differs");
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

/// Loads `words` at [`CODE_BASE`] next to the data pages and the read-only
/// page and checks both engines agree under several gas and memory limits.
fn check_with_data(rng: &mut SmallRng, regs: RegisterSet, words: &[u32], what: &str) {
    let data =
        Segment { vaddr: DATA_BASE, mem_size: 0x2000, data: vec![0x5a; 0x100], executable: false, writable: true };
    let rodata = Segment { vaddr: RODATA, mem_size: 0x100, data: vec![7; 0x100], executable: false, writable: false };
    let code: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    let text = Segment { vaddr: CODE_BASE, mem_size: code.len() as u32, data: code, executable: true, writable: false };
    let program = Program::from_segments(CODE_BASE, regs, vec![text, data, rodata]).expect("valid");
    // Several gas limits per program, so out-of-gas lands everywhere,
    // including inside runs and on page-allocation charges.
    for gas in [rng.gen_range(0..60), rng.gen_range(60..400), rng.gen_range(400..5000), 200_000] {
        let memory_limit = if rng.gen_bool(0.2) { 0x5000 } else { 1 << 20 };
        assert_same(&program, gas, memory_limit, &format!("{what} gas {gas} limit {memory_limit} words {words:08x?}"));
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
        let low = ((addr & 0xfff) as i32) << 20 >> 20;
        words.push(lui(reg, addr.wrapping_sub(low as u32) >> 12));
        words.push(i_type(low, reg, 0, reg, 0x13));
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

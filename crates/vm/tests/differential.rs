//! Differential test: the fast engine must agree with the reference
//! interpreter bit for bit (exit, gas, instruction count, output, registers,
//! pc) on random programs biased toward valid, deep-running code.

use athena_test_elf::asm::{b_type, i_type, j_type, r_type, s_type};
use athena_vm::{CollectingEnvironment, Engine, Machine, MachineConfig, Program, RegisterSet, Segment};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const CODE_BASE: u32 = 0x1_0000;
const DATA_BASE: u32 = 0x4_0000;

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

fn run(
    program: &Program,
    engine: Engine,
    gas: u64,
    memory_limit: u32,
) -> (String, Vec<u32>, u32, CollectingEnvironment) {
    let mut machine = Machine::new(program, MachineConfig { gas_limit: gas, memory_limit }).expect("instantiate");
    let mut env = CollectingEnvironment::with_input(b"differential input bytes".to_vec());
    let outcome = machine.run_with(engine, &mut env);
    (format!("{outcome:?}"), machine.registers().to_vec(), machine.pc(), env)
}

fn assert_same(program: &Program, gas: u64, memory_limit: u32, what: &str) {
    let reference = run(program, Engine::Reference, gas, memory_limit);
    let fast = run(program, Engine::Fast, gas, memory_limit);
    assert_eq!(reference.0, fast.0, "{what}: outcome differs");
    assert_eq!(reference.1, fast.1, "{what}: registers differ");
    assert_eq!(reference.3, fast.3, "{what}: output differs");
    // The pc after a halt or trap is part of the observable state too.
    assert_eq!(reference.2, fast.2, "{what}: pc differs");
}

#[test]
fn fast_engine_matches_reference_on_random_programs() {
    let mut rng = SmallRng::seed_from_u64(0xa7e4a);
    let data =
        Segment { vaddr: DATA_BASE, mem_size: 0x2000, data: vec![0x5a; 0x100], executable: false, writable: true };
    let rodata = Segment {
        vaddr: DATA_BASE + 0x2000,
        mem_size: 0x100,
        data: vec![7; 0x100],
        executable: false,
        writable: false,
    };
    for case in 0..3000 {
        let regs = if case % 2 == 0 { RegisterSet::Rv32e } else { RegisterSet::Rv32i };
        let len = rng.gen_range(4..200);
        let words = random_program(&mut rng, regs, len);
        let code: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        let text =
            Segment { vaddr: CODE_BASE, mem_size: code.len() as u32, data: code, executable: true, writable: false };
        let program = Program::from_segments(CODE_BASE, regs, vec![text, data.clone(), rodata.clone()]).expect("valid");
        // Several gas limits per program, so out-of-gas lands everywhere,
        // including inside runs and on page-allocation charges.
        for gas in [rng.gen_range(0..60), rng.gen_range(60..400), rng.gen_range(400..5000), 200_000] {
            let memory_limit = if rng.gen_bool(0.2) { 0x4000 } else { 1 << 20 };
            assert_same(&program, gas, memory_limit, &format!("case {case} gas {gas} words {words:08x?}"));
        }
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

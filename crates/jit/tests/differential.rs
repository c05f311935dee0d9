//! Differential test: the recompiler must agree with the reference
//! interpreter bit for bit (exit, gas, instruction count, output, registers,
//! pc) on random programs, at many gas limits.
#![cfg(all(target_arch = "x86_64", target_os = "linux"))]

mod common;

use athena_jit::JitProgram;
use athena_vm::{MachineConfig, Program, RegisterSet, Segment};
use common::*;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// Random code biased toward programs that run long: `x3` points at the
/// written data page and `x4` at the page with read-only bytes (so 12-bit
/// offsets reach the data page, the .bss page below `x4`, the read-only
/// bytes and the writable rest of their page, and the unallocated page
/// below `x3`), small register pool, loops through backward branches, calls
/// and returns through `x1`, syscalls, and a sprinkle of traps (misaligned
/// accesses and jumps, guard-region accesses, read-only stores, raw words).
fn generate(rng: &mut SmallRng, regs: RegisterSet, len: usize, hot: [u32; 6]) -> Vec<u32> {
    let top = if regs == RegisterSet::Rv32e { 16 } else { 32 };
    let pick = |rng: &mut SmallRng| -> u32 {
        // Mostly a few hot registers, so values flow between instructions.
        if rng.gen_bool(0.7) {
            hot[rng.gen_range(0..6)]
        } else {
            rng.gen_range(0..top)
        }
    };
    let dst = |rng: &mut SmallRng| -> u32 {
        let r = if rng.gen_bool(0.7) { hot[rng.gen_range(1..5)] } else { rng.gen_range(0..top) };
        if r == 3 || r == 1 || r == 4 {
            9
        } else {
            r
        }
    };
    let mut w = vec![
        (DATA_BASE & 0xffff_f000) | (3 << 7) | 0x37,            // lui x3, DATA_BASE
        ((DATA_BASE + RODATA) & 0xffff_f000) | (4 << 7) | 0x37, // lui x4, DATA_BASE + RODATA
        enc_i(100, 0, 0, 6, 0x13),                              // addi x6, x0, 100 (loop budget)
    ];
    while w.len() < len {
        let at = w.len() as i32;
        let word = match rng.gen_range(0..100) {
            0..=24 => {
                let f3 = rng.gen_range(0..8);
                let imm = match f3 {
                    1 => rng.gen_range(0..32),
                    5 => rng.gen_range(0..32) | if rng.gen_bool(0.5) { 0x400 } else { 0 },
                    _ => {
                        if rng.gen_bool(0.5) {
                            rng.gen_range(-4..4)
                        } else {
                            rng.gen_range(-2048..2048)
                        }
                    }
                };
                enc_i(imm, pick(rng), f3, dst(rng), 0x13)
            }
            25..=44 => {
                let (f7, f3) = match rng.gen_range(0..4) {
                    0 | 1 => (0, rng.gen_range(0..8)),
                    2 => (0x20, if rng.gen_bool(0.5) { 0 } else { 5 }),
                    _ => (1, rng.gen_range(0..8)),
                };
                enc_r(f7, pick(rng), pick(rng), f3, dst(rng))
            }
            45..=56 => {
                let f3 = [0, 1, 2, 4, 5][rng.gen_range(0..5)];
                let (base, imm) = match rng.gen_range(0..20) {
                    0 => (pick(rng), rng.gen_range(-2048..2048)),
                    1 => (0, rng.gen_range(0..2048)), // guard region
                    2 => (3, rng.gen_range(0..512) * 4 + rng.gen_range(1..4)),
                    3 => (4, rng.gen_range(0..RO_WORDS) * 4), // read-only bytes
                    4 => (4, rng.gen_range(RO_WORDS..512) * 4), // the rest of their page
                    5 | 6 => (4, -rng.gen_range(1..512) * 4), // .bss page
                    7 => (3, -rng.gen_range(1..512) * 4),     // never written page
                    _ => (3, rng.gen_range(0..512) * 4),
                };
                enc_i(imm, base, f3, dst(rng), 0x03)
            }
            57..=66 => {
                let f3 = rng.gen_range(0..3);
                let (base, imm) = match rng.gen_range(0..20) {
                    0 => (pick(rng), rng.gen_range(-2048..2048)),
                    1 => (0, rng.gen_range(0..2048)),
                    2 => (3, rng.gen_range(0..512) * 4 + rng.gen_range(1..4)),
                    3 => (4, rng.gen_range(0..RO_WORDS) * 4), // read-only bytes: faults
                    4 => (4, rng.gen_range(RO_WORDS..512) * 4), // their page's writable rest: stepped
                    5..=7 => (4, -rng.gen_range(1..512) * 4), // .bss page, allocated on first store
                    8 => (3, -rng.gen_range(1..512) * 4),     // below the data area: fresh page
                    _ => (3, rng.gen_range(0..512) * 4),
                };
                enc_s(imm, pick(rng), base, f3)
            }
            67..=72 => {
                // Counted loop: decrement x6, branch back while positive.
                let back = rng.gen_range(1..=at.min(12));
                count_down(&mut w, back)
            }
            73..=80 => {
                let target = rng.gen_range(0..len as i32 + 2);
                let f3 = [0, 1, 4, 5, 6, 7][rng.gen_range(0..6)];
                let mut off = (target - at) * 4;
                if rng.gen_bool(0.03) {
                    off += 2;
                }
                enc_b(off, pick(rng), pick(rng), f3)
            }
            81..=84 => {
                let target = rng.gen_range(0..len as i32 + 2);
                let mut off = (target - at) * 4;
                if rng.gen_bool(0.03) {
                    off += 2;
                }
                enc_j(off, if rng.gen_bool(0.6) { 1 } else { 0 })
            }
            85..=87 => {
                // Return through x1, or an indirect jump through junk.
                let (rs1, imm) = if rng.gen_bool(0.8) {
                    (1, [0, 0, 0, 4, -4, 1, 2][rng.gen_range(0..7)])
                } else {
                    (pick(rng), rng.gen_range(-16..16))
                };
                enc_i(imm, rs1, 0, if rng.gen_bool(0.3) { 0 } else { dst(rng) }, 0x67)
            }
            88..=90 => {
                let opcode = if rng.gen_bool(0.5) { 0x37 } else { 0x17 };
                (rng.gen::<u32>() & 0xffff_f000) | (dst(rng) << 7) | opcode
            }
            91..=95 => {
                let num = [2, 3, 4, 0, 9, 2][rng.gen_range(0..6)];
                w.push(enc_i(num, 0, 0, 5, 0x13));
                match num {
                    2 => {
                        w.push(enc_i(if rng.gen_bool(0.9) { 1 } else { 3 }, 0, 0, 10, 0x13));
                        w.push(enc_i(rng.gen_range(0..64), 3, 0, 11, 0x13));
                        w.push(enc_i(rng.gen_range(0..48), 0, 0, 12, 0x13));
                    }
                    4 => {
                        w.push(enc_i(rng.gen_range(0..128) * 4, 3, 0, 10, 0x13));
                        w.push(enc_i(rng.gen_range(0..8), 0, 0, 11, 0x13));
                        w.push(enc_i(rng.gen_range(0..40), 0, 0, 12, 0x13));
                    }
                    9 => {
                        let base = if rng.gen_bool(0.9) { 3 } else { 0 };
                        w.push(enc_i(rng.gen_range(-4..600) * 4, base, 0, 10, 0x13));
                        w.push(enc_i(rng.gen_range(0..16), 0, 0, 12, 0x13));
                    }
                    _ => {}
                }
                0x73
            }
            96 => 0x0ff0_000f,
            97 => 0x0010_0073, // ebreak
            _ => rng.gen(),
        };
        w.push(word);
    }
    w.truncate(len);
    w
}

/// The hot register pool of random program `case`. The recompiler caches
/// the statically hottest guest registers in host registers, so rotating
/// the pool puts different guest registers (the syscall number `t0`, the
/// arguments and results `a0`..`a5`, `sp`, `tp`, random ones) in every
/// cached host register, callee- and caller-saved.
fn hot_pool(rng: &mut SmallRng, regs: RegisterSet, case: usize) -> [u32; 6] {
    let top = if regs == RegisterSet::Rv32e { 16 } else { 32 };
    match case % 4 {
        0 => [5, 6, 7, 8, 9, 10],
        1 => [10, 11, 12, 13, 14, 15],
        2 => [2, 4, 5, 11, 12, 13],
        _ => std::array::from_fn(|_| rng.gen_range(1..top)),
    }
}

/// Where the read-only bytes start (from `DATA_BASE`), and how many words
/// they are.
const RODATA: u32 = 0x2000;
const RO_WORDS: i32 = 0x20;

/// One written page plus a .bss page allocated (and charged) on first
/// store, then the read-only bytes.
fn segments(code: &[u32]) -> Vec<Segment> {
    let ro = (RO_WORDS * 4) as u32;
    image(code, vec![0xa5; 0x1000], 0x2000, RODATA, (0..ro).map(|i| i as u8 ^ 0x3c).collect())
}

/// A random program of `len` instructions (hot registers from
/// [`hot_pool`] for `case`) over [`segments`], and its compiled form: the
/// setup of the random-program tests.
fn random_program(rng: &mut SmallRng, regs: RegisterSet, len: usize, case: usize) -> (Vec<u32>, Program, JitProgram) {
    let hot = hot_pool(rng, regs, case);
    let code = generate(rng, regs, len, hot);
    let program = Program::from_segments(CODE_BASE, regs, segments(&code)).expect("valid program");
    let jit = JitProgram::compile(&program).expect("compile");
    (code, program, jit)
}

#[test]
fn jit_matches_reference_on_random_programs() {
    let mut rng = SmallRng::seed_from_u64(0x5eed_0001);
    for case in 0..3000 {
        let regs = if case % 3 == 0 { RegisterSet::Rv32i } else { RegisterSet::Rv32e };
        let len = rng.gen_range(3..160);
        let (code, program, jit) = random_program(&mut rng, regs, len, case / 3);
        for gas in [
            rng.gen_range(0..40),
            rng.gen_range(40..300),
            rng.gen_range(300..4000),
            rng.gen_range(4000..60_000),
            1_000_000,
        ] {
            let memory_limit = match rng.gen_range(0..5) {
                0 => 0x3000, // exactly the image: any fresh page is out of memory
                1 => 0x4000,
                _ => 1 << 20,
            };
            let config = MachineConfig { gas_limit: gas, memory_limit };
            check(&program, &jit, config, &|| format!("case {case} gas {gas} mem {memory_limit:#x} code {code:08x?}"));
        }
    }
}

#[test]
fn jit_matches_reference_with_host_functions() {
    let mut rng = SmallRng::seed_from_u64(0x5eed_0003);
    for case in 0..1000 {
        let regs = if case % 2 == 0 { RegisterSet::Rv32i } else { RegisterSet::Rv32e };
        let len = rng.gen_range(3..120);
        let (code, program, jit) = random_program(&mut rng, regs, len, case / 2);
        for gas in [rng.gen_range(0..300), rng.gen_range(300..5000), 1_000_000] {
            let config = MachineConfig { gas_limit: gas, memory_limit: 1 << 20 };
            check_env(&program, &jit, config, true, &|| format!("case {case} gas {gas} code {code:08x?}"));
        }
    }
}

#[test]
fn jit_matches_reference_on_raw_words() {
    let mut rng = SmallRng::seed_from_u64(0x5eed_0002);
    for case in 0..2000 {
        let regs = if case % 2 == 0 { RegisterSet::Rv32e } else { RegisterSet::Rv32i };
        let words: Vec<u32> = (0..rng.gen_range(1..48)).map(|_| rng.gen()).collect();
        let program = Program::from_words(CODE_BASE, &words, regs).expect("valid");
        let jit = JitProgram::compile(&program).expect("compile");
        let config = MachineConfig { gas_limit: rng.gen_range(0..20_000), memory_limit: 1 << 20 };
        check(&program, &jit, config, &|| format!("case {case} words {words:08x?}"));
    }
}

#[test]
fn jit_handles_two_adjacent_code_regions() {
    // Falling off the end of one executable segment into the next, and
    // jumping back: control crosses regions through the dispatch exit.
    let first = [enc_i(5, 0, 0, 6, 0x13), enc_i(1, 7, 0, 7, 0x13)]; // x6 = 5; x7 += 1
    let second = [
        enc_i(-1, 6, 0, 6, 0x13), // x6 -= 1
        enc_b(-8, 6, 0, 4),       // blt x0, x6, -> first[1]
        enc_i(0, 0, 0, 5, 0x13),  // t0 = HALT
        enc_i(0, 7, 0, 10, 0x13), // a0 = x7
        0x73,
    ];
    let bytes = |ws: &[u32]| -> Vec<u8> { ws.iter().flat_map(|w| w.to_le_bytes()).collect() };
    let segs = vec![
        Segment { vaddr: CODE_BASE, mem_size: 8, data: bytes(&first), executable: true, writable: false },
        Segment { vaddr: CODE_BASE + 8, mem_size: 20, data: bytes(&second), executable: true, writable: false },
    ];
    let program = Program::from_segments(CODE_BASE, RegisterSet::Rv32e, segs).expect("valid");
    let jit = JitProgram::compile(&program).expect("compile");
    for gas in 0..80 {
        check(&program, &jit, MachineConfig { gas_limit: gas, memory_limit: 1 << 20 }, &|| format!("gas {gas}"));
    }
    let r = run_jit(&jit, &program, MachineConfig::default());
    assert!(r.0.starts_with("Outcome { exit: Halted { code: 5 }"), "{}", r.0);
    check(&program, &jit, MachineConfig::default(), &|| "unlimited".into());
}

#[test]
fn jit_matches_reference_on_alu_edge_values() {
    let values =
        [0u32, 1, 2, 31, 32, 33, 0x7fff_ffff, 0x8000_0000, 0x8000_0001, 0xffff_ffff, 0xffff_fff9, 7, 0x1234_5678];
    // (funct7, funct3) of every OP instruction, base and M.
    let ops: Vec<(u32, u32)> =
        (0..8).map(|f3| (0, f3)).chain([(0x20, 0), (0x20, 5)]).chain((0..8).map(|f3| (1, f3))).collect();
    // x8 = (x8 ^ result) * odd constant after every op: a bijective chain, so
    // any single wrong result changes the final x8.
    let mut code = Vec::from(load_const(9, 0x9e37_79b1));
    let fold = |code: &mut Vec<u32>| {
        code.push(enc_r(0, 7, 8, 4, 8)); // xor x8, x8, x7
        code.push(enc_r(1, 9, 8, 0, 8)); // mul x8, x8, x9
    };
    for &a in &values {
        for &b in &values {
            code.extend(load_const(5, a));
            code.extend(load_const(6, b));
            for &(f7, f3) in &ops {
                code.push(enc_r(f7, 6, 5, f3, 7));
                fold(&mut code);
            }
            // Immediate forms with b's low 12 bits (shift amounts masked).
            let imm = ((b << 20) as i32) >> 20;
            let shamt = (b & 31) as i32;
            for (f3, imm) in
                [(0, imm), (2, imm), (3, imm), (4, imm), (6, imm), (7, imm), (1, shamt), (5, shamt), (5, shamt | 0x400)]
            {
                code.push(enc_i(imm, 5, f3, 7, 0x13));
                fold(&mut code);
            }
        }
    }
    code.extend([enc_i(0, 0, 0, 5, 0x13), enc_i(0, 8, 0, 10, 0x13), 0x73]);
    let program = Program::from_words(CODE_BASE, &code, RegisterSet::Rv32i).expect("valid");
    let jit = JitProgram::compile(&program).expect("compile");
    check(&program, &jit, MachineConfig::default(), &|| "alu edge values".into());
    let r = run_jit(&jit, &program, MachineConfig::default());
    assert!(r.0.contains("Halted"), "{}", r.0);
}

#[test]
#[should_panic(expected = "different program")]
fn jit_refuses_a_machine_of_another_program() {
    let a = Program::from_words(CODE_BASE, &[0x73], RegisterSet::Rv32e).expect("valid");
    let b = Program::from_words(CODE_BASE, &[0x13, 0x73], RegisterSet::Rv32e).expect("valid");
    let jit = JitProgram::compile(&a).expect("compile");
    let _ = run_jit(&jit, &b, MachineConfig::default());
}

/// The inline page cache: loads and stores alternating between pages (each
/// access a hit or a miss depending on the previous one), a pointer walking
/// into fresh pages (allocated by the reference stepper, then stored to and
/// loaded from right away), a host function writing memory between native
/// runs, stores to a page that has read-only bytes (allowed bytes: stepped;
/// read-only bytes: the final store faults), at every gas limit and with a
/// memory limit that runs out mid-walk.
#[test]
fn jit_page_cache_matches_reference() {
    let (lw, lh, lbu, sw, sh, sb) = (2, 1, 4, 2, 1, 0);
    let load = |f3: u32, rd: u32, base: u32, imm: i32| enc_i(imm, base, f3, rd, 0x03);
    let store = |f3: u32, rs2: u32, base: u32, imm: i32| enc_s(imm, rs2, base, f3);
    let add = |rd: u32, a: u32, b: u32| enc_r(0, b, a, 0, rd);
    let mut code = Vec::new();
    // x3 page 0 (data), x18 page 1 (data), x19 page 2 (data), x20 and x21
    // .bss pages, x22 the page with read-only bytes, x16 a walking pointer
    // in never-touched memory; x6 loop counter, x8 checksum.
    for (rd, value) in [
        (3, DATA_BASE),
        (18, DATA_BASE + 0x1000),
        (19, DATA_BASE + 0x2000),
        (20, DATA_BASE + 0x3000),
        (21, DATA_BASE + 0x4000),
        (22, DATA_BASE + 0x5000),
        (16, 0x7000_0ff0),
    ] {
        code.extend(load_const(rd, value));
    }
    code.push(enc_i(24, 0, 0, 6, 0x13)); // x6 = 24
    let top = code.len() as i32;
    code.extend([
        load(lw, 9, 3, 0),
        add(8, 8, 9),
        store(sw, 8, 18, 4),
        load(lw, 9, 19, 8),
        store(sb, 9, 3, 1),
        load(lh, 10, 18, 4),
        add(8, 8, 10),
        store(sw, 8, 20, 0), // .bss: allocated by the stepper on first use
        load(lw, 10, 20, 0),
        store(sh, 10, 21, 2),
        load(lbu, 10, 21, 3),
        add(8, 8, 10),
        store(sw, 8, 22, 0x100), // page with read-only bytes, writable byte
        load(lw, 10, 22, 0x100),
        load(lw, 9, 22, 0x10), // read-only bytes read fine
        add(8, 8, 10),
        add(8, 8, 9),
        store(sw, 8, 16, 0), // fresh page every few iterations
        store(sw, 9, 16, 4), // right after the allocating store
        load(lw, 10, 16, 0),
        add(8, 8, 10),
        // Host function 9 writes 8 bytes at a0 (a .bss page) between runs.
        enc_i(9, 0, 0, 5, 0x13),
        enc_i(16, 20, 0, 10, 0x13),
        enc_i(3, 0, 0, 12, 0x13),
        0x73,
        load(lw, 9, 20, 16),
        add(8, 8, 9),
        enc_i(0x3f8, 16, 0, 16, 0x13), // x16 += 0x3f8: crosses pages
        enc_i(-1, 6, 0, 6, 0x13),
    ]);
    let at = code.len() as i32;
    code.push(enc_b((top - at) * 4, 6, 0, 4)); // blt x0, x6, top
    code.push(store(sw, 8, 22, 0x10)); // read-only bytes: faults
    code.extend([enc_i(0, 0, 0, 5, 0x13), enc_i(0, 8, 0, 10, 0x13), 0x73]);

    let segs = image(&code, noise(0x3000, 13), 0x5000, 0x5000, vec![7; 0x80]);
    let program = Program::from_segments(CODE_BASE, RegisterSet::Rv32i, segs).expect("valid program");
    let jit = JitProgram::compile(&program).expect("compile");
    let full = observe(None, &program, MachineConfig { gas_limit: 1_000_000, memory_limit: 1 << 20 }, true);
    let fault = format!("StoreFault {{ pc: {}, addr: {} }}", CODE_BASE + 4 * at as u32 + 4, DATA_BASE + 0x5010);
    assert!(full.0.contains(&fault), "{}", full.0);
    let used = gas_used(&full.0);
    for memory_limit in [1 << 20, 0x9000, 0xb000] {
        for gas in (0..=used + 1).chain([1_000_000]) {
            let config = MachineConfig { gas_limit: gas, memory_limit };
            check_env(&program, &jit, config, true, &|| format!("gas {gas} mem {memory_limit:#x}"));
        }
    }
}

/// Native code gets at most a bounded gas budget per call (the meter packs
/// gas and count in one register, docs/jit.md): a long loop crosses many
/// budget boundaries, and gas limits just around multiples of the budget
/// stop it at, before and after those boundaries.
#[test]
fn jit_matches_reference_across_meter_budgets() {
    // x6 = 400_000 iterations of a 5-instruction, 6-gas body (a store).
    let mut code = Vec::from(load_const(3, DATA_BASE));
    code.extend(load_const(6, 400_000));
    let top = code.len() as i32;
    code.extend([
        enc_r(0, 6, 7, 0, 7), // add x7, x7, x6
        enc_s(0, 7, 3, 2),    // sw x7, 0(x3)
        enc_i(-1, 6, 0, 6, 0x13),
        enc_i(1, 8, 0, 8, 0x13),
    ]);
    let at = code.len() as i32;
    code.push(enc_b((top - at) * 4, 6, 0, 4)); // blt x0, x6, top
    code.extend([enc_i(0, 0, 0, 5, 0x13), enc_i(0, 7, 0, 10, 0x13), 0x73]);
    let program = Program::from_segments(CODE_BASE, RegisterSet::Rv32e, segments(&code)).expect("valid");
    let jit = JitProgram::compile(&program).expect("compile");
    let budget = (1u64 << 20) - 1;
    let mut limits = vec![3_000_000, u64::MAX];
    for k in 1..3 {
        for d in [-7i64, -1, 0, 1, 2, 6] {
            limits.push((k * budget).saturating_add_signed(d));
        }
    }
    for gas in limits {
        check(&program, &jit, MachineConfig { gas_limit: gas, memory_limit: 1 << 20 }, &|| format!("gas {gas}"));
    }
}

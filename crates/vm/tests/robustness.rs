//! Robustness: hostile input must never panic the VM, every run must end in
//! a defined way within its gas, and runs must be reproducible.
//!
//! * over a million random 32-bit words executed as programs (RV32I and
//!   RV32E), a third of them raw, the rest biased toward valid encodings so
//!   execution gets past the first instruction;
//! * random bytes, and random mutations of a valid file, loaded as ELF;
//! * property tests for the loader's segment rules and for word programs.
//!
//! All randomness is seeded (`SmallRng::seed_from_u64` with fixed seeds), so
//! a failure reproduces exactly; the failing case's index and words are in
//! the assertion message.

use athena_test_elf::asm::{self, A0, A1, A2, T0};
use athena_test_elf::{ElfBuilder, ProgramHeader, PF_R, PF_W, PF_X};
use athena_vm::memory::{GUARD_END, STACK_BOTTOM, STACK_TOP};
use athena_vm::program::MAX_CODE_SIZE;
use athena_vm::{
    CollectingEnvironment, Engine, Exit, LoadError, Machine, MachineConfig, Outcome, Program, RegisterSet,
};
use proptest::prelude::*;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const BASE: u32 = 0x1_0000;

/// The major opcodes of RV32IM (bits 6..0).
const OPCODES: [u32; 11] = [0x03, 0x0f, 0x13, 0x17, 0x23, 0x33, 0x37, 0x63, 0x67, 0x6f, 0x73];

/// Everything observable about one run.
type RunResult = (Outcome, CollectingEnvironment, [u32; 32], u32);

fn run(program: &Program, config: MachineConfig, engine: Engine) -> RunResult {
    let mut machine = Machine::new(program, config).expect("program fits the memory limit");
    let mut env = CollectingEnvironment::with_input(b"robustness".to_vec());
    let outcome = machine.run_with(engine, &mut env);
    (outcome, env, *machine.registers(), machine.pc())
}

/// Checks the invariants every run must satisfy.
fn check_outcome(outcome: &Outcome, gas_limit: u64, what: &dyn Fn() -> String) {
    assert!(outcome.gas_used <= gas_limit, "{}: gas {} over limit {gas_limit}", what(), outcome.gas_used);
    // Every instruction costs at least one gas.
    assert!(outcome.instructions <= outcome.gas_used, "{}: {outcome:?}", what());
    match &outcome.exit {
        Exit::OutOfGas => assert_eq!(outcome.gas_used, gas_limit, "{}", what()),
        Exit::Halted { .. } | Exit::Trapped(_) => {}
    }
}

/// Runs `program` three times (reference twice, fast once) and checks the
/// invariants and that all three runs agree exactly.
fn run_checked(program: &Program, config: MachineConfig, what: &dyn Fn() -> String) -> Outcome {
    let first = run(program, config, Engine::Reference);
    check_outcome(&first.0, config.gas_limit, what);
    let again = run(program, config, Engine::Reference);
    assert_eq!(first, again, "{}: rerun differs", what());
    let fast = run(program, config, Engine::Fast);
    assert_eq!(first, fast, "{}: fast engine differs", what());
    first.0
}

#[derive(Clone, Copy, Debug)]
enum Flavor {
    /// Uniformly random words.
    Raw,
    /// Random words whose low 7 bits are a real opcode.
    Opcode,
    /// As `Opcode`, plus valid function fields, register fields that exist
    /// in the register set, short in-program branch and jump offsets and
    /// memory accesses mostly relative to `sp`.
    Structured,
}

fn random_word(rng: &mut SmallRng, flavor: Flavor, regs: RegisterSet, index: usize, len: usize) -> u32 {
    let raw: u32 = rng.gen();
    if let Flavor::Raw = flavor {
        return raw;
    }
    let opcode = match flavor {
        Flavor::Opcode => OPCODES[rng.gen_range(0..OPCODES.len())],
        // Weighted like compiled code: mostly ALU, memory and branches;
        // few ECALLs (most halt) and indirect jumps (most fault).
        _ => match rng.gen_range(0..100) {
            0..=29 => 0x13,
            30..=44 => 0x33,
            45..=54 => 0x03,
            55..=64 => 0x23,
            65..=76 => 0x63,
            77..=81 => 0x6f,
            82..=86 => 0x37,
            87..=91 => 0x17,
            92..=93 => 0x0f,
            94..=95 => 0x67,
            _ => 0x73,
        },
    };
    let mut w = (raw & !0x7f) | opcode;
    if let Flavor::Opcode = flavor {
        return w;
    }
    if regs == RegisterSet::Rv32e {
        // Clear bit 4 of rd, rs1 and rs2 (where those fields are registers).
        w &= !((1 << 11) | (1 << 19) | (1 << 24));
    }
    let funct3 = (w >> 12) & 7;
    match opcode {
        0x33 => {
            let funct7 = match rng.gen_range(0..4) {
                0 | 1 => 0x01, // M extension: all eight funct3 values are valid
                2 => 0x00,
                _ => {
                    // SUB / SRA
                    let f3 = if rng.gen_bool(0.5) { 0 } else { 5 };
                    w = (w & !(7 << 12)) | (f3 << 12);
                    0x20
                }
            };
            w = (w & 0x01ff_ffff) | (funct7 << 25);
        }
        0x13 if funct3 == 1 || funct3 == 5 => {
            let funct7 = if funct3 == 5 && rng.gen_bool(0.5) { 0x20 } else { 0 };
            w = (w & 0x01ff_ffff) | (funct7 << 25);
        }
        0x03 | 0x23 => {
            // Aligned offsets from sp or x0 (x0 + negative offset is the top page).
            let base = if rng.gen_bool(0.7) { 2 } else { 0 };
            w = (w & !(0x1f << 15)) | (base << 15);
            let f3 = if opcode == 0x03 { [0, 1, 2, 4, 5][rng.gen_range(0..5)] } else { rng.gen_range(0..3) };
            w = (w & !(7 << 12)) | (f3 << 12);
            let offset = -(rng.gen_range(1..64) * 4);
            w = if opcode == 0x03 {
                (w & 0x000f_ffff) | (((offset as u32) & 0xfff) << 20)
            } else {
                let imm = offset as u32;
                (w & 0x01ff_f07f) | (((imm >> 5) & 0x7f) << 25) | ((imm & 0x1f) << 7)
            };
        }
        0x63 | 0x6f => {
            // A target inside the program (or just past its end).
            let target = rng.gen_range(0..=len) as i32;
            let imm = ((target - index as i32) * 4) as u32;
            w = if opcode == 0x63 {
                let f3 = [0, 1, 4, 5, 6, 7][rng.gen_range(0..6)];
                (((imm >> 12) & 1) << 31)
                    | (((imm >> 5) & 0x3f) << 25)
                    | (w & 0x01ff_8000) // rs2, rs1
                    | (f3 << 12)
                    | (((imm >> 1) & 0xf) << 8)
                    | (((imm >> 11) & 1) << 7)
                    | 0x63
            } else {
                (((imm >> 20) & 1) << 31)
                    | (((imm >> 1) & 0x3ff) << 21)
                    | (((imm >> 11) & 1) << 20)
                    | (((imm >> 12) & 0xff) << 12)
                    | (w & 0xf80) // rd
                    | 0x6f
            };
        }
        0x67 => w &= !(7 << 12),
        0x0f => w &= !(7 << 12),
        // SYSTEM: anything but ECALL/EBREAK is illegal, so use those
        // (the caller sometimes sets t0 before an ECALL).
        0x73 => w = if rng.gen_bool(0.9) { asm::ECALL } else { asm::EBREAK },
        _ => {}
    }
    w
}

#[test]
fn a_million_random_words_run_without_panic() {
    const WORDS_PER_PROGRAM: usize = 48;
    const TOTAL_WORDS: usize = 1_050_000;
    let config = MachineConfig { gas_limit: 1_000, memory_limit: 64 * 1024 };
    let mut rng = SmallRng::seed_from_u64(0x5eed_a7e4a);
    let mut words_run = 0usize;
    let mut programs = 0usize;
    // Per flavor: runs, instructions executed, runs that got past 10 instructions.
    let mut stats = [(0u64, 0u64, 0u64); 3];
    let mut exits = std::collections::BTreeMap::<&'static str, u64>::new();
    let mut structured_exits = std::collections::BTreeMap::<&'static str, u64>::new();
    while words_run < TOTAL_WORDS {
        let flavor_index = programs % 3;
        let flavor = [Flavor::Raw, Flavor::Opcode, Flavor::Structured][flavor_index];
        let regs = if programs % 2 == 0 { RegisterSet::Rv32i } else { RegisterSet::Rv32e };
        let mut words: Vec<u32> =
            (0..WORDS_PER_PROGRAM).map(|i| random_word(&mut rng, flavor, regs, i, WORDS_PER_PROGRAM)).collect();
        if let Flavor::Structured = flavor {
            // Put a syscall number in t0 before some ECALLs, so WRITE and
            // INPUT_* run too, with a0..a2 pointing at the stack.
            for i in 1..words.len() {
                if words[i] == asm::ECALL && rng.gen_bool(0.6) {
                    words[i - 1] = asm::addi(T0, 0, [0, 2, 3, 4, 2, 9][rng.gen_range(0..6)]);
                    if i >= 4 && rng.gen_bool(0.5) {
                        words[i - 4] = asm::addi(A0, 0, rng.gen_range(1..3));
                        words[i - 3] = asm::addi(A1, 2, -256);
                        words[i - 2] = asm::addi(A2, 0, rng.gen_range(0..300));
                    }
                }
            }
        }
        let program = Program::from_words(BASE, &words, regs).expect("any non-empty word list loads");
        let what = || format!("program {programs} ({flavor:?}, {regs:?}): {words:08x?}");
        let outcome = run_checked(&program, config, &what);
        let s = &mut stats[flavor_index];
        s.0 += 1;
        s.1 += outcome.instructions;
        s.2 += u64::from(outcome.instructions > 10);
        let kind = match &outcome.exit {
            Exit::Halted { .. } => "halted",
            Exit::OutOfGas => "out_of_gas",
            Exit::Trapped(t) => t.kind(),
        };
        *exits.entry(kind).or_default() += 1;
        if let Flavor::Structured = flavor {
            *structured_exits.entry(kind).or_default() += 1;
        }
        words_run += words.len();
        programs += 1;
    }
    eprintln!("{words_run} words in {programs} programs; exits: {exits:?}");
    for (name, (runs, insns, deep)) in ["raw", "opcode", "structured"].iter().zip(stats) {
        eprintln!(
            "  {name}: {runs} runs, {:.1} instructions/run, {deep} past 10 instructions",
            insns as f64 / runs as f64
        );
    }
    eprintln!("  structured exits: {structured_exits:?}");
    assert!(words_run >= 1_000_000);
    // The biased flavors must actually exercise execution, not just trap at entry.
    let (runs, insns, deep) = stats[2];
    assert!(insns / runs >= 8, "structured programs run too shallow: {stats:?}");
    assert!(deep * 3 >= runs, "structured programs rarely get deep: {stats:?}");
    assert!(stats[1].1 > stats[0].1, "opcode-biased programs should run deeper than raw ones: {stats:?}");
    for kind in
        ["halted", "out_of_gas", "illegal_instruction", "fetch_fault", "misaligned_jump", "load_fault", "store_fault"]
    {
        assert!(exits.contains_key(kind), "no run ended in {kind}: {exits:?}");
    }
}

/// Random single words at the entry, every register set: the cheapest path
/// through decode and the first step.
#[test]
fn every_kind_of_single_word_program_ends_defined() {
    let config = MachineConfig { gas_limit: 50, memory_limit: 16 * 1024 };
    let mut rng = SmallRng::seed_from_u64(11);
    let special = [0u32, u32::MAX, asm::ECALL, asm::EBREAK, asm::UNIMP, 0x0000_100f, 0x3020_0073, 0x0000_0067];
    for i in 0..6_000 {
        let word = if i < special.len() { special[i] } else { rng.gen() };
        for regs in [RegisterSet::Rv32i, RegisterSet::Rv32e] {
            let program = Program::from_words(BASE, &[word], regs).unwrap();
            run_checked(&program, config, &|| format!("word {word:#010x} {regs:?}"));
        }
    }
}

// ------------------------------------------------------------------ ELF input

fn valid_elf() -> Vec<u8> {
    let mut text = vec![asm::addi(T0, 0, 2), asm::addi(A0, 0, 1)];
    text.extend(asm::li(A1, 0x2_0000));
    text.push(asm::addi(A2, 0, 3));
    text.push(asm::ECALL);
    text.extend(asm::li(A1, 0x3_0000));
    text.push(asm::sw(A2, A1, 16));
    text.push(asm::lw(A0, A1, 16));
    text.extend([asm::addi(T0, 0, 0), asm::ECALL]);
    ElfBuilder::new(0x1_0000)
        .text(0x1_0000, &text)
        .segment(0x2_0000, PF_R, b"hi\n".to_vec(), 3)
        .segment(0x3_0000, PF_R | PF_W, vec![1, 2, 3, 4], 0x2000)
        .build()
}

const ELF_CONFIG: MachineConfig = MachineConfig { gas_limit: 2_000, memory_limit: 256 * 1024 };

/// Loads `bytes`; if they load, instantiates and runs them (or checks the
/// refusal is the memory limit). Returns whether the file loaded.
fn load_and_maybe_run(bytes: &[u8], what: &dyn Fn() -> String) -> bool {
    let Ok(program) = Program::from_elf(bytes) else { return false };
    if program.image_size() > u64::from(ELF_CONFIG.memory_limit) {
        assert!(matches!(Machine::new(&program, ELF_CONFIG), Err(LoadError::ImageTooLarge { .. })), "{}", what());
        return true;
    }
    match Machine::new(&program, ELF_CONFIG) {
        // Page rounding can still exceed the limit.
        Err(LoadError::ImageTooLarge { .. }) => {}
        Err(e) => panic!("{}: unexpected {e:?}", what()),
        Ok(_) => {
            run_checked(&program, ELF_CONFIG, what);
        }
    }
    true
}

#[test]
fn the_valid_elf_used_for_mutation_runs() {
    let program = Program::from_elf(&valid_elf()).unwrap();
    let (outcome, env, _, _) = run(&program, ELF_CONFIG, Engine::Reference);
    assert_eq!(outcome.exit, Exit::Halted { code: 3 });
    assert_eq!(env.stdout, b"hi\n");
}

#[test]
fn random_bytes_as_elf_never_panic() {
    let mut rng = SmallRng::seed_from_u64(0xe1f);
    let mut loaded = 0;
    let mut rejections = std::collections::BTreeMap::<String, u32>::new();
    for i in 0..30_000 {
        let len = rng.gen_range(0..600);
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
        // Two in three get a plausible ELF32/LE/RISC-V identification, so
        // parsing gets past the magic check.
        if len >= 20 && i % 3 != 0 {
            bytes[..7].copy_from_slice(&[0x7f, b'E', b'L', b'F', 1, 1, 1]);
            if i % 6 == 2 {
                // Some other (or no) class and byte order.
                bytes[4] = rng.gen_range(0..4);
                bytes[5] = rng.gen_range(0..4);
            }
            if i % 3 == 1 {
                bytes[16..20].copy_from_slice(&[2, 0, 243, 0]); // ET_EXEC, EM_RISCV
                if len >= 52 {
                    // A program header table right after the header, of
                    // random PT_LOAD-or-not entries.
                    let phnum = rng.gen_range(1..5u16);
                    bytes[28..32].copy_from_slice(&52u32.to_le_bytes());
                    bytes[42..44].copy_from_slice(&32u16.to_le_bytes());
                    bytes[44..46].copy_from_slice(&phnum.to_le_bytes());
                    if rng.gen_bool(0.7) {
                        bytes[36..40].copy_from_slice(&0u32.to_le_bytes()); // e_flags
                    }
                    // Each field of each entry is plausible with probability
                    // 0.7 and left random otherwise.
                    for k in 0..usize::from(phnum) {
                        let at = 52 + 32 * k;
                        if at + 32 > len {
                            break;
                        }
                        let filesz = rng.gen_range(0..64u32);
                        let fields = [
                            (0, 1),                                                      // p_type = PT_LOAD
                            (4, rng.gen_range(0..len as u32)),                           // p_offset
                            (8, rng.gen_range(1..0x100u32) * 0x100),                     // p_vaddr
                            (16, filesz),                                                // p_filesz
                            (20, filesz + rng.gen_range(0..0x2000)),                     // p_memsz
                            (24, [PF_R | PF_X, PF_R, PF_R | PF_W][rng.gen_range(0..3)]), // p_flags
                        ];
                        for (offset, value) in fields {
                            if rng.gen_bool(0.7) {
                                bytes[at + offset..at + offset + 4].copy_from_slice(&value.to_le_bytes());
                            }
                        }
                    }
                    if len >= 64 && rng.gen_bool(0.5) {
                        // Entry at the first segment's address.
                        let first = bytes[60..64].to_vec();
                        bytes[24..28].copy_from_slice(&first);
                    }
                }
            }
        }
        loaded += usize::from(load_and_maybe_run(&bytes, &|| format!("case {i}: {bytes:02x?}")));
        if let Err(e) = Program::from_elf(&bytes) {
            let name = format!("{e:?}");
            let name = name.split(['(', ' ']).next().unwrap_or_default().to_string();
            *rejections.entry(name).or_default() += 1;
        }
    }
    eprintln!("random bytes: {loaded} of 30000 loaded; rejections: {rejections:?}");
    assert!(loaded > 0, "no random file loaded");
    // The plausible headers must get the parser past the identification
    // into the program header and segment checks.
    for kind in [
        "Malformed",
        "NotElf32LittleEndian",
        "NotRiscV",
        "UnsupportedFlags",
        "SegmentOutsideFile",
        "FileSizeExceedsMemSize",
        "BadEntry",
    ] {
        assert!(rejections.contains_key(kind), "no {kind} among {rejections:?}");
    }
}

/// Values that sit on the boundaries the loader checks.
const INTERESTING: [u32; 14] = [
    0,
    1,
    3,
    4,
    0xfff,
    0x1000,
    0x7fef_fffc,
    0x7ff0_0000,
    0x8000_0000,
    0xffff_f000,
    0xffff_fffc,
    0xffff_ffff,
    0x1000_0001,
    0x0004_0000,
];

fn mutate(rng: &mut SmallRng, elf: &mut Vec<u8>) {
    // Headers: 52-byte file header and three 32-byte program headers.
    let header_end = 52 + 3 * 32;
    for _ in 0..rng.gen_range(1..5) {
        if elf.is_empty() {
            return;
        }
        match rng.gen_range(0..10) {
            0..=2 => {
                let at = rng.gen_range(0..elf.len().min(header_end));
                elf[at] ^= 1 << rng.gen_range(0..8);
            }
            3 | 4 => {
                let at = rng.gen_range(0..elf.len().min(header_end));
                elf[at] = rng.gen();
            }
            5..=7 => {
                // A header field (4-byte aligned) set to a boundary value.
                let fields = elf.len().min(header_end) / 4;
                if fields == 0 {
                    continue;
                }
                let at = rng.gen_range(0..fields) * 4;
                let value =
                    INTERESTING[rng.gen_range(0..INTERESTING.len())].wrapping_add(rng.gen_range(0..3)).wrapping_sub(1);
                elf[at..at + 4].copy_from_slice(&value.to_le_bytes());
            }
            8 => {
                let at = rng.gen_range(0..elf.len());
                elf[at] = rng.gen();
            }
            _ => {
                let len = rng.gen_range(0..elf.len());
                elf.truncate(len);
            }
        }
    }
}

#[test]
fn mutated_valid_elf_never_panics() {
    let base = valid_elf();
    let mut rng = SmallRng::seed_from_u64(0x0d0c);
    let mut loaded = 0;
    for i in 0..20_000 {
        let mut elf = base.clone();
        mutate(&mut rng, &mut elf);
        loaded += usize::from(load_and_maybe_run(&elf, &|| format!("case {i}: {elf:02x?}")));
    }
    eprintln!("mutated ELF: {loaded} of 20000 loaded");
    // The mutations must leave a fair share loadable, or the run part is untested.
    assert!(loaded > 1_000, "only {loaded} mutants loaded");
}

// ------------------------------------------------------------------ properties

fn segment_strategy() -> impl Strategy<Value = (u32, u32, u32)> {
    let vaddr = prop_oneof![
        0u32..0x2000,
        0x1_0000u32..0x1_2000,
        (STACK_BOTTOM - 0x2000)..(STACK_BOTTOM + 0x2000),
        (STACK_TOP - 0x2000)..(STACK_TOP + 0x2000),
        0xffff_e000u32..=u32::MAX,
        any::<u32>(),
    ];
    let memsz = prop_oneof![0u32..0x3000, any::<u32>()];
    let flags = prop_oneof![Just(PF_R), Just(PF_R | PF_W), Just(PF_R | PF_X), Just(PF_W)];
    (vaddr, memsz, flags)
}

proptest! {
    // Failures print the minimal case; no regression file is written next to
    // an integration test (proptest looks for a lib.rs and warns).
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    /// Whatever the data segments, the loader either refuses the file for a
    /// reason that really holds or accepts a layout that satisfies every rule.
    #[test]
    fn loader_accepts_only_valid_layouts(extra in prop::collection::vec(segment_strategy(), 0..4)) {
        let text = [asm::addi(A0, 0, 1), asm::addi(T0, 0, 0), asm::ECALL];
        let mut builder = ElfBuilder::new(0x2_0000).text(0x2_0000, &text);
        for &(vaddr, memsz, flags) in &extra {
            // No file bytes, so only the addresses and sizes matter.
            builder = builder.program_header(ProgramHeader::load(vaddr, flags, vec![]).memsz(memsz));
        }
        let elf = builder.build();
        let loadable: Vec<(u32, u32)> = std::iter::once((0x2_0000, 12))
            .chain(extra.iter().map(|&(v, m, _)| (v, m)))
            .filter(|&(_, m)| m > 0)
            .collect();
        let end = |(v, m): (u32, u32)| u64::from(v) + u64::from(m);
        match Program::from_elf(&elf) {
            Ok(program) => {
                for &seg in &loadable {
                    prop_assert!(end(seg) <= 1 << 32);
                    prop_assert!(seg.0 >= GUARD_END);
                    prop_assert!(end(seg) <= u64::from(STACK_BOTTOM) || seg.0 >= STACK_TOP);
                }
                let mut sorted = loadable.clone();
                sorted.sort();
                for pair in sorted.windows(2) {
                    prop_assert!(end(pair[0]) <= u64::from(pair[1].0));
                }
                prop_assert_eq!(program.segments().len(), loadable.len());
                if program.image_size() <= u64::from(ELF_CONFIG.memory_limit) {
                    let (outcome, ..) = run(&program, ELF_CONFIG, Engine::Fast);
                    prop_assert_eq!(outcome.exit, Exit::Halted { code: 1 });
                }
            }
            Err(LoadError::SegmentWraps { index, .. }) => prop_assert!(end(loadable[index]) > 1 << 32),
            Err(LoadError::SegmentInGuard { index }) => prop_assert!(loadable[index].0 < GUARD_END),
            Err(LoadError::SegmentInStack { index }) => {
                let seg = loadable[index];
                prop_assert!(seg.0 < STACK_TOP && end(seg) > u64::from(STACK_BOTTOM));
            }
            Err(LoadError::SegmentsOverlap { first, second }) => {
                let (a, b) = (loadable[first], loadable[second]);
                prop_assert!(u64::from(a.0) < end(b) && u64::from(b.0) < end(a));
            }
            Err(LoadError::ImageTooLarge { size, limit }) => prop_assert!(size > limit),
            Err(LoadError::CodeTooLarge { size }) => prop_assert!(size > u64::from(MAX_CODE_SIZE)),
            Err(LoadError::MisalignedCode { index, vaddr }) => {
                prop_assert_eq!(vaddr, loadable[index].0);
                prop_assert!(vaddr % 4 != 0);
            }
            Err(e) => prop_assert!(false, "unexpected {:?}", e),
        }
    }

    /// Any word list runs to a defined end, identically on both engines and
    /// on a second run.
    #[test]
    fn any_word_program_is_deterministic(
        words in prop::collection::vec(any::<u32>(), 1..64),
        rve in any::<bool>(),
        gas in 0u64..2_000,
    ) {
        let regs = if rve { RegisterSet::Rv32e } else { RegisterSet::Rv32i };
        let program = Program::from_words(BASE, &words, regs).unwrap();
        let config = MachineConfig { gas_limit: gas, memory_limit: 64 * 1024 };
        run_checked(&program, config, &|| format!("{words:08x?}"));
    }

    /// Arbitrary bytes never panic the loader.
    #[test]
    fn any_bytes_load_without_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        load_and_maybe_run(&bytes, &|| format!("{bytes:02x?}"));
    }
}

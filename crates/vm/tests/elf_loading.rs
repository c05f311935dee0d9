//! ELF loading, end to end: files built byte by byte with `athena-test-elf`
//! so that each test's file has exactly the property under test, loaded
//! with `Program::from_elf` and, where they load, run on both engines.
//!
//! Every rejection is checked against the precise `LoadError` variant (and
//! its fields where they carry information), so a loader change that
//! rejects a file for a different reason fails here.

use athena_test_elf::asm::{self, A0, A1, A2, A6, T0, T1};
use athena_test_elf::{
    ElfBuilder, ProgramHeader, EF_RISCV_FLOAT_ABI_DOUBLE, EF_RISCV_FLOAT_ABI_QUAD, EF_RISCV_FLOAT_ABI_SINGLE,
    EF_RISCV_RVC, EF_RISCV_RVE, ELFCLASS64, ELFDATA2MSB, EM_X86_64, ET_DYN, ET_REL, PF_R, PF_W, PF_X, PT_GNU_STACK,
    PT_NOTE,
};
use athena_vm::gas;
use athena_vm::isa::IllegalReason;
use athena_vm::program::{MAX_IMAGE_SIZE, MAX_SEGMENTS};
use athena_vm::{
    run_elf, CollectingEnvironment, Engine, Exit, LoadError, Machine, MachineConfig, Outcome, Program, RegisterSet,
    Trap,
};

/// Where the "hello" program's text is linked: deliberately not page aligned.
const TEXT: u32 = 0x0020_0800;
/// Its read-only data, in a segment (and page) of its own.
const RODATA: u32 = 0x0020_1000;
/// A writable data segment used by several tests.
const DATA: u32 = 0x0030_0000;

const CONFIG: MachineConfig = MachineConfig { gas_limit: 1_000_000, memory_limit: 1 << 20 };

/// `t0 = 0; ecall`: halt with the code already in `a0`.
const HALT: [u32; 2] = [0x0000_0293, asm::ECALL];

fn halt_with(code: i32) -> [u32; 3] {
    [asm::addi(A0, 0, code), HALT[0], HALT[1]]
}

/// Writes "hi\n" from the read-only segment to stdout, then halts with 7.
/// Uses no stack.
fn hello_text() -> Vec<u32> {
    vec![
        asm::addi(T0, 0, 2), // t0 = WRITE
        asm::addi(A0, 0, 1), // fd 1
        asm::lui(A1, RODATA >> 12),
        asm::addi(A2, 0, 3),
        asm::ECALL,
        asm::addi(T0, 0, 0), // t0 = HALT
        asm::addi(A0, 0, 7),
        asm::ECALL,
    ]
}

fn hello() -> ElfBuilder {
    ElfBuilder::new(TEXT).text(TEXT, &hello_text()).segment(RODATA, PF_R, b"hi\n".to_vec(), 3)
}

/// Loads `elf` and runs it on both engines, asserting they agree on the
/// outcome, output and final registers.
fn run_both(elf: &[u8], config: MachineConfig) -> (Outcome, CollectingEnvironment, [u32; 32]) {
    let program = Program::from_elf(elf).expect("the file loads");
    let run = |engine| {
        let mut machine = Machine::new(&program, config).expect("the program fits");
        let mut env = CollectingEnvironment::default();
        let outcome = machine.run_with(engine, &mut env);
        (outcome, env, *machine.registers())
    };
    let reference = run(Engine::Reference);
    let fast = run(Engine::Fast);
    assert_eq!(reference, fast, "engines disagree");
    reference
}

fn load_err(elf: &[u8]) -> LoadError {
    Program::from_elf(elf).expect_err("the file must be rejected")
}

// ---------------------------------------------------------------- valid files

#[test]
fn hello_with_separate_rodata_segment_loads_and_runs() {
    let elf = hello().build();
    let program = Program::from_elf(&elf).unwrap();
    assert_eq!(program.entry(), TEXT);
    assert_eq!(program.registers(), RegisterSet::Rv32i);
    let segs = program.segments();
    assert_eq!(segs.len(), 2);
    assert_eq!((segs[0].vaddr, segs[0].executable, segs[0].writable), (TEXT, true, false));
    assert_eq!((segs[1].vaddr, segs[1].executable, segs[1].writable), (RODATA, false, false));
    assert_eq!(segs[1].data, b"hi\n");

    let (outcome, env) = run_elf(&elf, b"", CONFIG).unwrap();
    assert_eq!(outcome.exit, Exit::Halted { code: 7 });
    assert_eq!(env.stdout, b"hi\n");
    assert!(env.stderr.is_empty());
    assert_eq!(outcome.instructions, 8);
    // 6 ALU instructions, 2 ECALLs, 2 syscall bases, one copied word.
    let expected = 6 * gas::ALU + 2 * gas::SYSTEM + 2 * gas::SYSCALL_BASE + gas::copy_cost(3);
    assert_eq!(outcome.gas_used, expected);

    let (both, env, _) = run_both(&elf, CONFIG);
    assert_eq!(both, outcome);
    assert_eq!(env.stdout, b"hi\n");
}

#[test]
fn hello_runs_out_of_gas_one_short() {
    let elf = hello().build();
    let needed = run_elf(&elf, b"", CONFIG).unwrap().0.gas_used;
    let (outcome, env, _) = run_both(&elf, MachineConfig { gas_limit: needed - 1, ..CONFIG });
    assert_eq!(outcome.exit, Exit::OutOfGas);
    assert_eq!(outcome.gas_used, needed - 1);
    assert_eq!(env.stdout, b"hi\n", "the write happened before gas ran out");
}

#[test]
fn non_load_headers_are_ignored() {
    let elf = hello()
        .program_header(ProgramHeader {
            p_type: PT_NOTE,
            vaddr: 0,
            flags: PF_R,
            data: vec![0; 12],
            memsz: 12,
            offset: None,
            filesz: None,
        })
        .program_header(ProgramHeader {
            p_type: PT_GNU_STACK,
            vaddr: 0,
            flags: PF_R | PF_W,
            data: vec![],
            memsz: 0,
            offset: None,
            filesz: None,
        })
        .build();
    assert_eq!(run_both(&elf, CONFIG).0.exit, Exit::Halted { code: 7 });
}

#[test]
fn empty_load_segments_are_skipped() {
    // A PT_LOAD with memsz 0, even at address 0 or overlapping the text, occupies nothing.
    let elf = hello().segment(0, PF_R, vec![], 0).segment(TEXT, PF_R | PF_W, vec![], 0).build();
    assert_eq!(Program::from_elf(&elf).unwrap().segments().len(), 2);
    assert_eq!(run_both(&elf, CONFIG).0.exit, Exit::Halted { code: 7 });
}

#[test]
fn segments_at_high_addresses_work() {
    const HIGH_TEXT: u32 = 0xF000_0000;
    // The last page of the address space: ends exactly at 2^32.
    const TOP: u32 = 0xFFFF_F000;
    let mut text = Vec::new();
    text.extend(asm::li(A1, 0xFFFF_FFFC));
    text.push(asm::lw(A0, A1, 0)); // a0 = 0x2A (file data)
    text.push(asm::addi(A2, 0, 0x55));
    text.push(asm::sw(A2, A1, -4)); // store to 0xFFFF_FFF8
    text.push(asm::lw(A2, A1, -4));
    text.extend(HALT);
    let mut data = vec![0u8; 0x1000];
    data[0xFFC..].copy_from_slice(&0x2Au32.to_le_bytes());
    let elf = ElfBuilder::new(HIGH_TEXT).text(HIGH_TEXT, &text).segment(TOP, PF_R | PF_W, data, 0x1000).build();
    let (outcome, _, regs) = run_both(&elf, CONFIG);
    assert_eq!(outcome.exit, Exit::Halted { code: 0x2A });
    assert_eq!(regs[A2 as usize], 0x55);
}

#[test]
fn memsz_beyond_filesz_is_zero_filled_and_writable() {
    let mut text = Vec::new();
    text.extend(asm::li(A1, DATA));
    text.push(asm::lw(A0, A1, 0)); // file-backed word
    text.push(asm::lw(A2, A1, 4)); // bss, same page as the file bytes
    text.extend(asm::li(T1, DATA + 0x2000));
    text.push(asm::lw(13, T1, 0)); // a3: bss, a page no file byte touches
    text.push(asm::addi(14, 0, 0x55)); // a4
    text.push(asm::sw(14, T1, 0)); // store into the untouched bss page
    text.push(asm::lw(15, T1, 0)); // a5: read it back
    text.push(asm::sw(14, A1, 8)); // store into bss on the file-backed page
    text.push(asm::lbu(9, A1, 8)); // x9: read it back
    text.extend(HALT);
    let elf = ElfBuilder::new(TEXT)
        .text(TEXT, &text)
        .segment(DATA, PF_R | PF_W, 0xAABB_CCDDu32.to_le_bytes().to_vec(), 0x3000)
        .build();
    let program = Program::from_elf(&elf).unwrap();
    assert_eq!(program.segments()[1].mem_size, 0x3000);
    assert_eq!(program.segments()[1].data.len(), 4);
    let (outcome, _, regs) = run_both(&elf, CONFIG);
    assert_eq!(outcome.exit, Exit::Halted { code: 0xAABB_CCDD });
    assert_eq!(regs[A2 as usize], 0, "bss on the file page reads zero");
    assert_eq!(regs[13], 0, "bss page reads zero");
    assert_eq!(regs[15], 0x55, "store into bss works");
    assert_eq!(regs[9], 0x55, "store into bss on the file page works");
}

#[test]
fn read_only_bss_reads_zero() {
    // R-only segment with memsz > filesz: the tail reads as zero and is protected.
    let mut text = Vec::new();
    text.extend(asm::li(A1, RODATA));
    text.push(asm::lw(A0, A1, 0x100));
    text.push(asm::addi(A0, A0, 9));
    text.extend(HALT);
    let elf = ElfBuilder::new(TEXT).text(TEXT, &text).segment(RODATA, PF_R, vec![0xff; 4], 0x200).build();
    assert_eq!(run_both(&elf, CONFIG).0.exit, Exit::Halted { code: 9 });

    text.truncate(text.len() - 3);
    text.push(asm::sw(A1, A1, 0x100));
    text.extend(HALT);
    let elf = ElfBuilder::new(TEXT).text(TEXT, &text).segment(RODATA, PF_R, vec![0xff; 4], 0x200).build();
    let (outcome, _, _) = run_both(&elf, CONFIG);
    assert!(matches!(outcome.exit, Exit::Trapped(Trap::StoreFault { addr, .. }) if addr == RODATA + 0x100));
}

// ---------------------------------------------------------------- entry point

#[test]
fn entry_must_be_an_aligned_instruction_slot_in_an_executable_segment() {
    let with_entry = |entry| hello().entry(entry).build();
    let text_end = TEXT + 4 * hello_text().len() as u32;
    for entry in [0, TEXT - 4, TEXT + 2, TEXT + 1, text_end, RODATA, 0xFFFF_FFFC] {
        assert_eq!(load_err(&with_entry(entry)), LoadError::BadEntry(entry), "entry {entry:#x}");
    }
    // The last instruction slot is a valid entry (it halts with a0 = 0).
    let (outcome, env, _) = run_both(&with_entry(text_end - 4), CONFIG);
    assert_eq!(outcome.exit, Exit::Halted { code: 0 });
    assert!(env.stdout.is_empty());
}

#[test]
fn entry_in_a_writable_non_executable_segment_is_rejected() {
    let elf = ElfBuilder::new(DATA)
        .text(TEXT, &halt_with(0))
        .segment(DATA, PF_R | PF_W, halt_with(0).map(u32::to_le_bytes).concat(), 12)
        .build();
    assert_eq!(load_err(&elf), LoadError::BadEntry(DATA));
}

// ---------------------------------------------------------------- segment placement

#[test]
fn overlapping_segments_are_rejected() {
    // RODATA segment grown back by one byte into the text.
    let text_end = TEXT + 4 * hello_text().len() as u32;
    let elf = ElfBuilder::new(TEXT).text(TEXT, &hello_text()).segment(text_end - 1, PF_R, vec![1], 1).build();
    assert_eq!(load_err(&elf), LoadError::SegmentsOverlap { first: 0, second: 1 });
    // Listed in the other order, same verdict, same indices.
    let elf = ElfBuilder::new(TEXT).segment(text_end - 1, PF_R, vec![1], 1).text(TEXT, &hello_text()).build();
    assert_eq!(load_err(&elf), LoadError::SegmentsOverlap { first: 0, second: 1 });
    // One segment entirely inside another.
    let elf = hello().segment(DATA, PF_R | PF_W, vec![], 0x4000).segment(DATA + 0x1000, PF_R, vec![0], 4).build();
    assert_eq!(load_err(&elf), LoadError::SegmentsOverlap { first: 2, second: 3 });
    // Touching is not overlapping.
    let elf = ElfBuilder::new(TEXT).text(TEXT, &hello_text()).segment(text_end, PF_R, vec![1], 1).build();
    assert!(Program::from_elf(&elf).is_ok());
}

#[test]
fn segments_in_the_guard_region_are_rejected() {
    for (vaddr, memsz) in [(0, 4), (0xFFC, 4), (0xFFF, 0x10), (0x800, 0x1000)] {
        let elf = hello().segment(vaddr, PF_R | PF_W, vec![], memsz).build();
        assert_eq!(load_err(&elf), LoadError::SegmentInGuard { index: 2 }, "{vaddr:#x}+{memsz:#x}");
    }
    // Code in the guard region too.
    let elf = ElfBuilder::new(0).text(0, &halt_with(0)).build();
    assert_eq!(load_err(&elf), LoadError::SegmentInGuard { index: 0 });
    // The first page after the guard is fine.
    let elf = ElfBuilder::new(0x1000).text(0x1000, &halt_with(3)).build();
    assert_eq!(run_both(&elf, CONFIG).0.exit, Exit::Halted { code: 3 });
}

#[test]
fn segments_in_the_stack_region_are_rejected() {
    for (vaddr, memsz) in [
        (0x7FF0_0000, 4),
        (0x7FFF_FFFC, 4),
        (0x7FEF_FFFC, 8),         // runs into the region from below
        (0x7FEF_0000, 0x20_0000), // covers it entirely
    ] {
        let elf = hello().segment(vaddr, PF_R | PF_W, vec![], memsz).build();
        assert_eq!(load_err(&elf), LoadError::SegmentInStack { index: 2 }, "{vaddr:#x}+{memsz:#x}");
    }
    // Code right below and right above the region is fine.
    let below = 0x7FF0_0000 - 12;
    let elf =
        ElfBuilder::new(below).text(below, &halt_with(1)).segment(0x8000_0000, PF_R | PF_W, vec![], 0x1000).build();
    assert_eq!(run_both(&elf, CONFIG).0.exit, Exit::Halted { code: 1 });
}

#[test]
fn wrapping_segments_are_rejected() {
    let elf = hello().segment(0xFFFF_F000, PF_R | PF_W, vec![], 0x1001).build();
    assert_eq!(load_err(&elf), LoadError::SegmentWraps { index: 2, vaddr: 0xFFFF_F000, mem_size: 0x1001 });
    let elf = hello().segment(0xFFFF_FFFF, PF_R, vec![1, 2], 2).build();
    assert_eq!(load_err(&elf), LoadError::SegmentWraps { index: 2, vaddr: 0xFFFF_FFFF, mem_size: 2 });
}

#[test]
fn file_size_larger_than_memory_size_is_rejected() {
    let elf = hello().program_header(ProgramHeader::load(DATA, PF_R | PF_W, vec![0; 16]).memsz(8)).build();
    assert_eq!(load_err(&elf), LoadError::FileSizeExceedsMemSize { index: 2, file_size: 16, mem_size: 8 });
    // A lie in p_filesz alone (no bytes behind it) is caught the same way.
    let elf = hello().program_header(ProgramHeader::load(DATA, PF_R, vec![0; 4]).filesz(5)).build();
    assert_eq!(load_err(&elf), LoadError::FileSizeExceedsMemSize { index: 2, file_size: 5, mem_size: 4 });
}

#[test]
fn segment_data_outside_the_file_is_rejected() {
    let elf = hello().program_header(ProgramHeader::load(DATA, PF_R, vec![0; 16]).offset(0xFFFF_FFF0)).build();
    assert_eq!(load_err(&elf), LoadError::SegmentOutsideFile { index: 2 });
    // p_filesz claims more than the file holds.
    let elf =
        hello().program_header(ProgramHeader::load(DATA, PF_R, vec![0; 4]).memsz(0x10_0000).filesz(0x8_0000)).build();
    assert_eq!(load_err(&elf), LoadError::SegmentOutsideFile { index: 2 });
    // The bytes of the last segment cut off by truncating the file.
    let elf = hello().build();
    assert_eq!(load_err(&elf[..elf.len() - 1]), LoadError::SegmentOutsideFile { index: 1 });
}

#[test]
fn too_many_segments_are_rejected() {
    let with_data_segments = |n: u32| {
        (0..n).fold(ElfBuilder::new(TEXT).text(TEXT, &halt_with(5)), |b, i| {
            b.segment(DATA + i * 0x1000, PF_R, vec![i as u8], 1)
        })
    };
    let max = MAX_SEGMENTS as u32;
    let elf = with_data_segments(max - 1).build();
    assert_eq!(Program::from_elf(&elf).unwrap().segments().len(), MAX_SEGMENTS);
    assert_eq!(run_both(&elf, CONFIG).0.exit, Exit::Halted { code: 5 });
    assert_eq!(load_err(&with_data_segments(max).build()), LoadError::TooManySegments(MAX_SEGMENTS + 1));
    assert!(matches!(load_err(&with_data_segments(100).build()), LoadError::TooManySegments(_)));
}

#[test]
fn images_over_the_static_limit_are_rejected() {
    // One segment just over the limit (no file bytes: the size alone decides).
    let elf = hello().segment(0x1000_0000, PF_R | PF_W, vec![], MAX_IMAGE_SIZE + 1).build();
    assert!(matches!(load_err(&elf), LoadError::ImageTooLarge { limit, .. } if limit == u64::from(MAX_IMAGE_SIZE)));
    // Several segments that are each fine but too large together.
    let quarter = MAX_IMAGE_SIZE / 4;
    let elf =
        (0..5u32).fold(hello(), |b, i| b.segment(0x8000_0000 + i * quarter, PF_R | PF_W, vec![], quarter)).build();
    assert!(matches!(load_err(&elf), LoadError::ImageTooLarge { .. }));
}

#[test]
fn images_over_the_configured_memory_limit_are_rejected_at_instantiation() {
    let elf = hello().segment(DATA, PF_R | PF_W, vec![1; 16], 0x10_0000).build();
    let program = Program::from_elf(&elf).unwrap();
    let small = MachineConfig { gas_limit: 1000, memory_limit: 0x8_0000 };
    match Machine::new(&program, small) {
        Err(LoadError::ImageTooLarge { size, limit }) => {
            assert_eq!(size, program.image_size());
            assert_eq!(limit, 0x8_0000);
        }
        other => panic!("expected ImageTooLarge, got {:?}", other.map(|_| ())),
    }
    // run_elf reports the same.
    assert!(matches!(run_elf(&elf, b"", small), Err(LoadError::ImageTooLarge { .. })));
    // Page rounding: a 5-byte read-only segment straddling a page boundary
    // needs two pages, more than a one-page limit even though 5 < 4096.
    let elf = ElfBuilder::new(0x1_0000).text(0x1_0000, &halt_with(0)).segment(0x2_0FFE, PF_R, vec![1; 5], 5).build();
    let program = Program::from_elf(&elf).unwrap();
    assert!(matches!(
        Machine::new(&program, MachineConfig { gas_limit: 1000, memory_limit: 0x2000 }),
        Err(LoadError::ImageTooLarge { .. })
    ));
    assert!(Machine::new(&program, MachineConfig { gas_limit: 1000, memory_limit: 0x3000 }).is_ok());
}

// ---------------------------------------------------------------- header checks

#[test]
fn rvc_and_hardware_float_flags_are_rejected() {
    for flags in [
        EF_RISCV_RVC,
        EF_RISCV_FLOAT_ABI_SINGLE,
        EF_RISCV_FLOAT_ABI_DOUBLE,
        EF_RISCV_FLOAT_ABI_QUAD,
        EF_RISCV_RVC | EF_RISCV_RVE,
        EF_RISCV_FLOAT_ABI_DOUBLE | EF_RISCV_RVE,
    ] {
        match load_err(&hello().flags(flags).build()) {
            LoadError::UnsupportedFlags { flags: f, .. } => assert_eq!(f, flags),
            other => panic!("flags {flags:#x}: {other:?}"),
        }
    }
}

#[test]
fn other_flag_bits_are_accepted() {
    // RVE selects the register set; TSO (0x10) and unknown high bits carry
    // no meaning for this machine.
    let program = Program::from_elf(&hello().flags(EF_RISCV_RVE).build()).unwrap();
    assert_eq!(program.registers(), RegisterSet::Rv32e);
    assert!(Program::from_elf(&hello().flags(0x10).build()).is_ok());
}

#[test]
fn non_executable_types_are_rejected() {
    assert_eq!(load_err(&hello().e_type(ET_DYN).build()), LoadError::NotExecutable(ET_DYN));
    assert_eq!(load_err(&hello().e_type(ET_REL).build()), LoadError::NotExecutable(ET_REL));
    assert_eq!(load_err(&hello().e_type(4).build()), LoadError::NotExecutable(4));
    // ET_CORE
}

#[test]
fn other_machines_are_rejected() {
    assert_eq!(load_err(&hello().machine(EM_X86_64).build()), LoadError::NotRiscV(EM_X86_64));
    assert_eq!(load_err(&hello().machine(0).build()), LoadError::NotRiscV(0));
}

#[test]
fn elf64_is_rejected_as_not_elf32_little_endian() {
    assert_eq!(load_err(&hello().class(ELFCLASS64).build()), LoadError::NotElf32LittleEndian);
}

#[test]
fn big_endian_is_rejected_as_not_elf32_little_endian() {
    assert_eq!(load_err(&hello().data_encoding(ELFDATA2MSB).build()), LoadError::NotElf32LittleEndian);
    assert_eq!(
        load_err(&hello().class(ELFCLASS64).data_encoding(ELFDATA2MSB).build()),
        LoadError::NotElf32LittleEndian
    );
}

#[test]
fn dynamically_linked_files_are_rejected() {
    assert_eq!(load_err(&hello().interp("/lib/ld-linux-riscv32-ilp32.so.1").build()), LoadError::DynamicallyLinked);
    assert_eq!(load_err(&hello().dynamic().build()), LoadError::DynamicallyLinked);
    // Even listed before every PT_LOAD.
    let elf = ElfBuilder::new(TEXT).interp("/lib/ld.so").text(TEXT, &hello_text()).build();
    assert_eq!(load_err(&elf), LoadError::DynamicallyLinked);
}

#[test]
fn files_without_loadable_segments_are_rejected() {
    assert_eq!(load_err(&ElfBuilder::new(TEXT).build()), LoadError::NoLoadableSegments);
    let notes_only = ElfBuilder::new(TEXT)
        .program_header(ProgramHeader {
            p_type: PT_NOTE,
            vaddr: TEXT,
            flags: PF_R | PF_X,
            data: vec![0x13; 8],
            memsz: 8,
            offset: None,
            filesz: None,
        })
        .build();
    assert_eq!(load_err(&notes_only), LoadError::NoLoadableSegments);
    let empty_loads = ElfBuilder::new(TEXT).segment(TEXT, PF_R | PF_X, vec![], 0).build();
    assert_eq!(load_err(&empty_loads), LoadError::NoLoadableSegments);
}

#[test]
fn malformed_headers_are_rejected_without_panicking() {
    let elf = hello().build();
    for len in [0, 1, 4, 16, 20, 51] {
        assert!(matches!(load_err(&elf[..len]), LoadError::Malformed(_)), "truncated to {len}");
    }
    let mut bad_magic = elf.clone();
    bad_magic[1] = b'X';
    assert!(matches!(load_err(&bad_magic), LoadError::Malformed(_)));
    let mut bad_version = elf.clone();
    bad_version[6] = 0;
    assert!(matches!(load_err(&bad_version), LoadError::Malformed(_)));
    // Program header table past the end of the file, partly or wholly.
    assert!(matches!(load_err(&hello().phoff(0xFFFF_FF00).build()), LoadError::Malformed(_)));
    assert!(matches!(load_err(&hello().phnum(1000).build()), LoadError::Malformed(_)));
    assert!(matches!(load_err(&elf[..52 + 40]), LoadError::Malformed(_)), "table cut in the second header");
    assert!(matches!(load_err(&hello().phentsize(40).build()), LoadError::Malformed(_)));
}

// ---------------------------------------------------------------- protection

#[test]
fn stores_into_code_fault() {
    for flags in [PF_R | PF_X, PF_R | PF_W | PF_X] {
        // `sw a0, 0(a1)` with a1 = the start of the text.
        let mut text = asm::li(A1, TEXT).to_vec();
        text.push(asm::sw(A0, A1, 0));
        text.extend(halt_with(0));
        let bytes = athena_test_elf::words_to_bytes(&text);
        let len = bytes.len() as u32;
        let elf = ElfBuilder::new(TEXT).segment(TEXT, flags, bytes, len).build();
        let program = Program::from_elf(&elf).unwrap();
        assert!(!program.segments()[0].writable, "executable segments are never writable");
        let (outcome, _, _) = run_both(&elf, CONFIG);
        assert_eq!(outcome.exit, Exit::Trapped(Trap::StoreFault { pc: TEXT + 8, addr: TEXT }), "flags {flags}");
        assert_eq!(outcome.instructions, 2);
    }
}

#[test]
fn stores_into_read_only_data_fault_and_into_writable_data_work() {
    let program = |flags| {
        let mut text = asm::li(A1, DATA).to_vec();
        text.push(asm::addi(A0, 0, 42));
        text.push(asm::sw(A0, A1, 4));
        text.push(asm::lw(A0, A1, 4));
        text.extend(HALT);
        ElfBuilder::new(TEXT).text(TEXT, &text).segment(DATA, flags, vec![0; 8], 8).build()
    };
    let (outcome, _, _) = run_both(&program(PF_R), CONFIG);
    assert_eq!(outcome.exit, Exit::Trapped(Trap::StoreFault { pc: TEXT + 12, addr: DATA + 4 }));
    let (outcome, _, _) = run_both(&program(PF_R | PF_W), CONFIG);
    assert_eq!(outcome.exit, Exit::Halted { code: 42 });
    // W without R is still writable (and readable: there is no read protection).
    let (outcome, _, _) = run_both(&program(PF_W), CONFIG);
    assert_eq!(outcome.exit, Exit::Halted { code: 42 });
}

#[test]
fn stores_next_to_a_read_only_segment_on_the_same_page_work() {
    // RO segment [DATA, DATA+8) and RW segment [DATA+8, DATA+16) share a page.
    let mut text = asm::li(A1, DATA).to_vec();
    text.push(asm::addi(A0, 0, 11));
    text.push(asm::sw(A0, A1, 8));
    text.push(asm::lw(A0, A1, 8));
    text.push(asm::sw(A0, A1, 4)); // into the RO one: faults
    text.extend(HALT);
    let elf = ElfBuilder::new(TEXT)
        .text(TEXT, &text)
        .segment(DATA, PF_R, vec![0; 8], 8)
        .segment(DATA + 8, PF_R | PF_W, vec![0; 8], 8)
        .build();
    let (outcome, _, regs) = run_both(&elf, CONFIG);
    assert_eq!(outcome.exit, Exit::Trapped(Trap::StoreFault { pc: TEXT + 20, addr: DATA + 4 }));
    assert_eq!(regs[A0 as usize], 11);
}

// ---------------------------------------------------------------- decoding is lazy

#[test]
fn undecodable_words_in_text_that_never_run_are_harmless() {
    let mut text = vec![asm::addi(A0, 0, 1)];
    // Jump over an embedded constant pool: jal x0, +5 words.
    text.push(0x0140_006f);
    text.extend([0xdead_beef, asm::UNIMP, 0xffff_ffff, 0x0000_4501]); // data, unimp, all-ones, a compressed pair
    text.push(asm::addi(A0, A0, 1));
    text.extend(HALT);
    text.extend([0, 0, 0, asm::UNIMP, asm::EBREAK]); // padding after the halt
    let elf = ElfBuilder::new(TEXT).text(TEXT, &text).build();
    let (outcome, _, _) = run_both(&elf, CONFIG);
    assert_eq!(outcome.exit, Exit::Halted { code: 2 });
    assert_eq!(outcome.instructions, 5);

    // Entry after leading garbage works too.
    let mut text = vec![0, asm::UNIMP, 0xffff_ffff];
    text.extend(halt_with(4));
    let elf = ElfBuilder::new(TEXT + 12).text(TEXT, &text).build();
    assert_eq!(run_both(&elf, CONFIG).0.exit, Exit::Halted { code: 4 });

    // And executing one of them traps with the exact word.
    let elf = ElfBuilder::new(TEXT + 4).text(TEXT, &text).build();
    let (outcome, _, _) = run_both(&elf, CONFIG);
    assert_eq!(
        outcome.exit,
        Exit::Trapped(Trap::IllegalInstruction { pc: TEXT + 4, word: asm::UNIMP, reason: IllegalReason::Csr })
    );
}

#[test]
fn text_size_not_a_multiple_of_four_loads() {
    // A trailing partial word is never an instruction slot.
    let mut bytes = athena_test_elf::words_to_bytes(&halt_with(6));
    bytes.extend([0x13, 0x00]);
    let len = bytes.len() as u32;
    let elf = ElfBuilder::new(TEXT).segment(TEXT, PF_R | PF_X, bytes, len).build();
    assert_eq!(run_both(&elf, CONFIG).0.exit, Exit::Halted { code: 6 });
    assert_eq!(
        load_err(&ElfBuilder::new(TEXT + 12).segment(TEXT, PF_R | PF_X, vec![0; 14], 14).build()),
        LoadError::BadEntry(TEXT + 12)
    );
}

#[test]
fn misaligned_text_segment_is_rejected() {
    let elf = ElfBuilder::new(TEXT + 2).text(TEXT + 2, &halt_with(0)).build();
    assert_eq!(load_err(&elf), LoadError::MisalignedCode { index: 0, vaddr: TEXT + 2 });
}

#[test]
fn rve_flag_makes_high_registers_trap_only_when_executed() {
    // `add a6, a0, a0` names x16.
    let high = asm::add(A6, A0, A0);
    let text_skipping = {
        let mut t = vec![asm::addi(A0, 0, 3), 0x0080_006f /* jal x0, +8 */, high];
        t.extend(HALT);
        t
    };
    let elf = ElfBuilder::new(TEXT).flags(EF_RISCV_RVE).text(TEXT, &text_skipping).build();
    assert_eq!(Program::from_elf(&elf).unwrap().registers(), RegisterSet::Rv32e);
    assert_eq!(run_both(&elf, CONFIG).0.exit, Exit::Halted { code: 3 });

    let text_executing = {
        let mut t = vec![asm::addi(A0, 0, 3), high];
        t.extend(HALT);
        t
    };
    let elf = ElfBuilder::new(TEXT).flags(EF_RISCV_RVE).text(TEXT, &text_executing).build();
    let (outcome, _, _) = run_both(&elf, CONFIG);
    assert_eq!(
        outcome.exit,
        Exit::Trapped(Trap::IllegalInstruction { pc: TEXT + 4, word: high, reason: IllegalReason::RegisterOutOfRange })
    );
    assert_eq!(outcome.instructions, 1);
    // Without the flag the same file runs to the end.
    let elf = ElfBuilder::new(TEXT).text(TEXT, &text_executing).build();
    let (outcome, _, regs) = run_both(&elf, CONFIG);
    assert_eq!(outcome.exit, Exit::Halted { code: 3 });
    assert_eq!(regs[A6 as usize], 6);
}

#[test]
fn loading_is_deterministic_and_repeatable() {
    let elf = hello().segment(DATA, PF_R | PF_W, vec![9; 100], 0x2000).build();
    let a = Program::from_elf(&elf).unwrap();
    let b = Program::from_elf(&elf).unwrap();
    assert_eq!(a, b);
    // One program, many machines.
    let outcomes: Vec<_> = (0..3).map(|_| run_both(&elf, CONFIG)).collect();
    assert!(outcomes.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn ignored_header_fields_do_not_matter() {
    // p_align, p_paddr, e_shoff etc. are not read; section headers are never
    // parsed. Check two fields the builder leaves at fixed values: e_shoff
    // pointing nowhere and a wild e_shnum.
    let mut elf = hello().build();
    elf[32..36].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes()); // e_shoff
    elf[48..50].copy_from_slice(&0xFFFFu16.to_le_bytes()); // e_shnum
    elf[50..52].copy_from_slice(&0x1234u16.to_le_bytes()); // e_shstrndx
    assert_eq!(run_both(&elf, CONFIG).0.exit, Exit::Halted { code: 7 });
}

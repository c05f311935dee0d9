//! FENCE, ECALL (the built-in syscalls), EBREAK, CSR and illegal words.

use super::asm::*;
use super::harness::*;
use athena_vm::isa::IllegalReason;
use athena_vm::{Exit, Trap};

const WRITE: u32 = 2;
const INPUT_LEN: u32 = 3;
const INPUT_READ: u32 = 4;

#[test]
fn fence_variants_are_no_ops() {
    for r in SETS {
        let values = [(r.rd, 1), (r.rs1, 2), (r.rs2, 3), (r.tmp, 4)];
        let base = run_ok(r.set, &values, &[]);
        let fences = [fence(), fence_tso(), pause(), fence_raw(0, 0, 0), fence_raw(0, 0b0010, 0b0001)];
        for word in fences {
            let run = run_ok(r.set, &values, &[word]);
            assert_eq!(run.machine.registers(), base.machine.registers(), "{word:#010x} ({:?})", r.set);
            assert_eq!(run.gas(), base.gas() + 1, "{word:#010x} costs one ALU op");
            assert_eq!(run.instructions(), base.instructions() + 1);
            assert_eq!(run.pages(), base.pages());
        }
    }
}

#[test]
fn halt_returns_a0_as_the_exit_code_and_stops() {
    for r in SETS {
        for code in [0, 1, 42, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff] {
            let mut program = halt_with(code);
            let n = program.len() as u64;
            program.push(ebreak()); // never reached
            let run = Test::new(r.set, program).run();
            assert_eq!(run.outcome.exit, Exit::Halted { code }, "{:?}", r.set);
            // The ECALL of a HALT counts as an instruction; it costs 1 + 10.
            assert_eq!(run.instructions(), n);
            assert_eq!(run.gas(), (n - 1) + 1 + 10);
        }
    }
}

/// `WRITE(fd, addr, len)` then `HALT` (exit code = the returned `a0`), with
/// `r.rd`/`r.tmp` set to sentinels so that preservation can be checked.
fn write_program(r: Regs, fd: u32, addr: u32, len: u32) -> (Vec<u32>, u32) {
    let mut code = setup(&[(r.rd, 0x1111_1111), (r.tmp, 0x2222_2222), (A0, fd), (A1, addr), (A2, len), (T0, WRITE)]);
    let pc = pc_of(code.len());
    code.push(ecall());
    code.extend(halt());
    (code, pc)
}

#[test]
fn write_collects_bytes_for_stdout_and_stderr() {
    let text = b"hello, conformance\n";
    for r in SETS {
        for fd in [1, 2] {
            let (code, _) = write_program(r, fd, DATA, text.len() as u32);
            let run = Test::new(r.set, code).data(DATA, text).run();
            assert_eq!(run.halted(), text.len() as u32, "a0 = length ({:?})", r.set);
            let (out, other) =
                if fd == 1 { (&run.env.stdout, &run.env.stderr) } else { (&run.env.stderr, &run.env.stdout) };
            assert_eq!(out.as_slice(), text, "fd {fd}");
            assert!(other.is_empty(), "fd {fd} wrote to the other stream");
            // Everything but a0 is preserved.
            let preserved = [(r.rd, 0x1111_1111), (r.tmp, 0x2222_2222), (A1, DATA), (A2, text.len() as u32)];
            for (reg, value) in preserved {
                assert_eq!(run.reg(reg), value, "x{reg} changed by WRITE");
            }
        }
        // Zero length writes nothing and returns 0.
        let (code, _) = write_program(r, 1, DATA, 0);
        let run = Test::new(r.set, code).data(DATA, text).run();
        assert_eq!(run.halted(), 0);
        assert!(run.env.stdout.is_empty());
    }
}

#[test]
fn write_reads_any_readable_memory() {
    for r in SETS {
        // Never-written memory reads as zeros.
        let (code, _) = write_program(r, 1, FAR, 6);
        let run = Test::new(r.set, code).run();
        assert_eq!((run.halted(), run.env.stdout.as_slice()), (6, &[0u8; 6][..]), "{:?}", r.set);
        // Code is readable: the first eight bytes of the program.
        let (code, _) = write_program(r, 2, BASE, 8);
        let want: Vec<u8> = code[..2].iter().flat_map(|w| w.to_le_bytes()).collect();
        let run = Test::new(r.set, code).run();
        assert_eq!(run.env.stderr, want);
        // Across a page boundary, and the very top of the address space.
        let bytes: Vec<u8> = (0..16).collect();
        let (code, _) = write_program(r, 1, DATA + 0xff8, 16);
        let run = Test::new(r.set, code).data(DATA + 0xff8, &bytes).run();
        assert_eq!(run.env.stdout, bytes);
        let (code, _) = write_program(r, 1, 0xffff_fffc, 4);
        let run = Test::new(r.set, code).run();
        assert_eq!((run.halted(), run.env.stdout.as_slice()), (4, &[0u8; 4][..]));
    }
}

fn assert_invalid(run: &Run, pc: u32, number: u32, what: &str) {
    match run.trap() {
        Trap::InvalidSyscallArgument { pc: p, number: n, .. } => {
            assert_eq!((p, n), (pc, number), "{what} ({:?})", run.set);
        }
        other => panic!("{what}: expected InvalidSyscallArgument, got {other:?} ({:?})", run.set),
    }
    assert!(run.env.stdout.is_empty() && run.env.stderr.is_empty(), "{what}: output despite the trap");
}

#[test]
fn write_rejects_bad_descriptors_and_buffers() {
    for r in SETS {
        for fd in [0, 3, 0x101, 0xffff_ffff] {
            let (code, pc) = write_program(r, fd, DATA, 4);
            let run = Test::new(r.set, code).data(DATA, b"abcd").run();
            assert_invalid(&run, pc, WRITE, &format!("fd {fd}"));
        }
        for (addr, len) in [
            (0, 1),
            (4, 4),
            (0xffc, 8), // starts in the guard region
            (0xfff, 1),
            (0xffff_fffc, 8), // wraps past 2^32
            (0xffff_ffff, 2),
            (DATA, 0xffff_ffff),
            (0x1000, 0xffff_f001),
        ] {
            let (code, pc) = write_program(r, 1, addr, len);
            let run = Test::new(r.set, code).run();
            assert_invalid(&run, pc, WRITE, &format!("buffer {addr:#x}+{len:#x}"));
        }
    }
}

/// `INPUT_READ(dst, offset, len)` then `HALT` (exit code = bytes read).
fn read_program(dst: u32, offset: u32, len: u32) -> (Vec<u32>, u32) {
    let mut code = setup(&[(A0, dst), (A1, offset), (A2, len), (T0, INPUT_READ)]);
    let pc = pc_of(code.len());
    code.push(ecall());
    code.extend(halt());
    (code, pc)
}

const INPUT: &[u8] = b"0123456789";

#[test]
fn input_len_reports_the_input_size() {
    for r in SETS {
        for input in [&b""[..], b"x", INPUT, &[7u8; 5000][..]] {
            let code = snippet(&[(r.rd, 0x1234), (A0, 0xdead)], &syscall(INPUT_LEN));
            let run = Test::new(r.set, code).input(input).run();
            assert_eq!(run.halted(), input.len() as u32, "{:?}", r.set);
            assert_eq!(run.reg(r.rd), 0x1234, "INPUT_LEN clobbered a register");
        }
    }
}

#[test]
fn input_read_copies_clamped_ranges() {
    // (offset, len, bytes expected at DATA..DATA+12), by hand; FILL is 0xaa.
    let rows: &[(u32, u32, &[u8])] = &[
        (0, 10, b"0123456789"),
        (3, 4, b"3456"),
        (8, 10, b"89"), // partial: only two bytes left
        (0, 0xffff_ffff, b"0123456789"),
        (9, 1, b"9"),
        (10, 1, b""), // offset at the end
        (11, 5, b""), // offset past the end
        (0xffff_ffff, 0xffff_ffff, b""),
        (0, 0, b""),
    ];
    for r in SETS {
        for &(offset, len, want) in rows {
            let (code, _) = read_program(DATA, offset, len);
            let run = Test::new(r.set, code).data(DATA, &[0xaa; 12]).input(INPUT).run();
            let what = format!("INPUT_READ offset {offset:#x} len {len:#x} ({:?})", r.set);
            assert_eq!(run.halted(), want.len() as u32, "{what}: count");
            let got: Vec<u8> = (0..12).map(|i| run.byte(DATA + i)).collect();
            let mut expected = want.to_vec();
            expected.resize(12, 0xaa);
            assert_eq!(got, expected, "{what}: memory");
        }
        // Into a fresh page.
        let (code, _) = read_program(FAR + 0xffe, 0, 4);
        let run = Test::new(r.set, code).input(INPUT).run();
        assert_eq!(run.halted(), 4);
        assert_eq!([run.byte(FAR + 0xffe), run.byte(FAR + 0x1001)], [b'0', b'3']);
    }
}

#[test]
fn input_read_rejects_protected_destinations() {
    for r in SETS {
        for (dst, what) in [
            (BASE, "code"),
            (BASE + 0x8, "code"),
            (0, "the guard region"),
            (0xffc, "the guard region"),
            (0xffff_fffc, "a range wrapping past 2^32"),
            (DATA + 2, "read-only data"),
        ] {
            let (code, pc) = read_program(dst, 0, 8);
            let run = Test::new(r.set, code.clone()).rodata(DATA, &[0x55; 16]).input(INPUT).run();
            assert_invalid(&run, pc, INPUT_READ, &format!("destination {dst:#x} in {what}"));
            assert_eq!(run.word(BASE + 8), code[2], "code was overwritten");
            assert_eq!(run.word(DATA), 0x5555_5555, "read-only data was overwritten");
        }
    }
}

#[test]
fn unknown_syscalls_trap() {
    for r in SETS {
        for number in [1, 5, 6, 0xff, 0x100, 0x1234, 0xffff_ffff] {
            let mut code = li(T0, number);
            let setup_len = code.len() as u64;
            code.push(ecall());
            code.extend(halt());
            let run = Test::new(r.set, code).run();
            let pc = pc_of(setup_len as usize);
            assert_eq!(run.trap(), Trap::UnknownSyscall { pc, number }, "{:?}", r.set);
            assert_eq!(run.gas(), setup_len + 1 + 10, "ECALL plus the syscall base");
            assert_eq!(run.instructions(), setup_len);
        }
    }
}

#[test]
fn ebreak_traps_with_its_pc() {
    for r in SETS {
        for at in [0usize, 3] {
            let mut code = vec![nop(); at];
            code.push(ebreak());
            code.extend(halt());
            let run = Test::new(r.set, code).run();
            assert_eq!(run.trap(), Trap::Breakpoint { pc: pc_of(at) }, "{:?}", r.set);
            assert_eq!((run.gas(), run.instructions()), (at as u64 + 1, at as u64));
        }
    }
}

fn assert_illegal(r: Regs, word: u32, reason: IllegalReason, what: &str) {
    for at in [0usize, 2] {
        let mut code = setup(&[(r.rd, 0x77)]);
        code.resize(at.max(code.len()), nop());
        let index = code.len();
        code.push(word);
        code.extend(halt());
        let run = Test::new(r.set, code).run();
        let pc = pc_of(index);
        assert_eq!(run.trap(), Trap::IllegalInstruction { pc, word, reason }, "{what} ({:?})", r.set);
        assert_eq!(run.gas(), index as u64 + 1, "{what}: an illegal word costs 1");
        assert_eq!(run.instructions(), index as u64);
        assert_eq!(run.reg(r.rd), 0x77);
    }
}

#[test]
fn csr_instructions_are_illegal() {
    for r in SETS {
        assert_illegal(r, 0xb000_2573, IllegalReason::Csr, "csrrs a0, mcycle, x0");
        assert_illegal(r, 0xc000_2573, IllegalReason::Csr, "rdcycle a0");
        assert_illegal(r, 0x3000_2573, IllegalReason::Csr, "csrr a0, mstatus");
        for funct3 in [1, 2, 3, 5, 6, 7] {
            assert_illegal(r, csr(funct3, A0, 0x340, A1), IllegalReason::Csr, &format!("csr funct3 {funct3}"));
            assert_illegal(r, csr(funct3, ZERO, 0xc00, ZERO), IllegalReason::Csr, &format!("csr funct3 {funct3} x0"));
        }
    }
}

#[test]
fn undecodable_words_are_illegal() {
    let words: &[(u32, &str)] = &[
        (0x0000_0000, "all-zero word"),
        (0xffff_ffff, "all-ones word"),
        (0x0000_4501, "compressed c.li"),
        (0x0000_0001, "compressed c.nop"),
        (0x0000_8082, "compressed c.ret"),
        (r_type(0x01, 0, A1, 1, A0, 0x13), "slli with imm[5] set"),
        (r_type(0x20, 1, A1, 1, A0, 0x13), "slli with funct7 0x20"),
        (r_type(0x01, 1, A1, 5, A0, 0x13), "srli with imm[5] set"),
        (r_type(0x21, 1, A1, 5, A0, 0x13), "srai with imm[5] set"),
        (r_type(0x20, A2, A1, 1, A0, 0x33), "OP funct7 0x20 funct3 1"),
        (r_type(0x20, A2, A1, 7, A0, 0x33), "OP funct7 0x20 funct3 7"),
        (r_type(0x02, A2, A1, 0, A0, 0x33), "OP funct7 0x02"),
        (r_type(0x40, A2, A1, 0, A0, 0x33), "OP funct7 0x40"),
        (i_type(0, A1, 3, A0, 0x03), "ld (load funct3 3)"),
        (i_type(0, A1, 6, A0, 0x03), "lwu (load funct3 6)"),
        (i_type(0, A1, 7, A0, 0x03), "load funct3 7"),
        (s_type(0, A2, A1, 3, 0x23), "sd (store funct3 3)"),
        (s_type(0, A2, A1, 4, 0x23), "store funct3 4"),
        (s_type(0, A2, A1, 7, 0x23), "store funct3 7"),
        (b_type(8, A2, A1, 2, 0x63), "branch funct3 2"),
        (b_type(8, A2, A1, 3, 0x63), "branch funct3 3"),
        (i_type(0, A1, 1, A0, 0x67), "jalr funct3 1"),
        (0x0000_100f, "fence.i"),
        (i_type(0, 0, 2, 0, 0x0f), "misc-mem funct3 2"),
        (r_type(0x08, 0, A1, 2, A0, 0x2f), "lr.w"),
        (i_type(0, A1, 2, A0, 0x07), "flw"),
        (r_type(0, A2, A1, 0, A0, 0x3b), "addw (RV64)"),
        (i_type(0, A1, 0, A0, 0x1b), "addiw (RV64)"),
        (0x3020_0073, "mret"),
        (0x1020_0073, "sret"),
        (0x1050_0073, "wfi"),
        (ecall() | (1 << 7), "ecall with rd set"),
        (ebreak() | (1 << 15), "ebreak with rs1 set"),
        (i_type(0x600, A1, 4, A0, 0x73), "SYSTEM funct3 4"),
        (0x0000_007f, "64-bit encoding prefix"),
    ];
    for r in SETS {
        for &(word, what) in words {
            assert_illegal(r, word, IllegalReason::Undecodable, what);
        }
    }
}

#[test]
fn illegal_words_that_are_never_executed_are_harmless() {
    for r in SETS {
        let mut code = halt_with(9);
        code.extend([0, 0xffff_ffff, 0xb000_2573, ebreak(), 0x0000_4501]);
        let run = Test::new(r.set, code).run();
        assert_eq!(run.halted(), 9, "{:?}", r.set);
        // Jumped over.
        let mut code = vec![jal(ZERO, 12), 0, 0xffff_ffff];
        code.extend(halt_with(3));
        let run = Test::new(r.set, code).run();
        assert_eq!(run.halted(), 3, "{:?}", r.set);
    }
}

#[test]
fn write_output_per_run_is_bounded() {
    const MIB: u32 = 1024 * 1024;
    assert_eq!(athena_vm::machine::MAX_OUTPUT_BYTES, 4 * MIB);
    for r in SETS {
        // Three WRITEs of 1.5 MiB of (zero) memory: the third would pass 4 MiB.
        let mut code = Vec::new();
        let mut third = 0;
        for i in 0..3 {
            code.extend(setup(&[(A0, 1), (A1, FAR), (A2, 3 * MIB / 2), (T0, WRITE)]));
            if i == 2 {
                third = pc_of(code.len());
            }
            code.push(ecall());
        }
        code.extend(halt());
        let run = Test::new(r.set, code).run();
        match run.trap() {
            Trap::InvalidSyscallArgument { pc, number, .. } => assert_eq!((pc, number), (third, WRITE)),
            other => panic!("expected InvalidSyscallArgument, got {other:?}"),
        }
        assert_eq!(run.env.stdout.len() as u32, 3 * MIB, "the refused WRITE wrote nothing");
    }
}

//! Loads, stores, protection, alignment and the memory limit.

use super::asm::*;
use super::harness::*;
use athena_vm::{LoadError, Machine, MachineConfig, Segment, Trap};

/// The data segment at [`DATA`] the load tests read.
const BYTES: [u8; 16] = [
    0x80, 0x7f, 0xff, 0x01, // word 0x01ff7f80
    0x34, 0x12, 0x78, 0x56, // word 0x56781234
    0x00, 0x80, 0xff, 0x7f, // word 0x7fff8000
    0xfe, 0xff, 0xff, 0xff, // word 0xfffffffe
];

type MemOp = fn(Reg, i32, Reg) -> u32;

/// `(name, op, offset into BYTES, expected)`, by hand.
const LOADS: &[(&str, MemOp, i32, u32)] = &[
    ("lb", lb, 0, 0xffff_ff80),
    ("lb", lb, 1, 0x7f),
    ("lb", lb, 2, 0xffff_ffff),
    ("lb", lb, 3, 0x01),
    ("lb", lb, 9, 0xffff_ff80),
    ("lb", lb, 12, 0xffff_fffe),
    ("lbu", lbu, 0, 0x80),
    ("lbu", lbu, 1, 0x7f),
    ("lbu", lbu, 2, 0xff),
    ("lbu", lbu, 3, 0x01),
    ("lbu", lbu, 12, 0xfe),
    ("lh", lh, 0, 0x7f80),
    ("lh", lh, 2, 0x01ff),
    ("lh", lh, 4, 0x1234),
    ("lh", lh, 6, 0x5678),
    ("lh", lh, 8, 0xffff_8000),
    ("lh", lh, 10, 0x7fff),
    ("lh", lh, 12, 0xffff_fffe),
    ("lh", lh, 14, 0xffff_ffff),
    ("lhu", lhu, 0, 0x7f80),
    ("lhu", lhu, 2, 0x01ff),
    ("lhu", lhu, 8, 0x8000),
    ("lhu", lhu, 10, 0x7fff),
    ("lhu", lhu, 14, 0xffff),
    ("lw", lw, 0, 0x01ff_7f80),
    ("lw", lw, 4, 0x5678_1234),
    ("lw", lw, 8, 0x7fff_8000),
    ("lw", lw, 12, 0xffff_fffe),
];

const ALL_LOADS: [(&str, MemOp); 5] = [("lb", lb), ("lh", lh), ("lw", lw), ("lbu", lbu), ("lhu", lhu)];
const ALL_STORES: [(&str, MemOp, u32); 3] = [("sb", sb, 1), ("sh", sh, 2), ("sw", sw, 4)];

fn with_data(r: Regs, code: Vec<u32>) -> Test {
    Test::new(r.set, code).data(DATA, &BYTES)
}

#[test]
fn loads_extend_sign_or_zero() {
    for r in SETS {
        for &(name, op, off, want) in LOADS {
            let what = format!("{name} at +{off} ({:?})", r.set);
            // Positive offset from the start, and negative from past the end.
            for (base, offset) in [(DATA, off), (DATA + 16, off - 16)] {
                let code = snippet(&[(r.rs1, base), (r.rd, 0xdead_beef)], &[op(r.rd, offset, r.rs1)]);
                let run = with_data(r, code).run();
                run.halted();
                assert_eq!(run.reg(r.rd), want, "{what} via {offset}({base:#x})");
                assert_eq!(run.reg(r.rs1), base, "{what}: base changed");
            }
            // rd == rs1.
            let code = snippet(&[(r.rs1, DATA)], &[op(r.rs1, off, r.rs1)]);
            let run = with_data(r, code).run();
            run.halted();
            assert_eq!(run.reg(r.rs1), want, "{what} with rd == rs1");
        }
    }
}

#[test]
fn load_offsets_sign_extend_to_the_full_range() {
    for r in SETS {
        for (base, offset, op, want) in [
            (DATA + 2048, -2048, lw as MemOp, 0x01ff_7f80),
            (DATA + 4 - 2047, 2047, lw, 0x5678_1234),
            (DATA + 1 - 2047, 2047, lbu, 0x7f),
            (DATA + 2048 + 12, -2048, lbu, 0xfe),
            (DATA + 9 + 1, -1, lb, 0xffff_ff80),
        ] {
            let code = snippet(&[(r.rs1, base)], &[op(r.rd, offset, r.rs1)]);
            let run = with_data(r, code).run();
            run.halted();
            assert_eq!(run.reg(r.rd), want, "{offset}({base:#x}) ({:?})", r.set);
        }
    }
}

#[test]
fn loads_from_never_written_memory_read_zero_and_allocate_nothing() {
    for r in SETS {
        for addr in [0x1000, FAR, 0x7fff_fffc, 0xffff_fffc, DATA + 0x1000] {
            for (name, op) in ALL_LOADS {
                let values = [(r.rs1, addr), (r.rd, 0xdead_beef)];
                let run = run_ok(r.set, &values, &[op(r.rd, 0, r.rs1)]);
                let baseline = run_ok(r.set, &values, &[nop()]);
                assert_eq!(run.reg(r.rd), 0, "{name} {addr:#x} ({:?})", r.set);
                assert_eq!(run.pages(), baseline.pages(), "{name} {addr:#x} allocated a page");
            }
        }
        // An address that wraps past 2^32 is taken modulo 2^32.
        let run = run_ok(r.set, &[(r.rs1, 4), (r.rd, 7)], &[lw(r.rd, -8, r.rs1)]);
        assert_eq!(run.reg(r.rd), 0, "lw -8(4) reads 0xfffffffc ({:?})", r.set);
    }
}

#[test]
fn code_is_readable_as_data() {
    for r in SETS {
        let code = snippet(&[(r.rs1, BASE)], &[lw(r.rd, 0, r.rs1), lbu(r.tmp, 3, r.rs1)]);
        let first = code[0];
        let run = Test::new(r.set, code).run();
        run.halted();
        assert_eq!((run.reg(r.rd), run.reg(r.tmp)), (first, first >> 24), "{:?}", r.set);
    }
}

#[test]
fn loads_from_the_guard_region_fault() {
    for r in SETS {
        for (name, op) in ALL_LOADS {
            let size: u32 = match name {
                "lh" | "lhu" => 2,
                "lw" => 4,
                _ => 1,
            };
            let ways = [
                (0, 0),
                (4, 0),
                (0x800, 0),
                (0x1000 - size, 0),
                (0x1000, -(size as i32)),
                (0xffff_fffc, 4),
                (0x0ff0 - 2044, 2044),
            ];
            for (base, offset) in ways {
                let addr = base.wrapping_add(offset as u32);
                let values = [(r.rs1, base), (r.rd, 0xdead_beef)];
                let (run, pc) = run_trap(r.set, &values, &[op(r.rd, offset, r.rs1)], 0);
                let what = format!("{name} {offset}({base:#x}) ({:?})", r.set);
                assert_eq!(run.trap(), Trap::LoadFault { pc, addr }, "{what}");
                assert_eq!(run.reg(r.rd), 0xdead_beef, "{what}: rd written");
                assert_eq!(run.gas(), run.instructions() + 2, "{what}: the load is charged");
            }
        }
        // The last byte of the guard region, and the first byte after it.
        let (run, pc) = run_trap(r.set, &[(r.rs1, 0xfff)], &[lbu(r.rd, 0, r.rs1)], 0);
        assert_eq!(run.trap(), Trap::LoadFault { pc, addr: 0xfff });
        run_ok(r.set, &[(r.rs1, 0x1000)], &[lbu(r.rd, 0, r.rs1)]);
        // A load into x0 still faults.
        let (run, pc) = run_trap(r.set, &[], &[lw(ZERO, 0, ZERO)], 0);
        assert_eq!(run.trap(), Trap::LoadFault { pc, addr: 0 }, "lw x0, 0(x0) ({:?})", r.set);
    }
}

#[test]
fn misaligned_loads_trap() {
    for r in SETS {
        for (name, op, size, off) in [
            ("lh", lh as MemOp, 2, 1),
            ("lh", lh, 2, 3),
            ("lhu", lhu, 2, 1),
            ("lhu", lhu, 2, 15),
            ("lw", lw, 4, 1),
            ("lw", lw, 4, 2),
            ("lw", lw, 4, 3),
        ] {
            let values = [(r.rs1, DATA), (r.rd, 0xdead_beef)];
            let mut code = setup(&values);
            let pc = pc_of(code.len());
            code.push(op(r.rd, off, r.rs1));
            code.extend(halt());
            let run = with_data(r, code).run();
            let addr = DATA + off as u32;
            assert_eq!(run.trap(), Trap::MisalignedAccess { pc, addr, size }, "{name} +{off} ({:?})", r.set);
            assert_eq!(run.reg(r.rd), 0xdead_beef, "{name}: rd written");
        }
        // Misalignment is checked before the guard region.
        let (run, pc) = run_trap(r.set, &[], &[lw(r.rd, 2, ZERO)], 0);
        assert_eq!(run.trap(), Trap::MisalignedAccess { pc, addr: 2, size: 4 }, "{:?}", r.set);
    }
}

#[test]
fn loads_into_x0_are_discarded() {
    for r in SETS {
        for (name, op) in ALL_LOADS {
            let mut code = setup(&[(r.rs1, DATA + 12), (r.rd, 9)]);
            code.extend([op(ZERO, 0, r.rs1), add(r.rd, ZERO, ZERO)]);
            code.extend(halt());
            let run = with_data(r, code).run();
            run.halted();
            assert_eq!(run.reg(r.rd), 0, "{name} x0 ({:?})", r.set);
        }
    }
}

/// 16 bytes of 0xaa at [`DATA`], so that stores can be checked byte by byte.
const FILL: [u8; 16] = [0xaa; 16];

fn run_store(r: Regs, base: u32, value: u32, body: &[u32]) -> Run {
    let code = snippet(&[(r.rs1, base), (r.rs2, value)], body);
    Test::new(r.set, code).data(DATA, &FILL).run()
}

#[test]
fn stores_write_only_their_bytes() {
    // (op, offset, expected words at DATA, DATA+4, DATA+8), by hand.
    let rows: &[(&str, MemOp, i32, [u32; 3])] = &[
        ("sb", sb, 4, [0xaaaa_aaaa, 0xaaaa_aa78, 0xaaaa_aaaa]),
        ("sb", sb, 5, [0xaaaa_aaaa, 0xaaaa_78aa, 0xaaaa_aaaa]),
        ("sb", sb, 6, [0xaaaa_aaaa, 0xaa78_aaaa, 0xaaaa_aaaa]),
        ("sb", sb, 7, [0xaaaa_aaaa, 0x78aa_aaaa, 0xaaaa_aaaa]),
        ("sh", sh, 4, [0xaaaa_aaaa, 0xaaaa_5678, 0xaaaa_aaaa]),
        ("sh", sh, 6, [0xaaaa_aaaa, 0x5678_aaaa, 0xaaaa_aaaa]),
        ("sw", sw, 4, [0xaaaa_aaaa, 0x1234_5678, 0xaaaa_aaaa]),
    ];
    for r in SETS {
        for &(name, op, off, want) in rows {
            for (base, offset) in [(DATA, off), (DATA + 16, off - 16), (DATA + 2048, off - 2048)] {
                let run = run_store(r, base, 0x1234_5678, &[op(r.rs2, offset, r.rs1)]);
                run.halted();
                let got = [run.word(DATA), run.word(DATA + 4), run.word(DATA + 8)];
                assert_eq!(got, want, "{name} {offset}({base:#x}) ({:?})", r.set);
                assert_eq!((run.reg(r.rs1), run.reg(r.rs2)), (base, 0x1234_5678), "{name}: registers changed");
            }
        }
        // The largest positive offset.
        let run = run_store(r, DATA + 3 - 2047, 0x0000_00cd, &[sb(r.rs2, 2047, r.rs1)]);
        run.halted();
        assert_eq!(run.word(DATA), 0xcdaa_aaaa, "sb 2047 ({:?})", r.set);
        // Storing x0 writes zeros.
        let run = run_store(r, DATA, 0, &[sw(ZERO, 8, r.rs1), sh(ZERO, 0, r.rs1), sb(ZERO, 7, r.rs1)]);
        run.halted();
        assert_eq!([run.word(DATA), run.word(DATA + 4), run.word(DATA + 8)], [0xaaaa_0000, 0x00aa_aaaa, 0]);
    }
}

#[test]
fn stores_then_loads_round_trip() {
    for r in SETS {
        let body = [
            sw(r.rs2, 0, r.rs1),
            lw(r.rd, 0, r.rs1),
            sb(r.rs2, 5, r.rs1),
            lb(r.tmp, 5, r.rs1),
            sh(r.rs2, 10, r.rs1),
            lhu(A0, 10, r.rs1),
        ];
        let run = run_store(r, DATA, 0x8765_8081, &body);
        assert_eq!(run.halted(), 0x8081, "lhu after sh ({:?})", r.set);
        assert_eq!(run.reg(r.rd), 0x8765_8081, "lw after sw");
        assert_eq!(run.reg(r.tmp), 0xffff_ff81, "lb after sb sign-extends");
    }
}

#[test]
fn misaligned_stores_trap_and_write_nothing() {
    for r in SETS {
        let rows = [("sh", sh as MemOp, 2, 1), ("sh", sh, 2, 7), ("sw", sw, 4, 1), ("sw", sw, 4, 2), ("sw", sw, 4, 3)];
        for (name, op, size, off) in rows {
            let mut code = setup(&[(r.rs1, DATA), (r.rs2, 0)]);
            let setup_len = code.len() as u64;
            let pc = pc_of(code.len());
            code.push(op(r.rs2, off, r.rs1));
            code.extend(halt());
            let run = Test::new(r.set, code).data(DATA, &FILL).run();
            let addr = DATA + off as u32;
            assert_eq!(run.trap(), Trap::MisalignedAccess { pc, addr, size }, "{name} +{off} ({:?})", r.set);
            assert_eq!([run.word(DATA), run.word(DATA + 4), run.word(DATA + 8)], [0xaaaa_aaaa; 3], "{name} wrote");
            assert_eq!(run.gas(), setup_len + 2, "{name}: setup plus the store");
        }
        // Alignment is checked before protection: misaligned into code or guard.
        let (run, pc) = run_trap(r.set, &[(r.rs1, BASE)], &[sw(r.rs2, 2, r.rs1)], 0);
        assert_eq!(run.trap(), Trap::MisalignedAccess { pc, addr: BASE + 2, size: 4 });
        let (run, pc) = run_trap(r.set, &[], &[sh(r.rs2, 1, ZERO)], 0);
        assert_eq!(run.trap(), Trap::MisalignedAccess { pc, addr: 1, size: 2 });
    }
}

#[test]
fn stores_to_code_fault_and_the_rest_of_its_page_is_writable() {
    for r in SETS {
        for (name, op, size) in ALL_STORES {
            for addr in [BASE, BASE + 4, BASE + 8 - size] {
                let mut code = setup(&[(r.rs1, addr), (r.rs2, 0)]);
                let pc = pc_of(code.len());
                code.push(op(r.rs2, 0, r.rs1));
                code.extend(halt());
                let run = Test::new(r.set, code.clone()).run();
                let what = format!("{name} to code {addr:#x} ({:?})", r.set);
                assert_eq!(run.trap(), Trap::StoreFault { pc, addr }, "{what}");
                assert_eq!([run.word(BASE), run.word(BASE + 4)], [code[0], code[1]], "{what}: code changed");
            }
            // The store instruction itself.
            let mut code = vec![auipc(r.rs1, 0), op(r.rs1, 4, r.rs1)];
            code.extend(halt());
            let run = Test::new(r.set, code).run();
            assert_eq!(run.trap(), Trap::StoreFault { pc: BASE + 4, addr: BASE + 4 }, "{name} over itself");
        }
        // Just past the end of the code (auipc, sw, sb, and two HALT words), and
        // further into the same, already allocated, page: no page gas.
        let values = [(r.rs2, 0x5555_aaaa), (r.tmp, BASE + 0x800)];
        let body = [auipc(r.rs1, 0), sw(r.rs2, 20, r.rs1), sb(r.rs2, 0, r.tmp)];
        let code = snippet(&values, &body);
        let end = pc_of(code.len());
        let run = Test::new(r.set, code).run();
        run.halted();
        assert_eq!(run.reg(r.rs1) + 20, end, "test layout");
        assert_eq!([run.word(end), run.word(BASE + 0x800)], [0x5555_aaaa, 0xaa], "{:?}", r.set);
        assert_eq!(run.gas(), run.instructions() + 2 + 10, "no page charge inside the code page");
    }
}

#[test]
fn stores_to_the_guard_region_fault() {
    for r in SETS {
        for (name, op, size) in ALL_STORES {
            for addr in [0u32, 4, 0x800, 0x1000 - size] {
                let (run, pc) = run_trap(r.set, &[(r.rs1, addr), (r.rs2, 1)], &[op(r.rs2, 0, r.rs1)], 0);
                assert_eq!(run.trap(), Trap::StoreFault { pc, addr }, "{name} {addr:#x} ({:?})", r.set);
            }
            // Address 0 through x0, and through a wrapping sum.
            let (run, pc) = run_trap(r.set, &[(r.rs2, 1)], &[op(r.rs2, 0, ZERO)], 0);
            assert_eq!(run.trap(), Trap::StoreFault { pc, addr: 0 }, "{name} 0(x0)");
            let (run, pc) = run_trap(r.set, &[(r.rs1, 0xffff_fffc)], &[op(r.rs2, 4, r.rs1)], 0);
            assert_eq!(run.trap(), Trap::StoreFault { pc, addr: 0 }, "{name} wrapping to 0");
        }
    }
}

#[test]
fn read_only_data_is_readable_but_not_writable() {
    for r in SETS {
        let code = snippet(&[(r.rs1, DATA)], &[lw(r.rd, 4, r.rs1)]);
        let run = Test::new(r.set, code).rodata(DATA, &BYTES).run();
        run.halted();
        assert_eq!(run.reg(r.rd), 0x5678_1234, "{:?}", r.set);
        for (name, op, _) in ALL_STORES {
            let mut code = setup(&[(r.rs1, DATA)]);
            let pc = pc_of(code.len());
            code.push(op(r.rs2, 12, r.rs1));
            code.extend(halt());
            let run = Test::new(r.set, code).rodata(DATA, &BYTES).run();
            assert_eq!(run.trap(), Trap::StoreFault { pc, addr: DATA + 12 }, "{name} ({:?})", r.set);
            assert_eq!(run.word(DATA + 12), 0xffff_fffe, "{name} wrote read-only data");
        }
    }
}

#[test]
fn stores_to_fresh_pages_anywhere_succeed() {
    for r in SETS {
        for addr in [0x1000, FAR, 0x7fff_fffc, 0xffff_fffc, DATA + 0x1000] {
            for (name, op, _) in ALL_STORES {
                let values = [(r.rs1, addr), (r.rs2, 0xa1b2_c3d4)];
                let baseline = run_ok(r.set, &values, &[]);
                let run = run_ok(r.set, &values, &[op(r.rs2, 0, r.rs1), lw(r.rd, 0, r.rs1)]);
                let want = match name {
                    "sb" => 0xd4,
                    "sh" => 0xc3d4,
                    _ => 0xa1b2_c3d4,
                };
                assert_eq!(run.reg(r.rd), want, "{name} {addr:#x} ({:?})", r.set);
                assert_eq!(run.pages(), baseline.pages() + 1, "{name} {addr:#x}: one new page");
            }
        }
    }
}

#[test]
fn memory_limit_caps_touched_pages() {
    for r in SETS {
        // Code page + data page + one more.
        let limit = 3 * 4096;
        let body = [sw(r.rs2, 0, r.rs1), sw(r.rs2, 0x7fc, r.rs1), sw(r.rs2, 0, r.tmp)];
        let values = [(r.rs1, FAR), (r.rs2, 1), (r.tmp, FAR + 0x1000)];
        let mut code = setup(&values);
        let setup_len = code.len();
        code.extend(body);
        code.extend(halt());
        for limit in [limit, limit + 4095] {
            let run = Test::new(r.set, code.clone()).data(DATA, &FILL).memory_limit(limit).run();
            let pc = pc_of(setup_len + 2);
            assert_eq!(run.trap(), Trap::OutOfMemory { pc, addr: FAR + 0x1000 }, "limit {limit} ({:?})", r.set);
            assert_eq!(run.pages(), 3);
            // The failing store is charged as an instruction, but not for a page.
            assert_eq!(run.gas(), setup_len as u64 + (2 + 64) + 2 + 2);
            assert_eq!(run.word(FAR), 1);
        }
        // One page more and the program completes.
        let run = Test::new(r.set, code.clone()).data(DATA, &FILL).memory_limit(4 * 4096).run();
        run.halted();
        assert_eq!(run.pages(), 4);
        // Stores into already-allocated pages still work at the limit.
        let code = snippet(&[(r.rs1, DATA), (r.rs2, 7)], &[sw(r.rs2, 0, r.rs1), sb(r.rs2, 0x100, r.rs1)]);
        let run = Test::new(r.set, code).data(DATA, &FILL).memory_limit(2 * 4096).run();
        run.halted();
        assert_eq!(run.word(DATA), 7);
    }
}

#[test]
fn image_larger_than_the_memory_limit_does_not_load() {
    for r in SETS {
        let test = Test::new(r.set, halt_with(0)).data(DATA, &[0; 8192]);
        let program = test.program();
        let config = MachineConfig { memory_limit: 2 * 4096, ..MachineConfig::default() };
        match Machine::new(&program, config) {
            Err(LoadError::ImageTooLarge { .. }) => {}
            Err(other) => panic!("wrong error {other:?}"),
            Ok(_) => panic!("a program needing 3 pages loaded under a 2-page limit ({:?})", r.set),
        }
        let config = MachineConfig { memory_limit: 3 * 4096, ..MachineConfig::default() };
        assert!(Machine::new(&program, config).is_ok());
    }
}

#[test]
fn segments_sharing_a_page_keep_their_own_protection() {
    for r in SETS {
        // Read-only bytes at DATA..DATA+16, writable right after, same page.
        let body = [sw(r.rs2, 16, r.rs1), lw(r.rd, 16, r.rs1), sw(r.rs2, 12, r.rs1)];
        let mut code = setup(&[(r.rs1, DATA), (r.rs2, 0x0bad_f00d)]);
        let pc = pc_of(code.len() + 2);
        code.extend(body);
        code.extend(halt());
        let run = Test::new(r.set, code).rodata(DATA, &BYTES).data(DATA + 16, &[0; 16]).run();
        assert_eq!(run.trap(), Trap::StoreFault { pc, addr: DATA + 12 }, "{:?}", r.set);
        assert_eq!((run.reg(r.rd), run.word(DATA + 12)), (0x0bad_f00d, 0xffff_fffe));
        // Writable data in the code's page, right after the code.
        let tail = BASE + 0x800;
        let code = snippet(&[(r.rs1, tail), (r.rs2, 0x1357_9bdf)], &[sw(r.rs2, 0, r.rs1), lw(r.rd, 0, r.rs1)]);
        let run = Test::new(r.set, code).data(tail, &[0; 4]).run();
        run.halted();
        assert_eq!(run.reg(r.rd), 0x1357_9bdf, "{:?}", r.set);
    }
}

#[test]
fn input_read_respects_the_memory_limit() {
    for r in SETS {
        let mut code = setup(&[(A0, FAR + 0xffc), (A1, 0), (A2, 8), (T0, 4)]);
        let pc = pc_of(code.len());
        code.push(ecall());
        code.extend(halt());
        // Code page + one: the read needs two fresh pages.
        let run = Test::new(r.set, code.clone()).input(b"abcdefgh").memory_limit(2 * 4096).run();
        assert_eq!(run.trap(), Trap::OutOfMemory { pc, addr: FAR + 0xffc }, "{:?}", r.set);
        assert_eq!((run.pages(), run.word(FAR + 0xffc)), (1, 0), "nothing written");
        let run = Test::new(r.set, code).input(b"abcdefgh").memory_limit(3 * 4096).run();
        assert_eq!(run.halted(), 8);
        assert_eq!(run.word(FAR + 0x1000), u32::from_le_bytes(*b"efgh"));
    }
}

#[test]
fn bytes_past_the_file_data_of_a_segment_are_zero() {
    for r in SETS {
        // A segment of three pages with only 16 bytes of file data.
        let seg =
            |writable| Segment { vaddr: DATA, mem_size: 0x3000, data: vec![0x11; 16], executable: false, writable };
        let body =
            [lw(r.rd, 12, r.rs1), lw(r.tmp, 16, r.rs1), lw(A0, 0x7fc, r.rs2), sw(r.rd, 0, r.rs2), lw(A0, 0, r.rs2)];
        let code = snippet(&[(r.rs1, DATA), (r.rs2, DATA + 0x2800)], &body);
        let mut test = Test::new(r.set, code);
        test.segments.push(seg(true));
        let run = test.run();
        assert_eq!(run.halted(), 0x1111_1111, "bss is writable ({:?})", r.set);
        assert_eq!((run.reg(r.rd), run.reg(r.tmp)), (0x1111_1111, 0), "file bytes, then zeros");
        // Read-only: every byte up to mem_size is protected.
        let mut code = setup(&[(r.rs1, DATA + 0x2ffc)]);
        let pc = pc_of(code.len() + 1);
        code.extend([lw(r.rd, 0, r.rs1), sw(r.rs1, 0, r.rs1)]);
        code.extend(halt());
        let mut test = Test::new(r.set, code);
        test.segments.push(seg(false));
        let run = test.run();
        assert_eq!(run.trap(), Trap::StoreFault { pc, addr: DATA + 0x2ffc }, "{:?}", r.set);
        assert_eq!(run.reg(r.rd), 0);
    }
}

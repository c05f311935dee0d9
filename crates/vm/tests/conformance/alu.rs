//! Integer ALU instructions: OP, OP-IMM, LUI, AUIPC, and `li`.
//!
//! The tables are worked out by hand; a final sweep checks every operand
//! pair against an independent 64-bit formula.

use super::asm::*;
use super::harness::*;
use athena_vm::RegisterSet;

#[test]
fn add_wraps_on_overflow() {
    check_r(
        "add",
        add,
        &[
            (0, 0, 0),
            (1, 2, 3),
            (0x7fff_ffff, 1, 0x8000_0000),
            (0xffff_ffff, 1, 0),
            (0xffff_ffff, 0xffff_ffff, 0xffff_fffe),
            (0x8000_0000, 0x8000_0000, 0),
            (0x8000_0000, 0xffff_ffff, 0x7fff_ffff),
            (0x1234_5678, 0x9abc_def0, 0xacf1_3568),
        ],
    );
}

#[test]
fn sub_wraps_on_overflow() {
    check_r(
        "sub",
        sub,
        &[
            (0, 0, 0),
            (1, 2, 0xffff_ffff),
            (0, 1, 0xffff_ffff),
            (0x8000_0000, 1, 0x7fff_ffff),
            (0x7fff_ffff, 0xffff_ffff, 0x8000_0000),
            (0, 0x8000_0000, 0x8000_0000),
            (0x8000_0000, 0x8000_0000, 0),
            (0x1234_5678, 0x9abc_def0, 0x7777_7788),
        ],
    );
}

#[test]
fn sll_uses_low_five_bits_of_rs2() {
    check_r(
        "sll",
        sll,
        &[
            (0x1234_5678, 0, 0x1234_5678),
            (1, 1, 2),
            (1, 31, 0x8000_0000),
            (0xffff_ffff, 31, 0x8000_0000),
            (0x1234_5678, 4, 0x2345_6780),
            (0x8000_0001, 1, 2),
            // Only rs2[4:0] counts.
            (1, 32, 1),
            (1, 33, 2),
            (3, 0xffff_ffe1, 6),
            (1, 0x8000_001f, 0x8000_0000),
            (0x1234_5678, 0xffff_ffe0, 0x1234_5678),
        ],
    );
}

#[test]
fn srl_is_logical_and_uses_low_five_bits() {
    check_r(
        "srl",
        srl,
        &[
            (0x8000_0000, 0, 0x8000_0000),
            (0x8000_0000, 31, 1),
            (0xffff_ffff, 1, 0x7fff_ffff),
            (0xffff_ffff, 31, 1),
            (0x1234_5678, 4, 0x0123_4567),
            (0xffff_ffff, 32, 0xffff_ffff),
            (0xffff_ffff, 63, 1),
            (0x8000_0000, 0xffff_ffe4, 0x0800_0000),
        ],
    );
}

#[test]
fn sra_is_arithmetic_and_uses_low_five_bits() {
    check_r(
        "sra",
        sra,
        &[
            (0x8000_0000, 0, 0x8000_0000),
            (0x8000_0000, 1, 0xc000_0000),
            (0x8000_0000, 31, 0xffff_ffff),
            (0x7fff_ffff, 31, 0),
            (0xffff_fff0, 2, 0xffff_fffc),
            (0xedcb_a987, 4, 0xfedc_ba98),
            (0x1234_5678, 4, 0x0123_4567),
            // -5 >> 1 rounds toward negative infinity.
            (0xffff_fffb, 1, 0xffff_fffd),
            (0xffff_ffff, 31, 0xffff_ffff),
            (0x8000_0000, 32, 0x8000_0000),
            (0x8000_0000, 36, 0xf800_0000),
            (0x8000_0000, 0xffff_ffff, 0xffff_ffff),
        ],
    );
}

#[test]
fn slt_compares_signed() {
    check_r(
        "slt",
        slt,
        &[
            (5, 5, 0),
            (0, 0, 0),
            (0x7fff_ffff, 0x8000_0000, 0),
            (0x8000_0000, 0x7fff_ffff, 1),
            (0xffff_ffff, 1, 1),
            (1, 0xffff_ffff, 0),
            (0xffff_ffff, 0, 1),
            (0, 0xffff_ffff, 0),
            (0x8000_0000, 0x8000_0001, 1),
            (0xffff_fffe, 0xffff_ffff, 1),
            (3, 5, 1),
        ],
    );
}

#[test]
fn sltu_compares_unsigned() {
    check_r(
        "sltu",
        sltu,
        &[
            (5, 5, 0),
            (0, 0, 0),
            (0x7fff_ffff, 0x8000_0000, 1),
            (0x8000_0000, 0x7fff_ffff, 0),
            (0xffff_ffff, 1, 0),
            (1, 0xffff_ffff, 1),
            (0, 0xffff_ffff, 1),
            (0, 1, 1),
            (0xffff_fffe, 0xffff_ffff, 1),
        ],
    );
}

#[test]
fn logical_ops() {
    check_r(
        "xor",
        xor,
        &[
            (0xff00_ff00, 0x0ff0_0ff0, 0xf0f0_f0f0),
            (0xffff_ffff, 0x1234_5678, 0xedcb_a987),
            (0x1234_5678, 0x1234_5678, 0),
            (0, 0, 0),
        ],
    );
    check_r(
        "or",
        or,
        &[
            (0xff00_ff00, 0x0ff0_0ff0, 0xfff0_fff0),
            (0xffff_ffff, 0x1234_5678, 0xffff_ffff),
            (0x8000_0000, 1, 0x8000_0001),
            (0x1234_5678, 0x1234_5678, 0x1234_5678),
        ],
    );
    check_r(
        "and",
        and,
        &[
            (0xff00_ff00, 0x0ff0_0ff0, 0x0f00_0f00),
            (0xffff_ffff, 0x1234_5678, 0x1234_5678),
            (0x8000_0000, 0x7fff_ffff, 0),
            (0x1234_5678, 0x1234_5678, 0x1234_5678),
        ],
    );
}

#[test]
fn addi_sign_extends_its_immediate() {
    check_i(
        "addi",
        addi,
        &[
            (0, 0, 0),
            (0, -2048, 0xffff_f800),
            (0, 2047, 0x7ff),
            (0, -1, 0xffff_ffff),
            (5, -1, 4),
            (0x800, -2048, 0),
            (0x7fff_ffff, 1, 0x8000_0000),
            (0xffff_ffff, 1, 0),
            (0x8000_0000, -1, 0x7fff_ffff),
            (0x1234_5678, 2047, 0x1234_5e77),
        ],
    );
}

#[test]
fn slti_compares_signed_against_sign_extended_immediate() {
    check_i(
        "slti",
        slti,
        &[
            (0xffff_ffff, 0, 1),
            (0, -1, 0),
            (0xffff_ffff, -1, 0),
            (0xffff_fffe, -1, 1),
            (0xffff_f7ff, -2048, 1),
            (0xffff_f800, -2048, 0),
            (2046, 2047, 1),
            (2047, 2047, 0),
            (0x8000_0000, -2048, 1),
            (0x7fff_ffff, 2047, 0),
        ],
    );
}

#[test]
fn sltiu_compares_unsigned_against_sign_extended_immediate() {
    check_i(
        "sltiu",
        sltiu,
        &[
            // -1 sign-extends to 0xffffffff: everything but 0xffffffff is below it.
            (0, -1, 1),
            (0xffff_fffe, -1, 1),
            (0xffff_ffff, -1, 0),
            // seqz
            (0, 1, 1),
            (1, 1, 0),
            (0x8000_0000, 1, 0),
            // -2048 is 0xfffff800 unsigned.
            (0xffff_f7ff, -2048, 1),
            (0xffff_f800, -2048, 0),
            (0x8000_0000, 2047, 0),
            (5, 2047, 1),
        ],
    );
}

#[test]
fn logical_immediates_sign_extend() {
    check_i(
        "xori",
        xori,
        &[(0x1234_5678, -1, 0xedcb_a987), (0, -2048, 0xffff_f800), (0xffff_ffff, 2047, 0xffff_f800), (0xff, 0xff, 0)],
    );
    check_i(
        "ori",
        ori,
        &[
            (0, -2048, 0xffff_f800),
            (0x1234_5678, 2047, 0x1234_57ff),
            (0x8000_0000, 1, 0x8000_0001),
            (0x0000_f000, -1, 0xffff_ffff),
        ],
    );
    check_i(
        "andi",
        andi,
        &[
            (0xffff_ffff, -2048, 0xffff_f800),
            (0x1234_5678, 2047, 0x678),
            (0x1234_5678, -1, 0x1234_5678),
            (0x1234_5678, 0, 0),
            (0x8000_0fff, -16, 0x8000_0ff0),
        ],
    );
}

#[test]
fn immediate_shifts() {
    let slli_op: IOp = |rd, rs1, sh| slli(rd, rs1, sh as u32);
    let srli_op: IOp = |rd, rs1, sh| srli(rd, rs1, sh as u32);
    let srai_op: IOp = |rd, rs1, sh| srai(rd, rs1, sh as u32);
    check_i(
        "slli",
        slli_op,
        &[(1, 0, 1), (1, 31, 0x8000_0000), (0x1234_5678, 8, 0x3456_7800), (0xffff_ffff, 1, 0xffff_fffe)],
    );
    check_i(
        "srli",
        srli_op,
        &[(0x8000_0000, 31, 1), (0xffff_ffff, 0, 0xffff_ffff), (0x1234_5678, 8, 0x0012_3456), (0xffff_ffff, 31, 1)],
    );
    check_i(
        "srai",
        srai_op,
        &[
            (0x8000_0000, 31, 0xffff_ffff),
            (0x7fff_ffff, 31, 0),
            (0x8765_4321, 8, 0xff87_6543),
            (0x8765_4321, 0, 0x8765_4321),
            (0x4000_0000, 30, 1),
            (0xffff_fffb, 1, 0xffff_fffd),
        ],
    );
}

#[test]
fn lui_replaces_the_whole_register() {
    for r in SETS {
        for (imm20, want) in
            [(0, 0), (1, 0x1000), (0x12345, 0x1234_5000), (0x80000, 0x8000_0000), (0xfffff, 0xffff_f000)]
        {
            // rd starts all-ones: the low 12 bits must be cleared, not kept.
            let run = run_ok(r.set, &[(r.rd, 0xffff_ffff)], &[lui(r.rd, imm20)]);
            assert_eq!(run.reg(r.rd), want, "lui {imm20:#x} ({:?})", r.set);
        }
    }
}

#[test]
fn auipc_is_relative_to_its_own_pc() {
    for r in SETS {
        for at in [0usize, 1, 5] {
            for (imm20, offset) in [(0u32, 0u32), (1, 0x1000), (0xfffff, 0xffff_f000), (0x80000, 0x8000_0000)] {
                let mut code = vec![nop(); at];
                code.push(auipc(r.rd, imm20));
                code.extend(halt());
                let run = Test::new(r.set, code).run();
                run.halted();
                let want = pc_of(at).wrapping_add(offset);
                assert_eq!(run.reg(r.rd), want, "auipc {imm20:#x} at slot {at} ({:?})", r.set);
            }
        }
    }
}

#[test]
fn li_loads_every_kind_of_constant() {
    let values = [
        0,
        1,
        0x7ff,
        0x800,
        0xfff,
        0x1000,
        0xffff_ffff,
        0xffff_f800,
        0xffff_f7ff,
        0x7fff_ffff,
        0x8000_0000,
        0x8000_0800,
        0x8000_07ff,
        0x1234_5678,
        0x1234_5fff,
        0xdead_beef,
    ];
    for r in SETS {
        for v in values {
            let run = run_ok(r.set, &[(r.rd, v), (r.tmp, !v)], &[]);
            assert_eq!((run.reg(r.rd), run.reg(r.tmp)), (v, !v), "li {v:#x} ({:?})", r.set);
        }
    }
}

#[test]
fn alu_writes_to_x0_are_discarded() {
    for r in SETS {
        let values = [(r.rs1, 0x1234_5678), (r.rs2, 0x0000_0003)];
        let rr: [(&str, ROp); 10] = [
            ("add", add),
            ("sub", sub),
            ("sll", sll),
            ("slt", slt),
            ("sltu", sltu),
            ("xor", xor),
            ("srl", srl),
            ("sra", sra),
            ("or", or),
            ("and", and),
        ];
        for (name, op) in rr {
            check_x0_discarded(name, &values, op(ZERO, r.rs1, r.rs2), r.rd, r.set);
        }
        let ri: [(&str, IOp); 6] =
            [("addi", addi), ("slti", slti), ("sltiu", sltiu), ("xori", xori), ("ori", ori), ("andi", andi)];
        for (name, op) in ri {
            check_x0_discarded(name, &values, op(ZERO, r.rs1, -1), r.rd, r.set);
        }
        check_x0_discarded("slli", &values, slli(ZERO, r.rs1, 3), r.rd, r.set);
        check_x0_discarded("srli", &values, srli(ZERO, r.rs1, 3), r.rd, r.set);
        check_x0_discarded("srai", &values, srai(ZERO, r.rs1, 3), r.rd, r.set);
        check_x0_discarded("lui", &values, lui(ZERO, 0x12345), r.rd, r.set);
        check_x0_discarded("auipc", &values, auipc(ZERO, 0x12345), r.rd, r.set);
        // Reading x0 as a source yields zero even right after such a write.
        let run = run_ok(r.set, &values, &[addi(ZERO, ZERO, 7), addi(r.rd, ZERO, 5), add(r.tmp, ZERO, r.rd)]);
        assert_eq!((run.reg(r.rd), run.reg(r.tmp)), (5, 5), "{:?}", r.set);
    }
}

#[test]
fn nop_changes_nothing_but_pc() {
    for r in SETS {
        let values = [(r.rd, 0x1111_1111), (r.rs1, 0x2222_2222), (r.rs2, 0x3333_3333)];
        let base = run_ok(r.set, &values, &[]);
        let with_nops = run_ok(r.set, &values, &[nop(), nop(), nop()]);
        assert_eq!(base.machine.registers(), with_nops.machine.registers(), "{:?}", r.set);
        assert_eq!(with_nops.gas(), base.gas() + 3);
        assert_eq!(with_nops.instructions(), base.instructions() + 3);
    }
}

/// The RV32I semantics, written independently of the VM with 64-bit math.
fn reference(op: &str, a: u32, b: u32) -> u32 {
    let (wa, wb) = (u64::from(a), u64::from(b));
    let (sa, sb) = (i64::from(a as i32), i64::from(b as i32));
    let shamt = b % 32;
    match op {
        "add" => (wa + wb) as u32,
        "sub" => (wa + (1 << 32) - wb) as u32,
        "sll" => (wa << shamt) as u32,
        "slt" => u32::from(sa < sb),
        "sltu" => u32::from(wa < wb),
        "xor" => a ^ b,
        "srl" => (wa >> shamt) as u32,
        "sra" => (sa >> shamt) as u32,
        "or" => a | b,
        _ => a & b,
    }
}

#[test]
fn sweep_against_an_independent_formula() {
    let ops: [(&str, ROp); 10] = [
        ("add", add),
        ("sub", sub),
        ("sll", sll),
        ("slt", slt),
        ("sltu", sltu),
        ("xor", xor),
        ("srl", srl),
        ("sra", sra),
        ("or", or),
        ("and", and),
    ];
    let values = [
        0u32,
        1,
        2,
        31,
        32,
        33,
        0x7ff,
        0x800,
        0x7fff_ffff,
        0x8000_0000,
        0x8000_0001,
        0xffff_ffe1,
        0xffff_ffff,
        0xdead_beef,
    ];
    let layouts: [(RegisterSet, Reg, Reg, [Reg; 10]); 2] = [
        (RegisterSet::Rv32i, T5, T6, [16, 17, 18, 19, 20, 21, 22, 23, 24, 25]),
        (RegisterSet::Rv32e, A4, A5, [1, 3, 4, 6, 7, 8, 9, 11, 12, 13]),
    ];
    for (set, rs1, rs2, dests) in layouts {
        for &a in &values {
            for &b in &values {
                let body: Vec<u32> = ops.iter().zip(dests).map(|((_, op), rd)| op(rd, rs1, rs2)).collect();
                let run = run_ok(set, &[(rs1, a), (rs2, b)], &body);
                for ((name, _), rd) in ops.iter().zip(dests) {
                    assert_eq!(run.reg(rd), reference(name, a, b), "{name} {a:#x}, {b:#x} ({set:?})");
                }
                // The immediate forms, where b fits in 12 signed bits.
                let imm = b as i32;
                if (-2048..=2047).contains(&imm) {
                    let iops: [(&str, IOp); 6] =
                        [("add", addi), ("slt", slti), ("sltu", sltiu), ("xor", xori), ("or", ori), ("and", andi)];
                    let body: Vec<u32> = iops.iter().zip(dests).map(|((_, op), rd)| op(rd, rs1, imm)).collect();
                    let run = run_ok(set, &[(rs1, a)], &body);
                    for ((name, _), rd) in iops.iter().zip(dests) {
                        assert_eq!(run.reg(rd), reference(name, a, b), "{name}i {a:#x}, {imm} ({set:?})");
                    }
                }
            }
        }
    }
}

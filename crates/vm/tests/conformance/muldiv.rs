//! The M extension: MUL, MULH, MULHSU, MULHU, DIV, DIVU, REM, REMU.
//!
//! Hand-computed tables for the edge cases, then a sweep over interesting
//! operands checked against an independent 64/128-bit formula.

use super::asm::*;
use super::harness::*;
use athena_vm::RegisterSet;

const MIN: u32 = 0x8000_0000; // i32::MIN
const NEG1: u32 = 0xffff_ffff; // -1

#[test]
fn mul_keeps_the_low_32_bits() {
    check_r(
        "mul",
        mul,
        &[
            (0, 0, 0),
            (3, 7, 21),
            (NEG1, NEG1, 1),
            (MIN, MIN, 0),
            (MIN, NEG1, MIN),
            (0x7fff_ffff, 2, 0xffff_fffe),
            (0x7fff_ffff, 0x7fff_ffff, 1),
            (0x1_0000, 0x1_0000, 0),
            (0x1234_5678, 0x10, 0x2345_6780),
            (NEG1, 5, 0xffff_fffb),
            (0xffff_fffe, 0xffff_fffd, 6),
        ],
    );
}

#[test]
fn mulh_signed_by_signed() {
    check_r(
        "mulh",
        mulh,
        &[
            (NEG1, NEG1, 0),         // 1
            (MIN, MIN, 0x4000_0000), // 2^62
            (MIN, NEG1, 0),          // 2^31
            (MIN, 1, NEG1),          // -2^31
            (0xffff_fffe, 3, NEG1),  // -6
            (3, 0xffff_fffe, NEG1),  // -6
            (0x7fff_ffff, 0x7fff_ffff, 0x3fff_ffff),
            (MIN, 0x7fff_ffff, 0xc000_0000), // -2^62 + 2^31
            (0x1_0000, 0x1_0000, 1),
            (0, NEG1, 0),
            (NEG1, 1, NEG1),
        ],
    );
}

#[test]
fn mulhsu_signed_by_unsigned() {
    check_r(
        "mulhsu",
        mulhsu,
        &[
            (NEG1, NEG1, NEG1),               // -1 * (2^32 - 1)
            (MIN, MIN, 0xc000_0000),          // -2^31 * 2^31
            (MIN, NEG1, 0x8000_0000),         // -2^31 * (2^32 - 1)
            (0x7fff_ffff, NEG1, 0x7fff_fffe), // (2^31 - 1) * (2^32 - 1)
            (0xffff_fffe, 3, NEG1),           // -6
            (3, 0xffff_fffe, 2),              // 3 * (2^32 - 2)
            (NEG1, 0, 0),
            (1, NEG1, 0),
            (NEG1, 1, NEG1),
        ],
    );
}

#[test]
fn mulhu_unsigned_by_unsigned() {
    check_r(
        "mulhu",
        mulhu,
        &[
            (NEG1, NEG1, 0xffff_fffe), // 2^64 - 2^33 + 1
            (MIN, MIN, 0x4000_0000),   // 2^62
            (MIN, NEG1, 0x7fff_ffff),  // 2^63 - 2^31
            (NEG1, 1, 0),
            (NEG1, 2, 1),
            (0x1_0000, 0x1_0000, 1),
            (0, NEG1, 0),
        ],
    );
}

#[test]
fn div_rounds_toward_zero_with_defined_edge_cases() {
    check_r(
        "div",
        div,
        &[
            (7, 2, 3),
            (0xffff_fff9, 2, 0xffff_fffd), // -7 / 2 = -3
            (7, 0xffff_fffe, 0xffff_fffd), // 7 / -2 = -3
            (0xffff_fff9, 0xffff_fffe, 3), // -7 / -2 = 3
            (1, 2, 0),
            (NEG1, 2, 0), // -1 / 2 = 0, not -1
            (5, 0, NEG1), // division by zero
            (0, 0, NEG1),
            (MIN, 0, NEG1),
            (NEG1, 0, NEG1),
            (MIN, NEG1, MIN), // overflow
            (MIN, 1, MIN),
            (MIN, 2, 0xc000_0000),
            (NEG1, MIN, 0),
            (MIN, MIN, 1),
            (0x7fff_ffff, NEG1, 0x8000_0001),
        ],
    );
}

#[test]
fn divu_with_defined_division_by_zero() {
    check_r(
        "divu",
        divu,
        &[
            (7, 2, 3),
            (0xffff_fff9, 2, 0x7fff_fffc),
            (5, 0, NEG1),
            (0, 0, NEG1),
            (NEG1, 0, NEG1),
            (MIN, NEG1, 0),
            (NEG1, NEG1, 1),
            (NEG1, 1, NEG1),
            (MIN, 2, 0x4000_0000),
        ],
    );
}

#[test]
fn rem_takes_the_sign_of_the_dividend() {
    check_r(
        "rem",
        rem,
        &[
            (7, 2, 1),
            (0xffff_fff9, 2, NEG1),           // -7 % 2 = -1
            (7, 0xffff_fffe, 1),              // 7 % -2 = 1
            (0xffff_fff9, 0xffff_fffe, NEG1), // -7 % -2 = -1
            (5, 0, 5),                        // division by zero: the dividend
            (MIN, 0, MIN),
            (NEG1, 0, NEG1),
            (0, 0, 0),
            (MIN, NEG1, 0), // overflow
            (MIN, 2, 0),
            (MIN, 3, 0xffff_fffe), // -2^31 = 3 * -715827882 - 2
            (0x7fff_ffff, MIN, 0x7fff_ffff),
            (MIN, MIN, 0),
        ],
    );
}

#[test]
fn remu_with_defined_division_by_zero() {
    check_r(
        "remu",
        remu,
        &[
            (7, 2, 1),
            (0xffff_fff9, 2, 1),
            (5, 0, 5),
            (NEG1, 0, NEG1),
            (0, 0, 0),
            (MIN, NEG1, MIN),
            (NEG1, MIN, 0x7fff_ffff),
            (NEG1, 3, 0),
        ],
    );
}

/// The RISC-V M semantics, written independently of the VM with wider
/// integer types (the i64 division needs no special case for overflow).
fn reference(op: usize, a: u32, b: u32) -> u32 {
    let (sa, sb) = (i128::from(a as i32), i128::from(b as i32));
    let (ua, ub) = (i128::from(a), i128::from(b));
    match op {
        0 => (ua * ub) as u32,
        1 => ((sa * sb) >> 32) as u32,
        2 => ((sa * ub) >> 32) as u32,
        3 => ((ua * ub) >> 32) as u32,
        4 if b == 0 => u32::MAX,
        4 => (i64::from(a as i32) / i64::from(b as i32)) as u32,
        5 if b == 0 => u32::MAX,
        5 => a / b,
        6 if b == 0 => a,
        6 => (i64::from(a as i32) % i64::from(b as i32)) as u32,
        _ if b == 0 => a,
        _ => a % b,
    }
}

const OPS: [(&str, ROp); 8] = [
    ("mul", mul),
    ("mulh", mulh),
    ("mulhsu", mulhsu),
    ("mulhu", mulhu),
    ("div", div),
    ("divu", divu),
    ("rem", rem),
    ("remu", remu),
];

#[test]
fn sweep_against_an_independent_formula() {
    let values = [
        0u32,
        1,
        2,
        3,
        7,
        0xffff_fff9,
        0x7fff_ffff,
        0x8000_0000,
        0x8000_0001,
        0xffff_ffff,
        0xffff_fffe,
        0x0001_0000,
        0xffff_0000,
        0x1234_5678,
        0x9abc_def0,
        0xdead_beef,
    ];
    // Sources and eight destinations per register set (RV32I: high registers).
    let layouts: [(RegisterSet, Reg, Reg, [Reg; 8]); 2] = [
        (RegisterSet::Rv32i, T5, T6, [16, 17, 18, 19, 20, 21, 22, 23]),
        (RegisterSet::Rv32e, A4, A5, [1, 3, 4, 6, 7, 8, 9, 11]),
    ];
    for (set, rs1, rs2, dests) in layouts {
        for &a in &values {
            for &b in &values {
                let body: Vec<u32> = OPS.iter().zip(dests).map(|((_, op), rd)| op(rd, rs1, rs2)).collect();
                let run = run_ok(set, &[(rs1, a), (rs2, b)], &body);
                for (k, ((name, _), rd)) in OPS.iter().zip(dests).enumerate() {
                    assert_eq!(run.reg(rd), reference(k, a, b), "{name} {a:#x}, {b:#x} ({set:?})");
                }
            }
        }
    }
}

#[test]
fn muldiv_writes_to_x0_are_discarded() {
    for r in SETS {
        for (name, op) in OPS {
            // Operands chosen so every op has a nonzero result.
            let values = [(r.rs1, 0xffff_fff0), (r.rs2, 7)];
            check_x0_discarded(name, &values, op(ZERO, r.rs1, r.rs2), r.rd, r.set);
        }
    }
}

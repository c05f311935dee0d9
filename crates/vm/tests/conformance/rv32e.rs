//! RV32E: naming `x16..x31` in any register field of any instruction traps
//! when executed (`IllegalInstruction`, `RegisterOutOfRange`), never at
//! load; the same words run normally under RV32I.

use super::asm::*;
use super::harness::*;
use athena_vm::isa::IllegalReason;
use athena_vm::{Exit, RegisterSet, Trap};

const RD: u8 = 1;
const RS1: u8 = 2;
const RS2: u8 = 4;

/// Every RV32IM mnemonic that names registers: which fields it has, and
/// how to build it from `(rd, rs1, rs2)`.
type Build = fn(Reg, Reg, Reg) -> u32;

fn forms() -> Vec<(&'static str, u8, Build)> {
    let rrr = RD | RS1 | RS2;
    let ri = RD | RS1;
    let rr = RS1 | RS2;
    vec![
        ("add", rrr, add),
        ("sub", rrr, sub),
        ("sll", rrr, sll),
        ("slt", rrr, slt),
        ("sltu", rrr, sltu),
        ("xor", rrr, xor),
        ("srl", rrr, srl),
        ("sra", rrr, sra),
        ("or", rrr, or),
        ("and", rrr, and),
        ("mul", rrr, mul),
        ("mulh", rrr, mulh),
        ("mulhsu", rrr, mulhsu),
        ("mulhu", rrr, mulhu),
        ("div", rrr, div),
        ("divu", rrr, divu),
        ("rem", rrr, rem),
        ("remu", rrr, remu),
        ("addi", ri, |d, a, _| addi(d, a, -5)),
        ("slti", ri, |d, a, _| slti(d, a, 5)),
        ("sltiu", ri, |d, a, _| sltiu(d, a, 5)),
        ("xori", ri, |d, a, _| xori(d, a, 5)),
        ("ori", ri, |d, a, _| ori(d, a, 5)),
        ("andi", ri, |d, a, _| andi(d, a, 5)),
        ("slli", ri, |d, a, _| slli(d, a, 3)),
        ("srli", ri, |d, a, _| srli(d, a, 3)),
        ("srai", ri, |d, a, _| srai(d, a, 3)),
        ("lui", RD, |d, _, _| lui(d, 0x12345)),
        ("auipc", RD, |d, _, _| auipc(d, 1)),
        ("jal", RD, |d, _, _| jal(d, 4)),
        ("jalr", ri, |d, a, _| jalr(d, 0, a)),
        ("beq", rr, |_, a, b| beq(a, b, 4)),
        ("bne", rr, |_, a, b| bne(a, b, 4)),
        ("blt", rr, |_, a, b| blt(a, b, 4)),
        ("bge", rr, |_, a, b| bge(a, b, 4)),
        ("bltu", rr, |_, a, b| bltu(a, b, 4)),
        ("bgeu", rr, |_, a, b| bgeu(a, b, 4)),
        ("lb", ri, |d, a, _| lb(d, 0, a)),
        ("lh", ri, |d, a, _| lh(d, 0, a)),
        ("lw", ri, |d, a, _| lw(d, 0, a)),
        ("lbu", ri, |d, a, _| lbu(d, 0, a)),
        ("lhu", ri, |d, a, _| lhu(d, 0, a)),
        ("sb", rr, |_, a, b| sb(b, 0, a)),
        ("sh", rr, |_, a, b| sh(b, 0, a)),
        ("sw", rr, |_, a, b| sw(b, 0, a)),
    ]
}

/// The low registers used for the fields that are not under test.
const LOW: (Reg, Reg, Reg) = (A2, A3, A4);

/// Every word of every form with exactly one field set to a high register.
fn high_register_words() -> Vec<(String, u32)> {
    let mut words = Vec::new();
    for (name, fields, build) in forms() {
        for (field, label) in [(RD, "rd"), (RS1, "rs1"), (RS2, "rs2")] {
            if fields & field == 0 {
                continue;
            }
            for high in [16, 21, 31] {
                let (mut d, mut a, mut b) = LOW;
                match field {
                    RD => d = high,
                    RS1 => a = high,
                    _ => b = high,
                }
                words.push((format!("{name} with {label} = x{high}"), build(d, a, b)));
            }
        }
    }
    words
}

#[test]
fn high_registers_trap_when_executed_in_rv32e() {
    for (what, word) in high_register_words() {
        // At slot 1, after one instruction that must complete.
        let mut code = vec![addi(A3, ZERO, 0x100)];
        code.push(word);
        code.extend(halt());
        let run = Test::new(RegisterSet::Rv32e, code).run();
        let want = Trap::IllegalInstruction { pc: pc_of(1), word, reason: IllegalReason::RegisterOutOfRange };
        assert_eq!(run.trap(), want, "{what}");
        assert_eq!((run.gas(), run.instructions()), (2, 1), "{what}: one gas, not counted");
        assert_eq!(run.reg(A3), 0x100, "{what}: the preceding instruction ran");
    }
}

#[test]
fn high_register_words_that_are_never_executed_are_harmless_in_rv32e() {
    let words: Vec<u32> = high_register_words().into_iter().map(|(_, w)| w).collect();
    // All of them after a HALT: the program loads and runs.
    let mut code = halt_with(17);
    code.extend(&words);
    let run = Test::new(RegisterSet::Rv32e, code).run();
    assert_eq!(run.outcome.exit, Exit::Halted { code: 17 });
    // And jumped over.
    let mut code = vec![jal(ZERO, 4 * (words.len() as i32 + 1))];
    code.extend(&words);
    code.extend(halt_with(18));
    let run = Test::new(RegisterSet::Rv32e, code).run();
    assert_eq!(run.outcome.exit, Exit::Halted { code: 18 });
}

#[test]
fn the_same_words_are_legal_in_rv32i() {
    for (what, word) in high_register_words() {
        let mut code = setup(&[(A3, DATA), (16, DATA), (21, DATA), (31, DATA)]);
        code.push(word);
        code.extend(halt());
        let run = Test::new(RegisterSet::Rv32i, code).data(DATA, &[0; 8]).run();
        if let Exit::Trapped(trap) = run.exit() {
            assert!(!matches!(trap, Trap::IllegalInstruction { .. }), "{what}: {trap:?}");
        }
    }
}

#[test]
fn low_register_forms_run_in_both_sets() {
    for r in SETS {
        for (name, _, build) in forms() {
            let (d, a, b) = LOW;
            let mut code = setup(&[(a, DATA), (b, DATA)]);
            if name == "jalr" {
                // Target: the instruction after the jalr.
                code.extend([auipc(a, 0), addi(a, a, 12)]);
            }
            code.push(build(d, a, b));
            code.extend(halt());
            let run = Test::new(r.set, code).data(DATA, &[0; 8]).run();
            if let Exit::Trapped(trap) = run.exit() {
                panic!("{name} with x12..x14 trapped: {trap:?} ({:?})", r.set);
            }
        }
    }
}

#[test]
fn every_rv32e_register_holds_its_own_value() {
    for r in SETS {
        let regs: Vec<Reg> = (1..16).filter(|&x| x != T0 && x != A0).collect();
        let values: Vec<(Reg, u32)> = regs.iter().map(|&x| (x, 0x0101_0101 * x)).collect();
        let run = run_ok(r.set, &values, &[]);
        for &(x, v) in &values {
            assert_eq!(run.reg(x), v, "x{x} ({:?})", r.set);
        }
    }
    // RV32I: all 31 writable registers, including x16..x31.
    let regs: Vec<Reg> = (1..32).filter(|&x| x != T0 && x != A0).collect();
    let values: Vec<(Reg, u32)> = regs.iter().map(|&x| (x, 0x0101_0101 * x)).collect();
    let run = run_ok(RegisterSet::Rv32i, &values, &[]);
    for &(x, v) in &values {
        assert_eq!(run.reg(x), v, "x{x}");
    }
}

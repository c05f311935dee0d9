//! Control transfer: JAL, JALR, branches, and instruction fetch.
//!
//! Test bodies start at a fixed slot ([`AT`]) after the register setup, so
//! that targets and link values can be written down by hand.

use super::asm::*;
use super::harness::*;
use athena_vm::{Exit, Trap};

/// Slot where every body starts (setup is padded with `nop`s up to here).
const AT: usize = 8;

/// Setup, padded to [`AT`] slots, then `body` (no implicit `HALT`).
fn layout(values: &[(Reg, u32)], body: &[u32]) -> Vec<u32> {
    let mut code = setup(values);
    assert!(code.len() <= AT, "setup too long for the layout");
    code.resize(AT, nop());
    code.extend_from_slice(body);
    code
}

/// The address of slot `i` of the body.
fn at(i: usize) -> u32 {
    pc_of(AT + i)
}

/// Gas and instruction count of the padded setup (all one-gas ALU ops).
const SETUP_GAS: u64 = AT as u64;

type BOp = fn(Reg, Reg, i32) -> u32;

const BRANCHES: [(&str, BOp); 6] =
    [("beq", beq), ("bne", bne), ("blt", blt), ("bge", bge), ("bltu", bltu), ("bgeu", bgeu)];

/// `(rs1, rs2, taken for [beq, bne, blt, bge, bltu, bgeu])`, by hand.
const BRANCH_ROWS: &[(u32, u32, [bool; 6])] = &[
    (0, 0, [true, false, false, true, false, true]),
    (5, 3, [false, true, false, true, false, true]),
    (3, 5, [false, true, true, false, true, false]),
    (1, 0xffff_ffff, [false, true, false, true, true, false]),
    (0xffff_ffff, 1, [false, true, true, false, false, true]),
    (0x7fff_ffff, 0x8000_0000, [false, true, false, true, true, false]),
    (0x8000_0000, 0x7fff_ffff, [false, true, true, false, false, true]),
    (0x8000_0000, 0x8000_0000, [true, false, false, true, false, true]),
    (0xffff_fffe, 0xffff_ffff, [false, true, true, false, true, false]),
    (0xffff_ffff, 0, [false, true, true, false, false, true]),
];

/// Forward branch: taken → `rd = 2`, not taken → `rd = 1`.
fn branch_forward(r: Regs, op: BOp, a: u32, b: u32) -> Run {
    let body = [
        op(r.rs1, r.rs2, 16),
        addi(r.rd, ZERO, 1),
        addi(T0, ZERO, 0),
        ecall(),
        addi(r.rd, ZERO, 2),
        addi(T0, ZERO, 0),
        ecall(),
    ];
    Test::new(r.set, layout(&[(r.rs1, a), (r.rs2, b)], &body)).run()
}

/// Backward branch: taken → `rd = 2`, not taken → `rd = 1`.
fn branch_backward(r: Regs, op: BOp, a: u32, b: u32) -> Run {
    let body = [
        jal(ZERO, 16),
        addi(r.rd, ZERO, 2),
        addi(T0, ZERO, 0),
        ecall(),
        op(r.rs1, r.rs2, -12),
        addi(r.rd, ZERO, 1),
        addi(T0, ZERO, 0),
        ecall(),
    ];
    Test::new(r.set, layout(&[(r.rs1, a), (r.rs2, b)], &body)).run()
}

#[test]
fn branches_forward_taken_and_not_taken() {
    for r in SETS {
        for &(a, b, taken) in BRANCH_ROWS {
            for (k, (name, op)) in BRANCHES.iter().enumerate() {
                let run = branch_forward(r, *op, a, b);
                run.halted();
                let want = if taken[k] { 2 } else { 1 };
                assert_eq!(run.reg(r.rd), want, "{name} {a:#x}, {b:#x} forward ({:?})", r.set);
                // Same cost whether taken or not (branch, addi, halt).
                assert_eq!(run.gas(), SETUP_GAS + 1 + 1 + 1 + 11, "{name} gas");
                assert_eq!(run.instructions(), SETUP_GAS + 4, "{name} count");
            }
        }
    }
}

#[test]
fn branches_backward_taken_and_not_taken() {
    for r in SETS {
        for &(a, b, taken) in BRANCH_ROWS {
            for (k, (name, op)) in BRANCHES.iter().enumerate() {
                let run = branch_backward(r, *op, a, b);
                run.halted();
                let want = if taken[k] { 2 } else { 1 };
                assert_eq!(run.reg(r.rd), want, "{name} {a:#x}, {b:#x} backward ({:?})", r.set);
                assert_eq!(run.gas(), SETUP_GAS + 1 + 1 + 1 + 1 + 11, "{name} gas");
            }
        }
    }
}

#[test]
fn branches_on_the_same_register_and_on_x0() {
    let same = [true, false, false, true, false, true];
    for r in SETS {
        for (k, (name, op)) in BRANCHES.iter().enumerate() {
            let body = [op(r.rs1, r.rs1, 12), addi(r.rd, ZERO, 1), jal(ZERO, 8), addi(r.rd, ZERO, 2)];
            let run = run_ok(r.set, &[(r.rs1, 0x8000_0000)], &body);
            assert_eq!(run.reg(r.rd), if same[k] { 2 } else { 1 }, "{name} rs1 == rs2 ({:?})", r.set);
            let body = [op(ZERO, ZERO, 12), addi(r.rd, ZERO, 1), jal(ZERO, 8), addi(r.rd, ZERO, 2)];
            let run = run_ok(r.set, &[], &body);
            assert_eq!(run.reg(r.rd), if same[k] { 2 } else { 1 }, "{name} x0, x0 ({:?})", r.set);
        }
    }
}

#[test]
fn taken_branch_to_misaligned_target_traps_not_taken_does_not() {
    for r in SETS {
        for (k, (name, op)) in BRANCHES.iter().enumerate() {
            let row_taken = BRANCH_ROWS.iter().find(|row| row.2[k]).expect("a taken row");
            let row_not = BRANCH_ROWS.iter().find(|row| !row.2[k]).expect("a not-taken row");
            for offset in [2, 6, -2, -6, 2046] {
                let values = [(r.rs1, row_taken.0), (r.rs2, row_taken.1)];
                let mut body = vec![op(r.rs1, r.rs2, offset)];
                body.extend(halt());
                let run = Test::new(r.set, layout(&values, &body)).run();
                let target = at(0).wrapping_add(offset as u32);
                assert_eq!(run.trap(), Trap::MisalignedJump { pc: at(0), target }, "{name} {offset} ({:?})", r.set);
                assert_eq!(run.gas(), SETUP_GAS + 1, "{name}: the trapping branch is charged");
                assert_eq!(run.instructions(), SETUP_GAS, "{name}: the trapping branch does not count");
                let values = [(r.rs1, row_not.0), (r.rs2, row_not.1)];
                let run = Test::new(r.set, layout(&values, &body)).run();
                run.halted();
            }
        }
    }
}

#[test]
fn branch_offsets_reach_plus_4092_and_minus_4096() {
    for r in SETS {
        let mut code = vec![0u32; 1026]; // zero words are illegal: never executed
        code[0] = beq(ZERO, ZERO, 4092); // → slot 1023
        code[1] = addi(r.rd, ZERO, 7);
        code[2] = addi(T0, ZERO, 0);
        code[3] = ecall();
        code[1023] = addi(r.tmp, ZERO, 9);
        code[1024] = addi(r.rs1, ZERO, 3);
        code[1025] = bne(r.rs1, ZERO, -4096); // → slot 1
        let run = Test::new(r.set, code).run();
        run.halted();
        assert_eq!((run.reg(r.rd), run.reg(r.tmp), run.reg(r.rs1)), (7, 9, 3), "{:?}", r.set);
        assert_eq!(run.instructions(), 7);
    }
}

#[test]
fn jal_offsets_reach_plus_and_minus_one_mebibyte() {
    for r in SETS {
        let mut code = vec![0u32; 0x4_0002];
        code[0] = jal(ZERO, 0xf_fffc); // → slot 0x3ffff
        code[1] = addi(r.rd, ZERO, 7);
        code[2] = addi(T0, ZERO, 0);
        code[3] = ecall();
        code[0x3_ffff] = addi(r.tmp, ZERO, 9);
        code[0x4_0000] = addi(r.rs1, ZERO, 3);
        code[0x4_0001] = jal(r.rs2, -0x10_0000); // → slot 1
        let run = Test::new(r.set, code).run();
        run.halted();
        assert_eq!((run.reg(r.rd), run.reg(r.tmp), run.reg(r.rs1)), (7, 9, 3), "{:?}", r.set);
        assert_eq!(run.reg(r.rs2), pc_of(0x4_0002), "link of the backward jal");
        assert_eq!(run.instructions(), 7);
    }
}

#[test]
fn jal_links_pc_plus_4_forward_and_backward() {
    for r in SETS {
        // Forward over two slots that would change tmp or trap.
        let mut body = vec![jal(r.rd, 12), addi(r.tmp, ZERO, 1), ebreak()];
        body.extend(halt());
        let run = Test::new(r.set, layout(&[(r.rd, 0xdead_beef)], &body)).run();
        run.halted();
        assert_eq!((run.reg(r.rd), run.reg(r.tmp)), (at(0) + 4, 0), "forward ({:?})", r.set);
        // Backward.
        let body = [jal(ZERO, 16), addi(r.tmp, ZERO, 7), addi(T0, ZERO, 0), ecall(), jal(r.rd, -12)];
        let run = Test::new(r.set, layout(&[], &body)).run();
        run.halted();
        assert_eq!((run.reg(r.rd), run.reg(r.tmp)), (at(4) + 4, 7), "backward ({:?})", r.set);
        // To the very next slot.
        let mut body = vec![jal(r.rd, 4)];
        body.extend(halt());
        let run = Test::new(r.set, layout(&[], &body)).run();
        run.halted();
        assert_eq!(run.reg(r.rd), at(1), "jal +4 ({:?})", r.set);
        // Link register ra, like a call.
        let mut body = vec![jal(RA, 8), ebreak()];
        body.extend(halt());
        let run = Test::new(r.set, layout(&[], &body)).run();
        run.halted();
        assert_eq!(run.reg(RA), at(1), "jal ra ({:?})", r.set);
    }
}

#[test]
fn jal_to_misaligned_target_traps_without_linking() {
    for r in SETS {
        for offset in [2, 6, -2, -6, 0x7fe, -0x802] {
            let mut body = vec![jal(r.rd, offset)];
            body.extend(halt());
            let run = Test::new(r.set, layout(&[(r.rd, 0xdead_beef)], &body)).run();
            let target = at(0).wrapping_add(offset as u32);
            assert_eq!(run.trap(), Trap::MisalignedJump { pc: at(0), target }, "jal {offset} ({:?})", r.set);
            assert_eq!(run.reg(r.rd), 0xdead_beef, "rd written by a trapping jal");
            assert_eq!(run.gas(), SETUP_GAS + 1);
            assert_eq!(run.instructions(), SETUP_GAS);
        }
    }
}

/// Runs `jalr rd, offset(rs1)` at body slot 0 with `rs1 = base` and
/// `rd = 0xdeadbeef`; slots 1 and 2 hold `addi tmp, 1` and `ebreak`, slot 3
/// starts a `HALT`.
fn run_jalr(r: Regs, base: u32, offset: i32) -> Run {
    let mut body = vec![jalr(r.rd, offset, r.rs1), addi(r.tmp, ZERO, 1), ebreak()];
    body.extend(halt());
    Test::new(r.set, layout(&[(r.rd, 0xdead_beef), (r.rs1, base)], &body)).run()
}

#[test]
fn jalr_adds_sign_extended_offset_and_clears_bit_0() {
    for r in SETS {
        let target = at(3);
        for (base, offset) in [
            (target, 0),
            (target - 100, 100),
            (target + 2048, -2048),
            (target - 2047, 2047),
            // Bit 0 of the sum is cleared.
            (target + 1, 0),
            (target, 1),
            (target - 2046, 2047),
            (target + 3, -2),
            (target + 2049, -2048),
        ] {
            let run = run_jalr(r, base, offset);
            run.halted();
            let what = format!("jalr {offset}({base:#x}) ({:?})", r.set);
            assert_eq!(run.reg(r.rd), at(1), "{what}: link");
            assert_eq!(run.reg(r.tmp), 0, "{what}: fell through");
            assert_eq!(run.reg(r.rs1), base, "{what}: rs1 changed");
        }
    }
}

#[test]
fn jalr_to_misaligned_target_traps_without_linking() {
    for r in SETS {
        let target = at(3);
        for (base, offset, want) in [
            (target + 2, 0, target + 2),
            (target + 3, 0, target + 2),
            (target, 2, target + 2),
            (target, 3, target + 2),
            (target, -2, target - 2),
            (target, -1, target - 2),
            (target + 2048 + 2, -2048, target + 2),
        ] {
            let run = run_jalr(r, base, offset);
            let what = format!("jalr {offset}({base:#x}) ({:?})", r.set);
            assert_eq!(run.trap(), Trap::MisalignedJump { pc: at(0), target: want }, "{what}");
            assert_eq!(run.reg(r.rd), 0xdead_beef, "{what}: rd written");
            assert_eq!(run.gas(), SETUP_GAS + 1, "{what}: gas");
        }
    }
}

#[test]
fn jalr_with_rd_equal_to_rs1_uses_the_old_value() {
    for r in SETS {
        let mut body = vec![jalr(r.rs1, 0, r.rs1), ebreak(), ebreak()];
        body.extend(halt());
        let run = Test::new(r.set, layout(&[(r.rs1, at(3))], &body)).run();
        run.halted();
        assert_eq!(run.reg(r.rs1), at(1), "{:?}", r.set);
        // Misaligned: traps, and rs1 keeps its value.
        let run = Test::new(r.set, layout(&[(r.rs1, at(3) + 2)], &body)).run();
        assert_eq!(run.trap(), Trap::MisalignedJump { pc: at(0), target: at(3) + 2 });
        assert_eq!(run.reg(r.rs1), at(3) + 2, "{:?}", r.set);
    }
}

#[test]
fn jalr_backward_and_auipc_relative_calls() {
    for r in SETS {
        // Backward through a register.
        let body = [jal(ZERO, 16), addi(r.tmp, ZERO, 7), addi(T0, ZERO, 0), ecall(), jalr(r.rd, 0, r.rs1)];
        let run = Test::new(r.set, layout(&[(r.rs1, at(1))], &body)).run();
        run.halted();
        assert_eq!((run.reg(r.tmp), run.reg(r.rd)), (7, at(5)), "{:?}", r.set);
        // auipc + jalr: position-independent call to at(0) + 16.
        let mut body = vec![auipc(r.rs1, 0), jalr(r.rd, 16, r.rs1), ebreak(), ebreak()];
        body.extend(halt());
        let run = Test::new(r.set, layout(&[], &body)).run();
        run.halted();
        assert_eq!((run.reg(r.rs1), run.reg(r.rd)), (at(0), at(2)), "{:?}", r.set);
    }
}

#[test]
fn jump_writes_to_x0_are_discarded() {
    for r in SETS {
        check_x0_discarded("jal", &[], jal(ZERO, 4), r.rd, r.set);
        let body = [auipc(r.rs1, 0), jalr(ZERO, 8, r.rs1), add(r.rd, ZERO, ZERO), add(r.tmp, ZERO, ZERO)];
        let run = run_ok(r.set, &[(r.rd, 5), (r.tmp, 6)], &body);
        assert_eq!((run.reg(r.rd), run.reg(r.tmp)), (0, 0), "jalr x0 ({:?})", r.set);
    }
}

#[test]
fn executing_past_the_end_of_code_faults() {
    for r in SETS {
        // Falling off the end.
        let run = Test::new(r.set, vec![nop(), nop()]).run();
        assert_eq!(run.trap(), Trap::FetchFault { pc: pc_of(2) }, "{:?}", r.set);
        assert_eq!((run.gas(), run.instructions()), (2, 2), "a fetch fault costs nothing");
        // Jumping past the end, before the start, to 0 and to the top of memory.
        for offset in [8, 0x100, -4, -8] {
            let run = Test::new(r.set, vec![jal(ZERO, offset), nop()]).run();
            let pc = BASE.wrapping_add(offset as u32);
            assert_eq!(run.trap(), Trap::FetchFault { pc }, "jal {offset} ({:?})", r.set);
            assert_eq!((run.gas(), run.instructions()), (1, 1));
        }
        for target in [0u32, 0x1000, 0xffff_fffc, 0x7fff_fffc] {
            let code = snippet(&[(r.rs1, target)], &[jalr(ZERO, 0, r.rs1)]);
            let run = Test::new(r.set, code).run();
            assert_eq!(run.trap(), Trap::FetchFault { pc: target }, "jalr to {target:#x} ({:?})", r.set);
        }
    }
}

#[test]
fn data_segments_are_not_executable() {
    for r in SETS {
        // The data holds a perfectly good HALT; it still must not run.
        let words: Vec<u8> = halt_with(0).iter().flat_map(|w| w.to_le_bytes()).collect();
        let code = snippet(&[(r.rs1, DATA)], &[jalr(ZERO, 0, r.rs1)]);
        let run = Test::new(r.set, code.clone()).data(DATA, &words).run();
        assert_eq!(run.trap(), Trap::FetchFault { pc: DATA }, "writable data ({:?})", r.set);
        let run = Test::new(r.set, code).rodata(DATA, &words).run();
        assert_eq!(run.trap(), Trap::FetchFault { pc: DATA }, "read-only data ({:?})", r.set);
    }
}

#[test]
fn jumps_between_code_segments() {
    const CODE2: u32 = 0x3_0000;
    for r in SETS {
        let mut main = setup(&[(r.rs1, CODE2)]);
        main.push(jalr(RA, 0, r.rs1));
        main.push(addi(r.tmp, r.rd, 1));
        main.extend(halt());
        let callee = [addi(r.rd, ZERO, 41), jalr(ZERO, 0, RA)];
        let run = Test::new(r.set, main).code_at(CODE2, &callee).run();
        run.halted();
        assert_eq!((run.reg(r.rd), run.reg(r.tmp)), (41, 42), "{:?}", r.set);
        // Falling off the end of the second segment faults at its end.
        let run = Test::new(r.set, snippet(&[(r.rs1, CODE2)], &[jalr(ZERO, 0, r.rs1)])).code_at(CODE2, &[nop()]).run();
        assert_eq!(run.trap(), Trap::FetchFault { pc: CODE2 + 4 }, "{:?}", r.set);
    }
}

#[test]
fn falling_off_the_end_after_any_last_instruction_faults() {
    for r in SETS {
        // (last instruction, its gas): a not-taken branch, a non-halting
        // syscall, a load, a jal to the next slot.
        let lasts = [
            (bne(ZERO, ZERO, 8), 1),
            (ecall(), 1 + 10), // t0 = 3: INPUT_LEN
            (lw(r.rd, 0, r.rs1), 2),
            (jal(r.rd, 4), 1),
        ];
        for (last, cost) in lasts {
            let mut code = setup(&[(T0, 3), (r.rs1, DATA)]);
            let before = code.len();
            code.push(last);
            let run = Test::new(r.set, code).run();
            assert_eq!(run.trap(), Trap::FetchFault { pc: pc_of(before + 1) }, "after {last:#010x} ({:?})", r.set);
            assert_eq!((run.gas(), run.instructions()), (before as u64 + cost, before as u64 + 1));
        }
    }
}

#[test]
fn execution_falls_through_into_an_adjacent_code_segment() {
    for r in SETS {
        let first = vec![addi(r.rd, ZERO, 1), addi(r.rd, r.rd, 2)];
        let next = BASE + 4 * first.len() as u32;
        let mut second = vec![addi(r.rd, r.rd, 4), beq(ZERO, ZERO, -8)];
        let run = Test::new(r.set, first.clone()).code_at(next, &second).gas(9).run();
        // 1, 2, 4, back to slot 1 (+2), 4, back... out of gas after nine.
        assert_eq!((run.exit(), run.instructions()), (&Exit::OutOfGas, 9), "{:?}", r.set);
        assert_eq!(run.reg(r.rd), 1 + 2 + 4 + 2 + 4 + 2 + 4, "{:?}", r.set);
        second[1] = nop();
        second.extend(halt());
        let run = Test::new(r.set, first).code_at(next, &second).run();
        run.halted();
        assert_eq!((run.reg(r.rd), run.instructions()), (7, 6), "{:?}", r.set);
    }
}

#[test]
fn registers_at_entry() {
    for r in SETS {
        let run = Test::new(r.set, halt()).run();
        let mut want = [0u32; 32];
        want[SP as usize] = 0x8000_0000;
        assert_eq!(run.machine.registers(), &want, "{:?}", r.set);
        // sp is usable as is: a push below the stack top.
        let code = snippet(&[(A1, 0x600d)], &[sw(A1, -4, SP), lw(A0, -4, SP)]);
        assert_eq!(Test::new(r.set, code).run().halted(), 0x600d);
    }
}

//! Gas metering and instruction counting, against the schedule in
//! `docs/machine.md` (the numbers are written out here, not read from the
//! VM's `gas` module).

use super::asm::*;
use super::harness::*;
use athena_vm::{Exit, Trap};

// The documented schedule.
const ALU: u64 = 1;
const MEMORY: u64 = 2;
const CONTROL: u64 = 1;
const MULTIPLY: u64 = 2;
const DIVIDE: u64 = 4;
const SYSTEM: u64 = 1;
const SYSCALL: u64 = 10;
const PAGE: u64 = 64;

/// Copy cost: one per started 4-byte word.
fn copy(len: u64) -> u64 {
    len.div_ceil(4)
}

#[test]
fn straight_line_gas_is_the_sum_of_class_costs() {
    for r in SETS {
        // (word, cost if executed; None = jumped over)
        let program: Vec<(u32, Option<u64>)> = vec![
            (lui(r.tmp, DATA >> 12), Some(ALU)),
            (addi(r.rs2, ZERO, 7), Some(ALU)),
            (auipc(r.rs1, 0), Some(ALU)),
            (add(r.rd, r.rs2, r.rs2), Some(ALU)),
            (slli(r.rd, r.rd, 2), Some(ALU)),
            (sltiu(r.rd, r.rd, 100), Some(ALU)),
            (mul(r.rd, r.rd, r.rs2), Some(MULTIPLY)),
            (mulhu(r.rd, r.rd, r.rs2), Some(MULTIPLY)),
            (div(r.rd, r.rs2, r.rs2), Some(DIVIDE)),
            (remu(r.rd, r.rs2, ZERO), Some(DIVIDE)),
            (sw(r.rs2, 0, r.tmp), Some(MEMORY)), // data page: already allocated
            (lw(r.rd, 0, r.tmp), Some(MEMORY)),
            (lb(r.rd, 1, r.tmp), Some(MEMORY)),
            (sb(r.rs2, 3, r.tmp), Some(MEMORY)),
            (fence(), Some(ALU)),
            (beq(r.rd, r.rs2, 8), Some(CONTROL)), // not taken (0 != 7)
            (bne(r.rd, r.rs2, 8), Some(CONTROL)), // taken
            (ebreak(), None),
            (jal(RA, 8), Some(CONTROL)),
            (ebreak(), None),
            (auipc(r.rd, 0), Some(ALU)),
            (jalr(ZERO, 12, r.rd), Some(CONTROL)),
            (ebreak(), None),
            (addi(T0, ZERO, 0), Some(ALU)),
            (ecall(), Some(SYSTEM + SYSCALL)),
        ];
        let words: Vec<u32> = program.iter().map(|p| p.0).collect();
        let gas: u64 = program.iter().filter_map(|p| p.1).sum();
        let count = program.iter().filter(|p| p.1.is_some()).count() as u64;
        assert_eq!(gas, 44, "the hand sum of the table");
        let run = Test::new(r.set, words).data(DATA, &[0; 8]).run();
        run.halted();
        assert_eq!((run.gas(), run.instructions()), (gas, count), "{:?}", r.set);
        // Exactly enough gas also halts; one less does not.
        let words: Vec<u32> = program.iter().map(|p| p.0).collect();
        let run = Test::new(r.set, words.clone()).data(DATA, &[0; 8]).gas(gas).run();
        assert_eq!((run.halted(), run.gas()), (0, gas));
        let run = Test::new(r.set, words).data(DATA, &[0; 8]).gas(gas - 1).run();
        assert_eq!((run.exit(), run.gas()), (&Exit::OutOfGas, gas - 1));
        assert_eq!(run.instructions(), count - 1, "the final ECALL did not fit");
    }
}

#[test]
fn every_gas_limit_stops_deterministically_at_the_same_instruction() {
    for r in SETS {
        // The value register is r.rs2, the base r.tmp: neither is a0..a2 or t0.
        let program: Vec<(u32, u64)> = vec![
            (lui(r.tmp, FAR >> 12), ALU),
            (addi(r.rs2, ZERO, 0x41), ALU),
            (sw(r.rs2, 0, r.tmp), MEMORY + PAGE), // first store to a fresh page
            (sw(r.rs2, 4, r.tmp), MEMORY),        // same page: no page charge
            (mul(r.rd, r.rs2, r.rs2), MULTIPLY),
            (div(r.rd, r.rd, r.rs2), DIVIDE),
            (addi(A0, ZERO, 1), ALU),
            (addi(A1, r.tmp, 0), ALU),
            (addi(A2, ZERO, 5), ALU),
            (addi(T0, ZERO, 2), ALU),
            (ecall(), SYSTEM + SYSCALL + copy(5)), // WRITE 5 bytes
            (lw(r.rd, 0, r.tmp), MEMORY),
            (addi(T0, ZERO, 0), ALU),
            (ecall(), SYSTEM + SYSCALL),
        ];
        let words: Vec<u32> = program.iter().map(|p| p.0).collect();
        let prefix: Vec<u64> = program
            .iter()
            .scan(0, |sum, p| {
                *sum += p.1;
                Some(*sum)
            })
            .collect();
        let total = *prefix.last().unwrap();
        for limit in 0..=total + 2 {
            let test = Test::new(r.set, words.clone()).gas(limit);
            let run = test.run();
            let again = test.run();
            assert_eq!(run.outcome, again.outcome, "limit {limit}: not deterministic");
            assert_eq!(run.machine.registers(), again.machine.registers());
            let done = prefix.iter().filter(|&&p| p <= limit).count() as u64;
            if limit >= total {
                assert_eq!(run.outcome.exit, Exit::Halted { code: 5 }, "limit {limit} ({:?})", r.set);
                assert_eq!((run.gas(), run.instructions()), (total, done));
            } else {
                assert_eq!(run.outcome.exit, Exit::OutOfGas, "limit {limit} ({:?})", r.set);
                assert_eq!(run.gas(), limit, "out of gas uses the whole limit");
                assert_eq!(run.instructions(), done, "limit {limit}: wrong stopping instruction ({:?})", r.set);
            }
            // Side effects happen only for completed instructions.
            let page_done = done >= 3;
            assert_eq!(run.word(FAR), if page_done { 0x41 } else { 0 }, "limit {limit}");
            assert_eq!(run.pages(), 1 + u32::from(page_done), "limit {limit}: pages");
            let wrote = done >= 11;
            assert_eq!(run.env.stdout, if wrote { vec![0x41, 0, 0, 0, 0x41] } else { vec![] }, "limit {limit}");
        }
    }
}

#[test]
fn infinite_loops_run_out_of_gas() {
    for r in SETS {
        // jal x0, 0
        for limit in [0, 1, 1000, 12_345] {
            let run = Test::new(r.set, vec![jal(ZERO, 0)]).gas(limit).run();
            assert_eq!((run.exit(), run.gas(), run.instructions()), (&Exit::OutOfGas, limit, limit), "{:?}", r.set);
        }
        // A load and a jump: 3 gas per iteration.
        for (limit, count) in [(1000, 666), (1001, 667), (999, 666)] {
            let mut code = setup(&[(r.tmp, DATA)]);
            let n = code.len() as u64;
            code.extend([lw(r.rd, 0, r.tmp), jal(ZERO, -4)]);
            let run = Test::new(r.set, code).gas(limit + n).run();
            assert_eq!((run.exit(), run.gas()), (&Exit::OutOfGas, limit + n));
            assert_eq!(run.instructions(), count + n, "limit {limit} ({:?})", r.set);
        }
        // A counting loop that would need 2^32 iterations: the counter shows
        // exactly where the run stopped.
        for (limit, counter) in [(10_000, 5000), (10_001, 5001)] {
            let code = vec![addi(r.rd, r.rd, 1), bne(r.rd, ZERO, -4)];
            let run = Test::new(r.set, code).gas(limit).run();
            assert_eq!((run.exit(), run.instructions()), (&Exit::OutOfGas, limit), "{:?}", r.set);
            assert_eq!(run.reg(r.rd), counter, "limit {limit} ({:?})", r.set);
        }
    }
}

/// Gas of `setup(values)` + `body` + `HALT`, minus that of `setup` + `HALT`.
fn body_gas(r: Regs, values: &[(Reg, u32)], body: &[u32]) -> (u64, Run) {
    let base = Test::new(r.set, snippet(values, &[])).data(DATA, &[0; 16]).run();
    let run = Test::new(r.set, snippet(values, body)).data(DATA, &[0; 16]).run();
    run.halted();
    (run.gas() - base.gas(), run)
}

#[test]
fn first_store_to_a_fresh_page_costs_64_more() {
    for r in SETS {
        let v = [(r.tmp, FAR), (r.rs1, DATA), (r.rs2, 0x55)];
        let cases: &[(&str, Vec<u32>, u64)] = &[
            ("sw fresh", vec![sw(r.rs2, 0, r.tmp)], MEMORY + PAGE),
            ("sh fresh", vec![sh(r.rs2, 0, r.tmp)], MEMORY + PAGE),
            ("sb fresh", vec![sb(r.rs2, 2047, r.tmp)], MEMORY + PAGE),
            ("same page twice", vec![sw(r.rs2, 0, r.tmp), sw(r.rs2, 0x7fc, r.tmp)], 2 * MEMORY + PAGE),
            ("same word twice", vec![sw(r.rs2, 0, r.tmp), sb(r.rs2, 0, r.tmp)], 2 * MEMORY + PAGE),
            ("two pages", vec![sw(r.rs2, 0, r.tmp), sw(r.rs2, -4, r.tmp)], 2 * (MEMORY + PAGE)),
            ("data page", vec![sw(r.rs2, 0, r.rs1), sw(r.rs2, 0x7fc, r.rs1)], 2 * MEMORY),
            ("load first", vec![lw(r.rd, 0, r.tmp), sw(r.rs2, 0, r.tmp)], 2 * MEMORY + PAGE),
            ("loads only", vec![lw(r.rd, 0, r.tmp), lw(r.rd, -4, r.tmp)], 2 * MEMORY),
        ];
        for (what, body, want) in cases {
            let (gas, _) = body_gas(r, &v, body);
            assert_eq!(gas, *want, "{what} ({:?})", r.set);
        }
    }
}

#[test]
fn running_out_of_gas_on_the_page_charge_allocates_nothing() {
    for r in SETS {
        let mut code = setup(&[(r.tmp, FAR), (r.rs2, 0x55)]);
        let before = code.len() as u64;
        code.push(sw(r.rs2, 0, r.tmp));
        code.extend(halt());
        // Enough for the setup and the store instruction, one short of the page.
        let limit = before + MEMORY + PAGE - 1;
        let run = Test::new(r.set, code.clone()).gas(limit).run();
        assert_eq!((run.exit(), run.gas()), (&Exit::OutOfGas, limit), "{:?}", r.set);
        assert_eq!(run.instructions(), before);
        assert_eq!((run.pages(), run.word(FAR)), (1, 0), "the page was allocated or written");
        let run = Test::new(r.set, code).gas(limit + 1).run();
        assert_eq!((run.exit(), run.instructions()), (&Exit::OutOfGas, before + 1));
        assert_eq!((run.pages(), run.word(FAR)), (2, 0x55));
    }
}

#[test]
fn trapping_instructions_are_charged_their_class_cost() {
    for r in SETS {
        let v = [(r.tmp, DATA + 1), (r.rs1, BASE)];
        let cases: Vec<(&str, u32, u64)> = vec![
            ("ebreak", ebreak(), SYSTEM),
            ("all-zero word", 0, SYSTEM),
            ("csr", 0xb000_2573, SYSTEM),
            ("misaligned lw", lw(r.rd, 0, r.tmp), MEMORY),
            ("lw from guard", lw(r.rd, 0, ZERO), MEMORY),
            ("misaligned sw", sw(r.rd, 0, r.tmp), MEMORY),
            ("sw to code", sw(r.rd, 0, r.rs1), MEMORY),
            ("misaligned jal", jal(r.rd, 6), CONTROL),
            ("misaligned beq", beq(ZERO, ZERO, 6), CONTROL),
            ("misaligned jalr", jalr(r.rd, 1, r.tmp), CONTROL),
        ];
        for (what, word, want) in cases {
            let mut code = setup(&v);
            let before = code.len() as u64;
            code.push(word);
            code.extend(halt());
            let run = Test::new(r.set, code).run();
            run.trap();
            assert_eq!(run.gas(), before + want, "{what} ({:?})", r.set);
            assert_eq!(run.instructions(), before, "{what}: a trapping instruction does not count");
        }
        // A fetch fault has no instruction to charge.
        let run = Test::new(r.set, vec![nop(), jal(ZERO, 0x100)]).run();
        assert_eq!(run.trap(), Trap::FetchFault { pc: pc_of(1) + 0x100 });
        assert_eq!((run.gas(), run.instructions()), (ALU + CONTROL, 2));
    }
}

/// Gas of one `ECALL` with the given registers (the setup is not counted).
fn syscall_gas(r: Regs, values: &[(Reg, u32)], number: u32, input: &[u8]) -> (u64, Run) {
    let mut values = values.to_vec();
    values.push((T0, number));
    let mut code = setup(&values);
    let before = code.len() as u64;
    code.push(ecall());
    code.extend(halt());
    let run = Test::new(r.set, code).data(DATA, &[0x61; 16]).input(input).run();
    (run.gas() - before, run)
}

#[test]
fn syscall_costs() {
    let halt_gas = ALU + SYSTEM + SYSCALL;
    for r in SETS {
        for len in 0..=9u32 {
            let (gas, run) = syscall_gas(r, &[(A0, 1), (A1, DATA), (A2, len)], 2, b"");
            assert_eq!(gas, SYSTEM + SYSCALL + copy(u64::from(len)) + halt_gas, "WRITE {len} ({:?})", r.set);
            assert_eq!(run.env.stdout.len(), len as usize);
        }
        let (gas, _) = syscall_gas(r, &[], 3, b"abc");
        assert_eq!(gas, SYSTEM + SYSCALL + halt_gas, "INPUT_LEN");
        // INPUT_READ pays for the bytes actually copied, not those asked for.
        for (offset, len, copied) in [(0, 100, 10), (0, 5, 5), (8, 4, 2), (10, 4, 0), (99, 4, 0)] {
            let (gas, run) = syscall_gas(r, &[(A0, DATA), (A1, offset), (A2, len)], 4, b"0123456789");
            assert_eq!(run.halted(), copied as u32);
            assert_eq!(gas, SYSTEM + SYSCALL + copy(copied) + halt_gas, "INPUT_READ {offset} {len} ({:?})", r.set);
        }
        // ... and 64 for each fresh page it writes.
        let (gas, _) = syscall_gas(r, &[(A0, FAR), (A1, 0), (A2, 4)], 4, b"0123");
        assert_eq!(gas, SYSTEM + SYSCALL + copy(4) + PAGE + halt_gas, "INPUT_READ one fresh page");
        let (gas, _) = syscall_gas(r, &[(A0, FAR + 0xffe), (A1, 0), (A2, 4)], 4, b"0123");
        assert_eq!(gas, SYSTEM + SYSCALL + copy(4) + 2 * PAGE + halt_gas, "INPUT_READ two fresh pages");
        // Failing syscalls: WRITE validates before copying, INPUT_READ after
        // charging the copy; unknown numbers pay the base.
        let (gas, run) = syscall_gas(r, &[(A0, 3), (A1, DATA), (A2, 8)], 2, b"");
        run.trap();
        assert_eq!(gas, SYSTEM + SYSCALL, "WRITE bad fd");
        let (gas, run) = syscall_gas(r, &[(A0, 1), (A1, 0), (A2, 8)], 2, b"");
        run.trap();
        assert_eq!(gas, SYSTEM + SYSCALL, "WRITE from the guard region");
        let (gas, run) = syscall_gas(r, &[(A0, BASE), (A1, 0), (A2, 8)], 4, b"0123456789");
        run.trap();
        assert_eq!(gas, SYSTEM + SYSCALL + copy(8), "INPUT_READ into code");
        let (gas, run) = syscall_gas(r, &[], 7, b"");
        run.trap();
        assert_eq!(gas, SYSTEM + SYSCALL, "unknown syscall");
    }
}

#[test]
fn gas_limit_zero_runs_nothing() {
    for r in SETS {
        let run = Test::new(r.set, halt_with(0)).gas(0).run();
        assert_eq!((run.exit(), run.gas(), run.instructions()), (&Exit::OutOfGas, 0, 0), "{:?}", r.set);
        assert_eq!(run.machine.gas_left(), 0);
        // An illegal first word still needs its one gas to trap.
        let run = Test::new(r.set, vec![0]).gas(0).run();
        assert_eq!(run.exit(), &Exit::OutOfGas);
        let run = Test::new(r.set, vec![0]).gas(1).run();
        assert!(matches!(run.exit(), Exit::Trapped(Trap::IllegalInstruction { .. })));
    }
}

#[test]
fn every_gas_limit_before_a_trap() {
    for r in SETS {
        // A straight-line run ending in a misaligned load.
        let mut code = setup(&[(r.tmp, DATA), (r.rs2, 0x1234_5678)]);
        let before = code.len() as u64;
        code.extend([mul(r.rd, r.rs2, r.rs2), lw(r.rd, 0, r.tmp), lw(r.rd, 2, r.tmp)]);
        code.extend(halt());
        let total = before + MULTIPLY + MEMORY + MEMORY;
        for limit in 0..=total + 1 {
            let run = Test::new(r.set, code.clone()).gas(limit).run();
            if limit >= total {
                let want = Trap::MisalignedAccess { pc: pc_of(before as usize + 2), addr: DATA + 2, size: 4 };
                assert_eq!((run.trap(), run.gas()), (want, total), "limit {limit} ({:?})", r.set);
                assert_eq!(run.instructions(), before + 2);
            } else {
                assert_eq!((run.exit(), run.gas()), (&Exit::OutOfGas, limit), "limit {limit} ({:?})", r.set);
            }
        }
    }
}

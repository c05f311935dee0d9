//! Runs assembled snippets on both engines and both register sets.
//!
//! Every run executes the program on the reference interpreter and on the
//! fast engine and asserts that the two agree on the outcome (exit, gas,
//! instruction count), registers, `pc`, output and allocated pages; the
//! reference machine's state is what the test then inspects.

#![allow(dead_code)] // a library shared by the test modules

use super::asm::{self, Reg};
use athena_vm::{
    CollectingEnvironment, Engine, Exit, Machine, MachineConfig, Outcome, Program, RegisterSet, Segment, Trap,
};

/// Where the code of every test program starts (and its entry point).
pub const BASE: u32 = 0x1_0000;
/// Where [`Test::data`] places its writable data segment by default.
pub const DATA: u32 = 0x2_0000;
/// An address no test maps: reads there return zero.
pub const FAR: u32 = 0x4000_0000;

/// The registers a table-driven test uses for `rd`, `rs1`, `rs2` and a
/// scratch value, chosen per register set: the RV32I choice names registers
/// above `x15`, the RV32E choice stays in `x0..x15`. None of them is `t0` or
/// `a0`, which `HALT` uses.
#[derive(Clone, Copy, Debug)]
pub struct Regs {
    pub set: RegisterSet,
    pub rd: Reg,
    pub rs1: Reg,
    pub rs2: Reg,
    pub tmp: Reg,
}

/// The two register sets every test runs in.
pub const SETS: [Regs; 2] = [
    Regs { set: RegisterSet::Rv32i, rd: asm::T6, rs1: asm::A7, rs2: asm::S10, tmp: asm::S4 },
    Regs { set: RegisterSet::Rv32e, rd: asm::A5, rs1: asm::A1, rs2: asm::A4, tmp: asm::S1 },
];

/// A program to run: code at [`BASE`], optional data segments, input and limits.
#[derive(Clone, Debug)]
pub struct Test {
    pub set: RegisterSet,
    pub code: Vec<u32>,
    pub segments: Vec<Segment>,
    pub input: Vec<u8>,
    pub config: MachineConfig,
}

impl Test {
    pub fn new(set: RegisterSet, code: Vec<u32>) -> Self {
        Self { set, code, segments: Vec::new(), input: Vec::new(), config: MachineConfig::default() }
    }

    /// Adds a writable, non-executable segment holding `bytes` at `vaddr`.
    pub fn data(mut self, vaddr: u32, bytes: &[u8]) -> Self {
        self.segments.push(Segment {
            vaddr,
            mem_size: bytes.len() as u32,
            data: bytes.to_vec(),
            executable: false,
            writable: true,
        });
        self
    }

    /// Adds a read-only, non-executable segment holding `bytes` at `vaddr`.
    pub fn rodata(mut self, vaddr: u32, bytes: &[u8]) -> Self {
        self.segments.push(Segment {
            vaddr,
            mem_size: bytes.len() as u32,
            data: bytes.to_vec(),
            executable: false,
            writable: false,
        });
        self
    }

    /// Adds a second executable segment holding `words` at `vaddr`.
    pub fn code_at(mut self, vaddr: u32, words: &[u32]) -> Self {
        let data: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        self.segments.push(Segment { vaddr, mem_size: data.len() as u32, data, executable: true, writable: false });
        self
    }

    pub fn input(mut self, input: &[u8]) -> Self {
        self.input = input.to_vec();
        self
    }

    pub fn gas(mut self, limit: u64) -> Self {
        self.config.gas_limit = limit;
        self
    }

    pub fn memory_limit(mut self, bytes: u32) -> Self {
        self.config.memory_limit = bytes;
        self
    }

    /// Builds the program (panics on a load error).
    pub fn program(&self) -> Program {
        let data: Vec<u8> = self.code.iter().flat_map(|w| w.to_le_bytes()).collect();
        let mut segments =
            vec![Segment { vaddr: BASE, mem_size: data.len() as u32, data, executable: true, writable: false }];
        segments.extend(self.segments.iter().cloned());
        Program::from_segments(BASE, self.set, segments).expect("test program loads")
    }

    /// Runs on both engines, checks they agree, returns the result.
    pub fn run(&self) -> Run {
        // Leaked so that the machines (which borrow the program) can be
        // returned for inspection; test programs are small.
        let program: &'static Program = Box::leak(Box::new(self.program()));
        let mut reference = Machine::new(program, self.config).expect("machine instantiates");
        let mut fast = Machine::new(program, self.config).expect("machine instantiates");
        let mut env = CollectingEnvironment::with_input(self.input.clone());
        let mut fast_env = CollectingEnvironment::with_input(self.input.clone());
        let outcome = reference.run_with(Engine::Reference, &mut env);
        let fast_outcome = fast.run_with(Engine::Fast, &mut fast_env);
        assert_eq!(outcome, fast_outcome, "engines disagree on the outcome ({:?})", self.set);
        assert_eq!(reference.registers(), fast.registers(), "engines disagree on registers ({:?})", self.set);
        assert_eq!(reference.pc(), fast.pc(), "engines disagree on pc ({:?})", self.set);
        assert_eq!(env, fast_env, "engines disagree on output ({:?})", self.set);
        assert_eq!(
            reference.memory().allocated_pages(),
            fast.memory().allocated_pages(),
            "engines disagree on allocated pages ({:?})",
            self.set
        );
        assert_eq!(reference.registers()[0], 0, "x0 is not zero");
        Run { outcome, machine: reference, fast, env, set: self.set }
    }
}

/// The result of a [`Test`].
pub struct Run {
    pub outcome: Outcome,
    pub machine: Machine<'static>,
    pub fast: Machine<'static>,
    pub env: CollectingEnvironment,
    pub set: RegisterSet,
}

impl Run {
    pub fn reg(&self, r: Reg) -> u32 {
        self.machine.registers()[r as usize]
    }

    pub fn exit(&self) -> &Exit {
        &self.outcome.exit
    }

    pub fn gas(&self) -> u64 {
        self.outcome.gas_used
    }

    pub fn instructions(&self) -> u64 {
        self.outcome.instructions
    }

    pub fn pages(&self) -> u32 {
        self.machine.memory().allocated_pages()
    }

    /// The exit code; panics unless the run halted.
    pub fn halted(&self) -> u32 {
        match self.outcome.exit {
            Exit::Halted { code } => code,
            ref other => panic!("expected a halt, got {other:?} ({:?})", self.set),
        }
    }

    /// The trap; panics unless the run trapped.
    pub fn trap(&self) -> Trap {
        match &self.outcome.exit {
            Exit::Trapped(trap) => trap.clone(),
            other => panic!("expected a trap, got {other:?} ({:?})", self.set),
        }
    }

    /// The aligned word at `addr` (both engines must agree).
    pub fn word(&self, addr: u32) -> u32 {
        let value = self.machine.memory().read_u32(addr);
        assert_eq!(value, self.fast.memory().read_u32(addr), "engines disagree on memory at {addr:#x}");
        value
    }

    /// The byte at `addr` (both engines must agree).
    pub fn byte(&self, addr: u32) -> u8 {
        let value = self.machine.memory().read_u8(addr);
        assert_eq!(value, self.fast.memory().read_u8(addr), "engines disagree on memory at {addr:#x}");
        value
    }
}

/// `li` for each `(register, value)` pair, in order.
pub fn setup(values: &[(Reg, u32)]) -> Vec<u32> {
    values.iter().flat_map(|&(r, v)| asm::li(r, v)).collect()
}

/// `setup(values)`, then `body`, then `HALT`.
pub fn snippet(values: &[(Reg, u32)], body: &[u32]) -> Vec<u32> {
    let mut code = setup(values);
    code.extend_from_slice(body);
    code.extend(asm::halt());
    code
}

/// Runs [`snippet`] and asserts that it halted.
pub fn run_ok(set: RegisterSet, values: &[(Reg, u32)], body: &[u32]) -> Run {
    let run = Test::new(set, snippet(values, body)).run();
    run.halted();
    run
}

/// Runs `setup(values)` then `body` (no `HALT`) and returns the trap, also
/// checking that it names the `pc` of `body[trap_index]`.
pub fn run_trap(set: RegisterSet, values: &[(Reg, u32)], body: &[u32], trap_index: usize) -> (Run, u32) {
    let mut code = setup(values);
    let pc = BASE + 4 * (code.len() + trap_index) as u32;
    code.extend_from_slice(body);
    code.extend(asm::halt());
    let run = Test::new(set, code).run();
    assert_eq!(run.trap().pc(), pc, "trap names the wrong pc: {:?}", run.trap());
    (run, pc)
}

/// The address of instruction slot `index` of the code at [`BASE`].
pub fn pc_of(index: usize) -> u32 {
    BASE + 4 * index as u32
}

/// An R-type encoder from the assembler (`op rd, rs1, rs2`).
pub type ROp = fn(Reg, Reg, Reg) -> u32;
/// An I-type ALU encoder from the assembler (`op rd, rs1, imm`).
pub type IOp = fn(Reg, Reg, i32) -> u32;

/// For each row `(a, b, want)` and each register set: `rs1 = a`, `rs2 = b`,
/// `op rd, rs1, rs2` gives `want` and leaves the sources alone; and the same
/// with `rd == rs1` and (for `a == b` rows only) `op rd, rs1, rs1`.
pub fn check_r(name: &str, op: ROp, rows: &[(u32, u32, u32)]) {
    for r in SETS {
        for &(a, b, want) in rows {
            let what = format!("{name} {a:#x}, {b:#x} ({:?})", r.set);
            let run = run_ok(r.set, &[(r.rs1, a), (r.rs2, b)], &[op(r.rd, r.rs1, r.rs2)]);
            assert_eq!(run.reg(r.rd), want, "{what}");
            assert_eq!((run.reg(r.rs1), run.reg(r.rs2)), (a, b), "{what}: a source register changed");
            let run = run_ok(r.set, &[(r.rs1, a), (r.rs2, b)], &[op(r.rs1, r.rs1, r.rs2)]);
            assert_eq!(run.reg(r.rs1), want, "{what} with rd == rs1");
            assert_eq!(run.reg(r.rs2), b, "{what} with rd == rs1: rs2 changed");
            if a == b {
                let run = run_ok(r.set, &[(r.rs1, a)], &[op(r.rd, r.rs1, r.rs1)]);
                assert_eq!(run.reg(r.rd), want, "{what} with rs1 == rs2");
            }
        }
    }
}

/// For each row `(a, imm, want)` and each register set: `rs1 = a`,
/// `op rd, rs1, imm` gives `want`, also with `rd == rs1`.
pub fn check_i(name: &str, op: IOp, rows: &[(u32, i32, u32)]) {
    for r in SETS {
        for &(a, imm, want) in rows {
            let what = format!("{name} {a:#x}, {imm} ({:?})", r.set);
            let run = run_ok(r.set, &[(r.rs1, a)], &[op(r.rd, r.rs1, imm)]);
            assert_eq!(run.reg(r.rd), want, "{what}");
            assert_eq!(run.reg(r.rs1), a, "{what}: rs1 changed");
            let run = run_ok(r.set, &[(r.rs1, a)], &[op(r.rs1, r.rs1, imm)]);
            assert_eq!(run.reg(r.rs1), want, "{what} with rd == rs1");
        }
    }
}

/// Checks that `insn` (which names `x0` as its destination) leaves `x0`
/// zero: a following `add` reading `x0` must see zero, in both sets.
pub fn check_x0_discarded(what: &str, values: &[(Reg, u32)], insn: u32, probe: Reg, set: RegisterSet) {
    let body = [insn, asm::add(probe, asm::ZERO, asm::ZERO)];
    let mut values = values.to_vec();
    values.push((probe, 0xdead_beef));
    let run = run_ok(set, &values, &body);
    assert_eq!(run.reg(probe), 0, "{what}: x0 was written ({set:?})");
    assert_eq!(run.reg(asm::ZERO), 0, "{what}: x0 was written ({set:?})");
}

//! Translation of decoded instructions into the fast engine's ops.

use super::kinds::{ends_run, fuse, Kind};
use crate::gas;
use crate::isa::{AluOp, BranchOp, Instruction, LoadOp, StoreOp};
use crate::program::CodeRegion;

/// Register slot that swallows writes to `x0` (reads of `x0` use slot 0,
/// which is never written).
pub(crate) const SINK: u8 = 32;

/// One pre-decoded instruction (eight bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Op {
    pub kind: Kind,
    pub rd: u8,
    pub rs1: u8,
    pub rs2: u8,
    pub imm: u32,
}

/// Target slot of a jump or branch whose target is not an instruction slot
/// of its own region (outside it, or misaligned): taking it is left to the
/// reference stepper.
pub(crate) const NO_SLOT: u32 = u32::MAX;

/// The straight-line run starting at some slot: up to and including the
/// next control or system op.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Run {
    /// Gas of the run's instructions.
    pub cost: u32,
    /// Number of instructions in the run.
    pub len: u32,
}

/// One executable region in fast form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FastRegion {
    pub start: u32,
    /// One op per instruction slot, plus a trailing `Slow` sentinel so that
    /// falling off the end needs no bounds check.
    pub ops: Vec<Op>,
    /// `runs[i]`: the run starting at slot `i` (kept apart from `ops`:
    /// measured faster than 16-byte ops).
    pub runs: Vec<Run>,
}

/// A whole program in fast form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct FastCode {
    pub regions: Vec<FastRegion>,
}

impl FastCode {
    /// Compiles every code region.
    pub(crate) fn compile(code: &[CodeRegion]) -> Self {
        Self { regions: code.iter().map(compile_region).collect() }
    }
}

fn compile_region(region: &CodeRegion) -> FastRegion {
    let start = region.start();
    let slots = region.instructions().len();
    // The slot of the instruction at `target`, if it is one of this region's.
    let slot_of = |target: u32| {
        let offset = target.wrapping_sub(start);
        let slot = offset >> 2;
        if offset & 3 == 0 && (slot as usize) < slots {
            slot
        } else {
            NO_SLOT
        }
    };
    let mut ops: Vec<Op> = region
        .instructions()
        .iter()
        .enumerate()
        .map(|(i, insn)| translate(start.wrapping_add((i as u32).wrapping_mul(4)), insn, slot_of))
        .collect();
    ops.push(op(Kind::Slow, 0, 0, 0, 0));
    let mut runs = vec![Run { cost: 0, len: 0 }; ops.len()];
    let mut after = Run { cost: 0, len: 0 };
    for i in (0..ops.len()).rev() {
        let (cost, ends_run) = match region.instructions().get(i) {
            Some(insn) => (gas::instruction_cost(insn.cost_class()) as u32, ends_run(ops[i].kind)),
            None => (0, true),
        };
        let run = if ends_run {
            Run { cost, len: 1 }
        } else {
            Run { cost: cost.saturating_add(after.cost), len: after.len + 1 }
        };
        runs[i] = run;
        after = run;
    }
    fuse(&mut ops);
    FastRegion { start, ops, runs }
}

fn dest(rd: u8) -> u8 {
    if rd == 0 {
        SINK
    } else {
        rd
    }
}

fn op(kind: Kind, rd: u8, rs1: u8, rs2: u8, imm: u32) -> Op {
    Op { kind, rd, rs1, rs2, imm }
}

/// The op for `insn` at `pc`; `slot_of` resolves jump and branch targets.
fn translate(pc: u32, insn: &Instruction, slot_of: impl Fn(u32) -> u32) -> Op {
    match *insn {
        Instruction::Lui { rd, imm } => op(Kind::Const, dest(rd), 0, 0, imm),
        Instruction::Auipc { rd, imm } => op(Kind::Const, dest(rd), 0, 0, pc.wrapping_add(imm)),
        Instruction::Jal { rd, offset } => op(Kind::Jal, dest(rd), 0, 0, slot_of(pc.wrapping_add(offset as u32))),
        Instruction::Jalr { rd, rs1, offset } => op(Kind::Jalr, dest(rd), rs1, 0, offset as u32),
        Instruction::Branch { op: b, rs1, rs2, offset } => {
            let kind = match b {
                BranchOp::Eq => Kind::Beq,
                BranchOp::Ne => Kind::Bne,
                BranchOp::Lt => Kind::Blt,
                BranchOp::Ge => Kind::Bge,
                BranchOp::Ltu => Kind::Bltu,
                BranchOp::Geu => Kind::Bgeu,
            };
            op(kind, 0, rs1, rs2, slot_of(pc.wrapping_add(offset as u32)))
        }
        Instruction::Load { op: l, rd, rs1, offset } => {
            let kind = match l {
                LoadOp::Lb => Kind::Lb,
                LoadOp::Lh => Kind::Lh,
                LoadOp::Lw => Kind::Lw,
                LoadOp::Lbu => Kind::Lbu,
                LoadOp::Lhu => Kind::Lhu,
            };
            op(kind, dest(rd), rs1, 0, offset as u32)
        }
        Instruction::Store { op: s, rs1, rs2, offset } => {
            let kind = match s {
                StoreOp::Sb => Kind::Sb,
                StoreOp::Sh => Kind::Sh,
                StoreOp::Sw => Kind::Sw,
            };
            op(kind, 0, rs1, rs2, offset as u32)
        }
        Instruction::AluImm { op: a, rd, rs1, imm } => {
            let kind = match a {
                AluOp::Add => Kind::Addi,
                AluOp::Slt => Kind::Slti,
                AluOp::Sltu => Kind::Sltiu,
                AluOp::Xor => Kind::Xori,
                AluOp::Or => Kind::Ori,
                AluOp::And => Kind::Andi,
                AluOp::Sll => Kind::Slli,
                AluOp::Srl => Kind::Srli,
                AluOp::Sra => Kind::Srai,
                // The decoder never produces other immediate forms.
                _ => return op(Kind::Slow, 0, 0, 0, 0),
            };
            op(kind, dest(rd), rs1, 0, imm as u32)
        }
        Instruction::Alu { op: a, rd, rs1, rs2 } => {
            let kind = match a {
                AluOp::Add => Kind::Add,
                AluOp::Sub => Kind::Sub,
                AluOp::Sll => Kind::Sll,
                AluOp::Slt => Kind::Slt,
                AluOp::Sltu => Kind::Sltu,
                AluOp::Xor => Kind::Xor,
                AluOp::Srl => Kind::Srl,
                AluOp::Sra => Kind::Sra,
                AluOp::Or => Kind::Or,
                AluOp::And => Kind::And,
                AluOp::Mul => Kind::Mul,
                AluOp::Mulh => Kind::Mulh,
                AluOp::Mulhsu => Kind::Mulhsu,
                AluOp::Mulhu => Kind::Mulhu,
                AluOp::Div => Kind::Div,
                AluOp::Divu => Kind::Divu,
                AluOp::Rem => Kind::Rem,
                AluOp::Remu => Kind::Remu,
            };
            op(kind, dest(rd), rs1, rs2, 0)
        }
        Instruction::Fence => op(Kind::Nop, 0, 0, 0, 0),
        Instruction::Ecall => op(Kind::Ecall, 0, 0, 0, 0),
        Instruction::Ebreak | Instruction::Illegal { .. } => op(Kind::Slow, 0, 0, 0, 0),
    }
}

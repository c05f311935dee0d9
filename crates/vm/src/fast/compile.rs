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

/// The straight-line run starting at some slot (up to and including the
/// next control or system op): its gas and instruction count, packed as
/// `(len << 32) - cost` so that adding it to a [`Meter`] charges both at
/// once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Run(u64);

impl Run {
    fn new(cost: u32, len: u32) -> Self {
        Run((u64::from(len) << 32).wrapping_sub(u64::from(cost)))
    }

    /// Gas of the run's instructions.
    #[inline(always)]
    pub fn cost(self) -> u32 {
        (self.0 as u32).wrapping_neg()
    }

    /// Number of instructions in the run.
    pub fn len(self) -> u32 {
        (self.0.wrapping_add(u64::from(self.cost())) >> 32) as u32
    }
}

/// Gas left and instructions retired by the fast loop in one word: the
/// low half is the gas left of a budget of at most [`Meter::LARGEST`] (so
/// the count, at most one more than the gas spent, fits the high half), the
/// high half the instructions retired since the budget was taken.
/// Charging a [`Run`] that fits is one addition: the borrow of the gas
/// subtraction is exactly cancelled by the packing.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Meter(u64);

impl Meter {
    /// The usual budget. Small, so that taking a new budget (a few hundred
    /// host instructions) is common enough for the differential tests to
    /// cover and rare enough to cost nothing.
    pub const BUDGET: u64 = 1 << 16;

    /// The largest budget, for a run that costs more than [`Meter::BUDGET`].
    pub const LARGEST: u64 = 1 << 31;

    /// A meter with `min(gas, budget, LARGEST)` gas and no instructions.
    pub fn new(gas: u64, budget: u64) -> Self {
        Meter(gas.min(budget).min(Self::LARGEST))
    }

    /// Charges `run` if its gas fits in what is left.
    #[inline(always)]
    pub fn charge(&mut self, run: Run) -> bool {
        let fits = self.0 as u32 >= run.cost();
        if fits {
            self.0 = self.0.wrapping_add(run.0);
        }
        fits
    }

    /// Gas left of the budget.
    pub fn left(self) -> u64 {
        u64::from(self.0 as u32)
    }

    /// Instructions retired.
    pub fn retired(self) -> u64 {
        self.0 >> 32
    }
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
    let mut runs = vec![Run::new(0, 0); ops.len()];
    let (mut cost_after, mut len_after) = (0u32, 0u32);
    for i in (0..ops.len()).rev() {
        let (cost, ends_run) = match region.instructions().get(i) {
            Some(insn) => (gas::instruction_cost(insn.cost_class()) as u32, ends_run(ops[i].kind)),
            None => (0, true),
        };
        if ends_run {
            (cost_after, len_after) = (cost, 1);
        } else {
            (cost_after, len_after) = (cost.saturating_add(cost_after), len_after + 1);
        }
        runs[i] = Run::new(cost_after, len_after);
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

#[cfg(test)]
mod tests {
    use super::{Meter, Run};

    #[test]
    fn run_packs_cost_and_len() {
        for (cost, len) in [(0, 0), (0, 1), (1, 1), (7, 3), (u32::MAX, 1 << 30), (4 * 1000, 1000)] {
            let run = Run::new(cost, len);
            assert_eq!((run.cost(), run.len()), (cost, len));
        }
    }

    #[test]
    fn meter_charges_gas_and_count_together() {
        let mut meter = Meter::new(10, Meter::BUDGET);
        assert!(meter.charge(Run::new(4, 2)));
        assert!(meter.charge(Run::new(0, 1)));
        assert!(!meter.charge(Run::new(7, 1)), "7 does not fit in 6");
        assert!(meter.charge(Run::new(6, 6)));
        assert_eq!((meter.left(), meter.retired()), (0, 9));
        assert!(!meter.charge(Run::new(1, 1)));
        let usual = Meter::new(u64::MAX, Meter::BUDGET);
        assert_eq!((usual.left(), usual.retired()), (Meter::BUDGET, 0));
        let largest = Meter::new(u64::MAX, u64::MAX);
        assert_eq!(largest.left(), Meter::LARGEST);
    }
}

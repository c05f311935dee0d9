//! The fast engine's loop. See the module documentation of `fast` for how
//! it stays exactly equivalent to the reference interpreter.
//!
//! Shape of the loop: on entering a straight-line run at slot `idx`, its
//! whole gas and instruction count are taken at once; the run's body (every
//! op but the last) executes from a slice iterator with no per-op gas,
//! counter or bounds bookkeeping; the last op (a jump, branch, `ECALL` or a
//! slow op) picks the next run.

use super::compile::{FastRegion, Kind, Op};
use crate::isa::BranchOp;
use crate::machine::{branch_taken, Machine, Stop, REGISTER_SLOTS};
use crate::memory::GUARD_END;
use crate::syscall::Environment;
use crate::trap::Outcome;

impl Machine<'_> {
    /// Runs with the fast engine until the guest halts, traps or runs out
    /// of gas. Bit-identical to [`Machine::run`].
    pub fn run_fast<E: Environment>(&mut self, env: &mut E) -> Outcome {
        let program = self.program;
        let stop = loop {
            let pc = self.pc;
            let region = program.fast.regions.iter().find(|r| slot_of(r, pc).is_some());
            let result = match region {
                Some(region) => self.run_region(region, env),
                // Not code: the reference stepper raises the exact fault.
                None => self.step(env),
            };
            if let Err(stop) = result {
                break stop;
            }
        };
        self.finish(stop)
    }

    /// Executes inside one region until control leaves it, something needs
    /// the reference stepper, or the run stops.
    fn run_region<E: Environment>(&mut self, region: &FastRegion, env: &mut E) -> Result<(), Stop> {
        let ops = region.ops.as_slice();
        let base = region.start;
        let slots = ops.len().saturating_sub(1);
        let Some(mut idx) = slot_of(region, self.pc) else {
            return self.step(env);
        };
        let mut gas = self.gas.left();
        let mut retired = self.instructions;

        macro_rules! reg {
            ($r:expr) => {
                self.regs[usize::from($r) & (REGISTER_SLOTS - 1)]
            };
        }
        // Hand slot `$at` to the reference stepper after refunding the gas
        // and count of the run from `$at` on (taken at run entry), so the
        // stepper sees exactly the reference state.
        macro_rules! slow_at {
            ($at:expr) => {{
                let at: usize = $at;
                gas += u64::from(region.run_cost.get(at).copied().unwrap_or(0));
                retired -= u64::from(region.run_len.get(at).copied().unwrap_or(0));
                self.pc = base.wrapping_add((at as u32) << 2);
                self.gas.set_left(gas);
                self.instructions = retired;
                return self.step(env);
            }};
        }

        loop {
            // Enter the run at `idx`.
            let (Some(&cost), Some(&len)) = (region.run_cost.get(idx), region.run_len.get(idx)) else {
                return self.step(env);
            };
            let cost = u64::from(cost);
            if gas < cost {
                self.pc = base.wrapping_add((idx as u32) << 2);
                self.gas.set_left(gas);
                self.instructions = retired;
                return self.step(env);
            }
            gas -= cost;
            retired += u64::from(len);
            let last = idx + len as usize - 1;
            let Some(body) = ops.get(idx..last) else {
                return self.step(env);
            };
            let mut it = body.iter();
            while let Some(op) = it.next() {
                if !self.exec_body_op(op) {
                    // Position of `op` inside the region.
                    let at = last - it.as_slice().len() - 1;
                    slow_at!(at);
                }
            }

            let Some(&op) = ops.get(last) else {
                return self.step(env);
            };
            let pc = base.wrapping_add((last as u32) << 2);
            let target = match op.kind {
                Kind::Jal => {
                    if op.imm & 3 != 0 {
                        slow_at!(last);
                    }
                    reg!(op.rd) = pc.wrapping_add(4);
                    op.imm
                }
                Kind::Jalr => {
                    let target = reg!(op.rs1).wrapping_add(op.imm) & !1;
                    if target & 3 != 0 {
                        slow_at!(last);
                    }
                    reg!(op.rd) = pc.wrapping_add(4);
                    target
                }
                Kind::Beq | Kind::Bne | Kind::Blt | Kind::Bge | Kind::Bltu | Kind::Bgeu => {
                    let cond = match op.kind {
                        Kind::Beq => BranchOp::Eq,
                        Kind::Bne => BranchOp::Ne,
                        Kind::Blt => BranchOp::Lt,
                        Kind::Bge => BranchOp::Ge,
                        Kind::Bltu => BranchOp::Ltu,
                        _ => BranchOp::Geu,
                    };
                    if !branch_taken(cond, reg!(op.rs1), reg!(op.rs2)) {
                        idx = last + 1;
                        continue;
                    }
                    if op.imm & 3 != 0 {
                        slow_at!(last);
                    }
                    op.imm
                }
                Kind::Ecall => {
                    // The ECALL's own count is taken back until it completes.
                    self.pc = pc;
                    self.gas.set_left(gas);
                    self.instructions = retired - 1;
                    if let Some(code) = self.ecall(pc, env)? {
                        self.instructions += 1;
                        return Err(Stop::Halt(code));
                    }
                    gas = self.gas.left();
                    idx = last + 1;
                    continue;
                }
                _ => slow_at!(last),
            };
            let next = (target.wrapping_sub(base) >> 2) as usize;
            if next >= slots {
                self.pc = target;
                self.gas.set_left(gas);
                self.instructions = retired;
                return Ok(());
            }
            idx = next;
        }
    }

    /// Executes one non-terminating op; returns `false` (with no effect) when
    /// the op needs the reference stepper (a would-be trap or a page charge).
    #[inline(always)]
    fn exec_body_op(&mut self, op: &Op) -> bool {
        macro_rules! reg {
            ($r:expr) => {
                self.regs[usize::from($r) & (REGISTER_SLOTS - 1)]
            };
        }
        match op.kind {
            Kind::Const => reg!(op.rd) = op.imm,
            Kind::Addi => reg!(op.rd) = reg!(op.rs1).wrapping_add(op.imm),
            Kind::Slti => reg!(op.rd) = u32::from((reg!(op.rs1) as i32) < (op.imm as i32)),
            Kind::Sltiu => reg!(op.rd) = u32::from(reg!(op.rs1) < op.imm),
            Kind::Xori => reg!(op.rd) = reg!(op.rs1) ^ op.imm,
            Kind::Ori => reg!(op.rd) = reg!(op.rs1) | op.imm,
            Kind::Andi => reg!(op.rd) = reg!(op.rs1) & op.imm,
            Kind::Slli => reg!(op.rd) = reg!(op.rs1) << (op.imm & 31),
            Kind::Srli => reg!(op.rd) = reg!(op.rs1) >> (op.imm & 31),
            Kind::Srai => reg!(op.rd) = ((reg!(op.rs1) as i32) >> (op.imm & 31)) as u32,
            Kind::Add => reg!(op.rd) = reg!(op.rs1).wrapping_add(reg!(op.rs2)),
            Kind::Sub => reg!(op.rd) = reg!(op.rs1).wrapping_sub(reg!(op.rs2)),
            Kind::Sll => reg!(op.rd) = reg!(op.rs1) << (reg!(op.rs2) & 31),
            Kind::Slt => reg!(op.rd) = u32::from((reg!(op.rs1) as i32) < (reg!(op.rs2) as i32)),
            Kind::Sltu => reg!(op.rd) = u32::from(reg!(op.rs1) < reg!(op.rs2)),
            Kind::Xor => reg!(op.rd) = reg!(op.rs1) ^ reg!(op.rs2),
            Kind::Srl => reg!(op.rd) = reg!(op.rs1) >> (reg!(op.rs2) & 31),
            Kind::Sra => reg!(op.rd) = ((reg!(op.rs1) as i32) >> (reg!(op.rs2) & 31)) as u32,
            Kind::Or => reg!(op.rd) = reg!(op.rs1) | reg!(op.rs2),
            Kind::And => reg!(op.rd) = reg!(op.rs1) & reg!(op.rs2),
            Kind::Mul => reg!(op.rd) = reg!(op.rs1).wrapping_mul(reg!(op.rs2)),
            Kind::Mulh => {
                let p = i64::from(reg!(op.rs1) as i32) * i64::from(reg!(op.rs2) as i32);
                reg!(op.rd) = (p >> 32) as u32;
            }
            Kind::Mulhsu => {
                let p = i64::from(reg!(op.rs1) as i32) * i64::from(reg!(op.rs2));
                reg!(op.rd) = (p >> 32) as u32;
            }
            Kind::Mulhu => reg!(op.rd) = ((u64::from(reg!(op.rs1)) * u64::from(reg!(op.rs2))) >> 32) as u32,
            Kind::Div => {
                let (a, b) = (reg!(op.rs1) as i32, reg!(op.rs2) as i32);
                reg!(op.rd) = if b == 0 { u32::MAX } else { a.wrapping_div(b) as u32 };
            }
            Kind::Divu => reg!(op.rd) = reg!(op.rs1).checked_div(reg!(op.rs2)).unwrap_or(u32::MAX),
            Kind::Rem => {
                let (a, b) = (reg!(op.rs1) as i32, reg!(op.rs2) as i32);
                reg!(op.rd) = if b == 0 { a as u32 } else { a.wrapping_rem(b) as u32 };
            }
            Kind::Remu => {
                let a = reg!(op.rs1);
                reg!(op.rd) = a.checked_rem(reg!(op.rs2)).unwrap_or(a);
            }
            Kind::Lb | Kind::Lbu => {
                let addr = reg!(op.rs1).wrapping_add(op.imm);
                if addr < GUARD_END {
                    return false;
                }
                let byte = self.memory.read_u8(addr);
                reg!(op.rd) = if op.kind == Kind::Lb { byte as i8 as i32 as u32 } else { u32::from(byte) };
            }
            Kind::Lh | Kind::Lhu => {
                let addr = reg!(op.rs1).wrapping_add(op.imm);
                if addr < GUARD_END || addr & 1 != 0 {
                    return false;
                }
                let half = self.memory.read_u16(addr);
                reg!(op.rd) = if op.kind == Kind::Lh { half as i16 as i32 as u32 } else { u32::from(half) };
            }
            Kind::Lw => {
                let addr = reg!(op.rs1).wrapping_add(op.imm);
                if addr < GUARD_END || addr & 3 != 0 {
                    return false;
                }
                reg!(op.rd) = self.memory.read_u32(addr);
            }
            // Fresh pages, protected pages, misalignment and the guard
            // region all take the reference path.
            Kind::Sb => {
                let addr = reg!(op.rs1).wrapping_add(op.imm);
                return addr >= GUARD_END && self.memory.store_fast(addr, 1, reg!(op.rs2));
            }
            Kind::Sh => {
                let addr = reg!(op.rs1).wrapping_add(op.imm);
                return addr >= GUARD_END && addr & 1 == 0 && self.memory.store_fast(addr, 2, reg!(op.rs2));
            }
            Kind::Sw => {
                let addr = reg!(op.rs1).wrapping_add(op.imm);
                return addr >= GUARD_END && addr & 3 == 0 && self.memory.store_fast(addr, 4, reg!(op.rs2));
            }
            Kind::Nop => {}
            // Control and system ops only ever end a run; never reached here.
            Kind::Jal
            | Kind::Jalr
            | Kind::Beq
            | Kind::Bne
            | Kind::Blt
            | Kind::Bge
            | Kind::Bltu
            | Kind::Bgeu
            | Kind::Ecall
            | Kind::Slow => return false,
        }
        true
    }
}

/// The slot index of `pc` in `region`, if it is one of its instruction slots.
#[inline]
fn slot_of(region: &FastRegion, pc: u32) -> Option<usize> {
    let offset = pc.wrapping_sub(region.start);
    let slot = (offset >> 2) as usize;
    (offset & 3 == 0 && slot < region.ops.len() - 1).then_some(slot)
}

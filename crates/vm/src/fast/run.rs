//! The fast engine's loop. See the module documentation of `fast` for how
//! it stays exactly equivalent to the reference interpreter.
//!
//! Shape of the loop: [`exec`] keeps the slot index, gas and instruction
//! count in locals and dispatches every op, terminators included, from one
//! `match`. Entering a straight-line run (at the start, after a taken jump
//! or branch, or on falling through one) takes the run's whole gas and
//! instruction count at once; body ops then do no gas or counter
//! bookkeeping. Everything unusual leaves [`exec`] with an [`Exit`] naming
//! a slot, and [`Machine::run_region`] finishes it with the reference
//! stepper or the syscall handler.

use super::compile::{FastRegion, Meter};
use super::kinds::{with_kinds, Kind};
use super::tlb::Tlb;
use crate::machine::{Machine, Stop, REGISTER_SLOTS};
use crate::memory::Memory;
use crate::syscall::Environment;
use crate::trap::Outcome;

/// Why [`exec`] stopped, and at which slot.
enum Exit {
    /// The op at the slot needs the reference stepper (a would-be trap, a
    /// page allocation, a jump leaving the region). Its run was charged
    /// from a slot at or before it.
    Slow(usize),
    /// The run starting at the slot does not fit in the gas left; nothing
    /// of it was charged.
    Unaffordable(usize),
    /// `ECALL` at the slot, charged and counted with its run.
    Ecall(usize),
}

impl Machine<'_> {
    /// Runs with the fast engine until the guest halts, traps or runs out
    /// of gas. Bit-identical to [`Machine::run`].
    pub fn run_fast<E: Environment>(&mut self, env: &mut E) -> Outcome {
        let program = self.program;
        let mut tlb = Tlb::new();
        let stop = loop {
            let pc = self.pc;
            let region = program.fast.regions.iter().find(|r| slot_of(r, pc).is_some());
            let result = match region {
                Some(region) => self.run_region(region, &mut tlb, env),
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
    fn run_region<E: Environment>(&mut self, region: &FastRegion, tlb: &mut Tlb, env: &mut E) -> Result<(), Stop> {
        let Some(mut start) = slot_of(region, self.pc) else {
            return self.step(env);
        };
        let mut budget = Meter::BUDGET;
        loop {
            let gas = self.gas.left();
            let mut meter = Meter::new(gas, budget);
            let taken = meter.left();
            let exit = exec(region, &mut self.regs, &mut self.memory, tlb, &mut meter, start);
            let gas = gas - (taken - meter.left());
            let retired = self.instructions + meter.retired();
            let at = match exit {
                Exit::Slow(at) | Exit::Unaffordable(at) | Exit::Ecall(at) => at,
            };
            self.pc = region.start.wrapping_add((at as u32) << 2);
            match exit {
                Exit::Slow(_) => {
                    // Refund the run from `at` on, so that the stepper sees
                    // exactly the reference state before the op at `at`.
                    let (cost, len) = region.runs.get(at).map_or((0, 0), |run| (run.cost(), run.len()));
                    self.gas.set_left(gas.saturating_add(u64::from(cost)));
                    self.instructions = retired.saturating_sub(u64::from(len));
                    return self.step(env);
                }
                Exit::Unaffordable(_) => {
                    self.gas.set_left(gas);
                    self.instructions = retired;
                    // Only the budget ran out: take a new one, large enough
                    // for the run.
                    let cost = region.runs.get(at).map_or(u64::MAX, |run| u64::from(run.cost()));
                    if cost <= gas && cost <= Meter::LARGEST {
                        budget = cost.max(Meter::BUDGET);
                        start = at;
                        continue;
                    }
                    return self.step(env);
                }
                Exit::Ecall(_) => {
                    // The ECALL's own count is taken back until it completes.
                    self.gas.set_left(gas);
                    self.instructions = retired.saturating_sub(1);
                    if let Some(code) = self.ecall(self.pc, env)? {
                        self.instructions += 1;
                        return Err(Stop::Halt(code));
                    }
                    self.instructions += 1;
                    start = at + 1;
                }
            }
        }
    }
}

/// Runs `region` from slot `start` (a valid instruction slot) until an
/// [`Exit`], charging runs to `meter` (updated on return).
#[inline(never)]
fn exec(
    region: &FastRegion,
    regs: &mut [u32; REGISTER_SLOTS],
    memory: &mut Memory,
    tlb: &mut Tlb,
    meter: &mut Meter,
    start: usize,
) -> Exit {
    // One length for both tables (they are built together), so that the
    // compiler keeps one bound live instead of two (measured: 4-7% fewer
    // host instructions on the benchmark guests).
    let len = region.ops.len().min(region.runs.len());
    let ops = region.ops.get(..len).unwrap_or_default();
    let runs = region.runs.get(..len).unwrap_or_default();
    let base = region.start;
    let mut acc = *meter;
    let mut i: usize;
    // A local register file indexed by the op's `u8` fields with no mask or
    // bounds check; copied back on every exit.
    let mut file = [0u32; 256];
    if let Some(head) = file.first_chunk_mut::<REGISTER_SLOTS>() {
        *head = *regs;
    }

    macro_rules! exit {
        ($exit:expr) => {{
            *meter = acc;
            if let Some(head) = file.first_chunk::<REGISTER_SLOTS>() {
                *regs = *head;
            }
            return $exit;
        }};
    }
    macro_rules! reg {
        ($r:expr) => {
            file[usize::from($r)]
        };
    }
    // Charges the run at `$slot` whole; `$from` is the control op that got
    // there, handed to the stepper if `$slot` is not a slot.
    macro_rules! charge {
        ($slot:expr, $from:expr) => {{
            let Some(&run) = runs.get($slot) else { exit!(Exit::Slow($from)) };
            if !acc.charge(run) {
                exit!(Exit::Unaffordable($slot));
            }
        }};
    }
    macro_rules! load {
        ($op:expr, $n:literal, $conv:expr) => {{
            let addr = reg!($op.rs1).wrapping_add($op.imm);
            let Some(bytes) = tlb.load::<$n>(memory, addr) else { exit!(Exit::Slow(i)) };
            reg!($op.rd) = $conv(bytes);
        }};
    }
    macro_rules! store {
        ($op:expr, $n:literal) => {{
            let addr = reg!($op.rs1).wrapping_add($op.imm);
            let value = reg!($op.rs2).to_le_bytes();
            let Some(bytes) = value.first_chunk::<$n>() else { exit!(Exit::Slow(i)) };
            if !tlb.store::<$n>(memory, addr, *bytes) {
                exit!(Exit::Slow(i));
            }
        }};
    }
    macro_rules! branch {
        ($op:expr, $taken:expr) => {{
            if $taken {
                enter!($op.imm as usize, i)
            }
            enter!(i + 1, i)
        }};
    }
    // Whether the conditional branch `$op` of kind `$kind` is taken.
    macro_rules! cond {
        (Beq, $op:ident) => {
            reg!($op.rs1) == reg!($op.rs2)
        };
        (Bne, $op:ident) => {
            reg!($op.rs1) != reg!($op.rs2)
        };
        (Blt, $op:ident) => {
            (reg!($op.rs1) as i32) < (reg!($op.rs2) as i32)
        };
        (Bge, $op:ident) => {
            (reg!($op.rs1) as i32) >= (reg!($op.rs2) as i32)
        };
        (Bltu, $op:ident) => {
            reg!($op.rs1) < reg!($op.rs2)
        };
        (Bgeu, $op:ident) => {
            reg!($op.rs1) >= reg!($op.rs2)
        };
    }
    // The semantics of each plain kind, for the op `$op` at slot `i`.
    macro_rules! body {
        (Const, $op:ident) => {
            reg!($op.rd) = $op.imm
        };
        (Addi, $op:ident) => {
            reg!($op.rd) = reg!($op.rs1).wrapping_add($op.imm)
        };
        (Slti, $op:ident) => {
            reg!($op.rd) = u32::from((reg!($op.rs1) as i32) < ($op.imm as i32))
        };
        (Sltiu, $op:ident) => {
            reg!($op.rd) = u32::from(reg!($op.rs1) < $op.imm)
        };
        (Xori, $op:ident) => {
            reg!($op.rd) = reg!($op.rs1) ^ $op.imm
        };
        (Ori, $op:ident) => {
            reg!($op.rd) = reg!($op.rs1) | $op.imm
        };
        (Andi, $op:ident) => {
            reg!($op.rd) = reg!($op.rs1) & $op.imm
        };
        (Slli, $op:ident) => {
            reg!($op.rd) = reg!($op.rs1) << ($op.imm & 31)
        };
        (Srli, $op:ident) => {
            reg!($op.rd) = reg!($op.rs1) >> ($op.imm & 31)
        };
        (Srai, $op:ident) => {
            reg!($op.rd) = ((reg!($op.rs1) as i32) >> ($op.imm & 31)) as u32
        };
        (Add, $op:ident) => {
            reg!($op.rd) = reg!($op.rs1).wrapping_add(reg!($op.rs2))
        };
        (Sub, $op:ident) => {
            reg!($op.rd) = reg!($op.rs1).wrapping_sub(reg!($op.rs2))
        };
        (Sll, $op:ident) => {
            reg!($op.rd) = reg!($op.rs1) << (reg!($op.rs2) & 31)
        };
        (Slt, $op:ident) => {
            reg!($op.rd) = u32::from((reg!($op.rs1) as i32) < (reg!($op.rs2) as i32))
        };
        (Sltu, $op:ident) => {
            reg!($op.rd) = u32::from(reg!($op.rs1) < reg!($op.rs2))
        };
        (Xor, $op:ident) => {
            reg!($op.rd) = reg!($op.rs1) ^ reg!($op.rs2)
        };
        (Srl, $op:ident) => {
            reg!($op.rd) = reg!($op.rs1) >> (reg!($op.rs2) & 31)
        };
        (Sra, $op:ident) => {
            reg!($op.rd) = ((reg!($op.rs1) as i32) >> (reg!($op.rs2) & 31)) as u32
        };
        (Or, $op:ident) => {
            reg!($op.rd) = reg!($op.rs1) | reg!($op.rs2)
        };
        (And, $op:ident) => {
            reg!($op.rd) = reg!($op.rs1) & reg!($op.rs2)
        };
        (Mul, $op:ident) => {
            reg!($op.rd) = reg!($op.rs1).wrapping_mul(reg!($op.rs2))
        };
        (Mulh, $op:ident) => {
            reg!($op.rd) = ((i64::from(reg!($op.rs1) as i32) * i64::from(reg!($op.rs2) as i32)) >> 32) as u32
        };
        (Mulhsu, $op:ident) => {
            reg!($op.rd) = ((i64::from(reg!($op.rs1) as i32) * i64::from(reg!($op.rs2))) >> 32) as u32
        };
        (Mulhu, $op:ident) => {
            reg!($op.rd) = ((u64::from(reg!($op.rs1)) * u64::from(reg!($op.rs2))) >> 32) as u32
        };
        (Div, $op:ident) => {{
            let (a, b) = (reg!($op.rs1), reg!($op.rs2));
            reg!($op.rd) = if b == 0 { u32::MAX } else { (a as i32).wrapping_div(b as i32) as u32 };
        }};
        (Divu, $op:ident) => {
            reg!($op.rd) = reg!($op.rs1).checked_div(reg!($op.rs2)).unwrap_or(u32::MAX)
        };
        (Rem, $op:ident) => {{
            let (a, b) = (reg!($op.rs1), reg!($op.rs2));
            reg!($op.rd) = if b == 0 { a } else { (a as i32).wrapping_rem(b as i32) as u32 };
        }};
        (Remu, $op:ident) => {{
            let a = reg!($op.rs1);
            reg!($op.rd) = a.checked_rem(reg!($op.rs2)).unwrap_or(a);
        }};
        (Lb, $op:ident) => {
            load!($op, 1, |[byte]: [u8; 1]| byte as i8 as i32 as u32)
        };
        (Lbu, $op:ident) => {
            load!($op, 1, |[byte]: [u8; 1]| u32::from(byte))
        };
        (Lh, $op:ident) => {
            load!($op, 2, |half| i16::from_le_bytes(half) as i32 as u32)
        };
        (Lhu, $op:ident) => {
            load!($op, 2, |half| u32::from(u16::from_le_bytes(half)))
        };
        (Lw, $op:ident) => {
            load!($op, 4, u32::from_le_bytes)
        };
        (Sb, $op:ident) => {
            store!($op, 1)
        };
        (Sh, $op:ident) => {
            store!($op, 2)
        };
        (Sw, $op:ident) => {
            store!($op, 4)
        };
        (Nop, $op:ident) => {{}};
        (Jal, $op:ident) => {{
            if $op.imm as usize >= runs.len() {
                exit!(Exit::Slow(i));
            }
            reg!($op.rd) = base.wrapping_add(((i + 1) as u32) << 2);
            enter!($op.imm as usize, i)
        }};
        (Jalr, $op:ident) => {{
            let target = reg!($op.rs1).wrapping_add($op.imm) & !1;
            let offset = target.wrapping_sub(base);
            let slot = (offset >> 2) as usize;
            // The sentinel is not an instruction slot.
            if offset & 3 != 0 || slot + 1 >= runs.len() {
                exit!(Exit::Slow(i));
            }
            reg!($op.rd) = base.wrapping_add(((i + 1) as u32) << 2);
            enter!(slot, i)
        }};
        (Beq, $op:ident) => {
            branch!($op, cond!(Beq, $op))
        };
        (Bne, $op:ident) => {
            branch!($op, cond!(Bne, $op))
        };
        (Blt, $op:ident) => {
            branch!($op, cond!(Blt, $op))
        };
        (Bge, $op:ident) => {
            branch!($op, cond!(Bge, $op))
        };
        (Bltu, $op:ident) => {
            branch!($op, cond!(Bltu, $op))
        };
        (Bgeu, $op:ident) => {
            branch!($op, cond!(Bgeu, $op))
        };
        (Ecall, $op:ident) => {
            exit!(Exit::Ecall(i))
        };
        (Slow, $op:ident) => {
            exit!(Exit::Slow(i))
        };
    }
    // A fused op: its parts in order, each with the operands of its own
    // slot, `i` moving to each part's slot before it runs.
    macro_rules! fused {
        ($($part:ident),+) => {{
            let window = ops.get(i..).and_then(|rest| rest.first_chunk::<{ 0 $(+ { stringify!($part); 1 })+ }>());
            let Some(window) = window else { exit!(Exit::Slow(i)) };
            // A fused op ending in a branch back to its own slot iterates
            // here, skipping the dispatch and the window check (see `last!`).
            let head = i;
            'again: loop {
                let mut parts = window.iter().copied();
                parts!(parts, head, 'again; $($part),+);
            }
        }};
    }
    macro_rules! parts {
        ($parts:ident, $head:ident, $again:lifetime; $last:ident) => {{
            if let Some(op) = $parts.next() {
                last!($last, op, $head, $again);
            }
            break $again;
        }};
        // A branch over the jump after it (see `kinds`): taken, it charges
        // the run after the jump (as entering it would) and the fused op
        // goes on there; not taken, the jump runs and leaves.
        ($parts:ident, $head:ident, $again:lifetime; $branch:ident, Jal, $($rest:ident),+) => {{
            if let (Some(op), Some(jump)) = ($parts.next(), $parts.next()) {
                if cond!($branch, op) {
                    if op.imm as usize != i + 2 {
                        enter!(op.imm as usize, i)
                    }
                    charge!(i + 2, i);
                } else {
                    charge!(i + 1, i);
                    i += 1;
                    body!(Jal, jump);
                }
            }
            i += 2;
            parts!($parts, $head, $again; $($rest),+);
        }};
        ($parts:ident, $head:ident, $again:lifetime; $part:ident, $($rest:ident),+) => {{
            if let Some(op) = $parts.next() {
                inner!($part, op);
            }
            i += 1;
            parts!($parts, $head, $again; $($rest),+);
        }};
    }
    // The last part of a fused op at slot `$head`: as `body!`, except that
    // a conditional branch taken back to `$head` charges the run there (as
    // entering it would) and runs the same window again.
    macro_rules! last {
        (Beq, $op:ident, $head:ident, $again:lifetime) => {
            again!($op, cond!(Beq, $op), $head, $again)
        };
        (Bne, $op:ident, $head:ident, $again:lifetime) => {
            again!($op, cond!(Bne, $op), $head, $again)
        };
        (Blt, $op:ident, $head:ident, $again:lifetime) => {
            again!($op, cond!(Blt, $op), $head, $again)
        };
        (Bge, $op:ident, $head:ident, $again:lifetime) => {
            again!($op, cond!(Bge, $op), $head, $again)
        };
        (Bltu, $op:ident, $head:ident, $again:lifetime) => {
            again!($op, cond!(Bltu, $op), $head, $again)
        };
        (Bgeu, $op:ident, $head:ident, $again:lifetime) => {
            again!($op, cond!(Bgeu, $op), $head, $again)
        };
        ($kind:ident, $op:ident, $head:ident, $again:lifetime) => {{
            let _ = $head;
            body!($kind, $op)
        }};
    }
    macro_rules! again {
        ($op:expr, $taken:expr, $head:ident, $again:lifetime) => {{
            if $taken {
                if $op.imm as usize == $head {
                    charge!($head, i);
                    i = $head;
                    continue $again;
                }
                enter!($op.imm as usize, i)
            }
            enter!(i + 1, i)
        }};
    }
    // A part before the last: as `body!`, except that a conditional branch
    // not taken charges the next run and lets the fused op go on.
    macro_rules! inner {
        (Beq, $op:ident) => {
            fall_through!($op, cond!(Beq, $op))
        };
        (Bne, $op:ident) => {
            fall_through!($op, cond!(Bne, $op))
        };
        (Blt, $op:ident) => {
            fall_through!($op, cond!(Blt, $op))
        };
        (Bge, $op:ident) => {
            fall_through!($op, cond!(Bge, $op))
        };
        (Bltu, $op:ident) => {
            fall_through!($op, cond!(Bltu, $op))
        };
        (Bgeu, $op:ident) => {
            fall_through!($op, cond!(Bgeu, $op))
        };
        ($kind:ident, $op:ident) => {
            body!($kind, $op)
        };
    }
    macro_rules! fall_through {
        ($op:expr, $taken:expr) => {{
            if $taken {
                enter!($op.imm as usize, i)
            }
            charge!(i + 1, i);
        }};
    }
    macro_rules! dispatch {
        (plain: $($plain:ident),*; fused: $($fused:ident = [$($part:ident),+]),*;) => {
            'dispatch: loop {
                // Defined here so that it can name the loop.
                macro_rules! enter {
                    ($slot:expr, $from:expr) => {{
                        let slot: usize = $slot;
                        charge!(slot, $from);
                        i = slot;
                        continue 'dispatch;
                    }};
                }
                let Some(&op) = ops.get(i) else { exit!(Exit::Slow(i)) };
                match op.kind {
                    $(Kind::$plain => body!($plain, op),)*
                    $(Kind::$fused => fused!($($part),+),)*
                }
                i += 1;
            }
        };
    }

    charge!(start, start);
    i = start;
    with_kinds!(dispatch)
}

/// The slot index of `pc` in `region`, if it is one of its instruction slots.
#[inline]
fn slot_of(region: &FastRegion, pc: u32) -> Option<usize> {
    let offset = pc.wrapping_sub(region.start);
    let slot = (offset >> 2) as usize;
    (offset & 3 == 0 && slot < region.ops.len() - 1).then_some(slot)
}

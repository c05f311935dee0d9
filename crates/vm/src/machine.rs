//! The reference interpreter: one instruction at a time, gas charged per
//! instruction before it executes.
//!
//! This engine defines the semantics. Faster engines must match it bit for
//! bit (exit, gas, instruction count, output and final state).

use crate::gas::{self, GasMeter};
use crate::isa::{AluOp, BranchOp, Instruction, LoadOp};
use crate::memory::{AccessError, Memory, DEFAULT_MEMORY_LIMIT, STACK_TOP};
use crate::program::{LoadError, Program};
use crate::syscall::{number, Environment, SyscallContext, SyscallError, SyscallOutcome, REG_T0};
use crate::trap::{Exit, Outcome, Trap};

/// Size of the register file array: `x0..x31`, slot 32 as the fast
/// engine's write sink for `x0`, and padding to a power of two so that a
/// masked register index never needs a bounds check.
pub(crate) const REGISTER_SLOTS: usize = 64;

/// Most bytes one run may `WRITE` (fd 1 and 2 together): output is for
/// diagnostics and tools, and the host must never buffer unbounded data.
pub const MAX_OUTPUT_BYTES: u32 = 4 * 1024 * 1024;

/// Register index of the stack pointer.
pub const REG_SP: usize = 2;

/// Which execution engine runs the program. Both give bit-identical
/// results; `Reference` is the specification, `Fast` is what nodes use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Engine {
    /// One instruction at a time, gas charged per instruction.
    Reference,
    /// Pre-decoded ops, gas charged per straight-line run.
    #[default]
    Fast,
}

/// Limits of one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MachineConfig {
    /// Gas available to the run.
    pub gas_limit: u64,
    /// Most bytes of guest memory (loaded image plus touched pages).
    pub memory_limit: u32,
}

impl Default for MachineConfig {
    fn default() -> Self {
        Self { gas_limit: 10_000_000_000, memory_limit: DEFAULT_MEMORY_LIMIT }
    }
}

/// Why a step stopped the run.
pub(crate) enum Stop {
    Halt(u32),
    OutOfGas,
    Trap(Trap),
    /// A charge did not fit the slice of [`Machine::run_fast_slice`] but
    /// fits the gas left: the machine stands before the instruction.
    Pause,
}

/// Whether the meter holds all the gas left or only a slice of it (see
/// [`Machine::run_fast_slice`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Slice {
    /// The meter holds all the gas left.
    Off,
    /// The meter holds what is left of the slice; `held` more gas is the
    /// run's, returned to the meter when the run stops or makes a syscall.
    On { held: u64 },
    /// The slice ran out; the run stopped before an instruction it could
    /// still afford.
    Paused,
}

impl From<SyscallError> for Stop {
    fn from(e: SyscallError) -> Self {
        match e {
            SyscallError::OutOfGas => Stop::OutOfGas,
            SyscallError::Trap(t) => Stop::Trap(t),
        }
    }
}

/// One instantiated program: registers, memory, gas meter.
pub struct Machine<'p> {
    pub(crate) program: &'p Program,
    /// `x0..x31`, plus slot 32: a write sink the fast engine uses for `rd = x0`
    /// (see [`REGISTER_SLOTS`]).
    pub(crate) regs: [u32; REGISTER_SLOTS],
    pub(crate) pc: u32,
    pub(crate) memory: Memory,
    pub(crate) gas: GasMeter,
    pub(crate) instructions: u64,
    /// Bytes written to fd 1 and 2 so far (bounded by [`MAX_OUTPUT_BYTES`]).
    pub(crate) output_written: u32,
    /// Gas held back from the meter by [`Machine::run_fast_slice`].
    pub(crate) slice: Slice,
}

impl<'p> Machine<'p> {
    /// Lays the program out in fresh memory: segments copied in, read-only
    /// ranges protected, `pc` at the entry, `sp` at [`STACK_TOP`], every
    /// other register zero.
    pub fn new(program: &'p Program, config: MachineConfig) -> Result<Self, LoadError> {
        let mut memory = Memory::new(config.memory_limit);
        let too_large =
            || LoadError::ImageTooLarge { size: program.image_size(), limit: u64::from(config.memory_limit) };
        if program.image_size() > u64::from(config.memory_limit) {
            return Err(too_large());
        }
        for seg in program.segments() {
            memory.write_bytes(seg.vaddr, &seg.data).map_err(|_| too_large())?;
            if !seg.writable {
                memory.protect(seg.vaddr, seg.mem_size).map_err(|_| too_large())?;
            }
        }
        let mut regs = [0u32; REGISTER_SLOTS];
        regs[REG_SP] = STACK_TOP;
        Ok(Self {
            program,
            regs,
            pc: program.entry(),
            memory,
            gas: GasMeter::new(config.gas_limit),
            instructions: 0,
            output_written: 0,
            slice: Slice::Off,
        })
    }

    /// The register file (`x0..x31`; RV32E programs only use `x0..x15`).
    pub fn registers(&self) -> &[u32; 32] {
        const ZERO: [u32; 32] = [0; 32];
        self.regs.first_chunk::<32>().unwrap_or(&ZERO)
    }

    /// Current program counter.
    pub fn pc(&self) -> u32 {
        self.pc
    }

    /// Guest memory.
    pub fn memory(&self) -> &Memory {
        &self.memory
    }

    /// Gas left.
    pub fn gas_left(&self) -> u64 {
        self.gas.left()
    }

    /// Runs until the guest halts, traps or runs out of gas.
    pub fn run<E: Environment>(&mut self, env: &mut E) -> Outcome {
        let stop = loop {
            if let Err(stop) = self.step(env) {
                break stop;
            }
        };
        self.finish(stop)
    }

    /// Runs the fast interpreter like [`Machine::run_fast`], but lets it
    /// spend at most `slice` gas on instructions: when an instruction (or
    /// the page a store allocates) does not fit what is left of the slice
    /// but does fit the gas left, the run stops before that instruction and
    /// returns `None`. The machine is then in exactly the state the
    /// reference interpreter has before that instruction (pc, registers,
    /// memory, gas left, instruction count), so any engine can continue it
    /// with identical results — the engine switches a long call to native
    /// code this way. A charge that does not fit the gas left is the real
    /// out-of-gas, as in `run_fast`. Syscalls see and pay from all the gas
    /// left (`CALL` forwards a share of it), and what they charge does not
    /// count against the slice. `Some(outcome)` is `run_fast`'s outcome.
    pub fn run_fast_slice<E: Environment>(&mut self, env: &mut E, slice: u64) -> Option<Outcome> {
        let left = self.gas.left();
        if slice >= left {
            return Some(self.run_fast(env));
        }
        self.slice = Slice::On { held: left - slice };
        self.gas.set_left(slice);
        let outcome = self.run_fast(env);
        if self.slice == Slice::Paused {
            self.slice = Slice::Off;
            return None;
        }
        Some(outcome)
    }

    /// The stop for a charge of `amount` that did not fit the meter: a
    /// pause if only the slice is short of it, else out of gas.
    fn out_of_gas(&self, amount: u64) -> Stop {
        match self.slice {
            Slice::On { held } if self.gas.left().saturating_add(held) >= amount => Stop::Pause,
            _ => Stop::OutOfGas,
        }
    }

    /// Runs with the given engine (see [`Engine`]); results are identical.
    pub fn run_with<E: Environment>(&mut self, engine: Engine, env: &mut E) -> Outcome {
        match engine {
            Engine::Reference => self.run(env),
            Engine::Fast => self.run_fast(env),
        }
    }

    /// Turns the reason a run stopped into its [`Outcome`].
    pub(crate) fn finish(&mut self, stop: Stop) -> Outcome {
        // The gas held back by a slice is the run's again.
        if let Slice::On { held } = std::mem::replace(&mut self.slice, Slice::Off) {
            self.gas.set_left(self.gas.left().saturating_add(held));
        }
        let exit = match stop {
            Stop::Pause => {
                // Not an outcome: `run_fast_slice` reports the pause.
                self.slice = Slice::Paused;
                Exit::OutOfGas
            }
            Stop::Halt(code) => Exit::Halted { code },
            Stop::OutOfGas => {
                self.gas.exhaust();
                Exit::OutOfGas
            }
            Stop::Trap(trap) => Exit::Trapped(trap),
        };
        Outcome { exit, gas_used: self.gas.used(), instructions: self.instructions }
    }

    #[inline]
    fn reg(&self, r: u8) -> u32 {
        self.regs[usize::from(r & 31)]
    }

    #[inline]
    fn set(&mut self, r: u8, value: u32) {
        if r != 0 {
            self.regs[usize::from(r & 31)] = value;
        }
    }

    /// Executes one instruction: fetch, charge, execute, retire.
    pub(crate) fn step<E: Environment>(&mut self, env: &mut E) -> Result<(), Stop> {
        let pc = self.pc;
        let insn = self.program.fetch(pc).ok_or(Stop::Trap(Trap::FetchFault { pc }))?;
        let cost = gas::instruction_cost(insn.cost_class());
        self.gas.charge(cost).map_err(|_| self.out_of_gas(cost))?;
        let mut next = pc.wrapping_add(4);
        match insn {
            Instruction::Lui { rd, imm } => self.set(rd, imm),
            Instruction::Auipc { rd, imm } => self.set(rd, pc.wrapping_add(imm)),
            Instruction::Jal { rd, offset } => {
                next = jump_target(pc, pc.wrapping_add(offset as u32))?;
                self.set(rd, pc.wrapping_add(4));
            }
            Instruction::Jalr { rd, rs1, offset } => {
                next = jump_target(pc, self.reg(rs1).wrapping_add(offset as u32) & !1)?;
                self.set(rd, pc.wrapping_add(4));
            }
            Instruction::Branch { op, rs1, rs2, offset } => {
                if branch_taken(op, self.reg(rs1), self.reg(rs2)) {
                    next = jump_target(pc, pc.wrapping_add(offset as u32))?;
                }
            }
            Instruction::Load { op, rd, rs1, offset } => {
                let value = self.load(pc, op, self.reg(rs1).wrapping_add(offset as u32))?;
                self.set(rd, value);
            }
            Instruction::Store { op, rs1, rs2, offset } => {
                let stored = self.store(pc, op.size(), self.reg(rs1).wrapping_add(offset as u32), self.reg(rs2));
                if let Err(Stop::Pause) = stored {
                    // The slice cannot pay the page: back to before the
                    // store, its own charge undone.
                    self.gas.set_left(self.gas.left() + cost);
                }
                stored?;
            }
            Instruction::AluImm { op, rd, rs1, imm } => self.set(rd, alu(op, self.reg(rs1), imm as u32)),
            Instruction::Alu { op, rd, rs1, rs2 } => self.set(rd, alu(op, self.reg(rs1), self.reg(rs2))),
            Instruction::Fence => {}
            Instruction::Ecall => {
                if let Some(code) = self.ecall(pc, env)? {
                    self.instructions += 1;
                    return Err(Stop::Halt(code));
                }
            }
            Instruction::Ebreak => return Err(Stop::Trap(Trap::Breakpoint { pc })),
            Instruction::Illegal { word, reason } => {
                return Err(Stop::Trap(Trap::IllegalInstruction { pc, word, reason }));
            }
        }
        self.pc = next;
        self.instructions += 1;
        Ok(())
    }

    pub(crate) fn load(&self, pc: u32, op: LoadOp, addr: u32) -> Result<u32, Stop> {
        let size = op.size();
        if addr % size != 0 {
            return Err(Stop::Trap(Trap::MisalignedAccess { pc, addr, size }));
        }
        self.memory.check_read(addr, size).map_err(|_| Stop::Trap(Trap::LoadFault { pc, addr }))?;
        Ok(match op {
            LoadOp::Lb => self.memory.read_u8(addr) as i8 as i32 as u32,
            LoadOp::Lbu => u32::from(self.memory.read_u8(addr)),
            LoadOp::Lh => self.memory.read_u16(addr) as i16 as i32 as u32,
            LoadOp::Lhu => u32::from(self.memory.read_u16(addr)),
            LoadOp::Lw => self.memory.read_u32(addr),
        })
    }

    /// Store order of checks: alignment, protection, memory limit (for a new
    /// page), page gas, then the write.
    pub(crate) fn store(&mut self, pc: u32, size: u32, addr: u32, value: u32) -> Result<(), Stop> {
        if addr % size != 0 {
            return Err(Stop::Trap(Trap::MisalignedAccess { pc, addr, size }));
        }
        self.memory.check_write(addr, size).map_err(|_| Stop::Trap(Trap::StoreFault { pc, addr }))?;
        if !self.memory.is_allocated(addr) {
            if !self.memory.can_allocate(1) {
                return Err(Stop::Trap(Trap::OutOfMemory { pc, addr }));
            }
            self.gas.charge(gas::PAGE_ALLOCATION).map_err(|_| self.out_of_gas(gas::PAGE_ALLOCATION))?;
        }
        self.memory.store(addr, size, value).map_err(|e| match e {
            AccessError::Limit => Stop::Trap(Trap::OutOfMemory { pc, addr }),
            _ => Stop::Trap(Trap::StoreFault { pc, addr }),
        })
    }

    /// Handles `ECALL`; returns `Some(code)` when the run halts.
    ///
    /// Inside a slice the syscall runs with all the gas left (what it
    /// observes and may charge must not depend on the slice), and the
    /// slice keeps what it had left before it (less, if the syscall spent
    /// more than the gas the meter then held back).
    pub(crate) fn ecall<E: Environment>(&mut self, pc: u32, env: &mut E) -> Result<Option<u32>, Stop> {
        let Slice::On { held } = self.slice else {
            return self.syscall(pc, env);
        };
        let rest = self.gas.left();
        self.gas.set_left(rest.saturating_add(held));
        self.slice = Slice::On { held: 0 };
        let result = self.syscall(pc, env);
        if let Ok(None) = result {
            let left = self.gas.left();
            let rest = rest.min(left);
            self.gas.set_left(rest);
            self.slice = Slice::On { held: left - rest };
        }
        result
    }

    /// The syscall of the `ECALL` at `pc`, charged from the meter as it is.
    fn syscall<E: Environment>(&mut self, pc: u32, env: &mut E) -> Result<Option<u32>, Stop> {
        self.gas.charge(gas::SYSCALL_BASE).map_err(|_| Stop::OutOfGas)?;
        let num = self.regs[REG_T0];
        let mut ctx =
            SyscallContext { regs: &mut self.regs, memory: &mut self.memory, gas: &mut self.gas, pc, number: num };
        match num {
            number::HALT => return Ok(Some(ctx.arg(0))),
            number::WRITE => sys_write(&mut ctx, env, &mut self.output_written)?,
            number::INPUT_LEN => {
                let len = u32::try_from(env.input().len()).unwrap_or(u32::MAX);
                ctx.set_result(len);
            }
            number::INPUT_READ => sys_input_read(&mut ctx, env)?,
            _ => match env.syscall(num, &mut ctx)? {
                SyscallOutcome::Continue => {}
                SyscallOutcome::Halt { code } => return Ok(Some(code)),
            },
        }
        Ok(None)
    }
}

fn sys_write<E: Environment>(ctx: &mut SyscallContext<'_>, env: &mut E, written: &mut u32) -> Result<(), SyscallError> {
    let (fd, addr, len) = (ctx.arg(0), ctx.arg(1), ctx.arg(2));
    if fd != 1 && fd != 2 {
        return Err(ctx.invalid(format!("file descriptor {fd} is not 1 (stdout) or 2 (stderr)")));
    }
    ctx.check_readable(addr, len)?;
    let total = written.checked_add(len).filter(|&t| t <= MAX_OUTPUT_BYTES);
    let Some(total) = total else {
        return Err(ctx.invalid(format!("output would exceed {MAX_OUTPUT_BYTES} bytes per run")));
    };
    ctx.charge(gas::copy_cost(len))?;
    *written = total;
    ctx.with_memory(addr, len, |_, chunk| env.write(fd, chunk))?;
    ctx.set_result(len);
    Ok(())
}

fn sys_input_read<E: Environment>(ctx: &mut SyscallContext<'_>, env: &mut E) -> Result<(), SyscallError> {
    let (dst, offset, len) = (ctx.arg(0), ctx.arg(1), ctx.arg(2));
    let input = env.input();
    let start = (offset as usize).min(input.len());
    let n = (len as usize).min(input.len() - start);
    let slice = input.get(start..start + n).unwrap_or(&[]);
    let n32 = u32::try_from(slice.len()).map_err(|_| ctx.invalid("input too large"))?;
    ctx.charge(gas::copy_cost(n32))?;
    ctx.write_memory(dst, slice)?;
    ctx.set_result(n32);
    Ok(())
}

/// Validates a control-transfer target: without the C extension every
/// instruction is 4-byte aligned.
#[inline]
pub(crate) fn jump_target(pc: u32, target: u32) -> Result<u32, Stop> {
    if target % 4 != 0 {
        return Err(Stop::Trap(Trap::MisalignedJump { pc, target }));
    }
    Ok(target)
}

#[inline]
pub(crate) fn branch_taken(op: BranchOp, a: u32, b: u32) -> bool {
    match op {
        BranchOp::Eq => a == b,
        BranchOp::Ne => a != b,
        BranchOp::Lt => (a as i32) < (b as i32),
        BranchOp::Ge => (a as i32) >= (b as i32),
        BranchOp::Ltu => a < b,
        BranchOp::Geu => a >= b,
    }
}

/// RV32IM ALU semantics, including the defined results of division by zero
/// and signed overflow (no traps).
#[inline]
pub(crate) fn alu(op: AluOp, a: u32, b: u32) -> u32 {
    match op {
        AluOp::Add => a.wrapping_add(b),
        AluOp::Sub => a.wrapping_sub(b),
        AluOp::Sll => a << (b & 31),
        AluOp::Slt => u32::from((a as i32) < (b as i32)),
        AluOp::Sltu => u32::from(a < b),
        AluOp::Xor => a ^ b,
        AluOp::Srl => a >> (b & 31),
        AluOp::Sra => ((a as i32) >> (b & 31)) as u32,
        AluOp::Or => a | b,
        AluOp::And => a & b,
        AluOp::Mul => a.wrapping_mul(b),
        AluOp::Mulh => ((i64::from(a as i32) * i64::from(b as i32)) >> 32) as u32,
        AluOp::Mulhsu => ((i64::from(a as i32) * i64::from(b)) >> 32) as u32,
        AluOp::Mulhu => ((u64::from(a) * u64::from(b)) >> 32) as u32,
        AluOp::Div => match (a as i32, b as i32) {
            (_, 0) => u32::MAX,
            (i32::MIN, -1) => a,
            (x, y) => (x / y) as u32,
        },
        AluOp::Divu => a.checked_div(b).unwrap_or(u32::MAX),
        AluOp::Rem => match (a as i32, b as i32) {
            (_, 0) => a,
            (i32::MIN, -1) => 0,
            (x, y) => (x % y) as u32,
        },
        AluOp::Remu => a.checked_rem(b).unwrap_or(a),
    }
}

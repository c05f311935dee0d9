//! How a run can end, and the typed traps that end it abnormally.

use crate::isa::IllegalReason;
use thiserror::Error;

/// An abnormal end of a run caused by the guest program. Every variant names
/// the `pc` of the instruction that trapped.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum Trap {
    /// An undecodable word, a CSR instruction, or (RV32E) a register above `x15`.
    #[error("illegal instruction {word:#010x} at pc {pc:#010x} ({reason:?})")]
    IllegalInstruction { pc: u32, word: u32, reason: IllegalReason },
    /// `EBREAK`: there is no debugger to return to.
    #[error("breakpoint (ebreak) at pc {pc:#010x}")]
    Breakpoint { pc: u32 },
    /// Control reached an address outside every executable segment.
    #[error("instruction fetch from non-executable address {pc:#010x}")]
    FetchFault { pc: u32 },
    /// A jump or branch whose target is not 4-byte aligned.
    #[error("jump at pc {pc:#010x} to misaligned target {target:#010x}")]
    MisalignedJump { pc: u32, target: u32 },
    /// A load or store whose address is not a multiple of its size.
    #[error("misaligned {size}-byte access to {addr:#010x} at pc {pc:#010x}")]
    MisalignedAccess { pc: u32, addr: u32, size: u32 },
    /// A load from the guard region at address 0.
    #[error("load from guard region address {addr:#010x} at pc {pc:#010x}")]
    LoadFault { pc: u32, addr: u32 },
    /// A store to the guard region or to read-only memory (code, rodata).
    #[error("store to protected address {addr:#010x} at pc {pc:#010x}")]
    StoreFault { pc: u32, addr: u32 },
    /// A store needed a new page beyond the configured memory limit.
    #[error("memory limit exceeded by a store to {addr:#010x} at pc {pc:#010x}")]
    OutOfMemory { pc: u32, addr: u32 },
    /// `ECALL` with a number no one handles.
    #[error("unknown syscall {number} at pc {pc:#010x}")]
    UnknownSyscall { pc: u32, number: u32 },
    /// A syscall argument failed validation (bad fd, range outside memory, ...).
    #[error("invalid argument to syscall {number} at pc {pc:#010x}: {reason}")]
    InvalidSyscallArgument { pc: u32, number: u32, reason: String },
}

impl Trap {
    /// The program counter of the instruction that trapped.
    pub fn pc(&self) -> u32 {
        match *self {
            Trap::IllegalInstruction { pc, .. }
            | Trap::Breakpoint { pc }
            | Trap::FetchFault { pc }
            | Trap::MisalignedJump { pc, .. }
            | Trap::MisalignedAccess { pc, .. }
            | Trap::LoadFault { pc, .. }
            | Trap::StoreFault { pc, .. }
            | Trap::OutOfMemory { pc, .. }
            | Trap::UnknownSyscall { pc, .. }
            | Trap::InvalidSyscallArgument { pc, .. } => pc,
        }
    }

    /// A short stable identifier for machine-readable output.
    pub fn kind(&self) -> &'static str {
        match self {
            Trap::IllegalInstruction { .. } => "illegal_instruction",
            Trap::Breakpoint { .. } => "breakpoint",
            Trap::FetchFault { .. } => "fetch_fault",
            Trap::MisalignedJump { .. } => "misaligned_jump",
            Trap::MisalignedAccess { .. } => "misaligned_access",
            Trap::LoadFault { .. } => "load_fault",
            Trap::StoreFault { .. } => "store_fault",
            Trap::OutOfMemory { .. } => "out_of_memory",
            Trap::UnknownSyscall { .. } => "unknown_syscall",
            Trap::InvalidSyscallArgument { .. } => "invalid_syscall_argument",
        }
    }
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Exit {
    /// The guest called `HALT` with this exit code.
    Halted { code: u32 },
    /// The gas limit was reached; `gas_used` equals the limit.
    OutOfGas,
    /// The guest trapped.
    Trapped(Trap),
}

/// The result of a run: how it ended and what it consumed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// How the run ended.
    pub exit: Exit,
    /// Gas consumed, including the cost of a trapping instruction.
    pub gas_used: u64,
    /// Instructions that completed (a trapping or unaffordable one does not count).
    pub instructions: u64,
}

//! The syscall boundary: built-in numbers, the [`Environment`] a run talks
//! to, and the [`SyscallContext`] through which host functions (added by
//! the host interface layer) read arguments, charge gas and touch memory.
//!
//! Every argument is hostile: ranges are checked with overflow-safe
//! arithmetic, and gas is charged before the host does the work.

use crate::gas::{self, GasMeter};
use crate::memory::{AccessError, Memory};
use crate::trap::Trap;

/// Syscall numbers handled by the machine itself (`t0` at `ECALL`), from
/// the shared `athena-abi` crate; numbers from [`number::HOST_BASE`] up are
/// host functions.
pub use athena_abi::machine as number;

/// Register index of `t0`, which carries the syscall number.
pub const REG_T0: usize = 5;
/// Register index of `a0`, the first argument and result register.
pub const REG_A0: usize = 10;
/// Register index of `a1`, the second result register.
pub const REG_A1: usize = 11;

/// What the machine should do after a host syscall returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyscallOutcome {
    /// Resume at the instruction after `ECALL`.
    Continue,
    /// End the run as if `HALT` had been called with this code.
    Halt { code: u32 },
}

/// Why a syscall stopped the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyscallError {
    /// A charge did not fit in the gas left.
    OutOfGas,
    /// The syscall trapped (unknown number, invalid argument, ...).
    Trap(Trap),
}

/// Where a run's input comes from and its output goes, and the hook for
/// syscalls the machine does not implement itself.
///
/// Generic (not `dyn`) in the interpreter so that the common case costs no
/// dynamic dispatch.
pub trait Environment {
    /// The run's input bytes (`INPUT_LEN` / `INPUT_READ`).
    fn input(&self) -> &[u8] {
        &[]
    }

    /// Receives guest output for `fd` 1 (stdout) or 2 (stderr). One `WRITE`
    /// may arrive as several consecutive chunks.
    fn write(&mut self, fd: u32, bytes: &[u8]);

    /// Handles a syscall number the machine does not know. The default
    /// traps with [`Trap::UnknownSyscall`].
    fn syscall(&mut self, number: u32, ctx: &mut SyscallContext<'_>) -> Result<SyscallOutcome, SyscallError> {
        Err(SyscallError::Trap(Trap::UnknownSyscall { pc: ctx.pc(), number }))
    }
}

/// An environment that collects output in memory: for tests, tools and
/// `--json` output.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CollectingEnvironment {
    /// Input served to the guest.
    pub input: Vec<u8>,
    /// Bytes written to fd 1.
    pub stdout: Vec<u8>,
    /// Bytes written to fd 2.
    pub stderr: Vec<u8>,
}

impl CollectingEnvironment {
    /// An environment serving `input` with empty output buffers.
    pub fn with_input(input: impl Into<Vec<u8>>) -> Self {
        Self { input: input.into(), ..Self::default() }
    }
}

impl Environment for CollectingEnvironment {
    fn input(&self) -> &[u8] {
        &self.input
    }

    fn write(&mut self, fd: u32, bytes: &[u8]) {
        match fd {
            1 => self.stdout.extend_from_slice(bytes),
            _ => self.stderr.extend_from_slice(bytes),
        }
    }
}

/// The machine state a syscall handler may use.
pub struct SyscallContext<'a> {
    pub(crate) regs: &'a mut [u32; crate::machine::REGISTER_SLOTS],
    pub(crate) memory: &'a mut Memory,
    pub(crate) gas: &'a mut GasMeter,
    pub(crate) pc: u32,
    pub(crate) number: u32,
}

impl SyscallContext<'_> {
    /// The `pc` of the `ECALL`.
    pub fn pc(&self) -> u32 {
        self.pc
    }

    /// The syscall number.
    pub fn number(&self) -> u32 {
        self.number
    }

    /// Argument `index` (0..=5 → `a0..a5`); other indices read as 0.
    pub fn arg(&self, index: usize) -> u32 {
        if index < 6 {
            self.regs[REG_A0 + index]
        } else {
            0
        }
    }

    /// Sets the result register `a0`.
    pub fn set_result(&mut self, a0: u32) {
        self.regs[REG_A0] = a0;
    }

    /// Sets both result registers `a0` and `a1`.
    pub fn set_results(&mut self, a0: u32, a1: u32) {
        self.regs[REG_A0] = a0;
        self.regs[REG_A1] = a1;
    }

    /// Gas left.
    pub fn gas_left(&self) -> u64 {
        self.gas.left()
    }

    /// Charges `amount` gas; call it before doing the work it pays for.
    pub fn charge(&mut self, amount: u64) -> Result<(), SyscallError> {
        self.gas.charge(amount).map_err(|_| SyscallError::OutOfGas)
    }

    /// A trap for an argument that failed validation.
    pub fn invalid(&self, reason: impl Into<String>) -> SyscallError {
        SyscallError::Trap(Trap::InvalidSyscallArgument { pc: self.pc, number: self.number, reason: reason.into() })
    }

    /// Checks that the guest may read `[addr, addr + len)`.
    pub fn check_readable(&self, addr: u32, len: u32) -> Result<(), SyscallError> {
        self.memory.check_read(addr, len).map_err(|e| self.range_error(addr, len, e))
    }

    /// Copies guest memory `[addr, addr + out.len())` into `out` after
    /// checking the range. Does not charge gas: the caller prices the copy.
    pub fn read_memory(&self, addr: u32, out: &mut [u8]) -> Result<(), SyscallError> {
        let len = u32::try_from(out.len()).map_err(|_| self.invalid("length exceeds the address space"))?;
        self.check_readable(addr, len)?;
        self.memory.read_bytes(addr, out);
        Ok(())
    }

    /// Calls `f` with consecutive chunks of guest memory `[addr, addr + len)`
    /// after checking the range, without allocating.
    pub fn with_memory(&self, addr: u32, len: u32, f: impl FnMut(usize, &[u8])) -> Result<(), SyscallError> {
        self.check_readable(addr, len)?;
        self.memory.for_each_chunk(addr, len, f);
        Ok(())
    }

    /// Writes `bytes` into guest memory at `addr`: checks protection, then
    /// the memory limit, then charges [`gas::PAGE_ALLOCATION`] for each new
    /// page, then writes. Copy cost is the caller's to charge.
    pub fn write_memory(&mut self, addr: u32, bytes: &[u8]) -> Result<(), SyscallError> {
        let len = u32::try_from(bytes.len()).map_err(|_| self.invalid("length exceeds the address space"))?;
        self.memory.check_write(addr, len).map_err(|e| self.range_error(addr, len, e))?;
        let new_pages = self.memory.missing_pages(addr, len);
        if !self.memory.can_allocate(new_pages) {
            return Err(SyscallError::Trap(Trap::OutOfMemory { pc: self.pc, addr }));
        }
        self.charge(u64::from(new_pages) * gas::PAGE_ALLOCATION)?;
        self.memory.write_bytes(addr, bytes).map_err(|_| SyscallError::Trap(Trap::OutOfMemory { pc: self.pc, addr }))
    }

    fn range_error(&self, addr: u32, len: u32, error: AccessError) -> SyscallError {
        let what = match error {
            AccessError::Guard => "touches the guard region",
            AccessError::ReadOnly => "touches read-only memory",
            AccessError::Wrap => "wraps past the end of the address space",
            AccessError::Limit => "exceeds the memory limit",
        };
        self.invalid(format!("buffer {addr:#x}+{len:#x} {what}"))
    }
}

//! One running frame: the VM [`Environment`] that serves host functions,
//! the argument helpers every handler uses, and the mapping from a VM
//! [`Outcome`] to an [`ExecutionResult`].
//!
//! Handler discipline (the order every host function follows, so that a
//! frame that is about to fail never makes the host do anything):
//! 1. validate lengths against their bounds and ranges against guest memory;
//! 2. charge the full price;
//! 3. copy arguments in, and reserve output buffers (a zero write that
//!    checks protection and the memory limit and pays for new pages);
//! 4. only then call the host, and write results into the reserved buffers,
//!    which can no longer fail.

use crate::{abi, call, gas, precompile, program_state, state, EngineConfig};
use athena_interface::{ExecutionResult, Host, Message, StatusCode};
use athena_vm::{Environment, Exit, Outcome, SyscallContext, SyscallError, SyscallOutcome, Trap};

/// How the guest asked the frame to end, if it used `RETURN` or `REVERT`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ending {
    /// Halted through `HALT` (or not halted at all).
    Halt,
    /// `RETURN`: success with `output`.
    Return,
    /// `REVERT`: revert with `output`.
    Revert,
}

/// The state of one frame that host functions read and write.
pub(crate) struct Frame<'a> {
    pub(crate) host: &'a mut dyn Host,
    pub(crate) message: &'a Message,
    pub(crate) config: &'a EngineConfig,
    /// How the guest ended the frame.
    pub(crate) ending: Ending,
    /// Return or revert data.
    pub(crate) output: Vec<u8>,
    /// Output of the most recent `CALL` or `SPAWN` (empty before the first).
    pub(crate) return_data: Vec<u8>,
    /// The own program's immutable state, fetched from the host on the first
    /// `STATE_SIZE`/`STATE_READ` (`None` until then).
    pub(crate) program_state: Option<Vec<u8>>,
    /// Set when the host reported an internal (negative) status: the frame
    /// stops and reports it, because it says nothing about the guest.
    pub(crate) abort: Option<StatusCode>,
    pub(crate) stdout: Vec<u8>,
    pub(crate) stderr: Vec<u8>,
}

impl<'a> Frame<'a> {
    pub(crate) fn new(host: &'a mut dyn Host, message: &'a Message, config: &'a EngineConfig) -> Self {
        Self {
            host,
            message,
            config,
            ending: Ending::Halt,
            output: Vec::new(),
            return_data: Vec::new(),
            program_state: None,
            abort: None,
            stdout: Vec::new(),
            stderr: Vec::new(),
        }
    }

    /// The caller-visible result of a finished run.
    pub(crate) fn result(&mut self, outcome: &Outcome) -> ExecutionResult {
        if let Some(status) = self.abort {
            return ExecutionResult::failure(status);
        }
        let gas_left = self.message.gas.saturating_sub(outcome.gas_used);
        match &outcome.exit {
            Exit::Halted { code: 0 } => match self.ending {
                Ending::Revert => ExecutionResult::revert(gas_left, std::mem::take(&mut self.output)),
                Ending::Return | Ending::Halt => ExecutionResult::success(gas_left, std::mem::take(&mut self.output)),
            },
            Exit::Halted { .. } => ExecutionResult::failure(StatusCode::Failure),
            Exit::OutOfGas => ExecutionResult::out_of_gas(),
            Exit::Trapped(trap) => ExecutionResult::failure(status_of_trap(trap)),
        }
    }

    /// Stops the run because the host failed internally.
    pub(crate) fn abort(&mut self, ctx: &SyscallContext<'_>, status: StatusCode) -> SyscallError {
        self.abort = Some(status);
        ctx.invalid(format!("host reported internal status {status}"))
    }
}

/// The status a trap ends a frame with (all with `gas_left` 0):
///
/// | trap | status |
/// |---|---|
/// | `IllegalInstruction`, `Breakpoint`, `FetchFault`, `MisalignedJump` | `invalid_instruction` |
/// | `MisalignedAccess`, `LoadFault`, `StoreFault`, `OutOfMemory` | `invalid_memory_access` |
/// | `UnknownSyscall`, `InvalidSyscallArgument` | `invalid_syscall_argument` |
///
/// Control leaving the code (a fetch fault or a misaligned jump) counts as
/// an instruction problem, not a data-memory one; an unknown syscall number
/// is a bad argument in `t0`.
pub fn status_of_trap(trap: &Trap) -> StatusCode {
    match trap {
        Trap::IllegalInstruction { .. }
        | Trap::Breakpoint { .. }
        | Trap::FetchFault { .. }
        | Trap::MisalignedJump { .. } => StatusCode::InvalidInstruction,
        Trap::MisalignedAccess { .. } | Trap::LoadFault { .. } | Trap::StoreFault { .. } | Trap::OutOfMemory { .. } => {
            StatusCode::InvalidMemoryAccess
        }
        Trap::UnknownSyscall { .. } | Trap::InvalidSyscallArgument { .. } => StatusCode::InvalidSyscallArgument,
    }
}

impl Environment for Frame<'_> {
    fn input(&self) -> &[u8] {
        &self.message.input
    }

    fn write(&mut self, fd: u32, bytes: &[u8]) {
        let buf = if fd == 1 { &mut self.stdout } else { &mut self.stderr };
        let room = self.config.debug_output_limit.saturating_sub(buf.len());
        buf.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn syscall(&mut self, number: u32, ctx: &mut SyscallContext<'_>) -> Result<SyscallOutcome, SyscallError> {
        use abi::number as n;
        match number {
            n::RETURN => call::finish(self, ctx, Ending::Return),
            n::REVERT => call::finish(self, ctx, Ending::Revert),
            n::STORAGE_READ => state::storage_read(self, ctx),
            n::STORAGE_WRITE => state::storage_write(self, ctx),
            n::GET_BALANCE => state::balance(self, ctx),
            n::CALL => call::call(self, ctx),
            n::RETURNDATA_SIZE => call::returndata_size(self, ctx),
            n::RETURNDATA_COPY => call::returndata_copy(self, ctx),
            n::SPAWN => call::spawn(self, ctx),
            n::DEPLOY => state::deploy(self, ctx),
            n::GET_CONTEXT => state::context(self, ctx),
            n::GET_TX_CONTEXT => state::tx_context(self, ctx),
            n::GET_BLOCK_HASH => state::block_hash(self, ctx),
            n::EMIT_LOG => state::emit_log(self, ctx),
            n::STATE_SIZE => program_state::state_size(self, ctx),
            n::STATE_READ => program_state::state_read(self, ctx),
            n::SHA256 => precompile::sha256(ctx),
            n::BLAKE3 => precompile::blake3(ctx),
            n::ED25519_VERIFY => precompile::ed25519_verify(ctx),
            _ => Err(SyscallError::Trap(Trap::UnknownSyscall { pc: ctx.pc(), number })),
        }
    }
}

/// Rejects `len > max` with an `InvalidSyscallArgument` trap naming `what`.
pub(crate) fn bound(ctx: &SyscallContext<'_>, len: u32, max: u32, what: &str) -> Result<(), SyscallError> {
    if len > max {
        return Err(ctx.invalid(format!("{what} length {len} exceeds the limit {max}")));
    }
    Ok(())
}

/// Copies a fixed-size record (an address, key, ...) from guest memory.
/// Fixed-size reads are part of each syscall's price.
pub(crate) fn read_array<const N: usize>(ctx: &SyscallContext<'_>, addr: u32) -> Result<[u8; N], SyscallError> {
    let mut out = [0u8; N];
    ctx.read_memory(addr, &mut out)?;
    Ok(out)
}

/// Copies `len` guest bytes at `addr` into a new buffer. The caller has
/// bounded `len`, checked the range and charged for the copy, so the
/// allocation is bounded and paid for.
pub(crate) fn read_vec(ctx: &SyscallContext<'_>, addr: u32, len: u32) -> Result<Vec<u8>, SyscallError> {
    let mut out = vec![0u8; len as usize];
    ctx.read_memory(addr, &mut out)?;
    Ok(out)
}

/// Copies the window of `data` a guest asked for to `dst` and returns its
/// length in `a0`: `n = min(len, size - offset)` bytes (0 if
/// `offset >= size`), like the VM's `INPUT_READ`. Charges the copy, then
/// writes (which checks the destination and pays for new pages). Serves
/// `RETURNDATA_COPY` and `STATE_READ`.
pub(crate) fn copy_window(
    ctx: &mut SyscallContext<'_>,
    data: &[u8],
    dst: u32,
    offset: u32,
    len: u32,
) -> Result<SyscallOutcome, SyscallError> {
    let start = (offset as usize).min(data.len());
    let n = (len as usize).min(data.len() - start);
    let slice = &data[start..start + n];
    let n32 = u32::try_from(n).map_err(|_| ctx.invalid("copied data too large"))?;
    ctx.charge(gas::copy(n32))?;
    ctx.write_memory(dst, slice)?;
    ctx.set_result(n32);
    Ok(SyscallOutcome::Continue)
}

/// Makes sure `len` bytes at `addr` can be written before any host work:
/// checks protection and the memory limit and charges for new pages (by
/// writing zeros), so the later real write cannot fail.
pub(crate) fn reserve(ctx: &mut SyscallContext<'_>, addr: u32, len: usize) -> Result<(), SyscallError> {
    const ZEROS: [u8; abi::tx_context::LEN] = [0; abi::tx_context::LEN];
    let zeros = ZEROS.get(..len).ok_or_else(|| ctx.invalid("internal: reservation too large"))?;
    ctx.write_memory(addr, zeros)
}

/// A `u64` from two registers.
pub(crate) fn u64_from(lo: u32, hi: u32) -> u64 {
    u64::from(lo) | (u64::from(hi) << 32)
}

/// A `u64` as two registers `(lo, hi)`.
pub(crate) fn u64_to(value: u64) -> (u32, u32) {
    (value as u32, (value >> 32) as u32)
}

/// A status as the guest sees it in `a0` (the `i32` code, two's complement).
pub(crate) fn status_word(status: StatusCode) -> u32 {
    status.as_i32() as u32
}

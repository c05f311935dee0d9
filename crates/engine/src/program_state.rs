//! The own program's immutable state: `STATE_SIZE` and `STATE_READ`.
//!
//! A spawned program's state is the blob it was spawned with (the SDK's
//! encoded template struct). It never changes, so the engine asks the host
//! for it once per frame, on first use, and serves both host functions
//! from that copy. The fetch is one database read, priced like
//! `STORAGE_READ` plus the copy of the blob into the engine.

use crate::frame::{copy_window, Frame};
use crate::{abi, gas};
use athena_interface::StatusCode;
use athena_vm::{SyscallContext, SyscallError, SyscallOutcome};

type Handled = Result<SyscallOutcome, SyscallError>;

/// The frame's state blob, fetched through `Host::get_state` on the first
/// request: charges [`gas::STATE_FETCH`] before asking the host, then
/// `copy(len)` for the blob. A host answer longer than
/// [`abi::MAX_SPAWN_STATE`] breaks the interface contract and ends the
/// frame with `internal_error`.
fn fetched<'f>(frame: &'f mut Frame<'_>, ctx: &mut SyscallContext<'_>) -> Result<&'f [u8], SyscallError> {
    if frame.program_state.is_none() {
        ctx.charge(gas::STATE_FETCH)?;
        let state = frame.host.get_state(&frame.message.recipient);
        let len = match u32::try_from(state.len()) {
            Ok(len) if len <= abi::MAX_SPAWN_STATE => len,
            _ => return Err(frame.abort(ctx, StatusCode::InternalError)),
        };
        ctx.charge(gas::copy(len))?;
        frame.program_state = Some(state);
    }
    Ok(frame.program_state.as_deref().unwrap_or_default())
}

/// `STATE_SIZE() -> a0`: the length of the own program's state (0 for an
/// account that was not spawned).
pub(crate) fn state_size(frame: &mut Frame<'_>, ctx: &mut SyscallContext<'_>) -> Handled {
    let len = fetched(frame, ctx)?.len();
    // At most MAX_SPAWN_STATE, checked by `fetched`.
    ctx.set_result(len as u32);
    Ok(SyscallOutcome::Continue)
}

/// `STATE_READ(dst a0, offset a1, len a2) -> a0 = n`: copies
/// `n = min(len, size - offset)` bytes of the state (0 if `offset >= size`)
/// to `dst`, like `RETURNDATA_COPY`. How many bytes are written depends on
/// the state, so the (read-only) fetch comes before the destination is
/// checked; then [`copy_window`] charges the copy, and the write checks the
/// destination and pays for new pages.
pub(crate) fn state_read(frame: &mut Frame<'_>, ctx: &mut SyscallContext<'_>) -> Handled {
    let (dst, offset, len) = (ctx.arg(0), ctx.arg(1), ctx.arg(2));
    let state = fetched(frame, ctx)?;
    copy_window(ctx, state, dst, offset, len)
}

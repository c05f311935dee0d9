//! Frame control: `RETURN`, `REVERT`, the nested frames `CALL` and `SPAWN`,
//! and the return-data pair.

use crate::frame::{bound, copy_window, read_array, read_vec, reserve, status_word, u64_from, Ending, Frame};
use crate::{abi, gas};
use athena_interface::{Address, Message, MessageKind, StatusCode};
use athena_vm::{SyscallContext, SyscallError, SyscallOutcome};

/// `RETURN(ptr a0, len a1)` / `REVERT(ptr a0, len a1)`: records the data and
/// halts. The exit code is 0 either way; [`Frame::ending`] tells them apart.
pub(crate) fn finish(
    frame: &mut Frame<'_>,
    ctx: &mut SyscallContext<'_>,
    ending: Ending,
) -> Result<SyscallOutcome, SyscallError> {
    let (ptr, len) = (ctx.arg(0), ctx.arg(1));
    bound(ctx, len, abi::MAX_RETURN_DATA, "return data")?;
    ctx.check_readable(ptr, len)?;
    ctx.charge(gas::copy(len))?;
    frame.output = read_vec(ctx, ptr, len)?;
    frame.ending = ending;
    Ok(SyscallOutcome::Halt { code: 0 })
}

/// `CALL(addr_ptr a0, input_ptr a1, input_len a2, value_lo a3, value_hi a4,
/// gas a5) -> (a0 = status, a1 = return data length)`.
///
/// Validates and charges the base price, value surcharge and input copy,
/// then runs the callee through [`nested`]; its output becomes the return
/// data.
pub(crate) fn call(frame: &mut Frame<'_>, ctx: &mut SyscallContext<'_>) -> Result<SyscallOutcome, SyscallError> {
    let (addr_ptr, input_ptr, input_len) = (ctx.arg(0), ctx.arg(1), ctx.arg(2));
    let value = u64_from(ctx.arg(3), ctx.arg(4));
    let requested = match ctx.arg(5) {
        abi::CALL_GAS_ALL => u64::MAX,
        gas => u64::from(gas),
    };
    bound(ctx, input_len, abi::MAX_CALL_INPUT, "call input")?;
    ctx.check_readable(addr_ptr, abi::ADDRESS_LEN)?;
    ctx.check_readable(input_ptr, input_len)?;
    let value_price = if value > 0 { gas::CALL_VALUE } else { 0 };
    ctx.charge(gas::CALL + value_price + gas::copy(input_len))?;
    let recipient = Address::new(read_array(ctx, addr_ptr)?);
    let input = read_vec(ctx, input_ptr, input_len)?;

    let (status, output) = nested(frame, ctx, MessageKind::Call, recipient, input, value, requested)?;
    let output_len = u32::try_from(output.len()).unwrap_or(u32::MAX);
    frame.return_data = output;
    ctx.set_results(status_word(status), output_len);
    Ok(SyscallOutcome::Continue)
}

/// `SPAWN(template_ptr a0, state_ptr a1, state_len a2, out_ptr a3) -> a0`:
/// creates a program from `template` with the immutable `state` as a
/// nested frame: a [`MessageKind::Spawn`] message to [`Host::call`] with
/// the template as recipient and the state as input, gas forwarded as for
/// `CALL` with "all allowed" requested. The host creates the account and
/// runs the template's `spawn` method (see [`Host::call`]).
///
/// On success `a0` = 0 and the new address is at `out_ptr`; the host must
/// answer a success with exactly the 24 address bytes, anything else ends
/// the frame with `internal_error`. Otherwise `a0` is the status and
/// `out_ptr` holds zeros (reserved before the host was asked). Either way
/// the nested frame's output becomes the return data, so a guest can read
/// why its spawn reverted.
///
/// [`Host::call`]: athena_interface::Host::call
pub(crate) fn spawn(frame: &mut Frame<'_>, ctx: &mut SyscallContext<'_>) -> Result<SyscallOutcome, SyscallError> {
    let (template_ptr, state_ptr, state_len, out_ptr) = (ctx.arg(0), ctx.arg(1), ctx.arg(2), ctx.arg(3));
    bound(ctx, state_len, abi::MAX_SPAWN_STATE, "spawn state")?;
    ctx.check_readable(template_ptr, abi::ADDRESS_LEN)?;
    ctx.check_readable(state_ptr, state_len)?;
    ctx.charge(gas::SPAWN + gas::per_byte(state_len, gas::SPAWN_PER_BYTE))?;
    let template = Address::new(read_array(ctx, template_ptr)?);
    let state = read_vec(ctx, state_ptr, state_len)?;
    reserve(ctx, out_ptr, abi::ADDRESS_LEN as usize)?;

    let (status, output) = nested(frame, ctx, MessageKind::Spawn, template, state, 0, u64::MAX)?;
    if status == StatusCode::Success {
        if output.len() != abi::ADDRESS_LEN as usize {
            return Err(frame.abort(ctx, StatusCode::InternalError));
        }
        ctx.write_memory(out_ptr, &output)?;
    }
    frame.return_data = output;
    ctx.set_result(status_word(status));
    Ok(SyscallOutcome::Continue)
}

/// Runs a nested frame through [`athena_interface::Host::call`], the part
/// `CALL` and `SPAWN` share, after the syscall's own price was charged:
///
/// * clears the return data;
/// * refusals the engine decides itself (depth limit; `value` above the
///   own balance) return their status and no output without calling the
///   host, so they cost only the syscall's price;
/// * forwards `min(requested, available - available / 64)` gas, where
///   `available` is what is left: the caller always keeps 1/64 to handle
///   the result;
/// * a negative (internal) status from the host ends the calling frame;
/// * charges the callee's consumption — `forwarded - gas_left` for statuses
///   that return gas, all of `forwarded` otherwise. It never exceeds what
///   was forwarded, so that charge cannot fail.
fn nested(
    frame: &mut Frame<'_>,
    ctx: &mut SyscallContext<'_>,
    kind: MessageKind,
    recipient: Address,
    input: Vec<u8>,
    value: u64,
    requested: u64,
) -> Result<(StatusCode, Vec<u8>), SyscallError> {
    frame.return_data.clear();
    let message = frame.message;
    let depth = message.depth.saturating_add(1);
    if depth > frame.config.max_call_depth {
        return Ok((StatusCode::CallDepthExceeded, Vec::new()));
    }
    if value > 0 && frame.host.get_balance(&message.recipient) < value {
        return Ok((StatusCode::InsufficientBalance, Vec::new()));
    }
    let available = ctx.gas_left();
    let forwarded = requested.min(available - available / 64);
    let inner = Message {
        kind,
        depth,
        gas: forwarded,
        recipient,
        sender: message.recipient,
        // Only the host knows which template the calling account came
        // from; it fills this in (see docs/syscalls.md).
        sender_template: None,
        input,
        value,
    };
    let result = frame.host.call(inner);
    if result.status.is_internal() {
        return Err(frame.abort(ctx, result.status));
    }
    // A status that does not return gas consumed everything it was given,
    // whatever `gas_left` the host reported.
    let used = if result.status.returns_gas() { result.gas_used(forwarded) } else { forwarded };
    ctx.charge(used)?;
    Ok((result.status, result.output))
}

/// `RETURNDATA_SIZE() -> a0`: length of the last `CALL`'s or `SPAWN`'s
/// output (0 before any and after one the engine refused).
pub(crate) fn returndata_size(
    frame: &mut Frame<'_>,
    ctx: &mut SyscallContext<'_>,
) -> Result<SyscallOutcome, SyscallError> {
    ctx.set_result(u32::try_from(frame.return_data.len()).unwrap_or(u32::MAX));
    Ok(SyscallOutcome::Continue)
}

/// `RETURNDATA_COPY(dst a0, offset a1, len a2) -> a0 = n`: copies
/// `n = min(len, size - offset)` bytes (0 if `offset >= size`) of the
/// return data, charged and written as [`copy_window`] does.
pub(crate) fn returndata_copy(
    frame: &mut Frame<'_>,
    ctx: &mut SyscallContext<'_>,
) -> Result<SyscallOutcome, SyscallError> {
    let (dst, offset, len) = (ctx.arg(0), ctx.arg(1), ctx.arg(2));
    copy_window(ctx, &frame.return_data, dst, offset, len)
}

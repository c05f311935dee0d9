//! Frame control: `RETURN`, `REVERT`, `CALL` and the return-data pair.

use crate::frame::{bound, read_array, read_vec, status_word, u64_from, Ending, Frame};
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
/// Refusals the engine decides itself (depth, balance) return a status
/// without calling the host and cost only the base price. Gas forwarded is
/// `min(requested, available - available / 64)` where `available` is what
/// is left after the base price: the caller always keeps 1/64 to handle the
/// result. The callee's consumption is charged afterwards; it never exceeds
/// what was forwarded, so that charge cannot fail.
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

    frame.return_data.clear();
    let message = frame.message;
    let depth = message.depth.saturating_add(1);
    if depth > frame.config.max_call_depth {
        ctx.set_results(status_word(StatusCode::CallDepthExceeded), 0);
        return Ok(SyscallOutcome::Continue);
    }
    if value > 0 && frame.host.get_balance(&message.recipient) < value {
        ctx.set_results(status_word(StatusCode::InsufficientBalance), 0);
        return Ok(SyscallOutcome::Continue);
    }
    let available = ctx.gas_left();
    let forwarded = requested.min(available - available / 64);
    let inner = Message {
        kind: MessageKind::Call,
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
    let output_len = u32::try_from(result.output.len()).unwrap_or(u32::MAX);
    frame.return_data = result.output;
    ctx.set_results(status_word(result.status), output_len);
    Ok(SyscallOutcome::Continue)
}

/// `RETURNDATA_SIZE() -> a0`: length of the last `CALL`'s output (0 before
/// any call and after a call the engine refused).
pub(crate) fn returndata_size(
    frame: &mut Frame<'_>,
    ctx: &mut SyscallContext<'_>,
) -> Result<SyscallOutcome, SyscallError> {
    ctx.set_result(u32::try_from(frame.return_data.len()).unwrap_or(u32::MAX));
    Ok(SyscallOutcome::Continue)
}

/// `RETURNDATA_COPY(dst a0, offset a1, len a2) -> a0 = n`: copies
/// `n = min(len, size - offset)` bytes (0 if `offset >= size`), like the
/// VM's `INPUT_READ`. Charges the copy, then writes (which checks the
/// destination and pays for new pages).
pub(crate) fn returndata_copy(
    frame: &mut Frame<'_>,
    ctx: &mut SyscallContext<'_>,
) -> Result<SyscallOutcome, SyscallError> {
    let (dst, offset, len) = (ctx.arg(0), ctx.arg(1), ctx.arg(2));
    let data = &frame.return_data;
    let start = (offset as usize).min(data.len());
    let n = (len as usize).min(data.len() - start);
    let slice = &data[start..start + n];
    let n32 = u32::try_from(n).map_err(|_| ctx.invalid("return data too large"))?;
    ctx.charge(gas::copy(n32))?;
    ctx.write_memory(dst, slice)?;
    ctx.set_result(n32);
    Ok(SyscallOutcome::Continue)
}

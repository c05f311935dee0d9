//! Host functions over account state and context: storage, balances,
//! deploy, logs, frame/transaction context and block hashes.
//!
//! Each handler follows the order in [`crate::frame`]: validate, charge,
//! copy in and reserve outputs, then call the host.

use crate::frame::{bound, read_array, read_vec, reserve, status_word, u64_from, u64_to, Frame};
use crate::{abi, gas};
use athena_interface::{Address, Bytes32, StatusCode, StorageStatus};
use athena_vm::{Program, SyscallContext, SyscallError, SyscallOutcome};

type Handled = Result<SyscallOutcome, SyscallError>;

const ADDRESS_LEN: usize = abi::ADDRESS_LEN as usize;
const WORD_LEN: usize = abi::WORD_LEN as usize;

/// `STORAGE_READ(key_ptr a0, out_ptr a1)`: the own account's slot `key`
/// (zero if absent) into 32 bytes at `out_ptr`.
pub(crate) fn storage_read(frame: &mut Frame<'_>, ctx: &mut SyscallContext<'_>) -> Handled {
    let (key_ptr, out_ptr) = (ctx.arg(0), ctx.arg(1));
    ctx.check_readable(key_ptr, abi::WORD_LEN)?;
    ctx.charge(gas::STORAGE_READ)?;
    let key = Bytes32::new(read_array(ctx, key_ptr)?);
    reserve(ctx, out_ptr, WORD_LEN)?;
    let value = frame.host.get_storage(&frame.message.recipient, &key);
    ctx.write_memory(out_ptr, value.as_bytes())?;
    Ok(SyscallOutcome::Continue)
}

/// `STORAGE_WRITE(key_ptr a0, value_ptr a1) -> a0 = StorageStatus`.
///
/// The price depends on how the write changes the slot, which the host
/// only reports after writing. So the engine charges the minimum price,
/// reads the slot, classifies the write with [`StorageStatus::classify`],
/// charges the rest, and only then writes: an unaffordable write never
/// reaches the host. A host whose reported status differs from the
/// classification breaks the [`athena_interface::Host`] contract; the frame
/// stops with `internal_error`.
pub(crate) fn storage_write(frame: &mut Frame<'_>, ctx: &mut SyscallContext<'_>) -> Handled {
    let (key_ptr, value_ptr) = (ctx.arg(0), ctx.arg(1));
    ctx.check_readable(key_ptr, abi::WORD_LEN)?;
    ctx.check_readable(value_ptr, abi::WORD_LEN)?;
    ctx.charge(gas::STORAGE_WRITE_UNCHANGED)?;
    let key = Bytes32::new(read_array(ctx, key_ptr)?);
    let value = Bytes32::new(read_array(ctx, value_ptr)?);
    let own = frame.message.recipient;
    let current = frame.host.get_storage(&own, &key);
    let predicted = StorageStatus::classify(&current, &value);
    ctx.charge(gas::storage_write(predicted) - gas::STORAGE_WRITE_UNCHANGED)?;
    let status = frame.host.set_storage(&own, &key, &value);
    if status != predicted {
        return Err(frame.abort(ctx, StatusCode::InternalError));
    }
    ctx.set_result(status as u32);
    Ok(SyscallOutcome::Continue)
}

/// `GET_BALANCE(addr_ptr a0) -> (a0, a1) = balance lo, hi`. `addr_ptr` 0
/// (never a valid pointer: the guard page) means the own account.
pub(crate) fn balance(frame: &mut Frame<'_>, ctx: &mut SyscallContext<'_>) -> Handled {
    let addr_ptr = ctx.arg(0);
    if addr_ptr != 0 {
        ctx.check_readable(addr_ptr, abi::ADDRESS_LEN)?;
    }
    ctx.charge(gas::GET_BALANCE)?;
    let address = match addr_ptr {
        0 => frame.message.recipient,
        ptr => Address::new(read_array(ctx, ptr)?),
    };
    let (lo, hi) = u64_to(frame.host.get_balance(&address));
    ctx.set_results(lo, hi);
    Ok(SyscallOutcome::Continue)
}

/// The guest-visible word for a host's `Err(status)`: negative statuses
/// stop the frame, `success` (meaningless as an error) reads as `failure`.
fn error_word(frame: &mut Frame<'_>, ctx: &SyscallContext<'_>, status: StatusCode) -> Result<u32, SyscallError> {
    match status {
        s if s.is_internal() => Err(frame.abort(ctx, s)),
        StatusCode::Success => Ok(status_word(StatusCode::Failure)),
        s => Ok(status_word(s)),
    }
}

/// `DEPLOY(code_ptr a0, code_len a1, out_ptr a2) -> a0`: stores `code` as a
/// template. The engine first checks that the code loads as a program
/// (`a0` = `failure` without calling the host if not), so no template can
/// hold code that could never run.
pub(crate) fn deploy(frame: &mut Frame<'_>, ctx: &mut SyscallContext<'_>) -> Handled {
    let (code_ptr, code_len, out_ptr) = (ctx.arg(0), ctx.arg(1), ctx.arg(2));
    bound(ctx, code_len, abi::MAX_DEPLOY_CODE, "deploy code")?;
    ctx.check_readable(code_ptr, code_len)?;
    ctx.charge(gas::DEPLOY + gas::per_byte(code_len, gas::DEPLOY_PER_BYTE))?;
    let code = read_vec(ctx, code_ptr, code_len)?;
    reserve(ctx, out_ptr, ADDRESS_LEN)?;
    if Program::from_elf(&code).is_err() {
        ctx.set_result(status_word(StatusCode::Failure));
        return Ok(SyscallOutcome::Continue);
    }
    let word = match frame.host.deploy(&code) {
        Ok(address) => {
            ctx.write_memory(out_ptr, address.as_bytes())?;
            status_word(StatusCode::Success)
        }
        Err(status) => error_word(frame, ctx, status)?,
    };
    ctx.set_result(word);
    Ok(SyscallOutcome::Continue)
}

/// `GET_CONTEXT(out_ptr a0)`: the frame's [`abi::context`] record.
pub(crate) fn context(frame: &mut Frame<'_>, ctx: &mut SyscallContext<'_>) -> Handled {
    use abi::context as c;
    let out_ptr = ctx.arg(0);
    ctx.charge(gas::CONTEXT)?;
    let m = frame.message;
    let mut record = [0u8; c::LEN];
    record[c::ADDRESS..c::CALLER].copy_from_slice(m.recipient.as_bytes());
    record[c::CALLER..c::CALLER_TEMPLATE].copy_from_slice(m.sender.as_bytes());
    record[c::CALLER_TEMPLATE..c::VALUE].copy_from_slice(m.sender_template_raw().as_bytes());
    record[c::VALUE..c::DEPTH].copy_from_slice(&m.value.to_le_bytes());
    record[c::DEPTH..c::RESERVED].copy_from_slice(&m.depth.to_le_bytes());
    ctx.write_memory(out_ptr, &record)?;
    Ok(SyscallOutcome::Continue)
}

/// `GET_TX_CONTEXT(out_ptr a0)`: the transaction's [`abi::tx_context`] record.
pub(crate) fn tx_context(frame: &mut Frame<'_>, ctx: &mut SyscallContext<'_>) -> Handled {
    use abi::tx_context as t;
    let out_ptr = ctx.arg(0);
    ctx.charge(gas::CONTEXT)?;
    reserve(ctx, out_ptr, t::LEN)?;
    let tx = frame.host.get_tx_context();
    let mut record = [0u8; t::LEN];
    record[t::GAS_PRICE..t::ORIGIN].copy_from_slice(&tx.gas_price.to_le_bytes());
    record[t::ORIGIN..t::BLOCK_HEIGHT].copy_from_slice(tx.origin.as_bytes());
    record[t::BLOCK_HEIGHT..t::BLOCK_TIMESTAMP].copy_from_slice(&tx.block_height.to_le_bytes());
    record[t::BLOCK_TIMESTAMP..t::BLOCK_GAS_LIMIT].copy_from_slice(&tx.block_timestamp.to_le_bytes());
    record[t::BLOCK_GAS_LIMIT..t::CHAIN_ID].copy_from_slice(&tx.block_gas_limit.to_le_bytes());
    record[t::CHAIN_ID..t::LEN].copy_from_slice(tx.chain_id.as_bytes());
    ctx.write_memory(out_ptr, &record)?;
    Ok(SyscallOutcome::Continue)
}

/// `GET_BLOCK_HASH(height_lo a0, height_hi a1, out_ptr a2)`: 32 bytes, zero
/// for heights the host does not serve.
pub(crate) fn block_hash(frame: &mut Frame<'_>, ctx: &mut SyscallContext<'_>) -> Handled {
    let (height, out_ptr) = (u64_from(ctx.arg(0), ctx.arg(1)), ctx.arg(2));
    ctx.charge(gas::GET_BLOCK_HASH)?;
    reserve(ctx, out_ptr, WORD_LEN)?;
    let hash = frame.host.get_block_hash(height);
    ctx.write_memory(out_ptr, hash.as_bytes())?;
    Ok(SyscallOutcome::Continue)
}

/// `EMIT_LOG(topics_ptr a0, topic_count a1, data_ptr a2, data_len a3)`:
/// `topic_count` consecutive 32-byte topics and a payload, attributed to the
/// own account.
pub(crate) fn emit_log(frame: &mut Frame<'_>, ctx: &mut SyscallContext<'_>) -> Handled {
    let (topics_ptr, count, data_ptr, data_len) = (ctx.arg(0), ctx.arg(1), ctx.arg(2), ctx.arg(3));
    bound(ctx, count, abi::MAX_LOG_TOPICS, "log topic count")?;
    bound(ctx, data_len, abi::MAX_LOG_DATA, "log data")?;
    ctx.check_readable(topics_ptr, count * abi::WORD_LEN)?;
    ctx.check_readable(data_ptr, data_len)?;
    ctx.charge(gas::LOG + u64::from(count) * gas::LOG_PER_TOPIC + gas::per_byte(data_len, gas::LOG_PER_BYTE))?;
    let raw = read_vec(ctx, topics_ptr, count * abi::WORD_LEN)?;
    let topics: Vec<Bytes32> =
        raw.chunks_exact(WORD_LEN).map(|c| Bytes32::new(c.try_into().unwrap_or([0; WORD_LEN]))).collect();
    let data = read_vec(ctx, data_ptr, data_len)?;
    frame.host.emit_log(&frame.message.recipient, &topics, &data);
    Ok(SyscallOutcome::Continue)
}

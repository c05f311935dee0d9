//! Precompiles: hash functions and signature verification run natively
//! instead of as (much slower, much more expensive) guest code.
//!
//! They never touch the host, so "charge before work" only has to protect
//! the engine's own CPU time: inputs are bounded by
//! [`abi::MAX_PRECOMPILE_INPUT`] and paid per 64-byte block before hashing.

use crate::frame::{bound, read_array, read_vec, reserve};
use crate::{abi, gas};
use athena_vm::{SyscallContext, SyscallError, SyscallOutcome};
use sha2::Digest;

type Handled = Result<SyscallOutcome, SyscallError>;

/// Shared shape of the hash precompiles: `(ptr a0, len a1, out_ptr a2)`.
/// Streams guest memory into the hasher chunk by chunk (no copy of the
/// input), then writes the 32-byte digest.
fn hash<H>(
    ctx: &mut SyscallContext<'_>,
    (base, per_block): (u64, u64),
    mut hasher: H,
    update: fn(&mut H, &[u8]),
    finish: fn(H) -> [u8; 32],
) -> Handled {
    let (ptr, len, out_ptr) = (ctx.arg(0), ctx.arg(1), ctx.arg(2));
    bound(ctx, len, abi::MAX_PRECOMPILE_INPUT, "hash input")?;
    ctx.check_readable(ptr, len)?;
    ctx.charge(base + gas::blocks(len) * per_block)?;
    reserve(ctx, out_ptr, abi::WORD_LEN as usize)?;
    ctx.with_memory(ptr, len, |_, chunk| update(&mut hasher, chunk))?;
    ctx.write_memory(out_ptr, &finish(hasher))?;
    Ok(SyscallOutcome::Continue)
}

/// `SHA256(ptr a0, len a1, out_ptr a2)`: the SHA-256 digest (FIPS 180-4).
pub(crate) fn sha256(ctx: &mut SyscallContext<'_>) -> Handled {
    hash(
        ctx,
        (gas::SHA256, gas::SHA256_PER_BLOCK),
        sha2::Sha256::new(),
        |h, chunk| h.update(chunk),
        |h| h.finalize().into(),
    )
}

/// `BLAKE3(ptr a0, len a1, out_ptr a2)`: the 32-byte BLAKE3 hash (default
/// mode, no key).
pub(crate) fn blake3(ctx: &mut SyscallContext<'_>) -> Handled {
    hash(
        ctx,
        (gas::BLAKE3, gas::BLAKE3_PER_BLOCK),
        blake3::Hasher::new(),
        |h, chunk| {
            h.update(chunk);
        },
        |h| h.finalize().into(),
    )
}

/// `ED25519_VERIFY(msg_ptr a0, msg_len a1, pubkey_ptr a2, sig_ptr a3) -> a0`:
/// 1 if the 64-byte signature is valid for the message under the 32-byte
/// public key, else 0 (including keys that are not valid points).
///
/// Uses `ed25519-dalek`'s `verify_strict`: it rejects small-order public
/// keys and non-canonical encodings, so exactly one rule decides validity
/// on every node and signatures cannot be malleated.
pub(crate) fn ed25519_verify(ctx: &mut SyscallContext<'_>) -> Handled {
    let (msg_ptr, msg_len, key_ptr, sig_ptr) = (ctx.arg(0), ctx.arg(1), ctx.arg(2), ctx.arg(3));
    bound(ctx, msg_len, abi::MAX_PRECOMPILE_INPUT, "signed message")?;
    ctx.check_readable(msg_ptr, msg_len)?;
    ctx.check_readable(key_ptr, 32)?;
    ctx.check_readable(sig_ptr, 64)?;
    ctx.charge(gas::ed25519_verify(msg_len))?;
    let message = read_vec(ctx, msg_ptr, msg_len)?;
    let key: [u8; 32] = read_array(ctx, key_ptr)?;
    let signature: [u8; 64] = read_array(ctx, sig_ptr)?;
    let valid = ed25519_dalek::VerifyingKey::from_bytes(&key)
        .is_ok_and(|key| key.verify_strict(&message, &ed25519_dalek::Signature::from_bytes(&signature)).is_ok());
    ctx.set_result(u32::from(valid));
    Ok(SyscallOutcome::Continue)
}

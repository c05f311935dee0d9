//! # athena-abi
//!
//! The guest-visible syscall ABI as plain constants: syscall numbers, length
//! bounds and the byte layouts of fixed-size records. It has no
//! dependencies and is `no_std`, so the VM, the engine (host side) and the
//! guest runtime all use this one copy and cannot drift apart.
//!
//! Everything here is consensus-critical. The normative text is
//! `docs/machine.md` (numbers 0–4, handled by the VM) and
//! `docs/syscalls.md` (host functions, numbers from `0x100`); change them in
//! the same commit.

#![no_std]
#![forbid(unsafe_code)]

/// Syscalls the VM handles itself (`t0` at `ECALL`).
pub mod machine {
    /// End the run; `a0` is the exit code. Never returns.
    pub const HALT: u32 = 0;
    /// Write `a2` bytes at `a1` to file descriptor `a0` (1 = stdout,
    /// 2 = stderr); returns the length in `a0`.
    pub const WRITE: u32 = 2;
    /// Returns the length of the run's input in `a0`.
    pub const INPUT_LEN: u32 = 3;
    /// Copies input bytes `[a1, a1 + a2)` (clamped to the input) to `a0`;
    /// returns the number copied in `a0`.
    pub const INPUT_READ: u32 = 4;
    /// First number reserved for host functions ([`super::number`]).
    pub const HOST_BASE: u32 = 0x100;
}

/// Host-function syscall numbers (`t0` at `ECALL`). All are at or above
/// [`machine::HOST_BASE`]; the VM handles lower numbers
/// itself.
pub mod number {
    /// `RETURN(ptr, len)`: end the frame successfully with `len` bytes of
    /// return data. Never returns to the guest.
    pub const RETURN: u32 = 0x100;
    /// `REVERT(ptr, len)`: end the frame with status `revert` and `len`
    /// bytes of revert data; unused gas goes back to the caller.
    pub const REVERT: u32 = 0x101;
    /// `STORAGE_READ(key_ptr, out_ptr)`: 32-byte slot of the own account.
    pub const STORAGE_READ: u32 = 0x102;
    /// `STORAGE_WRITE(key_ptr, value_ptr) -> a0 = StorageStatus`.
    pub const STORAGE_WRITE: u32 = 0x103;
    /// `GET_BALANCE(addr_ptr | 0) -> (a0, a1) = balance lo, hi`.
    pub const GET_BALANCE: u32 = 0x104;
    /// `CALL(addr_ptr, input_ptr, input_len, value_lo, value_hi, gas)
    /// -> (a0 = status, a1 = return data length)`.
    pub const CALL: u32 = 0x105;
    /// `RETURNDATA_SIZE() -> a0`: length of the last call's output.
    pub const RETURNDATA_SIZE: u32 = 0x106;
    /// `RETURNDATA_COPY(dst, offset, len) -> a0 = bytes copied`.
    pub const RETURNDATA_COPY: u32 = 0x107;
    /// `SPAWN(template_ptr, state_ptr, state_len, out_ptr) -> a0 = status`.
    pub const SPAWN: u32 = 0x108;
    /// `DEPLOY(code_ptr, code_len, out_ptr) -> a0 = status`.
    pub const DEPLOY: u32 = 0x109;
    /// `GET_CONTEXT(out_ptr)`: the frame's [`super::context`] record.
    pub const GET_CONTEXT: u32 = 0x10A;
    /// `GET_TX_CONTEXT(out_ptr)`: the transaction's [`super::tx_context`] record.
    pub const GET_TX_CONTEXT: u32 = 0x10B;
    /// `GET_BLOCK_HASH(height_lo, height_hi, out_ptr)`: 32 bytes.
    pub const GET_BLOCK_HASH: u32 = 0x10C;
    /// `EMIT_LOG(topics_ptr, topic_count, data_ptr, data_len)`.
    pub const EMIT_LOG: u32 = 0x10D;
    /// `STATE_SIZE() -> a0`: length of the own program's immutable state
    /// (the blob it was spawned with; 0 for accounts without one).
    pub const STATE_SIZE: u32 = 0x10E;
    /// `STATE_READ(dst, offset, len) -> a0 = bytes copied`: copies
    /// `min(len, size - offset)` bytes of the own immutable state.
    pub const STATE_READ: u32 = 0x10F;
    /// `SHA256(ptr, len, out_ptr)`: 32-byte digest.
    pub const SHA256: u32 = 0x110;
    /// `BLAKE3(ptr, len, out_ptr)`: 32-byte digest.
    pub const BLAKE3: u32 = 0x111;
    /// `ED25519_VERIFY(msg_ptr, msg_len, pubkey_ptr, sig_ptr) -> a0 = 1 | 0`.
    pub const ED25519_VERIFY: u32 = 0x112;

    /// Every host-function number with its name, in numeric order: for
    /// docs, tests and tools that print syscall names.
    pub const ALL: &[(u32, &str)] = &[
        (RETURN, "RETURN"),
        (REVERT, "REVERT"),
        (STORAGE_READ, "STORAGE_READ"),
        (STORAGE_WRITE, "STORAGE_WRITE"),
        (GET_BALANCE, "GET_BALANCE"),
        (CALL, "CALL"),
        (RETURNDATA_SIZE, "RETURNDATA_SIZE"),
        (RETURNDATA_COPY, "RETURNDATA_COPY"),
        (SPAWN, "SPAWN"),
        (DEPLOY, "DEPLOY"),
        (GET_CONTEXT, "GET_CONTEXT"),
        (GET_TX_CONTEXT, "GET_TX_CONTEXT"),
        (GET_BLOCK_HASH, "GET_BLOCK_HASH"),
        (EMIT_LOG, "EMIT_LOG"),
        (STATE_SIZE, "STATE_SIZE"),
        (STATE_READ, "STATE_READ"),
        (SHA256, "SHA256"),
        (BLAKE3, "BLAKE3"),
        (ED25519_VERIFY, "ED25519_VERIFY"),
    ];
}

/// Largest `RETURN`/`REVERT` data, in bytes. Bounds what a frame can make
/// its caller's host copy and keep.
pub const MAX_RETURN_DATA: u32 = 64 * 1024;
/// Largest `CALL` input, in bytes (the callee's `Message::input`).
pub const MAX_CALL_INPUT: u32 = 64 * 1024;
/// Largest `SPAWN` state blob, in bytes.
pub const MAX_SPAWN_STATE: u32 = 64 * 1024;
/// Largest `DEPLOY` code, in bytes. Far below the VM's 16 MiB code limit:
/// templates are stored forever and every node keeps them.
pub const MAX_DEPLOY_CODE: u32 = 1024 * 1024;
/// Most topics of one log entry.
pub const MAX_LOG_TOPICS: u32 = 4;
/// Largest log payload, in bytes.
pub const MAX_LOG_DATA: u32 = 4 * 1024;
/// Largest input of the hash precompiles and of `ED25519_VERIFY`'s
/// message, in bytes.
pub const MAX_PRECOMPILE_INPUT: u32 = 1024 * 1024;

/// `CALL`'s gas argument meaning "as much as may be forwarded".
pub const CALL_GAS_ALL: u32 = u32::MAX;

/// Size of an address in guest memory.
pub const ADDRESS_LEN: u32 = 24;
/// Size of a storage key/value, topic or hash in guest memory.
pub const WORD_LEN: u32 = 32;

/// Layout of the 88-byte record `GET_CONTEXT` writes. Integers are
/// little-endian.
pub mod context {
    /// Offset of the frame's own address (the message recipient), 24 bytes.
    pub const ADDRESS: usize = 0;
    /// Offset of the caller's address (the message sender), 24 bytes.
    pub const CALLER: usize = 24;
    /// Offset of the caller's template address, 24 bytes; all zero when
    /// the caller has none (or the host did not say).
    pub const CALLER_TEMPLATE: usize = 48;
    /// Offset of the value received, `u64`.
    pub const VALUE: usize = 72;
    /// Offset of the call depth, `u32` (0 for the top-level frame).
    pub const DEPTH: usize = 80;
    /// Offset of 4 reserved bytes, always zero.
    pub const RESERVED: usize = 84;
    /// Total size in bytes.
    pub const LEN: usize = 88;
}

/// Layout of the 88-byte record `GET_TX_CONTEXT` writes. Integers are
/// little-endian.
pub mod tx_context {
    /// Offset of the gas price, `u64`.
    pub const GAS_PRICE: usize = 0;
    /// Offset of the transaction's origin address, 24 bytes.
    pub const ORIGIN: usize = 8;
    /// Offset of the block height, `u64`.
    pub const BLOCK_HEIGHT: usize = 32;
    /// Offset of the block timestamp (Unix seconds), `u64`.
    pub const BLOCK_TIMESTAMP: usize = 40;
    /// Offset of the block gas limit, `u64`.
    pub const BLOCK_GAS_LIMIT: usize = 48;
    /// Offset of the chain id, 32 bytes.
    pub const CHAIN_ID: usize = 56;
    /// Total size in bytes.
    pub const LEN: usize = 88;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_host_functions_sorted_and_unique() {
        let all = number::ALL;
        assert!(all.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(all.iter().all(|&(n, _)| n >= machine::HOST_BASE));
    }

    #[test]
    fn layouts_are_contiguous() {
        assert_eq!(context::CALLER - context::ADDRESS, ADDRESS_LEN as usize);
        assert_eq!(context::RESERVED + 4, context::LEN);
        assert_eq!(tx_context::ORIGIN + ADDRESS_LEN as usize, tx_context::BLOCK_HEIGHT);
        assert_eq!(tx_context::CHAIN_ID + WORD_LEN as usize, tx_context::LEN);
    }
}

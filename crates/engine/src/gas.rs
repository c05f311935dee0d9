//! The host-function gas schedule (revision `Frontier`).
//!
//! Every number is consensus-critical and mirrored in `docs/gas.md`; change
//! both together (and, once a chain is live, only under a new
//! [`athena_interface::Revision`]). All prices are *in addition to* the VM's
//! own charges: 1 gas for the `ECALL` instruction, 10 for every syscall
//! ([`athena_vm::gas::SYSCALL_BASE`]) and 64 for each guest page a syscall
//! allocates by writing to it. The unit is the VM's: an ALU instruction
//! costs 1.
//!
//! Each price is charged before the work it pays for, so a frame that
//! cannot pay never makes the host do anything.

use athena_interface::StorageStatus;

/// Per started 4-byte word moved between guest memory and the engine
/// (`RETURN`, `REVERT`, `CALL` input, `RETURNDATA_COPY`, `STATE_READ`, the
/// state fetch). The same rate as
/// the VM's `INPUT_READ`.
pub use athena_vm::gas::PER_WORD_COPIED;

/// `STORAGE_READ`: one host lookup, typically a database read.
pub const STORAGE_READ: u64 = 500;
/// `STORAGE_WRITE` that leaves the slot as it was (the engine still reads
/// the slot to classify the write).
pub const STORAGE_WRITE_UNCHANGED: u64 = 500;
/// `STORAGE_WRITE` that creates a slot (zero → non-zero): new state every
/// node keeps forever, hence the highest price.
pub const STORAGE_WRITE_ADDED: u64 = 10_000;
/// `STORAGE_WRITE` that changes a non-zero slot to another non-zero value.
pub const STORAGE_WRITE_MODIFIED: u64 = 2_500;
/// `STORAGE_WRITE` that deletes a slot (non-zero → zero). No refund: refunds
/// complicate gas accounting and invite refund-farming.
pub const STORAGE_WRITE_DELETED: u64 = 2_500;
/// `GET_BALANCE`: one host lookup.
pub const GET_BALANCE: u64 = 200;
/// `CALL` base: building a message, a host round trip and a new frame
/// (ELF load and machine setup happen in the callee but are paid here).
pub const CALL: u64 = 1_000;
/// Extra for a `CALL` with a non-zero value: a balance check and two
/// balance updates in the host.
pub const CALL_VALUE: u64 = 2_000;
/// `SPAWN` base: a new account and the nested frame that initialises it
/// (the callee's own consumption is charged on top, as for `CALL`).
pub const SPAWN: u64 = 10_000;
/// `SPAWN`, per byte of the state blob (stored forever).
pub const SPAWN_PER_BYTE: u64 = 8;
/// `DEPLOY` base: a new template.
pub const DEPLOY: u64 = 20_000;
/// `DEPLOY`, per byte of code (validated by the engine, stored forever).
pub const DEPLOY_PER_BYTE: u64 = 8;
/// The first `STATE_SIZE` or `STATE_READ` of a frame: fetching the own
/// program's immutable state from the host is one database read, priced
/// like [`STORAGE_READ`]; `copy(state len)` is added for the blob. Later
/// requests in the frame are served from the engine's copy.
pub const STATE_FETCH: u64 = STORAGE_READ;
/// `GET_CONTEXT`, `GET_TX_CONTEXT`: data the engine or host already holds.
pub const CONTEXT: u64 = 20;
/// `GET_BLOCK_HASH`: one host lookup.
pub const GET_BLOCK_HASH: u64 = 200;
/// `EMIT_LOG` base.
pub const LOG: u64 = 375;
/// `EMIT_LOG`, per topic.
pub const LOG_PER_TOPIC: u64 = 375;
/// `EMIT_LOG`, per byte of data (kept in receipts).
pub const LOG_PER_BYTE: u64 = 8;
/// `SHA256` base (covers the final padded block).
pub const SHA256: u64 = 100;
/// `SHA256`, per started 64-byte block of input.
pub const SHA256_PER_BLOCK: u64 = 50;
/// `BLAKE3` base.
pub const BLAKE3: u64 = 100;
/// `BLAKE3`, per started 64-byte block of input (BLAKE3 is cheaper per
/// byte than SHA-256 in software).
pub const BLAKE3_PER_BLOCK: u64 = 25;
/// `ED25519_VERIFY` base: point decompression and a double-scalar
/// multiplication dominate, whatever the message.
pub const ED25519_VERIFY: u64 = 20_000;
/// `ED25519_VERIFY`, per started 64-byte block of message (hashed with
/// SHA-512 inside the verification), so long messages are not underpriced.
pub const ED25519_VERIFY_PER_BLOCK: u64 = 25;

/// Gas to move `len` bytes across the guest boundary.
pub const fn copy(len: u32) -> u64 {
    athena_vm::gas::copy_cost(len)
}

/// Number of started 64-byte blocks in `len` bytes.
pub const fn blocks(len: u32) -> u64 {
    (len as u64).div_ceil(64)
}

/// The price of one `ED25519_VERIFY` of a `msg_len`-byte message: what the
/// precompile charges, and what a wallet adds for each signature check an
/// estimate did not run (one formula for both, so they cannot drift).
pub const fn ed25519_verify(msg_len: u32) -> u64 {
    ED25519_VERIFY + blocks(msg_len) * ED25519_VERIFY_PER_BLOCK
}

/// `len * per_byte` for guest-supplied lengths (which are at most `u32`,
/// so this never overflows a `u64` for the per-byte prices above).
pub const fn per_byte(len: u32, price: u64) -> u64 {
    len as u64 * price
}

/// The price of a `STORAGE_WRITE` that changes a slot as `status` says.
pub const fn storage_write(status: StorageStatus) -> u64 {
    match status {
        StorageStatus::Unchanged => STORAGE_WRITE_UNCHANGED,
        StorageStatus::Added => STORAGE_WRITE_ADDED,
        StorageStatus::Modified => STORAGE_WRITE_MODIFIED,
        StorageStatus::Deleted => STORAGE_WRITE_DELETED,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_cost_more_than_reads_and_creation_most() {
        const { assert!(STORAGE_WRITE_ADDED > STORAGE_WRITE_MODIFIED) };
        const { assert!(STORAGE_WRITE_MODIFIED > STORAGE_READ) };
        assert_eq!(storage_write(StorageStatus::Unchanged), STORAGE_READ);
    }

    #[test]
    fn block_and_byte_arithmetic() {
        assert_eq!(blocks(0), 0);
        assert_eq!(blocks(1), 1);
        assert_eq!(blocks(64), 1);
        assert_eq!(blocks(65), 2);
        assert_eq!(blocks(u32::MAX), u64::from(u32::MAX).div_ceil(64));
        assert_eq!(per_byte(u32::MAX, DEPLOY_PER_BYTE), u64::from(u32::MAX) * 8);
        assert_eq!(copy(5), 2);
    }
}

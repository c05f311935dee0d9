//! The [`Host`] trait: what a node provides to the VM.

#[cfg(doc)]
use crate::MessageKind;
use crate::{Address, Bytes32, ExecutionResult, Message, StatusCode, TxContext};

/// The input of the run that initialises a freshly spawned program:
/// `selector("spawn")`, the first 4 bytes of `blake3("spawn")` (the SDK's
/// method-call ABI). A host's [`Host::call`] sends exactly these 4 bytes to
/// the template's code after creating the account. A constant rather than
/// a computed value so that this crate stays free of hashing code.
pub const SPAWN_SELECTOR: [u8; 4] = [0x3f, 0x80, 0x0a, 0xc5];

/// How a [`Host::set_storage`] changed a slot, judged against the slot's
/// current value. The VM prices storage writes from it (creating state costs
/// more than modifying it; deleting may be refunded), so hosts must classify
/// exactly as documented. An absent slot is the same as a zero slot.
///
/// `#[repr(u32)]` with explicit values for the C ABI.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StorageStatus {
    /// New value equals the current value (including zero → zero); no write.
    Unchanged = 0,
    /// Zero → non-zero: a slot was created.
    Added = 1,
    /// Non-zero → different non-zero.
    Modified = 2,
    /// Non-zero → zero: the slot was removed.
    Deleted = 3,
}

impl StorageStatus {
    /// Classify a write of `new` over `current`. Provided so every host uses
    /// the same rule.
    pub fn classify(current: &Bytes32, new: &Bytes32) -> Self {
        match (current.is_zero(), new.is_zero()) {
            _ if current == new => StorageStatus::Unchanged,
            (true, false) => StorageStatus::Added,
            (false, true) => StorageStatus::Deleted,
            _ => StorageStatus::Modified,
        }
    }

    /// Decode a value received over the C ABI; unknown values are `None`.
    pub const fn from_u32(value: u32) -> Option<Self> {
        match value {
            0 => Some(StorageStatus::Unchanged),
            1 => Some(StorageStatus::Added),
            2 => Some(StorageStatus::Modified),
            3 => Some(StorageStatus::Deleted),
            _ => None,
        }
    }
}

/// Callbacks a node provides to the VM while executing a message.
///
/// The VM owns nothing persistent: all state lives behind this trait, which is
/// why it is the seam where a Go node plugs in via the C ABI. The trait is
/// object-safe so the VM can take `&mut dyn Host` and not be generic over
/// every node implementation.
///
/// General contract:
/// * **Determinism.** For the same state, every method must return the same
///   answer on every node. No wall clock, randomness or iteration over
///   unordered maps.
/// * **No failure channel for reads.** Reads of absent data return the zero
///   value (`false`, `0`, [`Bytes32::ZERO`]). A host that cannot serve a read
///   (e.g. a database error) must abort the whole transaction out of band;
///   it must not invent a value.
/// * **Gas is the VM's job.** Hosts never charge gas; the VM prices each
///   callback (using e.g. [`StorageStatus`]) before or after invoking it.
/// * **Reverts are the host's job.** Effects of a frame that does not end in
///   [`StatusCode::Success`] must be undone by the host (see [`Host::call`]).
pub trait Host {
    /// Whether `address` refers to an existing account. Used before calls
    /// and transfers so programs can distinguish "empty" from "missing".
    fn account_exists(&self, address: &Address) -> bool;

    /// The value of storage slot `key` of account `address`, or
    /// [`Bytes32::ZERO`] if the slot or account does not exist.
    fn get_storage(&self, address: &Address, key: &Bytes32) -> Bytes32;

    /// Set slot `key` of `address` to `value` and report how the slot
    /// changed, classified against its current value exactly as
    /// [`StorageStatus::classify`] does. Writing zero deletes the slot.
    /// The write is part of the current frame and is undone if the frame
    /// (or any ancestor frame) fails.
    fn set_storage(&mut self, address: &Address, key: &Bytes32, value: &Bytes32) -> StorageStatus;

    /// The balance of `address` in the native coin; 0 for unknown accounts.
    fn get_balance(&self, address: &Address) -> u64;

    /// Execute a nested frame described by `msg` and return its result.
    ///
    /// The host is responsible for the whole frame, under one checkpoint
    /// that it reverts unless the result is [`StatusCode::Success`]. The VM
    /// has already checked the depth limit and charged for the gas it
    /// forwards; it charges the caller `msg.gas - gas_left` for statuses
    /// that return gas and all of `msg.gas` otherwise.
    ///
    /// **[`MessageKind::Call`]**: the host checks `msg.sender`'s balance
    /// (returning [`ExecutionResult::not_started`] with
    /// [`StatusCode::InsufficientBalance`] if it cannot afford `msg.value`),
    /// transfers `msg.value` from sender to recipient, loads the recipient's
    /// code and runs it (typically by re-entering the VM), and — if the
    /// result is not a success — reverts every effect of the frame,
    /// including the value transfer, storage writes, logs and programs it
    /// spawned.
    ///
    /// **[`MessageKind::Spawn`]**: create a program. `msg.recipient` is the
    /// *template* address and `msg.input` the new program's immutable state
    /// blob (at most `athena_abi::MAX_SPAWN_STATE` bytes). Under the same
    /// checkpoint the host:
    /// 1. fails with [`StatusCode::Failure`] if the template does not exist;
    /// 2. derives the program's address deterministically from template and
    ///    state (a node uses `athena_transaction::program_address`) and
    ///    fails with [`StatusCode::Failure`] if that account already has a
    ///    template (it was spawned before);
    /// 3. creates the account with the template and state, keeping any
    ///    balance it already had, and moves `msg.value` to it as for a call
    ///    (the VM's `SPAWN` always sends 0);
    /// 4. runs the template's code for the new program with a message of
    ///    kind `Spawn`, recipient the new address, input [`SPAWN_SELECTOR`]
    ///    (those 4 bytes only) and sender, depth, gas and value as received:
    ///    the SDK's `spawn` method, which may validate the state or
    ///    initialise storage;
    /// 5. if that run does not succeed, reverts everything (including the
    ///    account creation) and returns its result unchanged; otherwise
    ///    returns it with `output` replaced by the 24 address bytes.
    ///
    /// A success whose output is not exactly 24 bytes breaks this contract;
    /// the VM then ends the spawning frame with `internal_error`.
    ///
    /// [`SPAWN_SELECTOR`]: crate::SPAWN_SELECTOR
    fn call(&mut self, msg: Message) -> ExecutionResult;

    /// The immutable state blob `address` was spawned with (its template's
    /// decoded struct, in the SDK's terms), or empty for accounts that were
    /// not spawned. Never longer than `athena_abi::MAX_SPAWN_STATE` (64 KiB),
    /// the bound on a spawn's state; the VM treats a longer answer as a
    /// broken host (`internal_error`). Read-only and constant for the
    /// account's lifetime, so the VM fetches it at most once per frame, on
    /// the program's first request.
    fn get_state(&self, address: &Address) -> Vec<u8>;

    /// Store `code` as a new template and return its deterministic address.
    /// Code validation is the host's decision (typically via the VM); invalid
    /// code is an `Err`.
    fn deploy(&mut self, code: &[u8]) -> Result<Address, StatusCode>;

    /// The context of the transaction and block being executed. Constant for
    /// the whole transaction.
    fn get_tx_context(&self) -> TxContext;

    /// The hash of the block at `height`, or [`Bytes32::ZERO`] if it is not
    /// available (in the future, or outside the host's lookup window, which
    /// must be part of the protocol rules).
    fn get_block_hash(&self, height: u64) -> Bytes32;

    /// Record a log entry emitted by `address`. Logs are part of the frame's
    /// effects and are discarded if the frame fails. `topics` and `data` are
    /// borrowed; the host copies what it keeps.
    fn emit_log(&mut self, address: &Address, topics: &[Bytes32], data: &[u8]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_rule() {
        let z = Bytes32::ZERO;
        let a = Bytes32::new([1; 32]);
        let b = Bytes32::new([2; 32]);
        assert_eq!(StorageStatus::classify(&z, &z), StorageStatus::Unchanged);
        assert_eq!(StorageStatus::classify(&a, &a), StorageStatus::Unchanged);
        assert_eq!(StorageStatus::classify(&z, &a), StorageStatus::Added);
        assert_eq!(StorageStatus::classify(&a, &b), StorageStatus::Modified);
        assert_eq!(StorageStatus::classify(&a, &z), StorageStatus::Deleted);
        for s in [StorageStatus::Unchanged, StorageStatus::Added, StorageStatus::Modified, StorageStatus::Deleted] {
            assert_eq!(StorageStatus::from_u32(s as u32), Some(s));
        }
        assert_eq!(StorageStatus::from_u32(4), None);
    }

    #[test]
    fn host_is_object_safe() {
        fn _takes_dyn(_h: &mut dyn Host) {}
    }
}

//! Messages (execution requests), their results, and the transaction context.

use crate::{Address, Bytes32, StatusCode};

/// What a [`Message`] asks the VM/host to do.
///
/// `#[repr(u32)]` with explicit values because it crosses the C ABI.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum MessageKind {
    /// Invoke code of an existing account (`recipient`).
    #[default]
    Call = 0,
    /// Create a new account (program instance) from an existing template.
    Spawn = 1,
    /// Deploy new template code.
    Deploy = 2,
}

impl MessageKind {
    /// Decode a value received over the C ABI; unknown values are `None`.
    pub const fn from_u32(value: u32) -> Option<Self> {
        match value {
            0 => Some(MessageKind::Call),
            1 => Some(MessageKind::Spawn),
            2 => Some(MessageKind::Deploy),
            _ => None,
        }
    }
}

/// A request to execute one frame, either from the node (top level, depth 0)
/// or from a running program to the host ([`crate::Host::call`]).
///
/// The message owns its `input` so that it can be queued, recorded and
/// moved across the host boundary without lifetime coupling to guest memory.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    /// What kind of execution is requested.
    pub kind: MessageKind,
    /// Call depth: 0 for the transaction's top-level frame, +1 per nested
    /// call. The VM enforces the depth limit using this value.
    pub depth: u32,
    /// Gas made available to the frame.
    pub gas: u64,
    /// The account whose code runs and whose storage is accessed.
    pub recipient: Address,
    /// The immediate caller (the principal for top-level frames).
    pub sender: Address,
    /// The template the *sender* was spawned from, if the sender is a
    /// program instance; `None` for accounts not created from a template
    /// (or unknown). Lets programs authorize callers by template.
    ///
    /// Rust uses `Option` to make the absence explicit. The C ABI has no
    /// `Option`, so it encodes `None` as [`Address::ZERO`]; consequently
    /// `Some(Address::ZERO)` is not a valid value and hosts must never
    /// produce it (see [`Message::sender_template_raw`]).
    pub sender_template: Option<Address>,
    /// Call data (method selector and arguments), opaque to the host.
    pub input: Vec<u8>,
    /// Amount of the native coin transferred from `sender` to `recipient`
    /// before the callee runs.
    pub value: u64,
}

impl Message {
    /// `sender_template` in the C ABI encoding: `None` becomes
    /// [`Address::ZERO`].
    pub fn sender_template_raw(&self) -> Address {
        self.sender_template.unwrap_or(Address::ZERO)
    }

    /// Inverse of [`Message::sender_template_raw`]: [`Address::ZERO`] decodes
    /// to `None`.
    pub fn sender_template_from_raw(raw: Address) -> Option<Address> {
        if raw.is_zero() {
            None
        } else {
            Some(raw)
        }
    }
}

/// The result of executing a [`Message`].
///
/// `output` is owned by the result (the callee's frame is gone when the
/// caller reads it). `gas_left` is only meaningful for some statuses; see the
/// table on [`StatusCode`]. Constructors enforce those conventions so that
/// hosts and the VM agree on them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionResult {
    /// How execution ended.
    pub status: StatusCode,
    /// Gas not consumed, returned to the caller.
    pub gas_left: u64,
    /// Return data (on success) or revert data (on revert); empty otherwise.
    pub output: Vec<u8>,
}

impl ExecutionResult {
    /// A result with explicit fields, for cases the named constructors do not
    /// cover (e.g. [`StatusCode::InsufficientBalance`] returning full gas).
    pub fn new(status: StatusCode, gas_left: u64, output: Vec<u8>) -> Self {
        Self { status, gas_left, output }
    }

    /// Normal completion with return data.
    pub fn success(gas_left: u64, output: Vec<u8>) -> Self {
        Self::new(StatusCode::Success, gas_left, output)
    }

    /// Explicit revert: effects are undone but unused gas and the revert data
    /// are returned to the caller.
    pub fn revert(gas_left: u64, output: Vec<u8>) -> Self {
        Self::new(StatusCode::Revert, gas_left, output)
    }

    /// A failure that consumes all gas and carries no output (every status
    /// other than success/revert in the common case).
    pub fn failure(status: StatusCode) -> Self {
        Self::new(status, 0, Vec::new())
    }

    /// Shorthand for `failure(StatusCode::OutOfGas)`.
    pub fn out_of_gas() -> Self {
        Self::failure(StatusCode::OutOfGas)
    }

    /// A frame that was refused before it started (call depth exceeded,
    /// insufficient balance): nothing was spent, so all of `gas` is returned.
    pub fn not_started(status: StatusCode, gas: u64) -> Self {
        Self::new(status, gas, Vec::new())
    }

    /// Whether the frame's effects are kept.
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// Gas consumed relative to the frame's `limit`. Saturates at 0 so that a
    /// buggy host reporting more gas left than given cannot cause an
    /// underflow (and thus a huge charge).
    pub fn gas_used(&self, limit: u64) -> u64 {
        limit.saturating_sub(self.gas_left)
    }
}

/// Per-transaction and per-block information the host provides on request
/// ([`crate::Host::get_tx_context`]).
///
/// Fetched lazily by the VM rather than passed with every message, because
/// most programs never read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TxContext {
    /// Price per unit of gas paid by the transaction.
    pub gas_price: u64,
    /// The principal account that originated the transaction.
    pub origin: Address,
    /// Height (layer) of the block being executed.
    pub block_height: u64,
    /// Block timestamp, seconds since the Unix epoch.
    pub block_timestamp: u64,
    /// Maximum gas for the whole block.
    pub block_gas_limit: u64,
    /// Chain identifier, so signatures and programs can reject replays
    /// across networks.
    pub chain_id: Bytes32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gas_used_saturates() {
        assert_eq!(ExecutionResult::success(30, vec![]).gas_used(100), 70);
        assert_eq!(ExecutionResult::success(100, vec![]).gas_used(100), 0);
        assert_eq!(ExecutionResult::success(150, vec![]).gas_used(100), 0);
        assert_eq!(ExecutionResult::success(u64::MAX, vec![]).gas_used(0), 0);
        assert_eq!(ExecutionResult::out_of_gas().gas_used(u64::MAX), u64::MAX);
    }

    #[test]
    fn constructors_follow_conventions() {
        let r = ExecutionResult::revert(5, vec![1, 2]);
        assert_eq!((r.status, r.gas_left, r.output.as_slice()), (StatusCode::Revert, 5, &[1u8, 2][..]));
        assert!(!r.is_success());
        let f = ExecutionResult::failure(StatusCode::InvalidInstruction);
        assert_eq!((f.gas_left, f.output.len()), (0, 0));
        let n = ExecutionResult::not_started(StatusCode::InsufficientBalance, 42);
        assert_eq!(n.gas_used(42), 0);
        assert!(ExecutionResult::success(0, vec![]).is_success());
    }

    #[test]
    fn message_kind_and_template_encoding() {
        for k in [MessageKind::Call, MessageKind::Spawn, MessageKind::Deploy] {
            assert_eq!(MessageKind::from_u32(k as u32), Some(k));
        }
        assert_eq!(MessageKind::from_u32(3), None);
        let t = Address::new([9; 24]);
        let mut m = Message { sender_template: Some(t), ..Message::default() };
        assert_eq!(m.sender_template_raw(), t);
        assert_eq!(Message::sender_template_from_raw(t), Some(t));
        m.sender_template = None;
        assert_eq!(m.sender_template_raw(), Address::ZERO);
        assert_eq!(Message::sender_template_from_raw(Address::ZERO), None);
    }
}

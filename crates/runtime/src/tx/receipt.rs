//! What applying one transaction produced: the [`Receipt`] with its
//! [`TxStatus`], and the reasons a transaction is ineffective or failed.

use crate::state::{ChangeSet, Log, StateError};
use athena_interface::{Address, Bytes32, StatusCode};
use athena_transaction::DecodeError;

/// The result of [`apply_transaction`](super::apply_transaction) for one
/// transaction: everything a node records about it, and the state changes
/// to commit before the next transaction of the block runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// `blake3` of the transaction bytes: the transaction id
    /// (`Transaction::id`) when they decode, since the encoding is
    /// canonical; for undecodable bytes still a stable name for them.
    pub tx_id: Bytes32,
    /// The principal, if the bytes decoded.
    pub principal: Option<Address>,
    /// The nonce the transaction used (or tried to), if the bytes decoded.
    pub nonce: Option<u64>,
    /// How it ended.
    pub status: TxStatus,
    /// Gas charged: intrinsic gas + `verify` + `max_spend` + the payload
    /// (the parts are in `gas`). 0 for ineffective transactions.
    pub gas_used: u64,
    /// `gas_used` by part; all zero for ineffective transactions.
    pub gas: GasUsage,
    /// Coins paid to the block's fee recipient: `gas_used × gas_price`.
    pub fee: u64,
    /// On success, the payload's return data (for a self-spawn, the 24
    /// address bytes); when the payload reverted, its revert data; when
    /// `verify` or `max_spend` reverted, theirs; otherwise empty.
    pub output: Vec<u8>,
    /// Logs of the payload, in emission order; empty unless it succeeded.
    pub logs: Vec<Log>,
    /// The changes to apply to committed state: fee, refund, nonce and (on
    /// success) the payload's effects. Empty for ineffective transactions.
    pub changes: ChangeSet,
}

/// Where a transaction's gas went; the parts add up to
/// [`Receipt::gas_used`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GasUsage {
    /// The intrinsic gas ([`intrinsic_gas`](super::intrinsic_gas)).
    pub intrinsic: u64,
    /// Used by the principal's `verify`.
    pub verify: u64,
    /// Used by the principal's `max_spend`.
    pub max_spend: u64,
    /// Used by the payload (0 if it did not run).
    pub payload: u64,
}

impl GasUsage {
    /// The sum of the parts.
    pub fn total(&self) -> u64 {
        self.intrinsic.saturating_add(self.verify).saturating_add(self.max_spend).saturating_add(self.payload)
    }
}

impl Receipt {
    /// Whether the transaction was applied (fee charged, nonce bumped),
    /// whether or not its payload succeeded.
    pub fn is_effective(&self) -> bool {
        !matches!(self.status, TxStatus::Ineffective(_))
    }

    /// Whether the payload succeeded and its effects are in `changes`.
    pub fn is_success(&self) -> bool {
        self.status == TxStatus::Succeeded
    }

    /// `output` as text, when the transaction failed or was ineffective
    /// with UTF-8 revert data (SDK templates revert with UTF-8 messages).
    pub fn revert_message(&self) -> Option<&str> {
        if self.is_success() {
            return None;
        }
        std::str::from_utf8(&self.output).ok().filter(|m| !m.is_empty())
    }
}

/// The outcome class of a transaction (docs/transactions.md, "Execution").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxStatus {
    /// Applied, and the payload's effects are kept.
    Succeeded,
    /// Applied (fee charged, nonce bumped) but every effect of the payload
    /// was reverted.
    Failed(Failure),
    /// Not applied at all: no fee, no nonce change, no effect. The block
    /// may still record it.
    Ineffective(Ineffective),
}

impl std::fmt::Display for TxStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TxStatus::Succeeded => f.write_str("succeeded"),
            TxStatus::Failed(why) => write!(f, "failed: {why}"),
            TxStatus::Ineffective(why) => write!(f, "ineffective: {why}"),
        }
    }
}

/// How a `verify` or `max_spend` run went wrong (other than `verify`
/// answering `false`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HookError {
    /// It did not succeed: reverted (the data is the receipt's output),
    /// ran out of its budget, trapped, ...
    #[error("ended with status {0}")]
    Status(StatusCode),
    /// It succeeded but its output is not the SCALE encoding of the
    /// method's return type (`bool` for `verify`, `u64` for `max_spend`).
    #[error("returned malformed output")]
    Malformed,
}

/// Why a transaction was not applied. Each is decided before anything is
/// charged, so the principal pays nothing for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Ineffective {
    /// The bytes are not a transaction (or exceed the size limits).
    #[error("undecodable: {0}")]
    Undecodable(DecodeError),
    /// The gas limit does not cover the intrinsic gas.
    #[error("gas limit {gas_limit} is below the intrinsic gas {intrinsic}")]
    IntrinsicGas {
        /// The transaction's gas limit.
        gas_limit: u64,
        /// The intrinsic gas it needs.
        intrinsic: u64,
    },
    /// The principal is not a program and the transaction is not a
    /// self-spawn (no template given).
    #[error("principal is not spawned and no template is given")]
    NotSpawned,
    /// A self-spawn whose principal is a program already.
    #[error("principal is already spawned")]
    AlreadySpawned,
    /// A self-spawn whose template is not deployed (or not a template
    /// address).
    #[error("unknown template {0}")]
    UnknownTemplate(Address),
    /// A self-spawn whose payload is not `selector("spawn") ‖ state`.
    #[error("a self-spawn's payload must start with selector(\"spawn\")")]
    NotASpawnPayload,
    /// A self-spawn whose `program_address(template, state)` is not the
    /// principal.
    #[error("template and spawn arguments give {derived}, not the principal")]
    PrincipalMismatch {
        /// The address the template and state derive.
        derived: Address,
    },
    /// A nonce the principal has used already (a replay, or a duplicate).
    #[error("nonce too low: {got} < the account's {expected}")]
    NonceTooLow {
        /// The principal's next nonce.
        expected: u64,
        /// The transaction's nonce.
        got: u64,
    },
    /// A nonce from the future: transactions of one principal apply in
    /// nonce order, without gaps.
    #[error("nonce too high: {got} > the account's {expected}")]
    NonceTooHigh {
        /// The principal's next nonce.
        expected: u64,
        /// The transaction's nonce.
        got: u64,
    },
    /// The principal cannot prepay `gas_limit × gas_price` (including the
    /// case where that product does not fit in a `u64`).
    #[error("balance {balance} cannot prepay gas limit {gas_limit} × price {gas_price}")]
    CannotPayGas {
        /// The principal's balance.
        balance: u64,
        /// The transaction's gas limit.
        gas_limit: u64,
        /// The transaction's gas price.
        gas_price: u64,
    },
    /// `verify` answered `false`: bad signature, or signed for another
    /// network (the signed message contains the genesis id).
    #[error("verify rejected the authenticator")]
    VerifyRejected,
    /// `verify` did not answer: reverted, trapped, ran out of its budget.
    #[error("verify {0}")]
    VerifyFailed(HookError),
}

/// Why an applied transaction's payload effects were reverted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// `max_spend` did not answer; the payload did not run.
    #[error("max_spend {0}")]
    MaxSpendFailed(HookError),
    /// The payload did not succeed (revert: the receipt's output is the
    /// revert data; out of gas; trap; ...).
    #[error("payload ended with status {0}")]
    Payload(StatusCode),
    /// The payload succeeded but lowered the principal's balance (fee
    /// aside) by more than `max_spend` allowed.
    #[error("payload spent {spent}, more than max_spend {allowed}")]
    MaxSpendExceeded {
        /// How much the principal's balance went down.
        spent: u64,
        /// What `max_spend` returned.
        allowed: u64,
    },
}

/// A transaction could not be evaluated: nothing about it may be recorded
/// and the node must stop (or retry), not pick an outcome.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// The state backend failed (or is corrupt).
    #[error(transparent)]
    State(#[from] StateError),
    /// The VM or the host reported an internal error (a negative status:
    /// `internal_error`, `rejected`, `out_of_memory`), which says nothing
    /// about the transaction.
    #[error("internal error during {stage}: {status}")]
    Internal {
        /// Which run: `verify`, `max_spend` or `payload`.
        stage: &'static str,
        /// The internal status.
        status: StatusCode,
    },
}

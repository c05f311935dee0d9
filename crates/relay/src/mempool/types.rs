//! The mempool's public vocabulary: its configuration, the account state
//! it is fed, what admission plans and answers, why transactions leave, and
//! what it reports. Kept apart from `mod.rs` (the data structure and its
//! rules) so that each fits in a head.

use athena_interface::Address;

use super::undo::Undo;
use super::TxId;
use crate::error::AdmitError;

/// Limits and policies of the mempool. The defaults suit a devnet relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MempoolConfig {
    /// Most pending transactions in total; bounds memory and bundle work.
    pub max_txs: usize,
    /// Most bytes of pending transactions in total.
    pub max_bytes: usize,
    /// Most pending transactions per principal, so one account cannot fill
    /// the pool with a long nonce run.
    pub max_per_account: usize,
    /// A replacement must raise the gas price by at least this percentage
    /// (and by at least 1), so replacements cannot spam the pool for free.
    pub min_replacement_bump_percent: u64,
    /// A bundled transaction not included after the executor has passed this
    /// many blocks beyond the base-layer height at submission is bundled
    /// again.
    pub resubmit_after_blocks: u64,
    /// ... or once this many milliseconds of the relay's clock passed since
    /// the submission, whatever the heights: on an idle devnet the sequencer
    /// skips empty blocks, so a lost bundle would otherwise wait forever.
    pub resubmit_after_ms: u64,
    /// After this many submissions without inclusion a transaction is
    /// dropped (expired).
    pub max_submissions: u32,
    /// Most transactions in one bundle.
    pub max_bundle_txs: usize,
    /// Most transaction bytes in one bundle (keep it below the sequencer's
    /// request body limit).
    pub max_bundle_bytes: usize,
    /// How many dropped transaction ids (with their reason) are remembered
    /// for status queries.
    pub remember_dropped: usize,
}

impl Default for MempoolConfig {
    fn default() -> Self {
        Self {
            max_txs: 4096,
            max_bytes: 16 << 20,
            max_per_account: 16,
            min_replacement_bump_percent: 10,
            resubmit_after_blocks: 3,
            resubmit_after_ms: 20_000,
            max_submissions: 5,
            max_bundle_txs: 512,
            max_bundle_bytes: 1 << 20,
            remember_dropped: 4096,
        }
    }
}

/// A principal's committed state as the executor reports it (an unknown
/// account is `{0, 0}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AccountState {
    /// The next nonce the principal must use.
    pub nonce: u64,
    /// Its balance.
    pub balance: u64,
}

/// A decoded, size-checked transaction ready for admission. Built only by
/// [`Candidate::decode`], so its fields always agree with its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The transaction id.
    pub id: TxId,
    /// The paying account.
    pub principal: Address,
    /// Its nonce.
    pub nonce: u64,
    /// Its gas price (the ordering key).
    pub gas_price: u64,
    /// `gas_limit × gas_price`, the most it can cost in fees (u128: never
    /// overflows).
    pub max_fee: u128,
    /// The canonical encoding, exactly as submitted and as bundled.
    pub bytes: Vec<u8>,
}

impl Candidate {
    /// Decode untrusted bytes (size limits included). Decoding is canonical,
    /// so the id is the hash of exactly these bytes.
    pub fn decode(bytes: Vec<u8>) -> Result<Self, AdmitError> {
        let tx = athena_transaction::decode(&bytes).map_err(AdmitError::from_decode)?;
        Ok(Self {
            id: tx.id(),
            principal: tx.body.principal,
            nonce: tx.body.nonce,
            gas_price: tx.body.gas_price,
            max_fee: u128::from(tx.body.gas_limit) * u128::from(tx.body.gas_price),
            bytes,
        })
    }
}

/// How far the executor checked a transaction before it was admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// The executor's dry run accepted it (verify, nonce, balance).
    Verified,
    /// A transaction ahead of the committed nonce that the executor could not
    /// dry-run (its check stops at "nonce too high" before `verify`): held in
    /// the pool but not bundled until it becomes the head and passes the
    /// check.
    Deferred,
}

/// Which dry run the executor must perform for a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckKind {
    /// The nonce equals the committed nonce: a plain dry run.
    Head,
    /// The nonce is ahead of the committed nonce because predecessors are
    /// pending: dry run as if the principal's nonce were `assume_nonce` and
    /// `reserved` coins (the predecessors' max fees) were already spent.
    Chained {
        /// The candidate's nonce.
        assume_nonce: u64,
        /// Sum of the pending predecessors' max fees.
        reserved: u64,
    },
}

/// The outcome of [`super::Mempool::plan`]: what admitting a candidate would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The pending transaction it would replace (same principal and nonce).
    pub replaces: Option<TxId>,
    /// Transactions it would evict to make room, in eviction order.
    pub evict: Vec<TxId>,
    /// Its principal's transactions it would drop as cut off for good: a
    /// run stranded more than one nonce ahead (its head and more were
    /// included without using their nonces, before the next sync), which
    /// cannot join this one.
    pub orphaned: Vec<TxId>,
    /// The executor check it needs.
    pub check: CheckKind,
}

/// What [`super::Mempool::insert`] did; hand it back to
/// [`super::Mempool::undo_admission`] if the admission cannot stand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admitted {
    /// The admitted id.
    pub id: TxId,
    /// The replaced transaction, if any.
    pub replaced: Option<TxId>,
    /// Evicted transactions.
    pub evicted: Vec<TxId>,
    /// Transactions dropped because the fresh account state showed them
    /// stale, then those cut off for good ([`Plan::orphaned`]).
    pub stale: Vec<TxId>,
    /// What the admission changed, for [`super::Mempool::undo_admission`].
    pub(super) undo: Undo,
}

/// A drop record evicted from the bounded memory: its order slot and,
/// unless stale, its map entry.
pub(super) type Forgotten = ((u64, TxId), Option<(u64, DropReason)>);

/// Why a transaction left the pool without being included; remembered for
/// status queries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DropReason {
    /// A higher-priced transaction with the same nonce replaced it.
    Replaced {
        /// The replacement.
        by: TxId,
    },
    /// Evicted from a full pool by a higher-priced transaction.
    Evicted {
        /// The transaction admitted in its place.
        by: TxId,
    },
    /// Its nonce is below the committed nonce and it was not found included:
    /// another transaction used the nonce.
    Stale {
        /// The committed nonce seen.
        committed_nonce: u64,
    },
    /// The committed balance no longer covers the pending run's fees.
    Unaffordable {
        /// Committed balance.
        balance: u64,
        /// Fees of the run up to and including this transaction.
        needed: u128,
    },
    /// The executor's dry run rejected it when it became the head.
    Invalid(String),
    /// Submitted this many times without being included.
    Expired {
        /// Number of submissions.
        submissions: u32,
    },
    /// An earlier transaction of the same principal was dropped, leaving a
    /// nonce gap.
    PredecessorDropped {
        /// The dropped predecessor's nonce.
        nonce: u64,
    },
    /// The account's next nonce is not pending here (an earlier transaction
    /// was included but ineffective, or lost): the run can never execute.
    NonceGap {
        /// The account's next nonce.
        expected: u64,
    },
}

impl DropReason {
    /// Stable machine-readable code for status queries.
    pub fn code(&self) -> &'static str {
        match self {
            DropReason::Replaced { .. } => "replaced",
            DropReason::Evicted { .. } => "evicted",
            DropReason::Stale { .. } => "stale",
            DropReason::Unaffordable { .. } => "unaffordable",
            DropReason::Invalid(_) => "invalid",
            DropReason::Expired { .. } => "expired",
            DropReason::PredecessorDropped { .. } => "predecessor_dropped",
            DropReason::NonceGap { .. } => "nonce_gap",
        }
    }
}

impl std::fmt::Display for DropReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DropReason::Replaced { by } => write!(f, "replaced by {}", hex::encode(by.0)),
            DropReason::Evicted { by } => write!(f, "evicted from the full pool by {}", hex::encode(by.0)),
            DropReason::Stale { committed_nonce } => {
                write!(f, "nonce already used (account nonce is now {committed_nonce})")
            }
            DropReason::Unaffordable { balance, needed } => {
                write!(f, "balance {balance} no longer covers the pending fees {needed}")
            }
            DropReason::Invalid(reason) => write!(f, "rejected by the executor: {reason}"),
            DropReason::Expired { submissions } => write!(f, "not included after {submissions} submissions"),
            DropReason::PredecessorDropped { nonce } => {
                write!(f, "the pending transaction with nonce {nonce} was dropped")
            }
            DropReason::NonceGap { expected } => write!(
                f,
                "the account's next nonce is {expected} and no pending transaction has it (an earlier one was \
                 ineffective or lost)"
            ),
        }
    }
}

/// A pending transaction as reported by status queries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingInfo {
    /// Its principal.
    pub principal: Address,
    /// Its nonce.
    pub nonce: u64,
    /// Its gas price.
    pub gas_price: u64,
    /// Encoded size.
    pub size: usize,
    /// Whether the executor fully checked it ([`Verification::Verified`]).
    pub verified: bool,
    /// Whether it is in a submitted bundle awaiting inclusion.
    pub bundled: bool,
    /// How many times it was submitted.
    pub submissions: u32,
}

/// One principal as the pool sees it ([`super::Mempool::account_view`]):
/// what a wallet needs to pick its next nonce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountView {
    /// The committed state the pool uses (the fresher of what it knows and
    /// what the caller fetched).
    pub committed: AccountState,
    /// The nonce a new transaction should use: the committed nonce plus the
    /// recorded pending transactions that continue it without a gap.
    pub next_nonce: u64,
    /// The principal's recorded pending transactions, in nonce order (at
    /// most the pool's per-account cap).
    pub pending: Vec<(TxId, PendingInfo)>,
}

/// Pool size counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Pending transactions.
    pub txs: usize,
    /// Their bytes.
    pub bytes: usize,
    /// Principals with pending transactions.
    pub accounts: usize,
    /// Transactions in submitted bundles awaiting inclusion.
    pub bundled: usize,
    /// Transactions waiting for their predecessors before being checked.
    pub deferred: usize,
}

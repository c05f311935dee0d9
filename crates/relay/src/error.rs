//! Why the relay refuses a transaction, as one typed enum with a stable
//! machine-readable code and an HTTP status per variant.
//!
//! The codes are part of the relay's API (`docs/relay.md`): wallets branch on
//! `error`, people read `message`.

use athena_transaction::DecodeError;

/// Why a submitted transaction was not admitted to the mempool.
///
/// Each variant maps to one [`AdmitError::code`] so a client can react
/// (e.g. re-sign with a higher price on [`AdmitError::Underpriced`], wait on
/// [`AdmitError::AccountFull`]) without parsing messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdmitError {
    /// The body is not a transaction (bad JSON/hex, or the envelope does not
    /// decode). Never retried: the same bytes always fail.
    #[error("malformed transaction: {0}")]
    Malformed(String),
    /// The body or the transaction exceeds a size limit.
    #[error("oversized: {0}")]
    Oversized(String),
    /// A transaction with the same id is already pending.
    #[error("transaction {0} is already pending")]
    Duplicate(String),
    /// The nonce is below the principal's committed nonce: a replay or an
    /// already-used nonce.
    #[error("nonce too low: {got} < the account's next nonce {expected}")]
    NonceTooLow {
        /// The principal's next nonce (committed state).
        expected: u64,
        /// The transaction's nonce.
        got: u64,
    },
    /// The nonce leaves a gap after the principal's committed nonce and its
    /// pending transactions.
    #[error("nonce gap: expected nonce {expected} (committed nonce + pending transactions), got {got}")]
    NonceGap {
        /// The next nonce the relay would accept for this principal.
        expected: u64,
        /// The transaction's nonce.
        got: u64,
    },
    /// A replacement (same principal and nonce as a pending transaction) that
    /// does not raise the gas price enough.
    #[error("replacement underpriced: gas price {got} must be at least {min} to replace the pending transaction")]
    Underpriced {
        /// The lowest gas price that would replace it.
        min: u64,
        /// The replacement's gas price.
        got: u64,
    },
    /// A replacement for a pending transaction that is already in a bundle
    /// submitted to the base layer (it may still be included).
    #[error("the pending transaction with nonce {nonce} is already bundled and cannot be replaced")]
    AlreadyBundled {
        /// The nonce of the bundled transaction.
        nonce: u64,
    },
    /// The principal's `verify` method rejected the authenticator (bad
    /// signature, another network's signature) or failed to answer.
    #[error("rejected by verify: {0}")]
    RejectedByVerify(String),
    /// The principal cannot prepay the gas of this transaction and of its
    /// pending predecessors.
    #[error("cannot pay: {0}")]
    CannotPay(String),
    /// Any other reason the executor's dry run gives for the transaction
    /// being ineffective (not spawned, intrinsic gas, unknown template...).
    #[error("invalid transaction: {0}")]
    Invalid(String),
    /// The pool is full and the transaction's gas price does not beat the
    /// cheapest evictable pending transaction.
    #[error("mempool full: {0}")]
    MempoolFull(String),
    /// The principal already has the maximum number of pending transactions.
    #[error("account full: the principal already has {max} pending transactions")]
    AccountFull {
        /// The per-account cap.
        max: usize,
    },
    /// The executor (needed for the nonce, balance and verify checks) could
    /// not be reached or answered nonsense. Retrying later may succeed.
    #[error("executor unavailable: {0}")]
    ExecutorUnavailable(String),
    /// The relay could not durably record the transaction (disk error), so
    /// it did not accept it. Retrying later may succeed.
    #[error("storage unavailable: {0}")]
    StorageUnavailable(String),
}

impl AdmitError {
    /// Stable machine-readable code (the `error` field of the JSON body).
    pub fn code(&self) -> &'static str {
        match self {
            AdmitError::Malformed(_) => "malformed",
            AdmitError::Oversized(_) => "oversized",
            AdmitError::Duplicate(_) => "duplicate",
            AdmitError::NonceTooLow { .. } => "nonce_too_low",
            AdmitError::NonceGap { .. } => "nonce_gap",
            AdmitError::Underpriced { .. } => "underpriced",
            AdmitError::AlreadyBundled { .. } => "already_bundled",
            AdmitError::RejectedByVerify(_) => "rejected_by_verify",
            AdmitError::CannotPay(_) => "cannot_pay",
            AdmitError::Invalid(_) => "invalid",
            AdmitError::MempoolFull(_) => "mempool_full",
            AdmitError::AccountFull { .. } => "account_full",
            AdmitError::ExecutorUnavailable(_) => "executor_unavailable",
            AdmitError::StorageUnavailable(_) => "storage_unavailable",
        }
    }

    /// HTTP status for the error: 4xx for a problem with the request (400
    /// syntax, 409 conflicts with the pool, 413 size, 422 rejected by the
    /// state, 429 per-account cap), 503 for temporary relay-side conditions.
    pub fn http_status(&self) -> u16 {
        match self {
            AdmitError::Malformed(_) => 400,
            AdmitError::Oversized(_) => 413,
            AdmitError::Duplicate(_) | AdmitError::AlreadyBundled { .. } => 409,
            AdmitError::NonceTooLow { .. }
            | AdmitError::NonceGap { .. }
            | AdmitError::Underpriced { .. }
            | AdmitError::RejectedByVerify(_)
            | AdmitError::CannotPay(_)
            | AdmitError::Invalid(_) => 422,
            AdmitError::AccountFull { .. } => 429,
            AdmitError::MempoolFull(_) | AdmitError::ExecutorUnavailable(_) | AdmitError::StorageUnavailable(_) => 503,
        }
    }

    /// Map an envelope decoding error: size-limit violations are
    /// [`AdmitError::Oversized`], everything else [`AdmitError::Malformed`].
    pub fn from_decode(err: DecodeError) -> Self {
        match err {
            DecodeError::TooLarge { .. } | DecodeError::FieldTooLong { .. } => AdmitError::Oversized(err.to_string()),
            _ => AdmitError::Malformed(err.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use athena_transaction::Field;

    #[test]
    fn decode_errors_split_into_oversized_and_malformed() {
        let big = AdmitError::from_decode(DecodeError::TooLarge { size: 70_000, max: 65_536 });
        assert_eq!((big.code(), big.http_status()), ("oversized", 413));
        let field = AdmitError::from_decode(DecodeError::FieldTooLong { field: Field::Payload, len: 1, max: 0 });
        assert_eq!(field.code(), "oversized");
        let bad = AdmitError::from_decode(DecodeError::UnknownVersion(7));
        assert_eq!((bad.code(), bad.http_status()), ("malformed", 400));
        assert!(bad.to_string().contains("unknown transaction version 7"));
    }

    #[test]
    fn codes_are_distinct() {
        let all = [
            AdmitError::Malformed(String::new()),
            AdmitError::Oversized(String::new()),
            AdmitError::Duplicate(String::new()),
            AdmitError::NonceTooLow { expected: 0, got: 0 },
            AdmitError::NonceGap { expected: 0, got: 0 },
            AdmitError::Underpriced { min: 0, got: 0 },
            AdmitError::AlreadyBundled { nonce: 0 },
            AdmitError::RejectedByVerify(String::new()),
            AdmitError::CannotPay(String::new()),
            AdmitError::Invalid(String::new()),
            AdmitError::MempoolFull(String::new()),
            AdmitError::AccountFull { max: 0 },
            AdmitError::ExecutorUnavailable(String::new()),
            AdmitError::StorageUnavailable(String::new()),
        ];
        let codes: std::collections::BTreeSet<_> = all.iter().map(AdmitError::code).collect();
        assert_eq!(codes.len(), all.len());
        assert!(all.iter().all(|e| (400..600).contains(&e.http_status())));
    }
}

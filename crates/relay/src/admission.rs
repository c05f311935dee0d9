//! Turning the executor's dry-run verdict into an admission decision (pure).
//!
//! The executor checks a transaction in the runtime's order (decode, spawn
//! rules, intrinsic gas, nonce, balance, `verify`; `docs/transactions.md`),
//! against the committed state. For the head of a principal's run (nonce ==
//! committed nonce) the verdict is complete. For a transaction chained behind
//! pending ones the dry run necessarily stops at "nonce too high" before
//! `balance` and `verify`: such a transaction is admitted as
//! [`Verification::Deferred`] after the earlier checks and the pool's own fee
//! sum, and is bundled only once it becomes the head and passes the full dry
//! run.

use crate::clients::CheckReply;
use crate::error::AdmitError;
use crate::mempool::{CheckKind, Verification};

/// The executor's verdict, classified from its `ok` flag and reason text
/// (the runtime's `Ineffective` messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Effective now (its payload may still fail; it pays its fee).
    Ok,
    /// The nonce is used.
    NonceTooLow,
    /// The nonce is ahead of the committed one.
    NonceTooHigh,
    /// The balance cannot prepay the gas.
    CannotPay(String),
    /// `verify` rejected the authenticator or failed.
    Verify(String),
    /// Anything else: not spawned, intrinsic gas, unknown template...
    Invalid(String),
}

/// Classify a dry-run reply.
pub fn classify(reply: &CheckReply) -> Verdict {
    if reply.ok {
        return Verdict::Ok;
    }
    let reason = reply.reason.clone().unwrap_or_else(|| "rejected by the executor's dry run".into());
    let lower = reason.to_ascii_lowercase();
    // "already included in block N": the executor's replay guard.
    if lower.contains("nonce too low") || lower.contains("already included") {
        Verdict::NonceTooLow
    } else if lower.contains("nonce too high") {
        Verdict::NonceTooHigh
    } else if lower.contains("cannot prepay") || lower.contains("cannot pay") {
        Verdict::CannotPay(reason)
    } else if lower.starts_with("verify") {
        Verdict::Verify(reason)
    } else {
        Verdict::Invalid(reason)
    }
}

/// Decide admission from the pool's plan (`check`) and the verdict.
/// `nonce` is the transaction's, `committed` the executor's account nonce.
pub fn decide(check: CheckKind, verdict: Verdict, nonce: u64, committed: u64) -> Result<Verification, AdmitError> {
    match (check, verdict) {
        (_, Verdict::Ok) => Ok(Verification::Verified),
        (CheckKind::Chained { .. }, Verdict::NonceTooHigh) => Ok(Verification::Deferred),
        (CheckKind::Head, Verdict::NonceTooHigh) => Err(AdmitError::NonceGap { expected: committed, got: nonce }),
        (_, Verdict::NonceTooLow) => Err(AdmitError::NonceTooLow { expected: committed, got: nonce }),
        (_, Verdict::CannotPay(r)) => Err(AdmitError::CannotPay(r)),
        (_, Verdict::Verify(r)) => Err(AdmitError::RejectedByVerify(r)),
        (_, Verdict::Invalid(r)) => Err(AdmitError::Invalid(r)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(ok: bool, reason: &str) -> CheckReply {
        CheckReply { ok, reason: Some(reason.into()), account_nonce: Some(3), balance: Some(10) }
    }

    #[test]
    fn classifies_runtime_reasons() {
        // The runtime's `Ineffective` Display texts.
        assert_eq!(classify(&reply(true, "payload ended with status revert")), Verdict::Ok);
        assert_eq!(classify(&reply(false, "nonce too low: 2 < the account's 3")), Verdict::NonceTooLow);
        assert_eq!(classify(&reply(false, "nonce too high: 5 > the account's 3")), Verdict::NonceTooHigh);
        assert_eq!(classify(&reply(false, "already included in block 7")), Verdict::NonceTooLow);
        let pay = "balance 10 cannot prepay gas limit 100 × price 1";
        assert_eq!(classify(&reply(false, pay)), Verdict::CannotPay(pay.into()));
        let v = "verify rejected the authenticator";
        assert_eq!(classify(&reply(false, v)), Verdict::Verify(v.into()));
        assert!(matches!(classify(&reply(false, "verify ran out of gas")), Verdict::Verify(_)));
        let ns = "principal is not spawned and no template is given";
        assert_eq!(classify(&reply(false, ns)), Verdict::Invalid(ns.into()));
        let none = CheckReply { ok: false, ..Default::default() };
        assert!(matches!(classify(&none), Verdict::Invalid(_)));
    }

    #[test]
    fn head_needs_ok_chained_may_defer() {
        let chained = CheckKind::Chained { assume_nonce: 4, reserved: 0 };
        assert_eq!(decide(CheckKind::Head, Verdict::Ok, 3, 3), Ok(Verification::Verified));
        assert_eq!(decide(chained, Verdict::NonceTooHigh, 4, 3), Ok(Verification::Deferred));
        assert_eq!(
            decide(CheckKind::Head, Verdict::NonceTooHigh, 4, 3),
            Err(AdmitError::NonceGap { expected: 3, got: 4 })
        );
        assert_eq!(
            decide(CheckKind::Head, Verdict::NonceTooLow, 2, 3),
            Err(AdmitError::NonceTooLow { expected: 3, got: 2 })
        );
        assert_eq!(
            decide(CheckKind::Head, Verdict::Verify("v".into()), 3, 3).unwrap_err().code(),
            "rejected_by_verify"
        );
        assert_eq!(decide(CheckKind::Head, Verdict::CannotPay("c".into()), 3, 3).unwrap_err().code(), "cannot_pay");
        assert_eq!(decide(chained, Verdict::Invalid("i".into()), 4, 3).unwrap_err().code(), "invalid");
    }
}

//! Building a proposal against a node: account, nonce, gas and the
//! pre-signing dry run ([`Precheck`]).

use super::{Multisig, MultisigError, Proposal};
use crate::builder::{Call, TxParams};
use crate::client::{Account, Check};
use crate::session::{gas_limit_for_balance, NonceSource, SendOptions, Session, WalletError};

/// The reason the executor's dry run gives when `verify` answers `false`
/// (`athena_runtime::tx::Ineffective::VerifyRejected`'s message): what an
/// unsigned multisig transaction that passed every earlier check gets.
pub const VERIFY_REJECTED: &str = "verify rejected the authenticator";

/// What the pre-signing dry run of a proposal found.
///
/// The executor's dry run (`POST /v1/transactions/check`) applies the
/// transaction in full, `verify` included, and a proposal has no
/// signatures yet, so the multisig's `verify` must refuse it. What the dry
/// run can still establish is everything the runtime checks *before*
/// `verify` (docs/transactions.md, "Execution", steps 1–3). It cannot run
/// `max_spend` or the payload, and an ineffective transaction uses no gas,
/// so it gives no gas estimate: that needs a node that can dry-run without
/// `verify` (docs/wallet.md, "Multisig").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precheck {
    /// The unsigned transaction got as far as `verify`, which refused the
    /// missing signatures: it decodes, fits the size limits, its principal
    /// is right for the call (spawned, or a self-spawn of a deployed
    /// template at the derived address), its gas limit covers the
    /// intrinsic gas, its nonce is the committed one and the balance
    /// prepays `gas_limit × gas_price`.
    ReachedVerify,
    /// Not run: `--no-check`.
    Skipped,
    /// Not run: the nonce is above the committed one (pending transactions
    /// come first; the dry run only knows the committed state, where this
    /// nonce is from the future). A nonce below it is dry-run, and refused.
    PendingNonce,
    /// Not run: the node has no dry-run endpoint.
    Unavailable,
}

/// A built proposal and how it was made.
#[derive(Debug, Clone)]
pub struct Proposed {
    /// The proposal, without signatures.
    pub proposal: Proposal,
    /// Where the nonce came from.
    pub nonce_source: NonceSource,
    /// The multisig's account as the node reported it.
    pub account: Account,
    /// What the pre-signing dry run found.
    pub precheck: Precheck,
}

/// Builds the unsigned transaction of `call` for `multisig` the way
/// [`Session::prepare`] builds a wallet's: the principal account checked
/// (a self-spawn needs coins and no program; anything else a spawned
/// account), the nonce from `--nonce`, the relay or the committed state,
/// the gas limit explicit or [`Multisig::default_gas_limit`] lowered to
/// what the balance can prepay. With `options.check`, unless the nonce is
/// above the committed one, the unsigned transaction is then dry-run ([`Precheck`]); an
/// outcome other than `verify` refusing the missing signatures is an error
/// and no proposal is made. `athena multisig submit` dry-runs the signed
/// transaction in full.
pub fn propose(
    session: &Session,
    multisig: &Multisig,
    call: &Call,
    options: SendOptions,
) -> Result<Proposed, MultisigError> {
    let address = multisig.address();
    let text = session.network().encode_address(&address);
    let account = session.principal_account(&address, matches!(call, Call::SelfSpawn)).map_err(|e| match e {
        WalletError::NotSpawned { address, balance } => WalletError::Other(format!(
            "multisig {address} is not spawned yet (it holds {balance} coins): propose its self-spawn first \
             (`athena multisig propose spawn`)"
        )),
        WalletError::Unfunded(address) => WalletError::Other(format!(
            "multisig address {address} has no coins: send it some first (its self-spawn pays its own fee)"
        )),
        WalletError::AlreadySpawned(address) => WalletError::Other(format!("multisig {address} is already spawned")),
        e => e,
    })?;
    let (nonce, nonce_source) = session.next_nonce(&address, &account, options.nonce);
    let gas_limit = gas_limit_for_balance(&text, &account, call, multisig.default_gas_limit(call), options)?;
    let tx = multisig.unsigned(call, TxParams { nonce, gas_limit, gas_price: options.gas_price });
    let precheck = if !options.check {
        Precheck::Skipped
    } else if nonce > account.nonce {
        Precheck::PendingNonce
    } else {
        // The unsigned transaction with an empty authenticator: what the
        // signers will sign, minus the signatures.
        match session.dry_run(&tx.clone().with_authenticator(Vec::new()))? {
            None => Precheck::Unavailable,
            Some(check) => interpret(&check)?,
        }
    };
    let proposal = Proposal::new(session.network().clone(), multisig.clone(), tx)?;
    Ok(Proposed { proposal, nonce_source, account, precheck })
}

/// The [`Precheck`] of a dry run of an unsigned multisig transaction, or
/// the error it shows.
fn interpret(check: &Check) -> Result<Precheck, MultisigError> {
    let reason = check.reason.clone().unwrap_or_else(|| "no reason given".into());
    match check.status.as_str() {
        "ineffective" if reason == VERIFY_REJECTED => Ok(Precheck::ReachedVerify),
        "ineffective" => Err(MultisigError::PrecheckFailed(reason)),
        // `verify` accepted no signatures at all: not a k-of-n multisig.
        status => Err(MultisigError::PrecheckFailed(format!(
            "the account's verify accepted the transaction without any signature (dry run status {status}): its \
             template does not behave like the multisig template"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(status: &str, reason: Option<&str>) -> Check {
        Check { ok: false, status: status.into(), reason: reason.map(Into::into), revert_message: None, gas_used: 0 }
    }

    #[test]
    fn only_a_verify_rejection_passes() {
        assert_eq!(interpret(&check("ineffective", Some(VERIFY_REJECTED))).unwrap(), Precheck::ReachedVerify);
        let err = interpret(&check("ineffective", Some("nonce too low: 1 < the account's 2"))).unwrap_err();
        assert!(err.to_string().contains("nonce too low"), "{err}");
        assert!(err.to_string().contains("--no-check"), "{err}");
        let err = interpret(&check("succeeded", None)).unwrap_err();
        assert!(err.to_string().contains("without any signature"), "{err}");
        assert!(interpret(&check("ineffective", None)).unwrap_err().to_string().contains("no reason given"));
    }
}

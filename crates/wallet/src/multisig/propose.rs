//! Building a proposal against a node (account, nonce, gas and the
//! pre-signing dry run, [`Precheck`]), or offline from given values
//! ([`propose_offline`]).

use super::{Multisig, MultisigError, Proposal};
use crate::builder::{Call, TxParams};
use crate::client::{Account, Check};
use crate::key::parse_hex32;
use crate::session::parse_template_any;
use crate::session::{
    gas_limit_for_balance, gas_with_margin, would_fail, NonceSource, SendOptions, Session, WalletError,
};
use athena_engine::gas;
use athena_interface::{Address, Bytes32};
use athena_transaction::Network;
use parity_scale_codec::Encode;

/// The reason the executor's dry run gives when `verify` answers `false`
/// (`athena_runtime::tx::Ineffective::VerifyRejected`'s message): what an
/// unsigned multisig transaction that passed every earlier check gets.
pub const VERIFY_REJECTED: &str = "verify rejected the authenticator";

/// What the pre-signing dry run of a proposal found.
///
/// The unsigned transaction goes to the executor's dry run in its estimate
/// mode (`POST /v1/transactions/check?ignore_verify=true`, docs/node.md),
/// with a placeholder authenticator of exactly `k` well-formed entries and
/// zero signatures ([`placeholder_authenticator`]): the same size as the
/// signed transaction, and `verify` does its count and order checks before
/// the first ed25519 check refuses. The node runs `verify`, charges it and
/// goes on as if it had accepted, so `max_spend` and the payload run: a
/// call that would fail is caught before anyone signs, and the gas used
/// plus the `k − 1` ed25519 checks `verify` did not reach estimates the
/// signed transaction's gas (docs/wallet.md, "Multisig").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precheck {
    /// The estimate mode ran the call and it succeeds.
    Estimated {
        /// Gas the dry run used (`verify` stopped at its first check).
        dry_run_gas: u64,
        /// `dry_run_gas` plus the unreached ed25519 checks: about what the
        /// signed transaction uses. The gas limit is this with the wallet's
        /// margin ([`gas_with_margin`]), unless `--gas` gave one.
        needed: u64,
    },
    /// A node without the estimate mode (its answer has no
    /// `verify_accepted`): the unsigned transaction got as far as
    /// `verify`, which refused the missing signatures. It decodes, fits
    /// the size limits, its principal is right for the call, its gas limit
    /// covers the intrinsic gas, its nonce is the committed one and the
    /// balance prepays `gas_limit × gas_price`; the call itself and its
    /// gas were not checked (the default gas limit stays).
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

/// The authenticator the estimate dry run carries: `k` entries with key
/// indices `0..k` in increasing order and all-zero signatures. Same length
/// as the real one (so the same intrinsic gas), and the multisig's
/// `verify` passes its shape checks and refuses at the first ed25519
/// check.
pub fn placeholder_authenticator(k: u8) -> Vec<u8> {
    (0..k).map(|i| (i, [0u8; 64])).collect::<Vec<(u8, [u8; 64])>>().encode()
}

/// What one ed25519 check of a `message_len`-byte message costs in a
/// guest: the host precompile's price (`athena_engine::gas`, the crate
/// that charges it, so the two cannot drift apart).
pub fn ed25519_check_gas(message_len: usize) -> u64 {
    gas::ed25519_verify(u32::try_from(message_len).unwrap_or(u32::MAX))
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
/// above the committed one, the unsigned transaction is then dry-run in
/// the node's estimate mode ([`Precheck`]): a call that would fail or be
/// refused is an error and no proposal is made; otherwise, without an
/// explicit gas limit, the limit becomes the estimate with the wallet's
/// margin. A node without the estimate mode gives
/// [`Precheck::ReachedVerify`] and the default limit stays. `athena
/// multisig submit` dry-runs the signed transaction in full.
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
    let params = |gas_limit| TxParams { nonce, gas_limit, gas_price: options.gas_price };
    let mut tx = multisig.unsigned(call, params(gas_limit));
    let precheck = if !options.check {
        Precheck::Skipped
    } else if nonce > account.nonce {
        Precheck::PendingNonce
    } else {
        let k = multisig.threshold();
        let probe = tx.clone().with_authenticator(placeholder_authenticator(k));
        let unreached = Unreached {
            checks: u64::from(k.saturating_sub(1)),
            each: ed25519_check_gas(tx.signing_bytes(session.network()).len()),
        };
        match session.dry_run_estimate(&probe)? {
            None => Precheck::Unavailable,
            Some(check) => {
                let precheck = interpret(&check, unreached, gas_limit)?;
                if let (Precheck::Estimated { needed, .. }, None) = (&precheck, options.gas_limit) {
                    // Never above the limit that was checked (and prepaid).
                    tx = multisig.unsigned(call, params(gas_limit.min(gas_with_margin(*needed))));
                }
                precheck
            }
        }
    };
    let proposal = Proposal::new(session.network().clone(), multisig.clone(), tx)?;
    Ok(Proposed { proposal, nonce_source, account, precheck })
}

/// Builds the unsigned transaction of `call` for `multisig` without a
/// node, for a signer set that is kept offline (or a node that is down):
/// `network` (HRP and genesis id, which the signing message binds), nonce
/// and gas exactly as given ([`offline_network`] makes the network from the
/// user's input). Nothing is checked against the chain — neither that the
/// account exists or can pay, nor the nonce, nor that the call would
/// succeed — so the proposal is marked as made offline
/// ([`Proposal::made_offline`]) and `athena multisig submit` dry-runs the
/// signed transaction in full before sending it. Refuses a gas limit of
/// zero and a `gas_limit × gas_price` that overflows (no node would accept
/// either). The same inputs give the same transaction as [`propose`] with
/// `--nonce` and `--gas-limit`.
pub fn propose_offline(
    network: &Network,
    multisig: &Multisig,
    call: &Call,
    params: TxParams,
) -> Result<Proposal, MultisigError> {
    if params.gas_limit == 0 {
        return Err(MultisigError::Offline("--gas-limit 0: the transaction could not pay its intrinsic gas".into()));
    }
    if params.gas_limit.checked_mul(params.gas_price).is_none() {
        return Err(MultisigError::Offline(format!(
            "--gas-limit {} × --gas-price {} overflows the prepayment",
            params.gas_limit, params.gas_price
        )));
    }
    let tx = multisig.unsigned(call, params);
    Ok(Proposal::new(network.clone(), multisig.clone(), tx)?.mark_offline())
}

/// The network of an offline proposal: the HRP of the multisig template's
/// address `template` (bech32, any network) and `genesis_id` (64 hex
/// digits, e.g. `genesis_id` of a node's `GET /v1/status`). Returns it with
/// the template. Refuses a program address, a malformed genesis id and the
/// all-zero one (no real network's: a placeholder left in).
pub fn offline_network(template: &str, genesis_id: &str) -> Result<(Network, Address), MultisigError> {
    let (hrp, address) =
        parse_template_any("multisig template", template).map_err(|e| MultisigError::Offline(e.to_string()))?;
    let hex_text = genesis_id.strip_prefix("0x").unwrap_or(genesis_id);
    let genesis = parse_hex32(hex_text).map_err(|e| {
        MultisigError::Offline(format!("--genesis-id {genesis_id:?}: {e} (need the 64 hex digits of the genesis id)"))
    })?;
    if genesis == [0; 32] {
        return Err(MultisigError::Offline(format!(
            "--genesis-id {genesis_id:?} is all zeros, which is no network's genesis id"
        )));
    }
    let network = Network::new(&hrp, Bytes32::new(genesis)).map_err(|e| MultisigError::Offline(e.to_string()))?;
    Ok((network, address))
}

/// The ed25519 checks an estimate's `verify` did not reach (it stops at
/// the first, which the placeholder fails), and the gas of each.
#[derive(Debug, Clone, Copy)]
struct Unreached {
    checks: u64,
    each: u64,
}

/// The [`Precheck`] of an estimate-mode dry run of an unsigned multisig
/// transaction that ran with gas limit `limit`, or the error it shows.
fn interpret(check: &Check, unreached: Unreached, limit: u64) -> Result<Precheck, MultisigError> {
    let reason = check.reason.clone().unwrap_or_else(|| "no reason given".into());
    let accepted_unsigned = |status: &str| {
        // `verify` accepted no signatures at all: not a k-of-n multisig.
        MultisigError::PrecheckFailed(format!(
            "the account's verify accepted the transaction without any signature (dry run status {status}): its \
             template does not behave like the multisig template"
        ))
    };
    match (check.verify_accepted, check.status.as_str()) {
        // A node without the estimate mode ran an ordinary dry run.
        (None, "ineffective") if reason == VERIFY_REJECTED => Ok(Precheck::ReachedVerify),
        (_, "ineffective") => Err(MultisigError::PrecheckFailed(reason)),
        (None | Some(true), status) => Err(accepted_unsigned(status)),
        (Some(false), "succeeded") => {
            let extra = unreached.checks.saturating_mul(unreached.each);
            let needed = check.gas_used.saturating_add(extra);
            if needed > limit {
                return Err(MultisigError::GasTooLow {
                    limit,
                    used: check.gas_used,
                    checks: unreached.checks,
                    needed,
                    suggested: gas_with_margin(needed),
                });
            }
            Ok(Precheck::Estimated { dry_run_gas: check.gas_used, needed })
        }
        (Some(false), _) => match would_fail(check) {
            WalletError::WouldFail { verb, reason } => Err(MultisigError::WouldFail { verb, reason }),
            e => Err(e.into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNREACHED: Unreached = Unreached { checks: 1, each: 20_100 };

    fn check(status: &str, reason: Option<&str>, verify_accepted: Option<bool>, gas_used: u64) -> Check {
        let reason = reason.map(Into::into);
        Check { ok: false, status: status.into(), reason, revert_message: None, gas_used, verify_accepted }
    }

    #[test]
    fn an_estimate_adds_the_unreached_checks_and_must_fit_the_limit() {
        let estimated = interpret(&check("succeeded", None, Some(false), 50_000), UNREACHED, 100_000).unwrap();
        assert_eq!(estimated, Precheck::Estimated { dry_run_gas: 50_000, needed: 70_100 });
        let err = interpret(&check("succeeded", None, Some(false), 50_000), UNREACHED, 70_099).unwrap_err();
        let suggested = gas_with_margin(70_100);
        assert!(err.to_string().contains("needs about 70100 gas (the dry run's 50000 plus 1 more"), "{err}");
        assert!(err.to_string().contains(&format!("--gas {suggested}")), "{err}");
        let mut failed = check("failed", Some("payload reverted"), Some(false), 60_000);
        failed.revert_message = Some("multisig: insufficient balance".into());
        let err = interpret(&failed, UNREACHED, 100_000).unwrap_err();
        assert!(err.to_string().contains("would fail: payload reverted: multisig: insufficient balance"), "{err}");
        let err = interpret(&check("ineffective", Some("verify reverted"), Some(false), 0), UNREACHED, 1).unwrap_err();
        assert!(err.to_string().contains("verify reverted"), "{err}");
        let err = interpret(&check("succeeded", None, Some(true), 1), UNREACHED, 100_000).unwrap_err();
        assert!(err.to_string().contains("without any signature"), "{err}");
    }

    #[test]
    fn without_the_estimate_mode_only_a_verify_rejection_passes() {
        let interpret = |c: &Check| interpret(c, UNREACHED, 100_000);
        assert_eq!(interpret(&check("ineffective", Some(VERIFY_REJECTED), None, 0)).unwrap(), Precheck::ReachedVerify);
        let err = interpret(&check("ineffective", Some("nonce too low: 1 < the account's 2"), None, 0)).unwrap_err();
        assert!(err.to_string().contains("nonce too low"), "{err}");
        assert!(err.to_string().contains("--no-check"), "{err}");
        let err = interpret(&check("succeeded", None, None, 0)).unwrap_err();
        assert!(err.to_string().contains("without any signature"), "{err}");
        assert!(interpret(&check("ineffective", None, None, 0)).unwrap_err().to_string().contains("no reason given"));
    }

    #[test]
    fn the_placeholder_has_k_ordered_entries_and_one_check_costs_the_precompile() {
        let entries =
            <Vec<(u8, [u8; 64])> as parity_scale_codec::Decode>::decode(&mut &placeholder_authenticator(3)[..]);
        assert_eq!(entries.unwrap(), vec![(0, [0; 64]), (1, [0; 64]), (2, [0; 64])]);
        assert_eq!(ed25519_check_gas(64), gas::ED25519_VERIFY + gas::ED25519_VERIFY_PER_BLOCK);
        assert_eq!(ed25519_check_gas(65), gas::ED25519_VERIFY + 2 * gas::ED25519_VERIFY_PER_BLOCK);
    }
}

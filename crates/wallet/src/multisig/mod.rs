//! k-of-n multisig accounts (`guest/templates/multisig`, docs/templates.md)
//! and offline signing through proposal files (docs/wallet.md,
//! "Multisig").
//!
//! A multisig is the program `program_address(multisig template, SCALE((k,
//! keys)))`; its transactions are the wallet's calls ([`Call`]) with the
//! authenticator `SCALE(Vec<(u8, [u8; 64])>)`: exactly `k` (key index,
//! ed25519 signature of the signing message) entries, indices strictly
//! increasing. Since the signers rarely share a machine, a transaction
//! goes through a [`Proposal`]: one person builds the unsigned transaction
//! ([`propose`], with nonce and gas chosen like [`Session::prepare`]),
//! each signer adds a signature to the file ([`Proposal::sign`]), and
//! anyone submits it once `k` are there ([`Proposal::transaction`]).
//!
//! Files: this one the multisig itself (state, address, authenticator,
//! template discovery, signers); `proposal` the proposal and its file
//! format; `propose` building one against a node, with the pre-signing dry
//! run, or offline from given nonce, gas and genesis id; `summary` what a proposal does, decoded for the signers.

mod proposal;
mod propose;
mod summary;
#[cfg(test)]
mod tests;

pub use proposal::Proposal;
pub use propose::{
    ed25519_check_gas, offline_network, placeholder_authenticator, propose, propose_offline, Precheck, Proposed,
    VERIFY_REJECTED,
};
pub use summary::{decode_call, describe_call, Summary};

use crate::builder::{Call, TxParams};
use crate::key::parse_hex32;
use crate::session::{Session, WalletError};
use athena_interface::Address;
use athena_transaction::{program_address, UnsignedTransaction};
use parity_scale_codec::Encode;
use std::collections::BTreeMap;
use std::path::Path;

/// Most keys a multisig may have (the template's `MAX_KEYS`).
pub const MAX_KEYS: usize = 10;

/// The `version` of the proposal files this code writes and reads.
pub const PROPOSAL_VERSION: u32 = 1;

/// Why a multisig operation stopped.
#[derive(Debug, thiserror::Error)]
pub enum MultisigError {
    /// `k` and the keys do not form a multisig the template accepts.
    #[error("invalid multisig: {0}")]
    BadKeySet(String),
    /// A key that is not one of the multisig's signers.
    #[error("key {public_key} is not one of this multisig's {n} signers")]
    NotASigner {
        /// The key (hex).
        public_key: String,
        /// How many signers there are.
        n: usize,
    },
    /// The signer signed already.
    #[error("signer {index} (key {public_key}) has already signed this proposal")]
    AlreadySigned {
        /// The signer's index.
        index: u8,
        /// Its key (hex).
        public_key: String,
    },
    /// Fewer signatures than the threshold.
    #[error("the proposal has {have} of the {need} signatures it needs (signed by {signed}): collect more with `athena multisig sign`")]
    NotEnoughSignatures {
        /// Signatures present.
        have: usize,
        /// The threshold `k`.
        need: u8,
        /// Who signed (indices), or "nobody".
        signed: String,
    },
    /// A signature in the file does not verify.
    #[error("the signature of signer {index} does not verify for this transaction")]
    BadSignature {
        /// The signer's index.
        index: u8,
    },
    /// The proposal file is not a valid proposal.
    #[error("proposal {path}: {reason}")]
    Malformed {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// Refused to overwrite a file.
    #[error("{0} exists already: pass --force to replace it")]
    Exists(String),
    /// The proposal is for another network than the node's.
    #[error("the proposal is for network {proposal}, but the node runs {node}: point --node at the right network")]
    WrongNetwork {
        /// The proposal's network (HRP and genesis id).
        proposal: String,
        /// The node's.
        node: String,
    },
    /// The node does not name a multisig template.
    #[error(
        "the node does not name a multisig template (GET /v1/status has no templates.multisig): pass \
         --multisig-template ADDR or set ATHENA_MULTISIG_TEMPLATE"
    )]
    NoMultisigTemplate,
    /// The pre-signing dry run refused the unsigned transaction for a
    /// reason other than its missing signatures ([`Precheck`]).
    #[error(
        "dry run of the unsigned transaction: it would be refused before its signatures are checked: {0}; no \
         proposal written (pass --no-check to propose it anyway)"
    )]
    PrecheckFailed(String),
    /// The pre-signing dry run, run as if signed (the node's estimate
    /// mode), says the call itself would fail: signing it would only pay
    /// a fee for nothing.
    #[error(
        "dry run of the unsigned transaction, run as if signed: the transaction would {verb}: {reason}; no \
         proposal written (pass --no-check to propose it anyway)"
    )]
    WouldFail {
        /// `fail` or `be ineffective`.
        verb: String,
        /// Why (with the revert message if any).
        reason: String,
    },
    /// The estimate of the signed transaction's gas exceeds its gas limit
    /// (explicit, or the default lowered to what the balance prepays).
    #[error(
        "the signed transaction needs about {needed} gas (the dry run's {used} plus {checks} more signature \
         checks), more than its gas limit {limit}: pass --gas {suggested} (the account must prepay it) or \
         --no-check; no proposal written"
    )]
    GasTooLow {
        /// The gas limit the dry run ran with.
        limit: u64,
        /// The dry run's gas.
        used: u64,
        /// The ed25519 checks the dry run did not reach.
        checks: u64,
        /// `used` plus their cost.
        needed: u64,
        /// `needed` with the wallet's margin.
        suggested: u64,
    },
    /// An offline proposal's input is unusable (`propose --offline`).
    #[error("offline proposal: {0}")]
    Offline(String),
    /// A wallet error (node, account, balance, relay).
    #[error(transparent)]
    Wallet(#[from] WalletError),
}

/// A k-of-n multisig: its template, threshold and keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Multisig {
    template: Address,
    k: u8,
    keys: Vec<[u8; 32]>,
}

impl Multisig {
    /// The multisig of `template` with threshold `k` and `keys` (in this
    /// order: an authenticator names them by index). Refuses what the
    /// template's `spawn` would refuse: `1 ≤ k ≤ n ≤ 10`, no key twice.
    pub fn new(template: Address, k: u8, keys: Vec<[u8; 32]>) -> Result<Self, MultisigError> {
        let n = keys.len();
        if n == 0 || n > MAX_KEYS {
            return Err(MultisigError::BadKeySet(format!("{n} signers; a multisig has 1 to {MAX_KEYS}")));
        }
        if k == 0 || usize::from(k) > n {
            return Err(MultisigError::BadKeySet(format!("threshold {k} with {n} signers; need 1 <= k <= {n}")));
        }
        for (i, key) in keys.iter().enumerate() {
            if let Some(j) = keys[i + 1..].iter().position(|other| other == key) {
                return Err(MultisigError::BadKeySet(format!(
                    "signers {i} and {} are the same key {}",
                    i + 1 + j,
                    hex::encode(key)
                )));
            }
        }
        Ok(Self { template, k, keys })
    }

    /// The multisig template.
    pub fn template(&self) -> &Address {
        &self.template
    }

    /// The threshold `k`.
    pub fn threshold(&self) -> u8 {
        self.k
    }

    /// The signers' public keys, in index order.
    pub fn keys(&self) -> &[[u8; 32]] {
        &self.keys
    }

    /// The state, `SCALE((k, keys))`: `k ‖ compact(n) ‖ key₀ ‖ …`.
    pub fn state(&self) -> Vec<u8> {
        (self.k, &self.keys).encode()
    }

    /// The account's address, known before it exists.
    pub fn address(&self) -> Address {
        program_address(&self.template, &self.state())
    }

    /// The index of `public_key` among the signers.
    pub fn index_of(&self, public_key: &[u8; 32]) -> Option<u8> {
        self.keys.iter().position(|k| k == public_key).and_then(|i| u8::try_from(i).ok())
    }

    /// A gas limit for `call` when neither the user nor a dry run gives
    /// one (a node without the dry run's estimate mode cannot run an
    /// unsigned multisig transaction past `verify`); also the limit the
    /// estimate runs with:
    /// the wallet's default plus 30 000 per required signature (each
    /// ed25519 check costs 20 000, plus the longer authenticator and
    /// state). About 2× the measured costs (docs/templates.md: 77 683 for a
    /// 2-of-3 self-spawn, 240 754 for a 10-of-10 spend). Unused gas is
    /// refunded.
    pub fn default_gas_limit(&self, call: &Call) -> u64 {
        call.default_gas_limit().saturating_add(30_000 * u64::from(self.k))
    }

    /// The unsigned transaction for `call` (the self-spawn carries the
    /// template field and the state).
    pub fn unsigned(&self, call: &Call, params: TxParams) -> UnsignedTransaction {
        call.unsigned(self.address(), self.template, &self.state(), params)
    }
}

/// The authenticator the multisig's `verify` accepts:
/// `SCALE(Vec<(u8, [u8; 64])>)` of exactly `k` entries, the signers with the
/// lowest indices among `signatures`, in increasing index order.
pub fn authenticator(k: u8, signatures: &BTreeMap<u8, [u8; 64]>) -> Result<Vec<u8>, MultisigError> {
    if signatures.len() < usize::from(k) {
        return Err(MultisigError::NotEnoughSignatures {
            have: signatures.len(),
            need: k,
            signed: signer_list(signatures.keys()),
        });
    }
    // A BTreeMap iterates in increasing key order.
    let entries: Vec<(u8, [u8; 64])> = signatures.iter().take(usize::from(k)).map(|(i, s)| (*i, *s)).collect();
    Ok(entries.encode())
}

fn signer_list<'a>(indices: impl Iterator<Item = &'a u8>) -> String {
    let list: Vec<String> = indices.map(|i| i.to_string()).collect();
    if list.is_empty() {
        "nobody".into()
    } else {
        format!("signer {}", list.join(", "))
    }
}

/// Whether a genesis template `name` (a key of `GET /v1/status`'s
/// `templates`) is the multisig template: named `multisig`, or with file
/// stem `multisig` (e.g. `templates/multisig.elf`).
pub fn names_multisig_template(name: &str) -> bool {
    let stem = Path::new(name).file_stem().and_then(|s| s.to_str());
    name == "multisig" || stem == Some("multisig")
}

/// The multisig template: `explicit` (a flag) if given, else the node's
/// `templates.multisig`.
pub fn multisig_template(session: &Session, explicit: Option<&str>) -> Result<Address, MultisigError> {
    session.template("multisig template", names_multisig_template, explicit)?.ok_or(MultisigError::NoMultisigTemplate)
}

/// Parses a signer given on the command line: 64 hex digits (a public key),
/// or a key file, of which only the `public` field is read (so another
/// signer's public key file, without or with an encrypted secret, will do).
pub fn parse_signer(text: &str) -> Result<[u8; 32], MultisigError> {
    let hex_text = text.strip_prefix("0x").unwrap_or(text);
    if hex_text.len() == 64 && hex_text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return parse_hex32(hex_text).map_err(|e| MultisigError::BadKeySet(format!("signer {text:?}: {e}")));
    }
    let path = Path::new(text);
    let json = std::fs::read_to_string(path).map_err(|source| MultisigError::Io {
        path: format!("signer {text:?} (neither 64 hex digits nor a readable key file)"),
        source,
    })?;
    let bad = |reason: &str| MultisigError::BadKeySet(format!("signer key file {}: {reason}", path.display()));
    let value: serde_json::Value = serde_json::from_str(&json).map_err(|_| bad("not JSON"))?;
    let public = value.get("public").and_then(|p| p.as_str()).ok_or_else(|| bad("no \"public\" field"))?;
    parse_hex32(public).map_err(|e| bad(&format!("public: {e}")))
}

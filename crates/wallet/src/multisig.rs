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

use crate::builder::{Call, TxParams};
use crate::client::Account;
use crate::key::{parse_hex32, Key};
use crate::session::{gas_limit_for_balance, NonceSource, SendOptions, Session, WalletError};
use athena_interface::{Address, Bytes32};
use athena_transaction::{program_address, selector, split_payload, Network, Transaction, UnsignedTransaction};
use ed25519_dalek::{Signature, Signer, VerifyingKey};
use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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
    /// one (a multisig transaction cannot be dry-run before it is signed):
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

/// An unsigned multisig transaction and the signatures collected so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    network: Network,
    multisig: Multisig,
    tx: UnsignedTransaction,
    signatures: BTreeMap<u8, [u8; 64]>,
}

/// Builds the unsigned transaction of `call` for `multisig` the way
/// [`Session::prepare`] builds a wallet's: the principal account checked
/// (a self-spawn needs coins and no program; anything else a spawned
/// account), the nonce from `--nonce`, the relay or the committed state,
/// the gas limit explicit or the call's default lowered to what the
/// balance can prepay. There is no dry run (the executor's needs the
/// signatures; `athena multisig submit` runs it). Returns the proposal, the
/// nonce's source and the account.
pub fn propose(
    session: &Session,
    multisig: &Multisig,
    call: &Call,
    options: SendOptions,
) -> Result<(Proposal, NonceSource, Account), MultisigError> {
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
    let (nonce, source) = session.next_nonce(&address, &account, options.nonce);
    let gas_limit = gas_limit_for_balance(&text, &account, call, multisig.default_gas_limit(call), options)?;
    let tx = multisig.unsigned(call, TxParams { nonce, gas_limit, gas_price: options.gas_price });
    let proposal = Proposal::new(session.network().clone(), multisig.clone(), tx)?;
    Ok((proposal, source, account))
}

/// The proposal file (JSON). Everything is derivable from `network`,
/// `genesis_id`, `multisig_template`, `threshold`, `signers` and
/// `transaction`; the rest is there for people and tools, and checked on
/// load.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProposalFile {
    version: u32,
    network: String,
    genesis_id: String,
    multisig: String,
    multisig_template: String,
    threshold: u8,
    signers: Vec<String>,
    transaction: TxFields,
    unsigned_transaction: String,
    signing_message: String,
    signatures: Vec<SignatureEntry>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TxFields {
    principal: String,
    template: Option<String>,
    nonce: u64,
    gas_limit: u64,
    gas_price: u64,
    payload: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignatureEntry {
    index: u8,
    public_key: String,
    signature: String,
}

impl Proposal {
    /// A proposal of `tx` (whose principal must be `multisig`'s address)
    /// on `network`, without signatures.
    pub fn new(network: Network, multisig: Multisig, tx: UnsignedTransaction) -> Result<Self, MultisigError> {
        if tx.principal != multisig.address() {
            return Err(MultisigError::BadKeySet(format!(
                "the transaction's principal {} is not the multisig {}",
                network.encode_address(&tx.principal),
                network.encode_address(&multisig.address())
            )));
        }
        Ok(Self { network, multisig, tx, signatures: BTreeMap::new() })
    }

    /// The network the signatures are bound to.
    pub fn network(&self) -> &Network {
        &self.network
    }

    /// The multisig.
    pub fn multisig(&self) -> &Multisig {
        &self.multisig
    }

    /// The unsigned transaction.
    pub fn unsigned(&self) -> &UnsignedTransaction {
        &self.tx
    }

    /// The signatures so far, by signer index.
    pub fn signatures(&self) -> &BTreeMap<u8, [u8; 64]> {
        &self.signatures
    }

    /// What each signer signs: `SIGNING_DOMAIN ‖ genesis id ‖ unsigned
    /// transaction` (docs/transactions.md).
    pub fn signing_message(&self) -> Vec<u8> {
        self.tx.signing_bytes(&self.network)
    }

    /// Signs with `key`, which must be one of the signers and must not have
    /// signed yet; returns its index.
    pub fn sign(&mut self, key: &Key) -> Result<u8, MultisigError> {
        let public = key.public_bytes();
        let index = self.multisig.index_of(&public).ok_or_else(|| MultisigError::NotASigner {
            public_key: hex::encode(public),
            n: self.multisig.keys.len(),
        })?;
        let signature = key.signing_key().sign(&self.signing_message()).to_bytes();
        self.add_signature(index, signature)?;
        Ok(index)
    }

    /// Adds the signature of signer `index`, checked against its key.
    pub fn add_signature(&mut self, index: u8, signature: [u8; 64]) -> Result<(), MultisigError> {
        let n = self.multisig.keys.len();
        let key = self.multisig.keys.get(usize::from(index)).ok_or_else(|| {
            MultisigError::BadKeySet(format!("signer index {index} is out of range (the multisig has {n} signers)"))
        })?;
        if self.signatures.contains_key(&index) {
            return Err(MultisigError::AlreadySigned { index, public_key: hex::encode(key) });
        }
        let valid = VerifyingKey::from_bytes(key)
            .is_ok_and(|vk| vk.verify_strict(&self.signing_message(), &Signature::from_bytes(&signature)).is_ok());
        if !valid {
            return Err(MultisigError::BadSignature { index });
        }
        self.signatures.insert(index, signature);
        Ok(())
    }

    /// Whether `k` signatures are there.
    pub fn is_complete(&self) -> bool {
        self.signatures.len() >= usize::from(self.multisig.k)
    }

    /// The authenticator ([`authenticator`]), or
    /// [`MultisigError::NotEnoughSignatures`].
    pub fn authenticator(&self) -> Result<Vec<u8>, MultisigError> {
        authenticator(self.multisig.k, &self.signatures)
    }

    /// The signed transaction, once `k` signatures are there.
    pub fn transaction(&self) -> Result<Transaction, MultisigError> {
        Ok(self.tx.clone().with_authenticator(self.authenticator()?))
    }

    /// The proposal file's JSON (pretty-printed).
    pub fn to_json(&self) -> String {
        let net = &self.network;
        let tx = &self.tx;
        let file = ProposalFile {
            version: PROPOSAL_VERSION,
            network: net.hrp().to_owned(),
            genesis_id: hex::encode(net.genesis_id().as_bytes()),
            multisig: net.encode_address(&self.multisig.address()),
            multisig_template: net.encode_address(&self.multisig.template),
            threshold: self.multisig.k,
            signers: self.multisig.keys.iter().map(hex::encode).collect(),
            transaction: TxFields {
                principal: net.encode_address(&tx.principal),
                template: tx.template.map(|t| net.encode_address(&t)),
                nonce: tx.nonce,
                gas_limit: tx.gas_limit,
                gas_price: tx.gas_price,
                payload: hex::encode(&tx.payload),
            },
            unsigned_transaction: hex::encode(tx.encode()),
            signing_message: hex::encode(self.signing_message()),
            signatures: self
                .signatures
                .iter()
                .map(|(i, s)| SignatureEntry {
                    index: *i,
                    public_key: hex::encode(self.multisig.keys[usize::from(*i)]),
                    signature: hex::encode(s),
                })
                .collect(),
        };
        let mut text = serde_json::to_string_pretty(&file).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Parses a proposal file's JSON, checking every derived field and
    /// every signature; `path` names the file in errors.
    pub fn from_json(path: &Path, text: &str) -> Result<Self, MultisigError> {
        let bad = |reason: String| MultisigError::Malformed { path: path.display().to_string(), reason };
        let file: ProposalFile = serde_json::from_str(text).map_err(|e| bad(format!("not a proposal file: {e}")))?;
        if file.version != PROPOSAL_VERSION {
            return Err(bad(format!("version {} (this athena reads version {PROPOSAL_VERSION})", file.version)));
        }
        let genesis = parse_hex32(&file.genesis_id).map_err(|e| bad(format!("genesis_id: {e}")))?;
        let network = Network::new(&file.network, Bytes32::new(genesis)).map_err(|e| bad(format!("network: {e}")))?;
        let address =
            |what: &str, text: &str| network.parse_address(text).map_err(|e| bad(format!("{what} {text:?}: {e}")));
        let keys = file
            .signers
            .iter()
            .map(|k| parse_hex32(k).map_err(|e| bad(format!("signer {k:?}: {e}"))))
            .collect::<Result<Vec<_>, _>>()?;
        let multisig = Multisig::new(address("multisig_template", &file.multisig_template)?, file.threshold, keys)
            .map_err(|e| bad(e.to_string()))?;
        if address("multisig", &file.multisig)? != multisig.address() {
            return Err(bad("multisig is not the address of multisig_template, threshold and signers".into()));
        }
        let t = &file.transaction;
        let tx = UnsignedTransaction {
            principal: address("transaction.principal", &t.principal)?,
            template: t.template.as_deref().map(|text| address("transaction.template", text)).transpose()?,
            nonce: t.nonce,
            gas_limit: t.gas_limit,
            gas_price: t.gas_price,
            payload: hex::decode(&t.payload).map_err(|e| bad(format!("transaction.payload: {e}")))?,
        };
        if file.unsigned_transaction != hex::encode(tx.encode()) {
            return Err(bad("unsigned_transaction does not match the transaction's fields".into()));
        }
        if file.signing_message != hex::encode(tx.signing_bytes(&network)) {
            return Err(bad("signing_message does not match the transaction and network".into()));
        }
        let mut proposal = Proposal::new(network, multisig, tx).map_err(|e| bad(e.to_string()))?;
        for entry in &file.signatures {
            let key = proposal.multisig.keys.get(usize::from(entry.index));
            if key.map(hex::encode) != Some(entry.public_key.to_lowercase()) {
                return Err(bad(format!("signature {}: public_key is not signer {}", entry.index, entry.index)));
            }
            let mut signature = [0u8; 64];
            hex::decode_to_slice(&entry.signature, &mut signature)
                .map_err(|e| bad(format!("signature {}: {e} (need 128 hex digits)", entry.index)))?;
            proposal.add_signature(entry.index, signature).map_err(|e| bad(e.to_string()))?;
        }
        Ok(proposal)
    }

    /// Reads a proposal file.
    pub fn load(path: &Path) -> Result<Self, MultisigError> {
        let text = std::fs::read_to_string(path).map_err(|source| io(path, source))?;
        Self::from_json(path, &text)
    }

    /// Writes the proposal file: a new file unless `replace` (written to a
    /// temporary file and renamed over, so a crash never leaves half a
    /// proposal).
    pub fn save(&self, path: &Path, replace: bool) -> Result<(), MultisigError> {
        if !replace && path.exists() {
            return Err(MultisigError::Exists(path.display().to_string()));
        }
        let mut tmp = PathBuf::from(path);
        tmp.as_mut_os_string().push(".tmp");
        std::fs::write(&tmp, self.to_json()).map_err(|source| io(&tmp, source))?;
        std::fs::rename(&tmp, path).map_err(|source| io(path, source))
    }

    /// Checks that `network` (the node's) is the proposal's.
    pub fn check_network(&self, network: &Network) -> Result<(), MultisigError> {
        if network.hrp() != self.network.hrp() || network.genesis_id() != self.network.genesis_id() {
            let show = |n: &Network| format!("{} (genesis {})", n.hrp(), hex::encode(n.genesis_id().as_bytes()));
            return Err(MultisigError::WrongNetwork { proposal: show(&self.network), node: show(network) });
        }
        Ok(())
    }
}

fn io(path: &Path, source: std::io::Error) -> MultisigError {
    MultisigError::Io { path: path.display().to_string(), source }
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
    let text = match explicit {
        Some(text) => text.to_owned(),
        None => session
            .status()
            .templates
            .iter()
            .find(|(name, _)| names_multisig_template(name))
            .map(|(_, address)| address.clone())
            .ok_or(MultisigError::NoMultisigTemplate)?,
    };
    let address = session.parse_address("multisig template", &text)?;
    if athena_transaction::address_kind(&address) != athena_transaction::AddressKind::Template {
        return Err(WalletError::BadAddress {
            what: "multisig template".into(),
            text,
            error: "not a template address".into(),
        }
        .into());
    }
    Ok(address)
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

/// What a multisig (or wallet) payload does, decoded from the payload itself (not
/// from anything else in the file), for the signer to check.
pub fn describe_call(payload: &[u8], self_spawn: bool, network: &Network) -> String {
    let Some((sel, mut args)) = split_payload(payload) else {
        return format!("payload {} (no selector)", hex::encode(payload));
    };
    let addr = |bytes: [u8; 24]| network.encode_address(&Address::new(bytes));
    let decoded = if self_spawn && sel == selector("spawn") {
        Some("self-spawn".to_owned())
    } else if sel == selector("spend") {
        <([u8; 24], u64)>::decode(&mut args).ok().map(|(to, amount)| format!("spend {amount} coins to {}", addr(to)))
    } else if sel == selector("proxy") {
        <([u8; 24], Vec<u8>, u64)>::decode(&mut args).ok().map(|(to, input, value)| {
            let method = input.get(..4).map_or_else(|| "(no selector)".to_owned(), |s| format!("0x{}", hex::encode(s)));
            format!(
                "call {} selector {method} with input {} and {value} coins",
                addr(to),
                hex::encode(input.get(4..).unwrap_or_default())
            )
        })
    } else if sel == selector("deploy") {
        Vec::<u8>::decode(&mut args).ok().map(|code| format!("deploy a template of {} bytes", code.len()))
    } else if sel == selector("spawn_program") {
        <([u8; 24], Vec<u8>)>::decode(&mut args)
            .ok()
            .map(|(t, state)| format!("spawn a program of template {} with state {}", addr(t), hex::encode(state)))
    } else {
        None
    };
    match decoded {
        Some(text) if args.is_empty() || self_spawn => text,
        _ => format!("payload {} (selector 0x{})", hex::encode(payload), hex::encode(sel)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use athena_transaction::{decode, template_address};

    fn network() -> Network {
        Network::test(Bytes32::new([3; 32]))
    }

    fn key(seed: u8) -> Key {
        Key::from_seed([seed; 32])
    }

    /// A 2-of-3 multisig of keys with seeds 1, 2, 3.
    fn two_of_three() -> Multisig {
        let keys = [1, 2, 3].map(|s| key(s).public_bytes()).to_vec();
        Multisig::new(template_address(b"multisig"), 2, keys).unwrap()
    }

    fn spend_proposal() -> Proposal {
        let m = two_of_three();
        let call = Call::Spend { to: Address::new([9; 24]), amount: 500 };
        let tx = m.unsigned(&call, TxParams { nonce: 4, gas_limit: 90_000, gas_price: 2 });
        Proposal::new(network(), m, tx).unwrap()
    }

    #[test]
    fn state_and_address_match_the_template_layout() {
        let m = two_of_three();
        let state = m.state();
        assert_eq!(state[0], 2);
        assert_eq!(state[1], 3 << 2, "compact(3)");
        assert_eq!(state.len(), 2 + 3 * 32);
        assert_eq!(&state[2..34], &key(1).public_bytes());
        assert_eq!(<(u8, Vec<[u8; 32]>)>::decode(&mut &state[..]).unwrap(), (2, m.keys().to_vec()));
        assert_eq!(m.address(), program_address(m.template(), &state));
        let spawn = m.unsigned(&Call::SelfSpawn, TxParams { nonce: 0, gas_limit: 1, gas_price: 1 });
        assert_eq!(spawn.template, Some(*m.template()));
        let (sel, args) = split_payload(&spawn.payload).unwrap();
        assert_eq!((sel, args), (selector("spawn"), &state[..]));
        assert_eq!(m.index_of(&key(3).public_bytes()), Some(2));
        assert_eq!(m.index_of(&key(4).public_bytes()), None);
    }

    #[test]
    fn degenerate_key_sets_are_refused() {
        let t = template_address(b"multisig");
        let k = |s: u8| key(s).public_bytes();
        let msg = |k, keys| Multisig::new(t, k, keys).unwrap_err().to_string();
        assert!(msg(0, vec![k(1)]).contains("threshold 0"));
        assert!(msg(3, vec![k(1), k(2)]).contains("threshold 3"));
        assert!(msg(1, vec![]).contains("0 signers"));
        assert!(msg(2, vec![k(1), k(2), k(1)]).contains("signers 0 and 2 are the same key"));
        assert!(msg(1, (1..=11).map(k).collect()).contains("11 signers"));
        assert!(Multisig::new(t, 10, (1..=10).map(k).collect()).is_ok());
    }

    #[test]
    fn authenticator_is_k_entries_in_increasing_index_order() {
        let mut p = spend_proposal();
        assert_eq!(p.sign(&key(3)).unwrap(), 2);
        assert!(!p.is_complete());
        assert_eq!(p.sign(&key(1)).unwrap(), 0);
        assert!(p.is_complete());
        let auth = p.authenticator().unwrap();
        let entries = Vec::<(u8, [u8; 64])>::decode(&mut &auth[..]).unwrap();
        assert_eq!(entries.iter().map(|e| e.0).collect::<Vec<_>>(), vec![0, 2], "sorted by index");
        assert_eq!(auth.len(), 1 + 2 * 65);
        let message = p.signing_message();
        for (index, signature) in &entries {
            let vk = key(index + 1).verifying_key();
            vk.verify_strict(&message, &Signature::from_bytes(signature)).unwrap();
        }
        // A third signature: still exactly k entries, the lowest indices.
        p.sign(&key(2)).unwrap();
        let entries = Vec::<(u8, [u8; 64])>::decode(&mut &p.authenticator().unwrap()[..]).unwrap();
        assert_eq!(entries.iter().map(|e| e.0).collect::<Vec<_>>(), vec![0, 1]);
        // The transaction round-trips through the codec with that authenticator.
        let tx = p.transaction().unwrap();
        let decoded = decode(&tx.encode()).unwrap();
        assert_eq!(decoded.body, *p.unsigned());
        assert_eq!(decoded.authenticator, p.authenticator().unwrap());
    }

    #[test]
    fn wrong_keys_duplicates_and_too_few_signatures_are_refused() {
        let mut p = spend_proposal();
        let err = p.transaction().unwrap_err();
        assert!(matches!(err, MultisigError::NotEnoughSignatures { have: 0, need: 2, .. }), "{err}");
        let err = p.sign(&key(4)).unwrap_err();
        assert!(matches!(err, MultisigError::NotASigner { n: 3, .. }), "{err}");
        assert!(err.to_string().contains(&hex::encode(key(4).public_bytes())));
        p.sign(&key(2)).unwrap();
        let err = p.sign(&key(2)).unwrap_err();
        assert!(matches!(err, MultisigError::AlreadySigned { index: 1, .. }), "{err}");
        let err = p.transaction().unwrap_err();
        assert_eq!(
            err.to_string(),
            "the proposal has 1 of the 2 signatures it needs (signed by signer 1): collect more with `athena \
             multisig sign`"
        );
        // A signature by another key, or of another message, under a
        // signer's index.
        let forged = key(4).signing_key().sign(&p.signing_message()).to_bytes();
        assert!(matches!(p.add_signature(0, forged), Err(MultisigError::BadSignature { index: 0 })));
        let other = key(1).signing_key().sign(b"something else").to_bytes();
        assert!(matches!(p.add_signature(0, other), Err(MultisigError::BadSignature { index: 0 })));
        assert!(p.add_signature(7, forged).is_err());
        assert_eq!(p.signatures().len(), 1);
    }

    #[test]
    fn proposal_files_round_trip_and_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.json");
        let mut p = spend_proposal();
        p.save(&path, false).unwrap();
        assert_eq!(Proposal::load(&path).unwrap(), p);
        assert!(matches!(p.save(&path, false), Err(MultisigError::Exists(_))));
        p.sign(&key(1)).unwrap();
        p.save(&path, true).unwrap();
        let loaded = Proposal::load(&path).unwrap();
        assert_eq!(loaded, p);
        assert_eq!(loaded.signatures().len(), 1);

        let json: serde_json::Value = serde_json::from_str(&p.to_json()).unwrap();
        assert_eq!(json["threshold"], 2);
        assert_eq!(json["signers"].as_array().unwrap().len(), 3);
        assert_eq!(json["signing_message"], hex::encode(p.signing_message()));
        assert_eq!(json["transaction"]["nonce"], 4);
        assert_eq!(json["signatures"][0]["index"], 0);

        // Edits that would change what was signed, or forge a signature.
        let edit = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut v = json.clone();
            f(&mut v);
            Proposal::from_json(&path, &v.to_string()).unwrap_err().to_string()
        };
        assert!(edit(&|v| v["transaction"]["nonce"] = 5.into()).contains("unsigned_transaction does not match"));
        assert!(edit(&|v| v["threshold"] = 1.into()).contains("multisig is not the address"));
        assert!(edit(&|v| v["genesis_id"] = hex::encode([0u8; 32]).into()).contains("signing_message"));
        assert!(edit(&|v| v["signatures"][0]["index"] = 1.into()).contains("public_key is not signer 1"));
        assert!(edit(&|v| v["signatures"][0]["signature"] = hex::encode([1u8; 64]).into()).contains("does not verify"));
        assert!(edit(&|v| v["version"] = 2.into()).contains("version 2"));
        assert!(edit(&|v| v["extra"] = 1.into()).contains("not a proposal file"));
        assert!(Proposal::from_json(&path, "{").unwrap_err().to_string().contains("p.json"));
    }

    #[test]
    fn signers_from_hex_or_key_files() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("k.json");
        key(5).save(&file, false).unwrap();
        let public = key(5).public_bytes();
        assert_eq!(parse_signer(file.to_str().unwrap()).unwrap(), public);
        assert_eq!(parse_signer(&hex::encode(public)).unwrap(), public);
        assert_eq!(parse_signer(&format!("0x{}", hex::encode(public))).unwrap(), public);
        assert!(parse_signer("nope").unwrap_err().to_string().contains("neither 64 hex digits"));
        std::fs::write(dir.path().join("x.json"), "{}").unwrap();
        assert!(parse_signer(dir.path().join("x.json").to_str().unwrap()).unwrap_err().to_string().contains("public"));
        assert!(names_multisig_template("multisig"));
        assert!(names_multisig_template("templates/multisig.elf"));
        assert!(!names_multisig_template("wallet.elf"));
    }

    #[test]
    fn calls_are_described_from_the_payload() {
        use athena_transaction::encode_payload;
        let net = Network::test(Default::default());
        let to = Address::new([0; 24]);
        let text = describe_call(&encode_payload("spend", &(to.0, 5u64)), false, &net);
        assert_eq!(text, format!("spend 5 coins to {}", net.encode_address(&to)));
        let mut spawn = selector("spawn").to_vec();
        spawn.extend([1, 4, 0]);
        assert_eq!(describe_call(&spawn, true, &net), "self-spawn");
        let proxy = encode_payload("proxy", &(to.0, vec![1u8, 2, 3, 4, 9], 7u64));
        assert!(describe_call(&proxy, false, &net).contains("selector 0x01020304 with input 09 and 7 coins"));
        let mut trailing = encode_payload("spend", &(to.0, 5u64));
        trailing.push(0);
        assert!(describe_call(&trailing, false, &net).starts_with("payload "));
    }
}

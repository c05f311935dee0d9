//! The proposal: an unsigned multisig transaction and its signatures, and
//! the proposal file that carries it from signer to signer (JSON, every
//! derived field checked on load so an edited file is refused).

use super::{authenticator, Multisig, MultisigError, PROPOSAL_VERSION};
use crate::key::{parse_hex32, Key};
use athena_interface::Bytes32;
use athena_transaction::{Network, Transaction, UnsignedTransaction};
use ed25519_dalek::{Signature, Signer, VerifyingKey};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// An unsigned multisig transaction and the signatures collected so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    network: Network,
    multisig: Multisig,
    tx: UnsignedTransaction,
    signatures: BTreeMap<u8, [u8; 64]>,
    offline: bool,
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
    /// Made by `propose --offline`: no account, balance or dry-run check
    /// before signing. Absent (not `false`) otherwise, so online proposal
    /// files stay what older versions wrote. Not covered by the signatures:
    /// a caution for the signers, not a guarantee.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    offline: bool,
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
        Ok(Self { network, multisig, tx, signatures: BTreeMap::new(), offline: false })
    }

    /// Marks the proposal as made offline ([`super::propose_offline`]): its
    /// file then says so, and `show` warns that nothing was checked against
    /// a node before signing.
    pub fn mark_offline(mut self) -> Self {
        self.offline = true;
        self
    }

    /// Whether the proposal was made offline: nonce, gas and genesis id as
    /// given, the account, balance and call never checked before signing
    /// (`submit` still dry-runs the signed transaction).
    pub fn made_offline(&self) -> bool {
        self.offline
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
            offline: self.offline,
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
        proposal.offline = file.offline;
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

//! What an executor records per transaction, and the hashes that let
//! another executor check it: the change-set hash of each receipt and the
//! receipts root of a block (`docs/node.md`, "Receipts").

use crate::types::{LogJson, ReceiptJson};
use athena_interface::Address;
use athena_runtime::tx::{Receipt, TxStatus};
use athena_runtime::ChangeSet;
use athena_transaction::Network;
use parity_scale_codec::{Decode, Encode};

/// Key-derivation context of [`changes_hash`].
pub const CHANGES_HASH_CONTEXT: &str = "athena receipt changes v1";

/// A log as stored in a receipt.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct StoredLog {
    /// The emitting program.
    pub address: [u8; 24],
    /// Topics.
    pub topics: Vec<[u8; 32]>,
    /// Data.
    pub data: Vec<u8>,
}

/// Outcome class of a receipt, as stored (`0` succeeded, `1` failed,
/// `2` ineffective).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub enum StoredStatus {
    /// The payload succeeded.
    Succeeded,
    /// Fee and nonce applied, payload reverted.
    Failed,
    /// Nothing applied.
    Ineffective,
}

impl StoredStatus {
    /// The status word used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            StoredStatus::Succeeded => "succeeded",
            StoredStatus::Failed => "failed",
            StoredStatus::Ineffective => "ineffective",
        }
    }
}

/// One transaction's receipt as an executor stores it and hashes it into the
/// block's receipts root. Everything here is deterministic; the `reason`
/// text comes from the runtime's `Display` impls, so changing one of those
/// messages changes receipts roots (a consensus change, like a gas constant).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct StoredReceipt {
    /// `blake3` of the transaction bytes.
    pub tx_id: [u8; 32],
    /// Block height.
    pub height: u64,
    /// Position among the block's receipts (skipped duplicates have none).
    pub index: u32,
    /// The bundle the transaction came in.
    pub bundle: u32,
    /// The fee recipient: the bundle's relay.
    pub fee_recipient: [u8; 24],
    /// Principal, if the bytes decoded.
    pub principal: Option<[u8; 24]>,
    /// Nonce, if the bytes decoded.
    pub nonce: Option<u64>,
    /// Outcome class.
    pub status: StoredStatus,
    /// Why it failed or was ineffective (empty on success).
    pub reason: String,
    /// Gas used: intrinsic, verify, max_spend, payload.
    pub gas: [u64; 4],
    /// Total gas used.
    pub gas_used: u64,
    /// Fee paid.
    pub fee: u64,
    /// Output or revert data.
    pub output: Vec<u8>,
    /// Logs (success only).
    pub logs: Vec<StoredLog>,
    /// [`changes_hash`] of the transaction's change set.
    pub changes_hash: [u8; 32],
}

impl StoredReceipt {
    /// The stored form of the runtime's receipt for the transaction at
    /// `index` of block `height`, from bundle `bundle` whose relay is
    /// `fee_recipient`.
    pub fn new(receipt: &Receipt, height: u64, index: u32, bundle: u32, fee_recipient: Address) -> Self {
        let (status, reason) = match &receipt.status {
            TxStatus::Succeeded => (StoredStatus::Succeeded, String::new()),
            TxStatus::Failed(why) => (StoredStatus::Failed, why.to_string()),
            TxStatus::Ineffective(why) => (StoredStatus::Ineffective, why.to_string()),
        };
        StoredReceipt {
            tx_id: receipt.tx_id.into_bytes(),
            height,
            index,
            bundle,
            fee_recipient: fee_recipient.into_bytes(),
            principal: receipt.principal.map(Address::into_bytes),
            nonce: receipt.nonce,
            status,
            reason,
            gas: [receipt.gas.intrinsic, receipt.gas.verify, receipt.gas.max_spend, receipt.gas.payload],
            gas_used: receipt.gas_used,
            fee: receipt.fee,
            output: receipt.output.clone(),
            logs: receipt
                .logs
                .iter()
                .map(|log| StoredLog {
                    address: log.address.into_bytes(),
                    topics: log.topics.iter().map(|t| t.into_bytes()).collect(),
                    data: log.data.clone(),
                })
                .collect(),
            changes_hash: changes_hash(&receipt.changes),
        }
    }

    /// Whether the transaction was applied (fee charged, nonce bumped).
    pub fn is_effective(&self) -> bool {
        self.status != StoredStatus::Ineffective
    }

    /// The receipt's leaf hash in the receipts root:
    /// `blake3(0x00 ‖ SCALE(receipt))`.
    pub fn leaf_hash(&self) -> [u8; 32] {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&[0]);
        hasher.update(&self.encode());
        *hasher.finalize().as_bytes()
    }

    /// The JSON form, with addresses in `network`'s bech32.
    pub fn to_json(&self, network: &Network) -> ReceiptJson {
        let address = |bytes: &[u8; 24]| network.encode_address(&Address::new(*bytes));
        ReceiptJson {
            id: hex::encode(self.tx_id),
            height: self.height,
            index: self.index,
            bundle: self.bundle,
            status: self.status.as_str().to_owned(),
            reason: (!self.reason.is_empty()).then(|| self.reason.clone()),
            revert_message: if self.status == StoredStatus::Succeeded {
                None
            } else {
                std::str::from_utf8(&self.output).ok().filter(|m| !m.is_empty()).map(str::to_owned)
            },
            principal: self.principal.as_ref().map(address),
            nonce: self.nonce,
            gas_used: self.gas_used,
            fee: self.fee,
            fee_recipient: address(&self.fee_recipient),
            output: hex::encode(&self.output),
            logs: self.logs.iter().map(|log| log_json(network, log)).collect(),
            changes_hash: hex::encode(self.changes_hash),
            hash: hex::encode(self.leaf_hash()),
        }
    }
}

/// A stored log as JSON.
pub fn log_json(network: &Network, log: &StoredLog) -> LogJson {
    LogJson {
        address: network.encode_address(&Address::new(log.address)),
        topics: log.topics.iter().map(hex::encode).collect(),
        data: hex::encode(&log.data),
    }
}

/// The canonical hashed form of a change set.
#[derive(Encode)]
#[allow(clippy::type_complexity)]
struct CanonicalChanges {
    accounts: Vec<([u8; 24], u64, u64, Option<[u8; 24]>)>,
    states: Vec<([u8; 24], Vec<u8>)>,
    storage: Vec<([u8; 24], [u8; 32], [u8; 32])>,
    templates: Vec<([u8; 24], [u8; 32])>,
}

/// `blake3_derive_key("athena receipt changes v1", SCALE(canonical))` of a
/// change set: every account record, state blob, storage slot (zero =
/// deleted) and template (by the blake3 of its code), in the change set's
/// own (address, key) order. Lets a shadow executor name the first
/// transaction whose effects differ.
pub fn changes_hash(changes: &ChangeSet) -> [u8; 32] {
    let canonical = CanonicalChanges {
        accounts: changes
            .accounts
            .iter()
            .map(|(a, acc)| (a.into_bytes(), acc.balance, acc.nonce, acc.template.map(Address::into_bytes)))
            .collect(),
        states: changes.states.iter().map(|(a, s)| (a.into_bytes(), s.clone())).collect(),
        storage: changes.storage.iter().map(|((a, k), v)| (a.into_bytes(), k.into_bytes(), v.into_bytes())).collect(),
        templates: changes.templates.iter().map(|(a, code)| (a.into_bytes(), *blake3::hash(code).as_bytes())).collect(),
    };
    let mut hasher = blake3::Hasher::new_derive_key(CHANGES_HASH_CONTEXT);
    hasher.update(&canonical.encode());
    *hasher.finalize().as_bytes()
}

/// The receipts root over leaf hashes in block order: a binary Merkle tree
/// in the shape of RFC 6962 with blake3 — empty: `blake3("")`; one leaf:
/// the leaf; `n > 1`: `blake3(0x01 ‖ root(first k) ‖ root(rest))` with `k`
/// the largest power of two below `n`.
pub fn merkle_root(leaves: &[[u8; 32]]) -> [u8; 32] {
    match leaves.len() {
        0 => *blake3::hash(b"").as_bytes(),
        1 => leaves[0],
        n => {
            let mut k = 1;
            while k * 2 < n {
                k *= 2;
            }
            let mut hasher = blake3::Hasher::new();
            hasher.update(&[1]);
            hasher.update(&merkle_root(&leaves[..k]));
            hasher.update(&merkle_root(&leaves[k..]));
            *hasher.finalize().as_bytes()
        }
    }
}

/// The receipts root of a block's receipts.
pub fn receipts_root(receipts: &[StoredReceipt]) -> [u8; 32] {
    merkle_root(&receipts.iter().map(StoredReceipt::leaf_hash).collect::<Vec<_>>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use athena_runtime::Account;

    fn node(l: [u8; 32], r: [u8; 32]) -> [u8; 32] {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&[1]);
        hasher.update(&l);
        hasher.update(&r);
        *hasher.finalize().as_bytes()
    }

    #[test]
    fn merkle_root_shape() {
        let l: Vec<[u8; 32]> = (0..5u8).map(|i| [i; 32]).collect();
        assert_eq!(merkle_root(&[]), *blake3::hash(b"").as_bytes());
        assert_eq!(merkle_root(&l[..1]), l[0]);
        assert_eq!(merkle_root(&l[..2]), node(l[0], l[1]));
        assert_eq!(merkle_root(&l[..3]), node(node(l[0], l[1]), l[2]));
        assert_eq!(merkle_root(&l[..4]), node(node(l[0], l[1]), node(l[2], l[3])));
        assert_eq!(merkle_root(&l), node(node(node(l[0], l[1]), node(l[2], l[3])), l[4]));
        assert_ne!(merkle_root(&[l[1], l[2]]), merkle_root(&[l[2], l[1]]));
    }

    #[test]
    fn changes_hash_sees_every_field() {
        let a = Address::new([1; 24]);
        let mut changes = ChangeSet::default();
        let empty = changes_hash(&changes);
        changes.accounts.insert(a, Account { balance: 1, ..Account::default() });
        let one = changes_hash(&changes);
        assert_ne!(one, empty);
        changes.accounts.insert(a, Account { balance: 2, ..Account::default() });
        assert_ne!(changes_hash(&changes), one);
        changes.storage.insert((a, athena_interface::Bytes32::ZERO), athena_interface::Bytes32::ZERO);
        assert_ne!(changes_hash(&changes), one);
    }
}

//! Byte encodings: the Merkle leaf keys and values (consensus-critical, frozen
//! by the test vector in `docs/store.md`) and the on-disk records.
//!
//! Everything here is pure and decodes strictly: a record of the wrong length
//! or with an invalid tag is [`StateError::Corrupt`], never a panic.

use athena_interface::{Address, Bytes32};
use athena_runtime::{Account, StateError};
use sha2::{Digest, Sha256};

/// Prefix of every leaf-key preimage. Separates state keys from every other
/// SHA-256 input in the system (including the tree's own node hashes, which
/// start with `JMT::`).
pub const KEY_DOMAIN: &[u8] = b"athena/state-key/v1";

/// Kind byte of an account leaf.
pub const KIND_ACCOUNT: u8 = 1;
/// Kind byte of a program-state leaf.
pub const KIND_PROGRAM_STATE: u8 = 2;
/// Kind byte of a storage-slot leaf.
pub const KIND_STORAGE: u8 = 3;
/// Kind byte of a template leaf.
pub const KIND_TEMPLATE: u8 = 4;

/// What a leaf of the state tree stands for. Each kind of state gets its own
/// key space, so one tree (and one root) authenticates all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LeafKey {
    /// The account record of an address; value: [`encode_account`].
    Account(Address),
    /// The program state blob of an address; value: the blob (never empty:
    /// an empty blob is the same as none and has no leaf).
    ProgramState(Address),
    /// One storage slot; value: the 32 bytes (never zero: a zero slot has no
    /// leaf).
    Storage(Address, Bytes32),
    /// A deployed template; value: SHA-256 of the code, so proofs stay small
    /// however large the code is.
    Template(Address),
}

impl LeafKey {
    /// The key's preimage: kind byte ‖ address (24 bytes) [‖ storage key (32
    /// bytes)]. Fixed length per kind, so the encoding is unambiguous.
    pub fn preimage(&self) -> Vec<u8> {
        let (kind, address, slot) = match self {
            LeafKey::Account(a) => (KIND_ACCOUNT, a, None),
            LeafKey::ProgramState(a) => (KIND_PROGRAM_STATE, a, None),
            LeafKey::Storage(a, k) => (KIND_STORAGE, a, Some(k)),
            LeafKey::Template(a) => (KIND_TEMPLATE, a, None),
        };
        let mut out = Vec::with_capacity(1 + Address::LEN + Bytes32::LEN);
        out.push(kind);
        out.extend_from_slice(address.as_bytes());
        if let Some(slot) = slot {
            out.extend_from_slice(slot.as_bytes());
        }
        out
    }

    /// The leaf's position in the tree: SHA-256([`KEY_DOMAIN`] ‖ preimage).
    /// Hashing spreads keys uniformly, which keeps the tree balanced whatever
    /// addresses and slots programs choose.
    pub fn hash(&self) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(KEY_DOMAIN);
        hasher.update(self.preimage());
        hasher.finalize().into()
    }
}

/// The leaf value of a template: SHA-256 of its code.
pub fn code_hash(code: &[u8]) -> [u8; 32] {
    Sha256::digest(code).into()
}

/// Length of an account record without a template.
const ACCOUNT_LEN_PLAIN: usize = 17;
/// Length of an account record with a template.
const ACCOUNT_LEN_TEMPLATE: usize = 17 + Address::LEN;

/// The account record, both on disk and as the account leaf value:
/// `balance` (u64 LE) ‖ `nonce` (u64 LE) ‖ `00` | `01` ‖ template (24 bytes).
/// This is exactly the SCALE encoding of `(u64, u64, Option<Address>)`.
pub fn encode_account(account: &Account) -> Vec<u8> {
    let mut out = Vec::with_capacity(ACCOUNT_LEN_TEMPLATE);
    out.extend_from_slice(&account.balance.to_le_bytes());
    out.extend_from_slice(&account.nonce.to_le_bytes());
    match &account.template {
        None => out.push(0),
        Some(template) => {
            out.push(1);
            out.extend_from_slice(template.as_bytes());
        }
    }
    out
}

/// Decodes [`encode_account`]'s output, rejecting any other byte string.
pub fn decode_account(bytes: &[u8]) -> Result<Account, StateError> {
    let corrupt = || StateError::Corrupt(format!("account record of {} bytes is malformed", bytes.len()));
    let balance = u64::from_le_bytes(array(bytes.get(0..8).ok_or_else(corrupt)?)?);
    let nonce = u64::from_le_bytes(array(bytes.get(8..16).ok_or_else(corrupt)?)?);
    let template = match (bytes.get(16), bytes.len()) {
        (Some(0), ACCOUNT_LEN_PLAIN) => None,
        (Some(1), ACCOUNT_LEN_TEMPLATE) => Some(Address::new(array(&bytes[ACCOUNT_LEN_PLAIN..])?)),
        _ => return Err(corrupt()),
    };
    Ok(Account { balance, nonce, template })
}

/// Copies a slice into a fixed-size array, or reports corruption.
pub(crate) fn array<const N: usize>(bytes: &[u8]) -> Result<[u8; N], StateError> {
    bytes.try_into().map_err(|_| StateError::Corrupt(format!("expected {N} bytes, found {}", bytes.len())))
}

/// Storage-table key: address ‖ slot key.
pub(crate) fn storage_key(address: &Address, key: &Bytes32) -> [u8; 56] {
    let mut out = [0u8; 56];
    out[..24].copy_from_slice(address.as_bytes());
    out[24..].copy_from_slice(key.as_bytes());
    out
}

/// Blocks-table key: the height, big-endian so heights sort numerically.
pub(crate) fn height_key(height: u64) -> [u8; 8] {
    height.to_be_bytes()
}

/// Tree-value-history key: key hash ‖ version (big-endian), so the latest
/// value at or before a version is the last entry of one key range.
pub(crate) fn tree_value_key(key_hash: &[u8; 32], version: u64) -> [u8; 40] {
    let mut out = [0u8; 40];
    out[..32].copy_from_slice(key_hash);
    out[32..].copy_from_slice(&version.to_be_bytes());
    out
}

/// Tree-value-history record: `00` (deleted at that version) or `01` ‖ value.
pub(crate) fn encode_tree_value(value: Option<&[u8]>) -> Vec<u8> {
    match value {
        None => vec![0],
        Some(v) => {
            let mut out = Vec::with_capacity(1 + v.len());
            out.push(1);
            out.extend_from_slice(v);
            out
        }
    }
}

/// Decodes [`encode_tree_value`]'s output.
pub(crate) fn decode_tree_value(bytes: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
    match bytes.split_first() {
        Some((0, [])) => Ok(None),
        Some((1, rest)) => Ok(Some(rest.to_vec())),
        _ => Err(StateError::Corrupt("tree value record has an invalid tag".into())),
    }
}

/// A u64 meta value (the last committed height), big-endian.
pub(crate) fn decode_u64(bytes: &[u8]) -> Result<u64, StateError> {
    Ok(u64::from_be_bytes(array(bytes)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_records_round_trip_and_reject_garbage() {
        let plain = Account { balance: 7, nonce: 3, template: None };
        let program = Account { balance: u64::MAX, nonce: 0, template: Some(Address::new([9; 24])) };
        for account in [plain, program, Account::default()] {
            assert_eq!(decode_account(&encode_account(&account)).unwrap(), account);
        }
        assert_eq!(encode_account(&plain), [7, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0]);
        let mut bad_tag = encode_account(&plain);
        bad_tag[16] = 2;
        let mut short = encode_account(&program);
        short.pop();
        let mut long = encode_account(&plain);
        long.push(0);
        for bad in [&bad_tag[..], &short, &long, &[], &[1, 2, 3]] {
            assert!(matches!(decode_account(bad), Err(StateError::Corrupt(_))), "{bad:?}");
        }
    }

    #[test]
    fn leaf_keys_are_domain_separated_by_kind() {
        let a = Address::new([1; 24]);
        let keys =
            [LeafKey::Account(a), LeafKey::ProgramState(a), LeafKey::Template(a), LeafKey::Storage(a, Bytes32::ZERO)];
        let hashes: std::collections::BTreeSet<_> = keys.iter().map(LeafKey::hash).collect();
        assert_eq!(hashes.len(), keys.len());
        assert_eq!(LeafKey::Storage(a, Bytes32::ZERO).preimage().len(), 57);
        assert_eq!(LeafKey::Account(a).preimage()[0], KIND_ACCOUNT);
    }

    #[test]
    fn tree_value_records() {
        assert_eq!(decode_tree_value(&encode_tree_value(None)).unwrap(), None);
        assert_eq!(decode_tree_value(&encode_tree_value(Some(b"x"))).unwrap(), Some(b"x".to_vec()));
        assert_eq!(decode_tree_value(&encode_tree_value(Some(b""))).unwrap(), Some(Vec::new()));
        assert!(decode_tree_value(&[]).is_err());
        assert!(decode_tree_value(&[0, 1]).is_err());
        assert!(decode_tree_value(&[2]).is_err());
        assert!(decode_u64(&[1; 7]).is_err());
    }
}

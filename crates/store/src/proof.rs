//! State roots and proofs, and their verification. Pure: a client verifies a
//! proof with [`verify`] (or the typed `verify` methods) and a root it
//! trusts, without a database.
//!
//! A proof is a `jmt` sparse Merkle proof with SHA-256: the leaf it reached
//! (if any) and the sibling hashes from that leaf up to the root. Its wire
//! format is documented in `docs/store.md` ([`StateProof::to_bytes`]).

use crate::encoding::{self, LeafKey};
use athena_interface::{Address, Bytes32};
use athena_runtime::Account;
use jmt::proof::SparseMerkleProof;
use jmt::{KeyHash, RootHash};
use sha2::Sha256;
use std::fmt;

/// The authenticated root of the whole state (accounts, program states,
/// storage and templates) after a block.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StateRoot(pub [u8; 32]);

impl StateRoot {
    /// The root of the empty state (no leaves): the tree's placeholder hash,
    /// the ASCII bytes `SPARSE_MERKLE_PLACEHOLDER_HASH__`.
    pub const EMPTY: StateRoot = StateRoot(*b"SPARSE_MERKLE_PLACEHOLDER_HASH__");

    /// The root as a [`Bytes32`], the type the rest of the node passes hashes in.
    pub const fn to_bytes32(self) -> Bytes32 {
        Bytes32::new(self.0)
    }
}

impl From<Bytes32> for StateRoot {
    fn from(bytes: Bytes32) -> Self {
        StateRoot(bytes.into_bytes())
    }
}

impl fmt::Display for StateRoot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for StateRoot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StateRoot({self})")
    }
}

/// A sparse Merkle proof that a leaf has a given value, or is absent, under
/// some root. Obtain one from the store; check it with [`verify`].
#[derive(Clone, PartialEq)]
pub struct StateProof(pub(crate) SparseMerkleProof<Sha256>);

impl StateProof {
    /// The proof's wire format (borsh, see `docs/store.md`): what a node
    /// sends to a client.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        // Writing to a Vec cannot fail.
        let _ = borsh::BorshSerialize::serialize(&self.0, &mut out);
        out
    }

    /// Parses [`Self::to_bytes`]'s output (strictly: trailing bytes are an
    /// error). A parsed proof is untrusted until [`verify`] accepts it.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ProofDecodeError> {
        borsh::from_slice(bytes).map(StateProof).map_err(|e| ProofDecodeError(e.to_string()))
    }
}

impl fmt::Debug for StateProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StateProof({})", hex::encode(self.to_bytes()))
    }
}

/// Bytes that are not a [`StateProof`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed state proof: {0}")]
pub struct ProofDecodeError(pub String);

/// Checks that under `root`, leaf `key` holds exactly `value` (`Some`: an
/// inclusion proof) or is absent (`None`: a non-inclusion proof).
///
/// `value` is the leaf value as defined in `docs/store.md` (for a template,
/// the SHA-256 of its code; [`encoding::code_hash`]). Pure; never panics.
pub fn verify(root: &StateRoot, key: &LeafKey, value: Option<&[u8]>, proof: &StateProof) -> bool {
    proof.0.verify(RootHash(root.0), KeyHash(key.hash()), value).is_ok()
}

/// A leaf's value at a committed height and the proof of it.
#[derive(Debug, Clone, PartialEq)]
pub struct LeafProof {
    /// The height the proof is for.
    pub height: u64,
    /// The state root the store recorded at `height`. A client must compare
    /// it with a root it trusts (e.g. published by executors), not trust it.
    pub state_root: StateRoot,
    /// The leaf value, or `None` if the leaf is absent.
    pub value: Option<Vec<u8>>,
    /// The proof.
    pub proof: StateProof,
}

impl LeafProof {
    /// Whether the proof shows `key` has [`Self::value`] under `root`.
    pub fn verify(&self, root: &StateRoot, key: &LeafKey) -> bool {
        verify(root, key, self.value.as_deref(), &self.proof)
    }
}

/// An account record (or its absence) at a committed height, with proof.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountProof {
    /// The height the proof is for.
    pub height: u64,
    /// The state root recorded at `height` (compare with a trusted root).
    pub state_root: StateRoot,
    /// The account, or `None` if no account exists at the address.
    pub account: Option<Account>,
    /// The proof.
    pub proof: StateProof,
}

impl AccountProof {
    /// Whether the proof shows `address` has [`Self::account`] under `root`.
    pub fn verify(&self, root: &StateRoot, address: &Address) -> bool {
        let record = self.account.as_ref().map(encoding::encode_account);
        verify(root, &LeafKey::Account(*address), record.as_deref(), &self.proof)
    }
}

/// A storage slot's value at a committed height, with proof.
#[derive(Debug, Clone, PartialEq)]
pub struct StorageProof {
    /// The height the proof is for.
    pub height: u64,
    /// The state root recorded at `height` (compare with a trusted root).
    pub state_root: StateRoot,
    /// The slot's value; [`Bytes32::ZERO`] if the slot is empty (the proof
    /// is then a non-inclusion proof).
    pub value: Bytes32,
    /// The proof.
    pub proof: StateProof,
}

impl StorageProof {
    /// Whether the proof shows slot `key` of `address` holds
    /// [`Self::value`] under `root`.
    pub fn verify(&self, root: &StateRoot, address: &Address, key: &Bytes32) -> bool {
        let value = (!self.value.is_zero()).then_some(self.value.as_bytes().as_slice());
        verify(root, &LeafKey::Storage(*address, *key), value, &self.proof)
    }
}

/// A program's state blob (or its absence) at a committed height, with
/// proof. The blob is its own leaf (`02`, `docs/store.md`), not part of the
/// account record, so a client needs this proof besides the account's to
/// trust the state a node reports.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgramStateProof {
    /// The height the proof is for.
    pub height: u64,
    /// The state root recorded at `height` (compare with a trusted root).
    pub state_root: StateRoot,
    /// The blob; empty if the address has none (the proof is then a
    /// non-inclusion proof: the store never holds an empty blob).
    pub state: Vec<u8>,
    /// The proof.
    pub proof: StateProof,
}

impl ProgramStateProof {
    /// Whether the proof shows `address` has the program state
    /// [`Self::state`] under `root`.
    pub fn verify(&self, root: &StateRoot, address: &Address) -> bool {
        let value = (!self.state.is_empty()).then_some(self.state.as_slice());
        verify(root, &LeafKey::ProgramState(*address), value, &self.proof)
    }
}

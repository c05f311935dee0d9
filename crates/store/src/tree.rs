//! Glue between the store and the `jmt` crate's Jellyfish Merkle tree:
//! reading nodes and versioned leaf values through a backend transaction,
//! writing a tree update into one, producing proofs, and computing a root
//! from scratch over a full state.
//!
//! The tree is versioned by block height: every commit writes the new nodes
//! under the new height and leaves older nodes in place, so proofs can be
//! served at any committed height.
//!
//! `jmt` asserts internal invariants with panics; a node read from a corrupt
//! database could trip one. Every call into it therefore runs under
//! [`std::panic::catch_unwind`] and a panic becomes [`StateError::Corrupt`].

use crate::backend::{ReadTx, Table, WriteTx};
use crate::encoding::{self, LeafKey};
use crate::proof::{StateProof, StateRoot};
use athena_runtime::{ChangeSet, StateError};
use jmt::storage::{LeafNode, Node, NodeKey, TreeReader, TreeUpdateBatch};
use jmt::{JellyfishMerkleTree, KeyHash, OwnedValue, Version};
use sha2::Sha256;
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The tree with the store's hash function.
type Tree<'a, R> = JellyfishMerkleTree<'a, R, Sha256>;

/// Leaf updates of one version: key hash → new value (`None` deletes).
pub(crate) type LeafUpdates = BTreeMap<[u8; 32], Option<Vec<u8>>>;

/// A `jmt` [`TreeReader`] over a backend transaction (read or write).
pub(crate) struct TreeView<'a, T: ?Sized>(pub &'a T);

impl<T: ReadTx + ?Sized> TreeReader for TreeView<'_, T> {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        let key = borsh::to_vec(node_key)?;
        match self.0.get(Table::TreeNodes, &key)? {
            None => Ok(None),
            Some(bytes) => Ok(Some(
                borsh::from_slice(&bytes)
                    .map_err(|e| StateError::Corrupt(format!("undecodable tree node {node_key:?}: {e}")))?,
            )),
        }
    }

    fn get_value_option(&self, max_version: Version, key_hash: KeyHash) -> anyhow::Result<Option<OwnedValue>> {
        let low = encoding::tree_value_key(&key_hash.0, 0);
        let high = encoding::tree_value_key(&key_hash.0, max_version);
        match self.0.last_in(Table::TreeValues, &low, &high)? {
            None => Ok(None),
            Some((_, record)) => Ok(encoding::decode_tree_value(&record)?),
        }
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        // Only used by jmt's snapshot restore and migration paths, which the
        // store does not use.
        anyhow::bail!("get_rightmost_leaf is not supported by the athena store")
    }
}

/// A `jmt` [`TreeReader`] over an empty tree, for computing a root from
/// scratch: version 0 of a fresh tree reads no nodes besides the (absent)
/// pre-genesis root.
struct EmptyTree;

impl TreeReader for EmptyTree {
    fn get_node_option(&self, _: &NodeKey) -> anyhow::Result<Option<Node>> {
        Ok(None)
    }
    fn get_value_option(&self, _: Version, _: KeyHash) -> anyhow::Result<Option<OwnedValue>> {
        Ok(None)
    }
    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        Ok(None)
    }
}

/// Runs a `jmt` operation, turning its errors and panics into
/// [`StateError`]s: a backend error raised by our reader comes back as
/// itself; anything else means the stored tree is inconsistent.
fn guarded<T>(what: &str, op: impl FnOnce() -> anyhow::Result<T>) -> Result<T, StateError> {
    match catch_unwind(AssertUnwindSafe(op)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => Err(match err.downcast_ref::<StateError>() {
            Some(state_error) => state_error.clone(),
            None => StateError::Corrupt(format!("state tree ({what}): {err:#}")),
        }),
        Err(_) => Err(StateError::Corrupt(format!("state tree ({what}): inconsistent tree (jmt panicked)"))),
    }
}

/// Applies `updates` on top of version `version - 1` (or the empty tree for
/// version 0), reading existing nodes through `tx`. Returns the new root and
/// the nodes to persist; writes nothing.
pub(crate) fn update<T: ReadTx + ?Sized>(
    tx: &T,
    version: Version,
    updates: LeafUpdates,
) -> Result<(StateRoot, TreeUpdateBatch), StateError> {
    let view = TreeView(tx);
    let (root, batch) = guarded("update", || {
        Tree::new(&view).put_value_set(updates.into_iter().map(|(key, value)| (KeyHash(key), value)), version)
    })?;
    Ok((StateRoot(root.0), batch))
}

/// Writes the nodes, leaf values and stale-node index of a tree update into
/// `tx` (which commits them together with the state tables).
pub(crate) fn write_batch<W: WriteTx + ?Sized>(tx: &mut W, batch: &TreeUpdateBatch) -> Result<(), StateError> {
    let encode_err = |e: std::io::Error| StateError::Backend(format!("cannot encode tree node: {e}"));
    for (node_key, node) in batch.node_batch.nodes() {
        let key = borsh::to_vec(node_key).map_err(encode_err)?;
        let value = borsh::to_vec(node).map_err(encode_err)?;
        tx.put(Table::TreeNodes, &key, &value)?;
    }
    for ((version, key_hash), value) in batch.node_batch.values() {
        let key = encoding::tree_value_key(&key_hash.0, *version);
        tx.put(Table::TreeValues, &key, &encoding::encode_tree_value(value.as_deref()))?;
    }
    for stale in &batch.stale_node_index_batch {
        let mut key = stale.stale_since_version.to_be_bytes().to_vec();
        key.extend(borsh::to_vec(&stale.node_key).map_err(encode_err)?);
        tx.put(Table::TreeStale, &key, &[])?;
    }
    Ok(())
}

/// The value of leaf `key_hash` at `version` and a proof of it (or of its
/// absence) against that version's root.
pub(crate) fn prove<T: ReadTx + ?Sized>(
    tx: &T,
    key_hash: [u8; 32],
    version: Version,
) -> Result<(Option<Vec<u8>>, StateProof), StateError> {
    let view = TreeView(tx);
    let (value, proof) = guarded("prove", || Tree::new(&view).get_with_proof(KeyHash(key_hash), version))?;
    Ok((value, StateProof(proof)))
}

/// The root hash stored in the tree for `version`, if that version exists.
pub(crate) fn root_at<T: ReadTx + ?Sized>(tx: &T, version: Version) -> Result<Option<StateRoot>, StateError> {
    let view = TreeView(tx);
    Ok(guarded("root", || Tree::new(&view).get_root_hash_option(version))?.map(|root| StateRoot(root.0)))
}

/// The leaves a *full* state contributes to the tree: one per account,
/// non-empty program state, non-zero storage slot and template (zero slots
/// and empty states are absent, exactly as after a commit deletes them).
pub fn leaves_of(contents: &ChangeSet) -> BTreeMap<LeafKey, Vec<u8>> {
    let mut leaves = BTreeMap::new();
    for (address, account) in &contents.accounts {
        leaves.insert(LeafKey::Account(*address), encoding::encode_account(account));
    }
    for (address, blob) in contents.states.iter().filter(|(_, blob)| !blob.is_empty()) {
        leaves.insert(LeafKey::ProgramState(*address), blob.clone());
    }
    for ((address, key), value) in contents.storage.iter().filter(|(_, value)| !value.is_zero()) {
        leaves.insert(LeafKey::Storage(*address, *key), value.as_bytes().to_vec());
    }
    for (address, code) in &contents.templates {
        leaves.insert(LeafKey::Template(*address), encoding::code_hash(code).to_vec());
    }
    leaves
}

/// The state root of a full state, computed from scratch in memory: treat
/// `contents` as the complete state (every account, state blob, slot and
/// template), not as a diff.
///
/// Equal to the root a [`crate::Store`] reports after committing any
/// sequence of blocks that ends in this state: the Jellyfish Merkle root
/// depends only on the set of leaves, not on history.
pub fn root_of_contents(contents: &ChangeSet) -> Result<StateRoot, StateError> {
    let leaves: Vec<(KeyHash, Option<OwnedValue>)> =
        leaves_of(contents).into_iter().map(|(key, value)| (KeyHash(key.hash()), Some(value))).collect();
    let (root, _) = guarded("root from scratch", || Tree::new(&EmptyTree).put_value_set(leaves, 0))?;
    Ok(StateRoot(root.0))
}

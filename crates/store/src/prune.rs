//! Pruning: deleting what only proofs at old heights need (superseded tree
//! nodes, superseded leaf values), so the database does not grow with
//! history. The protocol and its crash-safety argument are in
//! `docs/store.md`, "Pruning".
//!
//! In short: the floor (`meta/pruned_below`) is raised first, in its own
//! transaction, so proofs below it are refused before anything they need is
//! deleted; then the stale index up to the floor is worked off in bounded
//! batches (each its own transaction, deleting nodes, their leaf values and
//! their index rows together); then the root nodes of pruned heights, each
//! batch moving `meta/prune_done` (everything below it is deleted) up to
//! where it got. Nothing a height at or above the floor needs is ever
//! deleted, so a crash between any two transactions leaves a consistent
//! store, and the next call finishes the interrupted work.

use crate::backend::{Backend, ReadTx, Table, WriteTx};
use crate::encoding;
use crate::store::{last_height, Store, StoreError};
use athena_runtime::StateError;
use jmt::storage::Node;

/// Meta key of the pruning floor (u64 big-endian): proofs at heights below
/// it are refused with [`StoreError::Pruned`]. Absent means 0.
pub(crate) const META_PRUNED_BELOW: &[u8] = b"pruned_below";
/// Meta key of the completed floor (u64 big-endian, ≤ `pruned_below`):
/// everything only heights below it needed has been deleted. Absent means 0.
pub(crate) const META_PRUNE_DONE: &[u8] = b"prune_done";

/// Stale-index rows (or root heights) handled per write transaction: bounds
/// the work, memory and lock time of one transaction.
pub const PRUNE_BATCH: usize = 512;

/// What one [`Store::prune`] call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PruneReport {
    /// The floor after the call: proofs below it are refused.
    pub floor: u64,
    /// Tree nodes deleted.
    pub nodes_deleted: u64,
    /// Leaf-value history rows deleted.
    pub values_deleted: u64,
    /// Stale-index rows worked off.
    pub stale_rows_deleted: u64,
    /// Write transactions committed (including the floor's and the final one).
    pub transactions: u64,
    /// Whether everything below the floor is deleted; `false` when a
    /// [`Store::prune_some`] budget ran out first (the next call goes on).
    pub complete: bool,
}

/// A u64 meta value, 0 if absent.
fn meta_u64<T: ReadTx + ?Sized>(tx: &T, key: &[u8]) -> Result<u64, StateError> {
    tx.get(Table::Meta, key)?.map_or(Ok(0), |bytes| encoding::decode_u64(&bytes))
}

/// The pruning floor recorded in `tx` (0 if never pruned).
pub(crate) fn pruned_below<T: ReadTx + ?Sized>(tx: &T) -> Result<u64, StateError> {
    meta_u64(tx, META_PRUNED_BELOW)
}

/// The tree-node key of the root of version `height`: borsh of a `NodeKey`
/// with an empty nibble path (version u64 LE ‖ nibble count 0 as u64 LE ‖
/// path length 0 as u32 LE; jmt does not export a constructor for it).
fn root_key(height: u64) -> [u8; 20] {
    let mut key = [0u8; 20];
    key[..8].copy_from_slice(&height.to_le_bytes());
    key
}

/// Deletes the value history of `key_hash` that no height at or after
/// `keep_from` reads: every row older than the newest one at or before
/// `keep_from`, and that newest one too if it is a deletion marker (a
/// lookup then finds nothing, exactly as it found the marker). Returns the
/// number of rows deleted.
fn prune_values<W: WriteTx + ?Sized>(tx: &mut W, key_hash: &[u8; 32], keep_from: u64) -> Result<u64, StateError> {
    let low = encoding::tree_value_key(key_hash, 0);
    let high = encoding::tree_value_key(key_hash, keep_from);
    let rows = tx.scan(Table::TreeValues, &low, &high)?;
    let Some(((_, newest), older)) = rows.split_last() else {
        return Ok(0);
    };
    let mut deleted = 0;
    for (key, _) in older {
        tx.delete(Table::TreeValues, key)?;
        deleted += 1;
    }
    if encoding::decode_tree_value(newest)?.is_none() {
        if let Some((key, _)) = rows.last() {
            tx.delete(Table::TreeValues, key)?;
            deleted += 1;
        }
    }
    Ok(deleted)
}

impl<B: Backend> Store<B> {
    /// The pruning floor: proofs at heights below it are refused with
    /// [`StoreError::Pruned`] (0 if the store was never pruned).
    pub fn pruned_below(&self) -> Result<u64, StateError> {
        pruned_below(&self.backend().begin_read()?)
    }

    /// Deletes everything only needed to prove heights below `keep_from`,
    /// so the database stops growing with history: tree nodes superseded at
    /// or before `keep_from`, their stale-index rows, and leaf values
    /// superseded before it. Block records stay (roots remain history);
    /// proofs below the new floor fail with [`StoreError::Pruned`]. Roots,
    /// proofs and commits at heights `>= keep_from` are unaffected.
    ///
    /// `keep_from` must be at most the last committed height
    /// ([`StoreError::UnknownHeight`] otherwise, nothing changes), so the
    /// last height is never touched. A `keep_from` at or below the current
    /// floor only finishes an interrupted earlier prune (idempotent). Works
    /// in bounded batches, each its own write transaction; a crash at any
    /// point leaves a consistent store, and the next call completes it.
    pub fn prune(&self, keep_from: u64) -> Result<PruneReport, StoreError> {
        self.prune_some(keep_from, u64::MAX)
    }

    /// [`Store::prune`] doing at most `max_batches` deletion transactions
    /// (of [`PRUNE_BATCH`] rows or heights each), so a caller that prunes
    /// between blocks (the node's `--keep-heights`) is never held up for
    /// long, even when pruning is first turned on for a long history. The
    /// floor is raised at once whatever the budget; the report says whether
    /// the deletions are [`PruneReport::complete`], and the next call with
    /// the same or a higher `keep_from` goes on where this one stopped.
    pub fn prune_some(&self, keep_from: u64, max_batches: u64) -> Result<PruneReport, StoreError> {
        let mut report = PruneReport::default();
        let mut batches = 0u64;
        // 1. Raise the floor first: from now on nothing below it is served,
        //    so deleting what it needs can never produce a wrong answer.
        let mut tx = self.backend().begin_write()?;
        let last = last_height(&tx)?;
        if last.is_none_or(|last| keep_from > last) {
            return Err(StoreError::UnknownHeight { height: keep_from, last });
        }
        let floor = pruned_below(&tx)?;
        let done = meta_u64(&tx, META_PRUNE_DONE)?;
        let target = floor.max(keep_from);
        report.floor = target;
        if target == done {
            report.complete = true;
            return Ok(report);
        }
        if target > floor {
            tx.put(Table::Meta, META_PRUNED_BELOW, &target.to_be_bytes())?;
            tx.commit()?;
            report.transactions += 1;
        } else {
            drop(tx);
        }

        // 2. Work off the stale index up to the floor: a node made stale at
        //    height h is in no version >= h.
        let mut high = target.to_be_bytes().to_vec();
        high.extend([0xff; 64]);
        loop {
            if batches >= max_batches {
                return Ok(report);
            }
            let mut tx = self.backend().begin_write()?;
            let rows = tx.scan_first(Table::TreeStale, &[], &high, PRUNE_BATCH)?;
            if rows.is_empty() {
                break;
            }
            for (key, _) in &rows {
                let node_key = key.get(8..).unwrap_or_default();
                if let Some(bytes) = tx.get(Table::TreeNodes, node_key)? {
                    let node: Node = borsh::from_slice(&bytes)
                        .map_err(|e| StateError::Corrupt(format!("undecodable stale tree node: {e}")))?;
                    if let Node::Leaf(leaf) = node {
                        report.values_deleted += prune_values(&mut tx, &leaf.key_hash().0, target)?;
                    }
                    tx.delete(Table::TreeNodes, node_key)?;
                    report.nodes_deleted += 1;
                }
                tx.delete(Table::TreeStale, key)?;
                report.stale_rows_deleted += 1;
            }
            tx.commit()?;
            report.transactions += 1;
            batches += 1;
        }

        // 3. Roots of the pruned heights. A block that changes nothing
        //    copies the previous root without marking it stale, so some
        //    roots are in no stale row; a root is only ever read as its own
        //    version's root, so every root below the floor can go. Each
        //    batch also moves `prune_done` up to where it got: the stale
        //    index below the floor is empty by now, so everything below
        //    that height is deleted, and an interrupted pass resumes there.
        let mut height = done;
        while height < target {
            if batches >= max_batches {
                return Ok(report);
            }
            let end = target.min(height.saturating_add(PRUNE_BATCH as u64));
            let mut tx = self.backend().begin_write()?;
            for h in height..end {
                let key = root_key(h);
                if tx.get(Table::TreeNodes, &key)?.is_some() {
                    tx.delete(Table::TreeNodes, &key)?;
                    report.nodes_deleted += 1;
                }
            }
            tx.put(Table::Meta, META_PRUNE_DONE, &end.to_be_bytes())?;
            tx.commit()?;
            report.transactions += 1;
            batches += 1;
            height = end;
        }
        report.complete = true;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jmt::storage::NodeKey;

    #[test]
    fn root_key_is_the_borsh_of_an_empty_path_node_key() {
        for height in [0, 1, 0x0102_0304_0506_0708, u64::MAX] {
            let key: NodeKey = borsh::from_slice(&root_key(height)).unwrap();
            assert_eq!(key.version(), height);
            assert!(key.nibble_path().is_empty());
            assert_eq!(borsh::to_vec(&key).unwrap(), root_key(height));
        }
    }
}

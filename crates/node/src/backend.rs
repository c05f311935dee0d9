//! The executor's database: one redb file holding the store's tables
//! (`athena_store::backend::Table`, unchanged) and the node's own tables
//! (receipts, transaction index, events index, block summaries, node
//! metadata), so a block's receipts are written **in the same redb
//! transaction** as its state.
//!
//! How, without changing `athena-store`: [`NodeBackend`] implements the
//! store's [`Backend`] seam. Before `Store::commit_block` the executor
//! [`stages`](NodeBackend::stage) the node rows of the block; the write
//! transaction the store opens takes them and writes them just before its
//! atomic commit. A crash therefore leaves the file at a block boundary with
//! state, tree, block record *and* receipts of the same last block, never
//! some without the others. (The store opens exactly one write transaction
//! per `commit_block`; `Chain::open` checks on every start that the node's
//! last block summary is at the store's last height, and a write
//! transaction carrying staged rows refuses to commit unless it sets the
//! store's last height to the height they were staged for.)

use athena_runtime::StateError;
use athena_store::backend::{Backend, Entry, ReadTx, Table, WriteTx};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use std::path::Path;
use std::sync::{Mutex, PoisonError};

/// The node's own tables (names are part of the data-dir format).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeTable {
    /// `genesis_id`, `network`, `templates`: fixed at genesis;
    /// `receipts_pruned_below`: the receipts pruning floor.
    Meta,
    /// height (u64 BE) ‖ index (u32 BE) → SCALE(`StoredReceipt`).
    Receipts,
    /// tx id (32) → height (u64 BE) ‖ index (u32 BE) ‖ effective (u8).
    TxIndex,
    /// address (24) ‖ height (u64 BE) ‖ index (u32 BE) ‖ log (u32 BE) → empty.
    Events,
    /// height (u64 BE) → SCALE(`BlockSummary`).
    Blocks,
}

impl NodeTable {
    const ALL: [NodeTable; 5] =
        [NodeTable::Meta, NodeTable::Receipts, NodeTable::TxIndex, NodeTable::Events, NodeTable::Blocks];

    /// The table's name in the redb file.
    pub const fn name(self) -> &'static str {
        match self {
            NodeTable::Meta => "node_meta",
            NodeTable::Receipts => "node_receipts",
            NodeTable::TxIndex => "node_tx_index",
            NodeTable::Events => "node_events",
            NodeTable::Blocks => "node_blocks",
        }
    }
}

/// The store's meta key of the last committed height (`docs/store.md`,
/// "Tables"): the staged rows must commit with the block they describe.
const META_LAST_HEIGHT: &[u8] = b"last_height";

/// One row to write with the next block commit.
pub type NodeRow = (NodeTable, Vec<u8>, Vec<u8>);

fn def(name: &'static str) -> TableDefinition<'static, &'static [u8], &'static [u8]> {
    TableDefinition::new(name)
}

fn map_err(error: impl Into<redb::Error>) -> StateError {
    match error.into() {
        redb::Error::Corrupted(message) => StateError::Corrupt(format!("redb: {message}")),
        other => StateError::Backend(format!("redb: {other}")),
    }
}

/// Why [`NodeBackend::open`] failed.
#[derive(Debug, thiserror::Error)]
pub enum NodeOpenError {
    /// Another process (or another handle in this one) holds the file's
    /// lock: a running executor or shadow.
    #[error("the database is in use by another process")]
    InUse,
    /// Anything else: I/O, corruption, a file that is not a redb database.
    #[error(transparent)]
    State(#[from] StateError),
}

/// The executor's redb database (see the module docs).
#[derive(Debug)]
pub struct NodeBackend {
    db: Database,
    staged: Mutex<Option<Staged>>,
}

/// Node rows waiting for the commit of block `height`.
#[derive(Debug)]
struct Staged {
    height: u64,
    rows: Vec<NodeRow>,
}

impl NodeBackend {
    /// Opens (or creates) the database file at `path`. Only one process may
    /// hold it open: another one's lock is [`NodeOpenError::InUse`], so a
    /// second executor or an offline tool (`athena node compact`) can say
    /// why instead of passing on redb's message.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, NodeOpenError> {
        let db =
            athena_store::redb_file::open_or_create(path.as_ref(), &redb::Builder::new()).map_err(|e| match e {
                redb::DatabaseError::DatabaseAlreadyOpen => NodeOpenError::InUse,
                other => NodeOpenError::State(map_err(other)),
            })?;
        Ok(Self::with_database(db)?)
    }

    /// Shrinks the file to what it still holds (`RedbBackend::compact` in
    /// `athena-store`): pruning frees pages that redb reuses but never
    /// returns to the file system. Contents are unchanged. `&mut self`: no
    /// transaction may be open meanwhile. Returns whether anything moved.
    pub fn compact(&mut self) -> Result<bool, StateError> {
        self.db.compact().map_err(map_err)
    }

    /// A database in memory (tests).
    pub fn in_memory() -> Result<Self, StateError> {
        Self::with_database(
            Database::builder().create_with_backend(redb::backends::InMemoryBackend::new()).map_err(map_err)?,
        )
    }

    fn with_database(db: Database) -> Result<Self, StateError> {
        let tx = db.begin_write().map_err(map_err)?;
        for table in Table::ALL {
            tx.open_table(def(table.name())).map_err(map_err)?;
        }
        for table in NodeTable::ALL {
            tx.open_table(def(table.name())).map_err(map_err)?;
        }
        tx.commit().map_err(map_err)?;
        Ok(NodeBackend { db, staged: Mutex::new(None) })
    }

    /// Queues `rows` for the next write transaction, which must be the
    /// `Store::commit_block` of block `height` (checked when it commits:
    /// it must set the store's last height to `height`). Replaces anything
    /// staged before.
    pub fn stage(&self, height: u64, rows: Vec<NodeRow>) {
        *self.staged.lock().unwrap_or_else(PoisonError::into_inner) = Some(Staged { height, rows });
    }

    /// A read transaction for the node's tables.
    pub fn read(&self) -> Result<NodeRead, StateError> {
        self.begin_read()
    }

    /// A write transaction for the node's own housekeeping (pruning old
    /// receipts), outside any block commit: it never takes staged rows, so
    /// it cannot carry a block's rows away from the block's commit.
    pub fn write(&self) -> Result<NodeWrite, StateError> {
        Ok(NodeWrite { tx: self.db.begin_write().map_err(map_err)?, staged: None })
    }
}

impl Backend for NodeBackend {
    type Read = NodeRead;
    type Write = NodeWrite;

    fn begin_read(&self) -> Result<NodeRead, StateError> {
        Ok(NodeRead(self.db.begin_read().map_err(map_err)?))
    }

    fn begin_write(&self) -> Result<NodeWrite, StateError> {
        let tx = self.db.begin_write().map_err(map_err)?;
        let staged = self.staged.lock().unwrap_or_else(PoisonError::into_inner).take();
        Ok(NodeWrite { tx, staged })
    }
}

fn get_in(table: &impl ReadableTable<&'static [u8], &'static [u8]>, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
    Ok(table.get(key).map_err(map_err)?.map(|value| value.value().to_vec()))
}

fn range_in(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    low: &[u8],
    high: &[u8],
    limit: usize,
    reverse: bool,
) -> Result<Vec<Entry>, StateError> {
    let mut out = Vec::new();
    let range = table.range::<&[u8]>(low..=high).map_err(map_err)?;
    let mut push = |entry: Result<_, redb::StorageError>| -> Result<bool, StateError> {
        let (key, value): (redb::AccessGuard<&[u8]>, redb::AccessGuard<&[u8]>) = entry.map_err(map_err)?;
        out.push((key.value().to_vec(), value.value().to_vec()));
        Ok(out.len() < limit)
    };
    if reverse {
        for entry in range.rev() {
            if !push(entry)? {
                break;
            }
        }
    } else {
        for entry in range {
            if !push(entry)? {
                break;
            }
        }
    }
    Ok(out)
}

/// A read transaction (snapshot) of the whole file.
pub struct NodeRead(redb::ReadTransaction);

impl std::fmt::Debug for NodeRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NodeRead")
    }
}

impl NodeRead {
    fn open(&self, name: &'static str) -> Result<redb::ReadOnlyTable<&'static [u8], &'static [u8]>, StateError> {
        self.0.open_table(def(name)).map_err(map_err)
    }

    /// A row of a node table.
    pub fn node_get(&self, table: NodeTable, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        get_in(&self.open(table.name())?, key)
    }

    /// Up to `limit` rows of a node table with keys in `low..=high`, in key
    /// order (or reversed).
    pub fn node_range(
        &self,
        table: NodeTable,
        low: &[u8],
        high: &[u8],
        limit: usize,
        reverse: bool,
    ) -> Result<Vec<Entry>, StateError> {
        range_in(&self.open(table.name())?, low, high, limit, reverse)
    }
}

impl ReadTx for NodeRead {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        get_in(&self.open(table.name())?, key)
    }
    fn contains(&self, table: Table, key: &[u8]) -> Result<bool, StateError> {
        Ok(self.open(table.name())?.get(key).map_err(map_err)?.is_some())
    }
    fn last_in(&self, table: Table, low: &[u8], high: &[u8]) -> Result<Option<Entry>, StateError> {
        Ok(range_in(&self.open(table.name())?, low, high, 1, true)?.pop())
    }
    fn scan(&self, table: Table, low: &[u8], high: &[u8]) -> Result<Vec<Entry>, StateError> {
        range_in(&self.open(table.name())?, low, high, usize::MAX, false)
    }
    fn scan_first(&self, table: Table, low: &[u8], high: &[u8], limit: usize) -> Result<Vec<Entry>, StateError> {
        range_in(&self.open(table.name())?, low, high, limit, false)
    }
}

/// A write transaction carrying the node rows staged for it.
pub struct NodeWrite {
    tx: redb::WriteTransaction,
    staged: Option<Staged>,
}

impl std::fmt::Debug for NodeWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NodeWrite({} staged rows)", self.staged.as_ref().map_or(0, |s| s.rows.len()))
    }
}

impl NodeWrite {
    fn open(&self, name: &'static str) -> Result<redb::Table<'_, &'static [u8], &'static [u8]>, StateError> {
        self.tx.open_table(def(name)).map_err(map_err)
    }

    /// A row of a node table, as this transaction sees it.
    pub fn node_get(&self, table: NodeTable, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        get_in(&self.open(table.name())?, key)
    }

    /// Up to `limit` rows of a node table with keys in `low..=high`, in key
    /// order: the pruner's bounded batch.
    pub fn node_range(
        &self,
        table: NodeTable,
        low: &[u8],
        high: &[u8],
        limit: usize,
    ) -> Result<Vec<Entry>, StateError> {
        range_in(&self.open(table.name())?, low, high, limit, false)
    }

    /// Writes a row of a node table (pruning bookkeeping; block rows go
    /// through [`NodeBackend::stage`]).
    pub fn node_put(&mut self, table: NodeTable, key: &[u8], value: &[u8]) -> Result<(), StateError> {
        self.open(table.name())?.insert(key, value).map_err(map_err)?;
        Ok(())
    }

    /// Deletes a row of a node table (a no-op if absent): pruning.
    pub fn node_delete(&mut self, table: NodeTable, key: &[u8]) -> Result<(), StateError> {
        self.open(table.name())?.remove(key).map_err(map_err)?;
        Ok(())
    }
}

impl ReadTx for NodeWrite {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        get_in(&self.open(table.name())?, key)
    }
    fn last_in(&self, table: Table, low: &[u8], high: &[u8]) -> Result<Option<Entry>, StateError> {
        Ok(range_in(&self.open(table.name())?, low, high, 1, true)?.pop())
    }
    fn scan(&self, table: Table, low: &[u8], high: &[u8]) -> Result<Vec<Entry>, StateError> {
        range_in(&self.open(table.name())?, low, high, usize::MAX, false)
    }
    fn scan_first(&self, table: Table, low: &[u8], high: &[u8], limit: usize) -> Result<Vec<Entry>, StateError> {
        range_in(&self.open(table.name())?, low, high, limit, false)
    }
}

impl WriteTx for NodeWrite {
    fn put(&mut self, table: Table, key: &[u8], value: &[u8]) -> Result<(), StateError> {
        self.open(table.name())?.insert(key, value).map_err(map_err)?;
        Ok(())
    }
    fn delete(&mut self, table: Table, key: &[u8]) -> Result<(), StateError> {
        self.open(table.name())?.remove(key).map_err(map_err)?;
        Ok(())
    }
    /// Writes the staged node rows, then commits everything at once.
    /// Refuses (writing nothing) if the transaction does not commit the
    /// block the rows were staged for.
    fn commit(self) -> Result<(), StateError> {
        if let Some(staged) = &self.staged {
            let last = self.get(Table::Meta, META_LAST_HEIGHT)?;
            if last.as_deref() != Some(&staged.height.to_be_bytes()[..]) {
                return Err(StateError::Corrupt(format!(
                    "node rows staged for block {} but the transaction commits another height",
                    staged.height
                )));
            }
            for (table, key, value) in &staged.rows {
                self.open(table.name())?.insert(key.as_slice(), value.as_slice()).map_err(map_err)?;
            }
        }
        self.tx.commit().map_err(map_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use athena_runtime::ChangeSet;
    use athena_store::{BlockMeta, Store};

    #[test]
    fn staged_rows_commit_only_with_their_block() {
        let store = Store::with_backend(NodeBackend::in_memory().unwrap()).unwrap();
        let row = || vec![(NodeTable::Meta, b"k".to_vec(), b"v".to_vec())];
        store.backend().stage(5, row());
        let refused = store.commit_block(0, &ChangeSet::default(), &BlockMeta::default());
        assert!(refused.is_err(), "{refused:?}");
        assert_eq!(store.last_committed().unwrap(), None, "nothing committed");
        assert_eq!(store.backend().read().unwrap().node_get(NodeTable::Meta, b"k").unwrap(), None);

        store.backend().stage(0, row());
        store.commit_block(0, &ChangeSet::default(), &BlockMeta::default()).unwrap();
        assert_eq!(store.backend().read().unwrap().node_get(NodeTable::Meta, b"k").unwrap(), Some(b"v".to_vec()));
        // Staged rows are used once.
        store.commit_block(1, &ChangeSet::default(), &BlockMeta::default()).unwrap();
        let rows = store.backend().read().unwrap().node_range(NodeTable::Meta, &[], &[0xff], 10, false).unwrap();
        assert_eq!(rows.len(), 1);
    }
}

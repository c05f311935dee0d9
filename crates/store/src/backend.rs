//! The database seam: the few operations the store needs from an embedded
//! key-value database, so a backend other than redb can be added by
//! implementing three small traits (see `docs/store.md`).
//!
//! Everything above this seam (record encodings, the commit protocol, the
//! Merkle tree, proofs) is backend-independent, so two backends holding the
//! same blocks produce the same roots and proofs.

use athena_runtime::StateError;

/// The logical tables of the store. A backend maps each to one ordered
/// byte-keyed table (for redb: one `TableDefinition<&[u8], &[u8]>`).
///
/// Keys compare as byte strings; big-endian integers in keys therefore sort
/// numerically, which the tree's value history relies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Table {
    /// Store-wide metadata: the schema version and the last committed height.
    Meta,
    /// Account records by address.
    Accounts,
    /// Program state blobs by address.
    States,
    /// Storage slots by address ‖ key; absent means zero.
    Storage,
    /// Template code by template address (which is a hash of the code).
    Templates,
    /// Per committed block height: state root, input hash, receipts root.
    Blocks,
    /// Jellyfish Merkle tree nodes by (version, nibble path).
    TreeNodes,
    /// Leaf value history by key hash ‖ version, for proofs at any height.
    TreeValues,
    /// Tree nodes made stale by a version: the pruner's work list
    /// (`Store::prune`).
    TreeStale,
}

impl Table {
    /// Every table, so a backend can create them all up front (a read
    /// transaction then never finds a table missing).
    pub const ALL: [Table; 9] = [
        Table::Meta,
        Table::Accounts,
        Table::States,
        Table::Storage,
        Table::Templates,
        Table::Blocks,
        Table::TreeNodes,
        Table::TreeValues,
        Table::TreeStale,
    ];

    /// The table's name in the database file. Part of the on-disk format.
    pub const fn name(self) -> &'static str {
        match self {
            Table::Meta => "meta",
            Table::Accounts => "accounts",
            Table::States => "program_states",
            Table::Storage => "storage",
            Table::Templates => "templates",
            Table::Blocks => "blocks",
            Table::TreeNodes => "tree_nodes",
            Table::TreeValues => "tree_values",
            Table::TreeStale => "tree_stale",
        }
    }
}

/// One table entry: key and value.
pub type Entry = (Vec<u8>, Vec<u8>);

/// A consistent read-only view of the database (a snapshot: later commits
/// are not visible through it).
pub trait ReadTx {
    /// The value stored under `key`, if any.
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StateError>;

    /// Whether a value is stored under `key`. Backends can answer without
    /// copying the value; the default copies it.
    fn contains(&self, table: Table, key: &[u8]) -> Result<bool, StateError> {
        Ok(self.get(table, key)?.is_some())
    }

    /// The entry with the greatest key in `low..=high`, if any. The tree's
    /// versioned value lookup ("latest value at or before height h") is one
    /// such query.
    fn last_in(&self, table: Table, low: &[u8], high: &[u8]) -> Result<Option<Entry>, StateError>;

    /// Every entry with a key in `low..=high`, in key order.
    fn scan(&self, table: Table, low: &[u8], high: &[u8]) -> Result<Vec<Entry>, StateError>;

    /// The first `limit` entries with a key in `low..=high`, in key order:
    /// lets the pruner bound the work of one transaction. The default scans
    /// the whole range; backends should stop early.
    fn scan_first(&self, table: Table, low: &[u8], high: &[u8], limit: usize) -> Result<Vec<Entry>, StateError> {
        let mut entries = self.scan(table, low, high)?;
        entries.truncate(limit);
        Ok(entries)
    }
}

/// A write transaction: reads see its own writes; nothing is visible to
/// other transactions, nor survives a crash, until [`WriteTx::commit`]
/// returns `Ok`. Dropping it without committing discards every write.
pub trait WriteTx: ReadTx {
    /// Stores `value` under `key`, replacing any previous value.
    fn put(&mut self, table: Table, key: &[u8], value: &[u8]) -> Result<(), StateError>;

    /// Removes `key` (a no-op if absent).
    fn delete(&mut self, table: Table, key: &[u8]) -> Result<(), StateError>;

    /// Makes every write of this transaction durable and visible, atomically:
    /// after a crash at any point, either all of them or none are present.
    fn commit(self) -> Result<(), StateError>;
}

/// An embedded transactional key-value database. Implementations must give
/// snapshot isolation for readers and atomic, durable commits (see
/// [`WriteTx::commit`]); the store's crash safety rests on exactly that.
pub trait Backend {
    /// The backend's read transaction.
    type Read: ReadTx;
    /// The backend's write transaction.
    type Write: WriteTx;

    /// Starts a read transaction on the latest committed state.
    fn begin_read(&self) -> Result<Self::Read, StateError>;

    /// Starts a write transaction (waiting for any other writer to finish).
    fn begin_write(&self) -> Result<Self::Write, StateError>;
}

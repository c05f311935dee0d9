//! The redb backend: all redb-specific code of the crate.
//!
//! Each logical [`Table`] is one redb table of byte strings. redb commits
//! are copy-on-write with checksummed commit slots and `fsync` before
//! `commit` returns ([`redb::Durability::Immediate`], the default), so after
//! a crash the database opens at exactly the last transaction whose commit
//! returned — or a later one that was in flight, never a partial one.

use crate::backend::{Backend, Entry, ReadTx, Table, WriteTx};
use crate::redb_file::open_or_create;
use athena_runtime::StateError;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use std::path::Path;

/// The redb table behind a logical table.
fn definition(table: Table) -> TableDefinition<'static, &'static [u8], &'static [u8]> {
    TableDefinition::new(table.name())
}

/// Maps a redb error: redb's own corruption report stays corruption,
/// everything else (I/O, locking, ...) is a backend failure.
fn map_err(error: impl Into<redb::Error>) -> StateError {
    match error.into() {
        redb::Error::Corrupted(message) => StateError::Corrupt(format!("redb: {message}")),
        other => StateError::Backend(format!("redb: {other}")),
    }
}

/// A redb database holding the store's tables.
#[derive(Debug)]
pub struct RedbBackend {
    db: Database,
}

impl RedbBackend {
    /// Opens the database file at `path`, creating it if it does not exist.
    /// After a crash, redb repairs its allocator state on open and the file
    /// reflects the last committed transaction. Only one process may have a
    /// database open at a time ([`StateError::Backend`] otherwise).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StateError> {
        Self::with_database(open_or_create(path.as_ref(), &redb::Builder::new()).map_err(map_err)?)
    }

    /// Like [`Self::open`], but first verifies the checksum of every page
    /// (reading the whole file): a file altered outside redb then fails with
    /// [`StateError::Corrupt`] instead of being trusted, where a plain open
    /// may panic inside redb. For recovering a node whose disk is suspect.
    pub fn open_checked(path: impl AsRef<Path>) -> Result<Self, StateError> {
        let mut builder = redb::Builder::new();
        builder.set_check_integrity_on_open(true);
        Self::with_database(open_or_create(path.as_ref(), &builder).map_err(map_err)?)
    }

    /// A database held in memory only: for tests, and for throw-away state
    /// such as a shadow executor's scratch copy.
    pub fn in_memory() -> Result<Self, StateError> {
        let db = Database::builder().create_with_backend(redb::backends::InMemoryBackend::new()).map_err(map_err)?;
        Self::with_database(db)
    }

    /// Creates any missing table, so read transactions always find them.
    fn with_database(db: Database) -> Result<Self, StateError> {
        let tx = db.begin_write().map_err(map_err)?;
        for table in Table::ALL {
            tx.open_table(definition(table)).map_err(map_err)?;
        }
        tx.commit().map_err(map_err)?;
        Ok(RedbBackend { db })
    }

    /// Gives the pages freed by deletions (pruning) back to the file system:
    /// redb reuses freed pages for later commits but never shrinks the file
    /// on its own. Moves live pages down and truncates the file; the
    /// contents (and so every root and proof) are unchanged. Returns whether
    /// anything was moved. Needs `&mut self` because no transaction may be
    /// open meanwhile (an open snapshot makes it fail with
    /// [`StateError::Backend`]); it may take long on a big file, so it is
    /// for offline maintenance, not the commit path. Each step is an atomic
    /// redb commit, so a crash during compaction leaves a valid database.
    pub fn compact(&mut self) -> Result<bool, StateError> {
        self.db.compact().map_err(map_err)
    }
}

impl Backend for RedbBackend {
    type Read = RedbRead;
    type Write = RedbWrite;

    fn begin_read(&self) -> Result<RedbRead, StateError> {
        Ok(RedbRead(self.db.begin_read().map_err(map_err)?))
    }

    fn begin_write(&self) -> Result<RedbWrite, StateError> {
        Ok(RedbWrite(self.db.begin_write().map_err(map_err)?))
    }
}

/// Reads `key` from an open redb table.
fn get_in(table: &impl ReadableTable<&'static [u8], &'static [u8]>, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
    Ok(table.get(key).map_err(map_err)?.map(|value| value.value().to_vec()))
}

/// The last entry of `low..=high` in an open redb table.
fn last_in(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    low: &[u8],
    high: &[u8],
) -> Result<Option<Entry>, StateError> {
    match table.range::<&[u8]>(low..=high).map_err(map_err)?.next_back() {
        None => Ok(None),
        Some(entry) => {
            let (key, value) = entry.map_err(map_err)?;
            Ok(Some((key.value().to_vec(), value.value().to_vec())))
        }
    }
}

/// The first `limit` entries of `low..=high` in an open redb table.
fn scan(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    low: &[u8],
    high: &[u8],
    limit: usize,
) -> Result<Vec<Entry>, StateError> {
    let mut out = Vec::new();
    for entry in table.range::<&[u8]>(low..=high).map_err(map_err)?.take(limit) {
        let (key, value) = entry.map_err(map_err)?;
        out.push((key.value().to_vec(), value.value().to_vec()));
    }
    Ok(out)
}

/// A redb read transaction (a snapshot).
pub struct RedbRead(redb::ReadTransaction);

impl std::fmt::Debug for RedbRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedbRead")
    }
}

impl RedbRead {
    fn table(&self, table: Table) -> Result<redb::ReadOnlyTable<&'static [u8], &'static [u8]>, StateError> {
        self.0.open_table(definition(table)).map_err(map_err)
    }
}

impl ReadTx for RedbRead {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        get_in(&self.table(table)?, key)
    }
    fn contains(&self, table: Table, key: &[u8]) -> Result<bool, StateError> {
        Ok(self.table(table)?.get(key).map_err(map_err)?.is_some())
    }
    fn last_in(&self, table: Table, low: &[u8], high: &[u8]) -> Result<Option<Entry>, StateError> {
        last_in(&self.table(table)?, low, high)
    }
    fn scan(&self, table: Table, low: &[u8], high: &[u8]) -> Result<Vec<Entry>, StateError> {
        scan(&self.table(table)?, low, high, usize::MAX)
    }
    fn scan_first(&self, table: Table, low: &[u8], high: &[u8], limit: usize) -> Result<Vec<Entry>, StateError> {
        scan(&self.table(table)?, low, high, limit)
    }
}

/// A redb write transaction. Dropping it uncommitted aborts it.
pub struct RedbWrite(redb::WriteTransaction);

impl std::fmt::Debug for RedbWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedbWrite")
    }
}

impl RedbWrite {
    fn table(&self, table: Table) -> Result<redb::Table<'_, &'static [u8], &'static [u8]>, StateError> {
        self.0.open_table(definition(table)).map_err(map_err)
    }
}

impl ReadTx for RedbWrite {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        get_in(&self.table(table)?, key)
    }
    fn last_in(&self, table: Table, low: &[u8], high: &[u8]) -> Result<Option<Entry>, StateError> {
        last_in(&self.table(table)?, low, high)
    }
    fn scan(&self, table: Table, low: &[u8], high: &[u8]) -> Result<Vec<Entry>, StateError> {
        scan(&self.table(table)?, low, high, usize::MAX)
    }
    fn scan_first(&self, table: Table, low: &[u8], high: &[u8], limit: usize) -> Result<Vec<Entry>, StateError> {
        scan(&self.table(table)?, low, high, limit)
    }
}

impl WriteTx for RedbWrite {
    fn put(&mut self, table: Table, key: &[u8], value: &[u8]) -> Result<(), StateError> {
        self.table(table)?.insert(key, value).map_err(map_err)?;
        Ok(())
    }
    fn delete(&mut self, table: Table, key: &[u8]) -> Result<(), StateError> {
        self.table(table)?.remove(key).map_err(map_err)?;
        Ok(())
    }
    fn commit(self) -> Result<(), StateError> {
        self.0.commit().map_err(map_err)
    }
}

impl crate::Store<RedbBackend> {
    /// Opens (or creates) the store's redb database at `path`. See
    /// [`RedbBackend::open`] and [`crate::Store::with_backend`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StateError> {
        crate::Store::with_backend(RedbBackend::open(path)?)
    }

    /// Shrinks the database file to what the store still holds (see
    /// [`RedbBackend::compact`]): after [`crate::Store::prune`], the way to
    /// get the freed disk space back.
    pub fn compact(&mut self) -> Result<bool, StateError> {
        self.backend_mut().compact()
    }

    /// A store in memory (see [`RedbBackend::in_memory`]).
    pub fn in_memory() -> Result<Self, StateError> {
        crate::Store::with_backend(RedbBackend::in_memory()?)
    }
}

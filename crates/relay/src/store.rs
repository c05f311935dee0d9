//! The durable record of the pool: every accepted transaction is committed
//! here before the relay answers 202, and leaves when the pool drops it for
//! good (included, replaced, evicted, stale, expired...).
//!
//! Why redb rather than an append-only log: the workspace already uses it
//! for the same job (the sequencer's `queue` table in `sequencer.redb`), a
//! commit is crash-safe and fsynced (`Durability::Immediate`, the default)
//! without hand-written framing or recovery, and deleting a row frees its
//! space, so the file stays bounded by the pool's own limits without
//! log compaction.
//!
//! One table, `pending`: key = a sequence number reserved when the pool
//! admits the transaction (so key order = arrival order, even when two
//! commits race), value = the 32-byte transaction id followed by its bytes.
//! The id-to-key map is mirrored in memory.
//!
//! All methods block on disk I/O: call them from `spawn_blocking`.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use athena_interface::Bytes32;
use parity_scale_codec::Decode;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use crate::mempool::{Candidate, TxId};

/// Name of the pool's database in the data directory.
pub const STORE_FILE: &str = "mempool.redb";

/// Name of the snapshot older relays wrote (SCALE `Vec<Vec<u8>>` in arrival
/// order); migrated into [`STORE_FILE`] once, then deleted.
pub const SNAPSHOT_FILE: &str = "mempool.scale";

const PENDING: TableDefinition<'static, u64, &'static [u8]> = TableDefinition::new("pending");

/// Why the pool's store could not be opened or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The data directory or a file in it could not be created or read.
    #[error("relay data directory {path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// redb could not open, read or commit (includes an unreadable file).
    #[error("relay pool store: {0}")]
    Storage(String),
    /// A row is too short to hold a transaction id.
    #[error("relay pool store: row #{seq} is corrupt ({len} bytes)")]
    Corrupt {
        /// The row's key.
        seq: u64,
        /// Its length.
        len: usize,
    },
    /// The snapshot of an older relay does not decode; it is left in place.
    #[error("unreadable mempool snapshot {path} ({reason}); move it aside to start without it")]
    Snapshot {
        /// The snapshot's path.
        path: PathBuf,
        /// The decoding error.
        reason: String,
    },
}

fn storage(e: impl Into<redb::Error>) -> StoreError {
    StoreError::Storage(e.into().to_string())
}

/// A transaction as recorded: its key (arrival order), id and bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// The key: order of arrival.
    pub seq: u64,
    /// The transaction id.
    pub id: TxId,
    /// The transaction bytes.
    pub bytes: Vec<u8>,
}

#[derive(Debug, Default)]
struct Mirror {
    /// Id → key of every stored row.
    ids: HashMap<TxId, u64>,
    /// Removals whose commit failed: retried with the next write.
    unremoved: BTreeSet<TxId>,
}

/// The pool's durable record (see the module docs).
#[derive(Debug)]
pub struct PoolStore {
    db: Database,
    next_seq: AtomicU64,
    mirror: Mutex<Mirror>,
    /// Storage failures and stalls injected by tests (see [`Hooks`]).
    #[cfg(feature = "test-hooks")]
    hooks: Hooks,
    /// Write transactions committed since opening (tests: group commit).
    commits: AtomicU64,
}

impl PoolStore {
    /// Open (or create) the store in `dir`, migrate an older relay's
    /// snapshot into it, and return the recorded transactions in arrival
    /// order. An unreadable store or snapshot is an error that names the
    /// file: nothing is discarded, the operator decides.
    pub fn open(dir: &Path) -> Result<(Self, Vec<Stored>), StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io { path: dir.to_owned(), source })?;
        let path = dir.join(STORE_FILE);
        let db = athena_store::redb_file::open_or_create(&path, &redb::Builder::new())
            .map_err(|e| StoreError::Storage(format!("{}: {e}", path.display())))?;
        let tx = db.begin_write().map_err(storage)?;
        tx.open_table(PENDING).map_err(storage)?;
        tx.commit().map_err(storage)?;
        let rows = read_rows(&db)?;
        let store = Self {
            next_seq: AtomicU64::new(rows.last().map_or(0, |r| r.seq + 1)),
            mirror: Mutex::new(Mirror { ids: rows.iter().map(|r| (r.id, r.seq)).collect(), ..Default::default() }),
            db,
            #[cfg(feature = "test-hooks")]
            hooks: Hooks::default(),
            commits: AtomicU64::new(0),
        };
        let snapshot = dir.join(SNAPSHOT_FILE);
        if !snapshot.exists() {
            return Ok((store, rows));
        }
        store.migrate(&snapshot)?;
        let rows = read_rows(&store.db)?;
        Ok((store, rows))
    }

    /// Load an older relay's snapshot into the store (skipping what is
    /// already there, so a crash before the file's deletion is harmless),
    /// then delete it.
    fn migrate(&self, path: &Path) -> Result<(), StoreError> {
        let data = std::fs::read(path).map_err(|source| StoreError::Io { path: path.to_owned(), source })?;
        let txs = Vec::<Vec<u8>>::decode(&mut &data[..])
            .map_err(|e| StoreError::Snapshot { path: path.to_owned(), reason: e.to_string() })?;
        let mut count = 0usize;
        for bytes in txs {
            match Candidate::decode(bytes) {
                Ok(cand) => {
                    self.apply(Some((self.reserve(), cand.id, &cand.bytes)), Vec::new())?;
                    count += 1;
                }
                // It could never pass admission again.
                Err(e) => tracing::warn!(error = %e, "skipping an undecodable transaction of the old snapshot"),
            }
        }
        std::fs::remove_file(path).map_err(|source| StoreError::Io { path: path.to_owned(), source })?;
        tracing::info!(count, "migrated the old mempool snapshot into {STORE_FILE}");
        Ok(())
    }

    /// A fresh key, above every key used so far. Reserve it when the pool
    /// admits the transaction (under the pool's lock) so keys follow the
    /// pool's arrival order.
    pub fn reserve(&self) -> u64 {
        self.next_seq.fetch_add(1, Ordering::Relaxed)
    }

    /// In one committed write transaction: delete the rows of `remove` (and
    /// of removals that failed before), then record `add` unless its id is
    /// already stored. On error nothing changed on disk and the removals
    /// are kept for the next write.
    pub fn apply(&self, add: Option<(u64, TxId, &[u8])>, remove: Vec<TxId>) -> Result<(), StoreError> {
        self.apply_many(add.as_slice(), remove)
    }

    /// [`PoolStore::apply`] of several additions at once (one commit, one
    /// fsync: the relay's group commit). An id already stored, or repeated,
    /// keeps its first row.
    pub fn apply_many(&self, adds: &[(u64, TxId, &[u8])], remove: Vec<TxId>) -> Result<(), StoreError> {
        #[cfg(feature = "test-hooks")]
        self.hooks.pause();
        let mut mirror = self.mirror.lock().unwrap_or_else(PoisonError::into_inner);
        mirror.unremoved.extend(remove);
        for (_, id, _) in adds {
            // It is being recorded now: an older removal of it is moot.
            mirror.unremoved.remove(id);
        }
        let doomed: Vec<(TxId, u64)> =
            mirror.unremoved.iter().filter_map(|id| mirror.ids.get(id).map(|seq| (*id, *seq))).collect();
        let mut fresh = std::collections::HashSet::new();
        let adds: Vec<&(u64, TxId, &[u8])> =
            adds.iter().filter(|(_, id, _)| !mirror.ids.contains_key(id) && fresh.insert(*id)).collect();
        if doomed.is_empty() && adds.is_empty() {
            mirror.unremoved.clear();
            return Ok(());
        }
        #[cfg(feature = "test-hooks")]
        if self.hooks.fail.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok() {
            return Err(StoreError::Storage("injected write failure".into()));
        }
        let tx = self.db.begin_write().map_err(storage)?;
        {
            let mut table = tx.open_table(PENDING).map_err(storage)?;
            for (_, seq) in &doomed {
                table.remove(*seq).map_err(storage)?;
            }
            for (seq, id, bytes) in &adds {
                let mut row = Vec::with_capacity(32 + bytes.len());
                row.extend_from_slice(&id.0);
                row.extend_from_slice(bytes);
                table.insert(*seq, row.as_slice()).map_err(storage)?;
            }
        }
        tx.commit().map_err(storage)?;
        self.commits.fetch_add(1, Ordering::Relaxed);
        for (id, _) in doomed {
            mirror.ids.remove(&id);
        }
        mirror.unremoved.clear();
        for (seq, id, _) in adds {
            mirror.ids.insert(*id, *seq);
        }
        Ok(())
    }

    /// The pool holds `ids` again (a failed admission was undone): drop
    /// them from the removals a failed write kept for the next one, so
    /// their rows stay.
    pub fn keep(&self, ids: &[TxId]) {
        let mut mirror = self.mirror.lock().unwrap_or_else(PoisonError::into_inner);
        for id in ids {
            mirror.unremoved.remove(id);
        }
    }

    /// Make every write fail (as a disk error would, after the removals
    /// were noted) while `on`: for tests of the relay's handling of storage
    /// failures, including the crate's integration tests (so a cargo
    /// feature, `test-hooks`, rather than `cfg(test)`; a release build has
    /// no such switch).
    #[cfg(feature = "test-hooks")]
    pub fn fail_writes(&self, on: bool) {
        self.hooks.fail.store(if on { u64::MAX } else { 0 }, Ordering::SeqCst);
    }

    /// Make the next `n` writes fail (see [`PoolStore::fail_writes`]), and
    /// the ones after them succeed: so a test can fail one group write and
    /// let the next commit without racing it. Feature `test-hooks`.
    #[cfg(feature = "test-hooks")]
    pub fn fail_next_writes(&self, n: u64) {
        self.hooks.fail.store(n, Ordering::SeqCst);
    }

    /// Until the returned guard is dropped, every write waits before it
    /// touches the database (or fails, see [`PoolStore::fail_writes`]): so
    /// a test can act deterministically while a group write is in flight
    /// (see [`PoolStore::held_write`]). A guard, so that a failing test
    /// still releases the write (a runtime waits for its blocking tasks
    /// when dropped). One at a time. Feature `test-hooks`.
    #[cfg(feature = "test-hooks")]
    pub fn hold_writes(&self) -> HeldWrites<'_> {
        *self.hooks.held.lock().unwrap_or_else(PoisonError::into_inner) = true;
        HeldWrites(self)
    }

    /// Resolves once a write is waiting in [`PoolStore::hold_writes`] (at
    /// once if one is). Feature `test-hooks`.
    #[cfg(feature = "test-hooks")]
    pub async fn held_write(&self) {
        let mut waiting = self.hooks.waiting.subscribe();
        // The sender lives in `self`, so the channel cannot close.
        let _ = waiting.wait_for(|n| *n > 0).await;
    }

    /// How many write transactions were committed since opening (for
    /// tests of the relay's group commit).
    #[doc(hidden)]
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Whether `id` is recorded.
    pub fn contains(&self, id: &TxId) -> bool {
        self.mirror.lock().unwrap_or_else(PoisonError::into_inner).ids.contains_key(id)
    }

    /// Every recorded transaction in arrival order (read from disk).
    pub fn rows(&self) -> Result<Vec<Stored>, StoreError> {
        read_rows(&self.db)
    }
}

/// Writes held by [`PoolStore::hold_writes`]; dropping it releases them.
#[cfg(feature = "test-hooks")]
#[derive(Debug)]
#[must_use = "the writes are released when this is dropped"]
pub struct HeldWrites<'a>(&'a PoolStore);

#[cfg(feature = "test-hooks")]
impl Drop for HeldWrites<'_> {
    fn drop(&mut self) {
        let hooks = &self.0.hooks;
        *hooks.held.lock().unwrap_or_else(PoisonError::into_inner) = false;
        hooks.release.notify_all();
    }
}

/// The test hooks' state (feature `test-hooks`).
#[cfg(feature = "test-hooks")]
#[derive(Debug)]
struct Hooks {
    /// How many more writes fail ([`PoolStore::fail_writes`]: all of them).
    fail: std::sync::atomic::AtomicU64,
    /// [`PoolStore::hold_writes`], and what wakes the writes it holds.
    held: Mutex<bool>,
    release: std::sync::Condvar,
    /// How many writes wait ([`PoolStore::held_write`]).
    waiting: tokio::sync::watch::Sender<usize>,
}

#[cfg(feature = "test-hooks")]
impl Default for Hooks {
    fn default() -> Self {
        Self {
            fail: Default::default(),
            held: Mutex::new(false),
            release: Default::default(),
            waiting: tokio::sync::watch::channel(0).0,
        }
    }
}

#[cfg(feature = "test-hooks")]
impl Hooks {
    /// Wait while writes are held (on a blocking thread: see the module
    /// docs).
    fn pause(&self) {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        if !*held {
            return;
        }
        self.waiting.send_modify(|n| *n += 1);
        while *held {
            held = self.release.wait(held).unwrap_or_else(PoisonError::into_inner);
        }
        self.waiting.send_modify(|n| *n -= 1);
    }
}

fn read_rows(db: &Database) -> Result<Vec<Stored>, StoreError> {
    let read = db.begin_read().map_err(storage)?;
    let table = read.open_table(PENDING).map_err(storage)?;
    let mut rows = Vec::new();
    for row in table.iter().map_err(storage)? {
        let (seq, value) = row.map_err(storage)?;
        let (seq, value) = (seq.value(), value.value());
        let Some((id, bytes)) = value.split_first_chunk::<32>() else {
            return Err(StoreError::Corrupt { seq, len: value.len() });
        };
        rows.push(Stored { seq, id: Bytes32(*id), bytes: bytes.to_vec() });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use parity_scale_codec::Encode;

    use super::*;

    fn id(n: u8) -> TxId {
        Bytes32([n; 32])
    }

    fn add(store: &PoolStore, n: u8) -> u64 {
        let seq = store.reserve();
        store.apply(Some((seq, id(n), &[n, n])), Vec::new()).unwrap();
        seq
    }

    fn ids(rows: &[Stored]) -> Vec<TxId> {
        rows.iter().map(|r| r.id).collect()
    }

    #[test]
    fn records_survive_a_reopen_in_key_order_and_removals_are_deleted() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (store, rows) = PoolStore::open(dir.path()).unwrap();
            assert!(rows.is_empty());
            // Keys reserved in arrival order, committed out of order.
            let (a, b) = (store.reserve(), store.reserve());
            store.apply(Some((b, id(2), b"b")), Vec::new()).unwrap();
            store.apply(Some((a, id(1), b"a")), Vec::new()).unwrap();
            add(&store, 3);
            // A replacement: the new one recorded, the old one deleted, at once.
            let seq = store.reserve();
            store.apply(Some((seq, id(4), b"d")), vec![id(2)]).unwrap();
            // Recording an id twice keeps the first row.
            store.apply(Some((store.reserve(), id(1), b"again")), Vec::new()).unwrap();
        }
        let (store, rows) = PoolStore::open(dir.path()).unwrap();
        assert_eq!(ids(&rows), vec![id(1), id(3), id(4)]);
        assert_eq!(rows[0].bytes, b"a");
        // New keys go above the old ones.
        assert!(add(&store, 5) > rows[2].seq);
        store.apply(None, vec![id(1), id(3), id(4), id(5), id(9)]).unwrap();
        assert!(store.rows().unwrap().is_empty());
        assert!(!store.contains(&id(1)));
    }

    #[test]
    fn an_unreadable_store_is_an_error_and_is_left_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(STORE_FILE);
        std::fs::write(&path, b"not a redb file at all, definitely not").unwrap();
        let err = PoolStore::open(dir.path()).unwrap_err();
        assert!(matches!(err, StoreError::Storage(_)), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), b"not a redb file at all, definitely not");
    }

    #[test]
    fn an_unreadable_snapshot_is_an_error_and_is_left_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SNAPSHOT_FILE);
        std::fs::write(&path, [0xff]).unwrap();
        let err = PoolStore::open(dir.path()).unwrap_err();
        assert!(matches!(err, StoreError::Snapshot { .. }), "{err}");
        assert!(err.to_string().contains("move it aside"));
        assert!(path.exists());
    }

    #[test]
    fn an_old_snapshot_is_migrated_once_skipping_undecodable_entries() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(SNAPSHOT_FILE), vec![vec![1u8, 2, 3]].encode()).unwrap();
        let (_, rows) = PoolStore::open(dir.path()).unwrap();
        assert!(rows.is_empty());
        assert!(!dir.path().join(SNAPSHOT_FILE).exists());
    }
}

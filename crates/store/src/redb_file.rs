//! Opening a redb file so that a crash while it is being *created* never
//! leaves a half-written file behind.
//!
//! `redb::Database::create` on a missing path writes the new file's header
//! in place. A process killed in the middle (the node's crash test did this
//! once) leaves a file whose magic number is wrong, and every later start
//! fails with "Not a redb database" although nothing was ever committed.
//! [`open_or_create`] builds a new database under a temporary name, syncs
//! it and renames it into place, so the path holds either nothing or a
//! whole database. A damaged file *at* the path is still an error: it may
//! hold committed data, and the operator decides.

use redb::{Builder, Database, DatabaseError, StorageError};
use std::fs::File;
use std::path::{Path, PathBuf};

/// Opens the redb database at `path` with `builder`, creating it first if
/// the path does not exist (atomically: see the module documentation). Used
/// for every redb file the node software keeps: the executor's state, the
/// sequencer's queue and blocks, the relay's pending transactions.
pub fn open_or_create(path: &Path, builder: &Builder) -> Result<Database, DatabaseError> {
    let io = |e: std::io::Error| DatabaseError::Storage(StorageError::Io(e));
    if !path.try_exists().map_err(io)? {
        let fresh = creating_path(path);
        // A leftover of a creation that was interrupted: never in use.
        match std::fs::remove_file(&fresh) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(e)),
            _ => {}
        }
        drop(builder.create(&fresh)?);
        File::open(&fresh).and_then(|f| f.sync_all()).map_err(io)?;
        std::fs::rename(&fresh, path).map_err(io)?;
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
    }
    builder.create(path)
}

/// Where [`open_or_create`] builds a new file: `NAME.creating` beside it.
pub fn creating_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(".creating");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::{creating_path, open_or_create};
    use redb::{Builder, ReadableDatabase, TableDefinition};

    const T: TableDefinition<u64, u64> = TableDefinition::new("t");

    #[test]
    fn a_new_file_appears_whole_and_an_interrupted_creation_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.redb");
        // What a process killed while creating leaves: a few header bytes.
        std::fs::write(creating_path(&path), b"redb\x1a\x0a").unwrap();
        let db = open_or_create(&path, &Builder::new()).unwrap();
        let tx = db.begin_write().unwrap();
        tx.open_table(T).unwrap().insert(1, 2).unwrap();
        tx.commit().unwrap();
        drop(db);
        assert!(!creating_path(&path).exists(), "the temporary file is renamed into place");
        let db = open_or_create(&path, &Builder::new()).unwrap();
        let read = db.begin_read().unwrap();
        assert_eq!(read.open_table(T).unwrap().get(1).unwrap().unwrap().value(), 2, "reopened, not recreated");
    }

    #[test]
    fn a_damaged_file_at_the_path_is_refused_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.redb");
        std::fs::write(&path, b"redb\x1a\x0a").unwrap();
        assert!(open_or_create(&path, &Builder::new()).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"redb\x1a\x0a", "nothing discarded");
    }
}

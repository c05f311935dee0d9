//! `athena node compact`: offline maintenance that gives back the disk
//! space pruning freed.
//!
//! Pruning (`--keep-heights`, `docs/node.md` "Pruning") deletes rows, and
//! redb reuses the freed pages for later commits but never shrinks the file.
//! [`compact_data_dir`] opens a stopped executor's or shadow's database
//! (`DATA_DIR/state.redb`), compacts it (redb moves the live pages down and
//! truncates the file) and checks on reopening that the last block and root
//! are what they were. Only the executor's and shadow's file: the
//! sequencer's `sequencer.redb` is never pruned, so there is nothing to give
//! back there (a sequencer directory is refused with a message saying so).

use crate::base_layer::SEQUENCER_FILE;
use crate::chain::{Chain, ChainError, STATE_FILE};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What one compaction did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompactReport {
    /// The database file.
    pub path: PathBuf,
    /// File size before, in bytes.
    pub before: u64,
    /// File size after, in bytes.
    pub after: u64,
    /// Whether redb moved anything (`false`: the file was already compact).
    pub compacted: bool,
    /// The last committed height (unchanged by compaction).
    pub height: u64,
    /// The state root at that height, hex (unchanged by compaction).
    pub root: String,
}

impl CompactReport {
    /// The one line `athena node compact` prints on stdout: both sizes,
    /// human-readable and in bytes.
    pub fn summary(&self) -> String {
        format!(
            "{}: {} ({} bytes) -> {} ({} bytes), {} freed",
            self.path.display(),
            human_bytes(self.before),
            self.before,
            human_bytes(self.after),
            self.after,
            human_bytes(self.before.saturating_sub(self.after)),
        )
    }
}

/// Why a data directory could not be compacted; each names the path and
/// what to do, since an operator reads it.
#[derive(Debug, thiserror::Error)]
pub enum CompactError {
    /// No `state.redb` there, and not a sequencer's directory either
    /// (a mistyped path: nothing is created).
    #[error("{}: no node database ({STATE_FILE}) in this directory; pass the --data-dir of an executor or shadow", dir.display())]
    NoDatabase {
        /// The directory given.
        dir: PathBuf,
    },
    /// A sequencer's directory: its database is never pruned.
    #[error("{}: this is a sequencer's data directory ({SEQUENCER_FILE}); compact works on an executor's or shadow's {STATE_FILE} (the sequencer never prunes)", dir.display())]
    SequencerDirectory {
        /// The directory given.
        dir: PathBuf,
    },
    /// A running executor or shadow holds the file.
    #[error("{}: the database is in use by another process (stop the executor first)", path.display())]
    InUse {
        /// The database file.
        path: PathBuf,
    },
    /// The file holds no chain (no genesis block).
    #[error("{}: holds no chain (no genesis block); not an executor's database", path.display())]
    NotAChain {
        /// The database file.
        path: PathBuf,
    },
    /// Opening, compacting or checking failed (I/O, corruption, ...).
    #[error("{}: {source}", path.display())]
    Chain {
        /// The database file.
        path: PathBuf,
        /// What failed.
        source: ChainError,
    },
    /// Compaction changed the last block or root: must never happen; the
    /// file is left as redb committed it.
    #[error("{}: after compacting, the last block is {after} instead of {before}", path.display())]
    Changed {
        /// The database file.
        path: PathBuf,
        /// Height and root before.
        before: String,
        /// Height and root after.
        after: String,
    },
}

/// Compacts the node database in `dir` (an executor's or shadow's
/// `--data-dir`, with the process stopped); see the module docs.
pub fn compact_data_dir(dir: &Path) -> Result<CompactReport, CompactError> {
    let path = dir.join(STATE_FILE);
    // Checked first: `Chain::open` would create the directory and the file.
    let before = match std::fs::metadata(&path) {
        Ok(meta) if meta.is_file() => meta.len(),
        _ if dir.join(SEQUENCER_FILE).is_file() => {
            return Err(CompactError::SequencerDirectory { dir: dir.to_owned() })
        }
        _ => return Err(CompactError::NoDatabase { dir: dir.to_owned() }),
    };
    let open = |path: &Path| {
        Chain::open(dir, None).map_err(|e| match e {
            ChainError::InUse { path } => CompactError::InUse { path },
            ChainError::NoGenesis => CompactError::NotAChain { path: path.to_owned() },
            source => CompactError::Chain { path: path.to_owned(), source },
        })
    };
    let last = |chain: &Chain| {
        let block =
            chain.store().last_committed().map_err(|e| CompactError::Chain { path: path.clone(), source: e.into() })?;
        Ok::<_, CompactError>(block.map(|b| (b.height, b.state_root.to_string())).unwrap_or_default())
    };
    tracing::info!("opening {}", path.display());
    let mut chain = open(&path)?;
    let (height, root) = last(&chain)?;
    tracing::info!("at block {height}, root {root}; compacting {} (may take a while)", human_bytes(before));
    let started = Instant::now();
    let compacted = chain.compact().map_err(|source| CompactError::Chain { path: path.clone(), source })?;
    drop(chain);
    // Reopening checks the tree root at the last height against its block
    // record, so a damaged result is caught here, not by the executor.
    let reopened = last(&open(&path)?)?;
    if reopened != (height, root.clone()) {
        return Err(CompactError::Changed {
            path,
            before: format!("{height} root {root}"),
            after: format!("{} root {}", reopened.0, reopened.1),
        });
    }
    let after =
        std::fs::metadata(&path).map_err(|e| CompactError::Chain { path: path.clone(), source: e.into() })?.len();
    tracing::info!(
        "{} in {} ms; block {height} and root unchanged",
        if compacted { "compacted" } else { "already compact" },
        started.elapsed().as_millis()
    );
    Ok(CompactReport { path, before, after, compacted, height, root })
}

/// `1536` → `1.5 KiB`: sizes for people (binary units, one decimal).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(8 * 1024 * 1024), "8.0 MiB");
        assert_eq!(human_bytes(3 << 30), "3.0 GiB");
    }

    #[test]
    fn missing_and_sequencer_directories_are_refused_and_nothing_is_created() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let err = compact_data_dir(&missing).unwrap_err();
        assert!(matches!(err, CompactError::NoDatabase { .. }), "{err}");
        assert!(err.to_string().contains("no node database"), "{err}");
        assert!(!missing.exists());
        std::fs::write(dir.path().join(SEQUENCER_FILE), b"").unwrap();
        let err = compact_data_dir(dir.path()).unwrap_err();
        assert!(matches!(err, CompactError::SequencerDirectory { .. }), "{err}");
        assert!(!dir.path().join(STATE_FILE).exists());
    }
}

//! Compaction (`Store::compact`, `docs/store.md` "Pruning"): after pruning
//! most of a long history the file really shrinks, and the reopened store
//! answers exactly as before compacting (last height, last root, block
//! records and every proof at the kept heights, compared with values read
//! before compaction).

mod common;

use athena_interface::Address;
use athena_store::{LeafKey, LeafProof, Store};
use common::{addr, block, meta, template_addr, word, GENESIS_ACCOUNTS};

const BLOCKS: u64 = 150;
const KEEP: u64 = 5;

/// Every leaf key the workload can touch, plus a key it never writes.
fn keys() -> Vec<LeafKey> {
    let mut keys = Vec::new();
    for i in 0..GENESIS_ACCOUNTS + 42 {
        keys.push(LeafKey::Account(addr(i)));
        keys.push(LeafKey::ProgramState(addr(i)));
    }
    for i in 0..GENESIS_ACCOUNTS {
        for slot in (0..66).step_by(5) {
            keys.push(LeafKey::Storage(addr(i), word(slot)));
        }
    }
    keys.push(LeafKey::Template(template_addr(0)));
    keys.push(LeafKey::Account(Address::new([0xee; 24])));
    keys
}

/// What a client can observe of the store at the kept heights.
#[derive(Debug, PartialEq)]
struct Observed {
    last: u64,
    root: athena_store::StateRoot,
    floor: u64,
    blocks: Vec<athena_store::CommittedBlock>,
    proofs: Vec<LeafProof>,
    account: Option<athena_runtime::Account>,
}

fn observe(store: &Store, keys: &[LeafKey]) -> Observed {
    use athena_runtime::StateReader;
    let last = store.last_committed().unwrap().unwrap();
    let floor = store.pruned_below().unwrap();
    let snapshot = store.snapshot().unwrap();
    let mut proofs = Vec::new();
    for height in floor..=last.height {
        for key in keys {
            proofs.push(snapshot.prove(key, Some(height)).unwrap());
        }
    }
    Observed {
        last: last.height,
        root: store.state_root().unwrap(),
        floor,
        blocks: (0..=last.height).map(|h| store.block(h).unwrap().unwrap()).collect(),
        proofs,
        account: store.account(&addr(1)).unwrap(),
    }
}

fn file_size(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).unwrap().len()
}

#[test]
fn compact_after_prune_shrinks_the_file_and_changes_no_answer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.redb");
    let keys = keys();
    let before = {
        let mut store = Store::open(&path).unwrap();
        for height in 0..BLOCKS {
            store.commit_block(height, &block(0xc0de, height, 40), &meta(height)).unwrap();
        }
        let report = store.prune(BLOCKS - 1 - KEEP).unwrap();
        assert!(report.complete);
        let before = observe(&store, &keys);
        assert_eq!(before.floor, BLOCKS - 1 - KEEP);
        let pruned_size = file_size(&path);
        assert!(store.compact().unwrap(), "nothing to compact after pruning most of the history");
        let compacted_size = file_size(&path);
        assert!(
            compacted_size < pruned_size / 2,
            "compacting did not give the pruned space back: {pruned_size} -> {compacted_size} bytes"
        );
        // Same answers from the same handle, and commits go on.
        assert_eq!(observe(&store, &keys), before);
        before
    };
    let store = Store::open(&path).unwrap();
    assert_eq!(observe(&store, &keys), before);
    let root = store.commit_block(BLOCKS, &block(0xc0de, BLOCKS, 40), &meta(BLOCKS)).unwrap();
    assert_eq!(store.snapshot().unwrap().audit().unwrap(), root);
}

/// An open read transaction (a snapshot) blocks compaction with a typed
/// error instead of a panic, and the store keeps working.
#[test]
fn compact_refuses_while_a_snapshot_is_open() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("state.redb")).unwrap();
    store.commit_block(0, &block(1, 0, 10), &meta(0)).unwrap();
    let snapshot = store.snapshot().unwrap();
    let root = snapshot.last_committed().unwrap().unwrap().state_root;
    // `compact` takes `&mut self`, so the snapshot must not borrow the store:
    // it owns its read transaction, which redb still counts as live.
    let err = store.compact().unwrap_err();
    assert!(matches!(err, athena_runtime::StateError::Backend(_)), "{err:?}");
    drop(snapshot);
    store.compact().unwrap();
    assert_eq!(store.state_root().unwrap(), root);
}

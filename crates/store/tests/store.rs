//! Store behaviour: reads and writes through the runtime traits, block
//! commits and their height rule, persistence across reopen, snapshots, and
//! corrupt data surfacing as `StateError::Corrupt` instead of a panic.

mod common;

use athena_interface::Bytes32;
use athena_runtime::{Account, ChangeSet, StateError, StateReader, StateWriter};
use athena_store::backend::{Backend, ReadTx, Table, WriteTx};
use athena_store::{root_of_contents, RedbBackend, StateRoot, Store, StoreError};
use common::{addr, block, merged, meta, normalized, template_addr, word};
use std::sync::Arc;

fn sample() -> ChangeSet {
    let mut changes = ChangeSet::default();
    changes.accounts.insert(addr(1), Account { balance: 5, nonce: 1, template: Some(template_addr(9)) });
    changes.accounts.insert(addr(2), Account { balance: 7, ..Account::default() });
    changes.states.insert(addr(1), b"state".to_vec());
    changes.storage.insert((addr(1), word(2)), word(3));
    changes.storage.insert((addr(1), word(1)), word(4));
    changes.templates.insert(template_addr(9), Arc::from(&b"code"[..]));
    changes
}

#[test]
fn commit_and_read_back_through_the_runtime_traits() {
    let store = Store::in_memory().unwrap();
    assert_eq!(store.last_committed().unwrap(), None);
    assert_eq!(store.state_root().unwrap(), StateRoot::EMPTY);
    let root = store.commit_block(0, &sample(), &meta(0)).unwrap();
    assert_ne!(root, StateRoot::EMPTY);
    assert_eq!(store.state_root().unwrap(), root);
    let block = store.last_committed().unwrap().unwrap();
    assert_eq!((block.height, block.state_root, block.meta), (0, root, meta(0)));

    assert_eq!(store.account(&addr(1)).unwrap().unwrap().template, Some(template_addr(9)));
    assert_eq!(store.account(&addr(3)).unwrap(), None);
    assert_eq!(store.program_state(&addr(1)).unwrap(), b"state");
    assert!(store.program_state(&addr(2)).unwrap().is_empty());
    assert_eq!(store.storage(&addr(1), &word(2)).unwrap(), word(3));
    assert_eq!(store.storage(&addr(1), &word(9)).unwrap(), Bytes32::ZERO);
    assert_eq!(&*store.template_code(&template_addr(9)).unwrap().unwrap(), b"code");
    assert!(store.has_template(&template_addr(9)).unwrap());
    assert!(!store.has_template(&addr(1)).unwrap());
    let snapshot = store.snapshot().unwrap();
    assert_eq!(snapshot.storage_of(&addr(1)).unwrap(), [(word(1), word(4)), (word(2), word(3))]);
    assert_eq!(snapshot.contents().unwrap(), sample());
    assert_eq!(snapshot.audit().unwrap(), root);
    assert_eq!(root, root_of_contents(&sample()).unwrap());

    // Zero deletes a slot; an empty blob deletes a state.
    let mut later = ChangeSet::default();
    later.storage.insert((addr(1), word(2)), Bytes32::ZERO);
    later.states.insert(addr(1), Vec::new());
    store.commit_block(1, &later, &meta(1)).unwrap();
    assert_eq!(store.storage(&addr(1), &word(2)).unwrap(), Bytes32::ZERO);
    assert!(store.program_state(&addr(1)).unwrap().is_empty());
    let expected = normalized(merged([sample(), later]));
    assert_eq!(store.snapshot().unwrap().contents().unwrap(), expected);
    assert_eq!(store.state_root().unwrap(), root_of_contents(&expected).unwrap());
    // History is kept: block 0's record is unchanged.
    assert_eq!(store.block(0).unwrap().unwrap().state_root, root);
    assert_eq!(store.block(2).unwrap(), None);
}

#[test]
fn heights_start_at_zero_and_are_consecutive() {
    let store = Store::in_memory().unwrap();
    let err = store.commit_block(1, &sample(), &meta(1)).unwrap_err();
    assert_eq!(err, StoreError::NonConsecutiveHeight { expected: 0, found: 1 });
    assert_eq!(store.last_committed().unwrap(), None);
    store.commit_block(0, &sample(), &meta(0)).unwrap();
    for bad in [0, 2, 7, u64::MAX] {
        let err = store.commit_block(bad, &ChangeSet::default(), &meta(bad)).unwrap_err();
        assert_eq!(err, StoreError::NonConsecutiveHeight { expected: 1, found: bad });
    }
    // A rejected commit wrote nothing.
    assert_eq!(store.last_committed().unwrap().unwrap().height, 0);
    assert_eq!(store.snapshot().unwrap().contents().unwrap(), sample());
    // An empty block keeps the root.
    let root = store.state_root().unwrap();
    assert_eq!(store.commit_block(1, &ChangeSet::default(), &meta(1)).unwrap(), root);
}

#[test]
fn no_op_writes_do_not_change_the_root() {
    let store = Store::in_memory().unwrap();
    let root = store.commit_block(0, &sample(), &meta(0)).unwrap();
    // Rewriting identical values, deleting absent slots and states.
    let mut same = sample();
    same.storage.insert((addr(5), word(5)), Bytes32::ZERO);
    same.states.insert(addr(2), Vec::new());
    assert_eq!(store.commit_block(1, &same, &meta(1)).unwrap(), root);
    // Setting a slot and clearing it again returns to the same root.
    let mut set = ChangeSet::default();
    set.storage.insert((addr(2), word(1)), word(1));
    assert_ne!(store.commit_block(2, &set, &meta(2)).unwrap(), root);
    set.storage.insert((addr(2), word(1)), Bytes32::ZERO);
    assert_eq!(store.commit_block(3, &set, &meta(3)).unwrap(), root);
}

#[test]
fn state_writer_commits_the_next_block() {
    let mut store = Store::in_memory().unwrap();
    store.apply(&sample()).unwrap();
    store.apply(&block(1, 1, 4)).unwrap();
    let last = store.last_committed().unwrap().unwrap();
    assert_eq!(last.height, 1);
    assert_eq!(last.meta, Default::default());
    let expected = normalized(merged([sample(), block(1, 1, 4)]));
    assert_eq!(last.state_root, root_of_contents(&expected).unwrap());
}

#[test]
fn state_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.redb");
    let root = {
        let store = Store::open(&path).unwrap();
        store.commit_block(0, &sample(), &meta(0)).unwrap();
        store.commit_block(1, &block(3, 1, 8), &meta(1)).unwrap()
    };
    let store = Store::open(&path).unwrap();
    let last = store.last_committed().unwrap().unwrap();
    assert_eq!((last.height, last.state_root, last.meta), (1, root, meta(1)));
    assert_eq!(store.snapshot().unwrap().contents().unwrap(), normalized(merged([sample(), block(3, 1, 8)])));
    assert_eq!(
        store.commit_block(3, &ChangeSet::default(), &meta(3)).unwrap_err(),
        StoreError::NonConsecutiveHeight { expected: 2, found: 3 }
    );
    // A second open of the same file (e.g. a second node process) is refused.
    assert!(matches!(Store::open(&path), Err(StateError::Backend(_))));
    drop(store);
    let checked = Store::with_backend(RedbBackend::open_checked(&path).unwrap()).unwrap();
    assert_eq!(checked.state_root().unwrap(), root);
}

#[test]
fn snapshots_are_isolated_from_later_commits() {
    let store = Store::in_memory().unwrap();
    store.commit_block(0, &sample(), &meta(0)).unwrap();
    let before = store.snapshot().unwrap();
    let mut change = ChangeSet::default();
    change.accounts.insert(addr(2), Account { balance: 99, ..Account::default() });
    store.commit_block(1, &change, &meta(1)).unwrap();
    assert_eq!(before.account(&addr(2)).unwrap().unwrap().balance, 7);
    assert_eq!(before.last_committed().unwrap().unwrap().height, 0);
    assert_eq!(store.account(&addr(2)).unwrap().unwrap().balance, 99);
}

/// Overwrites every value of `table` with `value`, bypassing the store.
fn clobber(store: &Store, table: Table, value: &[u8]) {
    let mut tx = store.backend().begin_write().unwrap();
    let rows = tx.scan(table, &[], &[0xff; 64]).unwrap();
    assert!(!rows.is_empty());
    for (key, _) in rows {
        tx.put(table, &key, value).unwrap();
    }
    tx.commit().unwrap();
}

fn is_corrupt<T: std::fmt::Debug>(result: Result<T, StateError>) -> bool {
    matches!(result, Err(StateError::Corrupt(_)))
}

#[test]
fn corrupt_records_are_reported_not_panicked_on() {
    let store = Store::in_memory().unwrap();
    store.commit_block(0, &sample(), &meta(0)).unwrap();
    clobber(&store, Table::Accounts, &[1, 2, 3]);
    clobber(&store, Table::Storage, &[7; 31]);
    assert!(is_corrupt(store.account(&addr(1))));
    assert!(is_corrupt(store.storage(&addr(1), &word(1))));
    assert!(is_corrupt(store.snapshot().unwrap().contents()));
    assert!(is_corrupt(store.snapshot().unwrap().storage_of(&addr(1))));
    // The commit path reads the same records: it fails cleanly, commits nothing.
    let mut change = ChangeSet::default();
    change.storage.insert((addr(1), word(1)), word(8));
    change.accounts.insert(addr(1), Account::default());
    assert!(store.commit_block(1, &change, &meta(1)).is_ok(), "writes replace records without decoding them");
    assert!(is_corrupt(store.snapshot().unwrap().audit()));

    clobber(&store, Table::Blocks, &[0; 95]);
    assert!(is_corrupt(store.last_committed()));
    clobber(&store, Table::Meta, &[9]);
    assert!(is_corrupt(store.last_committed()));
    assert!(matches!(store.commit_block(2, &change, &meta(2)), Err(StoreError::State(StateError::Corrupt(_)))));
}

#[test]
fn corrupt_tree_nodes_are_detected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.redb");
    {
        let store = Store::open(&path).unwrap();
        store.commit_block(0, &sample(), &meta(0)).unwrap();
        store.commit_block(1, &block(1, 1, 8), &meta(1)).unwrap();
        // Undecodable nodes: proofs and commits fail with Corrupt.
        clobber(&store, Table::TreeNodes, &[0xff, 0xff]);
        assert!(matches!(store.prove_account(&addr(1), None), Err(StoreError::State(StateError::Corrupt(_)))));
        let err = store.commit_block(2, &block(1, 2, 8), &meta(2)).unwrap_err();
        assert!(matches!(err, StoreError::State(StateError::Corrupt(_))), "{err:?}");
        // Well-formed but wrong nodes (all `Null`): the root no longer matches.
        clobber(&store, Table::TreeNodes, &[0]);
    }
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StateError::Corrupt(ref m) if m.contains("tree root")), "{err:?}");
}

#[test]
fn schema_version_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.redb");
    {
        let store = Store::open(&path).unwrap();
        let mut tx = store.backend().begin_write().unwrap();
        tx.put(Table::Meta, b"schema", &99u32.to_be_bytes()).unwrap();
        tx.commit().unwrap();
    }
    assert!(is_corrupt(Store::open(&path)));
}

//! Pruning (`Store::prune`, `docs/store.md` "Pruning"): a pruned store is
//! compared against an unpruned twin that committed the same deterministic
//! workload. At every kept height the roots and every proof (accounts,
//! program states, storage slots, templates, present or absent) must be
//! identical and verify; below the floor proofs are refused with
//! `StoreError::Pruned`; rows really disappear; later commits still agree.

mod common;

use athena_store::backend::{Backend, ReadTx, Table, WriteTx};
use athena_store::{LeafKey, Store, StoreError};
use common::{addr, block, meta, template_addr, word, GENESIS_ACCOUNTS};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const SIZE: usize = 20;

/// Rows in `table`.
fn rows(store: &Store, table: Table) -> usize {
    store.backend().begin_read().unwrap().scan(table, &[], &[0xff; 128]).unwrap().len()
}

/// Every leaf key the workload can touch, plus keys it never writes.
fn all_keys() -> Vec<LeafKey> {
    let mut keys = Vec::new();
    for i in 0..GENESIS_ACCOUNTS + 42 {
        keys.push(LeafKey::Account(addr(i)));
        keys.push(LeafKey::ProgramState(addr(i)));
    }
    for i in 0..GENESIS_ACCOUNTS + 1 {
        for slot in (0..66).step_by(3) {
            keys.push(LeafKey::Storage(addr(i), word(slot)));
        }
    }
    for t in 0..4 {
        keys.push(LeafKey::Template(template_addr(t)));
    }
    keys
}

fn commit(stores: &[&Store], seed: u64, height: u64) {
    let changes = block(seed, height, SIZE);
    let roots: Vec<_> = stores.iter().map(|s| s.commit_block(height, &changes, &meta(height)).unwrap()).collect();
    assert!(roots.windows(2).all(|w| w[0] == w[1]), "roots differ at {height}");
}

/// Checks that `pruned` answers exactly like `twin` at every height from
/// its floor to the last, and refuses every height below the floor.
fn check_against_twin(pruned: &Store, twin: &Store, keys: &[LeafKey]) {
    let floor = pruned.pruned_below().unwrap();
    let last = pruned.last_committed().unwrap().unwrap().height;
    assert_eq!(twin.last_committed().unwrap().unwrap().height, last);
    let pruned_snapshot = pruned.snapshot().unwrap();
    let twin_snapshot = twin.snapshot().unwrap();
    for height in 0..=last {
        // Block records (roots) stay as history, pruned or not.
        let block = pruned.block(height).unwrap().unwrap();
        assert_eq!(Some(block), twin.block(height).unwrap(), "block record {height}");
        for key in keys {
            let got = pruned_snapshot.prove(key, Some(height));
            if height < floor {
                assert_eq!(got.unwrap_err(), StoreError::Pruned { height, floor }, "{key:?} at {height}");
                continue;
            }
            let got = got.unwrap_or_else(|e| panic!("{key:?} at {height} (floor {floor}): {e}"));
            let want = twin_snapshot.prove(key, Some(height)).unwrap();
            assert_eq!(got, want, "{key:?} at {height}");
            assert!(got.verify(&block.state_root, key), "{key:?} at {height} does not verify");
        }
    }
    // Typed proofs at the floor, through the Store API.
    let proof = pruned.prove_account(&addr(1), Some(floor)).unwrap();
    assert!(proof.verify(&pruned.block(floor).unwrap().unwrap().state_root, &addr(1)));
    assert_eq!(pruned.snapshot().unwrap().audit().unwrap(), pruned.state_root().unwrap());
}

#[test]
fn pruned_store_answers_like_its_unpruned_twin_and_shrinks() {
    let keys = all_keys();
    let seed = 0x5eed;
    let pruned = Store::in_memory().unwrap();
    let twin = Store::in_memory().unwrap();
    for height in 0..30 {
        commit(&[&pruned, &twin], seed, height);
    }
    let before = [Table::TreeNodes, Table::TreeValues, Table::TreeStale].map(|t| rows(&pruned, t));

    let report = pruned.prune(20).unwrap();
    assert_eq!(report.floor, 20);
    assert!(report.nodes_deleted > 0 && report.values_deleted > 0, "{report:?}");
    let after = [Table::TreeNodes, Table::TreeValues, Table::TreeStale].map(|t| rows(&pruned, t));
    assert_eq!(before[0] - after[0], report.nodes_deleted as usize, "nodes");
    assert_eq!(before[1] - after[1], report.values_deleted as usize, "values");
    assert_eq!(before[2] - after[2], report.stale_rows_deleted as usize, "stale rows");
    assert!(after[0] < before[0] && after[1] < before[1] && after[2] < before[2], "{before:?} -> {after:?}");
    assert_eq!(rows(&pruned, Table::Blocks), 30, "block records stay");
    // Nothing stale up to the floor is left in the index.
    let stale = pruned.backend().begin_read().unwrap().scan(Table::TreeStale, &[], &[0xff; 128]).unwrap();
    assert!(stale.iter().all(|(k, _)| u64::from_be_bytes(k[..8].try_into().unwrap()) > 20));
    check_against_twin(&pruned, &twin, &keys);

    // Idempotent: the same (or a lower) floor deletes nothing more.
    assert_eq!(
        pruned.prune(20).unwrap(),
        athena_store::PruneReport { floor: 20, complete: true, ..Default::default() }
    );
    assert_eq!(pruned.prune(5).unwrap().floor, 20);
    assert_eq!([Table::TreeNodes, Table::TreeValues, Table::TreeStale].map(|t| rows(&pruned, t)), after);

    // Commits after pruning agree with the twin, and pruning up to the last
    // height keeps it fully provable.
    for height in 30..36 {
        commit(&[&pruned, &twin], seed, height);
    }
    assert_eq!(pruned.prune(35).unwrap().floor, 35);
    check_against_twin(&pruned, &twin, &keys);
    commit(&[&pruned, &twin], seed, 36);
    check_against_twin(&pruned, &twin, &keys);
    assert!(rows(&pruned, Table::TreeNodes) < rows(&twin, Table::TreeNodes));
    assert!(rows(&pruned, Table::TreeValues) < rows(&twin, Table::TreeValues));
}

#[test]
fn pruning_in_small_steps_ends_where_one_call_does() {
    let keys = all_keys();
    let seed = 0xba7c4;
    let (stepped, at_once, twin) =
        (Store::in_memory().unwrap(), Store::in_memory().unwrap(), Store::in_memory().unwrap());
    for height in 0..80 {
        commit(&[&stepped, &at_once, &twin], seed, height);
    }
    let full = at_once.prune(70).unwrap();
    assert!(full.complete && full.transactions > 3, "needs several batches: {full:?}");

    let mut calls = 0;
    let mut total = athena_store::PruneReport::default();
    loop {
        let report = stepped.prune_some(70, 1).unwrap();
        calls += 1;
        // The floor's transaction (first call only) and one batch at most.
        assert!(report.transactions <= 2, "{report:?}");
        assert_eq!(report.floor, 70);
        total.nodes_deleted += report.nodes_deleted;
        total.values_deleted += report.values_deleted;
        // Between steps the store answers like its twin from the floor up.
        check_against_twin(&stepped, &twin, &keys);
        if report.complete {
            break;
        }
        assert!(calls < 100, "pruning makes no progress");
    }
    assert!(calls > 2, "the budget split the work ({calls} calls)");
    assert_eq!((total.nodes_deleted, total.values_deleted), (full.nodes_deleted, full.values_deleted));
    for table in [Table::TreeNodes, Table::TreeValues, Table::TreeStale, Table::Meta] {
        assert_eq!(rows(&stepped, table), rows(&at_once, table), "{table:?}");
    }
    // A zero budget raises the floor but deletes nothing.
    commit(&[&stepped, &twin], seed, 80);
    let report = stepped.prune_some(75, 0).unwrap();
    assert_eq!((report.floor, report.complete, report.nodes_deleted), (75, false, 0));
    check_against_twin(&stepped, &twin, &keys);
}

#[test]
fn random_prune_schedules_never_change_answers() {
    let keys = all_keys();
    for seed in 0..2u64 {
        let mut rng = SmallRng::seed_from_u64(seed);
        let pruned = Store::in_memory().unwrap();
        let twin = Store::in_memory().unwrap();
        for height in 0..30 {
            commit(&[&pruned, &twin], seed, height);
            if rng.gen_range(0..4) == 0 {
                let keep_from = rng.gen_range(0..=height);
                let report = pruned.prune(keep_from).unwrap();
                assert_eq!(report.floor, pruned.pruned_below().unwrap());
                assert!(report.floor >= keep_from);
            }
        }
        check_against_twin(&pruned, &twin, &keys);
    }
}

#[test]
fn prune_refuses_heights_not_committed() {
    let store = Store::in_memory().unwrap();
    assert_eq!(store.prune(0).unwrap_err(), StoreError::UnknownHeight { height: 0, last: None });
    for height in 0..5 {
        store.commit_block(height, &block(1, height, SIZE), &meta(height)).unwrap();
    }
    let nodes = rows(&store, Table::TreeNodes);
    assert_eq!(store.prune(5).unwrap_err(), StoreError::UnknownHeight { height: 5, last: Some(4) });
    assert_eq!(store.pruned_below().unwrap(), 0);
    assert_eq!(rows(&store, Table::TreeNodes), nodes, "nothing deleted");
    // Keeping only the last height is allowed, and it stays provable.
    assert_eq!(store.prune(4).unwrap().floor, 4);
    let root = store.state_root().unwrap();
    assert!(store.prove_account(&addr(2), None).unwrap().verify(&root, &addr(2)));
    assert_eq!(store.prove_account(&addr(2), Some(3)).unwrap_err(), StoreError::Pruned { height: 3, floor: 4 });
    assert_eq!(store.snapshot().unwrap().audit().unwrap(), root);
}

/// A crash after the floor's transaction and before the deletions leaves
/// the floor raised with the work undone: heights below it are already
/// refused, heights above are intact, and the next call finishes the work.
#[test]
fn interrupted_prune_is_completed_by_the_next_call() {
    let keys = all_keys();
    let pruned = Store::in_memory().unwrap();
    let twin = Store::in_memory().unwrap();
    for height in 0..20 {
        commit(&[&pruned, &twin], 7, height);
    }
    let nodes = rows(&pruned, Table::TreeNodes);
    // Exactly what the first transaction of `prune(12)` commits.
    let mut tx = pruned.backend().begin_write().unwrap();
    tx.put(Table::Meta, b"pruned_below", &12u64.to_be_bytes()).unwrap();
    tx.commit().unwrap();
    check_against_twin(&pruned, &twin, &keys);
    assert_eq!(rows(&pruned, Table::TreeNodes), nodes);

    let report = pruned.prune(3).unwrap();
    assert_eq!(report.floor, 12);
    assert!(report.nodes_deleted > 0, "{report:?}");
    assert!(rows(&pruned, Table::TreeNodes) < nodes);
    check_against_twin(&pruned, &twin, &keys);
}

/// Pruning is durable: a reopened file keeps the floor and the answers.
#[test]
fn prune_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.redb");
    let twin = Store::in_memory().unwrap();
    {
        let store = Store::open(&path).unwrap();
        for height in 0..12 {
            commit(&[&store, &twin], 9, height);
        }
        store.prune(8).unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.pruned_below().unwrap(), 8);
    check_against_twin(&store, &twin, &all_keys());
}

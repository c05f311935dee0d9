//! The state root depends only on the state's contents: the same final state
//! reached through different block splits has the same root, equal to the
//! root computed from scratch over a `MemoryState` holding that state.

mod common;

use athena_runtime::{ChangeSet, MemoryState, StateWriter};
use athena_store::{root_of_contents, StateRoot, Store};
use common::{block, memory_contents, merged, meta, normalized};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// Commits `changes` split into blocks at the given cut points; returns the
/// root after each block.
fn commit_split(changes: &[ChangeSet], cuts: &[usize]) -> (Store, Vec<StateRoot>) {
    let store = Store::in_memory().unwrap();
    let mut roots = Vec::new();
    let mut start = 0;
    for (height, &end) in cuts.iter().chain([changes.len()].iter()).enumerate() {
        let block = merged(changes[start..end].iter().cloned());
        roots.push(store.commit_block(height as u64, &block, &meta(height as u64)).unwrap());
        start = end;
    }
    (store, roots)
}

#[test]
fn root_is_independent_of_block_splits() {
    for seed in 0..6u64 {
        let changes: Vec<ChangeSet> = (0..24).map(|h| block(seed, h, 12)).collect();

        // Reference: a MemoryState applying each change set in order.
        let mut memory = MemoryState::new();
        for change in &changes {
            memory.apply(change).unwrap();
        }
        let contents = memory_contents(&memory);
        let reference = root_of_contents(&contents).unwrap();
        assert_eq!(normalized(merged(changes.iter().cloned())), contents, "seed {seed}");

        // One block per change set: every intermediate root is the
        // from-scratch root of the prefix state.
        let cuts_each: Vec<usize> = (1..changes.len()).collect();
        let (each, roots_each) = commit_split(&changes, &cuts_each);
        assert_eq!(*roots_each.last().unwrap(), reference, "seed {seed}");
        for (i, root) in roots_each.iter().enumerate().step_by(5) {
            assert_eq!(*root, root_of_contents(&merged(changes[..=i].iter().cloned())).unwrap());
        }
        assert_eq!(each.snapshot().unwrap().contents().unwrap(), contents);
        assert_eq!(each.snapshot().unwrap().audit().unwrap(), reference);

        // Everything in one (genesis) block.
        let (one, roots_one) = commit_split(&changes, &[]);
        assert_eq!(roots_one, [reference], "seed {seed}");
        assert_eq!(one.snapshot().unwrap().contents().unwrap(), contents);

        // Random splits, including empty blocks; roots agree at shared boundaries.
        let mut rng = SmallRng::seed_from_u64(seed);
        let mut cuts: Vec<usize> = (0..rng.gen_range(1..10)).map(|_| rng.gen_range(0..=changes.len())).collect();
        cuts.sort_unstable();
        let (split, roots_split) = commit_split(&changes, &cuts);
        assert_eq!(*roots_split.last().unwrap(), reference, "seed {seed} cuts {cuts:?}");
        for (root, &end) in roots_split.iter().zip(&cuts) {
            let expected = if end == 0 { StateRoot::EMPTY } else { roots_each[end - 1] };
            assert_eq!(*root, expected, "seed {seed} cut {end}");
        }
        assert_eq!(split.snapshot().unwrap().contents().unwrap(), contents);
    }
}

#[test]
fn insertion_order_within_a_block_does_not_matter() {
    // The same leaves inserted as one set or as many single-leaf blocks in
    // reverse order.
    let state = normalized(merged((0..8).map(|h| block(99, h, 20))));
    let reference = root_of_contents(&state).unwrap();
    let store = Store::in_memory().unwrap();
    store.commit_block(0, &ChangeSet::default(), &meta(0)).unwrap();
    let mut height = 1;
    let mut singles: Vec<ChangeSet> = Vec::new();
    for ((address, key), value) in &state.storage {
        let mut c = ChangeSet::default();
        c.storage.insert((*address, *key), *value);
        singles.push(c);
    }
    for (address, account) in &state.accounts {
        let mut c = ChangeSet::default();
        c.accounts.insert(*address, *account);
        singles.push(c);
    }
    singles.push(ChangeSet { states: state.states.clone(), templates: state.templates.clone(), ..Default::default() });
    for change in singles.iter().rev() {
        store.commit_block(height, change, &meta(height)).unwrap();
        height += 1;
    }
    assert_eq!(store.state_root().unwrap(), reference);
}

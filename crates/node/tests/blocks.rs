//! Block application rules on a chain without HTTP: ordering, duplicates,
//! fee recipients, ineffective transactions, parents, receipts, events,
//! proofs, restart of a file-backed chain, the injected fault and dry runs.

mod common;

use athena_interface::{Address, Bytes32};
use athena_node::chain::{Chain, ChainError};
use athena_node::exec::{ExecConfig, Fault};
use athena_node::receipts::{receipts_root, StoredStatus};
use athena_node::types::{Block, BlockResult, Bundle};
use athena_runtime::tx::DryRunOptions;
use athena_runtime::StateReader;
use athena_store::StateRoot;
use common::*;

fn block(chain: &Chain, bundles: Vec<Bundle>) -> Block {
    let height = chain.height().unwrap() + 1;
    let parent =
        if height == 1 { Block::genesis().hash() } else { chain.result(height - 1).unwrap().unwrap().input_hash };
    Block { height, parent_hash: parent, timestamp: 1_700_000_000 + height, bundles }
}

fn balance(chain: &Chain, address: Address) -> u64 {
    chain.store().account(&address).unwrap().map_or(0, |a| a.balance)
}

fn apply(chain: &Chain, bundles: Vec<Bundle>) -> BlockResult {
    let block = block(chain, bundles);
    chain.apply(&block, &ExecConfig::default()).unwrap().0
}

#[test]
fn fees_go_to_the_bundle_relay_and_the_first_occurrence_wins() {
    let dir = tempfile::tempdir().unwrap();
    let (_, genesis) = write_genesis(dir.path(), 3);
    let network = genesis.network.clone();
    let chain = Chain::in_memory(&genesis).unwrap();
    let twin = Chain::in_memory(&genesis).unwrap();
    let (relay_a, relay_b) = ([0xaa; 24], [0xbb; 24]);
    let (mut w1, mut w2, mut w3) = (Wallet::new(1), Wallet::new(2), Wallet::new(3));
    let spawn1 = w1.spawn_tx(&network);
    let spawn2 = w2.spawn_tx(&network);
    let spawn3 = w3.spawn_tx(&network);

    // Block 1: w1 twice (in two bundles), w2, w3.
    let bundles = vec![
        Bundle { relay: relay_a, txs: vec![spawn1.clone(), spawn2] },
        Bundle { relay: relay_b, txs: vec![spawn1.clone(), spawn3] },
    ];
    let b1 = block(&chain, bundles);
    let (result, outcome) = chain.apply(&b1, &ExecConfig::default()).unwrap();
    assert_eq!((outcome.receipts.len(), outcome.skipped), (3, 1));
    assert!(outcome.receipts.iter().all(|r| r.status == StoredStatus::Succeeded), "{:?}", outcome.receipts);
    let fees: Vec<u64> = outcome.receipts.iter().map(|r| r.fee).collect();
    assert_eq!(balance(&chain, Address::new(relay_a)), fees[0] + fees[1]);
    assert_eq!(balance(&chain, Address::new(relay_b)), fees[2]);
    assert_eq!(outcome.receipts[2].bundle, 1);
    assert_eq!(outcome.receipts[2].fee_recipient, relay_b);
    assert_eq!(result.input_hash, b1.hash());
    assert_eq!(result.receipts_root, receipts_root(&chain.receipts(1).unwrap()));
    assert_eq!(twin.apply(&b1, &ExecConfig::default()).unwrap().0, result, "deterministic");

    // Block 2: a replay of w1's spawn (effective before: skipped), a spend,
    // and a spend of w2 from the future (nonce gap: ineffective).
    let spend = w1.spend_tx(&network, w2.address, 500);
    w2.nonce += 1;
    let future = w2.spend_tx(&network, w1.address, 7);
    let b2 = vec![Bundle { relay: relay_a, txs: vec![spawn1.clone(), spend.clone(), future.clone()] }];
    let before = balance(&chain, w2.address);
    let r2 = apply(&chain, b2.clone());
    let receipts = chain.receipts(2).unwrap();
    assert_eq!(receipts.len(), 2);
    assert_eq!(receipts[0].tx_id, *blake3::hash(&spend).as_bytes());
    assert_eq!(balance(&chain, w2.address), before + 500);
    assert_eq!(receipts[1].status, StoredStatus::Ineffective);
    assert!(receipts[1].reason.contains("nonce too high"), "{}", receipts[1].reason);
    assert_eq!(chain.block_summary(2).unwrap().unwrap().skipped, 1);
    assert_eq!(chain.receipt(blake3::hash(&future).as_bytes()).unwrap().unwrap().height, 2);
    assert_eq!(chain.receipt(blake3::hash(&spawn1).as_bytes()).unwrap().unwrap().height, 1, "first occurrence");

    // Block 3: the gap is filled, and the transaction that was ineffective
    // is not a duplicate: it applies now.
    w2.nonce = 1;
    let filler = w2.spend_tx(&network, w3.address, 1);
    apply(&chain, vec![Bundle { relay: relay_b, txs: vec![filler, future.clone()] }]);
    let later = chain.receipt(blake3::hash(&future).as_bytes()).unwrap().unwrap();
    assert_eq!((later.height, later.status), (3, StoredStatus::Succeeded));

    // The twin agrees on every block.
    let b2 = Block { height: 2, parent_hash: b1.hash(), timestamp: 1_700_000_002, bundles: b2 };
    assert_eq!(twin.apply(&b2, &ExecConfig::default()).unwrap().0, r2);
}

#[test]
fn blocks_must_follow_the_last_one() {
    let dir = tempfile::tempdir().unwrap();
    let (_, genesis) = write_genesis(dir.path(), 1);
    let chain = Chain::in_memory(&genesis).unwrap();
    let mut next = block(&chain, vec![]);
    next.parent_hash = [9; 32];
    assert!(matches!(chain.apply(&next, &ExecConfig::default()), Err(ChainError::ParentMismatch { height: 1, .. })));
    next.height = 2;
    assert!(matches!(
        chain.apply(&next, &ExecConfig::default()),
        Err(ChainError::WrongHeight { expected: 1, found: 2 })
    ));
    assert_eq!(chain.height().unwrap(), 0, "nothing committed");
    let empty = apply(&chain, vec![]);
    assert_eq!(empty.state_root, chain.result(0).unwrap().unwrap().state_root, "an empty block changes nothing");
    assert_eq!(chain.result(0).unwrap().unwrap().input_hash, genesis.genesis_id);
}

#[test]
fn counter_storage_events_and_proofs() {
    let dir = tempfile::tempdir().unwrap();
    let (_, genesis) = write_genesis(dir.path(), 1);
    let network = genesis.network.clone();
    let chain = Chain::in_memory(&genesis).unwrap();
    let mut w1 = Wallet::new(1);
    let counter = counter_address();
    let txs = vec![w1.spawn_tx(&network), w1.increment_tx(&network, counter, 1), w1.increment_tx(&network, counter, 2)];
    let result = apply(&chain, vec![bundle(txs)]);
    let receipts = chain.receipts(1).unwrap();
    assert!(receipts.iter().all(|r| r.status == StoredStatus::Succeeded), "{receipts:?}");
    assert_eq!(receipts[2].logs.len(), 1);

    let key = Bytes32::new(count_key());
    let proof = chain.store().prove_storage(&counter, &key, None).unwrap();
    assert_eq!(proof.value, Bytes32::new(count_value(3)));
    assert!(proof.verify(&StateRoot(result.state_root), &counter, &key));

    let events = chain.events(Some(counter), 0, 1, 10).unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!((events[0].index, events[1].index), (1, 2));
    assert_eq!(events[1].tx_id, receipts[2].tx_id);
    assert_eq!(chain.events(None, 0, 1, 10).unwrap(), events);
    assert_eq!(chain.events(None, 0, 1, 1).unwrap().len(), 1);
    assert!(chain.events(Some(w1.address), 0, 1, 10).unwrap().is_empty());
    assert!(chain.events(Some(counter), 2, 5, 10).unwrap().is_empty());
}

#[test]
fn a_file_chain_reopens_with_its_receipts_and_its_genesis() {
    let dir = tempfile::tempdir().unwrap();
    let (_, genesis) = write_genesis(&dir.path().join("g"), 2);
    let network = genesis.network.clone();
    let data = dir.path().join("data");
    assert!(matches!(Chain::open(&data, None), Err(ChainError::NoGenesis)));
    let mut w1 = Wallet::new(1);
    let spawn = w1.spawn_tx(&network);
    let result = {
        let chain = Chain::open(&data, Some(&genesis)).unwrap();
        apply(&chain, vec![bundle(vec![spawn.clone()])])
    };
    let chain = Chain::open(&data, None).unwrap();
    assert_eq!(chain.height().unwrap(), 1);
    assert_eq!(chain.result(1).unwrap(), Some(result));
    assert_eq!(chain.network(), &network);
    assert_eq!(chain.templates(), &genesis.templates, "the genesis templates are kept without the file");
    assert_eq!(chain.receipt(blake3::hash(&spawn).as_bytes()).unwrap().unwrap().status, StoredStatus::Succeeded);
    drop(chain);
    let (_, other) = write_genesis(&dir.path().join("other"), 1);
    assert!(matches!(Chain::open(&data, Some(&other)), Err(ChainError::GenesisMismatch { .. })));
    let chain = Chain::open(&data, Some(&genesis)).unwrap();
    chain.store().snapshot().unwrap().audit().unwrap();
}

#[test]
fn an_injected_fault_changes_exactly_one_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let (_, genesis) = write_genesis(dir.path(), 2);
    let network = genesis.network.clone();
    let honest = Chain::in_memory(&genesis).unwrap();
    let faulty = Chain::in_memory(&genesis).unwrap();
    let (mut w1, mut w2) = (Wallet::new(1), Wallet::new(2));
    let b = block(&honest, vec![bundle(vec![w1.spawn_tx(&network), w2.spawn_tx(&network)])]);
    let fault = ExecConfig { fault: Some(Fault { height: 1, index: 1 }), ..ExecConfig::default() };
    let good = honest.apply(&b, &ExecConfig::default()).unwrap().0;
    let bad = faulty.apply(&b, &fault).unwrap().0;
    assert_eq!(good.input_hash, bad.input_hash);
    assert_ne!(good.state_root, bad.state_root);
    assert_ne!(good.receipts_root, bad.receipts_root);
    let (ours, theirs) = (honest.receipts(1).unwrap(), faulty.receipts(1).unwrap());
    assert_eq!(ours[0], theirs[0]);
    assert_ne!(ours[1].changes_hash, theirs[1].changes_hash);
    assert_eq!(balance(&faulty, w2.address), balance(&honest, w2.address) + Fault::AMOUNT);
    assert_eq!(Fault::parse("7"), Ok(Fault { height: 7, index: 0 }));
    assert_eq!(Fault::parse("7:3"), Ok(Fault { height: 7, index: 3 }));
    assert!(Fault::parse("x").is_err());
}

#[test]
fn dry_runs_report_what_would_happen() {
    let dir = tempfile::tempdir().unwrap();
    let (_, genesis) = write_genesis(dir.path(), 1);
    let network = genesis.network.clone();
    let chain = Chain::in_memory(&genesis).unwrap();
    let config = ExecConfig::default();
    let mut w1 = Wallet::new(1);
    let spawn = w1.spawn_tx(&network);
    let check = chain.check(&spawn, Address::ZERO, &config, DryRunOptions::default()).unwrap();
    assert!(check.ok, "{check:?}");
    assert_eq!(check.status, "succeeded");
    assert_eq!((check.nonce, check.account_nonce, check.balance), (Some(0), Some(0), Some(FUNDS)));
    assert_eq!(check.max_fee, Some(GAS));
    assert_eq!(check.principal, Some(network.encode_address(&w1.address)));
    assert_eq!(chain.height().unwrap(), 0, "a dry run commits nothing");

    let garbage = chain.check(b"garbage", Address::ZERO, &config, DryRunOptions::default()).unwrap();
    assert!(!garbage.ok);
    assert_eq!((garbage.status.as_str(), garbage.principal.as_deref()), ("ineffective", None));
    assert!(garbage.reason.unwrap().contains("undecodable"));

    let early = w1.spend_tx(&network, Address::new([5; 24]), 1);
    let check = chain.check(&early, Address::ZERO, &config, DryRunOptions::default()).unwrap();
    assert!(!check.ok && check.reason.as_deref().unwrap().contains("not spawned"), "{check:?}");

    apply(&chain, vec![bundle(vec![spawn.clone()])]);
    let replay = chain.check(&spawn, Address::ZERO, &config, DryRunOptions::default()).unwrap();
    assert!(!replay.ok);
    assert!(replay.reason.unwrap().contains("already included in block 1"));
    let now = chain.check(&early, Address::ZERO, &config, DryRunOptions::default()).unwrap();
    assert!(now.ok, "{now:?}");
    assert_eq!(now.height, 1);
}

/// A chain pruning after every block (`--keep-heights 0`) computes exactly
/// the results of a twin that keeps everything, still skips the replay of a
/// transaction whose receipt it pruned (the transaction index is kept), and
/// answers `Pruned` for the pruned receipts.
#[test]
fn a_pruning_chain_agrees_with_its_twin_and_still_skips_replays() {
    let dir = tempfile::tempdir().unwrap();
    let (_, genesis) = write_genesis(dir.path(), 2);
    let network = genesis.network.clone();
    let pruning = Chain::in_memory(&genesis).unwrap().with_keep_heights(Some(0));
    let twin = Chain::in_memory(&genesis).unwrap();
    let (mut w1, w2) = (Wallet::new(1), Wallet::new(2));
    let relay = [0xaa; 24];
    let spawn = w1.spawn_tx(&network);
    let blocks = vec![
        vec![spawn.clone()],
        vec![w1.spend_tx(&network, w2.address, 5)],
        vec![w1.increment_tx(&network, counter_address(), 1)],
        // The replay of a transaction whose receipt is pruned by now.
        vec![spawn.clone(), w1.spend_tx(&network, w2.address, 6)],
    ];
    for txs in blocks {
        let bundles = vec![Bundle { relay, txs }];
        let (ours, outcome) = pruning.apply(&block(&pruning, bundles.clone()), &ExecConfig::default()).unwrap();
        assert_eq!(ours, apply(&twin, bundles), "results differ at {}", ours.height);
        assert_eq!(pruning.pruned_below().unwrap(), ours.height);
        assert_eq!(pruning.store().pruned_below().unwrap(), ours.height);
        if ours.height == 4 {
            assert_eq!((outcome.receipts.len(), outcome.skipped), (1, 1), "the replay is skipped");
        }
    }
    let spawn_id = *blake3::hash(&spawn).as_bytes();
    assert!(matches!(pruning.receipt(&spawn_id), Err(ChainError::Pruned { height: 1, floor: 4 })));
    assert!(twin.receipt(&spawn_id).unwrap().is_some());
    assert!(matches!(pruning.receipts(2), Err(ChainError::Pruned { height: 2, floor: 4 })));
    assert_eq!(pruning.receipts(4).unwrap(), twin.receipts(4).unwrap());
    assert!(matches!(pruning.events(None, 0, 4, 10), Err(ChainError::Pruned { height: 0, floor: 4 })));
    assert_eq!(pruning.store().snapshot().unwrap().audit().unwrap(), twin.store().state_root().unwrap());
    // Pruning below the floor again is a no-op; beyond the last height is refused.
    let again = pruning.prune(2).unwrap();
    assert_eq!((again.receipts_deleted, again.complete), (0, true));
    assert!(pruning.prune(5).is_err());
}

//! The devnet sequencer's queue survives restarts: bundles accepted but not
//! yet in a block come back after a reopen, in order and exactly once; bundles
//! already in a block do not; and the queue limits hold across the restart.

use athena_node::base_layer::{BaseLayer, BaseLayerError, DevnetSequencer, SEQUENCER_FILE};
use athena_node::types::{Bundle, MAX_BLOCK_TXS, MAX_BUNDLE_BYTES, MAX_BUNDLE_TXS};
use athena_transaction::tx::MAX_TX_SIZE;
use std::path::Path;

fn bundle(n: u8) -> Bundle {
    Bundle { relay: [n; 24], txs: vec![vec![n], vec![n, n]] }
}

fn reopen(path: &Path) -> DevnetSequencer {
    DevnetSequencer::open(path).expect("reopen the sequencer")
}

fn is_queue_full(result: Result<athena_node::types::QueuedResponse, BaseLayerError>) -> bool {
    matches!(result, Err(BaseLayerError::Rejected { error, .. }) if error == "queue_full")
}

#[test]
fn queued_bundles_come_back_in_order_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(SEQUENCER_FILE);
    let seq = reopen(&path);
    seq.submit_bundle(bundle(1)).unwrap();
    seq.submit_bundle(bundle(2)).unwrap();
    let one = seq.produce_block(10, false).unwrap().unwrap();
    assert_eq!(one.bundles, vec![bundle(1), bundle(2)]);
    for n in 3..=5 {
        seq.submit_bundle(bundle(n)).unwrap();
    }
    assert_eq!(seq.queued(), 3);
    drop(seq); // stopped without producing a block

    let seq = reopen(&path);
    assert_eq!(seq.latest_height().unwrap(), 1);
    assert_eq!(seq.queued(), 3, "block 1's bundles are not queued again");
    // New submissions go behind the restored ones.
    assert_eq!(seq.submit_bundle(bundle(6)).unwrap().queued, 4);
    let two = seq.produce_block(20, false).unwrap().unwrap();
    assert_eq!((two.height, two.parent_hash), (2, one.hash()));
    assert_eq!(two.bundles, vec![bundle(3), bundle(4), bundle(5), bundle(6)]);
    assert_eq!(seq.queued(), 0);
    drop(seq);

    let seq = reopen(&path);
    assert_eq!(seq.queued(), 0, "block 2's bundles are not queued again");
    assert_eq!(seq.produce_block(30, false).unwrap(), None);
    assert_eq!(seq.block(2).unwrap(), Some(two.clone()));
    seq.submit_bundle(bundle(7)).unwrap();
    let three = seq.produce_block(30, false).unwrap().unwrap();
    assert_eq!((three.parent_hash, three.bundles), (two.hash(), vec![bundle(7)]));
}

#[test]
fn the_queue_limits_hold_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(SEQUENCER_FILE);
    let seq = reopen(&path);
    // Bundles just under MAX_BUNDLE_BYTES until the queue refuses one.
    let big = |n: u8| Bundle { relay: [n; 24], txs: vec![vec![n; MAX_TX_SIZE]; MAX_BUNDLE_BYTES / MAX_TX_SIZE - 1] };
    let mut accepted = 0u8;
    loop {
        let result = seq.submit_bundle(big(accepted));
        if is_queue_full(result.clone()) {
            break;
        }
        result.unwrap();
        accepted += 1;
    }
    assert!(accepted >= 8, "the queue holds many big bundles ({accepted})");
    drop(seq);

    let seq = reopen(&path);
    assert_eq!(seq.queued(), usize::from(accepted));
    assert!(is_queue_full(seq.submit_bundle(big(99))), "the restored bytes count against the limit");
    let block = seq.produce_block(1, false).unwrap().unwrap();
    assert!(block.to_bytes().len() <= athena_node::types::MAX_BLOCK_BYTES);
    let taken = block.bundles.len();
    assert!(taken >= 1);
    let expected: Vec<Bundle> = (0..taken).map(|n| big(u8::try_from(n).unwrap())).collect();
    assert_eq!(block.bundles, expected, "oldest first");
    assert_eq!(seq.queued(), usize::from(accepted) - taken);
    seq.submit_bundle(big(100)).unwrap();
    drop(seq);

    // Drain everything: each bundle exactly once, in order, the last one submitted last.
    let seq = reopen(&path);
    let mut seen = block.bundles;
    while let Some(block) = seq.produce_block(2, false).unwrap() {
        assert!(block.to_bytes().len() <= athena_node::types::MAX_BLOCK_BYTES);
        seen.extend(block.bundles);
    }
    let mut expected: Vec<Bundle> = (0..accepted).map(big).collect();
    expected.push(big(100));
    assert!(seen == expected, "every accepted bundle once, in order");
}

#[test]
fn the_block_transaction_limit_holds_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(SEQUENCER_FILE);
    let seq = reopen(&path);
    let full = |n: u8| Bundle { relay: [n; 24], txs: vec![vec![n]; MAX_BUNDLE_TXS] };
    for n in 0..5 {
        seq.submit_bundle(full(n)).unwrap();
    }
    drop(seq);
    let seq = reopen(&path);
    let block = seq.produce_block(1, false).unwrap().unwrap();
    assert_eq!(block.tx_count(), MAX_BLOCK_TXS);
    assert_eq!(block.bundles, (0..4).map(full).collect::<Vec<_>>());
    assert_eq!(seq.queued(), 1);
    drop(seq);
    let seq = reopen(&path);
    assert_eq!(seq.produce_block(2, false).unwrap().unwrap().bundles, vec![full(4)]);
}

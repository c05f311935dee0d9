//! Random block sequences against the executor's block rules: signed
//! spends, spawns and counter calls with right, gapped and stale nonces,
//! replays, duplicates, corruptions and garbage, applied to a chain that
//! keeps everything and one that prunes, with every rule of
//! `athena_node::model` checked after each block. The `blocks` fuzz target
//! (`crates/node/fuzz`) runs the same model coverage-guided.

mod common;

use athena_node::model::{check, Setup, Summary};
use proptest::prelude::*;
use std::sync::OnceLock;

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let (wallet, counter) = common::elfs();
        Setup::new(wallet, counter)
    })
}

// The script encoding of `athena_node::model`, one helper per transaction
// kind: `w` is a wallet (0-2), `mode` 0 the right nonce, 2 a gap, 3 a
// stale one, plus 0x10 for too little gas.
fn spawn(w: u8) -> Vec<u8> {
    vec![2, w, 0]
}
/// `to`: 0 the sink, 1 the counter, 2-3 a wallet; `amount`: 0, 1, 12345 or
/// more than a wallet has.
fn spend(w: u8, to: u8, amount: u8, mode: u8) -> Vec<u8> {
    vec![0, w, to, amount, mode]
}
fn call(w: u8, times: u8, mode: u8) -> Vec<u8> {
    vec![3, w, times, mode]
}
/// The `n`-th transaction of the script so far (mod their number).
fn replay(n: u8) -> Vec<u8> {
    vec![4, 0, n]
}
fn corrupt(n: u8, at: u8, bit: u8) -> Vec<u8> {
    vec![5, 0, n, at, bit]
}
/// The previous transaction of the same bundle.
fn duplicate() -> Vec<u8> {
    vec![7, 0]
}
fn garbage(bytes: &[u8]) -> Vec<u8> {
    [&[6, 0, bytes.len() as u8 - 1][..], bytes].concat()
}
/// A block of bundles `(relay 0 or 1, transactions)`, the clock moved by
/// `tick` seconds.
fn block(bundles: &[(u8, Vec<Vec<u8>>)], tick: u8) -> Vec<u8> {
    let mut out = vec![bundles.len() as u8 - 1];
    for (relay, txs) in bundles {
        out.push(relay << 7 | txs.len() as u8);
        out.extend(txs.concat());
    }
    out.push(tick);
    out
}

/// A script that reaches every rule: all three wallets spawn and spend,
/// also with a stale nonce, a gap and too little gas; the counter is
/// called; later blocks replay, duplicate and corrupt earlier
/// transactions; a pruning twin keeps one height.
#[test]
fn a_handwritten_script_reaches_every_rule() {
    let mut script = vec![1];
    script.extend(block(
        &[
            (0, vec![spawn(0), spawn(1), spawn(2)]),
            (1, vec![spend(0, 0, 1, 0), duplicate(), garbage(&[1, 2, 3, 4, 5, 6]), spend(1, 2, 2, 0)]),
        ],
        1,
    ));
    script.extend(block(&[(0, vec![call(2, 2, 0), spend(0, 3, 1, 3), spend(1, 0, 1, 2), spend(2, 1, 3, 0)])], 0));
    script.extend(block(&[(1, vec![replay(0), replay(3), corrupt(1, 9, 3), call(0, 1, 0x10)])], 2));
    script.extend(block(&[(0, vec![spend(0, 2, 2, 0)]), (1, vec![replay(13)])], 1));
    let summary = check(setup(), &script);
    assert_eq!(summary.blocks, 4, "{summary:?}");
    assert!(summary.succeeded >= 6, "{summary:?}");
    assert!(summary.failed >= 1, "{summary:?}");
    assert!(summary.ineffective >= 3, "{summary:?}");
    assert!(summary.skipped >= 3, "{summary:?}");
}

#[test]
fn an_empty_script_applies_no_block() {
    assert_eq!(check(setup(), &[]), Summary::default());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Any bytes are a script; every rule holds after every block.
    #[test]
    fn random_block_sequences_keep_the_rules(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        check(setup(), &data);
    }
}

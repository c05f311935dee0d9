//! Throughput of durable admission: `ROUNDS` rounds in which each of
//! `PRINCIPALS` funded accounts submits its next transaction, all at once,
//! to a relay with a data directory (every acceptance fsynced to
//! `mempool.redb` before it returns), against the fake executor of the
//! tests. Prints accepted transactions per second.
//!
//! `cargo bench -p athena-relay --bench durable_submit`

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::*;

const PRINCIPALS: u8 = 200;
const ROUNDS: u64 = 5;

#[tokio::main]
async fn main() {
    let keys: Vec<_> = (1..=PRINCIPALS).map(key).collect();
    let world = held_world(&keys.iter().collect::<Vec<_>>());
    let dir = tempfile::tempdir().expect("temporary directory");
    let data_dir = dir.path().to_path_buf();
    let relay = relay_with(&world, |c| {
        c.data_dir = Some(data_dir);
        c.bundle_interval = Duration::from_secs(3600);
        c.bundle_threshold_bytes = usize::MAX;
    })
    .await;
    let txs: Vec<Vec<Vec<u8>>> = (0..ROUNDS).map(|nonce| keys.iter().map(|k| signed(k, nonce, 10)).collect()).collect();
    let start = Instant::now();
    for round in txs {
        let submissions = round.into_iter().map(|tx| {
            let relay = relay.relay().clone();
            tokio::spawn(async move { relay.submit(tx).await })
        });
        for s in submissions.collect::<Vec<_>>() {
            s.await.expect("submission task").expect("accepted");
        }
    }
    let elapsed = start.elapsed();
    let total = u64::from(PRINCIPALS) * ROUNDS;
    println!(
        "durable_submit: {total} transactions ({PRINCIPALS} concurrent × {ROUNDS} rounds) in {:.3} s: {:.0} tx/s",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64()
    );
    relay.shutdown().await;
}

//! The relay against the node's real devnet sequencer (`athena-node`), with
//! the fake executor of `common` following the sequencer's blocks: rejected
//! transactions never reach a block, valid ones land in a bundle carrying the
//! relay's address and leave the pool.

mod common;

use std::time::Duration;

use athena_node::sequencer::{start_sequencer, SequencerConfig};
use athena_node::sequencer_limits::{SequencerLimits, SequencerRateLimits};
use athena_node::types::{Block, LatestResponse};
use common::*;

#[tokio::test]
async fn relay_bundles_reach_real_sequencer_blocks() {
    let sequencer = start_sequencer(SequencerConfig {
        data_dir: None,
        listen: "127.0.0.1:0".parse().unwrap(),
        block_interval: Duration::from_millis(50),
        empty_blocks: false,
        signals: false,
        limits: SequencerLimits::shared(SequencerRateLimits::default()),
    })
    .unwrap();
    let sequencer_url = sequencer.url();
    let world = Shared::default();
    let alice = key(1);
    world.lock().unwrap().fund(&alice, 10_000_000);
    // Only the fake executor of `fakes` is used; its fake sequencer idles.
    let (executor_url, _) = fakes(world.clone()).await;

    // The fake executor follows the real sequencer's blocks.
    let (follow_world, follow_url) = (world.clone(), sequencer_url.clone());
    let blocks = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Block>::new()));
    let seen = blocks.clone();
    let follower = tokio::spawn(async move {
        let client = http();
        loop {
            let next = follow_world.lock().unwrap().height + 1;
            let latest: LatestResponse =
                client.get(format!("{follow_url}/v1/blocks/latest")).send().await.unwrap().json().await.unwrap();
            if latest.height >= next {
                let bytes =
                    client.get(format!("{follow_url}/v1/blocks/{next}")).send().await.unwrap().bytes().await.unwrap();
                let block = Block::from_bytes(&bytes).unwrap();
                follow_world.lock().unwrap().apply_block(block.height, block.bundles.clone());
                seen.lock().unwrap().push(block);
            } else {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    });

    let relay = relay_at(&executor_url, &sequencer_url, |_| {}).await;
    let url = format!("http://{}", relay.local_addr());
    assert_eq!(post_raw(&url, vec![1, 2, 3]).await.0, 400);
    assert_eq!(post_raw(&url, badly_signed(&alice, 0)).await.0, 422);
    let good = signed(&alice, 0, 4);
    let (s, body) = post_raw(&url, good.clone()).await;
    assert_eq!(s, 202, "{body}");
    wait_for("inclusion", || relay.relay().pool().stats().txs == 0).await;
    let (s, body) = get_json(&url, &format!("/v1/transactions/{}", tx_id(&good))).await;
    assert_eq!((s, body["status"].as_str()), (200, Some("included")), "{body}");

    // Exactly one block with one bundle: the relay's, holding the good tx.
    let blocks = blocks.lock().unwrap().clone();
    assert_eq!(blocks.len(), 1);
    assert_eq!(blocks[0].bundles.len(), 1);
    assert_eq!(blocks[0].bundles[0].relay, relay_address().0);
    assert_eq!(blocks[0].bundles[0].txs, vec![good]);
    assert_eq!(world.lock().unwrap().accounts[&relay_address()].balance, 4 * GAS_LIMIT);

    follower.abort();
    relay.shutdown().await;
    drop(sequencer);
}

//! The relay over HTTP on loopback, against a fake executor and a fake
//! sequencer (`common`): bad transactions are rejected with clear errors and
//! never reach the sequencer; good ones are bundled, submitted and leave the
//! pool once included.

mod common;

use std::time::Duration;

use common::*;

fn base(h: &athena_relay::RelayHandle) -> String {
    format!("http://{}", h.local_addr())
}

#[tokio::test]
async fn garbage_oversized_and_replayed_transactions_are_rejected() {
    let world = Shared::default();
    let alice = key(1);
    world.lock().unwrap().fund(&alice, 10_000_000);
    let relay = relay_with(&world, |_| {}).await;
    let url = base(&relay);

    // Garbage: not an envelope.
    let (s, body) = post_raw(&url, vec![0xde, 0xad, 0xbe, 0xef]).await;
    assert_eq!((s, body["error"].as_str()), (400, Some("malformed")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("unknown transaction version 222"), "{body}");
    let (s, body) = post_raw(&url, vec![]).await;
    assert_eq!((s, body["error"].as_str()), (400, Some("malformed")));
    let (s, body) = post_json(&url, r#"{"tx": "not hex"}"#.into()).await;
    assert_eq!((s, body["error"].as_str()), (400, Some("malformed")));
    let (s, body) = post_json(&url, "{".into()).await;
    assert_eq!((s, body["error"].as_str()), (400, Some("malformed")));

    // Oversized: a body over the HTTP limit, and a transaction over the
    // envelope limit inside it.
    let (s, body) = post_raw(&url, vec![1; athena_relay::server::MAX_BODY + 1]).await;
    assert_eq!((s, body["error"].as_str()), (413, Some("oversized")), "{body}");
    let (s, body) = post_raw(&url, vec![1; 70_000]).await;
    assert_eq!((s, body["error"].as_str()), (413, Some("oversized")), "{body}");

    // Bad signature, unfunded principal, cannot pay, nonce gap.
    let (s, body) = post_raw(&url, badly_signed(&alice, 0)).await;
    assert_eq!((s, body["error"].as_str()), (422, Some("rejected_by_verify")), "{body}");
    let (s, body) = post_raw(&url, signed(&key(2), 0, 1)).await;
    assert_eq!((s, body["error"].as_str()), (422, Some("invalid")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("not spawned"));
    let (s, body) = post_raw(&url, signed(&alice, 0, 1_000_000)).await;
    assert_eq!((s, body["error"].as_str()), (422, Some("cannot_pay")), "{body}");
    let (s, body) = post_raw(&url, signed(&alice, 5, 1)).await;
    assert_eq!((s, body["error"].as_str()), (422, Some("nonce_gap")), "{body}");

    // A good one, then the same again (duplicate) — also as JSON hex.
    let good = signed(&alice, 0, 2);
    let (s, body) = post_json(&url, format!(r#"{{"tx": "0x{}"}}"#, hex::encode(&good))).await;
    assert_eq!(s, 202, "{body}");
    assert_eq!(body["id"].as_str(), Some(tx_id(&good).as_str()));
    let (s, body) = post_raw(&url, good.clone()).await;
    assert_eq!((s, body["error"].as_str()), (409, Some("duplicate")));

    // It is bundled; the block includes it; it leaves the pool.
    wait_for("the bundle", || !world.lock().unwrap().queue.is_empty()).await;
    world.lock().unwrap().produce_block();
    wait_for("inclusion", || relay.relay().pool().stats().txs == 0).await;

    // Replayed after inclusion: the nonce is used.
    let (s, body) = post_raw(&url, good.clone()).await;
    assert_eq!((s, body["error"].as_str()), (422, Some("nonce_too_low")), "{body}");

    // Only the good transaction ever reached the sequencer, once.
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(received_txs(&world), vec![good]);
    // And the relay earned its fee.
    assert_eq!(world.lock().unwrap().accounts[&relay_address()].balance, 2 * GAS_LIMIT);
    relay.shutdown().await;
}

#[tokio::test]
async fn valid_transactions_are_bundled_in_fee_order_and_leave_the_pool() {
    let world = Shared::default();
    let (alice, bob) = (key(1), key(2));
    {
        let mut w = world.lock().unwrap();
        w.fund(&alice, 10_000_000);
        w.fund(&bob, 10_000_000);
        // Refuse bundles until all three are admitted, so they meet in one.
        w.sequencer_down = true;
    }
    let relay = relay_with(&world, |_| {}).await;
    let url = base(&relay);
    let a0 = signed(&alice, 0, 1);
    let a1 = signed(&alice, 1, 50); // chained behind a0: deferred
    let b0 = signed(&bob, 0, 7);
    for tx in [&a0, &a1, &b0] {
        let (s, body) = post_raw(&url, tx.clone()).await;
        assert_eq!(s, 202, "{body}");
    }
    let (s, body) = get_json(&url, &format!("/v1/transactions/{}", tx_id(&a1))).await;
    assert_eq!((s, body["status"].as_str(), body["verified"].as_bool()), (200, Some("pending"), Some(false)));
    assert!(body["principal"].as_str().unwrap().starts_with("atest1"), "{body}");

    world.lock().unwrap().sequencer_down = false;
    // First bundle: the verified heads, highest gas price first.
    wait_for("the first bundle", || !world.lock().unwrap().received.is_empty()).await;
    assert_eq!(world.lock().unwrap().received[0].txs, vec![b0.clone(), a0.clone()]);
    assert_eq!(world.lock().unwrap().received[0].relay, relay_address().0);
    let (_, body) = get_json(&url, &format!("/v1/transactions/{}", tx_id(&a0))).await;
    assert_eq!((body["bundled"].as_bool(), body["submissions"].as_u64()), (Some(true), Some(1)));

    world.lock().unwrap().produce_block();
    // a0 and b0 leave; a1 becomes the head, passes the dry run, goes out.
    wait_for("a1 bundled", || world.lock().unwrap().received.len() == 2).await;
    assert_eq!(world.lock().unwrap().received[1].txs, vec![a1.clone()]);
    world.lock().unwrap().produce_block();
    wait_for("an empty pool", || relay.relay().pool().stats().txs == 0).await;

    for tx in [&a0, &a1, &b0] {
        let (s, body) = get_json(&url, &format!("/v1/transactions/{}", tx_id(tx))).await;
        assert_eq!((s, body["status"].as_str()), (200, Some("included")), "{body}");
        assert_eq!(body["receipt"]["status"].as_str(), Some("succeeded"));
    }
    {
        let w = world.lock().unwrap();
        assert_eq!(w.accounts[&address_of(&alice)].nonce, 2);
        assert_eq!(w.accounts[&relay_address()].balance, (1 + 50 + 7) * GAS_LIMIT);
    }
    relay.shutdown().await;
}

#[tokio::test]
async fn replacement_caps_and_status_codes() {
    let world = Shared::default();
    let (alice, bob, carol) = (key(1), key(2), key(3));
    {
        let mut w = world.lock().unwrap();
        for k in [&alice, &bob, &carol] {
            w.fund(k, 10_000_000);
        }
        // Nothing gets bundled in this test.
        w.sequencer_down = true;
    }
    let relay = relay_with(&world, |c| {
        c.mempool.max_per_account = 2;
        c.mempool.max_txs = 3;
        // Not even tried: a bundle pass marks what it takes as bundled
        // until the (down) sequencer refuses it, and a replacement racing
        // that window is `already_bundled` instead of what is tested here.
        c.bundle_interval = Duration::from_secs(3600);
        c.bundle_threshold_bytes = usize::MAX;
    })
    .await;
    let url = base(&relay);
    assert_eq!(post_raw(&url, signed(&alice, 0, 100)).await.0, 202);
    assert_eq!(post_raw(&url, signed(&alice, 1, 100)).await.0, 202);
    let (s, body) = post_raw(&url, signed(&alice, 2, 100)).await;
    assert_eq!((s, body["error"].as_str()), (429, Some("account_full")), "{body}");
    // Replace-by-fee: +10% needed.
    let (s, body) = post_raw(&url, signed(&alice, 0, 109)).await;
    assert_eq!((s, body["error"].as_str()), (422, Some("underpriced")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("at least 110"), "{body}");
    let old = signed(&alice, 0, 100);
    assert_eq!(post_raw(&url, signed(&alice, 0, 110)).await.0, 202);
    let (s, body) = get_json(&url, &format!("/v1/transactions/{}", tx_id(&old))).await;
    assert_eq!(
        (s, body["status"].as_str(), body["reason"].as_str()),
        (200, Some("dropped"), Some("replaced")),
        "{body}"
    );

    // Pool cap 3: bob fills it; carol at a lower price is refused, at a
    // higher one evicts the cheapest tail (alice's nonce 1 at price 100).
    assert_eq!(post_raw(&url, signed(&bob, 0, 150)).await.0, 202);
    let (s, body) = post_raw(&url, signed(&carol, 0, 50)).await;
    assert_eq!((s, body["error"].as_str()), (503, Some("mempool_full")), "{body}");
    assert_eq!(post_raw(&url, signed(&carol, 0, 300)).await.0, 202);
    let (_, body) = get_json(&url, &format!("/v1/transactions/{}", tx_id(&signed(&alice, 1, 100)))).await;
    assert_eq!((body["status"].as_str(), body["reason"].as_str()), (Some("dropped"), Some("evicted")), "{body}");

    // Unknown id, bad id.
    let (s, body) = get_json(&url, &format!("/v1/transactions/{}", "00".repeat(32))).await;
    assert_eq!((s, body["status"].as_str()), (404, Some("unknown")));
    let (s, body) = get_json(&url, "/v1/transactions/xyz").await;
    assert_eq!((s, body["error"].as_str()), (400, Some("malformed")));
    assert!(received_txs(&world).is_empty());
    relay.shutdown().await;
}

#[tokio::test]
async fn proxies_queries_to_the_executor() {
    let world = Shared::default();
    let alice = key(1);
    world.lock().unwrap().fund(&alice, 123);
    let relay = relay_with(&world, |_| {}).await;
    let url = base(&relay);
    let addr = network().encode_address(&address_of(&alice));
    let (s, body) = get_json(&url, &format!("/v1/accounts/{addr}")).await;
    assert_eq!((s, body["balance"].as_u64()), (200, Some(123)), "{body}");
    let (s, body) = get_json(&url, "/v1/accounts/atest1nope").await;
    assert_eq!((s, body["error"].as_str()), (400, Some("bad_request")));
    let (s, body) = get_json(&url, "/v1/blocks/4/result?x=1").await;
    assert_eq!((s, body["height"].as_u64()), (200, Some(4)));
    let (s, body) = get_json(&url, "/v1/status").await;
    assert_eq!((s, body["network"].as_str()), (200, Some("atest")));
    // Dry run through the relay.
    let resp = http().post(format!("{url}/v1/transactions/check")).body(signed(&alice, 0, 1_000)).send().await.unwrap();
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["ok"].as_bool(), Some(false));
    assert!(body["reason"].as_str().unwrap().contains("cannot prepay"));
    assert_eq!(body.get("verify_accepted"), None, "{body}");
    // The query goes through unchanged (the estimate mode).
    let resp = http()
        .post(format!("{url}/v1/transactions/check?ignore_verify=true"))
        .body(signed(&alice, 0, 1_000))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["verify_accepted"].as_bool(), Some(true), "{body}");
    // Relay info; unknown non-API path.
    let (s, body) = get_json(&url, "/v1/relay").await;
    assert_eq!((s, body["pending"].as_u64()), (200, Some(0)));
    assert!(body["address"].as_str().unwrap().starts_with("atest1"), "{body}");
    let (s, body) = get_json(&url, "/nope").await;
    assert_eq!((s, body["error"].as_str()), (404, Some("not_found")));
    relay.shutdown().await;
}

#[tokio::test]
async fn executor_down_means_executor_unavailable() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    // Nothing listens on these.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let mut config = athena_relay::RelayConfig::new(listener.local_addr().unwrap(), &dead, &dead, relay_address());
    config.http_timeout = Duration::from_millis(500);
    let relay = athena_relay::start(config, listener).await.unwrap();
    let url = base(&relay);
    let (s, body) = post_raw(&url, signed(&key(1), 0, 1)).await;
    assert_eq!((s, body["error"].as_str()), (503, Some("executor_unavailable")), "{body}");
    let (s, body) = get_json(&url, "/v1/status").await;
    assert_eq!((s, body["error"].as_str()), (503, Some("executor_unavailable")));
    // Garbage is still rejected without the executor.
    assert_eq!(post_raw(&url, vec![9; 10]).await.0, 400);
    relay.shutdown().await;
}

#[tokio::test]
async fn lost_bundles_are_resubmitted_then_included() {
    let world = Shared::default();
    let alice = key(1);
    {
        let mut w = world.lock().unwrap();
        w.fund(&alice, 10_000_000);
        w.lose_bundles = true;
    }
    let relay = relay_with(&world, |c| c.mempool.resubmit_after_blocks = 2).await;
    let tx = signed(&alice, 0, 3);
    assert_eq!(post_raw(&base(&relay), tx.clone()).await.0, 202);
    wait_for("the first submission", || world.lock().unwrap().received.len() == 1).await;
    // The bundle was lost: two empty blocks later the relay sends it again.
    world.lock().unwrap().lose_bundles = false;
    world.lock().unwrap().produce_block();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(world.lock().unwrap().received.len(), 1);
    world.lock().unwrap().produce_block();
    wait_for("the resubmission", || world.lock().unwrap().received.len() == 2).await;
    world.lock().unwrap().produce_block();
    wait_for("inclusion", || relay.relay().pool().stats().txs == 0).await;
    assert_eq!(received_txs(&world), vec![tx.clone(), tx]);
    relay.shutdown().await;
}

#[tokio::test]
async fn pool_survives_a_restart() {
    let alice = key(1);
    let world = held_world(&[&alice]);
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_path_buf();
    let relay = relay_with(&world, |c| c.data_dir = Some(data_dir.clone())).await;
    let txs = [signed(&alice, 0, 3), signed(&alice, 1, 3)];
    for tx in &txs {
        assert_eq!(post_raw(&base(&relay), tx.clone()).await.0, 202);
    }
    relay.shutdown().await;
    assert!(dir.path().join(athena_relay::service::STORE_FILE).exists());

    let relay = relay_with(&world, |c| c.data_dir = Some(data_dir.clone())).await;
    wait_for("restoration", || relay.relay().pool().stats().txs == 2).await;
    world.lock().unwrap().sequencer_down = false;
    // The head goes first; the second (deferred again after the restart)
    // follows once the head is included.
    for _ in 0..2 {
        wait_for("a bundle", || !world.lock().unwrap().queue.is_empty()).await;
        world.lock().unwrap().produce_block();
    }
    wait_for("inclusion of both", || relay.relay().pool().stats().txs == 0).await;
    assert_eq!(world.lock().unwrap().accounts[&address_of(&alice)].nonce, 2);
    relay.shutdown().await;
}

#[tokio::test]
async fn lost_bundles_are_resubmitted_after_a_timeout_without_blocks() {
    let world = Shared::default();
    let alice = key(1);
    {
        let mut w = world.lock().unwrap();
        w.fund(&alice, 10_000_000);
        w.lose_bundles = true;
    }
    // An idle devnet skips empty blocks: only the clock can tell.
    let relay = relay_with(&world, |c| c.mempool.resubmit_after_ms = 150).await;
    let tx = signed(&alice, 0, 3);
    assert_eq!(post_raw(&base(&relay), tx.clone()).await.0, 202);
    wait_for("two submissions", || world.lock().unwrap().received.len() >= 2).await;
    world.lock().unwrap().lose_bundles = false;
    wait_for("a queued bundle", || !world.lock().unwrap().queue.is_empty()).await;
    world.lock().unwrap().produce_block();
    wait_for("inclusion", || relay.relay().pool().stats().txs == 0).await;
    relay.shutdown().await;
}

#[tokio::test]
async fn an_old_snapshot_is_migrated_and_restored() {
    let alice = key(1);
    let world = held_world(&[&alice]);
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join(athena_relay::service::SNAPSHOT_FILE);
    let txs = vec![signed(&alice, 0, 3), signed(&alice, 1, 3)];
    std::fs::write(&snapshot, parity_scale_codec::Encode::encode(&txs)).unwrap();
    let data_dir = dir.path().to_path_buf();
    let relay = relay_with(&world, |c| c.data_dir = Some(data_dir)).await;
    assert!(!snapshot.exists());
    wait_for("restoration", || relay.relay().pool().stats().txs == 2).await;
    relay.shutdown().await;
    let (_, rows) = athena_relay::store::PoolStore::open(dir.path()).unwrap();
    assert_eq!(rows.into_iter().map(|r| r.bytes).collect::<Vec<_>>(), txs);
}

#[tokio::test]
async fn an_unreadable_store_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(athena_relay::service::STORE_FILE), b"garbage, not a database").unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut config = athena_relay::RelayConfig::new(
        listener.local_addr().unwrap(),
        "http://127.0.0.1:1",
        "http://127.0.0.1:1",
        relay_address(),
    );
    config.data_dir = Some(dir.path().to_path_buf());
    let err = athena_relay::start(config, listener).await.unwrap_err();
    assert!(matches!(err, athena_relay::RelayError::Store(_)), "{err}");
    assert!(err.to_string().contains("mempool.redb"), "{err}");
}

/// The configuration of the store-failure tests: a store in `data_dir`,
/// and no bundle pass (it would mark a pending transaction bundled for a
/// moment, then `already_bundled`, not what those tests check) and no
/// executor polling after the first sync, which is over before they submit.
fn held_store(data_dir: &std::path::Path) -> impl Fn(&mut athena_relay::RelayConfig) + Copy + '_ {
    move |c| {
        c.data_dir = Some(data_dir.to_path_buf());
        c.bundle_interval = Duration::from_secs(3600);
        c.bundle_threshold_bytes = usize::MAX;
        c.poll_interval = Duration::from_secs(3600);
    }
}

#[tokio::test]
async fn a_replacement_that_cannot_be_recorded_leaves_the_replaced_one_pending_and_recorded() {
    let (alice, bob) = (key(1), key(2));
    let world = held_world(&[&alice, &bob]);
    let dir = tempfile::tempdir().unwrap();
    let held = held_store(dir.path());
    let relay = relay_with(&world, held).await;
    wait_for("the first sync", || relay.relay().hrp().is_some()).await;
    let url = base(&relay);
    let (old, new) = (signed(&alice, 0, 100), signed(&alice, 0, 200));
    assert_eq!(post_raw(&url, old.clone()).await.0, 202);
    let store = relay.relay().store().unwrap().clone();

    store.fail_writes(true);
    let (s, body) = post_raw(&url, new.clone()).await;
    assert_eq!((s, body["error"].as_str()), (503, Some("storage_unavailable")), "{body}");
    store.fail_writes(false);
    let (_, body) = get_json(&url, &format!("/v1/transactions/{}", tx_id(&old))).await;
    assert_eq!(body["status"].as_str(), Some("pending"), "{body}");
    let (_, body) = get_json(&url, &format!("/v1/transactions/{}", tx_id(&new))).await;
    assert_eq!(body["status"].as_str(), Some("unknown"), "{body}");

    // The next write must not delete the old one's row (the failed one
    // had it among its removals).
    let other = signed(&bob, 0, 100);
    assert_eq!(post_raw(&url, other.clone()).await.0, 202);
    let rows: Vec<Vec<u8>> = store.rows().unwrap().into_iter().map(|r| r.bytes).collect();
    assert_eq!(rows, vec![old.clone(), other.clone()]);
    drop(store);
    relay.shutdown().await;

    // And a restart brings it back.
    let relay = relay_with(&world, held).await;
    wait_for("restoration", || relay.relay().pool().stats().txs == 2).await;
    let (_, body) = get_json(&base(&relay), &format!("/v1/transactions/{}", tx_id(&old))).await;
    assert_eq!(body["status"].as_str(), Some("pending"), "{body}");
    relay.shutdown().await;
}

/// Submits `txs` all at once (each in its own task) and returns the HTTP-less
/// admission results in the same order.
async fn submit_all(relay: &athena_relay::RelayHandle, txs: &[Vec<u8>]) -> Vec<Result<(), String>> {
    let tasks: Vec<_> = txs
        .iter()
        .map(|tx| {
            let (relay, tx) = (relay.relay().clone(), tx.clone());
            tokio::spawn(async move { relay.submit(tx).await.map(|_| ()).map_err(|e| e.code().to_owned()) })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test]
async fn concurrent_submissions_are_all_recorded_and_a_failed_group_is_all_undone() {
    let keys: Vec<_> = (1..=60).map(key).collect();
    let world = held_world(&keys.iter().collect::<Vec<_>>());
    let dir = tempfile::tempdir().unwrap();
    let held = held_store(dir.path());
    let relay = relay_with(&world, held).await;
    wait_for("the first sync", || relay.relay().hrp().is_some()).await;
    let olds: Vec<Vec<u8>> = keys.iter().map(|k| signed(k, 0, 100)).collect();
    assert!(submit_all(&relay, &olds).await.iter().all(Result::is_ok));
    let store = relay.relay().store().unwrap().clone();

    // Every replacement of a failed group is refused and undone.
    store.fail_writes(true);
    let news: Vec<Vec<u8>> = keys.iter().map(|k| signed(k, 0, 200)).collect();
    let results = submit_all(&relay, &news).await;
    assert!(results.iter().all(|r| r.as_ref().err().map(String::as_str) == Some("storage_unavailable")), "{results:?}");
    store.fail_writes(false);
    let pool = relay.relay().pool().clone();
    assert_eq!(pool.stats().txs, keys.len());
    assert!(olds.iter().all(|tx| pool.contains(&athena_transaction::decode(tx).unwrap().id())));

    // A second concurrent round (their successors) goes through, and the
    // old ones' rows stay.
    let nexts: Vec<Vec<u8>> = keys.iter().map(|k| signed(k, 1, 100)).collect();
    let commits = store.commits();
    assert!(submit_all(&relay, &nexts).await.iter().all(Result::is_ok));
    // Submissions that arrived while a commit was in flight shared the
    // next one (one commit each without grouping).
    let used = store.commits() - commits;
    assert!(used < keys.len() as u64, "{used} commits for {} concurrent submissions", keys.len());
    drop(store);
    relay.shutdown().await;
    let (_, rows) = athena_relay::store::PoolStore::open(dir.path()).unwrap();
    let mut recorded: Vec<Vec<u8>> = rows.into_iter().map(|r| r.bytes).collect();
    let mut expected: Vec<Vec<u8>> = olds.into_iter().chain(nexts).collect();
    recorded.sort();
    expected.sort();
    assert_eq!(recorded, expected);
}

/// Submits `tx` in its own task and returns it once the group write that
/// carries it is waiting (the store's writes held by the caller).
async fn submit_held(relay: &athena_relay::RelayHandle, tx: &[u8]) -> tokio::task::JoinHandle<Result<(), String>> {
    let task = submit_task(relay, tx);
    relay.relay().store().unwrap().held_write().await;
    task
}

/// Submits `tx` in its own task, answering its error code.
fn submit_task(relay: &athena_relay::RelayHandle, tx: &[u8]) -> tokio::task::JoinHandle<Result<(), String>> {
    let (r, tx) = (relay.relay().clone(), tx.to_vec());
    tokio::spawn(async move { r.submit(tx).await.map(|_| ()).map_err(|e| e.code().to_owned()) })
}

#[tokio::test]
async fn a_transaction_is_not_bundled_or_reported_pending_before_its_write_commits() {
    let (alice, bob) = (key(1), key(2));
    let world = held_world(&[&alice, &bob]);
    world.lock().unwrap().sequencer_down = false;
    let dir = tempfile::tempdir().unwrap();
    let relay = relay_with(&world, held_store(dir.path())).await;
    wait_for("the first sync", || relay.relay().hrp().is_some()).await;
    let (url, r) = (base(&relay), relay.relay().clone());
    let store = r.store().unwrap().clone();
    let id = |tx: &[u8]| athena_transaction::decode(tx).unwrap().id();

    // A fresh admission whose write is in flight: not bundled, not
    // pending; its write fails: it is gone, and nothing went out.
    let a0 = signed(&alice, 0, 100);
    let held = store.hold_writes();
    let task = submit_held(&relay, &a0).await;
    assert_eq!(r.bundle_once().await.unwrap(), 0);
    let (_, body) = get_json(&url, &format!("/v1/transactions/{}", tx_id(&a0))).await;
    assert_eq!(body["status"].as_str(), Some("unknown"), "{body}");
    store.fail_writes(true);
    drop(held);
    assert_eq!(task.await.unwrap(), Err("storage_unavailable".to_owned()));
    store.fail_writes(false);
    assert!(!r.pool().contains(&id(&a0)));
    assert_eq!(r.bundle_once().await.unwrap(), 0);
    assert!(received_txs(&world).is_empty());

    // A replacement of a recorded transaction, in flight: neither goes
    // out; its write fails: the recorded one is back and is what goes out.
    assert_eq!(r.submit(a0.clone()).await.map_err(|e| e.to_string()), Ok(id(&a0)));
    let held = store.hold_writes();
    let task = submit_held(&relay, &signed(&alice, 0, 200)).await;
    assert_eq!(r.bundle_once().await.unwrap(), 0);
    store.fail_writes(true);
    drop(held);
    assert_eq!(task.await.unwrap(), Err("storage_unavailable".to_owned()));
    store.fail_writes(false);
    assert_eq!(r.bundle_once().await.unwrap(), 1);
    assert_eq!(received_txs(&world), vec![a0.clone()]);

    // An admission whose write succeeds is bundled only after it.
    let b0 = signed(&bob, 0, 100);
    let held = store.hold_writes();
    let task = submit_held(&relay, &b0).await;
    assert_eq!(r.bundle_once().await.unwrap(), 0);
    drop(held);
    assert_eq!(task.await.unwrap(), Ok(()));
    let (_, body) = get_json(&url, &format!("/v1/transactions/{}", tx_id(&b0))).await;
    assert_eq!(body["status"].as_str(), Some("pending"), "{body}");
    assert_eq!(r.bundle_once().await.unwrap(), 1);
    assert_eq!(received_txs(&world), vec![a0, b0]);
    drop(store);
    relay.shutdown().await;
}

#[tokio::test]
async fn a_resubmission_while_the_first_write_is_in_flight_shares_its_fate() {
    let (alice, bob, carol) = (key(1), key(2), key(3));
    let world = held_world(&[&alice, &bob, &carol]);
    world.lock().unwrap().sequencer_down = false;
    let dir = tempfile::tempdir().unwrap();
    let relay = relay_with(&world, held_store(dir.path())).await;
    wait_for("the first sync", || relay.relay().hrp().is_some()).await;
    let r = relay.relay().clone();
    let store = r.store().unwrap().clone();
    let id = |tx: &[u8]| athena_transaction::decode(tx).unwrap().id();
    let code = |e: athena_relay::AdmitError| e.code().to_owned();

    // The first write fails: the resubmission, queued behind it, is not
    // told "duplicate" (nothing was accepted) but admitted by its own write.
    let a0 = signed(&alice, 0, 100);
    let held = store.hold_writes();
    let first = submit_held(&relay, &a0).await;
    let again = submit_task(&relay, &a0);
    wait_for("the resubmission to queue behind the write", || r.queued() == 1).await;
    store.fail_next_writes(1);
    drop(held);
    assert_eq!(first.await.unwrap(), Err("storage_unavailable".to_owned()));
    assert_eq!(again.await.unwrap(), Ok(()));
    assert!(r.pool().contains_recorded(&id(&a0)));
    // Recorded, a copy is a duplicate at once.
    assert_eq!(r.submit(a0.clone()).await.map_err(code), Err("duplicate".to_owned()));

    // Two copies in one group write: both refused if it fails...
    let (b0, c0) = (signed(&bob, 0, 100), signed(&carol, 0, 100));
    let held = store.hold_writes();
    let first = submit_held(&relay, &b0).await;
    let twins = [submit_task(&relay, &c0), submit_task(&relay, &c0)];
    wait_for("both copies to queue", || r.queued() == 2).await;
    store.fail_writes(true);
    drop(held);
    assert_eq!(first.await.unwrap(), Err("storage_unavailable".to_owned()));
    for twin in twins {
        assert_eq!(twin.await.unwrap(), Err("storage_unavailable".to_owned()));
    }
    store.fail_writes(false);
    assert!(!r.pool().contains(&id(&c0)));

    // ...and one admitted, the other a duplicate, if it commits.
    let held = store.hold_writes();
    let first = submit_held(&relay, &b0).await;
    let twins = [submit_task(&relay, &c0), submit_task(&relay, &c0)];
    wait_for("both copies to queue", || r.queued() == 2).await;
    drop(held);
    assert_eq!(first.await.unwrap(), Ok(()));
    let mut answers = Vec::new();
    for twin in twins {
        answers.push(twin.await.unwrap());
    }
    answers.sort();
    assert_eq!(answers, vec![Ok(()), Err("duplicate".to_owned())]);
    assert!(r.pool().contains_recorded(&id(&c0)));
    assert_eq!(r.bundle_once().await.unwrap(), 3);
    drop(store);
    relay.shutdown().await;
}

#[tokio::test]
async fn the_account_view_counts_recorded_pending_transactions_for_the_next_nonce() {
    let (alice, stranger) = (key(1), key(9));
    let world = held_world(&[&alice]);
    world.lock().unwrap().accounts.get_mut(&address_of(&alice)).unwrap().nonce = 3;
    let dir = tempfile::tempdir().unwrap();
    let relay = relay_with(&world, held_store(dir.path())).await;
    wait_for("the first sync", || relay.relay().hrp().is_some()).await;
    let (url, r) = (base(&relay), relay.relay().clone());
    let store = r.store().unwrap().clone();
    let path =
        |k: &ed25519_dalek::SigningKey| format!("/v1/relay/accounts/{}", network().encode_address(&address_of(k)));
    let view = |body: &serde_json::Value| {
        let numbers = ["nonce", "next_nonce", "pending"].map(|f| body[f].as_u64().unwrap_or(u64::MAX));
        let nonces: Vec<u64> =
            body["transactions"].as_array().unwrap().iter().map(|t| t["nonce"].as_u64().unwrap()).collect();
        (numbers, nonces)
    };

    // Nothing pending: the committed state.
    let (status, body) = get_json(&url, &path(&alice)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(view(&body), ([3, 3, 0], vec![]));
    assert_eq!(body["balance"].as_u64(), Some(10_000_000));

    // Two pending (submitted out of fee order): next is 5, listed by nonce.
    let (a3, a4) = (signed(&alice, 3, 100), signed(&alice, 4, 300));
    r.submit(a3.clone()).await.unwrap();
    r.submit(a4.clone()).await.unwrap();
    let (_, body) = get_json(&url, &path(&alice)).await;
    assert_eq!(view(&body), ([3, 5, 2], vec![3, 4]));
    assert_eq!(body["transactions"][0]["id"].as_str(), Some(tx_id(&a3).as_str()));
    assert_eq!(body["transactions"][1]["gas_price"].as_u64(), Some(300));

    // One whose write is in flight is not counted until it commits.
    let held = store.hold_writes();
    let task = submit_held(&relay, &signed(&alice, 5, 100)).await;
    let (_, body) = get_json(&url, &path(&alice)).await;
    assert_eq!(view(&body), ([3, 5, 2], vec![3, 4]));
    drop(held);
    assert_eq!(task.await.unwrap(), Ok(()));
    let (_, body) = get_json(&url, &path(&alice)).await;
    assert_eq!(view(&body), ([3, 6, 3], vec![3, 4, 5]));

    // An account the executor does not know: nonce 0, nothing pending.
    let (status, body) = get_json(&url, &path(&stranger)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(view(&body), ([0, 0, 0], vec![]));

    // Not an address of this network.
    let elsewhere = athena_transaction::Network::new("amain", athena_interface::Bytes32([1; 32])).unwrap();
    for bad in ["nope".to_owned(), elsewhere.encode_address(&address_of(&alice))] {
        let (status, body) = get_json(&url, &format!("/v1/relay/accounts/{bad}")).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("bad_address")), "{bad}: {body}");
    }
    drop(store);
    relay.shutdown().await;
}

//! The `athena-relay` binary as a process: announces its address on stdout,
//! serves, stops cleanly on SIGTERM (even one sent the moment it announces
//! itself), and loses no accepted transaction when
//! killed (SIGKILL) at any point after its 202.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use athena_relay::store::PoolStore;
use common::*;

/// Start the relay binary on `dir`, bundling every `bundle_interval`;
/// returns the child and its URL.
fn spawn_relay(executor: &str, sequencer: &str, dir: &Path, bundle_interval: &str) -> (Child, String) {
    let address = network().encode_address(&relay_address());
    let mut child = Command::new(env!("CARGO_BIN_EXE_athena-relay"))
        .args(["--listen", "127.0.0.1:0", "--executor", executor, "--sequencer", sequencer])
        .args(["--address", &address, "--poll", "20ms", "--bundle-interval", bundle_interval])
        .arg("--data-dir")
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("listening ").expect("a listening line").to_owned();
    (child, url)
}

/// Send `signal` to this child only (by its pid) and wait for its exit.
async fn signal(mut child: Child, signal: &str) -> std::process::ExitStatus {
    let status = Command::new("kill").args([signal, &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    tokio::task::spawn_blocking(move || child.wait().unwrap()).await.unwrap()
}

/// The transactions recorded in `dir` (the relay must be stopped).
fn recorded(dir: &Path) -> Vec<Vec<u8>> {
    PoolStore::open(dir).unwrap().1.into_iter().map(|r| r.bytes).collect()
}

async fn pending(url: &str) -> Option<u64> {
    get_json(url, "/v1/relay").await.1["pending"].as_u64()
}

async fn status_of(url: &str, tx: &[u8]) -> String {
    let (_, body) = get_json(url, &format!("/v1/transactions/{}", tx_id(tx))).await;
    body["status"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn relay_process_serves_and_stops_cleanly_on_sigterm() {
    let alice = key(1);
    let world = held_world(&[&alice]);
    let (executor, sequencer) = fakes(world.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let (child, url) = spawn_relay(&executor, &sequencer, dir.path(), "50ms");

    let tx = signed(&alice, 0, 2);
    let (s, body) = post_raw(&url, tx.clone()).await;
    assert_eq!(s, 202, "{body}");
    let (s, body) = get_json(&url, "/v1/relay").await;
    let address = network().encode_address(&relay_address());
    assert_eq!((s, body["pending"].as_u64(), body["address"].as_str()), (200, Some(1), Some(address.as_str())));

    let exit = signal(child, "-TERM").await;
    assert!(exit.success(), "{exit:?}");
    assert_eq!(recorded(dir.path()), vec![tx]);
}

/// SIGTERM sent the moment `listening` is printed stops the relay
/// gracefully (exit 0) every time: the signals are watched before the line
/// is printed, not only once the relay gets round to waiting for them.
#[tokio::test]
async fn sigterm_right_after_listening_is_a_clean_stop() {
    let world = held_world(&[]);
    let (executor, sequencer) = fakes(world).await;
    for round in 0..15 {
        let dir = tempfile::tempdir().unwrap();
        let (child, _url) = spawn_relay(&executor, &sequencer, dir.path(), "50ms");
        let exit = signal(child, "-TERM").await;
        assert!(exit.success(), "round {round}: {exit:?}");
    }
}

#[tokio::test]
async fn accepted_transactions_survive_sigkill_in_arrival_order() {
    let (alice, bob) = (key(1), key(2));
    let world = held_world(&[&alice, &bob]);
    let (executor, sequencer) = fakes(world.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    // No bundle round (where older relays saved their pool) after the first.
    let (child, url) = spawn_relay(&executor, &sequencer, dir.path(), "60m");

    // A chain (only restorable in arrival order) and a replaced transaction.
    let chain = [signed(&alice, 0, 3), signed(&alice, 1, 3), signed(&alice, 2, 3)];
    let (cheap, dear) = (signed(&bob, 0, 2), signed(&bob, 0, 9));
    for tx in chain.iter().chain([&cheap, &dear]) {
        let (s, body) = post_raw(&url, tx.clone()).await;
        assert_eq!(s, 202, "{body}");
    }
    // Killed right after the 202s: no chance to save anything.
    let exit = signal(child, "-KILL").await;
    assert!(!exit.success());

    let (child, url) = spawn_relay(&executor, &sequencer, dir.path(), "50ms");
    for _ in 0..500 {
        if pending(&url).await == Some(4) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(pending(&url).await, Some(4));
    for tx in chain.iter().chain([&dear]) {
        assert_eq!(status_of(&url, tx).await, "pending");
    }
    assert_ne!(status_of(&url, &cheap).await, "pending");
    // Killed again mid-life: the record is the same, in arrival order.
    signal(child, "-KILL").await;
    let mut expected = chain.to_vec();
    expected.push(dear);
    assert_eq!(recorded(dir.path()), expected);
}

#[tokio::test]
async fn included_transactions_are_not_resurrected_after_sigkill() {
    let world = Shared::default();
    let alice = key(1);
    world.lock().unwrap().fund(&alice, 10_000_000);
    let (executor, sequencer) = fakes(world.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let (child, url) = spawn_relay(&executor, &sequencer, dir.path(), "50ms");

    let tx = signed(&alice, 0, 3);
    assert_eq!(post_raw(&url, tx.clone()).await.0, 202);
    wait_for("a bundle", || !world.lock().unwrap().queue.is_empty()).await;
    world.lock().unwrap().produce_block();
    for _ in 0..500 {
        if pending(&url).await == Some(0) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(pending(&url).await, Some(0));
    signal(child, "-KILL").await;

    let (child, url) = spawn_relay(&executor, &sequencer, dir.path(), "50ms");
    // Whether or not its deletion was committed before the kill, it is not
    // pending again (a leftover record is refused on restoration).
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(pending(&url).await, Some(0));
    assert_eq!(status_of(&url, &tx).await, "included");
    assert!(signal(child, "-TERM").await.success());
    assert!(recorded(dir.path()).is_empty());
    assert_eq!(received_txs(&world), vec![tx]);
}

//! The `athena-relay` binary as a process: announces its address on stdout,
//! serves, and on SIGTERM saves its pool and exits 0.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::*;

#[tokio::test]
async fn relay_process_serves_and_stops_cleanly_on_sigterm() {
    let world = Shared::default();
    let alice = key(1);
    {
        let mut w = world.lock().unwrap();
        w.fund(&alice, 10_000_000);
        w.sequencer_down = true;
    }
    let (executor, sequencer) = fakes(world.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let address = network().encode_address(&relay_address());
    let mut child = Command::new(env!("CARGO_BIN_EXE_athena-relay"))
        .args(["--listen", "127.0.0.1:0", "--executor", &executor, "--sequencer", &sequencer])
        .args(["--address", &address, "--poll", "20ms", "--bundle-interval", "50ms"])
        .arg("--data-dir")
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("listening ").expect("a listening line").to_owned();

    let tx = signed(&alice, 0, 2);
    let (s, body) = post_raw(&url, tx.clone()).await;
    assert_eq!(s, 202, "{body}");
    let (s, body) = get_json(&url, "/v1/relay").await;
    assert_eq!((s, body["pending"].as_u64(), body["address"].as_str()), (200, Some(1), Some(address.as_str())));

    // SIGTERM this child only (by its pid).
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || child.wait().unwrap()).await.unwrap();
    assert!(exit.success(), "{exit:?}");
    let saved = std::fs::read(dir.path().join(athena_relay::service::SNAPSHOT_FILE)).unwrap();
    assert_eq!(<Vec<Vec<u8>> as parity_scale_codec::Decode>::decode(&mut &saved[..]).unwrap(), vec![tx]);
}

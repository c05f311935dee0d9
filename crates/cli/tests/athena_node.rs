//! `athena node`: the node processes (relay included) are reachable from the main command.
//! A sequencer starts, announces its address on stdout, answers over HTTP,
//! produces a block and stops cleanly (exit 0) on SIGTERM (and refuses to
//! start without an authorized executor key); a bad genesis
//! makes an executor fail with a clear message (exit 1). The node behaviour
//! itself is tested in `crates/node`.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A fresh directory under the system temp dir, removed when the returned
/// guard is dropped (also when the test fails).
fn scratch(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new().prefix(&format!("athena-node-cli-{name}-")).tempdir().expect("scratch dir")
}

/// A plain HTTP/1.1 request over a fresh connection; returns the raw answer.
fn http(addr: &str, method: &str, path: &str, body: &[u8]) -> String {
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(body).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

#[test]
fn sequencer_runs_serves_and_stops_on_sigterm() {
    let scratch = scratch("seq");
    let dir = scratch.path();
    // Without an authorized executor key the sequencer refuses to start.
    let refused = Command::new(env!("CARGO_BIN_EXE_athena"))
        .args(["node", "sequencer", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .output()
        .expect("spawn athena");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no authorized executor key"), "{stderr}");
    // Nor with a keys file that does not parse (the line is named).
    std::fs::create_dir_all(dir).unwrap();
    let keys = dir.join("executor-keys");
    std::fs::write(&keys, "# keys\nnot-a-key from=3\n").unwrap();
    let refused = Command::new(env!("CARGO_BIN_EXE_athena"))
        .args(["node", "sequencer", "--listen", "127.0.0.1:0", "--executor-keys"])
        .arg(&keys)
        .arg("--data-dir")
        .arg(dir)
        .output()
        .expect("spawn athena");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("line 2"), "{stderr}");

    let executor_key = hex::encode(athena_wallet::Key::from_seed([1; 32]).public_bytes());
    let mut child = Command::new(env!("CARGO_BIN_EXE_athena"))
        .args(["node", "sequencer", "--listen", "127.0.0.1:0", "--block-interval", "50ms", "--executor-key"])
        .arg(&executor_key)
        .arg("--data-dir")
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn athena");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().strip_prefix("listening http://").unwrap_or_else(|| panic!("{line:?}")).to_owned();

    assert!(http(&addr, "GET", "/v1/status", b"").contains("\"role\":\"sequencer\""));
    // SCALE(Bundle { relay: [1; 24], txs: [[7]] }).
    let mut bundle = vec![1u8; 24];
    bundle.extend_from_slice(&[4, 4, 7]);
    assert!(http(&addr, "POST", "/v1/bundles", &bundle).starts_with("HTTP/1.1 202"));
    let start = Instant::now();
    while !http(&addr, "GET", "/v1/blocks/latest", b"").contains("\"height\":1") {
        assert!(start.elapsed() < Duration::from_secs(30), "no block produced");
        std::thread::sleep(Duration::from_millis(20));
    }

    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("block 1: 1 bundles, 1 txs"), "{stderr}");
    assert!(dir.join("sequencer.redb").is_file());
}

#[test]
fn executor_with_a_bad_genesis_fails_clearly() {
    let scratch = scratch("exe");
    let dir = scratch.path();
    std::fs::write(dir.join("genesis.json"), r#"{"network":"atest","accounts":{"nope":1}}"#).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_athena"))
        .args(["node", "executor", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.join("data"))
        .arg("--genesis")
        .arg(dir.join("genesis.json"))
        .output()
        .expect("spawn athena");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("invalid genesis: account \"nope\""), "{stderr}");
}

#[test]
fn the_relay_is_a_node_process_too() {
    let out = Command::new(env!("CARGO_BIN_EXE_athena"))
        .args(["node", "relay", "--listen", "127.0.0.1:0", "--address", "atest1nope"])
        .output()
        .expect("spawn athena");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("--address \"atest1nope\""), "{stderr}");
    let help = Command::new(env!("CARGO_BIN_EXE_athena")).args(["node", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for process in ["sequencer", "executor", "shadow", "relay"] {
        assert!(help.contains(process), "{help}");
    }
}

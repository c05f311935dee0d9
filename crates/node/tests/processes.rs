//! Real node processes (`athena-node`, the same code as `athena node`):
//! an executor killed with SIGKILL again and again mid-run, or stopped by a
//! full disk, resumes with the same roots and receipts as an uninterrupted
//! one; SIGTERM the moment a node announces itself stops it cleanly; a
//! shadow executor names the block and transaction of an injected fault;
//! and `athena-node compact` shrinks a stopped pruning executor's file without changing its
//! answers, refusing a missing directory and a running executor.

mod common;

use athena_node::auth::ResultPolicy;
use athena_node::base_layer::{BaseLayer, HttpBaseLayer};
use athena_node::chain::Chain;
use athena_node::cli::EXIT_DIVERGED;
use athena_node::types::Bundle;
use common::*;
use rand::{Rng, SeedableRng};
use std::path::Path;
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(90);

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The executors' key (one fixed seed): the sequencer and the shadow
/// authorize its public key, every executor of a test signs with it.
fn executor_key() -> athena_wallet::Key {
    athena_wallet::Key::from_seed([0x42; 32])
}

fn executor_public() -> String {
    hex::encode(executor_key().public_bytes())
}

fn sequencer(dir: &Path, interval: &str) -> Process {
    let public = executor_public();
    Process::spawn(&[
        "sequencer",
        "--data-dir",
        path(dir),
        "--listen",
        "127.0.0.1:0",
        "--block-interval",
        interval,
        "--executor-key",
        &public,
    ])
}

/// The arguments of an executor on `dir` signing with [`executor_key`]
/// (saved beside `dir`), polling every 10 ms, plus `extra`.
fn executor_args(dir: &Path, genesis: &Path, sequencer: &str, extra: &[&str]) -> Vec<String> {
    let key = dir.with_extension("key.json");
    match executor_key().save(&key, false) {
        Ok(()) | Err(athena_wallet::KeyError::Exists(_)) => {}
        Err(e) => panic!("{e}"),
    }
    let mut args = vec![
        "executor",
        "--key",
        path(&key),
        "--data-dir",
        path(dir),
        "--listen",
        "127.0.0.1:0",
        "--sequencer",
        sequencer,
        "--genesis",
        path(genesis),
        "--poll",
        "10ms",
    ];
    args.extend_from_slice(extra);
    args.into_iter().map(str::to_owned).collect()
}

fn executor(dir: &Path, genesis: &Path, sequencer: &str, extra: &[&str]) -> Process {
    Process::spawn(&executor_args(dir, genesis, sequencer, extra))
}

fn results(url: &str, to: u64) -> Vec<serde_json::Value> {
    (0..=to).map(|h| get_json(&format!("{url}/v1/blocks/{h}/result")).1).collect()
}

fn receipts(url: &str, to: u64) -> Vec<serde_json::Value> {
    (0..=to).map(|h| get_json(&format!("{url}/v1/blocks/{h}/receipts")).1).collect()
}

/// The workload of the resume tests: the 4 genesis wallets spawn, then
/// spend to each other and bump the counter, one bundle at a time so they
/// spread over many blocks; some bundles repeat a transaction (a duplicate
/// to skip). 4 + 90 transactions get receipts.
fn workload(network: &athena_transaction::Network) -> Vec<Bundle> {
    let mut wallets: Vec<Wallet> = (1..=4).map(Wallet::new).collect();
    let mut bundles: Vec<Bundle> = vec![bundle(wallets.iter_mut().map(|w| w.spawn_tx(network)).collect())];
    for round in 0..45u64 {
        let to = wallets[(round as usize + 1) % 4].address;
        let w = &mut wallets[round as usize % 4];
        let spend = w.spend_tx(network, to, 1_000 + round);
        let mut txs = vec![spend.clone(), w.increment_tx(network, counter_address(), round + 1)];
        if round % 5 == 0 {
            txs.push(spend);
        }
        bundles.push(bundle(txs));
    }
    bundles
}

/// Submits `bundles` to the sequencer at `url` in the background, 25 ms
/// apart.
fn feed(url: &str, bundles: Vec<Bundle>) -> std::thread::JoinHandle<()> {
    let url = url.to_owned();
    std::thread::spawn(move || {
        let base = HttpBaseLayer::new(&url);
        for bundle in bundles {
            base.submit_bundle(bundle).unwrap();
            std::thread::sleep(Duration::from_millis(25));
        }
    })
}

/// Runs `executor` to the sequencer's last block once every bundle is
/// ordered, and checks it has the reference's results and receipts at every
/// height (every transaction once); returns the last height.
fn assert_same_chain(seq: &Process, reference: &Process, executor: &Process) -> u64 {
    wait_until("the last bundle to be ordered", TIMEOUT, || {
        get_json(&format!("{}/v1/status", seq.url)).1["queued"] == 0
    });
    let last = HttpBaseLayer::new(&seq.url).latest_height().unwrap();
    for url in [&reference.url, &executor.url] {
        wait_until("the executors to reach the last block", TIMEOUT, || height_of(url) == Some(last));
    }
    assert_eq!(results(&executor.url, last), results(&reference.url, last), "roots and input hashes at every height");
    assert_eq!(receipts(&executor.url, last), receipts(&reference.url, last), "receipts at every height");
    let total: usize = receipts(&executor.url, last).iter().map(|r| r.as_array().unwrap().len()).sum();
    assert_eq!(total, 4 + 90, "every transaction once, duplicates skipped");
    last
}

#[test]
fn an_executor_killed_mid_run_resumes_with_identical_roots() {
    let dir = tempfile::tempdir().unwrap();
    let (genesis_path, genesis) = write_genesis(&dir.path().join("genesis"), 4);
    let network = genesis.network.clone();
    let seq = sequencer(&dir.path().join("sequencer"), "20ms");
    let base = HttpBaseLayer::new(&seq.url);

    let bundles = workload(&network);

    let reference = executor(&dir.path().join("reference"), &genesis_path, &seq.url, &[]);
    let crashy_dir = dir.path().join("crashy");
    let seed: u64 = std::env::var("ATHENA_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
    });
    eprintln!("crash schedule seed {seed} (ATHENA_CRASH_SEED to replay)");
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);

    // Feed the bundles in the background while the crashy executor is
    // started and SIGKILLed at random moments (during start-up, catch-up,
    // execution and commits alike).
    let feeder = feed(&seq.url, bundles);
    let mut kills = 0;
    let mut heights = Vec::new();
    let mut progressed = 0u64;
    while !feeder.is_finished() || kills < 10 {
        let crashy = executor(&crashy_dir, &genesis_path, &seq.url, &[]);
        if kills % 3 == 0 {
            // Some kills land during start-up (opening, repairing, genesis).
            std::thread::sleep(Duration::from_millis(rng.gen_range(0..30)));
        } else {
            // The rest once it is executing its backlog again.
            let start = Instant::now();
            while height_of(&crashy.url).is_none_or(|h| h <= progressed) && start.elapsed() < Duration::from_secs(5) {
                std::thread::sleep(Duration::from_millis(2));
            }
            std::thread::sleep(Duration::from_millis(rng.gen_range(0..40)));
        }
        let height = height_of(&crashy.url);
        progressed = progressed.max(height.unwrap_or(0));
        heights.push(height);
        crashy.kill();
        kills += 1;
        // Down long enough for a backlog of blocks to build up.
        std::thread::sleep(Duration::from_millis(rng.gen_range(20..150)));
    }
    feeder.join().unwrap();
    eprintln!("{kills} kills; heights seen before each kill: {heights:?}");

    // Let every bundle land, then run the crashy executor to the end.
    let crashy = executor(&crashy_dir, &genesis_path, &seq.url, &[]);
    let last = assert_same_chain(&seq, &reference, &crashy);

    // Every result the base layer carries is the reference's.
    for h in 0..=last {
        let published = base.result(h).unwrap().expect("published");
        let policy = ResultPolicy::keys([executor_key().verifying_key()]);
        assert_eq!(policy.check(&genesis.genesis_id, &published), Ok(()), "signed by the executor key");
        assert_eq!(
            serde_json::to_value(published.result).unwrap(),
            get_json(&format!("{}/v1/blocks/{h}/result", reference.url)).1
        );
    }
    crashy.kill();
    let chain = Chain::open(&crashy_dir, Some(&genesis)).unwrap();
    assert_eq!(chain.height().unwrap(), last);
    chain.store().snapshot().unwrap().audit().unwrap();
}

/// A write that fails (here: past the file-size cap, as on a full disk)
/// stops the executor with the I/O error and exit code 1, not a panic nor a
/// skipped block; once there is room again it resumes from its last commit
/// with the same roots and receipts as an executor that never stopped.
#[cfg(target_os = "linux")]
#[test]
fn an_executor_whose_disk_fills_up_stops_with_the_error_and_resumes_with_identical_roots() {
    let dir = tempfile::tempdir().unwrap();
    let (genesis_path, genesis) = write_genesis(&dir.path().join("genesis"), 4);
    let seq = sequencer(&dir.path().join("sequencer"), "20ms");
    let reference = executor(&dir.path().join("reference"), &genesis_path, &seq.url, &[]);

    // A first start commits the genesis state; then the database file may
    // grow by 128 KiB only: a few blocks commit, then one fails (the whole
    // workload grows the file by about 430 KiB).
    let full_dir = dir.path().join("full");
    let first = executor(&full_dir, &genesis_path, &seq.url, &[]);
    assert_eq!(first.terminate(TIMEOUT), Some(0));
    let cap = std::fs::metadata(full_dir.join("state.redb")).unwrap().len() + (128 << 10);
    let log = dir.path().join("full.log");
    let args = executor_args(&full_dir, &genesis_path, &seq.url, &[]);
    let capped = Process::spawn_with_file_limit(&args, cap, &log);
    let feeder = feed(&seq.url, workload(&genesis.network));
    let code = capped.wait_exit(TIMEOUT);
    let log = std::fs::read_to_string(&log).unwrap();
    assert_eq!(code, Some(1), "exit code once the file cannot grow; log:\n{log}");
    assert!(log.contains("File too large"), "the I/O error is reported:\n{log}");
    assert!(!log.contains("panicked"), "{log}");
    let stopped_at = Chain::open(&full_dir, Some(&genesis)).unwrap().height().unwrap();
    feeder.join().unwrap();

    let resumed = executor(&full_dir, &genesis_path, &seq.url, &[]);
    let last = assert_same_chain(&seq, &reference, &resumed);
    assert!(0 < stopped_at && stopped_at < last, "the cap stopped it at {stopped_at}, mid-run (last block {last})");
    eprintln!("stopped at height {stopped_at} with the file capped at {cap} bytes; resumed to {last}");
    drop(resumed);
    let chain = Chain::open(&full_dir, Some(&genesis)).unwrap();
    chain.store().snapshot().unwrap().audit().unwrap();
}

/// SIGTERM sent the moment `listening` is printed stops a sequencer or an
/// executor gracefully (exit 0) every time: the signals are watched before
/// the line is printed. (Registered afterwards, about one start in six
/// here was killed by the signal's default action instead.)
#[test]
fn sigterm_right_after_listening_is_a_clean_stop() {
    let dir = tempfile::tempdir().unwrap();
    let (genesis_path, _) = write_genesis(&dir.path().join("genesis"), 1);
    let seq = sequencer(&dir.path().join("sequencer"), "20ms");
    for round in 0..15 {
        let sequencer = sequencer(&dir.path().join(format!("sequencer-{round}")), "20ms");
        assert_eq!(sequencer.terminate(TIMEOUT), Some(0), "sequencer, round {round}");
        let executor = executor(&dir.path().join("executor"), &genesis_path, &seq.url, &[]);
        assert_eq!(executor.terminate(TIMEOUT), Some(0), "executor, round {round}");
    }
}

#[test]
fn a_shadow_executor_names_the_faulty_block_and_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let (genesis_path, genesis) = write_genesis(&dir.path().join("genesis"), 2);
    let network = genesis.network.clone();
    let seq = sequencer(&dir.path().join("sequencer"), "30ms");
    let base = HttpBaseLayer::new(&seq.url);
    let faulty = executor(&dir.path().join("faulty"), &genesis_path, &seq.url, &["--inject-fault", "3:1"]);
    let shadow_dir = dir.path().join("shadow");
    let shadow_args = |extra: &'static [&'static str]| {
        let mut args = vec![
            "shadow".to_owned(),
            "--data-dir".into(),
            path(&shadow_dir).into(),
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--sequencer".into(),
            seq.url.clone(),
            "--executor".into(),
            faulty.url.clone(),
            "--genesis".into(),
            path(&genesis_path).into(),
            "--poll".into(),
            "10ms".into(),
            "--executor-key".into(),
            executor_public(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };
    let spawn_shadow = |extra| {
        let args = shadow_args(extra);
        Process::spawn(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let shadow = spawn_shadow(&[]);

    // One bundle per block: heights 1, 2, 3 (the faulty one), 4.
    let (mut w1, mut w2) = (Wallet::new(1), Wallet::new(2));
    let blocks = vec![
        vec![w1.spawn_tx(&network), w2.spawn_tx(&network)],
        vec![w1.spend_tx(&network, w2.address, 10)],
        vec![w1.spend_tx(&network, w2.address, 20), w2.spend_tx(&network, w1.address, 30)],
        vec![w1.increment_tx(&network, counter_address(), 1)],
    ];
    let faulty_tx = hex::encode(blake3::hash(&blocks[2][1]).as_bytes());
    for (i, txs) in blocks.into_iter().enumerate() {
        base.submit_bundle(bundle(txs)).unwrap();
        wait_until("the block", TIMEOUT, || base.latest_height().unwrap() == i as u64 + 1);
    }

    let started = Instant::now();
    wait_until("the shadow to report the divergence", TIMEOUT, || {
        !get_json(&format!("{}/v1/shadow", shadow.url)).1["divergence"].is_null()
    });
    eprintln!("divergence reported after {:?}", started.elapsed());
    let (_, verdict) = get_json(&format!("{}/v1/shadow", shadow.url));
    assert_eq!(verdict["ok"], false, "{verdict}");
    assert_eq!(verdict["verified_height"], 2, "{verdict}");
    let divergence = &verdict["divergence"];
    assert_eq!(divergence["height"], 3, "{verdict}");
    assert_eq!(divergence["first_tx"]["index"], 1, "{verdict}");
    assert_eq!(divergence["first_tx"]["id"], faulty_tx, "{verdict}");
    assert_eq!(divergence["first_tx"]["reason"], "state changes differ", "{verdict}");
    assert_ne!(divergence["published"]["state_root"], divergence["own"]["state_root"]);
    // The shadow's own state is the honest one, and still served.
    assert_eq!(get_json(&format!("{}/v1/status", shadow.url)).1["height"], 3);
    shadow.kill();

    // Restarted with --exit-on-divergence it finds the same block again
    // (it re-checks its last block on start) and exits with code 2.
    let again = spawn_shadow(&["--exit-on-divergence"]);
    assert_eq!(again.wait_exit(TIMEOUT), Some(i32::from(EXIT_DIVERGED)));
}

/// Runs `athena-node compact --data-dir DIR` to the end: (exit code, stdout,
/// stderr).
fn compact(dir: &Path) -> (Option<i32>, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_athena-node"))
        .args(["compact", "--data-dir", path(dir)])
        .output()
        .expect("run athena-node compact");
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
    (output.status.code(), text(output.stdout), text(output.stderr))
}

#[test]
fn compact_refuses_a_directory_without_a_node_database_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let (code, stdout, stderr) = compact(&missing);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("no node database (state.redb)"), "{stderr}");
    assert_eq!(stdout, "");
    assert!(!missing.exists(), "compact created the directory");
    // An existing directory without the file: still nothing created.
    let (code, _, stderr) = compact(dir.path());
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("no node database (state.redb)"), "{stderr}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "compact created a file");
}

#[test]
fn compact_refuses_a_running_executor_and_shrinks_a_stopped_one_without_changing_it() {
    let dir = tempfile::tempdir().unwrap();
    let (genesis_path, genesis) = write_genesis(&dir.path().join("genesis"), 4);
    let network = genesis.network.clone();
    let seq = sequencer(&dir.path().join("sequencer"), "20ms");
    let base = HttpBaseLayer::new(&seq.url);
    let data = dir.path().join("executor");
    let keep = ["--keep-heights", "2"];
    let node = executor(&data, &genesis_path, &seq.url, &keep);

    // Many blocks changing balances, nonces and the counter, pruned as they go.
    let mut wallets: Vec<Wallet> = (1..=4).map(Wallet::new).collect();
    base.submit_bundle(bundle(wallets.iter_mut().map(|w| w.spawn_tx(&network)).collect())).unwrap();
    wait_until("the spawns", TIMEOUT, || base.latest_height().unwrap() >= 1);
    for round in 0..40u64 {
        let to = wallets[(round as usize + 1) % 4].address;
        let w = &mut wallets[round as usize % 4];
        let txs = vec![w.spend_tx(&network, to, 1_000 + round), w.increment_tx(&network, counter_address(), 1)];
        base.submit_bundle(bundle(txs)).unwrap();
        std::thread::sleep(Duration::from_millis(25));
    }
    let settle = |url: &str| {
        wait_until("every bundle ordered", TIMEOUT, || get_json(&format!("{}/v1/status", seq.url)).1["queued"] == 0);
        let last = base.latest_height().unwrap();
        wait_until("the executor to reach the last block", TIMEOUT, || height_of(url) == Some(last));
        last
    };
    settle(&node.url);

    // Running: refused with the in-use message, and the executor goes on.
    let (code, stdout, stderr) = compact(&data);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("the database is in use by another process (stop the executor first)"), "{stderr}");
    assert_eq!(stdout, "");
    let w = &mut wallets[0];
    base.submit_bundle(bundle(vec![w.increment_tx(&network, counter_address(), 1)])).unwrap();
    let last = settle(&node.url);
    let status = get_json(&format!("{}/v1/status", node.url)).1;
    let blocks = results(&node.url, last);
    let counter_text = network.encode_address(&counter_address());
    let counter = format!("/v1/accounts/{counter_text}/storage/{}", hex::encode(count_key()));
    let proof = get_json(&format!("{}{counter}", node.url));
    assert_eq!(proof.0, 200, "{proof:?}");
    assert_eq!(node.terminate(TIMEOUT), Some(0));

    // Stopped: compacted, smaller, and the restarted executor answers alike.
    let file = data.join(athena_node::chain::STATE_FILE);
    let before = std::fs::metadata(&file).unwrap().len();
    let (code, stdout, stderr) = compact(&data);
    assert_eq!(code, Some(0), "{stderr}");
    let after = std::fs::metadata(&file).unwrap().len();
    assert!(after < before, "the file did not shrink: {before} -> {after} bytes");
    assert!(stdout.contains(&format!("({before} bytes) -> ")), "{stdout}");
    assert!(stdout.contains(&format!("({after} bytes)")), "{stdout}");
    eprintln!("{stdout}");
    let node = executor(&data, &genesis_path, &seq.url, &keep);
    assert_eq!(get_json(&format!("{}/v1/status", node.url)).1, status);
    assert_eq!(results(&node.url, last), blocks, "roots and input hashes at every height");
    assert_eq!(get_json(&format!("{}{counter}", node.url)), proof, "the counter's value and proof at the last height");
}

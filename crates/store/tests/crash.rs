//! Crash safety for real: a child process (this test binary, re-invoked)
//! commits blocks of a deterministic workload in a loop and reports each
//! commit; the parent kills it with SIGKILL at random moments (during open,
//! between and inside commits), reopens the database and checks that it
//! holds exactly a prefix of the workload:
//!
//! * the last height is at least the last one the child reported committed
//!   (an acknowledged commit is durable) and at most one more (a commit in
//!   flight when killed may or may not have landed, never half of it);
//! * the contents equal a replay of blocks `0..=last`, and the recorded
//!   root equals the from-scratch root of that replay, the tree's own root
//!   and verifies proofs;
//! * the next run resumes at `last + 1`.
//!
//! The child also prunes (`Store::prune`) every few blocks, so kills land
//! inside prunes too: after recovery every height from the floor up must
//! still prove and verify, and heights below it must be refused.

mod common;

use athena_store::{root_of_contents, Store};
use common::{addr, block, merged, meta, normalized};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Env var carrying the database path to the child.
const CHILD_DB: &str = "ATHENA_STORE_CRASH_CHILD_DB";
/// Workload seed and block size shared by parent and child.
const SEED: u64 = 0xc4a5;
const SIZE: usize = 60;

/// The child: opens the store, resumes after the last committed block and
/// commits forever (until killed; bounded in case the parent is gone).
/// A no-op when run as an ordinary test.
#[test]
fn crash_child() {
    let Ok(path) = std::env::var(CHILD_DB) else { return };
    let store = Store::open(&path).expect("child: open");
    let mut height = store.last_committed().expect("child: last").map_or(0, |b| b.height + 1);
    let started = Instant::now();
    let mut out = std::io::stdout().lock();
    while started.elapsed() < Duration::from_secs(60) {
        store.commit_block(height, &block(SEED, height, SIZE), &meta(height)).expect("child: commit");
        writeln!(out, "committed {height}").and_then(|()| out.flush()).expect("child: report");
        if height % 4 == 3 {
            store.prune(height - 3).expect("child: prune");
        }
        height += 1;
    }
}

/// Runs the child until it has reported `min_commits` commits and then
/// `extra` more time has passed, kills it with SIGKILL, and returns the
/// highest height it reported.
fn run_and_kill(path: &std::path::Path, min_commits: usize, extra: Duration) -> Option<u64> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["crash_child", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_DB, path)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().unwrap();
    let (send, receive) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            // Not a prefix: libtest (one thread, --nocapture) prints
            // "test crash_child ... " before the child's first line, so
            // the first report shares that line.
            if let Some(height) = line.split_once("committed ").and_then(|(_, h)| h.parse::<u64>().ok()) {
                if send.send(height).is_err() {
                    break;
                }
            }
        }
    });
    let mut reported = None;
    for _ in 0..min_commits {
        match receive.recv_timeout(Duration::from_secs(60)) {
            Ok(height) => reported = Some(height),
            Err(e) => panic!("child made no progress: {e}"),
        }
    }
    std::thread::sleep(extra);
    child.kill().expect("kill child"); // SIGKILL
    child.wait().expect("reap child");
    reader.join().unwrap();
    // Everything the child printed before it died.
    reported.max(receive.try_iter().max())
}

/// Opens the database after a crash and checks it holds exactly blocks
/// `0..=last` of the workload. Returns `last`.
fn check_recovered(path: &std::path::Path, reported: Option<u64>, before: Option<u64>) -> Option<u64> {
    let store = Store::open(path).expect("reopen after crash");
    let last = store.last_committed().unwrap();
    let last_height = last.map(|b| b.height);
    // Durable: nothing acknowledged is lost. Atomic: at most the one commit
    // in flight is extra.
    assert!(last_height >= reported, "lost acknowledged commits: last {last_height:?}, reported {reported:?}");
    let bound = reported.or(before).map_or(0, |h| h + 1);
    assert!(last_height.is_none_or(|h| h <= bound), "last {last_height:?} beyond {bound}");
    let last = last?;

    let replay = normalized(merged((0..=last.height).map(|h| block(SEED, h, SIZE))));
    let snapshot = store.snapshot().unwrap();
    assert_eq!(snapshot.contents().unwrap(), replay, "state differs from replay at {}", last.height);
    assert_eq!(last.state_root, root_of_contents(&replay).unwrap());
    assert_eq!(snapshot.audit().unwrap(), last.state_root);
    assert_eq!(last.meta, meta(last.height));
    for height in [0, last.height / 2, last.height] {
        assert_eq!(store.block(height).unwrap().unwrap().meta, meta(height));
    }
    for i in [0, 3, 7] {
        let proof = store.prove_account(&addr(i), None).unwrap();
        assert!(proof.verify(&last.state_root, &addr(i)));
    }
    // Pruning (possibly interrupted): the floor never passes the last
    // height, everything from it up proves, everything below is refused.
    let floor = store.pruned_below().unwrap();
    assert!(floor <= last.height, "floor {floor} above last {}", last.height);
    eprintln!("recovered at {} with pruning floor {floor}", last.height);
    for height in floor..=last.height {
        let root = store.block(height).unwrap().unwrap().state_root;
        for i in [0, 3, 7, 30] {
            let proof = store.prove_account(&addr(i), Some(height)).unwrap();
            assert!(proof.verify(&root, &addr(i)), "account {i} at {height} (floor {floor})");
            let slot = store.prove_storage(&addr(i), &common::word(5), Some(height)).unwrap();
            assert!(slot.verify(&root, &addr(i), &common::word(5)), "slot of {i} at {height}");
        }
    }
    if let Some(below) = floor.checked_sub(1) {
        let refused = store.prove_account(&addr(0), Some(below)).unwrap_err();
        assert_eq!(refused, athena_store::StoreError::Pruned { height: below, floor });
    }
    Some(last.height)
}

#[test]
fn killed_writer_recovers_to_last_committed_block() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.redb");
    let seed = std::env::var("ATHENA_STORE_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64)
    });
    eprintln!("crash test seed {seed} (rerun with ATHENA_STORE_CRASH_SEED={seed})");
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut last = None;
    for round in 0..10 {
        // Round 0 kills during open or the first commit (of genesis); later
        // rounds after a random number of reported commits (0: possibly
        // during redb's repair on open) plus a random delay, which lands
        // between or inside later commits.
        let min_commits = if round == 0 { 0 } else { rng.gen_range(0..6) };
        let extra = Duration::from_micros(rng.gen_range(0..40_000));
        let reported = run_and_kill(&path, min_commits, extra);
        let recovered = check_recovered(&path, reported, last);
        assert!(recovered >= last, "round {round}: went back from {last:?} to {recovered:?}");
        eprintln!("round {round}: reported {reported:?}, recovered {recovered:?}");
        last = recovered;
    }
    assert!(last.is_some_and(|h| h >= 6), "too little progress: {last:?}");
}

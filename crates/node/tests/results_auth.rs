//! Authenticated results over HTTP: the sequencer refuses results that are
//! unsigned, signed by an unauthorized key or whose signature does not cover
//! them (before first-wins, so nobody can squat a height), serves accepted
//! ones with their signature, and a shadow treats a served result that does
//! not verify as an error, not as the executor's divergence.

mod common;

use athena_node::auth::{ResultPolicy, SignedResult};
use athena_node::base_layer::{BaseLayer, HttpBaseLayer};
use athena_node::chain::Chain;
use athena_node::exec::ExecConfig;
use athena_node::executor::{start_executor, ExecutorConfig};
use athena_node::executor_keys::{KeySource, LivePolicy};
use athena_node::follower::Role;
use athena_node::http::{NodeError, NodeEvent};
use athena_node::sequencer::{start_sequencer_with, SequencerConfig};
use athena_node::sequencer_limits::{SequencerLimits, SequencerRateLimits};
use athena_node::types::BlockResult;
use common::*;
use ed25519_dalek::SigningKey;
use std::sync::Arc;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(60);

fn executor_key() -> SigningKey {
    SigningKey::from_bytes(&[0x42; 32])
}

/// An in-memory sequencer on a free port, a block every 20 ms.
fn sequencer_config() -> SequencerConfig {
    SequencerConfig {
        data_dir: None,
        listen: "127.0.0.1:0".parse().unwrap(),
        block_interval: Duration::from_millis(20),
        empty_blocks: false,
        signals: false,
        limits: SequencerLimits::shared(SequencerRateLimits::default()),
    }
}

fn sequencer(policy: ResultPolicy) -> athena_node::http::NodeHandle {
    start_sequencer_with(sequencer_config(), policy).unwrap()
}

fn post_result(url: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
    post_bytes(&format!("{url}/v1/results"), body.to_string().as_bytes())
}

#[test]
fn the_sequencer_accepts_only_results_signed_by_an_authorized_executor() {
    let seq = sequencer(ResultPolicy::keys([executor_key().verifying_key()]));
    let url = seq.url();
    let (code, _) = post_bytes(&format!("{url}/v1/bundles"), &bundle(vec![vec![1, 2, 3]]).to_bytes());
    assert_eq!(code, 202);
    wait_until("block 1", TIMEOUT, || get_json(&format!("{url}/v1/blocks/latest")).1["height"] == 1);
    let block = athena_node::base_layer::HttpBaseLayer::new(&url);
    let one = athena_node::base_layer::BaseLayer::block(&block, 1).unwrap().unwrap();

    let genesis_id = [0x9c; 32];
    let genesis = BlockResult { height: 0, input_hash: genesis_id, state_root: [3; 32], receipts_root: [4; 32] };
    let result = BlockResult { height: 1, input_hash: one.hash(), state_root: [1; 32], receipts_root: [2; 32] };
    let intruder = SigningKey::from_bytes(&[0x66; 32]);
    let json = |signed: SignedResult| serde_json::to_value(signed).unwrap();
    let error = |(code, body): (u16, serde_json::Value)| (code, body["error"].as_str().unwrap_or("").to_owned());

    // Squatting the genesis height: refused.
    let squat = json(SignedResult::sign(&intruder, &genesis_id, genesis));
    assert_eq!(error(post_result(&url, &squat)), (403, "unknown_signer".into()));
    let (code, signed_genesis) = post_result(&url, &json(SignedResult::sign(&executor_key(), &genesis_id, genesis)));
    assert_eq!(code, 200, "{signed_genesis}");

    let unsigned = json(SignedResult::unsigned(result));
    assert_eq!(error(post_result(&url, &unsigned)), (401, "unsigned_result".into()));
    let foreign = json(SignedResult::sign(&intruder, &genesis_id, result));
    assert_eq!(error(post_result(&url, &foreign)), (403, "unknown_signer".into()));
    let mut tampered = json(SignedResult::sign(&executor_key(), &genesis_id, result));
    tampered["state_root"] = serde_json::Value::String(hex::encode([7u8; 32]));
    let (code, body) = post_result(&url, &tampered);
    assert_eq!((code, body["error"].as_str()), (401, Some("bad_signature")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("does not verify"), "{body}");
    let mut short = json(SignedResult::sign(&executor_key(), &genesis_id, result));
    short["signature"] = serde_json::Value::String("00".repeat(63));
    assert_eq!(error(post_result(&url, &short)), (400, "bad_result".into()));
    assert_eq!(get_json(&format!("{url}/v1/results/1")).0, 404, "nothing refused was stored");

    let valid = json(SignedResult::sign(&executor_key(), &genesis_id, result));
    assert_eq!(post_result(&url, &valid).0, 200);
    let (code, served) = get_json(&format!("{url}/v1/results/1"));
    assert_eq!((code, &served), (200, &valid), "served with signer and signature");
    assert_eq!(served["signer"], hex::encode(executor_key().verifying_key().to_bytes()));
}

#[test]
fn a_shadow_refuses_a_served_result_whose_signature_does_not_verify() {
    let dir = tempfile::tempdir().unwrap();
    let (_, genesis) = write_genesis(&dir.path().join("genesis"), 1);
    // A base layer that checks nothing serves a forged genesis result.
    let seq = sequencer(ResultPolicy::AcceptUnsigned);
    let own = BlockResult { height: 0, input_hash: genesis.genesis_id, state_root: [0; 32], receipts_root: [0; 32] };
    let forged = SignedResult::sign(&SigningKey::from_bytes(&[0x66; 32]), &genesis.genesis_id, own);
    assert_eq!(post_result(&seq.url(), &serde_json::to_value(forged).unwrap()).0, 200);

    let mut shadow = start_executor(ExecutorConfig {
        data_dir: Some(dir.path().join("shadow")),
        genesis: Some(genesis.clone()),
        listen: "127.0.0.1:0".parse().unwrap(),
        base: Arc::new(athena_node::base_layer::HttpBaseLayer::new(&seq.url())),
        role: Role::Shadow { executor: None },
        poll: Duration::from_millis(20),
        fault: None,
        signals: false,
        signer: None,
        results: ResultPolicy::keys([executor_key().verifying_key()]).into(),
        keep_heights: None,
    })
    .unwrap();
    assert!(matches!(shadow.handle.wait(), NodeEvent::WorkerDone));
    match shadow.handle.stop_worker() {
        Err(NodeError::Unauthenticated(e)) => assert_eq!(e.code(), "unknown_signer"),
        other => panic!("expected an unauthentic-result error, got {other:?}"),
    }
    let status = shadow.shadow.lock().unwrap().clone();
    assert!(status.divergence.is_none(), "not reported as the executor's divergence");
}

#[test]
fn a_changed_keys_file_rotates_the_executor_key_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let keys_path = dir.path().join("executor-keys");
    let (old, new) = (executor_key(), SigningKey::from_bytes(&[0x43; 32]));
    let hex_key = |k: &SigningKey| hex::encode(k.verifying_key().to_bytes());
    std::fs::write(&keys_path, format!("# the first executor\n{}\n", hex_key(&old))).unwrap();
    let source = athena_node::executor_keys::KeySource::new(vec![], Some(keys_path.clone())).unwrap();
    let seq = athena_node::sequencer::start_sequencer_with(sequencer_config(), source).unwrap();
    let url = seq.url();
    for height in 1..=2 {
        assert_eq!(post_bytes(&format!("{url}/v1/bundles"), &bundle(vec![vec![height]]).to_bytes()).0, 202);
        wait_until("the block", TIMEOUT, || get_json(&format!("{url}/v1/blocks/latest")).1["height"] == height);
    }
    let base = athena_node::base_layer::HttpBaseLayer::new(&url);
    let hash = |h| athena_node::base_layer::BaseLayer::block(&base, h).unwrap().unwrap().hash();
    let genesis_id = [0x9c; 32];
    let result = |height| BlockResult {
        height,
        input_hash: if height == 0 { genesis_id } else { hash(height) },
        state_root: [height as u8; 32],
        receipts_root: [2; 32],
    };
    let post = |key: &SigningKey, height| {
        let (code, body) =
            post_result(&url, &serde_json::to_value(SignedResult::sign(key, &genesis_id, result(height))).unwrap());
        (code, body["error"].as_str().unwrap_or("").to_owned())
    };

    assert_eq!(post(&old, 0).0, 200);
    assert_eq!(post(&new, 1), (403, "unknown_signer".into()), "not authorized yet");

    // Retire the old key after height 0, authorize the new one from 1.
    std::fs::write(&keys_path, format!("{} until=0\n{} from=1\n", hex_key(&old), hex_key(&new))).unwrap();
    wait_until("the new key to be accepted", TIMEOUT, || post(&new, 1).0 == 200);
    assert_eq!(post(&old, 2), (403, "signer_out_of_term".into()));
    // What the old key signed before stays served.
    assert_eq!(get_json(&format!("{url}/v1/results/0")).1["signer"], hex_key(&old));
    assert_eq!(post(&new, 2).0, 200);
}

/// A shadow started with a keys file follows it without a restart: it
/// verifies results signed by a key added after it started, keeps the keys
/// in force when the file goes bad, and refuses what a retired key signs
/// past its last height. The sequencer here checks nothing, so the shadow
/// alone decides; the test plays the executor, computing each result on its
/// own chain and signing it with the key it chooses.
#[test]
fn a_shadow_follows_a_changed_keys_file_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (_, genesis) = write_genesis(&dir.path().join("genesis"), 1);
    let keys_path = dir.path().join("executor-keys");
    let (old, new) = (executor_key(), SigningKey::from_bytes(&[0x43; 32]));
    let hex_key = |k: &SigningKey| hex::encode(k.verifying_key().to_bytes());
    std::fs::write(&keys_path, format!("{}\n", hex_key(&old))).unwrap();
    let seq = sequencer(ResultPolicy::AcceptUnsigned);
    let url = seq.url();
    let source = KeySource::new(vec![], Some(keys_path.clone())).unwrap();
    let mut shadow = start_executor(ExecutorConfig {
        data_dir: None,
        genesis: Some(genesis.clone()),
        listen: "127.0.0.1:0".parse().unwrap(),
        base: Arc::new(HttpBaseLayer::new(&url)),
        role: Role::Shadow { executor: None },
        poll: Duration::from_millis(20),
        fault: None,
        signals: false,
        signer: None,
        results: LivePolicy::from(source),
        keep_heights: None,
    })
    .unwrap();

    let executor = Chain::in_memory(&genesis).unwrap();
    let base = HttpBaseLayer::new(&url);
    let publish = |key: &SigningKey, height: u64| {
        if height > 0 {
            assert_eq!(post_bytes(&format!("{url}/v1/bundles"), &bundle(vec![vec![height as u8]]).to_bytes()).0, 202);
            wait_until("the block", TIMEOUT, || base.latest_height().unwrap() >= height);
            executor.apply(&base.block(height).unwrap().unwrap(), &ExecConfig::default()).unwrap();
        }
        let signed = SignedResult::sign(key, &genesis.genesis_id, executor.result(height).unwrap().unwrap());
        assert_eq!(post_result(&url, &serde_json::to_value(signed).unwrap()).0, 200);
    };
    let verified = |shadow: &athena_node::executor::Executor, height: u64| {
        wait_until(&format!("block {height} verified or the shadow stopped"), TIMEOUT, || {
            shadow.handle.worker_finished() || shadow.shadow.lock().unwrap().verified_height == Some(height)
        });
        assert_eq!(shadow.shadow.lock().unwrap().verified_height, Some(height), "the shadow stopped");
    };

    publish(&old, 0);
    verified(&shadow, 0);

    // Retire the old key after height 0, authorize the new one from 1.
    std::fs::write(&keys_path, format!("{} until=0\n{} from=1\n", hex_key(&old), hex_key(&new))).unwrap();
    publish(&new, 1);
    verified(&shadow, 1);

    // A bad file while running: logged, the keys in force stay.
    std::fs::write(&keys_path, "not a key\n").unwrap();
    publish(&new, 2);
    verified(&shadow, 2);

    // The retired key signs past its last height: refused as out of its
    // term (the kept keys, not none), an error rather than a divergence.
    publish(&old, 3);
    assert!(matches!(shadow.handle.wait(), NodeEvent::WorkerDone));
    match shadow.handle.stop_worker() {
        Err(NodeError::Unauthenticated(e)) => assert_eq!(e.code(), "signer_out_of_term"),
        other => panic!("expected a refused retired key, got {other:?}"),
    }
    let status = shadow.shadow.lock().unwrap().clone();
    assert_eq!((status.verified_height, status.divergence), (Some(2), None));
}

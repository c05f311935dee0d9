//! The HTTP APIs on loopback with real servers: a sequencer, an executor and
//! a shadow executor in this process, talking over TCP on ephemeral ports.

mod common;

use athena_interface::{Address, Bytes32};
use athena_node::api::{route_list, OPENAPI};
use athena_node::auth::{ResultPolicy, SignedResult};
use athena_node::base_layer::{BaseLayer, HttpBaseLayer};
use athena_node::executor::{start_executor, Executor, ExecutorConfig};
use athena_node::follower::Role;
use athena_node::genesis::LoadedGenesis;
use athena_node::receipts::merkle_root;
use athena_node::sequencer::{start_sequencer_with, SequencerConfig};
use athena_node::sequencer_limits::{SequencerLimits, SequencerRateLimits};
use athena_node::types::{hex32, Block, BlockResult, MAX_BUNDLE_BYTES};
use athena_runtime::Account;
use athena_store::encoding::encode_account;
use athena_store::{verify, LeafKey, StateProof, StateRoot};
use common::*;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(60);

/// The executor's key; the sequencer and the shadow authorize it.
fn executor_key() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[0x42; 32])
}

fn sequencer(dir: Option<&Path>) -> athena_node::http::NodeHandle {
    start_sequencer_with(
        SequencerConfig {
            data_dir: dir.map(Path::to_path_buf),
            listen: "127.0.0.1:0".parse().unwrap(),
            block_interval: Duration::from_millis(50),
            empty_blocks: false,
            signals: false,
            limits: SequencerLimits::shared(SequencerRateLimits::default()),
        },
        ResultPolicy::keys([executor_key().verifying_key()]),
    )
    .unwrap()
}

fn executor(dir: &Path, genesis: &LoadedGenesis, sequencer: &str, role: Role) -> Executor {
    executor_keeping(dir, genesis, sequencer, role, None)
}

/// An executor or shadow started with `keep_heights` (`--keep-heights`).
fn executor_keeping(
    dir: &Path,
    genesis: &LoadedGenesis,
    sequencer: &str,
    role: Role,
    keep_heights: Option<u64>,
) -> Executor {
    let signer = (role == Role::Executor).then(executor_key);
    start_executor(ExecutorConfig {
        data_dir: Some(dir.to_path_buf()),
        genesis: Some(genesis.clone()),
        listen: "127.0.0.1:0".parse().unwrap(),
        base: Arc::new(HttpBaseLayer::new(sequencer)),
        role,
        poll: Duration::from_millis(20),
        fault: None,
        signals: false,
        signer,
        results: ResultPolicy::keys([executor_key().verifying_key()]).into(),
        keep_heights,
    })
    .unwrap()
}

/// Sends only the headers of a POST declaring `length` body bytes and
/// returns the raw response.
fn declared_post(addr: std::net::SocketAddr, path: &str, length: usize) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(stream, "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

fn hex_bytes(value: &serde_json::Value) -> Vec<u8> {
    hex::decode(value.as_str().unwrap()).unwrap()
}

fn root(value: &serde_json::Value) -> StateRoot {
    StateRoot(hex32::parse(value.as_str().unwrap()).unwrap())
}

#[test]
fn executor_query_api_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let (_, genesis) = write_genesis(&dir.path().join("genesis"), 2);
    let network = genesis.network.clone();
    let seq = sequencer(None);
    let exe = executor(&dir.path().join("executor"), &genesis, &seq.url(), Role::Executor);
    let api = exe.handle.url();
    let shadow =
        executor(&dir.path().join("shadow"), &genesis, &seq.url(), Role::Shadow { executor: Some(api.clone()) });

    let (mut w1, mut w2) = (Wallet::new(1), Wallet::new(2));
    let counter = counter_address();
    let spawn = w1.spawn_tx(&network);
    // Dry run first: the relay's admission check.
    let (status, check) = post_bytes(&format!("{api}/v1/transactions/check"), &spawn);
    assert_eq!(status, 200, "{check}");
    assert_eq!((check["ok"].as_bool(), check["nonce"].as_u64()), (Some(true), Some(0)), "{check}");
    let (_, garbage) = post_bytes(&format!("{api}/v1/transactions/check"), b"garbage");
    assert_eq!(garbage["ok"], false);
    let (status, big) =
        post_bytes(&format!("{api}/v1/transactions/check"), &vec![1u8; athena_transaction::tx::MAX_TX_SIZE + 1]);
    assert_eq!((status, big["error"].as_str()), (413, Some("too_large")));
    // The estimate mode: a bad signature runs past verify, says so, and
    // costs what the signed one does (one ed25519 check either way);
    // nothing is committed (the real spawn below still uses nonce 0).
    assert_eq!(check.get("verify_accepted"), None, "only in the estimate mode: {check}");
    let unsigned = athena_transaction::decode(&spawn).unwrap().body.with_authenticator(vec![0; 64]).encode();
    let (_, refused) = post_bytes(&format!("{api}/v1/transactions/check"), &unsigned);
    assert_eq!((refused["status"].as_str(), refused["ok"].as_bool()), (Some("ineffective"), Some(false)), "{refused}");
    assert_eq!(refused["reason"], "verify rejected the authenticator");
    let estimate =
        |bytes: &[u8], flag: &str| post_bytes(&format!("{api}/v1/transactions/check?ignore_verify={flag}"), bytes);
    let (status, estimated) = estimate(&unsigned, "true");
    assert_eq!(status, 200, "{estimated}");
    assert_eq!(estimated["status"], "succeeded", "{estimated}");
    assert_eq!((estimated["ok"].as_bool(), estimated["verify_accepted"].as_bool()), (Some(false), Some(false)));
    assert_eq!(estimated["gas_used"], check["gas_used"], "{estimated} vs {check}");
    let (_, signed) = estimate(&spawn, "true");
    assert_eq!((signed["ok"].as_bool(), signed["verify_accepted"].as_bool()), (Some(true), Some(true)), "{signed}");
    assert_eq!(signed["gas_used"], check["gas_used"]);
    let (_, off) = estimate(&unsigned, "false");
    assert_eq!((off["status"].as_str(), off.get("verify_accepted")), (Some("ineffective"), None), "{off}");
    let (status, bad) = estimate(&unsigned, "yes");
    assert_eq!((status, bad["error"].as_str()), (400, Some("bad_query")), "{bad}");

    let txs = vec![
        spawn.clone(),
        w2.spawn_tx(&network),
        w1.increment_tx(&network, counter, 1),
        w2.increment_tx(&network, counter, 2),
        w1.spend_tx(&network, w2.address, 1234),
    ];
    let (status, queued) = post_bytes(&format!("{}/v1/bundles", seq.url()), &bundle(txs).to_bytes());
    assert_eq!((status, queued["txs"].as_u64()), (202, Some(5)), "{queued}");
    let spawn_id = hex::encode(blake3::hash(&spawn).as_bytes());
    wait_until("the executor to include the bundle", TIMEOUT, || {
        get_json(&format!("{api}/v1/transactions/{spawn_id}")).0 == 200
    });

    // Status and account with a proof.
    let (_, status) = get_json(&format!("{api}/v1/status"));
    assert_eq!((status["role"].as_str(), status["network"].as_str()), (Some("executor"), Some("atest")));
    assert_eq!(status["genesis_id"], hex::encode(genesis.genesis_id));
    assert_eq!(status["templates"]["wallet.elf"], network.encode_address(&w1.template));
    assert_eq!(status["templates"].as_object().map(|t| t.len()), Some(2), "{status}");
    let height = status["height"].as_u64().unwrap();
    let w1_text = network.encode_address(&w1.address);
    let (code, account) = get_json(&format!("{api}/v1/accounts/{w1_text}"));
    assert_eq!(code, 200, "{account}");
    assert_eq!(account["nonce"], 3);
    assert_eq!(account["template"], network.encode_address(&w1.template));
    assert_eq!(hex_bytes(&account["state"]), w1.key.verifying_key().to_bytes());
    let record = Account { balance: account["balance"].as_u64().unwrap(), nonce: 3, template: Some(w1.template) };
    let proof = StateProof::from_bytes(&hex_bytes(&account["proof"])).unwrap();
    assert!(verify(
        &root(&account["state_root"]),
        &LeafKey::Account(w1.address),
        Some(&encode_account(&record)),
        &proof
    ));

    // The program state blob with an inclusion proof under the same root; a
    // forged blob does not verify.
    let state_proof = StateProof::from_bytes(&hex_bytes(&account["state_proof"])).unwrap();
    let blob = hex_bytes(&account["state"]);
    assert!(verify(&root(&account["state_root"]), &LeafKey::ProgramState(w1.address), Some(&blob), &state_proof));
    let mut forged = blob.clone();
    forged[0] ^= 1;
    assert!(!verify(&root(&account["state_root"]), &LeafKey::ProgramState(w1.address), Some(&forged), &state_proof));
    assert!(!verify(&root(&account["state_root"]), &LeafKey::ProgramState(w1.address), None, &state_proof));
    // A plain account (the relay, paid fees) has no blob: non-inclusion.
    let relay_text = network.encode_address(&Address::new(RELAY));
    let (code, plain) = get_json(&format!("{api}/v1/accounts/{relay_text}"));
    assert_eq!((code, plain["template"].is_null(), plain["state"].as_str()), (200, true, Some("")), "{plain}");
    let state_proof = StateProof::from_bytes(&hex_bytes(&plain["state_proof"])).unwrap();
    let leaf = LeafKey::ProgramState(Address::new(RELAY));
    assert!(verify(&root(&plain["state_root"]), &leaf, None, &state_proof));
    assert!(!verify(&root(&plain["state_root"]), &leaf, Some(&blob), &state_proof));

    // The trusted root: the one the executor published on the base layer
    // (it publishes after it commits and serves the block, so wait for it).
    let base = HttpBaseLayer::new(&seq.url());
    wait_until("the executor to publish the block's result", TIMEOUT, || base.result(height).ok().flatten().is_some());
    let published = base.result(height).unwrap().expect("published");
    let (_, result) = get_json(&format!("{api}/v1/blocks/{height}/result"));
    assert_eq!(serde_json::from_value::<BlockResult>(result).unwrap(), published.result);
    assert_eq!(published.signer, Some(executor_key().verifying_key().to_bytes()), "served with its signer");

    // A storage slot with an inclusion proof against the published root.
    let key = count_key();
    let counter_text = network.encode_address(&counter);
    let (code, slot) = get_json(&format!("{api}/v1/accounts/{counter_text}/storage/{}", hex::encode(key)));
    assert_eq!(code, 200, "{slot}");
    assert_eq!(hex_bytes(&slot["value"]), count_value(3));
    assert_eq!(root(&slot["state_root"]), StateRoot(published.result.state_root));
    let proof = StateProof::from_bytes(&hex_bytes(&slot["proof"])).unwrap();
    let leaf = LeafKey::Storage(counter, Bytes32::new(key));
    assert!(verify(&StateRoot(published.result.state_root), &leaf, Some(&count_value(3)), &proof));
    assert!(!verify(&StateRoot(published.result.state_root), &leaf, Some(&count_value(4)), &proof));
    let (_, empty) = get_json(&format!("{api}/v1/accounts/{counter_text}/storage/{}", hex::encode([7u8; 32])));
    assert_eq!(hex_bytes(&empty["value"]), [0u8; 32]);

    // Receipt, block, receipts, events.
    let (_, receipt) = get_json(&format!("{api}/v1/transactions/{spawn_id}"));
    assert_eq!((receipt["status"].as_str(), receipt["index"].as_u64()), (Some("succeeded"), Some(0)), "{receipt}");
    assert_eq!(receipt["fee_recipient"], network.encode_address(&Address::new(RELAY)));
    assert_eq!(hex_bytes(&receipt["output"]), w1.address.as_bytes());
    let h = receipt["height"].as_u64().unwrap();
    let (_, block) = get_json(&format!("{api}/v1/blocks/{h}"));
    assert_eq!(block["transactions"][0], spawn_id);
    assert_eq!(block["bundles"][0]["txs"], 5);
    let (_, receipts) = get_json(&format!("{api}/v1/blocks/{h}/receipts"));
    let hashes: Vec<[u8; 32]> =
        receipts.as_array().unwrap().iter().map(|r| hex32::parse(r["hash"].as_str().unwrap()).unwrap()).collect();
    assert_eq!(hashes.len(), 5);
    assert_eq!(hex::encode(merkle_root(&hashes)), block["receipts_root"].as_str().unwrap());
    let (_, events) = get_json(&format!("{api}/v1/events?address={counter_text}"));
    let events = events["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[1]["address"], counter_text);
    assert_eq!(events[1]["tx_id"], receipts[3]["id"]);
    let (_, one) = get_json(&format!("{api}/v1/events?from={h}&to={h}&limit=1"));
    assert_eq!(one["truncated"], true);

    // Errors are JSON with a proper status.
    for (url, status, error) in [
        (format!("{api}/v1/accounts/garbage"), 400, "bad_address"),
        (format!("{api}/v1/accounts/{}", network.encode_address(&Address::new([3; 24]))), 404, "not_found"),
        (format!("{api}/v1/transactions/zz"), 400, "bad_hex"),
        (format!("{api}/v1/transactions/{}", hex::encode([0u8; 32])), 404, "not_found"),
        (format!("{api}/v1/blocks/999"), 404, "not_found"),
        (format!("{api}/v1/blocks/x/result"), 400, "bad_height"),
        (format!("{api}/v1/events?bogus=1"), 400, "bad_query"),
        (format!("{api}/v1/nope"), 404, "not_found"),
        (format!("{}/v1/blocks/999", seq.url()), 404, "not_found"),
    ] {
        let (code, body) = get_json(&url);
        assert_eq!((code, body["error"].as_str()), (status, Some(error)), "{url}: {body}");
    }
    let (code, body) = post_bytes(&format!("{api}/v1/status"), b"");
    assert_eq!((code, body["error"].as_str()), (405, Some("method_not_allowed")));

    // The sequencer side: blocks as SCALE, bad and oversized bundles.
    let mut response = agent().get(format!("{}/v1/blocks/{h}", seq.url())).call().unwrap();
    assert_eq!(response.headers()["content-type"], "application/octet-stream");
    let served = Block::from_bytes(&response.body_mut().read_to_vec().unwrap()).unwrap();
    assert_eq!(hex::encode(served.hash()), block["hash"].as_str().unwrap());
    let (code, body) = post_bytes(&format!("{}/v1/bundles", seq.url()), b"not a bundle");
    assert_eq!((code, body["error"].as_str()), (400, Some("bad_bundle")));
    // An oversized bundle is refused from its Content-Length, before the body
    // is read (a client streaming it gets the 413 and a closed connection).
    let answer = declared_post(seq.addr(), "/v1/bundles", MAX_BUNDLE_BYTES + 1);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"too_large\""), "{answer}");
    let (_, latest) = get_json(&format!("{}/v1/blocks/latest", seq.url()));
    assert!(latest["height"].as_u64().unwrap() >= h);

    // The shadow agrees.
    let shadow_url = shadow.handle.url();
    wait_until("the shadow to verify the block", TIMEOUT, || {
        get_json(&format!("{shadow_url}/v1/shadow")).1["verified_height"].as_u64() >= Some(h)
    });
    let (_, verdict) = get_json(&format!("{shadow_url}/v1/shadow"));
    assert_eq!((verdict["ok"].as_bool(), &verdict["divergence"]), (Some(true), &serde_json::Value::Null));
    assert_eq!(
        get_json(&format!("{shadow_url}/v1/status")).1["state_root"],
        get_json(&format!("{api}/v1/blocks/{h}/result")).1["state_root"]
    );

    // The OpenAPI document is served and is the file in docs/api.
    let (_, doc) = get_json(&format!("{api}/openapi.json"));
    assert_eq!(doc, serde_json::from_str::<serde_json::Value>(OPENAPI).unwrap());
    drop(shadow);
    drop(exe);
}

#[test]
fn the_openapi_document_lists_exactly_the_served_routes() {
    let doc: serde_json::Value = serde_json::from_str(OPENAPI).unwrap();
    assert_eq!(doc["openapi"].as_str().map(|v| v.starts_with('3')), Some(true));
    let paths = doc["paths"].as_object().unwrap();
    let served = route_list(true);
    for (method, path) in &served {
        assert!(
            paths.get(*path).and_then(|p| p.get(*method)).is_some(),
            "{method} {path} is not in docs/api/openapi.json"
        );
    }
    for (path, methods) in paths {
        for method in methods.as_object().unwrap().keys() {
            assert!(
                served.iter().any(|(m, p)| m == method && p == path),
                "{method} {path} is documented but not served"
            );
        }
    }
    assert!(route_list(false).iter().all(|route| served.contains(route)));
    assert!(!route_list(false).contains(&("get", "/v1/shadow")));
}

#[test]
fn the_sequencer_keeps_its_blocks_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let seq = sequencer(Some(dir.path()));
    let url = seq.url();
    let (code, _) = post_bytes(&format!("{url}/v1/bundles"), &bundle(vec![vec![1, 2, 3]]).to_bytes());
    assert_eq!(code, 202);
    wait_until("a block", TIMEOUT, || get_json(&format!("{url}/v1/blocks/latest")).1["height"] == 1);
    let first = HttpBaseLayer::new(&url).block(1).unwrap().unwrap();
    let genesis_id = [0x9c; 32];
    let sign = |result| SignedResult::sign(&executor_key(), &genesis_id, result);
    let genesis = BlockResult { height: 0, input_hash: genesis_id, state_root: [5; 32], receipts_root: [6; 32] };
    HttpBaseLayer::new(&url).publish_result(&sign(genesis)).unwrap();
    let result = sign(BlockResult { height: 1, input_hash: first.hash(), state_root: [1; 32], receipts_root: [2; 32] });
    HttpBaseLayer::new(&url).publish_result(&result).unwrap();
    let conflict = sign(BlockResult { state_root: [3; 32], ..result.result });
    let refused = HttpBaseLayer::new(&url).publish_result(&conflict).unwrap_err();
    assert!(refused.to_string().contains("conflict"), "{refused}");
    seq.stop().unwrap();

    let seq = sequencer(Some(dir.path()));
    let base = HttpBaseLayer::new(&seq.url());
    assert_eq!(base.latest_height().unwrap(), 1);
    assert_eq!(base.block(1).unwrap(), Some(first.clone()));
    assert_eq!(base.block(0).unwrap(), Some(Block::genesis()));
    assert_eq!(base.result(1).unwrap(), Some(result));
    base.submit_bundle(bundle(vec![vec![4]])).unwrap();
    wait_until("the next block", TIMEOUT, || base.latest_height().unwrap() == 2);
    assert_eq!(base.block(2).unwrap().unwrap().parent_hash, first.hash());
    let (_, status) = get_json(&format!("{}/v1/status", seq.url()));
    assert_eq!((status["role"].as_str(), status["queued"].as_u64()), (Some("sequencer"), Some(0)));
}

/// `--keep-heights`: an executor keeping one height besides the last prunes
/// older receipts and tree versions after every block; queries for pruned
/// heights answer `410 pruned`, everything kept still answers (with
/// verifying proofs), and a pruning shadow still verifies the executor.
#[test]
fn pruning_executor_answers_410_for_pruned_heights() {
    use athena_node::backend::NodeTable;
    let dir = tempfile::tempdir().unwrap();
    let (_, genesis) = write_genesis(&dir.path().join("genesis"), 2);
    let network = genesis.network.clone();
    let seq = sequencer(None);
    let exe = executor_keeping(&dir.path().join("executor"), &genesis, &seq.url(), Role::Executor, Some(1));
    let api = exe.handle.url();
    let shadow_role = Role::Shadow { executor: Some(api.clone()) };
    let shadow = executor_keeping(&dir.path().join("shadow"), &genesis, &seq.url(), shadow_role, Some(0));

    let (mut w1, w2) = (Wallet::new(1), Wallet::new(2));
    let submit = |tx: Vec<u8>| -> serde_json::Value {
        let id = hex::encode(blake3::hash(&tx).as_bytes());
        let (status, queued) = post_bytes(&format!("{}/v1/bundles", seq.url()), &bundle(vec![tx]).to_bytes());
        assert_eq!(status, 202, "{queued}");
        wait_until("the executor to include the transaction", TIMEOUT, || {
            get_json(&format!("{api}/v1/transactions/{id}")).0 == 200
        });
        get_json(&format!("{api}/v1/transactions/{id}")).1
    };
    let spawn = submit(w1.spawn_tx(&network));
    let first = spawn["height"].as_u64().unwrap();
    let spawn_id = spawn["id"].as_str().unwrap().to_owned();
    assert_eq!(get_json(&format!("{api}/v1/blocks/{first}/receipts")).0, 200);
    assert_eq!(get_json(&format!("{api}/v1/events?from={first}")).0, 200);
    // Two more blocks: the floor passes `first`.
    submit(w1.spend_tx(&network, w2.address, 1));
    let last_tx = submit(w1.spend_tx(&network, w2.address, 2));
    let last_id = last_tx["id"].as_str().unwrap().to_owned();
    wait_until("pruning past the first block", TIMEOUT, || exe.chain.pruned_below().unwrap() > first);

    let gone = |path: &str| {
        let (status, body) = get_json(&format!("{api}{path}"));
        assert_eq!((status, body["error"].as_str()), (410, Some("pruned")), "{path}: {body}");
    };
    gone(&format!("/v1/transactions/{spawn_id}"));
    gone(&format!("/v1/blocks/{first}/receipts"));
    gone(&format!("/v1/blocks/{first}"));
    gone("/v1/events?from=0");
    // Roots stay as history; kept heights answer in full.
    let (status, result) = get_json(&format!("{api}/v1/blocks/{first}/result"));
    assert_eq!(status, 200, "{result}");
    assert_eq!(get_json(&format!("{api}/v1/transactions/{last_id}")).0, 200);
    assert_eq!(get_json(&format!("{api}/v1/events")).0, 200);
    let w1_text = network.encode_address(&w1.address);
    let (status, account) = get_json(&format!("{api}/v1/accounts/{w1_text}"));
    assert_eq!(status, 200, "{account}");
    let proof = StateProof::from_bytes(&hex_bytes(&account["proof"])).unwrap();
    let record = Account {
        balance: account["balance"].as_u64().unwrap(),
        nonce: account["nonce"].as_u64().unwrap(),
        template: Some(w1.template),
    };
    assert!(verify(
        &root(&account["state_root"]),
        &LeafKey::Account(w1.address),
        Some(&encode_account(&record)),
        &proof
    ));

    // The store pruned too, to the same floor, and refuses proofs below it.
    let floor = exe.chain.pruned_below().unwrap();
    let store = exe.chain.store();
    assert_eq!(store.pruned_below().unwrap(), floor);
    assert!(matches!(
        store.prove_account(&w1.address, Some(first)),
        Err(athena_store::StoreError::Pruned { height, .. }) if height == first
    ));
    // The receipts rows below the floor are really gone.
    let rows = store.backend().read().unwrap().node_range(NodeTable::Receipts, &[], &[0xff; 12], usize::MAX, false);
    let heights: Vec<u64> = rows.unwrap().iter().map(|(k, _)| u64::from_be_bytes(k[..8].try_into().unwrap())).collect();
    assert!(!heights.is_empty() && heights.iter().all(|h| *h >= floor), "{heights:?} (floor {floor})");

    // The pruning shadow follows and agrees.
    let height = exe.chain.height().unwrap();
    let shadow_url = shadow.handle.url();
    wait_until("the shadow to verify", TIMEOUT, || {
        get_json(&format!("{shadow_url}/v1/shadow")).1["verified_height"].as_u64() >= Some(height)
    });
    let (_, verdict) = get_json(&format!("{shadow_url}/v1/shadow"));
    assert_eq!(verdict["ok"], true, "{verdict}");
    assert_eq!(shadow.chain.pruned_below().unwrap(), height);
}

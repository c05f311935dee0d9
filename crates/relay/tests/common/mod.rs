//! A fake executor and a fake sequencer (small axum servers on loopback)
//! sharing one in-memory chain the test advances by hand, and helpers to
//! build signed transactions and poll.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use athena_interface::{Address, Bytes32};
use athena_node::types::{Bundle, CheckResponse, LatestResponse, StatusResponse};
use athena_relay::{RelayConfig, RelayHandle};
use athena_transaction::{sign_single, verify_single, Network, UnsignedTransaction};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use ed25519_dalek::SigningKey;
use parity_scale_codec::Decode;
use serde_json::json;

pub const GAS_LIMIT: u64 = 1000;

pub fn network() -> Network {
    Network::new("atest", Bytes32([1; 32])).unwrap()
}

#[derive(Debug, Clone)]
pub struct Account {
    pub nonce: u64,
    pub balance: u64,
    pub key: Option<SigningKey>,
}

/// The fake world: accounts, receipts, the sequencer's queue and the
/// bundles it received.
#[derive(Debug, Default)]
pub struct World {
    pub accounts: BTreeMap<Address, Account>,
    pub receipts: BTreeMap<String, serde_json::Value>,
    pub height: u64,
    pub queue: Vec<Bundle>,
    /// Every bundle ever posted, in order.
    pub received: Vec<Bundle>,
    /// While set, posted bundles are acknowledged but lost.
    pub lose_bundles: bool,
    /// While set, the sequencer refuses bundles with 503.
    pub sequencer_down: bool,
}

pub type Shared = Arc<Mutex<World>>;

/// A world where each of `keys` is funded with 10 000 000 and the sequencer
/// refuses bundles (so transactions stay pending until the test lets them
/// go).
pub fn held_world(keys: &[&SigningKey]) -> Shared {
    let world = Shared::default();
    {
        let mut w = world.lock().unwrap();
        for key in keys {
            w.fund(key, 10_000_000);
        }
        w.sequencer_down = true;
    }
    world
}

/// The check the fake executor runs: the runtime's order and texts.
fn check(world: &World, bytes: &[u8]) -> Result<(), String> {
    let tx = athena_transaction::decode(bytes).map_err(|e| format!("undecodable: {e}"))?;
    let acc = world.accounts.get(&tx.body.principal).cloned().unwrap_or(Account { nonce: 0, balance: 0, key: None });
    let Some(key) = acc.key else {
        return Err("principal is not spawned and no template is given".into());
    };
    if tx.body.nonce < acc.nonce {
        return Err(format!("nonce too low: {} < the account's {}", tx.body.nonce, acc.nonce));
    }
    if tx.body.nonce > acc.nonce {
        return Err(format!("nonce too high: {} > the account's {}", tx.body.nonce, acc.nonce));
    }
    if u128::from(acc.balance) < u128::from(tx.body.gas_limit) * u128::from(tx.body.gas_price) {
        return Err(format!(
            "balance {} cannot prepay gas limit {} × price {}",
            acc.balance, tx.body.gas_limit, tx.body.gas_price
        ));
    }
    if !verify_single(&key.verifying_key(), &network(), &tx) {
        return Err("verify rejected the authenticator".into());
    }
    Ok(())
}

impl World {
    pub fn fund(&mut self, key: &SigningKey, balance: u64) -> Address {
        let address = address_of(key);
        self.accounts.insert(address, Account { nonce: 0, balance, key: Some(key.clone()) });
        address
    }

    /// Order the queued bundles into a block and execute it: first
    /// occurrence of an id wins; effective transactions pay their max fee to
    /// the bundle's relay and bump the nonce; every transaction gets a
    /// receipt.
    pub fn produce_block(&mut self) {
        let bundles = std::mem::take(&mut self.queue);
        self.apply_block(self.height + 1, bundles);
    }

    /// Execute `bundles` as block `height` (the fake executor's side only).
    pub fn apply_block(&mut self, height: u64, bundles: Vec<Bundle>) {
        self.height = height;
        let mut index = 0u32;
        for bundle in bundles {
            for bytes in &bundle.txs {
                let Ok(tx) = athena_transaction::decode(bytes) else { continue };
                let id = hex::encode(tx.id().0);
                if self.receipts.contains_key(&id) {
                    continue;
                }
                let (status, reason, fee) = match check(self, bytes) {
                    Ok(()) => {
                        let fee = tx.body.gas_limit * tx.body.gas_price;
                        let acc = self.accounts.get_mut(&tx.body.principal).unwrap();
                        acc.nonce += 1;
                        acc.balance -= fee;
                        let relay = Address(bundle.relay);
                        self.accounts.entry(relay).or_insert(Account { nonce: 0, balance: 0, key: None }).balance +=
                            fee;
                        ("succeeded", None, fee)
                    }
                    Err(reason) => ("ineffective", Some(reason), 0),
                };
                self.receipts.insert(
                    id.clone(),
                    json!({ "id": id, "height": height, "index": index, "status": status, "reason": reason, "fee": fee }),
                );
                index += 1;
            }
        }
    }
}

pub fn address_of(key: &SigningKey) -> Address {
    let mut a = [0u8; 24];
    a[4..].copy_from_slice(&blake3::hash(key.verifying_key().as_bytes()).as_bytes()[..20]);
    Address(a)
}

pub fn key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

/// A signed transaction of `key`'s account.
pub fn signed(key: &SigningKey, nonce: u64, gas_price: u64) -> Vec<u8> {
    let body = UnsignedTransaction {
        principal: address_of(key),
        template: None,
        nonce,
        gas_limit: GAS_LIMIT,
        gas_price,
        payload: athena_transaction::encode_payload("spend", &([9u8; 24], 1u64)),
    };
    sign_single(key, &network(), body).encode()
}

/// The same transaction signed by the wrong key.
pub fn badly_signed(key: &SigningKey, nonce: u64) -> Vec<u8> {
    let body = UnsignedTransaction {
        principal: address_of(key),
        template: None,
        nonce,
        gas_limit: GAS_LIMIT,
        gas_price: 1,
        payload: vec![1, 2, 3, 4],
    };
    sign_single(&SigningKey::from_bytes(&[0xee; 32]), &network(), body).encode()
}

pub fn tx_id(bytes: &[u8]) -> String {
    hex::encode(athena_transaction::decode(bytes).unwrap().id().0)
}

async fn status(State(w): State<Shared>) -> Json<StatusResponse> {
    let w = w.lock().unwrap();
    Json(StatusResponse {
        role: "executor".into(),
        height: w.height,
        state_root: hex::encode([0u8; 32]),
        network: "atest".into(),
        genesis_id: hex::encode([1u8; 32]),
        templates: Default::default(),
    })
}

async fn account(State(w): State<Shared>, Path(addr): Path<String>) -> Response {
    let Ok(address) = network().parse_address(&addr) else {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "bad_request", "message": "address"}))).into_response();
    };
    match w.lock().unwrap().accounts.get(&address) {
        Some(a) => {
            Json(json!({ "address": addr, "balance": a.balance, "nonce": a.nonce, "template": null, "state": "" }))
                .into_response()
        }
        None => {
            (StatusCode::NOT_FOUND, Json(json!({"error": "not_found", "message": "unknown account"}))).into_response()
        }
    }
}

async fn check_tx(
    State(w): State<Shared>,
    Query(query): Query<std::collections::BTreeMap<String, String>>,
    body: Bytes,
) -> Json<CheckResponse> {
    let w = w.lock().unwrap();
    let tx = athena_transaction::decode(&body).ok();
    let acc = tx.as_ref().and_then(|t| w.accounts.get(&t.body.principal));
    let verdict = check(&w, &body);
    Json(CheckResponse {
        ok: verdict.is_ok(),
        status: if verdict.is_ok() { "succeeded" } else { "ineffective" }.into(),
        reason: verdict.err(),
        revert_message: None,
        id: hex::encode(blake3::hash(&body).as_bytes()),
        principal: tx.as_ref().map(|t| network().encode_address(&t.body.principal)),
        nonce: tx.as_ref().map(|t| t.body.nonce),
        account_nonce: Some(acc.map_or(0, |a| a.nonce)),
        balance: Some(acc.map_or(0, |a| a.balance)),
        gas_price: tx.as_ref().map(|t| t.body.gas_price),
        gas_limit: tx.as_ref().map(|t| t.body.gas_limit),
        max_fee: tx.as_ref().map(|t| t.body.gas_limit.saturating_mul(t.body.gas_price)),
        gas_used: 0,
        fee: 0,
        height: w.height,
        // Echoes the estimate mode, so tests see the query arrive.
        verify_accepted: (query.get("ignore_verify").map(String::as_str) == Some("true")).then_some(true),
    })
}

async fn receipt(State(w): State<Shared>, Path(id): Path<String>) -> Response {
    match w.lock().unwrap().receipts.get(&id) {
        Some(r) => Json(r.clone()).into_response(),
        None => (StatusCode::NOT_FOUND, Json(json!({"error": "not_found", "message": "unknown transaction"})))
            .into_response(),
    }
}

async fn block_result(Path(h): Path<u64>) -> Json<serde_json::Value> {
    Json(json!({ "height": h, "state_root": "ab" }))
}

async fn post_bundle(State(w): State<Shared>, body: Bytes) -> Response {
    let mut w = w.lock().unwrap();
    if w.sequencer_down {
        return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"error": "down", "message": "down"}))).into_response();
    }
    let bundle = Bundle::decode(&mut &body[..]).unwrap();
    w.received.push(bundle.clone());
    if !w.lose_bundles {
        w.queue.push(bundle);
    }
    let queued = w.queue.len();
    (StatusCode::ACCEPTED, Json(json!({ "queued": queued, "txs": 0 }))).into_response()
}

async fn latest(State(w): State<Shared>) -> Json<LatestResponse> {
    Json(LatestResponse { height: w.lock().unwrap().height })
}

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// Start the fake executor and sequencer; returns their URLs.
pub async fn fakes(world: Shared) -> (String, String) {
    let executor = Router::new()
        .route("/v1/status", get(status))
        .route("/v1/accounts/{addr}", get(account))
        .route("/v1/transactions/check", post(check_tx))
        .route("/v1/transactions/{id}", get(receipt))
        .route("/v1/blocks/{h}/result", get(block_result))
        .with_state(world.clone());
    let sequencer =
        Router::new().route("/v1/bundles", post(post_bundle)).route("/v1/blocks/latest", get(latest)).with_state(world);
    (format!("http://{}", serve(executor).await), format!("http://{}", serve(sequencer).await))
}

/// The relay's own fee address in these tests.
pub fn relay_address() -> Address {
    let mut a = [0u8; 24];
    a[23] = 0x77;
    Address(a)
}

/// A relay against the fakes with fast timers.
pub async fn relay_with(world: &Shared, tweak: impl FnOnce(&mut RelayConfig)) -> RelayHandle {
    let (executor, sequencer) = fakes(world.clone()).await;
    relay_at(&executor, &sequencer, tweak).await
}

/// A relay against the given executor and sequencer with fast timers.
pub async fn relay_at(executor: &str, sequencer: &str, tweak: impl FnOnce(&mut RelayConfig)) -> RelayHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut config = RelayConfig::new(listener.local_addr().unwrap(), executor, sequencer, relay_address());
    config.poll_interval = Duration::from_millis(20);
    config.bundle_interval = Duration::from_millis(40);
    config.http_timeout = Duration::from_secs(2);
    tweak(&mut config);
    athena_relay::start(config, listener).await.unwrap()
}

/// Poll `cond` every 10 ms for up to 10 s.
pub async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// POST raw bytes; returns (status, JSON body).
pub async fn post_raw(base: &str, bytes: Vec<u8>) -> (u16, serde_json::Value) {
    let resp = http()
        .post(format!("{base}/v1/transactions"))
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

pub async fn post_json(base: &str, body: String) -> (u16, serde_json::Value) {
    let resp = http()
        .post(format!("{base}/v1/transactions"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

pub async fn get_json(base: &str, path: &str) -> (u16, serde_json::Value) {
    let resp = http().get(format!("{base}{path}")).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(serde_json::Value::Null))
}

/// Every transaction the sequencer ever received, in order.
pub fn received_txs(world: &Shared) -> Vec<Vec<u8>> {
    world.lock().unwrap().received.iter().flat_map(|b| b.txs.clone()).collect()
}

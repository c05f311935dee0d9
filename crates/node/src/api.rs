//! The executor's query API (JSON over HTTP; `docs/node.md`, "Query API",
//! and the OpenAPI document `docs/api/openapi.json`, served at
//! `GET /openapi.json`). A shadow executor serves the same API over its own
//! state, plus `GET /v1/shadow`.

use crate::chain::Chain;
use crate::exec::ExecConfig;
use crate::http::{self, blocking, read_body, ApiError};
use crate::receipts::log_json;
use crate::sequencer::parse_height;
use crate::types::{
    hex32, AccountResponse, BlockJson, BundleJson, EventJson, EventsResponse, ReceiptJson, ShadowStatus,
    StatusResponse, StorageResponse,
};
use athena_interface::{Address, Bytes32};
use athena_runtime::tx::DryRunOptions;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::handler::Handler;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

/// The OpenAPI 3 document of this API (`docs/api/openapi.json`).
pub const OPENAPI: &str = include_str!("../../../docs/api/openapi.json");

/// Default and maximum number of events per `GET /v1/events`.
const EVENTS_DEFAULT: usize = 100;
const EVENTS_MAX: usize = 1000;

/// What the handlers share.
#[derive(Clone)]
pub struct ApiState {
    /// The chain.
    pub chain: Arc<Chain>,
    /// `executor` or `shadow`.
    pub role: &'static str,
    /// Execution settings for dry runs (never with a fault).
    pub exec: ExecConfig,
    /// The shadow's verdict (shadow only).
    pub shadow: Option<Arc<Mutex<ShadowStatus>>>,
}

/// Builds the router and records each (method, path) it serves, so tests
/// can check the OpenAPI document against the real routes.
struct Routes {
    router: Router<ApiState>,
    list: Vec<(&'static str, &'static str)>,
}

impl Routes {
    fn get<H: Handler<T, ApiState>, T: 'static>(mut self, path: &'static str, handler: H) -> Self {
        self.router = self.router.route(path, get(handler));
        self.list.push(("get", path));
        self
    }
    fn post<H: Handler<T, ApiState>, T: 'static>(mut self, path: &'static str, handler: H) -> Self {
        self.router = self.router.route(path, post(handler));
        self.list.push(("post", path));
        self
    }
}

fn routes(shadow: bool) -> Routes {
    let routes = Routes { router: Router::new(), list: Vec::new() }
        .get("/openapi.json", openapi)
        .get("/v1/status", status)
        .get("/v1/accounts/{address}", account)
        .get("/v1/accounts/{address}/storage/{key}", storage)
        .get("/v1/transactions/{id}", transaction)
        .post("/v1/transactions/check", check)
        .get("/v1/blocks/{height}", block)
        .get("/v1/blocks/{height}/result", block_result)
        .get("/v1/blocks/{height}/receipts", block_receipts)
        .get("/v1/events", events);
    if shadow {
        routes.get("/v1/shadow", shadow_status)
    } else {
        routes
    }
}

/// Every (method, path) the API serves for an executor (`shadow = false`)
/// or a shadow executor.
pub fn route_list(shadow: bool) -> Vec<(&'static str, &'static str)> {
    routes(shadow).list
}

/// The query API router.
pub fn router(state: ApiState) -> Router {
    routes(state.shadow.is_some())
        .router
        .fallback(http::fallback)
        .method_not_allowed_fallback(http::method_not_allowed)
        .with_state(state)
}

fn parse_address(chain: &Chain, text: &str) -> Result<Address, ApiError> {
    chain.network().parse_address(text).map_err(|e| ApiError::bad_request("bad_address", format!("{text:?}: {e}")))
}

fn parse_hash(what: &str, text: &str) -> Result<[u8; 32], ApiError> {
    hex32::parse(text).map_err(|e| ApiError::bad_request("bad_hex", format!("{what}: {e}")))
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn status(State(s): State<ApiState>) -> Result<Json<StatusResponse>, ApiError> {
    let last = s.chain.store().last_committed().map_err(|e| ApiError::internal(e.to_string()))?;
    let (height, root) = last.map_or((0, [0; 32]), |b| (b.height, b.state_root.0));
    Ok(Json(StatusResponse {
        role: s.role.to_owned(),
        height,
        state_root: hex::encode(root),
        network: s.chain.network().hrp().to_owned(),
        genesis_id: hex::encode(s.chain.genesis_id()),
        templates: s
            .chain
            .templates()
            .iter()
            .map(|(name, address)| (name.clone(), s.chain.network().encode_address(address)))
            .collect(),
    }))
}

async fn account(State(s): State<ApiState>, Path(text): Path<String>) -> Result<Json<AccountResponse>, ApiError> {
    let address = parse_address(&s.chain, &text)?;
    let internal = |e: &dyn std::fmt::Display| ApiError::internal(e.to_string());
    let snapshot = s.chain.store().snapshot().map_err(|e| internal(&e))?;
    let proof = snapshot.prove_account(&address, None).map_err(|e| internal(&e))?;
    let account = proof.account.ok_or_else(|| ApiError::not_found(format!("no account at {text}")))?;
    // The blob served is the proven one, at the account proof's height, from
    // the same snapshot: the two proofs are always under one root.
    let state = snapshot.prove_program_state(&address, Some(proof.height)).map_err(|e| internal(&e))?;
    let network = s.chain.network();
    Ok(Json(AccountResponse {
        address: network.encode_address(&address),
        balance: account.balance,
        nonce: account.nonce,
        template: account.template.map(|t| network.encode_address(&t)),
        state: hex::encode(&state.state),
        height: proof.height,
        state_root: hex::encode(proof.state_root.0),
        proof: hex::encode(proof.proof.to_bytes()),
        state_proof: hex::encode(state.proof.to_bytes()),
    }))
}

async fn storage(
    State(s): State<ApiState>,
    Path((text, key)): Path<(String, String)>,
) -> Result<Json<StorageResponse>, ApiError> {
    let address = parse_address(&s.chain, &text)?;
    let key = Bytes32::new(parse_hash("storage key", &key)?);
    let proof = s.chain.store().prove_storage(&address, &key, None).map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(Json(StorageResponse {
        address: s.chain.network().encode_address(&address),
        key: hex::encode(key.as_bytes()),
        value: hex::encode(proof.value.as_bytes()),
        height: proof.height,
        state_root: hex::encode(proof.state_root.0),
        proof: hex::encode(proof.proof.to_bytes()),
    }))
}

async fn transaction(State(s): State<ApiState>, Path(id): Path<String>) -> Result<Json<ReceiptJson>, ApiError> {
    let id = parse_hash("transaction id", &id)?;
    let receipt = s.chain.receipt(&id)?;
    receipt
        .map(|r| Json(r.to_json(s.chain.network())))
        .ok_or_else(|| ApiError::not_found(format!("no transaction {} in any block", hex::encode(id))))
}

async fn check(
    State(s): State<ApiState>,
    Query(query): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let max = athena_transaction::tx::MAX_TX_SIZE;
    let bytes = read_body(&headers, body, max, "transaction").await?;
    let relay = match query.get("relay") {
        Some(text) => parse_address(&s.chain, text)?,
        None => Address::ZERO,
    };
    // The estimate mode of the dry run (docs/node.md); nothing reaches
    // state either way.
    let ignore_verify = match query.get("ignore_verify").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::bad_request("bad_query", format!("ignore_verify={other:?}: expected true or false")))
        }
    };
    let options = DryRunOptions { ignore_verify };
    let chain = Arc::clone(&s.chain);
    let exec = s.exec;
    let answer = blocking(move || chain.check(&bytes, relay, &exec, options)).await??;
    Ok(Json(answer).into_response())
}

async fn block(State(s): State<ApiState>, Path(height): Path<String>) -> Result<Json<BlockJson>, ApiError> {
    let height = parse_height(&height)?;
    let not_found = || ApiError::not_found(format!("block {height} is not executed yet"));
    let summary = s.chain.block_summary(height)?.ok_or_else(not_found)?;
    let result = s.chain.result(height)?.ok_or_else(not_found)?;
    let receipts = s.chain.receipts(height)?;
    let network = s.chain.network();
    Ok(Json(BlockJson {
        height,
        hash: hex::encode(summary.hash),
        parent_hash: hex::encode(summary.parent_hash),
        timestamp: summary.timestamp,
        bundles: summary
            .bundles
            .iter()
            .map(|(relay, txs)| BundleJson { relay: network.encode_address(&Address::new(*relay)), txs: *txs })
            .collect(),
        transactions: receipts.iter().map(|r| hex::encode(r.tx_id)).collect(),
        skipped: summary.skipped,
        state_root: hex::encode(result.state_root),
        receipts_root: hex::encode(result.receipts_root),
    }))
}

async fn block_result(
    State(s): State<ApiState>,
    Path(height): Path<String>,
) -> Result<Json<crate::types::BlockResult>, ApiError> {
    let height = parse_height(&height)?;
    s.chain.result(height)?.map(Json).ok_or_else(|| ApiError::not_found(format!("block {height} is not executed yet")))
}

async fn block_receipts(
    State(s): State<ApiState>,
    Path(height): Path<String>,
) -> Result<Json<Vec<ReceiptJson>>, ApiError> {
    let height = parse_height(&height)?;
    if s.chain.result(height)?.is_none() {
        return Err(ApiError::not_found(format!("block {height} is not executed yet")));
    }
    let network = s.chain.network();
    Ok(Json(s.chain.receipts(height)?.iter().map(|r| r.to_json(network)).collect()))
}

async fn events(
    State(s): State<ApiState>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Result<Json<EventsResponse>, ApiError> {
    let number = |name: &str| -> Result<Option<u64>, ApiError> {
        query
            .get(name)
            .map(|v| {
                v.parse::<u64>()
                    .map_err(|_| ApiError::bad_request("bad_query", format!("{name}={v:?} is not a number")))
            })
            .transpose()
    };
    if let Some(unknown) = query.keys().find(|k| !["address", "from", "to", "limit"].contains(&k.as_str())) {
        return Err(ApiError::bad_request("bad_query", format!("unknown parameter {unknown:?}")));
    }
    let address = query.get("address").map(|text| parse_address(&s.chain, text)).transpose()?;
    // Without `from`, start at the oldest height this node still has
    // receipts for (0 unless it prunes); an explicit `from` below it is
    // `410 pruned` rather than a silently incomplete list.
    let from = match number("from")? {
        Some(from) => from,
        None => s.chain.pruned_below()?,
    };
    let to = match number("to")? {
        Some(to) => to,
        None => s.chain.height()?,
    };
    let limit =
        number("limit")?.map_or(EVENTS_DEFAULT, |l| usize::try_from(l).unwrap_or(EVENTS_MAX)).clamp(1, EVENTS_MAX);
    let found = s.chain.events(address, from, to, limit + 1)?;
    let truncated = found.len() > limit;
    let network = s.chain.network();
    let events = found
        .iter()
        .take(limit)
        .map(|e| EventJson {
            height: e.height,
            tx_id: hex::encode(e.tx_id),
            index: e.index,
            log_index: e.log_index,
            log: log_json(network, &e.log),
        })
        .collect();
    Ok(Json(EventsResponse { events, truncated }))
}

async fn shadow_status(State(s): State<ApiState>) -> Json<ShadowStatus> {
    let status = s.shadow.as_ref().map(|m| m.lock().unwrap_or_else(PoisonError::into_inner).clone());
    Json(status.unwrap_or_default())
}

//! The relay's HTTP API (`docs/relay.md`):
//!
//! * `POST /v1/transactions` — raw transaction bytes, or JSON `{"tx": hex}`
//!   with `Content-Type: application/json`; 202 `{id, status}` or a JSON
//!   error `{error, message}`;
//! * `GET /v1/transactions/{id}` — pending / included (with the executor's
//!   receipt) / dropped / unknown;
//! * `GET /v1/relay` — the relay's address and pool counters;
//! * `GET /v1/relay/accounts/{address}` — an account's next nonce and its
//!   pending transactions here (what a wallet needs to chain them);
//! * `POST /v1/transactions/check` and every other `GET /v1/...` — proxied
//!   to the executor, so a wallet needs one URL.
//!
//! Every request first takes a token from its client's budget
//! ([`crate::limit`]); over it, 429 `rate_limited` with `Retry-After`,
//! before the body is read or anything is checked.

use std::sync::Arc;

use athena_transaction::tx::MAX_TX_SIZE;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::error::AdmitError;
use crate::limit::ClientLimits;
use crate::mempool::TxId;
use crate::service::{Relay, TxStatus};
use athena_ratelimit::middleware::rate_limit;

/// Largest request body: a maximal transaction as JSON hex (twice its size)
/// plus room for the JSON around it. Larger bodies get 413 `oversized`
/// without being read further.
pub const MAX_BODY: usize = 2 * MAX_TX_SIZE + 1024;

/// The router over a shared [`Relay`], rate-limited per client by `limits`
/// (built from `relay.config().rate_limits`; [`crate::RelayHandle`] keeps
/// them so tests can reach them). The client address comes from
/// `ConnectInfo<SocketAddr>`: serve the router with
/// `into_make_service_with_connect_info`, as [`crate::start`] does; without
/// it requests are not limited.
pub fn router(relay: Arc<Relay>, limits: Arc<ClientLimits>) -> Router {
    Router::new()
        .route("/v1/transactions", post(post_transaction))
        .route("/v1/transactions/check", post(proxy_check))
        .route("/v1/transactions/{id}", get(get_transaction))
        .route("/v1/relay", get(get_relay))
        .route("/v1/relay/accounts/{address}", get(get_relay_account))
        .fallback(proxy_get)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn_with_state(limits, rate_limit::<ClientLimits>))
        .with_state(relay)
}

/// A JSON error response `{error, message}`.
pub(crate) fn error(status: u16, code: &str, message: impl Into<String>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(json!({ "error": code, "message": message.into() }))).into_response()
}

impl IntoResponse for AdmitError {
    fn into_response(self) -> Response {
        error(self.http_status(), self.code(), self.to_string())
    }
}

/// A body read under [`MAX_BODY`]; a larger one is `oversized`.
fn read_body(body: Result<Bytes, BytesRejection>) -> Result<Bytes, AdmitError> {
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AdmitError::Oversized(format!("request body is larger than {MAX_BODY} bytes"))
        } else {
            AdmitError::Malformed(format!("could not read the request body: {rejection}"))
        }
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TxJson {
    tx: String,
}

/// The transaction bytes of a `POST /v1/transactions` body.
fn transaction_bytes(headers: &HeaderMap, body: Bytes) -> Result<Vec<u8>, AdmitError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.trim_start().to_ascii_lowercase().starts_with("application/json"));
    if !is_json {
        return Ok(body.to_vec());
    }
    let parsed: TxJson = serde_json::from_slice(&body)
        .map_err(|e| AdmitError::Malformed(format!("expected JSON {{\"tx\": \"<hex>\"}}: {e}")))?;
    let text = parsed.tx.trim();
    let text = text.strip_prefix("0x").unwrap_or(text);
    if text.len() > 2 * MAX_TX_SIZE {
        return Err(AdmitError::Oversized(format!("transaction is {} bytes, limit is {MAX_TX_SIZE}", text.len() / 2)));
    }
    hex::decode(text).map_err(|e| AdmitError::Malformed(format!("\"tx\" is not hex: {e}")))
}

async fn post_transaction(
    State(relay): State<Arc<Relay>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let bytes = transaction_bytes(&headers, read_body(body)?)?;
        relay.submit(bytes).await
    }
    .await;
    match result {
        Ok(id) => (StatusCode::ACCEPTED, Json(json!({ "id": hex::encode(id.0), "status": "pending" }))).into_response(),
        Err(e) => {
            tracing::debug!(code = e.code(), message = %e, "rejected transaction");
            e.into_response()
        }
    }
}

/// Parse a 32-byte hex id (optional `0x`).
fn parse_id(text: &str) -> Option<TxId> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text.strip_prefix("0x").unwrap_or(text), &mut out).ok()?;
    Some(TxId::new(out))
}

fn display_address(relay: &Relay, address: &athena_interface::Address) -> String {
    relay.network().map_or_else(|| hex::encode(address.0), |n| n.encode_address(address))
}

async fn get_transaction(State(relay): State<Arc<Relay>>, Path(id_text): Path<String>) -> Response {
    let Some(id) = parse_id(&id_text) else {
        return error(400, "malformed", format!("{id_text:?} is not a 32-byte hex transaction id"));
    };
    let id_hex = hex::encode(id.0);
    match relay.status(&id).await {
        Ok(TxStatus::Pending(info)) => Json(json!({
            "id": id_hex,
            "status": "pending",
            "principal": display_address(&relay, &info.principal),
            "nonce": info.nonce,
            "gas_price": info.gas_price,
            "size": info.size,
            "verified": info.verified,
            "bundled": info.bundled,
            "submissions": info.submissions,
        }))
        .into_response(),
        Ok(TxStatus::Included(receipt)) => {
            Json(json!({ "id": id_hex, "status": "included", "receipt": receipt })).into_response()
        }
        Ok(TxStatus::Dropped(reason)) => Json(json!({
            "id": id_hex,
            "status": "dropped",
            "reason": reason.code(),
            "message": reason.to_string(),
        }))
        .into_response(),
        Ok(TxStatus::Unknown) => (
            StatusCode::NOT_FOUND,
            Json(json!({
                "id": id_hex,
                "status": "unknown",
                "error": "unknown_transaction",
                "message": "neither pending at this relay nor included by the executor",
            })),
        )
            .into_response(),
        Err(e) => error(503, "executor_unavailable", e.to_string()),
    }
}

async fn get_relay(State(relay): State<Arc<Relay>>) -> Response {
    let stats = relay.pool().stats();
    let m = &relay.config().mempool;
    Json(json!({
        "address": display_address(&relay, &relay.config().address),
        "network": relay.hrp(),
        "pending": stats.txs,
        "bytes": stats.bytes,
        "accounts": stats.accounts,
        "bundled": stats.bundled,
        "deferred": stats.deferred,
        "limits": {
            "max_txs": m.max_txs,
            "max_bytes": m.max_bytes,
            "max_per_account": m.max_per_account,
            "min_replacement_bump_percent": m.min_replacement_bump_percent,
            "max_tx_size": MAX_TX_SIZE,
            "max_body": MAX_BODY,
            "rate": rate_limits_json(&relay.config().rate_limits),
        },
    }))
    .into_response()
}

async fn get_relay_account(State(relay): State<Arc<Relay>>, Path(text): Path<String>) -> Response {
    let Some(network) = relay.network() else {
        return error(503, "executor_unavailable", "the relay has not reached the executor yet (network unknown)");
    };
    let address = match network.parse_address(&text) {
        Ok(address) => address,
        Err(e) => return error(400, "bad_address", format!("{text:?}: {e}")),
    };
    match relay.account(&address).await {
        Ok(Some(view)) => Json(json!({
            "address": network.encode_address(&address),
            "nonce": view.committed.nonce,
            "balance": view.committed.balance,
            "next_nonce": view.next_nonce,
            "pending": view.pending.len(),
            "transactions": view.pending.iter().map(|(id, info)| json!({
                "id": hex::encode(id.0),
                "nonce": info.nonce,
                "gas_price": info.gas_price,
                "size": info.size,
                "verified": info.verified,
                "bundled": info.bundled,
            })).collect::<Vec<_>>(),
        }))
        .into_response(),
        Ok(None) => error(503, "executor_unavailable", "the relay has not reached the executor yet (network unknown)"),
        Err(e) => error(503, "executor_unavailable", e.to_string()),
    }
}

/// The per-client limits as `GET /v1/relay` reports them (0 = unlimited).
fn rate_limits_json(limits: &crate::limit::RateLimits) -> serde_json::Value {
    let rate = |r: crate::limit::Rate| {
        if r.is_unlimited() {
            json!({ "per_second": 0, "burst": 0 })
        } else {
            json!({ "per_second": r.per_second, "burst": r.burst })
        }
    };
    json!({
        "submit": rate(limits.submit),
        "read": rate(limits.read),
        "client": "ipv4 address or ipv6 /64",
        "trust_forwarded_for": limits.trust_forwarded_for,
    })
}

fn forwarded(raw: crate::clients::RawResponse) -> Response {
    let status = StatusCode::from_u16(raw.status).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut resp = (status, raw.body).into_response();
    if let Some(ct) = raw.content_type.and_then(|ct| ct.parse().ok()) {
        resp.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    resp
}

/// The executor's dry run, with the query unchanged (`relay`,
/// `ignore_verify`: the executor checks them).
async fn proxy_check(
    State(relay): State<Arc<Relay>>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match read_body(body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    // The route is this one path, so the request's path and query are the executor's.
    let path_and_query = uri.path_and_query().map_or(uri.path(), |pq| pq.as_str());
    match relay.executor().forward(reqwest::Method::POST, path_and_query, Some((body, ct))).await {
        Ok(raw) => forwarded(raw),
        Err(e) => error(503, "executor_unavailable", e.to_string()),
    }
}

async fn proxy_get(State(relay): State<Arc<Relay>>, method: Method, uri: Uri) -> Response {
    let path = uri.path();
    if !path.starts_with("/v1/") {
        return error(404, "not_found", format!("no endpoint {path}"));
    }
    if method != Method::GET {
        return error(405, "method_not_allowed", format!("{method} {path} is not served by the relay"));
    }
    let path_and_query = uri.path_and_query().map_or(path, |pq| pq.as_str());
    match relay.executor().forward(reqwest::Method::GET, path_and_query, None).await {
        Ok(raw) => forwarded(raw),
        Err(e) => error(503, "executor_unavailable", e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(ct: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, ct.parse().unwrap());
        h
    }

    #[test]
    fn body_forms() {
        let raw = Bytes::from_static(&[1, 2, 3]);
        assert_eq!(transaction_bytes(&HeaderMap::new(), raw.clone()), Ok(vec![1, 2, 3]));
        assert_eq!(transaction_bytes(&headers("application/octet-stream"), raw), Ok(vec![1, 2, 3]));
        let json = headers("application/json; charset=utf-8");
        assert_eq!(transaction_bytes(&json, Bytes::from_static(br#"{"tx":"0x0a0B"}"#)), Ok(vec![10, 11]));
        for bad in [&br#"{"tx":"xyz"}"#[..], br#"{"tx":1}"#, b"[]", br#"{"tx":"00","x":1}"#] {
            assert_eq!(transaction_bytes(&json, Bytes::copy_from_slice(bad)).unwrap_err().code(), "malformed");
        }
        let huge = format!(r#"{{"tx":"{}"}}"#, "00".repeat(MAX_TX_SIZE + 1));
        assert_eq!(transaction_bytes(&json, Bytes::from(huge)).unwrap_err().code(), "oversized");
    }

    #[test]
    fn ids() {
        let id = [0xab; 32];
        assert_eq!(parse_id(&hex::encode(id)), Some(TxId::new(id)));
        assert_eq!(parse_id(&format!("0x{}", hex::encode(id))), Some(TxId::new(id)));
        assert_eq!(parse_id("abcd"), None);
        assert_eq!(parse_id(&"zz".repeat(32)), None);
    }
}

//! HTTP clients for the two services the relay talks to: the executor (state,
//! dry runs, receipts, and the query API it proxies) and the sequencer (the
//! devnet base layer that takes bundles).
//!
//! Responses are parsed into small tolerant structs (unknown fields ignored,
//! optional ones defaulted) so the relay keeps working while the node's API
//! grows.

use std::time::Duration;

use athena_interface::Address;
use athena_node::types::Bundle;
use athena_transaction::Network;
use axum::body::Bytes;
use serde::Deserialize;

use crate::mempool::{AccountState, TxId};

/// Why a call to the executor or sequencer did not produce an answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// Connection refused, timeout, broken response.
    #[error("{service} unreachable: {message}")]
    Unreachable {
        /// `executor` or `sequencer`.
        service: &'static str,
        /// What the HTTP client said.
        message: String,
    },
    /// An unexpected HTTP status.
    #[error("{service} answered {status}: {body}")]
    Status {
        /// `executor` or `sequencer`.
        service: &'static str,
        /// The status code.
        status: u16,
        /// The (truncated) body.
        body: String,
    },
    /// A 2xx answer that is not what the API promises.
    #[error("{service} sent an unexpected response: {message}")]
    BadResponse {
        /// `executor` or `sequencer`.
        service: &'static str,
        /// The parse error.
        message: String,
    },
}

fn http_client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(2)))
        // The node services are addressed directly; a proxy from the
        // environment must not intercept loopback traffic.
        .no_proxy()
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

fn base(url: &str) -> String {
    url.trim_end_matches('/').to_owned()
}

/// The executor's `GET /v1/status`, reduced to what the relay uses.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ExecutorStatus {
    /// Last committed height.
    pub height: u64,
    /// The network's address HRP (for account lookups in bech32).
    #[serde(default)]
    pub network: String,
}

/// The executor's dry-run verdict (`POST /v1/transactions/check`), reduced
/// to what admission uses.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct CheckReply {
    /// Whether the transaction would be effective now.
    pub ok: bool,
    /// Why not (the runtime's `Ineffective` text), or why its payload fails.
    #[serde(default)]
    pub reason: Option<String>,
    /// The principal's committed next nonce.
    #[serde(default)]
    pub account_nonce: Option<u64>,
    /// The principal's committed balance.
    #[serde(default)]
    pub balance: Option<u64>,
}

impl CheckReply {
    /// The principal's committed state as the dry run saw it.
    pub fn account(&self) -> AccountState {
        AccountState { nonce: self.account_nonce.unwrap_or(0), balance: self.balance.unwrap_or(0) }
    }
}

#[derive(Deserialize)]
struct AccountReply {
    nonce: u64,
    balance: u64,
}

#[derive(Deserialize)]
struct LatestReply {
    height: u64,
}

/// A proxied response: status, content type and body, passed through as is.
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// HTTP status.
    pub status: u16,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The body.
    pub body: Bytes,
}

/// Client of the executor's HTTP API.
#[derive(Debug, Clone)]
pub struct ExecutorClient {
    http: reqwest::Client,
    base: String,
}

pub(crate) const EXECUTOR: &str = "executor";
const SEQUENCER: &str = "sequencer";

fn unreachable(service: &'static str) -> impl Fn(reqwest::Error) -> ClientError {
    move |e| ClientError::Unreachable { service, message: e.to_string() }
}

async fn expect_ok(service: &'static str, resp: reqwest::Response) -> Result<reqwest::Response, ClientError> {
    if resp.status().is_success() {
        return Ok(resp);
    }
    let status = resp.status().as_u16();
    let mut body = resp.text().await.unwrap_or_default();
    body.truncate(512);
    Err(ClientError::Status { service, status, body })
}

async fn json<T: for<'de> Deserialize<'de>>(service: &'static str, resp: reqwest::Response) -> Result<T, ClientError> {
    let bytes = resp.bytes().await.map_err(unreachable(service))?;
    serde_json::from_slice(&bytes).map_err(|e| ClientError::BadResponse { service, message: e.to_string() })
}

impl ExecutorClient {
    /// A client for the executor at `url` (e.g. `http://127.0.0.1:7701`).
    pub fn new(url: &str, timeout: Duration) -> Self {
        Self { http: http_client(timeout), base: base(url) }
    }

    /// `GET /v1/status`.
    pub async fn status(&self) -> Result<ExecutorStatus, ClientError> {
        let resp = self.http.get(format!("{}/v1/status", self.base)).send().await.map_err(unreachable(EXECUTOR))?;
        json(EXECUTOR, expect_ok(EXECUTOR, resp).await?).await
    }

    /// `GET /v1/accounts/{bech32}`; an unknown account (404) is `{0, 0}`.
    pub async fn account(&self, network: &Network, address: &Address) -> Result<AccountState, ClientError> {
        let url = format!("{}/v1/accounts/{}", self.base, network.encode_address(address));
        let resp = self.http.get(url).send().await.map_err(unreachable(EXECUTOR))?;
        if resp.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(AccountState::default());
        }
        let reply: AccountReply = json(EXECUTOR, expect_ok(EXECUTOR, resp).await?).await?;
        Ok(AccountState { nonce: reply.nonce, balance: reply.balance })
    }

    /// `POST /v1/transactions/check` with the raw transaction bytes;
    /// `relay` (bech32) is the fee recipient the dry run assumes.
    pub async fn check(&self, tx: &[u8], relay: Option<&str>) -> Result<CheckReply, ClientError> {
        let query = relay.map(|r| format!("?relay={r}")).unwrap_or_default();
        let resp = self
            .http
            .post(format!("{}/v1/transactions/check{query}", self.base))
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(tx.to_vec())
            .send()
            .await
            .map_err(unreachable(EXECUTOR))?;
        json(EXECUTOR, expect_ok(EXECUTOR, resp).await?).await
    }

    /// `GET /v1/transactions/{id}`: the receipt JSON, or `None` (404) if the
    /// executor has not included it.
    pub async fn receipt(&self, id: &TxId) -> Result<Option<serde_json::Value>, ClientError> {
        let url = format!("{}/v1/transactions/{}", self.base, hex::encode(id.0));
        let resp = self.http.get(url).send().await.map_err(unreachable(EXECUTOR))?;
        if resp.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        json(EXECUTOR, expect_ok(EXECUTOR, resp).await?).await.map(Some)
    }

    /// Forward a request (`path_and_query` starts with `/`) and return the
    /// executor's answer whatever its status.
    pub async fn forward(
        &self,
        method: reqwest::Method,
        path_and_query: &str,
        body: Option<(Bytes, Option<String>)>,
    ) -> Result<RawResponse, ClientError> {
        let mut req = self.http.request(method, format!("{}{}", self.base, path_and_query));
        if let Some((body, content_type)) = body {
            if let Some(ct) = content_type {
                req = req.header(reqwest::header::CONTENT_TYPE, ct);
            }
            req = req.body(body);
        }
        let resp = req.send().await.map_err(unreachable(EXECUTOR))?;
        let status = resp.status().as_u16();
        let content_type =
            resp.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = resp.bytes().await.map_err(unreachable(EXECUTOR))?;
        Ok(RawResponse { status, content_type, body })
    }
}

/// Client of the sequencer (the devnet base layer).
#[derive(Debug, Clone)]
pub struct SequencerClient {
    http: reqwest::Client,
    base: String,
}

impl SequencerClient {
    /// A client for the sequencer at `url`.
    pub fn new(url: &str, timeout: Duration) -> Self {
        Self { http: http_client(timeout), base: base(url) }
    }

    /// `GET /v1/blocks/latest`: the newest ordered block's height.
    pub async fn latest_height(&self) -> Result<u64, ClientError> {
        let resp =
            self.http.get(format!("{}/v1/blocks/latest", self.base)).send().await.map_err(unreachable(SEQUENCER))?;
        let reply: LatestReply = json(SEQUENCER, expect_ok(SEQUENCER, resp).await?).await?;
        Ok(reply.height)
    }

    /// `POST /v1/bundles` with `SCALE(bundle)`.
    pub async fn submit(&self, bundle: &Bundle) -> Result<(), ClientError> {
        let resp = self
            .http
            .post(format!("{}/v1/bundles", self.base))
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(bundle.to_bytes())
            .send()
            .await
            .map_err(unreachable(SEQUENCER))?;
        expect_ok(SEQUENCER, resp).await.map(drop)
    }
}

//! A small blocking client for the node's HTTP API (docs/wallet.md, "Node
//! API used"): the relay's `POST /v1/transactions` and
//! `GET /v1/transactions/{id}`, and the executor's query API, which the
//! relay proxies so a wallet needs one URL.
//!
//! Response types list only the fields the wallet reads and ignore the
//! rest, so the node can add fields without breaking wallets.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// Largest response body read (a receipt with many logs fits easily).
const MAX_RESPONSE: u64 = 16 << 20;

/// Why a request to the node failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// No HTTP answer at all: connection refused, DNS, timeout.
    #[error("cannot reach the node at {url}: {detail} (is it running? pass --node URL or set ATHENA_NODE)")]
    Unreachable {
        /// The node's base URL.
        url: String,
        /// The transport error.
        detail: String,
    },
    /// The node answered with an error status and (usually) a JSON
    /// `{error, message}` body.
    #[error("{message} [{code}, HTTP {status}]")]
    Api {
        /// HTTP status.
        status: u16,
        /// The machine-readable `error` code (`http` if the body had none).
        code: String,
        /// The `message` (or the raw body).
        message: String,
    },
    /// A success status with a body the wallet cannot read.
    #[error("unexpected answer from the node for {path}: {detail}")]
    BadResponse {
        /// The request path.
        path: String,
        /// What was wrong.
        detail: String,
    },
}

impl ClientError {
    /// The API error code, if the node answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// `GET /v1/status`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Status {
    /// Last committed height.
    pub height: u64,
    /// State root after it (hex).
    pub state_root: String,
    /// The network's HRP.
    pub network: String,
    /// Genesis id (hex).
    pub genesis_id: String,
    /// Well-known templates deployed at genesis, by name (e.g. `wallet`) →
    /// bech32 address. Optional: older nodes do not list them.
    #[serde(default)]
    pub templates: BTreeMap<String, String>,
}

/// `GET /v1/accounts/{address}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Account {
    /// bech32 address.
    pub address: String,
    /// Balance.
    pub balance: u64,
    /// Next nonce.
    pub nonce: u64,
    /// Template (bech32) of a program; `None` for a plain account.
    pub template: Option<String>,
    /// Immutable program state (hex).
    #[serde(default)]
    pub state: String,
    /// Height of the answer.
    #[serde(default)]
    pub height: Option<u64>,
    /// State root at that height (hex).
    #[serde(default)]
    pub state_root: Option<String>,
    /// Proof of the account record (hex).
    #[serde(default)]
    pub proof: Option<String>,
    /// Proof of the program state blob under the same root (hex):
    /// inclusion of `state`, or non-inclusion when it is empty. `None` from
    /// a node that predates it: the state is then unproven.
    #[serde(default)]
    pub state_proof: Option<String>,
}

/// `GET /v1/accounts/{address}/storage/{key}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StorageItem {
    /// Value (hex, 32 bytes; zero = empty).
    pub value: String,
    /// Height of the answer.
    pub height: u64,
    /// State root at that height (hex).
    pub state_root: String,
    /// Inclusion or non-inclusion proof (hex).
    pub proof: String,
}

/// A transaction receipt (the executor's JSON, also inside the relay's
/// `included` answer).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Receipt {
    /// Transaction id (hex).
    pub id: String,
    /// Block height.
    pub height: u64,
    /// Position in the block.
    #[serde(default)]
    pub index: u32,
    /// `succeeded`, `failed` or `ineffective`.
    pub status: String,
    /// Why it failed or was ineffective.
    #[serde(default)]
    pub reason: Option<String>,
    /// Revert message, if UTF-8.
    #[serde(default)]
    pub revert_message: Option<String>,
    /// Gas used.
    pub gas_used: u64,
    /// Fee paid.
    pub fee: u64,
    /// Output or revert data (hex).
    #[serde(default)]
    pub output: String,
    /// Logs, as the node renders them.
    #[serde(default)]
    pub logs: Vec<serde_json::Value>,
}

/// `POST /v1/transactions/check`: the executor's dry run.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Check {
    /// Whether it would be effective.
    pub ok: bool,
    /// `succeeded`, `failed` or `ineffective`.
    pub status: String,
    /// Why it failed or is ineffective.
    #[serde(default)]
    pub reason: Option<String>,
    /// Revert message of a failed payload.
    #[serde(default)]
    pub revert_message: Option<String>,
    /// Gas the dry run used.
    #[serde(default)]
    pub gas_used: u64,
    /// Only in the estimate mode ([`NodeClient::estimate`]): whether the
    /// principal's `verify` accepted. `None` from a node without that mode
    /// (it ignores the query and runs an ordinary dry run).
    #[serde(default)]
    pub verify_accepted: Option<bool>,
}

/// What `GET /v1/transactions/{id}` says about a transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum TxLookup {
    /// In the relay's mempool (the relay's JSON).
    Pending(serde_json::Value),
    /// In a block.
    Included(Receipt),
    /// Dropped by the relay.
    Dropped {
        /// Code.
        reason: String,
        /// Message.
        message: String,
    },
    /// Neither pending nor included.
    Unknown,
}

/// The relay's per-account view (`GET /v1/relay/accounts/{address}`), if
/// the relay serves it: the nonce to use next, counting pending
/// transactions.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RelayAccount {
    /// Committed nonce plus the account's pending transactions.
    pub next_nonce: u64,
    /// Pending transactions of the account.
    #[serde(default)]
    pub pending: u64,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: String,
    message: String,
}

#[derive(Deserialize)]
struct Submitted {
    id: String,
}

/// A blocking client of one node URL (normally the relay).
#[derive(Debug, Clone)]
pub struct NodeClient {
    base: String,
    agent: ureq::Agent,
}

type HttpResponse = ureq::http::Response<ureq::Body>;

impl NodeClient {
    /// A client of the node at `url` (e.g. `http://127.0.0.1:9300`); each
    /// request gives up after `timeout`.
    pub fn new(url: &str, timeout: Duration) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .timeout_connect(Some(timeout.min(Duration::from_secs(5))))
            .build()
            .into();
        Self { base: url.trim_end_matches('/').to_owned(), agent }
    }

    /// The base URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    fn unreachable(&self, e: ureq::Error) -> ClientError {
        ClientError::Unreachable { url: self.base.clone(), detail: e.to_string() }
    }

    fn get(&self, path: &str) -> Result<HttpResponse, ClientError> {
        self.agent.get(format!("{}{path}", self.base)).call().map_err(|e| self.unreachable(e))
    }

    fn post(&self, path: &str, body: &[u8]) -> Result<HttpResponse, ClientError> {
        self.agent
            .post(format!("{}{path}", self.base))
            .content_type("application/octet-stream")
            .send(body)
            .map_err(|e| self.unreachable(e))
    }

    fn text(path: &str, response: &mut HttpResponse) -> Result<String, ClientError> {
        response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE)
            .read_to_string()
            .map_err(|e| ClientError::BadResponse { path: path.to_owned(), detail: e.to_string() })
    }

    /// Turns a non-success response into [`ClientError::Api`].
    fn api_error(path: &str, mut response: HttpResponse) -> ClientError {
        let status = response.status().as_u16();
        let text = Self::text(path, &mut response).unwrap_or_default();
        match serde_json::from_str::<ErrorBody>(&text) {
            Ok(body) => ClientError::Api { status, code: body.error, message: body.message },
            Err(_) => {
                let message = if text.trim().is_empty() { format!("HTTP {status} for {path}") } else { text };
                ClientError::Api { status, code: "http".into(), message }
            }
        }
    }

    fn json<T: DeserializeOwned>(path: &str, response: &mut HttpResponse) -> Result<T, ClientError> {
        let text = Self::text(path, response)?;
        serde_json::from_str(&text)
            .map_err(|e| ClientError::BadResponse { path: path.to_owned(), detail: e.to_string() })
    }

    /// GET `path` as JSON; `Ok(None)` on 404.
    fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<Option<T>, ClientError> {
        let mut response = self.get(path)?;
        if response.status() == 404 {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(Self::api_error(path, response));
        }
        Self::json(path, &mut response).map(Some)
    }

    /// `GET /v1/status`.
    pub fn status(&self) -> Result<Status, ClientError> {
        let path = "/v1/status";
        self.get_json(path)?.ok_or_else(|| ClientError::Api {
            status: 404,
            code: "not_found".into(),
            message: format!("{} does not serve {path}: is it an Athena relay or executor?", self.base),
        })
    }

    /// `GET /v1/accounts/{address}`; `None` if the node knows no account
    /// there (404).
    pub fn account(&self, address: &str) -> Result<Option<Account>, ClientError> {
        self.get_json(&format!("/v1/accounts/{address}"))
    }

    /// `GET /v1/accounts/{address}/storage/{key}`.
    pub fn storage(&self, address: &str, key_hex: &str) -> Result<StorageItem, ClientError> {
        let path = format!("/v1/accounts/{address}/storage/{key_hex}");
        let mut response = self.get(&path)?;
        if !response.status().is_success() {
            return Err(Self::api_error(&path, response));
        }
        Self::json(&path, &mut response)
    }

    /// `GET /v1/relay/accounts/{address}`: `None` if the relay does not
    /// serve it or any error occurs (the caller falls back to the committed
    /// nonce).
    pub fn relay_account(&self, address: &str) -> Option<RelayAccount> {
        self.get_json(&format!("/v1/relay/accounts/{address}")).ok().flatten()
    }

    /// `GET /v1/transactions/{id}`, from the relay (pending / included /
    /// dropped / unknown) or straight from an executor (a receipt or 404).
    pub fn transaction(&self, id_hex: &str) -> Result<TxLookup, ClientError> {
        let path = format!("/v1/transactions/{id_hex}");
        let mut response = self.get(&path)?;
        let status = response.status();
        if !status.is_success() && status != 404 {
            return Err(Self::api_error(&path, response));
        }
        let text = Self::text(&path, &mut response)?;
        let bad = |detail: String| ClientError::BadResponse { path: path.clone(), detail };
        let value: serde_json::Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(_) if status == 404 => return Ok(TxLookup::Unknown),
            Err(e) => return Err(bad(e.to_string())),
        };
        if status == 404 {
            return Ok(TxLookup::Unknown);
        }
        let receipt = |v: serde_json::Value| serde_json::from_value::<Receipt>(v).map_err(|e| bad(e.to_string()));
        let field = |name: &str| value.get(name).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
        match value.get("receipt") {
            Some(inner) => return receipt(inner.clone()).map(TxLookup::Included),
            None if value.get("gas_used").is_some() => return receipt(value).map(TxLookup::Included),
            None => {}
        }
        match field("status").as_str() {
            "pending" => Ok(TxLookup::Pending(value)),
            "dropped" => Ok(TxLookup::Dropped { reason: field("reason"), message: field("message") }),
            "unknown" => Ok(TxLookup::Unknown),
            other => Err(bad(format!("unknown transaction status {other:?}"))),
        }
    }

    /// `POST /v1/transactions/check`: a dry run. `Ok(None)` if the node
    /// does not offer dry runs (404/405/501/503): the caller goes on
    /// without one.
    pub fn check(&self, tx: &[u8]) -> Result<Option<Check>, ClientError> {
        self.dry_run("/v1/transactions/check", tx)
    }

    /// `POST /v1/transactions/check?ignore_verify=true`: the dry run's
    /// estimate mode, which goes on past a `verify` that refuses (a
    /// transaction not signed yet) and says whether it did
    /// ([`Check::verify_accepted`], `None` from a node without the mode).
    /// `Ok(None)` as for [`NodeClient::check`].
    pub fn estimate(&self, tx: &[u8]) -> Result<Option<Check>, ClientError> {
        self.dry_run("/v1/transactions/check?ignore_verify=true", tx)
    }

    fn dry_run(&self, path: &str, tx: &[u8]) -> Result<Option<Check>, ClientError> {
        let mut response = self.post(path, tx)?;
        match response.status().as_u16() {
            200..=299 => Self::json(path, &mut response).map(Some),
            404 | 405 | 501 | 503 => Ok(None),
            _ => Err(Self::api_error(path, response)),
        }
    }

    /// `POST /v1/transactions`: submits raw transaction bytes to the relay;
    /// returns the id it reports.
    pub fn submit(&self, tx: &[u8]) -> Result<String, ClientError> {
        let path = "/v1/transactions";
        let mut response = self.post(path, tx)?;
        if !response.status().is_success() {
            return Err(Self::api_error(path, response));
        }
        Ok(Self::json::<Submitted>(path, &mut response)?.id)
    }
}

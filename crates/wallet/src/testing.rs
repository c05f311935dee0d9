//! A scripted stand-in for a node (feature `test-util`): a loopback HTTP/1.1
//! server on a thread that answers every request with a handler closure
//! and records the requests, so wallet and CLI tests can check exactly what
//! was sent without running an executor and a relay.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// One request the fake node received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// Path with query.
    pub path: String,
    /// The body.
    pub body: Vec<u8>,
}

/// The answer to a request: status and JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Body (sent as `application/json`).
    pub body: String,
}

impl Reply {
    /// 200 with a JSON body.
    pub fn json(value: serde_json::Value) -> Self {
        Self { status: 200, body: value.to_string() }
    }
    /// `status` with a JSON body.
    pub fn with_status(status: u16, value: serde_json::Value) -> Self {
        Self { status, body: value.to_string() }
    }
    /// An API error `{error, message}`.
    pub fn error(status: u16, code: &str, message: &str) -> Self {
        Self::with_status(status, serde_json::json!({ "error": code, "message": message }))
    }
    /// 404 `not_found`.
    pub fn not_found() -> Self {
        Self::error(404, "not_found", "no such endpoint")
    }
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// A running fake node; stops when dropped.
pub struct FakeNode {
    url: String,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeNode {
    /// Starts a server on `127.0.0.1:0` answering with `handler`.
    pub fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().expect("local addr"));
        listener.set_nonblocking(true).expect("nonblocking");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let thread = {
            let (requests, stop) = (Arc::clone(&requests), Arc::clone(&stop));
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let _ = serve(stream, &*handler, &requests);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
        };
        Self { url, requests, stop, thread: Some(thread) }
    }

    /// The base URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The bodies of every `POST` to `path`.
    pub fn posted(&self, path: &str) -> Vec<Vec<u8>> {
        self.requests().into_iter().filter(|r| r.method == "POST" && r.path == path).map(|r| r.body).collect()
    }
}

impl Drop for FakeNode {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(stream: TcpStream, handler: &Handler, requests: &Mutex<Vec<Request>>) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body)?;
    let request = Request { method, path, body };
    let reply = handler(&request);
    requests.lock().unwrap_or_else(PoisonError::into_inner).push(request);
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        reply.status,
        reply.body.len(),
        reply.body
    )?;
    stream.flush()
}

/// The state behind [`FakeNetwork`]: what a relay + executor pair would
/// answer, kept simple and editable by tests.
#[derive(Debug, Clone)]
pub struct FakeState {
    /// The network (HRP and genesis id in `GET /v1/status`).
    pub network: athena_transaction::Network,
    /// Templates listed in the status (`name → address`).
    pub templates: std::collections::BTreeMap<String, athena_interface::Address>,
    /// Accounts: address → (balance, nonce, template).
    pub accounts: std::collections::BTreeMap<athena_interface::Address, (u64, u64, Option<athena_interface::Address>)>,
    /// `GET /v1/relay/accounts/{a}` answers `next_nonce` from here (404 if
    /// absent).
    pub relay_next_nonce: std::collections::BTreeMap<athena_interface::Address, u64>,
    /// The dry run's answer, whatever the query (like a node without the
    /// estimate mode); `None`: the endpoint is missing (404).
    pub check: Option<serde_json::Value>,
    /// If set, the dry run's answer computed from the transaction bytes
    /// (e.g. by the real runtime), instead of `check`.
    pub check_with: Option<CheckFn>,
    /// If set, `POST /v1/transactions` fails with this reply.
    pub reject: Option<Reply>,
    /// Status of receipts for submitted transactions.
    pub receipt_status: String,
    /// Output (hex) of receipts.
    pub receipt_output: String,
    /// Transactions accepted, as raw bytes.
    pub submitted: Vec<Vec<u8>>,
    /// Extra fields merged into account answers (e.g. `height`,
    /// `state_root`, `proof`).
    pub account_extra: std::collections::BTreeMap<athena_interface::Address, serde_json::Value>,
    /// Answers of `GET /v1/accounts/{a}/storage/{key hex}`, by
    /// (address, key hex); 404 if absent.
    pub storage: std::collections::BTreeMap<(athena_interface::Address, String), serde_json::Value>,
}

/// A dry run computed from the raw transaction: lets a test answer
/// `POST /v1/transactions/check` with what the real runtime says.
#[derive(Clone)]
pub struct CheckFn(pub Arc<DryRun>);

/// The function behind a [`CheckFn`]: (query string without `?`, e.g.
/// `ignore_verify=true` or empty; raw transaction) → the endpoint's JSON.
pub type DryRun = dyn Fn(&str, &[u8]) -> serde_json::Value + Send + Sync;

impl std::fmt::Debug for CheckFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CheckFn(..)")
    }
}

/// A fake relay + executor over [`FakeState`]: status, accounts (404 for
/// unknown ones), dry runs, submission (decodes the transaction and
/// answers its real id) and receipts (every accepted transaction is
/// "included" at once).
pub struct FakeNetwork {
    /// The server.
    pub node: FakeNode,
    /// The state; edit it between requests.
    pub state: Arc<Mutex<FakeState>>,
}

impl FakeNetwork {
    /// Starts a fake node on `network` whose status names `wallet_template`
    /// as `wallet.elf`.
    pub fn start(network: athena_transaction::Network, wallet_template: athena_interface::Address) -> Self {
        let state = Arc::new(Mutex::new(FakeState {
            network,
            templates: [("wallet.elf".to_owned(), wallet_template)].into_iter().collect(),
            accounts: Default::default(),
            relay_next_nonce: Default::default(),
            check: Some(serde_json::json!({ "ok": true, "status": "succeeded", "reason": null, "gas_used": 40_000 })),
            check_with: None,
            reject: None,
            receipt_status: "succeeded".into(),
            receipt_output: String::new(),
            submitted: Vec::new(),
            account_extra: Default::default(),
            storage: Default::default(),
        }));
        let shared = Arc::clone(&state);
        let node = FakeNode::start(move |request| {
            let mut state = shared.lock().unwrap_or_else(PoisonError::into_inner);
            fake_answer(&mut state, request)
        });
        Self { node, state }
    }

    /// The base URL.
    pub fn url(&self) -> &str {
        self.node.url()
    }

    /// Runs `f` on the state.
    pub fn with<R>(&self, f: impl FnOnce(&mut FakeState) -> R) -> R {
        f(&mut self.state.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

fn fake_answer(state: &mut FakeState, request: &Request) -> Reply {
    use serde_json::json;
    let net = state.network.clone();
    let path = request.path.as_str();
    let address_of = |text: &str| net.parse_address(text).ok();
    match (request.method.as_str(), path) {
        ("GET", "/v1/status") => Reply::json(json!({
            "role": "executor",
            "height": 5,
            "state_root": hex::encode([0u8; 32]),
            "network": net.hrp(),
            "genesis_id": hex::encode(net.genesis_id().as_bytes()),
            "templates": state.templates.iter().map(|(k, v)| (k.clone(), json!(net.encode_address(v)))).collect::<serde_json::Map<_, _>>(),
        })),
        ("POST", _) if path.split('?').next() == Some("/v1/transactions/check") => {
            match (&state.check_with, &state.check) {
                (Some(f), _) => Reply::json((f.0)(path.split_once('?').map_or("", |(_, q)| q), &request.body)),
                (None, Some(check)) => Reply::json(check.clone()),
                (None, None) => Reply::not_found(),
            }
        }
        ("POST", "/v1/transactions") => {
            if let Some(reply) = &state.reject {
                return reply.clone();
            }
            match athena_transaction::decode(&request.body) {
                Ok(tx) => {
                    // Like the relay: a transaction of the same principal
                    // and nonce is already "pending".
                    let taken = state
                        .submitted
                        .iter()
                        .filter_map(|b| athena_transaction::decode(b).ok())
                        .find(|t| (t.body.principal, t.body.nonce) == (tx.body.principal, tx.body.nonce));
                    match taken {
                        Some(t) if t.id() == tx.id() => {
                            return Reply::error(409, "duplicate", "transaction is already pending")
                        }
                        Some(_) => {
                            return Reply::error(422, "underpriced", "replacement underpriced: gas price too low")
                        }
                        None => {}
                    }
                    state.submitted.push(request.body.clone());
                    Reply::with_status(202, json!({ "id": hex::encode(tx.id().0), "status": "pending" }))
                }
                Err(e) => Reply::error(400, "malformed", &format!("malformed transaction: {e}")),
            }
        }
        ("GET", _) if path.starts_with("/v1/relay/accounts/") => {
            match address_of(&path["/v1/relay/accounts/".len()..]).and_then(|a| state.relay_next_nonce.get(&a)) {
                Some(n) => Reply::json(json!({ "next_nonce": n, "pending": 1 })),
                None => Reply::not_found(),
            }
        }
        ("GET", _) if path.starts_with("/v1/accounts/") && path.contains("/storage/") => {
            let rest = &path["/v1/accounts/".len()..];
            let (text, key) = rest.split_once("/storage/").unwrap_or_default();
            match address_of(text).and_then(|a| state.storage.get(&(a, key.to_owned()))) {
                Some(answer) => Reply::json(answer.clone()),
                None => Reply::error(404, "not_found", "no such slot"),
            }
        }
        ("GET", _) if path.starts_with("/v1/accounts/") => {
            let text = &path["/v1/accounts/".len()..];
            let Some(address) = address_of(text) else {
                return Reply::error(400, "bad_address", &format!("{text:?}: not an address of this network"));
            };
            match state.accounts.get(&address) {
                Some((balance, nonce, template)) => {
                    let mut answer = json!({
                        "address": text,
                        "balance": balance,
                        "nonce": nonce,
                        "template": template.map(|t| net.encode_address(&t)),
                        "state": "",
                    });
                    if let (Some(extra), Some(map)) = (state.account_extra.get(&address), answer.as_object_mut()) {
                        for (k, v) in extra.as_object().into_iter().flatten() {
                            map.insert(k.clone(), v.clone());
                        }
                    }
                    Reply::json(answer)
                }
                None => Reply::error(404, "not_found", &format!("no account at {text}")),
            }
        }
        ("GET", _) if path.starts_with("/v1/transactions/") => {
            let id = &path["/v1/transactions/".len()..];
            let known = state
                .submitted
                .iter()
                .filter_map(|b| athena_transaction::decode(b).ok())
                .any(|tx| hex::encode(tx.id().0) == id);
            if !known {
                return Reply::with_status(
                    404,
                    json!({ "id": id, "status": "unknown", "error": "unknown_transaction", "message": "unknown" }),
                );
            }
            let failed = state.receipt_status != "succeeded";
            Reply::json(json!({ "id": id, "status": "included", "receipt": {
                "id": id, "height": 6, "index": 0, "bundle": 0,
                "status": state.receipt_status,
                "reason": if failed { json!("payload reverted") } else { json!(null) },
                "revert_message": if failed { json!("wallet: insufficient balance") } else { json!(null) },
                "gas_used": 42_000, "fee": 42_000, "output": state.receipt_output, "logs": [],
            }}))
        }
        _ => Reply::not_found(),
    }
}

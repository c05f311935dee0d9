//! What every node process shares: JSON errors, bounded request bodies, and
//! [`NodeHandle`], a running HTTP server (its own tokio runtime thread)
//! plus a blocking worker thread (block production or block following).

use crate::auth::AuthError;
use crate::base_layer::BaseLayerError;
use crate::chain::ChainError;
use crate::types::{Divergence, ErrorBody};
use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

/// An HTTP error answer: status and `{ "error": code, "message": text }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Machine code.
    pub code: &'static str,
    /// Message for people.
    pub message: String,
}

impl ApiError {
    /// 400 with `code`.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status: StatusCode::BAD_REQUEST, code, message: message.into() }
    }
    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError { status: StatusCode::NOT_FOUND, code: "not_found", message: message.into() }
    }
    /// 413.
    pub fn too_large(message: impl Into<String>) -> Self {
        ApiError { status: StatusCode::PAYLOAD_TOO_LARGE, code: "too_large", message: message.into() }
    }
    /// 410 with `code`: the data existed but this node deleted it on
    /// purpose (pruning); retrying will not help.
    pub fn gone(code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status: StatusCode::GONE, code, message: message.into() }
    }
    /// 500: the node itself failed (database, internal error).
    pub fn internal(message: impl Into<String>) -> Self {
        ApiError { status: StatusCode::INTERNAL_SERVER_ERROR, code: "internal", message: message.into() }
    }
    /// 429 `rate_limited`: the client is over its budget (the caller adds
    /// `Retry-After`).
    pub fn too_many_requests(message: impl Into<String>) -> Self {
        ApiError { status: StatusCode::TOO_MANY_REQUESTS, code: "rate_limited", message: message.into() }
    }
    /// 503: a dependency is unavailable or the node is busy.
    pub fn unavailable(code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status: StatusCode::SERVICE_UNAVAILABLE, code, message: message.into() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(ErrorBody { error: self.code.to_owned(), message: self.message })).into_response()
    }
}

impl From<ChainError> for ApiError {
    /// Pruned heights are `410 pruned` (the data existed and was deleted on
    /// purpose: asking again will not help, another node may have it);
    /// everything else is a server fault.
    fn from(error: ChainError) -> Self {
        match error {
            ChainError::Pruned { .. } | ChainError::Store(athena_store::StoreError::Pruned { .. }) => {
                ApiError::gone("pruned", error.to_string())
            }
            other => ApiError::internal(other.to_string()),
        }
    }
}

impl From<BaseLayerError> for ApiError {
    fn from(error: BaseLayerError) -> Self {
        match error {
            BaseLayerError::Unavailable(message) => ApiError::unavailable("unavailable", message),
            // 401: no valid proof of who posted; 403: a valid key that is not authorized.
            BaseLayerError::Unauthenticated(e) => {
                let status = match e {
                    AuthError::UnknownSigner { .. } | AuthError::OutsideTerm { .. } => StatusCode::FORBIDDEN,
                    AuthError::Unsigned { .. } | AuthError::BadSignature { .. } => StatusCode::UNAUTHORIZED,
                };
                ApiError { status, code: e.code(), message: e.to_string() }
            }
            BaseLayerError::Rejected { error, message } => match error.as_str() {
                "conflict" => ApiError { status: StatusCode::CONFLICT, code: "conflict", message },
                "genesis_result_missing" => {
                    ApiError { status: StatusCode::CONFLICT, code: "genesis_result_missing", message }
                }
                "queue_full" => ApiError::unavailable("queue_full", message),
                _ => ApiError::bad_request("bad_request", message),
            },
        }
    }
}

/// Reads a request body of at most `limit` bytes; larger ones (by
/// `Content-Length` or by counting) are `413 too_large`.
pub async fn read_body(headers: &HeaderMap, body: Body, limit: usize, what: &str) -> Result<Bytes, ApiError> {
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::too_large(format!("{what} is larger than {limit} bytes")));
    }
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::too_large(format!("{what} is larger than {limit} bytes (or was cut off)")))
}

/// JSON 404 for unknown paths.
pub async fn fallback() -> ApiError {
    ApiError::not_found("no such endpoint")
}

/// JSON 405 for known paths with the wrong method.
pub async fn method_not_allowed() -> ApiError {
    ApiError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        code: "method_not_allowed",
        message: "method not allowed".into(),
    }
}

/// Runs blocking work (database writes, execution) off the async workers.
pub async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work).await.map_err(|e| ApiError::internal(format!("worker failed: {e}")))
}

/// A node-level failure that ends a process.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The chain (store, execution, genesis).
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The base layer refused something it must not.
    #[error(transparent)]
    BaseLayer(#[from] BaseLayerError),
    /// Binding or serving.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Bad configuration.
    #[error("{0}")]
    Config(String),
    /// `athena node compact` failed (the message says why and what to do).
    #[error(transparent)]
    Compact(#[from] crate::compact::CompactError),
    /// The base layer served a result that is not signed by an authorized
    /// executor key: the base layer (or someone on the way) is lying, which
    /// is not the executor's divergence.
    #[error("the base layer served an unauthentic result: {0}")]
    Unauthenticated(#[from] AuthError),
}

/// How a worker ended without an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkerExit {
    /// Asked to stop.
    Stopped,
    /// A shadow executor found a divergence and stopped following.
    Diverged(Box<Divergence>),
}

/// What a worker returns.
pub type WorkerResult = Result<WorkerExit, NodeError>;

/// Something a process waiting on a node should react to.
#[derive(Debug)]
pub enum NodeEvent {
    /// SIGINT or SIGTERM (only when the node handles signals).
    Signal,
    /// The worker thread ended.
    WorkerDone,
}

/// A running node: an HTTP server and a worker thread. Dropping it stops
/// both.
#[derive(Debug)]
pub struct NodeHandle {
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
    worker: Option<JoinHandle<WorkerResult>>,
    events: mpsc::Receiver<NodeEvent>,
}

impl NodeHandle {
    /// Binds `listen`, serves `router` on a runtime thread (with the peer's
    /// `ConnectInfo<SocketAddr>`, for per-client rate limits), and runs
    /// `worker` (which must return soon after its stop flag is set) on
    /// another thread. With `signals`, SIGINT/SIGTERM become
    /// [`NodeEvent::Signal`].
    pub fn start(
        listen: SocketAddr,
        router: Router,
        signals: bool,
        worker: impl FnOnce(&AtomicBool) -> WorkerResult + Send + 'static,
    ) -> Result<NodeHandle, NodeError> {
        let listener = std::net::TcpListener::bind(listen)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (events_tx, events) = mpsc::channel();
        let (shutdown, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
        // Registered now, before the caller announces the node as started.
        let stop_signals = if signals {
            let _context = runtime.enter();
            Some(StopSignals::register()?)
        } else {
            None
        };
        let signal_tx = events_tx.clone();
        let server = std::thread::Builder::new().name(format!("http-{addr}")).spawn(move || {
            runtime.block_on(async move {
                if let Some(mut stop_signals) = stop_signals {
                    tokio::spawn(async move {
                        stop_signals.recv().await;
                        let _ = signal_tx.send(NodeEvent::Signal);
                    });
                }
                let listener = match tokio::net::TcpListener::from_std(listener) {
                    Ok(listener) => listener,
                    Err(e) => return tracing::error!("cannot serve on {addr}: {e}"),
                };
                tokio::select! {
                    served = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()) => {
                        if let Err(e) = served { tracing::error!("HTTP server on {addr} failed: {e}") }
                    }
                    _ = shutdown_rx => {}
                }
            });
            runtime.shutdown_timeout(Duration::from_secs(1));
        })?;
        let stop = Arc::new(AtomicBool::new(false));
        let worker_stop = Arc::clone(&stop);
        let worker = std::thread::Builder::new().name("worker".into()).spawn(move || {
            let result = worker(&worker_stop);
            let _ = events_tx.send(NodeEvent::WorkerDone);
            result
        })?;
        Ok(NodeHandle { addr, shutdown: Some(shutdown), server: Some(server), stop, worker: Some(worker), events })
    }

    /// The bound address (useful with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Blocks until the next event.
    pub fn wait(&self) -> NodeEvent {
        self.events.recv().unwrap_or(NodeEvent::WorkerDone)
    }

    /// Whether the worker has ended.
    pub fn worker_finished(&self) -> bool {
        self.worker.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Stops the worker and waits for it, leaving the server running.
    pub fn stop_worker(&mut self) -> WorkerResult {
        self.stop.store(true, Ordering::SeqCst);
        match self.worker.take() {
            Some(worker) => {
                worker.join().unwrap_or_else(|_| Err(NodeError::Config("the worker thread panicked".into())))
            }
            None => Ok(WorkerExit::Stopped),
        }
    }

    /// Stops worker and server; returns how the worker ended.
    pub fn stop(mut self) -> WorkerResult {
        let result = self.stop_worker();
        self.stop_server();
        result
    }

    fn stop_server(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.join();
        }
    }
}

impl Drop for NodeHandle {
    fn drop(&mut self) {
        let _ = self.stop_worker();
        self.stop_server();
    }
}

/// SIGINT and SIGTERM, watched from the moment this is created. A node
/// registers them before it prints `listening`, so a signal sent right
/// after that line stops it gracefully; registered any later, such a
/// signal took the default action and killed the process mid-work.
#[derive(Debug)]
pub struct StopSignals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl StopSignals {
    /// Registers both signals. Must be called within a Tokio runtime (in
    /// an async task, or under `Runtime::enter`). Elsewhere than Unix only
    /// Ctrl-C is watched, from the first [`StopSignals::recv`].
    pub fn register() -> std::io::Result<StopSignals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(StopSignals { interrupt: signal(SignalKind::interrupt())?, terminate: signal(SignalKind::terminate())? })
        }
        #[cfg(not(unix))]
        Ok(StopSignals {})
    }

    /// Waits for the next SIGINT or SIGTERM (Ctrl-C elsewhere).
    pub async fn recv(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Sleeps up to `total` in small steps, returning early (`false`) once
/// `stop` is set.
pub fn sleep_unless_stopped(stop: &AtomicBool, total: Duration) -> bool {
    let step = Duration::from_millis(20);
    let mut left = total;
    while !left.is_zero() {
        if stop.load(Ordering::SeqCst) {
            return false;
        }
        let now = left.min(step);
        std::thread::sleep(now);
        left -= now;
    }
    !stop.load(Ordering::SeqCst)
}

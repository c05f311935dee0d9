//! The sequencer process: the devnet base layer ([`DevnetSequencer`]) behind
//! the base-layer HTTP API (`docs/node.md`, "Sequencer API"), producing a
//! block every interval.

use crate::auth::{ResultPolicy, SignedResult};
use crate::base_layer::{BaseLayer, BaseLayerError, DevnetSequencer, SEQUENCER_FILE};
use crate::executor_keys::LivePolicy;
use crate::http::{self, blocking, read_body, ApiError, NodeError, NodeHandle, WorkerExit};
use crate::sequencer_limits::SequencerLimits;
use crate::types::{Block, Bundle, LatestResponse, SequencerStatus, MAX_BUNDLE_BYTES};
use athena_ratelimit::middleware::rate_limit;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Largest `POST /v1/results` body (a signed result is about 500 bytes of
/// JSON; the rest is room for whitespace).
const MAX_RESULT_BODY: usize = 4096;

/// How a sequencer runs.
#[derive(Debug, Clone)]
pub struct SequencerConfig {
    /// Where `sequencer.redb` lives; `None` keeps blocks in memory (tests).
    pub data_dir: Option<PathBuf>,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Time between blocks.
    pub block_interval: Duration,
    /// Produce blocks even with no bundles queued (default: skip them).
    pub empty_blocks: bool,
    /// Turn SIGINT/SIGTERM into [`crate::http::NodeEvent::Signal`].
    pub signals: bool,
    /// Per-client rate limits of the API (shared, so a test can stop their
    /// clock: [`SequencerLimits::freeze_clock`]).
    pub limits: Arc<SequencerLimits>,
}

#[derive(Clone)]
struct SeqState {
    base: Arc<dyn BaseLayer>,
    devnet: Option<Arc<DevnetSequencer>>,
}

/// The base-layer HTTP API over any [`BaseLayer`] (`devnet` adds the queue
/// length to `/v1/status`), rate-limited per client by `limits` (see
/// [`athena_ratelimit::middleware::rate_limit`]).
pub fn router(base: Arc<dyn BaseLayer>, devnet: Option<Arc<DevnetSequencer>>, limits: Arc<SequencerLimits>) -> Router {
    Router::new()
        .route("/v1/status", get(status))
        .route("/v1/bundles", post(submit))
        .route("/v1/blocks/latest", get(latest))
        .route("/v1/blocks/{height}", get(block))
        .route("/v1/results", post(publish))
        .route("/v1/results/{height}", get(result))
        .fallback(http::fallback)
        .method_not_allowed_fallback(http::method_not_allowed)
        .with_state(SeqState { base, devnet })
        .layer(axum::middleware::from_fn_with_state(limits, rate_limit::<SequencerLimits>))
}

/// Parses a height path segment.
pub fn parse_height(text: &str) -> Result<u64, ApiError> {
    text.parse().map_err(|_| ApiError::bad_request("bad_height", format!("{text:?} is not a block height")))
}

async fn status(State(s): State<SeqState>) -> Result<Json<SequencerStatus>, ApiError> {
    Ok(Json(SequencerStatus {
        role: "sequencer".into(),
        height: s.base.latest_height()?,
        queued: s.devnet.as_ref().map_or(0, |d| d.queued()),
    }))
}

async fn submit(State(s): State<SeqState>, headers: HeaderMap, body: Body) -> Result<Response, ApiError> {
    let bytes = read_body(&headers, body, MAX_BUNDLE_BYTES, "bundle").await?;
    let bundle = Bundle::from_bytes(&bytes).map_err(|e| match e {
        crate::types::WireError::TooLarge { .. } => ApiError::too_large(e.to_string()),
        other => ApiError::bad_request("bad_bundle", other.to_string()),
    })?;
    let relay = hex::encode(bundle.relay);
    // The devnet sequencer commits the bundle to disk before answering.
    let base = Arc::clone(&s.base);
    let queued = blocking(move || base.submit_bundle(bundle)).await??;
    tracing::debug!(relay, txs = queued.txs, "bundle queued");
    Ok((StatusCode::ACCEPTED, Json(queued)).into_response())
}

async fn latest(State(s): State<SeqState>) -> Result<Json<LatestResponse>, ApiError> {
    Ok(Json(LatestResponse { height: s.base.latest_height()? }))
}

async fn block(State(s): State<SeqState>, Path(height): Path<String>) -> Result<Response, ApiError> {
    let height = parse_height(&height)?;
    let base = Arc::clone(&s.base);
    let block: Option<Block> = blocking(move || base.block(height)).await??;
    let block = block.ok_or_else(|| ApiError::not_found(format!("block {height} is not produced yet")))?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], block.to_bytes()).into_response())
}

async fn publish(State(s): State<SeqState>, headers: HeaderMap, body: Body) -> Result<Response, ApiError> {
    let bytes = read_body(&headers, body, MAX_RESULT_BODY, "result").await?;
    let result: SignedResult =
        serde_json::from_slice(&bytes).map_err(|e| ApiError::bad_request("bad_result", e.to_string()))?;
    let base = Arc::clone(&s.base);
    blocking(move || base.publish_result(&result)).await??;
    Ok((StatusCode::OK, Json(result)).into_response())
}

async fn result(State(s): State<SeqState>, Path(height): Path<String>) -> Result<Json<SignedResult>, ApiError> {
    let height = parse_height(&height)?;
    let base = Arc::clone(&s.base);
    let result = blocking(move || base.result(height)).await??;
    result.map(Json).ok_or_else(|| ApiError::not_found(format!("no result published for block {height}")))
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Starts a sequencer that accepts no executor result (only bundles and
/// blocks are served): [`start_sequencer_with`] authorizes executors.
pub fn start_sequencer(config: SequencerConfig) -> Result<NodeHandle, NodeError> {
    start_sequencer_with(config, ResultPolicy::default())
}

/// Starts a sequencer: opens its database, serves the API and produces a
/// block every `block_interval`; `results` decides which published results
/// are accepted (`docs/node.md`, "Authenticated results"). A
/// [`LivePolicy`] with a keys file (e.g. from a
/// [`KeySource`](crate::executor_keys::KeySource)) is re-read
/// once per block interval: a change takes effect for results published
/// from then on; a file that does not parse is logged and the keys in
/// force stay (`docs/node.md`, "Rotating executor keys").
pub fn start_sequencer_with(config: SequencerConfig, results: impl Into<LivePolicy>) -> Result<NodeHandle, NodeError> {
    let mut results = results.into();
    let sequencer = match &config.data_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            DevnetSequencer::open(dir.join(SEQUENCER_FILE)).map_err(BaseLayerError::from)?
        }
        None => DevnetSequencer::in_memory().map_err(BaseLayerError::from)?,
    };
    results.log();
    let sequencer = sequencer.with_policy(results.policy().clone());
    let sequencer = Arc::new(sequencer);
    tracing::info!("sequencer at block {}", sequencer.latest_height()?);
    let base: Arc<dyn BaseLayer> = Arc::clone(&sequencer) as Arc<dyn BaseLayer>;
    let router = router(base, Some(Arc::clone(&sequencer)), Arc::clone(&config.limits));
    let interval = config.block_interval.max(Duration::from_millis(1));
    let empty = config.empty_blocks;
    NodeHandle::start(config.listen, router, config.signals, move |stop: &AtomicBool| {
        let mut next = Instant::now() + interval;
        while !stop.load(Ordering::SeqCst) {
            let wait = next.saturating_duration_since(Instant::now());
            if !http::sleep_unless_stopped(stop, wait) {
                break;
            }
            next += interval;
            if results.reload() {
                sequencer.set_policy(results.policy().clone());
            }
            match sequencer.produce_block(unix_now(), empty) {
                Ok(Some(block)) => tracing::info!(
                    "block {}: {} bundles, {} txs, hash {}…",
                    block.height,
                    block.bundles.len(),
                    block.tx_count(),
                    &hex::encode(block.hash())[..12]
                ),
                Ok(None) => {}
                Err(e) => tracing::error!("cannot produce a block: {e}"),
            }
        }
        Ok(WorkerExit::Stopped)
    })
}

//! Per-client rate limits of the sequencer's HTTP API (`docs/node.md`,
//! "Rate limits"), on the shared limiter of `athena-ratelimit`.
//!
//! `POST /v1/bundles` is open to any relay and costs a decode of up to
//! [`crate::types::MAX_BUNDLE_BYTES`] and a fsynced write, and the queue is
//! bounded ([`crate::base_layer::MAX_QUEUE_BYTES`]): without a per-client
//! budget, one client could keep the queue full and shut every other relay
//! out. Every other request (status, blocks, results) draws from a second,
//! larger budget, so executors catching up are not held back by bundles.

use athena_ratelimit::{client_ip, Limited, Rate, TwoBudgets, DEFAULT_MAX_CLIENTS};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// The sequencer's per-client budgets (`athena node sequencer
/// --bundle-rate/--bundle-burst/--request-rate/--request-burst`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SequencerRateLimits {
    /// `POST /v1/bundles`.
    pub bundles: Rate,
    /// Every other request.
    pub requests: Rate,
    /// Most clients tracked per budget (fail closed beyond, see
    /// [`athena_ratelimit::Limiter::check_at`]).
    pub max_clients: usize,
    /// Key clients by the right-most `X-Forwarded-For` entry: only behind
    /// exactly one trusted reverse proxy that appends the address it saw.
    pub trust_forwarded_for: bool,
}

impl Default for SequencerRateLimits {
    /// Bundles 20/s with bursts of 50 per client: a relay posts about one
    /// bundle per block. Other requests 1000/s with bursts of 2000: an
    /// executor catching up fetches a block and posts a result per height,
    /// and on a devnet every process shares the loopback address.
    fn default() -> Self {
        Self {
            bundles: Rate { per_second: 20, burst: 50 },
            requests: Rate { per_second: 1000, burst: 2000 },
            max_clients: DEFAULT_MAX_CLIENTS,
            trust_forwarded_for: false,
        }
    }
}

impl SequencerRateLimits {
    /// No limits (tests that fill the queue on purpose).
    pub fn unlimited() -> Self {
        Self { bundles: Rate::UNLIMITED, requests: Rate::UNLIMITED, ..Self::default() }
    }
}

/// The limiters of one running sequencer, shared by its HTTP handlers.
#[derive(Debug)]
pub struct SequencerLimits {
    config: SequencerRateLimits,
    budgets: TwoBudgets,
}

impl SequencerLimits {
    /// Limiters for `config`, with their clock starting now.
    pub fn new(config: SequencerRateLimits) -> Self {
        Self { config, budgets: TwoBudgets::new(config.bundles, config.requests, config.max_clients) }
    }

    /// [`SequencerLimits::new`], shared: the form
    /// [`crate::sequencer::SequencerConfig::limits`] takes.
    pub fn shared(config: SequencerRateLimits) -> Arc<Self> {
        Arc::new(Self::new(config))
    }

    /// The configuration.
    pub fn config(&self) -> &SequencerRateLimits {
        &self.config
    }

    /// Stops the limiters' clock (tests): no bucket refills from now on, so
    /// a test can count requests without racing the refill.
    pub fn freeze_clock(&self) {
        self.budgets.freeze_clock();
    }

    /// Takes a token for a request to `POST /v1/bundles` (`bundle`) or any
    /// other endpoint, from the client at `ip`.
    pub fn check(&self, bundle: bool, ip: IpAddr) -> Result<(), Limited> {
        self.budgets.check(bundle, ip)
    }
}

/// Middleware: refuses a request over its client's budget before its body
/// is read, with 429 `rate_limited` and `Retry-After` in whole seconds.
/// Requests without a peer address (a router served without connect info)
/// are not limited.
pub async fn rate_limit(State(limits): State<Arc<SequencerLimits>>, request: Request, next: Next) -> Response {
    let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>().copied() else {
        return next.run(request).await;
    };
    let forwarded_for = request.headers().get_all("x-forwarded-for").iter().next_back().and_then(|v| v.to_str().ok());
    let ip = client_ip(peer, forwarded_for, limits.config.trust_forwarded_for);
    let bundle = request.method() == Method::POST && request.uri().path() == "/v1/bundles";
    match limits.check(bundle, ip) {
        Ok(()) => next.run(request).await,
        Err(limited) => {
            let secs = limited.retry_after_secs();
            let what = if bundle { "bundles" } else { "requests" };
            tracing::debug!(client = %ip, what, "rate limited");
            let error = crate::http::ApiError::too_many_requests(format!(
                "too many {what} from this client; retry in {secs} s"
            ));
            let mut response = error.into_response();
            if let Ok(value) = secs.to_string().parse() {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
    }
}

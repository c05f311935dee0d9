//! Per-client rate limits of the sequencer's HTTP API (`docs/node.md`,
//! "Rate limits"), on the shared limiter of `athena-ratelimit`.
//!
//! `POST /v1/bundles` is open to any relay and costs a decode of up to
//! [`crate::types::MAX_BUNDLE_BYTES`] and a fsynced write, and the queue is
//! bounded ([`crate::base_layer::MAX_QUEUE_BYTES`]): without a per-client
//! budget, one client could keep the queue full and shut every other relay
//! out. Every other request (status, blocks, results) draws from a second,
//! larger budget, so executors catching up are not held back by bundles.

use athena_ratelimit::middleware::HttpBudgets;
use athena_ratelimit::{Rate, TwoBudgets, DEFAULT_MAX_CLIENTS};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
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
}

/// The sequencer's side of the shared rate-limit middleware
/// ([`athena_ratelimit::middleware::rate_limit`], mounted by
/// [`crate::sequencer::router`]): `POST /v1/bundles` draws from the bundle
/// budget, and a refusal is the API's JSON `rate_limited` error.
impl HttpBudgets for SequencerLimits {
    fn budgets(&self) -> &TwoBudgets {
        &self.budgets
    }

    fn trust_forwarded_for(&self) -> bool {
        self.config.trust_forwarded_for
    }

    fn is_costly(&self, method: &Method, path: &str) -> bool {
        method == Method::POST && path == "/v1/bundles"
    }

    fn refusal(&self, costly: bool, secs: u64) -> Response {
        let what = if costly { "bundles" } else { "requests" };
        crate::http::ApiError::too_many_requests(format!("too many {what} from this client; retry in {secs} s"))
            .into_response()
    }
}

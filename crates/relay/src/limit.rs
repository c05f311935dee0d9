//! The relay's per-client rate limits (`docs/relay.md`, "Rate limits"),
//! on the shared limiter of `athena-ratelimit`.
//!
//! A public relay must not let one client monopolise it: every
//! `POST /v1/transactions` costs a signature check, executor dry runs and a
//! fsynced write, and the proxied queries cost executor work. Each client
//! gets a token bucket per budget: [`Budget::Submit`] for the two `POST`s
//! that make the executor work, [`Budget::Read`] for everything else.

use std::net::IpAddr;

use athena_ratelimit::middleware::HttpBudgets;
use athena_ratelimit::TwoBudgets;
pub use athena_ratelimit::{client_ip, client_key, Limited, Limiter, Rate, DEFAULT_MAX_CLIENTS};
use axum::http::Method;
use axum::response::Response;

/// The relay's per-client limits ([`crate::RelayConfig::rate_limits`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// `POST /v1/transactions` and `POST /v1/transactions/check`.
    pub submit: Rate,
    /// Every other request (status, relay info, proxied `GET`s).
    pub read: Rate,
    /// Most clients tracked per budget; when that many are mid-burst, new
    /// clients are refused until some bucket refills (fail closed: a flood
    /// from many addresses cannot grow memory nor reset known clients).
    pub max_clients: usize,
    /// Key clients by the right-most `X-Forwarded-For` entry instead of
    /// the TCP peer. Only for a relay behind exactly one trusted reverse
    /// proxy that appends the address it saw; otherwise any client could
    /// pick its own key.
    pub trust_forwarded_for: bool,
}

impl Default for RateLimits {
    /// Submit 20/s with bursts of 50, reads 100/s with bursts of 200: far
    /// above what one wallet (or the devnet demo) does, far below what it
    /// takes to swamp the executor.
    fn default() -> Self {
        Self {
            submit: Rate { per_second: 20, burst: 50 },
            read: Rate { per_second: 100, burst: 200 },
            max_clients: DEFAULT_MAX_CLIENTS,
            trust_forwarded_for: false,
        }
    }
}

impl RateLimits {
    /// No limits at all (tests that hammer the relay on purpose).
    pub fn unlimited() -> Self {
        Self { submit: Rate::UNLIMITED, read: Rate::UNLIMITED, ..Self::default() }
    }
}

/// Which budget a request draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// Requests that make the relay and executor check a transaction.
    Submit,
    /// Everything else.
    Read,
}

impl Budget {
    /// Which budget a request draws from: the two `POST`s that make the
    /// relay and the executor check a transaction, or the reads.
    pub fn of(method: &Method, path: &str) -> Budget {
        if method == Method::POST && matches!(path, "/v1/transactions" | "/v1/transactions/check") {
            Budget::Submit
        } else {
            Budget::Read
        }
    }
}

/// The two budgets of a relay, shared by its HTTP handlers.
#[derive(Debug)]
pub struct ClientLimits {
    config: RateLimits,
    budgets: TwoBudgets,
}

impl ClientLimits {
    /// Limiters for `config`.
    pub fn new(config: RateLimits) -> Self {
        Self { config, budgets: TwoBudgets::new(config.submit, config.read, config.max_clients) }
    }

    /// Stop the limiters' clock where it is: no bucket refills any more, so
    /// a test can count requests without racing the refill.
    #[cfg(feature = "test-hooks")]
    pub fn freeze_clock(&self) {
        self.budgets.freeze_clock();
    }

    /// The configuration.
    pub fn config(&self) -> &RateLimits {
        &self.config
    }

    /// Take a token from `budget` for the client at `ip`.
    pub fn check(&self, budget: Budget, ip: IpAddr) -> Result<(), Limited> {
        self.budgets.check(budget == Budget::Submit, ip)
    }
}

/// The relay's side of the shared rate-limit middleware (mounted by
/// [`crate::server::router`]): submissions draw from [`Budget::Submit`], and
/// a refusal is the API's JSON `rate_limited` error.
impl HttpBudgets for ClientLimits {
    fn budgets(&self) -> &TwoBudgets {
        &self.budgets
    }

    fn trust_forwarded_for(&self) -> bool {
        self.config.trust_forwarded_for
    }

    fn is_costly(&self, method: &Method, path: &str) -> bool {
        Budget::of(method, path) == Budget::Submit
    }

    fn refusal(&self, costly: bool, secs: u64) -> Response {
        let what = if costly { "submissions" } else { "requests" };
        crate::server::error(429, "rate_limited", format!("too many {what} from this client; retry in {secs} s"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets() {
        assert_eq!(Budget::of(&Method::POST, "/v1/transactions"), Budget::Submit);
        assert_eq!(Budget::of(&Method::POST, "/v1/transactions/check"), Budget::Submit);
        assert_eq!(Budget::of(&Method::GET, "/v1/transactions"), Budget::Read);
        assert_eq!(Budget::of(&Method::GET, "/v1/status"), Budget::Read);
        assert_eq!(Budget::of(&Method::POST, "/v1/other"), Budget::Read);
    }

    #[test]
    fn each_budget_has_its_own_buckets_per_client() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:ffff:ffff:ffff".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        let limits =
            ClientLimits::new(RateLimits { submit: Rate { per_second: 1, burst: 1 }, ..RateLimits::unlimited() });
        assert_eq!(limits.check(Budget::Submit, a), Ok(()));
        assert!(limits.check(Budget::Submit, b).is_err(), "same /64");
        assert_eq!(limits.check(Budget::Submit, c), Ok(()));
        assert_eq!(limits.check(Budget::Read, a), Ok(()));
    }
}

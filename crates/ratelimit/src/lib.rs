//! Per-client rate limits for Athena's public HTTP endpoints: the relay's
//! (`docs/relay.md`, "Rate limits") and the devnet sequencer's
//! (`docs/node.md`). One job: decide whether a client may make one more
//! request now, in bounded memory.
//!
//! Each client (an IPv4 address, or an IPv6 /64, one subscriber's usual
//! allocation, so a host cannot multiply its budget by rotating addresses
//! inside it; see [`client_key`]) gets a token bucket per [`Limiter`].
//!
//! The bucket is kept as GCRA ("theoretical arrival time", `tat`): one
//! number per client, no background refill. A request at `now` is allowed
//! when `max(tat, now) + interval - now <= burst × interval`, and then moves
//! `tat` on by one `interval`. A client whose `tat` is in the past has a full
//! bucket, so forgetting it changes nothing: that is how the map stays
//! bounded ([`Limiter::check_at`]). Rate limiting is not consensus, so a
//! monotonic clock is fine; the clock is an argument (`now` since the
//! limiter's creation) so the rules are unit-tested without sleeping
//! ([`Clock`] supplies it in servers).

#[cfg(feature = "axum")]
pub mod middleware;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Clients tracked at once per budget by default. An entry is ~40 bytes, so
/// this is a few MiB at worst; entries are forgotten once their bucket is
/// full again (at most `burst / rate` seconds after their last request).
pub const DEFAULT_MAX_CLIENTS: usize = 65_536;

/// How often idle clients are swept out even when the map is not full, so
/// an idle relay gives the memory of a past flood back.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// One budget: `per_second` requests sustained, `burst` at once. Zero in
/// either means unlimited (no bucket is kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Tokens added per second.
    pub per_second: u32,
    /// Bucket size: requests allowed back to back after an idle spell.
    pub burst: u32,
}

impl Rate {
    /// No limit.
    pub const UNLIMITED: Rate = Rate { per_second: 0, burst: 0 };

    /// Whether this budget limits anything.
    pub fn is_unlimited(&self) -> bool {
        self.per_second == 0 || self.burst == 0
    }
}

/// The client a request is counted against: an IPv4 address, or the /64
/// prefix of an IPv6 address (IPv4-mapped IPv6 addresses count as IPv4).
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(v6.to_bits() & !((1u128 << 64) - 1))),
        },
    }
}

/// The address a request is limited by: the TCP peer, or with
/// `trust_forwarded_for` the right-most parseable entry of the last
/// `X-Forwarded-For` header (the one the trusted proxy appended; entries to
/// its left come from the client and are ignored). Falls back to the peer.
pub fn client_ip(peer: SocketAddr, forwarded_for: Option<&str>, trust_forwarded_for: bool) -> IpAddr {
    if trust_forwarded_for {
        if let Some(ip) = forwarded_for.and_then(|v| v.rsplit(',').next()).and_then(|s| s.trim().parse().ok()) {
            return ip;
        }
    }
    peer.ip()
}

/// A refusal: when the client may try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    /// Time until one token is back.
    pub retry_after: Duration,
}

impl Limited {
    /// `Retry-After` in whole seconds, rounded up, at least 1.
    pub fn retry_after_secs(&self) -> u64 {
        let secs = self.retry_after.as_secs() + u64::from(self.retry_after.subsec_nanos() > 0);
        secs.max(1)
    }
}

/// One bounded keyed token bucket (GCRA, see the module docs).
#[derive(Debug)]
pub struct Limiter {
    /// Nanoseconds per token; 0 for an unlimited rate.
    interval: u64,
    /// `burst × interval`: how far ahead of `now` a `tat` may run.
    window: u64,
    max_clients: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Client → theoretical arrival time (ns since `start`).
    tat: HashMap<IpAddr, u64>,
    /// Earliest time a sweep can forget anyone (at most the smallest kept
    /// `tat`), so a full map of busy clients is not rescanned on
    /// every request.
    next_expiry: u64,
    /// Time of the next routine sweep.
    next_sweep: u64,
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Limiter {
    /// A limiter for `rate` tracking at most `max_clients` clients (at
    /// least one).
    pub fn new(rate: Rate, max_clients: usize) -> Self {
        let interval = if rate.is_unlimited() { 0 } else { (1_000_000_000 / u64::from(rate.per_second)).max(1) };
        Self {
            interval,
            window: interval.saturating_mul(u64::from(rate.burst)),
            max_clients: max_clients.max(1),
            state: Mutex::new(State::default()),
        }
    }

    /// Clients currently tracked (tests, metrics).
    pub fn tracked(&self) -> usize {
        self.lock().tat.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is a cache of buckets: a panic elsewhere cannot leave it
        // inconsistent in a way that matters, so a poisoned lock is used.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Take one token for `client` at `now` (time on a monotonic clock
    /// starting at zero; must not go backwards — an earlier value counts as
    /// "no time passed" for clients seen since).
    pub fn check_at(&self, client: IpAddr, now: Duration) -> Result<(), Limited> {
        if self.interval == 0 {
            return Ok(());
        }
        let now = nanos(now);
        let mut state = self.lock();
        if now >= state.next_sweep {
            Self::sweep(&mut state, now);
            state.next_sweep = now.saturating_add(nanos(SWEEP_EVERY));
        }
        let known = state.tat.get(&client).copied();
        if known.is_none() && state.tat.len() >= self.max_clients {
            if now >= state.next_expiry {
                Self::sweep(&mut state, now);
            }
            if state.tat.len() >= self.max_clients {
                // Fail closed: a new client waits until someone's bucket is
                // full again (and forgotten).
                let wait = state.next_expiry.saturating_sub(now).max(1);
                return Err(Limited { retry_after: Duration::from_nanos(wait) });
            }
        }
        let tat = known.unwrap_or(now).max(now);
        let next = tat.saturating_add(self.interval);
        if next - now > self.window {
            return Err(Limited { retry_after: Duration::from_nanos(next - self.window - now) });
        }
        state.tat.insert(client, next);
        // Stays a lower bound of every kept `tat` (a raised one only makes
        // the next sweep come early, and that sweep recomputes it).
        state.next_expiry = state.next_expiry.min(next);
        Ok(())
    }

    /// Forget every client whose bucket is full again (`tat <= now`), and
    /// remember when the next one will be.
    fn sweep(state: &mut State, now: u64) {
        state.tat.retain(|_, tat| *tat > now);
        state.next_expiry = state.tat.values().copied().min().unwrap_or(u64::MAX);
    }
}

/// The monotonic clock a server's limiters read: time since its creation.
/// Tests can stop it, so they count requests without racing the refill.
#[derive(Debug)]
pub struct Clock {
    start: Instant,
    frozen: std::sync::OnceLock<Duration>,
}

impl Default for Clock {
    fn default() -> Self {
        Self { start: Instant::now(), frozen: std::sync::OnceLock::new() }
    }
}

impl Clock {
    /// Stops the clock where it is (tests): no bucket refills any more.
    pub fn freeze(&self) {
        let _ = self.frozen.set(self.start.elapsed());
    }

    /// Time since the clock was created (or when it was frozen).
    pub fn now(&self) -> Duration {
        self.frozen.get().copied().unwrap_or_else(|| self.start.elapsed())
    }
}

/// A server's two budgets per client, on one [`Clock`]: the requests that
/// cost real work (the relay's submissions, the sequencer's bundles) and
/// everything else, so neither kind can starve the other. Each server
/// decides which budget a request draws from and how to refuse it.
#[derive(Debug)]
pub struct TwoBudgets {
    costly: Limiter,
    other: Limiter,
    clock: Clock,
}

impl TwoBudgets {
    /// Limiters for `costly` and `other`, each tracking at most
    /// `max_clients` clients, with their clock starting now.
    pub fn new(costly: Rate, other: Rate, max_clients: usize) -> Self {
        Self {
            costly: Limiter::new(costly, max_clients),
            other: Limiter::new(other, max_clients),
            clock: Clock::default(),
        }
    }

    /// Stops the clock (tests): no bucket refills from now on.
    pub fn freeze_clock(&self) {
        self.clock.freeze();
    }

    /// Takes a token from the `costly` budget or the other one for the
    /// client at `ip` (keyed by [`client_key`]).
    pub fn check(&self, costly: bool, ip: IpAddr) -> Result<(), Limited> {
        let limiter = if costly { &self.costly } else { &self.other };
        limiter.check_at(client_key(ip), self.clock.now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn ip(n: u32) -> IpAddr {
        IpAddr::V4(n.into())
    }

    #[test]
    fn burst_then_refused_then_refilled() {
        let l = Limiter::new(Rate { per_second: 10, burst: 3 }, 16);
        let t0 = Duration::ZERO;
        for _ in 0..3 {
            assert_eq!(l.check_at(ip(1), t0), Ok(()));
        }
        let refused = l.check_at(ip(1), t0).unwrap_err();
        assert_eq!(refused.retry_after, 100 * MS);
        assert_eq!(refused.retry_after_secs(), 1);
        // Another client has its own bucket.
        assert_eq!(l.check_at(ip(2), t0), Ok(()));
        // One token back after one interval, not before.
        assert!(l.check_at(ip(1), 99 * MS).is_err());
        assert_eq!(l.check_at(ip(1), 100 * MS), Ok(()));
        assert!(l.check_at(ip(1), 100 * MS).is_err());
        // After an idle spell the whole burst is back, no more.
        let later = Duration::from_secs(10);
        for _ in 0..3 {
            assert_eq!(l.check_at(ip(1), later), Ok(()));
        }
        assert!(l.check_at(ip(1), later).is_err());
    }

    #[test]
    fn sustained_rate_is_respected() {
        let l = Limiter::new(Rate { per_second: 4, burst: 1 }, 16);
        let allowed = (0..400).filter(|i| l.check_at(ip(1), *i * 10 * MS).is_ok()).count();
        assert_eq!(allowed, 16); // 4 s at 4/s
    }

    #[test]
    fn zero_is_unlimited() {
        for rate in [Rate::UNLIMITED, Rate { per_second: 0, burst: 5 }, Rate { per_second: 5, burst: 0 }] {
            let l = Limiter::new(rate, 1);
            for n in 0..10_000 {
                assert_eq!(l.check_at(ip(n % 7), Duration::ZERO), Ok(()));
            }
            assert_eq!(l.tracked(), 0);
        }
    }

    #[test]
    fn the_key_map_stays_bounded() {
        let l = Limiter::new(Rate { per_second: 1, burst: 2 }, 100);
        // A flood of distinct clients at one instant: 100 are tracked, the
        // rest are refused (not remembered) until buckets refill.
        let refused = (0..10_000).filter(|n| l.check_at(ip(*n), Duration::ZERO).is_err()).count();
        assert_eq!(l.tracked(), 100);
        assert_eq!(refused, 9_900);
        let err = l.check_at(ip(20_000), Duration::ZERO).unwrap_err();
        assert_eq!(err.retry_after, Duration::from_secs(1));
        // A known client still has its own budget.
        assert_eq!(l.check_at(ip(5), Duration::ZERO), Ok(()));
        assert!(l.check_at(ip(5), Duration::ZERO).is_err());
        // Once their buckets are full again, old clients are forgotten and
        // new ones fit; the map never grows past the cap.
        for round in 1..50u32 {
            let now = Duration::from_secs(u64::from(round) * 3);
            for n in 0..1_000 {
                let _ = l.check_at(ip(round * 100_000 + n), now);
                assert!(l.tracked() <= 100);
            }
            assert!(l.check_at(ip(1), now + Duration::from_secs(2)).is_ok());
        }
        // An idle relay forgets everyone at the next routine sweep.
        let _ = l.check_at(ip(7), Duration::from_secs(10_000));
        assert_eq!(l.tracked(), 1);
    }

    #[test]
    fn ipv6_is_grouped_by_64_and_mapped_v4_is_v4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:ffff:ffff:ffff".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        assert_eq!(client_key(a), "2001:db8:1:2::".parse::<IpAddr>().unwrap());
        assert_eq!(client_key("::ffff:10.0.0.1".parse().unwrap()), "10.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!(client_key("10.0.0.1".parse().unwrap()), "10.0.0.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn forwarded_for_only_when_trusted_and_right_most() {
        let peer: SocketAddr = "192.0.2.1:5000".parse().unwrap();
        let xff = Some("6.6.6.6, 203.0.113.7");
        assert_eq!(client_ip(peer, xff, false), peer.ip());
        assert_eq!(client_ip(peer, xff, true), "203.0.113.7".parse::<IpAddr>().unwrap());
        assert_eq!(client_ip(peer, Some("2001:db8::1"), true), "2001:db8::1".parse::<IpAddr>().unwrap());
        assert_eq!(client_ip(peer, Some("6.6.6.6, garbage"), true), peer.ip());
        assert_eq!(client_ip(peer, None, true), peer.ip());
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        let secs = |ms| Limited { retry_after: Duration::from_millis(ms) }.retry_after_secs();
        assert_eq!(secs(0), 1);
        assert_eq!(secs(1), 1);
        assert_eq!(secs(1000), 1);
        assert_eq!(secs(1001), 2);
    }

    #[test]
    fn two_budgets_have_their_own_buckets_per_client() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:ffff:ffff:ffff".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        let budgets = TwoBudgets::new(Rate { per_second: 1, burst: 1 }, Rate::UNLIMITED, 16);
        budgets.freeze_clock();
        assert_eq!(budgets.check(true, a), Ok(()));
        assert!(budgets.check(true, b).is_err(), "same /64");
        assert_eq!(budgets.check(true, c), Ok(()));
        assert_eq!(budgets.check(false, a), Ok(()));
    }

    #[test]
    fn a_frozen_clock_stands_still() {
        let clock = Clock::default();
        clock.freeze();
        let at = clock.now();
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(clock.now(), at);
    }
}

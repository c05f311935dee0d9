//! The sequencer's per-client rate limits over HTTP (`docs/node.md`, "Rate
//! limits"), with the limiters' clock stopped so no bucket refills while a
//! test counts requests.

mod common;

use athena_node::auth::ResultPolicy;
use athena_node::http::NodeHandle;
use athena_node::sequencer::{start_sequencer_with, SequencerConfig};
use athena_node::sequencer_limits::{SequencerLimits, SequencerRateLimits};
use athena_ratelimit::Rate;
use common::{agent, bundle, get_json};
use std::time::Duration;

fn sequencer(limits: SequencerRateLimits) -> NodeHandle {
    let limits = SequencerLimits::shared(limits);
    limits.freeze_clock();
    let config = SequencerConfig {
        data_dir: None,
        listen: "127.0.0.1:0".parse().unwrap(),
        // No block while the test runs: queued bundles stay countable.
        block_interval: Duration::from_secs(3600),
        empty_blocks: false,
        signals: false,
        limits,
    };
    start_sequencer_with(config, ResultPolicy::default()).unwrap()
}

/// POSTs a one-transaction bundle, optionally with an `X-Forwarded-For`
/// header: (status, `Retry-After`, JSON body).
fn post_bundle(url: &str, forwarded_for: Option<&str>) -> (u16, Option<String>, serde_json::Value) {
    let mut request = agent().post(format!("{url}/v1/bundles")).content_type("application/octet-stream");
    if let Some(value) = forwarded_for {
        request = request.header("x-forwarded-for", value);
    }
    let mut response = request.send(&bundle(vec![vec![1, 2, 3]]).to_bytes()).unwrap();
    let retry = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    let body = response.body_mut().read_to_string().unwrap();
    (response.status().as_u16(), retry, serde_json::from_str(&body).unwrap())
}

#[test]
fn bundles_and_other_requests_have_separate_per_client_budgets() {
    let limits = SequencerRateLimits {
        bundles: Rate { per_second: 1, burst: 2 },
        requests: Rate { per_second: 1, burst: 3 },
        ..SequencerRateLimits::default()
    };
    let seq = sequencer(limits);
    let url = seq.url();
    assert_eq!(post_bundle(&url, None).0, 202);
    assert_eq!(post_bundle(&url, None).0, 202);
    let (status, retry, body) = post_bundle(&url, None);
    assert_eq!((status, retry.as_deref()), (429, Some("1")), "{body}");
    assert_eq!(body["error"], "rate_limited");
    // An untrusted X-Forwarded-For does not buy a new budget.
    assert_eq!(post_bundle(&url, Some("203.0.113.9")).0, 429);

    // Reads draw from their own budget, untouched by the bundles: and the
    // refused bundles were never queued.
    let (status, body) = get_json(&format!("{url}/v1/status"));
    assert_eq!((status, body["queued"].as_u64()), (200, Some(2)));
    assert_eq!(get_json(&format!("{url}/v1/blocks/latest")).0, 200);
    assert_eq!(get_json(&format!("{url}/v1/results/0")).0, 404);
    let (status, body) = get_json(&format!("{url}/v1/status"));
    assert_eq!((status, body["error"].as_str()), (429, Some("rate_limited")));
}

#[test]
fn behind_a_trusted_proxy_clients_are_told_apart_by_x_forwarded_for() {
    let limits = SequencerRateLimits {
        bundles: Rate { per_second: 1, burst: 1 },
        trust_forwarded_for: true,
        ..SequencerRateLimits::default()
    };
    let seq = sequencer(limits);
    let url = seq.url();
    assert_eq!(post_bundle(&url, Some("198.51.100.1, 203.0.113.1")).0, 202);
    assert_eq!(post_bundle(&url, Some("203.0.113.1")).0, 429, "the right-most entry is the client");
    assert_eq!(post_bundle(&url, Some("203.0.113.2")).0, 202);
    // IPv6 clients are keyed by their /64.
    assert_eq!(post_bundle(&url, Some("2001:db8:1:2::1")).0, 202);
    assert_eq!(post_bundle(&url, Some("2001:db8:1:2::ffff")).0, 429);
}

#[test]
fn zero_means_unlimited() {
    let seq = sequencer(SequencerRateLimits::unlimited());
    let url = seq.url();
    for _ in 0..60 {
        assert_eq!(post_bundle(&url, None).0, 202);
    }
    let (status, body) = get_json(&format!("{url}/v1/status"));
    assert_eq!((status, body["queued"].as_u64()), (200, Some(60)));
}

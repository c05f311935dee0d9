//! Per-client rate limits over HTTP (`docs/relay.md`, "Rate limits"): a
//! real relay on loopback against the fakes (`common`), with the limiters'
//! clock frozen (`test-hooks`) so no bucket refills while a test counts.
//! Refill and the bounded key map are unit-tested in `src/limit.rs`.

mod common;

use athena_relay::{Rate, RateLimits, RelayHandle};
use common::*;

fn base(h: &RelayHandle) -> String {
    format!("http://{}", h.local_addr())
}

/// A relay with these budgets and a stopped limiter clock.
async fn limited(world: &Shared, submit: Rate, read: Rate, trust_forwarded_for: bool) -> RelayHandle {
    let relay = relay_with(world, |c| {
        c.rate_limits = RateLimits { submit, read, trust_forwarded_for, ..RateLimits::default() };
    })
    .await;
    relay.limits().freeze_clock();
    relay
}

/// Status, `Retry-After` and JSON body of a request.
async fn send(req: reqwest::RequestBuilder) -> (u16, Option<String>, serde_json::Value) {
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let retry = resp.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    (status, retry, resp.json().await.unwrap_or(serde_json::Value::Null))
}

fn submit(url: &str, bytes: Vec<u8>) -> reqwest::RequestBuilder {
    http().post(format!("{url}/v1/transactions")).header("content-type", "application/octet-stream").body(bytes)
}

fn assert_limited((status, retry, body): (u16, Option<String>, serde_json::Value)) {
    assert_eq!((status, body["error"].as_str()), (429, Some("rate_limited")), "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    let secs: u64 = retry.expect("Retry-After").parse().expect("whole seconds");
    assert!(secs >= 1);
}

#[tokio::test]
async fn submissions_beyond_the_burst_are_refused_before_any_work() {
    let world = Shared::default();
    let alice = key(1);
    world.lock().unwrap().fund(&alice, 10_000_000);
    let relay = limited(&world, Rate { per_second: 1, burst: 3 }, Rate::UNLIMITED, false).await;
    let url = base(&relay);

    // The first three are processed (two admitted, one decoded and refused).
    for nonce in 0..2 {
        let (s, _, body) = send(submit(&url, signed(&alice, nonce, 3))).await;
        assert_eq!(s, 202, "{body}");
    }
    let (s, _, body) = send(submit(&url, vec![0xde, 0xad])).await;
    assert_eq!((s, body["error"].as_str()), (400, Some("malformed")));

    // Then: refused, a valid transaction is not admitted, garbage is not even
    // decoded, and the executor-backed dry-run proxy shares the budget.
    let late = signed(&alice, 2, 3);
    assert_limited(send(submit(&url, late.clone())).await);
    assert_limited(send(submit(&url, vec![0xde, 0xad])).await);
    assert_limited(send(http().post(format!("{url}/v1/transactions/check")).body(late.clone())).await);
    assert_eq!(relay.relay().pool().stats().txs, 2);
    let (s, body) = get_json(&url, &format!("/v1/transactions/{}", tx_id(&late))).await;
    assert_eq!((s, body["status"].as_str()), (404, Some("unknown")), "{body}");
    relay.shutdown().await;
}

#[tokio::test]
async fn a_refused_submission_never_reaches_the_executor() {
    // The executor is down: a checked submission answers 503; a limited one
    // answers 429 without trying it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let relay = relay_at(&dead, &dead, |c| {
        c.rate_limits = RateLimits { submit: Rate { per_second: 1, burst: 1 }, ..RateLimits::default() };
    })
    .await;
    relay.limits().freeze_clock();
    let url = base(&relay);
    let tx = signed(&key(1), 0, 3);
    let (s, _, body) = send(submit(&url, tx.clone())).await;
    assert_eq!((s, body["error"].as_str()), (503, Some("executor_unavailable")), "{body}");
    assert_limited(send(submit(&url, tx)).await);
    relay.shutdown().await;
}

#[tokio::test]
async fn reads_and_submissions_have_separate_budgets() {
    let world = Shared::default();
    let budget = Rate { per_second: 1, burst: 2 };

    // Submissions exhausted: reads still served, until their own budget is.
    let relay = limited(&world, budget, budget, false).await;
    let url = base(&relay);
    for _ in 0..2 {
        assert_eq!(send(submit(&url, vec![1])).await.0, 400);
    }
    assert_limited(send(submit(&url, vec![1])).await);
    assert_eq!(get_json(&url, "/v1/relay").await.0, 200);
    assert_eq!(get_json(&url, "/v1/status").await.0, 200); // proxied
    assert_limited(send(http().get(format!("{url}/v1/relay"))).await);
    assert_limited(send(http().get(format!("{url}/v1/status"))).await);
    relay.shutdown().await;

    // Reads exhausted: submissions still served.
    let relay = limited(&world, budget, budget, false).await;
    let url = base(&relay);
    for _ in 0..2 {
        assert_eq!(get_json(&url, "/v1/relay").await.0, 200);
    }
    assert_limited(send(http().get(format!("{url}/v1/relay"))).await);
    for _ in 0..2 {
        assert_eq!(send(submit(&url, vec![1])).await.0, 400);
    }
    assert_limited(send(submit(&url, vec![1])).await);
    relay.shutdown().await;
}

#[tokio::test]
async fn zero_means_unlimited_and_the_limits_are_reported() {
    let world = Shared::default();
    let relay = limited(&world, Rate { per_second: 0, burst: 5 }, Rate { per_second: 7, burst: 0 }, false).await;
    let url = base(&relay);
    for _ in 0..120 {
        assert_eq!(send(submit(&url, vec![1])).await.0, 400);
        assert_eq!(get_json(&url, "/v1/status").await.0, 200);
    }
    let (s, body) = get_json(&url, "/v1/relay").await;
    assert_eq!(s, 200);
    let rate = &body["limits"]["rate"];
    assert_eq!(rate["submit"], serde_json::json!({ "per_second": 0, "burst": 0 }), "{body}");
    assert_eq!(rate["read"], serde_json::json!({ "per_second": 0, "burst": 0 }), "{body}");
    relay.shutdown().await;

    // The defaults are reported as configured.
    let relay = relay_with(&world, |_| {}).await;
    let (_, body) = get_json(&base(&relay), "/v1/relay").await;
    let rate = &body["limits"]["rate"];
    assert_eq!(rate["submit"], serde_json::json!({ "per_second": 20, "burst": 50 }), "{body}");
    assert_eq!(rate["read"], serde_json::json!({ "per_second": 100, "burst": 200 }), "{body}");
    assert_eq!(rate["trust_forwarded_for"], false);
    relay.shutdown().await;
}

#[tokio::test]
async fn forwarded_for_is_ignored_unless_trusted() {
    let world = Shared::default();
    let one = Rate { per_second: 1, burst: 1 };
    let from = |url: &str, ip: &str| submit(url, vec![1]).header("x-forwarded-for", ip);

    // Untrusted: every request is the loopback peer, whatever it claims.
    let relay = limited(&world, one, Rate::UNLIMITED, false).await;
    let url = base(&relay);
    assert_eq!(send(from(&url, "198.51.100.1")).await.0, 400);
    assert_limited(send(from(&url, "198.51.100.2")).await);
    relay.shutdown().await;

    // Trusted: keyed by the right-most entry (the one the proxy appended).
    let relay = limited(&world, one, Rate::UNLIMITED, true).await;
    let url = base(&relay);
    assert_eq!(send(from(&url, "198.51.100.1")).await.0, 400);
    assert_eq!(send(from(&url, "198.51.100.1, 198.51.100.2")).await.0, 400);
    assert_limited(send(from(&url, "198.51.100.2, 198.51.100.1")).await);
    relay.shutdown().await;
}

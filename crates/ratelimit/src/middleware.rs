//! The axum middleware both public servers mount (feature `axum`): find
//! the client, take a token from the right budget, and refuse with 429 and
//! `Retry-After` before the handler (or even the body) is touched.
//!
//! A server implements [`HttpBudgets`] to say which budget a request draws
//! from and how its 429 reads in its own error format; the rest (the TCP
//! peer, `X-Forwarded-For`, the header) is here once.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;

use crate::{client_ip, TwoBudgets};

/// A server's side of [`rate_limit`].
pub trait HttpBudgets: Send + Sync + 'static {
    /// The server's two budgets per client.
    fn budgets(&self) -> &TwoBudgets;

    /// Key clients by the trusted proxy's `X-Forwarded-For` entry instead of
    /// the TCP peer (see [`client_ip`]).
    fn trust_forwarded_for(&self) -> bool;

    /// Whether a request draws from the costly budget (the work a server
    /// must protect) rather than the other one.
    fn is_costly(&self, method: &Method, path: &str) -> bool;

    /// The server's 429 answer in its own error format, naming what was
    /// limited; [`rate_limit`] adds `Retry-After`.
    fn refusal(&self, costly: bool, retry_after_secs: u64) -> Response;
}

/// The address `request` is limited by, or `None` when the router is served
/// without connect info (`into_make_service_with_connect_info`), as in
/// tests that drive it in process.
pub fn request_client(request: &Request, trust_forwarded_for: bool) -> Option<IpAddr> {
    let ConnectInfo(peer) = request.extensions().get::<ConnectInfo<SocketAddr>>().copied()?;
    // The last header is the one the proxy in front appended.
    let forwarded_for = request.headers().get_all("x-forwarded-for").iter().next_back().and_then(|v| v.to_str().ok());
    Some(client_ip(peer, forwarded_for, trust_forwarded_for))
}

/// Middleware (`axum::middleware::from_fn_with_state(limits, rate_limit)`):
/// a request over its client's budget gets the server's
/// [`HttpBudgets::refusal`] with `Retry-After` in whole seconds; requests
/// without a peer address are not limited.
pub async fn rate_limit<L: HttpBudgets>(State(limits): State<Arc<L>>, request: Request, next: Next) -> Response {
    let Some(ip) = request_client(&request, limits.trust_forwarded_for()) else {
        return next.run(request).await;
    };
    let costly = limits.is_costly(request.method(), request.uri().path());
    match limits.budgets().check(costly, ip) {
        Ok(()) => next.run(request).await,
        Err(limited) => {
            let secs = limited.retry_after_secs();
            tracing::debug!(client = %ip, costly, "rate limited");
            let mut response = limits.refusal(costly, secs);
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Rate;
    use axum::body::Body;
    use axum::http::StatusCode;
    use axum::routing::{get, post};
    use axum::Router;
    use tower::ServiceExt;

    /// One costly token per client, one other token, `POST /work` costly.
    struct Limits {
        budgets: TwoBudgets,
        trust: bool,
    }

    impl HttpBudgets for Limits {
        fn budgets(&self) -> &TwoBudgets {
            &self.budgets
        }
        fn trust_forwarded_for(&self) -> bool {
            self.trust
        }
        fn is_costly(&self, method: &Method, path: &str) -> bool {
            method == Method::POST && path == "/work"
        }
        fn refusal(&self, costly: bool, secs: u64) -> Response {
            let body = format!("{} limited, {secs} s", if costly { "work" } else { "reads" });
            Response::builder().status(StatusCode::TOO_MANY_REQUESTS).body(Body::from(body)).expect("response")
        }
    }

    fn app(trust: bool) -> Router {
        let one = Rate { per_second: 1, burst: 1 };
        let limits = Arc::new(Limits { budgets: TwoBudgets::new(one, one, 16), trust });
        limits.budgets.freeze_clock();
        Router::new()
            .route("/work", post(|| async { "done" }))
            .route("/read", get(|| async { "read" }))
            .layer(axum::middleware::from_fn_with_state(limits, rate_limit::<Limits>))
    }

    async fn send(
        app: &Router,
        method: &str,
        path: &str,
        peer: Option<&str>,
        forwarded: Option<&str>,
    ) -> (u16, String, Option<String>) {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(forwarded) = forwarded {
            request = request.header("x-forwarded-for", forwarded);
        }
        let mut request = request.body(Body::empty()).expect("request");
        if let Some(peer) = peer {
            request.extensions_mut().insert(ConnectInfo(peer.parse::<SocketAddr>().expect("peer")));
        }
        let response = app.clone().oneshot(request).await.expect("infallible");
        let status = response.status().as_u16();
        let retry = response.headers().get(header::RETRY_AFTER).map(|v| v.to_str().expect("ascii").to_owned());
        let body = axum::body::to_bytes(response.into_body(), 1024).await.expect("body");
        (status, String::from_utf8_lossy(&body).into_owned(), retry)
    }

    #[tokio::test]
    async fn each_budget_refuses_its_own_requests_with_retry_after() {
        let app = app(false);
        let a = Some("192.0.2.1:5000");
        assert_eq!(send(&app, "POST", "/work", a, None).await, (200, "done".into(), None));
        assert_eq!(send(&app, "POST", "/work", a, None).await, (429, "work limited, 1 s".into(), Some("1".into())));
        // The other budget is untouched by the costly one, then runs out too.
        assert_eq!(send(&app, "GET", "/read", a, None).await.0, 200);
        assert_eq!(send(&app, "GET", "/read", a, None).await, (429, "reads limited, 1 s".into(), Some("1".into())));
        // Another client (another port is the same client) has its own tokens.
        assert_eq!(send(&app, "POST", "/work", Some("192.0.2.1:6000"), None).await.0, 429);
        assert_eq!(send(&app, "POST", "/work", Some("192.0.2.2:5000"), None).await.0, 200);
    }

    #[tokio::test]
    async fn without_a_peer_address_nothing_is_limited() {
        let app = app(false);
        for _ in 0..5 {
            assert_eq!(send(&app, "POST", "/work", None, None).await.0, 200);
        }
    }

    #[tokio::test]
    async fn forwarded_for_keys_clients_only_when_trusted() {
        let proxy = Some("10.0.0.1:443");
        let untrusted = app(false);
        assert_eq!(send(&untrusted, "POST", "/work", proxy, Some("198.51.100.1")).await.0, 200);
        assert_eq!(send(&untrusted, "POST", "/work", proxy, Some("198.51.100.2")).await.0, 429, "keyed by the peer");
        let trusted = app(true);
        assert_eq!(send(&trusted, "POST", "/work", proxy, Some("203.0.113.9, 198.51.100.1")).await.0, 200);
        // The right-most entry of the last header counts, not the client's own.
        assert_eq!(send(&trusted, "POST", "/work", proxy, Some("203.0.113.7, 198.51.100.1")).await.0, 429);
        assert_eq!(send(&trusted, "POST", "/work", proxy, Some("198.51.100.2")).await.0, 200);
    }
}

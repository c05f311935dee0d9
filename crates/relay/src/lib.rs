//! # athena-relay
//!
//! The relay of the Athena rollup (`docs/relay.md`): the user-facing endpoint
//! where wallets post transactions, a mempool that admits only transactions
//! that would pay (decode and size limits, nonce order, the executor's dry
//! run of `verify`, nonce and balance, fee sums over pending runs), orders
//! them by gas price and caps them per account and in total, and a bundler
//! that posts them to the base layer as `Bundle { relay, txs }` — the relay's
//! address is the fee recipient of its bundles, which is how it is paid
//! inside the system for the base-layer storage it buys.
//!
//! * [`mempool`]: the pure, deterministic pool (all rules, unit-tested);
//! * [`admission`]: the executor's dry-run verdict → admission decision;
//! * [`service`]: the pool plus executor/sequencer clients and the three
//!   activities (admit, follow the chain, bundle);
//! * [`server`]: the HTTP API;
//! * [`limit`]: per-client rate limits of that API;
//! * [`store`]: the durable record of accepted transactions;
//! * [`start`] / [`run`]: the process (listener + background tasks);
//! * [`cli`]: `athena node relay` arguments (also the `athena-relay`
//!   binary).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod admission;
pub mod cli;
pub mod clients;
pub mod error;
pub mod limit;
pub mod mempool;
pub mod server;
pub mod service;
pub mod store;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use error::AdmitError;
pub use limit::{Rate, RateLimits};
pub use mempool::{Mempool, MempoolConfig};
pub use service::{Relay, RelayConfig, TxStatus};

/// Why the relay process could not start or stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// Binding or serving the listener failed.
    #[error("relay listener: {0}")]
    Io(#[from] std::io::Error),
    /// The pool's store in the data directory could not be opened (or is
    /// unreadable: it is left untouched for the operator).
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

/// A running relay (server and background tasks); stop it with
/// [`RelayHandle::shutdown`].
#[derive(Debug)]
pub struct RelayHandle {
    addr: SocketAddr,
    relay: Arc<Relay>,
    limits: Arc<limit::ClientLimits>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl RelayHandle {
    /// The address the API listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The relay (e.g. to inspect the pool in tests).
    pub fn relay(&self) -> &Arc<Relay> {
        &self.relay
    }

    /// The per-client rate limiters of the API (e.g. to freeze their clock
    /// in tests).
    pub fn limits(&self) -> &Arc<limit::ClientLimits> {
        &self.limits
    }

    /// Stop serving and stop the background tasks. Nothing needs saving:
    /// accepted transactions are already recorded (see [`store`]).
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// Resolves when `stop` becomes true (or its sender is gone).
async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Start the relay on an already bound `listener` (its address wins over
/// `config.listen`): the HTTP server, the executor follower, the bundler,
/// and the restoration of the recorded pool (an unreadable store is
/// [`RelayError::Store`]).
pub async fn start(config: RelayConfig, listener: TcpListener) -> Result<RelayHandle, RelayError> {
    let addr = listener.local_addr()?;
    let (relay, saved) = Relay::open(config).await?;
    let (stop, stop_rx) = watch::channel(false);
    let mut tasks = Vec::new();

    let limits = Arc::new(limit::ClientLimits::new(relay.config().rate_limits));
    let app = server::router(relay.clone(), limits.clone());
    let rx = stop_rx.clone();
    tasks.push(tokio::spawn(async move {
        // With the peer address: the rate limits are per client.
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(stopped(rx)).await {
            tracing::error!(error = %e, "relay server failed");
        }
    }));

    let (r, mut rx) = (relay.clone(), stop_rx.clone());
    tasks.push(tokio::spawn(async move {
        let mut tick = tokio::time::interval(r.config().poll_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut reachable = true;
        loop {
            tokio::select! {
                _ = rx.wait_for(|s| *s) => break,
                _ = tick.tick() => {}
            }
            match r.sync_once().await {
                Ok(_) if !reachable => {
                    reachable = true;
                    tracing::info!("executor reachable again");
                }
                Ok(_) => {}
                Err(e) if reachable => {
                    reachable = false;
                    tracing::warn!(error = %e, "cannot follow the executor");
                }
                Err(_) => {}
            }
        }
    }));

    let (r, mut rx) = (relay.clone(), stop_rx.clone());
    tasks.push(tokio::spawn(async move {
        let mut tick = tokio::time::interval(r.config().bundle_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = rx.wait_for(|s| *s) => break,
                _ = tick.tick() => {}
                _ = r.bundle_now.notified() => {}
            }
            // Failures are logged inside and retried on the next tick.
            let _ = r.bundle_once().await;
        }
    }));

    if !saved.is_empty() {
        let (r, rx) = (relay.clone(), stop_rx);
        tasks.push(tokio::spawn(async move { r.restore(saved, rx).await }));
    }

    tracing::info!(
        listen = %addr,
        executor = %relay.config().executor_url,
        sequencer = %relay.config().sequencer_url,
        address = %hex::encode(relay.config().address.0),
        "relay started"
    );
    Ok(RelayHandle { addr, relay, limits, stop, tasks })
}

/// Run the relay process: bind `config.listen`, print `listening
/// http://ADDR` on stdout, serve until Ctrl-C or SIGTERM, then stop and
/// return.
pub async fn run(config: RelayConfig) -> Result<(), RelayError> {
    // Watched before `listening` is printed: a SIGTERM sent right after it
    // must stop the relay gracefully, not kill it.
    let mut signals = athena_node::http::StopSignals::register()?;
    let listener = TcpListener::bind(config.listen).await?;
    let handle = start(config, listener).await?;
    tracing::info!("relay listening on http://{}", handle.local_addr());
    // One machine-readable line on stdout for scripts and tests, like the
    // other node processes.
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening http://{}", handle.local_addr());
        let _ = out.flush();
    }
    signals.recv().await;
    tracing::info!("relay stopping");
    handle.shutdown().await;
    Ok(())
}

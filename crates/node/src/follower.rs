//! Following the base layer: the executor's and the shadow executor's
//! worker loops.
//!
//! * **Executor**: from its last committed height, fetches each next block,
//!   applies and commits it, and publishes the [`BlockResult`] signed with
//!   its key (`crate::auth`). On start it
//!   re-publishes results the base layer is missing (a crash between commit
//!   and publish).
//! * **Shadow**: the same execution into its own store, then waits for the
//!   executor's published result for that height, checks its signature
//!   against the authorized keys (a keys file is re-read as the loop goes,
//!   [`LivePolicy`]) and compares. On start it
//!   re-checks its last committed block (a crash between commit and check).
//!   At the first difference it asks the executor for that block's receipts
//!   and names the first transaction whose receipt (change-set hash first)
//!   differs, records the [`Divergence`] and stops following.

use crate::auth::SignedResult;
use crate::base_layer::{agent, BaseLayer, BaseLayerError};
use crate::chain::Chain;
use crate::exec::ExecConfig;
use crate::executor_keys::LivePolicy;
use crate::http::{sleep_unless_stopped, NodeError, WorkerExit, WorkerResult};
use crate::receipts::{merkle_root, StoredReceipt};
use crate::types::{hex32, BlockResult, Divergence, DivergentTx, ReceiptJson, ShadowStatus};
use ed25519_dalek::SigningKey;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Which loop to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// Execute and publish.
    Executor,
    /// Execute and compare; `executor` is the executor's query API, used to
    /// find the first diverging transaction.
    Shadow {
        /// Base URL of the executor being checked.
        executor: Option<String>,
    },
}

/// Loop settings.
#[derive(Debug, Clone)]
pub struct FollowConfig {
    /// Executor or shadow.
    pub role: Role,
    /// Execution settings.
    pub exec: ExecConfig,
    /// How often to ask the base layer for new blocks.
    pub poll: Duration,
    /// The executor's key: every published result is signed with it
    /// (`None`: published unsigned, only for a sequencer that accepts that).
    pub signer: Option<SigningKey>,
    /// Which results the base layer serves are authentic; one that is not
    /// stops the loop with [`NodeError::Unauthenticated`]. Its keys file, if
    /// any, is re-read at most once per `poll` (and before a refusal), so a
    /// rotation applies without a restart.
    pub results: LivePolicy,
}

/// Logs an unavailable base layer at most every 10 s.
struct Throttle(Option<Instant>);

impl Throttle {
    fn warn(&mut self, what: &str, error: &BaseLayerError) {
        if self.0.is_none_or(|t| t.elapsed() > Duration::from_secs(10)) {
            tracing::warn!("{what}: {error}");
            self.0 = Some(Instant::now());
        }
    }
}

fn short(hash: &[u8; 32]) -> String {
    hex::encode(&hash[..6])
}

/// Runs the role's loop until `stop` is set (or a shadow diverges).
pub fn follow(
    chain: &Chain,
    base: &dyn BaseLayer,
    config: &FollowConfig,
    shadow: &Mutex<ShadowStatus>,
    stop: &AtomicBool,
) -> WorkerResult {
    let mut throttle = Throttle(None);
    // The policy in force, re-read from its keys file as the loop goes.
    let mut results = config.results.clone();
    let mut keys_read = Instant::now();
    // Executor: the lowest height whose publication may be missing.
    let mut unpublished: Option<u64> = None;
    match &config.role {
        Role::Executor => unpublished = Some(find_unpublished(chain, base, &mut results, stop)?),
        Role::Shadow { executor } => {
            let height = chain.height()?;
            if let Some(exit) = verify(chain, base, &mut results, height, executor.as_deref(), shadow, stop)? {
                return Ok(exit);
            }
        }
    }
    while !stop.load(Ordering::SeqCst) {
        if keys_read.elapsed() >= config.poll {
            results.reload();
            keys_read = Instant::now();
        }
        if let Some(from) = unpublished {
            unpublished = publish_from(chain, base, config, from, &mut throttle)?;
        }
        let latest = match base.latest_height() {
            Ok(height) => height,
            Err(e) => {
                throttle.warn("base layer", &e);
                sleep_unless_stopped(stop, config.poll);
                continue;
            }
        };
        let next = chain.height()? + 1;
        if next > latest {
            sleep_unless_stopped(stop, config.poll);
            continue;
        }
        for height in next..=latest {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            let block = match base.block(height) {
                Ok(Some(block)) => block,
                Ok(None) => break,
                Err(e) => {
                    throttle.warn("base layer", &e);
                    sleep_unless_stopped(stop, config.poll);
                    break;
                }
            };
            let started = Instant::now();
            let (result, outcome) = chain.apply(&block, &config.exec)?;
            let skipped = match outcome.skipped {
                0 => String::new(),
                n => format!(" ({n} duplicates skipped)"),
            };
            tracing::info!(
                "block {height}: {} txs{skipped}, root {}…, receipts {}…, {} ms",
                outcome.receipts.len(),
                short(&result.state_root),
                short(&result.receipts_root),
                started.elapsed().as_millis()
            );
            match &config.role {
                Role::Executor => {
                    if unpublished.is_none() {
                        unpublished = publish_from(chain, base, config, height, &mut throttle)?;
                    }
                }
                Role::Shadow { executor } => {
                    if let Some(exit) = verify(chain, base, &mut results, height, executor.as_deref(), shadow, stop)? {
                        return Ok(exit);
                    }
                }
            }
        }
    }
    Ok(WorkerExit::Stopped)
}

/// Walks back from the last committed height to the newest result the base
/// layer has, and returns the height after it (bounded: at most 64 back).
/// A served result that is not authentic is an error.
fn find_unpublished(
    chain: &Chain,
    base: &dyn BaseLayer,
    results: &mut LivePolicy,
    stop: &AtomicBool,
) -> Result<u64, NodeError> {
    let last = chain.height()?;
    let mut height = last;
    loop {
        match base.result(height) {
            Ok(Some(published)) => {
                results.check(&chain.genesis_id(), &published)?;
                return Ok(height + 1);
            }
            Ok(None) if height == 0 || last - height >= 64 => return Ok(height),
            Ok(None) => height -= 1,
            // Unknown: publish everything from the last height on (idempotent).
            Err(_) => return Ok(last),
        }
        if stop.load(Ordering::SeqCst) {
            return Ok(height);
        }
    }
}

/// Publishes committed results from `from` on. Returns the first height
/// still to publish (`None`: all done).
fn publish_from(
    chain: &Chain,
    base: &dyn BaseLayer,
    config: &FollowConfig,
    from: u64,
    throttle: &mut Throttle,
) -> Result<Option<u64>, NodeError> {
    let last = chain.height()?;
    for height in from..=last {
        let Some(result) = chain.result(height)? else { continue };
        let signed = match &config.signer {
            Some(key) => SignedResult::sign(key, &chain.genesis_id(), result),
            None => SignedResult::unsigned(result),
        };
        match base.publish_result(&signed) {
            Ok(()) => {}
            Err(e @ BaseLayerError::Unavailable(_)) => {
                throttle.warn(&format!("cannot publish block {height}'s result"), &e);
                return Ok(Some(height));
            }
            Err(e) => tracing::error!("the base layer refused block {height}'s result: {e}"),
        }
    }
    Ok(None)
}

/// Waits for the published result of `height` and compares it with the
/// chain's own. `Some(exit)` when stopped... or diverged. A published
/// result whose signature does not check is an error, not a divergence:
/// the executor did not say it.
fn verify(
    chain: &Chain,
    base: &dyn BaseLayer,
    results: &mut LivePolicy,
    height: u64,
    executor: Option<&str>,
    shadow: &Mutex<ShadowStatus>,
    stop: &AtomicBool,
) -> Result<Option<WorkerExit>, NodeError> {
    let own = chain.result(height)?.ok_or_else(|| NodeError::Config(format!("block {height} is not committed")))?;
    let mut waiting_since = Instant::now();
    let mut throttle = Throttle(None);
    let published = loop {
        match base.result(height) {
            Ok(Some(signed)) => {
                results.check(&chain.genesis_id(), &signed)?;
                break signed.result;
            }
            Ok(None) => {
                if waiting_since.elapsed() > Duration::from_secs(10) {
                    tracing::info!("waiting for the executor's result for block {height}");
                    waiting_since = Instant::now();
                }
            }
            Err(e) => throttle.warn("base layer", &e),
        }
        if !sleep_unless_stopped(stop, Duration::from_millis(100)) {
            return Ok(Some(WorkerExit::Stopped));
        }
    };
    if published == own {
        tracing::info!("block {height} verified: root {}…", short(&own.state_root));
        let mut status = shadow.lock().unwrap_or_else(PoisonError::into_inner);
        status.ok = true;
        status.verified_height = Some(height);
        return Ok(None);
    }
    let divergence = diagnose(chain, height, published, own, executor)?;
    tracing::error!(
        "DIVERGENCE at block {height}: published root {}, own root {}; {}",
        hex::encode(published.state_root),
        hex::encode(own.state_root),
        divergence.detail
    );
    if let Some(tx) = &divergence.first_tx {
        tracing::error!("first diverging transaction: index {} id {} ({})", tx.index, tx.id, tx.reason);
    }
    let mut status = shadow.lock().unwrap_or_else(PoisonError::into_inner);
    status.ok = false;
    status.divergence = Some(divergence.clone());
    Ok(Some(WorkerExit::Diverged(Box::new(divergence))))
}

/// Works out what differs between the published and the own result.
fn diagnose(
    chain: &Chain,
    height: u64,
    published: BlockResult,
    own: BlockResult,
    executor: Option<&str>,
) -> Result<Divergence, NodeError> {
    let divergence = |first_tx, detail: String| Divergence { height, published, own, first_tx, detail };
    if published.input_hash != own.input_hash {
        let detail = if height == 0 {
            "the executor runs another genesis (genesis ids differ)"
        } else {
            "the executor executed a different block (input hashes differ)"
        };
        return Ok(divergence(None, detail.into()));
    }
    let Some(url) = executor else {
        return Ok(divergence(None, "no executor URL given: cannot compare transactions".into()));
    };
    let theirs = match fetch_receipts(url, height) {
        Ok(receipts) => receipts,
        Err(e) => return Ok(divergence(None, format!("cannot fetch the executor's receipts: {e}"))),
    };
    let mut notes = Vec::new();
    let served: Result<Vec<[u8; 32]>, String> = theirs.iter().map(|r| hex32::parse(&r.hash)).collect();
    if served.map(|hashes| merkle_root(&hashes)) != Ok(published.receipts_root) {
        notes.push("the executor's served receipts do not match its published receipts root".to_owned());
    }
    let ours = chain.receipts(height)?;
    let first_tx = first_difference(&ours, &theirs);
    let detail = match (&first_tx, published.receipts_root == own.receipts_root) {
        (Some(_), _) => "receipts differ".to_owned(),
        (None, true) => "receipts agree; the state differs outside the transactions' change sets".to_owned(),
        (None, false) => "receipts roots differ but no served receipt differs".to_owned(),
    };
    notes.insert(0, detail);
    Ok(divergence(first_tx, notes.join("; ")))
}

/// The first index where the receipts differ: another transaction, another
/// change-set hash, or another receipt otherwise (status, gas, logs).
fn first_difference(ours: &[StoredReceipt], theirs: &[ReceiptJson]) -> Option<DivergentTx> {
    for index in 0..ours.len().max(theirs.len()) {
        let own = ours.get(index);
        let their = theirs.get(index);
        let reason = match (own, their) {
            (Some(o), Some(t)) if hex::encode(o.tx_id) != t.id => "a different transaction at this index",
            (Some(o), Some(t)) if hex::encode(o.changes_hash) != t.changes_hash => "state changes differ",
            (Some(o), Some(t)) if hex::encode(o.leaf_hash()) != t.hash => {
                "receipts differ (status, gas, output or logs)"
            }
            (Some(_), Some(_)) => continue,
            (Some(_), None) => "the executor has no receipt at this index",
            (None, Some(_)) => "the executor has an extra receipt",
            (None, None) => continue,
        };
        return Some(DivergentTx {
            index: u32::try_from(index).unwrap_or(u32::MAX),
            id: own.map(|o| hex::encode(o.tx_id)).or_else(|| their.map(|t| t.id.clone())).unwrap_or_default(),
            own_changes_hash: own.map(|o| hex::encode(o.changes_hash)),
            executor_changes_hash: their.map(|t| t.changes_hash.clone()),
            reason: reason.to_owned(),
        });
    }
    None
}

fn fetch_receipts(url: &str, height: u64) -> Result<Vec<ReceiptJson>, String> {
    let url = format!("{}/v1/blocks/{height}/receipts", url.trim_end_matches('/'));
    let mut response = agent().get(&url).call().map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    response.body_mut().with_config().limit(256 * 1024 * 1024).read_json().map_err(|e| e.to_string())
}

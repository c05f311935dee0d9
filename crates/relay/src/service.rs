//! The relay service: the mempool behind a lock plus the executor and
//! sequencer clients, with the three activities the background tasks and the
//! HTTP handlers drive — admission ([`Relay::submit`]), following the chain
//! ([`Relay::sync_once`]) and bundling ([`Relay::bundle_once`]).
//!
//! The lock is never held across an `await`: each activity reads what it
//! needs from the executor first, then applies it to the pool in one short
//! critical section (the pool re-checks its rules there, since it may have
//! changed meanwhile).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use athena_interface::Address;
use athena_node::types::{Bundle, MAX_BUNDLE_BYTES, MAX_BUNDLE_TXS};
use athena_transaction::Network;
use tokio::sync::{oneshot, Notify, OwnedMutexGuard};

use crate::admission::{classify, decide, Verdict};
use crate::clients::{ClientError, ExecutorClient, SequencerClient, EXECUTOR};
use crate::error::AdmitError;
use crate::mempool::{
    AccountState, AccountView, Admitted, Candidate, DropReason, Mempool, MempoolConfig, PendingInfo, TxId, Verification,
};
use crate::store::{PoolStore, StoreError, Stored};
pub use crate::store::{SNAPSHOT_FILE, STORE_FILE};

/// A transaction to record: store key, id, bytes.
type Record = (u64, TxId, Vec<u8>);

/// What an admission gives its submitter: the pool's account of it, how it
/// was verified, and the ready bytes after it.
type Accepted = (Admitted, Verification, usize);

/// A checked transaction waiting for the next group write
/// ([`Relay::commit_queued`]) to admit and record it.
struct Queued {
    cand: Candidate,
    account: AccountState,
    verdict: Verdict,
    intrinsic: Option<AdmitError>,
    reply: oneshot::Sender<Result<Accepted, AdmitError>>,
    /// Unique per submission (the same bytes may be submitted twice at
    /// once), so that a withdrawn submission removes only its own entry.
    ticket: u64,
}

/// Takes a submission back out of the queue if its `submit` is dropped
/// (the client hung up) before a group write took it: unanswered, it was
/// never accepted, and nothing is left waiting for a later group.
struct Withdraw<'a> {
    queue: &'a Mutex<Vec<Queued>>,
    ticket: u64,
    armed: bool,
}

impl Drop for Withdraw<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.queue.lock().unwrap_or_else(|e| e.into_inner()).retain(|q| q.ticket != self.ticket);
        }
    }
}

impl std::fmt::Debug for Queued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queued").field("id", &self.cand.id).finish_non_exhaustive()
    }
}

/// Everything the relay process needs. Build with [`RelayConfig::new`] and
/// adjust the public fields.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Address to listen on.
    pub listen: std::net::SocketAddr,
    /// Executor base URL (state, dry runs, receipts, proxied queries).
    pub executor_url: String,
    /// Sequencer base URL (takes bundles).
    pub sequencer_url: String,
    /// The relay's own address: the fee recipient of its bundles.
    pub address: Address,
    /// Where the pool is recorded durably ([`STORE_FILE`]; none: memory
    /// only). Opened by [`Relay::open`].
    pub data_dir: Option<PathBuf>,
    /// Pool limits and policies.
    pub mempool: MempoolConfig,
    /// How often a bundle is built from what is ready.
    pub bundle_interval: Duration,
    /// Build a bundle early once this many bytes are ready.
    pub bundle_threshold_bytes: usize,
    /// How often the executor's height is polled.
    pub poll_interval: Duration,
    /// Timeout of each call to the executor or sequencer.
    pub http_timeout: Duration,
    /// Per-client request budgets of the HTTP API ([`crate::limit`]).
    pub rate_limits: crate::limit::RateLimits,
}

impl RelayConfig {
    /// Defaults: bundles every 500 ms (or at 256 KiB ready), executor polled
    /// every 250 ms, 5 s HTTP timeout, default pool limits, default
    /// per-client rate limits, no persistence.
    pub fn new(listen: std::net::SocketAddr, executor_url: &str, sequencer_url: &str, address: Address) -> Self {
        Self {
            listen,
            executor_url: executor_url.to_owned(),
            sequencer_url: sequencer_url.to_owned(),
            address,
            data_dir: None,
            mempool: MempoolConfig::default(),
            bundle_interval: Duration::from_millis(500),
            bundle_threshold_bytes: 256 << 10,
            poll_interval: Duration::from_millis(250),
            http_timeout: Duration::from_secs(5),
            rate_limits: crate::limit::RateLimits::default(),
        }
    }
}

/// A transaction's status as `GET /v1/transactions/{id}` reports it.
#[derive(Debug, Clone)]
pub enum TxStatus {
    /// In the pool.
    Pending(PendingInfo),
    /// The executor has a receipt for it.
    Included(serde_json::Value),
    /// It left the pool without being included.
    Dropped(DropReason),
    /// Never seen, or forgotten.
    Unknown,
}

/// What one [`Relay::sync_once`] did (for logs and tests).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// The executor's height, if it advanced.
    pub height: Option<u64>,
    /// Transactions found included.
    pub included: Vec<TxId>,
    /// Transactions dropped.
    pub dropped: Vec<(TxId, DropReason)>,
    /// Transactions made eligible for bundling again.
    pub resubmit: Vec<TxId>,
}

/// The relay: pool, clients, and its own address.
#[derive(Debug)]
pub struct Relay {
    pool: Mutex<Mempool>,
    executor: ExecutorClient,
    sequencer: SequencerClient,
    config: RelayConfig,
    /// The network whose HRP the executor reported (for bech32 account
    /// lookups), once known.
    network: Mutex<Option<Network>>,
    last_height: Mutex<Option<u64>>,
    /// The durable record of the pool (with a data directory).
    store: Option<Arc<PoolStore>>,
    /// Serialises the store's writes so they follow the pool's changes in
    /// order (see [`Relay::persist`]).
    persist: Arc<tokio::sync::Mutex<()>>,
    /// Checked submissions waiting for the next group write.
    queue: Mutex<Vec<Queued>>,
    /// The next [`Queued::ticket`].
    tickets: AtomicU64,
    started: std::time::Instant,
    /// Wakes the bundler early (size threshold, resubmissions).
    pub(crate) bundle_now: Notify,
}

impl Relay {
    /// A relay for `config` that keeps its pool in memory only
    /// (`config.data_dir` is not opened: use [`Relay::open`]); bundle
    /// limits are clamped to what the sequencer accepts.
    pub fn new(config: RelayConfig) -> Arc<Self> {
        Self::with_store(config, None)
    }

    /// A relay for `config` with its durable store opened (or created) in
    /// `config.data_dir`, if set, and the transactions recorded there, in
    /// arrival order, for [`Relay::restore`]. An unreadable store is an
    /// error: the relay refuses to start rather than lose accepted
    /// transactions.
    pub async fn open(config: RelayConfig) -> Result<(Arc<Self>, Vec<Stored>), StoreError> {
        let Some(dir) = config.data_dir.clone() else {
            return Ok((Self::new(config), Vec::new()));
        };
        let (store, rows) = tokio::task::spawn_blocking(move || PoolStore::open(&dir))
            .await
            .map_err(|e| StoreError::Storage(format!("store task failed: {e}")))??;
        Ok((Self::with_store(config, Some(Arc::new(store))), rows))
    }

    fn with_store(mut config: RelayConfig, store: Option<Arc<PoolStore>>) -> Arc<Self> {
        let m = &mut config.mempool;
        // Room for the SCALE framing of the bundle around the transactions.
        m.max_bundle_bytes = m.max_bundle_bytes.min(MAX_BUNDLE_BYTES - 64 * 1024);
        m.max_bundle_txs = m.max_bundle_txs.clamp(1, MAX_BUNDLE_TXS);
        Arc::new(Self {
            pool: Mutex::new({
                let mut pool = Mempool::new(config.mempool.clone());
                if store.is_some() {
                    pool.track_removals();
                    // Not bundled (nor reported pending) before its group
                    // write commits: a failed write undoes the admission.
                    pool.hold_until_recorded();
                }
                pool
            }),
            executor: ExecutorClient::new(&config.executor_url, config.http_timeout),
            sequencer: SequencerClient::new(&config.sequencer_url, config.http_timeout),
            config,
            network: Mutex::new(None),
            last_height: Mutex::new(None),
            store,
            persist: Arc::new(tokio::sync::Mutex::new(())),
            queue: Mutex::new(Vec::new()),
            tickets: AtomicU64::new(0),
            started: std::time::Instant::now(),
            bundle_now: Notify::new(),
        })
    }

    /// The pool, locked (a poisoned lock is still usable: the pool's
    /// methods leave it consistent at every return).
    pub fn pool(&self) -> MutexGuard<'_, Mempool> {
        self.pool.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The configuration in force.
    pub fn config(&self) -> &RelayConfig {
        &self.config
    }

    /// The durable store, with a data directory.
    pub fn store(&self) -> Option<&Arc<PoolStore>> {
        self.store.as_ref()
    }

    /// The executor client (the HTTP layer proxies through it).
    pub fn executor(&self) -> &ExecutorClient {
        &self.executor
    }

    /// The network HRP learnt from the executor, if any yet.
    pub fn hrp(&self) -> Option<String> {
        Some(self.network()?.hrp().to_owned())
    }

    /// The network learnt from the executor, for encoding and parsing
    /// bech32 addresses (its genesis id is left zero: the relay never signs).
    /// `None` until the first sync; [`Relay::sync_once`] stores it only
    /// when the executor's HRP makes a valid network.
    pub fn network(&self) -> Option<Network> {
        self.network.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The relay's address in bech32, once the network HRP is known.
    pub fn relay_bech32(&self) -> Option<String> {
        Some(self.network()?.encode_address(&self.config.address))
    }

    /// Admission: decode, pool rules, the executor's dry run, then insert
    /// and, with a data directory, commit to the durable store before
    /// returning. Nothing reaches a bundle unless this returns `Ok`.
    ///
    /// Group commit: the checked transaction joins a queue; whoever holds
    /// the store's write lock next admits everything queued and records it
    /// in one write (`commit_queued`), so submissions that arrive
    /// while a write is in flight share the next one. Each call still
    /// returns only once its own transaction is recorded (or refused).
    pub async fn submit(self: &Arc<Self>, bytes: Vec<u8>) -> Result<TxId, AdmitError> {
        let cand = Candidate::decode(bytes)?;
        // Only a recorded copy settles it: one whose write is in flight may
        // still be undone, so a resubmission queues behind that write and
        // shares its fate (`commit_queued`) instead of a premature 409.
        if self.pool().contains_recorded(&cand.id) {
            return Err(AdmitError::Duplicate(hex::encode(cand.id.0)));
        }
        let reply = self
            .executor
            .check(&cand.bytes, self.relay_bech32().as_deref())
            .await
            .map_err(|e| AdmitError::ExecutorUnavailable(e.to_string()))?;
        let account = reply.account();
        let verdict = classify(&reply);
        // The executor's verdict on the transaction itself comes before the
        // pool's fee and capacity rules (a clearer answer for the sender).
        let intrinsic = match &verdict {
            Verdict::Invalid(r) => Some(AdmitError::Invalid(r.clone())),
            Verdict::Verify(r) => Some(AdmitError::RejectedByVerify(r.clone())),
            _ => None,
        };
        let (id, nonce, principal) = (cand.id, cand.nonce, cand.principal);
        let (reply, mut answer) = oneshot::channel();
        let mut withdraw = self.enqueue(cand, account, verdict, intrinsic, reply);
        let outcome = loop {
            tokio::select! {
                biased;
                outcome = &mut answer => break outcome,
                order = self.persist.clone().lock_owned() => {
                    // A group write may have taken it while we waited.
                    if let Ok(outcome) = answer.try_recv() {
                        break Ok(outcome);
                    }
                    // Its own task: a cancelled submitter cannot cut a
                    // group write (or its undoing) short.
                    let relay = self.clone();
                    tokio::spawn(async move { relay.commit_queued(order).await });
                }
            }
        };
        withdraw.armed = false;
        let (admitted, verification, ready) =
            outcome.map_err(|_| AdmitError::StorageUnavailable("the store writer stopped".into()))??;
        tracing::info!(
            id = %hex::encode(id.0),
            principal = %hex::encode(principal.0),
            nonce,
            ?verification,
            replaced = admitted.replaced.is_some(),
            evicted = admitted.evicted.len(),
            "admitted transaction"
        );
        if ready >= self.config.bundle_threshold_bytes {
            self.bundle_now.notify_one();
        }
        Ok(id)
    }

    /// How many checked submissions wait for the next group write (for
    /// tests that act while some do). Feature `test-hooks`.
    #[cfg(feature = "test-hooks")]
    pub fn queued(&self) -> usize {
        self.queue.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Queues a checked submission for the next group write; the guard
    /// takes it back out if dropped armed (see [`Withdraw`]).
    fn enqueue(
        &self,
        cand: Candidate,
        account: AccountState,
        verdict: Verdict,
        intrinsic: Option<AdmitError>,
        reply: oneshot::Sender<Result<Accepted, AdmitError>>,
    ) -> Withdraw<'_> {
        let ticket = self.tickets.fetch_add(1, Ordering::Relaxed);
        let queued = Queued { cand, account, verdict, intrinsic, reply, ticket };
        self.queue.lock().unwrap_or_else(|e| e.into_inner()).push(queued);
        Withdraw { queue: &self.queue, ticket, armed: true }
    }

    /// One group write, holding the write lock (`order`): admit every
    /// queued transaction in queue order (each under the pool's rules, see
    /// [`Relay::insert`]), record all admitted ones in one store write,
    /// mark them recorded (only now may a bundle take them) and answer each
    /// submitter. Holding the lock from the first insertion to
    /// the end of the write, no other write takes the pool's removals (the
    /// group's replaced or evicted transactions) in between, so if the
    /// write fails their rows are still in the store and every admission
    /// of the group is undone exactly, newest first (the pool as before the
    /// group, displaced transactions back) and refused.
    async fn commit_queued(&self, order: OwnedMutexGuard<()>) {
        let queued = std::mem::take(&mut *self.queue.lock().unwrap_or_else(|e| e.into_inner()));
        let (mut group, mut records) = (Vec::new(), Vec::new());
        // Resubmissions of a transaction admitted earlier in this group:
        // answered with its fate (a duplicate if recorded, refused if not).
        let mut twins = Vec::new();
        for q in queued {
            let id = q.cand.id;
            match self.insert(q.cand, q.account, q.verdict, q.intrinsic) {
                Ok((admitted, verification, record)) => {
                    records.extend(record);
                    group.push(((admitted, verification), q.reply));
                }
                Err(AdmitError::Duplicate(hex)) if group.iter().any(|((a, _), _)| a.id == id) => {
                    twins.push((hex, q.reply));
                }
                Err(e) => {
                    let _ = q.reply.send(Err(e));
                }
            }
        }
        if group.is_empty() {
            return;
        }
        let Err(e) = self.write(&order, records, None).await else {
            for (hex, reply) in twins {
                let _ = reply.send(Err(AdmitError::Duplicate(hex)));
            }
            // Recorded: the admissions stand, and only now may the bundler
            // take them (before the lock goes, so before any later group).
            let ready = {
                let mut pool = self.pool();
                let ids: Vec<TxId> = group.iter().map(|((admitted, _), _)| admitted.id).collect();
                pool.mark_recorded(&ids);
                pool.ready_bytes()
            };
            for ((admitted, verification), reply) in group {
                let _ = reply.send(Ok((admitted, verification, ready)));
            }
            return;
        };
        // Not recorded, so not accepted: the pool goes back to what it was,
        // the displaced transactions included (their rows stay).
        let mut replies = Vec::new();
        let (mut restored, mut dropped) = (Vec::new(), Vec::new());
        {
            let mut pool = self.pool();
            for ((admitted, _), reply) in group.into_iter().rev() {
                tracing::error!(error = %e, id = %hex::encode(admitted.id.0), "could not record a transaction; refused it");
                let undone = pool.undo_admission(admitted);
                restored.extend(undone.restored);
                dropped.extend(undone.dropped);
                replies.push(reply);
            }
        }
        if let Some(store) = &self.store {
            store.keep(&restored);
        }
        for (id, reason) in &dropped {
            tracing::info!(id = %hex::encode(id.0), reason = %reason, "dropped transaction");
        }
        for reply in replies.into_iter().chain(twins.into_iter().map(|(_, reply)| reply)) {
            let _ = reply.send(Err(AdmitError::StorageUnavailable(e.to_string())));
        }
        drop(order);
    }

    /// The pool side of an admission, in one critical section: the
    /// pool's rules, the decision, the insertion (unrecorded, with a store:
    /// see [`Mempool::hold_until_recorded`]), and the store key reserved
    /// under the same lock (so keys follow arrival order).
    fn insert(
        &self,
        cand: Candidate,
        account: AccountState,
        verdict: Verdict,
        intrinsic: Option<AdmitError>,
    ) -> Result<(Admitted, Verification, Option<Record>), AdmitError> {
        let mut pool = self.pool();
        let plan = match (pool.plan(&cand, account), intrinsic) {
            (Ok(plan), _) => plan,
            (
                Err(AdmitError::CannotPay(_) | AdmitError::AccountFull { .. } | AdmitError::MempoolFull(_)),
                Some(err),
            ) => return Err(err),
            (Err(e), _) => return Err(e),
        };
        let verification = decide(plan.check, verdict, cand.nonce, account.nonce)?;
        let record = self.store.as_ref().map(|s| (s.reserve(), cand.id, cand.bytes.clone()));
        let admitted = pool.insert(cand, account, verification)?;
        Ok((admitted, verification, record))
    }

    /// Status of `id`: pending here, else included per the executor, else
    /// dropped (with why) or unknown.
    pub async fn status(&self, id: &TxId) -> Result<TxStatus, ClientError> {
        if let Some(info) = self.pool().get(id) {
            return Ok(TxStatus::Pending(info));
        }
        let dropped = self.pool().dropped_reason(id).cloned();
        match self.executor.receipt(id).await {
            Ok(Some(receipt)) => Ok(TxStatus::Included(receipt)),
            Ok(None) => Ok(dropped.map_or(TxStatus::Unknown, TxStatus::Dropped)),
            Err(e) => dropped.map(TxStatus::Dropped).ok_or(e),
        }
    }

    /// `address` as the pool sees it, against its committed state fetched
    /// from the executor now (`None` until the network is known).
    pub async fn account(&self, address: &Address) -> Result<Option<AccountView>, ClientError> {
        let Some(network) = self.network() else { return Ok(None) };
        let fresh = self.executor.account(&network, address).await?;
        Ok(Some(self.pool().account_view(address, fresh)))
    }

    /// Follow the executor: when its height advanced, remove included
    /// transactions, re-sync every principal with pending transactions
    /// (used nonces, affordability, deferred heads' dry runs), and schedule
    /// resubmissions or expiries.
    pub async fn sync_once(&self) -> Result<SyncReport, ClientError> {
        let status = self.executor.status().await?;
        let network = Network::new(&status.network, Default::default()).map_err(|e| ClientError::BadResponse {
            service: EXECUTOR,
            message: format!("network HRP {:?}: {e}", status.network),
        })?;
        *self.network.lock().unwrap_or_else(|e| e.into_inner()) = Some(network.clone());
        let last = *self.last_height.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(last) = last.filter(|h| status.height <= *h) {
            // No new block: a deferred head left over (e.g. its dry run raced
            // a block) and the clock-based resubmission may be due.
            let mut report = SyncReport { dropped: self.recheck_deferred().await?, ..Default::default() };
            let outcome = self.pool().on_height(last, self.now_ms());
            report.dropped.extend(outcome.expired);
            report.resubmit = outcome.resubmit;
            self.log_sync(&report);
            self.persist_removals(None).await;
            return Ok(report);
        }
        let mut report = SyncReport { height: Some(status.height), ..Default::default() };

        let bundled = self.pool().bundled_ids();
        for id in bundled {
            if self.executor.receipt(&id).await?.is_some() && self.pool().mark_included(&id) {
                report.included.push(id);
            }
        }
        let principals = self.pool().principals();
        for principal in principals {
            let account = self.executor.account(&network, &principal).await?;
            let dropped = self.pool().sync_account(&principal, account);
            report.dropped.extend(dropped);
        }
        let dropped = self.recheck_deferred().await?;
        report.dropped.extend(dropped);
        // Only now: a failed call above makes the next poll redo this height.
        *self.last_height.lock().unwrap_or_else(|e| e.into_inner()) = Some(status.height);
        let outcome = self.pool().on_height(status.height, self.now_ms());
        report.dropped.extend(outcome.expired);
        report.resubmit = outcome.resubmit;
        self.log_sync(&report);
        self.persist_removals(None).await;
        if self.pool().ready_bytes() > 0 {
            self.bundle_now.notify_one();
        }
        Ok(report)
    }

    /// The full dry run of every deferred transaction that became its
    /// principal's head: accepted ones become bundleable, rejected ones are
    /// dropped with their successors.
    async fn recheck_deferred(&self) -> Result<Vec<(TxId, DropReason)>, ClientError> {
        let mut dropped = Vec::new();
        let heads = self.pool().deferred_heads();
        for head in heads {
            let Some(bytes) = self.pool().bytes_of(&[head]).pop() else { continue };
            match classify(&self.executor.check(&bytes, self.relay_bech32().as_deref()).await?) {
                Verdict::Ok => self.pool().mark_verified(&head),
                // The state moved on meanwhile; the next sync decides.
                Verdict::NonceTooLow | Verdict::NonceTooHigh => {}
                Verdict::CannotPay(r) | Verdict::Verify(r) | Verdict::Invalid(r) => {
                    dropped.extend(self.pool().drop_run(&head, DropReason::Invalid(r)));
                }
            }
        }
        Ok(dropped)
    }

    /// Milliseconds since this relay started: the clock of the time-based
    /// resubmission rule (the pool itself never reads a clock).
    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Bring the durable store in line with the pool: delete the rows of
    /// the transactions the pool removed since the last call and of
    /// `forget` unless the pool holds it, and record `add` (key, id, bytes)
    /// if the pool still holds it. Writes are
    /// serialised and read the pool's removals under the same lock, so the
    /// store sees removals and additions in the pool's order (a transaction
    /// included before its own record is written is not recorded).
    /// Admissions hold the lock from their insertion to the end of their
    /// (group) write ([`Relay::commit_queued`]), so an admission and its
    /// write are one step in that order. The commit runs on the blocking
    /// pool. Without a store: nothing.
    async fn persist(&self, add: Option<Record>, forget: Option<TxId>) -> Result<(), StoreError> {
        let order = self.persist.clone().lock_owned().await;
        self.write(&order, add.into_iter().collect(), forget).await
    }

    /// [`Relay::persist`] of several additions (in key order) with its lock
    /// held (`_order`), in one store write. On failure the pool's taken
    /// removals are given back for the next write.
    async fn write(
        &self,
        _order: &OwnedMutexGuard<()>,
        adds: Vec<Record>,
        forget: Option<TxId>,
    ) -> Result<(), StoreError> {
        let Some(store) = &self.store else { return Ok(()) };
        let (taken, removed, adds) = {
            let mut pool = self.pool();
            let taken = pool.take_removed();
            let mut removed = taken.clone();
            removed.extend(forget.filter(|id| !pool.contains(id)));
            let adds: Vec<Record> = adds.into_iter().filter(|(_, id, _)| pool.contains(id)).collect();
            (taken, removed, adds)
        };
        if removed.is_empty() && adds.is_empty() {
            return Ok(());
        }
        let store = store.clone();
        let result = tokio::task::spawn_blocking(move || {
            let adds: Vec<_> = adds.iter().map(|(seq, id, bytes)| (*seq, *id, bytes.as_slice())).collect();
            store.apply_many(&adds, removed)
        })
        .await
        .map_err(|e| StoreError::Storage(format!("store task failed: {e}")))
        .and_then(|applied| applied);
        if result.is_err() {
            // The pool's removals are retried with the next write (`forget`
            // is not: a wallet may re-send that transaction meanwhile).
            self.pool().untake_removed(taken);
        }
        result
    }

    /// [`Relay::persist`] of the pool's removals (and of `forget`), logging
    /// a failure (they are retried with the next write).
    async fn persist_removals(&self, forget: Option<TxId>) {
        if let Err(e) = self.persist(None, forget).await {
            tracing::error!(error = %e, "could not delete dropped transactions from the store; will retry");
        }
    }

    fn log_sync(&self, report: &SyncReport) {
        if report.included.is_empty() && report.dropped.is_empty() && report.resubmit.is_empty() {
            return;
        }
        let stats = self.pool().stats();
        tracing::info!(
            height = report.height,
            included = report.included.len(),
            dropped = report.dropped.len(),
            resubmit = report.resubmit.len(),
            pending = stats.txs,
            "followed executor"
        );
        for (id, reason) in &report.dropped {
            tracing::info!(id = %hex::encode(id.0), reason = %reason, "dropped transaction");
        }
        if !report.resubmit.is_empty() {
            self.bundle_now.notify_one();
        }
    }

    /// Build the next bundle from the ready transactions and submit it to
    /// the sequencer. Returns how many transactions went out (0: nothing
    /// ready). On failure the transactions become eligible again.
    pub async fn bundle_once(&self) -> Result<usize, ClientError> {
        if self.pool().select_bundle().is_empty() {
            return Ok(0);
        }
        // The base-layer height before submission: the bundle lands in a
        // later block, so resubmission counts from here.
        let height = match self.sequencer.latest_height().await {
            Ok(h) => h,
            Err(_) => self.last_height.lock().unwrap_or_else(|e| e.into_inner()).unwrap_or(0),
        };
        let (ids, txs) = {
            let mut pool = self.pool();
            let ids = pool.select_bundle();
            let txs = pool.bytes_of(&ids);
            pool.mark_bundled(&ids, height, self.now_ms());
            (ids, txs)
        };
        if ids.is_empty() {
            return Ok(0);
        }
        let bytes: usize = txs.iter().map(Vec::len).sum();
        let bundle = Bundle { relay: self.config.address.0, txs };
        if let Err(e) = self.sequencer.submit(&bundle).await {
            self.pool().unmark_bundled(&ids);
            tracing::warn!(error = %e, txs = ids.len(), "bundle submission failed; will retry");
            return Err(e);
        }
        tracing::info!(txs = ids.len(), bytes, base_height = height, "submitted bundle");
        Ok(ids.len())
    }

    /// Re-admit recorded transactions (in their arrival order) through the
    /// full admission path; waits for the executor while it is unavailable.
    /// A re-admitted transaction keeps its record (and key); one that is
    /// refused (included meanwhile, now invalid...) is deleted from it.
    /// Stops between transactions once `stop` turns true (or its sender is
    /// gone), never inside one: a store write is not cut off, so when the
    /// relay's shutdown has awaited this, nothing holds the store open.
    pub async fn restore(self: &Arc<Self>, txs: Vec<Stored>, mut stop: tokio::sync::watch::Receiver<bool>) {
        let total = txs.len();
        let mut restored = 0usize;
        'all: for tx in txs {
            loop {
                if *stop.borrow() {
                    break 'all;
                }
                match self.submit(tx.bytes.clone()).await {
                    Ok(_) => restored += 1,
                    Err(AdmitError::ExecutorUnavailable(_) | AdmitError::StorageUnavailable(_)) => {
                        tokio::select! {
                            _ = stop.wait_for(|s| *s) => break 'all,
                            _ = tokio::time::sleep(self.config.poll_interval) => {}
                        }
                        continue;
                    }
                    Err(e) => {
                        tracing::info!(id = %hex::encode(tx.id.0), error = %e, "not restoring a recorded transaction");
                        // Unless a wallet re-sent it meanwhile (a duplicate).
                        self.persist_removals(Some(tx.id)).await;
                    }
                }
                break;
            }
        }
        if total > 0 {
            tracing::info!(restored, total, "restored the recorded mempool");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use athena_interface::Bytes32;

    fn candidate(tag: u8) -> Candidate {
        Candidate {
            id: Bytes32([tag; 32]),
            principal: Address([1; 24]),
            nonce: 0,
            gas_price: 1,
            max_fee: 1,
            bytes: vec![tag],
        }
    }

    fn queued_ids(relay: &Relay) -> Vec<TxId> {
        relay.queue.lock().unwrap().iter().map(|q| q.cand.id).collect()
    }

    #[test]
    fn a_dropped_submission_leaves_the_queue_and_only_its_own_entry_goes() {
        let config =
            RelayConfig::new(([127, 0, 0, 1], 0).into(), "http://127.0.0.1:9", "http://127.0.0.1:9", Address([2; 24]));
        let relay = Relay::new(config);
        let enqueue = |tag| {
            let (reply, answer) = oneshot::channel();
            (relay.enqueue(candidate(tag), AccountState::default(), Verdict::Ok, None, reply), answer)
        };
        // The same transaction submitted twice at once, and another one.
        let (first, _a) = enqueue(7);
        let (mut twin, _b) = enqueue(7);
        let (other, _c) = enqueue(9);
        assert_eq!(queued_ids(&relay), [Bytes32([7; 32]), Bytes32([7; 32]), Bytes32([9; 32])]);
        // A submitter that hung up takes its own entry back, not its twin's.
        drop(first);
        assert_eq!(queued_ids(&relay), [Bytes32([7; 32]), Bytes32([9; 32])]);
        // Answered (disarmed): whatever a group did with it stands.
        twin.armed = false;
        drop(twin);
        assert_eq!(queued_ids(&relay), [Bytes32([7; 32]), Bytes32([9; 32])]);
        drop(other);
        assert_eq!(queued_ids(&relay), [Bytes32([7; 32])]);
    }
}

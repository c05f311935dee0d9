//! The base layer seam: what the rollup needs from the chain that orders
//! its bundles and carries its executors' results.
//!
//! [`BaseLayer`] is the trait every role programs against. Two
//! implementations:
//!
//! * [`DevnetSequencer`]: the embedded devnet base layer. Orders queued
//!   bundles into blocks (FIFO) when asked to produce one, persists blocks,
//!   results and the queue of accepted bundles in a redb file, so it
//!   survives restarts without losing an accepted bundle.
//! * [`HttpBaseLayer`]: a client of a sequencer's HTTP API
//!   (`docs/node.md`); what executors, shadows and relays use.
//!
//! The real base layer is Spacemesh: an implementation of the same trait
//! that posts bundles as base-layer transactions and reads Athena blocks
//! out of base-layer blocks. Nothing above this module knows which one runs.

use crate::auth::{verify_signature, AuthError, ResultPolicy, SignedResult};
use crate::types::{
    Block, Bundle, ErrorBody, LatestResponse, QueuedResponse, MAX_BLOCK_BYTES, MAX_BLOCK_TXS, MAX_BUNDLE_BYTES,
};
use parity_scale_codec::Encode;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// Why a base-layer operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BaseLayerError {
    /// The base layer could not be reached or failed internally: retry.
    #[error("base layer unavailable: {0}")]
    Unavailable(String),
    /// A published result is not signed by an authorized executor key
    /// (`docs/node.md`, "Authenticated results").
    #[error("result refused: {0}")]
    Unauthenticated(AuthError),
    /// The request was refused (bad data, conflicting result, queue full...).
    #[error("base layer refused ({error}): {message}")]
    Rejected {
        /// Machine code (`bad_request`, `conflict`, `queue_full`, ...).
        error: String,
        /// Details.
        message: String,
    },
}

impl BaseLayerError {
    fn rejected(error: &str, message: impl Into<String>) -> Self {
        BaseLayerError::Rejected { error: error.to_owned(), message: message.into() }
    }
}

/// What the rollup needs from a base layer (see the module docs).
pub trait BaseLayer: Send + Sync {
    /// Queues a bundle for a coming block.
    fn submit_bundle(&self, bundle: Bundle) -> Result<QueuedResponse, BaseLayerError>;
    /// The newest block's height (0 before any ordered block).
    fn latest_height(&self) -> Result<u64, BaseLayerError>;
    /// The block at `height`, if produced (height 0 is [`Block::genesis`]).
    fn block(&self, height: u64) -> Result<Option<Block>, BaseLayerError>;
    /// Publishes an executor's signed result. Publishing the same result
    /// again is fine; a different result for a height that has one is
    /// `conflict`. A base layer checks the signature first, so an
    /// unauthorized poster cannot take a height.
    fn publish_result(&self, result: &SignedResult) -> Result<(), BaseLayerError>;
    /// The result published for `height`, if any, with its signature (the
    /// reader checks it: the base layer is not trusted for it).
    fn result(&self, height: u64) -> Result<Option<SignedResult>, BaseLayerError>;
}

/// Name of the sequencer's database file in its data directory.
pub const SEQUENCER_FILE: &str = "sequencer.redb";

/// Most bytes of bundles waiting for a block; beyond, submissions get
/// `queue_full` (relays retry later).
pub const MAX_QUEUE_BYTES: usize = 64 * 1024 * 1024;

const BLOCKS: TableDefinition<'static, u64, &'static [u8]> = TableDefinition::new("blocks");
const RESULTS: TableDefinition<'static, u64, &'static [u8]> = TableDefinition::new("results");
/// Accepted bundles not yet in a block: sequence number (increasing in
/// arrival order) -> SCALE(Bundle). Written before `submit_bundle` answers;
/// emptied by the transaction that stores the block carrying them.
const QUEUE: TableDefinition<'static, u64, &'static [u8]> = TableDefinition::new("queue");

fn unavailable(error: impl std::fmt::Display) -> BaseLayerError {
    BaseLayerError::Unavailable(error.to_string())
}

/// Why the devnet sequencer's database could not be opened. Kept apart from
/// [`BaseLayerError`] so a damaged file is told from a transient failure
/// (and a caller can name the bad row) instead of a panic or a retry loop.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DevnetOpenError {
    /// redb could not open, create or read the file.
    #[error("sequencer database: {0}")]
    Storage(String),
    /// The newest stored block does not decode.
    #[error("sequencer block {height} is corrupt: {reason}")]
    CorruptBlock {
        /// The block's height (its key).
        height: u64,
        /// The decoding error.
        reason: String,
    },
    /// A queued bundle does not decode or breaks the bundle rules.
    #[error("queued bundle #{seq} is corrupt: {reason}")]
    CorruptQueue {
        /// The entry's sequence number (its key).
        seq: u64,
        /// The decoding or checking error.
        reason: String,
    },
}

impl From<DevnetOpenError> for BaseLayerError {
    fn from(error: DevnetOpenError) -> Self {
        BaseLayerError::Unavailable(error.to_string())
    }
}

fn storage(error: impl std::fmt::Display) -> DevnetOpenError {
    DevnetOpenError::Storage(error.to_string())
}

/// A bundle waiting for a block, as mirrored in memory from [`QUEUE`].
#[derive(Debug)]
struct Queued {
    seq: u64,
    bundle: Bundle,
    bytes: usize,
}

#[derive(Debug)]
struct SequencerState {
    latest: u64,
    latest_hash: [u8; 32],
    latest_timestamp: u64,
    /// Mirror of [`QUEUE`] in key order; changed only after a commit.
    queue: VecDeque<Queued>,
    queued_bytes: usize,
    next_seq: u64,
}

/// The embedded devnet base layer (see the module docs). Accepted bundles
/// are committed to the `queue` table before `submit_bundle` answers, and
/// leave it in the transaction that stores their block: a crash neither
/// loses nor duplicates one.
#[derive(Debug)]
pub struct DevnetSequencer {
    db: Database,
    state: Mutex<SequencerState>,
    /// Which results `publish_result` accepts (by default none);
    /// replaceable while running
    /// ([`DevnetSequencer::set_policy`], a keys file that changed).
    policy: std::sync::RwLock<ResultPolicy>,
    /// The genesis id, once the height-0 result is stored (results are
    /// write-once, so it never changes): spares a read per published result.
    genesis_id: std::sync::OnceLock<[u8; 32]>,
}

impl DevnetSequencer {
    /// Opens (or creates) the sequencer database at `path`, restoring the
    /// queue of accepted bundles in arrival order.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, DevnetOpenError> {
        Self::with_database(
            athena_store::redb_file::open_or_create(path.as_ref(), &redb::Builder::new()).map_err(storage)?,
        )
    }

    /// A sequencer in memory (tests).
    pub fn in_memory() -> Result<Self, DevnetOpenError> {
        Self::with_database(
            Database::builder().create_with_backend(redb::backends::InMemoryBackend::new()).map_err(storage)?,
        )
    }

    fn with_database(db: Database) -> Result<Self, DevnetOpenError> {
        let tx = db.begin_write().map_err(storage)?;
        tx.open_table(BLOCKS).map_err(storage)?;
        tx.open_table(RESULTS).map_err(storage)?;
        tx.open_table(QUEUE).map_err(storage)?;
        tx.commit().map_err(storage)?;
        let read = db.begin_read().map_err(storage)?;
        let blocks = read.open_table(BLOCKS).map_err(storage)?;
        let latest = match blocks.last().map_err(storage)? {
            Some((height, bytes)) => Block::from_bytes(bytes.value())
                .map_err(|e| DevnetOpenError::CorruptBlock { height: height.value(), reason: e.to_string() })?,
            None => Block::genesis(),
        };
        let mut queue = VecDeque::new();
        let mut queued_bytes = 0;
        for row in read.open_table(QUEUE).map_err(storage)?.iter().map_err(storage)? {
            let (seq, value) = row.map_err(storage)?;
            let seq = seq.value();
            let bundle = Bundle::from_bytes(value.value())
                .map_err(|e| DevnetOpenError::CorruptQueue { seq, reason: e.to_string() })?;
            let bytes = value.value().len();
            queued_bytes += bytes;
            queue.push_back(Queued { seq, bundle, bytes });
        }
        let next_seq = queue.back().map_or(0, |q| q.seq + 1);
        let state = SequencerState {
            latest: latest.height,
            latest_hash: latest.hash(),
            latest_timestamp: latest.timestamp,
            queue,
            queued_bytes,
            next_seq,
        };
        drop(blocks);
        drop(read);
        Ok(DevnetSequencer { db, state: Mutex::new(state), policy: Default::default(), genesis_id: Default::default() })
    }

    /// Sets which published results are accepted. A sequencer opened without
    /// a policy refuses every result: authorizing executors is explicit.
    pub fn with_policy(self, policy: ResultPolicy) -> Self {
        self.set_policy(policy);
        self
    }

    /// Replaces the policy while running (executor key rotation): results
    /// published from now on are checked against `policy`; accepted ones
    /// stay.
    pub fn set_policy(&self, policy: ResultPolicy) {
        *self.policy.write().unwrap_or_else(std::sync::PoisonError::into_inner) = policy;
    }

    /// The policy in force.
    pub fn policy(&self) -> ResultPolicy {
        self.policy.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// The genesis id results are signed for: the input hash of the stored
    /// height-0 result (`None` before one is published).
    fn genesis_id(&self) -> Result<Option<[u8; 32]>, BaseLayerError> {
        if let Some(id) = self.genesis_id.get() {
            return Ok(Some(*id));
        }
        let id = self.result(0)?.map(|r| r.result.input_hash);
        Ok(id.map(|id| *self.genesis_id.get_or_init(|| id)))
    }

    /// Checks `signed` against the policy (before any other rule, so an
    /// unauthorized poster cannot occupy a height). The signer is checked
    /// first, so an unknown poster learns nothing, not even whether the
    /// genesis result is missing.
    fn authenticate(&self, signed: &SignedResult) -> Result<(), BaseLayerError> {
        let authorized = self.policy.read().unwrap_or_else(PoisonError::into_inner).authorized_signer(signed);
        let Some((key, signature)) = authorized.map_err(BaseLayerError::Unauthenticated)? else {
            return Ok(());
        };
        let genesis_id = if signed.result.height == 0 {
            signed.result.input_hash
        } else {
            self.genesis_id()?.ok_or_else(|| {
                BaseLayerError::rejected(
                    "genesis_result_missing",
                    "the genesis result (height 0) must be published first: it names the network results are signed for",
                )
            })?
        };
        verify_signature(&key, &signature, &genesis_id, &signed.result).map_err(BaseLayerError::Unauthenticated)
    }

    /// Bundles waiting for a block.
    pub fn queued(&self) -> usize {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).queue.len()
    }

    /// Orders queued bundles (FIFO, up to [`MAX_BLOCK_BYTES`] and
    /// [`MAX_BLOCK_TXS`] of them, at least one) into the next block with timestamp `max(now, previous)`,
    /// persists it and returns it. The block is stored and its bundles leave
    /// the persisted queue in one write transaction. With nothing queued,
    /// produces an empty block only if `allow_empty`.
    pub fn produce_block(&self, now: u64, allow_empty: bool) -> Result<Option<Block>, BaseLayerError> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.queue.is_empty() && !allow_empty {
            return Ok(None);
        }
        let (mut size, mut txs, mut taken) = (64, 0, 0);
        for queued in &state.queue {
            let (bytes, count) = (queued.bytes, queued.bundle.txs.len());
            if taken > 0 && (size + bytes > MAX_BLOCK_BYTES || txs + count > MAX_BLOCK_TXS) {
                break;
            }
            size += bytes;
            txs += count;
            taken += 1;
        }
        let bundles: Vec<Bundle> = state.queue.iter().take(taken).map(|q| q.bundle.clone()).collect();
        let block = Block {
            height: state.latest + 1,
            parent_hash: state.latest_hash,
            timestamp: now.max(state.latest_timestamp),
            bundles,
        };
        let tx = self.db.begin_write().map_err(unavailable)?;
        {
            let mut blocks = tx.open_table(BLOCKS).map_err(unavailable)?;
            blocks.insert(block.height, block.encode().as_slice()).map_err(unavailable)?;
            let mut queue = tx.open_table(QUEUE).map_err(unavailable)?;
            for queued in state.queue.iter().take(taken) {
                queue.remove(queued.seq).map_err(unavailable)?;
            }
        }
        tx.commit().map_err(unavailable)?;
        for _ in 0..taken {
            if let Some(queued) = state.queue.pop_front() {
                state.queued_bytes -= queued.bytes;
            }
        }
        state.latest = block.height;
        state.latest_hash = block.hash();
        state.latest_timestamp = block.timestamp;
        Ok(Some(block))
    }
}

impl BaseLayer for DevnetSequencer {
    fn submit_bundle(&self, bundle: Bundle) -> Result<QueuedResponse, BaseLayerError> {
        bundle.check().map_err(|e| BaseLayerError::rejected("bad_request", e.to_string()))?;
        let encoded = bundle.encode();
        let (bytes, txs) = (encoded.len(), bundle.txs.len());
        if bytes > MAX_BUNDLE_BYTES {
            // Over the HTTP limit: it would not decode when the queue is restored.
            return Err(BaseLayerError::rejected("too_large", format!("{bytes} bytes, at most {MAX_BUNDLE_BYTES}")));
        }
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.queued_bytes + bytes > MAX_QUEUE_BYTES {
            return Err(BaseLayerError::rejected("queue_full", "too many bundles waiting; retry later"));
        }
        let seq = state.next_seq;
        let tx = self.db.begin_write().map_err(unavailable)?;
        tx.open_table(QUEUE).map_err(unavailable)?.insert(seq, encoded.as_slice()).map_err(unavailable)?;
        tx.commit().map_err(unavailable)?;
        state.next_seq = seq + 1;
        state.queued_bytes += bytes;
        state.queue.push_back(Queued { seq, bundle, bytes });
        Ok(QueuedResponse { queued: state.queue.len(), txs })
    }

    fn latest_height(&self) -> Result<u64, BaseLayerError> {
        Ok(self.state.lock().unwrap_or_else(PoisonError::into_inner).latest)
    }

    fn block(&self, height: u64) -> Result<Option<Block>, BaseLayerError> {
        if height == 0 {
            return Ok(Some(Block::genesis()));
        }
        let read = self.db.begin_read().map_err(unavailable)?;
        let table = read.open_table(BLOCKS).map_err(unavailable)?;
        let row = table.get(height).map_err(unavailable)?;
        row.map(|bytes| Block::from_bytes(bytes.value()).map_err(unavailable)).transpose()
    }

    fn publish_result(&self, signed: &SignedResult) -> Result<(), BaseLayerError> {
        self.authenticate(signed)?;
        let result = &signed.result;
        if result.height > self.latest_height()? {
            return Err(BaseLayerError::rejected("bad_request", format!("block {} does not exist yet", result.height)));
        }
        if result.height > 0 {
            let block = self.block(result.height)?.ok_or_else(|| unavailable("block vanished"))?;
            if block.hash() != result.input_hash {
                return Err(BaseLayerError::rejected(
                    "bad_request",
                    format!("input hash {} is not block {}'s", hex::encode(result.input_hash), result.height),
                ));
            }
        }
        let tx = self.db.begin_write().map_err(unavailable)?;
        {
            let mut table = tx.open_table(RESULTS).map_err(unavailable)?;
            let existing = table.get(result.height).map_err(unavailable)?.map(|v| v.value().to_vec());
            let existing =
                existing.map(|bytes| SignedResult::decode_stored(&bytes).map_err(unavailable)).transpose()?;
            match existing {
                // The same result (maybe signed by another authorized key): the first stays.
                Some(stored) if stored.result == *result => return Ok(()),
                Some(_) => {
                    return Err(BaseLayerError::rejected(
                        "conflict",
                        format!("a different result for block {} is already published", result.height),
                    ))
                }
                None => {
                    table.insert(result.height, signed.encode().as_slice()).map_err(unavailable)?;
                }
            }
        }
        tx.commit().map_err(unavailable)
    }

    fn result(&self, height: u64) -> Result<Option<SignedResult>, BaseLayerError> {
        let read = self.db.begin_read().map_err(unavailable)?;
        let table = read.open_table(RESULTS).map_err(unavailable)?;
        let row = table.get(height).map_err(unavailable)?;
        row.map(|bytes| SignedResult::decode_stored(bytes.value()).map_err(unavailable)).transpose()
    }
}

/// A client of a sequencer's HTTP API (blocking; use from worker threads).
#[derive(Debug, Clone)]
pub struct HttpBaseLayer {
    base: String,
    agent: ureq::Agent,
}

impl HttpBaseLayer {
    /// A client of the sequencer at `url` (e.g. `http://127.0.0.1:9000`).
    pub fn new(url: &str) -> Self {
        HttpBaseLayer { base: url.trim_end_matches('/').to_owned(), agent: agent() }
    }

    /// The sequencer's base URL.
    pub fn url(&self) -> &str {
        &self.base
    }
}

/// A blocking HTTP client that hands 4xx/5xx back as responses, with
/// timeouts so a hung peer cannot stall a worker forever.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .timeout_connect(Some(Duration::from_secs(5)))
        .build()
        .into()
}

/// Reads an error response's JSON body into a [`BaseLayerError`].
fn refused(mut response: ureq::http::Response<ureq::Body>) -> BaseLayerError {
    let status = response.status();
    let body: Option<ErrorBody> = response.body_mut().read_json().ok();
    let (error, message) = match body {
        Some(body) => (body.error, body.message),
        None => ("http".to_owned(), format!("HTTP {status}")),
    };
    if status.is_server_error() && error != "queue_full" {
        BaseLayerError::Unavailable(format!("{error}: {message}"))
    } else {
        BaseLayerError::Rejected { error, message }
    }
}

impl BaseLayer for HttpBaseLayer {
    fn submit_bundle(&self, bundle: Bundle) -> Result<QueuedResponse, BaseLayerError> {
        let mut response = self
            .agent
            .post(format!("{}/v1/bundles", self.base))
            .content_type("application/octet-stream")
            .send(bundle.to_bytes().as_slice())
            .map_err(unavailable)?;
        if !response.status().is_success() {
            return Err(refused(response));
        }
        response.body_mut().read_json().map_err(unavailable)
    }

    fn latest_height(&self) -> Result<u64, BaseLayerError> {
        let mut response = self.agent.get(format!("{}/v1/blocks/latest", self.base)).call().map_err(unavailable)?;
        if !response.status().is_success() {
            return Err(refused(response));
        }
        Ok(response.body_mut().read_json::<LatestResponse>().map_err(unavailable)?.height)
    }

    fn block(&self, height: u64) -> Result<Option<Block>, BaseLayerError> {
        let mut response = self.agent.get(format!("{}/v1/blocks/{height}", self.base)).call().map_err(unavailable)?;
        if response.status() == 404 {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(refused(response));
        }
        let limit = u64::try_from(MAX_BLOCK_BYTES).unwrap_or(u64::MAX) + 1;
        let bytes = response.body_mut().with_config().limit(limit).read_to_vec().map_err(unavailable)?;
        let block = Block::from_bytes(&bytes).map_err(|e| BaseLayerError::rejected("bad_block", e.to_string()))?;
        if block.height != height {
            return Err(BaseLayerError::rejected(
                "bad_block",
                format!("asked for block {height}, got {}", block.height),
            ));
        }
        Ok(Some(block))
    }

    fn publish_result(&self, result: &SignedResult) -> Result<(), BaseLayerError> {
        let response = self.agent.post(format!("{}/v1/results", self.base)).send_json(result).map_err(unavailable)?;
        if !response.status().is_success() {
            return Err(refused(response));
        }
        Ok(())
    }

    fn result(&self, height: u64) -> Result<Option<SignedResult>, BaseLayerError> {
        let mut response = self.agent.get(format!("{}/v1/results/{height}", self.base)).call().map_err(unavailable)?;
        if response.status() == 404 {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(refused(response));
        }
        response.body_mut().read_json().map_err(unavailable).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::BlockResult;
    use ed25519_dalek::SigningKey;

    const GENESIS_ID: [u8; 32] = [0x9c; 32];

    fn executor_key() -> SigningKey {
        SigningKey::from_bytes(&[1; 32])
    }

    fn policy() -> ResultPolicy {
        ResultPolicy::keys([executor_key().verifying_key()])
    }

    fn code(error: BaseLayerError) -> String {
        match error {
            BaseLayerError::Unauthenticated(e) => e.code().to_owned(),
            BaseLayerError::Rejected { error, .. } => error,
            other => other.to_string(),
        }
    }

    #[test]
    fn results_are_authenticated_before_first_wins() {
        let seq = DevnetSequencer::in_memory().unwrap().with_policy(policy());
        seq.submit_bundle(Bundle { relay: [1; 24], txs: vec![vec![1]] }).unwrap();
        let one = seq.produce_block(1, false).unwrap().unwrap();
        let genesis = BlockResult { height: 0, input_hash: GENESIS_ID, state_root: [3; 32], receipts_root: [4; 32] };
        let result = BlockResult { height: 1, input_hash: one.hash(), state_root: [1; 32], receipts_root: [2; 32] };
        let intruder = SigningKey::from_bytes(&[2; 32]);
        // Nobody can squat the genesis height either.
        assert_eq!(code(seq.publish_result(&SignedResult::unsigned(genesis)).unwrap_err()), "unsigned_result");
        let squat = SignedResult::sign(&intruder, &GENESIS_ID, genesis);
        assert_eq!(code(seq.publish_result(&squat).unwrap_err()), "unknown_signer");
        assert_eq!(seq.result(0).unwrap(), None);
        seq.publish_result(&SignedResult::sign(&executor_key(), &GENESIS_ID, genesis)).unwrap();

        let unsigned = SignedResult::unsigned(result);
        assert_eq!(code(seq.publish_result(&unsigned).unwrap_err()), "unsigned_result");
        let foreign = SignedResult::sign(&intruder, &GENESIS_ID, result);
        assert_eq!(code(seq.publish_result(&foreign).unwrap_err()), "unknown_signer");
        let signed = SignedResult::sign(&executor_key(), &GENESIS_ID, result);
        let tampered = SignedResult { result: BlockResult { state_root: [7; 32], ..result }, ..signed };
        assert_eq!(code(seq.publish_result(&tampered).unwrap_err()), "bad_signature");
        let other_network = SignedResult::sign(&executor_key(), &[1; 32], result);
        assert_eq!(code(seq.publish_result(&other_network).unwrap_err()), "bad_signature");
        assert_eq!(seq.result(1).unwrap(), None, "nothing refused was stored");
        seq.publish_result(&signed).unwrap();
        assert_eq!(seq.result(1).unwrap(), Some(signed), "served with its signature");

        // A sequencer nobody configured accepts no result; the dev flag accepts any.
        let closed = DevnetSequencer::in_memory().unwrap();
        let genesis_signed = SignedResult::sign(&executor_key(), &GENESIS_ID, genesis);
        assert_eq!(code(closed.publish_result(&genesis_signed).unwrap_err()), "unknown_signer");
        let open = DevnetSequencer::in_memory().unwrap().with_policy(ResultPolicy::AcceptUnsigned);
        open.publish_result(&SignedResult::unsigned(genesis)).unwrap();
    }

    #[test]
    fn a_result_before_the_genesis_result_is_refused_after_the_signer_checks() {
        let seq = DevnetSequencer::in_memory().unwrap().with_policy(policy());
        seq.submit_bundle(Bundle { relay: [1; 24], txs: vec![vec![1]] }).unwrap();
        let one = seq.produce_block(1, false).unwrap().unwrap();
        let result = BlockResult { height: 1, input_hash: one.hash(), state_root: [1; 32], receipts_root: [2; 32] };
        // An unknown poster or an unsigned result learns nothing about the genesis result.
        let intruder = SigningKey::from_bytes(&[2; 32]);
        assert_eq!(
            code(seq.publish_result(&SignedResult::sign(&intruder, &GENESIS_ID, result)).unwrap_err()),
            "unknown_signer"
        );
        assert_eq!(code(seq.publish_result(&SignedResult::unsigned(result)).unwrap_err()), "unsigned_result");
        // An authorized executor is told what is missing, whatever network it signed for.
        let signed = SignedResult::sign(&executor_key(), &GENESIS_ID, result);
        assert_eq!(code(seq.publish_result(&signed).unwrap_err()), "genesis_result_missing");
        let elsewhere = SignedResult::sign(&executor_key(), &[1; 32], result);
        assert_eq!(code(seq.publish_result(&elsewhere).unwrap_err()), "genesis_result_missing");
        assert_eq!(seq.result(1).unwrap(), None);

        let genesis = BlockResult { height: 0, input_hash: GENESIS_ID, state_root: [3; 32], receipts_root: [4; 32] };
        seq.publish_result(&SignedResult::sign(&executor_key(), &GENESIS_ID, genesis)).unwrap();
        // Now the network is known: the other network's signature no longer verifies.
        assert_eq!(code(seq.publish_result(&elsewhere).unwrap_err()), "bad_signature");
        seq.publish_result(&signed).unwrap();
        assert_eq!(seq.result(1).unwrap(), Some(signed));
    }

    #[test]
    fn devnet_sequencer_orders_persists_and_checks_results() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SEQUENCER_FILE);
        let seq = DevnetSequencer::open(&path).unwrap().with_policy(policy());
        assert_eq!(seq.latest_height().unwrap(), 0);
        assert_eq!(seq.produce_block(5, false).unwrap(), None, "empty blocks are skipped");
        let bundle = |n: u8| Bundle { relay: [n; 24], txs: vec![vec![n]] };
        assert_eq!(seq.submit_bundle(bundle(1)).unwrap(), QueuedResponse { queued: 1, txs: 1 });
        seq.submit_bundle(bundle(2)).unwrap();
        assert!(seq.submit_bundle(Bundle { relay: [0; 24], txs: vec![] }).is_err());
        let one = seq.produce_block(100, false).unwrap().unwrap();
        assert_eq!((one.height, one.parent_hash, one.timestamp), (1, Block::genesis().hash(), 100));
        assert_eq!(one.bundles, vec![bundle(1), bundle(2)]);
        let two = seq.produce_block(50, true).unwrap().unwrap();
        assert_eq!((two.height, two.parent_hash, two.timestamp), (2, one.hash(), 100), "time never goes back");

        let result = BlockResult { height: 1, input_hash: one.hash(), state_root: [1; 32], receipts_root: [2; 32] };
        let genesis = BlockResult { height: 0, input_hash: GENESIS_ID, state_root: [3; 32], receipts_root: [4; 32] };
        let sign = |r: BlockResult| SignedResult::sign(&executor_key(), &GENESIS_ID, r);
        assert!(matches!(
            seq.publish_result(&sign(result)),
            Err(BaseLayerError::Rejected { error, .. }) if error == "genesis_result_missing"
        ));
        seq.publish_result(&sign(genesis)).unwrap();
        seq.publish_result(&sign(result)).unwrap();
        seq.publish_result(&sign(result)).unwrap();
        let other = BlockResult { state_root: [9; 32], ..result };
        assert!(
            matches!(seq.publish_result(&sign(other)), Err(BaseLayerError::Rejected { error, .. }) if error == "conflict")
        );
        let wrong_input = BlockResult { height: 2, ..result };
        assert!(seq.publish_result(&sign(wrong_input)).is_err());
        assert!(seq.publish_result(&sign(BlockResult { height: 3, ..result })).is_err());
        drop(seq);

        let seq = DevnetSequencer::open(&path).unwrap();
        assert_eq!(seq.latest_height().unwrap(), 2);
        assert_eq!(seq.block(1).unwrap(), Some(one));
        assert_eq!(seq.block(2).unwrap(), Some(two.clone()));
        assert_eq!(seq.block(3).unwrap(), None);
        assert_eq!(seq.result(1).unwrap(), Some(sign(result)));
        assert_eq!(seq.result(2).unwrap(), None);
        seq.submit_bundle(bundle(3)).unwrap();
        assert_eq!(seq.produce_block(200, false).unwrap().unwrap().parent_hash, two.hash());

        // Whole bundles, at most MAX_BLOCK_TXS transactions per block.
        let full = Bundle { relay: [4; 24], txs: vec![vec![1]; crate::types::MAX_BUNDLE_TXS] };
        for _ in 0..5 {
            seq.submit_bundle(full.clone()).unwrap();
        }
        assert_eq!(seq.produce_block(300, false).unwrap().unwrap().tx_count(), MAX_BLOCK_TXS);
        assert_eq!(seq.queued(), 1);
    }

    #[test]
    fn a_corrupt_queue_entry_is_an_error_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SEQUENCER_FILE);
        let seq = DevnetSequencer::open(&path).unwrap();
        seq.submit_bundle(Bundle { relay: [1; 24], txs: vec![vec![1]] }).unwrap();
        drop(seq);
        let db = Database::create(&path).unwrap();
        let tx = db.begin_write().unwrap();
        tx.open_table(QUEUE).unwrap().insert(7, [0xff, 0xff, 0xff].as_slice()).unwrap();
        tx.commit().unwrap();
        drop(db);
        match DevnetSequencer::open(&path) {
            Err(DevnetOpenError::CorruptQueue { seq: 7, .. }) => {}
            other => panic!("expected a corrupt queue entry 7, got {other:?}"),
        }
    }

    #[test]
    fn bundles_over_the_wire_limit_are_refused() {
        let seq = DevnetSequencer::in_memory().unwrap();
        let tx = vec![0; athena_transaction::tx::MAX_TX_SIZE];
        let big = Bundle { relay: [2; 24], txs: vec![tx; MAX_BUNDLE_BYTES / athena_transaction::tx::MAX_TX_SIZE + 1] };
        assert!(matches!(seq.submit_bundle(big), Err(BaseLayerError::Rejected { error, .. }) if error == "too_large"));
        assert_eq!(seq.queued(), 0);
    }
}

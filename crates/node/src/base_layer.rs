//! The base layer seam: what the rollup needs from the chain that orders
//! its bundles and carries its executors' results.
//!
//! [`BaseLayer`] is the trait every role programs against. Two
//! implementations:
//!
//! * [`DevnetSequencer`]: the embedded devnet base layer. Orders queued
//!   bundles into blocks (FIFO) when asked to produce one, persists blocks
//!   and results in a redb file, so it survives restarts.
//! * [`HttpBaseLayer`]: a client of a sequencer's HTTP API
//!   (`docs/node.md`); what executors, shadows and relays use.
//!
//! The real base layer is Spacemesh: an implementation of the same trait
//! that posts bundles as base-layer transactions and reads Athena blocks
//! out of base-layer blocks. Nothing above this module knows which one runs.

use crate::types::{
    Block, BlockResult, Bundle, ErrorBody, LatestResponse, QueuedResponse, MAX_BLOCK_BYTES, MAX_BLOCK_TXS,
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
    /// Publishes an executor's result. Publishing the same result again is
    /// fine; a different result for a height that has one is `conflict`.
    fn publish_result(&self, result: &BlockResult) -> Result<(), BaseLayerError>;
    /// The result published for `height`, if any.
    fn result(&self, height: u64) -> Result<Option<BlockResult>, BaseLayerError>;
}

/// Name of the sequencer's database file in its data directory.
pub const SEQUENCER_FILE: &str = "sequencer.redb";

/// Most bytes of bundles waiting for a block; beyond, submissions get
/// `queue_full` (relays retry later).
pub const MAX_QUEUE_BYTES: usize = 64 * 1024 * 1024;

const BLOCKS: TableDefinition<'static, u64, &'static [u8]> = TableDefinition::new("blocks");
const RESULTS: TableDefinition<'static, u64, &'static [u8]> = TableDefinition::new("results");

fn unavailable(error: impl std::fmt::Display) -> BaseLayerError {
    BaseLayerError::Unavailable(error.to_string())
}

#[derive(Debug)]
struct SequencerState {
    latest: u64,
    latest_hash: [u8; 32],
    latest_timestamp: u64,
    queue: VecDeque<(Bundle, usize)>,
    queued_bytes: usize,
}

/// The embedded devnet base layer (see the module docs). Bundles waiting in
/// the queue are held in memory only: a crash loses them, and the relays
/// that sent them resubmit what does not get included.
#[derive(Debug)]
pub struct DevnetSequencer {
    db: Database,
    state: Mutex<SequencerState>,
}

impl DevnetSequencer {
    /// Opens (or creates) the sequencer database at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, BaseLayerError> {
        Self::with_database(Database::create(path).map_err(unavailable)?)
    }

    /// A sequencer in memory (tests).
    pub fn in_memory() -> Result<Self, BaseLayerError> {
        Self::with_database(
            Database::builder().create_with_backend(redb::backends::InMemoryBackend::new()).map_err(unavailable)?,
        )
    }

    fn with_database(db: Database) -> Result<Self, BaseLayerError> {
        let tx = db.begin_write().map_err(unavailable)?;
        tx.open_table(BLOCKS).map_err(unavailable)?;
        tx.open_table(RESULTS).map_err(unavailable)?;
        tx.commit().map_err(unavailable)?;
        let read = db.begin_read().map_err(unavailable)?;
        let blocks = read.open_table(BLOCKS).map_err(unavailable)?;
        let last = blocks.last().map_err(unavailable)?.map(|(_, bytes)| bytes.value().to_vec());
        let latest = match last {
            Some(bytes) => Block::from_bytes(&bytes).map_err(unavailable)?,
            None => Block::genesis(),
        };
        let state = SequencerState {
            latest: latest.height,
            latest_hash: latest.hash(),
            latest_timestamp: latest.timestamp,
            queue: VecDeque::new(),
            queued_bytes: 0,
        };
        drop(blocks);
        drop(read);
        Ok(DevnetSequencer { db, state: Mutex::new(state) })
    }

    /// Bundles waiting for a block.
    pub fn queued(&self) -> usize {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).queue.len()
    }

    /// Orders queued bundles (FIFO, up to [`MAX_BLOCK_BYTES`] and
    /// [`MAX_BLOCK_TXS`] of them, at least one) into the next block with timestamp `max(now, previous)`,
    /// persists it and returns it. With nothing queued, produces an empty
    /// block only if `allow_empty`.
    pub fn produce_block(&self, now: u64, allow_empty: bool) -> Result<Option<Block>, BaseLayerError> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.queue.is_empty() && !allow_empty {
            return Ok(None);
        }
        let (mut size, mut txs, mut taken) = (64, 0, 0);
        for (bundle, bytes) in &state.queue {
            if taken > 0 && (size + bytes > MAX_BLOCK_BYTES || txs + bundle.txs.len() > MAX_BLOCK_TXS) {
                break;
            }
            size += bytes;
            txs += bundle.txs.len();
            taken += 1;
        }
        let bundles: Vec<Bundle> = state.queue.iter().take(taken).map(|(b, _)| b.clone()).collect();
        let block = Block {
            height: state.latest + 1,
            parent_hash: state.latest_hash,
            timestamp: now.max(state.latest_timestamp),
            bundles,
        };
        let tx = self.db.begin_write().map_err(unavailable)?;
        tx.open_table(BLOCKS)
            .map_err(unavailable)?
            .insert(block.height, block.encode().as_slice())
            .map_err(unavailable)?;
        tx.commit().map_err(unavailable)?;
        for _ in 0..taken {
            if let Some((_, bytes)) = state.queue.pop_front() {
                state.queued_bytes -= bytes;
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
        let bytes = bundle.encoded_size();
        let txs = bundle.txs.len();
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.queued_bytes + bytes > MAX_QUEUE_BYTES {
            return Err(BaseLayerError::rejected("queue_full", "too many bundles waiting; retry later"));
        }
        state.queued_bytes += bytes;
        state.queue.push_back((bundle, bytes));
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

    fn publish_result(&self, result: &BlockResult) -> Result<(), BaseLayerError> {
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
            match existing {
                Some(bytes) if bytes == result.encode() => return Ok(()),
                Some(_) => {
                    return Err(BaseLayerError::rejected(
                        "conflict",
                        format!("a different result for block {} is already published", result.height),
                    ))
                }
                None => {
                    table.insert(result.height, result.encode().as_slice()).map_err(unavailable)?;
                }
            }
        }
        tx.commit().map_err(unavailable)
    }

    fn result(&self, height: u64) -> Result<Option<BlockResult>, BaseLayerError> {
        let read = self.db.begin_read().map_err(unavailable)?;
        let table = read.open_table(RESULTS).map_err(unavailable)?;
        let row = table.get(height).map_err(unavailable)?;
        row.map(|bytes| <BlockResult as parity_scale_codec::Decode>::decode(&mut bytes.value()).map_err(unavailable))
            .transpose()
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

    fn publish_result(&self, result: &BlockResult) -> Result<(), BaseLayerError> {
        let response = self.agent.post(format!("{}/v1/results", self.base)).send_json(result).map_err(unavailable)?;
        if !response.status().is_success() {
            return Err(refused(response));
        }
        Ok(())
    }

    fn result(&self, height: u64) -> Result<Option<BlockResult>, BaseLayerError> {
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

    #[test]
    fn devnet_sequencer_orders_persists_and_checks_results() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SEQUENCER_FILE);
        let seq = DevnetSequencer::open(&path).unwrap();
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
        seq.publish_result(&result).unwrap();
        seq.publish_result(&result).unwrap();
        let other = BlockResult { state_root: [9; 32], ..result };
        assert!(
            matches!(seq.publish_result(&other), Err(BaseLayerError::Rejected { error, .. }) if error == "conflict")
        );
        let wrong_input = BlockResult { height: 2, ..result };
        assert!(seq.publish_result(&wrong_input).is_err());
        assert!(seq.publish_result(&BlockResult { height: 3, ..result }).is_err());
        drop(seq);

        let seq = DevnetSequencer::open(&path).unwrap();
        assert_eq!(seq.latest_height().unwrap(), 2);
        assert_eq!(seq.block(1).unwrap(), Some(one));
        assert_eq!(seq.block(2).unwrap(), Some(two.clone()));
        assert_eq!(seq.block(3).unwrap(), None);
        assert_eq!(seq.result(1).unwrap(), Some(result));
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
}

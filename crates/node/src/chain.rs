//! An executor's chain: the store in its data directory, the network it was
//! created for, block application and atomic commits with receipts, and the
//! reads the query API serves.

use crate::backend::{NodeBackend, NodeOpenError, NodeRead, NodeRow, NodeTable};
use crate::exec::{execute_block, BlockOutcome, ChainView, ExecConfig};
use crate::genesis::{GenesisError, LoadedGenesis};
use crate::receipts::{merkle_root, StoredReceipt};
use crate::types::{Block, BlockResult, CheckResponse, BLOCK_HASH_WINDOW};
use athena_interface::{Address, Bytes32};
use athena_runtime::tx::{dry_run_transaction, ApplyError, BlockContext, DryRun, DryRunOptions, TxStatus};
use athena_runtime::{Account, StateError, StateReader};
use athena_store::backend::WriteTx;
use athena_store::{BlockMeta, Snapshot, Store, StoreError};
use athena_transaction::Network;
use parity_scale_codec::{Decode, Encode};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

/// Name of the database file in an executor's data directory.
pub const STATE_FILE: &str = "state.redb";

/// `node_meta` key of the genesis templates: SCALE `Vec<(String, [u8; 24])>`,
/// the genesis file's entries and their addresses (for `GET /v1/status`).
/// Not part of any root; a data directory created before it existed has
/// none and takes the list from the genesis file given at start, if any.
const META_TEMPLATES: &[u8] = b"templates";

/// `node_meta` key of the receipts pruning floor (u64 BE): receipts and
/// events of heights below it are deleted or being deleted, and queries for
/// them answer [`ChainError::Pruned`]. Absent means 0.
const META_RECEIPTS_PRUNED_BELOW: &[u8] = b"receipts_pruned_below";

/// Receipts deleted per write transaction when pruning: bounds one
/// transaction's work.
const PRUNE_BATCH: usize = 512;

/// Deletion transactions (store and receipts, each) a commit may spend on
/// pruning after its block: turning `--keep-heights` on for a long
/// history then spreads the work over the following blocks instead of
/// holding one up.
const PRUNE_BATCHES_PER_BLOCK: u64 = 8;

/// Why the chain cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The database failed or is corrupt.
    #[error(transparent)]
    State(#[from] StateError),
    /// A store operation failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A transaction could not be evaluated (never a consensus outcome).
    #[error("cannot execute: {0}")]
    Apply(#[from] ApplyError),
    /// The genesis file is bad.
    #[error(transparent)]
    Genesis(#[from] GenesisError),
    /// A new data directory needs a genesis file.
    #[error("the data directory is empty: a genesis file is needed to create the chain")]
    NoGenesis,
    /// The data directory belongs to another network.
    #[error("the data directory holds genesis {stored}, the genesis file gives {given}")]
    GenesisMismatch {
        /// Genesis id in the database.
        stored: String,
        /// Genesis id of the file.
        given: String,
    },
    /// A block at the wrong height.
    #[error("block {found} cannot follow: the next height is {expected}")]
    WrongHeight {
        /// The next height.
        expected: u64,
        /// The block's height.
        found: u64,
    },
    /// A block whose parent is not the last committed block.
    #[error("block {height} names parent {found}, but block {} is {expected}", height - 1)]
    ParentMismatch {
        /// The block's height.
        height: u64,
        /// The hash of the committed block before it.
        expected: String,
        /// The block's parent hash.
        found: String,
    },
    /// Another process holds the database open (a running executor or
    /// shadow): redb allows one process per file.
    #[error("{}: the database is in use by another process", path.display())]
    InUse {
        /// The database file.
        path: std::path::PathBuf,
    },
    /// The data directory could not be created.
    #[error("data directory: {0}")]
    Io(#[from] std::io::Error),
    /// The query needs receipts or proofs of a height the node pruned
    /// (`--keep-heights`); block results (roots) are still served.
    #[error("height {height} is pruned: this node keeps receipts and proofs from height {floor}")]
    Pruned {
        /// The requested height.
        height: u64,
        /// The lowest height still served in full.
        floor: u64,
    },
}

/// What one [`Chain::prune`] call deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChainPruneReport {
    /// The state store's part (tree nodes and values).
    pub store: athena_store::PruneReport,
    /// Receipts deleted.
    pub receipts_deleted: u64,
    /// Event index rows deleted.
    pub events_deleted: u64,
    /// Whether everything below the floor is deleted (store and receipts);
    /// `false` when the per-block budget ran out first.
    pub complete: bool,
}

/// What the node records about a block besides receipts (node table
/// `node_blocks`).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct BlockSummary {
    /// The block's input hash (genesis id at height 0).
    pub hash: [u8; 32],
    /// Its parent's hash.
    pub parent_hash: [u8; 32],
    /// The sequencer's timestamp.
    pub timestamp: u64,
    /// Per bundle: relay and number of transactions.
    pub bundles: Vec<([u8; 24], u32)>,
    /// Receipts recorded.
    pub receipts: u32,
    /// Duplicates skipped.
    pub skipped: u32,
}

/// One emitted log found by [`Chain::events`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Block height.
    pub height: u64,
    /// Receipt index in the block.
    pub index: u32,
    /// Log index in the receipt.
    pub log_index: u32,
    /// The transaction id.
    pub tx_id: [u8; 32],
    /// The log.
    pub log: crate::receipts::StoredLog,
}

fn encode_templates(templates: &BTreeMap<String, Address>) -> Vec<u8> {
    templates.iter().map(|(name, address)| (name.clone(), address.into_bytes())).collect::<Vec<_>>().encode()
}

fn height_key(height: u64) -> [u8; 8] {
    height.to_be_bytes()
}

fn receipt_key(height: u64, index: u32) -> Vec<u8> {
    [&height.to_be_bytes()[..], &index.to_be_bytes()].concat()
}

fn decode_u64(what: &str, bytes: &[u8]) -> Result<u64, StateError> {
    let bytes: [u8; 8] = bytes.try_into().map_err(|_| StateError::Corrupt(format!("{what}: not 8 bytes")))?;
    Ok(u64::from_be_bytes(bytes))
}

/// The receipts floor kept in the `Meta` row [`META_RECEIPTS_PRUNED_BELOW`]
/// (0 if never pruned); read in a read or a write transaction.
fn decode_floor(row: Option<Vec<u8>>) -> Result<u64, StateError> {
    row.map_or(Ok(0), |bytes| decode_u64("receipts floor", &bytes))
}

/// The receipts floor as `node` sees it (0 if never pruned).
fn receipts_floor(node: &NodeRead) -> Result<u64, ChainError> {
    Ok(decode_floor(node.node_get(NodeTable::Meta, META_RECEIPTS_PRUNED_BELOW)?)?)
}

/// `Err(Pruned)` if `height` is below the receipts floor in `node`'s
/// snapshot: checked in the same read transaction as the rows it guards,
/// so a prune running meanwhile cannot make them vanish after the check
/// (which would read as a corrupt index instead of a pruned height).
fn check_not_pruned(node: &NodeRead, height: u64) -> Result<(), ChainError> {
    let floor = receipts_floor(node)?;
    if height < floor {
        return Err(ChainError::Pruned { height, floor });
    }
    Ok(())
}

fn decode_row<T: Decode>(what: &str, bytes: &[u8]) -> Result<T, StateError> {
    T::decode(&mut &bytes[..]).map_err(|e| StateError::Corrupt(format!("{what} row: {e}")))
}

/// The read side of one moment: store snapshot plus node tables.
struct View {
    snapshot: Snapshot<NodeRead>,
    node: NodeRead,
}

impl StateReader for View {
    fn account(&self, address: &Address) -> Result<Option<Account>, StateError> {
        self.snapshot.account(address)
    }
    fn storage(&self, address: &Address, key: &Bytes32) -> Result<Bytes32, StateError> {
        self.snapshot.storage(address, key)
    }
    fn program_state(&self, address: &Address) -> Result<Vec<u8>, StateError> {
        self.snapshot.program_state(address)
    }
    fn template_code(&self, template: &Address) -> Result<Option<Arc<[u8]>>, StateError> {
        self.snapshot.template_code(template)
    }
    fn has_template(&self, template: &Address) -> Result<bool, StateError> {
        self.snapshot.has_template(template)
    }
}

impl ChainView for View {
    fn was_effective(&self, id: &[u8; 32]) -> Result<bool, StateError> {
        Ok(self.node.node_get(NodeTable::TxIndex, id)?.is_some_and(|row| row.get(12) == Some(&1)))
    }
    fn input_hash(&self, height: u64) -> Result<Option<[u8; 32]>, StateError> {
        Ok(self.snapshot.block(height)?.map(|b| b.meta.input_hash.into_bytes()))
    }
}

/// An executor's chain (see the module docs). Shared between the block
/// follower (the only writer) and the query API.
#[derive(Debug)]
pub struct Chain {
    store: Store<NodeBackend>,
    network: Network,
    genesis_id: [u8; 32],
    templates: BTreeMap<String, Address>,
    commit: Mutex<()>,
    keep_heights: Option<u64>,
}

impl Chain {
    /// Opens the chain in `data_dir` (created if missing). A new directory
    /// is initialised from `genesis` (height 0); an existing one must match
    /// it, if given.
    pub fn open(data_dir: &Path, genesis: Option<&LoadedGenesis>) -> Result<Chain, ChainError> {
        std::fs::create_dir_all(data_dir)?;
        let path = data_dir.join(STATE_FILE);
        let backend = NodeBackend::open(&path).map_err(|e| match e {
            NodeOpenError::InUse => ChainError::InUse { path },
            NodeOpenError::State(e) => ChainError::State(e),
        })?;
        Self::with_backend(backend, genesis)
    }

    /// Shrinks the database file to what it still holds, giving back the
    /// space pruning freed (`docs/node.md`, "Pruning"). Roots, receipts and
    /// proofs are unchanged. Offline maintenance (`athena node compact`):
    /// `&mut self` means no query or commit runs meanwhile. Returns whether
    /// anything moved.
    pub fn compact(&mut self) -> Result<bool, ChainError> {
        Ok(self.store.backend_mut().compact()?)
    }

    /// A chain in memory, from `genesis` (tests).
    pub fn in_memory(genesis: &LoadedGenesis) -> Result<Chain, ChainError> {
        Self::with_backend(NodeBackend::in_memory()?, Some(genesis))
    }

    fn with_backend(backend: NodeBackend, genesis: Option<&LoadedGenesis>) -> Result<Chain, ChainError> {
        let store = Store::with_backend(backend)?;
        let node = store.backend().read()?;
        let Some(last) = store.last_committed()? else {
            drop(node);
            let genesis = genesis.ok_or(ChainError::NoGenesis)?;
            let summary = BlockSummary {
                hash: genesis.genesis_id,
                parent_hash: [0; 32],
                timestamp: 0,
                bundles: Vec::new(),
                receipts: 0,
                skipped: 0,
            };
            store.backend().stage(
                0,
                vec![
                    (NodeTable::Meta, b"genesis_id".to_vec(), genesis.genesis_id.to_vec()),
                    (NodeTable::Meta, b"network".to_vec(), genesis.network.hrp().as_bytes().to_vec()),
                    (NodeTable::Meta, META_TEMPLATES.to_vec(), encode_templates(&genesis.templates)),
                    (NodeTable::Blocks, height_key(0).to_vec(), summary.encode()),
                ],
            );
            let meta = BlockMeta {
                input_hash: Bytes32::new(genesis.genesis_id),
                receipts_root: Bytes32::new(merkle_root(&[])),
            };
            let root = store.commit_block(0, &genesis.changes, &meta)?;
            tracing::info!(
                "genesis {}: {} accounts, {} templates, root {}",
                hex::encode(genesis.genesis_id),
                genesis.changes.accounts.len(),
                genesis.changes.templates.len(),
                root
            );
            return Ok(Chain {
                store,
                network: genesis.network.clone(),
                genesis_id: genesis.genesis_id,
                templates: genesis.templates.clone(),
                commit: Mutex::new(()),
                keep_heights: None,
            });
        };
        let corrupt = |what: &str| ChainError::State(StateError::Corrupt(what.to_owned()));
        let id = node.node_get(NodeTable::Meta, b"genesis_id")?.ok_or_else(|| corrupt("no genesis id"))?;
        let genesis_id: [u8; 32] = id.as_slice().try_into().map_err(|_| corrupt("bad genesis id"))?;
        let hrp = node.node_get(NodeTable::Meta, b"network")?.ok_or_else(|| corrupt("no network"))?;
        let hrp = String::from_utf8(hrp).map_err(|_| corrupt("bad network"))?;
        let network = Network::new(&hrp, Bytes32::new(genesis_id)).map_err(|e| corrupt(&e.to_string()))?;
        if let Some(genesis) = genesis {
            if genesis.genesis_id != genesis_id {
                return Err(ChainError::GenesisMismatch {
                    stored: hex::encode(genesis_id),
                    given: hex::encode(genesis.genesis_id),
                });
            }
        }
        let newest = node.node_range(NodeTable::Blocks, &[], &[0xff; 8], 1, true)?;
        if newest.first().map(|(key, _)| key.as_slice()) != Some(&height_key(last.height)[..]) {
            return Err(corrupt("the node's block records do not end at the store's last height"));
        }
        let templates = match node.node_get(NodeTable::Meta, META_TEMPLATES)? {
            Some(row) => decode_row::<Vec<(String, [u8; 24])>>("templates", &row)?
                .into_iter()
                .map(|(name, address)| (name, Address::new(address)))
                .collect(),
            None => genesis.map(|g| g.templates.clone()).unwrap_or_default(),
        };
        Ok(Chain { store, network, genesis_id, templates, commit: Mutex::new(()), keep_heights: None })
    }

    /// Prune after every commit so that only the last committed height and
    /// the `keep` before it stay provable with receipts (`--keep-heights`);
    /// `None` (the default) keeps everything.
    pub fn with_keep_heights(mut self, keep: Option<u64>) -> Self {
        self.keep_heights = keep;
        self
    }

    /// The receipts pruning floor: receipts, events and proofs of heights
    /// below it are no longer served (0 if never pruned).
    pub fn pruned_below(&self) -> Result<u64, ChainError> {
        receipts_floor(&self.store.backend().read()?)
    }

    /// Deletes what only heights below `keep_from` need: the store's old
    /// tree versions ([`Store::prune`]), and the node's receipts and event
    /// index rows of those heights. Kept: block summaries and results
    /// (roots are history) and the transaction index (it is what skips a
    /// replayed transaction: consensus, not history). `keep_from` must be
    /// at most the last committed height.
    pub fn prune(&self, keep_from: u64) -> Result<ChainPruneReport, ChainError> {
        let _guard = self.commit.lock().unwrap_or_else(PoisonError::into_inner);
        self.prune_locked(keep_from, u64::MAX)
    }

    /// [`Chain::prune`] under the commit lock (so no block's staged rows
    /// are pending while the store's prune opens its transactions), with at
    /// most `max_batches` deletion transactions for the store and as many
    /// for the receipts; what is left is done by the next call.
    fn prune_locked(&self, keep_from: u64, max_batches: u64) -> Result<ChainPruneReport, ChainError> {
        let store = self.store.prune_some(keep_from, max_batches)?;
        let mut report = ChainPruneReport { store, ..ChainPruneReport::default() };
        // Same order as the store: the floor first (queries below it are
        // refused from now on), then the deletions in bounded batches, each
        // atomic; an interrupted pass is finished by the next call.
        let mut tx = self.store.backend().write()?;
        let floor = decode_floor(tx.node_get(NodeTable::Meta, META_RECEIPTS_PRUNED_BELOW)?)?;
        let target = floor.max(keep_from);
        if target > floor {
            tx.node_put(NodeTable::Meta, META_RECEIPTS_PRUNED_BELOW, &target.to_be_bytes())?;
            tx.commit()?;
        } else {
            drop(tx);
        }
        let Some(below) = target.checked_sub(1) else {
            report.complete = report.store.complete;
            return Ok(report);
        };
        let high = receipt_key(below, u32::MAX);
        for _ in 0..max_batches {
            let mut tx = self.store.backend().write()?;
            let rows = tx.node_range(NodeTable::Receipts, &[], &high, PRUNE_BATCH)?;
            if rows.is_empty() {
                report.complete = report.store.complete;
                break;
            }
            for (key, row) in &rows {
                let receipt: StoredReceipt = decode_row("receipt", row)?;
                for (log_index, log) in (0u32..).zip(&receipt.logs) {
                    let event = [&log.address[..], key, &log_index.to_be_bytes()].concat();
                    tx.node_delete(NodeTable::Events, &event)?;
                    report.events_deleted += 1;
                }
                tx.node_delete(NodeTable::Receipts, key)?;
                report.receipts_deleted += 1;
            }
            tx.commit()?;
        }
        Ok(report)
    }

    /// The network (HRP and genesis id).
    pub fn network(&self) -> &Network {
        &self.network
    }

    /// The genesis id.
    pub fn genesis_id(&self) -> [u8; 32] {
        self.genesis_id
    }

    /// The templates deployed at genesis: the genesis file's entry → address.
    pub fn templates(&self) -> &BTreeMap<String, Address> {
        &self.templates
    }

    /// The underlying store (state reads and proofs).
    pub fn store(&self) -> &Store<NodeBackend> {
        &self.store
    }

    /// The last committed height.
    pub fn height(&self) -> Result<u64, ChainError> {
        Ok(self.store.last_committed()?.map_or(0, |b| b.height))
    }

    /// What the executor publishes for committed block `height`.
    pub fn result(&self, height: u64) -> Result<Option<BlockResult>, ChainError> {
        Ok(self.store.block(height)?.map(|b| BlockResult {
            height,
            input_hash: b.meta.input_hash.into_bytes(),
            state_root: b.state_root.0,
            receipts_root: b.meta.receipts_root.into_bytes(),
        }))
    }

    fn view(&self) -> Result<View, StateError> {
        Ok(View { snapshot: self.store.snapshot()?, node: self.store.backend().read()? })
    }

    /// Applies `block`, which must be the next one, without committing.
    pub fn execute(&self, block: &Block, config: &ExecConfig) -> Result<BlockOutcome, ChainError> {
        let view = self.view()?;
        let last = view.snapshot.last_committed()?.ok_or(ChainError::NoGenesis)?;
        let expected = last.height.saturating_add(1);
        if block.height != expected {
            return Err(ChainError::WrongHeight { expected, found: block.height });
        }
        let parent = if last.height == 0 { Block::genesis().hash() } else { last.meta.input_hash.into_bytes() };
        if block.parent_hash != parent {
            return Err(ChainError::ParentMismatch {
                height: block.height,
                expected: hex::encode(parent),
                found: hex::encode(block.parent_hash),
            });
        }
        Ok(execute_block(&view, &self.network, block, config)?)
    }

    /// Commits an executed block: state, tree, block record, receipts and
    /// indexes in one atomic transaction.
    pub fn commit(&self, block: &Block, outcome: &BlockOutcome) -> Result<BlockResult, ChainError> {
        let _guard = self.commit.lock().unwrap_or_else(PoisonError::into_inner);
        let height = block.height;
        let mut rows: Vec<NodeRow> = Vec::new();
        for receipt in &outcome.receipts {
            let key = receipt_key(height, receipt.index);
            let mut index = key.clone();
            index.push(u8::from(receipt.is_effective()));
            rows.push((NodeTable::TxIndex, receipt.tx_id.to_vec(), index));
            for (log_index, log) in (0u32..).zip(&receipt.logs) {
                let event = [&log.address[..], &key, &log_index.to_be_bytes()].concat();
                rows.push((NodeTable::Events, event, Vec::new()));
            }
            rows.push((NodeTable::Receipts, key, receipt.encode()));
        }
        let summary = BlockSummary {
            hash: outcome.input_hash,
            parent_hash: block.parent_hash,
            timestamp: block.timestamp,
            bundles: block.bundles.iter().map(|b| (b.relay, u32::try_from(b.txs.len()).unwrap_or(u32::MAX))).collect(),
            receipts: u32::try_from(outcome.receipts.len()).unwrap_or(u32::MAX),
            skipped: outcome.skipped,
        };
        rows.push((NodeTable::Blocks, height_key(height).to_vec(), summary.encode()));
        self.store.backend().stage(height, rows);
        let meta = BlockMeta {
            input_hash: Bytes32::new(outcome.input_hash),
            receipts_root: Bytes32::new(outcome.receipts_root),
        };
        let root = self.store.commit_block(height, &outcome.changes, &meta)?;
        if let Some(keep) = self.keep_heights {
            let keep_from = height.saturating_sub(keep);
            if keep_from > 0 {
                // The block is committed whatever happens here; a failed
                // prune leaves a consistent store and is retried (and
                // finished) after the next block.
                if let Err(e) = self.prune_locked(keep_from, PRUNE_BATCHES_PER_BLOCK) {
                    tracing::warn!("pruning below height {keep_from} failed: {e}");
                }
            }
        }
        Ok(BlockResult {
            height,
            input_hash: outcome.input_hash,
            state_root: root.0,
            receipts_root: outcome.receipts_root,
        })
    }

    /// Executes and commits the next block.
    pub fn apply(&self, block: &Block, config: &ExecConfig) -> Result<(BlockResult, BlockOutcome), ChainError> {
        let outcome = self.execute(block, config)?;
        let result = self.commit(block, &outcome)?;
        Ok((result, outcome))
    }

    /// The latest receipt recorded for transaction `id`.
    pub fn receipt(&self, id: &[u8; 32]) -> Result<Option<StoredReceipt>, ChainError> {
        let node = self.store.backend().read()?;
        let Some(row) = node.node_get(NodeTable::TxIndex, id)? else { return Ok(None) };
        let key = row.get(..12).ok_or_else(|| StateError::Corrupt("tx index row".into()))?;
        let height = decode_u64("tx index", key.get(..8).unwrap_or_default())?;
        check_not_pruned(&node, height)?;
        let receipt = node
            .node_get(NodeTable::Receipts, key)?
            .ok_or_else(|| StateError::Corrupt("indexed receipt missing".into()))?;
        Ok(Some(decode_row("receipt", &receipt)?))
    }

    /// The receipts of block `height`, in order.
    pub fn receipts(&self, height: u64) -> Result<Vec<StoredReceipt>, ChainError> {
        let node = self.store.backend().read()?;
        check_not_pruned(&node, height)?;
        let rows = node.node_range(
            NodeTable::Receipts,
            &receipt_key(height, 0),
            &receipt_key(height, u32::MAX),
            usize::MAX,
            false,
        )?;
        Ok(rows.iter().map(|(_, value)| decode_row("receipt", value)).collect::<Result<_, _>>()?)
    }

    /// The summary of committed block `height`.
    pub fn block_summary(&self, height: u64) -> Result<Option<BlockSummary>, ChainError> {
        let node = self.store.backend().read()?;
        Ok(node.node_get(NodeTable::Blocks, &height_key(height))?.map(|row| decode_row("block", &row)).transpose()?)
    }

    /// Up to `limit` logs emitted in blocks `from..=to`, by `address` if
    /// given, in chain order. [`ChainError::Pruned`] if `from` is below the
    /// receipts floor (the answer would silently miss events).
    pub fn events(&self, address: Option<Address>, from: u64, to: u64, limit: usize) -> Result<Vec<Event>, ChainError> {
        let mut out = Vec::new();
        if from > to {
            return Ok(out);
        }
        let node = self.store.backend().read()?;
        check_not_pruned(&node, from)?;
        match address {
            Some(address) => {
                let low = [address.as_bytes(), &receipt_key(from, 0)[..], &[0; 4]].concat();
                let high = [address.as_bytes(), &receipt_key(to, u32::MAX)[..], &[0xff; 4]].concat();
                let mut cache: BTreeMap<Vec<u8>, StoredReceipt> = BTreeMap::new();
                for (key, _) in node.node_range(NodeTable::Events, &low, &high, limit, false)? {
                    let bad = || StateError::Corrupt("event key".into());
                    let receipt_key = key.get(24..36).ok_or_else(bad)?.to_vec();
                    let log_index = u32::from_be_bytes(key.get(36..40).ok_or_else(bad)?.try_into().map_err(|_| bad())?);
                    if !cache.contains_key(&receipt_key) {
                        let row = node.node_get(NodeTable::Receipts, &receipt_key)?.ok_or_else(bad)?;
                        cache.insert(receipt_key.clone(), decode_row("receipt", &row)?);
                    }
                    let receipt = &cache[&receipt_key];
                    let log = receipt.logs.get(log_index as usize).ok_or_else(bad)?.clone();
                    out.push(Event {
                        height: receipt.height,
                        index: receipt.index,
                        log_index,
                        tx_id: receipt.tx_id,
                        log,
                    });
                }
            }
            None => {
                // Receipts in chunks, so memory stays bounded whatever the range.
                let mut low = receipt_key(from, 0);
                let high = receipt_key(to, u32::MAX);
                'chunks: loop {
                    let rows = node.node_range(NodeTable::Receipts, &low, &high, 256, false)?;
                    let Some((last_key, _)) = rows.last() else { break };
                    let mut next = last_key.clone();
                    for (_, row) in &rows {
                        let receipt: StoredReceipt = decode_row("receipt", row)?;
                        for (log_index, log) in (0u32..).zip(&receipt.logs) {
                            if out.len() >= limit {
                                break 'chunks;
                            }
                            let (height, index, tx_id) = (receipt.height, receipt.index, receipt.tx_id);
                            out.push(Event { height, index, log_index, tx_id, log: log.clone() });
                        }
                    }
                    // The smallest key after the last one read.
                    next.push(0);
                    low = next;
                }
            }
        }
        Ok(out)
    }

    /// A dry run of `tx` against the latest committed state, as the first
    /// transaction of the next block with `fee_recipient` as relay. With
    /// `options.ignore_verify` the run goes on past a `verify` that refuses
    /// (a gas estimate for a transaction not signed yet); the answer then
    /// says whether `verify` accepted. Never committed.
    pub fn check(
        &self,
        tx: &[u8],
        fee_recipient: Address,
        config: &ExecConfig,
        options: DryRunOptions,
    ) -> Result<CheckResponse, ChainError> {
        let view = self.view()?;
        let last = view.snapshot.last_committed()?.ok_or(ChainError::NoGenesis)?;
        let timestamp = match view.node.node_get(NodeTable::Blocks, &height_key(last.height))? {
            Some(row) => decode_row::<BlockSummary>("block", &row)?.timestamp,
            None => 0,
        };
        let height = last.height.saturating_add(1);
        let mut ctx = BlockContext::new(self.network.clone(), fee_recipient);
        ctx.height = height;
        ctx.timestamp = timestamp;
        for h in height.saturating_sub(BLOCK_HASH_WINDOW)..height {
            if let Some(hash) = view.input_hash(h)? {
                ctx.block_hashes.insert(h, Bytes32::new(hash));
            }
        }
        let decoded = athena_transaction::decode(tx).ok();
        let principal = decoded.as_ref().map(|t| t.body.principal);
        let account = principal.map(|p| view.account(&p)).transpose()?.flatten();
        let id = *blake3::hash(tx).as_bytes();
        let included = self.receipt(&id)?.filter(StoredReceipt::is_effective);
        let DryRun { receipt, verify_accepted } = dry_run_transaction(&view, &ctx, tx, &config.tx, options)?;
        let (effective, status, reason) = match (&included, &receipt.status) {
            (Some(r), _) => (false, "ineffective", Some(format!("already included in block {}", r.height))),
            (None, TxStatus::Succeeded) => (true, "succeeded", None),
            (None, TxStatus::Failed(why)) => (true, "failed", Some(why.to_string())),
            (None, TxStatus::Ineffective(why)) => (false, "ineffective", Some(why.to_string())),
        };
        // Past a refusing verify the run is an estimate: `ok` stays what
        // the transaction as sent would do.
        let ok = effective && verify_accepted != Some(false);
        Ok(CheckResponse {
            ok,
            status: status.to_owned(),
            reason,
            revert_message: receipt.revert_message().map(str::to_owned),
            id: hex::encode(id),
            principal: principal.map(|p| self.network.encode_address(&p)),
            nonce: decoded.as_ref().map(|t| t.body.nonce),
            account_nonce: principal.map(|_| account.map_or(0, |a| a.nonce)),
            balance: principal.map(|_| account.map_or(0, |a| a.balance)),
            gas_price: decoded.as_ref().map(|t| t.body.gas_price),
            gas_limit: decoded.as_ref().map(|t| t.body.gas_limit),
            max_fee: decoded.as_ref().map(|t| t.body.gas_limit.saturating_mul(t.body.gas_price)),
            gas_used: receipt.gas_used,
            fee: receipt.fee,
            height: last.height,
            verify_accepted: if options.ignore_verify { Some(verify_accepted == Some(true)) } else { None },
        })
    }
}

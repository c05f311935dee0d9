//! Block application: the deterministic rules every executor (and shadow)
//! follows to turn a [`Block`] into a change set and receipts
//! (`docs/node.md`, "Executing a block").
//!
//! * bundles in order, transactions in bundle order;
//! * a transaction whose id (blake3 of its bytes) occurred earlier in the
//!   same block, or was *effective* in an earlier block, is skipped: no
//!   receipt, first occurrence wins;
//! * each transaction is applied with `apply_transaction` against the
//!   committed state plus the changes of the block's earlier transactions,
//!   with the bundle's relay as fee recipient;
//! * `GET_BLOCK_HASH` sees the input hashes of the previous
//!   [`BLOCK_HASH_WINDOW`] blocks.

use crate::receipts::{receipts_root, StoredReceipt};
use crate::types::{Block, BLOCK_HASH_WINDOW};
use athena_interface::{Address, Bytes32};
use athena_runtime::tx::{apply_transaction, ApplyError, BlockContext, TxConfig};
use athena_runtime::{Account, ChangeSet, StateError, StateReader};
use athena_transaction::Network;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// What block application reads besides state: the transaction index and
/// past block hashes, both as of the last committed block.
pub trait ChainView: StateReader {
    /// Whether transaction `id` was effective in a committed block.
    fn was_effective(&self, id: &[u8; 32]) -> Result<bool, StateError>;
    /// The input hash recorded for committed block `height`, if any.
    fn input_hash(&self, height: u64) -> Result<Option<[u8; 32]>, StateError>;
}

/// Committed state plus the changes of a block's earlier transactions:
/// what each transaction of a block executes against.
#[derive(Debug)]
pub struct Layered<'a, S: ?Sized> {
    base: &'a S,
    /// Changes of the block so far (later transactions win).
    pub changes: ChangeSet,
}

impl<'a, S: StateReader + ?Sized> Layered<'a, S> {
    /// No changes yet over `base`.
    pub fn new(base: &'a S) -> Self {
        Layered { base, changes: ChangeSet::default() }
    }
}

impl<S: StateReader + ?Sized> StateReader for Layered<'_, S> {
    fn account(&self, address: &Address) -> Result<Option<Account>, StateError> {
        match self.changes.accounts.get(address) {
            Some(account) => Ok(Some(*account)),
            None => self.base.account(address),
        }
    }
    fn storage(&self, address: &Address, key: &Bytes32) -> Result<Bytes32, StateError> {
        match self.changes.storage.get(&(*address, *key)) {
            Some(value) => Ok(*value),
            None => self.base.storage(address, key),
        }
    }
    fn program_state(&self, address: &Address) -> Result<Vec<u8>, StateError> {
        match self.changes.states.get(address) {
            Some(state) => Ok(state.clone()),
            None => self.base.program_state(address),
        }
    }
    fn template_code(&self, template: &Address) -> Result<Option<Arc<[u8]>>, StateError> {
        match self.changes.templates.get(template) {
            Some(code) => Ok(Some(Arc::clone(code))),
            None => self.base.template_code(template),
        }
    }
    fn has_template(&self, template: &Address) -> Result<bool, StateError> {
        Ok(self.changes.templates.contains_key(template) || self.base.has_template(template)?)
    }
}

/// Test-only misbehaviour of a faulty executor: after applying receipt
/// `index` of block `height`, add [`Fault::AMOUNT`] coins to its principal
/// (or, for undecodable bytes, the fee recipient). Exists so the shadow
/// executor's detection can be tested end to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    /// The block.
    pub height: u64,
    /// The receipt index within it.
    pub index: u32,
}

impl Fault {
    /// Coins conjured by the fault.
    pub const AMOUNT: u64 = 1_000;

    /// Parses `HEIGHT` or `HEIGHT:INDEX` (index 0 by default).
    pub fn parse(text: &str) -> Result<Fault, String> {
        let (height, index) = text.split_once(':').unwrap_or((text, "0"));
        Ok(Fault {
            height: height.parse().map_err(|e| format!("fault height {height:?}: {e}"))?,
            index: index.parse().map_err(|e| format!("fault index {index:?}: {e}"))?,
        })
    }
}

/// Execution settings; the same on every node of a network (except
/// `fault`, which only a deliberately broken test executor sets).
#[derive(Debug, Clone, Copy, Default)]
pub struct ExecConfig {
    /// Engine and revision.
    pub tx: TxConfig,
    /// Injected fault, for tests of the shadow executor.
    pub fault: Option<Fault>,
}

/// The result of applying one block, not yet committed.
#[derive(Debug, Clone)]
pub struct BlockOutcome {
    /// The block's merged change set.
    pub changes: ChangeSet,
    /// One receipt per applied (not skipped) transaction, in order.
    pub receipts: Vec<StoredReceipt>,
    /// Transactions skipped as duplicates.
    pub skipped: u32,
    /// [`receipts_root`] of `receipts`.
    pub receipts_root: [u8; 32],
    /// The block's input hash ([`Block::hash`]).
    pub input_hash: [u8; 32],
}

/// Applies `block` on top of `view` (see the module docs). `Err` means a
/// transaction could not be evaluated (backend failure or internal VM
/// error): nothing may be committed and the node must stop or retry.
pub fn execute_block<V: ChainView + ?Sized>(
    view: &V,
    network: &Network,
    block: &Block,
    config: &ExecConfig,
) -> Result<BlockOutcome, ApplyError> {
    let mut block_hashes = BTreeMap::new();
    for height in block.height.saturating_sub(BLOCK_HASH_WINDOW)..block.height {
        if let Some(hash) = view.input_hash(height)? {
            block_hashes.insert(height, Bytes32::new(hash));
        }
    }
    let mut ctx = BlockContext::new(network.clone(), Address::ZERO);
    ctx.height = block.height;
    ctx.timestamp = block.timestamp;
    ctx.block_hashes = block_hashes;

    let mut layered = Layered::new(view);
    let mut seen = BTreeSet::new();
    let mut receipts = Vec::new();
    let mut skipped = 0u32;
    for (bundle_index, bundle) in block.bundles.iter().enumerate() {
        ctx.fee_recipient = bundle.relay_address();
        for tx in &bundle.txs {
            let id = *blake3::hash(tx).as_bytes();
            if !seen.insert(id) || view.was_effective(&id)? {
                skipped = skipped.saturating_add(1);
                continue;
            }
            let index = u32::try_from(receipts.len()).unwrap_or(u32::MAX);
            let mut receipt = apply_transaction(&layered, &ctx, tx, &config.tx)?;
            if config.fault == Some(Fault { height: block.height, index }) {
                let target = receipt.principal.unwrap_or(ctx.fee_recipient);
                let current = match receipt.changes.accounts.get(&target) {
                    Some(account) => Some(*account),
                    None => layered.account(&target)?,
                };
                let mut account = current.unwrap_or_default();
                account.balance = account.balance.wrapping_add(Fault::AMOUNT);
                receipt.changes.accounts.insert(target, account);
                tracing::warn!(height = block.height, index, "injected fault: +{} coins", Fault::AMOUNT);
            }
            let bundle_index = u32::try_from(bundle_index).unwrap_or(u32::MAX);
            receipts.push(StoredReceipt::new(&receipt, block.height, index, bundle_index, ctx.fee_recipient));
            layered.changes.merge(receipt.changes);
        }
    }
    let receipts_root = receipts_root(&receipts);
    Ok(BlockOutcome { changes: layered.changes, receipts, skipped, receipts_root, input_hash: block.hash() })
}

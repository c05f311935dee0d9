//! The store: committed state tables, per-block atomic commits, the state
//! tree and proofs, over any [`Backend`].
//!
//! Commit protocol (`docs/store.md`): one write transaction checks the
//! height, writes the changed records, the new tree nodes, the block record
//! and the new last height, and commits. The backend's atomic commit is the
//! only crash-safety mechanism; there is no log to replay.

use crate::backend::{Backend, ReadTx, Table, WriteTx};
use crate::encoding::{self, LeafKey};
use crate::proof::{AccountProof, LeafProof, ProgramStateProof, StateRoot, StorageProof};
use crate::tree::{self, LeafUpdates};
use athena_interface::{Address, Bytes32};
use athena_runtime::{Account, ChangeSet, StateError, StateReader, StateWriter};
use std::sync::Arc;

/// Version of the on-disk layout, stored under `meta/schema`. Opening a
/// database with another version fails instead of misreading it.
pub const SCHEMA_VERSION: u32 = 1;

/// Meta key of the schema version (u32 big-endian).
const META_SCHEMA: &[u8] = b"schema";
/// Meta key of the last committed height (u64 big-endian); absent before
/// the first (genesis) commit.
const META_LAST_HEIGHT: &[u8] = b"last_height";

/// What the caller records with a block besides the state: opaque hashes the
/// store keeps (and returns) but never interprets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BlockMeta {
    /// Identifies the block's input: the base layer's block hash or the
    /// executor's input hash.
    pub input_hash: Bytes32,
    /// The root over the block's receipts.
    pub receipts_root: Bytes32,
}

/// A committed block as the store recorded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommittedBlock {
    /// The block height.
    pub height: u64,
    /// The state root after the block.
    pub state_root: StateRoot,
    /// The caller's metadata.
    pub meta: BlockMeta,
}

/// Length of a block record: state root ‖ input hash ‖ receipts root.
const BLOCK_RECORD_LEN: usize = 96;

impl CommittedBlock {
    fn encode(&self) -> [u8; BLOCK_RECORD_LEN] {
        let mut out = [0u8; BLOCK_RECORD_LEN];
        out[..32].copy_from_slice(&self.state_root.0);
        out[32..64].copy_from_slice(self.meta.input_hash.as_bytes());
        out[64..].copy_from_slice(self.meta.receipts_root.as_bytes());
        out
    }

    fn decode(height: u64, bytes: &[u8]) -> Result<Self, StateError> {
        let record: [u8; BLOCK_RECORD_LEN] = encoding::array(bytes)?;
        let (root, rest) = record.split_at(32);
        let (input_hash, receipts_root) = rest.split_at(32);
        Ok(CommittedBlock {
            height,
            state_root: StateRoot(encoding::array(root)?),
            meta: BlockMeta {
                input_hash: Bytes32::new(encoding::array(input_hash)?),
                receipts_root: Bytes32::new(encoding::array(receipts_root)?),
            },
        })
    }
}

/// A store operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// Blocks must be committed at consecutive heights starting at 0.
    #[error("cannot commit block {found}: the next height is {expected}")]
    NonConsecutiveHeight {
        /// The height the store expects next.
        expected: u64,
        /// The height the caller passed.
        found: u64,
    },
    /// A proof or block was requested at a height that is not committed.
    #[error("height {height} is not committed (last committed: {last:?})")]
    UnknownHeight {
        /// The requested height.
        height: u64,
        /// The last committed height, if any.
        last: Option<u64>,
    },
    /// A proof was requested at a height below the pruning floor: the data
    /// it needs was deleted by [`Store::prune`]. The block record (root)
    /// is still available through [`Store::block`].
    #[error("height {height} is pruned (proofs are kept from height {floor})")]
    Pruned {
        /// The requested height.
        height: u64,
        /// The lowest height still provable.
        floor: u64,
    },
    /// The backend failed or returned corrupt data.
    #[error(transparent)]
    State(#[from] StateError),
}

impl From<StoreError> for StateError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::State(inner) => inner,
            other => StateError::Backend(other.to_string()),
        }
    }
}

/// The last committed height recorded in `tx`, if any.
pub(crate) fn last_height<T: ReadTx + ?Sized>(tx: &T) -> Result<Option<u64>, StateError> {
    tx.get(Table::Meta, META_LAST_HEIGHT)?.map(|bytes| encoding::decode_u64(&bytes)).transpose()
}

/// The last committed block recorded in `tx`, if any.
fn last_block<T: ReadTx + ?Sized>(tx: &T) -> Result<Option<CommittedBlock>, StateError> {
    let Some(height) = last_height(tx)? else {
        return Ok(None);
    };
    let block = block_at(tx, height)?.ok_or_else(|| StateError::Corrupt(format!("block {height} has no record")))?;
    Ok(Some(block))
}

/// The block record at `height` in `tx`, if committed.
fn block_at<T: ReadTx + ?Sized>(tx: &T, height: u64) -> Result<Option<CommittedBlock>, StateError> {
    tx.get(Table::Blocks, &encoding::height_key(height))?
        .map(|bytes| CommittedBlock::decode(height, &bytes))
        .transpose()
}

/// The node's persistent state: [`StateReader`] for execution, atomic
/// [`Store::commit_block`] for the executor, proofs for the query API.
///
/// Generic over the database; [`crate::RedbBackend`] is the default and the
/// only one so far. Shareable across threads when the backend is: commits
/// take `&self` and are serialized by the backend's single writer.
#[derive(Debug)]
pub struct Store<B: Backend = crate::RedbBackend> {
    backend: B,
}

impl<B: Backend> Store<B> {
    /// Opens a store on `backend`: initializes an empty database, or checks
    /// an existing one (its schema version, and that the tree's root at the
    /// last height matches the recorded block root).
    pub fn with_backend(backend: B) -> Result<Self, StateError> {
        let store = Store { backend };
        let tx = store.backend.begin_read()?;
        match tx.get(Table::Meta, META_SCHEMA)? {
            Some(bytes) => {
                let version = u32::from_be_bytes(encoding::array(&bytes)?);
                if version != SCHEMA_VERSION {
                    return Err(StateError::Corrupt(format!(
                        "database schema version {version}, this build reads {SCHEMA_VERSION}"
                    )));
                }
            }
            None => {
                drop(tx);
                let mut tx = store.backend.begin_write()?;
                if tx.get(Table::Meta, META_SCHEMA)?.is_none() {
                    tx.put(Table::Meta, META_SCHEMA, &SCHEMA_VERSION.to_be_bytes())?;
                    tx.commit()?;
                }
                return Ok(store);
            }
        }
        if let Some(block) = last_block(&tx)? {
            let tree_root = tree::root_at(&tx, block.height)?;
            if tree_root != Some(block.state_root) {
                return Err(StateError::Corrupt(format!(
                    "tree root {tree_root:?} at height {} differs from the block's {}",
                    block.height, block.state_root
                )));
            }
        }
        Ok(store)
    }

    /// The database backend.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// The database backend, exclusively: for maintenance no transaction
    /// may overlap, such as compacting the file (`RedbBackend::compact`).
    pub fn backend_mut(&mut self) -> &mut B {
        &mut self.backend
    }

    /// A consistent view of the latest committed state: reads through it
    /// all see the same block, whatever is committed meanwhile. Execute a
    /// block against one snapshot.
    pub fn snapshot(&self) -> Result<Snapshot<B::Read>, StateError> {
        Ok(Snapshot { tx: self.backend.begin_read()? })
    }

    /// The last committed block, or `None` before genesis.
    pub fn last_committed(&self) -> Result<Option<CommittedBlock>, StateError> {
        self.snapshot()?.last_committed()
    }

    /// The block committed at `height`, if any.
    pub fn block(&self, height: u64) -> Result<Option<CommittedBlock>, StateError> {
        self.snapshot()?.block(height)
    }

    /// The current state root ([`StateRoot::EMPTY`] before genesis).
    pub fn state_root(&self) -> Result<StateRoot, StateError> {
        Ok(self.last_committed()?.map_or(StateRoot::EMPTY, |block| block.state_root))
    }

    /// Commits block `height`: applies `changes` (zero storage values and
    /// empty program states delete), updates the state tree and records
    /// `meta`, all in one atomic write transaction. Returns the new root.
    ///
    /// Heights start at 0 (genesis) and must be consecutive; anything else is
    /// [`StoreError::NonConsecutiveHeight`] and changes nothing. On any error
    /// nothing is written.
    pub fn commit_block(&self, height: u64, changes: &ChangeSet, meta: &BlockMeta) -> Result<StateRoot, StoreError> {
        let mut tx = self.backend.begin_write()?;
        let expected = match last_height(&tx)? {
            None => 0,
            Some(last) => {
                last.checked_add(1).ok_or_else(|| StateError::Corrupt("last committed height is u64::MAX".into()))?
            }
        };
        if height != expected {
            return Err(StoreError::NonConsecutiveHeight { expected, found: height });
        }
        let updates = write_changes(&mut tx, changes)?;
        let (state_root, batch) = tree::update(&tx, height, updates)?;
        tree::write_batch(&mut tx, &batch)?;
        let block = CommittedBlock { height, state_root, meta: *meta };
        tx.put(Table::Blocks, &encoding::height_key(height), &block.encode())?;
        tx.put(Table::Meta, META_LAST_HEIGHT, &height.to_be_bytes())?;
        tx.commit()?;
        Ok(state_root)
    }

    /// The value of `key` at `height` (default: the last committed height)
    /// with a proof against that height's root.
    pub fn prove(&self, key: &LeafKey, height: Option<u64>) -> Result<LeafProof, StoreError> {
        self.snapshot()?.prove(key, height)
    }

    /// The account at `address` (or its absence) at `height` (default: the
    /// last committed height), with proof.
    pub fn prove_account(&self, address: &Address, height: Option<u64>) -> Result<AccountProof, StoreError> {
        self.snapshot()?.prove_account(address, height)
    }

    /// Storage slot `key` of `address` at `height` (default: the last
    /// committed height), with proof.
    pub fn prove_storage(
        &self,
        address: &Address,
        key: &Bytes32,
        height: Option<u64>,
    ) -> Result<StorageProof, StoreError> {
        self.snapshot()?.prove_storage(address, key, height)
    }

    /// The program state blob of `address` (empty if it has none) at
    /// `height` (default: the last committed height), with proof. To pair it
    /// with the account record, prove both from one [`Snapshot`] at one
    /// height.
    pub fn prove_program_state(&self, address: &Address, height: Option<u64>) -> Result<ProgramStateProof, StoreError> {
        self.snapshot()?.prove_program_state(address, height)
    }
}

/// Writes the records `changes` alters into the state tables and returns the
/// matching leaf updates. Entries equal to what is stored are skipped, so the
/// tree only sees real changes (and deleting an absent slot is a no-op).
fn write_changes<W: WriteTx + ?Sized>(tx: &mut W, changes: &ChangeSet) -> Result<LeafUpdates, StateError> {
    let mut updates = LeafUpdates::new();
    for (address, account) in &changes.accounts {
        let record = encoding::encode_account(account);
        if tx.get(Table::Accounts, address.as_bytes())?.as_deref() != Some(&record[..]) {
            tx.put(Table::Accounts, address.as_bytes(), &record)?;
            updates.insert(LeafKey::Account(*address).hash(), Some(record));
        }
    }
    for (address, blob) in &changes.states {
        let leaf = LeafKey::ProgramState(*address).hash();
        let current = tx.get(Table::States, address.as_bytes())?;
        if blob.is_empty() {
            if current.is_some() {
                tx.delete(Table::States, address.as_bytes())?;
                updates.insert(leaf, None);
            }
        } else if current.as_deref() != Some(&blob[..]) {
            tx.put(Table::States, address.as_bytes(), blob)?;
            updates.insert(leaf, Some(blob.clone()));
        }
    }
    for ((address, key), value) in &changes.storage {
        let row = encoding::storage_key(address, key);
        let leaf = LeafKey::Storage(*address, *key).hash();
        let current = tx.get(Table::Storage, &row)?;
        if value.is_zero() {
            if current.is_some() {
                tx.delete(Table::Storage, &row)?;
                updates.insert(leaf, None);
            }
        } else if current.as_deref() != Some(&value.as_bytes()[..]) {
            tx.put(Table::Storage, &row, value.as_bytes())?;
            updates.insert(leaf, Some(value.as_bytes().to_vec()));
        }
    }
    for (address, code) in &changes.templates {
        if tx.get(Table::Templates, address.as_bytes())?.as_deref() != Some(&code[..]) {
            tx.put(Table::Templates, address.as_bytes(), code)?;
            updates.insert(LeafKey::Template(*address).hash(), Some(encoding::code_hash(code).to_vec()));
        }
    }
    Ok(updates)
}

impl<B: Backend> StateReader for Store<B> {
    fn account(&self, address: &Address) -> Result<Option<Account>, StateError> {
        self.snapshot()?.account(address)
    }
    fn storage(&self, address: &Address, key: &Bytes32) -> Result<Bytes32, StateError> {
        self.snapshot()?.storage(address, key)
    }
    fn program_state(&self, address: &Address) -> Result<Vec<u8>, StateError> {
        self.snapshot()?.program_state(address)
    }
    fn template_code(&self, template: &Address) -> Result<Option<Arc<[u8]>>, StateError> {
        self.snapshot()?.template_code(template)
    }
    fn has_template(&self, template: &Address) -> Result<bool, StateError> {
        self.snapshot()?.has_template(template)
    }
}

impl<B: Backend> StateWriter for Store<B> {
    /// Commits `changes` as the next block with empty [`BlockMeta`]: for
    /// tools and tests that apply state without tracking blocks. A node
    /// uses [`Store::commit_block`].
    fn apply(&mut self, changes: &ChangeSet) -> Result<(), StateError> {
        let next = match self.last_committed()? {
            None => 0,
            Some(block) => block.height.checked_add(1).ok_or_else(|| StateError::Backend("no height left".into()))?,
        };
        self.commit_block(next, changes, &BlockMeta::default())?;
        Ok(())
    }
}

/// A read-only snapshot of the store at one committed block (see
/// [`Store::snapshot`]).
#[derive(Debug)]
pub struct Snapshot<R> {
    tx: R,
}

impl<R: ReadTx> Snapshot<R> {
    /// The last block committed when the snapshot was taken.
    pub fn last_committed(&self) -> Result<Option<CommittedBlock>, StateError> {
        last_block(&self.tx)
    }

    /// The block committed at `height`, if any.
    pub fn block(&self, height: u64) -> Result<Option<CommittedBlock>, StateError> {
        block_at(&self.tx, height)
    }

    /// The pruning floor when the snapshot was taken: proofs below it are
    /// refused (see [`Store::prune`]).
    pub fn pruned_below(&self) -> Result<u64, StateError> {
        crate::prune::pruned_below(&self.tx)
    }

    /// The non-zero storage slots of `address`, in key order.
    pub fn storage_of(&self, address: &Address) -> Result<Vec<(Bytes32, Bytes32)>, StateError> {
        let low = encoding::storage_key(address, &Bytes32::ZERO);
        let high = encoding::storage_key(address, &Bytes32::new([0xff; 32]));
        let rows = self.tx.scan(Table::Storage, &low, &high)?;
        rows.iter()
            .map(|(row, value)| Ok((decode_slot(row.get(Address::LEN..).unwrap_or_default())?, decode_slot(value)?)))
            .collect()
    }

    /// The whole state as a "full" [`ChangeSet`] (every account, state blob,
    /// non-zero slot and template). For audits and tests: reads every table.
    pub fn contents(&self) -> Result<ChangeSet, StateError> {
        let mut out = ChangeSet::default();
        let all = |table| self.tx.scan(table, &[], &[0xff; 64]);
        for (key, value) in all(Table::Accounts)? {
            out.accounts.insert(decode_address(&key)?, encoding::decode_account(&value)?);
        }
        for (key, value) in all(Table::States)? {
            out.states.insert(decode_address(&key)?, value);
        }
        for (key, value) in all(Table::Storage)? {
            let (address, slot) = key.split_at(key.len().min(Address::LEN));
            out.storage.insert((decode_address(address)?, Bytes32::new(encoding::array(slot)?)), decode_slot(&value)?);
        }
        for (key, value) in all(Table::Templates)? {
            out.templates.insert(decode_address(&key)?, Arc::from(value));
        }
        Ok(out)
    }

    /// Recomputes the state root from the state tables alone and checks it
    /// against the last block's recorded root: detects tables and tree
    /// drifting apart. Reads the whole state.
    pub fn audit(&self) -> Result<StateRoot, StateError> {
        let recorded = self.last_committed()?.map_or(StateRoot::EMPTY, |block| block.state_root);
        let computed = tree::root_of_contents(&self.contents()?)?;
        if computed != recorded {
            return Err(StateError::Corrupt(format!(
                "state tables hash to {computed}, the last block records {recorded}"
            )));
        }
        Ok(computed)
    }

    /// See [`Store::prove`].
    pub fn prove(&self, key: &LeafKey, height: Option<u64>) -> Result<LeafProof, StoreError> {
        let last = last_height(&self.tx)?;
        let height = height.or(last).ok_or(StoreError::UnknownHeight { height: 0, last })?;
        let block = match last {
            Some(l) if height <= l => block_at(&self.tx, height)?,
            _ => None,
        };
        let block = block.ok_or(StoreError::UnknownHeight { height, last })?;
        let floor = crate::prune::pruned_below(&self.tx)?;
        if height < floor {
            return Err(StoreError::Pruned { height, floor });
        }
        let (value, proof) = tree::prove(&self.tx, key.hash(), height)?;
        Ok(LeafProof { height, state_root: block.state_root, value, proof })
    }

    /// See [`Store::prove_account`].
    pub fn prove_account(&self, address: &Address, height: Option<u64>) -> Result<AccountProof, StoreError> {
        let leaf = self.prove(&LeafKey::Account(*address), height)?;
        let account = leaf.value.as_deref().map(encoding::decode_account).transpose()?;
        Ok(AccountProof { height: leaf.height, state_root: leaf.state_root, account, proof: leaf.proof })
    }

    /// See [`Store::prove_storage`].
    pub fn prove_storage(
        &self,
        address: &Address,
        key: &Bytes32,
        height: Option<u64>,
    ) -> Result<StorageProof, StoreError> {
        let leaf = self.prove(&LeafKey::Storage(*address, *key), height)?;
        let value = leaf.value.as_deref().map_or(Ok(Bytes32::ZERO), decode_slot)?;
        Ok(StorageProof { height: leaf.height, state_root: leaf.state_root, value, proof: leaf.proof })
    }

    /// See [`Store::prove_program_state`].
    pub fn prove_program_state(&self, address: &Address, height: Option<u64>) -> Result<ProgramStateProof, StoreError> {
        let leaf = self.prove(&LeafKey::ProgramState(*address), height)?;
        let state = leaf.value.unwrap_or_default();
        Ok(ProgramStateProof { height: leaf.height, state_root: leaf.state_root, state, proof: leaf.proof })
    }
}

fn decode_address(bytes: &[u8]) -> Result<Address, StateError> {
    Ok(Address::new(encoding::array(bytes)?))
}

fn decode_slot(bytes: &[u8]) -> Result<Bytes32, StateError> {
    Ok(Bytes32::new(encoding::array(bytes)?))
}

impl<R: ReadTx> StateReader for Snapshot<R> {
    fn account(&self, address: &Address) -> Result<Option<Account>, StateError> {
        self.tx.get(Table::Accounts, address.as_bytes())?.map(|record| encoding::decode_account(&record)).transpose()
    }
    fn storage(&self, address: &Address, key: &Bytes32) -> Result<Bytes32, StateError> {
        let row = encoding::storage_key(address, key);
        self.tx.get(Table::Storage, &row)?.map_or(Ok(Bytes32::ZERO), |value| decode_slot(&value))
    }
    fn program_state(&self, address: &Address) -> Result<Vec<u8>, StateError> {
        Ok(self.tx.get(Table::States, address.as_bytes())?.unwrap_or_default())
    }
    fn template_code(&self, template: &Address) -> Result<Option<Arc<[u8]>>, StateError> {
        Ok(self.tx.get(Table::Templates, template.as_bytes())?.map(Arc::from))
    }
    fn has_template(&self, template: &Address) -> Result<bool, StateError> {
        self.tx.contains(Table::Templates, template.as_bytes())
    }
}

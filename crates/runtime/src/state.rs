//! Committed state: the account record, the read trait execution runs
//! against, the change set a transaction produces, and an in-memory store.
//!
//! The split mirrors how a node stores state (docs/runtime.md): small,
//! frequently read account records; immutable program state blobs, written
//! once at spawn and read at most once per frame; storage slots; and
//! content-addressed template code. A database backend (issue #6) implements
//! [`StateReader`] and [`StateWriter`] over the same four tables.

use athena_interface::{Address, Bytes32};
use std::collections::BTreeMap;
use std::sync::Arc;

/// One account, without its storage and state blob (which live in their own
/// tables, see the module docs).
///
/// `Copy` on purpose: the overlay journals the previous record on every
/// balance or nonce change, so copying it must be cheap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Account {
    /// Native coin balance.
    pub balance: u64,
    /// The next transaction nonce this account (as a principal) must use.
    pub nonce: u64,
    /// The template the account was spawned from; `None` for accounts that
    /// only hold coins. An account with a template is a *program*: calls to
    /// it run the template's code.
    pub template: Option<Address>,
}

/// A log entry emitted by a program, in emission order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Log {
    /// The emitting program.
    pub address: Address,
    /// Indexed topics (at most `athena_abi::MAX_LOG_TOPICS`).
    pub topics: Vec<Bytes32>,
    /// Unindexed payload.
    pub data: Vec<u8>,
}

/// A committed-state backend could not answer a read or apply a change set.
///
/// Never a consensus outcome: a transaction that hits one could not be
/// evaluated, and the node must stop (or retry) rather than record a result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// The backend failed (I/O, database error, ...).
    #[error("state backend failed: {0}")]
    Backend(String),
    /// The backend returned data that violates the state's invariants
    /// (e.g. a program whose template code is missing).
    #[error("state is corrupt: {0}")]
    Corrupt(String),
}

/// Read access to committed state. Execution only ever reads through this
/// trait and writes into an [`crate::Overlay`] on top of it, so a backend
/// needs no transactions or rollback of its own.
///
/// Reads of absent data are `Ok` with the zero value (`None`, zero slot,
/// empty blob); `Err` is reserved for a backend that cannot answer.
pub trait StateReader {
    /// The account record at `address`, if an account exists there.
    fn account(&self, address: &Address) -> Result<Option<Account>, StateError>;

    /// Storage slot `key` of `address` ([`Bytes32::ZERO`] if absent).
    fn storage(&self, address: &Address, key: &Bytes32) -> Result<Bytes32, StateError>;

    /// The immutable state blob `address` was spawned with (empty if none).
    fn program_state(&self, address: &Address) -> Result<Vec<u8>, StateError>;

    /// The code of the template at `template`, if one is deployed there.
    /// Shared (`Arc`) because code is large and immutable, and a backend may
    /// keep hot templates in memory.
    fn template_code(&self, template: &Address) -> Result<Option<Arc<[u8]>>, StateError>;

    /// Whether a template is deployed at `template`. A backend can answer
    /// this without loading the code; the default loads it.
    fn has_template(&self, template: &Address) -> Result<bool, StateError> {
        Ok(self.template_code(template)?.is_some())
    }
}

impl<T: StateReader + ?Sized> StateReader for &T {
    fn account(&self, address: &Address) -> Result<Option<Account>, StateError> {
        (**self).account(address)
    }
    fn storage(&self, address: &Address, key: &Bytes32) -> Result<Bytes32, StateError> {
        (**self).storage(address, key)
    }
    fn program_state(&self, address: &Address) -> Result<Vec<u8>, StateError> {
        (**self).program_state(address)
    }
    fn template_code(&self, template: &Address) -> Result<Option<Arc<[u8]>>, StateError> {
        (**self).template_code(template)
    }
    fn has_template(&self, template: &Address) -> Result<bool, StateError> {
        (**self).has_template(template)
    }
}

/// Everything one execution changed, ready to be applied to committed state.
///
/// All maps are `BTreeMap`s, so iterating a change set (to write it to a
/// database, or to hash it into a state root) visits entries in one
/// deterministic order on every node: by address, then by storage key.
/// Entries equal to the committed value are left out, so an execution that
/// writes a slot and restores it produces no entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeSet {
    /// The new record of every created or changed account.
    pub accounts: BTreeMap<Address, Account>,
    /// The state blobs of programs spawned by this execution. Written once:
    /// a program's state never changes after spawn.
    pub states: BTreeMap<Address, Vec<u8>>,
    /// New values of changed storage slots; [`Bytes32::ZERO`] means the slot
    /// is deleted.
    pub storage: BTreeMap<(Address, Bytes32), Bytes32>,
    /// Templates deployed by this execution, by address.
    pub templates: BTreeMap<Address, Arc<[u8]>>,
}

impl ChangeSet {
    /// Whether the execution changed nothing.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty() && self.states.is_empty() && self.storage.is_empty() && self.templates.is_empty()
    }

    /// Folds a *later* change set into this one (later values win), so a
    /// block's transactions can be accumulated and written once.
    pub fn merge(&mut self, later: ChangeSet) {
        self.accounts.extend(later.accounts);
        self.states.extend(later.states);
        self.storage.extend(later.storage);
        self.templates.extend(later.templates);
    }
}

/// Write access to committed state: applying a finished execution's
/// [`ChangeSet`]. Separate from [`StateReader`] because execution never
/// writes committed state directly.
pub trait StateWriter {
    /// Applies `changes` atomically: all of them or (on `Err`) none.
    fn apply(&mut self, changes: &ChangeSet) -> Result<(), StateError>;
}

/// Committed state held in memory, in `BTreeMap`s: the reference backend,
/// used by tests and the test framework.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryState {
    accounts: BTreeMap<Address, Account>,
    states: BTreeMap<Address, Vec<u8>>,
    storage: BTreeMap<(Address, Bytes32), Bytes32>,
    templates: BTreeMap<Address, Arc<[u8]>>,
}

impl MemoryState {
    /// An empty state: no accounts, no templates.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every account, by address.
    pub fn accounts(&self) -> &BTreeMap<Address, Account> {
        &self.accounts
    }

    /// The non-zero storage slots of `address`, in key order.
    pub fn storage_of(&self, address: &Address) -> impl Iterator<Item = (Bytes32, Bytes32)> + '_ {
        let range = (*address, Bytes32::ZERO)..=(*address, Bytes32::new([0xff; 32]));
        self.storage.range(range).map(|((_, key), value)| (*key, *value))
    }

    /// Every deployed template, by address.
    pub fn templates(&self) -> &BTreeMap<Address, Arc<[u8]>> {
        &self.templates
    }

    /// Applies `changes` (infallible for memory; see [`StateWriter::apply`]).
    pub fn apply_changes(&mut self, changes: &ChangeSet) {
        self.accounts.extend(changes.accounts.iter().map(|(a, acc)| (*a, *acc)));
        self.states.extend(changes.states.iter().map(|(a, s)| (*a, s.clone())));
        for (slot, value) in &changes.storage {
            if value.is_zero() {
                self.storage.remove(slot);
            } else {
                self.storage.insert(*slot, *value);
            }
        }
        self.templates.extend(changes.templates.iter().map(|(a, c)| (*a, Arc::clone(c))));
    }
}

impl StateReader for MemoryState {
    fn account(&self, address: &Address) -> Result<Option<Account>, StateError> {
        Ok(self.accounts.get(address).copied())
    }
    fn storage(&self, address: &Address, key: &Bytes32) -> Result<Bytes32, StateError> {
        Ok(self.storage.get(&(*address, *key)).copied().unwrap_or(Bytes32::ZERO))
    }
    fn program_state(&self, address: &Address) -> Result<Vec<u8>, StateError> {
        Ok(self.states.get(address).cloned().unwrap_or_default())
    }
    fn template_code(&self, template: &Address) -> Result<Option<Arc<[u8]>>, StateError> {
        Ok(self.templates.get(template).cloned())
    }
    fn has_template(&self, template: &Address) -> Result<bool, StateError> {
        Ok(self.templates.contains_key(template))
    }
}

impl StateWriter for MemoryState {
    fn apply(&mut self, changes: &ChangeSet) -> Result<(), StateError> {
        self.apply_changes(changes);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{addr, word};

    #[test]
    fn apply_and_read_back() {
        let mut state = MemoryState::new();
        let mut changes = ChangeSet::default();
        changes.accounts.insert(addr(1), Account { balance: 5, nonce: 1, template: Some(addr(9)) });
        changes.states.insert(addr(1), b"state".to_vec());
        changes.storage.insert((addr(1), word(2)), word(3));
        changes.storage.insert((addr(1), word(1)), word(4));
        changes.storage.insert((addr(2), word(1)), word(5));
        changes.templates.insert(addr(9), Arc::from(&b"code"[..]));
        state.apply(&changes).unwrap();
        assert_eq!(state.account(&addr(1)).unwrap().map(|a| a.balance), Some(5));
        assert_eq!(state.account(&addr(3)).unwrap(), None);
        assert_eq!(state.program_state(&addr(1)).unwrap(), b"state");
        assert!(state.program_state(&addr(2)).unwrap().is_empty());
        assert_eq!(state.storage(&addr(1), &word(2)).unwrap(), word(3));
        assert_eq!(state.storage_of(&addr(1)).collect::<Vec<_>>(), [(word(1), word(4)), (word(2), word(3))]);
        assert!(state.has_template(&addr(9)).unwrap());
        let by_ref: &dyn StateReader = &&state;
        assert!(!by_ref.has_template(&addr(1)).unwrap());

        // Zero deletes; later change sets win when merged.
        let mut later = ChangeSet::default();
        later.storage.insert((addr(1), word(2)), Bytes32::ZERO);
        later.accounts.insert(addr(1), Account { balance: 6, ..Account::default() });
        let mut merged = changes.clone();
        merged.merge(later.clone());
        assert_eq!(merged.accounts[&addr(1)].balance, 6);
        state.apply(&later).unwrap();
        assert_eq!(state.storage(&addr(1), &word(2)).unwrap(), Bytes32::ZERO);
        assert_eq!(state.storage_of(&addr(1)).count(), 1);
        assert!(ChangeSet::default().is_empty() && !later.is_empty());
    }
}

//! The write overlay: uncommitted changes on top of a [`StateReader`], with
//! a journal so nested frames can checkpoint and revert.
//!
//! Reads look in the overlay first and fall back to the committed state.
//! Every write records what it replaced in a journal; a checkpoint is a
//! position in that journal (and in the log list), and reverting to it
//! replays the journal backwards. That makes a checkpoint O(1) and a revert
//! proportional to the work it undoes, whatever the size of the state —
//! unlike snapshotting, which copies.
//!
//! When execution is done, [`Overlay::finish`] turns the overlay into a
//! deterministic [`ChangeSet`] (plus the logs) to apply to committed state.

use crate::state::{Account, ChangeSet, Log, StateError, StateReader};
use athena_interface::{Address, Bytes32, StorageStatus};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;

/// One undoable write: what to restore in the overlay's maps.
#[derive(Debug)]
enum Entry {
    /// An account record changed; `previous` is the overlay's entry before
    /// (`None`: the account was not in the overlay, reads fell through).
    Account { address: Address, previous: Option<Account> },
    /// A program state blob was added (spawn); undo removes it.
    State(Address),
    /// A storage slot changed; `previous` as for accounts.
    Storage { address: Address, key: Bytes32, previous: Option<Bytes32> },
    /// A template was added (deploy); undo removes it.
    Template(Address),
}

/// Journal and log positions of an open checkpoint.
#[derive(Debug, Clone, Copy)]
struct Mark {
    journal: usize,
    logs: usize,
}

/// A handle to an open checkpoint, resolved exactly once by
/// [`Overlay::revert_to`] or [`Overlay::keep`], as a frame ends exactly once.
/// Deliberately neither `Clone` nor `Copy`.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "a checkpoint must be reverted to or kept"]
pub struct Checkpoint(usize);

/// Why a transfer could not happen. Nothing was changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransferError {
    /// The sender's balance is below the amount.
    #[error("insufficient balance: {balance} < {amount}")]
    InsufficientBalance {
        /// The sender's balance.
        balance: u64,
        /// The amount to move.
        amount: u64,
    },
    /// The recipient's balance would exceed `u64::MAX`: only possible if the
    /// total supply does, which is a genesis or state bug.
    #[error("recipient balance would overflow")]
    Overflow,
}

/// What an execution produced: the state changes and the logs, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Effects {
    /// State changes to apply to committed state.
    pub changes: ChangeSet,
    /// Logs of every frame that was not reverted, in emission order.
    pub logs: Vec<Log>,
}

/// Uncommitted changes on top of committed state `S`; see the module docs.
///
/// Reads take `&self` (the [`athena_interface::Host`] read methods do), so a
/// backend error during a read cannot be returned: the overlay answers with
/// the zero value and records the error as its *fault*, which the runtime
/// turns into `internal_error` and [`Overlay::finish`] returns. The first
/// fault wins.
#[derive(Debug)]
pub struct Overlay<'a, S: ?Sized> {
    base: &'a S,
    accounts: BTreeMap<Address, Account>,
    states: BTreeMap<Address, Vec<u8>>,
    storage: BTreeMap<(Address, Bytes32), Bytes32>,
    templates: BTreeMap<Address, Arc<[u8]>>,
    logs: Vec<Log>,
    journal: Vec<Entry>,
    checkpoints: Vec<Mark>,
    fault: RefCell<Option<StateError>>,
}

impl<'a, S: StateReader + ?Sized> Overlay<'a, S> {
    /// An empty overlay over `base`.
    pub fn new(base: &'a S) -> Self {
        Overlay {
            base,
            accounts: BTreeMap::new(),
            states: BTreeMap::new(),
            storage: BTreeMap::new(),
            templates: BTreeMap::new(),
            logs: Vec::new(),
            journal: Vec::new(),
            checkpoints: Vec::new(),
            fault: RefCell::new(None),
        }
    }

    /// The committed state this overlay reads through to.
    pub fn base(&self) -> &'a S {
        self.base
    }

    /// The first backend error a read hit, if any (see the type docs).
    pub fn fault(&self) -> Option<StateError> {
        self.fault.borrow().clone()
    }

    /// Records a state error found outside a backend read (e.g. a program
    /// whose template code is missing). The first fault wins.
    pub fn record_fault(&self, error: StateError) {
        self.fault.borrow_mut().get_or_insert(error);
    }

    /// Records a backend error (keeping the first) and yields `T::default()`.
    fn absorb<T: Default>(&self, result: Result<T, StateError>) -> T {
        result.unwrap_or_else(|e| {
            self.record_fault(e);
            T::default()
        })
    }

    // ----- reads -----

    /// The account at `address`, if one exists.
    pub fn account(&self, address: &Address) -> Option<Account> {
        match self.accounts.get(address) {
            Some(account) => Some(*account),
            None => self.absorb(self.base.account(address)),
        }
    }

    /// Whether an account exists at `address`.
    pub fn account_exists(&self, address: &Address) -> bool {
        self.account(address).is_some()
    }

    /// The balance of `address` (0 if no account).
    pub fn balance(&self, address: &Address) -> u64 {
        self.account(address).map_or(0, |a| a.balance)
    }

    /// The next nonce of `address` (0 if no account).
    pub fn nonce(&self, address: &Address) -> u64 {
        self.account(address).map_or(0, |a| a.nonce)
    }

    /// The template `address` was spawned from, if it is a program.
    pub fn template_of(&self, address: &Address) -> Option<Address> {
        self.account(address).and_then(|a| a.template)
    }

    /// Storage slot `key` of `address` (zero if absent).
    pub fn storage(&self, address: &Address, key: &Bytes32) -> Bytes32 {
        match self.storage.get(&(*address, *key)) {
            Some(value) => *value,
            None => self.absorb(self.base.storage(address, key)),
        }
    }

    /// The state blob `address` was spawned with (empty if none).
    pub fn program_state(&self, address: &Address) -> Vec<u8> {
        match self.states.get(address) {
            Some(state) => state.clone(),
            None => self.absorb(self.base.program_state(address)),
        }
    }

    /// The code of the template at `template`, if deployed.
    pub fn template_code(&self, template: &Address) -> Option<Arc<[u8]>> {
        match self.templates.get(template) {
            Some(code) => Some(Arc::clone(code)),
            None => self.absorb(self.base.template_code(template)),
        }
    }

    /// Whether a template is deployed at `template`.
    pub fn has_template(&self, template: &Address) -> bool {
        self.templates.contains_key(template) || self.absorb(self.base.has_template(template))
    }

    /// Logs emitted so far (and not reverted), in order.
    pub fn logs(&self) -> &[Log] {
        &self.logs
    }

    // ----- journaled writes -----

    /// Applies `change` to the account at `address` (created with a zero
    /// record if absent), journaling the previous record.
    fn update_account(&mut self, address: Address, change: impl FnOnce(&mut Account)) {
        let mut account = self.account(&address).unwrap_or_default();
        change(&mut account);
        self.put_account(address, account);
    }

    /// Writes the record of `address`, journaling the previous one.
    fn put_account(&mut self, address: Address, account: Account) {
        let previous = self.accounts.insert(address, account);
        self.journal.push(Entry::Account { address, previous });
    }

    /// Sets the balance of `address`, creating the account if needed (for
    /// genesis, faucets and fees; execution moves coins with
    /// [`transfer`](Self::transfer)).
    pub fn set_balance(&mut self, address: Address, balance: u64) {
        self.update_account(address, |a| a.balance = balance);
    }

    /// Sets the next nonce of `address`, creating the account if needed.
    pub fn set_nonce(&mut self, address: Address, nonce: u64) {
        self.update_account(address, |a| a.nonce = nonce);
    }

    /// Increments the nonce of `address` (creating the account if needed)
    /// and returns the nonce it had, i.e. the one being used. Saturates at
    /// `u64::MAX`, which no account can reach by sending transactions.
    pub fn bump_nonce(&mut self, address: Address) -> u64 {
        let mut account = self.account(&address).unwrap_or_default();
        let used = account.nonce;
        account.nonce = used.saturating_add(1);
        self.put_account(address, account);
        used
    }

    /// Moves `amount` coins from `from` to `to`, creating `to` if needed.
    /// A zero amount changes nothing (and creates no account).
    pub fn transfer(&mut self, from: &Address, to: &Address, amount: u64) -> Result<(), TransferError> {
        if amount == 0 {
            return Ok(());
        }
        let mut sender = self.account(from).unwrap_or_default();
        if sender.balance < amount {
            return Err(TransferError::InsufficientBalance { balance: sender.balance, amount });
        }
        if from == to {
            return Ok(());
        }
        let mut recipient = self.account(to).unwrap_or_default();
        recipient.balance = recipient.balance.checked_add(amount).ok_or(TransferError::Overflow)?;
        sender.balance -= amount;
        self.put_account(*from, sender);
        self.put_account(*to, recipient);
        Ok(())
    }

    /// Turns `address` into a program of `template` with the immutable
    /// `state`, keeping its balance and nonce if the account existed. The
    /// caller checks that it was not a program already.
    pub fn create_program(&mut self, address: Address, template: Address, state: Vec<u8>) {
        self.update_account(address, |a| a.template = Some(template));
        self.states.insert(address, state);
        self.journal.push(Entry::State(address));
    }

    /// Sets slot `key` of `address` to `value` (zero deletes) and reports
    /// the change, classified as [`StorageStatus::classify`] does.
    pub fn set_storage(&mut self, address: Address, key: Bytes32, value: Bytes32) -> StorageStatus {
        let status = StorageStatus::classify(&self.storage(&address, &key), &value);
        if status != StorageStatus::Unchanged {
            let previous = self.storage.insert((address, key), value);
            self.journal.push(Entry::Storage { address, key, previous });
        }
        status
    }

    /// Stores `code` as the template at `address` unless one is there
    /// already (templates are content-addressed, so it is the same code).
    /// Validation is the caller's job.
    pub fn insert_template(&mut self, address: Address, code: Arc<[u8]>) {
        if !self.has_template(&address) {
            self.templates.insert(address, code);
            self.journal.push(Entry::Template(address));
        }
    }

    /// Records a log entry.
    pub fn push_log(&mut self, log: Log) {
        self.logs.push(log);
    }

    // ----- checkpoints -----

    /// Opens a checkpoint. Checkpoints nest: resolving one also resolves
    /// every checkpoint opened after it.
    pub fn checkpoint(&mut self) -> Checkpoint {
        self.checkpoints.push(Mark { journal: self.journal.len(), logs: self.logs.len() });
        Checkpoint(self.checkpoints.len() - 1)
    }

    /// Number of open checkpoints (0 between transactions), to assert that
    /// frames are balanced.
    pub fn checkpoint_depth(&self) -> usize {
        self.checkpoints.len()
    }

    /// The mark of `checkpoint`, discarding it and every newer one.
    ///
    /// # Panics
    /// If `checkpoint` was already resolved (an older one was resolved
    /// first): a frame-nesting bug in the caller, never caused by input.
    fn take_mark(&mut self, checkpoint: Checkpoint) -> Mark {
        assert!(checkpoint.0 < self.checkpoints.len(), "stale checkpoint {checkpoint:?}");
        self.checkpoints.truncate(checkpoint.0 + 1);
        self.checkpoints.pop().expect("checked above")
    }

    /// Undoes every change (and log) made since `checkpoint`.
    ///
    /// # Panics
    /// If `checkpoint` was already resolved.
    pub fn revert_to(&mut self, checkpoint: Checkpoint) {
        let mark = self.take_mark(checkpoint);
        while self.journal.len() > mark.journal {
            match self.journal.pop() {
                Some(Entry::Account { address, previous }) => restore(&mut self.accounts, address, previous),
                Some(Entry::State(address)) => {
                    self.states.remove(&address);
                }
                Some(Entry::Storage { address, key, previous }) => restore(&mut self.storage, (address, key), previous),
                Some(Entry::Template(address)) => {
                    self.templates.remove(&address);
                }
                None => break,
            }
        }
        self.logs.truncate(mark.logs);
    }

    /// Keeps the changes made since `checkpoint` and closes it. They can
    /// still be undone by reverting an older checkpoint.
    ///
    /// # Panics
    /// If `checkpoint` was already resolved.
    pub fn keep(&mut self, checkpoint: Checkpoint) {
        self.take_mark(checkpoint);
        if self.checkpoints.is_empty() {
            // Nothing can be reverted any more: drop the undo records.
            self.journal.clear();
        }
    }

    // ----- finishing -----

    /// The changes relative to committed state, without consuming the
    /// overlay. Open checkpoints count as kept. Entries equal to the
    /// committed value are left out.
    pub fn changes(&self) -> Result<ChangeSet, StateError> {
        if let Some(fault) = self.fault() {
            return Err(fault);
        }
        let mut changes = ChangeSet::default();
        for (address, account) in &self.accounts {
            if self.base.account(address)? != Some(*account) {
                changes.accounts.insert(*address, *account);
            }
        }
        for ((address, key), value) in &self.storage {
            if self.base.storage(address, key)? != *value {
                changes.storage.insert((*address, *key), *value);
            }
        }
        changes.states = self.states.clone();
        changes.templates = self.templates.clone();
        Ok(changes)
    }

    /// Ends the execution: the change set to apply and the logs, or the
    /// fault if a backend read failed along the way (then nothing may be
    /// applied).
    pub fn finish(self) -> Result<Effects, StateError> {
        let changes = self.changes()?;
        Ok(Effects { changes, logs: self.logs })
    }
}

/// Puts back an overlay entry's previous value (`None`: remove it).
fn restore<K: Ord, V>(map: &mut BTreeMap<K, V>, key: K, previous: Option<V>) {
    match previous {
        Some(value) => {
            map.insert(key, value);
        }
        None => {
            map.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{MemoryState, StateWriter};
    use crate::testing::{addr, word, Broken};

    fn log(b: u8) -> Log {
        Log { address: addr(b), topics: vec![word(b)], data: vec![b] }
    }

    /// Committed state: account 1 with 100 coins and slot 1 = 1.
    fn base() -> MemoryState {
        let mut state = MemoryState::new();
        let mut overlay = Overlay::new(&state);
        overlay.set_balance(addr(1), 100);
        overlay.set_storage(addr(1), word(1), word(1));
        let changes = overlay.finish().unwrap().changes;
        state.apply(&changes).unwrap();
        state
    }

    #[test]
    fn nested_checkpoints_revert_and_keep() {
        let base = base();
        let mut o = Overlay::new(&base);
        o.push_log(log(0));
        let outer = o.checkpoint();
        o.transfer(&addr(1), &addr(2), 30).unwrap();
        assert_eq!(o.set_storage(addr(1), word(1), word(2)), StorageStatus::Modified);
        assert_eq!(o.set_storage(addr(1), word(2), word(2)), StorageStatus::Added);
        o.push_log(log(1));

        let inner = o.checkpoint();
        o.transfer(&addr(2), &addr(3), 10).unwrap();
        assert_eq!(o.set_storage(addr(1), word(1), Bytes32::ZERO), StorageStatus::Deleted);
        o.create_program(addr(4), addr(9), b"s".to_vec());
        o.insert_template(addr(9), Arc::from(&b"code"[..]));
        o.push_log(log(2));
        assert_eq!(o.checkpoint_depth(), 2);

        o.revert_to(inner);
        assert_eq!((o.balance(&addr(1)), o.balance(&addr(2))), (70, 30));
        assert!(!o.account_exists(&addr(3)) && !o.account_exists(&addr(4)));
        assert!(o.program_state(&addr(4)).is_empty() && !o.has_template(&addr(9)));
        assert_eq!(o.storage(&addr(1), &word(1)), word(2));
        assert_eq!(o.logs(), [log(0), log(1)]);

        // A kept inner checkpoint is still undone by its outer one.
        let inner = o.checkpoint();
        o.set_nonce(addr(1), 7);
        o.push_log(log(3));
        o.keep(inner);
        assert_eq!((o.nonce(&addr(1)), o.logs().len()), (7, 3));
        o.revert_to(outer);
        assert_eq!(o.checkpoint_depth(), 0);
        assert_eq!((o.balance(&addr(1)), o.nonce(&addr(1))), (100, 0));
        assert!(!o.account_exists(&addr(2)));
        assert_eq!(o.storage(&addr(1), &word(1)), word(1));
        assert_eq!(o.storage(&addr(1), &word(2)), Bytes32::ZERO);
        assert_eq!(o.logs(), [log(0)]);
        let effects = o.finish().unwrap();
        assert!(effects.changes.is_empty(), "everything reverted: {:?}", effects.changes);
        assert_eq!(effects.logs, [log(0)]);
    }

    #[test]
    fn keeping_an_outer_checkpoint_closes_newer_ones() {
        let base = base();
        let mut o = Overlay::new(&base);
        let outer = o.checkpoint();
        let _inner = o.checkpoint();
        o.set_balance(addr(5), 1);
        o.keep(outer);
        assert_eq!(o.checkpoint_depth(), 0);
        assert_eq!(o.balance(&addr(5)), 1);
    }

    #[test]
    #[should_panic(expected = "stale checkpoint")]
    fn resolving_a_stale_checkpoint_panics() {
        let base = MemoryState::new();
        let mut o = Overlay::new(&base);
        let outer = o.checkpoint();
        let inner = o.checkpoint();
        o.revert_to(outer);
        o.revert_to(inner);
    }

    #[test]
    fn change_set_is_minimal_and_ordered() {
        let base = base();
        let mut o = Overlay::new(&base);
        // Written in descending address order; the change set is ascending.
        for b in (2..6).rev() {
            o.transfer(&addr(1), &addr(b), u64::from(b)).unwrap();
            o.set_storage(addr(b), word(9 - b), word(b));
            o.set_storage(addr(b), word(1), word(b));
        }
        // Written and restored: no entry. Zeroed: an entry with zero.
        o.set_storage(addr(1), word(7), word(7));
        o.set_storage(addr(1), word(7), Bytes32::ZERO);
        o.set_storage(addr(1), word(1), Bytes32::ZERO);
        o.set_balance(addr(6), 0);
        o.set_balance(addr(6), 0);
        o.insert_template(addr(0xd0), Arc::from(&b"t"[..]));
        o.create_program(addr(2), addr(0xd0), vec![2]);
        let changes = o.finish().unwrap().changes;
        let accounts: Vec<_> = changes.accounts.keys().copied().collect();
        assert_eq!(accounts, [addr(1), addr(2), addr(3), addr(4), addr(5), addr(6)]);
        assert_eq!(changes.accounts[&addr(1)].balance, 100 - 2 - 3 - 4 - 5);
        assert_eq!(changes.accounts[&addr(2)], Account { balance: 2, nonce: 0, template: Some(addr(0xd0)) });
        let slots: Vec<_> = changes.storage.keys().copied().collect();
        let mut expected = vec![(addr(1), word(1))];
        for b in 2..6 {
            let mut keys = [(addr(b), word(1)), (addr(b), word(9 - b))];
            keys.sort();
            expected.extend(keys);
        }
        assert_eq!(slots, expected);
        assert_eq!(changes.storage[&(addr(1), word(1))], Bytes32::ZERO);
        assert_eq!(changes.states.keys().collect::<Vec<_>>(), [&addr(2)]);
        assert_eq!(changes.templates.keys().collect::<Vec<_>>(), [&addr(0xd0)]);

        // Applying and re-reading gives what the overlay showed.
        let mut committed = base.clone();
        committed.apply(&changes).unwrap();
        let o = Overlay::new(&committed);
        assert_eq!(o.balance(&addr(5)), 5);
        assert_eq!(o.storage(&addr(1), &word(1)), Bytes32::ZERO);
        assert_eq!(o.template_of(&addr(2)), Some(addr(0xd0)));
    }

    #[test]
    fn transfers_check_balance_and_skip_zero() {
        let base = base();
        let mut o = Overlay::new(&base);
        assert_eq!(
            o.transfer(&addr(1), &addr(2), 101),
            Err(TransferError::InsufficientBalance { balance: 100, amount: 101 })
        );
        o.transfer(&addr(1), &addr(2), 0).unwrap();
        assert!(!o.account_exists(&addr(2)), "a zero transfer creates nothing");
        o.transfer(&addr(1), &addr(1), 100).unwrap();
        assert_eq!(o.balance(&addr(1)), 100);
        o.set_balance(addr(2), u64::MAX);
        assert_eq!(o.transfer(&addr(1), &addr(2), 1), Err(TransferError::Overflow));
        assert_eq!(o.balance(&addr(1)), 100, "a failed transfer changes nothing");
        assert_eq!(o.bump_nonce(addr(1)), 0);
        assert_eq!(o.bump_nonce(addr(1)), 1);
        assert_eq!(o.nonce(&addr(1)), 2);
    }

    #[test]
    fn read_errors_become_a_fault() {
        let o = Overlay::new(&Broken);
        assert_eq!(o.balance(&addr(1)), 0);
        assert_eq!(o.storage(&addr(1), &word(1)), Bytes32::ZERO);
        assert_eq!(o.fault(), Some(StateError::Backend("disk on fire".into())), "the first error wins");
        assert_eq!(o.finish().unwrap_err(), StateError::Backend("disk on fire".into()));
    }
}

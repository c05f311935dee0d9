//! A deterministic in-memory reference [`Host`] for unit tests.
//!
//! [`MockHost`] lets the VM and higher layers be tested without a node. It
//! implements the full [`Host`] contract, including the part that is easy
//! to get wrong: undoing the effects of failed nested frames, and spawning
//! programs through [`Host::call`] with [`MessageKind::Spawn`]. All maps are
//! `BTreeMap` (never `HashMap`) so iteration order, and thus any test that
//! inspects state, is deterministic. A test host that changes only a few
//! callbacks (counts, records or cans them) implements [`MockWrapper`] over
//! a `MockHost` instead of forwarding every other callback by hand.
//!
//! ```
//! use athena_interface::mock::MockHost;
//! use athena_interface::{Address, Bytes32, ExecutionResult, Host, Message};
//!
//! let alice = Address::new([1; 24]);
//! let bob = Address::new([2; 24]);
//! let mut host = MockHost::new();
//! host.set_balance(alice, 100);
//! // Nested calls run this handler; a failing result reverts its effects.
//! host.set_call_handler(|state, msg| {
//!     state.set_storage_value(msg.recipient, Bytes32::ZERO, Bytes32::new([7; 32]));
//!     ExecutionResult::revert(msg.gas / 2, b"no".to_vec())
//! });
//! let msg = Message { recipient: bob, sender: alice, value: 10, gas: 1000, ..Message::default() };
//! let result = (&mut host as &mut dyn Host).call(msg);
//! assert_eq!(result.gas_used(1000), 500);
//! assert_eq!(host.get_balance(&alice), 100); // transfer undone
//! assert!(host.get_storage(&bob, &Bytes32::ZERO).is_zero()); // write undone
//! ```

use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};

use crate::{
    Address, Bytes32, ExecutionResult, Host, Message, MessageKind, StatusCode, StorageStatus, TxContext, SPAWN_SELECTOR,
};

/// One account in the mock world state.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Account {
    /// Native coin balance.
    pub balance: u64,
    /// Storage slots; zero values are never stored (writing zero deletes).
    pub storage: BTreeMap<Bytes32, Bytes32>,
    /// Program code for templates created by [`Host::deploy`]; empty otherwise.
    pub code: Vec<u8>,
    /// The template this account was spawned from, if any.
    pub template: Option<Address>,
    /// The immutable state blob it was spawned with (a spawn message's
    /// input), served by [`Host::get_state`].
    pub state: Vec<u8>,
}

/// A log entry recorded by [`Host::emit_log`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Log {
    /// The emitting account.
    pub address: Address,
    /// Indexed topics.
    pub topics: Vec<Bytes32>,
    /// Unindexed payload.
    pub data: Vec<u8>,
}

/// A handle to a snapshot taken by [`MockHostState::checkpoint`].
///
/// Deliberately not `Clone`/`Copy`: each checkpoint is resolved exactly once,
/// by [`MockHostState::revert_to`] or [`MockHostState::commit`], mirroring a
/// frame that ends exactly once.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "a checkpoint must be reverted to or committed"]
pub struct Checkpoint(usize);

#[derive(Debug, Clone)]
struct Snapshot {
    accounts: BTreeMap<Address, Account>,
    logs_len: usize,
}

/// The observable state of a [`MockHost`]: world state, logs, context and a
/// record of calls. Separate from [`MockHost`] so a call handler can mutate
/// it while the host owns the handler.
#[derive(Debug, Clone, Default)]
pub struct MockHostState {
    /// All accounts, by address.
    pub accounts: BTreeMap<Address, Account>,
    /// Logs emitted so far, in order. Truncated on revert.
    pub logs: Vec<Log>,
    /// Returned by [`Host::get_tx_context`].
    pub tx_context: TxContext,
    /// Returned by [`Host::get_block_hash`]; missing heights read as zero.
    pub block_hashes: BTreeMap<u64, Bytes32>,
    /// Every message passed to [`Host::call`], in order, including ones that
    /// failed or were reverted (this is a test record, not chain state, so it
    /// is never reverted).
    pub calls: Vec<Message>,
    /// How a spawn derives the new program's address from template and
    /// state. `None` (the default): a fresh readable address
    /// `0x5a ‖ 0… ‖ nonce`, so the same template and state can be spawned
    /// twice. A node's rule (e.g. `athena_transaction::program_address`)
    /// makes the address a function of both, and a second identical spawn
    /// then fails as on a real chain.
    pub spawn_address: Option<fn(&Address, &[u8]) -> Address>,
    /// Counter for deterministic spawn/deploy addresses. Not reverted, so an
    /// address is never handed out twice within a test.
    next_nonce: u64,
    snapshots: Vec<Snapshot>,
}

impl MockHostState {
    /// Set the balance of `address`, creating the account if needed.
    pub fn set_balance(&mut self, address: Address, balance: u64) {
        self.accounts.entry(address).or_default().balance = balance;
    }

    /// Write a storage slot directly, with the same semantics as
    /// [`Host::set_storage`] (zero deletes, account created on demand).
    pub fn set_storage_value(&mut self, address: Address, key: Bytes32, value: Bytes32) -> StorageStatus {
        let current = self.storage_value(&address, &key);
        let status = StorageStatus::classify(&current, &value);
        match status {
            StorageStatus::Unchanged => {}
            StorageStatus::Deleted => {
                if let Some(account) = self.accounts.get_mut(&address) {
                    account.storage.remove(&key);
                }
            }
            StorageStatus::Added | StorageStatus::Modified => {
                self.accounts.entry(address).or_default().storage.insert(key, value);
            }
        }
        status
    }

    /// Read a storage slot; zero if absent.
    pub fn storage_value(&self, address: &Address, key: &Bytes32) -> Bytes32 {
        self.accounts.get(address).and_then(|a| a.storage.get(key)).copied().unwrap_or(Bytes32::ZERO)
    }

    /// Read a balance; zero for unknown accounts.
    pub fn balance(&self, address: &Address) -> u64 {
        self.accounts.get(address).map_or(0, |a| a.balance)
    }

    /// Snapshot accounts (balances, storage, code) and logs. Checkpoints
    /// nest: resolving an outer checkpoint also discards every checkpoint
    /// taken after it.
    pub fn checkpoint(&mut self) -> Checkpoint {
        self.snapshots.push(Snapshot { accounts: self.accounts.clone(), logs_len: self.logs.len() });
        Checkpoint(self.snapshots.len() - 1)
    }

    /// Restore the state captured by `checkpoint`, discarding it and every
    /// newer checkpoint.
    ///
    /// # Panics
    /// If `checkpoint` was already discarded (an outer checkpoint was resolved
    /// first) — a frame-nesting bug in the caller.
    pub fn revert_to(&mut self, checkpoint: Checkpoint) {
        assert!(checkpoint.0 < self.snapshots.len(), "stale checkpoint {checkpoint:?}");
        self.snapshots.truncate(checkpoint.0 + 1);
        let snapshot = self.snapshots.pop().expect("checked above");
        self.accounts = snapshot.accounts;
        self.logs.truncate(snapshot.logs_len);
    }

    /// Keep all changes made since `checkpoint` and discard it (and every
    /// newer checkpoint). The changes can still be undone by reverting an
    /// older checkpoint.
    ///
    /// # Panics
    /// If `checkpoint` was already discarded.
    pub fn commit(&mut self, checkpoint: Checkpoint) {
        assert!(checkpoint.0 < self.snapshots.len(), "stale checkpoint {checkpoint:?}");
        self.snapshots.truncate(checkpoint.0);
    }

    /// Number of unresolved checkpoints, to assert that frames are balanced.
    pub fn checkpoint_depth(&self) -> usize {
        self.snapshots.len()
    }

    /// Creates a program account as a spawn message does before running any
    /// code ([`Host::call`], steps 1–3): `None` if `template` holds no code
    /// or the derived address already has a template; otherwise the account
    /// (keeping any balance it had) gets `template` and `state`. Public so
    /// tests can set up programs without running their `spawn` method.
    pub fn spawn_program(&mut self, template: &Address, state: &[u8]) -> Option<Address> {
        if self.accounts.get(template).is_none_or(|t| t.code.is_empty()) {
            return None;
        }
        let address = match self.spawn_address {
            Some(derive) => derive(template, state),
            None => self.fresh_address(0x5a),
        };
        let account = self.accounts.entry(address).or_default();
        if account.template.is_some() {
            return None;
        }
        account.template = Some(*template);
        account.state = state.to_vec();
        Some(address)
    }

    /// A fresh deterministic address `tag ‖ 0… ‖ nonce` not used by any
    /// existing account. Real hosts derive addresses by hashing; the mock only
    /// needs uniqueness and readability.
    fn fresh_address(&mut self, tag: u8) -> Address {
        loop {
            self.next_nonce += 1;
            let mut bytes = [0u8; 24];
            bytes[0] = tag;
            bytes[16..].copy_from_slice(&self.next_nonce.to_be_bytes());
            let address = Address::new(bytes);
            if !self.accounts.contains_key(&address) {
                return address;
            }
        }
    }
}

/// Handles nested calls for [`MockHost`]: receives the state (after the value
/// transfer) and the message, and returns the callee's result. Any state
/// changes it makes are reverted if the result is not a success. For a
/// spawn it receives the initialising run's message (kind `Spawn`, the new
/// program as recipient, [`SPAWN_SELECTOR`] as input), after the program
/// was created.
pub type CallHandler = Box<dyn FnMut(&mut MockHostState, Message) -> ExecutionResult>;

/// In-memory reference [`Host`]. Dereferences to its [`MockHostState`], so
/// `host.checkpoint()`, `host.set_balance(..)` and `host.logs` work directly.
pub struct MockHost {
    /// World state, logs, context and call record.
    pub state: MockHostState,
    /// Result of nested calls when no handler is set.
    pub default_call_result: ExecutionResult,
    handler: Option<CallHandler>,
}

impl Default for MockHost {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for MockHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockHost")
            .field("state", &self.state)
            .field("default_call_result", &self.default_call_result)
            .field("handler", &self.handler.as_ref().map(|_| "<fn>"))
            .finish()
    }
}

impl MockHost {
    /// An empty world whose nested calls succeed with all gas returned and no
    /// output.
    pub fn new() -> Self {
        Self {
            state: MockHostState::default(),
            default_call_result: ExecutionResult::success(0, Vec::new()),
            handler: None,
        }
    }

    /// Builder form of setting [`MockHostState::tx_context`].
    pub fn with_tx_context(mut self, tx_context: TxContext) -> Self {
        self.state.tx_context = tx_context;
        self
    }

    /// Route nested calls to `handler` (replacing any previous one).
    pub fn set_call_handler(&mut self, handler: impl FnMut(&mut MockHostState, Message) -> ExecutionResult + 'static) {
        self.handler = Some(Box::new(handler));
    }

    /// Remove the call handler; nested calls return `default_call_result`
    /// (with `gas_left` capped at the message's gas).
    pub fn clear_call_handler(&mut self) {
        self.handler = None;
    }
}

impl Deref for MockHost {
    type Target = MockHostState;
    fn deref(&self) -> &MockHostState {
        &self.state
    }
}

impl DerefMut for MockHost {
    fn deref_mut(&mut self) -> &mut MockHostState {
        &mut self.state
    }
}

impl Host for MockHost {
    fn account_exists(&self, address: &Address) -> bool {
        self.state.accounts.contains_key(address)
    }

    fn get_storage(&self, address: &Address, key: &Bytes32) -> Bytes32 {
        self.state.storage_value(address, key)
    }

    fn set_storage(&mut self, address: &Address, key: &Bytes32, value: &Bytes32) -> StorageStatus {
        self.state.set_storage_value(*address, *key, *value)
    }

    fn get_balance(&self, address: &Address) -> u64 {
        self.state.balance(address)
    }

    fn call(&mut self, mut msg: Message) -> ExecutionResult {
        let state = &mut self.state;
        // The engine cannot know which template the calling account was
        // spawned from; the host fills it in from its own tables.
        if msg.sender_template.is_none() {
            msg.sender_template = state.accounts.get(&msg.sender).and_then(|a| a.template);
        }
        state.calls.push(msg.clone());
        if state.balance(&msg.sender) < msg.value {
            return ExecutionResult::not_started(StatusCode::InsufficientBalance, msg.gas);
        }
        let checkpoint = state.checkpoint();
        // A spawn creates the program first, then runs the template's code
        // for it with the `spawn` selector as input (Host::call, steps 1–4).
        let spawned = match msg.kind {
            MessageKind::Spawn => match state.spawn_program(&msg.recipient, &msg.input) {
                Some(address) => {
                    msg.recipient = address;
                    msg.input = SPAWN_SELECTOR.to_vec();
                    Some(address)
                }
                None => {
                    state.revert_to(checkpoint);
                    return ExecutionResult::failure(StatusCode::Failure);
                }
            },
            MessageKind::Call | MessageKind::Deploy => None,
        };
        if msg.value > 0 {
            state.accounts.entry(msg.sender).or_default().balance -= msg.value;
            let recipient = state.accounts.entry(msg.recipient).or_default();
            match recipient.balance.checked_add(msg.value) {
                Some(b) => recipient.balance = b,
                None => {
                    state.revert_to(checkpoint);
                    return ExecutionResult::failure(StatusCode::InternalError);
                }
            }
        }
        let gas = msg.gas;
        let mut result = match self.handler.as_mut() {
            Some(handler) => handler(state, msg),
            None => {
                let mut r = self.default_call_result.clone();
                r.gas_left = r.gas_left.min(gas);
                r
            }
        };
        if result.is_success() {
            state.commit(checkpoint);
            if let Some(address) = spawned {
                result.output = address.as_bytes().to_vec();
            }
        } else {
            state.revert_to(checkpoint);
        }
        result
    }

    fn get_state(&self, address: &Address) -> Vec<u8> {
        self.state.accounts.get(address).map(|a| a.state.clone()).unwrap_or_default()
    }

    fn deploy(&mut self, code: &[u8]) -> Result<Address, StatusCode> {
        if code.is_empty() {
            return Err(StatusCode::Failure);
        }
        let address = self.state.fresh_address(0xd0);
        self.state.accounts.insert(address, Account { code: code.to_vec(), ..Account::default() });
        Ok(address)
    }

    fn get_tx_context(&self) -> TxContext {
        self.state.tx_context
    }

    fn get_block_hash(&self, height: u64) -> Bytes32 {
        self.state.block_hashes.get(&height).copied().unwrap_or(Bytes32::ZERO)
    }

    fn emit_log(&mut self, address: &Address, topics: &[Bytes32], data: &[u8]) {
        self.state.logs.push(Log { address: *address, topics: topics.to_vec(), data: data.to_vec() });
    }
}

/// A test [`Host`] that is a [`MockHost`] with some callbacks changed
/// (counted, recorded, canned or re-entering a VM): implement
/// [`mock`](Self::mock) and [`mock_mut`](Self::mock_mut), and override only
/// the callbacks that differ; every other one goes to the mock. Every
/// implementor is a [`Host`].
pub trait MockWrapper {
    /// The wrapped mock.
    fn mock(&self) -> &MockHost;
    /// The wrapped mock, mutably.
    fn mock_mut(&mut self) -> &mut MockHost;

    /// [`Host::account_exists`].
    fn account_exists(&self, address: &Address) -> bool {
        self.mock().account_exists(address)
    }
    /// [`Host::get_storage`].
    fn get_storage(&self, address: &Address, key: &Bytes32) -> Bytes32 {
        self.mock().get_storage(address, key)
    }
    /// [`Host::set_storage`].
    fn set_storage(&mut self, address: &Address, key: &Bytes32, value: &Bytes32) -> StorageStatus {
        self.mock_mut().set_storage(address, key, value)
    }
    /// [`Host::get_balance`].
    fn get_balance(&self, address: &Address) -> u64 {
        self.mock().get_balance(address)
    }
    /// [`Host::call`].
    fn call(&mut self, msg: Message) -> ExecutionResult {
        self.mock_mut().call(msg)
    }
    /// [`Host::get_state`].
    fn get_state(&self, address: &Address) -> Vec<u8> {
        self.mock().get_state(address)
    }
    /// [`Host::deploy`].
    fn deploy(&mut self, code: &[u8]) -> Result<Address, StatusCode> {
        self.mock_mut().deploy(code)
    }
    /// [`Host::get_tx_context`].
    fn get_tx_context(&self) -> TxContext {
        self.mock().get_tx_context()
    }
    /// [`Host::get_block_hash`].
    fn get_block_hash(&self, height: u64) -> Bytes32 {
        self.mock().get_block_hash(height)
    }
    /// [`Host::emit_log`].
    fn emit_log(&mut self, address: &Address, topics: &[Bytes32], data: &[u8]) {
        self.mock_mut().emit_log(address, topics, data)
    }
}

impl<T: MockWrapper> Host for T {
    fn account_exists(&self, address: &Address) -> bool {
        MockWrapper::account_exists(self, address)
    }
    fn get_storage(&self, address: &Address, key: &Bytes32) -> Bytes32 {
        MockWrapper::get_storage(self, address, key)
    }
    fn set_storage(&mut self, address: &Address, key: &Bytes32, value: &Bytes32) -> StorageStatus {
        MockWrapper::set_storage(self, address, key, value)
    }
    fn get_balance(&self, address: &Address) -> u64 {
        MockWrapper::get_balance(self, address)
    }
    fn call(&mut self, msg: Message) -> ExecutionResult {
        MockWrapper::call(self, msg)
    }
    fn get_state(&self, address: &Address) -> Vec<u8> {
        MockWrapper::get_state(self, address)
    }
    fn deploy(&mut self, code: &[u8]) -> Result<Address, StatusCode> {
        MockWrapper::deploy(self, code)
    }
    fn get_tx_context(&self) -> TxContext {
        MockWrapper::get_tx_context(self)
    }
    fn get_block_hash(&self, height: u64) -> Bytes32 {
        MockWrapper::get_block_hash(self, height)
    }
    fn emit_log(&mut self, address: &Address, topics: &[Bytes32], data: &[u8]) {
        MockWrapper::emit_log(self, address, topics, data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(b: u8) -> Address {
        Address::new([b; 24])
    }
    fn word(b: u8) -> Bytes32 {
        Bytes32::new([b; 32])
    }

    #[test]
    fn storage_statuses() {
        let mut host = MockHost::new();
        let h: &mut dyn Host = &mut host;
        let (a, k) = (addr(1), word(9));
        assert_eq!(h.set_storage(&a, &k, &Bytes32::ZERO), StorageStatus::Unchanged);
        assert!(!h.account_exists(&a), "a no-op write must not create an account");
        assert_eq!(h.set_storage(&a, &k, &word(1)), StorageStatus::Added);
        assert!(h.account_exists(&a));
        assert_eq!(h.get_storage(&a, &k), word(1));
        assert_eq!(h.set_storage(&a, &k, &word(1)), StorageStatus::Unchanged);
        assert_eq!(h.set_storage(&a, &k, &word(2)), StorageStatus::Modified);
        assert_eq!(h.get_storage(&a, &k), word(2));
        assert_eq!(h.set_storage(&a, &k, &Bytes32::ZERO), StorageStatus::Deleted);
        assert_eq!(h.get_storage(&a, &k), Bytes32::ZERO);
        assert!(host.accounts[&a].storage.is_empty(), "deleted slots are removed");
        assert_eq!(host.get_storage(&addr(7), &k), Bytes32::ZERO);
    }

    #[test]
    fn checkpoint_revert_storage_balances_logs() {
        let mut host = MockHost::new();
        let a = addr(1);
        host.set_balance(a, 100);
        host.set_storage(&a, &word(1), &word(1));
        host.emit_log(&a, &[word(1)], b"first");

        let outer = host.checkpoint();
        host.set_balance(a, 50);
        host.set_storage(&a, &word(1), &word(2));
        host.set_storage(&a, &word(2), &word(2));
        host.emit_log(&a, &[], b"outer");

        let inner = host.checkpoint();
        host.set_balance(a, 10);
        host.set_balance(addr(2), 5);
        host.set_storage(&a, &word(1), &Bytes32::ZERO);
        host.emit_log(&a, &[], b"inner");
        assert_eq!(host.checkpoint_depth(), 2);

        host.revert_to(inner);
        assert_eq!(host.get_balance(&a), 50);
        assert!(!host.account_exists(&addr(2)));
        assert_eq!(host.get_storage(&a, &word(1)), word(2));
        assert_eq!(host.logs.len(), 2);
        assert_eq!(host.logs[1].data, b"outer");
        assert_eq!(host.checkpoint_depth(), 1);

        host.revert_to(outer);
        assert_eq!(host.get_balance(&a), 100);
        assert_eq!(host.get_storage(&a, &word(1)), word(1));
        assert_eq!(host.get_storage(&a, &word(2)), Bytes32::ZERO);
        assert_eq!(host.logs.len(), 1);
        assert_eq!(host.logs[0], Log { address: a, topics: vec![word(1)], data: b"first".to_vec() });
        assert_eq!(host.checkpoint_depth(), 0);
    }

    #[test]
    fn committed_inner_changes_revert_with_outer() {
        let mut host = MockHost::new();
        let a = addr(1);
        let outer = host.checkpoint();
        let inner = host.checkpoint();
        host.set_balance(a, 7);
        host.emit_log(&a, &[], b"x");
        host.commit(inner);
        assert_eq!(host.get_balance(&a), 7);
        assert_eq!(host.checkpoint_depth(), 1);
        host.revert_to(outer);
        assert!(!host.account_exists(&a));
        assert!(host.logs.is_empty());

        // Committing an outer checkpoint discards newer ones and keeps changes.
        let outer = host.checkpoint();
        let _inner = host.checkpoint();
        host.set_balance(a, 3);
        host.commit(outer);
        assert_eq!(host.checkpoint_depth(), 0);
        assert_eq!(host.get_balance(&a), 3);
    }

    #[test]
    #[should_panic(expected = "stale checkpoint")]
    fn stale_checkpoint_panics() {
        let mut host = MockHost::new();
        let outer = host.checkpoint();
        let inner = host.checkpoint();
        host.revert_to(outer);
        host.revert_to(inner);
    }

    #[test]
    fn call_fills_in_the_sender_template() {
        let mut host = MockHost::new();
        let template = host.deploy(b"\x7fELF").unwrap();
        let program = host.spawn_program(&template, b"args").unwrap();
        host.set_call_handler(|_, msg| ExecutionResult::success(msg.gas, Vec::new()));
        let msg = Message { sender: program, recipient: addr(9), gas: 10, ..Message::default() };
        assert!(host.call(msg.clone()).is_success());
        assert_eq!(host.calls.last().and_then(|m| m.sender_template), Some(template));
        let msg = Message { sender: addr(8), ..msg };
        host.call(msg);
        assert_eq!(host.calls.last().and_then(|m| m.sender_template), None, "no template for plain accounts");
    }

    #[test]
    fn call_transfers_and_reverts_on_failure() {
        let (alice, bob) = (addr(1), addr(2));
        let mut host = MockHost::new();
        host.set_balance(alice, 100);
        host.set_call_handler(|state, msg| {
            state.set_storage_value(msg.recipient, word(0), word(msg.input[0]));
            state.logs.push(Log { address: msg.recipient, topics: vec![], data: msg.input.clone() });
            match msg.input[0] {
                0 => ExecutionResult::success(msg.gas - 10, b"ok".to_vec()),
                1 => ExecutionResult::revert(msg.gas - 20, b"no".to_vec()),
                _ => ExecutionResult::out_of_gas(),
            }
        });
        let msg = |input: u8, value: u64| Message {
            kind: crate::MessageKind::Call,
            depth: 1,
            gas: 100,
            recipient: bob,
            sender: alice,
            sender_template: None,
            input: vec![input],
            value,
        };

        let r = host.call(msg(0, 30));
        assert_eq!((r.status, r.gas_used(100), r.output.as_slice()), (StatusCode::Success, 10, &b"ok"[..]));
        assert_eq!((host.get_balance(&alice), host.get_balance(&bob)), (70, 30));
        assert_eq!(host.logs.len(), 1);

        for (input, status, used) in [(1, StatusCode::Revert, 20), (2, StatusCode::OutOfGas, 100)] {
            let r = host.call(msg(input, 30));
            assert_eq!((r.status, r.gas_used(100)), (status, used));
            assert_eq!((host.get_balance(&alice), host.get_balance(&bob)), (70, 30), "transfer undone");
            assert_eq!(host.get_storage(&bob, &word(0)), Bytes32::ZERO, "success wrote zero; failures undone");
            assert_eq!(host.logs.len(), 1, "failed frame's logs discarded");
        }

        let r = host.call(msg(0, 71));
        assert_eq!(r, ExecutionResult::not_started(StatusCode::InsufficientBalance, 100));
        assert_eq!(host.calls.len(), 4);
        assert_eq!(host.calls[3].value, 71);
        assert_eq!(host.checkpoint_depth(), 0);
    }

    #[test]
    fn call_without_handler_uses_default() {
        let mut host = MockHost::new();
        let r = host.call(Message { gas: 5, ..Message::default() });
        assert_eq!(r, ExecutionResult::success(0, vec![]));
        host.default_call_result = ExecutionResult::success(u64::MAX, b"hi".to_vec());
        let r = host.call(Message { gas: 5, ..Message::default() });
        assert_eq!((r.gas_left, r.output.as_slice()), (5, &b"hi"[..]));
        host.clear_call_handler();
        assert_eq!(host.calls.len(), 2);
    }

    #[test]
    fn deploy_and_spawn_program() {
        let mut host = MockHost::new();
        assert_eq!(host.deploy(&[]), Err(StatusCode::Failure));
        let template = host.deploy(b"\x7fELF").unwrap();
        assert_eq!(host.accounts[&template].code, b"\x7fELF");
        assert_eq!(host.spawn_program(&addr(3), b"s"), None, "unknown template");
        let instance = host.spawn_program(&template, b"state").unwrap();
        assert_ne!(instance, template);
        assert_eq!(host.accounts[&instance].template, Some(template));
        assert_eq!(host.accounts[&instance].state, b"state");
        assert_eq!((&host as &dyn Host).get_state(&instance), b"state");
        assert!((&host as &dyn Host).get_state(&template).is_empty());

        let cp = host.checkpoint();
        let second = host.spawn_program(&template, b"state").unwrap();
        assert_ne!(second, instance, "fresh addresses are unique");
        host.revert_to(cp);
        assert!(!host.account_exists(&second));
        assert!(host.account_exists(&instance));
    }

    fn spawn_msg(template: Address, state: &[u8], value: u64) -> Message {
        Message {
            kind: MessageKind::Spawn,
            depth: 1,
            gas: 1000,
            recipient: template,
            sender: addr(1),
            input: state.to_vec(),
            value,
            ..Message::default()
        }
    }

    /// A derivation that makes the address a function of template and state.
    fn derived(template: &Address, state: &[u8]) -> Address {
        let mut bytes = [0x77; 24];
        bytes[0] = template.as_bytes()[0];
        bytes[1] = state.first().copied().unwrap_or(0);
        Address::new(bytes)
    }

    #[test]
    fn spawn_message_creates_runs_init_and_returns_the_address() {
        let mut host = MockHost::new();
        let template = host.deploy(b"\x7fELF").unwrap();
        host.set_balance(addr(1), 50);
        host.set_call_handler(|state, msg| {
            assert_eq!((msg.kind, msg.input.as_slice()), (MessageKind::Spawn, &SPAWN_SELECTOR[..]));
            let account = &state.accounts[&msg.recipient];
            assert_eq!(account.balance, 20, "created and funded before the init run");
            // The init run decides: state "bad" is rejected.
            if account.state == b"bad" {
                return ExecutionResult::revert(msg.gas - 5, b"invalid state".to_vec());
            }
            state.set_storage_value(msg.recipient, word(1), word(2));
            ExecutionResult::success(msg.gas - 7, b"ignored".to_vec())
        });

        let r = host.call(spawn_msg(template, b"good", 20));
        assert_eq!((r.status, r.gas_left, r.output.len()), (StatusCode::Success, 993, 24));
        let program = Address::try_from(r.output.as_slice()).unwrap();
        assert_eq!(host.accounts[&program].template, Some(template));
        assert_eq!(host.get_state(&program), b"good");
        assert_eq!(host.get_storage(&program, &word(1)), word(2), "init run's writes kept");
        assert_eq!((host.get_balance(&addr(1)), host.get_balance(&program)), (30, 20));
        assert_eq!(host.calls.last().map(|m| (m.kind, m.recipient)), Some((MessageKind::Spawn, template)));

        let r = host.call(spawn_msg(template, b"bad", 20));
        assert_eq!((r.status, r.gas_left, r.output.as_slice()), (StatusCode::Revert, 995, &b"invalid state"[..]));
        assert_eq!(host.get_balance(&addr(1)), 30, "transfer undone");
        assert_eq!(host.accounts.values().filter(|a| a.template.is_some()).count(), 1, "creation undone");

        let r = host.call(spawn_msg(addr(9), b"good", 0));
        assert_eq!(r, ExecutionResult::failure(StatusCode::Failure), "unknown template");
        assert_eq!(host.checkpoint_depth(), 0);
    }

    #[test]
    fn spawning_twice_fails_with_a_derived_address() {
        let mut host = MockHost::new();
        host.spawn_address = Some(derived);
        let template = host.deploy(b"\x7fELF").unwrap();
        let expected = derived(&template, b"s");
        host.set_balance(expected, 9);
        let r = host.call(spawn_msg(template, b"s", 0));
        assert_eq!(r.output, expected.as_bytes());
        assert_eq!(host.get_balance(&expected), 9, "a pre-funded account keeps its balance");
        let r = host.call(spawn_msg(template, b"s", 0));
        assert_eq!(r, ExecutionResult::failure(StatusCode::Failure), "already spawned");
        assert_eq!(host.get_state(&expected), b"s");
        // Without a handler the default result decides; a failing default
        // undoes the creation.
        host.default_call_result = ExecutionResult::failure(StatusCode::Failure);
        let r = host.call(spawn_msg(template, b"t", 0));
        assert_eq!(r.status, StatusCode::Failure);
        assert!(!host.account_exists(&derived(&template, b"t")));
    }

    #[test]
    fn spawn_selector_is_the_selector_of_spawn() {
        assert_eq!(SPAWN_SELECTOR, blake3::hash(b"spawn").as_bytes()[..4]);
    }

    #[test]
    fn context_and_block_hashes() {
        let ctx = TxContext {
            gas_price: 2,
            origin: addr(1),
            block_height: 10,
            block_timestamp: 1_700_000_000,
            block_gas_limit: 1_000_000,
            chain_id: word(0xcc),
        };
        let mut host = MockHost::new().with_tx_context(ctx);
        host.block_hashes.insert(9, word(9));
        let h: &dyn Host = &host;
        assert_eq!(h.get_tx_context(), ctx);
        assert_eq!(h.get_block_hash(9), word(9));
        assert_eq!(h.get_block_hash(10), Bytes32::ZERO);
        assert!(format!("{host:?}").contains("MockHost"));
    }
}

//! [`Chain`]: an in-process chain for contract tests, over the same
//! runtime (account model, call/spawn/deploy semantics, engine) a node uses.

use crate::build::build_contract;
use crate::error::Error;
use crate::receipt::Receipt;
use crate::storage::{decode_item, encode_item, item_key};
use athena_engine::EngineConfig;
use athena_interface::{Address, Bytes32, Message, MessageKind, StatusCode, TxContext};
use athena_runtime::{Account, Env, Log, MemoryState, Overlay, Runtime, StateReader};
use parity_scale_codec::{Decode, DecodeAll, Encode};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// Gas limit of calls and spawns that do not set one: generous (no fees
/// are charged), yet an endless loop still stops within seconds.
pub const DEFAULT_GAS: u64 = 100_000_000;

/// Balance of the chain's [default account](Chain::default_account).
pub const DEFAULT_BALANCE: u64 = 1_000_000_000_000;

/// An in-process chain: committed state in memory, and transactions (calls
/// and spawns) executed one at a time by `athena-runtime`, exactly as a node
/// would run their top-level message.
///
/// Every transaction increments its sender's nonce, whatever its outcome,
/// and charges no fees (balances change only by the values sent). Its
/// effects are committed if it succeeds and discarded otherwise. Each one
/// yields a [`Receipt`]; the chain keeps them all, and the logs of the
/// successful ones. `Clone` copies the whole chain, to branch a scenario.
///
/// ```no_run
/// use athena_testkit::{build_contract, Chain};
/// # fn main() -> Result<(), athena_testkit::Error> {
/// let mut chain = Chain::new();
/// let alice = chain.create_account(1_000);
/// let template = chain.deploy(&build_contract(".")?)?;
/// let counter = chain.spawn(template, &1u64).from(alice).send().spawned_address()?;
/// let receipt = chain.call(counter, "increment").arg(&5u64).from(alice).send();
/// assert_eq!(receipt.decode::<u64>()?, 5);
/// assert_eq!(chain.storage_value::<u64>(counter, "count")?, Some(5));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Chain {
    state: MemoryState,
    config: EngineConfig,
    context: TxContext,
    block_hashes: BTreeMap<u64, Bytes32>,
    logs: Vec<Log>,
    receipts: Vec<Receipt>,
    default_gas: u64,
    default_sender: Address,
    accounts_created: u64,
}

impl Default for Chain {
    fn default() -> Self {
        Self::new()
    }
}

impl Chain {
    /// A chain with the default engine configuration, block height 1, and
    /// one [default account](Chain::default_account) holding
    /// [`DEFAULT_BALANCE`].
    pub fn new() -> Self {
        Self::with_config(EngineConfig::default())
    }

    /// Like [`Chain::new`] with explicit engine knobs (e.g. a smaller
    /// `max_call_depth`, or the reference interpreter).
    pub fn with_config(config: EngineConfig) -> Self {
        let default_sender = Self::account_address("default");
        let mut chain = Chain {
            state: MemoryState::new(),
            config,
            context: TxContext { block_height: 1, block_gas_limit: u64::MAX, ..TxContext::default() },
            block_hashes: BTreeMap::new(),
            logs: Vec::new(),
            receipts: Vec::new(),
            default_gas: DEFAULT_GAS,
            default_sender,
            accounts_created: 0,
        };
        chain.set_balance(default_sender, DEFAULT_BALANCE);
        chain
    }

    // ----- accounts -----

    /// The address of the test account labelled `label`: a program-kind
    /// address derived from the label, so tests get stable addresses.
    pub fn account_address(label: &str) -> Address {
        let hash = blake3::derive_key("athena testkit account v1", label.as_bytes());
        let mut bytes = [0u8; 24];
        bytes[4..].copy_from_slice(&hash[..20]);
        Address::new(bytes)
    }

    /// Creates a fresh account (no code) with `balance` coins and returns
    /// its address. Addresses are deterministic: the n-th account created
    /// on any chain gets the same one.
    pub fn create_account(&mut self, balance: u64) -> Address {
        self.accounts_created += 1;
        let address = Self::account_address(&format!("account {}", self.accounts_created));
        self.set_balance(address, balance);
        address
    }

    /// Creates (or resets the balance of) the account labelled `name`
    /// (see [`Chain::account_address`]) with `balance` coins.
    pub fn create_named_account(&mut self, name: &str, balance: u64) -> Address {
        let address = Self::account_address(name);
        self.set_balance(address, balance);
        address
    }

    /// The sender of calls and spawns that do not name one: an account
    /// created with [`DEFAULT_BALANCE`] coins.
    pub fn default_account(&self) -> Address {
        self.default_sender
    }

    /// Sets the balance of `address`, creating the account if needed.
    pub fn set_balance(&mut self, address: Address, balance: u64) {
        self.edit(|state| state.set_balance(address, balance));
    }

    /// Adds `amount` coins to `address` (minted, not transferred).
    ///
    /// # Panics
    /// If the balance would exceed `u64::MAX`.
    #[track_caller]
    pub fn fund(&mut self, address: Address, amount: u64) {
        let balance = self.balance(address).checked_add(amount).expect("fund: balance overflows u64");
        self.set_balance(address, balance);
    }

    /// The balance of `address` (0 if it has no account).
    pub fn balance(&self, address: Address) -> u64 {
        self.account(address).map_or(0, |a| a.balance)
    }

    /// The next nonce of `address`: how many transactions it has sent.
    pub fn nonce(&self, address: Address) -> u64 {
        self.account(address).map_or(0, |a| a.nonce)
    }

    /// The account record at `address`, if any.
    pub fn account(&self, address: Address) -> Option<Account> {
        self.state.account(&address).ok().flatten()
    }

    /// The template `program` was spawned from (`None` for plain accounts).
    pub fn template_of(&self, program: Address) -> Option<Address> {
        self.account(program).and_then(|a| a.template)
    }

    // ----- templates and programs -----

    /// Deploys `code` (an ELF file) as a template and returns its content
    /// address. Deploying the same code again returns the same address.
    pub fn deploy(&mut self, code: &[u8]) -> Result<Address, Error> {
        let mut runtime = Runtime::new(&self.state, self.config, self.env(Address::ZERO));
        let address = runtime.deploy_code(code)?;
        let effects = runtime.finish()?;
        self.state.apply_changes(&effects.changes);
        Ok(address)
    }

    /// Builds the contract crate at `crate_dir` ([`build_contract`]) and
    /// deploys it.
    pub fn deploy_contract(&mut self, crate_dir: impl AsRef<Path>) -> Result<Address, Error> {
        let code = build_contract(crate_dir)?;
        self.deploy(&code)
    }

    /// The code of the template at `template`, if deployed.
    pub fn template_code(&self, template: Address) -> Option<Arc<[u8]>> {
        self.state.template_code(&template).ok().flatten()
    }

    /// Starts a spawn of a program from `template` whose immutable state is
    /// `SCALE(state)` (the template struct). It runs the template's `spawn`
    /// method, exactly as a spawn transaction or a program's `SPAWN` does.
    pub fn spawn<T: Encode + ?Sized>(&mut self, template: Address, state: &T) -> SpawnBuilder<'_> {
        self.spawn_raw(template, state.encode())
    }

    /// Like [`Chain::spawn`] with the state blob given as bytes.
    pub fn spawn_raw(&mut self, template: Address, state: Vec<u8>) -> SpawnBuilder<'_> {
        let from = self.default_sender;
        let gas = self.default_gas;
        SpawnBuilder { chain: self, template, state, from, value: 0, gas }
    }

    /// Test setup: makes `program_address(template, SCALE(state))` a
    /// program of `template` *without* running its `spawn` method (as a
    /// genesis would), keeping any balance the account has. Fails if no
    /// template is deployed there or the account is a program already.
    pub fn install_program<T: Encode + ?Sized>(&mut self, template: Address, state: &T) -> Result<Address, Error> {
        let state = state.encode();
        let address = athena_transaction::program_address(&template, &state);
        if !self.state.has_template(&template)? {
            return Err(Error::Setup(format!("no template is deployed at {template}")));
        }
        if self.template_of(address).is_some() {
            return Err(Error::Setup(format!("{address} is a program already")));
        }
        self.edit(|overlay| overlay.create_program(address, template, state));
        Ok(address)
    }

    /// The state blob `program` was spawned with, decoded as `T`.
    pub fn program_state<T: Decode>(&self, program: Address) -> Result<T, Error> {
        let blob = self.state.program_state(&program)?;
        T::decode_all(&mut blob.as_slice())
            .map_err(|source| Error::Decode { what: format!("the state of {program}"), source })
    }

    /// The state blob `program` was spawned with (empty if none).
    pub fn program_state_raw(&self, program: Address) -> Vec<u8> {
        self.state.program_state(&program).unwrap_or_default()
    }

    // ----- transactions -----

    /// Starts a call of method `method` of `program`: input
    /// `selector(method) ‖ SCALE(args…)`, arguments added with
    /// [`CallBuilder::arg`] / [`CallBuilder::args`].
    pub fn call(&mut self, program: Address, method: &str) -> CallBuilder<'_> {
        let mut builder = self.call_raw(program, athena_transaction::selector(method).to_vec());
        builder.method = Some(method.to_owned());
        builder
    }

    /// Starts a call of `to` with exactly `input` (no selector added): for
    /// programs that do not use the SDK's method ABI.
    pub fn call_raw(&mut self, to: Address, input: Vec<u8>) -> CallBuilder<'_> {
        let from = self.default_sender;
        let gas = self.default_gas;
        CallBuilder { chain: self, to, method: None, input, from, value: 0, gas }
    }

    /// Sends `amount` coins from `from` to `to` (a call with empty input: a
    /// program receiving it runs its code).
    pub fn transfer(&mut self, from: Address, to: Address, amount: u64) -> Receipt {
        self.call_raw(to, Vec::new()).from(from).value(amount).send()
    }

    /// Every receipt so far, in order.
    pub fn receipts(&self) -> &[Receipt] {
        &self.receipts
    }

    /// The most recent receipt.
    pub fn last_receipt(&self) -> Option<&Receipt> {
        self.receipts.last()
    }

    /// Logs of every successful transaction so far, in order.
    pub fn logs(&self) -> &[Log] {
        &self.logs
    }

    /// Gas limit used when a call or spawn does not set one.
    pub fn set_default_gas(&mut self, gas: u64) {
        self.default_gas = gas;
    }

    // ----- storage -----

    /// Raw storage slot `key` of `program` (zero if absent).
    pub fn storage(&self, program: Address, key: &Bytes32) -> Bytes32 {
        self.state.storage(&program, key).unwrap_or_default()
    }

    /// Every non-zero storage slot of `program`, in key order.
    pub fn storage_slots(&self, program: Address) -> Vec<(Bytes32, Bytes32)> {
        self.state.storage_of(&program).collect()
    }

    /// Sets raw storage slot `key` of `program` (zero deletes).
    pub fn set_storage(&mut self, program: Address, key: Bytes32, value: Bytes32) {
        self.edit(|state| {
            state.set_storage(program, key, value);
        });
    }

    /// The typed storage value `name` of `program` (an SDK `Value` item),
    /// or `None` if it was never written.
    pub fn storage_value<T: Decode>(&self, program: Address, name: &str) -> Result<Option<T>, Error> {
        self.read_item(program, &item_key(name, &[]), || format!("storage value `{name}` of {program}"))
    }

    /// The entry for `key` of the typed storage map `name` of `program`,
    /// or `None` if absent.
    pub fn storage_entry<K: Encode + ?Sized, V: Decode>(
        &self,
        program: Address,
        name: &str,
        key: &K,
    ) -> Result<Option<V>, Error> {
        self.read_item(program, &item_key(name, &key.encode()), || format!("storage map `{name}` entry of {program}"))
    }

    /// Writes the typed storage value `name` of `program` as the SDK would.
    pub fn set_storage_value<T: Encode + ?Sized>(
        &mut self,
        program: Address,
        name: &str,
        value: &T,
    ) -> Result<(), Error> {
        self.write_item(program, &item_key(name, &[]), &value.encode())
    }

    /// Writes entry `key` of the typed storage map `name` of `program`.
    pub fn set_storage_entry<K: Encode + ?Sized, V: Encode + ?Sized>(
        &mut self,
        program: Address,
        name: &str,
        key: &K,
        value: &V,
    ) -> Result<(), Error> {
        self.write_item(program, &item_key(name, &key.encode()), &value.encode())
    }

    fn read_item<T: Decode>(
        &self,
        program: Address,
        base: &Bytes32,
        what: impl Fn() -> String,
    ) -> Result<Option<T>, Error> {
        let Some(encoded) = decode_item(base, |key| self.storage(program, key))? else {
            return Ok(None);
        };
        T::decode_all(&mut encoded.as_slice()).map(Some).map_err(|source| Error::Decode { what: what(), source })
    }

    fn write_item(&mut self, program: Address, base: &Bytes32, encoded: &[u8]) -> Result<(), Error> {
        let slots = encode_item(base, encoded)?;
        self.edit(|state| {
            for (key, value) in slots {
                state.set_storage(program, key, value);
            }
        });
        Ok(())
    }

    // ----- block context -----

    /// The context transactions see (`origin` is set per transaction).
    pub fn context(&self) -> &TxContext {
        &self.context
    }

    /// The context, to change the gas price, chain id or block gas limit.
    pub fn context_mut(&mut self) -> &mut TxContext {
        &mut self.context
    }

    /// Moves to block `height` with `timestamp` (seconds).
    pub fn set_block(&mut self, height: u64, timestamp: u64) {
        self.context.block_height = height;
        self.context.block_timestamp = timestamp;
    }

    /// Makes `GET_BLOCK_HASH(height)` answer `hash`.
    pub fn set_block_hash(&mut self, height: u64, hash: Bytes32) {
        self.block_hashes.insert(height, hash);
    }

    /// The committed state, for inspection beyond the helpers above.
    pub fn state(&self) -> &MemoryState {
        &self.state
    }

    // ----- internals -----

    fn env(&self, origin: Address) -> Env {
        Env { tx: TxContext { origin, ..self.context }, block_hashes: self.block_hashes.clone() }
    }

    /// Applies direct state edits (test setup), outside any transaction.
    fn edit(&mut self, f: impl FnOnce(&mut Overlay<'_, MemoryState>)) {
        let mut overlay = Overlay::new(&self.state);
        f(&mut overlay);
        // The in-memory backend never fails a read.
        if let Ok(effects) = overlay.finish() {
            self.state.apply_changes(&effects.changes);
        }
    }

    /// Runs one transaction whose top-level message is `message`.
    fn execute(&mut self, message: Message, method: Option<String>) -> Receipt {
        let (kind, from, to, gas_limit) = (message.kind, message.sender, message.recipient, message.gas);
        let mut runtime = Runtime::new(&self.state, self.config, self.env(from));
        runtime.overlay_mut().bump_nonce(from);
        let result = runtime.execute(message);
        let (status, output, logs) = match runtime.finish() {
            Ok(effects) => {
                self.state.apply_changes(&effects.changes);
                self.logs.extend_from_slice(&effects.logs);
                (result.status, result.output, effects.logs)
            }
            Err(_) => (StatusCode::InternalError, Vec::new(), Vec::new()),
        };
        let gas_used = gas_limit.saturating_sub(result.gas_left);
        let receipt = Receipt { kind, from, to, method, status, gas_limit, gas_used, output, logs };
        self.receipts.push(receipt.clone());
        receipt
    }
}

/// A call being prepared by [`Chain::call`] or [`Chain::call_raw`]; runs on
/// [`send`](CallBuilder::send).
#[derive(Debug)]
#[must_use = "nothing happens until `.send()`"]
pub struct CallBuilder<'c> {
    chain: &'c mut Chain,
    to: Address,
    method: Option<String>,
    input: Vec<u8>,
    from: Address,
    value: u64,
    gas: u64,
}

impl CallBuilder<'_> {
    /// Appends one argument (`SCALE(arg)`); call once per parameter, in
    /// order. SCALE of a tuple is the concatenation of its fields, so this
    /// matches the SDK's decoding of the argument list.
    pub fn arg<A: Encode + ?Sized>(mut self, arg: &A) -> Self {
        arg.encode_to(&mut self.input);
        self
    }

    /// Appends several arguments at once, as a tuple: `.args(&(a, b))`.
    pub fn args<A: Encode>(self, args: &A) -> Self {
        self.arg(args)
    }

    /// Sends from `sender` (default: [`Chain::default_account`]).
    pub fn from(mut self, sender: Address) -> Self {
        self.from = sender;
        self
    }

    /// Transfers `value` coins with the call.
    pub fn value(mut self, value: u64) -> Self {
        self.value = value;
        self
    }

    /// Sets the gas limit (default: [`DEFAULT_GAS`]).
    pub fn gas(mut self, gas: u64) -> Self {
        self.gas = gas;
        self
    }

    /// Executes the call as a transaction and returns its receipt.
    pub fn send(self) -> Receipt {
        let message = Message {
            kind: MessageKind::Call,
            gas: self.gas,
            recipient: self.to,
            sender: self.from,
            input: self.input,
            value: self.value,
            ..Message::default()
        };
        self.chain.execute(message, self.method)
    }
}

/// A spawn being prepared by [`Chain::spawn`]; runs on
/// [`send`](SpawnBuilder::send).
#[derive(Debug)]
#[must_use = "nothing happens until `.send()`"]
pub struct SpawnBuilder<'c> {
    chain: &'c mut Chain,
    template: Address,
    state: Vec<u8>,
    from: Address,
    value: u64,
    gas: u64,
}

impl SpawnBuilder<'_> {
    /// Sends from `sender` (default: [`Chain::default_account`]); the
    /// `spawn` method sees it as its caller.
    pub fn from(mut self, sender: Address) -> Self {
        self.from = sender;
        self
    }

    /// Endows the new program with `value` coins from the sender.
    pub fn value(mut self, value: u64) -> Self {
        self.value = value;
        self
    }

    /// Sets the gas limit (default: [`DEFAULT_GAS`]).
    pub fn gas(mut self, gas: u64) -> Self {
        self.gas = gas;
        self
    }

    /// The address the program will get: `program_address(template,
    /// state)`, known before (and whether or not) it is spawned.
    pub fn address(&self) -> Address {
        athena_transaction::program_address(&self.template, &self.state)
    }

    /// Executes the spawn as a transaction; on success the receipt's
    /// [`spawned_address`](Receipt::spawned_address) is the new program.
    pub fn send(self) -> Receipt {
        let message = Message {
            kind: MessageKind::Spawn,
            gas: self.gas,
            recipient: self.template,
            sender: self.from,
            input: self.state,
            value: self.value,
            ..Message::default()
        };
        self.chain.execute(message, None)
    }
}

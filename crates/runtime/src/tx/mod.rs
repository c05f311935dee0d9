//! Transaction execution: [`apply_transaction`] turns one signed
//! transaction (bytes, `athena_transaction`'s envelope) into a [`Receipt`]
//! with the [`ChangeSet`] to commit.
//!
//! Two outcome classes (docs/transactions.md, "Execution"):
//!
//! * **ineffective** ([`Ineffective`]): undecodable, too little gas for the
//!   intrinsic gas, principal not spawned (and no template), bad
//!   self-spawn, wrong nonce, cannot prepay the gas, `verify` refused or
//!   failed. Nothing changes and nothing is paid.
//! * **effective**: the fee is charged and the nonce bumped, then the
//!   payload runs; it either [`TxStatus::Succeeded`] or
//!   [`TxStatus::Failed`] (revert, out of gas, trap, `max_spend` failed or
//!   exceeded), in which case every effect of the payload is reverted but
//!   the fee and nonce stay.
//!
//! ```no_run
//! use athena_runtime::tx::{apply_transaction, BlockContext, TxConfig};
//! use athena_runtime::{MemoryState, StateWriter};
//! use athena_transaction::{Address, Bytes32, Network};
//!
//! let mut state = MemoryState::new();
//! let block = BlockContext::new(Network::test(Bytes32::new([1; 32])), Address::new([9; 24]));
//! # let block_transactions: Vec<Vec<u8>> = Vec::new();
//! for tx in &block_transactions {
//!     let receipt = apply_transaction(&state, &block, tx, &TxConfig::default()).expect("backend failure");
//!     state.apply(&receipt.changes).unwrap();
//! }
//! ```

mod gas;
mod receipt;

pub use gas::{intrinsic_gas, MAX_SPEND_GAS_LIMIT, TX_BASE, TX_PER_BYTE, VERIFY_GAS_LIMIT};
pub use receipt::{ApplyError, Failure, GasUsage, HookError, Ineffective, Receipt, TxStatus};

use crate::runtime::{Env, Runtime};
use crate::state::{ChangeSet, StateError, StateReader};
use athena_engine::EngineConfig;
use athena_interface::{Address, Bytes32, ExecutionResult, Message, MessageKind, Revision, TxContext};
use athena_transaction::{
    address_kind, decode, encode_payload, program_address, selector, AddressKind, Network, Transaction,
};
use std::collections::BTreeMap;

/// The block a transaction executes in: what programs see through
/// `GET_TX_CONTEXT` / `GET_BLOCK_HASH`, the network whose genesis id the
/// signature must cover, and who receives the fees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockContext {
    /// The network: its genesis id is part of every signed message (and
    /// is the `chain_id` programs see).
    pub network: Network,
    /// Height (layer) of the block.
    pub height: u64,
    /// Block timestamp, seconds since the Unix epoch (from the block, never
    /// the local clock).
    pub timestamp: u64,
    /// The block's gas limit (informational for programs; enforcing it
    /// across transactions is the block builder's job).
    pub gas_limit: u64,
    /// Receives every fee (the coinbase).
    pub fee_recipient: Address,
    /// Hashes of the blocks programs may look up (heights outside the map
    /// read as zero).
    pub block_hashes: BTreeMap<u64, Bytes32>,
}

impl BlockContext {
    /// A block at height 0, timestamp 0, no gas limit, no block hashes.
    pub fn new(network: Network, fee_recipient: Address) -> Self {
        BlockContext {
            network,
            height: 0,
            timestamp: 0,
            gas_limit: u64::MAX,
            fee_recipient,
            block_hashes: BTreeMap::new(),
        }
    }

    /// The runtime environment for a transaction of `principal` paying
    /// `gas_price` in this block.
    fn env(&self, principal: Address, gas_price: u64) -> Env {
        Env {
            tx: TxContext {
                gas_price,
                origin: principal,
                block_height: self.height,
                block_timestamp: self.timestamp,
                block_gas_limit: self.gas_limit,
                chain_id: *self.network.genesis_id(),
            },
            block_hashes: self.block_hashes.clone(),
        }
    }
}

/// Node-side knobs of execution. Like this module's gas constants, every
/// node of a network must use the same values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TxConfig {
    /// The engine's limits and VM choice.
    pub engine: EngineConfig,
    /// The rule set.
    pub revision: Revision,
}

/// Applies one transaction, given as the bytes received, to `state` in
/// `block`, and returns its [`Receipt`]. Nothing is written: commit
/// `receipt.changes` (empty for ineffective transactions) before applying
/// the next transaction.
///
/// Deterministic: the same state, block, bytes and config give the same
/// receipt on every node. `Err` only when the transaction could not be
/// evaluated (a backend failure or an internal VM/host error); then
/// nothing about it may be recorded.
///
/// Steps and rules: docs/transactions.md, "Execution".
pub fn apply_transaction<S: StateReader + ?Sized>(
    state: &S,
    block: &BlockContext,
    tx_bytes: &[u8],
    config: &TxConfig,
) -> Result<Receipt, ApplyError> {
    apply(state, block, tx_bytes, config, false).map(|(receipt, _)| receipt)
}

/// Options of [`dry_run_transaction`]. Not part of [`TxConfig`] on
/// purpose: block execution takes a `TxConfig`, so nothing here can reach
/// a path that commits state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DryRunOptions {
    /// Run `verify` as usual and charge its gas, but go on as if it had
    /// accepted when it answers `false`: the rest of the transaction
    /// (`max_spend`, the payload) runs, so a transaction that is not signed
    /// yet (a multisig proposal) gets a gas estimate and a payload
    /// verdict. A `verify` that does not answer (reverts, traps, runs out
    /// of its budget) still makes the transaction ineffective.
    pub ignore_verify: bool,
}

/// What [`dry_run_transaction`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DryRun {
    /// The receipt, with empty `changes`: a dry run is never committed.
    /// With `ignore_verify` and a refusing `verify`, it describes the run
    /// past `verify`, which no block would make.
    pub receipt: Receipt,
    /// `verify`'s answer; `None` if it did not run (the transaction was
    /// refused earlier) or did not answer.
    pub verify_accepted: Option<bool>,
}

/// A dry run of one transaction: [`apply_transaction`], with
/// [`DryRunOptions`], whose result cannot be committed (its receipt has no
/// changes). What a node's dry-run endpoint answers; never used to execute
/// a block.
pub fn dry_run_transaction<S: StateReader + ?Sized>(
    state: &S,
    block: &BlockContext,
    tx_bytes: &[u8],
    config: &TxConfig,
    options: DryRunOptions,
) -> Result<DryRun, ApplyError> {
    let (mut receipt, verify_accepted) = apply(state, block, tx_bytes, config, options.ignore_verify)?;
    receipt.changes = ChangeSet::default();
    Ok(DryRun { receipt, verify_accepted })
}

/// [`apply_transaction`], optionally past a refusing `verify` (dry runs
/// only); also returns `verify`'s answer.
fn apply<S: StateReader + ?Sized>(
    state: &S,
    block: &BlockContext,
    tx_bytes: &[u8],
    config: &TxConfig,
    ignore_verify: bool,
) -> Result<(Receipt, Option<bool>), ApplyError> {
    let tx_id = Bytes32::new(*blake3::hash(tx_bytes).as_bytes());
    // Nothing charged, produced or changed (yet).
    let receipt = |principal, nonce, status| Receipt {
        tx_id,
        principal,
        nonce,
        status,
        gas_used: 0,
        gas: GasUsage::default(),
        fee: 0,
        output: Vec::new(),
        logs: Vec::new(),
        changes: ChangeSet::default(),
    };
    let tx = match decode(tx_bytes) {
        Ok(tx) => tx,
        Err(e) => return Ok((receipt(None, None, TxStatus::Ineffective(Ineffective::Undecodable(e))), None)),
    };
    let mut exec = Execution {
        runtime: Runtime::new(state, config.engine, block.env(tx.body.principal, tx.body.gas_price))
            .with_revision(config.revision),
        receipt: receipt(Some(tx.body.principal), Some(tx.body.nonce), TxStatus::Succeeded),
        ignore_verify,
        verify_accepted: None,
    };
    let result = exec.run(&tx, tx_bytes.len(), block);
    let verify_accepted = exec.verify_accepted;
    match result {
        Ok(()) => {
            let Execution { runtime, mut receipt, .. } = exec;
            let effects = runtime.finish()?;
            receipt.changes = effects.changes;
            if receipt.is_success() {
                receipt.logs = effects.logs;
            }
            Ok((receipt, verify_accepted))
        }
        Err(Stop::Ineffective(why)) => {
            // Whatever the runtime did (only reverted read-only runs) is
            // dropped with it, but a backend fault met on the way means the
            // verdict itself may be wrong.
            if let Some(fault) = exec.runtime.overlay().fault() {
                return Err(ApplyError::State(fault));
            }
            exec.receipt.status = TxStatus::Ineffective(why);
            Ok((exec.receipt, verify_accepted))
        }
        Err(Stop::Error(e)) => Err(e),
    }
}

/// Why [`Execution::run`] stopped early.
enum Stop {
    /// The transaction is ineffective.
    Ineffective(Ineffective),
    /// It cannot be evaluated.
    Error(ApplyError),
}

impl From<Ineffective> for Stop {
    fn from(why: Ineffective) -> Self {
        Stop::Ineffective(why)
    }
}

impl From<ApplyError> for Stop {
    fn from(e: ApplyError) -> Self {
        Stop::Error(e)
    }
}

impl From<StateError> for Stop {
    fn from(e: StateError) -> Self {
        Stop::Error(ApplyError::State(e))
    }
}

/// A self-spawn's template and state (the spawn arguments).
struct SelfSpawn<'t> {
    template: Address,
    state: &'t [u8],
}

/// One transaction being applied.
struct Execution<'a, S: ?Sized> {
    runtime: Runtime<'a, S>,
    receipt: Receipt,
    /// [`DryRunOptions::ignore_verify`]: false whenever a block executes.
    ignore_verify: bool,
    /// `verify`'s answer, once it gave one.
    verify_accepted: Option<bool>,
}

impl<S: StateReader + ?Sized> Execution<'_, S> {
    /// The whole pipeline; on `Ok` the receipt is complete but for the
    /// changes and logs, which `finish` yields.
    fn run(&mut self, tx: &Transaction, tx_len: usize, block: &BlockContext) -> Result<(), Stop> {
        let body = &tx.body;
        let principal = body.principal;
        // Steps as numbered in docs/transactions.md, "Execution".
        // 2. The principal (and a self-spawn's template and state).
        let spawn = self.classify(tx)?;

        // 3. Intrinsic gas, nonce, prepayment.
        let intrinsic = intrinsic_gas(tx_len, spawn.as_ref().map(|s| s.state.len()));
        if body.gas_limit < intrinsic {
            return Err(Ineffective::IntrinsicGas { gas_limit: body.gas_limit, intrinsic }.into());
        }
        let mut gas_left = body.gas_limit - intrinsic;
        let mut gas = GasUsage { intrinsic, ..GasUsage::default() };

        let expected = self.runtime.overlay().nonce(&principal);
        if body.nonce < expected {
            return Err(Ineffective::NonceTooLow { expected, got: body.nonce }.into());
        }
        if body.nonce > expected {
            return Err(Ineffective::NonceTooHigh { expected, got: body.nonce }.into());
        }

        let balance = self.runtime.overlay().balance(&principal);
        let prepaid = match body.gas_limit.checked_mul(body.gas_price) {
            Some(prepaid) if prepaid <= balance => prepaid,
            _ => {
                let (gas_limit, gas_price) = (body.gas_limit, body.gas_price);
                return Err(Ineffective::CannotPayGas { balance, gas_limit, gas_price }.into());
            }
        };
        self.check_fault()?;

        // 4. verify (read-only, bounded).
        let message = tx.signing_bytes(&block.network);
        let input = encode_payload("verify", &(message, &tx.authenticator));
        let budget = gas_left.min(VERIFY_GAS_LIMIT);
        let result = self.read_only(principal, spawn.as_ref(), input, budget, "verify")?;
        gas.verify = result.gas_used(budget);
        gas_left -= gas.verify;
        match hook_output::<bool>(&result) {
            Ok(accepted) => {
                self.verify_accepted = Some(accepted);
                if !accepted && !self.ignore_verify {
                    return Err(Ineffective::VerifyRejected.into());
                }
            }
            Err(e) => {
                self.receipt.output = result.output;
                return Err(Ineffective::VerifyFailed(e).into());
            }
        }

        // 5. From here on the transaction is effective: prepay, bump the
        // nonce (outside any frame: never reverted).
        let overlay = self.runtime.overlay_mut();
        overlay.set_balance(principal, balance - prepaid);
        overlay.bump_nonce(principal);

        // 6. max_spend (read-only, bounded), then 7. the payload.
        let input = encode_payload("max_spend", &body.payload);
        let budget = gas_left.min(MAX_SPEND_GAS_LIMIT);
        let result = self.read_only(principal, spawn.as_ref(), input, budget, "max_spend")?;
        gas.max_spend = result.gas_used(budget);
        gas_left -= gas.max_spend;
        match hook_output::<u64>(&result) {
            Ok(allowed) => {
                gas.payload = self.payload(tx, spawn.as_ref(), allowed, gas_left)?;
                gas_left -= gas.payload;
            }
            Err(e) => {
                self.receipt.output = result.output;
                self.receipt.status = TxStatus::Failed(Failure::MaxSpendFailed(e));
            }
        }

        // 8. Fee to the recipient, the rest of the prepayment back.
        let gas_used = body.gas_limit - gas_left;
        let fee = gas_used.saturating_mul(body.gas_price); // ≤ prepaid, which fits
        self.credit(principal, prepaid - fee)?;
        self.credit(block.fee_recipient, fee)?;
        debug_assert_eq!(gas.total(), gas_used);
        self.receipt.gas_used = gas_used;
        self.receipt.gas = gas;
        self.receipt.fee = fee;
        Ok(())
    }

    /// Checks the principal and template: `Some` for a valid self-spawn,
    /// `None` for a transaction of a spawned principal.
    fn classify<'t>(&self, tx: &'t Transaction) -> Result<Option<SelfSpawn<'t>>, Stop> {
        let body = &tx.body;
        let spawned = self.runtime.overlay().template_of(&body.principal).is_some();
        let result = match body.template {
            None if spawned => Ok(None),
            None => Err(Ineffective::NotSpawned),
            Some(_) if spawned => Err(Ineffective::AlreadySpawned),
            Some(template) => {
                if address_kind(&template) != AddressKind::Template || !self.runtime.overlay().has_template(&template) {
                    Err(Ineffective::UnknownTemplate(template))
                } else {
                    match body.payload.strip_prefix(&selector("spawn")) {
                        None => Err(Ineffective::NotASpawnPayload),
                        Some(state) => {
                            let derived = program_address(&template, state);
                            if derived == body.principal {
                                Ok(Some(SelfSpawn { template, state }))
                            } else {
                                Err(Ineffective::PrincipalMismatch { derived })
                            }
                        }
                    }
                }
            }
        };
        self.check_fault()?;
        result.map_err(Stop::from)
    }

    /// Calls `input` on the principal with `gas` and discards every state
    /// change it makes. For a self-spawn the principal is first made the
    /// would-be program (template and state), also discarded.
    fn read_only(
        &mut self,
        principal: Address,
        spawn: Option<&SelfSpawn<'_>>,
        input: Vec<u8>,
        gas: u64,
        stage: &'static str,
    ) -> Result<ExecutionResult, Stop> {
        let checkpoint = self.runtime.overlay_mut().checkpoint();
        if let Some(spawn) = spawn {
            self.runtime.overlay_mut().create_program(principal, spawn.template, spawn.state.to_vec());
        }
        let message = Message { recipient: principal, sender: principal, input, gas, ..Message::default() };
        let result = self.runtime.execute(message);
        self.runtime.overlay_mut().revert_to(checkpoint);
        self.check_internal(&result, stage)?;
        Ok(result)
    }

    /// Runs the payload with `gas` under a checkpoint, enforcing `allowed`
    /// (max_spend); records the status and output. Returns the gas used.
    fn payload(
        &mut self,
        tx: &Transaction,
        spawn: Option<&SelfSpawn<'_>>,
        allowed: u64,
        gas: u64,
    ) -> Result<u64, Stop> {
        let principal = tx.body.principal;
        let message = match spawn {
            Some(spawn) => Message {
                kind: MessageKind::Spawn,
                recipient: spawn.template,
                input: spawn.state.to_vec(),
                ..Message::default()
            },
            None => Message { recipient: principal, input: tx.body.payload.clone(), ..Message::default() },
        };
        let message = Message { sender: principal, gas, ..message };
        let before = self.runtime.overlay().balance(&principal);
        let checkpoint = self.runtime.overlay_mut().checkpoint();
        let result = self.runtime.execute(message);
        if let Err(e) = self.check_internal(&result, "payload") {
            self.runtime.overlay_mut().revert_to(checkpoint);
            return Err(e);
        }
        let gas_used = result.gas_used(gas);
        if !result.is_success() {
            // The frame reverted itself; close the outer checkpoint.
            self.runtime.overlay_mut().revert_to(checkpoint);
            self.receipt.status = TxStatus::Failed(Failure::Payload(result.status));
            self.receipt.output = result.output;
            return Ok(gas_used);
        }
        let spent = before.saturating_sub(self.runtime.overlay().balance(&principal));
        if spent > allowed {
            self.runtime.overlay_mut().revert_to(checkpoint);
            self.receipt.status = TxStatus::Failed(Failure::MaxSpendExceeded { spent, allowed });
            return Ok(gas_used);
        }
        self.runtime.overlay_mut().keep(checkpoint);
        self.receipt.status = TxStatus::Succeeded;
        self.receipt.output = result.output;
        Ok(gas_used)
    }

    /// Adds `amount` to the balance of `address` (outside any frame).
    fn credit(&mut self, address: Address, amount: u64) -> Result<(), Stop> {
        if amount == 0 {
            return Ok(());
        }
        let overlay = self.runtime.overlay_mut();
        // Cannot overflow while the total supply fits in a u64.
        let balance = overlay
            .balance(&address)
            .checked_add(amount)
            .ok_or_else(|| StateError::Corrupt(format!("balance of {address} overflows")))?;
        overlay.set_balance(address, balance);
        Ok(())
    }

    /// A backend fault seen by a read so far stops everything.
    fn check_fault(&self) -> Result<(), Stop> {
        match self.runtime.overlay().fault() {
            Some(fault) => Err(fault.into()),
            None => Ok(()),
        }
    }

    /// An internal status (or a backend fault) is not a consensus outcome.
    fn check_internal(&self, result: &ExecutionResult, stage: &'static str) -> Result<(), Stop> {
        self.check_fault()?;
        if result.status.is_internal() {
            return Err(ApplyError::Internal { stage, status: result.status }.into());
        }
        Ok(())
    }
}

/// The SCALE-decoded output of a successful `verify`/`max_spend` run
/// (every byte consumed).
fn hook_output<T: parity_scale_codec::Decode>(result: &ExecutionResult) -> Result<T, HookError> {
    if !result.is_success() {
        return Err(HookError::Status(result.status));
    }
    parity_scale_codec::DecodeAll::decode_all(&mut result.output.as_slice()).map_err(|_| HookError::Malformed)
}

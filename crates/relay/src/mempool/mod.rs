//! The relay's mempool: a pure, deterministic data structure.
//!
//! No I/O, no clock, no randomness: every decision depends only on the calls
//! made, so the admission, eviction and bundle-ordering rules can be unit
//! tested exhaustively and two relays fed the same calls make the same
//! bundles. The HTTP and executor plumbing lives in `crate::service`, which
//! feeds this structure the committed account state it fetched.
//!
//! Rules (also in `docs/relay.md`):
//! * **Nonces**: per principal, the pending transactions form a gap-free run
//!   starting at the committed nonce. A new transaction must either extend
//!   the run (`nonce == committed + pending`) or replace the pending one with
//!   the same nonce at a higher gas price (replace-by-fee, at least
//!   [`MempoolConfig::min_replacement_bump_percent`] more and never an
//!   already-bundled one).
//! * **Affordability** (local part): the principal's committed balance must
//!   cover the sum of `gas_limit × gas_price` of its whole pending run.
//! * **Caps**: [`MempoolConfig::max_per_account`] per principal,
//!   [`MempoolConfig::max_txs`] and [`MempoolConfig::max_bytes`] in total.
//!   When full, the cheapest tails of other principals' runs are evicted,
//!   but only for a strictly higher gas price.
//! * **Ordering**: bundles take the highest gas price first (then earliest
//!   arrival, then principal), always in nonce order within a principal.

#[cfg(any(test, feature = "test-hooks"))]
#[doc(hidden)]
pub mod model;
mod select;
#[cfg(test)]
mod tests;
mod types;
mod undo;

use std::collections::{BTreeMap, VecDeque};

use athena_interface::{Address, Bytes32};

use crate::error::AdmitError;
use types::Forgotten;
pub use types::{
    AccountState, AccountView, Admitted, Candidate, CheckKind, DropReason, MempoolConfig, PendingInfo, Plan, Stats,
    Verification,
};
pub use undo::Undone;
use undo::{Displaced, Undo};

/// A transaction id: `blake3` of its canonical encoding.
pub type TxId = Bytes32;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    id: TxId,
    principal: Address,
    nonce: u64,
    gas_price: u64,
    max_fee: u128,
    bytes: Vec<u8>,
    /// Arrival order; the tie-breaker after gas price.
    seq: u64,
    verification: Verification,
    /// Base-layer height and relay clock (ms) at the submission of the
    /// bundle that carries it.
    bundled_at: Option<(u64, u64)>,
    submissions: u32,
    /// Whether its admission stands: false from its insertion until the
    /// relay's durable write of it commits ([`Mempool::mark_recorded`]),
    /// while [`Mempool::hold_until_recorded`] is on. Until then it may
    /// still be undone, so nothing hands it out (see `select.rs`).
    recorded: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Account {
    state: AccountState,
    /// Pending transactions by nonce; contiguous nonces (no gaps), and a
    /// prefix of them may be bundled.
    queue: BTreeMap<u64, TxId>,
}

/// The mempool. See the module docs for its rules. Equality compares
/// everything, drop records and removal tracking included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mempool {
    config: MempoolConfig,
    entries: BTreeMap<TxId, Entry>,
    accounts: BTreeMap<Address, Account>,
    bytes: usize,
    next_seq: u64,
    dropped: BTreeMap<TxId, (u64, DropReason)>,
    dropped_order: VecDeque<(u64, TxId)>,
    /// Ids removed since the last [`Mempool::take_removed`], while
    /// [`Mempool::track_removals`] is on (the durable store follows them).
    removed: Option<Vec<TxId>>,
    /// Whether new entries start unrecorded ([`Mempool::hold_until_recorded`]).
    hold_unrecorded: bool,
}

/// `min` replacement price: `ceil(old × (100 + bump) / 100)`, at least
/// `old + 1`, saturating.
fn min_replacement_price(old: u64, bump_percent: u64) -> u64 {
    let bumped = (u128::from(old) * (100 + u128::from(bump_percent))).div_ceil(100);
    let min = bumped.max(u128::from(old) + 1);
    u64::try_from(min).unwrap_or(u64::MAX)
}

fn saturate(v: u128) -> u64 {
    u64::try_from(v).unwrap_or(u64::MAX)
}

impl Mempool {
    /// An empty pool.
    pub fn new(config: MempoolConfig) -> Self {
        Self {
            config,
            entries: BTreeMap::new(),
            accounts: BTreeMap::new(),
            bytes: 0,
            next_seq: 0,
            dropped: BTreeMap::new(),
            dropped_order: VecDeque::new(),
            removed: None,
            hold_unrecorded: false,
        }
    }

    /// Record the id of every transaction that leaves the pool, for
    /// [`Mempool::take_removed`] (the relay's durable store deletes them).
    /// Off by default so a pool without a store does not accumulate ids.
    pub fn track_removals(&mut self) {
        self.removed.get_or_insert_with(Vec::new);
    }

    /// The ids removed since the last call, in removal order (empty unless
    /// [`Mempool::track_removals`] is on).
    pub fn take_removed(&mut self) -> Vec<TxId> {
        self.removed.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Gives back ids taken by [`Mempool::take_removed`] that could not be
    /// acted on (a failed store write), ahead of those removed since, so
    /// the next take retries them in removal order.
    pub fn untake_removed(&mut self, mut ids: Vec<TxId>) {
        if let Some(removed) = &mut self.removed {
            ids.append(removed);
            *removed = ids;
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &MempoolConfig {
        &self.config
    }

    /// Whether `id` is pending.
    pub fn contains(&self, id: &TxId) -> bool {
        self.entries.contains_key(id)
    }

    /// Whether `id` is pending and its admission stands (its durable write
    /// committed, see [`Mempool::hold_until_recorded`]): a duplicate of it
    /// can be refused outright, while one whose write is in flight must
    /// share that write's fate.
    pub fn contains_recorded(&self, id: &TxId) -> bool {
        self.entries.get(id).is_some_and(|e| e.recorded)
    }

    /// The committed state the pool uses for `principal`: the fresher (by
    /// nonce, which only grows) of what it knows and `fresh`.
    fn effective_state(&self, principal: &Address, fresh: AccountState) -> AccountState {
        match self.accounts.get(principal) {
            Some(acc) if acc.state.nonce > fresh.nonce => acc.state,
            _ => fresh,
        }
    }

    /// The principal's pending entries with consecutive nonces `base,
    /// base + 1, ...`, in nonce order (empty if `base` itself is not
    /// pending).
    fn run_from(&self, principal: &Address, base: u64) -> Vec<&Entry> {
        let Some(acc) = self.accounts.get(principal) else {
            return Vec::new();
        };
        acc.queue
            .range(base..)
            .zip(base..)
            .take_while(|((nonce, _), expected)| *nonce == expected)
            .filter_map(|((_, id), _)| self.entries.get(id))
            .collect()
    }

    /// Decide whether `cand` may be admitted given the principal's committed
    /// state `fresh`, without changing anything. Every rule except the
    /// executor's dry run is checked here.
    pub fn plan(&self, cand: &Candidate, fresh: AccountState) -> Result<Plan, AdmitError> {
        if self.entries.contains_key(&cand.id) {
            return Err(AdmitError::Duplicate(hex::encode(cand.id.0)));
        }
        let state = self.effective_state(&cand.principal, fresh);
        if cand.nonce < state.nonce {
            return Err(AdmitError::NonceTooLow { expected: state.nonce, got: cand.nonce });
        }
        let run = self.run_from(&cand.principal, state.nonce);
        let next = state.nonce.saturating_add(run.len() as u64);
        if cand.nonce > next {
            return Err(AdmitError::NonceGap { expected: next, got: cand.nonce });
        }
        let replaced = run.iter().find(|e| e.nonce == cand.nonce).copied();
        // A new transaction at `next` joins what follows it: a stranded run
        // (its head included without using its nonce, before the next sync)
        // becomes this run's tail, so it counts for the cap and the fees.
        let joined = match (replaced, next.checked_add(1)) {
            (None, Some(after)) => self.run_from(&cand.principal, after),
            _ => Vec::new(),
        };
        // What stays cut off even so (a stranded run more than one nonce
        // ahead) can never execute: it goes with the admission, as
        // `sync_account` would drop it, so runs stay gap-free. Tail first,
        // like evictions, so an undo puts it back in order.
        let cut_off = next.saturating_add(1).saturating_add(joined.len() as u64);
        let orphaned: Vec<&Entry> = match self.accounts.get(&cand.principal) {
            Some(acc) => acc.queue.range(cut_off..).rev().filter_map(|(_, id)| self.entries.get(id)).collect(),
            None => Vec::new(),
        };
        if let Some(old) = replaced {
            if old.bundled_at.is_some() {
                return Err(AdmitError::AlreadyBundled { nonce: old.nonce });
            }
            let min = min_replacement_price(old.gas_price, self.config.min_replacement_bump_percent);
            if cand.gas_price < min {
                return Err(AdmitError::Underpriced { min, got: cand.gas_price });
            }
        } else if run.len() + joined.len() >= self.config.max_per_account {
            return Err(AdmitError::AccountFull { max: self.config.max_per_account });
        }

        // Fees of the whole run after admission must be covered.
        let reserved: u128 = run.iter().filter(|e| e.nonce < cand.nonce).map(|e| e.max_fee).sum();
        let later: u128 = run.iter().chain(&joined).filter(|e| e.nonce > cand.nonce).map(|e| e.max_fee).sum();
        let needed = reserved + cand.max_fee + later;
        if needed > u128::from(state.balance) {
            return Err(AdmitError::CannotPay(format!(
                "balance {} cannot prepay {needed}: this transaction's max fee {} plus {} for the {} other pending \
                 transactions of the principal",
                state.balance,
                cand.max_fee,
                reserved + later,
                run.len() + joined.len() - usize::from(replaced.is_some()),
            )));
        }
        let check = if cand.nonce == state.nonce {
            CheckKind::Head
        } else {
            CheckKind::Chained { assume_nonce: cand.nonce, reserved: saturate(reserved) }
        };

        // Capacity after pruning the principal's stale entries, the
        // replaced one and the cut-off ones.
        let (mut count, mut bytes) = (self.entries.len(), self.bytes);
        if let Some(acc) = self.accounts.get(&cand.principal) {
            for id in acc.queue.range(..state.nonce).map(|(_, id)| id) {
                if let Some(e) = self.entries.get(id) {
                    count -= 1;
                    bytes -= e.bytes.len();
                }
            }
        }
        for old in replaced.iter().chain(&orphaned) {
            count -= 1;
            bytes -= old.bytes.len();
        }
        count += 1;
        bytes += cand.bytes.len();
        let evict = if count > self.config.max_txs || bytes > self.config.max_bytes {
            self.choose_victims(cand, count, bytes)?
        } else {
            Vec::new()
        };
        Ok(Plan { replaces: replaced.map(|e| e.id), evict, orphaned: orphaned.iter().map(|e| e.id).collect(), check })
    }

    /// Pick the transactions to evict so the pool fits again with `cand`:
    /// repeatedly the cheapest (lowest gas price, then latest arrival) tail of
    /// another principal's run that is not bundled, as long as it pays
    /// strictly less than `cand`. Tails only, so no run gets a gap.
    fn choose_victims(&self, cand: &Candidate, mut count: usize, mut bytes: usize) -> Result<Vec<TxId>, AdmitError> {
        let full = |count: usize, bytes: usize| count > self.config.max_txs || bytes > self.config.max_bytes;
        let mut remaining: BTreeMap<&Address, Vec<&Entry>> = self
            .accounts
            .iter()
            .filter(|(p, _)| **p != cand.principal)
            .map(|(p, acc)| (p, acc.queue.values().filter_map(|id| self.entries.get(id)).collect()))
            .collect();
        let mut victims = Vec::new();
        while full(count, bytes) {
            let cheapest = remaining
                .iter()
                .filter_map(|(p, run)| run.last().map(|e| (*p, *e)))
                .filter(|(_, e)| e.bundled_at.is_none())
                .min_by_key(|(_, e)| (e.gas_price, std::cmp::Reverse(e.seq)));
            let Some((principal, victim)) = cheapest.filter(|(_, e)| e.gas_price < cand.gas_price) else {
                return Err(AdmitError::MempoolFull(format!(
                    "{} transactions / {} bytes pending (limits {} / {}); no pending transaction pays less than gas \
                     price {}",
                    self.entries.len(),
                    self.bytes,
                    self.config.max_txs,
                    self.config.max_bytes,
                    cand.gas_price
                )));
            };
            victims.push(victim.id);
            count -= 1;
            bytes -= victim.bytes.len();
            if let Some(run) = remaining.get_mut(principal) {
                run.pop();
            }
        }
        Ok(victims)
    }

    /// Admit `cand` (after the executor's check classified it as
    /// `verification`). Re-plans against the current pool, since it may have
    /// changed while the executor was asked, then replaces/evicts as planned.
    pub fn insert(
        &mut self,
        cand: Candidate,
        fresh: AccountState,
        verification: Verification,
    ) -> Result<Admitted, AdmitError> {
        let plan = self.plan(&cand, fresh)?;
        let expected = self.effective_state(&cand.principal, fresh).nonce;
        let mut stale: Vec<TxId> = self.observe(&cand.principal, fresh).into_iter().map(|(id, _)| id).collect();
        stale.extend(&plan.orphaned);
        let seq_before = self.next_seq;
        let mut displaced = Vec::new();
        let removals = plan
            .replaces
            .iter()
            .map(|old| (old, DropReason::Replaced { by: cand.id }))
            .chain(plan.evict.iter().map(|victim| (victim, DropReason::Evicted { by: cand.id })))
            .chain(plan.orphaned.iter().map(|cut| (cut, DropReason::NonceGap { expected })));
        for (id, reason) in removals {
            let Some(entry) = self.entries.get(id) else { continue };
            let acc = self.accounts.get(&entry.principal);
            let state = acc.map(|acc| acc.state).unwrap_or_default();
            let first = acc.and_then(|acc| acc.queue.keys().next()) == Some(&entry.nonce);
            if let Some((entry, pushed_out)) = self.remove(id, Some(reason)) {
                displaced.push(Displaced { entry, state, first, pushed_out });
            }
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.bytes += cand.bytes.len();
        let acc = self.accounts.entry(cand.principal).or_default();
        if fresh.nonce >= acc.state.nonce {
            acc.state = fresh;
        }
        let joined = plan.replaces.is_none() && acc.queue.contains_key(&cand.nonce.saturating_add(1));
        acc.queue.insert(cand.nonce, cand.id);
        let forgotten = self.dropped.remove(&cand.id);
        self.entries.insert(
            cand.id,
            Entry {
                id: cand.id,
                principal: cand.principal,
                nonce: cand.nonce,
                gas_price: cand.gas_price,
                max_fee: cand.max_fee,
                bytes: cand.bytes,
                seq,
                verification,
                bundled_at: None,
                submissions: 0,
                recorded: !self.hold_unrecorded,
            },
        );
        let undo = Undo { displaced, forgotten, joined, seq_before, seq_after: self.next_seq };
        Ok(Admitted { id: cand.id, replaced: plan.replaces, evicted: plan.evict, stale, undo })
    }

    /// Record a fresher committed state for `principal` and drop its entries
    /// whose nonce is now used.
    fn observe(&mut self, principal: &Address, fresh: AccountState) -> Vec<(TxId, DropReason)> {
        let Some(acc) = self.accounts.get_mut(principal) else {
            return Vec::new();
        };
        if fresh.nonce >= acc.state.nonce {
            acc.state = fresh;
        }
        let committed_nonce = acc.state.nonce;
        let stale: Vec<TxId> = acc.queue.range(..committed_nonce).map(|(_, id)| *id).collect();
        let reason = DropReason::Stale { committed_nonce };
        for id in &stale {
            self.remove(id, Some(reason.clone()));
        }
        stale.into_iter().map(|id| (id, reason.clone())).collect()
    }

    /// Bring a principal's run in line with its committed state (after a
    /// block): drop used nonces, drop the whole run if the account's next
    /// nonce is not pending (it can never execute), and drop the tail its
    /// balance no longer covers.
    pub fn sync_account(&mut self, principal: &Address, fresh: AccountState) -> Vec<(TxId, DropReason)> {
        let mut dropped = self.observe(principal, fresh);
        let Some(acc) = self.accounts.get(principal) else {
            return dropped;
        };
        let state = acc.state;
        if let Some((&first, &id)) = acc.queue.first_key_value() {
            if first != state.nonce {
                dropped.extend(self.drop_run(&id, DropReason::NonceGap { expected: state.nonce }));
                return dropped;
            }
        }
        let run: Vec<(TxId, u128)> = self.run_from(principal, state.nonce).iter().map(|e| (e.id, e.max_fee)).collect();
        let mut needed = 0u128;
        for (id, fee) in run {
            needed += fee;
            if needed > u128::from(state.balance) {
                dropped.extend(self.drop_run(&id, DropReason::Unaffordable { balance: state.balance, needed }));
                break;
            }
        }
        dropped
    }

    /// Deferred transactions that are now their principal's head (nonce ==
    /// the known committed nonce): each needs the executor's full dry run
    /// before it can be bundled. Recorded ones only: an unrecorded one is
    /// checked once its admission stands.
    pub fn deferred_heads(&self) -> Vec<TxId> {
        self.accounts
            .values()
            .filter_map(|acc| acc.queue.get(&acc.state.nonce))
            .filter_map(|id| self.entries.get(id))
            .filter(|e| e.verification == Verification::Deferred && e.recorded)
            .map(|e| e.id)
            .collect()
    }

    /// Drop `id` with `reason` and every later transaction of its principal
    /// (which would otherwise wait forever behind a nonce gap).
    pub fn drop_run(&mut self, id: &TxId, reason: DropReason) -> Vec<(TxId, DropReason)> {
        let Some(entry) = self.entries.get(id) else {
            return Vec::new();
        };
        let (principal, nonce) = (entry.principal, entry.nonce);
        let later: Vec<TxId> = self
            .accounts
            .get(&principal)
            .map(|acc| acc.queue.range(nonce + 1..).map(|(_, id)| *id).collect())
            .unwrap_or_default();
        let mut out = vec![(*id, reason)];
        out.extend(later.into_iter().map(|id| (id, DropReason::PredecessorDropped { nonce })));
        for (id, reason) in &out {
            self.remove(id, Some(reason.clone()));
        }
        out
    }

    /// The transaction was included in a block (the executor has its
    /// receipt): forget it, not as dropped. The principal's nonce is left to
    /// [`Mempool::sync_account`]: an included transaction may have been
    /// ineffective and not used its nonce.
    pub fn mark_included(&mut self, id: &TxId) -> bool {
        self.remove(id, None).is_some()
    }

    /// The executor's dry run accepted a deferred transaction.
    pub fn mark_verified(&mut self, id: &TxId) {
        if let Some(e) = self.entries.get_mut(id) {
            e.verification = Verification::Verified;
        }
    }

    /// Remove `id` for good: listed for the store, and remembered as
    /// dropped with `reason` (none: included). Also returns the drop record
    /// this pushed out of the bounded memory.
    fn remove(&mut self, id: &TxId, reason: Option<DropReason>) -> Option<(Entry, Option<Forgotten>)> {
        let entry = self.unlink(id)?;
        if let Some(removed) = &mut self.removed {
            removed.push(*id);
        }
        let pushed_out = reason.and_then(|reason| self.remember_dropped(*id, reason));
        Some((entry, pushed_out))
    }

    /// Take `id` out of the entries, byte count and its principal's run
    /// (the account record goes with its last transaction); nothing else.
    fn unlink(&mut self, id: &TxId) -> Option<Entry> {
        let entry = self.entries.remove(id)?;
        self.bytes -= entry.bytes.len();
        if let Some(acc) = self.accounts.get_mut(&entry.principal) {
            if acc.queue.get(&entry.nonce) == Some(id) {
                acc.queue.remove(&entry.nonce);
            }
            if acc.queue.is_empty() {
                self.accounts.remove(&entry.principal);
            }
        }
        Some(entry)
    }

    /// Remember why `id` was dropped; returns the oldest record if the
    /// memory was full (at most one: the memory never exceeds its bound).
    fn remember_dropped(&mut self, id: TxId, reason: DropReason) -> Option<Forgotten> {
        if self.config.remember_dropped == 0 {
            return None;
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.dropped.insert(id, (seq, reason));
        self.dropped_order.push_back((seq, id));
        let mut pushed_out = None;
        while self.dropped_order.len() > self.config.remember_dropped {
            if let Some((old_seq, old)) = self.dropped_order.pop_front() {
                let record = match self.dropped.get(&old) {
                    Some((s, _)) if *s == old_seq => self.dropped.remove(&old),
                    _ => None,
                };
                pushed_out = Some(((old_seq, old), record));
            }
        }
        pushed_out
    }

    /// Why `id` was dropped, if it was recently.
    pub fn dropped_reason(&self, id: &TxId) -> Option<&DropReason> {
        self.dropped.get(id).map(|(_, r)| r)
    }

    /// Status of a pending transaction; none for one not recorded yet
    /// (its admission may still be undone, so it is not reported pending).
    pub fn get(&self, id: &TxId) -> Option<PendingInfo> {
        self.entries.get(id).filter(|e| e.recorded).map(|e| PendingInfo {
            principal: e.principal,
            nonce: e.nonce,
            gas_price: e.gas_price,
            size: e.bytes.len(),
            verified: e.verification == Verification::Verified,
            bundled: e.bundled_at.is_some(),
            submissions: e.submissions,
        })
    }

    /// The principal's next nonce and recorded pending transactions, given
    /// its committed state `fresh` (from the executor). Unrecorded ones (a
    /// durable write in flight) are left out, as [`Mempool::get`] leaves
    /// them out: their admission may still be undone, and a wallet that
    /// chained on one would leave a gap.
    pub fn account_view(&self, principal: &Address, fresh: AccountState) -> AccountView {
        let committed = self.effective_state(principal, fresh);
        let run = self.run_from(principal, committed.nonce).iter().take_while(|e| e.recorded).count();
        let pending = self
            .accounts
            .get(principal)
            .map(|acc| acc.queue.values().filter_map(|id| Some((*id, self.get(id)?))).collect())
            .unwrap_or_default();
        AccountView { committed, next_nonce: committed.nonce.saturating_add(run as u64), pending }
    }

    /// Principals with pending transactions, in address order.
    pub fn principals(&self) -> Vec<Address> {
        self.accounts.keys().copied().collect()
    }

    /// Ids of transactions in submitted bundles, in id order.
    pub fn bundled_ids(&self) -> Vec<TxId> {
        self.entries.values().filter(|e| e.bundled_at.is_some()).map(|e| e.id).collect()
    }

    /// Every pending transaction's bytes in arrival order (for persistence:
    /// re-admitting them in this order rebuilds the runs).
    pub fn snapshot(&self) -> Vec<Vec<u8>> {
        let mut all: Vec<&Entry> = self.entries.values().collect();
        all.sort_by_key(|e| e.seq);
        all.into_iter().map(|e| e.bytes.clone()).collect()
    }

    /// Size counters.
    pub fn stats(&self) -> Stats {
        Stats {
            txs: self.entries.len(),
            bytes: self.bytes,
            accounts: self.accounts.len(),
            bundled: self.entries.values().filter(|e| e.bundled_at.is_some()).count(),
            deferred: self.entries.values().filter(|e| e.verification == Verification::Deferred).count(),
        }
    }
}

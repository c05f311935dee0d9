//! Taking back an admission the relay could not record durably: the pool
//! goes back to what it was, the transactions it displaced included.

use super::{Account, AccountState, Admitted, DropReason, Entry, Forgotten, Mempool, TxId};

/// The state an admission overwrote: the displaced (replaced and evicted)
/// entries as they were, the admitted id's earlier drop record, and the
/// arrival counter before the displacement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Undo {
    /// Displaced entries, in removal order.
    pub(super) displaced: Vec<Displaced>,
    /// The admitted id's drop record that the admission forgot (a wallet
    /// re-sending a dropped transaction).
    pub(super) forgotten: Option<(u64, DropReason)>,
    /// Whether the admission filled the hole in front of a stranded run
    /// (see [`Mempool::plan`]): that run was there before and stays.
    pub(super) joined: bool,
    /// [`Mempool::next_seq`] before the displaced entries' drop records and
    /// the admitted entry took numbers from it...
    pub(super) seq_before: u64,
    /// ... and after.
    pub(super) seq_after: u64,
}

/// An entry an admission removed, with what restoring it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Displaced {
    pub(super) entry: Entry,
    /// Its principal's committed state at the removal (the account record
    /// goes with its last pending transaction).
    pub(super) state: AccountState,
    /// Whether it was its principal's lowest pending nonce: usually the
    /// committed one, but above it in a stranded run (its head included
    /// without a sync yet). Such an entry may come back as its principal's
    /// only one; any other needs its predecessor back first.
    pub(super) first: bool,
    /// The drop record its own record pushed out of the bounded memory.
    pub(super) pushed_out: Option<Forgotten>,
}

/// What [`Mempool::undo_admission`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Undone {
    /// Displaced transactions put back as they were (still recorded
    /// durably: nothing may delete their rows).
    pub restored: Vec<TxId>,
    /// Transactions dropped because they were chained on the undone one
    /// (their rows, if any, are deleted with the other removals).
    pub dropped: Vec<(TxId, DropReason)>,
}

impl Mempool {
    /// Take back an admission that cannot stand (the relay could not record
    /// it durably, so it was never accepted): the admitted transaction
    /// leaves without a trace (not dropped, not a removal to delete: it was
    /// never recorded) and every transaction it replaced or evicted comes
    /// back exactly as it was (arrival order, verification, submissions,
    /// no drop record) and is taken off the removal list, since its row is
    /// still in the store. If nothing else touched the pool in between, the
    /// pool equals what it was before [`Mempool::insert`], except what the
    /// admission learnt from the executor: the principal's fresher
    /// committed state and the stale transactions it dropped stay.
    ///
    /// If the pool moved on meanwhile, what still fits comes back: a
    /// displaced transaction returns only to a free nonce slot that extends
    /// its principal's run and only within the pool's caps (otherwise it
    /// stays dropped and its removal stays listed), and transactions
    /// chained on the undone one that no restored transaction precedes are
    /// dropped with it (unless the admission filled the hole in front of a
    /// stranded run: that run was pending before and stays as it was).
    pub fn undo_admission(&mut self, admitted: Admitted) -> Undone {
        let Admitted { id, undo, .. } = admitted;
        let mut out = Undone::default();
        let slot = self.unlink(&id).map(|entry| (entry.principal, entry.nonce));
        if let Some(record) = undo.forgotten {
            // Unless its slot in the bounded memory was reused meanwhile.
            if self.dropped_order.binary_search(&(record.0, id)).is_ok()
                && !self.dropped.contains_key(&id)
                && !self.entries.contains_key(&id)
            {
                self.dropped.insert(id, record);
            }
        }
        // Newest first, so the drop records unwind in order.
        for d in undo.displaced.into_iter().rev() {
            let back = d.entry.id;
            if self.restore(d) {
                out.restored.push(back);
            }
        }
        out.restored.reverse();
        // Decided after the restores: the replaced transaction refills the
        // slot only if it actually came back (its slot or the room for it
        // may be gone).
        if let Some((principal, nonce)) = slot.filter(|_| !undo.joined) {
            let slot_taken =
                |pool: &Self, n: u64| pool.accounts.get(&principal).and_then(|acc| acc.queue.get(&n).copied());
            if slot_taken(self, nonce).is_none() {
                if let Some(next) = nonce.checked_add(1).and_then(|n| slot_taken(self, n)) {
                    out.dropped = self.drop_run(&next, DropReason::PredecessorDropped { nonce });
                }
            }
        }
        // Wound back only if nothing took a number since and no drop record
        // numbered by the admission stayed (one that could not be restored).
        let kept = self.dropped_order.back().is_some_and(|(seq, _)| *seq >= undo.seq_before);
        if self.next_seq == undo.seq_after && !kept {
            self.next_seq = undo.seq_before;
        }
        out
    }

    /// Put a displaced entry back if its slot is free and extends its
    /// principal's run, and the pool's caps leave room for it (others may
    /// have taken the room it left); see [`Mempool::undo_admission`].
    fn restore(&mut self, d: Displaced) -> bool {
        let Displaced { entry, state, first, pushed_out } = d;
        if self.entries.contains_key(&entry.id)
            || self.entries.len() >= self.config.max_txs
            || self.bytes + entry.bytes.len() > self.config.max_bytes
        {
            return false;
        }
        let fits = match self.accounts.get(&entry.principal) {
            Some(acc) => {
                acc.queue.len() < self.config.max_per_account
                    && !acc.queue.contains_key(&entry.nonce)
                    && entry.nonce >= acc.state.nonce
                    && (entry.nonce == acc.state.nonce || acc.queue.contains_key(&(entry.nonce - 1)))
            }
            None => first || entry.nonce == state.nonce,
        };
        if !fits {
            return false;
        }
        // Its drop record goes; if it is still the newest, the one it
        // pushed out of the bounded memory comes back.
        let newest = self.dropped.get(&entry.id).map(|(seq, _)| (*seq, entry.id));
        self.dropped.remove(&entry.id);
        if newest.is_some() && self.dropped_order.back() == newest.as_ref() {
            self.dropped_order.pop_back();
            if let Some((slot, record)) = pushed_out {
                self.dropped_order.push_front(slot);
                // Not if its transaction is pending again (an earlier undo
                // restored it) or was dropped again since (a newer record).
                let (_, other) = slot;
                if let Some(record) = record.filter(|_| !self.entries.contains_key(&other)) {
                    self.dropped.entry(other).or_insert(record);
                }
            }
        }
        if let Some(removed) = &mut self.removed {
            if let Some(at) = removed.iter().rposition(|id| *id == entry.id) {
                removed.remove(at);
            }
        }
        self.bytes += entry.bytes.len();
        let acc = self.accounts.entry(entry.principal).or_insert_with(|| Account { state, ..Default::default() });
        acc.queue.insert(entry.nonce, entry.id);
        self.entries.insert(entry.id, entry);
        true
    }
}

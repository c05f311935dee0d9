//! Bundle selection and the submission life cycle (bundled → included, or
//! resubmitted, or expired).
//!
//! Only **recorded** transactions are selected: with
//! [`Mempool::hold_until_recorded`] on, an admitted transaction waits for
//! the relay's durable write of it ([`Mempool::mark_recorded`]), since a
//! failed write undoes the admission and an undone transaction must never
//! have gone out in a bundle. A principal's run stops at its first
//! unrecorded transaction, so nonce order holds.

use std::cmp::Reverse;
use std::collections::BTreeSet;

use athena_interface::Address;

use super::{DropReason, Entry, Mempool, TxId, Verification};

/// What [`Mempool::on_height`] did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HeightOutcome {
    /// Bundled transactions made eligible for bundling again.
    pub resubmit: Vec<TxId>,
    /// Transactions dropped after too many submissions (and their
    /// successors).
    pub expired: Vec<(TxId, DropReason)>,
}

impl Mempool {
    /// The principal's entries still to be bundled, in nonce order: the run
    /// after its bundled prefix, up to (excluding) the first deferred or
    /// unrecorded one.
    fn unbundled_ready(&self, principal: &Address) -> Vec<&Entry> {
        let Some(acc) = self.accounts.get(principal) else {
            return Vec::new();
        };
        self.run_from(principal, acc.state.nonce)
            .into_iter()
            .skip_while(|e| e.bundled_at.is_some())
            .take_while(|e| e.bundled_at.is_none() && e.recorded && e.verification == Verification::Verified)
            .collect()
    }

    /// From now on, admitted transactions start unrecorded: invisible to
    /// bundle selection, [`Mempool::ready_bytes`], status queries
    /// ([`Mempool::get`]) and deferred rechecks until
    /// [`Mempool::mark_recorded`]. For a relay with a durable store, whose
    /// admission stands only once its write commits (until then it may be
    /// undone with [`Mempool::undo_admission`]). Off by default: without a
    /// store an admission stands at once.
    pub fn hold_until_recorded(&mut self) {
        self.hold_unrecorded = true;
    }

    /// The durable write of `ids` committed: their admissions stand, and
    /// they may be bundled (ids no longer pending are skipped).
    pub fn mark_recorded(&mut self, ids: &[TxId]) {
        for id in ids {
            if let Some(e) = self.entries.get_mut(id) {
                e.recorded = true;
            }
        }
    }

    /// The next bundle, in order: repeatedly the best head among all
    /// principals — highest gas price, then earliest arrival, then lowest
    /// principal address — where a principal's head is its next unbundled
    /// verified, recorded transaction (none past an unrecorded one), so
    /// each principal's transactions stay in nonce order. Stops at [`super::MempoolConfig::max_bundle_txs`]; a
    /// transaction that would exceed [`super::MempoolConfig::max_bundle_bytes`]
    /// is left (with its principal's later ones) for the next bundle.
    /// Pure: call [`Mempool::mark_bundled`] once the bundle is submitted.
    pub fn select_bundle(&self) -> Vec<TxId> {
        let runs: Vec<Vec<&Entry>> =
            self.accounts.keys().map(|p| self.unbundled_ready(p)).filter(|r| !r.is_empty()).collect();
        // (price desc, arrival, principal) → (run index, position in run).
        let mut heads: BTreeSet<(Reverse<u64>, u64, Address, usize, usize)> =
            runs.iter().enumerate().map(|(i, r)| (Reverse(r[0].gas_price), r[0].seq, r[0].principal, i, 0)).collect();
        let (mut out, mut bytes) = (Vec::new(), 0usize);
        while out.len() < self.config.max_bundle_txs {
            let Some((_, _, _, run, pos)) = heads.pop_first() else {
                break;
            };
            let e = runs[run][pos];
            if bytes + e.bytes.len() > self.config.max_bundle_bytes {
                continue;
            }
            bytes += e.bytes.len();
            out.push(e.id);
            if let Some(next) = runs[run].get(pos + 1) {
                heads.insert((Reverse(next.gas_price), next.seq, next.principal, run, pos + 1));
            }
        }
        out
    }

    /// Bytes of transactions [`Mempool::select_bundle`] could take now
    /// (ignoring bundle limits); lets the relay bundle early once enough is
    /// waiting.
    pub fn ready_bytes(&self) -> usize {
        self.accounts.keys().flat_map(|p| self.unbundled_ready(p)).map(|e| e.bytes.len()).sum()
    }

    /// The bytes of the given pending transactions, in the given order
    /// (missing ids are skipped).
    pub fn bytes_of(&self, ids: &[TxId]) -> Vec<Vec<u8>> {
        ids.iter().filter_map(|id| self.entries.get(id)).map(|e| e.bytes.clone()).collect()
    }

    /// Record that `ids` went out in a bundle when the base layer was at
    /// `height` and the relay's clock at `now_ms`.
    pub fn mark_bundled(&mut self, ids: &[TxId], height: u64, now_ms: u64) {
        for id in ids {
            if let Some(e) = self.entries.get_mut(id) {
                e.bundled_at = Some((height, now_ms));
                e.submissions += 1;
            }
        }
    }

    /// The submission of a bundle marked with [`Mempool::mark_bundled`]
    /// failed: make its transactions eligible again, uncounted.
    pub fn unmark_bundled(&mut self, ids: &[TxId]) {
        for id in ids {
            if let Some(e) = self.entries.get_mut(id) {
                if e.bundled_at.take().is_some() {
                    e.submissions = e.submissions.saturating_sub(1);
                }
            }
        }
    }

    /// The executor is at `height` and the relay's clock at `now_ms` (call
    /// after inclusions were removed with [`Mempool::mark_included`]). A
    /// principal whose first bundled transaction went out at base-layer
    /// height `h` and clock `t` and is still pending once
    /// `height >= h + resubmit_after_blocks` or
    /// `now_ms >= t + resubmit_after_ms` gets its bundled transactions
    /// bundled again — or, after `max_submissions` submissions, dropped as
    /// expired with its whole run.
    pub fn on_height(&mut self, height: u64, now_ms: u64) -> HeightOutcome {
        let mut out = HeightOutcome::default();
        let principals: Vec<Address> = self.accounts.keys().copied().collect();
        for principal in principals {
            let bundled: Vec<(TxId, (u64, u64), u32)> = self
                .accounts
                .get(&principal)
                .map(|acc| {
                    acc.queue
                        .values()
                        .filter_map(|id| self.entries.get(id))
                        .filter_map(|e| e.bundled_at.map(|h| (e.id, h, e.submissions)))
                        .collect()
                })
                .unwrap_or_default();
            let Some(&(first, (at, at_ms), submissions)) = bundled.first() else {
                continue;
            };
            let by_height = height >= at.saturating_add(self.config.resubmit_after_blocks);
            let by_time = now_ms >= at_ms.saturating_add(self.config.resubmit_after_ms);
            if !by_height && !by_time {
                continue;
            }
            if submissions >= self.config.max_submissions {
                out.expired.extend(self.drop_run(&first, DropReason::Expired { submissions }));
                continue;
            }
            for (id, _, _) in bundled {
                if let Some(e) = self.entries.get_mut(&id) {
                    e.bundled_at = None;
                }
                out.resubmit.push(id);
            }
        }
        out
    }
}

use athena_transaction::UnsignedTransaction;

use super::select::HeightOutcome;
use super::*;

fn addr(n: u8) -> Address {
    let mut a = [0u8; 24];
    a[23] = n;
    Address(a)
}

/// A transaction of principal `p` with gas limit 100 (so max fee = 100 ×
/// price); `tag` varies the authenticator so equal fields still differ.
fn tx(p: u8, nonce: u64, price: u64, tag: u8) -> Candidate {
    tx_sized(p, nonce, price, tag, 8)
}

fn tx_sized(p: u8, nonce: u64, price: u64, tag: u8, payload: usize) -> Candidate {
    let body = UnsignedTransaction {
        principal: addr(p),
        template: None,
        nonce,
        gas_limit: 100,
        gas_price: price,
        payload: vec![7; payload],
    };
    Candidate::decode(body.with_authenticator(vec![tag; 64]).encode()).unwrap()
}

const RICH: AccountState = AccountState { nonce: 0, balance: u64::MAX };

fn at(nonce: u64) -> AccountState {
    AccountState { nonce, balance: u64::MAX }
}

fn pool() -> Mempool {
    Mempool::new(MempoolConfig::default())
}

fn admit(pool: &mut Mempool, c: &Candidate, state: AccountState) -> Result<Admitted, AdmitError> {
    pool.insert(c.clone(), state, Verification::Verified)
}

#[test]
fn decode_reports_size_and_fields() {
    let c = tx(1, 3, 9, 0);
    assert_eq!((c.principal, c.nonce, c.gas_price, c.max_fee), (addr(1), 3, 9, 900));
    assert_eq!(c.id, athena_transaction::decode(&c.bytes).unwrap().id());
    assert_eq!(Candidate::decode(vec![1, 2, 3]).unwrap_err().code(), "malformed");
    assert_eq!(Candidate::decode(vec![0; 70_000]).unwrap_err().code(), "oversized");
}

#[test]
fn nonce_rules() {
    let mut p = pool();
    // Below the committed nonce: a replay.
    assert_eq!(admit(&mut p, &tx(1, 4, 1, 0), at(5)), Err(AdmitError::NonceTooLow { expected: 5, got: 4 }));
    // Ahead with nothing pending: a gap.
    assert_eq!(admit(&mut p, &tx(1, 6, 1, 0), at(5)), Err(AdmitError::NonceGap { expected: 5, got: 6 }));
    admit(&mut p, &tx(1, 5, 1, 0), at(5)).unwrap();
    admit(&mut p, &tx(1, 6, 1, 0), at(5)).unwrap();
    assert_eq!(admit(&mut p, &tx(1, 8, 1, 0), at(5)), Err(AdmitError::NonceGap { expected: 7, got: 8 }));
    // The same bytes again.
    assert_eq!(admit(&mut p, &tx(1, 6, 1, 0), at(5)).unwrap_err().code(), "duplicate");
    // A stale view of the account (lower nonce) does not undo a fresher one.
    assert_eq!(admit(&mut p, &tx(1, 7, 1, 0), at(3)).map(|a| a.stale), Ok(vec![]));
    assert_eq!(p.stats().txs, 3);
}

#[test]
fn check_kind_head_and_chained_with_reserved_fees() {
    let mut p = pool();
    let head = tx(1, 0, 2, 0);
    assert_eq!(p.plan(&head, RICH).unwrap().check, CheckKind::Head);
    admit(&mut p, &head, RICH).unwrap();
    admit(&mut p, &tx(1, 1, 3, 0), RICH).unwrap();
    let third = tx(1, 2, 1, 0);
    assert_eq!(p.plan(&third, RICH).unwrap().check, CheckKind::Chained { assume_nonce: 2, reserved: 500 });
    // Replacing the head is a head check again.
    assert_eq!(p.plan(&tx(1, 0, 5, 1), RICH).unwrap().check, CheckKind::Head);
}

#[test]
fn replace_by_fee() {
    let mut p = pool();
    let old = tx(1, 0, 100, 0);
    admit(&mut p, &old, RICH).unwrap();
    admit(&mut p, &tx(1, 1, 100, 0), RICH).unwrap();
    // Same price, and +9%: not enough.
    assert_eq!(admit(&mut p, &tx(1, 0, 100, 1), RICH), Err(AdmitError::Underpriced { min: 110, got: 100 }));
    assert_eq!(admit(&mut p, &tx(1, 0, 109, 1), RICH).unwrap_err().code(), "underpriced");
    let new = tx(1, 0, 110, 1);
    let a = admit(&mut p, &new, RICH).unwrap();
    assert_eq!(a.replaced, Some(old.id));
    assert!(!p.contains(&old.id) && p.contains(&new.id));
    assert_eq!(p.dropped_reason(&old.id), Some(&DropReason::Replaced { by: new.id }));
    assert_eq!(p.stats().txs, 2);
    // Price 0 and 1 still need +1.
    let mut q = pool();
    admit(&mut q, &tx(2, 0, 0, 0), RICH).unwrap();
    assert_eq!(admit(&mut q, &tx(2, 0, 0, 1), RICH), Err(AdmitError::Underpriced { min: 1, got: 0 }));
    admit(&mut q, &tx(2, 0, 1, 1), RICH).unwrap();
    // A bundled transaction cannot be replaced.
    let ids = q.select_bundle();
    q.mark_bundled(&ids, 1, 0);
    assert_eq!(admit(&mut q, &tx(2, 0, 50, 2), RICH), Err(AdmitError::AlreadyBundled { nonce: 0 }));
}

#[test]
fn per_account_cap() {
    let mut p = Mempool::new(MempoolConfig { max_per_account: 3, ..Default::default() });
    for n in 0..3 {
        admit(&mut p, &tx(1, n, 1, 0), RICH).unwrap();
    }
    assert_eq!(admit(&mut p, &tx(1, 3, 1, 0), RICH), Err(AdmitError::AccountFull { max: 3 }));
    // Replacement is still allowed at the cap; other accounts unaffected.
    admit(&mut p, &tx(1, 2, 2, 1), RICH).unwrap();
    admit(&mut p, &tx(2, 0, 1, 0), RICH).unwrap();
}

#[test]
fn affordability_covers_the_whole_run() {
    let mut p = pool();
    let st = AccountState { nonce: 0, balance: 1000 };
    admit(&mut p, &tx(1, 0, 4, 0), st).unwrap(); // 400
    admit(&mut p, &tx(1, 1, 5, 0), st).unwrap(); // 500
    let err = admit(&mut p, &tx(1, 2, 2, 0), st).unwrap_err(); // +200 > 1000
    assert_eq!(err.code(), "cannot_pay");
    assert!(err.to_string().contains("balance 1000 cannot prepay 1100"), "{err}");
    admit(&mut p, &tx(1, 2, 1, 0), st).unwrap(); // exactly 1000
                                                 // Raising the head's fee would starve the later ones.
    assert_eq!(admit(&mut p, &tx(1, 0, 5, 1), st).unwrap_err().code(), "cannot_pay");
    // Unknown account with no balance.
    assert_eq!(admit(&mut p, &tx(2, 0, 1, 0), AccountState::default()).unwrap_err().code(), "cannot_pay");
    // Free transactions (price 0) need no balance.
    admit(&mut p, &tx(2, 0, 0, 0), AccountState::default()).unwrap();
}

#[test]
fn bundle_order_by_price_then_arrival_keeping_nonce_order() {
    let mut p = pool();
    let a0 = tx(1, 0, 1, 0);
    let a1 = tx(1, 1, 100, 0);
    let b0 = tx(2, 0, 50, 0);
    let c0 = tx(3, 0, 50, 0);
    let d0 = tx(4, 0, 1, 0);
    for c in [&a0, &a1, &d0, &c0, &b0] {
        admit(&mut p, c, RICH).unwrap();
    }
    // c0 and b0 tie on price: c0 arrived first. a1 pays most but follows a0;
    // a0 and d0 tie: a0 arrived first.
    assert_eq!(p.select_bundle(), vec![c0.id, b0.id, a0.id, a1.id, d0.id]);
}

#[test]
fn bundle_limits_and_bundled_prefix() {
    let mut p = Mempool::new(MempoolConfig { max_bundle_txs: 2, ..Default::default() });
    let a = [tx(1, 0, 3, 0), tx(1, 1, 3, 0), tx(1, 2, 3, 0)];
    for c in &a {
        admit(&mut p, c, RICH).unwrap();
    }
    let first = p.select_bundle();
    assert_eq!(first, vec![a[0].id, a[1].id]);
    p.mark_bundled(&first, 10, 0);
    // The rest follows the bundled prefix.
    assert_eq!(p.select_bundle(), vec![a[2].id]);
    // A failed submission puts them back, uncounted.
    p.unmark_bundled(&first);
    assert_eq!(p.get(&a[0].id).unwrap().submissions, 0);
    assert_eq!(p.select_bundle(), first);

    // Byte limit: a transaction too big for what is left waits, with its
    // successors, while smaller ones of other principals still go.
    let big = tx_sized(1, 0, 9, 0, 200);
    let small = tx(2, 0, 1, 0);
    let mut r =
        Mempool::new(MempoolConfig { max_bundle_bytes: big.bytes.len() + small.bytes.len(), ..Default::default() });
    let other = tx_sized(3, 0, 5, 0, 200);
    for c in [&small, &other, &big] {
        admit(&mut r, c, RICH).unwrap();
    }
    assert_eq!(r.select_bundle(), vec![big.id, small.id]);
    assert_eq!(r.ready_bytes(), small.bytes.len() + other.bytes.len() + big.bytes.len());
}

#[test]
fn eviction_when_full_only_for_higher_price() {
    let mut p = Mempool::new(MempoolConfig { max_txs: 3, ..Default::default() });
    let (a, b, c) = (tx(1, 0, 5, 0), tx(2, 0, 6, 0), tx(3, 0, 7, 0));
    for t in [&a, &b, &c] {
        admit(&mut p, t, RICH).unwrap();
    }
    // Equal or lower price than the cheapest: rejected, nothing changes.
    assert_eq!(admit(&mut p, &tx(4, 0, 5, 0), RICH).unwrap_err().code(), "mempool_full");
    assert_eq!(p.stats().txs, 3);
    let d = tx(4, 0, 8, 0);
    let adm = admit(&mut p, &d, RICH).unwrap();
    assert_eq!(adm.evicted, vec![a.id]);
    assert_eq!(p.dropped_reason(&a.id), Some(&DropReason::Evicted { by: d.id }));
    assert_eq!(p.stats().txs, 3);
    // Replacement in a full pool needs no eviction.
    admit(&mut p, &tx(2, 0, 100, 1), RICH).unwrap();
    assert_eq!(p.stats().txs, 3);
}

#[test]
fn eviction_takes_tails_never_bundled_nor_own() {
    let mut p = Mempool::new(MempoolConfig { max_txs: 4, ..Default::default() });
    // Principal 1: cheap head, expensive tail. Principal 2: medium.
    let a0 = tx(1, 0, 1, 0);
    let a1 = tx(1, 1, 50, 0);
    let b0 = tx(2, 0, 10, 0);
    let b1 = tx(2, 1, 9, 0);
    for t in [&a0, &a1, &b0, &b1] {
        admit(&mut p, t, RICH).unwrap();
    }
    // a0 is cheapest but not a tail; the cheapest tail is b1 (9), then b0.
    let n = tx(3, 0, 20, 0);
    assert_eq!(admit(&mut p, &n, RICH).unwrap().evicted, vec![b1.id]);
    let n2 = tx(4, 0, 20, 0);
    assert_eq!(admit(&mut p, &n2, RICH).unwrap().evicted, vec![b0.id]);
    // Now: a0(1) a1(50) n(20) n2(20). Bundle a0/a1: bundled ones are safe.
    p.mark_bundled(&[a0.id, a1.id], 1, 0);
    // Cheapest unbundled tail: n and n2 tie at 20, the later arrival (n2) goes.
    let n3 = tx(5, 0, 21, 0);
    assert_eq!(admit(&mut p, &n3, RICH).unwrap().evicted, vec![n2.id]);
    // Its own principal's transactions are never evicted for it.
    let mut q = Mempool::new(MempoolConfig { max_txs: 2, ..Default::default() });
    admit(&mut q, &tx(1, 0, 1, 0), RICH).unwrap();
    admit(&mut q, &tx(1, 1, 1, 0), RICH).unwrap();
    assert_eq!(admit(&mut q, &tx(1, 2, 99, 0), RICH).unwrap_err().code(), "mempool_full");
}

#[test]
fn eviction_by_bytes_may_take_several() {
    let small = tx(1, 0, 1, 0).bytes.len();
    let mut p = Mempool::new(MempoolConfig { max_bytes: 3 * small, ..Default::default() });
    let olds = [tx(1, 0, 1, 0), tx(2, 0, 2, 0), tx(3, 0, 3, 0)];
    for t in &olds {
        admit(&mut p, t, RICH).unwrap();
    }
    let big = tx_sized(4, 0, 10, 0, 8 + small - 1);
    assert_eq!(big.bytes.len(), 2 * small);
    let adm = admit(&mut p, &big, RICH).unwrap();
    assert_eq!(adm.evicted, vec![olds[0].id, olds[1].id]);
    assert!(p.stats().bytes <= 3 * small);
    // Larger than the whole pool: never fits.
    let huge = tx_sized(5, 0, 99, 0, 4 * small);
    assert_eq!(admit(&mut p, &huge, RICH).unwrap_err().code(), "mempool_full");
    assert_eq!(p.stats().txs, 2);
}

#[test]
fn deferred_transactions_wait_for_their_head() {
    let mut p = pool();
    let h = tx(1, 0, 1, 0);
    let d = tx(1, 1, 1, 0);
    admit(&mut p, &h, RICH).unwrap();
    p.insert(d.clone(), RICH, Verification::Deferred).unwrap();
    assert_eq!(p.stats().deferred, 1);
    assert_eq!(p.select_bundle(), vec![h.id]);
    p.mark_bundled(&[h.id], 1, 0);
    assert!(p.select_bundle().is_empty());
    // The head is included: the deferred one becomes the head and needs a check.
    assert!(p.mark_included(&h.id));
    // Not before the account's nonce is known to have moved.
    assert!(p.deferred_heads().is_empty());
    assert_eq!(p.sync_account(&addr(1), at(1)), vec![]);
    assert_eq!(p.deferred_heads(), vec![d.id]);
    p.mark_verified(&d.id);
    assert!(p.deferred_heads().is_empty());
    assert_eq!(p.select_bundle(), vec![d.id]);
}

#[test]
fn an_ineffective_inclusion_strands_the_run() {
    let mut p = pool();
    let h = tx(1, 0, 1, 0);
    let d = tx(1, 1, 1, 0);
    admit(&mut p, &h, RICH).unwrap();
    p.insert(d.clone(), RICH, Verification::Deferred).unwrap();
    p.mark_bundled(&[h.id], 1, 0);
    // h got a receipt but was ineffective: the account's nonce stays 0.
    assert!(p.mark_included(&h.id));
    assert!(p.select_bundle().is_empty());
    // A new nonce-0 transaction may still fill the gap before the sync...
    assert_eq!(p.plan(&tx(1, 1, 9, 1), RICH).unwrap_err(), AdmitError::NonceGap { expected: 0, got: 1 });
    // ...but at the sync the stranded run is dropped.
    assert_eq!(p.sync_account(&addr(1), at(0)), vec![(d.id, DropReason::NonceGap { expected: 0 })]);
    assert_eq!(p.stats(), Stats::default());
}

#[test]
fn sync_drops_stale_and_unaffordable() {
    let mut p = pool();
    let st = AccountState { nonce: 0, balance: 1000 };
    let t: Vec<Candidate> = (0..4).map(|n| tx(1, n, 2, 0)).collect();
    for c in &t {
        admit(&mut p, c, st).unwrap();
    }
    // Another relay's transaction used nonce 0; the balance went down.
    let out = p.sync_account(&addr(1), AccountState { nonce: 1, balance: 450 });
    assert_eq!(
        out,
        vec![
            (t[0].id, DropReason::Stale { committed_nonce: 1 }),
            (t[3].id, DropReason::Unaffordable { balance: 450, needed: 600 }),
        ]
    );
    assert_eq!(p.stats().txs, 2);
    // Dropping a transaction takes its successors.
    let dropped = p.drop_run(&t[1].id, DropReason::Invalid("verify rejected".into()));
    assert_eq!(dropped[1], (t[2].id, DropReason::PredecessorDropped { nonce: 1 }));
    assert_eq!(p.stats(), Stats::default());
    assert_eq!(p.dropped_reason(&t[2].id).map(DropReason::code), Some("predecessor_dropped"));
    // Re-admitting a dropped id forgets the reason.
    admit(&mut p, &t[1], AccountState { nonce: 1, balance: 450 }).unwrap();
    assert_eq!(p.dropped_reason(&t[1].id), None);
}

#[test]
fn resubmission_then_expiry() {
    let mut p = Mempool::new(MempoolConfig { resubmit_after_blocks: 3, max_submissions: 2, ..Default::default() });
    let a = [tx(1, 0, 1, 0), tx(1, 1, 1, 0)];
    let b = tx(2, 0, 1, 0);
    for c in a.iter().chain([&b]) {
        admit(&mut p, c, RICH).unwrap();
    }
    p.mark_bundled(&[a[0].id, a[1].id], 10, 0);
    p.mark_bundled(&[b.id], 11, 0);
    assert_eq!(p.on_height(12, 0), HeightOutcome::default());
    let out = p.on_height(13, 0);
    assert_eq!(out.resubmit, vec![a[0].id, a[1].id]);
    assert_eq!(p.select_bundle(), vec![a[0].id, a[1].id]);
    p.mark_bundled(&p.select_bundle(), 13, 0);
    // b is due too now.
    assert_eq!(p.on_height(14, 0).resubmit, vec![b.id]);
    // a's second submission is its last.
    let out = p.on_height(16, 0);
    assert_eq!(
        out.expired,
        vec![(a[0].id, DropReason::Expired { submissions: 2 }), (a[1].id, DropReason::PredecessorDropped { nonce: 0 })]
    );
    assert!(p.contains(&b.id));
    // Time alone also triggers a resubmission (no blocks on an idle devnet).
    let mut q = Mempool::new(MempoolConfig { resubmit_after_ms: 1000, ..Default::default() });
    admit(&mut q, &b, RICH).unwrap();
    q.mark_bundled(&[b.id], 5, 200);
    assert_eq!(q.on_height(5, 1199), HeightOutcome::default());
    assert_eq!(q.on_height(5, 1200).resubmit, vec![b.id]);
}

#[test]
fn determinism_same_calls_same_pool() {
    let run = || {
        let mut p = Mempool::new(MempoolConfig { max_txs: 20, max_per_account: 4, ..Default::default() });
        let mut log = Vec::new();
        for i in 0..60u64 {
            let principal = (i * 7 % 9) as u8;
            let nonce = i % 5;
            let price = (i * 31) % 17;
            let r = admit(&mut p, &tx(principal, nonce, price, (i % 3) as u8), RICH);
            log.push(r.map(|a| a.evicted).map_err(|e| e.code()));
        }
        (log, p.select_bundle(), p.snapshot())
    };
    let (a, b) = (run(), run());
    assert_eq!(a, b);
    assert!(a.1.len() <= 20 && !a.1.is_empty());
}

#[test]
fn dropped_memory_is_bounded() {
    let mut p = Mempool::new(MempoolConfig { remember_dropped: 2, ..Default::default() });
    let t: Vec<Candidate> = (0..3).map(|n| tx(n, 0, 1, 0)).collect();
    for c in &t {
        admit(&mut p, c, RICH).unwrap();
        p.drop_run(&c.id, DropReason::Invalid("x".into()));
    }
    assert_eq!(p.dropped_reason(&t[0].id), None);
    assert!(p.dropped_reason(&t[1].id).is_some() && p.dropped_reason(&t[2].id).is_some());
}

#[test]
fn snapshot_readmits_to_the_same_bundle() {
    let mut p = pool();
    for (i, c) in [tx(1, 0, 3, 0), tx(2, 0, 9, 0), tx(1, 1, 4, 0)].iter().enumerate() {
        admit(&mut p, c, RICH).unwrap();
        assert_eq!(p.stats().txs, i + 1);
    }
    let mut q = pool();
    for bytes in p.snapshot() {
        admit(&mut q, &Candidate::decode(bytes).unwrap(), RICH).unwrap();
    }
    assert_eq!(p.select_bundle(), q.select_bundle());
    assert_eq!(q.bytes_of(&q.select_bundle()), p.bytes_of(&p.select_bundle()));
}

#[test]
fn removals_are_tracked_in_order_and_given_back_ahead() {
    let mut untracked = pool();
    let a = tx(1, 0, 1, 0);
    admit(&mut untracked, &a, RICH).unwrap();
    assert!(untracked.mark_included(&a.id));
    assert!(untracked.take_removed().is_empty(), "off by default");

    let mut p = pool();
    p.track_removals();
    let (a, b, c) = (tx(1, 0, 1, 0), tx(2, 0, 1, 0), tx(3, 0, 1, 0));
    for t in [&a, &b, &c] {
        admit(&mut p, t, RICH).unwrap();
    }
    assert!(p.mark_included(&a.id) && p.mark_included(&b.id));
    let taken = p.take_removed();
    assert_eq!(taken, vec![a.id, b.id]);
    assert!(p.take_removed().is_empty());
    // A failed write gives them back; a later removal queues behind them.
    assert!(p.mark_included(&c.id));
    p.untake_removed(taken);
    assert_eq!(p.take_removed(), vec![a.id, b.id, c.id]);
}

/// Admit `c` into a copy of `p`, undo it, and require the copy to equal `p`
/// again (entries with their arrival order, verification and bundling,
/// runs, byte count, drop records, removal list, arrival counter).
fn admit_then_undo(p: &Mempool, c: &Candidate, verification: Verification) -> (Admitted, Undone) {
    let mut q = p.clone();
    let admitted = q.insert(c.clone(), RICH, verification).unwrap();
    assert!(q.contains(&c.id));
    let undone = q.undo_admission(admitted.clone());
    assert_eq!(&q, p, "undoing {admitted:?}");
    assert!(q.take_removed().is_empty(), "no restored row is scheduled for deletion");
    (admitted, undone)
}

#[test]
fn an_undone_admission_leaves_the_pool_as_it_was() {
    let mut p = pool();
    p.track_removals();
    // A bundled principal, a head with a deferred successor and a third
    // transaction, and a dropped transaction that a wallet re-sends.
    let bundled = tx(9, 0, 50, 0);
    let (head, deferred, third) = (tx(1, 0, 10, 0), tx(1, 1, 10, 0), tx(1, 2, 10, 0));
    let resent = tx(2, 0, 5, 0);
    admit(&mut p, &bundled, RICH).unwrap();
    p.mark_bundled(&[bundled.id], 1, 0);
    admit(&mut p, &head, RICH).unwrap();
    p.insert(deferred.clone(), RICH, Verification::Deferred).unwrap();
    admit(&mut p, &third, RICH).unwrap();
    admit(&mut p, &resent, RICH).unwrap();
    p.drop_run(&resent.id, DropReason::Invalid("test".into()));
    p.take_removed();

    // Plain insertions: a new principal, a run's extension, the re-sent one
    // (its drop record comes back).
    for c in [tx(3, 0, 7, 0), tx(1, 3, 7, 0)] {
        let (_, undone) = admit_then_undo(&p, &c, Verification::Verified);
        assert_eq!(undone, Undone::default());
    }
    admit_then_undo(&p, &resent, Verification::Verified);
    assert_eq!(p.dropped_reason(&resent.id), Some(&DropReason::Invalid("test".into())));

    // Replacement of the deferred middle of a run: it comes back deferred,
    // in its place, with its arrival order; the successor stays.
    let (admitted, undone) = admit_then_undo(&p, &tx(1, 1, 20, 1), Verification::Verified);
    assert_eq!(admitted.replaced, Some(deferred.id));
    assert_eq!(undone.restored, vec![deferred.id]);

    // Eviction of several (a whole run: its account record goes and comes
    // back), with the drop memory full: each eviction's record pushes an
    // older record out, and both come back.
    let small = tx(1, 0, 1, 0).bytes.len();
    let mut e = Mempool::new(MempoolConfig { max_bytes: 4 * small, remember_dropped: 2, ..Default::default() });
    e.track_removals();
    for n in [5, 6] {
        let gone = tx(n, 0, 1, 0);
        admit(&mut e, &gone, RICH).unwrap();
        e.drop_run(&gone.id, DropReason::Invalid(format!("{n}")));
    }
    admit(&mut e, &tx(1, 0, 1, 0), RICH).unwrap();
    e.insert(tx(1, 1, 1, 0), RICH, Verification::Deferred).unwrap();
    admit(&mut e, &tx(2, 0, 2, 0), RICH).unwrap();
    admit(&mut e, &tx(3, 0, 3, 0), RICH).unwrap();
    e.take_removed();
    let big = tx_sized(4, 0, 10, 0, 8 + small - 1);
    let (admitted, undone) = admit_then_undo(&e, &big, Verification::Verified);
    assert_eq!(admitted.evicted, vec![tx(1, 1, 1, 0).id, tx(1, 0, 1, 0).id]);
    assert_eq!(undone.restored, admitted.evicted);
}

#[test]
fn undoing_an_admission_drops_what_was_chained_on_it() {
    let mut p = pool();
    p.track_removals();
    let (a, b) = (tx(1, 0, 1, 0), tx(1, 1, 1, 0));
    let admitted = admit(&mut p, &a, RICH).unwrap();
    admit(&mut p, &b, RICH).unwrap();
    let undone = p.undo_admission(admitted);
    assert_eq!(undone.dropped, vec![(b.id, DropReason::PredecessorDropped { nonce: 0 })]);
    assert_eq!(p.stats(), Stats::default());
    // The undone one was never recorded: only its successor's row goes.
    assert_eq!(p.take_removed(), vec![b.id]);
}

#[test]
fn unrecorded_transactions_are_not_handed_out_until_recorded() {
    let mut p = pool();
    p.hold_until_recorded();
    let (a0, a1, b0) = (tx(1, 0, 10, 0), tx(1, 1, 10, 0), tx(2, 0, 5, 0));
    let c0 = tx(3, 0, 1, 0);
    admit(&mut p, &a0, RICH).unwrap();
    admit(&mut p, &a1, RICH).unwrap();
    admit(&mut p, &b0, RICH).unwrap();
    p.insert(c0.clone(), RICH, Verification::Deferred).unwrap();
    // Nothing recorded yet: nothing to bundle, to report pending or to
    // recheck, though the pool holds them (for its rules and caps).
    assert!(p.select_bundle().is_empty());
    assert_eq!(p.ready_bytes(), 0);
    assert_eq!(p.get(&a0.id), None);
    assert!(p.deferred_heads().is_empty());
    assert!(p.contains(&a0.id));
    assert_eq!(p.stats().txs, 4);
    // A recorded later nonce waits for its unrecorded predecessor.
    p.mark_recorded(&[a1.id, b0.id, c0.id]);
    assert_eq!(p.select_bundle(), vec![b0.id]);
    assert_eq!(p.ready_bytes(), b0.bytes.len());
    assert_eq!(p.deferred_heads(), vec![c0.id]);
    p.mark_recorded(&[a0.id]);
    assert_eq!(p.select_bundle(), vec![a0.id, a1.id, b0.id]);
    assert!(p.get(&a0.id).is_some());
}

#[test]
fn an_unrecorded_replacement_holds_its_run_back_and_its_undo_restores_the_recorded_one() {
    let mut p = pool();
    p.track_removals();
    p.hold_until_recorded();
    let (a0, a1) = (tx(1, 0, 10, 0), tx(1, 1, 10, 0));
    admit(&mut p, &a0, RICH).unwrap();
    admit(&mut p, &a1, RICH).unwrap();
    p.mark_recorded(&[a0.id, a1.id]);
    assert_eq!(p.select_bundle(), vec![a0.id, a1.id]);
    // A replacement of the head in flight: the recorded successor must not
    // go ahead of it (nor the replaced one, gone from the pool).
    let admitted = admit(&mut p, &tx(1, 0, 20, 1), RICH).unwrap();
    assert!(p.select_bundle().is_empty());
    // Its write failed: the replaced one is back, recorded, and bundled
    // with its successor again.
    let undone = p.undo_admission(admitted);
    assert_eq!(undone.restored, vec![a0.id]);
    assert_eq!(p.select_bundle(), vec![a0.id, a1.id]);
}

/// Found by the model-based test: an admission that evicted a big
/// transaction is undone after a newcomer took the freed room. The evicted
/// one must not come back over the caps (it stays dropped, as when its
/// nonce slot is gone).
#[test]
fn an_undo_after_the_pool_moved_on_never_exceeds_the_caps() {
    let s = tx(1, 0, 1, 0).bytes.len();
    let mut p = Mempool::new(MempoolConfig { max_bytes: 3 * s, ..Default::default() });
    p.hold_until_recorded();
    p.track_removals();
    let (y, big) = (tx(3, 0, 1, 0), tx_sized(2, 0, 1, 0, 8 + s - 1));
    admit(&mut p, &y, RICH).unwrap();
    admit(&mut p, &big, RICH).unwrap();
    p.mark_recorded(&[y.id, big.id]);
    let x = admit(&mut p, &tx(1, 0, 5, 0), RICH).unwrap();
    assert_eq!(x.evicted, vec![big.id]);
    let filler = tx(4, 0, 1, 0);
    admit(&mut p, &filler, RICH).unwrap();
    let undone = p.undo_admission(x);
    assert_eq!(undone, Undone::default());
    assert_eq!(p.stats().bytes, 2 * s);
    assert!(!p.contains(&big.id) && p.contains(&filler.id));
    // Still dropped: its row must go.
    assert_eq!(p.take_removed(), vec![big.id]);
}

/// Found by the model-based test: the tail of a stranded run (its head was
/// included without a sync yet, so it starts above the known committed
/// nonce) is evicted, taking its account record, and the admission is
/// undone at once. The tail must come back, though its nonce is not the
/// known committed one: it was its principal's first pending transaction.
#[test]
fn an_undo_restores_an_evicted_stranded_run() {
    let mut p = Mempool::new(MempoolConfig { max_txs: 2, ..Default::default() });
    let (a0, a1, b0) = (tx(1, 0, 1, 0), tx(1, 1, 1, 0), tx(2, 0, 9, 0));
    admit(&mut p, &a0, RICH).unwrap();
    admit(&mut p, &a1, RICH).unwrap();
    p.mark_bundled(&[a0.id], 1, 0);
    assert!(p.mark_included(&a0.id));
    admit(&mut p, &b0, RICH).unwrap();
    let (admitted, undone) = admit_then_undo(&p, &tx(3, 0, 5, 0), Verification::Verified);
    assert_eq!(admitted.evicted, vec![a1.id]);
    assert_eq!(undone.restored, vec![a1.id]);
}

/// Found by the model-based test: a run stranded by an ineffective
/// inclusion (the head left the pool, its nonce unused, no sync yet) is
/// joined by a new transaction with the head's nonce. The joined run must
/// be affordable as a whole (and within the per-account cap: same count),
/// and undoing the admission leaves the stranded run as it was.
#[test]
fn filling_the_hole_before_a_stranded_run_counts_the_whole_run() {
    let state = AccountState { nonce: 0, balance: 600 };
    let mut p = Mempool::new(MempoolConfig { max_per_account: 3, ..Default::default() });
    let (a0, a1, a2) = (tx(1, 0, 1, 0), tx(1, 1, 2, 0), tx(1, 2, 1, 0));
    for c in [&a0, &a1, &a2] {
        admit(&mut p, c, state).unwrap();
    }
    p.mark_bundled(&[a0.id], 1, 0);
    assert!(p.mark_included(&a0.id));
    // 100 + 200 are pending; 400 more would need 700.
    assert_eq!(admit(&mut p, &tx(1, 0, 4, 1), state).unwrap_err().code(), "cannot_pay");
    assert_eq!(admit(&mut p, &tx(1, 0, 2, 1), RICH).map(|a| a.id), Ok(tx(1, 0, 2, 1).id));
    // Undone at once, the stranded run stays as it was.
    let mut q = pool();
    for c in [&a0, &a1] {
        admit(&mut q, c, RICH).unwrap();
    }
    q.mark_bundled(&[a0.id], 1, 0);
    assert!(q.mark_included(&a0.id));
    let (_, undone) = admit_then_undo(&q, &tx(1, 0, 2, 1), Verification::Verified);
    assert_eq!(undone, Undone::default());
}

/// Found by the model-based test: two admissions in flight, undone in turn.
/// The second one's eviction pushed the first one's drop record (of the
/// transaction it replaced) out of the bounded memory; once the first undo
/// brought that transaction back, the second undo must not bring its drop
/// record back too: a pending transaction has none.
#[test]
fn undos_in_turn_never_leave_a_drop_record_on_a_pending_transaction() {
    let mut p = Mempool::new(MempoolConfig { max_txs: 2, remember_dropped: 1, ..Default::default() });
    p.hold_until_recorded();
    let (a0, b0) = (tx(1, 0, 1, 0), tx(2, 0, 1, 0));
    admit(&mut p, &a0, RICH).unwrap();
    admit(&mut p, &b0, RICH).unwrap();
    p.mark_recorded(&[a0.id, b0.id]);
    let replacing = admit(&mut p, &tx(1, 0, 5, 1), RICH).unwrap();
    let evicting = admit(&mut p, &tx(3, 0, 9, 0), RICH).unwrap();
    assert_eq!((replacing.replaced, evicting.evicted.clone()), (Some(a0.id), vec![b0.id]));
    assert_eq!(p.undo_admission(replacing).restored, vec![a0.id]);
    assert_eq!(p.undo_admission(evicting).restored, vec![b0.id]);
    assert!(p.contains(&a0.id) && p.contains(&b0.id));
    assert_eq!(p.dropped_reason(&a0.id), None);
}

/// Found by the model-based test: an undo that cannot restore what the
/// admission replaced (its predecessor was included meanwhile, so its slot
/// no longer extends the run) keeps that transaction's drop record, so the
/// arrival counter must not be wound back below it (numbers would repeat).
#[test]
fn an_undo_keeps_the_counter_above_the_drop_records_it_keeps() {
    let mut p = pool();
    p.hold_until_recorded();
    let (a0, a1) = (tx(1, 0, 1, 0), tx(1, 1, 1, 0));
    admit(&mut p, &a0, RICH).unwrap();
    admit(&mut p, &a1, RICH).unwrap();
    p.mark_recorded(&[a0.id, a1.id]);
    let replacing = admit(&mut p, &tx(1, 1, 5, 1), RICH).unwrap();
    p.mark_bundled(&[a0.id], 1, 0);
    assert!(p.mark_included(&a0.id));
    assert_eq!(p.undo_admission(replacing), Undone::default());
    assert_eq!(p.dropped_reason(&a1.id).map(DropReason::code), Some("replaced"));
    assert!(p.dropped.values().all(|(seq, _)| *seq < p.next_seq), "{p:?}");
}

/// Found by the model-based test: after two ineffective inclusions the run
/// is stranded two nonces ahead; a new transaction with the committed nonce
/// cannot join it, so the stranded run is dropped with the admission (as
/// the next sync would) instead of leaving a gap, and an undo brings it back.
#[test]
fn an_admission_drops_a_run_stranded_beyond_reach() {
    let mut p = pool();
    p.track_removals();
    let (a0, a1, a2) = (tx(1, 0, 1, 0), tx(1, 1, 1, 0), tx(1, 2, 1, 0));
    for c in [&a0, &a1, &a2] {
        admit(&mut p, c, RICH).unwrap();
    }
    p.mark_bundled(&[a0.id, a1.id], 1, 0);
    assert!(p.mark_included(&a0.id) && p.mark_included(&a1.id));
    p.take_removed();
    let fresh = tx(1, 0, 1, 1);
    assert_eq!(p.plan(&fresh, RICH).map(|plan| plan.orphaned), Ok(vec![a2.id]));
    let (admitted, undone) = admit_then_undo(&p, &fresh, Verification::Verified);
    assert_eq!((admitted.stale, undone.restored), (vec![a2.id], vec![a2.id]));
    admit(&mut p, &fresh, RICH).unwrap();
    assert_eq!(p.dropped_reason(&a2.id), Some(&DropReason::NonceGap { expected: 0 }));
    assert_eq!(p.take_removed(), vec![a2.id]);
    assert_eq!(p.select_bundle(), vec![fresh.id]);
}

mod model_based {
    use proptest::prelude::*;

    proptest! {
        // Modest, so `cargo test` stays quick; the `ops` fuzz target in
        // crates/relay/fuzz runs the same model for as long as wanted.
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Random call sequences keep every invariant, every admission
        /// undoes exactly, and the same calls give the same pool.
        #[test]
        fn operation_sequences_keep_the_invariants(data in proptest::collection::vec(any::<u8>(), 0..600)) {
            super::super::model::check(&data);
        }
    }
}

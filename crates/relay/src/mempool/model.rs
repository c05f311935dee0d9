//! Model-based operation-sequence testing of the mempool, shared by the
//! proptest in `tests.rs` and the `ops` fuzz target in `crates/relay/fuzz`.
//!
//! Bytes are decoded into a small configuration and a sequence of the calls
//! the relay's service makes (submissions planned then inserted, durable
//! writes committing or failing, bundles, inclusions, syncs, drops, rechecks,
//! resubmission ticks, removal hand-offs), against a toy chain that tracks
//! each principal's committed nonce and balance. After every call the pool's
//! invariants are checked, and every admission is also undone on a copy,
//! which must give back exactly the pool before it. A hand-rolled decoder
//! (every byte string is a valid program) keeps the fuzzer's mutations
//! cheap and lets proptest shrink plain byte vectors.
//!
//! Candidates are synthetic (the pool never looks inside the bytes, only at
//! their length): the id packs every field, so equal ids mean equal
//! candidates, as with real hashes. Lives in the crate (behind
//! `test-hooks`) because the checks read the pool's private fields.

use std::collections::{BTreeMap, BTreeSet};

use athena_interface::{Address, Bytes32};

use super::{AccountState, Admitted, Candidate, DropReason, Mempool, MempoolConfig, TxId, Verification};

/// Principals in play: few, so runs collide, fill and evict each other.
const PRINCIPALS: u8 = 4;
/// Most operations decoded from one input (bounds the time per input).
const MAX_OPS: usize = 200;

/// One call (or short sequence of calls) on the pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// `plan` then `insert` a candidate of principal `p`; `nonce` picks the
    /// nonce relative to the pool's view (7: one below, else an offset in
    /// `0..=run length + 1`). `stale_view`: the executor reports the
    /// committed nonce one lower than it is. `undo_now`: its durable write
    /// fails at once.
    Submit {
        p: u8,
        nonce: u8,
        price: u64,
        gas_limit: u64,
        size: usize,
        tag: u8,
        deferred: bool,
        stale_view: bool,
        undo_now: bool,
    },
    /// The durable write of the `n`-th outstanding admission commits.
    Record(u8),
    /// ... or fails: its admission is undone.
    Undo(u8),
    /// `select_bundle`, then `mark_bundled` (and `unmark_bundled` if its
    /// submission `fails`).
    Bundle { fails: bool },
    /// The executor includes `p`'s lowest pending transaction if it is
    /// bundled; `effective`: it used its nonce.
    Include { p: u8, effective: bool },
    /// `sync_account` with the chain's state of `p`.
    Sync { p: u8 },
    /// The chain's balance of `p` changes.
    SetBalance { p: u8, balance: u64 },
    /// `p`'s nonce is used by a transaction the relay never saw.
    BumpNonce { p: u8 },
    /// `drop_run` of `p`'s `pos`-th pending transaction (rejected by the
    /// executor).
    DropRun { p: u8, pos: u8 },
    /// `deferred_heads`, each accepted (`mark_verified`) or rejected
    /// (`drop_run`).
    Recheck { reject: bool },
    /// `on_height` after `blocks` more blocks and `ms` more milliseconds.
    Tick { blocks: u8, ms: u64 },
    /// `take_removed`, and if `give_back`, `untake_removed` of it.
    TakeRemoved { give_back: bool },
}

/// A decoded program: the pool's configuration, its switches, the calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    /// The pool's configuration (small caps, so they bite).
    pub config: MempoolConfig,
    /// Whether `hold_until_recorded` is on.
    pub hold: bool,
    /// Whether `track_removals` is on.
    pub track: bool,
    /// The calls, in order.
    pub ops: Vec<Op>,
}

/// Reads bytes, yielding zeros once exhausted.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn byte(&mut self) -> u8 {
        let Some((&b, rest)) = self.0.split_first() else { return 0 };
        self.0 = rest;
        b
    }
}

impl Program {
    /// Decode any bytes into a program (never fails).
    pub fn decode(data: &[u8]) -> Self {
        let mut r = Reader(data);
        let (a, b, c) = (r.byte(), r.byte(), r.byte());
        let config = MempoolConfig {
            max_txs: 2 + usize::from(a % 8),
            max_bytes: 150 + 40 * usize::from(b % 16),
            max_per_account: 1 + usize::from((a >> 3) % 5),
            min_replacement_bump_percent: u64::from((b >> 4) % 3) * 10,
            resubmit_after_blocks: 1 + u64::from(c % 3),
            resubmit_after_ms: 1000,
            max_submissions: 1 + u32::from((c >> 2) % 3),
            max_bundle_txs: 1 + usize::from((c >> 4) % 4),
            max_bundle_bytes: 100 + 50 * usize::from((a >> 6) % 4),
            remember_dropped: usize::from(b % 5),
        };
        let switches = r.byte();
        let mut ops = Vec::new();
        while !r.0.is_empty() && ops.len() < MAX_OPS {
            let kind = r.byte();
            let p = (kind >> 4) % PRINCIPALS;
            let flag = kind & 0x80 != 0;
            let op = match kind % 16 {
                0..=5 => {
                    let (x, y, z) = (r.byte(), r.byte(), r.byte());
                    Op::Submit {
                        p,
                        nonce: x % 8,
                        price: 1 + u64::from(y % 12),
                        gas_limit: 1 + u64::from(y >> 4),
                        size: 10 + usize::from(z % 64) * 2,
                        tag: (x >> 3) % 3,
                        deferred: x & 0x40 != 0,
                        stale_view: z & 0xc0 == 0xc0,
                        undo_now: x & 0x80 != 0 && z & 0x80 == 0,
                    }
                }
                6 => Op::Record(r.byte()),
                7 => Op::Undo(r.byte()),
                8 | 9 => Op::Bundle { fails: kind % 16 == 9 && flag },
                10 => Op::Include { p, effective: !flag },
                11 => Op::Sync { p },
                12 if flag => Op::BumpNonce { p },
                12 => Op::SetBalance { p, balance: balance(r.byte()) },
                13 => Op::DropRun { p, pos: r.byte() % 4 },
                14 if flag => Op::Recheck { reject: kind & 0x40 != 0 },
                14 => Op::Tick { blocks: r.byte() % 3, ms: u64::from(r.byte()) * 8 },
                _ => Op::TakeRemoved { give_back: flag },
            };
            ops.push(op);
        }
        Self { config, hold: switches & 1 != 0, track: switches & 2 != 0, ops }
    }
}

/// A balance from a byte: mostly small enough for affordability to bite,
/// sometimes unlimited.
fn balance(b: u8) -> u64 {
    if b >= 240 {
        u64::MAX
    } else {
        u64::from(b) * 4
    }
}

fn addr(p: u8) -> Address {
    let mut a = [0u8; 24];
    a[23] = p + 1;
    Address(a)
}

/// A synthetic candidate whose id encodes all its fields.
fn candidate(p: u8, nonce: u64, price: u64, gas_limit: u64, size: usize, tag: u8) -> Candidate {
    let mut id = [0u8; 32];
    id[0] = p;
    id[1] = tag;
    id[2..10].copy_from_slice(&nonce.to_le_bytes());
    id[10..18].copy_from_slice(&price.to_le_bytes());
    id[18..26].copy_from_slice(&gas_limit.to_le_bytes());
    id[26..30].copy_from_slice(&(size as u32).to_le_bytes());
    Candidate {
        id: Bytes32(id),
        principal: addr(p),
        nonce,
        gas_price: price,
        max_fee: u128::from(gas_limit) * u128::from(price),
        bytes: vec![tag; size],
    }
}

/// The outcome of running a program: the final pool and a log of every
/// call's answer (for the determinism check).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The pool after the last call.
    pub pool: Mempool,
    /// Each call's answer, as text.
    pub log: Vec<String>,
}

/// Run `data` twice on fresh pools, checking the invariants after every
/// step, and require both runs to agree. Panics on any violation.
pub fn check(data: &[u8]) {
    let program = Program::decode(data);
    let first = run(&program);
    let second = run(&program);
    assert!(first == second, "the same calls gave different pools or answers");
}

/// Run a program, checking the invariants after every step.
pub fn run(program: &Program) -> Outcome {
    let mut pool = Mempool::new(program.config.clone());
    if program.hold {
        pool.hold_until_recorded();
    }
    if program.track {
        pool.track_removals();
    }
    let mut chain: BTreeMap<u8, AccountState> =
        (0..PRINCIPALS).map(|p| (p, AccountState { nonce: 0, balance: 400 })).collect();
    let mut outstanding: Vec<Admitted> = Vec::new();
    let (mut height, mut now) = (0u64, 0u64);
    let mut log = Vec::new();
    for op in &program.ops {
        let entry = match op.clone() {
            Op::Submit { p, nonce, price, gas_limit, size, tag, deferred, stale_view, undo_now } => {
                let mut fresh = chain[&p];
                if stale_view {
                    fresh.nonce = fresh.nonce.saturating_sub(1);
                }
                let (base, len) = pool
                    .accounts
                    .get(&addr(p))
                    .map(|acc| (acc.state.nonce.max(fresh.nonce), acc.queue.len() as u64))
                    .unwrap_or((fresh.nonce, 0));
                let nonce = if nonce == 7 { base.saturating_sub(1) } else { base + u64::from(nonce) % (len + 2) };
                let cand = candidate(p, nonce, price, gas_limit, size, tag);
                let verification = if deferred { Verification::Deferred } else { Verification::Verified };
                let before = pool.clone();
                let plan = pool.plan(&cand, fresh);
                let result = pool.insert(cand.clone(), fresh, verification);
                match (&plan, &result) {
                    (Ok(plan), Ok(admitted)) => {
                        assert_eq!((&admitted.replaced, &admitted.evicted), (&plan.replaces, &plan.evict));
                        assert_eq!(pool.entries[&cand.id].recorded, !program.hold);
                        check_undo(&before, &pool, &cand, fresh, admitted);
                        check_affordable(&pool, &cand.principal);
                    }
                    (Err(planned), Err(got)) => {
                        assert_eq!(planned, got, "plan and insert disagree");
                        assert!(pool == before, "a refused insert changed the pool");
                    }
                    _ => panic!("plan {plan:?} but insert {result:?}"),
                }
                let line = format!("submit {nonce} {fresh:?} -> {result:?}");
                if let Ok(admitted) = result {
                    if undo_now {
                        let undone = pool.undo_admission(admitted);
                        format!("{line}; undone {undone:?}")
                    } else {
                        if program.hold {
                            outstanding.push(admitted);
                        }
                        line
                    }
                } else {
                    line
                }
            }
            Op::Record(n) if !outstanding.is_empty() => {
                let admitted = outstanding.remove(usize::from(n) % outstanding.len());
                pool.mark_recorded(&[admitted.id]);
                format!("recorded {:?}", admitted.id)
            }
            Op::Undo(n) if !outstanding.is_empty() => {
                let admitted = outstanding.remove(usize::from(n) % outstanding.len());
                let undone = pool.undo_admission(admitted);
                format!("undone {undone:?}")
            }
            Op::Record(_) | Op::Undo(_) => "nothing outstanding".into(),
            Op::Bundle { fails } => {
                let ids = pool.select_bundle();
                check_bundle(&pool, &ids);
                let ready = pool.ready_bytes();
                let before = pool.clone();
                pool.mark_bundled(&ids, height, now);
                if fails {
                    pool.unmark_bundled(&ids);
                    assert!(pool == before, "a failed submission must leave the pool as it was");
                }
                format!("bundle {ids:?} ready {ready} fails {fails}")
            }
            Op::Include { p, effective } => {
                let head = pool
                    .accounts
                    .get(&addr(p))
                    .and_then(|acc| acc.queue.values().next())
                    .map(|id| &pool.entries[id])
                    .filter(|e| e.bundled_at.is_some())
                    .map(|e| (e.id, e.nonce, e.max_fee));
                match head {
                    Some((id, nonce, max_fee)) => {
                        assert!(pool.mark_included(&id));
                        let state = chain.get_mut(&p).expect("known principal");
                        if effective && state.nonce == nonce {
                            state.nonce += 1;
                            state.balance = state.balance.saturating_sub(super::saturate(max_fee / 2));
                        }
                        format!("included {id:?}")
                    }
                    None => "no bundled head".into(),
                }
            }
            Op::Sync { p } => {
                let dropped = pool.sync_account(&addr(p), chain[&p]);
                check_affordable(&pool, &addr(p));
                format!("sync {dropped:?}")
            }
            Op::SetBalance { p, balance } => {
                chain.get_mut(&p).expect("known principal").balance = balance;
                format!("balance {balance}")
            }
            Op::BumpNonce { p } => {
                chain.get_mut(&p).expect("known principal").nonce += 1;
                "bump".into()
            }
            Op::DropRun { p, pos } => {
                let id = pool.accounts.get(&addr(p)).and_then(|acc| acc.queue.values().nth(usize::from(pos)).copied());
                match id {
                    Some(id) => format!("drop {:?}", pool.drop_run(&id, DropReason::Invalid("model".into()))),
                    None => "nothing to drop".into(),
                }
            }
            Op::Recheck { reject } => {
                let heads = pool.deferred_heads();
                for id in &heads {
                    let e = &pool.entries[id];
                    assert!(e.verification == Verification::Deferred && e.recorded);
                    assert_eq!(Some(e.nonce), pool.accounts.get(&e.principal).map(|acc| acc.state.nonce));
                }
                for id in &heads {
                    if reject {
                        pool.drop_run(id, DropReason::Invalid("recheck".into()));
                    } else {
                        pool.mark_verified(id);
                    }
                }
                format!("recheck {heads:?} reject {reject}")
            }
            Op::Tick { blocks, ms } => {
                height += u64::from(blocks);
                now += ms;
                format!("tick {:?}", pool.on_height(height, now))
            }
            Op::TakeRemoved { give_back } => {
                let before = pool.clone();
                let taken = pool.take_removed();
                if give_back {
                    pool.untake_removed(taken.clone());
                    assert!(pool == before, "taking then giving back the removals must change nothing");
                }
                format!("removed {taken:?}")
            }
        };
        check_invariants(&pool);
        log.push(entry);
    }
    Outcome { pool, log }
}

/// Undo `admitted` on a copy of `after`: the copy must equal `before`
/// except for what the admission learnt from the executor (the fresher
/// committed state and the stale entries it dropped), which is what
/// `observe` does to `before`.
fn check_undo(before: &Mempool, after: &Mempool, cand: &Candidate, fresh: AccountState, admitted: &Admitted) {
    let mut expected = before.clone();
    let stale: Vec<TxId> = expected.observe(&cand.principal, fresh).into_iter().map(|(id, _)| id).collect();
    assert!(admitted.stale.starts_with(&stale), "stale entries");
    let orphaned = &admitted.stale[stale.len()..];
    let mut undone = after.clone();
    let out = undone.undo_admission(admitted.clone());
    let displaced: Vec<TxId> = admitted.replaced.iter().chain(&admitted.evicted).chain(orphaned).copied().collect();
    assert_eq!(out.restored.iter().collect::<BTreeSet<_>>(), displaced.iter().collect::<BTreeSet<_>>());
    assert!(out.dropped.is_empty(), "an immediate undo drops nothing: {out:?}");
    if undone != expected {
        panic!("undo of {admitted:?} did not restore the pool:\n got {undone:#?}\n want {expected:#?}");
    }
}

/// Affordability is what the code promises: at an admission and after a
/// sync, `p`'s run from its committed nonce costs at most its known
/// balance. (Not between any two calls: an undo may restore a transaction
/// of a principal whose known balance fell meanwhile; the next sync drops
/// what it no longer covers.)
fn check_affordable(pool: &Mempool, principal: &Address) {
    if let Some(acc) = pool.accounts.get(principal) {
        let fees: u128 = pool.run_from(principal, acc.state.nonce).iter().map(|e| e.max_fee).sum();
        assert!(fees <= u128::from(acc.state.balance), "{principal:?}'s run costs {fees} > balance {:?}", acc.state);
    }
}

/// What must hold between any two calls.
pub fn check_invariants(pool: &Mempool) {
    let cfg = &pool.config;
    let (mut count, mut bytes) = (0usize, 0usize);
    for (principal, acc) in &pool.accounts {
        assert!(!acc.queue.is_empty(), "an account record without pending transactions");
        assert!(acc.queue.len() <= cfg.max_per_account, "{principal:?} over max_per_account");
        let first = *acc.queue.keys().next().expect("non-empty");
        assert!(first >= acc.state.nonce, "{principal:?} has a used nonce pending");
        let mut bundled_prefix = true;
        for ((&nonce, id), expected) in acc.queue.iter().zip(first..) {
            assert_eq!(nonce, expected, "{principal:?}'s run has a gap");
            let e = pool.entries.get(id).expect("a queued id is pending");
            assert_eq!((&e.principal, e.nonce), (principal, nonce), "entry filed under the wrong slot");
            if e.bundled_at.is_none() {
                bundled_prefix = false;
            }
            // Not asserted: a transaction filling the hole in front of a
            // stranded bundled run (its head included without using its
            // nonce) is unbundled ahead of bundled ones; selection and
            // resubmission cope (they skip or take the bundled ones).
            let _ = bundled_prefix;
            assert!(e.recorded || pool.hold_unrecorded, "unrecorded entry without hold_until_recorded");
            assert!(e.bundled_at.is_none() || (e.recorded && e.verification == Verification::Verified));
            assert!(e.seq < pool.next_seq);
            count += 1;
            bytes += e.bytes.len();
        }
    }
    assert_eq!(count, pool.entries.len(), "entries outside the runs");
    assert_eq!(bytes, pool.bytes, "byte count");
    assert!(count <= cfg.max_txs, "{count} transactions > max_txs {}", cfg.max_txs);
    assert!(bytes <= cfg.max_bytes, "{bytes} bytes > max_bytes {}", cfg.max_bytes);

    // Drop records: bounded, ordered, never for a pending id.
    assert!(pool.dropped_order.len() <= cfg.remember_dropped);
    assert!(pool.dropped.len() <= pool.dropped_order.len());
    assert!(pool.dropped_order.iter().zip(pool.dropped_order.iter().skip(1)).all(|(a, b)| a.0 < b.0));
    for (id, (seq, _)) in &pool.dropped {
        assert!(!pool.entries.contains_key(id), "a pending transaction has a drop record");
        assert!(pool.dropped_order.binary_search(&(*seq, *id)).is_ok(), "drop record outside the order");
        assert!(*seq < pool.next_seq);
    }
}

/// A bundle: within its limits, each transaction once, each pending,
/// recorded, verified and not yet bundled, and per principal the next
/// transactions after its bundled prefix, in nonce order.
fn check_bundle(pool: &Mempool, ids: &[TxId]) {
    let cfg = &pool.config;
    assert!(ids.len() <= cfg.max_bundle_txs);
    let mut seen = BTreeSet::new();
    let mut next: BTreeMap<Address, u64> = BTreeMap::new();
    let mut total = 0;
    for id in ids {
        assert!(seen.insert(*id), "a transaction twice in a bundle");
        let e = pool.entries.get(id).expect("bundled transactions are pending");
        assert!(e.recorded && e.verification == Verification::Verified && e.bundled_at.is_none());
        total += e.bytes.len();
        let acc = &pool.accounts[&e.principal];
        let expected = next.entry(e.principal).or_insert_with(|| {
            let bundled =
                pool.run_from(&e.principal, acc.state.nonce).iter().take_while(|e| e.bundled_at.is_some()).count();
            acc.state.nonce + bundled as u64
        });
        assert_eq!(e.nonce, *expected, "out of nonce order, or past a held-back transaction");
        *expected += 1;
    }
    assert!(total <= cfg.max_bundle_bytes);
}

//! Shared test helpers: a deterministic block generator and state
//! normalization, so a test can replay exactly what a (possibly killed)
//! writer committed.

#![allow(dead_code)]

use athena_interface::{Address, Bytes32};
use athena_runtime::{Account, ChangeSet, MemoryState, StateReader};
use athena_store::BlockMeta;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::sync::Arc;

/// Accounts created at genesis; storage is only written under these, so a
/// `MemoryState` (which lists storage per account) sees every slot.
pub const GENESIS_ACCOUNTS: u64 = 12;

/// A program-kind address numbered `i`.
pub fn addr(i: u64) -> Address {
    let mut bytes = [0u8; 24];
    bytes[16..].copy_from_slice(&i.to_be_bytes());
    Address::new(bytes)
}

/// A template-kind address numbered `i`.
pub fn template_addr(i: u64) -> Address {
    let mut bytes = [0u8; 24];
    bytes[3] = 1;
    bytes[16..].copy_from_slice(&i.to_be_bytes());
    Address::new(bytes)
}

/// A 32-byte word whose last 8 bytes are `i`.
pub fn word(i: u64) -> Bytes32 {
    let mut bytes = [0u8; 32];
    bytes[24..].copy_from_slice(&i.to_be_bytes());
    Bytes32::new(bytes)
}

/// The metadata the tests record for block `height`.
pub fn meta(height: u64) -> BlockMeta {
    BlockMeta { input_hash: word(height.wrapping_add(1)), receipts_root: word(!height) }
}

/// Block `height` of the workload seeded by `seed`: deterministic, so a
/// test can replay what a killed writer committed. `size` scales the number
/// of storage writes.
pub fn block(seed: u64, height: u64, size: usize) -> ChangeSet {
    let mut rng = SmallRng::seed_from_u64(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ height);
    let mut changes = ChangeSet::default();
    if height == 0 {
        let code: Arc<[u8]> = Arc::from(vec![0x5a; 3000]);
        changes.templates.insert(template_addr(0), code);
        for i in 0..GENESIS_ACCOUNTS {
            let template = (i % 3 == 0).then(|| template_addr(0));
            changes.accounts.insert(addr(i), Account { balance: 1_000 + i, nonce: 0, template });
            if template.is_some() {
                changes.states.insert(addr(i), vec![i as u8; 32]);
            }
        }
    }
    for _ in 0..rng.gen_range(1..6) {
        // Mostly existing accounts; sometimes a new one.
        let i = rng.gen_range(0..GENESIS_ACCOUNTS + 40);
        let template = (rng.gen_range(0..8) == 0).then(|| template_addr(rng.gen_range(0..3)));
        changes.accounts.insert(addr(i), Account { balance: rng.gen(), nonce: rng.gen_range(0..100), template });
    }
    for _ in 0..rng.gen_range(0..size.max(1) * 2) {
        let slot = (addr(rng.gen_range(0..GENESIS_ACCOUNTS)), word(rng.gen_range(0..64)));
        let value = if rng.gen_range(0..4) == 0 { Bytes32::ZERO } else { word(rng.gen_range(1..u64::MAX)) };
        changes.storage.insert(slot, value);
    }
    if rng.gen_range(0..10) == 0 {
        let t = rng.gen_range(1..3);
        let len = rng.gen_range(1..4096);
        changes.templates.insert(template_addr(t), Arc::from(vec![t as u8; len]));
    }
    if rng.gen_range(0..10) == 0 {
        // A spawn: a program account with a state blob (sometimes an empty
        // one, which must behave like none).
        let i = rng.gen_range(0..GENESIS_ACCOUNTS + 40);
        let len = if rng.gen_range(0..4) == 0 { 0 } else { rng.gen_range(1..200) };
        changes.states.insert(addr(i), vec![rng.gen(); len]);
        let account = Account { balance: rng.gen_range(0..1000), nonce: 0, template: Some(template_addr(0)) };
        changes.accounts.insert(addr(i), account);
    }
    changes
}

/// Merges change sets in order (later values win).
pub fn merged(blocks: impl IntoIterator<Item = ChangeSet>) -> ChangeSet {
    let mut out = ChangeSet::default();
    for block in blocks {
        out.merge(block);
    }
    out
}

/// Drops what is equivalent to absence (zero slots, empty state blobs), so
/// a merged change set compares equal to a store's full contents.
pub fn normalized(mut contents: ChangeSet) -> ChangeSet {
    contents.storage.retain(|_, value| !value.is_zero());
    contents.states.retain(|_, blob| !blob.is_empty());
    contents
}

/// The full contents of a `MemoryState`, read only through its public API.
/// Storage and state blobs are listed per account: every slot a test writes
/// belongs to an account (see [`GENESIS_ACCOUNTS`]).
pub fn memory_contents(state: &MemoryState) -> ChangeSet {
    let mut out = ChangeSet::default();
    for (address, account) in state.accounts() {
        out.accounts.insert(*address, *account);
        let blob = state.program_state(address).expect("memory read");
        if !blob.is_empty() {
            out.states.insert(*address, blob);
        }
        for (key, value) in state.storage_of(address) {
            out.storage.insert((*address, key), value);
        }
    }
    for (address, code) in state.templates() {
        out.templates.insert(*address, Arc::clone(code));
    }
    out
}

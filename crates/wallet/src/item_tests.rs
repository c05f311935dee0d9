//! Item reads against a real store's proofs, with slots laid out by
//! `athena_runtime::sdk_storage::encode_item` (the host's copy of the
//! SDK's layout, which the testkit checks against real guests).

use super::*;
use athena_runtime::sdk_storage::{encode_item, item_key};
use athena_runtime::ChangeSet;
use athena_store::{BlockMeta, Store};
use std::cell::RefCell;

fn alice() -> Address {
    Address::new([0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1])
}

/// A store whose block 0 holds `slots` in alice's storage.
fn store(slots: &[(Bytes32, Bytes32)]) -> Store {
    let store = Store::in_memory().unwrap();
    let mut changes = ChangeSet::default();
    for (k, v) in slots {
        changes.storage.insert((alice(), *k), *v);
    }
    store.commit_block(0, &changes, &BlockMeta::default()).unwrap();
    store
}

fn answer(store: &Store, key: &[u8; 32]) -> StorageItem {
    let p = store.prove_storage(&alice(), &Bytes32::new(*key), None).unwrap();
    StorageItem {
        value: hex::encode(p.value.as_bytes()),
        height: p.height,
        state_root: hex::encode(p.state_root.0),
        proof: hex::encode(p.proof.to_bytes()),
    }
}

/// Reads `base` from `store`, returning the read and the keys fetched.
fn read(store: &Store, base: &Bytes32, max_slots: usize) -> (Result<ItemRead, ItemError>, Vec<[u8; 32]>) {
    let asked = RefCell::new(Vec::new());
    let read = read_item(&alice(), base.as_bytes(), None, max_slots, |key| {
        asked.borrow_mut().push(*key);
        Ok(answer(store, key))
    });
    (read, asked.into_inner())
}

#[test]
fn a_long_value_is_reassembled_from_proven_slots() {
    let base = item_key("memo", b"\x0chello");
    let long: Vec<u8> = (1..=70).collect();
    let slots = encode_item(&base, &long).unwrap();
    assert_eq!(slots.len(), 3, "28 + 32 + 10 bytes");
    let store = store(&slots);
    let (got, asked) = read(&store, &base, DEFAULT_MAX_SLOTS);
    let got = got.unwrap();
    assert_eq!(got.value, Some(long.clone()));
    assert!(got.check.is_valid(), "{}", got.check);
    let keys: Vec<_> = slots.iter().map(|(k, _)| k.into_bytes()).collect();
    assert_eq!(asked, keys, "exactly the item's slots, in order");
    assert_eq!(got.slots.iter().map(|s| s.key).collect::<Vec<_>>(), keys);

    // Against a trusted root too.
    let root = parse_hex32(&got.slots[0].answer.state_root).unwrap();
    let trusted = read_item(&alice(), base.as_bytes(), Some(root), 8, |k| Ok(answer(&store, k))).unwrap();
    assert!(matches!(trusted.check, ProofCheck::Valid { trusted: true, .. }), "{}", trusted.check);
    assert_eq!(trusted.value, Some(long));

    // A short value is one slot; an absent one is one (zero) slot.
    let short = item_key("short", &[]);
    let store2 = self::store(&encode_item(&short, &[7; 28]).unwrap());
    let (got, asked) = read(&store2, &short, DEFAULT_MAX_SLOTS);
    assert_eq!((got.unwrap().value, asked.len()), (Some(vec![7; 28]), 1));
    let (got, asked) = read(&store2, &item_key("nothing", &[]), DEFAULT_MAX_SLOTS);
    let got = got.unwrap();
    assert_eq!((got.value, asked.len()), (None, 1));
    assert!(got.check.is_valid(), "a non-inclusion proof: {}", got.check);
}

#[test]
fn every_slot_is_proven() {
    let base = item_key("memo", &[]);
    let store = store(&encode_item(&base, &[5; 100]).unwrap());
    // The node forges the second chunk: the read stops there, names it,
    // and shows no value.
    let forged = chunk_key(&base, 2).into_bytes();
    let got = read_item(&alice(), base.as_bytes(), None, 8, |key| {
        let mut a = answer(&store, key);
        if *key == forged {
            a.value = hex::encode([6u8; 32]);
        }
        Ok(a)
    })
    .unwrap();
    assert_eq!(got.value, None);
    assert_eq!(got.slots.len(), 3);
    let ProofCheck::Invalid(why) = &got.check else { panic!("{}", got.check) };
    assert!(why.starts_with(&format!("slot 2 of the item ({})", hex::encode(forged))), "{why}");

    // A forged first slot is not followed at all.
    let mut asked = 0;
    let got = read_item(&alice(), base.as_bytes(), None, 8, |key| {
        asked += 1;
        let mut a = answer(&store, key);
        a.value = format!("ff000000{}", "00".repeat(28));
        Ok(a)
    })
    .unwrap();
    assert_eq!(asked, 1);
    assert!(!got.check.is_valid() && got.value.is_none(), "{}", got.check);
}

#[test]
fn a_hostile_length_header_is_bounded() {
    // A node can build a whole state tree its proofs agree with, so the
    // header is bounded even when proven.
    let base = item_key("memo", &[]);
    let slot = |header: u32| {
        let mut s = [0u8; 32];
        s[..4].copy_from_slice(&header.to_le_bytes());
        Bytes32::new(s)
    };
    let huge = store(&[(base, slot(u32::MAX))]);
    let (got, asked) = read(&huge, &base, usize::MAX);
    assert!(matches!(got, Err(ItemError::Layout(StorageError::TooLarge { .. }))), "{got:?}");
    assert_eq!(asked.len(), 1, "nothing past the header is fetched");

    // Within the layout's limit but over the read's bound.
    let big = store(&[(base, slot(40_001))]);
    let (got, asked) = read(&big, &base, DEFAULT_MAX_SLOTS);
    let err = got.unwrap_err();
    assert!(matches!(err, ItemError::TooManySlots { len: 40_000, slots: 1251, max: DEFAULT_MAX_SLOTS }), "{err:?}");
    assert!(err.to_string().contains("--max-slots"), "{err}");
    assert_eq!(asked.len(), 1);

    // A zero header under a non-zero slot.
    let zero = store(&[(
        base,
        Bytes32::new([0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    )]);
    assert!(matches!(read(&zero, &base, 8).0, Err(ItemError::Layout(StorageError::ZeroLength { .. }))));
}

#[test]
fn slots_from_different_states_are_not_mixed() {
    let base = item_key("memo", &[]);
    let old = store(&encode_item(&base, &[1; 40]).unwrap());
    let new = store(&encode_item(&base, &[2; 40]).unwrap());
    // A block lands after the first slot once: the read restarts and
    // gives the new value whole.
    let mut calls = 0;
    let got = read_item(&alice(), base.as_bytes(), None, 8, |key| {
        calls += 1;
        Ok(answer(if calls == 1 { &old } else { &new }, key))
    })
    .unwrap();
    assert_eq!(got.value, Some(vec![2; 40]));
    assert_eq!(calls, 4, "two slots, twice");
    // The state moves on every attempt: a clear error, not a mix.
    let mut calls = 0;
    let err = read_item(&alice(), base.as_bytes(), None, 8, |key| {
        calls += 1;
        Ok(answer(if calls % 2 == 1 { &old } else { &new }, key))
    })
    .unwrap_err();
    assert!(matches!(err, ItemError::StateMoved { .. }), "{err:?}");
    assert!(err.to_string().contains("try again"), "{err}");
}

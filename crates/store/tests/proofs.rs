//! The state root test vector of `docs/store.md`, and proofs: inclusion and
//! non-inclusion proofs verify with the pure `verify`; a tampered value,
//! key, root or proof does not.

mod common;

use athena_interface::{Address, Bytes32};
use athena_runtime::{Account, ChangeSet};
use athena_store::encoding::code_hash;
use athena_store::{root_of_contents, verify, LeafKey, ProgramStateProof, StateProof, StateRoot, Store, StoreError};
use common::{addr, block, meta, template_addr, word};
use std::sync::Arc;

fn hex32(s: &str) -> [u8; 32] {
    hex::decode(s).unwrap().try_into().unwrap()
}

fn address(prefix: u8, fill: u8) -> Address {
    let mut bytes = [fill; 24];
    bytes[..4].copy_from_slice(&[0, 0, 0, prefix]);
    Address::new(bytes)
}

/// The tiny state of the test vector in docs/store.md.
fn vector_state() -> ChangeSet {
    let template = address(1, 0xaa);
    let program = address(0, 0xbb);
    let plain = address(0, 0xcc);
    let mut state = ChangeSet::default();
    state.templates.insert(template, Arc::from(&b"athena store test vector code v1"[..]));
    state.accounts.insert(program, Account { balance: 1000, nonce: 2, template: Some(template) });
    state.accounts.insert(plain, Account { balance: 5, nonce: 0, template: None });
    state.states.insert(program, vec![7; 32]);
    state.storage.insert((program, word(1)), word(42));
    state
}

/// Root and leaf keys cross-checked by `tests/vector.py`, an independent
/// implementation of the leaf encoding and the sparse Merkle root.
const VECTOR_ROOT: &str = "642de75da613e4c01b91785f42a260df7fffeeef614362e7077f232856d94494";

#[test]
fn test_vector_root() {
    let state = vector_state();
    let program = address(0, 0xbb);
    assert_eq!(
        LeafKey::Account(program).hash(),
        hex32("7ad3020919f8be27760112575e4778a42b0c15d0f66461262a5f14e30244a0dd")
    );
    assert_eq!(
        LeafKey::Storage(program, word(1)).hash(),
        hex32("8d57908c262978b284a0f282914c7cf50ea08e10b935a227679aa36ae8ae63fe")
    );
    assert_eq!(
        code_hash(b"athena store test vector code v1"),
        hex32("84c3b3ca25ec55a414fcfb36272cccbb0d6a8fdc6cee693c3c2a1068dae82bd1")
    );
    let expected = StateRoot(hex32(VECTOR_ROOT));
    assert_eq!(root_of_contents(&state).unwrap(), expected);
    let store = Store::in_memory().unwrap();
    assert_eq!(store.commit_block(0, &state, &meta(0)).unwrap(), expected);
    assert_eq!(expected.to_string(), VECTOR_ROOT);
    assert_eq!(root_of_contents(&ChangeSet::default()).unwrap(), StateRoot::EMPTY);
}

/// A store with a few blocks of the shared workload, plus the vector state.
fn populated() -> Store {
    let store = Store::in_memory().unwrap();
    let mut genesis = block(7, 0, 16);
    genesis.merge(vector_state());
    store.commit_block(0, &genesis, &meta(0)).unwrap();
    for height in 1..6 {
        store.commit_block(height, &block(7, height, 16), &meta(height)).unwrap();
    }
    store
}

#[test]
fn account_proofs_verify_and_reject_tampering() {
    let store = populated();
    let root = store.state_root().unwrap();
    let program = address(0, 0xbb);
    let proof = store.prove_account(&program, None).unwrap();
    assert_eq!(proof.height, 5);
    assert_eq!(proof.state_root, root);
    assert_eq!(proof.account.unwrap().balance, 1000);
    assert!(proof.verify(&root, &program));

    // Tampered value, address, root.
    let mut richer = proof.clone();
    richer.account.as_mut().unwrap().balance += 1;
    assert!(!richer.verify(&root, &program));
    let mut absent = proof.clone();
    absent.account = None;
    assert!(!absent.verify(&root, &program));
    assert!(!proof.verify(&root, &address(0, 0xcc)));
    let mut other_root = root;
    other_root.0[31] ^= 1;
    assert!(!proof.verify(&other_root, &program));
    assert!(!proof.verify(&StateRoot::EMPTY, &program));

    // Non-inclusion: an address that was never created.
    let nobody = address(0, 0xee);
    let missing = store.prove_account(&nobody, None).unwrap();
    assert_eq!(missing.account, None);
    assert!(missing.verify(&root, &nobody));
    let mut forged = missing.clone();
    forged.account = Some(Account::default());
    assert!(!forged.verify(&root, &nobody));
    // A non-inclusion proof for one key does not prove another key absent
    // when that key exists.
    let mut stolen = missing;
    stolen.account = None;
    assert!(!stolen.verify(&root, &program));
}

#[test]
fn storage_proofs_verify_and_reject_tampering() {
    let store = populated();
    let root = store.state_root().unwrap();
    let program = address(0, 0xbb);
    let proof = store.prove_storage(&program, &word(1), None).unwrap();
    assert_eq!(proof.value, word(42));
    assert!(proof.verify(&root, &program, &word(1)));
    assert!(!proof.verify(&root, &program, &word(2)));
    let mut tampered = proof.clone();
    tampered.value = word(43);
    assert!(!tampered.verify(&root, &program, &word(1)));
    tampered.value = Bytes32::ZERO;
    assert!(!tampered.verify(&root, &program, &word(1)));

    // An empty slot: zero with a non-inclusion proof.
    let empty = store.prove_storage(&program, &word(1234), None).unwrap();
    assert_eq!(empty.value, Bytes32::ZERO);
    assert!(empty.verify(&root, &program, &word(1234)));
    let mut claimed = empty;
    claimed.value = word(1);
    assert!(!claimed.verify(&root, &program, &word(1234)));

    // Every slot the workload wrote verifies against the root.
    let snapshot = store.snapshot().unwrap();
    for (address, _) in snapshot.contents().unwrap().accounts {
        for (key, value) in snapshot.storage_of(&address).unwrap() {
            let proof = snapshot.prove_storage(&address, &key, None).unwrap();
            assert_eq!(proof.value, value);
            assert!(proof.verify(&root, &address, &key));
        }
    }
}

#[test]
fn generic_leaf_proofs_cover_states_and_templates() {
    let store = populated();
    let root = store.state_root().unwrap();
    let template = address(1, 0xaa);
    let code = b"athena store test vector code v1";
    let proof = store.prove(&LeafKey::Template(template), None).unwrap();
    assert_eq!(proof.value.as_deref(), Some(&code_hash(code)[..]));
    assert!(verify(&root, &LeafKey::Template(template), Some(&code_hash(code)), &proof.proof));
    assert!(!verify(&root, &LeafKey::Template(template), Some(code), &proof.proof));
    let state = store.prove(&LeafKey::ProgramState(address(0, 0xbb)), None).unwrap();
    assert_eq!(state.value.as_deref(), Some(&[7u8; 32][..]));
    assert!(state.verify(&root, &LeafKey::ProgramState(address(0, 0xbb))));
    // The same proof does not authenticate the value under another kind.
    assert!(!verify(&root, &LeafKey::Account(address(0, 0xbb)), Some(&[7; 32]), &state.proof));
}

#[test]
fn program_state_proofs() {
    let store = populated();
    let root = store.state_root().unwrap();
    let program = address(0, 0xbb);
    let plain = address(0, 0xcc);
    // A program's blob: inclusion, under the same root as its account.
    let snapshot = store.snapshot().unwrap();
    let account = snapshot.prove_account(&program, None).unwrap();
    let state = snapshot.prove_program_state(&program, Some(account.height)).unwrap();
    assert_eq!((state.height, state.state_root), (account.height, account.state_root));
    assert_eq!(state.state, vec![7; 32]);
    assert!(state.verify(&root, &program));
    // Another blob, or claiming none, does not verify with that proof.
    assert!(!ProgramStateProof { state: vec![8; 32], ..state.clone() }.verify(&root, &program));
    assert!(!ProgramStateProof { state: Vec::new(), ..state.clone() }.verify(&root, &program));
    assert!(!state.verify(&root, &plain));
    // A plain account has no blob: a non-inclusion proof.
    let none = store.prove_program_state(&plain, None).unwrap();
    assert!(none.state.is_empty());
    assert!(none.verify(&root, &plain));
    assert!(!ProgramStateProof { state: vec![7; 32], ..none }.verify(&root, &plain));
    // Heights the store does not have are refused like other proofs.
    assert!(matches!(store.prove_program_state(&program, Some(99)), Err(StoreError::UnknownHeight { .. })));
}

#[test]
fn proofs_at_past_heights() {
    let store = populated();
    let account = addr(3);
    for height in 0..=5 {
        let block = store.block(height).unwrap().unwrap();
        let proof = store.prove_account(&account, Some(height)).unwrap();
        assert_eq!(proof.height, height);
        assert_eq!(proof.state_root, block.state_root);
        assert!(proof.verify(&block.state_root, &account));
    }
    // A slot set in block 0 then changed: each height proves its own value.
    let store = Store::in_memory().unwrap();
    let mut change = ChangeSet::default();
    change.storage.insert((addr(1), word(1)), word(10));
    let r0 = store.commit_block(0, &change, &meta(0)).unwrap();
    change.storage.insert((addr(1), word(1)), Bytes32::ZERO);
    let r1 = store.commit_block(1, &change, &meta(1)).unwrap();
    let at0 = store.prove_storage(&addr(1), &word(1), Some(0)).unwrap();
    let at1 = store.prove_storage(&addr(1), &word(1), Some(1)).unwrap();
    assert_eq!((at0.value, at1.value), (word(10), Bytes32::ZERO));
    assert!(at0.verify(&r0, &addr(1), &word(1)) && at1.verify(&r1, &addr(1), &word(1)));
    assert!(!at0.verify(&r1, &addr(1), &word(1)) && !at1.verify(&r0, &addr(1), &word(1)));

    assert_eq!(
        store.prove_account(&addr(1), Some(2)).unwrap_err(),
        StoreError::UnknownHeight { height: 2, last: Some(1) }
    );
    let empty = Store::in_memory().unwrap();
    assert!(matches!(empty.prove_account(&addr(1), None), Err(StoreError::UnknownHeight { last: None, .. })));
}

#[test]
fn proof_wire_format_round_trips_and_rejects_garbage() {
    let store = populated();
    let root = store.state_root().unwrap();
    let program = address(0, 0xbb);
    let proof = store.prove_account(&program, None).unwrap();
    let bytes = proof.proof.to_bytes();
    let parsed = StateProof::from_bytes(&bytes).unwrap();
    assert_eq!(parsed, proof.proof);
    let record = athena_store::encoding::encode_account(&proof.account.unwrap());
    assert!(verify(&root, &LeafKey::Account(program), Some(&record), &parsed));

    // Flipping any byte (or truncating / extending) breaks parsing or verification.
    for i in 0..bytes.len() {
        let mut bad = bytes.clone();
        bad[i] ^= 0x01;
        if let Ok(bad) = StateProof::from_bytes(&bad) {
            assert!(!verify(&root, &LeafKey::Account(program), Some(&record), &bad), "byte {i}");
        }
    }
    assert!(StateProof::from_bytes(&bytes[..bytes.len() - 1]).is_err());
    assert!(StateProof::from_bytes(&[bytes.clone(), vec![0]].concat()).is_err());
    assert!(StateProof::from_bytes(&[]).is_err());
    // A huge declared sibling count is rejected without allocating it.
    assert!(StateProof::from_bytes(&[0, 0xff, 0xff, 0xff, 0xff]).is_err());
}

#[test]
fn template_addresses_in_proofs_are_independent_of_code_size() {
    let store = Store::in_memory().unwrap();
    let mut change = ChangeSet::default();
    change.templates.insert(template_addr(1), Arc::from(vec![1u8; 100_000]));
    change.templates.insert(template_addr(2), Arc::from(vec![2u8; 10]));
    store.commit_block(0, &change, &meta(0)).unwrap();
    let big = store.prove(&LeafKey::Template(template_addr(1)), None).unwrap();
    assert_eq!(big.value.as_ref().map(Vec::len), Some(32));
    assert!(big.proof.to_bytes().len() < 1_000);
}

/// A client-side verifier written from `docs/store.md` alone (no jmt): the
/// proof format and verification rule there are complete.
fn verify_as_documented(root: [u8; 32], key: [u8; 32], value: Option<&[u8]>, proof: &[u8]) -> bool {
    use sha2::{Digest, Sha256};
    const PLACEHOLDER: [u8; 32] = *b"SPARSE_MERKLE_PLACEHOLDER_HASH__";
    let h = |parts: &[&[u8]]| -> [u8; 32] {
        let mut hasher = Sha256::new();
        parts.iter().for_each(|p| hasher.update(p));
        hasher.finalize().into()
    };
    let leaf_hash = |k: &[u8], vh: &[u8]| h(&[b"JMT::LeafNode", k, vh]);
    let bit = |k: &[u8; 32], i: usize| (k[i / 8] >> (7 - i % 8)) & 1;
    // Parse: leaf option, u32 LE sibling count, tagged siblings; nothing after.
    let mut at = 0;
    let mut take = |n: usize| -> Option<&[u8]> {
        let slice = proof.get(at..at + n)?;
        at += n;
        Some(slice)
    };
    let leaf: Option<([u8; 32], [u8; 32])> = match take(1) {
        Some([0]) => None,
        Some([1]) => Some((take(32).unwrap().try_into().unwrap(), take(32).unwrap().try_into().unwrap())),
        _ => return false,
    };
    let count = u32::from_le_bytes(take(4).unwrap().try_into().unwrap()) as usize;
    if count > 256 {
        return false;
    }
    let mut siblings = Vec::new();
    for _ in 0..count {
        siblings.push(match take(1) {
            Some([0]) => PLACEHOLDER,
            Some([1]) => h(&[b"JMT::IntrnalNode", take(32).unwrap(), take(32).unwrap()]),
            Some([2]) => leaf_hash(take(32).unwrap(), take(32).unwrap()),
            _ => return false,
        });
    }
    if take(1).is_some() {
        return false;
    }
    match (value, leaf) {
        (Some(v), Some((k, vh))) if k == key && vh == h(&[v]) => {}
        (None, None) => {}
        (None, Some((k, _))) if k != key && (0..count).all(|i| bit(&k, i) == bit(&key, i)) => {}
        _ => return false,
    }
    let mut current = leaf.map_or(PLACEHOLDER, |(k, vh)| leaf_hash(&k, &vh));
    for (i, sibling) in siblings.iter().enumerate() {
        current = if bit(&key, count - 1 - i) == 1 {
            h(&[b"JMT::IntrnalNode", sibling, &current])
        } else {
            h(&[b"JMT::IntrnalNode", &current, sibling])
        };
    }
    current == root
}

#[test]
fn documented_verification_rule_matches() {
    let store = populated();
    let root = store.state_root().unwrap();
    let snapshot = store.snapshot().unwrap();
    let contents = snapshot.contents().unwrap();
    let mut keys: Vec<LeafKey> = athena_store::leaves_of(&contents).into_keys().collect();
    keys.extend((0..20).map(|i| LeafKey::Storage(addr(i), word(10_000 + i)))); // absent
    keys.push(LeafKey::Account(address(0, 0xee))); // absent
    let mut checked = (0, 0);
    for key in keys {
        let proof = snapshot.prove(&key, None).unwrap();
        let bytes = proof.proof.to_bytes();
        assert!(verify_as_documented(root.0, key.hash(), proof.value.as_deref(), &bytes), "{key:?}");
        assert!(proof.verify(&root, &key));
        // And both reject a wrong value.
        let wrong = Some(&b"wrong"[..]);
        assert!(!verify_as_documented(root.0, key.hash(), wrong, &bytes));
        assert!(!verify(&root, &key, wrong, &proof.proof));
        if proof.value.is_some() {
            checked.0 += 1
        } else {
            checked.1 += 1
        }
    }
    assert!(checked.0 > 20 && checked.1 >= 21, "{checked:?}");
}

//! Checking the node's state proofs with `athena-store`'s pure verifier
//! (docs/store.md, "Proofs"), so `athena account` and `athena storage` can
//! say whether an answer is consistent with a state root.
//!
//! A proof only shows the answer matches the root it came with. That root
//! is worth as much as its source: by default the node's own, which catches
//! a buggy or inconsistent node but not a lying one; with a root the user
//! trusts (`--root`, e.g. published by several executors) it is a real
//! guarantee.

use crate::client::{Account, StorageItem};
use crate::key::parse_hex32;
use athena_interface::{Address, Bytes32};
use athena_runtime::Account as AccountRecord;
use athena_store::{encoding::encode_account, verify, LeafKey, StateProof, StateRoot};
use athena_transaction::Network;

/// The outcome of a proof check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProofCheck {
    /// The proof shows the answer under `root` at `height`.
    Valid {
        /// The root checked against (hex).
        root: String,
        /// The height the node gave.
        height: u64,
        /// Whether `root` is the trusted root the caller supplied (rather
        /// than the node's own).
        trusted: bool,
    },
    /// The proof does not match, is malformed, or the root differs from the
    /// trusted one.
    Invalid(String),
    /// The node sent no proof.
    Missing,
}

impl ProofCheck {
    /// Whether the check passed.
    pub fn is_valid(&self) -> bool {
        matches!(self, ProofCheck::Valid { .. })
    }
}

impl std::fmt::Display for ProofCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProofCheck::Valid { root, height, trusted: true } => {
                write!(f, "valid against the trusted state root {root} (height {height})")
            }
            ProofCheck::Valid { root, height, trusted: false } => {
                write!(f, "valid against state root {root} at height {height} (as reported by the node)")
            }
            ProofCheck::Invalid(why) => write!(f, "INVALID: {why}"),
            ProofCheck::Missing => f.write_str("not provided by the node"),
        }
    }
}

/// Picks the root to check against: the trusted one if given (it must
/// equal the node's, or the answer is for another state), else the node's.
fn root(node_root: &str, trusted: Option<[u8; 32]>) -> Result<([u8; 32], bool), String> {
    let reported = parse_hex32(node_root).map_err(|e| format!("state root: {e}"))?;
    match trusted {
        Some(t) if t != reported => Err(format!(
            "the node answered for state root {}, not the trusted root {}",
            hex::encode(reported),
            hex::encode(t)
        )),
        Some(t) => Ok((t, true)),
        None => Ok((reported, false)),
    }
}

fn check(
    node_root: &str,
    height: u64,
    trusted: Option<[u8; 32]>,
    proof_hex: &str,
    key: &LeafKey,
    value: Option<&[u8]>,
) -> ProofCheck {
    let (root_bytes, is_trusted) = match root(node_root, trusted) {
        Ok(r) => r,
        Err(why) => return ProofCheck::Invalid(why),
    };
    let bytes = match hex::decode(proof_hex.strip_prefix("0x").unwrap_or(proof_hex)) {
        Ok(b) => b,
        Err(e) => return ProofCheck::Invalid(format!("proof is not hex: {e}")),
    };
    let proof = match StateProof::from_bytes(&bytes) {
        Ok(p) => p,
        Err(e) => return ProofCheck::Invalid(e.to_string()),
    };
    if verify(&StateRoot(root_bytes), key, value, &proof) {
        ProofCheck::Valid { root: hex::encode(root_bytes), height, trusted: is_trusted }
    } else {
        ProofCheck::Invalid("the proof does not match the value and the state root".into())
    }
}

/// Checks an account answer: the record (balance, nonce, template) under
/// its state root. The program state blob is a separate leaf, checked by
/// [`verify_account_state`].
pub fn verify_account(
    account: &Account,
    address: &Address,
    network: &Network,
    trusted: Option<[u8; 32]>,
) -> ProofCheck {
    let (Some(proof), Some(node_root), Some(height)) = (&account.proof, &account.state_root, account.height) else {
        return ProofCheck::Missing;
    };
    let template = match account.template.as_deref().map(|t| network.parse_address(t)).transpose() {
        Ok(t) => t,
        Err(e) => return ProofCheck::Invalid(format!("template: {e}")),
    };
    let record = encode_account(&AccountRecord { balance: account.balance, nonce: account.nonce, template });
    check(node_root, height, trusted, proof, &LeafKey::Account(*address), Some(&record))
}

/// Checks the program state blob of an account answer (`state`) against
/// `state_proof` under the same root and height as the account record, so
/// a node cannot serve a state the root does not hold. An empty blob must
/// come with a non-inclusion proof (the store never holds an empty leaf).
/// [`ProofCheck::Missing`] when the node sent no state proof (an older
/// node): the state is then unproven, not wrong.
pub fn verify_account_state(account: &Account, address: &Address, trusted: Option<[u8; 32]>) -> ProofCheck {
    let (Some(proof), Some(node_root), Some(height)) = (&account.state_proof, &account.state_root, account.height)
    else {
        return ProofCheck::Missing;
    };
    let blob = match hex::decode(account.state.strip_prefix("0x").unwrap_or(&account.state)) {
        Ok(b) => b,
        Err(e) => return ProofCheck::Invalid(format!("state is not hex: {e}")),
    };
    let value = (!blob.is_empty()).then_some(&blob[..]);
    check(node_root, height, trusted, proof, &LeafKey::ProgramState(*address), value)
}

/// Checks a storage answer: slot `key` of `address` holds the value (a
/// zero value is an absent slot: a non-inclusion proof).
pub fn verify_storage(item: &StorageItem, address: &Address, key: &[u8; 32], trusted: Option<[u8; 32]>) -> ProofCheck {
    let value = match parse_hex32(&item.value) {
        Ok(v) => v,
        Err(e) => return ProofCheck::Invalid(format!("value: {e}")),
    };
    let leaf = LeafKey::Storage(*address, Bytes32::new(*key));
    let value = (value != [0; 32]).then_some(&value[..]);
    check(&item.state_root, item.height, trusted, &item.proof, &leaf, value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use athena_runtime::ChangeSet;
    use athena_store::{BlockMeta, Store};

    fn network() -> Network {
        Network::test(Bytes32::ZERO)
    }

    fn store() -> (Store, Address, Address) {
        let store = Store::in_memory().unwrap();
        let alice = Address::new([0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
        let template = Address::new([0, 0, 0, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]);
        let mut changes = ChangeSet::default();
        changes.accounts.insert(alice, AccountRecord { balance: 100, nonce: 3, template: Some(template) });
        changes.storage.insert((alice, Bytes32::new([5; 32])), Bytes32::new([6; 32]));
        store.commit_block(0, &changes, &BlockMeta::default()).unwrap();
        (store, alice, template)
    }

    #[test]
    fn account_proofs() {
        let (store, alice, template) = store();
        let p = store.prove_account(&alice, None).unwrap();
        let net = network();
        let answer = Account {
            address: net.encode_address(&alice),
            balance: 100,
            nonce: 3,
            template: Some(net.encode_address(&template)),
            state: String::new(),
            height: Some(p.height),
            state_root: Some(hex::encode(p.state_root.0)),
            proof: Some(hex::encode(p.proof.to_bytes())),
            state_proof: None,
        };
        assert!(verify_account(&answer, &alice, &net, None).is_valid());
        let trusted = verify_account(&answer, &alice, &net, Some(p.state_root.0));
        assert!(matches!(trusted, ProofCheck::Valid { trusted: true, .. }), "{trusted}");
        let lie = Account { balance: 101, ..answer.clone() };
        assert!(matches!(verify_account(&lie, &alice, &net, None), ProofCheck::Invalid(_)));
        let other_root = verify_account(&answer, &alice, &net, Some([9; 32]));
        assert!(other_root.to_string().contains("not the trusted root"), "{other_root}");
        let garbage = Account { proof: Some("00ff".into()), ..answer.clone() };
        assert!(matches!(verify_account(&garbage, &alice, &net, None), ProofCheck::Invalid(_)));
        let none = Account { proof: None, ..answer };
        assert_eq!(verify_account(&none, &alice, &net, None), ProofCheck::Missing);
    }

    /// An account answer for `address` with both proofs from `store`.
    fn answer(store: &Store, address: &Address) -> Account {
        let net = network();
        let snapshot = store.snapshot().unwrap();
        let p = snapshot.prove_account(address, None).unwrap();
        let s = snapshot.prove_program_state(address, Some(p.height)).unwrap();
        let record = p.account.unwrap_or_default();
        Account {
            address: net.encode_address(address),
            balance: record.balance,
            nonce: record.nonce,
            template: record.template.map(|t| net.encode_address(&t)),
            state: hex::encode(&s.state),
            height: Some(p.height),
            state_root: Some(hex::encode(p.state_root.0)),
            proof: Some(hex::encode(p.proof.to_bytes())),
            state_proof: Some(hex::encode(s.proof.to_bytes())),
        }
    }

    #[test]
    fn program_state_proofs() {
        let (store, alice, _) = store();
        let bob = Address::new([0, 0, 0, 0, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3]);
        let mut changes = ChangeSet::default();
        changes.states.insert(alice, vec![1, 2, 3]);
        changes.accounts.insert(bob, AccountRecord { balance: 1, nonce: 0, template: None });
        store.commit_block(1, &changes, &BlockMeta::default()).unwrap();
        let net = network();

        // A program's blob: inclusion, against the node's or a trusted root.
        let program = answer(&store, &alice);
        assert_eq!(program.state, "010203");
        assert!(verify_account(&program, &alice, &net, None).is_valid());
        assert!(verify_account_state(&program, &alice, None).is_valid());
        let root = parse_hex32(program.state_root.as_deref().unwrap()).unwrap();
        let trusted = verify_account_state(&program, &alice, Some(root));
        assert!(matches!(trusted, ProofCheck::Valid { trusted: true, .. }), "{trusted}");
        // A lying node: another blob, no blob, or another account's proof.
        for state in ["010204", "", "0102"] {
            let lie = Account { state: state.into(), ..program.clone() };
            assert!(matches!(verify_account_state(&lie, &alice, None), ProofCheck::Invalid(_)), "{state:?}");
        }
        let not_hex = Account { state: "zz".into(), ..program.clone() };
        assert!(verify_account_state(&not_hex, &alice, None).to_string().contains("not hex"));
        assert!(!verify_account_state(&program, &bob, None).is_valid());

        // A plain account: no blob, a non-inclusion proof; claiming a blob fails.
        let plain = answer(&store, &bob);
        assert!(plain.state.is_empty());
        assert!(verify_account_state(&plain, &bob, None).is_valid());
        let lie = Account { state: "01".into(), ..plain.clone() };
        assert!(matches!(verify_account_state(&lie, &bob, None), ProofCheck::Invalid(_)));

        // An older node sends no state proof: unproven, not invalid.
        let old = Account { state_proof: None, ..program };
        assert_eq!(verify_account_state(&old, &alice, None), ProofCheck::Missing);
    }

    #[test]
    fn storage_proofs() {
        let (store, alice, _) = store();
        let item = |key: [u8; 32]| {
            let p = store.prove_storage(&alice, &Bytes32::new(key), None).unwrap();
            StorageItem {
                value: hex::encode(p.value.as_bytes()),
                height: p.height,
                state_root: hex::encode(p.state_root.0),
                proof: hex::encode(p.proof.to_bytes()),
            }
        };
        let present = item([5; 32]);
        assert!(verify_storage(&present, &alice, &[5; 32], None).is_valid());
        let absent = item([7; 32]);
        assert_eq!(absent.value, hex::encode([0u8; 32]));
        assert!(verify_storage(&absent, &alice, &[7; 32], None).is_valid());
        // The proof for one slot does not prove another, nor another value.
        assert!(!verify_storage(&present, &alice, &[7; 32], None).is_valid());
        let forged = StorageItem { value: hex::encode([8u8; 32]), ..present };
        assert!(!verify_storage(&forged, &alice, &[5; 32], None).is_valid());
    }
}

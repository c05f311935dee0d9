//! The executor's rules, one by one: every reason a transaction is
//! ineffective, bounded and misbehaving `verify`/`max_spend`, what the
//! receipts and change sets hold, backend failures. Scenarios with the
//! wallet are in `tx_wallet.rs`.

mod tx_common;

use athena_interface::{Address, Bytes32, StatusCode};
use athena_runtime::tx::{
    apply_transaction, intrinsic_gas, ApplyError, Failure, HookError, Ineffective, TxStatus, MAX_SPEND_GAS_LIMIT,
    VERIFY_GAS_LIMIT,
};
use athena_runtime::{Account, MemoryState, StateError, StateReader};
use athena_transaction::tx::MAX_TX_SIZE;
use athena_transaction::{template_address, UnsignedTransaction};
use parity_scale_codec::Encode;
use std::sync::Arc;
use tx_common::*;

fn ineffective(why: Ineffective) -> TxStatus {
    TxStatus::Ineffective(why)
}

/// An unsigned transaction of `principal` (test-auth programs ignore the
/// authenticator).
fn unsigned(principal: Address, payload: Vec<u8>, gas_limit: u64) -> UnsignedTransaction {
    UnsignedTransaction { principal, template: None, nonce: 0, gas_limit, gas_price: PRICE, payload }
}

/// A test-auth program in `mode` (see guest/templates/test-auth).
fn test_auth(chain: &mut Chain, mode: u8, balance: u64) -> Address {
    let template = chain.test_auth;
    chain.genesis_program(template, &(mode, u64::from(mode)).encode(), balance)
}

#[test]
fn undecodable_and_oversized_bytes_are_ineffective() {
    let (mut chain, alice) = with_alice();
    let mut trailing = alice.sign(&network(), alice.unsigned(spend(Address::ZERO, 1), GAS, PRICE));
    trailing.push(0);
    for bytes in [Vec::new(), vec![2; 10], vec![1; MAX_TX_SIZE + 1], trailing] {
        let receipt = chain.apply(&bytes);
        assert!(matches!(receipt.status, TxStatus::Ineffective(Ineffective::Undecodable(_))), "{receipt:?}");
        assert_eq!((receipt.principal, receipt.nonce), (None, None));
    }
}

#[test]
fn the_principal_must_be_spawned_or_spawn_itself_correctly() {
    let mut chain = Chain::new();
    let alice = Wallet::new(chain.wallet, 7);
    let bob = Wallet::new(chain.wallet, 8);
    chain.fund(alice.address, RICH);

    // Funded, not spawned, no template.
    let receipt = chain.apply(&alice.sign(&network(), alice.unsigned(spend(bob.address, 1), GAS, PRICE)));
    assert_eq!(receipt.status, ineffective(Ineffective::NotSpawned));

    // Self-spawns with a bad template, payload or state.
    let spawn = |template: Option<Address>, payload: Vec<u8>| {
        let mut tx = alice.unsigned(payload, GAS, PRICE);
        tx.template = template;
        alice.sign(&network(), tx)
    };
    let unknown = template_address(b"no such code");
    let receipt = chain.apply(&spawn(Some(unknown), alice.spawn_payload()));
    assert_eq!(receipt.status, ineffective(Ineffective::UnknownTemplate(unknown)));
    let receipt = chain.apply(&spawn(Some(alice.address), alice.spawn_payload()));
    assert_eq!(receipt.status, ineffective(Ineffective::UnknownTemplate(alice.address)), "a program is no template");
    let receipt = chain.apply(&spawn(Some(chain.wallet), spend(bob.address, 1)));
    assert_eq!(receipt.status, ineffective(Ineffective::NotASpawnPayload));
    let receipt = chain.apply(&spawn(Some(chain.wallet), bob.spawn_payload()));
    assert_eq!(receipt.status, ineffective(Ineffective::PrincipalMismatch { derived: bob.address }));
    assert_eq!(chain.account(alice.address).unwrap(), Account { balance: RICH, nonce: 0, template: None });

    // A plain account (no template) cannot send transactions either.
    let plain = Address::new([0x44; 24]);
    chain.fund(plain, RICH);
    let receipt = chain.apply(&alice.sign(&network(), unsigned(plain, spend(bob.address, 1), GAS)));
    assert_eq!(receipt.status, ineffective(Ineffective::NotSpawned));
}

#[test]
fn the_nonce_must_be_the_accounts_next_one() {
    let (mut chain, mut alice) = with_alice();
    let bob = Wallet::new(chain.wallet, 8);
    let done = alice.tx(spend(bob.address, 1));
    assert!(chain.apply(&done).is_success());
    assert_eq!(chain.nonce(alice.address), 2);

    let receipt = chain.apply(&done);
    assert_eq!(receipt.status, ineffective(Ineffective::NonceTooLow { expected: 2, got: 1 }), "a replay");
    let mut future = alice.unsigned(spend(bob.address, 1), GAS, PRICE);
    future.nonce = 5;
    let receipt = chain.apply(&alice.sign(&network(), future));
    assert_eq!(receipt.status, ineffective(Ineffective::NonceTooHigh { expected: 2, got: 5 }));
    assert_eq!(receipt.nonce, Some(5));
    assert!(chain.apply(&alice.tx(spend(bob.address, 1))).is_success(), "the right nonce still works");
}

#[test]
fn a_replay_on_another_network_or_a_bad_signature_is_ineffective() {
    let (mut chain, alice) = with_alice();
    let bob = Wallet::new(chain.wallet, 8);
    let tx = alice.unsigned(spend(bob.address, 1), GAS, PRICE);

    // Signed for another genesis id.
    let receipt = chain.apply(&alice.sign(&other_network(), tx.clone()));
    assert_eq!(receipt.status, ineffective(Ineffective::VerifyRejected));
    // The same bytes on a chain with the other genesis id (same state):
    // rejected there, valid here.
    let bytes = alice.sign(&network(), tx.clone());
    chain.block.network = other_network();
    assert_eq!(chain.apply(&bytes).status, ineffective(Ineffective::VerifyRejected));
    chain.block.network = network();

    // A corrupted signature, another key's signature, a short one.
    let mut corrupt = athena_transaction::decode(&bytes).unwrap();
    corrupt.authenticator[10] ^= 1;
    assert_eq!(chain.apply(&corrupt.encode()).status, ineffective(Ineffective::VerifyRejected));
    let mallory = Wallet::new(chain.wallet, 9);
    assert_eq!(chain.apply(&mallory.sign(&network(), tx.clone())).status, ineffective(Ineffective::VerifyRejected));
    let mut short = athena_transaction::decode(&bytes).unwrap();
    short.authenticator.pop();
    assert_eq!(chain.apply(&short.encode()).status, ineffective(Ineffective::VerifyRejected));

    // A self-spawn signed for another network.
    let mut carol = Wallet::new(chain.wallet, 10);
    chain.fund(carol.address, RICH);
    let mut spawn = carol.unsigned(carol.spawn_payload(), GAS, PRICE);
    spawn.template = Some(chain.wallet);
    assert_eq!(chain.apply(&carol.sign(&other_network(), spawn)).status, ineffective(Ineffective::VerifyRejected));
    assert_eq!(chain.account(carol.address).unwrap().template, None);
    carol.spawn(&mut chain);

    assert!(chain.apply(&bytes).is_success(), "the original is fine");
}

#[test]
fn the_principal_must_prepay_the_whole_gas_limit() {
    let (mut chain, alice) = with_alice();
    let bob = Wallet::new(chain.wallet, 8);
    let balance = chain.balance(alice.address);

    // Unaffordable, and a product that does not fit in a u64.
    for (gas_limit, gas_price) in [(balance / PRICE + 1, PRICE), (GAS, u64::MAX / 2)] {
        let tx = UnsignedTransaction { gas_limit, gas_price, ..alice.unsigned(spend(bob.address, 1), 0, 0) };
        let receipt = chain.apply(&alice.sign(&network(), tx));
        assert_eq!(receipt.status, ineffective(Ineffective::CannotPayGas { balance, gas_limit, gas_price }));
    }

    // An unfunded wallet cannot spawn itself at a non-zero price...
    let mut carol = Wallet::new(chain.wallet, 10);
    let bytes = carol.spawn_tx();
    assert!(matches!(chain.apply(&bytes).status, TxStatus::Ineffective(Ineffective::CannotPayGas { .. })));
    // ...and can with exactly the prepayment; the unused part comes back.
    chain.fund(carol.address, GAS * PRICE);
    let receipt = chain.apply(&bytes);
    assert!(receipt.is_success(), "{receipt:?}");
    assert_eq!(chain.balance(carol.address), GAS * PRICE - receipt.fee);
}

#[test]
fn the_gas_limit_covers_the_intrinsic_gas_and_bounds_verify() {
    let (mut chain, alice) = with_alice();
    let bob = Wallet::new(chain.wallet, 8);
    let sized = |gas_limit| alice.sign(&network(), alice.unsigned(spend(bob.address, 1), gas_limit, PRICE));
    let intrinsic = intrinsic_gas(sized(0).len(), None);

    let receipt = chain.apply(&sized(intrinsic - 1));
    assert_eq!(receipt.status, ineffective(Ineffective::IntrinsicGas { gas_limit: intrinsic - 1, intrinsic }));
    // Enough for the intrinsic gas, not for verify (an ed25519 check alone
    // is 20 000): verify runs out of what the limit leaves.
    let receipt = chain.apply(&sized(intrinsic + 1_000));
    assert_eq!(receipt.status, ineffective(Ineffective::VerifyFailed(HookError::Status(StatusCode::OutOfGas))));
    // Enough for verify and max_spend but not for the payload: effective,
    // fails, pays the whole limit.
    let full = chain.dry_run(&sized(GAS)).gas;
    let limit = intrinsic + full.verify + full.max_spend + 1;
    let receipt = chain.apply(&sized(limit));
    assert_eq!(receipt.status, TxStatus::Failed(Failure::Payload(StatusCode::OutOfGas)), "{receipt:?}");
    assert_eq!(receipt.gas_used, limit);
    assert_eq!(receipt.gas.payload, 1);
}

#[test]
fn a_verify_that_loops_forever_is_bounded() {
    let mut chain = Chain::new();
    let looping = test_auth(&mut chain, 0, RICH);
    let gas_limit = 1_000_000_000;
    let bytes = unsigned(looping, Vec::new(), gas_limit).with_authenticator(Vec::new()).encode();
    let start = std::time::Instant::now();
    let receipt = chain.apply(&bytes);
    assert_eq!(receipt.status, ineffective(Ineffective::VerifyFailed(HookError::Status(StatusCode::OutOfGas))));
    assert!(start.elapsed().as_secs() < 60, "bounded by VERIFY_GAS_LIMIT ({VERIFY_GAS_LIMIT}), not the gas limit");
    assert_eq!(chain.balance(looping), RICH, "nobody pays for it");

    // The same template self-spawning: no program appears.
    let state = (0u8, 99u64).encode();
    let principal = athena_transaction::program_address(&chain.test_auth, &state);
    chain.fund(principal, RICH);
    let mut payload = athena_transaction::selector("spawn").to_vec();
    payload.extend_from_slice(&state);
    let tx = UnsignedTransaction { template: Some(chain.test_auth), ..unsigned(principal, payload, GAS) };
    let receipt = chain.apply(&tx.with_authenticator(Vec::new()).encode());
    assert_eq!(receipt.status, ineffective(Ineffective::VerifyFailed(HookError::Status(StatusCode::OutOfGas))));
    assert_eq!(chain.account(principal).unwrap().template, None);
}

#[test]
fn verify_must_answer_true() {
    let mut chain = Chain::new();
    let reverting = test_auth(&mut chain, 1, RICH);
    let bytes = unsigned(reverting, Vec::new(), GAS).with_authenticator(Vec::new()).encode();
    let receipt = chain.apply(&bytes);
    assert_eq!(receipt.status, ineffective(Ineffective::VerifyFailed(HookError::Status(StatusCode::Revert))));
    assert_eq!(receipt.revert_message(), Some("test-auth: verify reverts"));

    let refusing = test_auth(&mut chain, 5, RICH);
    let bytes = unsigned(refusing, Vec::new(), GAS).with_authenticator(Vec::new()).encode();
    assert_eq!(chain.apply(&bytes).status, ineffective(Ineffective::VerifyRejected));
}

#[test]
fn a_failing_max_spend_makes_the_transaction_fail_not_free() {
    let mut chain = Chain::new();
    let looping = test_auth(&mut chain, 2, RICH);
    let bytes = unsigned(looping, call("deposit", &()), GAS).with_authenticator(Vec::new()).encode();
    let receipt = chain.apply(&bytes);
    assert_eq!(receipt.status, TxStatus::Failed(Failure::MaxSpendFailed(HookError::Status(StatusCode::OutOfGas))));
    assert_eq!((receipt.gas.max_spend, receipt.gas.payload), (MAX_SPEND_GAS_LIMIT, 0), "bounded; payload not run");
    assert_eq!(chain.balance(looping), RICH - receipt.fee);

    let reverting = test_auth(&mut chain, 3, RICH);
    let bytes = unsigned(reverting, call("deposit", &()), GAS).with_authenticator(Vec::new()).encode();
    let receipt = chain.apply(&bytes);
    assert_eq!(receipt.status, TxStatus::Failed(Failure::MaxSpendFailed(HookError::Status(StatusCode::Revert))));
    assert_eq!(receipt.revert_message(), Some("test-auth: max_spend reverts"));
}

#[test]
fn a_failed_transaction_changes_only_the_principal_and_the_fee_recipient() {
    let mut chain = Chain::new();
    let principal = test_auth(&mut chain, 4, RICH);
    let fail = unsigned(principal, call("no_such_method", &()), GAS);
    let receipt = chain.apply(&fail.with_authenticator(Vec::new()).encode());
    assert_eq!(receipt.status, TxStatus::Failed(Failure::Payload(StatusCode::Revert)));
    assert!(receipt.revert_message().unwrap().contains("unknown selector"), "{receipt:?}");
    let touched: Vec<Address> = receipt.changes.accounts.keys().copied().collect();
    let mut expected = vec![principal, COINBASE];
    expected.sort();
    assert_eq!(touched, expected);
    assert!(receipt.changes.storage.is_empty() && receipt.changes.states.is_empty());
    assert!(receipt.changes.templates.is_empty());
}

#[test]
fn the_fee_recipient_may_be_the_principal() {
    let (mut chain, mut alice) = with_alice();
    chain.block.fee_recipient = alice.address;
    let before = chain.balance(alice.address);
    let receipt = chain.apply(&alice.tx(spend(Address::new([0x55; 24]), 10)));
    assert!(receipt.is_success() && receipt.fee > 0, "{receipt:?}");
    assert_eq!(chain.balance(alice.address), before - 10, "pays itself the fee");
}

/// A backend that fails reads of one account.
struct Failing<'a> {
    inner: &'a MemoryState,
    broken: Address,
}

impl StateReader for Failing<'_> {
    fn account(&self, address: &Address) -> Result<Option<Account>, StateError> {
        if *address == self.broken {
            return Err(StateError::Backend("disk on fire".into()));
        }
        self.inner.account(address)
    }
    fn storage(&self, address: &Address, key: &Bytes32) -> Result<Bytes32, StateError> {
        self.inner.storage(address, key)
    }
    fn program_state(&self, address: &Address) -> Result<Vec<u8>, StateError> {
        self.inner.program_state(address)
    }
    fn template_code(&self, template: &Address) -> Result<Option<Arc<[u8]>>, StateError> {
        self.inner.template_code(template)
    }
}

#[test]
fn a_backend_failure_is_an_error_not_an_outcome() {
    let (chain, mut alice) = with_alice();
    let bytes = alice.tx(spend(Address::new([0x55; 24]), 10));
    let expected = Err(ApplyError::State(StateError::Backend("disk on fire".into())));
    // Reading the principal, or the fee recipient at the very end.
    for broken in [alice.address, COINBASE] {
        let state = Failing { inner: &chain.state, broken };
        assert_eq!(apply_transaction(&state, &chain.block, &bytes, &chain.config), expected, "{broken}");
    }
}

//! Scenarios with the k-of-n multisig template (`guest/templates/multisig`)
//! through `apply_transaction`: self-spawn and spend of a 2-of-3 account,
//! authenticators with too few, repeated, unordered or foreign signatures
//! (ineffective), key sets `spawn` rejects, proxy/deploy like the wallet,
//! authorisation, and the `verify` cost of a 10-of-10 account. Every
//! transaction also goes through `tx_common::Chain::apply`'s invariant
//! checks.

mod tx_common;

use athena_interface::{Address, StatusCode};
use athena_runtime::tx::{Failure, Ineffective, TxStatus, VERIFY_GAS_LIMIT};
use athena_transaction::{program_address, template_address};
use ed25519_dalek::{Signer, SigningKey};
use parity_scale_codec::Encode;
use tx_common::*;

/// A chain with the multisig template, and a funded, spawned 2-of-3
/// account (keys with seeds 1, 2, 3).
fn with_2_of_3() -> (Chain, Multisig) {
    let mut chain = Chain::new();
    let template = chain.genesis_template(&guest("multisig"));
    let mut multisig = Multisig::new(template, 2, &[1, 2, 3]);
    chain.fund(multisig.address, RICH);
    multisig.spawn(&mut chain);
    (chain, multisig)
}

fn rejected() -> TxStatus {
    TxStatus::Ineffective(Ineffective::VerifyRejected)
}

#[test]
fn a_2_of_3_account_spawns_itself_and_spends_with_any_two_keys() {
    let mut chain = Chain::new();
    let template = chain.genesis_template(&guest("multisig"));
    let mut multisig = Multisig::new(template, 2, &[1, 2, 3]);
    chain.fund(multisig.address, RICH);

    // The self-spawn is signed like any transaction (here by keys 0 and 2).
    let bytes = multisig.spawn_tx(&[0, 2]);
    let receipt = chain.apply(&bytes);
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
    assert_eq!(receipt.output, multisig.address.as_bytes());
    assert_eq!(chain.account(multisig.address).unwrap().template, Some(template));
    eprintln!("multisig 2-of-3 self-spawn: {} gas {:?} ({} bytes)", receipt.gas_used, receipt.gas, bytes.len());

    // A single-sig wallet's spend, to compare.
    let mut alice = Wallet::new(chain.wallet, 7);
    chain.fund(alice.address, RICH);
    alice.spawn(&mut chain);
    let bob = Wallet::new(chain.wallet, 8);
    let single = chain.apply(&alice.tx(spend(bob.address, 1)));
    assert_eq!(single.status, TxStatus::Succeeded, "{single:?}");

    let mut total = 0;
    for (signers, amount) in [([0u8, 1u8], 1_000u64), ([0, 2], 20), ([1, 2], 300)] {
        let before = chain.balance(multisig.address);
        let bytes = multisig.tx(spend(bob.address, amount), &signers);
        let receipt = chain.apply(&bytes);
        assert_eq!(receipt.status, TxStatus::Succeeded, "{signers:?}: {receipt:?}");
        total += amount;
        assert_eq!(chain.balance(multisig.address), before - amount - receipt.fee);
        assert_eq!(chain.balance(bob.address), 1 + total);
        if signers == [0, 1] {
            eprintln!("multisig 2-of-3 spend: {} gas {:?} ({} bytes)", receipt.gas_used, receipt.gas, bytes.len());
            eprintln!("wallet spend, same recipient: {} gas {:?}", single.gas_used, single.gas);
            // Two ed25519 checks (20 000 each) instead of one; the rest is
            // the same work plus a longer authenticator and state.
            assert!(receipt.gas.verify >= single.gas.verify + 20_000, "{:?} vs {:?}", receipt.gas, single.gas);
            assert!(receipt.gas.verify < 2 * single.gas.verify + 10_000);
            assert!(receipt.gas.intrinsic > single.gas.intrinsic, "a longer authenticator");
            assert!(receipt.gas_used < single.gas_used + 40_000);
        }
    }
    assert_eq!(chain.nonce(multisig.address), 4);
}

#[test]
fn too_few_repeated_unordered_or_foreign_signatures_are_ineffective() {
    let (mut chain, multisig) = with_2_of_3();
    let bob = Wallet::new(chain.wallet, 8);
    let unsigned = || multisig.unsigned(spend(bob.address, 5), GAS, PRICE);
    let message = unsigned().signing_bytes(&network());
    let signature = |seed: u8| SigningKey::from_bytes(&[seed; 32]).sign(&message).to_bytes();
    let with = |authenticator: Vec<u8>| unsigned().with_authenticator(authenticator).encode();
    let before = chain.balance(multisig.address);

    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("one signature", multisig.sign(&network(), unsigned(), &[1])),
        ("no signature", multisig.sign(&network(), unsigned(), &[])),
        ("the same signature twice", multisig.sign(&network(), unsigned(), &[1, 1])),
        ("decreasing indices", multisig.sign(&network(), unsigned(), &[2, 0])),
        ("three signatures for k = 2", multisig.sign(&network(), unsigned(), &[0, 1, 2])),
        ("a key that is not a member", with(vec![(0u8, signature(1)), (1u8, signature(9))].encode())),
        ("a member's signature under another index", with(vec![(0u8, signature(1)), (1u8, signature(3))].encode())),
        ("an index out of range", with(vec![(0u8, signature(1)), (3u8, signature(3))].encode())),
        ("another network", multisig.sign(&other_network(), unsigned(), &[0, 1])),
        ("a plain 64-byte signature", with(signature(1).to_vec())),
        ("garbage", with(vec![0xff; 7])),
    ];
    for (what, bytes) in cases {
        let receipt = chain.apply(&bytes);
        assert_eq!(receipt.status, rejected(), "{what}: {receipt:?}");
    }
    // A trailing byte after two valid entries.
    let mut authenticator = multisig.authenticator(&message, &[0, 1]);
    authenticator.push(0);
    assert_eq!(chain.apply(&with(authenticator)).status, rejected());

    assert_eq!(chain.balance(multisig.address), before, "nothing was paid");
    assert_eq!(chain.nonce(multisig.address), 1);
    // The same transaction with two distinct keys goes through.
    let receipt = chain.apply(&multisig.sign(&network(), unsigned(), &[0, 2]));
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
    assert_eq!(chain.balance(bob.address), 5);
}

#[test]
fn spawn_rejects_degenerate_key_sets() {
    let mut chain = Chain::new();
    let template = chain.genesis_template(&guest("multisig"));
    let mut alice = Wallet::new(chain.wallet, 7);
    chain.fund(alice.address, RICH);
    alice.spawn(&mut chain);
    let key = |seed: u8| SigningKey::from_bytes(&[seed; 32]).verifying_key().to_bytes();

    let eleven: Vec<[u8; 32]> = (1..=11).map(key).collect();
    let bad: Vec<(&str, u8, Vec<[u8; 32]>)> = vec![
        ("k = 0", 0, vec![key(1), key(2)]),
        ("k > n", 3, vec![key(1), key(2)]),
        ("no keys", 1, vec![]),
        ("a duplicate key", 2, vec![key(1), key(2), key(1)]),
        ("11 keys", 1, eleven),
    ];
    for (what, k, keys) in bad {
        let state = (k, keys).encode();
        let receipt = chain.apply(&alice.tx(call("spawn_program", &(template.into_bytes(), state.clone()))));
        assert_eq!(receipt.status, TxStatus::Failed(Failure::Payload(StatusCode::Revert)), "{what}: {receipt:?}");
        assert_eq!(receipt.revert_message(), Some("wallet: spawn failed"), "{what}");
        assert_eq!(chain.account(program_address(&template, &state)), None, "{what}: nothing created");
    }

    // A self-spawn with a duplicate key: verify already refuses it, even
    // though one key signing "twice" under two indices is a valid-looking
    // authenticator (else the address's coins would pay for a spawn that
    // must fail).
    let twice = SigningKey::from_bytes(&[1; 32]);
    let mut dup = Multisig::new(template, 2, &[1, 2]);
    dup.keys = vec![twice.clone(), twice];
    dup.address = program_address(&template, &dup.state());
    chain.fund(dup.address, RICH);
    let receipt = chain.apply(&dup.spawn_tx(&[0, 1]));
    assert_eq!(receipt.status, rejected(), "{receipt:?}");
    assert_eq!(chain.balance(dup.address), RICH);

    // The smallest key set is fine (10-of-10: the next test).
    let receipt = chain.apply(&alice.tx(call("spawn_program", &(template.into_bytes(), (1u8, vec![key(1)]).encode()))));
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
}

#[test]
fn a_10_of_10_account_verifies_within_the_budget() {
    let mut chain = Chain::new();
    let template = chain.genesis_template(&guest("multisig"));
    let seeds: Vec<u8> = (1..=10).collect();
    let mut multisig = Multisig::new(template, 10, &seeds);
    chain.fund(multisig.address, RICH);
    multisig.spawn(&mut chain);
    let all: Vec<u8> = (0..10).collect();
    let bytes = multisig.tx(spend(Wallet::new(chain.wallet, 8).address, 9), &all);
    let receipt = chain.apply(&bytes);
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
    eprintln!("multisig 10-of-10 spend: {} gas {:?} ({} bytes)", receipt.gas_used, receipt.gas, bytes.len());
    assert!(receipt.gas.verify >= 10 * 20_000);
    assert!(receipt.gas.verify < VERIFY_GAS_LIMIT / 2, "room to spare: {:?}", receipt.gas);
    // Nine of ten is not enough.
    let receipt =
        chain.apply(&multisig.sign(&network(), multisig.unsigned(spend(Address::ZERO, 1), GAS, PRICE), &all[1..]));
    assert_eq!(receipt.status, rejected());
}

#[test]
fn proxy_deploy_and_spawn_work_like_the_wallet() {
    let (mut chain, mut multisig) = with_2_of_3();
    let code = guest("counter");
    let receipt = chain.apply(&multisig.tx(call("deploy", &(code.clone(),)), &[0, 1]));
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
    let template = template_address(&code);
    assert_eq!(receipt.output, template.as_bytes());

    let state = 5u64.encode();
    let receipt = chain.apply(&multisig.tx(call("spawn_program", &(template.into_bytes(), state.clone())), &[1, 2]));
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
    let counter = program_address(&template, &state);

    let before = chain.balance(multisig.address);
    let receipt = chain.apply(&multisig.tx(proxy(counter, call("increment", &(2u64,)), 77), &[0, 2]));
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
    assert_eq!(receipt.output, 10u64.encode(), "the callee's output, unchanged");
    assert_eq!(receipt.logs[0].data, (multisig.address.into_bytes(), 10u64).encode(), "the caller is the account");
    assert_eq!(chain.balance(counter), 77);
    assert_eq!(chain.balance(multisig.address), before - 77 - receipt.fee);

    // max_spend is the proxy's value: moving more through a self-proxy fails.
    let bob = Wallet::new(chain.wallet, 8).address;
    let receipt = chain.apply(&multisig.tx(proxy(multisig.address, spend(bob, 50), 0), &[0, 1]));
    assert_eq!(receipt.status, TxStatus::Failed(Failure::MaxSpendExceeded { spent: 50, allowed: 0 }));

    // A wallet receiving coins from the multisig, and paying it back.
    let mut alice = Wallet::new(chain.wallet, 7);
    chain.fund(alice.address, RICH);
    alice.spawn(&mut chain);
    let receipt = chain.apply(&alice.tx(spend(multisig.address, 123)));
    assert_eq!(receipt.status, TxStatus::Succeeded, "the multisig's deposit accepts coins: {receipt:?}");
}

#[test]
fn only_the_account_itself_moves_its_coins() {
    let (mut chain, multisig) = with_2_of_3();
    let mut alice = Wallet::new(chain.wallet, 7);
    chain.fund(alice.address, RICH);
    alice.spawn(&mut chain);
    let before = chain.balance(multisig.address);
    for payload in [
        spend(alice.address, 1_000),
        proxy(alice.address, call("deposit", &()), 1_000),
        call("deploy", &(vec![0u8; 24],)),
        call("spawn_program", &(template_address(b"x").into_bytes(), Vec::<u8>::new())),
    ] {
        let receipt = chain.apply(&alice.tx(proxy(multisig.address, payload, 0)));
        assert_eq!(receipt.status, TxStatus::Failed(Failure::Payload(StatusCode::Revert)), "{receipt:?}");
        assert_eq!(receipt.revert_message(), Some("multisig: only the account itself may call this"));
    }
    assert_eq!(chain.balance(multisig.address), before);
}

/// The dry run that skips a refusing `verify` (what `athena multisig
/// propose` estimates with): an unsigned 3-of-3 spend, its authenticator `k`
/// well-formed entries with zero signatures, runs `max_spend` and the
/// payload exactly as the signed one does; only `verify` differs, by the
/// two ed25519 checks it did not reach (plus their loop). Block execution
/// (`apply_transaction`) still refuses it, and so does a plain dry run.
#[test]
fn a_dry_run_ignoring_verify_costs_the_signed_transaction_minus_the_unreached_checks() {
    use athena_engine::gas::{blocks, ED25519_VERIFY, ED25519_VERIFY_PER_BLOCK};
    use athena_runtime::tx::{apply_transaction, dry_run_transaction, DryRunOptions};

    let mut chain = Chain::new();
    let template = chain.genesis_template(&guest("multisig"));
    let mut multisig = Multisig::new(template, 3, &[1, 2, 3]);
    chain.fund(multisig.address, RICH);
    multisig.spawn(&mut chain);
    let bob = Wallet::new(chain.wallet, 8).address;

    let unsigned = multisig.unsigned(spend(bob, 777), GAS, PRICE);
    let message = unsigned.signing_bytes(&network());
    let zeros: Vec<(u8, [u8; 64])> = (0..multisig.k).map(|i| (i, [0; 64])).collect();
    let unsigned_bytes = unsigned.clone().with_authenticator(zeros.encode()).encode();
    let signed_bytes = multisig.sign(&network(), unsigned, &[0, 1, 2]);
    assert_eq!(unsigned_bytes.len(), signed_bytes.len(), "same size: same intrinsic gas");

    let estimate = DryRunOptions { ignore_verify: true };
    let dry = dry_run_transaction(&chain.state, &chain.block, &unsigned_bytes, &chain.config, estimate).unwrap();
    assert_eq!(dry.verify_accepted, Some(false));
    assert_eq!(dry.receipt.status, TxStatus::Succeeded, "{:?}", dry.receipt);
    assert!(dry.receipt.changes.is_empty(), "a dry run's receipt cannot be committed");

    let signed = chain.dry_run(&signed_bytes);
    assert_eq!(signed.status, TxStatus::Succeeded, "{signed:?}");
    let (e, s) = (dry.receipt.gas, signed.gas);
    assert_eq!((e.intrinsic, e.max_spend, e.payload), (s.intrinsic, s.max_spend, s.payload), "{e:?} vs {s:?}");
    assert_eq!(dry.receipt.gas_used + (s.verify - e.verify), signed.gas_used);
    let check = ED25519_VERIFY + blocks(message.len() as u32) * ED25519_VERIFY_PER_BLOCK;
    let unreached = s.verify - e.verify;
    assert!(unreached >= 2 * check && unreached < 2 * check + 2_000, "{unreached} vs 2 × {check}");

    // The signed one, dry-run the same way, says verify accepted.
    let same = dry_run_transaction(&chain.state, &chain.block, &signed_bytes, &chain.config, estimate).unwrap();
    assert_eq!(same.verify_accepted, Some(true));
    assert_eq!(same.receipt.gas_used, signed.gas_used);

    // Without the option, and in a block: refused, nothing charged.
    let plain =
        dry_run_transaction(&chain.state, &chain.block, &unsigned_bytes, &chain.config, DryRunOptions::default())
            .unwrap();
    assert_eq!((plain.receipt.status, plain.verify_accepted), (rejected(), Some(false)));
    let applied = apply_transaction(&chain.state, &chain.block, &unsigned_bytes, &chain.config).unwrap();
    assert_eq!((applied.status, applied.gas_used), (rejected(), 0));
    assert!(applied.changes.is_empty());

    // A payload that fails shows up in the estimate (more than the balance).
    let too_much = multisig.unsigned(spend(bob, RICH * 2), GAS, PRICE).with_authenticator(zeros.encode()).encode();
    let dry = dry_run_transaction(&chain.state, &chain.block, &too_much, &chain.config, estimate).unwrap();
    assert!(matches!(dry.receipt.status, TxStatus::Failed(_)), "{:?}", dry.receipt);
}

//! Scenarios with the single-sig wallet template (`guest/templates/wallet`)
//! through `apply_transaction`: self-spawn of a funded address, spends,
//! deploying and spawning a template and calling it through `proxy`,
//! failures that keep the fee and nonce. Every transaction also goes
//! through the invariant checks of `tx_common::Chain::apply` (fee = gas
//! used × price, coins conserved, nonce bumped, determinism).

mod tx_common;

use athena_interface::{Address, Bytes32, StatusCode};
use athena_runtime::tx::{intrinsic_gas, Failure, Ineffective, TxStatus};
use athena_runtime::StateReader;
use athena_transaction::{program_address, template_address};
use parity_scale_codec::Encode;
use tx_common::*;

#[test]
fn a_funded_wallet_spawns_itself_and_pays_for_it() {
    let mut chain = Chain::new();
    let mut alice = Wallet::new(chain.wallet, 7);
    chain.fund(alice.address, RICH);
    assert_eq!(chain.account(alice.address).unwrap().template, None, "coins before the program");

    let bytes = alice.spawn_tx();
    let receipt = alice_spawn_receipt(&mut chain, &bytes);
    assert_eq!(receipt.output, alice.address.as_bytes(), "a spawn returns the address");
    let account = chain.account(alice.address).unwrap();
    assert_eq!(account.template, Some(chain.wallet));
    assert_eq!(account.nonce, 1);
    assert_eq!(chain.state.program_state(&alice.address).unwrap(), alice.public_key());
    assert!(receipt.fee > 0);
    assert_eq!(account.balance, RICH - receipt.fee, "only the fee was paid");
    assert_eq!(chain.balance(COINBASE), receipt.fee);
    assert!(
        receipt.gas_used > intrinsic_gas(bytes.len(), Some(32)),
        "verify and the spawn method ran on top of the intrinsic gas"
    );
    eprintln!("wallet self-spawn: {} gas {:?} ({} bytes)", receipt.gas_used, receipt.gas, bytes.len());

    // The same transaction again is a replay: the wallet exists now.
    let again = chain.apply(&bytes);
    assert_eq!(again.status, TxStatus::Ineffective(Ineffective::AlreadySpawned));
}

fn alice_spawn_receipt(chain: &mut Chain, bytes: &[u8]) -> athena_runtime::tx::Receipt {
    let receipt = chain.apply(bytes);
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
    receipt
}

#[test]
fn spend_to_a_new_address_and_to_a_spawned_wallet() {
    let (mut chain, mut alice) = with_alice();
    let mut bob = Wallet::new(chain.wallet, 8);

    // Bob's wallet does not exist yet: a plain transfer creates the account.
    let before = chain.balance(alice.address);
    let bytes = alice.tx(spend(bob.address, 100_000_000));
    let receipt = chain.apply(&bytes);
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
    assert_eq!(chain.balance(bob.address), 100_000_000);
    assert_eq!(chain.balance(alice.address), before - 100_000_000 - receipt.fee);
    assert!(receipt.output.is_empty() && receipt.logs.is_empty());
    eprintln!("wallet spend to a new account: {} gas {:?} ({} bytes)", receipt.gas_used, receipt.gas, bytes.len());

    // Bob spawns with those coins; Alice pays him again, now a program
    // (its `deposit` method accepts the coins).
    let spawn = bob.spawn(&mut chain);
    assert_eq!(chain.balance(bob.address), 100_000_000 - spawn.fee);
    let bytes = alice.tx(spend(bob.address, 5));
    let receipt = chain.apply(&bytes);
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
    assert_eq!(chain.balance(bob.address), 100_000_000 - spawn.fee + 5);
    eprintln!("wallet spend to a spawned wallet: {} gas {:?} ({} bytes)", receipt.gas_used, receipt.gas, bytes.len());

    // And Bob pays Alice back.
    let receipt = chain.apply(&bob.tx(spend(alice.address, 1)));
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");

    // More than the balance (after the prepaid gas): failed, fee kept.
    let before = chain.balance(alice.address);
    let receipt = chain.apply(&alice.tx(spend(bob.address, before)));
    assert_eq!(receipt.status, TxStatus::Failed(Failure::Payload(StatusCode::Revert)), "{receipt:?}");
    assert_eq!(receipt.revert_message(), Some("wallet: insufficient balance"));
    assert_eq!(chain.balance(alice.address), before - receipt.fee);
}

#[test]
fn deploy_spawn_and_call_a_template_through_the_wallet() {
    let (mut chain, mut alice) = with_alice();
    let code = guest("counter");

    let bytes = alice.tx(call("deploy", &(code.clone(),)));
    let receipt = chain.apply(&bytes);
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
    let template = template_address(&code);
    assert_eq!(receipt.output, template.as_bytes(), "deploy returns the template address");
    assert!(chain.state.has_template(&template).unwrap());
    eprintln!(
        "wallet deploy of {} bytes: {} gas {:?} ({} bytes)",
        code.len(),
        receipt.gas_used,
        receipt.gas,
        bytes.len()
    );

    // An instance with step 2 (the counter's state is SCALE(u64)).
    let state = 2u64.encode();
    let receipt = chain.apply(&alice.tx(call("spawn_program", &(template.into_bytes(), state.clone()))));
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
    let counter = program_address(&template, &state);
    assert_eq!(receipt.output, counter.as_bytes());
    assert_eq!(chain.account(counter).unwrap().template, Some(template));

    // Calls through proxy return the callee's output as is.
    let receipt = chain.apply(&alice.tx(proxy(counter, call("increment", &(3u64,)), 0)));
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
    assert_eq!(receipt.output, 6u64.encode());
    assert_eq!(receipt.logs.len(), 1);
    let topic = Bytes32::new(*blake3::hash(b"counter/incremented").as_bytes());
    assert_eq!((receipt.logs[0].address, receipt.logs[0].topics.as_slice()), (counter, &[topic][..]));
    // The counter saw the wallet as its caller.
    assert_eq!(receipt.logs[0].data, (alice.address.into_bytes(), 6u64).encode());

    // With value.
    let before = chain.balance(alice.address);
    let receipt = chain.apply(&alice.tx(proxy(counter, call("increment", &(1u64,)), 42)));
    assert_eq!(receipt.output, 8u64.encode(), "{receipt:?}");
    assert_eq!(chain.balance(counter), 42);
    assert_eq!(chain.balance(alice.address), before - 42 - receipt.fee);

    // A reverting callee: its message comes back, its value and effects
    // are undone, the fee is paid.
    let before = chain.balance(alice.address);
    let receipt = chain.apply(&alice.tx(proxy(counter, call("increment", &(u64::MAX,)), 10)));
    assert_eq!(receipt.status, TxStatus::Failed(Failure::Payload(StatusCode::Revert)), "{receipt:?}");
    assert_eq!(receipt.revert_message(), Some("counter: overflow"));
    assert_eq!(chain.balance(counter), 42);
    assert_eq!(chain.balance(alice.address), before - receipt.fee);
    let receipt = chain.apply(&alice.tx(proxy(counter, call("get", &()), 0)));
    assert_eq!(receipt.output, 8u64.encode());
}

#[test]
fn out_of_gas_in_a_nested_call_reverts_everything_but_the_fee_and_nonce() {
    let (mut chain, mut alice) = with_alice();
    // test-auth's `spin` writes storage, then loops until out of gas.
    let spinner = chain.genesis_program(chain.test_auth, &(4u8, 1u64).encode(), 0);
    let before = chain.balance(alice.address);
    let nonce = chain.nonce(alice.address);

    let receipt = chain.apply(&alice.tx(proxy(spinner, call("spin", &()), 5)));
    assert_eq!(receipt.status, TxStatus::Failed(Failure::Payload(StatusCode::Revert)), "{receipt:?}");
    assert_eq!(receipt.revert_message(), Some("wallet: call ran out of gas"));
    assert!(receipt.gas_used > GAS / 2, "the callee burnt most of the gas: {}", receipt.gas_used);
    assert_eq!(chain.balance(spinner), 0, "the value went back");
    assert_eq!(chain.state.storage_of(&spinner).count(), 0, "the callee's write was undone");
    assert_eq!(chain.balance(alice.address), before - receipt.fee);
    assert_eq!(chain.nonce(alice.address), nonce + 1);

    // With a limit so tight that the wallet itself runs out: out_of_gas,
    // the whole limit is charged.
    let unsigned = alice.unsigned(proxy(spinner, call("spin", &()), 0), 120_000, PRICE);
    let bytes = alice.sign_for(&network(), unsigned);
    let receipt = chain.apply(&bytes);
    assert!(matches!(receipt.status, TxStatus::Failed(Failure::Payload(_))), "{receipt:?}");
    assert_eq!(chain.state.storage_of(&spinner).count(), 0);
}

#[test]
fn max_spend_is_enforced() {
    let (mut chain, mut alice) = with_alice();
    let bob = Wallet::new(chain.wallet, 8);
    // `proxy` to itself declares value 0 but makes the wallet spend 1000:
    // authorised (the wallet calls itself) but over max_spend.
    let before = chain.balance(alice.address);
    let receipt = chain.apply(&alice.tx(proxy(alice.address, spend(bob.address, 1000), 0)));
    assert_eq!(receipt.status, TxStatus::Failed(Failure::MaxSpendExceeded { spent: 1000, allowed: 0 }));
    assert_eq!(chain.balance(bob.address), 0);
    assert_eq!(chain.balance(alice.address), before - receipt.fee);

    // Declaring it through the proxy's value makes it fit.
    let receipt = chain.apply(&alice.tx(proxy(alice.address, spend(bob.address, 1000), 1000)));
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
    assert_eq!(chain.balance(bob.address), 1000);

    // A template that lies in max_spend (test-auth mode 4: 0, but `spend`
    // moves coins) cannot spend either.
    let liar = chain.genesis_program(chain.test_auth, &(4u8, 2u64).encode(), RICH);
    let mut tx = alice.unsigned(spend(bob.address, 7), GAS, PRICE);
    tx.principal = liar;
    tx.nonce = 0;
    let receipt = chain.apply(&tx.with_authenticator(Vec::new()).encode());
    assert_eq!(receipt.status, TxStatus::Failed(Failure::MaxSpendExceeded { spent: 7, allowed: 0 }));
    assert_eq!(chain.balance(bob.address), 1000);
}

#[test]
fn only_the_wallet_itself_moves_its_coins() {
    let (mut chain, mut alice) = with_alice();
    let mut bob = Wallet::new(chain.wallet, 8);
    chain.fund(bob.address, RICH);
    bob.spawn(&mut chain);
    let thief: Address = alice.address;
    let before = chain.balance(bob.address);
    let receipt = chain.apply(&alice.tx(proxy(bob.address, spend(thief, 1000), 0)));
    assert_eq!(receipt.status, TxStatus::Failed(Failure::Payload(StatusCode::Revert)));
    assert_eq!(receipt.revert_message(), Some("wallet: only the wallet itself may call this"));
    assert_eq!(chain.balance(bob.address), before);
    for method in ["deploy", "spawn_program"] {
        let receipt = chain.apply(&alice.tx(proxy(bob.address, call(method, &(vec![0u8; 24],)), 0)));
        assert!(matches!(receipt.status, TxStatus::Failed(_)), "{method}: {receipt:?}");
    }
}

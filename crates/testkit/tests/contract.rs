//! The testkit end to end with its demo contract (`tests/contracts/demo`,
//! built by `build_contract`): typed spawn state, calls by name with typed
//! arguments and results, revert messages, logs, value, gas, and typed
//! storage read back by name.

use athena_testkit::{build_contract, selector, Address, Chain, Error, Receipt, StatusCode};

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/contracts/demo");

fn topic(name: &str) -> athena_testkit::Bytes32 {
    athena_testkit::Bytes32::new(*blake3::hash(name.as_bytes()).as_bytes())
}

/// A chain with the demo deployed, a funded `alice`, and a counter spawned
/// by her with start value `start`.
fn demo(start: u64) -> (Chain, Address, Address, Receipt) {
    let mut chain = Chain::new();
    let alice = chain.create_account(1_000);
    let template = chain.deploy_contract(DEMO).expect("the demo contract builds and deploys");
    let receipt = chain.spawn(template, &start).from(alice).send();
    let counter = receipt.spawned_address().unwrap_or(Address::ZERO);
    (chain, alice, counter, receipt)
}

#[test]
fn building_is_cached_and_deploying_is_idempotent() {
    let code = build_contract(DEMO).unwrap();
    assert_eq!(build_contract(format!("{DEMO}/Cargo.toml")).unwrap(), code, "a manifest path works too");
    let mut chain = Chain::new();
    let template = chain.deploy(&code).unwrap();
    assert_eq!(template, athena_testkit::template_address(&code));
    assert_eq!(chain.deploy_contract(DEMO).unwrap(), template);
    assert_eq!(chain.template_code(template).as_deref(), Some(code.as_slice()));
}

#[test]
fn spawn_with_typed_state_runs_the_spawn_method() {
    let (chain, alice, counter, receipt) = demo(5);
    receipt.assert_success();
    assert_eq!(counter, athena_testkit::program_address(&chain.template_of(counter).unwrap(), &5u64.to_le_bytes()));
    assert_eq!(chain.program_state::<u64>(counter).unwrap(), 5);
    assert_eq!(chain.storage_value::<u64>(counter, "count").unwrap(), Some(5));
    assert_eq!(receipt.logs.len(), 1);
    assert_eq!((receipt.logs[0].address, receipt.logs[0].topics.as_slice()), (counter, &[topic("spawned")][..]));
    assert_eq!(chain.logs(), receipt.logs.as_slice());
    assert_eq!(chain.nonce(alice), 1);
    assert!(receipt.gas_used > 0);
}

#[test]
fn a_spawn_method_that_reverts_leaves_no_program() {
    let (chain, alice, _, receipt) = demo(13);
    receipt.assert_revert("unlucky start");
    let err = receipt.spawned_address().unwrap_err();
    assert!(
        matches!(&err, Error::Failed { status: StatusCode::Revert, message: Some(m), .. } if m == "demo: unlucky start"),
        "{err}"
    );
    let template = athena_testkit::template_address(&build_contract(DEMO).unwrap());
    let address = athena_testkit::program_address(&template, &13u64.to_le_bytes());
    assert!(chain.account(address).is_none());
    assert!(chain.logs().is_empty());
    assert_eq!(chain.nonce(alice), 1, "a failed transaction still uses its nonce");
}

#[test]
fn calls_by_name_with_typed_arguments_results_and_value() {
    let (mut chain, alice, counter, _) = demo(5);
    let receipt = chain.call(counter, "add").arg(&3u64).from(alice).value(10).send();
    assert_eq!(receipt.decode::<u64>().unwrap(), 8);
    assert_eq!((chain.balance(alice), chain.balance(counter)), (990, 10));
    assert_eq!(receipt.logs[0].topics, [topic("added")]);
    assert_eq!(receipt.logs[0].data, 8u64.to_le_bytes());
    assert_eq!(chain.call(counter, "get").send().decode::<u64>().unwrap(), 8);
    assert_eq!(chain.storage_value::<u64>(counter, "count").unwrap(), Some(8));
    let caller = chain.call(counter, "caller").from(alice).send().decode::<[u8; 24]>().unwrap();
    assert_eq!(caller, *alice.as_bytes());
    assert_eq!(chain.call(counter, "put").args(&(1u32, vec![1u8])).send().decode::<()>().unwrap(), ());

    // Every transaction has a receipt with its own gas.
    let gas: Vec<u64> = chain.receipts().iter().map(|r| r.gas_used).collect();
    assert_eq!(gas.len(), 5, "spawn, add, get, caller, put");
    assert!(gas.iter().all(|g| *g > 0 && *g < athena_testkit::DEFAULT_GAS), "{gas:?}");
    assert_eq!(chain.nonce(alice), 3);
    assert_eq!(chain.nonce(chain.default_account()), 2);
}

#[test]
fn reverts_carry_their_message_and_undo_everything() {
    let (mut chain, alice, counter, _) = demo(5);
    let receipt = chain.call(counter, "fail").from(alice).value(7).send();
    receipt.assert_revert("failing on purpose");
    assert_eq!(receipt.revert_message().as_deref(), Some("demo: failing on purpose"));
    assert!(receipt.gas_used < receipt.gas_limit, "a revert returns unused gas");
    assert!(receipt.logs.is_empty());
    assert_eq!(chain.storage_value::<u64>(counter, "count").unwrap(), Some(5), "the write was undone");
    assert_eq!(chain.balance(alice), 1_000, "the value was returned");
    let err = receipt.decode::<()>().unwrap_err().to_string();
    assert!(err.contains("call `fail` on") && err.ends_with("failed with revert: demo: failing on purpose"), "{err}");
    assert!(receipt.clone().into_result().is_err());

    let unknown = chain.call(counter, "nope").send();
    let hex: String = selector("nope").iter().map(|b| format!("{b:02x}")).collect();
    unknown.assert_revert(&format!("unknown selector 0x{hex}"));
    chain.call_raw(counter, vec![1, 2]).send().assert_revert("shorter than a selector");
    chain.call(counter, "add").send().assert_revert("cannot decode the arguments");
}

#[test]
fn typed_map_entries_span_several_slots() {
    let (mut chain, _, counter, _) = demo(0);
    let long: Vec<u8> = (0..70).collect();
    chain.call(counter, "put").arg(&7u32).arg(&long).send().assert_success();
    assert_eq!(chain.storage_entry::<u32, Vec<u8>>(counter, "entries", &7u32).unwrap(), Some(long.clone()));
    assert_eq!(chain.storage_entry::<u32, Vec<u8>>(counter, "entries", &8u32).unwrap(), None);
    // count (1 slot) + entry: compact length (2 bytes) + 70 = 28 + 32 + 12 → 3 slots.
    assert_eq!(chain.storage_slots(counter).len(), 4);
    let wrong = chain.storage_entry::<u32, u8>(counter, "entries", &7u32);
    assert!(matches!(wrong, Err(Error::Decode { .. })), "{wrong:?}");

    // Writing typed items directly gives what the contract reads.
    chain.set_storage_value(counter, "count", &41u64).unwrap();
    assert_eq!(chain.call(counter, "add").arg(&1u64).send().decode::<u64>().unwrap(), 42);
}

#[test]
fn programs_send_value_and_failures_are_undone() {
    let (mut chain, alice, counter, _) = demo(0);
    let bob = chain.create_account(0);
    // A bare transfer runs the program with empty input, which the method
    // ABI refuses; value goes in with a method call.
    chain.transfer(alice, counter, 100).assert_revert("shorter than a selector");
    chain.call(counter, "get").from(alice).value(100).send().assert_success();
    chain.transfer(alice, bob, 1).assert_success();
    chain.set_balance(bob, 0);
    chain.call(counter, "pay").args(&(*bob.as_bytes(), 40u64)).from(alice).send().assert_success();
    assert_eq!((chain.balance(counter), chain.balance(bob)), (60, 40));
    chain.call(counter, "pay").args(&(*bob.as_bytes(), 61u64)).send().assert_revert("payment failed");
    assert_eq!((chain.balance(counter), chain.balance(bob)), (60, 40));
}

#[test]
fn running_out_of_gas_uses_the_whole_limit() {
    let (mut chain, _, counter, _) = demo(0);
    let receipt = chain.call(counter, "add").arg(&1u64).gas(500).send();
    receipt.assert_status(StatusCode::OutOfGas);
    assert_eq!(receipt.gas_used, 500);
    assert_eq!(chain.storage_value::<u64>(counter, "count").unwrap(), Some(0));
}

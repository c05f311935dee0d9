//! The chain with the repository's plain guest examples (`storage-rw`,
//! `fib-call`), which take raw input rather than the method ABI: accounts,
//! raw calls and spawns, raw and typed storage, gas, nonces.

use athena_engine::EngineConfig;
use athena_testkit::{Address, Bytes32, Chain, Error, StatusCode, DEFAULT_BALANCE};

/// The ELF bytes of guest example `name` (built once per process).
fn example(name: &str) -> Vec<u8> {
    athena_guest_builder::build_examples(athena_guest_builder::GuestTarget::Rv32em)
        .and_then(|examples| examples.read(name))
        .unwrap_or_else(|e| panic!("building guest examples: {e}"))
}

#[test]
fn accounts_are_deterministic_and_funded() {
    let mut chain = Chain::new();
    let mut other = Chain::new();
    let (a, b) = (chain.create_account(10), chain.create_account(20));
    assert_ne!(a, b);
    assert_eq!(other.create_account(0), a, "the n-th account is the same on every chain");
    assert_eq!(&a.as_bytes()[..4], &[0; 4], "test accounts have program-kind addresses");
    assert_eq!(chain.create_named_account("alice", 5), Chain::account_address("alice"));
    assert_eq!((chain.balance(a), chain.balance(b)), (10, 20));
    assert_eq!(chain.balance(chain.default_account()), DEFAULT_BALANCE);
    chain.fund(a, 5);
    assert_eq!(chain.balance(a), 15);
    assert_eq!(chain.account(a).map(|acc| (acc.nonce, acc.template)), Some((0, None)));

    let receipt = chain.transfer(a, b, 15);
    receipt.assert_success();
    assert_eq!((receipt.gas_used, chain.balance(a), chain.balance(b)), (0, 0, 35));
    let poor = chain.transfer(a, b, 1);
    poor.assert_status(StatusCode::InsufficientBalance);
    assert_eq!(poor.gas_used, 0, "refused before running");
    assert_eq!(chain.nonce(a), 2, "both transactions used a nonce");
    assert_eq!(chain.receipts().len(), 2);
    assert_eq!(chain.last_receipt(), Some(&poor));
}

#[test]
fn raw_programs_spawn_call_and_store() {
    let mut chain = Chain::new();
    let template = chain.deploy(&example("storage-rw")).unwrap();
    let spawn = chain.spawn(template, &(7u32, "typed state".to_string()));
    let expected = spawn.address();
    let program = spawn.value(3).send().spawned_address().unwrap();
    assert_eq!(program, expected);
    assert_eq!(chain.template_of(program), Some(template));
    assert_eq!(chain.balance(program), 3);
    assert_eq!(chain.program_state::<(u32, String)>(program).unwrap(), (7, "typed state".to_string()));
    assert!(matches!(chain.program_state::<u8>(program), Err(Error::Decode { .. })));
    // storage-rw's spawn run (4-byte input) writes its default slot.
    assert_eq!(chain.storage(program, &Bytes32::new([0x11; 32])), Bytes32::new([0x22; 32]));

    let again = chain.spawn(template, &(7u32, "typed state".to_string())).send();
    again.assert_status(StatusCode::Failure);
    assert!(again.spawned_address().is_err());

    let mut input = vec![0x42u8; 32];
    input.extend([0x43u8; 32]);
    let receipt = chain.call_raw(program, input).send();
    assert_eq!(receipt.output, [0x43; 32]);
    assert!(receipt.gas_used > 0);
    assert_eq!(chain.storage_slots(program).len(), 2);
    assert_eq!(chain.storage(program, &Bytes32::new([0x42; 32])), Bytes32::new([0x43; 32]));
}

#[test]
fn typed_storage_round_trips_through_the_chain() {
    let mut chain = Chain::new();
    let program = Chain::account_address("some program");
    assert_eq!(chain.storage_value::<u64>(program, "count").unwrap(), None);
    chain.set_storage_value(program, "count", &7u64).unwrap();
    assert_eq!(chain.storage_value::<u64>(program, "count").unwrap(), Some(7));
    let long = "a string longer than one slot, so it spans chunks".to_string();
    chain.set_storage_entry(program, "names", &3u8, &long).unwrap();
    assert_eq!(chain.storage_entry::<u8, String>(program, "names", &3u8).unwrap(), Some(long));
    assert_eq!(chain.storage_entry::<u8, String>(program, "names", &4u8).unwrap(), None);
    // A non-zero slot whose length header is zero is not a valid item.
    let key = athena_testkit::storage::item_key("broken", &[]);
    let mut bad = [0u8; 32];
    bad[4] = 1;
    chain.set_storage(program, key, Bytes32::new(bad));
    assert!(matches!(chain.storage_value::<u64>(program, "broken"), Err(Error::Storage(_))));
}

#[test]
fn fib_call_results_decode_and_gas_grows() {
    let mut chain = Chain::with_config(EngineConfig { max_call_depth: 8, ..EngineConfig::default() });
    let template = chain.deploy(&example("fib-call")).unwrap();
    // Its spawn run reads the 4-byte `spawn` selector as a huge n and
    // reverts at the depth limit, so the program is installed by hand.
    chain.spawn(template, &()).send().assert_status(StatusCode::Revert);
    let program = chain.install_program(template, &()).unwrap();
    assert_eq!(
        chain.install_program(template, &()).unwrap_err().to_string(),
        format!("{program} is a program already")
    );
    assert!(chain.install_program(Address::ZERO, &1u8).is_err(), "no template there");
    let mut gas = Vec::new();
    for (n, expected) in [(5u32, 5u64), (8, 21)] {
        let receipt = chain.call_raw(program, n.to_le_bytes().to_vec()).send();
        // fib-call's output is a little-endian u64: exactly SCALE(u64).
        assert_eq!(receipt.decode::<u64>().unwrap(), expected);
        gas.push(receipt.gas_used);
    }
    assert!(gas[1] > gas[0], "{gas:?}");
    let deep = chain.call_raw(program, 20u32.to_le_bytes().to_vec()).send();
    deep.assert_status(StatusCode::Revert);
    assert_eq!(deep.output, (StatusCode::CallDepthExceeded as u32).to_le_bytes());
}

//! End to end with a real SDK template, `guest/examples/counter`: the
//! SDK's method ABI (selectors, SCALE arguments and results, revert
//! messages, the generated `spawn` dispatch) and its typed storage, read
//! back by the testkit by name. The scenario suite for every SDK example is
//! `tests/examples.rs`; this is the testkit's own check that it speaks the
//! SDK's conventions.

use athena_testkit::{Address, Bytes32, Chain, Encode, StatusCode};

fn counter_code() -> Vec<u8> {
    athena_guest_builder::build_examples(athena_guest_builder::GuestTarget::Rv32em)
        .and_then(|examples| examples.read("counter"))
        .unwrap_or_else(|e| panic!("building guest examples: {e}"))
}

#[test]
fn counter_speaks_the_sdk_conventions() {
    let mut chain = Chain::new();
    let alice = chain.create_account(1_000);
    let template = chain.deploy(&counter_code()).unwrap();

    // `spawn` validates the state (`Counter { step }` = SCALE(u64)).
    let zero = chain.spawn(template, &0u64).from(alice).send();
    zero.assert_revert("counter: step must be positive");
    assert!(chain.account(athena_testkit::program_address(&template, &0u64.encode())).is_none());
    let counter = chain.spawn(template, &2u64).from(alice).send().spawned_address().unwrap();
    assert_eq!(chain.program_state::<u64>(counter).unwrap(), 2);
    assert_eq!(chain.storage_value::<u64>(counter, "count").unwrap(), Some(0), "spawn initialised storage");

    let receipt = chain.call(counter, "increment").arg(&3u64).from(alice).send();
    assert_eq!(receipt.decode::<u64>().unwrap(), 6);
    let topic = Bytes32::new(*blake3::hash(b"counter/incremented").as_bytes());
    assert_eq!(receipt.logs.len(), 1);
    assert_eq!((receipt.logs[0].address, receipt.logs[0].topics.as_slice()), (counter, &[topic][..]));
    assert_eq!(receipt.logs[0].data, (alice.into_bytes(), 6u64).encode());

    assert_eq!(chain.call(counter, "get").send().decode::<u64>().unwrap(), 6);
    assert_eq!(chain.call(counter, "step").send().decode::<u64>().unwrap(), 2);
    assert_eq!(chain.storage_value::<u64>(counter, "count").unwrap(), Some(6));
    // Map keys are SCALE-encoded: an address is its 24 bytes.
    assert_eq!(chain.storage_entry::<[u8; 24], u32>(counter, "calls", &alice.into_bytes()).unwrap(), Some(1));
    let calls = chain.call(counter, "calls_of").arg(&alice.into_bytes()).send();
    assert_eq!(calls.decode::<u32>().unwrap(), 1);

    // Reverts are UTF-8 messages, and undo the frame.
    chain.call(counter, "increment").arg(&u64::MAX).send().assert_revert("counter: overflow");
    chain.call(counter, "no_such_method").send().assert_revert("unknown selector");
    chain.call(counter, "increment").send().assert_status(StatusCode::Revert);
    assert_eq!(chain.storage_value::<u64>(counter, "count").unwrap(), Some(6));
    assert_ne!(counter, Address::ZERO);
}

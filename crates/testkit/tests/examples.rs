//! Scenario tests of the SDK example templates (`guest/examples/counter`,
//! `echo`, `caller`, `spawner`), run on the testkit's in-process chain:
//! the method ABI and its error messages (docs/sdk.md), typed storage as
//! the host reads it, panics, calls with value, spawning, and every host
//! function the SDK wraps.

use athena_testkit::{program_address, selector, Address, Bytes32, Chain, Encode, StatusCode};

/// The ELF of example `name`, built once per process for rv32em.
fn code(name: &str) -> Vec<u8> {
    athena_guest_builder::build_examples(athena_guest_builder::GuestTarget::Rv32em)
        .and_then(|examples| examples.read(name))
        .unwrap_or_else(|e| panic!("building the guest examples: {e}"))
}

/// Deploys example `name` and spawns one program from `state`.
fn spawn_example<S: Encode + ?Sized>(chain: &mut Chain, name: &str, state: &S) -> (Address, Address) {
    let template = chain.deploy(&code(name)).unwrap();
    let program = chain.spawn(template, state).send().spawned_address().unwrap();
    (template, program)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ----- counter: state, typed storage, logs, the ABI's error paths -----

#[test]
fn counter_counts_per_caller_and_logs() {
    let mut chain = Chain::new();
    let (alice, bob) = (chain.create_account(1_000), chain.create_account(1_000));
    let (_, counter) = spawn_example(&mut chain, "counter", &5u64);

    assert_eq!(chain.call(counter, "increment").arg(&1u64).from(alice).send().decode::<u64>().unwrap(), 5);
    assert_eq!(chain.call(counter, "increment").arg(&2u64).from(bob).send().decode::<u64>().unwrap(), 15);
    assert_eq!(chain.call(counter, "increment").arg(&0u64).from(bob).send().decode::<u64>().unwrap(), 15);
    assert_eq!(chain.call(counter, "get").send().decode::<u64>().unwrap(), 15);
    for (who, calls) in [(alice, 1u32), (bob, 2), (Address::ZERO, 0)] {
        let receipt = chain.call(counter, "calls_of").arg(&who.into_bytes()).send();
        assert_eq!(receipt.decode::<u32>().unwrap(), calls);
        assert_eq!(
            chain.storage_entry::<[u8; 24], u32>(counter, "calls", &who.into_bytes()).unwrap(),
            (calls > 0).then_some(calls)
        );
    }

    // One log per increment: (caller, new count) under the event topic.
    let topic = Bytes32::new(*blake3::hash(b"counter/incremented").as_bytes());
    let logs: Vec<_> = chain.logs().iter().filter(|log| log.address == counter).collect();
    assert_eq!(logs.len(), 3);
    assert!(logs.iter().all(|log| log.topics == [topic]));
    assert_eq!(logs[1].data, (bob.into_bytes(), 15u64).encode());

    // Storage holds exactly the three items, each in one slot.
    let slots = chain.storage_slots(counter);
    assert_eq!(slots.len(), 3, "{slots:?}");
    let count_key = athena_testkit::storage::item_key("count", &[]);
    // The same key the SDK's own unit test pins (docs/sdk.md quotes it).
    assert_eq!(hex(count_key.as_bytes()), "2536ec75d252ef493687fea2b62a27c629d486866496b20f962787bb7d2e284b");
    let mut expected = [0u8; 32];
    expected[..4].copy_from_slice(&9u32.to_le_bytes());
    expected[4..12].copy_from_slice(&15u64.to_le_bytes());
    assert_eq!(chain.storage(counter, &count_key), Bytes32::new(expected));
}

#[test]
fn counter_spawn_validates_and_addresses_follow_the_state() {
    let mut chain = Chain::new();
    let template = chain.deploy(&code("counter")).unwrap();
    chain.spawn(template, &0u64).send().assert_revert("counter: step must be positive");
    let one = chain.spawn(template, &1u64).send().spawned_address().unwrap();
    assert_eq!(one, program_address(&template, &1u64.encode()));
    assert_eq!(chain.template_of(one), Some(template));
    // Same template and state: the same address, which exists already.
    let again = chain.spawn(template, &1u64).send();
    assert!(!again.is_success(), "{again}");
    let two = chain.spawn(template, &2u64).send().spawned_address().unwrap();
    assert_ne!(one, two);
    assert_eq!(chain.call(two, "step").send().decode::<u64>().unwrap(), 2);
}

#[test]
fn bad_calls_revert_with_a_message_and_keep_the_gas() {
    let mut chain = Chain::new();
    let (_, counter) = spawn_example(&mut chain, "counter", &2u64);

    let short = chain.call_raw(counter, vec![1, 2]).send();
    assert_eq!(short.revert_message().as_deref(), Some("athena: input shorter than a 4-byte selector"));
    assert!(short.gas_used < short.gas_limit / 2, "a revert returns the unused gas: {short}");

    let unknown = chain.call(counter, "decrement").send();
    let expected = format!("athena: unknown selector 0x{}", hex(&selector("decrement")));
    assert_eq!(unknown.revert_message(), Some(expected));

    let missing = chain.call(counter, "increment").send();
    assert_eq!(missing.revert_message().as_deref(), Some("athena: cannot decode the arguments of `increment`"));
    let truncated = chain.call(counter, "increment").arg(&7u32).send();
    assert_eq!(truncated.revert_message(), missing.revert_message());
    let trailing = chain.call(counter, "increment").arg(&7u64).arg(&0u8).send();
    assert_eq!(trailing.revert_message(), missing.revert_message(), "trailing bytes are an error");
    let no_args = chain.call(counter, "get").arg(&0u8).send();
    assert_eq!(no_args.revert_message().as_deref(), Some("athena: cannot decode the arguments of `get`"));

    // A reverted call changed nothing.
    assert_eq!(chain.storage_value::<u64>(counter, "count").unwrap(), Some(0));
    chain.call(counter, "increment").arg(&u64::MAX).send().assert_revert("counter: overflow");
    assert_eq!(chain.storage_value::<u64>(counter, "count").unwrap(), Some(0));
}

#[test]
fn bad_state_and_bad_storage_revert_with_a_message() {
    let mut chain = Chain::new();
    let template = chain.deploy(&code("counter")).unwrap();
    // A program whose state is not a `Counter` (installed without `spawn`).
    let broken = chain.install_program(template, &[1u8, 2, 3]).unwrap();
    let receipt = chain.call(broken, "get").send();
    assert_eq!(receipt.revert_message().as_deref(), Some("athena: cannot decode the program state"));
    // Methods without `&self` never read the state.
    assert_eq!(chain.call(broken, "calls_of").arg(&[0u8; 24]).send().decode::<u32>().unwrap(), 0);

    // Storage that does not follow the layout, or does not decode.
    let (_, counter) = spawn_example(&mut chain, "counter", &3u64);
    let key = athena_testkit::storage::item_key("count", &[]);
    let mut slot = [0u8; 32];
    slot[31] = 1; // non-zero slot, zero length header
    chain.set_storage(counter, key, Bytes32::new(slot));
    let receipt = chain.call(counter, "get").send();
    assert_eq!(receipt.revert_message().as_deref(), Some("athena: cannot decode storage item `count`"));
    chain.set_storage_value(counter, "count", &7u32).unwrap(); // 4 bytes, not a u64
    chain.call(counter, "get").send().assert_revert("cannot decode storage item `count`");
    chain.set_storage_value(counter, "count", &7u64).unwrap();
    assert_eq!(chain.call(counter, "increment").arg(&1u64).send().decode::<u64>().unwrap(), 10);
}

// ----- echo: results, raw output, reverts, panics, storage, host functions -----

#[test]
fn echo_returns_what_it_gets() {
    let mut chain = Chain::new();
    let (_, echo) = spawn_example(&mut chain, "echo", &());
    for len in [0usize, 1, 63, 64, 5000] {
        let data: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
        assert_eq!(chain.call(echo, "echo").arg(&data).send().decode::<Vec<u8>>().unwrap(), data);
    }
    let joined = chain.call(echo, "concat").args(&("Grüße, ", "Athena")).send();
    assert_eq!(joined.decode::<String>().unwrap(), "Grüße, Athena");
    // `raw` returns its argument's bytes as they are: no SCALE framing.
    let raw = chain.call(echo, "raw").arg(&vec![1u8, 2, 3]).send();
    assert_eq!(raw.output, [1, 2, 3]);
    assert!(chain.call(echo, "raw").arg(&Vec::<u8>::new()).send().assert_success().output.is_empty());
    let input = chain.call(echo, "input").send().decode::<Vec<u8>>().unwrap();
    assert_eq!(input, selector("input"));
}

#[test]
fn reverts_and_panics_carry_utf8_messages() {
    let mut chain = Chain::new();
    let (_, echo) = spawn_example(&mut chain, "echo", &());

    let failed = chain.call(echo, "fail").arg(&"nope: ünïcode").send();
    failed.assert_status(StatusCode::Revert);
    assert_eq!(failed.output, "nope: ünïcode".as_bytes());

    let boom = chain.call(echo, "boom").send();
    assert_eq!((boom.status, boom.output.as_slice()), (StatusCode::Revert, &b"boom"[..]));
    assert!(boom.gas_used < boom.gas_limit / 2, "a panic reverts and returns the unused gas");
    let none = chain.call(echo, "unwrap_none").send();
    assert_eq!(none.revert_message().as_deref(), Some("called `Option::unwrap()` on a `None` value"));

    // A formatted message (index out of bounds) is reported as its location.
    let oob = chain.call(echo, "nth").args(&(vec![1u8, 2], 5u32)).send();
    let message = oob.revert_message().unwrap();
    assert!(message.starts_with("panicked at examples/echo/src/main.rs:"), "{message}");
    let [line, column]: [u32; 2] =
        message.rsplitn(3, ':').take(2).map(|n| n.parse().unwrap()).collect::<Vec<_>>().try_into().unwrap();
    assert!(line > 0 && column > 0, "{message}");
    assert_eq!(chain.call(echo, "nth").args(&(vec![1u8, 2], 1u32)).send().decode::<u8>().unwrap(), 2);
}

#[test]
fn echo_memo_stores_values_of_any_length_in_chunks() {
    let mut chain = Chain::new();
    let (_, echo) = spawn_example(&mut chain, "echo", &());
    let recall = |chain: &mut Chain, key: &str| chain.call(echo, "recall").arg(&key).send().decode::<Option<Vec<u8>>>();

    assert_eq!(recall(&mut chain, "k").unwrap(), None);
    for len in [0usize, 26, 27, 28, 59, 60, 61, 300] {
        let value: Vec<u8> = (0..len).map(|i| (i as u8) ^ 0x5a).collect();
        chain.call(echo, "remember").args(&("k", &value)).send().assert_success();
        assert_eq!(recall(&mut chain, "k").unwrap(), Some(value.clone()), "len {len}");
        // The host reads the same item by name, and the layout is exact:
        // `E` = SCALE(value) plus the 4-byte header, in 32-byte slots.
        assert_eq!(chain.storage_entry::<str, Vec<u8>>(echo, "memo", "k").unwrap(), Some(value.clone()));
        let encoded_len = value.encode().len();
        assert_eq!(chain.storage_slots(echo).len(), (4 + encoded_len).div_ceil(32), "len {len}");
    }
    // Overwriting a long value with a short one frees the extra chunks.
    chain.call(echo, "remember").args(&("k", vec![1u8])).send().assert_success();
    assert_eq!(chain.storage_slots(echo).len(), 1);
    // Values written by the host are read by the guest.
    chain.set_storage_entry(echo, "memo", "host", &vec![9u8; 100]).unwrap();
    assert_eq!(recall(&mut chain, "host").unwrap(), Some(vec![9u8; 100]));

    assert!(chain.call(echo, "forget").arg(&"k").send().decode::<bool>().unwrap());
    assert!(!chain.call(echo, "forget").arg(&"k").send().decode::<bool>().unwrap());
    assert!(chain.call(echo, "forget").arg(&"host").send().decode::<bool>().unwrap());
    assert!(chain.storage_slots(echo).is_empty(), "forgetting zeroes every slot");
}

#[test]
fn echo_sees_its_context() {
    let mut chain = Chain::new();
    let alice = chain.create_account(1_000);
    let (_, echo) = spawn_example(&mut chain, "echo", &());

    let me = chain.call(echo, "whoami").from(alice).value(7).send();
    let (address, caller, value, depth) = me.decode::<([u8; 24], [u8; 24], u64, u32)>().unwrap();
    assert_eq!((Address::new(address), Address::new(caller), value, depth), (echo, alice, 7, 0));

    chain.set_block(42, 1_700_000_000);
    let tx = chain.call(echo, "tx").from(alice).send().decode::<([u8; 24], u64, u64, u64)>().unwrap();
    assert_eq!((Address::new(tx.0), tx.1, tx.2), (alice, 42, 1_700_000_000));

    let hash = Bytes32::new([0xab; 32]);
    chain.set_block_hash(41, hash);
    assert_eq!(chain.call(echo, "block_hash").arg(&41u64).send().decode::<[u8; 32]>().unwrap(), [0xab; 32]);
    assert_eq!(chain.call(echo, "block_hash").arg(&40u64).send().decode::<[u8; 32]>().unwrap(), [0; 32]);

    let balances = chain.call(echo, "balances").arg(&alice.into_bytes()).send().decode::<(u64, u64)>().unwrap();
    assert_eq!(balances, (chain.balance(echo), chain.balance(alice)));
    assert_eq!(balances.0, 7, "the value sent to whoami stayed with echo");
}

#[test]
fn echo_precompiles_and_runtime_selectors() {
    let mut chain = Chain::new();
    let (_, echo) = spawn_example(&mut chain, "echo", &());

    let (sha, b3) = chain.call(echo, "hashes").arg(&b"abc".to_vec()).send().decode::<([u8; 32], [u8; 32])>().unwrap();
    assert_eq!(hex(&sha), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_eq!(b3, *blake3::hash(b"abc").as_bytes());

    // RFC 8032, test 1: the empty message.
    let key: [u8; 32] = unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    let sig: [u8; 64] = unhex(
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    );
    let check = |chain: &mut Chain, message: Vec<u8>, sig: [u8; 64]| {
        chain.call(echo, "check_signature").args(&(message, key, sig)).send().decode::<bool>().unwrap()
    };
    assert!(check(&mut chain, Vec::new(), sig));
    assert!(!check(&mut chain, vec![0], sig));
    let mut forged = sig;
    forged[0] ^= 1;
    assert!(!check(&mut chain, Vec::new(), forged));

    for name in ["increment", "spawn", "verify", ""] {
        let computed = chain.call(echo, "selector_of").arg(&name).send().decode::<[u8; 4]>().unwrap();
        assert_eq!(computed, selector(name), "{name:?}");
    }
}

fn unhex<const N: usize>(text: &str) -> [u8; N] {
    let bytes: Vec<u8> = (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect();
    bytes.try_into().unwrap()
}

#[test]
fn compact_memcpy_and_memset_are_correct_at_every_alignment() {
    let mut chain = Chain::new();
    let (_, echo) = spawn_example(&mut chain, "echo", &());
    let data: Vec<u8> = (0..71u8).map(|i| i.wrapping_mul(37)).collect();
    for offset in [0u32, 1, 2, 3, 4, 5, 30, 69, 70, 71, 80] {
        let src = data.get(offset as usize..).unwrap_or_default();
        let copied = chain.call(echo, "copy").args(&(&data, offset)).send().decode::<Vec<u8>>().unwrap();
        assert_eq!(copied, src.repeat(4), "offset {offset}");
    }
    for len in [0u32, 1, 3, 4, 5, 31, 32, 33, 100] {
        for shift in 0..4u32 {
            let filled = chain.call(echo, "fill").args(&(0x5au8, len, shift)).send().decode::<Vec<u8>>().unwrap();
            assert_eq!(filled, vec![0x5a; len as usize], "len {len} shift {shift}");
        }
    }
}

#[test]
fn templates_without_spawn_get_one_that_checks_the_state() {
    let mut chain = Chain::new();
    let template = chain.deploy(&code("echo")).unwrap();
    // `Echo` is a unit struct: its state is empty, anything else is rejected.
    let bad = chain.spawn_raw(template, vec![0]).send();
    assert_eq!(bad.revert_message().as_deref(), Some("athena: cannot decode the program state"));
    let echo = chain.spawn(template, &()).send().spawned_address().unwrap();
    assert_eq!(chain.program_state_raw(echo), Vec::<u8>::new());
    // Calling `spawn` again on a live program just succeeds (no effects).
    chain.call(echo, "spawn").send().assert_success();
}

// ----- caller: calls with value, status and output passing -----

#[test]
fn caller_forwards_calls_and_value() {
    let mut chain = Chain::new();
    let alice = chain.create_account(1_000);
    let (_, caller) = spawn_example(&mut chain, "caller", &());
    let (_, counter) = spawn_example(&mut chain, "counter", &10u64);
    let (_, echo) = spawn_example(&mut chain, "echo", &());

    // Raw forward with value: the callee sees the caller program as its
    // caller, at depth 1, and gets the value from the caller's balance.
    let input = selector("whoami").to_vec();
    let forwarded =
        chain.call(caller, "forward").args(&(echo.into_bytes(), input, 30u64)).from(alice).value(100).send();
    let (status, output) = forwarded.decode::<(u32, Vec<u8>)>().unwrap();
    assert_eq!(status, 0);
    let who = <([u8; 24], [u8; 24], u64, u32) as athena_testkit::Decode>::decode(&mut output.as_slice()).unwrap();
    assert_eq!((Address::new(who.0), Address::new(who.1), who.2, who.3), (echo, caller, 30, 1));
    assert_eq!((chain.balance(caller), chain.balance(echo)), (70, 30));
    assert_eq!(chain.call(caller, "balance").send().decode::<u64>().unwrap(), 70);

    // The callee's revert comes back as status 2 with its message; the
    // caller itself succeeds.
    let input = [selector("fail").to_vec(), "inner".encode()].concat();
    let reverted = chain.call(caller, "forward").args(&(echo.into_bytes(), input, 0u64)).send();
    assert_eq!(reverted.decode::<(u32, Vec<u8>)>().unwrap(), (2, b"inner".to_vec()));
    // More value than the caller has: insufficient balance, callee not run.
    let input = selector("whoami").to_vec();
    let poor = chain.call(caller, "forward").args(&(echo.into_bytes(), input, 1_000u64)).send();
    assert_eq!(poor.decode::<(u32, Vec<u8>)>().unwrap(), (7, Vec::new()));

    // By name, with pre-encoded arguments.
    let named = chain.call(caller, "call_named").args(&(counter.into_bytes(), "increment", 2u64.encode(), 0u64)).send();
    assert_eq!(named.decode::<(u32, Vec<u8>)>().unwrap(), (0, 20u64.encode()));
    assert_eq!(chain.call(counter, "calls_of").arg(&caller.into_bytes()).send().decode::<u32>().unwrap(), 1);
}

#[test]
fn caller_typed_calls_pass_results_and_failures_through() {
    let mut chain = Chain::new();
    let (_, caller) = spawn_example(&mut chain, "caller", &());
    let (_, counter) = spawn_example(&mut chain, "counter", &3u64);
    chain.fund(caller, 50);

    let count = chain.call(caller, "increment").args(&(counter.into_bytes(), 2u64, 5u64)).send();
    assert_eq!(count.decode::<u64>().unwrap(), 6);
    assert_eq!(chain.balance(counter), 5);

    // The callee's revert message travels up unchanged and undoes both.
    let overflow = chain.call(caller, "increment").args(&(counter.into_bytes(), u64::MAX, 5u64)).send();
    assert_eq!(overflow.revert_message().as_deref(), Some("counter: overflow"));
    assert_eq!((chain.balance(counter), chain.balance(caller)), (5, 45));

    // `try_increment` reports failures as values instead.
    let ok = chain.call(caller, "try_increment").args(&(counter.into_bytes(), 1u64)).send();
    assert_eq!(ok.decode::<Result<u64, String>>().unwrap(), Ok(9));
    let err = chain.call(caller, "try_increment").args(&(counter.into_bytes(), u64::MAX)).send();
    assert_eq!(err.decode::<Result<u64, String>>().unwrap(), Err("counter: overflow".to_owned()));
    // Calling an account without code: no failure message, just a status.
    let nobody = chain.create_account(0);
    let err = chain.call(caller, "try_increment").args(&(nobody.into_bytes(), 1u64)).send();
    assert!(err.decode::<Result<u64, String>>().unwrap().is_err());
    assert_eq!(chain.call(counter, "get").send().decode::<u64>().unwrap(), 9);
}

// ----- spawner: programs spawning programs -----

#[test]
fn spawner_spawns_counters_and_uses_them() {
    let mut chain = Chain::new();
    let counter_template = chain.deploy(&code("counter")).unwrap();
    let spawner_template = chain.deploy(&code("spawner")).unwrap();
    chain.spawn(spawner_template, &[0u8; 24]).send().assert_revert("spawner: no template");
    let spawner = chain.spawn(spawner_template, &counter_template.into_bytes()).send().spawned_address().unwrap();

    let first = chain.call(spawner, "spawn_counter").arg(&3u64).send().decode::<[u8; 24]>().unwrap();
    let first = Address::new(first);
    assert_eq!(first, program_address(&counter_template, &3u64.encode()));
    assert_eq!(chain.template_of(first), Some(counter_template));
    assert_eq!(chain.program_state::<u64>(first).unwrap(), 3);
    assert_eq!(chain.storage_value::<u64>(first, "count").unwrap(), Some(0), "the counter's spawn ran");

    // Spawning the same counter again fails; a zero step is rejected by
    // the counter's own `spawn`, whose revert is the spawn's status.
    chain.call(spawner, "spawn_counter").arg(&3u64).send().assert_revert("spawner: spawn failed");
    let again = chain.call(spawner, "try_spawn").arg(&3u64).send().decode::<Result<[u8; 24], u32>>().unwrap();
    assert_eq!(again, Err(1));
    let zero = chain.call(spawner, "try_spawn").arg(&0u64).send().decode::<Result<[u8; 24], u32>>().unwrap();
    assert_eq!(zero, Err(2));

    // Spawn and call in one transaction.
    let both = chain.call(spawner, "spawn_and_increment").args(&(4u64, 5u64)).send();
    let (second, count) = both.decode::<([u8; 24], u64)>().unwrap();
    let second = Address::new(second);
    assert_eq!(count, 20);
    assert_eq!(chain.call(second, "calls_of").arg(&spawner.into_bytes()).send().decode::<u32>().unwrap(), 1);

    // All or nothing: the increment overflows, so the spawn is undone too.
    let atomic = chain.call(spawner, "spawn_and_increment").args(&(6u64, u64::MAX)).send();
    assert_eq!(atomic.revert_message().as_deref(), Some("counter: overflow"));
    assert_eq!(chain.template_of(program_address(&counter_template, &6u64.encode())), None);

    let spawned = chain.call(spawner, "spawned").send().decode::<Vec<[u8; 24]>>().unwrap();
    assert_eq!(spawned, vec![first.into_bytes(), second.into_bytes()]);
    assert_eq!(chain.storage_value::<Vec<[u8; 24]>>(spawner, "spawned").unwrap(), Some(spawned));
    assert_eq!(chain.call(spawner, "nth_spawned").arg(&1u32).send().decode::<[u8; 24]>().unwrap(), second.into_bytes());
    // `#[template(format_panics)]`: the formatted panic message itself.
    let past = chain.call(spawner, "nth_spawned").arg(&7u32).send();
    assert_eq!(past.revert_message().as_deref(), Some("index out of bounds: the len is 2 but the index is 7"));
}

//! `athena storage ADDR item:NAME` on a value longer than one slot: the
//! real `echo` example (guest/examples/echo, built for rv32em) stores a
//! long memo under its `memo` map on the testkit's chain, so the slots are
//! the ones the SDK itself writes; they go into a real store for real
//! proofs, served by the fake node. Also: a hostile length header.

use athena_interface::{Address, Bytes32};
use athena_runtime::sdk_storage::item_key;
use athena_runtime::ChangeSet;
use athena_store::{BlockMeta, Store};
use athena_testkit::Chain;
use athena_transaction::{template_address, Network};
use athena_wallet::testing::FakeNetwork;
use parity_scale_codec::Encode;

mod common;

use common::{athena, fails, json, ok};

fn network() -> Network {
    Network::test(Bytes32::new([4; 32]))
}

/// The slots of a program after `remember(key, value)` for each memo,
/// as the SDK in the real echo guest wrote them.
fn echo_slots(memos: &[(&str, Vec<u8>)]) -> Vec<(Bytes32, Bytes32)> {
    let code = athena_guest_builder::build_examples(athena_guest_builder::GuestTarget::Rv32em)
        .and_then(|examples| examples.read("echo"))
        .unwrap_or_else(|e| panic!("building the guest examples: {e}"));
    let mut chain = Chain::new();
    let template = chain.deploy(&code).unwrap();
    let echo = chain.spawn(template, &()).send().spawned_address().unwrap();
    for (key, value) in memos {
        chain.call(echo, "remember").args(&(key.to_string(), value.clone())).send().assert_success();
    }
    chain.storage_slots(echo)
}

/// Puts `slots` under `program` in a real store and has the fake node
/// answer each with its proof.
fn serve(fake: &FakeNetwork, program: Address, slots: &[(Bytes32, Bytes32)]) {
    let store = Store::in_memory().unwrap();
    let mut changes = ChangeSet::default();
    for (k, v) in slots {
        changes.storage.insert((program, *k), *v);
    }
    store.commit_block(0, &changes, &BlockMeta::default()).unwrap();
    let text = network().encode_address(&program);
    for (key, _) in slots {
        let p = store.prove_storage(&program, key, None).unwrap();
        let answer = serde_json::json!({
            "address": text, "key": hex::encode(key.as_bytes()), "value": hex::encode(p.value.as_bytes()),
            "height": 0, "state_root": hex::encode(p.state_root.0), "proof": hex::encode(p.proof.to_bytes()),
        });
        fake.with(|s| s.storage.insert((program, hex::encode(key.as_bytes())), answer));
    }
}

fn storage_requests(fake: &FakeNetwork) -> usize {
    fake.node.requests().iter().filter(|r| r.path.contains("/storage/")).count()
}

#[test]
fn a_long_item_written_by_the_sdk_is_shown_whole() {
    let home = tempfile::tempdir().unwrap();
    let fake = FakeNetwork::start(network(), template_address(b"the wallet template"));
    let long: Vec<u8> = (0..70).collect();
    let slots = echo_slots(&[("note", long.clone()), ("tiny", vec![1, 2])]);
    // The SDK split the 71-byte encoding over three slots (28 + 32 + 11),
    // plus one for the short memo.
    assert_eq!(slots.len(), 4, "{slots:?}");
    let program = Address::new([9; 24]);
    serve(&fake, program, &slots);
    let text = network().encode_address(&program);
    let node = fake.url().to_owned();

    let j = json(&athena(home.path(), &["storage", &text, "item:memo", "str:note", "--json", "--node", &node]));
    assert_eq!(j["item_value"], hex::encode(long.encode()), "{j}");
    assert_eq!(j["proof"]["valid"], true, "{j}");
    let used = j["slots"].as_array().unwrap();
    assert_eq!(used.len(), 3, "{j}");
    let base = item_key("memo", &"note".to_string().encode());
    assert_eq!(used[0]["key"], hex::encode(base.as_bytes()));
    assert_eq!(j["key"], hex::encode(base.as_bytes()));
    for slot in used {
        let key = slot["key"].as_str().unwrap();
        assert!(slots
            .iter()
            .any(|(k, v)| hex::encode(k.as_bytes()) == key && slot["value"] == hex::encode(v.as_bytes())));
    }

    // The text form, and the short memo in one slot.
    let out = ok(&athena(home.path(), &["storage", &text, "item:memo", "str:note", "--node", &node]));
    assert!(out.contains(&format!("item value:  {}", hex::encode(long.encode()))), "{out}");
    assert!(out.contains("slots:       3") && out.contains("proof:       valid"), "{out}");
    let j = json(&athena(home.path(), &["storage", &text, "item:memo", "str:tiny", "--json", "--node", &node]));
    assert_eq!((j["item_value"].as_str(), j["slots"].as_array().map(Vec::len)), (Some("080102"), Some(1)), "{j}");

    // The raw-slot view of the base key is still one slot.
    let j = json(&athena(home.path(), &["storage", &text, &hex::encode(base.as_bytes()), "--json", "--node", &node]));
    assert_eq!(j["value"], hex::encode(slots.iter().find(|(k, _)| *k == base).unwrap().1.as_bytes()));
    assert!(j.get("item_value").is_none() && j.get("slots").is_none(), "{j}");

    // A node that forges the last chunk is caught, naming the slot.
    let last = used[2]["key"].as_str().unwrap().to_owned();
    fake.with(|s| s.storage.get_mut(&(program, last.clone())).unwrap()["value"] = serde_json::json!("11".repeat(32)));
    let out = athena(home.path(), &["storage", &text, "item:memo", "str:note", "--node", &node]);
    fails(&out, &format!("slot 2 of the item ({last})"));
}

#[test]
fn a_hostile_length_header_is_refused_after_one_request() {
    let home = tempfile::tempdir().unwrap();
    let fake = FakeNetwork::start(network(), template_address(b"the wallet template"));
    let program = Address::new([9; 24]);
    let header = |len: u32| {
        let mut slot = [0u8; 32];
        slot[..4].copy_from_slice(&len.to_le_bytes());
        Bytes32::new(slot)
    };
    // Proven headers (a node can build a state its proofs agree with):
    // one over the layout's limit, one within it but over the bound.
    let huge = item_key("huge", &[]);
    let big = item_key("big", &[]);
    serve(&fake, program, &[(huge, header(u32::MAX)), (big, header(100_001))]);
    let text = network().encode_address(&program);
    let node = fake.url().to_owned();

    let out = athena(home.path(), &["storage", &text, "item:huge", "--node", &node]);
    fails(&out, "do not follow the SDK storage layout");
    fails(&out, "exceeds the 1048576-byte limit");
    fails(&out, &format!("its raw first slot: KEY = {}", hex::encode(huge.as_bytes())));
    assert_eq!(storage_requests(&fake), 1);

    let out = athena(home.path(), &["storage", &text, "item:big", "--node", &node]);
    fails(&out, "announces 100000 bytes (3126 slots), more than the 1024 slots");
    assert_eq!(storage_requests(&fake), 2, "only the header was fetched");
    // A larger bound fetches the chunks (here absent: the fake has none,
    // so the node's answer is an error, reported as such).
    let out = athena(home.path(), &["storage", &text, "item:big", "--max-slots", "4000", "--node", &node]);
    fails(&out, "no such slot");
}

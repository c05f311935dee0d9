//! Golden vectors: fixed inputs and the outputs every derivation must
//! produce. The expected values live in `tests/vectors.json` (also quoted in
//! `docs/addresses.md` and `docs/transactions.md`); if any derivation changes,
//! this test fails. To regenerate deliberately (a consensus change!), run with
//! `ATHENA_REGENERATE_VECTORS=1`.

use athena_transaction::tx::{encode_payload, selector, sign_single, verify_single, UnsignedTransaction};
use athena_transaction::{decode, program_address, template_address, Address, Bytes32, Network};
use ed25519_dalek::SigningKey;
use serde_json::{json, Map, Value};

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors.json");
const TEMPLATE_CODE: &[u8] = b"athena golden vector template code v1";
const METHODS: [&str; 6] = ["spawn", "spend", "proxy", "deploy", "verify", "max_spend"];

fn genesis() -> Bytes32 {
    let mut g = [0u8; 32];
    for (i, b) in g.iter_mut().enumerate() {
        *b = i as u8 + 1;
    }
    Bytes32(g)
}

fn tx_vector(net: &Network, key: &SigningKey, unsigned: UnsignedTransaction) -> Value {
    let tx = sign_single(key, net, unsigned.clone());
    assert!(verify_single(&key.verifying_key(), net, &tx));
    let encoded = tx.encode();
    assert_eq!(decode(&encoded).as_ref(), Ok(&tx));
    json!({
        "principal": hex::encode(unsigned.principal),
        "template": unsigned.template.map(hex::encode),
        "nonce": unsigned.nonce,
        "gas_limit": unsigned.gas_limit,
        "gas_price": unsigned.gas_price,
        "payload": hex::encode(&unsigned.payload),
        "signing_bytes": hex::encode(tx.signing_bytes(net)),
        "authenticator": hex::encode(&tx.authenticator),
        "encoded": hex::encode(&encoded),
        "id": hex::encode(tx.id()),
    })
}

/// Compute every vector from the fixed inputs.
fn compute() -> Value {
    let test_net = Network::test(genesis());
    let main_net = Network::main(genesis());
    let key = SigningKey::from_bytes(&[7u8; 32]);
    let pubkey = key.verifying_key().to_bytes();
    let recipient_key = SigningKey::from_bytes(&[8u8; 32]);

    let template = template_address(TEMPLATE_CODE);
    // Single-sig wallet spawn arguments: SCALE([u8; 32]) = the raw key bytes.
    let spawn_args = parity_scale_codec::Encode::encode(&pubkey);
    let principal = program_address(&template, &spawn_args);
    let recipient =
        program_address(&template, &parity_scale_codec::Encode::encode(&recipient_key.verifying_key().to_bytes()));

    let mut selectors = Map::new();
    for m in METHODS {
        selectors.insert(m.to_owned(), json!(hex::encode(selector(m))));
    }

    let spawn = UnsignedTransaction {
        principal,
        template: Some(template),
        nonce: 0,
        gas_limit: 100_000,
        gas_price: 1,
        payload: encode_payload("spawn", &pubkey),
    };
    let spend = UnsignedTransaction {
        principal,
        template: None,
        nonce: 1,
        gas_limit: 50_000,
        gas_price: 2,
        payload: encode_payload("spend", &(recipient.0, 1_000_000u64)),
    };

    json!({
        "inputs": {
            "genesis_id": hex::encode(genesis()),
            "template_code": hex::encode(TEMPLATE_CODE),
            "template_code_ascii": std::str::from_utf8(TEMPLATE_CODE).unwrap(),
            "secret_key_seed": hex::encode([7u8; 32]),
            "recipient_secret_key_seed": hex::encode([8u8; 32]),
        },
        "public_key": hex::encode(pubkey),
        "template_address": hex::encode(template),
        "template_bech32_test": test_net.encode_address(&template),
        "template_bech32_main": main_net.encode_address(&template),
        "spawn_args": hex::encode(&spawn_args),
        "principal_address": hex::encode(principal),
        "principal_bech32_test": test_net.encode_address(&principal),
        "principal_bech32_main": main_net.encode_address(&principal),
        "recipient_address": hex::encode(recipient),
        "zero_address_bech32_test": test_net.encode_address(&Address::ZERO),
        "selectors": selectors,
        "self_spawn_tx": tx_vector(&test_net, &key, spawn),
        "spend_tx": tx_vector(&test_net, &key, spend),
    })
}

#[test]
fn golden_vectors() {
    let computed = compute();
    if std::env::var_os("ATHENA_REGENERATE_VECTORS").is_some() {
        std::fs::write(PATH, serde_json::to_string_pretty(&computed).unwrap() + "\n").unwrap();
        return;
    }
    let frozen: Value = serde_json::from_str(&std::fs::read_to_string(PATH).expect("vectors.json")).unwrap();
    // Compare key by key for a readable failure.
    let (Value::Object(c), Value::Object(f)) = (&computed, &frozen) else { panic!("not objects") };
    assert_eq!(c.keys().collect::<Vec<_>>(), f.keys().collect::<Vec<_>>(), "vector keys changed");
    for (k, v) in c {
        assert_eq!(v, &f[k], "golden vector {k:?} changed");
    }
}

#[test]
fn frozen_bech32_strings_parse_back() {
    let frozen: Value = serde_json::from_str(&std::fs::read_to_string(PATH).expect("vectors.json")).unwrap();
    let test_net = Network::test(genesis());
    let main_net = Network::main(genesis());
    for (key, net) in [
        ("template_bech32_test", &test_net),
        ("template_bech32_main", &main_net),
        ("principal_bech32_test", &test_net),
        ("principal_bech32_main", &main_net),
    ] {
        let addr = net.parse_address(frozen[key].as_str().unwrap()).unwrap();
        let hex_key = if key.starts_with("template") { "template_address" } else { "principal_address" };
        assert_eq!(hex::encode(addr), frozen[hex_key].as_str().unwrap());
    }
    // Frozen signed transactions decode, re-encode identically and verify.
    let key = SigningKey::from_bytes(&[7u8; 32]);
    for name in ["self_spawn_tx", "spend_tx"] {
        let bytes = hex::decode(frozen[name]["encoded"].as_str().unwrap()).unwrap();
        let tx = decode(&bytes).unwrap();
        assert_eq!(tx.encode(), bytes);
        assert_eq!(hex::encode(tx.id()), frozen[name]["id"].as_str().unwrap());
        assert!(verify_single(&key.verifying_key(), &test_net, &tx));
        assert!(!verify_single(&key.verifying_key(), &Network::test(Bytes32([0; 32])), &tx));
    }
}

//! The multisig's state, address and authenticator, proposal files, signers
//! and payload summaries.

use super::*;
use crate::key::Key;
use athena_interface::Bytes32;
use athena_transaction::{decode, program_address, selector, split_payload, template_address, Network};
use ed25519_dalek::{Signature, Signer};
use parity_scale_codec::Decode;

fn network() -> Network {
    Network::test(Bytes32::new([3; 32]))
}

fn key(seed: u8) -> Key {
    Key::from_seed([seed; 32])
}

/// A 2-of-3 multisig of keys with seeds 1, 2, 3.
fn two_of_three() -> Multisig {
    let keys = [1, 2, 3].map(|s| key(s).public_bytes()).to_vec();
    Multisig::new(template_address(b"multisig"), 2, keys).unwrap()
}

fn spend_proposal() -> Proposal {
    let m = two_of_three();
    let call = Call::Spend { to: Address::new([9; 24]), amount: 500 };
    let tx = m.unsigned(&call, TxParams { nonce: 4, gas_limit: 90_000, gas_price: 2 });
    Proposal::new(network(), m, tx).unwrap()
}

#[test]
fn state_and_address_match_the_template_layout() {
    let m = two_of_three();
    let state = m.state();
    assert_eq!(state[0], 2);
    assert_eq!(state[1], 3 << 2, "compact(3)");
    assert_eq!(state.len(), 2 + 3 * 32);
    assert_eq!(&state[2..34], &key(1).public_bytes());
    assert_eq!(<(u8, Vec<[u8; 32]>)>::decode(&mut &state[..]).unwrap(), (2, m.keys().to_vec()));
    assert_eq!(m.address(), program_address(m.template(), &state));
    let spawn = m.unsigned(&Call::SelfSpawn, TxParams { nonce: 0, gas_limit: 1, gas_price: 1 });
    assert_eq!(spawn.template, Some(*m.template()));
    let (sel, args) = split_payload(&spawn.payload).unwrap();
    assert_eq!((sel, args), (selector("spawn"), &state[..]));
    assert_eq!(m.index_of(&key(3).public_bytes()), Some(2));
    assert_eq!(m.index_of(&key(4).public_bytes()), None);
}

#[test]
fn degenerate_key_sets_are_refused() {
    let t = template_address(b"multisig");
    let k = |s: u8| key(s).public_bytes();
    let msg = |k, keys| Multisig::new(t, k, keys).unwrap_err().to_string();
    assert!(msg(0, vec![k(1)]).contains("threshold 0"));
    assert!(msg(3, vec![k(1), k(2)]).contains("threshold 3"));
    assert!(msg(1, vec![]).contains("0 signers"));
    assert!(msg(2, vec![k(1), k(2), k(1)]).contains("signers 0 and 2 are the same key"));
    assert!(msg(1, (1..=11).map(k).collect()).contains("11 signers"));
    assert!(Multisig::new(t, 10, (1..=10).map(k).collect()).is_ok());
}

#[test]
fn authenticator_is_k_entries_in_increasing_index_order() {
    let mut p = spend_proposal();
    assert_eq!(p.sign(&key(3)).unwrap(), 2);
    assert!(!p.is_complete());
    assert_eq!(p.sign(&key(1)).unwrap(), 0);
    assert!(p.is_complete());
    let auth = p.authenticator().unwrap();
    let entries = Vec::<(u8, [u8; 64])>::decode(&mut &auth[..]).unwrap();
    assert_eq!(entries.iter().map(|e| e.0).collect::<Vec<_>>(), vec![0, 2], "sorted by index");
    assert_eq!(auth.len(), 1 + 2 * 65);
    let message = p.signing_message();
    for (index, signature) in &entries {
        let vk = key(index + 1).verifying_key();
        vk.verify_strict(&message, &Signature::from_bytes(signature)).unwrap();
    }
    // A third signature: still exactly k entries, the lowest indices.
    p.sign(&key(2)).unwrap();
    let entries = Vec::<(u8, [u8; 64])>::decode(&mut &p.authenticator().unwrap()[..]).unwrap();
    assert_eq!(entries.iter().map(|e| e.0).collect::<Vec<_>>(), vec![0, 1]);
    // The transaction round-trips through the codec with that authenticator.
    let tx = p.transaction().unwrap();
    let decoded = decode(&tx.encode()).unwrap();
    assert_eq!(decoded.body, *p.unsigned());
    assert_eq!(decoded.authenticator, p.authenticator().unwrap());
}

#[test]
fn wrong_keys_duplicates_and_too_few_signatures_are_refused() {
    let mut p = spend_proposal();
    let err = p.transaction().unwrap_err();
    assert!(matches!(err, MultisigError::NotEnoughSignatures { have: 0, need: 2, .. }), "{err}");
    let err = p.sign(&key(4)).unwrap_err();
    assert!(matches!(err, MultisigError::NotASigner { n: 3, .. }), "{err}");
    assert!(err.to_string().contains(&hex::encode(key(4).public_bytes())));
    p.sign(&key(2)).unwrap();
    let err = p.sign(&key(2)).unwrap_err();
    assert!(matches!(err, MultisigError::AlreadySigned { index: 1, .. }), "{err}");
    let err = p.transaction().unwrap_err();
    assert_eq!(
        err.to_string(),
        "the proposal has 1 of the 2 signatures it needs (signed by signer 1): collect more with `athena \
         multisig sign`"
    );
    // A signature by another key, or of another message, under a
    // signer's index.
    let forged = key(4).signing_key().sign(&p.signing_message()).to_bytes();
    assert!(matches!(p.add_signature(0, forged), Err(MultisigError::BadSignature { index: 0 })));
    let other = key(1).signing_key().sign(b"something else").to_bytes();
    assert!(matches!(p.add_signature(0, other), Err(MultisigError::BadSignature { index: 0 })));
    assert!(p.add_signature(7, forged).is_err());
    assert_eq!(p.signatures().len(), 1);
}

#[test]
fn proposal_files_round_trip_and_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.json");
    let mut p = spend_proposal();
    p.save(&path, false).unwrap();
    assert_eq!(Proposal::load(&path).unwrap(), p);
    assert!(matches!(p.save(&path, false), Err(MultisigError::Exists(_))));
    p.sign(&key(1)).unwrap();
    p.save(&path, true).unwrap();
    let loaded = Proposal::load(&path).unwrap();
    assert_eq!(loaded, p);
    assert_eq!(loaded.signatures().len(), 1);

    let json: serde_json::Value = serde_json::from_str(&p.to_json()).unwrap();
    assert_eq!(json["threshold"], 2);
    assert_eq!(json["signers"].as_array().unwrap().len(), 3);
    assert_eq!(json["signing_message"], hex::encode(p.signing_message()));
    assert_eq!(json["transaction"]["nonce"], 4);
    assert_eq!(json["signatures"][0]["index"], 0);

    // Edits that would change what was signed, or forge a signature.
    let edit = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v = json.clone();
        f(&mut v);
        Proposal::from_json(&path, &v.to_string()).unwrap_err().to_string()
    };
    assert!(edit(&|v| v["transaction"]["nonce"] = 5.into()).contains("unsigned_transaction does not match"));
    assert!(edit(&|v| v["threshold"] = 1.into()).contains("multisig is not the address"));
    assert!(edit(&|v| v["genesis_id"] = hex::encode([0u8; 32]).into()).contains("signing_message"));
    assert!(edit(&|v| v["signatures"][0]["index"] = 1.into()).contains("public_key is not signer 1"));
    assert!(edit(&|v| v["signatures"][0]["signature"] = hex::encode([1u8; 64]).into()).contains("does not verify"));
    assert!(edit(&|v| v["version"] = 2.into()).contains("version 2"));
    assert!(edit(&|v| v["extra"] = 1.into()).contains("not a proposal file"));
    assert!(Proposal::from_json(&path, "{").unwrap_err().to_string().contains("p.json"));
}

#[test]
fn signers_from_hex_or_key_files() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("k.json");
    key(5).save(&file, false).unwrap();
    let public = key(5).public_bytes();
    assert_eq!(parse_signer(file.to_str().unwrap()).unwrap(), public);
    assert_eq!(parse_signer(&hex::encode(public)).unwrap(), public);
    assert_eq!(parse_signer(&format!("0x{}", hex::encode(public))).unwrap(), public);
    assert!(parse_signer("nope").unwrap_err().to_string().contains("neither 64 hex digits"));
    std::fs::write(dir.path().join("x.json"), "{}").unwrap();
    assert!(parse_signer(dir.path().join("x.json").to_str().unwrap()).unwrap_err().to_string().contains("public"));
    assert!(names_multisig_template("multisig"));
    assert!(names_multisig_template("templates/multisig.elf"));
    assert!(!names_multisig_template("wallet.elf"));
}

#[test]
fn calls_are_described_from_the_payload() {
    use athena_transaction::encode_payload;
    let net = Network::test(Default::default());
    let to = Address::new([0; 24]);
    let text = describe_call(&encode_payload("spend", &(to.0, 5u64)), false, &net);
    assert_eq!(text, format!("spend 5 coins to {}", net.encode_address(&to)));
    let mut spawn = selector("spawn").to_vec();
    spawn.extend([1, 4, 0]);
    assert_eq!(describe_call(&spawn, true, &net), "self-spawn");
    let proxy = encode_payload("proxy", &(to.0, vec![1u8, 2, 3, 4, 9], 7u64));
    assert!(describe_call(&proxy, false, &net).contains("selector 0x01020304 with input 09 and 7 coins"));
    let mut trailing = encode_payload("spend", &(to.0, 5u64));
    trailing.push(0);
    assert!(describe_call(&trailing, false, &net).starts_with("payload "));
}

#[test]
fn deploy_and_spawn_program_summaries_name_what_they_create() {
    let net = network();
    let m = two_of_three();
    let params = TxParams { nonce: 1, gas_limit: 1, gas_price: 1 };
    let code = vec![0x7f, b'E', b'L', b'F', 1, 2, 3];
    let deploy = Summary::of(&m.unsigned(&Call::Deploy { code: code.clone() }, params), &net);
    assert_eq!(deploy.created, Some(("template", template_address(&code))));
    assert_eq!(deploy.code, Some((7, *blake3::hash(&code).as_bytes())));
    assert_eq!(deploy.call, format!("deploy a template of 7 bytes (code blake3 {})", blake3::hash(&code).to_hex()));

    let template = template_address(b"counter");
    let call = Call::SpawnProgram { template, state: vec![5, 0, 0, 0] };
    let spawn = Summary::of(&m.unsigned(&call, params), &net);
    assert_eq!(spawn.created, Some(("program", program_address(&template, &[5, 0, 0, 0]))));
    assert_eq!(spawn.code, None);
    assert!(spawn.call.contains(&net.encode_address(&template)) && spawn.call.ends_with("with state 05000000"));

    let self_spawn = Summary::of(&m.unsigned(&Call::SelfSpawn, params), &net);
    assert_eq!(self_spawn.created, Some(("account", m.address())));
    let spend = Summary::of(&m.unsigned(&Call::Spend { to: m.address(), amount: 1 }, params), &net);
    assert_eq!(spend.created, None);
    // Every call decodes back from its payload; trailing bytes do not.
    for call in [call, Call::Deploy { code }, Call::Spend { to: template, amount: 9 }] {
        assert_eq!(decode_call(&call.payload(&[]), false), Some(call.clone()));
        let mut payload = call.payload(&[]);
        payload.push(0);
        assert_eq!(decode_call(&payload, false), None);
    }
}

#[test]
fn an_offline_proposal_is_the_online_transaction_marked_and_the_mark_survives_the_file() {
    let m = two_of_three();
    let template_text = network().encode_address(m.template());
    let genesis = hex::encode(network().genesis_id().as_bytes());
    let (net, template) = offline_network(&template_text, &genesis).unwrap();
    assert_eq!((&net, &template), (&network(), m.template()));
    let call = Call::Spend { to: Address::new([9; 24]), amount: 500 };
    let params = TxParams { nonce: 4, gas_limit: 90_000, gas_price: 2 };
    let offline = propose_offline(&net, &m, &call, params).unwrap();
    let online = spend_proposal();
    assert_eq!(offline.unsigned(), online.unsigned());
    assert_eq!(offline.signing_message(), online.signing_message());
    assert!(offline.made_offline() && !online.made_offline());

    // The file says so; loading and signing keep it; an online file has no
    // such field (what older versions wrote and read).
    let mut loaded = Proposal::from_json(Path::new("p.json"), &offline.to_json()).unwrap();
    loaded.sign(&key(2)).unwrap();
    let again = Proposal::from_json(Path::new("p.json"), &loaded.to_json()).unwrap();
    assert!(again.made_offline());
    assert!(offline.to_json().contains("\"offline\": true"));
    assert!(!online.to_json().contains("offline"));

    // Refused: a bad or zero genesis id, a program as template, gas 0 or an
    // overflowing prepayment.
    let err = |r: Result<(Network, Address), MultisigError>| r.unwrap_err().to_string();
    assert!(err(offline_network(&template_text, "04")).contains("need the 64 hex digits"));
    assert!(err(offline_network(&template_text, &"00".repeat(32))).contains("all zeros"));
    let program = network().encode_address(&m.address());
    assert!(err(offline_network(&program, &genesis)).contains("multisig template"));
    let zero = TxParams { gas_limit: 0, ..params };
    assert!(propose_offline(&net, &m, &call, zero).unwrap_err().to_string().contains("--gas-limit 0"));
    let huge = TxParams { gas_limit: u64::MAX, gas_price: 2, ..params };
    assert!(propose_offline(&net, &m, &call, huge).unwrap_err().to_string().contains("overflows"));
}

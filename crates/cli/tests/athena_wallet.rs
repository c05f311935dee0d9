//! The wallet commands as processes against a fake node (relay + executor
//! API on loopback): what they send (decoded back and signature-checked),
//! what they print, and the error for each thing a user can get wrong.

use athena_interface::{Address, Bytes32};
use athena_runtime::{Account, ChangeSet};
use athena_store::{BlockMeta, Store};
use athena_transaction::{decode, program_address, selector, split_payload, template_address, verify_single, Network};
use athena_wallet::testing::{FakeNetwork, Reply};
use athena_wallet::{wallet_address, Key};
use parity_scale_codec::{Decode, Encode};
use std::path::PathBuf;
use std::process::{Command, Output};

mod common;

use common::{athena, fails, json, ok, stdout};

fn network() -> Network {
    Network::test(Bytes32::new([4; 32]))
}

fn wallet_template() -> Address {
    template_address(b"the wallet template")
}

/// A temporary HOME with a key file, and the fake node.
struct Env {
    home: tempfile::TempDir,
    fake: FakeNetwork,
}

impl Env {
    fn new() -> Self {
        let home = tempfile::tempdir().unwrap();
        Key::from_seed([7; 32]).save(&home.path().join("key.json"), false).unwrap();
        Self { home, fake: FakeNetwork::start(network(), wallet_template()) }
    }

    fn key_path(&self) -> PathBuf {
        self.home.path().join("key.json")
    }

    fn wallet(&self) -> Address {
        wallet_address(&wallet_template(), &Key::from_seed([7; 32]).public_bytes())
    }

    fn fund(&self, balance: u64, nonce: u64, spawned: bool) {
        let w = self.wallet();
        self.fake.with(|s| s.accounts.insert(w, (balance, nonce, spawned.then_some(wallet_template()))));
    }

    /// Runs `athena ARGS --node <fake> --key <key>`.
    fn run(&self, args: &[&str]) -> Output {
        let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        all.extend(["--node".into(), self.fake.url().into(), "--key".into(), self.key_path().display().to_string()]);
        athena(self.home.path(), &all)
    }

    /// Runs `athena ARGS --node <fake>` (commands without a key).
    fn query(&self, args: &[&str]) -> Output {
        let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        all.extend(["--node".into(), self.fake.url().into()]);
        athena(self.home.path(), &all)
    }

    fn submitted(&self) -> Vec<athena_transaction::Transaction> {
        self.fake.with(|s| s.submitted.iter().map(|b| decode(b).unwrap()).collect())
    }

    fn last_submitted(&self) -> athena_transaction::Transaction {
        let tx = self.submitted().pop().expect("a transaction was submitted");
        assert!(verify_single(&Key::from_seed([7; 32]).verifying_key(), &network(), &tx), "bad signature");
        assert_eq!(tx.body.principal, self.wallet());
        tx
    }
}

#[test]
fn key_files() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("alice.json");
    let p = path.to_str().unwrap();
    let made = json(&athena(home.path(), &["key", "new", "--out", p, "--json"]));
    let key = Key::load(&path).unwrap();
    assert_eq!(made["public_key"], hex::encode(key.public_bytes()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    fails(&athena(home.path(), &["key", "new", "--out", p]), "refusing to overwrite");
    assert_eq!(Key::load(&path).unwrap().public_bytes(), key.public_bytes());
    ok(&athena(home.path(), &["key", "new", "--out", p, "--force"]));
    let replaced = Key::load(&path).unwrap();
    assert_ne!(replaced.public_bytes(), key.public_bytes());
    let shown = ok(&athena(home.path(), &["key", "show", "--key", p]));
    assert!(shown.contains(&hex::encode(replaced.public_bytes())), "{shown}");
    assert!(!shown.contains(&hex::encode(replaced.signing_key().to_bytes())), "the secret must not be printed");
    // Default location: $HOME/.athena/key.json.
    ok(&athena(home.path(), &["key", "new"]));
    assert!(Key::load(&home.path().join(".athena/key.json")).is_ok());
    fails(&athena(home.path(), &["key", "show", "--key", "/nonexistent/k.json"]), "no key file at /nonexistent/k.json");
}

#[test]
fn address_offline_and_from_the_node() {
    let env = Env::new();
    let want = network().encode_address(&env.wallet());
    let template = network().encode_address(&wallet_template());
    let key = env.key_path().display().to_string();
    // Offline: no node is contacted (the URL is unroutable).
    let offline =
        athena(env.home.path(), &["address", "--key", &key, "--template", &template, "--node", "http://127.0.0.1:9"]);
    assert_eq!(ok(&offline).trim(), want);
    assert_eq!(ok(&env.run(&["address"])).trim(), want);
    let j = json(&env.run(&["address", "--json"]));
    assert_eq!(j["address"], want);
    assert_eq!(j["wallet_template"], template);
    // A program address is not a template.
    fails(&env.run(&["address", "--wallet-template", &want]), "not a template address");
}

#[test]
fn spawn_send_deploy_spawn_call() {
    let env = Env::new();
    let net = network();
    env.fund(10_000_000, 0, false);

    // Self-spawn, waiting for the receipt.
    let out = ok(&env.run(&["wallet", "spawn", "--wait"]));
    assert!(out.contains("status:      succeeded"), "{out}");
    assert!(out.contains("block:       6 (index 0)"), "{out}");
    let tx = env.last_submitted();
    assert_eq!(tx.body.template, Some(wallet_template()));
    assert_eq!(tx.body.nonce, 0);
    assert_eq!(tx.body.payload[..4], selector("spawn"));
    assert_eq!(tx.body.payload[4..], Key::from_seed([7; 32]).public_bytes());
    // The dry run used 40 000: limit 40 000 + 25% + 5 000.
    assert_eq!(tx.body.gas_limit, 55_000);
    env.fund(10_000_000 - 42_000, 1, true);
    fails(&env.run(&["wallet", "spawn"]), "is already spawned");

    // Send.
    let bob = program_address(&wallet_template(), &[8; 32]);
    let bob_text = net.encode_address(&bob);
    let out = ok(&env.run(&["send", &bob_text, "1000", "--gas-price", "2"]));
    assert!(out.contains(&format!("to:          {bob_text}")), "{out}");
    assert!(out.contains("nonce:       1 (committed nonce)"), "{out}");
    let tx = env.last_submitted();
    assert_eq!(
        out.lines().find(|l| l.starts_with("transaction:")).unwrap(),
        format!("transaction: {}", hex::encode(tx.id().0))
    );
    assert_eq!((tx.body.nonce, tx.body.gas_price, tx.body.template), (1, 2, None));
    let (sel, mut args) = split_payload(&tx.body.payload).unwrap();
    assert_eq!(sel, selector("spend"));
    assert_eq!(<([u8; 24], u64)>::decode(&mut args).unwrap(), (bob.0, 1000));

    // Deploy: prints the template address before anything is included.
    let elf = athena_test_elf::ElfBuilder::new(0x1_0000)
        .text(0x1_0000, &[athena_test_elf::asm::addi(athena_test_elf::asm::A0, 0, 0)])
        .build();
    let elf_path = env.home.path().join("t.elf");
    std::fs::write(&elf_path, &elf).unwrap();
    let j = json(&env.run(&["deploy", elf_path.to_str().unwrap(), "--json"]));
    let template = template_address(&elf);
    assert_eq!(j["template"], net.encode_address(&template));
    assert_eq!(j["transaction"], hex::encode(env.last_submitted().id().0));
    let tx = env.last_submitted();
    assert_eq!(tx.body.payload, [&selector("deploy")[..], &elf.encode()].concat());
    let junk = env.home.path().join("junk.elf");
    std::fs::write(&junk, b"not an elf").unwrap();
    fails(&env.run(&["deploy", junk.to_str().unwrap()]), "is not a loadable Athena program");

    // Spawn a program of it, with typed state (or hex).
    let template_text = net.encode_address(&template);
    let out = ok(&env.run(&["spawn", &template_text, "u64:5", &format!("addr:{bob_text}")]));
    let state = (5u64, bob.0).encode();
    let program = program_address(&template, &state);
    assert!(out.contains(&format!("program:     {}", net.encode_address(&program))), "{out}");
    let tx = env.last_submitted();
    assert_eq!(tx.body.payload, [&selector("spawn_program")[..], &(template.0, state.clone()).encode()].concat());
    ok(&env.run(&["spawn", &template_text, &hex::encode(&state)]));
    assert_eq!(env.last_submitted().body.payload, tx.body.payload);

    // Call a method through proxy, decode the output.
    env.fake.with(|s| s.receipt_output = hex::encode(7u64.encode()));
    let program_text = net.encode_address(&program);
    let out =
        ok(&env.run(&["call", &program_text, "add", "u64:5", "str:hi", "--value", "3", "--wait", "--returns", "u64"]));
    assert!(out.contains("returned:    7"), "{out}");
    let tx = env.last_submitted();
    let (sel, mut args) = split_payload(&tx.body.payload).unwrap();
    assert_eq!(sel, selector("proxy"));
    let (to, inner, value) = <([u8; 24], Vec<u8>, u64)>::decode(&mut args).unwrap();
    assert_eq!((to, value), (program.0, 3));
    assert_eq!(inner, [&selector("add")[..], &(5u64, "hi".to_string()).encode()].concat());
    fails(&env.run(&["call", &program_text, "add", "5"]), "has no type: write TYPE:VALUE");

    // Every transaction went through a dry run first.
    assert_eq!(env.fake.node.posted("/v1/transactions/check").len(), env.submitted().len());
}

#[test]
fn failed_transaction_exits_non_zero() {
    let env = Env::new();
    env.fund(10_000_000, 3, true);
    env.fake.with(|s| s.receipt_status = "failed".into());
    let bob = network().encode_address(&program_address(&wallet_template(), &[8; 32]));
    let out = env.run(&["send", &bob, "5", "--wait"]);
    fails(&out, "the transaction was included but failed: payload reverted: wallet: insufficient balance");
    assert!(stdout(&out).contains("revert:      wallet: insufficient balance"), "{}", stdout(&out));
}

#[test]
fn user_errors() {
    let env = Env::new();
    let bob = network().encode_address(&program_address(&wallet_template(), &[8; 32]));

    // Unknown account (404): sending from an unfunded wallet, and showing one.
    fails(&env.run(&["send", &bob, "5"]), "error: unknown account atest1");
    fails(&env.run(&["account", &bob]), &format!("unknown account {bob}"));
    // Not spawned yet.
    env.fund(1_000, 0, false);
    fails(&env.run(&["send", &bob, "5"]), "is not spawned yet (it holds 1000 coins): run `athena wallet spawn` first");
    // Insufficient balance.
    env.fund(1_000, 1, true);
    fails(&env.run(&["send", &bob, "5000"]), "insufficient balance: atest1");
    // Bad recipient.
    fails(&env.run(&["send", "atest1nope", "5"]), "recipient \"atest1nope\"");
    let main_net = Network::main(Bytes32::ZERO).encode_address(&Address::ZERO);
    fails(&env.run(&["send", &main_net, "5"]), "expected \"atest\"");
    // Relay rejection: its code and message.
    env.fund(1_000_000, 1, true);
    env.fake.with(|s| {
        s.reject = Some(Reply::error(422, "rejected_by_verify", "rejected by verify: verify returned false"))
    });
    fails(
        &env.run(&["send", &bob, "5"]),
        "the relay rejected the transaction: rejected by verify: verify returned false [rejected_by_verify]",
    );
    // The dry run refuses a transaction that would fail.
    env.fake.with(|s| {
        s.check = Some(serde_json::json!({
            "ok": true, "status": "failed", "reason": "payload failed: revert", "revert_message": "nope", "gas_used": 1
        }))
    });
    fails(&env.run(&["send", &bob, "5"]), "dry run: the transaction would fail: payload failed: revert: nope");
    // Unknown transaction.
    fails(&env.query(&["tx", &"ab".repeat(32)]), "unknown transaction");
    fails(&env.query(&["tx", "abcd"]), "expected 64 hex digits");
}

#[test]
fn node_unreachable() {
    let home = tempfile::tempdir().unwrap();
    Key::from_seed([7; 32]).save(&home.path().join("key.json"), false).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}");
    let key = home.path().join("key.json").display().to_string();
    let bob = network().encode_address(&Address::ZERO);
    for args in
        [vec!["send", bob.as_str(), "5"], vec!["account", bob.as_str()], vec!["address"], vec!["wallet", "spawn"]]
    {
        let mut all = args.clone();
        all.extend(["--node", url.as_str(), "--key", key.as_str()]);
        fails(&athena(home.path(), &all), &format!("error: cannot reach the node at {url}"));
    }
    // A malformed address is reported as such before the node is contacted.
    for (args, what) in [
        (vec!["send", "atest1nope", "5"], "recipient"),
        (vec!["call", "atest1nope", "get"], "program"),
        (vec!["spawn", "atest1nope"], "template"),
        (vec!["account", "atest1nope"], "address"),
        (vec!["storage", "atest1nope", "item:count"], "address"),
    ] {
        let mut all = args.clone();
        all.extend(["--node", url.as_str()]);
        if args[0] != "account" && args[0] != "storage" {
            all.extend(["--key", key.as_str()]);
        }
        fails(&athena(home.path(), &all), &format!("error: {what} \"atest1nope\": "));
    }
    // ATHENA_NODE is honoured.
    let out = Command::new(env!("CARGO_BIN_EXE_athena"))
        .args(["account", bob.as_str()])
        .env("ATHENA_NODE", &url)
        .output()
        .unwrap();
    fails(&out, &format!("cannot reach the node at {url}"));
}

/// A one-account store, for real proofs.
fn store_with(address: Address, account: Account, slot: ([u8; 32], [u8; 32])) -> Store {
    let store = Store::in_memory().unwrap();
    let mut changes = ChangeSet::default();
    changes.accounts.insert(address, account);
    changes.storage.insert((address, Bytes32::new(slot.0)), Bytes32::new(slot.1));
    store.commit_block(0, &changes, &BlockMeta::default()).unwrap();
    store
}

#[test]
fn account_tx_and_storage_with_proofs() {
    let env = Env::new();
    let net = network();
    let me = env.wallet();
    let record = Account { balance: 5_000, nonce: 2, template: Some(wallet_template()) };
    let store = store_with(me, record, ([1; 32], [2; 32]));
    let proof = store.prove_account(&me, None).unwrap();
    let root = hex::encode(proof.state_root.0);
    env.fund(5_000, 2, true);
    env.fake.with(|s| {
        s.account_extra.insert(
            me,
            serde_json::json!({ "height": 0, "state_root": root, "proof": hex::encode(proof.proof.to_bytes()) }),
        )
    });
    // Own account by default (from --key).
    let out = ok(&env.run(&["account"]));
    assert!(out.contains("balance:     5000"), "{out}");
    assert!(out.contains(&format!("template:    {}", net.encode_address(&wallet_template()))), "{out}");
    assert!(out.contains(&format!("proof:       valid against state root {root} at height 0")), "{out}");
    let me_text = net.encode_address(&me);
    let out = ok(&env.run(&["account", &me_text, "--root", &root]));
    assert!(out.contains("valid against the trusted state root"), "{out}");
    fails(&env.run(&["account", &me_text, "--root", &"00".repeat(32)]), "not the trusted root");
    // A node lying about the balance is caught.
    env.fund(6_000, 2, true);
    fails(&env.run(&["account", &me_text]), "the node's proof does not check out");

    // Storage: present and absent slots.
    for (key, value) in [([1u8; 32], [2u8; 32]), ([3; 32], [0; 32])] {
        let p = store.prove_storage(&me, &Bytes32::new(key), None).unwrap();
        assert_eq!(p.value.0, value);
        env.fake.with(|s| {
            s.storage.insert(
                (me, hex::encode(key)),
                serde_json::json!({
                    "address": me_text, "key": hex::encode(key), "value": hex::encode(value), "height": 0,
                    "state_root": hex::encode(p.state_root.0), "proof": hex::encode(p.proof.to_bytes()),
                }),
            )
        });
        let j = json(&env.query(&["storage", &me_text, &hex::encode(key), "--json"]));
        assert_eq!(j["value"], hex::encode(value));
        assert_eq!(j["proof"]["valid"], true, "{j}");
    }
    // A forged value fails.
    env.fake.with(|s| {
        let answer = s.storage.get_mut(&(me, hex::encode([1u8; 32]))).unwrap();
        answer["value"] = serde_json::json!(hex::encode([9u8; 32]));
    });
    fails(&env.query(&["storage", &me_text, &hex::encode([1u8; 32])]), "does not match");

    // tx: an included transaction's receipt.
    env.fund(1_000_000, 2, true);
    let bob = net.encode_address(&program_address(&wallet_template(), &[8; 32]));
    ok(&env.run(&["send", &bob, "5"]));
    let id = hex::encode(env.last_submitted().id().0);
    let out = ok(&env.query(&["tx", &id]));
    assert!(out.contains("status:      succeeded") && out.contains("gas used:    42000"), "{out}");
    let j = json(&env.query(&["tx", &id, "--json"]));
    assert_eq!(j["block"], 6);
}

#[test]
fn account_state_blob_proven() {
    let env = Env::new();
    let net = network();
    let me = env.wallet();
    let plain = Address::new([0, 0, 0, 0, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9]);
    let blob = Key::from_seed([7; 32]).public_bytes().to_vec();
    let store = Store::in_memory().unwrap();
    let mut changes = ChangeSet::default();
    changes.accounts.insert(me, Account { balance: 5_000, nonce: 2, template: Some(wallet_template()) });
    changes.accounts.insert(plain, Account { balance: 7, nonce: 0, template: None });
    changes.states.insert(me, blob.clone());
    store.commit_block(0, &changes, &BlockMeta::default()).unwrap();
    // Both proofs from one snapshot at one height, as the node serves them.
    let answer = |address: Address| {
        let snapshot = store.snapshot().unwrap();
        let p = snapshot.prove_account(&address, None).unwrap();
        let s = snapshot.prove_program_state(&address, Some(p.height)).unwrap();
        serde_json::json!({
            "height": p.height, "state_root": hex::encode(p.state_root.0), "proof": hex::encode(p.proof.to_bytes()),
            "state": hex::encode(&s.state), "state_proof": hex::encode(s.proof.to_bytes()),
        })
    };
    let root = hex::encode(store.state_root().unwrap().0);
    env.fund(5_000, 2, true);
    env.fake.with(|s| {
        s.accounts.insert(plain, (7, 0, None));
        s.account_extra.insert(me, answer(me));
        s.account_extra.insert(plain, answer(plain));
    });
    let me_text = net.encode_address(&me);
    let plain_text = net.encode_address(&plain);

    // A program's blob: an inclusion proof, in text and JSON, against the
    // node's root and a trusted one.
    let out = ok(&env.query(&["account", &me_text]));
    assert!(out.contains(&format!("state:       {}", hex::encode(&blob))), "{out}");
    assert!(out.contains(&format!("state proof: valid against state root {root} at height 0")), "{out}");
    let j = json(&env.query(&["account", &me_text, "--json"]));
    assert_eq!((j["proof"]["valid"].as_bool(), j["state_proof"]["valid"].as_bool()), (Some(true), Some(true)), "{j}");
    let out = ok(&env.query(&["account", &me_text, "--root", &root]));
    assert!(out.contains("state proof: valid against the trusted state root"), "{out}");

    // A plain account: no blob, a non-inclusion proof.
    let j = json(&env.query(&["account", &plain_text, "--json"]));
    assert_eq!(j["state_proof"]["valid"], true, "{j}");

    // A lying node caught: a tampered blob, a dropped blob, a blob for a
    // plain account. The account record itself still checks out.
    let mut tampered = blob.clone();
    tampered[0] ^= 1;
    for (who, state) in [(me, hex::encode(&tampered)), (me, String::new()), (plain, hex::encode(&blob))] {
        env.fake.with(|s| s.account_extra.get_mut(&who).unwrap()["state"] = serde_json::json!(state));
        let out = env.query(&["account", &net.encode_address(&who)]);
        fails(&out, "the node's program state does not match its proof");
        assert!(stdout(&out).contains("proof:       valid"), "{}", stdout(&out));
        env.fake.with(|s| s.account_extra.insert(who, answer(who)));
    }

    // An older node without state_proof: the state is unproven, not an error.
    env.fake.with(|s| s.account_extra.get_mut(&me).unwrap().as_object_mut().unwrap().remove("state_proof"));
    let out = ok(&env.query(&["account", &me_text]));
    assert!(out.contains("state proof: not provided by the node: the program state is unproven"), "{out}");
    let j = json(&env.query(&["account", &me_text, "--json"]));
    assert_eq!(j["state_proof"]["valid"], false, "{j}");
}

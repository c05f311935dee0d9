//! `athena multisig` as processes against a fake node, with every submitted
//! transaction then applied by the real runtime (`apply_transaction` over
//! the real `multisig` template): a 2-of-3 account's address, its
//! self-spawn and a spend made by propose + sign + sign + submit, each
//! accepted by the template's `verify`; one signature refused by the CLI
//! and, forced through, by `verify`; wrong keys, duplicate signatures and
//! tampered proposal files refused with their messages.

use athena_interface::{Address, Bytes32};
use athena_runtime::tx::{apply_transaction, BlockContext, Ineffective, Receipt, TxConfig, TxStatus};
use athena_runtime::{Account, ChangeSet, MemoryState, StateReader, StateWriter};
use athena_transaction::{decode, program_address, template_address, Network, Transaction};
use athena_wallet::multisig::Proposal;
use athena_wallet::testing::FakeNetwork;
use athena_wallet::Key;
use parity_scale_codec::Encode;
use std::path::PathBuf;
use std::process::Output;
use std::sync::Arc;

mod common;

use common::{athena, fails, json, ok};

const RICH: u64 = 1_000_000_000;

fn network() -> Network {
    Network::test(Bytes32::new([4; 32]))
}

fn multisig_elf() -> Vec<u8> {
    let path = athena_guest_builder::example_elf(athena_guest_builder::GuestTarget::Rv32em, "multisig")
        .unwrap_or_else(|e| panic!("building guest programs: {e}"));
    std::fs::read(path).unwrap()
}

/// The real runtime over an in-memory state with the multisig template.
struct Chain {
    state: MemoryState,
    block: BlockContext,
}

impl Chain {
    fn new(template_code: &[u8]) -> Self {
        let mut state = MemoryState::new();
        let mut changes = ChangeSet::default();
        changes.templates.insert(template_address(template_code), Arc::from(template_code));
        state.apply(&changes).unwrap();
        let mut block = BlockContext::new(network(), Address::new([0xcb; 24]));
        block.height = 7;
        Self { state, block }
    }

    fn fund(&mut self, address: Address, amount: u64) {
        let mut changes = ChangeSet::default();
        changes.accounts.insert(address, Account { balance: amount, nonce: 0, template: None });
        self.state.apply(&changes).unwrap();
    }

    fn account(&self, address: Address) -> Option<Account> {
        self.state.account(&address).unwrap()
    }

    /// Applies and commits `bytes`.
    fn apply(&mut self, bytes: &[u8]) -> Receipt {
        let receipt = apply_transaction(&self.state, &self.block, bytes, &TxConfig::default()).expect("evaluable");
        self.state.apply(&receipt.changes).unwrap();
        receipt
    }
}

struct Env {
    home: tempfile::TempDir,
    fake: FakeNetwork,
    template: Address,
}

impl Env {
    fn new(template: Address) -> Self {
        let home = tempfile::tempdir().unwrap();
        for seed in 1..=4 {
            Key::from_seed([seed; 32]).save(&home.path().join(format!("k{seed}.json")), false).unwrap();
        }
        let fake = FakeNetwork::start(network(), template_address(b"the wallet template"));
        fake.with(|s| s.templates.insert("templates/multisig.elf".into(), template));
        Self { home, fake, template }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.home.path().join(name)
    }

    fn p(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    /// `--threshold 2` and signers 1 (key file), 2 (hex), 3 (key file).
    fn id_args(&self) -> Vec<String> {
        let two = hex::encode(Key::from_seed([2; 32]).public_bytes());
        vec![
            "--threshold".into(),
            "2".into(),
            "--signer".into(),
            self.p("k1.json"),
            "--signer".into(),
            two,
            "--signer".into(),
            self.p("k3.json"),
        ]
    }

    fn keys(&self) -> Vec<[u8; 32]> {
        [1, 2, 3].map(|s| Key::from_seed([s; 32]).public_bytes()).to_vec()
    }

    fn address(&self) -> Address {
        program_address(&self.template, &(2u8, self.keys()).encode())
    }

    /// `athena ARGS --node <fake>`.
    fn run(&self, args: &[&str]) -> Output {
        let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        all.extend(["--node".into(), self.fake.url().into()]);
        athena(self.home.path(), &all)
    }

    /// `athena multisig propose WHAT… <id args> --out FILE --node <fake>`.
    fn propose(&self, what: &[&str], file: &str) -> Output {
        let mut args = vec!["multisig", "propose"];
        args.extend_from_slice(what);
        let id = self.id_args();
        args.extend(id.iter().map(String::as_str));
        let out = self.p(file);
        args.extend(["--out", &out]);
        self.run(&args)
    }

    fn sign(&self, file: &str, key: &str) -> Output {
        athena(self.home.path(), &["multisig", "sign", &self.p(file), "--key", &self.p(key)])
    }

    fn submitted(&self) -> Vec<Vec<u8>> {
        self.fake.with(|s| s.submitted.clone())
    }
}

/// `transaction` with the authenticator of only the given entries.
fn with_entries(tx: &Transaction, entries: Vec<(u8, [u8; 64])>) -> Vec<u8> {
    tx.body.clone().with_authenticator(entries.encode()).encode()
}

#[test]
fn a_2_of_3_multisig_spawns_and_spends_through_propose_sign_sign_submit() {
    let code = multisig_elf();
    let template = template_address(&code);
    let env = Env::new(template);
    let mut chain = Chain::new(&code);
    let address = env.address();
    let text = network().encode_address(&address);

    // The address: offline with --multisig-template, and from the node's
    // status (templates/multisig.elf).
    let id = env.id_args();
    let mut args: Vec<&str> = vec!["multisig", "address"];
    args.extend(id.iter().map(String::as_str));
    assert_eq!(ok(&env.run(&args)).trim(), text);
    let template_text = network().encode_address(&template);
    let mut offline = args.clone();
    offline.extend(["--multisig-template", &template_text, "--json"]);
    let answer: serde_json::Value = serde_json::from_str(&ok(&athena(env.home.path(), &offline))).expect("JSON");
    assert_eq!(answer["address"], text.as_str());
    assert_eq!(answer["threshold"], 2);
    assert_eq!(answer["state"], hex::encode((2u8, env.keys()).encode()));

    // Fund it (in the fake node and the real chain), propose its self-spawn.
    chain.fund(address, RICH);
    env.fake.with(|s| s.accounts.insert(address, (RICH, 0, None)));
    ok(&env.propose(&["spawn"], "spawn.json"));
    fails(&env.propose(&["spawn"], "spawn.json"), "exists already");

    // Signer 1 signs; again: refused; an outsider: refused.
    ok(&env.sign("spawn.json", "k1.json"));
    fails(&env.sign("spawn.json", "k1.json"), "signer 0 (key ");
    fails(&env.sign("spawn.json", "k1.json"), "has already signed this proposal");
    fails(&env.sign("spawn.json", "k4.json"), "is not one of this multisig's 3 signers");

    // One signature: submit refuses before contacting the node...
    fails(
        &env.run(&["multisig", "submit", &env.p("spawn.json")]),
        "the proposal has 1 of the 2 signatures it needs (signed by signer 0)",
    );
    assert!(env.submitted().is_empty());
    // ...and the template's verify refuses it too, if forced through.
    let one = Proposal::load(&env.path("spawn.json")).unwrap();
    let (index, signature) = one.signatures().iter().next().map(|(i, s)| (*i, *s)).unwrap();
    let unsigned = one.unsigned().clone().with_authenticator(Vec::new());
    let receipt = chain.apply(&with_entries(&unsigned, vec![(index, signature)]));
    assert_eq!(receipt.status, TxStatus::Ineffective(Ineffective::VerifyRejected), "{receipt:?}");
    assert_eq!(chain.account(address).unwrap().template, None);

    // Signer 3 signs: ready; submit --wait.
    let signed = ok(&env.sign("spawn.json", "k3.json"));
    assert!(signed.contains("2 of 2 needed (signers 0, 2)"), "{signed}");
    assert!(signed.contains("self-spawn"), "{signed}");
    let shown = json(&athena(env.home.path(), &["multisig", "show", &env.p("spawn.json"), "--json"]));
    assert_eq!(shown["ready"], true);
    let out = json(&env.run(&["multisig", "submit", &env.p("spawn.json"), "--wait", "--json"]));
    assert_eq!(out["status"], "succeeded");
    let bytes = env.submitted().pop().expect("submitted");
    let tx = decode(&bytes).unwrap();
    assert_eq!(out["transaction"], hex::encode(tx.id().0));
    assert_eq!(tx.body.principal, address);
    assert_eq!(tx.body.template, Some(template));
    // The real runtime accepts it: verify passes, the account is spawned.
    let receipt = chain.apply(&bytes);
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
    assert_eq!(chain.account(address).unwrap().template, Some(template));
    assert!(receipt.gas_used <= tx.body.gas_limit);

    // A spend, signed by 3 then 2 (the authenticator is sorted by index).
    env.fake.with(|s| s.accounts.insert(address, (RICH - receipt.fee, 1, Some(template))));
    let bob = program_address(&template_address(b"the wallet template"), &[8; 32]);
    let bob_text = network().encode_address(&bob);
    let proposed = json(&{
        let mut args = vec!["multisig", "propose", "send", &bob_text, "1234"];
        args.extend(id.iter().map(String::as_str));
        let out = env.p("spend.json");
        args.extend(["--out", &out, "--json"]);
        env.run(&args)
    });
    assert_eq!(proposed["nonce"], 1);
    assert_eq!(proposed["call"], format!("spend 1234 coins to {bob_text}"));
    ok(&env.sign("spend.json", "k3.json"));
    ok(&env.sign("spend.json", "k2.json"));
    ok(&env.run(&["multisig", "submit", &env.p("spend.json"), "--wait"]));
    let bytes = env.submitted().pop().expect("submitted");
    let tx = decode(&bytes).unwrap();
    let entries = <Vec<(u8, [u8; 64])> as parity_scale_codec::Decode>::decode(&mut &tx.authenticator[..]).unwrap();
    assert_eq!(entries.iter().map(|e| e.0).collect::<Vec<_>>(), vec![1, 2]);
    let receipt = chain.apply(&bytes);
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
    assert_eq!(chain.account(bob).unwrap().balance, 1234);
    assert_eq!(chain.account(address).unwrap().nonce, 2);
}

#[test]
fn user_errors() {
    let template = template_address(b"a multisig template");
    let env = Env::new(template);
    let address = env.address();

    // Bad key sets and signers, before the node is asked.
    let k1 = env.p("k1.json");
    fails(
        &env.run(&["multisig", "address", "--threshold", "3", "--signer", &k1, "--signer", &k1]),
        "invalid multisig: threshold 3 with 2 signers",
    );
    fails(
        &env.run(&["multisig", "address", "--threshold", "1", "--signer", &k1, "--signer", &k1]),
        "signers 0 and 1 are the same key",
    );
    fails(&env.run(&["multisig", "address", "--threshold", "1", "--signer", "nope"]), "neither 64 hex digits");

    // Not funded / not spawned.
    fails(&env.propose(&["spawn"], "p.json"), "has no coins: send it some first");
    env.fake.with(|s| s.accounts.insert(address, (500, 0, None)));
    fails(&env.propose(&["send", &network().encode_address(&address), "1"], "p.json"), "is not spawned yet");
    // Not enough coins for the spend plus gas.
    env.fake.with(|s| s.accounts.insert(address, (500, 0, Some(template))));
    fails(&env.propose(&["send", &network().encode_address(&address), "1000"], "p.json"), "insufficient balance");
    assert!(!env.path("p.json").exists());

    // A proposal that was edited after signing.
    env.fake.with(|s| s.accounts.insert(address, (RICH, 3, Some(template))));
    ok(&env.propose(&["call", &network().encode_address(&address), "deposit", "--value", "5"], "p.json"));
    let shown = json(&athena(env.home.path(), &["multisig", "show", &env.p("p.json"), "--json"]));
    assert_eq!(shown["nonce"], 3);
    assert_eq!(shown["signatures"]["have"], 0);
    ok(&env.sign("p.json", "k2.json"));
    let text = std::fs::read_to_string(env.path("p.json")).unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
    value["transaction"]["gas_price"] = 1000.into();
    std::fs::write(env.path("p.json"), value.to_string()).unwrap();
    fails(&env.sign("p.json", "k1.json"), "unsigned_transaction does not match the transaction's fields");

    // A proposal for another network than the node's.
    let other = Network::test(Bytes32::new([5; 32]));
    let multisig = athena_wallet::multisig::Multisig::new(template, 1, env.keys()).unwrap();
    let tx = multisig
        .unsigned(&athena_wallet::Call::SelfSpawn, athena_wallet::TxParams { nonce: 0, gas_limit: 1, gas_price: 1 });
    let mut proposal = Proposal::new(other, multisig, tx).unwrap();
    proposal.sign(&Key::from_seed([1; 32])).unwrap();
    proposal.save(&env.path("other.json"), false).unwrap();
    fails(&env.run(&["multisig", "submit", &env.p("other.json")]), "the proposal is for network atest (genesis 0505");
    assert!(env.submitted().is_empty());
}

//! `athena multisig` as processes against a fake node, with every submitted
//! transaction then applied by the real runtime (`apply_transaction` over
//! the real `multisig` template): a 2-of-3 account's address, its
//! self-spawn and a spend made by propose + sign + sign + submit, each
//! accepted by the template's `verify`; one signature refused by the CLI
//! and, forced through, by `verify`; wrong keys, duplicate signatures and
//! tampered proposal files refused with their messages; a template
//! deployed and a program of it spawned the same way. The fake node's dry
//! run is the real runtime's verdict on the same state
//! ([`Env::dry_run_on`]), so the pre-signing dry run of `propose` and the
//! full one of `submit` are exercised against the real template.

use athena_interface::{Address, Bytes32};
use athena_runtime::tx::{
    apply_transaction, dry_run_transaction, BlockContext, DryRun, DryRunOptions, Ineffective, Receipt, TxConfig,
    TxStatus,
};
use athena_runtime::{Account, ChangeSet, MemoryState, StateReader, StateWriter};
use athena_transaction::{decode, program_address, template_address, Network, Transaction};
use athena_wallet::multisig::{Multisig, Proposal, VERIFY_REJECTED};
use athena_wallet::session::gas_with_margin;
use athena_wallet::testing::{CheckFn, FakeNetwork};
use athena_wallet::{Call, Key, TxParams};
use parity_scale_codec::Encode;
use serde_json::json;
use std::path::PathBuf;
use std::process::Output;
use std::sync::{Arc, Mutex};

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

    /// What the executor's `POST /v1/transactions/check?QUERY` answers
    /// for `bytes` (the fields the wallet reads), as the node computes it:
    /// the runtime's dry run, `ignore_verify=true` its estimate mode.
    fn dry_run(&self, query: &str, bytes: &[u8]) -> serde_json::Value {
        let ignore_verify = query.split('&').any(|p| p == "ignore_verify=true");
        let options = DryRunOptions { ignore_verify };
        let DryRun { receipt, verify_accepted } =
            dry_run_transaction(&self.state, &self.block, bytes, &TxConfig::default(), options).expect("evaluable");
        let (effective, status, reason) = match &receipt.status {
            TxStatus::Succeeded => (true, "succeeded", None),
            TxStatus::Failed(why) => (true, "failed", Some(why.to_string())),
            TxStatus::Ineffective(why) => (false, "ineffective", Some(why.to_string())),
        };
        let mut answer = json!({
            "ok": effective && verify_accepted != Some(false),
            "status": status,
            "reason": reason,
            "revert_message": receipt.revert_message(),
            "gas_used": receipt.gas_used,
        });
        if ignore_verify {
            answer["verify_accepted"] = json!(verify_accepted == Some(true));
        }
        answer
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

    /// An environment for the built multisig template whose fake node's dry
    /// run is the real runtime's over the returned chain (which has the
    /// template deployed).
    fn on_chain() -> (Self, Arc<Mutex<Chain>>) {
        let code = multisig_elf();
        let env = Env::new(template_address(&code));
        let chain = Arc::new(Mutex::new(Chain::new(&code)));
        env.dry_run_on(&chain);
        (env, chain)
    }

    /// Makes the fake node's dry run the real runtime's over `chain`.
    fn dry_run_on(&self, chain: &Arc<Mutex<Chain>>) {
        let chain = Arc::clone(chain);
        let f = move |query: &str, bytes: &[u8]| chain.lock().unwrap().dry_run(query, bytes);
        self.fake.with(|s| s.check_with = Some(CheckFn(Arc::new(f))));
    }

    /// Copies `address`'s account from the chain to the fake node.
    fn sync(&self, chain: &Arc<Mutex<Chain>>, address: Address) {
        let account = chain.lock().unwrap().account(address).expect("an account");
        self.fake.with(|s| s.accounts.insert(address, (account.balance, account.nonce, account.template)));
    }
}

/// The gas limit the proposal set from the estimate covers what the signed
/// transaction used, and is not above that with the wallet's margin (the
/// estimate does not count verify's loop over the unreached entries, so
/// it is at most the real use).
fn assert_gas_estimated(receipt: &Receipt, tx: &Transaction) {
    let (used, limit) = (receipt.gas_used, tx.body.gas_limit);
    assert!(used <= limit, "gas used {used} above the limit {limit}");
    assert!(limit <= gas_with_margin(used), "limit {limit} above the margin of {used}: {}", gas_with_margin(used));
}

/// `transaction` with the authenticator of only the given entries.
fn with_entries(tx: &Transaction, entries: Vec<(u8, [u8; 64])>) -> Vec<u8> {
    tx.body.clone().with_authenticator(entries.encode()).encode()
}

#[test]
fn a_2_of_3_multisig_spawns_and_spends_through_propose_sign_sign_submit() {
    let (env, chain) = Env::on_chain();
    let template = env.template;
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
    chain.lock().unwrap().fund(address, RICH);
    env.fake.with(|s| s.accounts.insert(address, (RICH, 0, None)));
    // The dry run of the unsigned self-spawn, in the estimate mode: verify
    // refuses the missing signatures, the spawn runs, the gas limit is the
    // estimate with the margin.
    let proposed = json(&env.propose(&["spawn", "--json"], "spawn.json"));
    assert_eq!(proposed["dry_run"], "estimated", "{proposed}");
    let estimate = proposed["gas_estimate"].as_u64().unwrap();
    assert_eq!(proposed["gas"]["limit"], gas_with_margin(estimate));
    assert_eq!(proposed["creates"], json!({ "kind": "account", "address": text }));
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
    let receipt = chain.lock().unwrap().apply(&with_entries(&unsigned, vec![(index, signature)]));
    assert_eq!(receipt.status, TxStatus::Ineffective(Ineffective::VerifyRejected), "{receipt:?}");
    assert_eq!(chain.lock().unwrap().account(address).unwrap().template, None);

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
    let receipt = chain.lock().unwrap().apply(&bytes);
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
    assert_eq!(chain.lock().unwrap().account(address).unwrap().template, Some(template));
    assert_gas_estimated(&receipt, &tx);

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
    assert_eq!(proposed["dry_run"], "estimated", "{proposed}");
    ok(&env.sign("spend.json", "k3.json"));
    ok(&env.sign("spend.json", "k2.json"));
    ok(&env.run(&["multisig", "submit", &env.p("spend.json"), "--wait"]));
    let bytes = env.submitted().pop().expect("submitted");
    let tx = decode(&bytes).unwrap();
    let entries = <Vec<(u8, [u8; 64])> as parity_scale_codec::Decode>::decode(&mut &tx.authenticator[..]).unwrap();
    assert_eq!(entries.iter().map(|e| e.0).collect::<Vec<_>>(), vec![1, 2]);
    let receipt = chain.lock().unwrap().apply(&bytes);
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
    assert_gas_estimated(&receipt, &tx);
    assert_eq!(chain.lock().unwrap().account(bob).unwrap().balance, 1234);
    assert_eq!(chain.lock().unwrap().account(address).unwrap().nonce, 2);
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

    // A dry run that stops before verify (here: what the executor says of
    // a nonce already used) refuses the proposal, unless --no-check; a
    // node without the dry-run endpoint lets it through, saying so.
    env.fake.with(|s| s.accounts.insert(address, (RICH, 3, Some(template))));
    let to = network().encode_address(&address);
    env.fake.with(|s| {
        s.check = Some(json!({ "ok": false, "status": "ineffective", "reason": "nonce too low: 3 < the account's 4" }))
    });
    fails(
        &env.propose(&["call", &to, "deposit"], "p.json"),
        "dry run of the unsigned transaction: it would be refused before its signatures are checked: nonce too low",
    );
    assert!(!env.path("p.json").exists());
    let skipped = json(&env.propose(&["call", &to, "deposit", "--no-check", "--json"], "p.json"));
    assert_eq!(skipped["dry_run"], "skipped");
    // What a real multisig's verify says of no signatures passes.
    env.fake.with(|s| s.check = Some(json!({ "ok": false, "status": "ineffective", "reason": VERIFY_REJECTED })));
    let checked = json(&env.propose(&["call", &to, "deposit", "--force", "--json"], "p.json"));
    assert_eq!(checked["dry_run"], "reached_verify");
    // A template whose verify accepts no signatures is not a multisig.
    env.fake.with(|s| s.check = Some(json!({ "ok": true, "status": "succeeded", "gas_used": 1 })));
    fails(&env.propose(&["call", &to, "deposit", "--force"], "p.json"), "verify accepted the transaction without any");
    env.fake.with(|s| s.check = None);

    // A proposal that was edited after signing.
    let proposed = json(&env.propose(&["call", &to, "deposit", "--value", "5", "--force", "--json"], "p.json"));
    assert_eq!(proposed["dry_run"], "unavailable");
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
    let multisig = Multisig::new(template, 1, env.keys()).unwrap();
    let tx = multisig.unsigned(&Call::SelfSpawn, TxParams { nonce: 0, gas_limit: 1, gas_price: 1 });
    let mut proposal = Proposal::new(other, multisig, tx).unwrap();
    proposal.sign(&Key::from_seed([1; 32])).unwrap();
    proposal.save(&env.path("other.json"), false).unwrap();
    fails(&env.run(&["multisig", "submit", &env.p("other.json")]), "the proposal is for network atest (genesis 0505");
    assert!(env.submitted().is_empty());
}

/// A spawned 2-of-3 multisig (self-spawn signed by keys 1 and 2, applied to
/// the chain and copied to the fake node).
fn spawned(env: &Env, chain: &Arc<Mutex<Chain>>) -> Address {
    let address = env.address();
    chain.lock().unwrap().fund(address, RICH);
    let multisig = Multisig::new(env.template, 2, env.keys()).unwrap();
    let tx = multisig.unsigned(&Call::SelfSpawn, TxParams { nonce: 0, gas_limit: 200_000, gas_price: 1 });
    let mut proposal = Proposal::new(network(), multisig, tx).unwrap();
    proposal.sign(&Key::from_seed([1; 32])).unwrap();
    proposal.sign(&Key::from_seed([2; 32])).unwrap();
    let receipt = chain.lock().unwrap().apply(&proposal.transaction().unwrap().encode());
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
    env.sync(chain, address);
    address
}

/// The last transaction submitted.
fn submitted_tx(env: &Env) -> Transaction {
    decode(&env.submitted().pop().expect("submitted")).unwrap()
}

/// `athena multisig submit FILE --wait --json`, then the submitted bytes
/// applied to the chain; returns the CLI's answer and the receipt.
fn submit_and_apply(env: &Env, chain: &Arc<Mutex<Chain>>, file: &str) -> (serde_json::Value, Receipt) {
    let out = json(&env.run(&["multisig", "submit", &env.p(file), "--wait", "--json"]));
    let bytes = env.submitted().pop().expect("submitted");
    assert_eq!(out["transaction"], hex::encode(decode(&bytes).unwrap().id().0));
    let receipt = chain.lock().unwrap().apply(&bytes);
    env.sync(chain, env.address());
    (out, receipt)
}

#[test]
fn a_2_of_3_multisig_deploys_a_template_and_spawns_a_program_of_it() {
    let (env, chain) = Env::on_chain();
    let address = spawned(&env, &chain);

    // Deploy: the proposal names the template before anything runs.
    let elf = athena_test_elf::programs::echo();
    std::fs::write(env.path("echo.elf"), &elf).unwrap();
    let echo = template_address(&elf);
    let echo_text = network().encode_address(&echo);
    let proposed = json(&env.propose(&["deploy", &env.p("echo.elf"), "--json"], "deploy.json"));
    assert_eq!(proposed["creates"], json!({ "kind": "template", "address": echo_text }));
    assert_eq!(proposed["code"], json!({ "size": elf.len(), "blake3": blake3::hash(&elf).to_hex().to_string() }));
    assert_eq!(proposed["dry_run"], "estimated");
    assert_eq!(proposed["nonce"], 1);
    ok(&env.sign("deploy.json", "k2.json"));
    let signed = ok(&env.sign("deploy.json", "k3.json"));
    assert!(signed.contains(&format!("creates:     template {echo_text}")), "{signed}");
    let shown = ok(&athena(env.home.path(), &["multisig", "show", &env.p("deploy.json")]));
    assert!(
        shown.contains(&format!(
            "deploy a template of {} bytes (code blake3 {})",
            elf.len(),
            blake3::hash(&elf).to_hex()
        )),
        "{shown}"
    );
    assert!(!chain.lock().unwrap().state.has_template(&echo).unwrap());
    let (out, receipt) = submit_and_apply(&env, &chain, "deploy.json");
    assert_eq!(out["status"], "succeeded");
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
    assert_gas_estimated(&receipt, &submitted_tx(&env));
    assert_eq!(chain.lock().unwrap().state.template_code(&echo).unwrap().as_deref(), Some(&elf[..]));

    // Spawn a program of it, with a hex state; proposed at the committed
    // nonce, so the dry run ran.
    let program = program_address(&echo, &[1, 2, 0xff]);
    let program_text = network().encode_address(&program);
    let proposed = json(&env.propose(&["spawn-program", &echo_text, "0x0102ff", "--json"], "spawn.json"));
    assert_eq!(proposed["creates"], json!({ "kind": "program", "address": program_text }));
    assert_eq!(proposed["call"], format!("spawn a program of template {echo_text} with state 0102ff"));
    assert_eq!(proposed["dry_run"], "estimated");
    assert_eq!(proposed["nonce"], 2);
    ok(&env.sign("spawn.json", "k1.json"));
    ok(&env.sign("spawn.json", "k3.json"));
    let (_, receipt) = submit_and_apply(&env, &chain, "spawn.json");
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
    assert_gas_estimated(&receipt, &submitted_tx(&env));
    let chain_now = chain.lock().unwrap();
    assert_eq!(chain_now.account(program).expect("spawned").template, Some(echo));
    assert_eq!(chain_now.state.program_state(&program).unwrap(), vec![1, 2, 0xff]);
    assert_eq!(chain_now.account(address).unwrap().nonce, 3);
}

#[test]
fn deploy_and_spawn_program_input_errors() {
    let (env, chain) = Env::on_chain();
    spawned(&env, &chain);

    // Refused before the node is asked, nothing written.
    fails(&env.propose(&["deploy", &env.p("missing.elf")], "p.json"), "missing.elf: No such file");
    std::fs::write(env.path("junk.elf"), b"not an elf").unwrap();
    fails(&env.propose(&["deploy", &env.p("junk.elf")], "p.json"), "junk.elf is not a loadable Athena program");
    fails(&env.propose(&["spawn-program", "nope", "u64:1"], "p.json"), "template \"nope\"");
    let program = network().encode_address(&env.address());
    fails(&env.propose(&["spawn-program", &program, "u64:1"], "p.json"), "not a template address");
    fails(&env.propose(&["spawn-program", &network().encode_address(&template_address(b"x")), "u64"], "p.json"), "u64");
    assert!(!env.path("p.json").exists());
    assert!(env.submitted().is_empty());

    // A gas limit below the intrinsic gas: caught by the pre-signing dry
    // run, by the real runtime.
    std::fs::write(env.path("echo.elf"), athena_test_elf::programs::echo()).unwrap();
    fails(
        &env.propose(&["deploy", &env.p("echo.elf"), "--gas", "10"], "p.json"),
        "it would be refused before its signatures are checked: gas limit 10 is below the intrinsic gas",
    );
    assert!(!env.path("p.json").exists());

    // A template that is not deployed: the pre-signing dry run runs the
    // payload as if signed, and it fails there; nothing written.
    let undeployed = network().encode_address(&template_address(b"never deployed"));
    fails(
        &env.propose(&["spawn-program", &undeployed], "p.json"),
        "dry run of the unsigned transaction, run as if signed: the transaction would fail",
    );
    assert!(!env.path("p.json").exists());
    // With --no-check it is proposed; the signed dry run at submit refuses
    // it, and nothing is sent.
    let proposed = json(&env.propose(&["spawn-program", &undeployed, "--no-check", "--json"], "p.json"));
    assert_eq!(proposed["dry_run"], "skipped");
    ok(&env.sign("p.json", "k1.json"));
    ok(&env.sign("p.json", "k2.json"));
    fails(&env.run(&["multisig", "submit", &env.p("p.json")]), "dry run: the transaction would fail");
    assert!(env.submitted().is_empty());

    // A call that reverts: the revert message is in the refusal.
    let address = network().encode_address(&env.address());
    fails(
        &env.propose(&["call", &address, "spend", "--value", "1"], "p2.json"),
        "would fail: payload ended with status revert: athena: cannot decode the arguments of `spend`",
    );
    assert!(!env.path("p2.json").exists());

    // A call that runs out of gas in the dry run, and a gas limit the dry
    // run fits in but the signed transaction (one more signature check)
    // does not: both refused, the second with the estimate.
    fails(
        &env.propose(&["deploy", &env.p("echo.elf"), "--gas", "60000"], "p3.json"),
        "would fail: payload ended with status out_of_gas",
    );
    let estimated = json(&env.propose(&["deploy", &env.p("echo.elf"), "--json"], "p3.json"));
    let (used, needed) = (estimated["dry_run_used"].as_u64().unwrap(), estimated["gas_estimate"].as_u64().unwrap());
    assert!(needed > used + 20_000, "{estimated}");
    let exact = used.to_string();
    fails(
        &env.propose(&["deploy", &env.p("echo.elf"), "--gas", &exact, "--force"], "p3.json"),
        &format!("the signed transaction needs about {needed} gas (the dry run's {used} plus 1 more signature checks)"),
    );
    let with_margin = gas_with_margin(needed).to_string();
    let proposed =
        json(&env.propose(&["deploy", &env.p("echo.elf"), "--gas", &with_margin, "--force", "--json"], "p3.json"));
    assert_eq!(proposed["gas"]["limit"], gas_with_margin(needed), "--gas is kept");
}

impl Env {
    /// `athena multisig propose WHAT… <id args> --out FILE --offline
    /// --multisig-template <template> EXTRA…`, with `ATHENA_NODE` pointing
    /// at a port nothing listens on: an offline proposal must not need it.
    fn propose_offline(&self, what: &[&str], file: &str, extra: &[&str]) -> Output {
        let mut args: Vec<String> = ["multisig", "propose"].iter().chain(what).map(|s| s.to_string()).collect();
        args.extend(self.id_args());
        args.extend(["--out".into(), self.p(file), "--offline".into()]);
        args.extend(["--multisig-template".into(), network().encode_address(&self.template)]);
        args.extend(extra.iter().map(|s| s.to_string()));
        common::athena_env(self.home.path(), &args, &[("ATHENA_NODE", "http://127.0.0.1:9")])
    }

    /// The proposal file's JSON.
    fn file(&self, name: &str) -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(self.path(name)).unwrap()).unwrap()
    }
}

/// `--genesis-id` of [`network`].
fn genesis_hex() -> String {
    hex::encode(network().genesis_id().as_bytes())
}

#[test]
fn an_offline_proposal_signed_by_2_of_3_is_dry_run_at_submit_and_applied() {
    let (env, chain) = Env::on_chain();
    let template = env.template;
    let address = env.address();
    chain.lock().unwrap().fund(address, RICH);
    env.fake.with(|s| s.accounts.insert(address, (RICH, 0, None)));
    let genesis = genesis_hex();

    // The self-spawn, offline: nothing asked of any node (also not of the
    // fake one, even when --node names it).
    let offline = ["--genesis-id", &genesis, "--nonce", "0", "--gas-limit", "200000"];
    let before = env.fake.node.requests().len();
    let mut extra = offline.to_vec();
    extra.extend(["--json", "--node", env.fake.url()]);
    let proposed = json(&env.propose_offline(&["spawn"], "spawn.json", &extra));
    assert_eq!(env.fake.node.requests().len(), before, "an offline proposal contacted the node");
    assert_eq!(proposed["dry_run"], "offline", "{proposed}");
    assert_eq!(proposed["made"], "offline");
    assert_eq!(proposed["nonce"], 0);
    assert_eq!(proposed["gas"], json!({ "limit": 200_000, "price": 1 }));
    assert_eq!(proposed["multisig"], network().encode_address(&address));
    assert_eq!(env.file("spawn.json")["offline"], true);
    assert_eq!(env.file("spawn.json")["genesis_id"], genesis);

    // Signed by 1 and 3 (the mark survives signing); show says offline.
    ok(&env.sign("spawn.json", "k1.json"));
    ok(&env.sign("spawn.json", "k3.json"));
    assert_eq!(env.file("spawn.json")["offline"], true);
    let shown = ok(&athena(env.home.path(), &["multisig", "show", &env.p("spawn.json")]));
    assert!(shown.contains("offline (--offline): no dry run, no account or balance check"), "{shown}");

    // submit dry-runs the signed transaction in full (the real runtime's
    // verdict), sends it; the real runtime applies it.
    let checks = |env: &Env| env.fake.node.requests().iter().filter(|r| r.path.contains("/check")).count();
    let (out, receipt) = submit_and_apply(&env, &chain, "spawn.json");
    assert_eq!(checks(&env), 1, "submit did not dry-run the offline proposal");
    assert!(out["dry_run_used"].as_u64().is_some_and(|g| g > 0), "{out}");
    assert_eq!(out["status"], "succeeded");
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
    assert_eq!(chain.lock().unwrap().account(address).unwrap().template, Some(template));

    // A spend: online and offline with the same nonce, gas and network give
    // the same transaction and signing message; only the mark differs.
    let bob = program_address(&template_address(b"the wallet template"), &[8; 32]);
    let bob = network().encode_address(&bob);
    let fixed = ["--nonce", "1", "--gas-limit", "250000", "--gas-price", "2"];
    let mut online = vec!["send", bob.as_str(), "777"];
    online.extend(fixed);
    ok(&env.propose(&online, "online.json"));
    let mut extra = fixed.to_vec();
    extra.extend(["--genesis-id", &genesis]);
    ok(&env.propose_offline(&["send", &bob, "777"], "offline.json", &extra));
    let (on, off) = (env.file("online.json"), env.file("offline.json"));
    for field in ["signing_message", "unsigned_transaction", "transaction", "multisig", "genesis_id", "network"] {
        assert_eq!(on[field], off[field], "{field} differs");
    }
    assert_eq!(on.get("offline"), None, "an online proposal carries no offline mark");
    assert_eq!(off["offline"], true);
    let (on, off) =
        (Proposal::load(&env.path("online.json")).unwrap(), Proposal::load(&env.path("offline.json")).unwrap());
    assert_eq!(on.unsigned(), off.unsigned());
    assert_eq!(on.signing_message(), off.signing_message());
    assert!(!on.made_offline() && off.made_offline());

    ok(&env.sign("offline.json", "k2.json"));
    ok(&env.sign("offline.json", "k3.json"));
    let before = checks(&env);
    let (out, receipt) = submit_and_apply(&env, &chain, "offline.json");
    assert_eq!(checks(&env), before + 1, "submit did not dry-run the offline spend");
    assert!(out["dry_run_used"].as_u64().is_some_and(|g| g > 0), "{out}");
    assert_eq!(out["status"], "succeeded", "{out}");
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
    assert_eq!(chain.lock().unwrap().account(decode_bech(&bob)).unwrap().balance, 777);
}

fn decode_bech(text: &str) -> Address {
    network().parse_address(text).unwrap()
}

#[test]
fn offline_proposal_user_errors() {
    let (env, _chain) = Env::on_chain();
    let genesis = genesis_hex();

    // Every missing flag is named (no node to supply them).
    let out = env.propose_offline(&["spawn"], "p.json", &[]);
    fails(&out, "--offline needs what the node would otherwise supply; missing: --genesis-id HEX");
    fails(&out, "--nonce N");
    fails(&out, "--gas-limit N");
    let out = env.propose_offline(&["spawn"], "p.json", &["--genesis-id", &genesis, "--nonce", "0"]);
    fails(&out, "missing: --gas-limit N (there is no dry run to estimate it)");
    assert!(!common::stderr(&out).contains("--nonce N"), "{}", common::stderr(&out));
    let mut args: Vec<String> = ["multisig", "propose", "spawn", "--offline"].map(String::from).to_vec();
    args.extend(env.id_args());
    args.extend(["--out", &env.p("p.json"), "--genesis-id", &genesis, "--nonce", "0", "--gas", "9"].map(String::from));
    fails(&athena(env.home.path(), &args), "missing: --multisig-template ADDR (or ATHENA_MULTISIG_TEMPLATE)");
    // The flags without --offline: a usage error (clap's exit status 2).
    let out = env.propose(&["spawn", "--genesis-id", &genesis], "p.json");
    assert_eq!(out.status.code(), Some(2), "{}", common::stderr(&out));
    assert!(common::stderr(&out).contains("--offline"), "{}", common::stderr(&out));

    // A bad genesis id, a template that is a program, a zero gas limit.
    let with = |genesis: &str, gas: &str| {
        let flags = ["--genesis-id", genesis, "--nonce", "0", "--gas-limit", gas];
        env.propose_offline(&["spawn"], "p.json", &flags)
    };
    fails(&with("0404", "1000"), "--genesis-id \"0404\": ");
    fails(&with("0404", "1000"), "need the 64 hex digits of the genesis id");
    fails(&with(&"zz".repeat(32), "1000"), "need the 64 hex digits");
    fails(&with(&"00".repeat(32), "1000"), "is all zeros, which is no network's genesis id");
    fails(&with(&genesis, "0"), "--gas-limit 0");
    let program = network().encode_address(&env.address());
    let mut args: Vec<String> = ["multisig", "propose", "spawn", "--offline"].map(String::from).to_vec();
    args.extend(env.id_args());
    let flags = ["--genesis-id", &genesis, "--nonce", "0", "--gas", "9", "--out", &env.p("p.json")];
    args.extend(flags.map(String::from));
    let env_template = [("ATHENA_MULTISIG_TEMPLATE", program.as_str())];
    fails(&common::athena_env(env.home.path(), &args, &env_template), "multisig template");
    fails(&common::athena_env(env.home.path(), &args, &env_template), "not a template address");

    // An address of another network than the template's (the network of
    // an offline proposal).
    let main = Network::main(Bytes32::new([4; 32])).encode_address(&env.address());
    let flags = ["--genesis-id", &genesis, "--nonce", "1", "--gas-limit", "1000"];
    let out = env.propose_offline(&["send", &main, "5"], "p.json", &flags);
    fails(&out, "recipient");
    fails(&out, "offline, the network is atest: the multisig template's address prefix");
    assert!(!env.path("p.json").exists());

    // A genesis id mistyped (another network's): signable, but submit
    // refuses it before sending; the account is never checked offline
    // (unfunded here), so submit's dry run is what refuses a proposal for
    // an account that cannot pay.
    let other = hex::encode([5u8; 32]);
    ok(&with(&other, "200000"));
    ok(&env.sign("p.json", "k1.json"));
    ok(&env.sign("p.json", "k2.json"));
    fails(&env.run(&["multisig", "submit", &env.p("p.json")]), "the proposal is for network atest (genesis 0505");
    fails(&with(&genesis, "200000"), "exists already");
    let flags = vec!["--genesis-id", genesis.as_str(), "--nonce", "0", "--gas-limit", "200000", "--force"];
    ok(&env.propose_offline(&["spawn"], "p.json", &flags));
    ok(&env.sign("p.json", "k1.json"));
    ok(&env.sign("p.json", "k2.json"));
    env.fake.with(|s| s.accounts.insert(env.address(), (0, 0, None)));
    fails(
        &env.run(&["multisig", "submit", &env.p("p.json")]),
        "dry run: the transaction would be ineffective: balance 0 cannot prepay",
    );
    assert!(env.submitted().is_empty());
}

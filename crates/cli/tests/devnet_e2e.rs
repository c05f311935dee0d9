//! `athena devnet` end to end, with real processes on loopback (issue #6,
//! "Done when"): the devnet (sequencer, executor, shadow, relay as child
//! processes on ephemeral ports) runs the CLI wallet scenario — two new
//! wallets funded by a dev account, spawned, a payment between them, a
//! template deployed, a program spawned and called, balances and account
//! and storage proofs (the latter against the root published on the base
//! layer). Then the executor is killed with SIGKILL while it is applying a
//! burst of blocks; the devnet restarts it and it catches up with the same
//! results at every height as before the crash, as the shadow executor and
//! as the published results, and the shadow reports no divergence.
//! Garbage, oversized, replayed and forged transactions sent to the relay
//! are refused with clear errors and change nothing. Finally SIGTERM stops
//! everything (no process left) and a second start resumes the chain.
//!
//! The guest templates are built once into the shared guest target
//! directory (`target/guest`), so only the very first run is slow.

use athena_interface::Bytes32;
use athena_transaction::{sign_single, Network, UnsignedTransaction};
use athena_wallet::{Call, Key, TxParams, Wallet};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The first start may build the templates (a few minutes on a cold cache).
const READY_TIMEOUT: Duration = Duration::from_secs(900);
const TIMEOUT: Duration = Duration::from_secs(120);
const FUNDING: u64 = 10_000_000;
const PAYMENT: u64 = 12_345;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repository root")
}

fn http() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(15)))
        .build()
        .into()
}

fn answer(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>, url: &str) -> (u16, Value) {
    let mut response = response.unwrap_or_else(|e| panic!("{url}: {e}"));
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn get(url: &str) -> (u16, Value) {
    answer(http().get(url).call(), url)
}

fn get_ok(url: &str) -> Value {
    let (status, body) = get(url);
    assert_eq!(status, 200, "GET {url}: {body}");
    body
}

fn post(url: &str, content_type: &str, body: &[u8]) -> (u16, Value) {
    answer(http().post(url).content_type(content_type).send(body), url)
}

fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn kill(signal: &str, pid: u64) {
    let status = Command::new("kill").args([signal, &pid.to_string()]).status().expect("kill");
    assert!(status.success(), "kill {signal} {pid}");
}

fn process_exists(pid: u64) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// A running `athena devnet` with its output collected.
struct Devnet {
    child: Option<Child>,
    dir: PathBuf,
    output: Arc<Mutex<Vec<String>>>,
}

impl Devnet {
    fn start(dir: &Path, fresh: bool) -> Devnet {
        let mut command = Command::new(env!("CARGO_BIN_EXE_athena"));
        command.args(["devnet", "--ports", "0", "--block-interval", "200ms", "--accounts", "3", "--shadow"]);
        command.arg("--data-dir").arg(dir);
        if fresh {
            command.arg("--fresh");
        }
        let mut child =
            command.stdout(Stdio::piped()).stderr(Stdio::piped()).stdin(Stdio::null()).spawn().expect("athena devnet");
        let output = Arc::new(Mutex::new(Vec::new()));
        let (ready_tx, ready_rx) = mpsc::channel();
        let streams: [Box<dyn Read + Send>; 2] =
            [Box::new(child.stdout.take().unwrap()), Box::new(child.stderr.take().unwrap())];
        for stream in streams {
            let (output, ready_tx) = (Arc::clone(&output), ready_tx.clone());
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { return };
                    if line == "[devnet] ready" {
                        let _ = ready_tx.send(());
                    }
                    output.lock().unwrap().push(line);
                }
            });
        }
        let mut devnet = Devnet { child: Some(child), dir: dir.to_owned(), output };
        let start = Instant::now();
        while ready_rx.recv_timeout(Duration::from_millis(200)).is_err() {
            if let Some(status) = devnet.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("the devnet stopped while starting ({status}):\n{}", devnet.tail(80));
            }
            assert!(start.elapsed() < READY_TIMEOUT, "the devnet did not start:\n{}", devnet.tail(80));
        }
        devnet
    }

    /// The last `n` lines it printed.
    fn tail(&self, n: usize) -> String {
        let lines = self.output.lock().unwrap();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    fn output_contains(&self, text: &str) -> bool {
        self.output.lock().unwrap().iter().any(|line| line.contains(text))
    }

    /// `devnet.json`.
    fn state(&self) -> Value {
        let text = std::fs::read_to_string(self.dir.join("devnet.json")).expect("devnet.json");
        serde_json::from_str(&text).expect("devnet.json is JSON")
    }

    fn url(&self, service: &str) -> String {
        self.state()["services"][service]["url"].as_str().unwrap_or_else(|| panic!("no {service} url")).to_owned()
    }

    fn pid(&self, service: &str) -> u64 {
        self.state()["services"][service]["pid"].as_u64().unwrap_or_else(|| panic!("no {service} pid"))
    }

    /// SIGTERM, then the exit status (within 30 s).
    fn stop(mut self) -> ExitStatus {
        let mut child = self.child.take().unwrap();
        kill("-TERM", u64::from(child.id()));
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if start.elapsed() > Duration::from_secs(30) {
                let _ = child.kill();
                panic!("the devnet did not stop on SIGTERM:\n{}", self.tail(40));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Devnet {
    /// A failing test must not leave a devnet behind (its children follow
    /// it: parent-death signal).
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
            for _ in 0..200 {
                if child.try_wait().ok().flatten().is_some() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `athena ARGS` in `dir` with `ATHENA_NODE = node`.
fn athena(dir: &Path, node: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_athena"))
        .args(args)
        .current_dir(dir)
        .env("ATHENA_NODE", node)
        .env_remove("ATHENA_KEY")
        .env_remove("ATHENA_WALLET_TEMPLATE")
        .output()
        .expect("run athena")
}

/// `athena ARGS --json`, which must succeed.
fn athena_json(dir: &Path, node: &str, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let out = athena(dir, node, &all);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "athena {args:?} failed ({}):\n{stdout}\n{stderr}", out.status);
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("athena {args:?}: {e}: {stdout}"))
}

fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or_else(|| panic!("no {key:?} in {value}"))
}

fn u64_of(value: &Value, key: &str) -> u64 {
    value[key].as_u64().unwrap_or_else(|| panic!("no {key:?} in {value}"))
}

/// Builds guest/examples/counter with `athena build` into the shared
/// guest target directory; returns the ELF path.
fn build_counter(scratch: &Path) -> PathBuf {
    let target_dir = athena_guest_builder::default_target_dir();
    let out = Command::new(env!("CARGO_BIN_EXE_athena"))
        .arg("build")
        .arg(repo_root().join("guest/examples/counter"))
        .arg("--target-dir")
        .arg(&target_dir)
        .arg("-q")
        .current_dir(scratch)
        .output()
        .expect("athena build");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "athena build: {stdout}{}", String::from_utf8_lossy(&out.stderr));
    let line = stdout.lines().find(|l| l.starts_with("counter\t")).unwrap_or_else(|| panic!("{stdout}"));
    PathBuf::from(line.split('\t').nth(1).unwrap())
}

#[test]
fn devnet_runs_the_wallet_scenario_survives_a_crash_and_refuses_bad_transactions() {
    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path();
    let data = home.join("devnet");
    let counter = build_counter(home);
    let devnet = Devnet::start(&data, true);
    let node = devnet.url("relay");
    let (executor, shadow, sequencer) = (devnet.url("executor"), devnet.url("shadow"), devnet.url("sequencer"));
    assert!(devnet.output_contains("[devnet] created a new devnet"), "{}", devnet.tail(60));
    assert!(devnet.output_contains("[executor] genesis "), "logs are forwarded with a prefix");

    // The node names its genesis templates; the relay proxies the status.
    let status = get_ok(&format!("{node}/v1/status"));
    let templates = status["templates"].as_object().expect("templates in the status");
    for name in ["wallet", "multisig", "vesting", "vault", "token-mint", "token-wallet"] {
        assert!(templates.contains_key(&format!("templates/{name}.elf")), "{name}: {status}");
    }
    let network = Network::new("atest", Bytes32::new(hex_array(str_of(&status, "genesis_id")))).unwrap();
    let wallet_template = network.parse_address(templates["templates/wallet.elf"].as_str().unwrap()).unwrap();
    let dev = |n: usize| devnet.state()["accounts"][n - 1]["key"].as_str().unwrap().to_owned();
    let (dev1, dev2, dev3) = (dev(1), dev(2), dev(3));

    // Two new keys; their wallets are funded by dev-1, spawned, and pay.
    for name in ["alice.json", "bob.json"] {
        athena_json(home, &node, &["key", "new", "--out", name]);
    }
    let alice = str_of(&athena_json(home, &node, &["address", "--key", "alice.json"]), "address").to_owned();
    let bob = str_of(&athena_json(home, &node, &["address", "--key", "bob.json"]), "address").to_owned();
    for to in [&alice, &bob] {
        let sent = athena_json(home, &node, &["send", to, &FUNDING.to_string(), "--key", &dev1, "--wait"]);
        assert_eq!(str_of(&sent, "status"), "succeeded", "{sent}");
    }
    let mut alice_fees = 0;
    let spawned = athena_json(home, &node, &["wallet", "spawn", "--key", "alice.json", "--wait"]);
    alice_fees += u64_of(&spawned, "fee");
    let bob_spawn = athena_json(home, &node, &["wallet", "spawn", "--key", "bob.json", "--wait"]);
    let paid = athena_json(home, &node, &["send", &bob, &PAYMENT.to_string(), "--key", "alice.json", "--wait"]);
    alice_fees += u64_of(&paid, "fee");

    // Deploy the counter, spawn it with step 3, increment by 2, read it.
    let counter_path = counter.to_str().unwrap();
    let deployed = athena_json(home, &node, &["deploy", counter_path, "--key", "alice.json", "--wait"]);
    alice_fees += u64_of(&deployed, "fee");
    let template = str_of(&deployed, "template").to_owned();
    let program = athena_json(home, &node, &["spawn", &template, "u64:3", "--key", "alice.json", "--wait"]);
    alice_fees += u64_of(&program, "fee");
    let program = str_of(&program, "program").to_owned();
    let call = ["call", &program, "increment", "u64:2", "--key", "alice.json", "--wait", "--returns", "u64"];
    let incremented = athena_json(home, &node, &call);
    alice_fees += u64_of(&incremented, "fee");
    assert_eq!(str_of(&incremented, "returned"), "6", "{incremented}");
    let got = athena_json(home, &node, &["call", &program, "get", "--key", "alice.json", "--wait", "--returns", "u64"]);
    alice_fees += u64_of(&got, "fee");
    assert_eq!(str_of(&got, "returned"), "6", "{got}");

    // Balances, with account and program state proofs.
    let alice_account = athena_json(home, &node, &["account", &alice]);
    assert_eq!(u64_of(&alice_account, "balance"), FUNDING - PAYMENT - alice_fees, "{alice_account}");
    assert_eq!(alice_account["proof"]["valid"], true, "{alice_account}");
    let bob_account = athena_json(home, &node, &["account", &bob]);
    assert_eq!(u64_of(&bob_account, "balance"), FUNDING + PAYMENT - u64_of(&bob_spawn, "fee"), "{bob_account}");
    assert_eq!(bob_account["proof"]["valid"], true);
    // The spawned wallets' program state blobs, proven by a real node.
    for account in [&alice_account, &bob_account] {
        assert!(account["state"].as_str().is_some_and(|s| !s.is_empty()), "{account}");
        assert_eq!(account["state_proof"]["valid"], true, "{account}");
    }

    // The counter's storage, proven against the root the base layer holds.
    let item = athena_json(home, &node, &["storage", &program, "item:count"]);
    assert_eq!(str_of(&item, "item_value"), "0600000000000000", "{item}");
    let published = get_ok(&format!("{sequencer}/v1/results/{}", u64_of(&item, "height")));
    let root = str_of(&published, "state_root");
    let proven = athena_json(home, &node, &["storage", &program, "item:count", "--root", root]);
    assert_eq!(proven["proof"]["valid"], true, "{proven}");

    // A burst of payments from dev-2 and dev-3 (one block each per
    // transaction: the relay holds chained nonces until their turn), and a
    // SIGKILL of the executor while it applies them.
    let before_crash = get_ok(&format!("{executor}/v1/status"));
    let pre_height = u64_of(&before_crash, "height");
    let pre_results: Vec<Value> =
        (0..=pre_height).map(|h| get_ok(&format!("{executor}/v1/blocks/{h}/result"))).collect();
    let bob_address = network.parse_address(&bob).unwrap();
    let senders: Vec<Wallet> = [&dev2, &dev3]
        .iter()
        .map(|path| Wallet::new(Key::load(Path::new(path.as_str())).unwrap(), wallet_template, network.clone()))
        .collect();
    const BURST: u64 = 12;
    let mut burst = Vec::new();
    for nonce in 0..BURST {
        for sender in &senders {
            let params = TxParams { nonce, gas_limit: 100_000, gas_price: 1 };
            let tx = sender.sign(&Call::Spend { to: bob_address, amount: 1 }, params).encode();
            let (code, body) = post(&format!("{node}/v1/transactions"), "application/octet-stream", &tx);
            assert_eq!(code, 202, "{body}");
            burst.push(tx);
        }
    }
    let old_pid = devnet.pid("executor");
    wait_until("the burst to start landing", TIMEOUT, || {
        u64_of(&get_ok(&format!("{executor}/v1/status")), "height") >= pre_height + 2
    });
    let landed = nonce_of_at(&executor, &network.encode_address(&senders[0].address()));
    kill("-KILL", old_pid);
    assert!(landed < BURST, "the executor was killed mid-burst (at nonce {landed} of {BURST})");
    wait_until("the devnet to restart the executor", TIMEOUT, || {
        devnet.state()["services"]["executor"]["pid"].as_u64().is_some_and(|pid| pid != old_pid)
            && get(&format!("{executor}/v1/status")).0 == 200
    });
    assert!(devnet.output_contains("[devnet] executor stopped (killed by signal 9); restarting it"));
    let nonce_of = |address: &str| nonce_of_at(&executor, address);
    let sender_addresses: Vec<String> = senders.iter().map(|s| network.encode_address(&s.address())).collect();
    wait_until("the burst to be included after the restart", TIMEOUT, || {
        sender_addresses.iter().all(|a| nonce_of(a) == BURST)
    });
    let height = u64_of(&get_ok(&format!("{executor}/v1/status")), "height");
    assert!(height >= pre_height + BURST, "one block per chained transaction: {height}");
    wait_until("the shadow to verify every block", TIMEOUT, || {
        get_ok(&format!("{shadow}/v1/shadow"))["verified_height"].as_u64() == Some(height)
    });
    let verdict = get_ok(&format!("{shadow}/v1/shadow"));
    assert_eq!((&verdict["ok"], &verdict["divergence"]), (&Value::Bool(true), &Value::Null), "{verdict}");
    for h in 0..=height {
        let own = get_ok(&format!("{executor}/v1/blocks/{h}/result"));
        if let Some(before) = pre_results.get(h as usize) {
            assert_eq!(&own, before, "block {h} changed across the crash");
        }
        assert_eq!(own, get_ok(&format!("{shadow}/v1/blocks/{h}/result")), "shadow at block {h}");
        if h > 0 {
            // Published with the signature of the devnet's executor key.
            let mut published = get_ok(&format!("{sequencer}/v1/results/{h}"));
            let signer = published.as_object_mut().and_then(|o| o.remove("signer"));
            let signature = published.as_object_mut().and_then(|o| o.remove("signature"));
            assert_eq!(own, published, "published result of block {h}");
            assert_eq!(signer.as_ref(), Some(&devnet.state()["executor_key"]), "signer of block {h}");
            assert_eq!(signature.and_then(|s| s.as_str().map(str::len)), Some(128), "signature of block {h}");
        }
    }

    // Bad transactions: refused with clear errors, and nothing changes.
    let pending = || u64_of(&get_ok(&format!("{node}/v1/relay")), "pending");
    wait_until("the relay's pool to empty", TIMEOUT, || pending() == 0);
    let quiet = get_ok(&format!("{executor}/v1/status"));
    let latest = get_ok(&format!("{sequencer}/v1/blocks/latest"));
    let submit = |content_type: &str, body: &[u8]| post(&format!("{node}/v1/transactions"), content_type, body);
    let refused = |(code, body): (u16, Value), status: u16, error: &str| {
        assert_eq!((code, body["error"].as_str()), (status, Some(error)), "{body}");
        assert!(body["message"].as_str().is_some_and(|m| m.len() > 10), "{body}");
    };
    refused(submit("application/octet-stream", b"definitely not a transaction"), 400, "malformed");
    refused(submit("application/json", br#"{"tx": "zz"}"#), 400, "malformed");
    // A transaction over the 64 KiB limit, and a request body over the
    // relay's limit (just over it: the relay reads up to the limit, and an
    // unread rest would reset the connection before the answer is read).
    refused(submit("application/octet-stream", &vec![0u8; 100_000]), 413, "oversized");
    refused(submit("application/octet-stream", &vec![0u8; athena_relay::server::MAX_BODY + 1]), 413, "oversized");
    for replay in [&burst[0], &burst[burst.len() - 1]] {
        refused(submit("application/octet-stream", replay), 422, "nonce_too_low");
    }
    let forged = UnsignedTransaction {
        principal: senders[0].address(),
        template: None,
        nonce: BURST,
        gas_limit: 100_000,
        gas_price: 1,
        payload: Call::Spend { to: bob_address, amount: 1_000_000 }.payload(&[0; 32]),
    };
    let thief = Key::load(&home.join("bob.json")).unwrap();
    let forged = sign_single(thief.signing_key(), &network, forged).encode();
    let (code, body) = submit("application/octet-stream", &forged);
    refused((code, body), 422, "rejected_by_verify");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(get_ok(&format!("{executor}/v1/status")), quiet, "bad transactions changed the state");
    assert_eq!(get_ok(&format!("{sequencer}/v1/blocks/latest")), latest, "bad transactions made a block");
    assert_eq!(nonce_of(&sender_addresses[0]), BURST);
    assert_eq!(pending(), 0, "nothing bad entered the pool");

    // A second devnet on the same directory is refused while this one runs.
    let second = Command::new(env!("CARGO_BIN_EXE_athena"))
        .args(["devnet", "--ports", "0", "--data-dir"])
        .arg(&data)
        .output()
        .expect("athena devnet");
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("is already running"), "{stderr}");

    // SIGTERM stops everything; nothing is left running.
    let pids: Vec<u64> = ["sequencer", "executor", "shadow", "relay"].iter().map(|s| devnet.pid(s)).collect();
    let data_dir = devnet.dir.clone();
    let status = devnet.stop();
    assert_eq!(status.code(), Some(0));
    for pid in pids {
        assert!(!process_exists(pid), "process {pid} outlived the devnet");
    }
    assert!(!data_dir.join("devnet.json").exists());
    for log in ["sequencer", "executor", "shadow", "relay"] {
        assert!(data_dir.join("logs").join(format!("{log}.log")).is_file(), "{log}.log");
    }

    // Started again on the same data directory: the same chain.
    let again = Devnet::start(&data, false);
    assert!(again.output_contains("[devnet] resuming the devnet"), "{}", again.tail(60));
    let resumed = get_ok(&format!("{}/v1/status", again.url("relay")));
    assert_eq!((&resumed["height"], &resumed["state_root"]), (&quiet["height"], &quiet["state_root"]));
    let node = again.url("relay");
    assert_eq!(u64_of(&athena_json(home, &node, &["account", &alice]), "balance"), u64_of(&alice_account, "balance"));
    let sent = athena_json(home, &node, &["send", &alice, "1", "--key", "bob.json", "--wait"]);
    assert_eq!(str_of(&sent, "status"), "succeeded");
    assert_eq!(again.stop().code(), Some(0));
}

#[test]
fn fresh_refuses_a_directory_that_is_not_a_devnet() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "keep me").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_athena"))
        .args(["devnet", "--fresh", "--ports", "0", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("not a devnet data directory"), "{stderr}");
    assert!(dir.path().join("notes.txt").is_file());
}

fn nonce_of_at(node: &str, address: &str) -> u64 {
    u64_of(&get_ok(&format!("{node}/v1/accounts/{address}")), "nonce")
}

fn hex_array(text: &str) -> [u8; 32] {
    hex::decode(text).unwrap().try_into().unwrap()
}

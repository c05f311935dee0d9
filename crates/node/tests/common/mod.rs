//! Shared helpers of the node tests: the guest templates (built once per
//! test binary), a genesis directory, signing wallets, HTTP helpers and
//! node processes.
#![allow(dead_code)]

use athena_guest_builder::{build, guest_workspace_dir, BuildRequest};
use athena_interface::Address;
use athena_node::genesis::{load_genesis, LoadedGenesis};
use athena_node::types::{Bundle, Genesis, GenesisProgram};
use athena_transaction::{
    encode_payload, program_address, selector, sign_single, template_address, Network, UnsignedTransaction,
};
use ed25519_dalek::SigningKey;
use std::ffi::OsStr;
use std::fmt::Debug;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Balance of every genesis wallet.
pub const FUNDS: u64 = 1_000_000_000_000;
/// Gas limit of test transactions.
pub const GAS: u64 = 5_000_000;
/// The relay address used in bundles.
pub const RELAY: [u8; 24] = [0xee; 24];

/// ELF bytes of `wallet` and `counter`, built once per test binary.
pub fn elfs() -> &'static (Vec<u8>, Vec<u8>) {
    static ELFS: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    ELFS.get_or_init(|| {
        let request = BuildRequest::new(guest_workspace_dir()).package("wallet").package("counter");
        let output = build(&request).unwrap_or_else(|e| panic!("building the guest templates: {e}"));
        let read = |name: &str| std::fs::read(output.require(name).unwrap()).unwrap();
        (read("wallet"), read("counter"))
    })
}

/// A test wallet: key, address, next nonce.
#[derive(Clone)]
pub struct Wallet {
    pub key: SigningKey,
    pub address: Address,
    pub template: Address,
    pub nonce: u64,
}

impl Wallet {
    /// The wallet of seed `[seed; 32]`.
    pub fn new(seed: u8) -> Wallet {
        let template = template_address(&elfs().0);
        let key = SigningKey::from_bytes(&[seed; 32]);
        let address = program_address(&template, &key.verifying_key().to_bytes());
        Wallet { key, address, template, nonce: 0 }
    }

    fn sign(&mut self, network: &Network, payload: Vec<u8>, template: Option<Address>) -> Vec<u8> {
        let unsigned = UnsignedTransaction {
            principal: self.address,
            template,
            nonce: self.nonce,
            gas_limit: GAS,
            gas_price: 1,
            payload,
        };
        self.nonce += 1;
        sign_single(&self.key, network, unsigned).encode()
    }

    /// The self-spawn transaction.
    pub fn spawn_tx(&mut self, network: &Network) -> Vec<u8> {
        let mut payload = selector("spawn").to_vec();
        payload.extend_from_slice(&self.key.verifying_key().to_bytes());
        let template = self.template;
        self.sign(network, payload, Some(template))
    }

    /// `spend(to, amount)`.
    pub fn spend_tx(&mut self, network: &Network, to: Address, amount: u64) -> Vec<u8> {
        self.sign(network, encode_payload("spend", &(to.into_bytes(), amount)), None)
    }

    /// `proxy(to, increment(times), 0)`.
    pub fn increment_tx(&mut self, network: &Network, counter: Address, times: u64) -> Vec<u8> {
        let call = encode_payload("increment", &times);
        self.sign(network, encode_payload("proxy", &(counter.into_bytes(), call, 0u64)), None)
    }
}

/// The counter program of the genesis (step 1).
pub fn counter_address() -> Address {
    program_address(&template_address(&elfs().1), &1u64.to_le_bytes())
}

/// Storage key of the counter's `count` (docs/sdk.md typed storage).
pub fn count_key() -> [u8; 32] {
    athena_runtime::sdk_storage::item_key("count", &[]).into_bytes()
}

/// The slot value of `count = n`.
pub fn count_value(n: u64) -> [u8; 32] {
    let mut slot = [0u8; 32];
    slot[..4].copy_from_slice(&9u32.to_le_bytes());
    slot[4..12].copy_from_slice(&n.to_le_bytes());
    slot
}

/// Writes `genesis.json`, `wallet.elf` and `counter.elf` into `dir`
/// (wallets of seeds `1..=wallets` funded) and loads it.
pub fn write_genesis(dir: &Path, wallets: u8) -> (PathBuf, LoadedGenesis) {
    let (wallet, counter) = elfs();
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("wallet.elf"), wallet).unwrap();
    std::fs::write(dir.join("counter.elf"), counter).unwrap();
    let hrp = Network::test(athena_interface::Bytes32::ZERO);
    let genesis = Genesis {
        network: "atest".into(),
        name: "node-tests".into(),
        accounts: (1..=wallets).map(|seed| (hrp.encode_address(&Wallet::new(seed).address), FUNDS)).collect(),
        templates: vec!["wallet.elf".into(), "counter.elf".into()],
        programs: vec![GenesisProgram {
            template: "counter.elf".into(),
            state: hex::encode(1u64.to_le_bytes()),
            balance: 0,
        }],
    };
    let path = dir.join("genesis.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&genesis).unwrap()).unwrap();
    let loaded = load_genesis(&path).unwrap();
    (path, loaded)
}

/// A bundle from [`RELAY`].
pub fn bundle(txs: Vec<Vec<u8>>) -> Bundle {
    Bundle { relay: RELAY, txs }
}

/// A plain HTTP client that returns 4xx/5xx as responses.
pub fn agent() -> ureq::Agent {
    athena_node::base_layer::agent()
}

/// GET `url` → (status, JSON body).
pub fn get_json(url: &str) -> (u16, serde_json::Value) {
    let mut response = agent().get(url).call().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {url}: not JSON ({e}): {body}")))
}

/// POST raw bytes → (status, JSON body).
pub fn post_bytes(url: &str, bytes: &[u8]) -> (u16, serde_json::Value) {
    let mut response = agent()
        .post(url)
        .content_type("application/octet-stream")
        .send(bytes)
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&body).unwrap_or_else(|e| panic!("POST {url}: not JSON ({e}): {body}")))
}

/// Polls `condition` every 20 ms until it holds, panicking after `timeout`.
pub fn wait_until(what: &str, timeout: Duration, mut condition: impl FnMut() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The executor's committed height (via `GET /v1/status`), if it answers.
pub fn height_of(url: &str) -> Option<u64> {
    let mut response = agent().get(format!("{url}/v1/status")).call().ok()?;
    let status: serde_json::Value = response.body_mut().read_json().ok()?;
    status["height"].as_u64()
}

/// A node process (`athena-node ...`), killed on drop.
pub struct Process {
    pub child: Child,
    pub url: String,
}

impl Process {
    /// Spawns `athena-node args...` and waits for its `listening URL` line.
    pub fn spawn<S: AsRef<OsStr> + Debug>(args: &[S]) -> Process {
        Self::start(Self::command(args), args)
    }

    /// [`Process::spawn`] with every file the process writes capped at
    /// `max_file_size` bytes (`RLIMIT_FSIZE`, with `SIGXFSZ` ignored so a
    /// write past the cap fails with `EFBIG` instead of killing it): a disk
    /// that fills up, without mounting one. Its stderr goes to `log`.
    #[cfg(target_os = "linux")]
    pub fn spawn_with_file_limit<S: AsRef<OsStr> + Debug>(args: &[S], max_file_size: u64, log: &Path) -> Process {
        use std::os::unix::process::CommandExt;
        let mut command = Self::command(args);
        command.stderr(std::fs::File::create(log).expect("log file"));
        // SAFETY: the closure runs in the forked child before exec and only
        // makes two async-signal-safe system calls.
        unsafe {
            command.pre_exec(move || {
                let cap = libc::rlimit { rlim_cur: max_file_size, rlim_max: max_file_size };
                if libc::setrlimit(libc::RLIMIT_FSIZE, &cap) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::signal(libc::SIGXFSZ, libc::SIG_IGN) == libc::SIG_ERR {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        Self::start(command, args)
    }

    fn command<S: AsRef<OsStr>>(args: &[S]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_athena-node"));
        command
            .args(args)
            .env("RUST_LOG", std::env::var("ATHENA_TEST_LOG").unwrap_or_else(|_| "warn".into()))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        command
    }

    fn start<S: Debug>(mut command: Command, args: &[S]) -> Process {
        let mut child = command.spawn().expect("spawn athena-node");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("listening ") {
                    let _ = tx.send(url.to_owned());
                }
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                panic!("athena-node {args:?} did not start: {:?}", child.wait());
            }
        };
        Process { child, url }
    }

    /// SIGKILL and reap.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops the process the way an operator does (SIGTERM) and waits for
    /// it to exit (up to `timeout`).
    pub fn terminate(self, timeout: Duration) -> Option<i32> {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().expect("run kill");
        assert!(status.success(), "kill -TERM {pid}");
        self.wait_exit(timeout)
    }

    /// Waits for the process to exit by itself (up to `timeout`).
    pub fn wait_exit(mut self, timeout: Duration) -> Option<i32> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            if start.elapsed() > timeout {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

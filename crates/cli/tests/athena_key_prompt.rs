//! The passphrase prompt of encrypted key files (docs/wallet.md, "Encrypted
//! key files"), driven for real: the `athena` process runs on a
//! pseudo-terminal (rexpect), so stdin is a terminal and the passphrase
//! comes from `rpassword`'s prompt, with no `ATHENA_PASSPHRASE` and no
//! `--passphrase-file`.
//!
//! The terminal's echo is switched on (`stty echo`) before `athena` starts:
//! rexpect starts its children with echo off, which would hide a prompt that
//! fails to. A control test shows that typed text does come back on such a
//! terminal; every other test checks that no passphrase does.
//!
//! Cheap argon2 costs come from the hidden `--kdf-params 8,1,1`.
#![cfg(unix)]

use athena_interface::Bytes32;
use athena_transaction::{template_address, Network};
use athena_wallet::key::KeyFile;
use athena_wallet::multisig::Proposal;
use athena_wallet::Key;
use rexpect::process::WaitStatus;
use rexpect::session::PtySession;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

mod common;

use common::{athena_env, ok};

const CHEAP: &str = "8,1,1";
const PASS: &str = "correct horse battery";

/// The environment variables of the wallet, removed as in `common`.
const ATHENA_VARS: &[&str] =
    &["ATHENA_NODE", "ATHENA_KEY", "ATHENA_WALLET_TEMPLATE", "ATHENA_MULTISIG_TEMPLATE", "ATHENA_PASSPHRASE"];

/// A process on a pseudo-terminal and everything it wrote to it.
struct Tty {
    session: PtySession,
    transcript: String,
}

impl Tty {
    /// `program ARGS` on a new terminal with echo on, HOME = `home` and no
    /// `ATHENA_*` variables.
    fn spawn_program(home: &Path, program: &str, args: &[&str]) -> Self {
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg("stty echo && exec \"$0\" \"$@\"").arg(program).args(args).env("HOME", home);
        for var in ATHENA_VARS {
            cmd.env_remove(var);
        }
        let session = rexpect::session::spawn_command(cmd, Some(30_000)).expect("spawn on a pty");
        Self { session, transcript: String::new() }
    }

    /// `athena ARGS` on a new terminal.
    fn athena(home: &Path, args: &[&str]) -> Self {
        Self::spawn_program(home, env!("CARGO_BIN_EXE_athena"), args)
    }

    /// Waits for `text` on the terminal.
    #[track_caller]
    fn expect(&mut self, text: &str) {
        match self.session.exp_string(text) {
            Ok(before) => {
                self.transcript.push_str(&before);
                self.transcript.push_str(text);
            }
            Err(e) => panic!("waiting for {text:?}: {e}\nso far: {}", self.transcript),
        }
    }

    /// Whether the terminal echoes input now.
    fn echoes(&self) -> bool {
        let master = self.session.process().get_file_handle().expect("pty handle");
        let mut term = std::mem::MaybeUninit::<libc::termios>::uninit();
        // SAFETY: tcgetattr fills the termios on success, checked before use.
        let term = unsafe {
            assert_eq!(libc::tcgetattr(master.as_raw_fd(), term.as_mut_ptr()), 0, "tcgetattr");
            term.assume_init()
        };
        term.c_lflag & libc::ECHO != 0
    }

    /// Waits for `prompt`, then types `answer` and Enter: once the program
    /// has switched echo off (what typing after the prompt appears means to
    /// a person), or after two seconds if it never does.
    #[track_caller]
    fn answer(&mut self, prompt: &str, answer: &str) {
        self.expect(prompt);
        let start = Instant::now();
        while self.echoes() && start.elapsed() < Duration::from_secs(2) {
            std::thread::sleep(Duration::from_millis(5));
        }
        self.session.send_line(answer).expect("type on the pty");
    }

    /// Reads to the end and returns the exit code and the whole transcript.
    fn finish(mut self) -> (i32, String) {
        match self.session.exp_eof() {
            Ok(rest) => self.transcript.push_str(&rest),
            Err(e) => panic!("waiting for the end: {e}\nso far: {}", self.transcript),
        }
        let code = match self.session.process().wait().expect("wait") {
            WaitStatus::Exited(_, code) => code,
            other => panic!("{other:?}\n{}", self.transcript),
        };
        (code, self.transcript.replace("\r\n", "\n"))
    }
}

/// A finished run that exited 0, none of `secrets` on the terminal.
#[track_caller]
fn succeeded(tty: Tty, secrets: &[&str]) -> String {
    let (code, out) = tty.finish();
    assert_eq!(code, 0, "{out}");
    not_echoed(&out, secrets);
    out
}

/// A finished run that exited 1 with `message`, none of `secrets` on the
/// terminal.
#[track_caller]
fn refused(tty: Tty, message: &str, secrets: &[&str]) -> String {
    let (code, out) = tty.finish();
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(message), "expected {message:?} in: {out}");
    not_echoed(&out, secrets);
    out
}

#[track_caller]
fn not_echoed(out: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(!out.contains(secret), "the passphrase {secret:?} appeared on the terminal: {out}");
    }
}

fn sealed(path: &Path) -> athena_wallet::key::EncryptedKey {
    match KeyFile::load(path).unwrap() {
        KeyFile::Encrypted(sealed) => sealed,
        KeyFile::Plain(_) => panic!("{} is not encrypted", path.display()),
    }
}

fn network() -> Network {
    Network::test(Bytes32::new([4; 32]))
}

/// `athena address` of a key file, offline (needs no passphrase).
fn address(home: &Path, key: &Path) -> String {
    let t = network().encode_address(&template_address(b"the wallet template"));
    let args = ["address", "--key", key.to_str().unwrap(), "--template", &t, "--node", "http://127.0.0.1:9"];
    ok(&athena_env(home, &args, &[])).trim().to_owned()
}

/// Control: on the terminals these tests make, typed text is echoed, so
/// its absence from `athena`'s output is the prompt's doing.
#[test]
fn the_test_terminal_echoes_typed_text() {
    let home = tempfile::tempdir().unwrap();
    // "ready" once the terminal is set up (what athena's prompt is too).
    let mut tty = Tty::spawn_program(home.path(), "sh", &["-c", "echo ready && exec head -n 1"]);
    tty.expect("ready");
    assert!(tty.echoes());
    tty.session.send_line("typed in the open").unwrap();
    let (code, out) = tty.finish();
    assert_eq!(code, 0, "{out}");
    // Once echoed as typed, once printed by head.
    assert_eq!(out.matches("typed in the open").count(), 2, "{out}");
}

#[test]
fn key_new_encrypt_asks_twice_and_the_file_opens_with_the_passphrase() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("alice.json");
    let p = path.to_str().unwrap();
    let mut tty = Tty::athena(home.path(), &["key", "new", "--out", p, "--encrypt", "--kdf-params", CHEAP]);
    tty.answer(&format!("new passphrase for {p}: "), PASS);
    tty.answer("repeat the passphrase: ", PASS);
    let out = succeeded(tty, &[PASS]);
    assert!(out.contains("encrypted:   yes"), "{out}");

    // Encrypted: no secret in the file, only the seal.
    let text = std::fs::read_to_string(&path).unwrap();
    let file: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(file.get("secret").is_none(), "{file}");
    assert_eq!(file["crypto"]["kdf"], "argon2id");
    assert!(!text.contains(PASS));
    let public = file["public"].as_str().unwrap().to_owned();
    assert!(out.contains(&public), "{out}");
    // The seed is under the seal and nowhere in the file.
    let key = sealed(&path).unlock(PASS.as_bytes()).unwrap();
    assert_eq!(hex::encode(key.public_bytes()), public);
    assert!(!text.contains(&hex::encode(key.signing_key().to_bytes())));

    // The same passphrase opens it without a terminal (ATHENA_PASSPHRASE):
    // a decrypted copy has the same key and the same address.
    let copy = home.path().join("copy.json");
    std::fs::copy(&path, &copy).unwrap();
    let c = copy.to_str().unwrap();
    let decrypted = ok(&athena_env(home.path(), &["key", "decrypt", c], &[("ATHENA_PASSPHRASE", PASS)]));
    assert!(decrypted.contains(&public), "{decrypted}");
    assert_eq!(Key::load(&copy).unwrap().signing_key().to_bytes(), key.signing_key().to_bytes());
    assert_eq!(address(home.path(), &copy), address(home.path(), &path));
}

#[test]
fn key_encrypt_at_the_prompt_seals_a_plain_file_in_place() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("k.json");
    let p = path.to_str().unwrap();
    Key::from_seed([9; 32]).save(&path, false).unwrap();
    let before = address(home.path(), &path);
    let mut tty = Tty::athena(home.path(), &["key", "encrypt", p, "--kdf-params", CHEAP]);
    tty.answer(&format!("new passphrase for {p}: "), PASS);
    tty.answer("repeat the passphrase: ", PASS);
    succeeded(tty, &[PASS]);
    assert_eq!(sealed(&path).unlock(PASS.as_bytes()).unwrap().signing_key().to_bytes(), [9; 32]);
    assert_eq!(address(home.path(), &path), before);
}

#[test]
fn a_mismatching_repeat_or_an_empty_passphrase_writes_nothing() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("alice.json");
    let p = path.to_str().unwrap();
    let new = ["key", "new", "--out", p, "--encrypt", "--kdf-params", CHEAP];

    let mut tty = Tty::athena(home.path(), &new);
    tty.answer(&format!("new passphrase for {p}: "), PASS);
    tty.answer("repeat the passphrase: ", "correct horse battery staple");
    refused(tty, "error: the two passphrases differ; nothing written", &[PASS]);
    assert!(!path.exists());

    let mut tty = Tty::athena(home.path(), &new);
    tty.answer(&format!("new passphrase for {p}: "), "");
    tty.answer("repeat the passphrase: ", "");
    refused(tty, "error: the passphrase from the prompt is empty; refusing to encrypt with it", &[]);
    assert!(!path.exists());
    assert_eq!(std::fs::read_dir(home.path()).unwrap().count(), 0, "a file was left behind");

    // `key encrypt`: the plain file stays as it was.
    Key::from_seed([9; 32]).save(&path, false).unwrap();
    let plain = std::fs::read(&path).unwrap();
    let mut tty = Tty::athena(home.path(), &["key", "encrypt", p, "--kdf-params", CHEAP]);
    tty.answer(&format!("new passphrase for {p}: "), PASS);
    tty.answer("repeat the passphrase: ", "something else");
    refused(tty, "the two passphrases differ", &[PASS, "something else"]);
    assert_eq!(std::fs::read(&path).unwrap(), plain);
    assert_eq!(std::fs::read_dir(home.path()).unwrap().count(), 1);
}

/// An encrypted key file of seed `[9; 32]` sealed with [`PASS`] (through
/// ATHENA_PASSPHRASE).
fn encrypted_key(home: &Path, name: &str) -> std::path::PathBuf {
    let path = home.join(name);
    Key::from_seed([9; 32]).save(&path, false).unwrap();
    let args = ["key", "encrypt", path.to_str().unwrap(), "--kdf-params", CHEAP];
    ok(&athena_env(home, &args, &[("ATHENA_PASSPHRASE", PASS)]));
    path
}

#[test]
fn key_decrypt_at_the_prompt_right_and_wrong_passphrase() {
    let home = tempfile::tempdir().unwrap();
    let path = encrypted_key(home.path(), "k.json");
    let p = path.to_str().unwrap();
    let before = std::fs::read(&path).unwrap();

    // Wrong: refused, the file as it was.
    let mut tty = Tty::athena(home.path(), &["key", "decrypt", p]);
    tty.answer(&format!("passphrase for {p}: "), "hunter2");
    refused(tty, &format!("error: {p}: wrong passphrase or corrupted key file"), &["hunter2"]);
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(std::fs::read_dir(home.path()).unwrap().count(), 1);

    // Right: asked once, the file plain again with the same seed.
    let mut tty = Tty::athena(home.path(), &["key", "decrypt", p]);
    tty.answer(&format!("passphrase for {p}: "), PASS);
    let out = succeeded(tty, &[PASS]);
    assert!(!out.contains("repeat the passphrase"), "{out}");
    assert_eq!(Key::load(&path).unwrap().signing_key().to_bytes(), [9; 32]);
}

#[test]
fn multisig_sign_offline_at_the_prompt_right_and_wrong_passphrase() {
    let home = tempfile::tempdir().unwrap();
    let key = encrypted_key(home.path(), "k.json");
    let k = key.to_str().unwrap();
    let public = hex::encode(Key::from_seed([9; 32]).public_bytes());
    let template = network().encode_address(&template_address(b"the multisig template"));
    let genesis = hex::encode(network().genesis_id().as_bytes());
    let proposal = home.path().join("p.json");
    let pr = proposal.to_str().unwrap();
    // A 1-of-1 self-spawn proposed offline (no node anywhere).
    #[rustfmt::skip]
    let propose = [
        "multisig", "propose", "spawn", "--threshold", "1", "--signer", &public, "--out", pr, "--offline",
        "--multisig-template", &template, "--genesis-id", &genesis, "--nonce", "0", "--gas-limit", "200000",
    ];
    ok(&athena_env(home.path(), &propose, &[("ATHENA_NODE", "http://127.0.0.1:9")]));
    // The reference: a copy signed with ATHENA_PASSPHRASE (ed25519
    // signatures are deterministic).
    let reference = home.path().join("reference.json");
    std::fs::copy(&proposal, &reference).unwrap();
    fn sign<'a>(file: &'a str, key: &'a str) -> [&'a str; 5] {
        ["multisig", "sign", file, "--key", key]
    }
    ok(&athena_env(home.path(), &sign(reference.to_str().unwrap(), k), &[("ATHENA_PASSPHRASE", PASS)]));
    let expected = Proposal::load(&reference).unwrap().signatures().clone();
    assert_eq!(expected.len(), 1);

    // Wrong: refused, the proposal unsigned and unchanged.
    let unsigned = std::fs::read(&proposal).unwrap();
    let mut tty = Tty::athena(home.path(), &sign(pr, k));
    tty.answer(&format!("passphrase for {k}: "), "hunter2");
    refused(tty, "wrong passphrase or corrupted key file", &["hunter2"]);
    assert_eq!(std::fs::read(&proposal).unwrap(), unsigned);

    // Right: signed, with the same signature as without a terminal.
    let mut tty = Tty::athena(home.path(), &sign(pr, k));
    tty.answer(&format!("passphrase for {k}: "), PASS);
    succeeded(tty, &[PASS]);
    assert_eq!(Proposal::load(&proposal).unwrap().signatures(), &expected);
}

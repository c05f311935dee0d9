//! Encrypted key files through the `athena` process (docs/wallet.md, "Key
//! files"): `key new --encrypt`, `key show` / `address` without the
//! passphrase, signing with it (ATHENA_PASSPHRASE or --passphrase-file)
//! against the fake node, `key encrypt` / `key decrypt`, and the errors: a
//! wrong passphrase, none at all without a terminal (never a hang).
//!
//! Cheap argon2 costs come from the hidden `--kdf-params 8,1,1`; one test
//! writes the defaults.

use athena_interface::Bytes32;
use athena_transaction::{decode, program_address, template_address, verify_single, Network};
use athena_wallet::key::{KdfParams, KeyFile};
use athena_wallet::testing::FakeNetwork;
use athena_wallet::{wallet_address, Key};
use std::path::Path;

mod common;

use common::{athena_env as athena, fails, json, ok, stderr};

const CHEAP: &str = "8,1,1";

fn network() -> Network {
    Network::test(Bytes32::new([4; 32]))
}

fn file_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn unlock(path: &Path, pass: &str) -> Key {
    match KeyFile::load(path).unwrap() {
        KeyFile::Encrypted(sealed) => sealed.unlock(pass.as_bytes()).unwrap(),
        KeyFile::Plain(_) => panic!("{} is not encrypted", path.display()),
    }
}

#[test]
fn encrypted_key_new_show_address_and_signing() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("alice.json");
    let p = path.to_str().unwrap();
    let pass = [("ATHENA_PASSPHRASE", "hunter2 hunter2")];
    let made =
        json(&athena(home.path(), &["key", "new", "--out", p, "--encrypt", "--kdf-params", CHEAP, "--json"], &pass));
    assert_eq!(made["encrypted"], true);
    let file = file_json(&path);
    assert!(file.get("secret").is_none(), "{file}");
    assert_eq!(file["crypto"]["kdf"], "argon2id");
    assert_eq!(file["crypto"]["cipher"], "xchacha20poly1305");
    assert_eq!(file["public"], made["public_key"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let key = unlock(&path, "hunter2 hunter2");
    assert_eq!(made["public_key"], hex::encode(key.public_bytes()));

    // The public key and the address need no passphrase.
    let shown = ok(&athena(home.path(), &["key", "show", "--key", p], &[]));
    assert!(shown.contains(&hex::encode(key.public_bytes())), "{shown}");
    assert!(shown.contains("encrypted:   yes"), "{shown}");
    let template = template_address(b"the wallet template");
    let address = network().encode_address(&wallet_address(&template, &key.public_bytes()));
    let t = network().encode_address(&template);
    let offline = athena(home.path(), &["address", "--key", p, "--template", &t, "--node", "http://127.0.0.1:9"], &[]);
    assert_eq!(ok(&offline).trim(), address);

    // Signing against the fake node: with ATHENA_PASSPHRASE, then with
    // --passphrase-file (its trailing newline ignored).
    let fake = FakeNetwork::start(network(), template);
    let me = wallet_address(&template, &key.public_bytes());
    fake.with(|s| s.accounts.insert(me, (10_000_000, 0, Some(template))));
    let bob = network().encode_address(&program_address(&template, &[8; 32]));
    let send = |extra: &[&str], env: &[(&str, &str)]| {
        let mut args = vec!["send", &bob, "1000", "--key", p, "--node", fake.url()];
        args.extend_from_slice(extra);
        athena(home.path(), &args, env)
    };
    let submitted = || fake.with(|s| s.submitted.iter().map(|b| decode(b).unwrap()).collect::<Vec<_>>());
    ok(&send(&[], &pass));
    let pass_file = home.path().join("pass.txt");
    std::fs::write(&pass_file, "hunter2 hunter2\n").unwrap();
    ok(&send(&["--passphrase-file", pass_file.to_str().unwrap(), "--nonce", "1"], &[]));
    let txs = submitted();
    assert_eq!(txs.len(), 2);
    for tx in &txs {
        assert!(verify_single(&key.verifying_key(), &network(), tx), "bad signature");
        assert_eq!(tx.body.principal, me);
    }

    // A wrong passphrase, or none without a terminal: refused, nothing sent.
    fails(&send(&[], &[("ATHENA_PASSPHRASE", "hunter3")]), "wrong passphrase or corrupted key file");
    std::fs::write(&pass_file, "nope\n").unwrap();
    fails(&send(&["--passphrase-file", pass_file.to_str().unwrap()], &pass), "wrong passphrase or corrupted key file");
    fails(&send(&[], &[]), "is encrypted and no passphrase was given: set ATHENA_PASSPHRASE");
    fails(&send(&["--passphrase-file", "/nonexistent/pass"], &pass), "passphrase file /nonexistent/pass");
    assert_eq!(submitted().len(), 2);
}

#[test]
fn key_new_encrypt_needs_a_passphrase() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("k.json");
    let p = path.to_str().unwrap();
    fails(&athena(home.path(), &["key", "new", "--out", p, "--encrypt"], &[]), "needs a passphrase");
    fails(&athena(home.path(), &["key", "new", "--out", p, "--encrypt"], &[("ATHENA_PASSPHRASE", "")]), "is empty");
    let empty = home.path().join("empty.txt");
    std::fs::write(&empty, "\n").unwrap();
    fails(
        &athena(
            home.path(),
            &["key", "new", "--out", p, "--encrypt", "--passphrase-file", empty.to_str().unwrap()],
            &[],
        ),
        "is empty",
    );
    assert!(!path.exists());
    // Out-of-bounds costs are refused by the argument parser.
    let out = athena(
        home.path(),
        &["key", "new", "--out", p, "--encrypt", "--kdf-params", "4194304,1,1"],
        &[("ATHENA_PASSPHRASE", "x")],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("m_cost"), "{}", stderr(&out));
    assert!(!path.exists());
    // An existing file is refused before any passphrase is asked for.
    Key::from_seed([1; 32]).save(&path, false).unwrap();
    fails(&athena(home.path(), &["key", "new", "--out", p, "--encrypt"], &[]), "refusing to overwrite");
}

#[test]
fn key_new_encrypt_default_costs() {
    let home = tempfile::tempdir().unwrap();
    let pass_file = home.path().join("pass");
    std::fs::write(&pass_file, "pw").unwrap();
    // No --out: $ATHENA_KEY.
    let path = home.path().join("k.json");
    ok(&athena(
        home.path(),
        &["key", "new", "--encrypt", "--passphrase-file", pass_file.to_str().unwrap()],
        &[("ATHENA_KEY", path.to_str().unwrap())],
    ));
    let c = &file_json(&path)["crypto"];
    let d = KdfParams::DEFAULT;
    assert_eq!((c["m_cost"].as_u64(), c["t_cost"].as_u64(), c["p_cost"].as_u64()), (Some(65536), Some(3), Some(1)));
    assert_eq!((d.m_cost, d.t_cost, d.p_cost), (65536, 3, 1));
    unlock(&path, "pw");
}

#[test]
fn key_encrypt_and_decrypt_in_place() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("k.json");
    let p = path.to_str().unwrap();
    Key::from_seed([9; 32]).save(&path, false).unwrap();
    let public = hex::encode(Key::from_seed([9; 32]).public_bytes());
    let pass = [("ATHENA_PASSPHRASE", "pw")];

    fails(&athena(home.path(), &["key", "decrypt", p], &pass), "is not encrypted");
    fails(&athena(home.path(), &["key", "encrypt", p], &[]), "needs a passphrase");
    let j = json(&athena(home.path(), &["key", "encrypt", p, "--kdf-params", CHEAP, "--json"], &pass));
    assert_eq!((j["public_key"].as_str(), j["encrypted"].as_bool()), (Some(public.as_str()), Some(true)));
    assert!(file_json(&path).get("secret").is_none());
    assert_eq!(unlock(&path, "pw").signing_key().to_bytes(), [9; 32]);
    fails(&athena(home.path(), &["key", "encrypt", p, "--kdf-params", CHEAP], &pass), "is encrypted already");

    // A wrong passphrase leaves the file as it was.
    let before = std::fs::read(&path).unwrap();
    fails(&athena(home.path(), &["key", "decrypt", p], &[("ATHENA_PASSPHRASE", "wp")]), "wrong passphrase");
    fails(&athena(home.path(), &["key", "decrypt", p], &[]), "no passphrase was given");
    assert_eq!(std::fs::read(&path).unwrap(), before);

    let j = json(&athena(home.path(), &["key", "decrypt", p, "--json"], &pass));
    assert_eq!(j["encrypted"], false);
    assert_eq!(Key::load(&path).unwrap().signing_key().to_bytes(), [9; 32]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    // Rewritten by rename: no temporary file left.
    assert_eq!(std::fs::read_dir(home.path()).unwrap().count(), 1);
}

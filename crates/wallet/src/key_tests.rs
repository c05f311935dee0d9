//! Tests of `key.rs` (its own file to keep `key.rs` short).

use super::*;

#[test]
fn save_load_round_trip_and_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/key.json");
    let key = Key::from_seed([7; 32]);
    key.save(&path, false).unwrap();
    let loaded = Key::load(&path).unwrap();
    assert_eq!(loaded.public_bytes(), key.public_bytes());
    assert_eq!(loaded.signing_key().to_bytes(), [7; 32]);
    // Test vector of docs/transactions.md.
    assert_eq!(hex::encode(key.public_bytes()), "ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(path.parent().unwrap()).unwrap().permissions().mode() & 0o777, 0o700);
        assert!(!readable_by_others(&path));
    }
}

#[test]
fn refuses_overwrite_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key.json");
    Key::from_seed([1; 32]).save(&path, false).unwrap();
    let err = Key::from_seed([2; 32]).save(&path, false).unwrap_err();
    assert!(matches!(err, KeyError::Exists(_)), "{err}");
    assert!(err.to_string().contains("refusing to overwrite"));
    assert_eq!(Key::load(&path).unwrap().signing_key().to_bytes(), [1; 32]);
    Key::from_seed([2; 32]).save(&path, true).unwrap();
    assert_eq!(Key::load(&path).unwrap().signing_key().to_bytes(), [2; 32]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    // No temporary file left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn generated_keys_differ() {
    assert_ne!(Key::generate().public_bytes(), Key::generate().public_bytes());
}

#[test]
fn invalid_files() {
    let p = Path::new("k.json");
    let good = Key::from_seed([3; 32]).to_json();
    assert!(Key::from_json(p, &good).is_ok());
    let cases = [
        ("not json", "expected"),
        (r#"{"type":"ed25519","secret":"00"}"#, "missing field"),
        (&good.replace("ed25519", "secp256k1"), "not supported"),
        (&good.replace(&hex::encode([3u8; 32]), &hex::encode([4u8; 32])), "does not belong"),
        (&good.replace(&hex::encode([3u8; 32]), "zz"), "secret"),
    ];
    for (text, expected) in cases {
        let err = Key::from_json(p, text).unwrap_err().to_string();
        assert!(err.contains(expected), "{text}: {err}");
    }
    let missing = Key::load(Path::new("/nonexistent/athena/key.json")).unwrap_err();
    assert!(missing.to_string().contains("athena key new"), "{missing}");
}

#[test]
fn debug_hides_secret() {
    let text = format!("{:?}", Key::from_seed([9; 32]));
    assert!(!text.contains(&hex::encode([9u8; 32])));
}

#[test]
fn hex32() {
    assert_eq!(parse_hex32(&format!("0x{}", "ab".repeat(32))), Ok([0xab; 32]));
    assert!(parse_hex32("abcd").unwrap_err().contains("64 hex digits"));
    assert!(parse_hex32(&"zz".repeat(32)).is_err());
}
const PASS: &[u8] = b"correct horse battery staple";

/// An encrypted file of seed [7; 32] with the cheap test costs, and its
/// text.
fn sealed(dir: &Path) -> (PathBuf, String) {
    let path = dir.join("sealed.json");
    Key::from_seed([7; 32]).save_encrypted(&path, false, PASS, &KdfParams::INSECURE_TEST).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    (path, text)
}

fn unlock_text(text: &str, pass: &[u8]) -> Result<Key, KeyError> {
    match KeyFile::from_json(Path::new("k.json"), text)? {
        KeyFile::Encrypted(sealed) => sealed.unlock(pass),
        KeyFile::Plain(_) => panic!("not encrypted"),
    }
}

/// `text` with one field of `crypto` (or the top level) replaced.
fn edit(text: &str, f: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut v: serde_json::Value = serde_json::from_str(text).unwrap();
    f(&mut v);
    v.to_string()
}

#[test]
fn encrypted_round_trip_layout_and_mode() {
    let dir = tempfile::tempdir().unwrap();
    let (path, text) = sealed(dir.path());
    let public = Key::from_seed([7; 32]).public_bytes();
    // The secret is nowhere in the file; the public key is.
    assert!(!text.contains(&hex::encode([7u8; 32])), "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["type"], "ed25519");
    assert_eq!(v["public"], hex::encode(public));
    assert!(v.get("secret").is_none());
    let c = &v["crypto"];
    assert_eq!((c["version"].as_u64(), c["kdf"].as_str(), c["cipher"].as_str()), (Some(1), Some(KDF), Some(CIPHER)));
    assert_eq!((c["m_cost"].as_u64(), c["t_cost"].as_u64(), c["p_cost"].as_u64()), (Some(8), Some(1), Some(1)));
    assert_eq!(c["salt"].as_str().unwrap().len(), 32);
    assert_eq!(c["nonce"].as_str().unwrap().len(), 48);
    assert_eq!(c["ciphertext"].as_str().unwrap().len(), 96);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    // The public key without the passphrase; the key with it.
    let file = KeyFile::load(&path).unwrap();
    assert!(file.is_encrypted());
    assert_eq!(file.public_bytes(), public);
    let KeyFile::Encrypted(sealed) = file else { unreachable!() };
    assert_eq!(sealed.params(), KdfParams::INSECURE_TEST);
    assert_eq!(sealed.unlock(PASS).unwrap().signing_key().to_bytes(), [7; 32]);
    // Key::load (no passphrase) says what is needed.
    let err = Key::load(&path).unwrap_err();
    assert!(matches!(err, KeyError::Encrypted(_)), "{err}");
    assert!(err.to_string().contains("passphrase"), "{err}");
    // Fresh salt and nonce each time.
    Key::from_seed([7; 32]).save_encrypted(&path, true, PASS, &KdfParams::INSECURE_TEST).unwrap();
    let again = std::fs::read_to_string(&path).unwrap();
    let salt = |t: &str| serde_json::from_str::<serde_json::Value>(t).unwrap()["crypto"]["salt"].clone();
    assert_ne!(salt(&text), salt(&again));
    // Refuses to overwrite, like plain files.
    let err = Key::from_seed([1; 32]).save_encrypted(&path, false, PASS, &KdfParams::INSECURE_TEST).unwrap_err();
    assert!(matches!(err, KeyError::Exists(_)), "{err}");
}

#[test]
fn wrong_passphrase_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_, text) = sealed(dir.path());
    for pass in [&b"correct horse battery stapl"[..], b"", b"Correct horse battery staple"] {
        let err = unlock_text(&text, pass).unwrap_err();
        assert!(matches!(err, KeyError::WrongPassphrase(_)), "{err}");
        assert_eq!(err.to_string(), "k.json: wrong passphrase or corrupted key file");
    }
    assert!(unlock_text(&text, PASS).is_ok());
}

#[test]
fn tampered_files_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_, text) = sealed(dir.path());
    let flip = |hex_text: &str| {
        let mut b = hex::decode(hex_text).unwrap();
        b[0] ^= 1;
        hex::encode(b)
    };
    let other_public = hex::encode(Key::from_seed([8; 32]).public_bytes());
    let tampered = [
        edit(&text, |v| v["crypto"]["ciphertext"] = flip(v["crypto"]["ciphertext"].as_str().unwrap()).into()),
        edit(&text, |v| v["crypto"]["salt"] = flip(v["crypto"]["salt"].as_str().unwrap()).into()),
        edit(&text, |v| v["crypto"]["nonce"] = flip(v["crypto"]["nonce"].as_str().unwrap()).into()),
        edit(&text, |v| v["crypto"]["t_cost"] = 2.into()),
        edit(&text, |v| v["public"] = other_public.clone().into()),
    ];
    for text in &tampered {
        let err = unlock_text(text, PASS).unwrap_err();
        assert!(matches!(err, KeyError::WrongPassphrase(_)), "{text}: {err}");
    }
}

#[test]
fn hostile_or_unknown_crypto_refused_before_any_derivation() {
    let dir = tempfile::tempdir().unwrap();
    let (_, text) = sealed(dir.path());
    let cases: Vec<(String, &str)> = vec![
        (edit(&text, |v| v["crypto"]["m_cost"] = 4_194_304.into()), "m_cost 4194304 KiB is out of range"),
        (edit(&text, |v| v["crypto"]["m_cost"] = u32::MAX.into()), "m_cost"),
        (edit(&text, |v| v["crypto"]["m_cost"] = 4.into()), "m_cost 4 KiB is out of range"),
        (edit(&text, |v| v["crypto"]["t_cost"] = 1_000_000.into()), "t_cost 1000000 is out of range"),
        (edit(&text, |v| v["crypto"]["t_cost"] = 0.into()), "t_cost 0"),
        (edit(&text, |v| v["crypto"]["p_cost"] = 64.into()), "p_cost 64 is out of range"),
        (edit(&text, |v| v["crypto"]["m_cost"] = (1u64 << 40).into()), "invalid value"),
        (
            edit(&text, |v| {
                v["crypto"]["m_cost"] = KdfParams::MAX_M_COST.into();
                v["crypto"]["t_cost"] = KdfParams::MAX_T_COST.into();
            }),
            "above the limit",
        ),
        (edit(&text, |v| v["crypto"]["kdf"] = "scrypt".into()), "kdf \"scrypt\" is not supported"),
        (edit(&text, |v| v["crypto"]["cipher"] = "aes-128-ctr".into()), "cipher \"aes-128-ctr\" is not supported"),
        (edit(&text, |v| v["crypto"]["version"] = 2.into()), "crypto version 2 is not supported"),
        (edit(&text, |v| v["crypto"]["salt"] = "00".into()), "salt: 1 bytes"),
        (edit(&text, |v| v["crypto"]["nonce"] = "00".into()), "nonce"),
        (edit(&text, |v| v["crypto"]["ciphertext"] = "00".into()), "ciphertext: 1 bytes"),
        (edit(&text, |v| v["crypto"]["extra"] = 1.into()), "unknown field"),
        (edit(&text, |v| v["secret"] = hex::encode([7u8; 32]).into()), "both"),
        (edit(&text, |v| v.as_object_mut().unwrap().remove("crypto").map(drop).unwrap()), "missing field"),
    ];
    // Refused while parsing (`from_json` never derives a key, `unlock`
    // does), so a hostile file costs nothing.
    for (text, expected) in cases {
        let err = KeyFile::from_json(Path::new("k.json"), &text).unwrap_err();
        assert!(matches!(err, KeyError::Invalid { .. }), "{text}: {err}");
        assert!(err.to_string().contains(expected), "{expected:?} not in {err}");
    }
    // The bounds also hold when writing.
    let err = Key::from_seed([1; 32])
        .save_encrypted(&dir.path().join("x.json"), false, PASS, &KdfParams { m_cost: 1 << 30, t_cost: 1, p_cost: 1 })
        .unwrap_err();
    assert!(matches!(err, KeyError::Invalid { .. }), "{err}");
    assert!(!dir.path().join("x.json").exists());
}

#[test]
fn kdf_params_defaults_and_parsing() {
    assert_eq!(KdfParams::default(), KdfParams { m_cost: 65536, t_cost: 3, p_cost: 1 });
    assert_eq!(KdfParams::DEFAULT.check(), Ok(()));
    assert_eq!(KdfParams::INSECURE_TEST.check(), Ok(()));
    assert_eq!("8,1,1".parse::<KdfParams>(), Ok(KdfParams::INSECURE_TEST));
    assert_eq!(" 65536, 3 ,1".parse::<KdfParams>(), Ok(KdfParams::DEFAULT));
    assert!("8,1".parse::<KdfParams>().unwrap_err().contains("M_COST,T_COST,P_COST"));
    assert!("x,1,1".parse::<KdfParams>().unwrap_err().contains("m_cost"));
    assert!("8,1,9".parse::<KdfParams>().unwrap_err().contains("p_cost 9"));
}

#[test]
fn plain_files_still_load_and_convert_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key.json");
    let key = Key::from_seed([5; 32]);
    key.save(&path, false).unwrap();
    let KeyFile::Plain(plain) = KeyFile::load(&path).unwrap() else { panic!("plain file read as encrypted") };
    assert_eq!(plain.signing_key().to_bytes(), [5; 32]);
    // Encrypt in place (the forced, atomic rewrite), then decrypt back.
    plain.save_encrypted(&path, true, PASS, &KdfParams::INSECURE_TEST).unwrap();
    let KeyFile::Encrypted(sealed) = KeyFile::load(&path).unwrap() else { panic!("not encrypted") };
    sealed.unlock(PASS).unwrap().save(&path, true).unwrap();
    assert_eq!(Key::load(&path).unwrap().signing_key().to_bytes(), [5; 32]);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn debug_of_key_files_hides_secret() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = sealed(dir.path());
    let file = KeyFile::load(&path).unwrap();
    let KeyFile::Encrypted(sealed) = &file else { unreachable!() };
    let unlocked = sealed.unlock(PASS).unwrap();
    for text in [format!("{file:?}"), format!("{unlocked:?}"), format!("{:?}", KeyFile::Plain(unlocked.clone()))] {
        assert!(!text.contains(&hex::encode([7u8; 32])), "{text}");
    }
}

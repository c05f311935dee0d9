//! Key files: one ed25519 signing key per file, as JSON.
//!
//! ```json
//! { "type": "ed25519", "secret": "<64 hex digits>", "public": "<64 hex digits>" }
//! ```
//!
//! `secret` is the 32-byte ed25519 seed; `public` is its public key, stored
//! only so a person (or `athena key show`) can see which key a file holds
//! without the tool. On load the public key is recomputed from the seed and
//! must match, so a hand-edited or corrupted file is refused instead of
//! silently signing with an unexpected key.
//!
//! Files are created with mode `0600` (Unix) and never overwritten unless
//! the caller asks (`force`); a forced overwrite writes a fresh file next to
//! the old one and renames it over, so a crash never leaves a half-written
//! key.

use ed25519_dalek::{SigningKey, VerifyingKey};
use rand::rngs::OsRng;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The only key type defined.
pub const KEY_TYPE: &str = "ed25519";

/// Why a key file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The target exists and overwriting was not asked for.
    #[error("{0} already exists; refusing to overwrite it (pass --force to replace the key it holds)")]
    Exists(PathBuf),
    /// The file is missing.
    #[error("no key file at {0} (create one with `athena key new --out {0}`)")]
    Missing(PathBuf),
    /// Reading, writing or renaming failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a valid key file.
    #[error("{path} is not a valid key file: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// The JSON layout of a key file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFileJson {
    #[serde(rename = "type")]
    kind: String,
    secret: String,
    public: String,
}

/// An ed25519 key loaded from (or about to be written to) a key file.
#[derive(Clone)]
pub struct Key {
    signing: SigningKey,
}

impl std::fmt::Debug for Key {
    /// Shows the public key only: a secret must never end up in logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key").field("public", &hex::encode(self.public_bytes())).finish_non_exhaustive()
    }
}

impl Key {
    /// A fresh key from the operating system's random number generator.
    pub fn generate() -> Self {
        let mut seed = [0u8; 32];
        OsRng.fill_bytes(&mut seed);
        Self::from_seed(seed)
    }

    /// The key with this 32-byte ed25519 seed (tests, imports).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self { signing: SigningKey::from_bytes(&seed) }
    }

    /// The signing key, for [`athena_transaction::sign_single`].
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    /// The public key.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    /// The 32 public-key bytes: the single-sig wallet's whole state (its
    /// spawn arguments).
    pub fn public_bytes(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }

    fn to_json(&self) -> String {
        let json = KeyFileJson {
            kind: KEY_TYPE.to_owned(),
            secret: hex::encode(self.signing.to_bytes()),
            public: hex::encode(self.public_bytes()),
        };
        // Serialising three strings cannot fail.
        let mut text = serde_json::to_string_pretty(&json).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Parses a key file's contents (`path` only names it in errors).
    pub fn from_json(path: &Path, text: &str) -> Result<Self, KeyError> {
        let invalid = |reason: String| KeyError::Invalid { path: path.to_owned(), reason };
        let json: KeyFileJson = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
        if json.kind != KEY_TYPE {
            return Err(invalid(format!("key type {:?} is not supported (only {KEY_TYPE:?})", json.kind)));
        }
        let seed = parse_hex32(&json.secret).map_err(|e| invalid(format!("secret: {e}")))?;
        let key = Self::from_seed(seed);
        let public = parse_hex32(&json.public).map_err(|e| invalid(format!("public: {e}")))?;
        if public != key.public_bytes() {
            return Err(invalid("the public key does not belong to the secret key".into()));
        }
        Ok(key)
    }

    /// Writes the key to `path` with mode 0600. Refuses an existing file
    /// unless `force`; creates missing parent directories (mode 0700).
    pub fn save(&self, path: &Path, force: bool) -> Result<(), KeyError> {
        let io = |source| KeyError::Io { path: path.to_owned(), source };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir).map_err(|source| KeyError::Io { path: dir.to_owned(), source })?;
        }
        if !force {
            let mut file = match private_options().create_new(true).open(path) {
                Ok(file) => file,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    return Err(KeyError::Exists(path.to_owned()))
                }
                Err(e) => return Err(io(e)),
            };
            return file.write_all(self.to_json().as_bytes()).and_then(|()| file.sync_all()).map_err(io);
        }
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(format!(".tmp-{}", std::process::id()));
        let tmp = PathBuf::from(tmp);
        let written = (|| {
            let mut file = private_options().create(true).truncate(true).open(&tmp)?;
            file.write_all(self.to_json().as_bytes())?;
            file.sync_all()?;
            std::fs::rename(&tmp, path)
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written.map_err(io)
    }

    /// Reads the key file at `path`.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(KeyError::Missing(path.to_owned())),
            Err(source) => return Err(KeyError::Io { path: path.to_owned(), source }),
        };
        Self::from_json(path, &text)
    }
}

/// Whether others than the owner may read the file at `path` (Unix mode
/// bits `0o077`); callers warn, as ssh does, since the secret is in clear.
pub fn readable_by_others(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

/// Open options for a new file only its owner can read and write.
fn private_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// Creates `dir` and its parents if missing; new directories get mode 0700.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Parses exactly 32 bytes of hex (an optional `0x` prefix allowed).
pub fn parse_hex32(text: &str) -> Result<[u8; 32], String> {
    let text = text.trim();
    let text = text.strip_prefix("0x").unwrap_or(text);
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).map_err(|e| match e {
        hex::FromHexError::InvalidStringLength | hex::FromHexError::OddLength => {
            format!("expected 64 hex digits (32 bytes), got {} characters", text.len())
        }
        other => other.to_string(),
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
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
}

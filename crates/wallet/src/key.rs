//! Key files: one ed25519 signing key per file, as JSON, plain or sealed
//! with a passphrase.
//!
//! A plain file:
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
//! An encrypted file has `crypto` instead of `secret`:
//!
//! ```json
//! { "type": "ed25519", "public": "<64 hex digits>",
//!   "crypto": { "version": 1, "kdf": "argon2id", "m_cost": 65536, "t_cost": 3, "p_cost": 1,
//!               "salt": "<32 hex digits>", "cipher": "xchacha20poly1305",
//!               "nonce": "<48 hex digits>", "ciphertext": "<96 hex digits>" } }
//! ```
//!
//! The 32-byte seal key is argon2id (version 0x13) of the passphrase's
//! UTF-8 bytes with `salt` (16 random bytes) and the costs stored
//! (`m_cost` in KiB, `t_cost` passes, `p_cost` lanes; [`KdfParams`]);
//! `ciphertext` is XChaCha20-Poly1305 of the seed under that key with the
//! random 24-byte `nonce` and associated data `"athena-key-v1" ‖ public`
//! (32-byte seed + 16-byte tag). `public` stays readable, so the address of
//! an encrypted key is known without the passphrase. A failed
//! authentication is [`KeyError::WrongPassphrase`]; an unknown `version`,
//! `kdf` or `cipher`, or costs outside [`KdfParams::check`]'s bounds, are
//! [`KeyError::Invalid`], found before any key derivation (so a hostile
//! file cannot make the wallet allocate gigabytes or spin for minutes).
//! After decryption the public key is recomputed and must match, as for
//! plain files.
//!
//! Files are created with mode `0600` (Unix) and never overwritten unless
//! the caller asks (`force`); a forced overwrite writes a fresh file next to
//! the old one and renames it over, so a crash never leaves a half-written
//! key. Secrets held in memory (seeds, derived keys, passphrases, the
//! secret's hex) are zeroized when dropped.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use ed25519_dalek::{SigningKey, VerifyingKey};
use rand::rngs::OsRng;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The only key type defined.
pub const KEY_TYPE: &str = "ed25519";

/// The `crypto.version` written and accepted.
pub const CRYPTO_VERSION: u32 = 1;
/// The only `crypto.kdf`.
pub const KDF: &str = "argon2id";
/// The only `crypto.cipher`.
pub const CIPHER: &str = "xchacha20poly1305";
/// Associated data of the seal: this prefix, then the 32 public-key bytes.
const AAD_PREFIX: &[u8] = b"athena-key-v1";
/// Salt bytes written (accepted: 16 to 64).
const SALT_LEN: usize = 16;

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
    /// The file is encrypted and was loaded without a passphrase
    /// ([`Key::load`]; use [`KeyFile::load`] and [`EncryptedKey::unlock`]).
    #[error("{0} is encrypted: a passphrase is needed to use it")]
    Encrypted(PathBuf),
    /// The seal did not authenticate: the passphrase is wrong, or the file
    /// was changed (ciphertext, nonce, salt, costs or public key).
    #[error("{0}: wrong passphrase or corrupted key file")]
    WrongPassphrase(PathBuf),
}

/// The JSON layout of a key file: `secret` (plain) or `crypto` (encrypted).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFileJson {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
    public: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    crypto: Option<CryptoJson>,
}

/// `crypto` of an encrypted key file.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CryptoJson {
    version: u32,
    kdf: String,
    m_cost: u32,
    t_cost: u32,
    p_cost: u32,
    salt: String,
    cipher: String,
    nonce: String,
    ciphertext: String,
}

/// Argon2id costs: `m_cost` KiB of memory, `t_cost` passes, `p_cost`
/// lanes. Stored in each encrypted file; bounded on read and write
/// ([`KdfParams::check`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_cost: u32,
    /// Passes over the memory.
    pub t_cost: u32,
    /// Lanes (parallelism).
    pub p_cost: u32,
}

impl KdfParams {
    /// What `athena key new --encrypt` uses: 64 MiB, 3 passes, 1 lane
    /// (a fraction of a second on a desktop in a release build).
    pub const DEFAULT: Self = Self { m_cost: 64 * 1024, t_cost: 3, p_cost: 1 };
    /// At most 256 MiB of memory.
    pub const MAX_M_COST: u32 = 256 * 1024;
    /// At most 16 passes.
    pub const MAX_T_COST: u32 = 16;
    /// At most 4 lanes.
    pub const MAX_P_COST: u32 = 4;
    /// At most `m_cost × t_cost` = 1 GiB·pass of work (the default is 192
    /// MiB·pass), so the largest memory cannot be combined with many passes.
    pub const MAX_WORK: u64 = 1024 * 1024;

    /// Very cheap costs (8 KiB, 1 pass) for tests only: a file with these
    /// protects its secret hardly better than a plain one.
    pub const INSECURE_TEST: Self = Self { m_cost: 8, t_cost: 1, p_cost: 1 };

    /// Refuses costs outside the bounds (argon2's own minimums: `t_cost` ≥ 1,
    /// 1 ≤ `p_cost`, `m_cost` ≥ 8 × `p_cost`).
    pub fn check(&self) -> Result<(), String> {
        let Self { m_cost, t_cost, p_cost } = *self;
        if !(1..=Self::MAX_P_COST).contains(&p_cost) {
            return Err(format!("p_cost {p_cost} is out of range (1 to {})", Self::MAX_P_COST));
        }
        if !(1..=Self::MAX_T_COST).contains(&t_cost) {
            return Err(format!("t_cost {t_cost} is out of range (1 to {})", Self::MAX_T_COST));
        }
        if m_cost < 8 * p_cost || m_cost > Self::MAX_M_COST {
            return Err(format!("m_cost {m_cost} KiB is out of range ({} to {} KiB)", 8 * p_cost, Self::MAX_M_COST));
        }
        if u64::from(m_cost) * u64::from(t_cost) > Self::MAX_WORK {
            return Err(format!(
                "m_cost × t_cost = {} KiB·passes is above the limit {}",
                u64::from(m_cost) * u64::from(t_cost),
                Self::MAX_WORK
            ));
        }
        Ok(())
    }

    /// The 32-byte seal key for `passphrase` and `salt`.
    fn derive(&self, passphrase: &[u8], salt: &[u8]) -> Result<Zeroizing<[u8; 32]>, String> {
        self.check()?;
        let params = argon2::Params::new(self.m_cost, self.t_cost, self.p_cost, Some(32)).map_err(|e| e.to_string())?;
        let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut out = Zeroizing::new([0u8; 32]);
        argon.hash_password_into(passphrase, salt, out.as_mut()).map_err(|e| e.to_string())?;
        Ok(out)
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl std::str::FromStr for KdfParams {
    type Err = String;

    /// `M,T,P` (KiB, passes, lanes), checked against the bounds.
    fn from_str(text: &str) -> Result<Self, String> {
        let parts: Vec<&str> = text.split(',').map(str::trim).collect();
        let [m, t, p] = parts[..] else {
            return Err(format!("expected M_COST,T_COST,P_COST (e.g. 65536,3,1), got {text:?}"));
        };
        let num = |name: &str, v: &str| v.parse::<u32>().map_err(|e| format!("{name} {v:?}: {e}"));
        let params = Self { m_cost: num("m_cost", m)?, t_cost: num("t_cost", t)?, p_cost: num("p_cost", p)? };
        params.check()?;
        Ok(params)
    }
}

/// The associated data of the seal of `public`.
fn aad(public: &[u8; 32]) -> Vec<u8> {
    [AAD_PREFIX, public.as_slice()].concat()
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
        let mut seed = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(seed.as_mut());
        Self::from_seed(*seed)
    }

    /// The key with this 32-byte ed25519 seed (tests, imports).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self { signing: SigningKey::from_bytes(&seed) }
    }

    /// The key with this seed, if its public key is `public`: a key file
    /// stores both (plain, or the seed sealed), and one that does not agree
    /// with itself is refused the same way whichever form it has.
    fn matching(seed: &[u8; 32], public: &[u8; 32]) -> Result<Self, String> {
        let key = Self::from_seed(*seed);
        if key.public_bytes() != *public {
            return Err("the public key does not belong to the secret key".into());
        }
        Ok(key)
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

    fn file_text(json: &KeyFileJson) -> Zeroizing<String> {
        // Serialising strings and numbers cannot fail.
        let mut text = Zeroizing::new(serde_json::to_string_pretty(json).unwrap_or_default());
        text.push('\n');
        text
    }

    fn to_json(&self) -> Zeroizing<String> {
        let json = KeyFileJson {
            kind: KEY_TYPE.to_owned(),
            secret: Some(hex::encode(Zeroizing::new(self.signing.to_bytes()).as_slice())),
            public: hex::encode(self.public_bytes()),
            crypto: None,
        };
        let text = Self::file_text(&json);
        // Wipes the secret's hex.
        drop(json.secret.map(Zeroizing::new));
        text
    }

    /// The encrypted file text of this key: sealed under argon2id of
    /// `passphrase` with a fresh salt and nonce.
    fn to_encrypted_json(&self, passphrase: &[u8], params: &KdfParams) -> Result<Zeroizing<String>, String> {
        let mut salt = [0u8; SALT_LEN];
        OsRng.fill_bytes(&mut salt);
        let mut nonce = [0u8; 24];
        OsRng.fill_bytes(&mut nonce);
        let seal_key = params.derive(passphrase, &salt)?;
        let public = self.public_bytes();
        let seed = Zeroizing::new(self.signing.to_bytes());
        let cipher = XChaCha20Poly1305::new(seal_key.as_ref().into());
        let ciphertext = cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: seed.as_slice(), aad: &aad(&public) })
            .map_err(|_| "encryption failed".to_owned())?;
        let json = KeyFileJson {
            kind: KEY_TYPE.to_owned(),
            secret: None,
            public: hex::encode(public),
            crypto: Some(CryptoJson {
                version: CRYPTO_VERSION,
                kdf: KDF.to_owned(),
                m_cost: params.m_cost,
                t_cost: params.t_cost,
                p_cost: params.p_cost,
                salt: hex::encode(salt),
                cipher: CIPHER.to_owned(),
                nonce: hex::encode(nonce),
                ciphertext: hex::encode(ciphertext),
            }),
        };
        Ok(Self::file_text(&json))
    }

    /// Parses a plain key file's contents (`path` only names it in errors);
    /// an encrypted one is [`KeyError::Encrypted`]. Only the tests parse
    /// text without a file ([`Key::load`] is the public way in), hence
    /// `cfg(test)`.
    #[cfg(test)]
    pub fn from_json(path: &Path, text: &str) -> Result<Self, KeyError> {
        match KeyFile::from_json(path, text)? {
            KeyFile::Plain(key) => Ok(key),
            KeyFile::Encrypted(_) => Err(KeyError::Encrypted(path.to_owned())),
        }
    }

    /// Writes the key to `path` in clear with mode 0600. Refuses an
    /// existing file unless `force`; creates missing parent directories
    /// (mode 0700).
    pub fn save(&self, path: &Path, force: bool) -> Result<(), KeyError> {
        write_key_file(path, &self.to_json(), force)
    }

    /// Writes the key to `path` sealed with `passphrase` (see the module
    /// doc), with mode 0600; `force` and directories as [`Key::save`].
    /// `params` are checked first ([`KdfParams::check`]).
    pub fn save_encrypted(
        &self,
        path: &Path,
        force: bool,
        passphrase: &[u8],
        params: &KdfParams,
    ) -> Result<(), KeyError> {
        let text = self
            .to_encrypted_json(passphrase, params)
            .map_err(|reason| KeyError::Invalid { path: path.to_owned(), reason })?;
        write_key_file(path, &text, force)
    }

    /// Reads the plain key file at `path`; an encrypted one is
    /// [`KeyError::Encrypted`] (see [`KeyFile::load`]).
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        match KeyFile::load(path)? {
            KeyFile::Plain(key) => Ok(key),
            KeyFile::Encrypted(_) => Err(KeyError::Encrypted(path.to_owned())),
        }
    }
}

/// A key file as read: the key itself, or a sealed key whose public key is
/// known and whose secret needs the passphrase.
#[derive(Debug)]
pub enum KeyFile {
    /// A plain file.
    Plain(Key),
    /// An encrypted file, its costs already checked.
    Encrypted(EncryptedKey),
}

/// The sealed contents of an encrypted key file (nothing secret in clear).
#[derive(Debug, Clone)]
pub struct EncryptedKey {
    path: PathBuf,
    public: [u8; 32],
    params: KdfParams,
    salt: Vec<u8>,
    nonce: [u8; 24],
    ciphertext: Vec<u8>,
}

impl EncryptedKey {
    /// The public key stored in the file (authenticated by [`Self::unlock`]).
    pub fn public_bytes(&self) -> [u8; 32] {
        self.public
    }

    /// The file's argon2id costs. Only the tests look at them (unlocking
    /// uses the field directly), hence `cfg(test)`.
    #[cfg(test)]
    pub fn params(&self) -> KdfParams {
        self.params
    }

    /// Derives the seal key from `passphrase` and opens the seal:
    /// [`KeyError::WrongPassphrase`] if it does not authenticate,
    /// [`KeyError::Invalid`] if the seed's public key is not the stored one.
    pub fn unlock(&self, passphrase: &[u8]) -> Result<Key, KeyError> {
        let invalid = |reason: String| KeyError::Invalid { path: self.path.clone(), reason };
        let seal_key = self.params.derive(passphrase, &self.salt).map_err(invalid)?;
        let cipher = XChaCha20Poly1305::new(seal_key.as_ref().into());
        let seed = cipher
            .decrypt(XNonce::from_slice(&self.nonce), Payload { msg: &self.ciphertext, aad: &aad(&self.public) })
            .map(Zeroizing::new)
            .map_err(|_| KeyError::WrongPassphrase(self.path.clone()))?;
        let seed: Zeroizing<[u8; 32]> = Zeroizing::new(
            seed.as_slice().try_into().map_err(|_| invalid(format!("sealed secret of {} bytes", seed.len())))?,
        );
        Key::matching(&seed, &self.public).map_err(invalid)
    }
}

impl KeyFile {
    /// Reads the key file at `path`, plain or encrypted (no passphrase
    /// needed yet).
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => Zeroizing::new(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(KeyError::Missing(path.to_owned())),
            Err(source) => return Err(KeyError::Io { path: path.to_owned(), source }),
        };
        Self::from_json(path, &text)
    }

    /// Parses a key file's contents (`path` names it in errors). An
    /// encrypted file's format and costs are checked here, before any key
    /// derivation.
    pub fn from_json(path: &Path, text: &str) -> Result<Self, KeyError> {
        let invalid = |reason: String| KeyError::Invalid { path: path.to_owned(), reason };
        let mut json: KeyFileJson = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let secret = json.secret.take().map(Zeroizing::new);
        if json.kind != KEY_TYPE {
            return Err(invalid(format!("key type {:?} is not supported (only {KEY_TYPE:?})", json.kind)));
        }
        let public = parse_hex32(&json.public).map_err(|e| invalid(format!("public: {e}")))?;
        match (secret, json.crypto) {
            (Some(secret), None) => {
                let seed = Zeroizing::new(parse_hex32(&secret).map_err(|e| invalid(format!("secret: {e}")))?);
                Key::matching(&seed, &public).map(Self::Plain).map_err(invalid)
            }
            (None, Some(c)) => {
                if c.version != CRYPTO_VERSION {
                    return Err(invalid(format!(
                        "crypto version {} is not supported (only {CRYPTO_VERSION})",
                        c.version
                    )));
                }
                if c.kdf != KDF {
                    return Err(invalid(format!("kdf {:?} is not supported (only {KDF:?})", c.kdf)));
                }
                if c.cipher != CIPHER {
                    return Err(invalid(format!("cipher {:?} is not supported (only {CIPHER:?})", c.cipher)));
                }
                let params = KdfParams { m_cost: c.m_cost, t_cost: c.t_cost, p_cost: c.p_cost };
                params.check().map_err(|e| invalid(format!("kdf parameters: {e}")))?;
                let salt = hex::decode(&c.salt).map_err(|e| invalid(format!("salt: {e}")))?;
                if !(16..=64).contains(&salt.len()) {
                    return Err(invalid(format!("salt: {} bytes, expected 16 to 64", salt.len())));
                }
                let mut nonce = [0u8; 24];
                hex::decode_to_slice(&c.nonce, &mut nonce)
                    .map_err(|e| invalid(format!("nonce: expected 48 hex digits (24 bytes): {e}")))?;
                let ciphertext = hex::decode(&c.ciphertext).map_err(|e| invalid(format!("ciphertext: {e}")))?;
                if ciphertext.len() != 32 + 16 {
                    return Err(invalid(format!("ciphertext: {} bytes, expected 48", ciphertext.len())));
                }
                Ok(Self::Encrypted(EncryptedKey { path: path.to_owned(), public, params, salt, nonce, ciphertext }))
            }
            (Some(_), Some(_)) => Err(invalid("both \"secret\" and \"crypto\" are present".into())),
            (None, None) => Err(invalid("missing field `secret` (or `crypto` for an encrypted key)".into())),
        }
    }

    /// The public key (for an encrypted file, as stored: the passphrase is
    /// not needed).
    pub fn public_bytes(&self) -> [u8; 32] {
        match self {
            Self::Plain(key) => key.public_bytes(),
            Self::Encrypted(sealed) => sealed.public,
        }
    }

    /// Whether the file is encrypted.
    pub fn is_encrypted(&self) -> bool {
        matches!(self, Self::Encrypted(_))
    }
}

/// Writes `text` to `path` with mode 0600. Refuses an existing file unless
/// `force`, which writes a temporary file next to it and renames it over;
/// creates missing parent directories (mode 0700).
fn write_key_file(path: &Path, text: &str, force: bool) -> Result<(), KeyError> {
    let io = |source| KeyError::Io { path: path.to_owned(), source };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir).map_err(|source| KeyError::Io { path: dir.to_owned(), source })?;
    }
    if !force {
        let mut file = match private_options().create_new(true).open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Err(KeyError::Exists(path.to_owned())),
            Err(e) => return Err(io(e)),
        };
        return file.write_all(text.as_bytes()).and_then(|()| file.sync_all()).map_err(io);
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp-{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let written = (|| {
        let mut file = private_options().create(true).truncate(true).open(&tmp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.map_err(io)
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
#[path = "key_tests.rs"]
mod tests;

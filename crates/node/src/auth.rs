//! Authenticated block results: what an executor signs, how the sequencer
//! and every reader of published results check it (`docs/node.md`,
//! "Authenticated results").
//!
//! Without this, whoever posts a result for a height first owns it (the
//! sequencer keeps the first one): anyone could squat heights with wrong
//! roots. With it, only results signed with an authorized executor key are
//! accepted, and followers check the signature of what the sequencer serves
//! instead of trusting the sequencer.
//!
//! Signed message (158 bytes, fixed layout):
//!
//! ```text
//! "athena/block-result/v1" (22 bytes) ‖ genesis id (32) ‖ height (u64 LE, 8)
//!   ‖ input_hash (32) ‖ state_root (32) ‖ receipts_root (32)
//! ```
//!
//! (the part after the genesis id is `SCALE(BlockResult)`). The genesis id
//! binds a signature to one network, so a result of another network with the
//! same executor key never verifies. At height 0 the result's `input_hash`
//! *is* the genesis id; the sequencer, which holds no genesis, takes the
//! genesis id of later heights from its stored height-0 result.

use crate::executor_keys::AuthorizedKey;
use crate::types::BlockResult;
use athena_wallet::key::{Key, KeyError};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Domain separator in front of every signed result message.
pub const RESULT_DOMAIN: &[u8] = b"athena/block-result/v1";

/// Length of [`signing_message`].
pub const MESSAGE_LEN: usize = RESULT_DOMAIN.len() + 32 + 8 + 3 * 32;

/// Bytes of `SCALE(BlockResult)` (fixed: height and three hashes).
const RESULT_SCALE_LEN: usize = 8 + 3 * 32;

/// Name of the executor's key file in its data directory when no `--key` is
/// given (created on first start, mode 0600).
pub const EXECUTOR_KEY_FILE: &str = "executor-key.json";

/// The bytes an executor signs for `result` on the network `genesis_id`
/// (layout in the module docs).
pub fn signing_message(genesis_id: &[u8; 32], result: &BlockResult) -> [u8; MESSAGE_LEN] {
    let mut out = [0u8; MESSAGE_LEN];
    let mut at = 0;
    for part in [RESULT_DOMAIN, genesis_id.as_slice(), &result.encode()] {
        out[at..at + part.len()].copy_from_slice(part);
        at += part.len();
    }
    out
}

/// A published block result with the signature of the executor that
/// published it: the body of `POST /v1/results` and of
/// `GET /v1/results/{h}`. JSON: the [`BlockResult`] fields plus `signer`
/// (64 hex) and `signature` (128 hex), both absent for an unsigned result
/// (accepted only by a sequencer started with `--accept-unsigned-results`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct SignedResult {
    /// The result.
    #[serde(flatten)]
    pub result: BlockResult,
    /// The executor's ed25519 public key.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_hex")]
    pub signer: Option<[u8; 32]>,
    /// ed25519 signature of [`signing_message`].
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_hex")]
    pub signature: Option<[u8; 64]>,
}

impl SignedResult {
    /// `result` signed with `key` for the network `genesis_id`.
    pub fn sign(key: &SigningKey, genesis_id: &[u8; 32], result: BlockResult) -> Self {
        let signature = key.sign(&signing_message(genesis_id, &result));
        SignedResult { result, signer: Some(key.verifying_key().to_bytes()), signature: Some(signature.to_bytes()) }
    }

    /// `result` without a signature.
    pub fn unsigned(result: BlockResult) -> Self {
        SignedResult { result, signer: None, signature: None }
    }

    /// Decodes a stored row. Rows written before results were signed hold a
    /// bare `SCALE(BlockResult)` (104 bytes) and read as unsigned.
    pub fn decode_stored(mut bytes: &[u8]) -> Result<Self, parity_scale_codec::Error> {
        use parity_scale_codec::DecodeAll;
        if bytes.len() == RESULT_SCALE_LEN {
            return BlockResult::decode_all(&mut bytes).map(SignedResult::unsigned);
        }
        SignedResult::decode_all(&mut bytes)
    }
}

/// Why a published result was not accepted as authentic. Each has a stable
/// machine code (the sequencer's JSON `error`) and HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `signer`/`signature` (or only one of them).
    #[error("the result for block {height} is not signed (signer and signature are required)")]
    Unsigned {
        /// The result's height.
        height: u64,
    },
    /// The signer is not an authorized executor key.
    #[error("block {height}: signer {signer} is not an authorized executor key")]
    UnknownSigner {
        /// The result's height.
        height: u64,
        /// The signer, hex.
        signer: String,
    },
    /// The signer is an authorized executor key, but not for this height
    /// (retired before it, or authorized only from a later one).
    #[error("block {height}: signer {signer} is authorized for {term} only")]
    OutsideTerm {
        /// The result's height.
        height: u64,
        /// The signer, hex.
        signer: String,
        /// The heights it may sign ([`AuthorizedKey::term`]).
        term: String,
    },
    /// The signature does not verify for the signer over the result.
    #[error("block {height}: the signature of {signer} does not verify over this result")]
    BadSignature {
        /// The result's height.
        height: u64,
        /// The signer, hex.
        signer: String,
    },
}

impl AuthError {
    /// The machine code of the error (`docs/node.md`).
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::Unsigned { .. } => "unsigned_result",
            AuthError::UnknownSigner { .. } => "unknown_signer",
            AuthError::OutsideTerm { .. } => "signer_out_of_term",
            AuthError::BadSignature { .. } => "bad_signature",
        }
    }
}

/// Which published results are authentic: the ones signed by one of the
/// listed executor keys, or (devnet debugging only) anything at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResultPolicy {
    /// Signed by one of these keys, for a height it may sign. Empty:
    /// nothing is accepted (the safe default of a sequencer nobody
    /// configured).
    Keys(Vec<AuthorizedKey>),
    /// No checks: `--accept-unsigned-results`. Whoever posts first wins.
    AcceptUnsigned,
}

impl Default for ResultPolicy {
    fn default() -> Self {
        ResultPolicy::Keys(Vec::new())
    }
}

impl ResultPolicy {
    /// Results signed by any of `keys`, at any height.
    pub fn keys(keys: impl IntoIterator<Item = VerifyingKey>) -> Self {
        ResultPolicy::Keys(keys.into_iter().map(AuthorizedKey::from).collect())
    }

    /// Checks `signed` for the network `genesis_id`: an authorized signer
    /// for its height ([`ResultPolicy::authorized_signer`]), then the
    /// signature.
    pub fn check(&self, genesis_id: &[u8; 32], signed: &SignedResult) -> Result<(), AuthError> {
        let Some((key, signature)) = self.authorized_signer(signed)? else { return Ok(()) };
        verify_signature(&key, &signature, genesis_id, &signed.result)
    }

    /// The signer checks of [`ResultPolicy::check`] without the signature:
    /// whether `signed` names a key that may sign its height. A sequencer
    /// that cannot verify a signature yet (no genesis id stored) still
    /// refuses unknown posters with this. Returns the key and the signature
    /// to verify, or `None` when the policy accepts anything.
    pub fn authorized_signer(&self, signed: &SignedResult) -> Result<Option<(VerifyingKey, [u8; 64])>, AuthError> {
        let keys = match self {
            ResultPolicy::AcceptUnsigned => return Ok(None),
            ResultPolicy::Keys(keys) => keys,
        };
        let height = signed.result.height;
        let (Some(signer), Some(signature)) = (signed.signer, signed.signature) else {
            return Err(AuthError::Unsigned { height });
        };
        let mut listed = keys.iter().filter(|k| k.key.as_bytes() == &signer).peekable();
        let Some(first) = listed.peek().copied() else {
            return Err(AuthError::UnknownSigner { height, signer: hex::encode(signer) });
        };
        // A key may be listed more than once (with separate terms).
        let Some(key) = listed.find(|k| k.covers(height)) else {
            return Err(AuthError::OutsideTerm { height, signer: hex::encode(signer), term: first.term() });
        };
        Ok(Some((key.key, signature)))
    }
}

/// Checks that `signature` is `key`'s signature of `result` on the network
/// `genesis_id` (the last step of [`ResultPolicy::check`], for a caller that
/// ran [`ResultPolicy::authorized_signer`] itself).
pub fn verify_signature(
    key: &VerifyingKey,
    signature: &[u8; 64],
    genesis_id: &[u8; 32],
    result: &BlockResult,
) -> Result<(), AuthError> {
    key.verify(&signing_message(genesis_id, result), &Signature::from_bytes(signature))
        .map_err(|_| AuthError::BadSignature { height: result.height, signer: hex::encode(key.as_bytes()) })
}

/// Parses an executor public key given as exactly 64 hex digits (the
/// `--executor-key` flag); refuses bytes that are not a curve point.
pub fn parse_public_key(text: &str) -> Result<VerifyingKey, String> {
    let bytes = crate::types::hex32::parse(text)?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| format!("{text}: not an ed25519 public key"))
}

/// Loads the key file at `path` (the wallet's key file format,
/// `docs/wallet.md`), creating it with a fresh key (mode 0600) if missing.
pub fn load_or_create_key(path: &Path) -> Result<Key, KeyError> {
    match Key::load(path) {
        Err(KeyError::Missing(_)) => {
            let key = Key::generate();
            key.save(path, false)?;
            tracing::info!("created executor key {} (public {})", path.display(), hex::encode(key.public_bytes()));
            Ok(key)
        }
        other => other,
    }
}

/// Serde of optional fixed-size byte arrays as exact-length lowercase hex.
mod opt_hex {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer, const N: usize>(bytes: &Option<[u8; N]>, s: S) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(bytes) => s.serialize_str(&hex::encode(bytes)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(d: D) -> Result<Option<[u8; N]>, D::Error> {
        let Some(text) = Option::<String>::deserialize(d)? else { return Ok(None) };
        crate::types::parse_hex(&text).map(Some).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result() -> BlockResult {
        BlockResult { height: 3, input_hash: [1; 32], state_root: [2; 32], receipts_root: [3; 32] }
    }

    #[test]
    fn message_layout_is_fixed() {
        let message = signing_message(&[9; 32], &result());
        assert_eq!(message.len(), 158);
        assert_eq!(&message[..22], b"athena/block-result/v1");
        assert_eq!(&message[22..54], &[9; 32]);
        assert_eq!(&message[54..62], &3u64.to_le_bytes());
        assert_eq!(&message[62..94], &[1; 32]);
        assert_eq!(&message[94..126], &[2; 32]);
        assert_eq!(&message[126..], &[3; 32]);
    }

    #[test]
    fn policy_checks_signer_and_signature() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let other = SigningKey::from_bytes(&[8; 32]);
        let policy = ResultPolicy::keys([key.verifying_key()]);
        let genesis = [5; 32];
        let signed = SignedResult::sign(&key, &genesis, result());
        assert_eq!(policy.check(&genesis, &signed), Ok(()));
        let code = |s: &SignedResult| policy.check(&genesis, s).map_err(|e| e.code());
        assert_eq!(code(&SignedResult::unsigned(result())), Err("unsigned_result"));
        assert_eq!(code(&SignedResult { signature: None, ..signed }), Err("unsigned_result"));
        assert_eq!(code(&SignedResult::sign(&other, &genesis, result())), Err("unknown_signer"));
        let tampered = SignedResult { result: BlockResult { state_root: [0; 32], ..result() }, ..signed };
        assert_eq!(code(&tampered), Err("bad_signature"));
        assert_eq!(policy.check(&[6; 32], &signed).map_err(|e| e.code()), Err("bad_signature"), "another network");
        assert_eq!(code(&SignedResult::sign(&key, &genesis, result())), Ok(()));
        assert!(ResultPolicy::default().check(&genesis, &signed).is_err());
        assert_eq!(ResultPolicy::AcceptUnsigned.check(&genesis, &SignedResult::unsigned(result())), Ok(()));
    }

    #[test]
    fn a_key_signs_only_the_heights_of_its_term() {
        let (old, new) = (SigningKey::from_bytes(&[7; 32]), SigningKey::from_bytes(&[8; 32]));
        let policy = ResultPolicy::Keys(vec![
            AuthorizedKey { key: old.verifying_key(), from: 0, until: Some(3) },
            AuthorizedKey { key: new.verifying_key(), from: 4, until: None },
            AuthorizedKey { key: new.verifying_key(), from: 1, until: Some(1) },
        ]);
        let genesis = [5; 32];
        let at = |key: &SigningKey, height| {
            let signed = SignedResult::sign(key, &genesis, BlockResult { height, ..result() });
            policy.check(&genesis, &signed).map_err(|e| (e.code(), e.to_string()))
        };
        assert_eq!(at(&old, 3), Ok(()));
        let (code, message) = at(&old, 4).unwrap_err();
        assert_eq!(code, "signer_out_of_term");
        assert!(message.contains("heights 0..=3"), "{message}");
        assert_eq!(at(&new, 4), Ok(()));
        assert_eq!(at(&new, 1), Ok(()), "a second entry of the same key");
        assert_eq!(at(&new, 2).map_err(|e| e.0), Err("signer_out_of_term"));
    }

    #[test]
    fn json_and_stored_forms() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let signed = SignedResult::sign(&key, &[5; 32], result());
        let json = serde_json::to_value(signed).unwrap();
        assert_eq!(json["height"], 3);
        assert_eq!(json["signer"], hex::encode(key.verifying_key().to_bytes()));
        assert_eq!(json["signature"].as_str().map(str::len), Some(128));
        assert_eq!(serde_json::from_value::<SignedResult>(json.clone()).unwrap(), signed);
        let mut short = json.clone();
        short["signature"] = serde_json::Value::String("ab".repeat(63));
        assert!(serde_json::from_value::<SignedResult>(short).is_err());
        let unsigned = serde_json::to_value(SignedResult::unsigned(result())).unwrap();
        assert!(unsigned.get("signer").is_none());
        assert_eq!(serde_json::from_value::<SignedResult>(unsigned).unwrap(), SignedResult::unsigned(result()));
        assert_eq!(SignedResult::decode_stored(&signed.encode()).unwrap(), signed);
        assert_eq!(SignedResult::decode_stored(&result().encode()).unwrap(), SignedResult::unsigned(result()));
        assert!(parse_public_key(&hex::encode(key.verifying_key().to_bytes())).is_ok());
        assert!(parse_public_key("abcd").is_err());
    }

    #[test]
    fn key_file_is_created_once_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(EXECUTOR_KEY_FILE);
        let first = load_or_create_key(&path).unwrap();
        assert!(!athena_wallet::key::readable_by_others(&path));
        assert_eq!(load_or_create_key(&path).unwrap().public_bytes(), first.public_bytes());
    }
}

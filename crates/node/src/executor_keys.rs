//! Authorized executor keys with the heights they may sign, and the keys
//! file that lists them (`--executor-keys FILE`, `docs/node.md`,
//! "Rotating executor keys").
//!
//! Why heights: readers (executors, shadows) check the signature of every
//! result they read, old ones included. Removing a retired key outright
//! would make the results it signed unverifiable; bounding it (`until`)
//! keeps them valid while refusing anything new it signs. A compromised
//! key is retired the same way, at the last height it is trusted for.
//!
//! File format, one key per line, `#` starts a comment:
//!
//! ```text
//! # executor keys authorized to publish results
//! 3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c              # any height
//! fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025 from=1200    # 1200 and later
//! 8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c until=1199   # up to 1199
//! ```
//!
//! Every node re-reads the file while it runs ([`LivePolicy`]: the
//! sequencer once per block interval, executors and shadows once per poll
//! interval and before refusing a served result), so a key is added or
//! retired without a restart; a file that does not parse is reported once
//! and the keys in force stay.

use ed25519_dalek::VerifyingKey;
use std::path::{Path, PathBuf};

use crate::auth::{parse_public_key, AuthError, ResultPolicy, SignedResult};

/// Largest keys file read (a few hundred keys): a bigger one is refused
/// rather than read whole.
pub const MAX_KEYS_FILE: u64 = 64 * 1024;

/// An executor key and the block heights it may sign results for
/// (`from..=until`, both inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthorizedKey {
    /// The executor's public key.
    pub key: VerifyingKey,
    /// First height it may sign.
    pub from: u64,
    /// Last height it may sign; `None`: no end.
    pub until: Option<u64>,
}

impl AuthorizedKey {
    /// Whether the key may sign the result of block `height`.
    pub fn covers(&self, height: u64) -> bool {
        height >= self.from && self.until.is_none_or(|until| height <= until)
    }

    /// The heights as text (`any height`, `heights 5..=9`, `heights 5..`).
    pub fn term(&self) -> String {
        match (self.from, self.until) {
            (0, None) => "any height".into(),
            (from, None) => format!("heights {from}.."),
            (from, Some(until)) => format!("heights {from}..={until}"),
        }
    }
}

impl From<VerifyingKey> for AuthorizedKey {
    /// A key for every height (the `--executor-key` flag).
    fn from(key: VerifyingKey) -> Self {
        AuthorizedKey { key, from: 0, until: None }
    }
}

/// Parses the text of a keys file (format in the module docs). Errors name
/// the line.
pub fn parse_keys(text: &str) -> Result<Vec<AuthorizedKey>, String> {
    let mut keys = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let at = |e: String| format!("line {}: {e}", number + 1);
        let mut words = line.split_whitespace();
        let key = parse_public_key(words.next().unwrap_or_default()).map_err(at)?;
        let mut entry = AuthorizedKey::from(key);
        for word in words {
            let (name, value) =
                word.split_once('=').ok_or_else(|| at(format!("{word:?}: expected from=N or until=N")))?;
            let height = value.parse::<u64>().map_err(|_| at(format!("{word:?}: {value:?} is not a block height")))?;
            match name {
                "from" => entry.from = height,
                "until" => entry.until = Some(height),
                _ => return Err(at(format!("{word:?}: expected from=N or until=N"))),
            }
        }
        if entry.until.is_some_and(|until| until < entry.from) {
            return Err(at(format!("until={} is before from={}", entry.until.unwrap_or_default(), entry.from)));
        }
        keys.push(entry);
    }
    Ok(keys)
}

/// A keys file and the text last read from it, so that a change is noticed
/// without re-parsing an unchanged file.
#[derive(Debug, Clone)]
pub struct KeysFile {
    path: PathBuf,
    last: Option<String>,
}

impl KeysFile {
    /// A keys file at `path`, not read yet.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        KeysFile { path: path.into(), last: None }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the file: `Ok(None)` if its text is the same as at the last
    /// successful read, the keys if it changed (or on the first read).
    pub fn read_if_changed(&mut self) -> Result<Option<Vec<AuthorizedKey>>, String> {
        let path = self.path.display();
        let size = std::fs::metadata(&self.path).map_err(|e| format!("{path}: {e}"))?.len();
        if size > MAX_KEYS_FILE {
            return Err(format!("{path}: {size} bytes, more than a keys file may hold ({MAX_KEYS_FILE})"));
        }
        let text = std::fs::read_to_string(&self.path).map_err(|e| format!("{path}: {e}"))?;
        if self.last.as_deref() == Some(text.as_str()) {
            return Ok(None);
        }
        let keys = parse_keys(&text).map_err(|e| format!("{path}: {e}"))?;
        self.last = Some(text);
        Ok(Some(keys))
    }
}

/// Where a node's authorized keys come from: fixed ones (the
/// `--executor-key` flags, an executor's own key) and, optionally, a keys
/// file that may change while the node runs.
#[derive(Debug, Clone)]
pub struct KeySource {
    fixed: Vec<AuthorizedKey>,
    file: Option<(KeysFile, Vec<AuthorizedKey>)>,
}

impl KeySource {
    /// Fixed keys plus the keys file at `file`, if any (read at once: an
    /// unreadable or invalid file is an error here, at start).
    pub fn new(fixed: Vec<AuthorizedKey>, file: Option<PathBuf>) -> Result<Self, String> {
        let file = match file {
            Some(path) => {
                let mut file = KeysFile::new(path);
                let keys = file.read_if_changed()?.unwrap_or_default();
                Some((file, keys))
            }
            None => None,
        };
        Ok(KeySource { fixed, file })
    }

    /// Every key in force: the fixed ones, then the file's.
    pub fn keys(&self) -> Vec<AuthorizedKey> {
        let from_file = self.file.iter().flat_map(|(_, keys)| keys.iter().copied());
        self.fixed.iter().copied().chain(from_file).collect()
    }

    /// Re-reads the keys file: whether the keys changed. A file that cannot
    /// be read or parsed, or that would leave no key at all, is an error
    /// and changes nothing (the keys in force stay).
    pub fn refresh(&mut self) -> Result<bool, String> {
        let Some((file, current)) = &mut self.file else { return Ok(false) };
        let Some(keys) = file.read_if_changed()? else { return Ok(false) };
        if keys.is_empty() && self.fixed.is_empty() {
            return Err(format!("{}: no key left; keeping the keys in force", file.path().display()));
        }
        let changed = *current != keys;
        *current = keys;
        Ok(changed)
    }
}

/// The result policy of a running node: fixed, or the keys of a
/// [`KeySource`] whose file is re-read while the node runs. One type for
/// the sequencer (which hands a changed policy to
/// [`crate::base_layer::DevnetSequencer::set_policy`]) and for executors and
/// shadows (which check the results the base layer serves with it), so that
/// every node reloads with the same rules: a changed file applies from then
/// on, a bad one is logged once and the keys in force stay.
#[derive(Debug, Clone)]
pub struct LivePolicy {
    policy: ResultPolicy,
    source: Option<KeySource>,
    /// The keys file's last error, so that a bad file is logged once, not
    /// at every re-read.
    error: Option<String>,
}

impl From<ResultPolicy> for LivePolicy {
    /// A policy that never changes (flags only, tests).
    fn from(policy: ResultPolicy) -> Self {
        LivePolicy { policy, source: None, error: None }
    }
}

impl From<KeySource> for LivePolicy {
    /// The keys of `source`, following its keys file (if any).
    fn from(source: KeySource) -> Self {
        LivePolicy { policy: ResultPolicy::Keys(source.keys()), source: Some(source), error: None }
    }
}

impl LivePolicy {
    /// The policy in force.
    pub fn policy(&self) -> &ResultPolicy {
        &self.policy
    }

    /// Logs the policy in force: each key with its heights, or a warning
    /// for unsigned results (operators see what a node trusts).
    pub fn log(&self) {
        match &self.policy {
            ResultPolicy::AcceptUnsigned => tracing::warn!("accepting unsigned results: whoever posts first wins"),
            ResultPolicy::Keys(keys) => {
                for key in keys {
                    tracing::info!("authorized executor key {} for {}", hex::encode(key.key.as_bytes()), key.term());
                }
            }
        }
    }

    /// Re-reads the keys file (parsed only if its text changed): whether the
    /// policy changed. A file that cannot be read or parsed, or that would
    /// leave no key, is logged (once until it changes) and the keys in
    /// force stay.
    pub fn reload(&mut self) -> bool {
        let Some(source) = &mut self.source else { return false };
        match source.refresh() {
            Ok(changed) => {
                self.error = None;
                if changed {
                    self.policy = ResultPolicy::Keys(source.keys());
                    tracing::info!("executor keys file changed");
                    self.log();
                }
                changed
            }
            Err(e) => {
                if self.error.as_ref() != Some(&e) {
                    tracing::error!("executor keys file not applied: {e}");
                    self.error = Some(e);
                }
                false
            }
        }
    }

    /// Checks a result served by the base layer. One refused as signed by
    /// an unknown key or out of its heights is checked again after
    /// re-reading the keys file: the sequencer may have applied a rotation
    /// before this node's next periodic re-read, and the refusal would stop
    /// the node.
    pub fn check(&mut self, genesis_id: &[u8; 32], signed: &SignedResult) -> Result<(), AuthError> {
        match self.policy.check(genesis_id, signed) {
            Err(AuthError::UnknownSigner { .. } | AuthError::OutsideTerm { .. }) if self.reload() => {
                self.policy.check(genesis_id, signed)
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    fn hex_key(seed: u8) -> String {
        hex::encode(SigningKey::from_bytes(&[seed; 32]).verifying_key().to_bytes())
    }

    #[test]
    fn lines_comments_and_terms() {
        let text = format!(
            "# keys\n\n{a}\n  {b} from=10   # new\n{c} until=9 from=2\n",
            a = hex_key(1),
            b = hex_key(2),
            c = hex_key(3)
        );
        let keys = parse_keys(&text).unwrap();
        assert_eq!(keys.len(), 3);
        assert_eq!((keys[0].from, keys[0].until, keys[0].term()), (0, None, "any height".to_owned()));
        assert_eq!((keys[1].from, keys[1].until, keys[1].term()), (10, None, "heights 10..".to_owned()));
        assert_eq!((keys[2].from, keys[2].until, keys[2].term()), (2, Some(9), "heights 2..=9".to_owned()));
        assert!(keys[0].covers(0) && keys[0].covers(u64::MAX));
        assert!(!keys[1].covers(9) && keys[1].covers(10));
        assert!(!keys[2].covers(1) && keys[2].covers(2) && keys[2].covers(9) && !keys[2].covers(10));
        assert_eq!(parse_keys("# nothing\n").unwrap(), vec![]);
    }

    #[test]
    fn bad_lines_are_named() {
        let a = hex_key(1);
        for (text, wanted) in [
            ("abcd".to_owned(), "line 1"),
            (format!("\n{a} from=x"), "line 2: \"from=x\""),
            (format!("{a} since=3"), "expected from=N or until=N"),
            (format!("{a} 3"), "expected from=N or until=N"),
            (format!("{a} from=5 until=4"), "until=4 is before from=5"),
        ] {
            let error = parse_keys(&text).unwrap_err();
            assert!(error.contains(wanted), "{text:?}: {error}");
        }
    }

    #[test]
    fn a_source_keeps_its_keys_when_the_file_goes_bad() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys");
        assert!(KeySource::new(vec![], Some(path.clone())).is_err(), "missing at start");
        std::fs::write(&path, hex_key(2)).unwrap();
        let fixed = AuthorizedKey::from(SigningKey::from_bytes(&[1; 32]).verifying_key());
        let mut source = KeySource::new(vec![fixed], Some(path.clone())).unwrap();
        assert_eq!(source.keys().len(), 2);
        assert_eq!(source.refresh(), Ok(false));
        std::fs::write(&path, "garbage").unwrap();
        assert!(source.refresh().is_err());
        assert_eq!(source.keys().len(), 2, "kept");
        std::fs::write(&path, format!("{}\n{} from=9\n", hex_key(2), hex_key(3))).unwrap();
        assert_eq!(source.refresh(), Ok(true));
        assert_eq!(source.keys().iter().map(|k| k.from).collect::<Vec<_>>(), vec![0, 0, 9]);
        let mut file_only = KeySource::new(vec![], Some(path.clone())).unwrap();
        std::fs::write(&path, "# all retired\n").unwrap();
        assert!(file_only.refresh().unwrap_err().contains("no key left"));
        assert_eq!(file_only.keys().len(), 2, "kept");
    }

    #[test]
    fn a_live_policy_rereads_its_file_before_refusing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys");
        std::fs::write(&path, hex_key(1)).unwrap();
        let mut live = LivePolicy::from(KeySource::new(vec![], Some(path.clone())).unwrap());
        let genesis = [9; 32];
        let result = |height| crate::types::BlockResult {
            height,
            input_hash: [height as u8; 32],
            state_root: [0; 32],
            receipts_root: [0; 32],
        };
        let sign =
            |seed: u8, height| SignedResult::sign(&SigningKey::from_bytes(&[seed; 32]), &genesis, result(height));
        assert_eq!(live.check(&genesis, &sign(1, 0)), Ok(()));
        assert_eq!(live.check(&genesis, &sign(2, 1)).unwrap_err().code(), "unknown_signer");
        // Added while running: accepted without an explicit reload.
        std::fs::write(&path, format!("{} until=0\n{} from=1\n", hex_key(1), hex_key(2))).unwrap();
        assert_eq!(live.check(&genesis, &sign(2, 1)), Ok(()));
        assert_eq!(live.check(&genesis, &sign(1, 1)).unwrap_err().code(), "signer_out_of_term");
        // A bad file changes nothing.
        std::fs::write(&path, "garbage").unwrap();
        assert!(!live.reload());
        assert_eq!(live.check(&genesis, &sign(2, 2)), Ok(()));
        assert_eq!(live.check(&genesis, &sign(1, 2)).unwrap_err().code(), "signer_out_of_term");
        // A fixed policy never reads anything.
        assert!(!LivePolicy::from(ResultPolicy::AcceptUnsigned).reload());
    }

    #[test]
    fn a_file_is_parsed_again_only_when_it_changed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys");
        let mut file = KeysFile::new(&path);
        assert!(file.read_if_changed().unwrap_err().contains("keys"), "missing file");
        std::fs::write(&path, hex_key(1)).unwrap();
        assert_eq!(file.read_if_changed().unwrap().map(|k| k.len()), Some(1));
        assert_eq!(file.read_if_changed().unwrap(), None);
        std::fs::write(&path, format!("{}\nnot a key\n", hex_key(1))).unwrap();
        assert!(file.read_if_changed().unwrap_err().contains("line 2"));
        std::fs::write(&path, format!("{}\n{} from=4\n", hex_key(1), hex_key(2))).unwrap();
        assert_eq!(file.read_if_changed().unwrap().map(|k| k.len()), Some(2));
        std::fs::write(&path, vec![b'#'; MAX_KEYS_FILE as usize + 1]).unwrap();
        assert!(file.read_if_changed().unwrap_err().contains("more than a keys file may hold"));
    }
}

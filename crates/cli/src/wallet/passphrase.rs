//! Passphrases of encrypted key files (docs/wallet.md, "Key files"): from
//! `--passphrase-file`, else `ATHENA_PASSPHRASE`, else a prompt when stdin
//! is a terminal; never a wait for input that cannot come. The prompt is
//! tested on a pseudo-terminal by tests/athena_key_prompt.rs.

use athena_wallet::key::{EncryptedKey, KeyFile};
use athena_wallet::Key;
use std::io::IsTerminal;
use std::path::Path;
use zeroize::Zeroizing;

/// The environment variable holding a passphrase.
pub const PASSPHRASE_ENV: &str = "ATHENA_PASSPHRASE";

/// What the passphrase is for.
#[derive(Clone, Copy)]
pub enum Purpose<'a> {
    /// Opening the encrypted key file at this path.
    Unlock(&'a Path),
    /// Sealing a key into this file: a prompt asks twice, an empty
    /// passphrase is refused.
    Seal(&'a Path),
}

/// The passphrase for `purpose`, from `file`, the environment or the
/// terminal.
pub fn passphrase(file: Option<&Path>, purpose: Purpose<'_>) -> Result<Zeroizing<String>, String> {
    let sealing = matches!(purpose, Purpose::Seal(_));
    let (pass, source) = if let Some(file) = file {
        let mut text = Zeroizing::new(
            std::fs::read_to_string(file).map_err(|e| format!("passphrase file {}: {e}", file.display()))?,
        );
        // One trailing line break is the file's, not the passphrase's.
        if text.ends_with('\n') {
            text.pop();
            if text.ends_with('\r') {
                text.pop();
            }
        }
        (text, format!("the passphrase file {}", file.display()))
    } else if let Some(value) = std::env::var_os(PASSPHRASE_ENV) {
        let value = value.into_string().map_err(|_| format!("{PASSPHRASE_ENV} is not valid UTF-8"))?;
        (Zeroizing::new(value), PASSPHRASE_ENV.to_owned())
    } else if std::io::stdin().is_terminal() {
        (prompt(purpose)?, "the prompt".to_owned())
    } else {
        return Err(match purpose {
            Purpose::Unlock(path) => format!(
                "{} is encrypted and no passphrase was given: set {PASSPHRASE_ENV}, pass --passphrase-file FILE, \
                 or run on a terminal to be asked",
                path.display()
            ),
            Purpose::Seal(path) => format!(
                "encrypting {} needs a passphrase: set {PASSPHRASE_ENV}, pass --passphrase-file FILE, or run on \
                 a terminal to be asked",
                path.display()
            ),
        });
    };
    if sealing && pass.is_empty() {
        return Err(format!("the passphrase from {source} is empty; refusing to encrypt with it"));
    }
    Ok(pass)
}

fn prompt(purpose: Purpose<'_>) -> Result<Zeroizing<String>, String> {
    let ask = |text: String| {
        rpassword::prompt_password(text).map(Zeroizing::new).map_err(|e| format!("reading the passphrase: {e}"))
    };
    match purpose {
        Purpose::Unlock(path) => ask(format!("passphrase for {}: ", path.display())),
        Purpose::Seal(path) => {
            let first = ask(format!("new passphrase for {}: ", path.display()))?;
            let second = ask("repeat the passphrase: ".to_owned())?;
            if first != second {
                return Err("the two passphrases differ; nothing written".to_owned());
            }
            Ok(first)
        }
    }
}

/// The key of a loaded key file: a plain file's as is, an encrypted one's
/// after asking for its passphrase.
pub fn unlock(path: &Path, file: KeyFile, passphrase_file: Option<&Path>) -> Result<Key, String> {
    match file {
        KeyFile::Plain(key) => Ok(key),
        KeyFile::Encrypted(sealed) => unlock_sealed(path, &sealed, passphrase_file),
    }
}

/// Opens `sealed` (read from `path`) with the passphrase.
pub fn unlock_sealed(path: &Path, sealed: &EncryptedKey, passphrase_file: Option<&Path>) -> Result<Key, String> {
    let pass = passphrase(passphrase_file, Purpose::Unlock(path))?;
    sealed.unlock(pass.as_bytes()).map_err(|e| e.to_string())
}

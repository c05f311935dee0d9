//! Building a contract crate for the VM, once per process.

use crate::error::Error;
use athena_guest_builder::{target_dir_override, BuildError, BuildRequest, GuestTarget};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

/// Where [`build_contract`] puts a crate's RISC-V build, relative to the
/// crate: separate from the crate's host `target/` subdirectories so the
/// host and guest builds (different toolchains, `-Zbuild-std`) never
/// invalidate each other. `$ATHENA_GUEST_TARGET_DIR` overrides it (e.g. to
/// share one cache in CI).
pub const CONTRACT_TARGET_DIR: &str = "target/athena-guest";

/// A build: the canonical crate directory and the binary asked for.
type BuildKey = (PathBuf, Option<String>);

/// Successful builds of this process.
static BUILT: Mutex<BTreeMap<BuildKey, Arc<[u8]>>> = Mutex::new(BTreeMap::new());

/// Builds the contract crate at `crate_dir` (a standalone guest crate, as
/// made by `athena new`; a directory or its `Cargo.toml`) for
/// `riscv32em-unknown-none-elf` in release mode, and returns the ELF bytes
/// to deploy.
///
/// The build goes to `<crate_dir>/target/athena-guest` (see
/// [`CONTRACT_TARGET_DIR`]). It is cached per process: later calls for the
/// same crate return the same bytes without running cargo, and parallel
/// callers wait for one build. A crate with several binaries must be built
/// with [`build_contract_binary`] unless one is named after the package.
///
/// Errors: [`Error::ToolchainMissing`] (with install instructions) when no
/// guest toolchain is found, [`Error::Build`] with cargo's diagnostics when
/// the crate does not compile.
pub fn build_contract(crate_dir: impl AsRef<Path>) -> Result<Vec<u8>, Error> {
    build(crate_dir.as_ref(), None)
}

/// Like [`build_contract`], for the binary called `binary` of the crate.
pub fn build_contract_binary(crate_dir: impl AsRef<Path>, binary: &str) -> Result<Vec<u8>, Error> {
    build(crate_dir.as_ref(), Some(binary))
}

/// The testkit's error for a failed build of the crate at `dir`.
fn build_error(dir: &Path, source: BuildError) -> Error {
    match source {
        BuildError::Toolchain(t) => Error::ToolchainMissing(t),
        source => Error::Build { dir: dir.to_path_buf(), source },
    }
}

fn build(crate_dir: &Path, binary: Option<&str>) -> Result<Vec<u8>, Error> {
    let dir = if crate_dir.is_file() { crate_dir.parent().unwrap_or(crate_dir) } else { crate_dir };
    let manifest = dir.join("Cargo.toml");
    if !manifest.is_file() {
        return Err(build_error(dir, BuildError::ManifestNotFound(manifest)));
    }
    let dir =
        dir.canonicalize().map_err(|source| build_error(dir, BuildError::Io { program: dir.to_path_buf(), source }))?;
    let key = (dir.clone(), binary.map(str::to_owned));
    // Held for the whole build: parallel tests wait instead of racing cargo.
    let mut built = BUILT.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(code) = built.get(&key) {
        return Ok(code.to_vec());
    }
    let fail = |source| build_error(&dir, source);
    let manifest = dir.join("Cargo.toml");
    let target_dir = target_dir_override().unwrap_or_else(|| dir.join(CONTRACT_TARGET_DIR));
    let request = BuildRequest::new(&manifest).target(GuestTarget::Rv32em).target_dir(target_dir);
    let output = athena_guest_builder::build(&request).map_err(fail)?;
    let path = match binary {
        Some(name) => output.require(name).map_err(fail)?.to_path_buf(),
        None => match output.binaries.as_slice() {
            [only] => only.path.clone(),
            many => {
                let package = std::fs::read_to_string(&manifest).ok().and_then(|m| package_name(&m));
                match many.iter().find(|b| Some(&b.name) == package.as_ref()) {
                    Some(named) => named.path.clone(),
                    None => {
                        let built = many.iter().map(|b| b.name.clone()).collect();
                        return Err(Error::AmbiguousBinary { dir: dir.clone(), built });
                    }
                }
            }
        },
    };
    let code: Arc<[u8]> = std::fs::read(&path).map_err(|source| fail(BuildError::ReadBinary { path, source }))?.into();
    built.insert(key, Arc::clone(&code));
    Ok(code.to_vec())
}

/// The `name` of the `[package]` table of a `Cargo.toml`, read line by
/// line (enough for manifests written by `athena new` or by hand).
fn package_name(manifest: &str) -> Option<String> {
    let mut in_package = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package {
            let value = line.strip_prefix("name").map(str::trim_start).and_then(|rest| rest.strip_prefix('='));
            if let Some(value) = value {
                return Some(value.trim().trim_matches('"').to_owned());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names_are_read_from_the_package_table() {
        let manifest = "[workspace]\nname = \"no\"\n\n[package]\nversion = \"1\"\nname = \"my-app\"\n[dependencies]\n";
        assert_eq!(package_name(manifest).as_deref(), Some("my-app"));
        assert_eq!(package_name("[package]\nnamespace = 1\n"), None);
        assert_eq!(package_name("[dependencies]\nname = \"x\"\n"), None);
    }

    #[test]
    fn a_missing_crate_is_a_build_error() {
        let err = build_contract("/definitely/not/a/crate").unwrap_err();
        assert!(matches!(err, Error::Build { source: BuildError::ManifestNotFound(_), .. }), "{err}");
        assert!(err.to_string().contains("/definitely/not/a/crate"), "{err}");
    }
}

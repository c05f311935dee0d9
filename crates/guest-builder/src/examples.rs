//! The repository's own guest workspace (`guest/`) and its example
//! programs, for tests and tools that need real guest ELF files.

use crate::builder::{BuildOutput, BuildRequest};
use crate::error::BuildError;
use crate::target::GuestTarget;
use crate::toolchain::GuestToolchain;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

/// Rust example guests in `guest/examples/`, by binary name: programs on
/// the plain runtime, then SDK templates (`counter`, `echo`, `caller`,
/// `spawner`; docs/sdk.md).
pub const EXAMPLES: &[&str] = &[
    "hello",
    "fib",
    "sieve",
    "sha256",
    "panic",
    "exit-code",
    "storage-rw",
    "fib-call",
    "counter",
    "echo",
    "caller",
    "spawner",
];

/// Templates in `guest/templates/`, by binary name: the standard
/// templates users deploy (docs/templates.md), then `test-*` fixtures that
/// exist only for the transaction executor's tests.
pub const TEMPLATES: &[&str] = &["wallet", "multisig", "vesting", "vault", "token-mint", "token-wallet", "test-auth"];

/// Hand-written assembly guests in `guest/asm/` (code at 0x0020_0800).
pub const ASM_EXAMPLES: &[&str] = &["asm-hello", "asm-exit", "asm-loop"];

/// Overrides [`default_target_dir`].
pub const TARGET_DIR_ENV: &str = "ATHENA_GUEST_TARGET_DIR";

/// The host workspace root, fixed when this crate was compiled.
fn repo_root() -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    crate_dir.parent().and_then(Path::parent).unwrap_or(crate_dir).to_path_buf()
}

/// The `guest/` workspace of this repository.
pub fn guest_workspace_dir() -> PathBuf {
    repo_root().join("guest")
}

/// `$ATHENA_GUEST_TARGET_DIR`, if set and not empty: the target directory
/// that replaces a build's default one.
pub fn target_dir_override() -> Option<PathBuf> {
    std::env::var_os(TARGET_DIR_ENV).filter(|dir| !dir.is_empty()).map(PathBuf::from)
}

/// Where guest builds go unless told otherwise: `$ATHENA_GUEST_TARGET_DIR`
/// if set ([`target_dir_override`]), else `<host workspace>/target/guest`.
/// One shared directory means every test process and `athena build` reuse
/// the same artifacts (including the rebuilt `core`/`alloc`), so only the
/// first build is slow.
pub fn default_target_dir() -> PathBuf {
    target_dir_override().unwrap_or_else(|| repo_root().join("target").join("guest"))
}

/// The built examples (Rust and assembly) for one target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Examples {
    output: BuildOutput,
}

impl Examples {
    /// The target they were built for.
    pub fn target(&self) -> GuestTarget {
        self.output.target
    }

    /// The ELF path of example `name` (one of [`EXAMPLES`], [`TEMPLATES`]
    /// or [`ASM_EXAMPLES`]).
    pub fn path(&self, name: &str) -> Option<&Path> {
        self.output.path(name)
    }

    /// Like [`path`](Self::path), with a typed error for unknown names.
    pub fn require(&self, name: &str) -> Result<&Path, BuildError> {
        self.output.require(name)
    }

    /// The ELF bytes of example `name`.
    pub fn read(&self, name: &str) -> Result<Vec<u8>, BuildError> {
        let path = self.require(name)?;
        std::fs::read(path).map_err(|source| BuildError::ReadBinary { path: path.to_owned(), source })
    }

    /// Everything the build produced.
    pub fn output(&self) -> &BuildOutput {
        &self.output
    }
}

/// Successful builds of this process, by target.
static BUILT: Mutex<Option<HashMap<GuestTarget, Examples>>> = Mutex::new(None);

/// Builds the whole `guest/` workspace for `target` into
/// [`default_target_dir`] and returns where each example is.
///
/// Cheap after the first call: the result is remembered for the rest of
/// the process, and other processes find cargo's artifacts up to date.
/// Safe to call from parallel tests and processes: threads of one process
/// wait for each other, processes wait on cargo's lock. Failures are not
/// remembered, so a later call retries.
pub fn build_examples(target: GuestTarget) -> Result<Examples, BuildError> {
    // A panic elsewhere while holding the lock leaves the map valid.
    let mut built = BUILT.lock().unwrap_or_else(PoisonError::into_inner);
    let built = built.get_or_insert_with(HashMap::new);
    if let Some(examples) = built.get(&target) {
        return Ok(examples.clone());
    }
    let request = BuildRequest::new(guest_workspace_dir()).target(target);
    let output = GuestToolchain::detect()?.build(&request)?;
    for name in EXAMPLES.iter().chain(TEMPLATES).chain(ASM_EXAMPLES) {
        output.require(name)?;
    }
    let examples = Examples { output };
    built.insert(target, examples.clone());
    Ok(examples)
}

/// The ELF path of example `name` built for `target`: shorthand for
/// [`build_examples`] followed by [`Examples::require`].
pub fn example_elf(target: GuestTarget, name: &str) -> Result<PathBuf, BuildError> {
    Ok(build_examples(target)?.require(name)?.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guest_workspace_lists_every_example() {
        let dir = guest_workspace_dir();
        assert!(dir.join("Cargo.toml").is_file(), "{}", dir.display());
        for name in EXAMPLES {
            assert!(dir.join("examples").join(name).join("Cargo.toml").is_file(), "{name}");
        }
        for name in TEMPLATES {
            assert!(dir.join("templates").join(name).join("Cargo.toml").is_file(), "{name}");
        }
        for name in ASM_EXAMPLES {
            assert!(dir.join("asm").join(name).join("Cargo.toml").is_file(), "{name}");
        }
    }

    #[test]
    fn default_target_dir_is_under_the_host_target_dir() {
        if std::env::var_os(TARGET_DIR_ENV).is_none() {
            assert!(default_target_dir().ends_with("target/guest"));
            assert!(default_target_dir().starts_with(repo_root()));
        }
    }
}

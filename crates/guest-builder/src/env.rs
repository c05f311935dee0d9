//! Environment scrubbing for the spawned guest cargo.
//!
//! A guest build is often started from inside another cargo process
//! (`cargo test`, nextest, a build script, `cargo run -p athena-cli`). That
//! cargo exports variables meant for *its* rustc and *its* target: the
//! compiler (`RUSTC`, wrappers), flags (`RUSTFLAGS`,
//! `CARGO_ENCODED_RUSTFLAGS`), the target dir, profile overrides, the
//! jobserver, the rustup toolchain, per-package metadata. Passed on, they
//! would make the guest cargo use the wrong compiler, host-only flags or
//! the wrong output directory. Everything that steers a build is removed;
//! what locates caches and credentials (`CARGO_HOME`, `RUSTUP_HOME`,
//! `CARGO_REGISTRIES_*`, `CARGO_NET_*`, `CARGO_HTTP_*`, `PATH`) is kept.

use std::ffi::OsStr;
use std::process::Command;

/// Exact names that steer a build.
const EXACT: &[&str] = &[
    "CARGO",
    "CARGO_CRATE_NAME",
    "CARGO_INCREMENTAL",
    "CARGO_MAKEFLAGS",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_RUSTC_CURRENT_DIR",
    "CARGO_SBOM_PATH",
    "RUSTFLAGS",
    "RUSTUP_TOOLCHAIN",
    // Build-script variables, when the builder runs from a build.rs.
    "DEBUG",
    "HOST",
    "NUM_JOBS",
    "OPT_LEVEL",
    "OUT_DIR",
    "PROFILE",
    "TARGET",
];

/// Prefixes of names that steer a build.
const PREFIXES: &[&str] = &[
    "__CARGO_",
    "CARGO_BIN_",
    "CARGO_BUILD_",
    "CARGO_CFG_",
    "CARGO_ENCODED_",
    "CARGO_FEATURE_",
    "CARGO_LLVM_COV",
    "CARGO_MANIFEST_",
    "CARGO_PKG_",
    "CARGO_PROFILE_",
    "CARGO_TARGET_",
    "CARGO_UNSTABLE_",
    // RUSTC, RUSTC_WRAPPER, RUSTC_WORKSPACE_WRAPPER, RUSTC_BOOTSTRAP,
    // RUSTC_LINKER, RUSTDOC, RUSTDOCFLAGS, ...
    "RUSTC",
    "RUSTDOC",
];

/// Whether the variable `name` must not reach the guest cargo.
///
/// Public so that tools spawning their own cargo can apply the same rule.
/// Names that are not UTF-8 are never ours to remove.
pub fn is_polluting_var(name: &OsStr) -> bool {
    let Some(name) = name.to_str() else {
        return false;
    };
    EXACT.contains(&name) || PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Removes from `cmd` every variable of this process's environment that
/// [`is_polluting_var`] rejects. Variables the caller then sets on `cmd`
/// explicitly win, so call this first.
pub fn scrub_env(cmd: &mut Command) {
    for (name, _) in std::env::vars_os() {
        if is_polluting_var(&name) {
            cmd.env_remove(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::ffi::OsString;

    fn polluting(name: &str) -> bool {
        is_polluting_var(OsStr::new(name))
    }

    #[test]
    fn removes_what_the_outer_cargo_exports() {
        for name in [
            "RUSTC",
            "RUSTC_WRAPPER",
            "RUSTC_WORKSPACE_WRAPPER",
            "RUSTC_BOOTSTRAP",
            "RUSTDOC",
            "RUSTDOCFLAGS",
            "RUSTFLAGS",
            "CARGO_ENCODED_RUSTFLAGS",
            "CARGO_TARGET_DIR",
            "CARGO_TARGET_TMPDIR",
            "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER",
            "CARGO_BUILD_TARGET",
            "CARGO_BUILD_JOBS",
            "CARGO_MAKEFLAGS",
            "RUSTUP_TOOLCHAIN",
            "CARGO_MANIFEST_DIR",
            "CARGO_MANIFEST_PATH",
            "CARGO_PKG_NAME",
            "CARGO_PKG_VERSION",
            "CARGO_PROFILE_RELEASE_DEBUG",
            "CARGO_CFG_TARGET_ARCH",
            "CARGO_FEATURE_STD",
            "CARGO_BIN_EXE_athena",
            "CARGO",
            "__CARGO_FIX_PLZ",
            "OUT_DIR",
            "TARGET",
        ] {
            assert!(polluting(name), "{name} should be removed");
        }
    }

    #[test]
    fn keeps_locations_and_unrelated_variables() {
        for name in [
            "PATH",
            "HOME",
            "CARGO_HOME",
            "RUSTUP_HOME",
            "CARGO_REGISTRIES_CRATES_IO_PROTOCOL",
            "CARGO_NET_OFFLINE",
            "CARGO_HTTP_TIMEOUT",
            "CARGO_TERM_COLOR",
            "ATHENA_GUEST_CARGO",
            "TMPDIR",
            "LANG",
        ] {
            assert!(!polluting(name), "{name} should be kept");
        }
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_names_are_kept() {
        use std::os::unix::ffi::OsStringExt;
        let name = OsString::from_vec(vec![b'R', b'U', b'S', b'T', b'C', 0xff]);
        assert!(!is_polluting_var(&name));
    }

    #[test]
    fn scrub_marks_polluting_vars_for_removal() {
        // Whatever this test process inherited from `cargo test` (it always
        // has CARGO_MANIFEST_DIR and CARGO_PKG_NAME at least), the command
        // must end up removing exactly the polluting names.
        let mut cmd = Command::new("true");
        scrub_env(&mut cmd);
        let changes: HashMap<OsString, Option<OsString>> =
            cmd.get_envs().map(|(k, v)| (k.to_owned(), v.map(OsStr::to_owned))).collect();
        for (name, _) in std::env::vars_os() {
            let removed = changes.get(&name) == Some(&None);
            assert_eq!(removed, is_polluting_var(&name), "{name:?}");
        }
    }
}

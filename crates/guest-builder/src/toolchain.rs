//! Finding a toolchain that can build guests.
//!
//! Guests are built with `-Zbuild-std=core,alloc` for a tier-3 target, so
//! they need a nightly-capable `rustc`, the matching library source and an
//! LLD linker. Routes, in the order they are tried:
//!
//! 1. **Override**: `ATHENA_GUEST_CARGO` and/or `ATHENA_GUEST_RUSTC` (the
//!    missing one is taken from the same directory). Explicit, so it wins,
//!    and if it is unusable detection fails instead of falling back.
//! 2. **Debian**: `/usr/bin/rustc` + `/usr/bin/cargo` (packages `rustc-web`
//!    `cargo-web`, or `rustc` `cargo`), the library source in the sysroot
//!    (`rust-web-src` / `rust-src`) and `ld.lld` on `PATH` (`lld`). Built
//!    with `RUSTC_BOOTSTRAP=1`. This is what the install script sets up.
//! 3. **Rustup nightly**: `rustup which --toolchain nightly rustc` whose
//!    sysroot has the `rust-src` component; links with its bundled
//!    `rust-lld`.
//!
//! `ATHENA_GUEST_LINKER` replaces the linker on every route. The compiler
//! and its library source always come from the same toolchain: mixing a
//! rustup compiler with Debian's library source does not build.

use crate::error::ToolchainError;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Overrides the guest cargo (route 1).
pub const OVERRIDE_CARGO_ENV: &str = "ATHENA_GUEST_CARGO";
/// Overrides the guest rustc (route 1).
pub const OVERRIDE_RUSTC_ENV: &str = "ATHENA_GUEST_RUSTC";
/// Overrides the linker passed as `-C linker=` (any route).
pub const OVERRIDE_LINKER_ENV: &str = "ATHENA_GUEST_LINKER";

/// How to get a guest toolchain; ends every "not found" message.
pub const INSTALL_HINT: &str = "install one with `scripts/install-guest-toolchain.sh` (as root it runs \
`apt-get install -y rustc-web cargo-web rust-web-src lld`), or run \
`rustup toolchain install nightly --component rust-src`, or set ATHENA_GUEST_CARGO/ATHENA_GUEST_RUSTC \
to a toolchain whose sysroot has the library source (see docs/guest-toolchain.md)";

const DEBIAN_RUSTC: &str = "/usr/bin/rustc";
const DEBIAN_CARGO: &str = "/usr/bin/cargo";
const NIGHTLY: &str = "nightly";

/// Which detection route produced a [`GuestToolchain`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToolchainKind {
    /// `ATHENA_GUEST_CARGO` / `ATHENA_GUEST_RUSTC`.
    Override,
    /// Debian's packaged rustc, cargo and library source.
    Debian,
    /// rustup's `nightly` toolchain with `rust-src`.
    RustupNightly,
}

impl fmt::Display for ToolchainKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ToolchainKind::Override => "override (ATHENA_GUEST_CARGO/ATHENA_GUEST_RUSTC)",
            ToolchainKind::Debian => "Debian rustc with rust-src",
            ToolchainKind::RustupNightly => "rustup nightly with rust-src",
        })
    }
}

/// A toolchain able to build guests: which cargo and rustc to run, with
/// which linker, and whether unstable flags need `RUSTC_BOOTSTRAP=1`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestToolchain {
    kind: ToolchainKind,
    cargo: PathBuf,
    rustc: PathBuf,
    linker: Option<PathBuf>,
    bootstrap: bool,
}

impl GuestToolchain {
    /// Finds a toolchain on this machine. Tried in order: the
    /// `ATHENA_GUEST_CARGO`/`ATHENA_GUEST_RUSTC` override (an unusable one
    /// is an error, never skipped), Debian's `/usr/bin/rustc` with its
    /// library source and `ld.lld`, then rustup's `nightly` with `rust-src`.
    /// `ATHENA_GUEST_LINKER` then replaces the linker. Details in
    /// `docs/guest-toolchain.md`.
    pub fn detect() -> Result<Self, ToolchainError> {
        Self::detect_with(&SystemProbe)
    }

    /// [`detect`](Self::detect) against any [`Probe`]; what tests use.
    pub fn detect_with(probe: &dyn Probe) -> Result<Self, ToolchainError> {
        let mut found = match from_override(probe)? {
            Some(tc) => tc,
            None => {
                let mut missing = Vec::new();
                match debian(probe).or_else(|m| {
                    missing.push(m);
                    rustup_nightly(probe)
                }) {
                    Ok(tc) => tc,
                    Err(m) => {
                        missing.push(m);
                        return Err(ToolchainError::NotFound { missing, hint: INSTALL_HINT });
                    }
                }
            }
        };
        if let Some(linker) = non_empty_var(probe, OVERRIDE_LINKER_ENV) {
            found.linker = Some(resolve_override(probe, OVERRIDE_LINKER_ENV, &linker)?);
        }
        Ok(found)
    }

    /// The route this toolchain was found by.
    pub fn kind(&self) -> ToolchainKind {
        self.kind
    }

    /// The cargo to run.
    pub fn cargo(&self) -> &Path {
        &self.cargo
    }

    /// The rustc cargo is told to use (`RUSTC`).
    pub fn rustc(&self) -> &Path {
        &self.rustc
    }

    /// The linker passed as `-C linker=`; `None` keeps the target's default
    /// (`rust-lld` from the toolchain itself).
    pub fn linker(&self) -> Option<&Path> {
        self.linker.as_deref()
    }

    /// Whether builds set `RUSTC_BOOTSTRAP=1` (a stable compiler running
    /// the unstable `-Zbuild-std`).
    pub fn needs_bootstrap(&self) -> bool {
        self.bootstrap
    }
}

#[cfg(test)]
impl GuestToolchain {
    /// A Debian-like toolchain for command-construction tests.
    pub(crate) fn for_tests(linker: Option<&str>, bootstrap: bool) -> Self {
        GuestToolchain {
            kind: ToolchainKind::Debian,
            cargo: DEBIAN_CARGO.into(),
            rustc: DEBIAN_RUSTC.into(),
            linker: linker.map(PathBuf::from),
            bootstrap,
        }
    }
}

impl fmt::Display for GuestToolchain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: cargo {}, rustc {}, linker ", self.kind, self.cargo.display(), self.rustc.display())?;
        match &self.linker {
            Some(l) => write!(f, "{}", l.display()),
            None => f.write_str("rust-lld (target default)"),
        }
    }
}

/// What detection needs to know about the machine. Abstracted so the
/// decision logic is unit-tested without touching the real system.
pub trait Probe {
    /// An environment variable.
    fn var(&self, name: &str) -> Option<OsString>;
    /// Whether `path` is an existing file.
    fn is_file(&self, path: &Path) -> bool;
    /// Whether `path` is an existing directory.
    fn is_dir(&self, path: &Path) -> bool;
    /// `rustc --print sysroot`, or `None` if it cannot be run.
    fn sysroot(&self, rustc: &Path) -> Option<PathBuf>;
    /// `rustup which --toolchain TOOLCHAIN TOOL`, or `None` if rustup or
    /// the toolchain is missing.
    fn rustup_which(&self, toolchain: &str, tool: &str) -> Option<PathBuf>;
}

/// The real machine.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemProbe;

impl Probe for SystemProbe {
    fn var(&self, name: &str) -> Option<OsString> {
        std::env::var_os(name)
    }

    fn is_file(&self, path: &Path) -> bool {
        path.is_file()
    }

    fn is_dir(&self, path: &Path) -> bool {
        path.is_dir()
    }

    fn sysroot(&self, rustc: &Path) -> Option<PathBuf> {
        let mut cmd = Command::new(rustc);
        cmd.args(["--print", "sysroot"]);
        first_line_of(cmd).map(PathBuf::from)
    }

    fn rustup_which(&self, toolchain: &str, tool: &str) -> Option<PathBuf> {
        let mut cmd = Command::new("rustup");
        // Never let a probe install a toolchain.
        cmd.args(["which", "--toolchain", toolchain, tool]).env("RUSTUP_AUTO_INSTALL", "0");
        first_line_of(cmd).map(PathBuf::from)
    }
}

/// Runs `cmd` with a scrubbed environment; its first stdout line on success.
fn first_line_of(mut cmd: Command) -> Option<String> {
    crate::env::scrub_env(&mut cmd);
    let out = cmd.stderr(std::process::Stdio::null()).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let line = String::from_utf8(out.stdout).ok()?.lines().next()?.trim().to_owned();
    (!line.is_empty()).then_some(line)
}

/// Where the library source for `-Zbuild-std` lives inside a sysroot.
fn library_source(sysroot: &Path) -> PathBuf {
    sysroot.join("lib/rustlib/src/rust/library")
}

/// `Ok(())` if `rustc`'s sysroot has the library source, else what is
/// missing.
fn check_library_source(probe: &dyn Probe, rustc: &Path, package: &str) -> Result<(), String> {
    let Some(sysroot) = probe.sysroot(rustc) else {
        return Err(format!("`{} --print sysroot` failed", rustc.display()));
    };
    let library = library_source(&sysroot);
    if probe.is_dir(&library.join("core")) {
        Ok(())
    } else {
        Err(format!("the library source {} ({package})", library.display()))
    }
}

fn non_empty_var(probe: &dyn Probe, name: &str) -> Option<OsString> {
    probe.var(name).filter(|v| !v.is_empty())
}

/// `program` as given if it contains a `/`, else looked up on `PATH`.
fn resolve_program(probe: &dyn Probe, program: &OsString) -> Option<PathBuf> {
    let path = Path::new(program);
    if path.components().count() > 1 || path.is_absolute() {
        return probe.is_file(path).then(|| path.to_path_buf());
    }
    find_on_path(probe, program)
}

/// The program the override variable `var` (set to `value`) names, see
/// [`resolve_program`].
fn resolve_override(probe: &dyn Probe, var: &'static str, value: &OsString) -> Result<PathBuf, ToolchainError> {
    resolve_program(probe, value).ok_or_else(|| ToolchainError::BadOverride {
        var,
        reason: format!("{} is not a file or a program on PATH", value.to_string_lossy()),
    })
}

/// The first `name` in the directories of `PATH`.
fn find_on_path(probe: &dyn Probe, name: impl AsRef<Path>) -> Option<PathBuf> {
    let path = probe.var("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name.as_ref())).find(|p| probe.is_file(p))
}

/// Route 1. `Ok(None)` when neither variable is set.
fn from_override(probe: &dyn Probe) -> Result<Option<GuestToolchain>, ToolchainError> {
    let resolve =
        |var: &'static str| non_empty_var(probe, var).map(|value| resolve_override(probe, var, &value)).transpose();
    let cargo = resolve(OVERRIDE_CARGO_ENV)?;
    let rustc = resolve(OVERRIDE_RUSTC_ENV)?;
    let sibling = |of: &Path, of_var: &'static str, tool: &str, tool_var: &str| {
        let candidate = of.with_file_name(tool);
        if probe.is_file(&candidate) {
            Ok(candidate)
        } else {
            Err(ToolchainError::BadOverride {
                var: of_var,
                reason: format!("{tool_var} is not set and there is no {}", candidate.display()),
            })
        }
    };
    let (cargo, rustc) = match (cargo, rustc) {
        (Some(c), Some(r)) => (c, r),
        (Some(c), None) => {
            let r = sibling(&c, OVERRIDE_CARGO_ENV, "rustc", OVERRIDE_RUSTC_ENV)?;
            (c, r)
        }
        (None, Some(r)) => (sibling(&r, OVERRIDE_RUSTC_ENV, "cargo", OVERRIDE_CARGO_ENV)?, r),
        (None, None) => return Ok(None),
    };
    check_library_source(probe, &rustc, "install the library source for this rustc").map_err(|missing| {
        ToolchainError::BadOverride { var: OVERRIDE_RUSTC_ENV, reason: format!("missing {missing}") }
    })?;
    Ok(Some(GuestToolchain {
        kind: ToolchainKind::Override,
        linker: find_on_path(probe, "ld.lld"),
        cargo,
        rustc,
        bootstrap: true,
    }))
}

/// Route 2; `Err` says what is missing.
fn debian(probe: &dyn Probe) -> Result<GuestToolchain, String> {
    let rustc = PathBuf::from(DEBIAN_RUSTC);
    let cargo = PathBuf::from(DEBIAN_CARGO);
    let mut missing = Vec::new();
    if !probe.is_file(&rustc) {
        missing.push(format!("{DEBIAN_RUSTC} (apt package rustc-web or rustc)"));
    } else if let Err(m) = check_library_source(probe, &rustc, "apt package rust-web-src or rust-src") {
        missing.push(m);
    }
    if !probe.is_file(&cargo) {
        missing.push(format!("{DEBIAN_CARGO} (apt package cargo-web or cargo)"));
    }
    let linker = find_on_path(probe, "ld.lld");
    if linker.is_none() {
        missing.push("ld.lld on PATH (apt package lld)".to_owned());
    }
    match linker {
        Some(linker) if missing.is_empty() => {
            Ok(GuestToolchain { kind: ToolchainKind::Debian, cargo, rustc, linker: Some(linker), bootstrap: true })
        }
        _ => Err(format!("Debian route: missing {}", missing.join(", "))),
    }
}

/// Route 3; `Err` says what is missing.
fn rustup_nightly(probe: &dyn Probe) -> Result<GuestToolchain, String> {
    let (Some(rustc), Some(cargo)) = (probe.rustup_which(NIGHTLY, "rustc"), probe.rustup_which(NIGHTLY, "cargo"))
    else {
        return Err(
            "rustup route: no rustup `nightly` toolchain (rustup toolchain install nightly --component rust-src)"
                .to_owned(),
        );
    };
    check_library_source(probe, &rustc, "rustup component add rust-src --toolchain nightly")
        .map_err(|m| format!("rustup route: missing {m}"))?;
    Ok(GuestToolchain { kind: ToolchainKind::RustupNightly, cargo, rustc, linker: None, bootstrap: false })
}

#[cfg(test)]
mod tests;

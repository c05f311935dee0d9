//! Typed errors: every way finding a toolchain or building a guest fails.

use std::path::PathBuf;
use std::process::ExitStatus;

/// No usable guest toolchain, or an explicit override that does not work.
#[derive(Debug, thiserror::Error)]
pub enum ToolchainError {
    /// No route worked. `missing` lists, per route, what was not found;
    /// the message ends with how to install one.
    #[error("no guest toolchain found (guests need a Rust toolchain with the library source for -Zbuild-std):\n{}\n{hint}", missing.iter().map(|m| format!("  - {m}")).collect::<Vec<_>>().join("\n"))]
    NotFound {
        /// One line per route tried, saying what it lacks.
        missing: Vec<String>,
        /// How to install a toolchain.
        hint: &'static str,
    },
    /// `ATHENA_GUEST_CARGO` / `ATHENA_GUEST_RUSTC` / `ATHENA_GUEST_LINKER`
    /// is set but unusable. An explicit choice never falls back silently.
    #[error("{var} is set but unusable: {reason}")]
    BadOverride {
        /// The environment variable at fault.
        var: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// A guest build that did not produce binaries.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// No toolchain to build with.
    #[error(transparent)]
    Toolchain(#[from] ToolchainError),
    /// The manifest (or directory) to build does not exist.
    #[error("guest manifest not found: {}", .0.display())]
    ManifestNotFound(PathBuf),
    /// The guest cargo could not be started or its output not read.
    #[error("could not run {}: {source}", program.display())]
    Io {
        /// The program being run.
        program: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Cargo ran and failed; `stderr_tail` holds its last lines.
    #[error("guest build failed ({status}) for {target}; last lines of cargo's output:\n{stderr_tail}")]
    CargoFailed {
        /// Cargo's exit status.
        status: ExitStatus,
        /// The target triple being built.
        target: &'static str,
        /// The end of cargo's stderr (compiler diagnostics and errors).
        stderr_tail: String,
    },
    /// Cargo succeeded but did not report one of the binaries asked for.
    #[error("guest build succeeded but produced no binary named `{name}` (built: {})", if built.is_empty() { "none".to_owned() } else { built.join(", ") })]
    MissingBinary {
        /// The binary that was expected.
        name: String,
        /// The binaries that were produced.
        built: Vec<String>,
    },
    /// Reading a built ELF failed.
    #[error("could not read guest binary {}: {source}", path.display())]
    ReadBinary {
        /// The ELF file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

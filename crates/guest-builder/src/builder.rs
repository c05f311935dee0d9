//! Running the guest cargo and collecting the ELF files it produced.

use crate::error::BuildError;
use crate::examples::default_target_dir;
use crate::target::GuestTarget;
use crate::toolchain::GuestToolchain;
use serde::Deserialize;
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// How many of cargo's last stderr lines a [`BuildError::CargoFailed`]
/// keeps: enough for the first compiler error and its context.
const STDERR_TAIL_LINES: usize = 60;

/// What to build: a guest crate or workspace, for one target.
///
/// Always a release build with `-Zbuild-std=core,alloc`; size and LTO
/// settings come from the guest workspace's `[profile.release]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildRequest {
    /// The guest's `Cargo.toml` (a directory means its `Cargo.toml`).
    pub manifest_path: PathBuf,
    /// Packages to build (`-p`); empty builds cargo's default selection
    /// (for a workspace root: every member).
    pub packages: Vec<String>,
    /// The target to build for.
    pub target: GuestTarget,
    /// Cargo's target directory. Reusing one makes repeated builds no-ops;
    /// cargo's own lock makes concurrent builds into it safe.
    pub target_dir: PathBuf,
    /// Forward cargo's progress and diagnostics to this process's stderr
    /// as they arrive (for `athena build`); tests leave it off.
    pub echo: bool,
}

impl BuildRequest {
    /// A request for every default package of `manifest_path`, for
    /// [`GuestTarget::Rv32em`], into [`default_target_dir`], quiet.
    pub fn new(manifest_path: impl Into<PathBuf>) -> Self {
        BuildRequest {
            manifest_path: manifest_path.into(),
            packages: Vec::new(),
            target: GuestTarget::default(),
            target_dir: default_target_dir(),
            echo: false,
        }
    }

    /// Adds a package to build (`-p NAME`).
    pub fn package(mut self, name: impl Into<String>) -> Self {
        self.packages.push(name.into());
        self
    }

    /// Sets the target.
    pub fn target(mut self, target: GuestTarget) -> Self {
        self.target = target;
        self
    }

    /// Sets cargo's target directory.
    pub fn target_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.target_dir = dir.into();
        self
    }

    /// Sets whether cargo's stderr is forwarded live.
    pub fn echo(mut self, echo: bool) -> Self {
        self.echo = echo;
        self
    }
}

/// One ELF executable produced by a build.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestBinary {
    /// The binary target's name (`[[bin]]` name, usually the package name).
    pub name: String,
    /// Where cargo put it.
    pub path: PathBuf,
}

/// The binaries a build produced (fresh or rebuilt), sorted by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildOutput {
    /// The target they were built for.
    pub target: GuestTarget,
    /// The executables, sorted by name.
    pub binaries: Vec<GuestBinary>,
}

impl BuildOutput {
    /// The path of the binary called `name`, if the build produced one.
    pub fn path(&self, name: &str) -> Option<&Path> {
        self.binaries.iter().find(|b| b.name == name).map(|b| b.path.as_path())
    }

    /// Like [`path`](Self::path), but a typed error naming what was built.
    pub fn require(&self, name: &str) -> Result<&Path, BuildError> {
        self.path(name).ok_or_else(|| BuildError::MissingBinary {
            name: name.to_owned(),
            built: self.binaries.iter().map(|b| b.name.clone()).collect(),
        })
    }
}

/// Detects a toolchain and runs `request` with it. A missing manifest is
/// reported before toolchain problems: it is the likelier mistake.
pub fn build(request: &BuildRequest) -> Result<BuildOutput, BuildError> {
    resolve_manifest(&request.manifest_path)?;
    GuestToolchain::detect()?.build(request)
}

impl GuestToolchain {
    /// Builds `request` with this toolchain.
    ///
    /// Runs `cargo build --release -Zbuild-std=core,alloc --target TRIPLE`
    /// from the manifest's directory with a scrubbed environment, the
    /// linker given through `CARGO_ENCODED_RUSTFLAGS` (which applies to the
    /// guest target only, never to build scripts, and overrides any
    /// `rustflags` in cargo config files), and reads the produced
    /// executables from cargo's JSON messages (which name them whether
    /// they were rebuilt or fresh).
    pub fn build(&self, request: &BuildRequest) -> Result<BuildOutput, BuildError> {
        let manifest = resolve_manifest(&request.manifest_path)?;
        let mut cmd = self.command(request, &manifest);
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| BuildError::Io { program: self.cargo().to_owned(), source })?;

        let echo = request.echo;
        let stderr = child.stderr.take();
        let stderr_reader = std::thread::spawn(move || stderr.map(|s| tail_lines(s, echo)).unwrap_or_default());
        let stdout = child.stdout.take();
        let binaries = stdout.map(collect_executables).unwrap_or_default();
        let status = child.wait().map_err(|source| BuildError::Io { program: self.cargo().to_owned(), source })?;
        let stderr_tail = stderr_reader.join().unwrap_or_default();

        if !status.success() {
            return Err(BuildError::CargoFailed { status, target: request.target.triple(), stderr_tail });
        }
        Ok(BuildOutput { target: request.target, binaries })
    }

    /// The cargo invocation for `request`, environment included.
    fn command(&self, request: &BuildRequest, manifest: &Path) -> Command {
        let mut cmd = Command::new(self.cargo());
        crate::env::scrub_env(&mut cmd);
        cmd.args(["build", "--release", "-Zbuild-std=core,alloc", "--message-format=json-render-diagnostics"])
            // Guests are stored on chain and loaded per call: never ship
            // symbols or debug info, whatever the crate's own profile says
            // (`--config` overrides the manifest's `[profile.release]`).
            .args(["--config", "profile.release.strip=true", "--config", "profile.release.debug=false"])
            .arg("--target")
            .arg(request.target.triple())
            .arg("--manifest-path")
            .arg(manifest)
            .arg("--target-dir")
            .arg(&request.target_dir);
        for package in &request.packages {
            cmd.arg("-p").arg(package);
        }
        if let Some(dir) = manifest.parent() {
            // Cargo reads `.cargo/config.toml` relative to its working
            // directory: make that the guest's, not the caller's.
            cmd.current_dir(dir);
        }
        cmd.env("RUSTC", self.rustc()).env("CARGO_ENCODED_RUSTFLAGS", self.encoded_rustflags());
        if self.needs_bootstrap() {
            cmd.env("RUSTC_BOOTSTRAP", "1");
        }
        cmd
    }

    /// `-Clinker=PATH` when the toolchain has a linker, in cargo's
    /// `\x1f`-separated encoding. Empty (not unset) otherwise, so that no
    /// config file can inject host flags either.
    fn encoded_rustflags(&self) -> std::ffi::OsString {
        let mut flags = std::ffi::OsString::new();
        if let Some(linker) = self.linker() {
            flags.push("-Clinker=");
            flags.push(linker);
        }
        flags
    }
}

/// `path` itself if it is a file, `path/Cargo.toml` if it is a directory,
/// made absolute so cargo's working directory does not matter.
fn resolve_manifest(path: &Path) -> Result<PathBuf, BuildError> {
    let manifest = if path.is_dir() { path.join("Cargo.toml") } else { path.to_path_buf() };
    if !manifest.is_file() {
        return Err(BuildError::ManifestNotFound(manifest));
    }
    std::path::absolute(&manifest).map_err(|source| BuildError::Io { program: manifest, source })
}

/// The subset of a cargo JSON message this crate reads.
#[derive(Deserialize)]
struct Message {
    reason: String,
    #[serde(default)]
    target: Option<MessageTarget>,
    #[serde(default)]
    executable: Option<PathBuf>,
}

#[derive(Deserialize)]
struct MessageTarget {
    name: String,
}

/// The executables reported in cargo's JSON messages on `stdout`, sorted
/// and deduplicated by name. Lines that are not such messages are skipped.
fn collect_executables(stdout: impl Read) -> Vec<GuestBinary> {
    let mut binaries: Vec<GuestBinary> = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .filter_map(|line| serde_json::from_str::<Message>(&line).ok())
        .filter(|m| m.reason == "compiler-artifact")
        .filter_map(|m| Some(GuestBinary { name: m.target?.name, path: m.executable? }))
        .collect();
    binaries.sort_by(|a, b| a.name.cmp(&b.name));
    binaries.dedup_by(|a, b| a.name == b.name);
    binaries
}

/// Reads `stderr` to the end, optionally echoing each line, and returns
/// its last [`STDERR_TAIL_LINES`] lines.
fn tail_lines(stderr: impl Read, echo: bool) -> String {
    let mut tail = VecDeque::with_capacity(STDERR_TAIL_LINES);
    for line in BufReader::new(stderr).split(b'\n').map_while(Result::ok) {
        let line = String::from_utf8_lossy(&line).into_owned();
        if echo {
            eprintln!("{line}");
        }
        if tail.len() == STDERR_TAIL_LINES {
            tail.pop_front();
        }
        tail.push_back(line);
    }
    Vec::from(tail).join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn executables_come_from_compiler_artifact_messages() {
        let stdout = r#"{"reason":"compiler-artifact","target":{"name":"core","kind":["lib"]},"executable":null}
{"reason":"compiler-artifact","target":{"name":"sieve","kind":["bin"]},"executable":"/t/release/sieve","fresh":true}
not json at all
{"reason":"build-script-executed","package_id":"x"}
{"reason":"compiler-artifact","target":{"name":"hello","kind":["bin"]},"executable":"/t/release/hello"}
{"reason":"compiler-artifact","target":{"name":"hello","kind":["bin"]},"executable":"/t/release/hello"}
{"reason":"build-finished","success":true}
"#;
        let bins = collect_executables(stdout.as_bytes());
        assert_eq!(
            bins,
            vec![
                GuestBinary { name: "hello".into(), path: "/t/release/hello".into() },
                GuestBinary { name: "sieve".into(), path: "/t/release/sieve".into() },
            ]
        );
    }

    #[test]
    fn stderr_tail_keeps_the_last_lines() {
        let text: String = (0..100).map(|i| format!("line {i}\n")).collect();
        let tail = tail_lines(text.as_bytes(), false);
        let lines: Vec<&str> = tail.lines().collect();
        assert_eq!(lines.len(), STDERR_TAIL_LINES);
        assert_eq!(lines.first(), Some(&"line 40"));
        assert_eq!(lines.last(), Some(&"line 99"));
        assert_eq!(tail_lines(&b"no newline \xff"[..], false), "no newline \u{fffd}");
    }

    #[test]
    fn missing_manifest_is_a_typed_error() {
        let err = resolve_manifest(Path::new("/definitely/not/here")).unwrap_err();
        assert!(matches!(err, BuildError::ManifestNotFound(ref p) if p == Path::new("/definitely/not/here")));
        let dir = resolve_manifest(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
        assert!(dir.ends_with("guest-builder/Cargo.toml"));
    }

    #[test]
    fn command_scrubs_and_sets_the_toolchain() {
        let tc = GuestToolchain::for_tests(Some("/usr/bin/ld.lld"), true);
        let req = BuildRequest::new("unused").package("fib").target(GuestTarget::Rv32im).target_dir("/tmp/t");
        let cmd = tc.command(&req, Path::new("/g/Cargo.toml"));
        assert_eq!(cmd.get_program(), "/usr/bin/cargo");
        let args: Vec<_> = cmd.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
        assert_eq!(
            args,
            [
                "build",
                "--release",
                "-Zbuild-std=core,alloc",
                "--message-format=json-render-diagnostics",
                "--config",
                "profile.release.strip=true",
                "--config",
                "profile.release.debug=false",
                "--target",
                "riscv32im-unknown-none-elf",
                "--manifest-path",
                "/g/Cargo.toml",
                "--target-dir",
                "/tmp/t",
                "-p",
                "fib"
            ]
        );
        assert_eq!(cmd.get_current_dir(), Some(Path::new("/g")));
        let env = |name: &str| {
            cmd.get_envs().find(|(k, _)| *k == name).map(|(_, v)| v.map(|v| v.to_string_lossy().into_owned()))
        };
        assert_eq!(env("RUSTC"), Some(Some("/usr/bin/rustc".into())));
        assert_eq!(env("RUSTC_BOOTSTRAP"), Some(Some("1".into())));
        assert_eq!(env("CARGO_ENCODED_RUSTFLAGS"), Some(Some("-Clinker=/usr/bin/ld.lld".into())));
        // Inherited from the `cargo test` running this test: removed.
        assert_eq!(env("CARGO_MANIFEST_DIR"), Some(None));

        let tc = GuestToolchain::for_tests(None, false);
        let cmd = tc.command(&req, Path::new("/g/Cargo.toml"));
        let env = |name: &str| cmd.get_envs().find(|(k, _)| *k == name).map(|(_, v)| v.map(ToOwned::to_owned));
        assert_eq!(env("CARGO_ENCODED_RUSTFLAGS"), Some(Some("".into())));
        assert!(!matches!(env("RUSTC_BOOTSTRAP"), Some(Some(_))));
    }

    #[test]
    fn request_builder_and_lookup() {
        let req = BuildRequest::new("g").package("hello").target(GuestTarget::Rv32im).target_dir("/t").echo(true);
        assert_eq!(req.packages, ["hello"]);
        assert_eq!(req.target, GuestTarget::Rv32im);
        assert_eq!(req.target_dir, Path::new("/t"));
        assert!(req.echo);
        let out = BuildOutput {
            target: GuestTarget::Rv32im,
            binaries: vec![GuestBinary { name: "hello".into(), path: "/t/hello".into() }],
        };
        assert_eq!(out.path("hello"), Some(Path::new("/t/hello")));
        let err = out.require("fib").unwrap_err().to_string();
        assert_eq!(err, "guest build succeeded but produced no binary named `fib` (built: hello)");
    }
}

//! Shared by the host tests: where the cdylib, the header, the guest ELFs
//! and the scratch directory are.

#![allow(dead_code)]

use athena_guest_builder::{example_elf, GuestTarget};
use std::path::{Path, PathBuf};
use std::process::Output;

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repo root")
}

/// `crates/athcon/include`.
pub fn include_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("include")
}

/// `libathcon.so` of this build (see `athcon::client::built_cdylib`): cargo
/// builds the cdylib of the package under test before running its tests, so
/// this copy is always current, under `cargo test` and nextest alike.
pub fn cdylib() -> PathBuf {
    athcon::client::built_cdylib().unwrap_or_else(|e| panic!("{e}"))
}

/// The `storage-rw` and `fib-call` example guests (built on first use).
pub fn guests() -> (PathBuf, PathBuf) {
    let get = |name| example_elf(GuestTarget::Rv32em, name).unwrap_or_else(|e| panic!("building guest {name}: {e}"));
    (get("storage-rw"), get("fib-call"))
}

/// A scratch directory under cargo's per-package tmp dir (target/tmp),
/// unique per process *and* call (tests of one process run in parallel
/// threads, nextest runs them in parallel processes); removed on drop.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn path(&self) -> &Path {
        &self.0
    }
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn scratch(what: &str) -> Scratch {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("athcon-{what}-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    Scratch(dir)
}

/// Stdout and stderr as one string, for assertion messages.
pub fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Compiles `hosts/c/host.c` (strict C99) into a fresh scratch dir; the
/// executable is `dir.join("host")`, deleted with the returned dir.
pub fn build_c_host() -> (Scratch, PathBuf) {
    let dir = scratch("c-host");
    let exe = dir.join("host");
    cc(&[repo_root().join("hosts/c/host.c")], &exe, &["-ldl", "-pthread"]);
    (dir, exe)
}

/// Compiles `sources` into `out` with strict warnings; panics with the
/// compiler's output on failure.
pub fn cc(sources: &[PathBuf], out: &Path, extra: &[&str]) {
    let output = std::process::Command::new("cc")
        .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-g", "-O1"])
        .arg("-I")
        .arg(include_dir())
        .args(sources)
        .arg("-o")
        .arg(out)
        .args(extra)
        .output()
        .expect("the system C compiler `cc` must be installed (scripts/install-host-deps.sh)");
    assert!(output.status.success(), "cc failed:\n{}", text(&output));
}

/// The hand-assembled programs of the spawn and program-state scenarios
/// (shared with `athcon-vmtester` through `athena_test_elf::programs`), and
/// their files for the C and Go hosts.
pub mod programs {
    pub use athena_test_elf::programs::{echo, factory, reverter};

    /// The three programs written into `dir`: factory, echo, reverter.
    pub fn write_all(dir: &super::Scratch) -> [std::path::PathBuf; 3] {
        let paths = [dir.join("factory.elf"), dir.join("echo.elf"), dir.join("reverter.elf")];
        for (path, code) in paths.iter().zip([factory(), echo(), reverter()]) {
            std::fs::write(path, code).expect("write a test program");
        }
        paths
    }
}

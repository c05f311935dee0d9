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

/// Small hand-assembled programs for the spawn and program-state scenarios
/// of the hosts (no branches, so they stay readable as assembly).
pub mod programs {
    use athena_engine::abi::number as n;
    use athena_test_elf::{asm, ElfBuilder, PF_R, PF_W};

    const TEXT: u32 = 0x1_0000;
    const BUF: u32 = 0x2_0000;
    const A3: u32 = 13;
    const INPUT_READ: u32 = 4;

    fn ecall(words: &mut Vec<u32>, number: u32) {
        words.extend(asm::li(asm::T0, number));
        words.push(asm::ECALL);
    }

    /// Input `template (24) ‖ state`: `SPAWN(template, state)`, then
    /// returns the status word (4 bytes, little-endian) and the 24 bytes
    /// written at the out pointer (the new address, or zeros).
    pub fn factory() -> Vec<u8> {
        const STATUS: u32 = BUF + 0x2_0000;
        let mut w = Vec::new();
        w.extend(asm::li(asm::A0, BUF));
        w.extend(asm::li(asm::A1, 0));
        w.extend(asm::li(asm::A2, 0x2_0000));
        ecall(&mut w, INPUT_READ); // a0 = input length
        w.push(asm::addi(asm::A2, asm::A0, -24)); // state length
        w.extend(asm::li(asm::A0, BUF));
        w.extend(asm::li(asm::A1, BUF + 24));
        w.extend(asm::li(A3, STATUS + 4));
        ecall(&mut w, n::SPAWN);
        w.extend(asm::li(asm::T1, STATUS));
        w.push(asm::sw(asm::A0, asm::T1, 0));
        w.extend(asm::li(asm::A0, STATUS));
        w.extend(asm::li(asm::A1, 28));
        ecall(&mut w, n::RETURN);
        ElfBuilder::new(TEXT).text(TEXT, &w).segment(BUF, PF_R | PF_W, vec![0; 4], 0x3_0000).build()
    }

    /// Returns its own immutable state: `STATE_SIZE`, then `STATE_READ` of
    /// that many bytes, then `RETURN` of what was read.
    pub fn echo() -> Vec<u8> {
        let mut w = Vec::new();
        ecall(&mut w, n::STATE_SIZE);
        w.push(asm::addi(asm::A2, asm::A0, 0));
        w.extend(asm::li(asm::A0, BUF));
        w.extend(asm::li(asm::A1, 0));
        ecall(&mut w, n::STATE_READ);
        w.push(asm::addi(asm::A1, asm::A0, 0));
        w.extend(asm::li(asm::A0, BUF));
        ecall(&mut w, n::RETURN);
        ElfBuilder::new(TEXT).text(TEXT, &w).segment(BUF, PF_R | PF_W, vec![0; 4], 0x1_1000).build()
    }

    /// Reverts with the data `no` whatever it is asked: as a template, its
    /// spawn method rejects every state.
    pub fn reverter() -> Vec<u8> {
        let mut w = Vec::new();
        w.extend(asm::li(asm::A0, BUF));
        w.extend(asm::li(asm::A1, 2));
        ecall(&mut w, n::REVERT);
        ElfBuilder::new(TEXT).text(TEXT, &w).segment(BUF, PF_R, b"no".to_vec(), 0x1000).build()
    }

    /// The three programs written into `dir`: factory, echo, reverter.
    pub fn write_all(dir: &super::Scratch) -> [std::path::PathBuf; 3] {
        let paths = [dir.join("factory.elf"), dir.join("echo.elf"), dir.join("reverter.elf")];
        for (path, code) in paths.iter().zip([factory(), echo(), reverter()]) {
            std::fs::write(path, code).expect("write a test program");
        }
        paths
    }
}

//! `athena new`: the scaffolded contract crate builds for RISC-V and passes
//! its own tests out of the box, exactly as a user would run them
//! (`athena new demo && cd demo && cargo test`), and `athena build`
//! reports its stripped size.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn athena(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_athena")).args(args).output().expect("spawn athena")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh directory under the system temp dir, removed when the returned
/// guard is dropped (also when the test fails).
fn scratch(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new().prefix(&format!("athena-new-test-{name}-")).tempdir().expect("scratch dir")
}

/// The repository's `target/`, so repeated runs reuse the scaffold's
/// compiled dependencies and guest build instead of starting cold.
fn repo_target() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target")
}

#[test]
fn scaffold_builds_and_passes_its_tests() {
    let scratch = scratch("demo");
    let root = scratch.path();
    let dir = root.join("demo");
    let out = athena(&["new", "demo", "--path", dir.to_str().expect("utf-8")]);
    assert!(out.status.success(), "athena new failed: {}", text(&out.stderr));
    for file in ["Cargo.toml", "src/main.rs", "tests/contract.rs", "README.md", ".gitignore"] {
        assert!(dir.join(file).is_file(), "missing {file}");
    }

    // The user's command: `cargo test` in the new crate, with a clean
    // cargo environment (none of this test's CARGO_* variables).
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    athena_guest_builder::scrub_env(&mut cmd);
    let out = cmd
        .arg("test")
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", repo_target().join("scaffold"))
        .env("ATHENA_GUEST_TARGET_DIR", repo_target().join("scaffold-guest"))
        .output()
        .expect("spawn cargo test");
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "cargo test in the scaffold failed:\n{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("test increments_by_step ... ok"), "{stdout}");
    assert!(stdout.contains("test zero_step_cannot_be_spawned ... ok"), "{stdout}");

    // `athena build` prints `name<TAB>path<TAB>N bytes` for the stripped ELF.
    let target_dir = root.join("build");
    let out =
        athena(&["build", dir.to_str().expect("utf-8"), "-q", "--target-dir", target_dir.to_str().expect("utf-8")]);
    assert!(out.status.success(), "athena build failed: {}", text(&out.stderr));
    let line = text(&out.stdout);
    let fields: Vec<&str> = line.trim().split('\t').collect();
    assert_eq!(fields.len(), 3, "{line}");
    assert_eq!(fields[0], "demo");
    let elf = std::fs::read(fields[1]).expect("the reported ELF exists");
    assert_eq!(fields[2], format!("{} bytes", elf.len()));
    assert_eq!(&elf[..4], b"\x7fELF");
    // Stripped: no section is named .symtab (its name would be in .shstrtab).
    assert!(!elf.windows(7).any(|w| w == b".symtab"), "the ELF still has a symbol table");
}

#[test]
fn refuses_bad_names_and_existing_directories() {
    let scratch = scratch("refuse");
    let root = scratch.path();
    let bad = athena(&["new", "Bad Name", "--path", root.join("x").to_str().expect("utf-8")]);
    assert!(!bad.status.success());
    assert!(text(&bad.stderr).contains("invalid crate name"), "{}", text(&bad.stderr));
    assert!(!root.join("x").exists(), "nothing is written for a bad name");

    let taken = athena(&["new", "demo", "--path", root.to_str().expect("utf-8")]);
    assert!(!taken.status.success());
    assert!(text(&taken.stderr).contains("already exists"), "{}", text(&taken.stderr));

    let nowhere = athena(&["new", "demo", "--path", root.join("y").to_str().expect("utf-8"), "--athena-path", "/"]);
    assert!(!nowhere.status.success());
    assert!(text(&nowhere.stderr).contains("not an Athena checkout"), "{}", text(&nowhere.stderr));
}

//! What the CLI process tests share: running `athena` in a scratch HOME with
//! none of the caller's `ATHENA_*` settings, and reading its output.
//! (Each test binary uses a part of it.)
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The environment variables the wallet commands read: removed, so that a
/// developer's own settings never leak into a test.
const ATHENA_VARS: &[&str] =
    &["ATHENA_NODE", "ATHENA_KEY", "ATHENA_WALLET_TEMPLATE", "ATHENA_MULTISIG_TEMPLATE", "ATHENA_PASSPHRASE"];

/// Runs `athena ARGS` with HOME = `home`, stdin closed (no terminal) and no
/// `ATHENA_*` variables but the `env` given.
pub fn athena_env<S: AsRef<std::ffi::OsStr>>(home: &Path, args: &[S], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_athena"));
    cmd.args(args).env("HOME", home).stdin(Stdio::null());
    for var in ATHENA_VARS {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("spawn athena")
}

/// [`athena_env`] with no variables set.
pub fn athena<S: AsRef<std::ffi::OsStr>>(home: &Path, args: &[S]) -> Output {
    athena_env(home, args, &[])
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The stdout of a successful run.
#[track_caller]
pub fn ok(out: &Output) -> String {
    assert!(out.status.success(), "exit {:?}\nstdout: {}\nstderr: {}", out.status, stdout(out), stderr(out));
    stdout(out)
}

/// A run that failed with exit status 1 and `message` on stderr.
#[track_caller]
pub fn fails(out: &Output, message: &str) {
    assert_eq!(out.status.code(), Some(1), "stdout: {}\nstderr: {}", stdout(out), stderr(out));
    assert!(stderr(out).contains(message), "expected {message:?} in stderr: {}", stderr(out));
}

/// The one JSON object a successful `--json` run printed.
#[track_caller]
pub fn json(out: &Output) -> serde_json::Value {
    serde_json::from_str(&ok(out)).expect("one JSON object on stdout")
}

//! Runs `athcon-vmtester` against this workspace's own athcon cdylib, and
//! checks that it rejects libraries that are not athcon VMs.

use std::path::PathBuf;
use std::process::Command;

/// `libathcon.so` built with this test (the `athcon` dependency's cdylib).
fn athcon_cdylib() -> PathBuf {
    athcon::client::built_cdylib().unwrap_or_else(|e| panic!("{e}"))
}

fn vmtester(args: &[&std::ffi::OsStr]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_athcon-vmtester")).args(args).output().expect("run athcon-vmtester");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.code().unwrap_or(-1), stdout + &String::from_utf8_lossy(&out.stderr))
}

#[test]
fn our_cdylib_passes_every_check() {
    let lib = athcon_cdylib();
    let (code, out) = vmtester(&[lib.as_os_str()]);
    println!("{out}");
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("FAIL"), "{out}");
    for check in [
        "abi_version",
        "execute_halt",
        "result_output_released",
        "null_host",
        "oversized_input",
        "unknown_revision",
        "concurrent_execute",
        "state_read",
        "state_over_bound",
        "spawn_is_a_call_message",
        "spawn_writes_the_address",
        "spawn_failure_zeroes_the_output",
        "spawn_without_an_address_is_internal_error",
        "spawn_depth_limit",
    ] {
        assert!(out.contains(&format!("PASS {check}:")), "missing {check}: {out}");
    }
    assert!(out.contains(", 0 failed"), "{out}");
}

#[test]
fn quiet_mode_prints_only_the_summary() {
    let lib = athcon_cdylib();
    let (code, out) = vmtester(&[lib.as_os_str(), "--quiet".as_ref()]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("PASS"), "{out}");
    assert!(out.contains("checks passed, 0 failed"), "{out}");
}

#[test]
fn a_library_without_athcon_create_fails_to_load() {
    // Any shared library that is not an athcon VM: the C library.
    let libc = ["/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/lib64/libc.so.6"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.is_file());
    let Some(libc) = libc else {
        eprintln!("no libc.so.6 at a known path; nothing to load");
        return;
    };
    let (code, out) = vmtester(&[libc.as_os_str()]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("FAIL load") && out.contains("athcon_create_c"), "{out}");
}

#[test]
fn a_missing_file_and_bad_usage_fail() {
    let (code, out) = vmtester(&["/nonexistent/libathcon.so".as_ref()]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("FAIL load"), "{out}");
    let (code, out) = vmtester(&[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("usage"), "{out}");
}

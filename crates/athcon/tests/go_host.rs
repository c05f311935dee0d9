//! The Go host (`hosts/go`, standard library + cgo only): `go test` there
//! dlopens our cdylib and runs the storage-rw and fib-call scenarios, the
//! depth limit, invalid requests, both engines, concurrent goroutines, and
//! spawns with programs reading their state.
//!
//! Go is installed by `scripts/install-host-deps.sh`; without it this test
//! fails (it must not pass silently).

mod common;

use common::*;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

fn go_available() -> bool {
    Command::new("go").arg("version").output().map(|o| o.status.success()).unwrap_or(false)
}

/// Runs `go test -v` in hosts/go with every Go directory under target/.
fn go_test() -> String {
    assert!(
        go_available(),
        "`go` is not installed: run `scripts/install-host-deps.sh` (as root; installs Debian's golang-go), \
         then rerun the tests"
    );
    let (storage_rw, fib_call) = guests();
    let programs_dir = scratch("go-programs");
    let [factory, echo, reverter] = programs::write_all(&programs_dir);
    // Go's build cache is safe for concurrent use by several processes.
    let go_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("go");
    let tmp = scratch("go-tmp");
    let out = Command::new("go")
        .args(["test", "-count=1", "-v", "./..."])
        .current_dir(repo_root().join("hosts/go"))
        .env("ATHCON_LIB", cdylib())
        .env("ATHCON_STORAGE_RW_ELF", storage_rw)
        .env("ATHCON_FIB_CALL_ELF", fib_call)
        .env("ATHCON_FACTORY_ELF", factory)
        .env("ATHCON_ECHO_ELF", echo)
        .env("ATHCON_REVERTER_ELF", reverter)
        .env("GOCACHE", go_dir.join("cache"))
        .env("GOPATH", go_dir.join("path"))
        .env("GOTMPDIR", tmp.path())
        .env("GOFLAGS", "-mod=mod")
        .env("GOPROXY", "off")
        .env("GOTOOLCHAIN", "local")
        .env("GOTELEMETRY", "off")
        .env("CGO_ENABLED", "1")
        .output()
        .expect("run go test");
    let log = text(&out);
    assert!(out.status.success(), "go test failed:\n{log}");
    log
}

/// `fib-call(n) ... gas G` pairs from either host's output.
fn fib_gas(log: &str, marker: &str) -> BTreeMap<u32, u64> {
    log.lines()
        .filter_map(|line| {
            let rest = &line[line.find("fib-call(")? + 9..];
            let n: u32 = rest[..rest.find(')')?].parse().ok()?;
            let after = &rest[rest.find(marker)? + marker.len()..];
            let gas: u64 = after.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()?;
            Some((n, gas))
        })
        .collect()
}

#[test]
fn go_host_runs_every_scenario() {
    let log = go_test();
    println!("{log}");
    for test in [
        "TestIdentity",
        "TestStorageRW",
        "TestFibCall",
        "TestDepthLimit",
        "TestInvalidRequests",
        "TestEnginesAgree",
        "TestConcurrentExecute",
        "TestSpawn",
    ] {
        assert!(log.contains(&format!("--- PASS: {test} ")), "{test} did not pass:\n{log}");
    }
    assert!(!log.contains("--- FAIL"), "{log}");

    // The Go host and the C host are independent implementations of the
    // host side; the VM must charge both exactly the same gas.
    let go = fib_gas(&log, ": gas ");
    assert_eq!(go.len(), 11, "{log}");
    let (_dir, c_exe) = build_c_host();
    let (storage_rw, fib_call) = guests();
    let out = Command::new(c_exe).arg(cdylib()).arg(storage_rw).arg(fib_call).arg("10").output().expect("C host");
    let c_log = text(&out);
    assert!(out.status.success(), "{c_log}");
    let c = fib_gas(&c_log, "deterministic: gas ");
    assert_eq!(go, c, "gas differs between the Go and the C host\nGo: {go:?}\nC: {c:?}");
}

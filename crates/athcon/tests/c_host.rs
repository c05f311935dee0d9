//! The C host (`hosts/c/host.c`): compiled with the system C compiler,
//! it dlopens our cdylib through `athcon.h` and runs the storage-rw and
//! fib-call scenarios, the depth limit, the ABI's invalid requests, a
//! multi-threaded run on one VM instance, and spawns (call messages of kind
//! `ATHCON_SPAWN`) with programs reading their state through `get_state`.

mod common;

use athcon::ffi::*;
use common::*;
use std::mem::{offset_of, size_of};
use std::path::PathBuf;
use std::process::Command;

fn run_host(prefix: &[&str], max_fib: u32) -> std::process::Output {
    run_host_env(prefix, max_fib, &[])
}

fn run_host_env(prefix: &[&str], max_fib: u32, env: &[(&str, &str)]) -> std::process::Output {
    let (_dir, exe) = build_c_host();
    let (storage_rw, fib_call) = guests();
    let programs_dir = scratch("c-programs");
    let programs = programs::write_all(&programs_dir);
    let (program, pre_args) = match prefix.split_first() {
        Some((p, rest)) => (PathBuf::from(p), rest.iter().map(PathBuf::from).chain([exe]).collect::<Vec<_>>()),
        None => (exe, Vec::new()),
    };
    Command::new(program)
        .args(pre_args)
        .arg(cdylib())
        .arg(storage_rw)
        .arg(fib_call)
        .arg(max_fib.to_string())
        .args(&programs)
        .envs(env.iter().copied())
        .output()
        .expect("run the C host")
}

#[test]
fn c_host_runs_every_scenario() {
    let out = run_host(&[], 12);
    let log = text(&out);
    println!("{log}");
    assert!(out.status.success(), "C host failed:\n{log}");
    assert!(!log.lines().any(|l| l.starts_with("not ok")), "{log}");
    for line in [
        "ok - loader: create function athcon_create",
        "ok - storage-rw default: returns the value read back",
        "ok - fib-call(12) = 144 (want 144)",
        "ok - fib-call(12) deterministic",
        "ok - concurrent: 4 threads",
        "ok - depth 3: fib-call(6) reverts with call_depth_exceeded",
        "ok - NULL host: rejected",
        "ok - oversized input: rejected",
        "ok - spawn: factory spawned the echo template",
        "ok - spawn: the program holds its state",
        "ok - state: the program reads its state back, one get_state per frame",
        "ok - spawn: a reverting spawn method leaves no account",
        "ok - spawn: an unknown template fails",
        "ok - spawn: every result released",
    ] {
        assert!(log.contains(line), "missing `{line}` in:\n{log}");
    }
    assert!(log.contains(", 0 not ok"), "{log}");
}

/// Leaks and memory errors across the boundary (results released by the
/// wrong side, double frees, reads of freed output) under valgrind
/// (installed by scripts/install-host-deps.sh).
#[test]
fn c_host_is_clean_under_valgrind() {
    assert!(
        Command::new("valgrind").arg("--version").output().is_ok(),
        "valgrind is not installed: run scripts/install-host-deps.sh (as root) first"
    );
    // The library stays mapped: the engine's process-wide program cache is
    // then "still reachable" (it is never freed, by design), and anything
    // "definitely lost" is a real leak, e.g. an unreleased result.
    let out = run_host_env(
        &["valgrind", "-q", "--leak-check=full", "--errors-for-leak-kinds=definite", "--error-exitcode=99"],
        5,
        &[("ATHCON_HOST_KEEP_LIBRARY", "1")],
    );
    let log = text(&out);
    assert!(out.status.success(), "valgrind reported errors (exit {:?}):\n{log}", out.status.code());
    assert!(log.contains(", 0 not ok"), "{log}");
}

/// The header alone, as strict C99, and its layout as seen by the C
/// compiler equals the Rust mirror's (`offsetof`/`sizeof` checked at compile
/// time against numbers taken from `athcon::ffi`).
#[test]
fn header_is_strict_c99_and_matches_the_rust_layout() {
    let mut asserts = String::new();
    let mut check = |expr: String, value: usize| {
        asserts.push_str(&format!("typedef char check_{}[({expr}) == {value} ? 1 : -1];\n", asserts.lines().count()));
    };
    macro_rules! layout {
        ($c:literal, $ty:ty, [$($field:ident),*]) => {
            check(format!("sizeof({})", $c), size_of::<$ty>());
            $( check(format!("offsetof({}, {})", $c, stringify!($field)), offset_of!($ty, $field)); )*
        };
    }
    layout!("athcon_address", athcon_address, [bytes]);
    layout!("athcon_bytes32", athcon_bytes32, [bytes]);
    layout!(
        "struct athcon_message",
        athcon_message,
        [kind, depth, gas, recipient, sender, sender_template, input_data, input_size, value]
    );
    layout!(
        "struct athcon_tx_context",
        athcon_tx_context,
        [gas_price, origin, block_height, block_timestamp, block_gas_limit, chain_id]
    );
    layout!(
        "struct athcon_result",
        athcon_result,
        [status_code, gas_left, output_data, output_size, release, private_data]
    );
    layout!("union athcon_result_private", athcon_result_private, []);
    layout!(
        "struct athcon_host_interface",
        athcon_host_interface,
        [
            account_exists,
            get_storage,
            set_storage,
            get_balance,
            call,
            get_state,
            deploy,
            get_tx_context,
            get_block_hash,
            emit_log
        ]
    );
    layout!(
        "struct athcon_vm",
        athcon_vm,
        [abi_version, name, version, destroy, execute, get_capabilities, set_option]
    );
    check("ATHCON_ABI_VERSION".into(), ATHCON_ABI_VERSION as usize);
    check("ATHCON_MAX_INPUT_SIZE".into(), ATHCON_MAX_INPUT_SIZE);
    check("ATHCON_MAX_STATE_SIZE".into(), ATHCON_MAX_STATE_SIZE);
    check("ATHCON_CALL".into(), call_kind::CALL as usize);
    check("ATHCON_SPAWN".into(), call_kind::SPAWN as usize);
    check("ATHCON_DEPLOY".into(), call_kind::DEPLOY as usize);
    check("ATHCON_SET_OPTION_INVALID_NAME".into(), set_option::INVALID_NAME as usize);
    for code in athena_interface::StatusCode::ALL {
        let name = format!("ATHCON_{}", code.name().to_uppercase());
        check(format!("{name} + 10"), (code.as_i32() + 10) as usize);
    }
    let source = format!("#include <stddef.h>\n#include \"athcon.h\"\n{asserts}int main(void) {{ return 0; }}\n");
    let dir = scratch("c-layout");
    std::fs::write(dir.join("layout.c"), source).unwrap();
    cc(&[dir.join("layout.c")], &dir.join("layout"), &["-pedantic", "-Wno-unused-local-typedefs"]);
}

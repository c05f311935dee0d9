//! `athcon-vmtester LIBRARY [--quiet]`: loads an athcon VM library by path
//! (loader rule of docs/athcon.md) and checks that it honours the ABI
//! contract: version, identity strings, capabilities, options, result
//! ownership, a real execution, the status codes of invalid requests, the
//! `get_state` callback (program state) and spawning through `call`.
//!
//! Prints one `PASS name: detail` / `FAIL name: detail` line per check and a
//! summary; exits 0 only if every check passed (1 on a failed check, 2 on a
//! usage error or a library that cannot be loaded at all).

#![forbid(unsafe_code)]

mod programs;

use athcon::client::{Library, RawExecute, RawResult, Vm};
use athcon::ffi::{set_option, ATHCON_ABI_VERSION, ATHCON_MAX_INPUT_SIZE};
use athena_interface::mock::MockHost;
use athena_interface::{Address, Message, StatusCode};
use athena_test_elf::{asm, ElfBuilder, PF_R};
use std::process::ExitCode;

/// Every capability bit defined by this ABI version.
const KNOWN_CAPABILITIES: u32 = 0b111;
/// Gas for the checks' executions: far more than the tiny programs need.
const GAS: u64 = 1_000_000;

/// `HALT(0)`: the smallest valid program. Ends successfully, no output.
fn halt_program() -> Vec<u8> {
    ElfBuilder::new(0x10000).text(0x10000, &[asm::addi(asm::A0, 0, 0), asm::addi(asm::T0, 0, 0), asm::ECALL]).build()
}

/// Returns the 6 bytes "athcon" through the Athena `RETURN` host function,
/// so the result carries VM-allocated output that must be released.
fn return_program() -> Vec<u8> {
    let mut words = Vec::new();
    words.extend(asm::li(asm::A0, 0x20000));
    words.push(asm::addi(asm::A1, 0, 6));
    words.extend(asm::li(asm::T0, athena_engine::abi::number::RETURN));
    words.push(asm::ECALL);
    ElfBuilder::new(0x10000).text(0x10000, &words).segment(0x20000, PF_R, b"athcon".to_vec(), 0x1000).build()
}

fn message(input: Vec<u8>) -> Message {
    Message {
        gas: GAS,
        recipient: Address::new([0x11; 24]),
        sender: Address::new([0x22; 24]),
        input,
        ..Message::default()
    }
}

struct Report {
    passed: usize,
    failed: usize,
    quiet: bool,
}

impl Report {
    fn check(&mut self, name: &str, ok: bool, detail: impl std::fmt::Display) {
        if ok {
            self.passed += 1;
            if !self.quiet {
                println!("PASS {name}: {detail}");
            }
        } else {
            self.failed += 1;
            println!("FAIL {name}: {detail}");
        }
    }
}

fn status_name(code: i32) -> String {
    StatusCode::from_i32(code).map_or_else(|| format!("unknown({code})"), |s| s.to_string())
}

fn describe(r: &RawResult) -> String {
    format!("status {} gas_left {} output {} bytes", status_name(r.status_code), r.gas_left, r.output.len())
}

/// A result is well-formed if its output is present when sized and a
/// non-empty output comes with a release function (someone must free it).
fn well_formed(r: &RawResult) -> bool {
    !r.output_missing && (r.output.is_empty() || r.had_release)
}

fn expect_status(report: &mut Report, name: &str, r: &RawResult, want: StatusCode) {
    report.check(name, r.status_code == want.as_i32() && well_formed(r), format!("{} (want {want})", describe(r)));
}

fn run_checks(vm: &mut Vm, report: &mut Report) {
    report.check(
        "abi_version",
        vm.abi_version() == ATHCON_ABI_VERSION,
        format!("{} (want {ATHCON_ABI_VERSION})", vm.abi_version()),
    );
    let name = vm.name().unwrap_or_default();
    report.check("name", !name.is_empty(), format!("{name:?}"));
    let version = vm.version().unwrap_or_default();
    report.check("version", !version.is_empty(), format!("{version:?}"));
    report.check("mandatory_functions", vm.has_mandatory_functions(), "destroy, execute, get_capabilities non-null");
    let caps = vm.capabilities().unwrap_or(0);
    report.check(
        "capabilities",
        caps & (1 | 2) != 0 && caps & !KNOWN_CAPABILITIES == 0,
        format!("{caps:#x} (needs RV32E or RV32I, no unknown bits)"),
    );
    match vm.set_option("athcon.vmtester.no-such-option", "1") {
        None => report.check("set_option_unknown_name", true, "no set_option function (allowed)"),
        Some(r) => report.check(
            "set_option_unknown_name",
            r == set_option::INVALID_NAME,
            format!("returned {r} (want invalid name = {})", set_option::INVALID_NAME),
        ),
    }

    let halt = halt_program();
    let mut host = MockHost::new();
    let msg = message(Vec::new());
    let run = |vm: &Vm, host: &mut MockHost, msg: &Message, code: &[u8], revision: u32| {
        vm.execute_raw(RawExecute {
            host: Some(host),
            revision,
            message: Some(msg),
            code: Some(code),
            ..RawExecute::default()
        })
    };
    let first = run(vm, &mut host, &msg, &halt, 0);
    report.check(
        "execute_halt",
        first.status_code == 0 && first.gas_left > 0 && first.gas_left < GAS && well_formed(&first),
        format!("{} (want success, 0 < gas_left < {GAS})", describe(&first)),
    );
    let second = run(vm, &mut host, &msg, &halt, 0);
    report.check("deterministic", second == first, format!("second run: {}", describe(&second)));

    let returned = run(vm, &mut host, &msg, &return_program(), 0);
    report.check(
        "result_output_released",
        returned.status_code == 0 && returned.output == b"athcon" && returned.had_release,
        format!(
            "{} {:?} release {}",
            describe(&returned),
            String::from_utf8_lossy(&returned.output),
            if returned.had_release { "set" } else { "NULL" }
        ),
    );

    let mut one_gas = message(Vec::new());
    one_gas.gas = 1;
    let oog = run(vm, &mut host, &one_gas, &halt, 0);
    expect_status(report, "out_of_gas", &oog, StatusCode::OutOfGas);
    report.check("out_of_gas_gas_left", oog.gas_left == 0, format!("gas_left {}", oog.gas_left));

    let garbage: Vec<u8> = (0..512u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    let r = run(vm, &mut host, &msg, &garbage, 0);
    expect_status(report, "garbage_code", &r, StatusCode::Failure);
    let r = run(vm, &mut host, &msg, &[], 0);
    expect_status(report, "empty_code", &r, StatusCode::Failure);

    let r = run(vm, &mut host, &msg, &halt, 0xFFFF);
    expect_status(report, "unknown_revision", &r, StatusCode::Rejected);

    let big = message(vec![0u8; ATHCON_MAX_INPUT_SIZE + 1]);
    let r = run(vm, &mut host, &big, &halt, 0);
    expect_status(report, "oversized_input", &r, StatusCode::Rejected);
    let max = message(vec![0u8; ATHCON_MAX_INPUT_SIZE]);
    let r = run(vm, &mut host, &max, &halt, 0);
    expect_status(report, "max_size_input", &r, StatusCode::Success);

    let r = vm.execute_raw(RawExecute { host: None, message: Some(&msg), code: Some(&halt), ..RawExecute::default() });
    expect_status(report, "null_host", &r, StatusCode::Rejected);
    let r =
        vm.execute_raw(RawExecute { host: Some(&mut host), message: None, code: Some(&halt), ..RawExecute::default() });
    expect_status(report, "null_message", &r, StatusCode::Rejected);
    let r =
        vm.execute_raw(RawExecute { host: Some(&mut host), message: Some(&msg), code: None, ..RawExecute::default() });
    expect_status(report, "null_code", &r, StatusCode::Failure);
    let with_input = message(vec![1, 2, 3]);
    let r = vm.execute_raw(RawExecute {
        host: Some(&mut host),
        message: Some(&with_input),
        code: Some(&halt),
        null_input: true,
        ..RawExecute::default()
    });
    expect_status(report, "null_input_with_size", &r, StatusCode::Rejected);
    let empty_input = message(Vec::new());
    let r = vm.execute_raw(RawExecute {
        host: Some(&mut host),
        message: Some(&empty_input),
        code: Some(&halt),
        null_input: true,
        ..RawExecute::default()
    });
    expect_status(report, "null_input_size_zero", &r, StatusCode::Success);
    let r = vm.execute_raw(RawExecute {
        host: Some(&mut host),
        message: Some(&msg),
        code: Some(&halt),
        null_vm: true,
        ..RawExecute::default()
    });
    expect_status(report, "null_vm", &r, StatusCode::InternalError);

    // Concurrent executions on the one instance, each with its own host.
    let vm_ref: &Vm = vm;
    let results: Vec<RawResult> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let mut host = MockHost::new();
                    (0..25).map(|_| run(vm_ref, &mut host, &message(Vec::new()), &halt, 0)).last().expect("ran")
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    report.check(
        "concurrent_execute",
        results.iter().all(|r| *r == first),
        format!("4 threads x 25 runs, all equal to the first run: {}", results.iter().all(|r| *r == first)),
    );

    programs::check_state(vm, |name, ok, detail| report.check(name, ok, detail));
    programs::check_spawn(vm, |name, ok, detail| report.check(name, ok, detail));
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quiet = args.iter().any(|a| a == "--quiet");
    let paths: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let [path] = paths.as_slice() else {
        eprintln!("usage: athcon-vmtester LIBRARY [--quiet]");
        return ExitCode::from(2);
    };
    let lib = match Library::load(path) {
        Ok(lib) => lib,
        Err(e) => {
            println!("FAIL load: {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let mut report = Report { passed: 0, failed: 0, quiet };
    report.check("load", true, format!("{path} via {}", lib.create_symbol()));
    match lib.create() {
        Ok(mut vm) => {
            report.check("create", true, "instance created");
            run_checks(&mut vm, &mut report);
            drop(vm);
            report.check("destroy", true, "instance destroyed");
            // A second instance must be independent of the first.
            report.check("create_again", lib.create().is_ok(), "a second instance after destroy");
        }
        Err(e) => report.check("create", false, e),
    }
    println!("athcon-vmtester: {} checks passed, {} failed", report.passed, report.failed);
    if report.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

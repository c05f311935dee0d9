//! End-to-end tests of `athena run` as a process: stdout carries exactly the
//! guest's fd 1, stderr the rest, and the exit status follows the rules in
//! the README, on guests built from source for both targets and on
//! hand-assembled programs.

use athena_guest_builder::{example_elf, GuestTarget};
use athena_test_elf::{asm, ElfBuilder, PF_R};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const TARGETS: [GuestTarget; 2] = [GuestTarget::Rv32em, GuestTarget::Rv32im];

fn athena(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_athena")).args(args).output().expect("spawn athena")
}

fn run(elf: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["run", elf.to_str().expect("utf-8 path")];
    args.extend_from_slice(extra);
    athena(&args)
}

fn example(target: GuestTarget, name: &str) -> PathBuf {
    example_elf(target, name).unwrap_or_else(|e| panic!("building example {name}: {e}"))
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).expect("one JSON object on stdout")
}

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).expect("utf-8")
}

/// Writes bytes (a hand-built ELF, an input file) to a temporary file that is
/// removed when the returned path is dropped.
fn write_temp(name: &str, bytes: &[u8]) -> tempfile::TempPath {
    let mut file = tempfile::Builder::new().prefix(name).tempfile().expect("temp file");
    file.write_all(bytes).expect("write temp file");
    file.into_temp_path()
}

fn fib(n: u32) -> u64 {
    let (mut a, mut b) = (0u64, 1u64);
    for _ in 0..n {
        (a, b) = (b, a + b);
    }
    a
}

fn primes_below(limit: usize) -> usize {
    let mut composite = vec![false; limit];
    let mut count = 0;
    for i in 2..limit {
        if !composite[i] {
            count += 1;
            let mut j = i * i;
            while j < limit {
                composite[j] = true;
                j += i;
            }
        }
    }
    count
}

#[test]
fn hello_prints_exactly_its_output() {
    for target in TARGETS {
        let out = run(&example(target, "hello"), &[]);
        assert_eq!(text(&out.stdout), "Hello, world!\n", "{target}");
        assert!(out.stderr.is_empty(), "{target}: stderr {:?}", text(&out.stderr));
        assert_eq!(out.status.code(), Some(0));
    }
}

#[test]
fn fib_reads_its_input() {
    for target in TARGETS {
        for n in [0u32, 1, 10, 24] {
            let input = hex::encode(n.to_le_bytes());
            let out = run(&example(target, "fib"), &["--input", &input]);
            assert_eq!(text(&out.stdout), format!("fib({n}) = {}\n", fib(n)), "{target}");
            assert_eq!(out.status.code(), Some(0));
        }
    }
}

#[test]
fn sieve_counts_primes() {
    for target in TARGETS {
        for limit in [10u32, 1000, 200_000] {
            let input = write_temp("sieve-input", &limit.to_le_bytes());
            let out = run(&example(target, "sieve"), &["--input-file", input.to_str().expect("path")]);
            assert_eq!(text(&out.stdout), format!("primes below {limit}: {}\n", primes_below(limit as usize)));
            assert_eq!(out.status.code(), Some(0));
        }
    }
}

#[test]
fn sha256_matches_the_host_digest() {
    let buffer: Vec<u8> = (0..64 * 1024u32).map(|i| (i.wrapping_mul(31).wrapping_add(7) % 256) as u8).collect();
    let expected = format!("{}\n", hex::encode(Sha256::digest(&buffer)));
    for target in TARGETS {
        let out = run(&example(target, "sha256"), &[]);
        assert_eq!(text(&out.stdout), expected, "{target}");
        assert_eq!(out.status.code(), Some(0));
    }
}

#[test]
fn panic_goes_to_stderr_with_exit_101() {
    for target in TARGETS {
        let out = run(&example(target, "panic"), &[]);
        assert!(out.stdout.is_empty());
        assert!(text(&out.stderr).contains("boom"), "{}", text(&out.stderr));
        assert_eq!(out.status.code(), Some(101));
    }
}

#[test]
fn exit_codes_are_truncated_to_a_byte() {
    let elf = example(GuestTarget::Rv32em, "exit-code");
    for (code, expected) in [(0u32, 0), (7, 7), (255, 255), (256, 255), (300, 255), (u32::MAX, 255)] {
        let out = run(&elf, &["--input", &hex::encode(code.to_le_bytes())]);
        assert_eq!(out.status.code(), Some(expected), "guest code {code}");
        assert!(out.stdout.is_empty() && out.stderr.is_empty());
        let out = run(&elf, &["--json", "--input", &hex::encode(code.to_le_bytes())]);
        assert_eq!(json(&out)["exit_code"], code, "json keeps the full code");
    }
}

#[test]
fn assembly_programs_linked_at_0x200800() {
    for target in TARGETS {
        let out = run(&example(target, "asm-hello"), &[]);
        assert_eq!(text(&out.stdout), "hi from asm\n");
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(run(&example(target, "asm-exit"), &[]).status.code(), Some(42));
    }
}

#[test]
fn hand_assembled_program_halts_and_writes() {
    // a1 = message, a2 = 3, a0 = 1, t0 = 2 (WRITE), ecall; a0 = 9, t0 = 0 (HALT), ecall.
    let mut text_words = Vec::new();
    text_words.extend(asm::li(asm::A1, 0x0030_0000));
    text_words.extend([
        asm::addi(asm::A2, 0, 3),
        asm::addi(asm::A0, 0, 1),
        asm::addi(asm::T0, 0, 2),
        asm::ECALL,
        asm::addi(asm::A0, 0, 9),
        asm::addi(asm::T0, 0, 0),
        asm::ECALL,
        0, // never executed
    ]);
    let elf = ElfBuilder::new(0x0020_0800)
        .text(0x0020_0800, &text_words)
        .segment(0x0030_0000, PF_R, b"ok\n".to_vec(), 3)
        .build();
    let path = write_temp("hand.elf", &elf);
    let out = run(&path, &[]);
    assert_eq!(text(&out.stdout), "ok\n");
    assert_eq!(out.status.code(), Some(9));
    let report = json(&run(&path, &["--json"]));
    assert_eq!(report["status"], "halted");
    assert_eq!(report["exit_code"], 9);
    assert_eq!(report["stdout"], "ok\n");
    assert_eq!(report["instructions"], 9);
}

#[test]
fn out_of_gas_is_reported_and_exact() {
    let elf = example(GuestTarget::Rv32em, "asm-loop");
    let out = run(&elf, &["--gas", "10000"]);
    assert_eq!(out.status.code(), Some(124));
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("out of gas"), "{stderr}");
    for engine in ["fast", "reference"] {
        let report = json(&run(&elf, &["--gas", "10000", "--json", "--engine", engine]));
        assert_eq!(report["status"], "out_of_gas");
        assert_eq!(report["gas_used"], 10000);
        assert!(report["exit_code"].is_null());
    }
}

#[test]
fn traps_exit_126_with_one_line_naming_the_pc() {
    let elf = ElfBuilder::new(0x1_0000).text(0x1_0000, &[asm::addi(asm::A0, 0, 1), 0xffff_ffff]).build();
    let path = write_temp("trap.elf", &elf);
    let out = run(&path, &[]);
    assert_eq!(out.status.code(), Some(126));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("0x00010004"), "{stderr}");
    let report = json(&run(&path, &["--json"]));
    assert_eq!(report["status"], "trapped");
    assert_eq!(report["trap"]["kind"], "illegal_instruction");
    assert_eq!(report["trap"]["pc"], "0x00010004");
}

#[test]
fn load_errors_exit_125_with_one_line() {
    let garbage = write_temp("garbage.elf", b"definitely not an ELF file");
    let missing = std::env::temp_dir().join("athena-no-such-file.elf");
    for path in [garbage.to_path_buf(), missing] {
        let out = run(&path, &[]);
        assert_eq!(out.status.code(), Some(125));
        assert!(out.stdout.is_empty());
        assert_eq!(text(&out.stderr).lines().count(), 1, "{}", text(&out.stderr));
        let report = json(&run(&path, &["--json"]));
        assert_eq!(report["status"], "load_error");
    }
    let elf = example(GuestTarget::Rv32em, "hello");
    let out = run(&elf, &["--input", "xyz"]);
    assert_eq!(out.status.code(), Some(125), "bad hex input is a load error");
}

#[test]
fn json_reports_everything_and_stdout_stays_clean() {
    let report = json(&run(&example(GuestTarget::Rv32em, "hello"), &["--json"]));
    assert_eq!(report["status"], "halted");
    assert_eq!(report["exit_code"], 0);
    assert_eq!(report["stdout"], "Hello, world!\n");
    assert_eq!(report["stdout_encoding"], "utf8");
    assert_eq!(report["stderr"], "");
    assert!(report["gas_used"].as_u64().is_some_and(|g| g > 0));
    assert!(report["instructions"].as_u64().is_some_and(|n| n > 0));
    assert!(report["trap"].is_null());
}

#[test]
fn engines_agree_on_every_example() {
    for target in TARGETS {
        for name in ["hello", "fib", "sieve", "sha256", "panic", "exit-code", "asm-hello", "asm-exit"] {
            let elf = example(target, name);
            let fast = run(&elf, &["--json", "--engine", "fast"]);
            let reference = run(&elf, &["--json", "--engine", "reference"]);
            assert_eq!(json(&fast), json(&reference), "{target} {name}");
        }
    }
}

#[test]
fn selector_prints_the_blake3_prefix_of_each_name() {
    let out = athena(&["selector", "spend", "max_spend"]);
    assert_eq!(out.status.code(), Some(0));
    let expected: String = ["spend", "max_spend"]
        .iter()
        .map(|n| format!("0x{}  {n}\n", hex::encode(&blake3::hash(n.as_bytes()).as_bytes()[..4])))
        .collect();
    assert_eq!(text(&out.stdout), expected);
    assert_eq!(athena(&["selector"]).status.code(), Some(2), "a name is required");
}

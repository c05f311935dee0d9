//! Runs one bench workload on the recompiler for profiling (callgrind,
//! perf) and prints its guest instruction count and wall time; not a test.
//!
//! `cargo run --release -p athena-jit --example jit_profile -- ELF ID [RUNS] [MODE]`
//!
//! `ELF` is the bench guest (`bench/target/guest-artifacts/athena.elf`), `ID`
//! the workload id it reads from its input (1 sieve, 2 sha256, 3 keccak256,
//! 4 ed25519, 5 transfers). `MODE`: `jit` (default), `fast` (the fast
//! interpreter), `check` (JIT against the reference interpreter: outcome,
//! registers, pc, output), `hist` (guest pcs by execution count with the
//! reference stepper, for reading the hot loops with `llvm-objdump`; the
//! most frequent `sp` values go to stderr), `compile` (compile time).

use athena_jit::JitProgram;
use athena_vm::{CollectingEnvironment, Machine, MachineConfig, Program};
use std::collections::BTreeMap;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let elf = std::fs::read(args.get(1).expect("usage: jit_profile ELF ID [RUNS] [MODE]")).expect("read elf");
    let id: u32 = args.get(2).and_then(|s| s.parse().ok()).expect("workload id");
    let runs: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1);
    let mode = args.get(4).map(String::as_str).unwrap_or("jit");
    let program = Program::from_elf(&elf).expect("load");
    let config = MachineConfig { gas_limit: 1 << 40, ..MachineConfig::default() };
    let input = id.to_le_bytes().to_vec();
    match mode {
        "hist" => {
            let mut machine = Machine::new(&program, config).expect("instantiate");
            let mut env = CollectingEnvironment::with_input(input);
            let mut hist: BTreeMap<u32, u64> = BTreeMap::new();
            let mut sps: BTreeMap<u32, u64> = BTreeMap::new();
            while machine.jit_step(&mut env).is_ok() {
                *hist.entry(machine.pc()).or_default() += 1;
                *sps.entry(machine.registers()[2]).or_default() += 1;
            }
            let mut sps: Vec<(u32, u64)> = sps.into_iter().collect();
            sps.sort_by_key(|&(sp, n)| (std::cmp::Reverse(n), sp));
            for (sp, n) in sps.iter().take(8) {
                eprintln!("sp {sp:#010x}: {n}");
            }
            let mut top: Vec<(u32, u64)> = hist.into_iter().collect();
            top.sort_by_key(|&(pc, n)| (std::cmp::Reverse(n), pc));
            let total: u64 = top.iter().map(|t| t.1).sum();
            println!("{total} steps");
            for (pc, n) in top.iter().take(100000) {
                println!("{pc:#010x} {n} ({:.2}%)", *n as f64 * 100.0 / total as f64);
            }
        }
        "check" => {
            let jit = JitProgram::compile(&program).expect("compile");
            let mut m1 = Machine::new(&program, config).expect("instantiate");
            let mut e1 = CollectingEnvironment::with_input(input.clone());
            let o1 = m1.run(&mut e1);
            let mut m2 = Machine::new(&program, config).expect("instantiate");
            let mut e2 = CollectingEnvironment::with_input(input);
            let o2 = jit.run(&mut m2, &mut e2);
            assert_eq!(o1, o2, "outcome");
            assert_eq!(m1.registers(), m2.registers(), "registers");
            assert_eq!(m1.pc(), m2.pc(), "pc");
            assert_eq!(e1, e2, "environment");
            println!("identical: {o1:?}");
        }
        "compile" => {
            for _ in 0..runs {
                let start = Instant::now();
                let jit = JitProgram::compile(&program).expect("compile");
                let t = start.elapsed();
                println!("compile {:.2} ms, {} bytes of code", t.as_secs_f64() * 1e3, jit.code_bytes());
                drop(jit);
            }
        }
        _ => {
            let jit = (mode == "jit").then(|| JitProgram::compile(&program).expect("compile"));
            for _ in 0..runs {
                let mut machine = Machine::new(&program, config).expect("instantiate");
                let mut env = CollectingEnvironment::with_input(input.clone());
                let start = Instant::now();
                let outcome = match &jit {
                    Some(jit) => jit.run(&mut machine, &mut env),
                    None => machine.run_fast(&mut env),
                };
                let t = start.elapsed();
                println!("{:?} {} instructions, {:.2} ms", outcome.exit, outcome.instructions, t.as_secs_f64() * 1e3);
            }
        }
    }
}

//! Quick throughput comparison of the reference interpreter, the fast
//! interpreter and the recompiler on the example guests (not a timed test).
//!
//! `cargo run --release -p athena-jit --example jit_bench [repeats]`

use athena_guest_builder::{example_elf, GuestTarget};
use athena_jit::JitProgram;
use athena_vm::{CollectingEnvironment, Engine, Machine, MachineConfig, Outcome, Program};
use std::time::{Duration, Instant};

fn time(repeats: usize, mut run: impl FnMut() -> (Outcome, Vec<u8>)) -> (Duration, Outcome, Vec<u8>) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..repeats {
        let start = Instant::now();
        let result = run();
        best = best.min(start.elapsed());
        last = Some(result);
    }
    let (outcome, out) = last.expect("at least one repeat");
    (best, outcome, out)
}

fn main() {
    let repeats: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(3);
    // `jit_bench N jit` runs only the recompiler (for profiling).
    let jit_only = std::env::args().nth(2).is_some_and(|s| s == "jit");
    let workloads: [(&str, Vec<u8>); 3] =
        [("sieve", 1_000_000u32.to_le_bytes().to_vec()), ("fib", 27u32.to_le_bytes().to_vec()), ("sha256", Vec::new())];
    println!(
        "| workload | instructions | reference Minst/s | fast Minst/s | jit Minst/s | jit/fast | jit/ref | compile |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (name, input) in workloads {
        let elf = std::fs::read(example_elf(GuestTarget::Rv32em, name).expect("build example")).expect("read");
        let program = Program::from_elf(&elf).expect("load");
        let config = MachineConfig::default();
        let interp = |engine: Engine| {
            let mut machine = Machine::new(&program, config).expect("instantiate");
            let mut env = CollectingEnvironment::with_input(input.clone());
            let outcome = machine.run_with(engine, &mut env);
            (outcome, env.stdout)
        };
        let mut compile = Duration::MAX;
        for _ in 0..repeats {
            let compile_start = Instant::now();
            let jit = JitProgram::compile(&program).expect("compile");
            compile = compile.min(compile_start.elapsed());
            drop(jit);
        }
        let jit = JitProgram::compile(&program).expect("compile");
        let (t_jit, o_jit, out_jit) = time(repeats, || {
            let mut machine = Machine::new(&program, config).expect("instantiate");
            let mut env = CollectingEnvironment::with_input(input.clone());
            let outcome = jit.run(&mut machine, &mut env);
            (outcome, env.stdout)
        });
        if jit_only {
            println!(
                "{name}: {} instructions, {:.0} Minst/s",
                o_jit.instructions,
                o_jit.instructions as f64 / t_jit.as_secs_f64() / 1e6
            );
            continue;
        }
        let (t_ref, o_ref, out_ref) = time(repeats.min(2), || interp(Engine::Reference));
        let (t_fast, o_fast, out_fast) = time(repeats, || interp(Engine::Fast));
        assert_eq!(o_ref, o_fast, "{name}: fast differs");
        assert_eq!(o_ref, o_jit, "{name}: jit differs");
        assert_eq!(out_ref, out_fast);
        assert_eq!(out_ref, out_jit);
        let n = o_ref.instructions as f64;
        let rate = |t: Duration| n / t.as_secs_f64() / 1e6;
        println!(
            "| {name} | {} | {:.0} | {:.0} | {:.0} | {:.2}x | {:.1}x | {:.2} ms |",
            o_ref.instructions,
            rate(t_ref),
            rate(t_fast),
            rate(t_jit),
            t_fast.as_secs_f64() / t_jit.as_secs_f64(),
            t_ref.as_secs_f64() / t_jit.as_secs_f64(),
            compile.as_secs_f64() * 1e3
        );
    }
}

//! The process-wide program cache stays within its byte budget at engine
//! level: after every frame, and after the background compiler attaches
//! native code to a cached program (which makes it weigh more at once,
//! not only at the next load); programs it evicted run again, reloaded,
//! with the same results and gas.
//!
//! The cache is process-wide, so this file (its own test process) has one
//! test, which owns it.

use athena_engine::abi::number as n;
use athena_engine::{
    execute_with, program_cache_stats, program_stats, set_program_cache_bounds, wait_for_background_compiles,
    EngineConfig, ProgramCacheStats,
};
use athena_interface::mock::MockHost;
use athena_interface::{Address, ExecutionResult, Message, Revision, StatusCode};
use athena_test_elf::{asm, ElfBuilder, PF_R, PF_W};
use std::time::Duration;

/// How long the test waits for the background compiler (a compile of these
/// programs takes well under a second even on a loaded machine).
const COMPILES: Duration = Duration::from_secs(120);

const TEXT: u32 = 0x1_0000;
const DATA: u32 = 0x2_0000;

/// A program returning `1 + 2 + … + count` (4 bytes, little-endian),
/// summed in a loop. Programs for different counts differ only in an
/// immediate: distinct code hashes, the same size.
fn summing(count: u32) -> Vec<u8> {
    let mut words = Vec::new();
    words.extend(asm::li(asm::A0, count));
    words.extend(asm::li(asm::A1, 0));
    words.push(asm::add(asm::A1, asm::A1, asm::A0)); // loop: a1 += a0
    words.push(asm::addi(asm::A0, asm::A0, -1));
    words.push(asm::b_type(-8, 0, asm::A0, 1)); // bne a0, x0, loop
    words.extend(asm::li(asm::T1, DATA));
    words.push(asm::sw(asm::A1, asm::T1, 0));
    words.extend(asm::li(asm::A0, DATA));
    words.extend(asm::li(asm::A1, 4));
    words.extend(asm::li(asm::T0, n::RETURN));
    words.push(asm::ECALL);
    ElfBuilder::new(TEXT).text(TEXT, &words).segment(DATA, PF_R | PF_W, vec![0; 4], 0x1000).build()
}

/// Runs `code` as a top-level frame with `config`.
fn run(config: &EngineConfig, code: &[u8]) -> ExecutionResult {
    let message = Message { gas: 1_000_000, recipient: Address([0xc0; 24]), ..Message::default() };
    execute_with(config, &mut MockHost::new(), Revision::LATEST, &message, code)
}

/// The cache's statistics, checked against its byte budget.
fn within_budget(when: &str) -> ProgramCacheStats {
    let stats = program_cache_stats();
    assert!(stats.bytes <= stats.max_bytes, "{when}: {stats:?}");
    stats
}

#[test]
fn cached_programs_stay_within_the_byte_budget_and_evicted_ones_run_again_alike() {
    // Every program is queued for the background compiler at its first
    // frame.
    let config = EngineConfig { jit_threshold: 0, ..EngineConfig::default() };
    let counts = 100..106;
    let programs: Vec<Vec<u8>> = counts.clone().map(summing).collect();
    let expected: Vec<Vec<u8>> = counts.map(|count| (count * (count + 1) / 2).to_le_bytes().to_vec()).collect();

    // What one program weighs in the cache, before and after it is
    // compiled (all weigh the same: they differ only in immediates).
    assert_eq!(program_cache_stats().programs, 0, "a fresh process");
    program_stats(&programs[0]).expect("loads");
    let interpreted = program_cache_stats().bytes;
    let mut first = vec![run(&config, &programs[0])];
    assert!(wait_for_background_compiles(COMPILES));
    let compiled = program_cache_stats().bytes;
    let native = athena_jit::is_supported();
    if native {
        assert!(program_stats(&programs[0]).expect("cached").compiled);
        assert!(compiled > interpreted, "native code counts: {compiled} vs {interpreted}");
    }

    // Room for one compiled program and one that is not (yet): loading the
    // next program fits, but its native code does not, so attaching it
    // must evict the previous program at once.
    set_program_cache_bounds(100, compiled + interpreted);
    within_budget("bounds set");
    for (index, program) in programs.iter().enumerate().skip(1) {
        first.push(run(&config, program));
        within_budget(&format!("program {index} ran"));
        assert!(wait_for_background_compiles(COMPILES));
        let stats = within_budget(&format!("program {index} compiled"));
        if native {
            assert_eq!(stats.programs, 1, "program {index} compiled: {stats:?}");
        }
    }
    for (result, output) in first.iter().zip(&expected) {
        assert_eq!((result.status, &result.output), (StatusCode::Success, output));
    }

    // By the time it runs again, each program was evicted (the cache has
    // room for two, and others ran since, the last one's loaded or
    // compiled successor included): it runs again, reloaded, with the same
    // result and gas, first interpreted, then (once compiled) natively from
    // entry.
    for (index, program) in programs.iter().enumerate() {
        let misses = program_cache_stats().misses;
        assert_eq!(run(&config, program), first[index], "program {index} again");
        assert_eq!(program_cache_stats().misses, misses + 1, "program {index} was evicted and reloaded");
        within_budget(&format!("program {index} ran again"));
        assert!(wait_for_background_compiles(COMPILES));
        within_budget(&format!("program {index} compiled again"));
        assert_eq!(run(&config, program), first[index], "program {index} compiled");
        assert_eq!(program_stats(program).expect("cached").compiled, native, "program {index}");
        within_budget(&format!("program {index} ran compiled"));
    }
}

//! Tiered execution: the process-wide program cache, and the choice, per
//! frame, between the fast interpreter and native code from `athena-jit`.
//!
//! Compiling costs ~120–170 ns per instruction slot of the program (~0.3
//! ms for a small contract), and native code saves ~1.25–1.8 ns per guest
//! instruction executed (docs/jit.md, *In the engine*).
//! So a program is compiled once it has earned it: when the instructions
//! its frames ran on the interpreter reach [`EngineConfig::jit_threshold`]
//! times its slot count — about the point where interpreting has cost as
//! much as compiling would (so neither choice costs more than twice the
//! better one, whatever comes next). The count is checked at frame entry
//! (many short calls) and inside a frame: the interpreter runs for a slice
//! of the gas, the threshold's remainder, and when the slice is spent the
//! frame compiles the program and continues on native code from the exact
//! state it paused in (one long call). Either way the result is the same
//! as on any engine.
//!
//! [`EngineConfig::jit_threshold`]: crate::EngineConfig::jit_threshold

use athena_jit::JitProgram;
use athena_vm::{Environment, LoadError, Machine, Outcome, Program, ProgramCache};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// A program in the process-wide cache, with what tiering knows about it.
pub(crate) struct Loaded {
    pub(crate) program: Program,
    /// Instruction slots of its code (what compiling costs is proportional
    /// to).
    slots: u64,
    /// Instructions its frames have executed on the fast interpreter so far
    /// (saturating; frames with `use_jit` off or on the reference engine
    /// are not counted).
    interpreted: AtomicU64,
    /// Native code, compiled once (by the first frame that needs it; others
    /// wait for that compilation). `None` inside: unsupported host or a
    /// failed compile, such frames interpret.
    jit: OnceLock<Option<JitProgram>>,
    /// Times `JitProgram::compile` ran for this program (0 or 1: the
    /// `OnceLock` guarantees it, [`ProgramStats`] shows it).
    compilations: AtomicU32,
}

/// What the engine knows about one cached program: how much its frames
/// have interpreted and whether it was compiled. For tools and tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProgramStats {
    /// Instruction slots of the program's code.
    pub slots: u64,
    /// Instructions its frames have executed on the interpreter in this
    /// process (frames that started, or continued, on native code count
    /// only their interpreted part).
    pub interpreted: u64,
    /// Whether native code for it exists.
    pub compiled: bool,
    /// How many times it was compiled (at most once per cache entry).
    pub compilations: u32,
}

/// How a frame picks its engine (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Policy {
    /// Interpret until the program is hot (`threshold` instructions per
    /// slot, counted over all its frames), then compile and run natively.
    Tiered { threshold: u64 },
    /// Interpret exactly `slice` gas of instructions, then switch to native
    /// code (compiling if needed), whatever the counts say: for tests of
    /// the switch.
    SwitchAfter { slice: u64 },
}

impl Loaded {
    fn new(program: Program) -> Self {
        let slots = program.code().iter().map(|region| region.len() as u64).sum();
        Self { program, slots, interpreted: AtomicU64::new(0), jit: OnceLock::new(), compilations: AtomicU32::new(0) }
    }

    /// The compiled program, compiling it the first time (outside the
    /// cache lock; concurrent first users wait for one compilation).
    fn jit(&self) -> Option<&JitProgram> {
        self.jit
            .get_or_init(|| {
                self.compilations.fetch_add(1, Ordering::Relaxed);
                JitProgram::compile(&self.program).ok()
            })
            .as_ref()
    }

    /// Runs `machine` (a fresh instance of this program) to the end with
    /// the interpreter, native code, or the one then the other.
    pub(crate) fn run<E: Environment>(&self, machine: &mut Machine<'_>, env: &mut E, policy: Policy) -> Outcome {
        let slice = match policy {
            // No native code to switch to: a slice larger than any gas.
            _ if !athena_jit::is_supported() => u64::MAX,
            Policy::SwitchAfter { slice } => slice,
            Policy::Tiered { threshold } => match self.jit.get() {
                Some(Some(jit)) => return jit.run(machine, env),
                Some(None) => u64::MAX,
                None => self.slots.saturating_mul(threshold).saturating_sub(self.interpreted.load(Ordering::Relaxed)),
            },
        };
        // A slice of 0 compiles at entry without interpreting anything.
        let finished = if slice == 0 { None } else { machine.run_fast_slice(env, slice) };
        self.count(machine.jit_instructions());
        if let Some(outcome) = finished {
            return outcome;
        }
        match self.jit() {
            Some(jit) => jit.run(machine, env),
            None => machine.run_fast(env),
        }
    }

    /// Adds a frame's interpreted instructions to the program's count.
    fn count(&self, instructions: u64) {
        let _ = self
            .interpreted
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| Some(n.saturating_add(instructions)));
    }

    fn stats(&self) -> ProgramStats {
        ProgramStats {
            slots: self.slots,
            interpreted: self.interpreted.load(Ordering::Relaxed),
            compiled: matches!(self.jit.get(), Some(Some(_))),
            compilations: self.compilations.load(Ordering::Relaxed),
        }
    }
}

/// Programs validated and pre-decoded once per process, keyed by the hash of
/// their code: nested calls into the same template (and repeated
/// transactions) skip parsing, and native code is compiled once per program.
/// The lock is held only for the lookup (and a load on a miss), never while
/// a frame runs or code compiles, so recursion and concurrent `execute`
/// calls are fine. A hit returns a program built from identical bytes, so
/// the cache never changes results.
pub(crate) fn load_program(code: &[u8]) -> Result<Arc<Loaded>, LoadError> {
    const CACHED_PROGRAMS: usize = 256;
    static CACHE: OnceLock<Mutex<ProgramCache<Loaded>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(ProgramCache::new(CACHED_PROGRAMS)));
    // A panic while holding the lock cannot leave the cache inconsistent
    // (inserts are single map operations), so a poisoned lock is reused.
    let mut cache = cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    cache.get_or_insert_with(code, || Ok(Loaded::new(Program::from_elf(code)?)))
}

/// The engine's statistics for the program with ELF bytes `code`, loading
/// it into the process-wide cache if it is not there (as a frame running
/// it would).
pub fn program_stats(code: &[u8]) -> Result<ProgramStats, LoadError> {
    Ok(load_program(code)?.stats())
}

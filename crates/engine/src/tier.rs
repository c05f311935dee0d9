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
//! better one, whatever comes next).
//!
//! The compile happens in the background: the frame that finds the program
//! hot (at entry, or when the slice of gas that was left of the threshold
//! is spent) queues it for one worker thread and keeps interpreting, in
//! slices of [`SLICE`] gas; at every frame entry and slice boundary a frame
//! looks whether native code is ready and, if so, continues on it from the
//! exact state the interpreter paused in. So no frame waits for a compile,
//! and a long call still switches mid-call. Where the result is the same on
//! every engine, *when* a frame switches never changes it.
//! [`Policy::SwitchAfter`] (tests of the exact switch) compiles in the
//! frame, synchronously, as does a frame that cannot reach the worker.
//!
//! [`EngineConfig::jit_threshold`]: crate::EngineConfig::jit_threshold

use athena_jit::JitProgram;
use athena_vm::{code_hash, CodeHash, Environment, LoadError, Machine, Outcome, Program, ProgramCache};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, Weak};
use std::time::{Duration, Instant};

/// Gas a frame interprets between two looks for native code once its
/// program is hot (and at most between two updates of the program's
/// count before that). A look costs a return from the interpreter loop and
/// an atomic load, tens of nanoseconds; 2^16 gas is ~50,000 instructions,
/// ~100–200 µs of interpreting, so the looks cost well under 0.1% and a
/// long frame notices finished native code within a fraction of what a
/// small contract's compile takes (~0.3 ms). Only when the switch happens
/// depends on it, never a result.
pub(crate) const SLICE: u64 = 1 << 16;

/// Most programs waiting for the background compiler. A program that finds
/// the queue full is not queued (its frames keep interpreting and try again
/// at their next slice boundary or entry), so memory stays bounded however
/// many programs get hot at once.
const QUEUE: usize = 64;

/// A program in the process-wide cache, with what tiering knows about it.
pub(crate) struct Loaded {
    pub(crate) program: Program,
    /// Its key in the cache (to account for its native code there once
    /// compiled).
    hash: CodeHash,
    /// Instruction slots of its code (what compiling costs is proportional
    /// to).
    slots: u64,
    /// Instructions its frames have executed on the fast interpreter so far
    /// (saturating; frames with `use_jit` off or on the reference engine
    /// are not counted).
    interpreted: AtomicU64,
    /// Native code, compiled once (by the background worker, or by a frame
    /// that compiles synchronously; anyone else who needs it meanwhile
    /// waits for that compilation). `None` inside: unsupported host or a
    /// failed compile, such frames interpret.
    jit: OnceLock<Option<JitProgram>>,
    /// Whether the program is handed to the background compiler (set once,
    /// by the frame that queues it: a program is queued at most once; reset
    /// only if the queue was full).
    queued: AtomicBool,
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
    /// Whether it is queued for, or being compiled by, the background
    /// compiler (false again once the compile finished: then `compiled`
    /// tells how it went).
    pub queued: bool,
    /// How many times it was compiled (at most once per cache entry).
    pub compilations: u32,
}

/// How a frame picks its engine (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Policy {
    /// Interpret until the program is hot (`threshold` instructions per
    /// slot, counted over all its frames), then have it compiled in the
    /// background and run natively once the code is ready.
    Tiered { threshold: u64 },
    /// Interpret exactly `slice` gas of instructions, then switch to native
    /// code (compiling if needed), whatever the counts say: for tests of
    /// the switch.
    SwitchAfter { slice: u64 },
}

impl Loaded {
    fn new(program: Program, hash: CodeHash) -> Self {
        let slots = program.code().iter().map(|region| region.len() as u64).sum();
        Self {
            program,
            hash,
            slots,
            interpreted: AtomicU64::new(0),
            jit: OnceLock::new(),
            queued: AtomicBool::new(false),
            compilations: AtomicU32::new(0),
        }
    }

    /// The compiled program, compiling it the first time (outside the
    /// cache lock; concurrent first users wait for one compilation). A
    /// compile that panics counts as failed: the program is interpreted.
    /// The compiling caller then has the cache account for the native code
    /// at once (evicting least-recently-used programs if it is now over its
    /// byte budget), so the budget holds between compiles and inserts too.
    fn jit(&self) -> Option<&JitProgram> {
        let mut compiled = false;
        let jit = self.jit.get_or_init(|| {
            compiled = true;
            self.compilations.fetch_add(1, Ordering::Relaxed);
            catch_unwind(AssertUnwindSafe(|| JitProgram::compile(&self.program).ok())).ok().flatten()
        });
        if compiled && jit.is_some() {
            // Eviction drops only the cache's `Arc`: frames running an
            // evicted program (this one included) keep it alive and whole.
            cache().entry_grew(&self.hash);
        }
        jit.as_ref()
    }

    /// What the program holds, approximately, in bytes: its segments'
    /// bytes, per instruction slot the decoded instruction and its fast
    /// engine form (counted as two decoded instructions), and its native
    /// code once compiled. For the cache's byte budget.
    fn bytes(&self) -> usize {
        let segments: usize = self.program.segments().iter().map(|segment| segment.data.len()).sum();
        let slots = usize::try_from(self.slots).unwrap_or(usize::MAX);
        let decoded = slots.saturating_mul(2 * std::mem::size_of::<athena_vm::isa::Instruction>());
        let native = self.jit.get().and_then(Option::as_ref).map_or(0, JitProgram::code_bytes);
        segments.saturating_add(decoded).saturating_add(native)
    }

    /// Gas left of the threshold before the program is hot (0: it is).
    fn until_hot(&self, threshold: u64) -> u64 {
        self.slots.saturating_mul(threshold).saturating_sub(self.interpreted.load(Ordering::Relaxed))
    }

    /// Runs `machine` (a fresh instance of this program) to the end with
    /// the interpreter, native code, or the one then the other.
    pub(crate) fn run<E: Environment>(
        self: &Arc<Self>,
        machine: &mut Machine<'_>,
        env: &mut E,
        policy: Policy,
    ) -> Outcome {
        if !athena_jit::is_supported() {
            // No native code to switch to: one slice larger than any gas.
            return self.interpret_to_end(machine, env);
        }
        match policy {
            Policy::SwitchAfter { slice } => self.switch_after(machine, env, slice),
            Policy::Tiered { threshold } => self.tiered(machine, env, threshold),
        }
    }

    /// Interprets exactly `slice` gas, then compiles in this frame and
    /// continues natively.
    fn switch_after<E: Environment>(&self, machine: &mut Machine<'_>, env: &mut E, slice: u64) -> Outcome {
        // A slice of 0 compiles at entry without interpreting anything.
        if slice > 0 {
            if let Some(outcome) = self.interpret(machine, env, slice) {
                return outcome;
            }
        }
        self.continue_compiled(machine, env)
    }

    /// The tiered policy: interpret in slices (up to the threshold while
    /// the program is cold, [`SLICE`] at most), queue the program for the
    /// background compiler once it is hot, and continue natively as soon
    /// as its code is ready.
    fn tiered<E: Environment>(self: &Arc<Self>, machine: &mut Machine<'_>, env: &mut E, threshold: u64) -> Outcome {
        // Least slice of the next pause: a slice smaller than the next
        // charge (an instruction, or the page a store allocates) pauses
        // before it without progress, so it doubles until that fits.
        let mut floor = 0;
        loop {
            match self.jit.get() {
                Some(Some(jit)) => return jit.run(machine, env),
                Some(None) => {
                    // Compiling failed: interpret the rest.
                    return self.interpret_to_end(machine, env);
                }
                None => {}
            }
            let until_hot = self.until_hot(threshold);
            if until_hot == 0 && !self.queue() {
                // No background compiler (it could not be started): compile
                // in this frame, as a synchronous policy would.
                return self.continue_compiled(machine, env);
            }
            let slice = if until_hot == 0 { SLICE } else { until_hot.min(SLICE) }.max(floor);
            let gas = machine.gas_left();
            if let Some(outcome) = self.interpret(machine, env, slice) {
                // A frame that made the program hot as it ended queues it
                // for the next ones (without a worker, the next compiles).
                if self.until_hot(threshold) == 0 {
                    self.queue();
                }
                return outcome;
            }
            floor = if machine.gas_left() == gas { slice.saturating_mul(2) } else { 0 };
        }
    }

    /// Continues a paused machine on native code, compiling the program in
    /// this frame if needed (on the interpreter if that fails).
    fn continue_compiled<E: Environment>(&self, machine: &mut Machine<'_>, env: &mut E) -> Outcome {
        match self.jit() {
            Some(jit) => jit.run(machine, env),
            None => self.interpret_to_end(machine, env),
        }
    }

    /// Interprets at most `slice` gas of instructions (see
    /// `Machine::run_fast_slice`) and adds what ran to the program's count.
    fn interpret<E: Environment>(&self, machine: &mut Machine<'_>, env: &mut E, slice: u64) -> Option<Outcome> {
        let before = machine.jit_instructions();
        let finished = machine.run_fast_slice(env, slice);
        let after = finished.as_ref().map_or_else(|| machine.jit_instructions(), |outcome| outcome.instructions);
        self.count(after.saturating_sub(before));
        finished
    }

    /// Interprets the rest of the frame (counted like any slice).
    fn interpret_to_end<E: Environment>(&self, machine: &mut Machine<'_>, env: &mut E) -> Outcome {
        // A slice larger than any gas finishes the run; `run_fast` only
        // stands in should it pause anyway.
        self.interpret(machine, env, u64::MAX).unwrap_or_else(|| machine.run_fast(env))
    }

    /// Hands the program to the background compiler unless it is already
    /// there (or compiled). False if there is no background compiler: the
    /// caller compiles.
    fn queue(self: &Arc<Self>) -> bool {
        if self.queued.load(Ordering::Relaxed)
            || self.queued.compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed).is_err()
        {
            return true;
        }
        let Some(sender) = worker() else {
            self.queued.store(false, Ordering::Release);
            return false;
        };
        PENDING.add(1);
        match sender.try_send(Arc::downgrade(self)) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                // Try again at a later slice boundary or frame entry.
                PENDING.add(-1);
                self.queued.store(false, Ordering::Release);
                true
            }
            Err(TrySendError::Disconnected(_)) => {
                PENDING.add(-1);
                self.queued.store(false, Ordering::Release);
                false
            }
        }
    }

    /// Adds a frame's interpreted instructions to the program's count.
    fn count(&self, instructions: u64) {
        let _ = self
            .interpreted
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| Some(n.saturating_add(instructions)));
    }

    fn stats(&self) -> ProgramStats {
        let compiled = self.jit.get();
        ProgramStats {
            slots: self.slots,
            interpreted: self.interpreted.load(Ordering::Relaxed),
            compiled: matches!(compiled, Some(Some(_))),
            queued: compiled.is_none() && self.queued.load(Ordering::Acquire),
            compilations: self.compilations.load(Ordering::Relaxed),
        }
    }
}

/// Most programs in the process-wide cache.
const CACHED_PROGRAMS: usize = 256;

/// Most bytes the cached programs may weigh together: 256 MiB, so a full
/// cache of 256 programs averages up to 1 MiB each (pre-decoded plus
/// native code), while a few huge programs (code up to the memory limit)
/// cannot hold gigabytes.
const CACHED_BYTES: usize = 256 << 20;

/// Programs validated and pre-decoded once per process, keyed by the hash of
/// their code: nested calls into the same template (and repeated
/// transactions) skip parsing, and native code is compiled once per program.
/// The lock is held only for the lookup (and a load on a miss), and to
/// account for native code once compiled, never while a frame runs or code
/// compiles, so recursion and concurrent `execute` calls are fine. A hit
/// returns a program built from identical bytes, so the cache never changes
/// results.
///
/// The cache holds at most [`CACHED_PROGRAMS`] programs weighing at most
/// [`CACHED_BYTES`] together (by [`Loaded::bytes`]; both adjustable with
/// [`set_program_cache_bounds`]), evicting the least recently used when a
/// program is loaded and when native code compiled for one makes the
/// programs weigh more than the budget. Evicting drops only the cache's
/// `Arc`: an evicted program still run by a frame lives until that frame is
/// done (and is still compiled if queued meanwhile; the background compiler
/// holds only a weak reference, so it skips a program no frame runs).
fn cache() -> MutexGuard<'static, ProgramCache<Loaded>> {
    static CACHE: OnceLock<Mutex<ProgramCache<Loaded>>> = OnceLock::new();
    let cache =
        CACHE.get_or_init(|| Mutex::new(ProgramCache::with_byte_budget(CACHED_PROGRAMS, CACHED_BYTES, Loaded::bytes)));
    // A panic while holding the lock cannot leave the cache inconsistent
    // (inserts and evictions are single map operations), so a poisoned lock
    // is reused.
    cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The program for ELF bytes `code`, from the process-wide cache (see
/// [`cache`]), loaded and validated on a miss.
pub(crate) fn load_program(code: &[u8]) -> Result<Arc<Loaded>, LoadError> {
    cache().get_or_insert_with(code, || Ok(Loaded::new(Program::from_elf(code)?, code_hash(code))))
}

/// What the process-wide program cache holds and how it was used: for tools
/// and tests that watch its memory (its bounds never change a result).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProgramCacheStats {
    /// Programs cached.
    pub programs: usize,
    /// What they weigh together, approximately, in bytes: segments,
    /// pre-decoded instructions and native code (saturating).
    pub bytes: usize,
    /// Most programs it holds.
    pub max_programs: usize,
    /// Most bytes they may weigh together (a program alone over it is
    /// still kept while it is the newest or just compiled).
    pub max_bytes: usize,
    /// Loads answered from the cache.
    pub hits: u64,
    /// Loads that had to parse and validate the ELF.
    pub misses: u64,
}

/// The process-wide program cache's statistics (see [`ProgramCacheStats`]).
pub fn program_cache_stats() -> ProgramCacheStats {
    let cache = cache();
    ProgramCacheStats {
        programs: cache.len(),
        bytes: cache.bytes(),
        max_programs: cache.capacity(),
        max_bytes: cache.budget(),
        hits: cache.hits(),
        misses: cache.misses(),
    }
}

/// Bounds the process-wide program cache to `programs` programs (at least
/// one) weighing at most `bytes` together, evicting least-recently-used
/// programs now if needed. The defaults (256 programs, 256 MiB) suit a
/// node; this exists for hosts with less memory to spare and for tests of
/// the bounds. It never changes a result: an evicted program is loaded
/// (and, once hot again, compiled) again when next run.
pub fn set_program_cache_bounds(programs: usize, bytes: usize) {
    cache().set_bounds(programs, bytes);
}

/// The engine's statistics for the program with ELF bytes `code`, loading
/// it into the process-wide cache if it is not there (as a frame running
/// it would).
pub fn program_stats(code: &[u8]) -> Result<ProgramStats, LoadError> {
    Ok(load_program(code)?.stats())
}

/// Programs queued for, or being compiled by, the background compiler, and
/// a condition variable signalled when the number drops to 0.
struct Pending {
    count: Mutex<usize>,
    idle: Condvar,
}

static PENDING: Pending = Pending { count: Mutex::new(0), idle: Condvar::new() };

impl Pending {
    fn lock(&self) -> std::sync::MutexGuard<'_, usize> {
        // The count is a single integer: a poisoned lock holds a valid one.
        self.count.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn add(&self, delta: isize) {
        let mut count = self.lock();
        *count = count.saturating_add_signed(delta);
        if *count == 0 {
            self.idle.notify_all();
        }
    }
}

/// The background compiler's queue, starting its thread on first use;
/// `None` if the thread could not be started.
fn worker() -> Option<&'static SyncSender<Weak<Loaded>>> {
    static WORKER: OnceLock<Option<SyncSender<Weak<Loaded>>>> = OnceLock::new();
    WORKER
        .get_or_init(|| {
            let (sender, receiver) = sync_channel(QUEUE);
            let spawned = std::thread::Builder::new().name("athena-jit".into()).spawn(move || compile_queued(receiver));
            spawned.ok().map(|_| sender)
        })
        .as_ref()
}

/// The background compiler: compiles queued programs one at a time, in
/// queue order, for as long as the process runs. A program evicted from
/// the cache and no longer run by any frame is skipped.
fn compile_queued(receiver: Receiver<Weak<Loaded>>) {
    for program in receiver {
        if let Some(program) = program.upgrade() {
            program.jit();
        }
        PENDING.add(-1);
    }
}

/// Waits until the background compiler has no queued or running compile,
/// for at most `timeout`; returns whether it got there. For tools and
/// tests that want to observe a program after it was compiled (execution
/// never needs to wait: results do not depend on when code is compiled).
pub fn wait_for_background_compiles(timeout: Duration) -> bool {
    let deadline = Instant::now().checked_add(timeout);
    let mut count = PENDING.lock();
    while *count > 0 {
        let left = match deadline {
            Some(deadline) => deadline.saturating_duration_since(Instant::now()),
            None => Duration::MAX,
        };
        if left.is_zero() {
            return false;
        }
        count = PENDING.idle.wait_timeout(count, left).unwrap_or_else(|poisoned| poisoned.into_inner()).0;
    }
    true
}

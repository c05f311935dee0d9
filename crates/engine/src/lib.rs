//! # athena-engine
//!
//! Executes one Athena message frame: loads the recipient's ELF code, runs
//! it on the [`athena_vm`] machine (the fast interpreter, and native code
//! from `athena-jit` once the program is hot, where the host supports it;
//! see [`EngineConfig::use_jit`]) with the message's gas and input,
//! serves the guest's host-function syscalls from an
//! [`athena_interface::Host`], and turns the way the run ended into an
//! [`ExecutionResult`].
//!
//! It is the layer between the bare machine (which knows instructions, memory
//! and gas) and the node (which knows accounts). Nested frames go *through
//! the host*: a guest's `CALL` (and `SPAWN`, a message of kind `Spawn`)
//! becomes [`Host::call`], and the host runs the callee — typically by
//! calling [`execute`] again — inside a checkpoint it reverts if the callee
//! fails. The engine itself owns no state.
//!
//! The guest-visible ABI is normative in `docs/syscalls.md`, gas prices in
//! `docs/gas.md`; [`abi`] and [`gas`] are their code form.
//!
//! ```no_run
//! use athena_engine::execute;
//! use athena_interface::{mock::MockHost, Message, Revision};
//! let code = std::fs::read("storage-rw.elf").unwrap();
//! let mut host = MockHost::new();
//! let message = Message { gas: 1_000_000, ..Message::default() };
//! let result = execute(&mut host, Revision::LATEST, &message, &code);
//! println!("{} {:?}", result.status, result.output);
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod abi;
mod call;
mod frame;
pub mod gas;
mod precompile;
mod program_state;
mod state;
mod tier;

use athena_interface::{ExecutionResult, Host, Message, Revision, StatusCode};
use athena_vm::{Engine, Exit, Machine, MachineConfig};
use tier::{load_program, Policy};

pub use frame::status_of_trap;
pub use tier::{
    program_cache_stats, program_stats, set_program_cache_bounds, wait_for_background_compiles, ProgramCacheStats,
    ProgramStats,
};

/// Default [`EngineConfig::max_call_depth`]. Each nested frame is a native
/// recursion (engine → host → engine) and holds its own guest memory, so
/// the limit bounds both the host's stack and its memory; 64 is ample for
/// contract composition and keeps the worst case small.
pub const DEFAULT_MAX_CALL_DEPTH: u32 = 64;

/// Default [`EngineConfig::memory_limit`]: 16 MiB of guest memory per frame.
/// With the default depth the worst case over a whole call stack is
/// 65 × 16 MiB, and every page of it is paid for with gas.
pub const DEFAULT_MEMORY_LIMIT: u32 = 16 * 1024 * 1024;

/// Default [`EngineConfig::jit_threshold`]: a program is compiled once its
/// frames have interpreted 64 instructions per instruction slot of its
/// code. Compiling a program costs ~120–170 ns per slot (~70 ns when the
/// same program is compiled again) and native code saves ~1.25 ns per
/// instruction on a small contract call, ~1.5–1.8 ns on compute, so the
/// break-even is 40–135 instructions per slot; 64 sits in it, favouring
/// hot programs (docs/jit.md, *In the engine*).
pub const DEFAULT_JIT_THRESHOLD: u32 = 64;

/// Knobs of the engine. Every node of a network must use the same values
/// for the consensus-relevant ones (`max_call_depth`, `memory_limit`);
/// `vm_engine`, `use_jit`, `jit_threshold` and `debug_output_limit` never
/// change a result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EngineConfig {
    /// Deepest allowed frame: a `CALL` from a frame at depth `d` fails with
    /// [`StatusCode::CallDepthExceeded`] (returned to the caller, which
    /// continues) when `d + 1 > max_call_depth`. A message that already has
    /// `depth > max_call_depth` is refused the same way.
    pub max_call_depth: u32,
    /// Most bytes of guest memory one frame may use (loaded image plus
    /// touched pages); exceeding it traps (`invalid_memory_access`).
    pub memory_limit: u32,
    /// Which VM engine runs the code. Both give identical results.
    pub vm_engine: Engine,
    /// Whether [`Engine::Fast`] tiers up to native code compiled by
    /// `athena-jit` where the host supports it (x86-64 Linux): on by
    /// default. A program runs on the fast interpreter until it is hot
    /// (see [`EngineConfig::jit_threshold`]), then it is compiled, once
    /// per cached program, on a background thread while its frames keep
    /// interpreting, and its frames run natively once the code is ready —
    /// new frames from entry, running ones (including the frame that made
    /// it hot) from where the interpreter paused at its next slice
    /// boundary ([`wait_for_background_compiles`] waits for pending
    /// compiles). Elsewhere, with this off, or if compiling fails, the
    /// fast interpreter runs. [`Engine::Reference`] always runs
    /// the reference interpreter. All give bit-identical results; this is
    /// an off switch (for comparisons and for hosts that must not map
    /// executable memory).
    pub use_jit: bool,
    /// How hot a program must be before it is compiled: instructions its
    /// frames ran on the interpreter (all frames of the program in this
    /// process), per instruction slot of its code. Checked at frame entry
    /// and, as gas spent (at least one per instruction), inside a frame;
    /// reaching it queues the program for the background compiler.
    /// 0 compiles every program on first use. Default
    /// [`DEFAULT_JIT_THRESHOLD`].
    pub jit_threshold: u32,
    /// How many bytes of the guest's stdout and of its stderr
    /// [`execute_traced`] keeps (0 discards them, the default: consensus
    /// execution has no use for them).
    pub debug_output_limit: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            max_call_depth: DEFAULT_MAX_CALL_DEPTH,
            memory_limit: DEFAULT_MEMORY_LIMIT,
            vm_engine: Engine::Fast,
            use_jit: true,
            jit_threshold: DEFAULT_JIT_THRESHOLD,
            debug_output_limit: 0,
        }
    }
}

/// Everything [`execute_traced`] learned about one frame: the result the
/// caller sees plus diagnostics that are not part of consensus.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    /// What [`execute`] would have returned.
    pub result: ExecutionResult,
    /// How the VM run ended; `None` if the code never ran (load error,
    /// depth refused).
    pub exit: Option<Exit>,
    /// Instructions the frame executed (not counting nested frames).
    pub instructions: u64,
    /// Guest stdout, truncated to [`EngineConfig::debug_output_limit`].
    pub stdout: Vec<u8>,
    /// Guest stderr (e.g. a panic message), truncated likewise.
    pub stderr: Vec<u8>,
}

/// Executes `message` against `code` (an ELF file) with the default
/// [`EngineConfig`]. See [`execute_with`].
///
/// This signature is what the C ABI (`athcon`) wraps; keep it stable.
pub fn execute(host: &mut dyn Host, revision: Revision, message: &Message, code: &[u8]) -> ExecutionResult {
    execute_with(&EngineConfig::default(), host, revision, message, code)
}

/// Executes `message` against `code` with explicit knobs.
///
/// * Code that does not load (not a valid RV32 ELF, or an image larger than
///   the memory limit) fails with [`StatusCode::Failure`] and `gas_left` 0:
///   a deterministic, consensus-visible outcome that costs the caller the
///   gas it offered, like any other failure.
/// * A message with `depth > max_call_depth` is refused with
///   [`StatusCode::CallDepthExceeded`] and all gas returned.
/// * Otherwise the guest runs with `message.gas` and `message.input`; the
///   exit maps to a status as documented on [`status_of_trap`] and in
///   `docs/syscalls.md`.
///
/// `revision` selects the rule set; `Frontier` is the only one so far.
pub fn execute_with(
    config: &EngineConfig,
    host: &mut dyn Host,
    revision: Revision,
    message: &Message,
    code: &[u8],
) -> ExecutionResult {
    execute_traced(config, host, revision, message, code).result
}

/// Like [`execute_with`], and also reports how the VM run ended and what the
/// guest printed: for tools, tests and debugging.
pub fn execute_traced(
    config: &EngineConfig,
    host: &mut dyn Host,
    revision: Revision,
    message: &Message,
    code: &[u8],
) -> Trace {
    let policy = Policy::Tiered { threshold: u64::from(config.jit_threshold) };
    run_frame(config, host, revision, message, code, policy)
}

/// [`execute_traced`] with a frame (not its nested frames) that interprets
/// exactly `slice` gas worth of instructions, then continues on native code
/// (compiling the program if needed), whatever the program's counts say —
/// or the whole frame on the interpreter if `use_jit` is off, the engine is
/// not [`Engine::Fast`] or the host has no recompiler. For tests of the
/// switch: the result must be the same for every `slice`.
#[doc(hidden)]
pub fn execute_switching_after(
    slice: u64,
    config: &EngineConfig,
    host: &mut dyn Host,
    revision: Revision,
    message: &Message,
    code: &[u8],
) -> Trace {
    run_frame(config, host, revision, message, code, Policy::SwitchAfter { slice })
}

fn run_frame(
    config: &EngineConfig,
    host: &mut dyn Host,
    revision: Revision,
    message: &Message,
    code: &[u8],
    policy: Policy,
) -> Trace {
    let not_run = |result| Trace { result, exit: None, instructions: 0, stdout: Vec::new(), stderr: Vec::new() };
    match revision {
        Revision::Frontier => {}
    }
    if message.depth > config.max_call_depth {
        return not_run(ExecutionResult::not_started(StatusCode::CallDepthExceeded, message.gas));
    }
    let Ok(loaded) = load_program(code) else {
        return not_run(ExecutionResult::failure(StatusCode::Failure));
    };
    let machine_config = MachineConfig { gas_limit: message.gas, memory_limit: config.memory_limit };
    let Ok(mut machine) = Machine::new(&loaded.program, machine_config) else {
        return not_run(ExecutionResult::failure(StatusCode::Failure));
    };
    let mut frame = frame::Frame::new(host, message, config);
    let outcome = if config.use_jit && config.vm_engine == Engine::Fast {
        loaded.run(&mut machine, &mut frame, policy)
    } else {
        machine.run_with(config.vm_engine, &mut frame)
    };
    let result = frame.result(&outcome);
    Trace {
        result,
        exit: Some(outcome.exit),
        instructions: outcome.instructions,
        stdout: frame.stdout,
        stderr: frame.stderr,
    }
}

//! # athena-jit
//!
//! A prototype x86-64 recompiler for the Athena VM. Each executable region
//! of a [`Program`] is translated once into native code; running a
//! [`Machine`] with it gives exactly the same [`Outcome`], registers, pc and
//! output as the reference interpreter (`Machine::run`). Design and
//! invariants: `docs/jit.md`.
//!
//! Only Linux on x86-64 is supported ([`is_supported`]); elsewhere
//! [`JitProgram::compile`] reports [`JitError::Unsupported`] and callers
//! fall back to an interpreter.
//!
//! ```no_run
//! use athena_vm::{CollectingEnvironment, Machine, MachineConfig, Program};
//! let program = Program::from_elf(&std::fs::read("fib.elf").unwrap()).unwrap();
//! let jit = athena_jit::JitProgram::compile(&program).expect("x86-64 Linux");
//! let mut machine = Machine::new(&program, MachineConfig::default()).unwrap();
//! let outcome = jit.run(&mut machine, &mut CollectingEnvironment::default());
//! # let _ = outcome;
//! ```

use athena_vm::{Environment, Machine, Outcome, Program};

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod x64;

/// Why a program could not be compiled.
#[derive(Debug, PartialEq, Eq)]
pub enum JitError {
    /// This host is not x86-64 Linux: use an interpreter.
    Unsupported,
    /// The code buffer could not be allocated or assembled.
    Assembler(String),
}

impl std::fmt::Display for JitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JitError::Unsupported => write!(f, "the recompiler only supports x86-64 Linux"),
            JitError::Assembler(e) => write!(f, "assembling native code failed: {e}"),
        }
    }
}

impl std::error::Error for JitError {}

/// Whether this host can run recompiled code.
pub const fn is_supported() -> bool {
    cfg!(all(target_arch = "x86_64", target_os = "linux"))
}

/// A program's code compiled to native code, reusable for any number of
/// machines instantiated from the same program.
pub struct JitProgram {
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    inner: x64::Compiled,
}

impl JitProgram {
    /// Compiles every executable region of `program`.
    pub fn compile(program: &Program) -> Result<Self, JitError> {
        #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
        {
            Ok(Self { inner: x64::Compiled::new(program)? })
        }
        #[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
        {
            let _ = program;
            Err(JitError::Unsupported)
        }
    }

    /// Bytes of native code this program compiled to (its per-slot entry
    /// tables take another 16 bytes per instruction slot).
    pub fn code_bytes(&self) -> usize {
        #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
        {
            self.inner.code_bytes()
        }
        #[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
        {
            unreachable!("JitProgram cannot be constructed on this host")
        }
    }

    /// Runs `machine` until the guest halts, traps or runs out of gas.
    /// Bit-identical to `Machine::run`.
    ///
    /// # Panics
    ///
    /// If `machine` was not instantiated from a program with the same code
    /// as the one compiled.
    pub fn run<E: Environment>(&self, machine: &mut Machine<'_>, env: &mut E) -> Outcome {
        #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
        {
            self.inner.run(machine, env)
        }
        #[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
        {
            let _ = (machine, env);
            unreachable!("JitProgram cannot be constructed on this host")
        }
    }
}

/// Compiles the machine's program and runs it natively; on hosts without
/// recompiler support, runs the fast interpreter instead. Either way the
/// result equals `Machine::run`.
pub fn run_jit<E: Environment>(machine: &mut Machine<'_>, env: &mut E) -> Outcome {
    match JitProgram::compile(machine.jit_program()) {
        Ok(jit) => jit.run(machine, env),
        Err(_) => machine.run_fast(env),
    }
}

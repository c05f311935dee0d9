//! # athena-vm
//!
//! A deterministic, gas-metered interpreter for RV32IM and RV32EM programs
//! compiled from ordinary Rust. It is the bottom layer of Athena: it knows
//! nothing about accounts or chains, only about instructions, memory, gas
//! and a narrow syscall boundary ([`Environment`]) where the host interface
//! plugs in.
//!
//! Determinism is a consensus property: the same program, input and gas
//! limit give the same [`Outcome`], output and final state on every host.
//! The normative description is `docs/machine.md`.
//!
//! ```no_run
//! use athena_vm::{CollectingEnvironment, Machine, MachineConfig, Program};
//! let elf = std::fs::read("hello.elf").unwrap();
//! let program = Program::from_elf(&elf).unwrap();
//! let mut machine = Machine::new(&program, MachineConfig::default()).unwrap();
//! let mut env = CollectingEnvironment::default();
//! let outcome = machine.run(&mut env);
//! println!("{:?} {}", outcome.exit, String::from_utf8_lossy(&env.stdout));
//! ```

#![forbid(unsafe_code)]

pub mod cache;
pub mod decode;
mod elf;
mod fast;
pub mod gas;
pub mod isa;
pub mod jit_support;
pub mod machine;
pub mod memory;
pub mod program;
pub mod syscall;
pub mod trap;

pub use cache::{code_hash, CodeHash, ProgramCache};
pub use isa::RegisterSet;
pub use machine::{Engine, Machine, MachineConfig};
pub use program::{LoadError, Program, Segment};
pub use syscall::{CollectingEnvironment, Environment, SyscallContext, SyscallError, SyscallOutcome};
pub use trap::{Exit, Outcome, Trap};

/// Loads and runs `elf` with `input`, collecting output: the one-call path
/// for tools and tests.
pub fn run_elf(elf: &[u8], input: &[u8], config: MachineConfig) -> Result<(Outcome, CollectingEnvironment), LoadError> {
    let program = Program::from_elf(elf)?;
    let mut machine = Machine::new(&program, config)?;
    let mut env = CollectingEnvironment::with_input(input);
    let outcome = machine.run(&mut env);
    Ok((outcome, env))
}

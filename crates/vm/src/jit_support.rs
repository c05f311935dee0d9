//! Narrow accessors for the out-of-crate recompiler (`crates/jit`).
//!
//! They expose exactly what a native-code engine needs to run a machine
//! with the same semantics as [`Machine::run_fast`]: the register array and
//! memory (for the native code), the counters it keeps in host registers,
//! and the reference stepper and syscall handler it falls back to. Nothing
//! here changes how the interpreters behave.

use crate::machine::{Machine, Stop};
use crate::memory::Memory;
use crate::program::Program;
use crate::syscall::Environment;
use crate::trap::Outcome;

/// Why a reference step or syscall ended the run (opaque; hand it back to
/// [`Machine::jit_finish`]).
pub struct JitStop(Stop);

impl JitStop {
    /// The guest halted with `code`.
    pub fn halt(code: u32) -> Self {
        JitStop(Stop::Halt(code))
    }
}

impl<'p> Machine<'p> {
    /// The program this machine was instantiated from.
    pub fn jit_program(&self) -> &'p Program {
        self.program
    }

    /// The full register slot array (`x0..x31` then padding; slot 0 is
    /// never written) and the memory, borrowed together.
    pub fn jit_regs_and_memory(&mut self) -> (&mut [u32; 64], &mut Memory) {
        (&mut self.regs, &mut self.memory)
    }

    /// Sets the program counter.
    pub fn jit_set_pc(&mut self, pc: u32) {
        self.pc = pc;
    }

    /// Sets the gas left (clamped to the limit).
    pub fn jit_set_gas_left(&mut self, left: u64) {
        self.gas.set_left(left);
    }

    /// Instructions retired so far.
    pub fn jit_instructions(&self) -> u64 {
        self.instructions
    }

    /// Sets the retired-instruction count.
    pub fn jit_set_instructions(&mut self, count: u64) {
        self.instructions = count;
    }

    /// One reference step at the current pc (fetch, charge, execute, retire).
    pub fn jit_step<E: Environment>(&mut self, env: &mut E) -> Result<(), JitStop> {
        self.step(env).map_err(JitStop)
    }

    /// Handles the `ECALL` at `pc` exactly as the engines do (the caller
    /// has already charged and not yet counted the instruction itself);
    /// `Ok(Some(code))` when the guest halts.
    pub fn jit_ecall<E: Environment>(&mut self, pc: u32, env: &mut E) -> Result<Option<u32>, JitStop> {
        self.ecall(pc, env).map_err(JitStop)
    }

    /// Ends the run: turns the stop into its [`Outcome`].
    pub fn jit_finish(&mut self, stop: JitStop) -> Outcome {
        self.finish(stop.0)
    }
}

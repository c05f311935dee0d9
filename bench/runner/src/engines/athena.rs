//! ATHENA ENGINE SLOT: Athena's own VM (`crates/vm`, feature `athena`).
//!
//! `athena` runs the default (fast) engine, `athena-ref` the reference
//! interpreter, `athena-jit` the x86-64 recompiler (`crates/jit`: compiled
//! once in `load`, then `JitProgram::run` per run). `athena-im` and
//! `athena-jit-im` are the fast interpreter and the recompiler on the same
//! guest built for riscv32im (32 registers instead of RV32E's 16): what the
//! register spills of RV32E cost, measured. The guest is `bench/guests/athena` (riscv32em ELF): it reads
//! the workload id (u32 LE) with INPUT_LEN/INPUT_READ, WRITEs the 8-byte LE
//! checksum to fd 1 and HALTs with 0. This file is the only place that
//! touches the `athena-vm` API; adjust it here when that API changes.

use athena_jit::JitProgram;
use athena_vm::{CollectingEnvironment, Exit, Machine, MachineConfig, Program};
use bench_workloads::Workload;

use super::{Engine, EngineSpec, RunOutput, BUDGET};

/// Specs of the Athena engines.
pub const SPECS: [EngineSpec; 5] = [
    EngineSpec {
        name: "athena",
        artifact: Some("athena.elf"),
        load_artifact: Some("athena-load.elf"),
        work_unit: "instr",
        note: "athena-vm default engine (Engine::Fast), gas metered, riscv32em guest",
    },
    EngineSpec {
        name: "athena-ref",
        artifact: Some("athena.elf"),
        load_artifact: Some("athena-load.elf"),
        work_unit: "instr",
        note: "athena-vm reference interpreter (Engine::Reference), gas metered, riscv32em guest",
    },
    EngineSpec {
        name: "athena-jit",
        artifact: Some("athena.elf"),
        load_artifact: Some("athena-load.elf"),
        work_unit: "instr",
        note: "athena-jit x86-64 recompiler (compiled in load), gas metered, riscv32em guest",
    },
    EngineSpec {
        name: "athena-im",
        artifact: Some("athena-im.elf"),
        load_artifact: Some("athena-im-load.elf"),
        work_unit: "instr",
        note: "as `athena`, on the same guest built for riscv32im (32 registers: fewer spills)",
    },
    EngineSpec {
        name: "athena-jit-im",
        artifact: Some("athena-im.elf"),
        load_artifact: Some("athena-im-load.elf"),
        work_unit: "instr",
        note: "as `athena-jit`, on the same guest built for riscv32im",
    },
];

/// Creates engine `name` (one of [`SPECS`]) for the ELF `elf`.
pub fn create(name: &str, elf: Vec<u8>) -> Result<Box<dyn Engine>, String> {
    let (engine, use_jit) = match name {
        "athena" | "athena-im" => (athena_vm::Engine::Fast, false),
        "athena-ref" => (athena_vm::Engine::Reference, false),
        "athena-jit" | "athena-jit-im" => (athena_vm::Engine::Fast, true),
        _ => return Err(format!("unknown Athena engine `{name}`")),
    };
    if use_jit && !athena_jit::is_supported() {
        return Err("athena-jit needs an x86-64 Linux host".into());
    }
    Ok(Box::new(Athena { elf, engine, use_jit, program: None, jit: None }))
}

/// Athena holding the riscv32em (or riscv32im) guest.
struct Athena {
    elf: Vec<u8>,
    engine: athena_vm::Engine,
    /// Run `jit` instead of `engine`.
    use_jit: bool,
    program: Option<Program>,
    jit: Option<JitProgram>,
}

impl Athena {
    /// A fresh machine for the prepared program with the full gas budget.
    fn machine(&self) -> Result<Machine<'_>, String> {
        let program = self.program.as_ref().ok_or("not loaded")?;
        let config = MachineConfig { gas_limit: BUDGET, ..MachineConfig::default() };
        Machine::new(program, config).map_err(|e| e.to_string())
    }
}

impl Engine for Athena {
    fn load(&mut self) -> Result<bool, String> {
        self.jit = None;
        let program = Program::from_elf(&self.elf).map_err(|e| e.to_string())?;
        if self.use_jit {
            self.jit = Some(JitProgram::compile(&program).map_err(|e| e.to_string())?);
        }
        self.program = Some(program);
        Ok(true)
    }

    fn instantiate(&mut self) -> Result<(), String> {
        self.machine().map(drop)
    }

    fn run(&mut self, workload: Workload) -> Result<RunOutput, String> {
        let mut machine = self.machine()?;
        let mut env = CollectingEnvironment::with_input((workload as u32).to_le_bytes());
        let outcome = match &self.jit {
            Some(jit) => jit.run(&mut machine, &mut env),
            None => machine.run_with(self.engine, &mut env),
        };
        match outcome.exit {
            Exit::Halted { code: 0 } => {}
            other => return Err(format!("guest ended with {other:?}")),
        }
        let bytes: [u8; 8] = env.stdout.get(..8).and_then(|b| b.try_into().ok()).ok_or("guest wrote no checksum")?;
        Ok(RunOutput { checksum: u64::from_le_bytes(bytes), work: Some(outcome.instructions) })
    }
}

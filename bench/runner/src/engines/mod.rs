//! The engines the bench compares, behind one small trait.
//!
//! Each engine owns one guest artifact (read from the guests directory, not
//! timed): the full guest ([`Guest::Full`], every workload) or the smaller
//! `load` program ([`Guest::Load`]). It prepares it in [`Engine::load`]
//! (timed as the `load` task) and runs a workload in [`Engine::run`]
//! (timed: instantiate a fresh instance from the prepared program, then
//! execute to completion). The `cold` task times [`Engine::load`] +
//! [`Engine::instantiate`]: bytes to a ready-to-run instance, comparable
//! across engines that split the work between the two steps differently.

use std::path::Path;

use bench_workloads::Workload;

#[cfg(feature = "athena")]
mod athena;
mod ckbvm;
mod native;
mod polkavm;
mod wasmi;

/// Gas/fuel/cycle budget given to every metered run: large enough never to
/// run out, so metering is on but never the reason a run stops.
pub const BUDGET: u64 = 1 << 40;

/// What one run produced.
#[derive(Clone, Copy, Debug)]
pub struct RunOutput {
    /// The workload's checksum as the guest reported it.
    pub checksum: u64,
    /// Guest work units consumed (see [`EngineSpec::work_unit`]), if exposed.
    pub work: Option<u64>,
}

/// Which of an engine's two guest programs, built from the same sources
/// (`bench/guests`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guest {
    /// Every workload: what the run tasks execute (`load-full`/`cold-full`).
    Full,
    /// The `load` program, only [`bench_workloads::LOAD_PROGRAM`]'s
    /// workloads, about 50 KiB as Athena's riscv32em ELF (`load`/`cold`).
    Load,
}

/// A benchmarkable engine holding one guest program.
pub trait Engine {
    /// Parses, validates and prepares the program (replacing any prepared
    /// one). Engines with nothing to load return `Ok(false)`.
    fn load(&mut self) -> Result<bool, String>;
    /// Creates a fresh instance of the prepared program, ready to run, and
    /// drops it without running (the instantiate half of [`Engine::run`]).
    fn instantiate(&mut self) -> Result<(), String>;
    /// Instantiates the prepared program and runs `workload` to completion.
    /// [`Engine::load`] must have succeeded first.
    fn run(&mut self, workload: Workload) -> Result<RunOutput, String>;
}

/// Static description of an engine.
#[derive(Clone, Copy, Debug)]
pub struct EngineSpec {
    /// Name used on the command line and in reports.
    pub name: &'static str,
    /// The full guest's file name inside the guests directory (none: native).
    pub artifact: Option<&'static str>,
    /// The `load` program's file name inside the guests directory.
    pub load_artifact: Option<&'static str>,
    /// What [`RunOutput::work`] counts.
    pub work_unit: &'static str,
    /// One-line configuration note for the report.
    pub note: &'static str,
}

impl EngineSpec {
    /// File name of `guest` inside the guests directory (none: native).
    pub fn artifact_for(&self, guest: Guest) -> Option<&'static str> {
        match guest {
            Guest::Full => self.artifact,
            Guest::Load => self.load_artifact,
        }
    }
}

/// Every engine this build knows, in report order.
pub fn specs() -> Vec<EngineSpec> {
    let mut v = vec![native::SPEC];
    #[cfg(feature = "athena")]
    v.extend(athena::SPECS);
    #[cfg(not(feature = "athena"))]
    v.push(ATHENA_SLOT);
    v.extend([wasmi::SPEC, ckbvm::SPEC_INTERP, ckbvm::SPEC_ASM, polkavm::SPEC_INTERP, polkavm::SPEC_COMPILER]);
    v
}

/// The Athena slot when the bench is built without the `athena` feature.
#[cfg(not(feature = "athena"))]
pub const ATHENA_SLOT: EngineSpec = EngineSpec {
    name: "athena",
    artifact: Some("athena.elf"),
    load_artifact: Some("athena-load.elf"),
    work_unit: "instr",
    note: "not built in: rebuild the runner with `--features athena`",
};

/// Creates engine `name` holding its `guest` artifact from `guests`.
pub fn create(name: &str, guests: &Path, guest: Guest) -> Result<Box<dyn Engine>, String> {
    let spec = specs().into_iter().find(|s| s.name == name).ok_or_else(|| format!("unknown engine `{name}`"))?;
    let bytes = match spec.artifact_for(guest) {
        Some(file) => {
            let path = guests.join(file);
            std::fs::read(&path).map_err(|e| format!("reading {}: {e}", path.display()))?
        }
        None => Vec::new(),
    };
    match name {
        "native" => Ok(Box::new(native::Native)),
        #[cfg(feature = "athena")]
        n if n.starts_with("athena") => athena::create(n, bytes),
        "wasmi" => Ok(Box::new(wasmi::Wasmi::new(bytes)?)),
        "ckb-vm-interp" => Ok(Box::new(ckbvm::CkbVm::new(bytes, false))),
        "ckb-vm-asm" => Ok(Box::new(ckbvm::CkbVm::new(bytes, true))),
        "polkavm-interp" => Ok(Box::new(polkavm::PolkaVm::new(bytes, ::polkavm::BackendKind::Interpreter)?)),
        "polkavm-compiler" => Ok(Box::new(polkavm::PolkaVm::new(bytes, ::polkavm::BackendKind::Compiler)?)),
        _ => Err(format!("engine `{name}` is not built into this runner ({})", spec.note)),
    }
}

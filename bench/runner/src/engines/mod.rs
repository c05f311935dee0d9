//! The engines the bench compares, behind one small trait.
//!
//! Each engine owns its guest artifact (read from the guests directory, not
//! timed), prepares it in [`Engine::load`] (timed as the `load` workload)
//! and runs a workload in [`Engine::run`] (timed: instantiate a fresh
//! instance from the prepared program, then execute to completion). The
//! `cold` task times [`Engine::load`] + [`Engine::instantiate`]: bytes to a
//! ready-to-run instance, comparable across engines that split the work
//! between the two steps differently.

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
    /// Guest artifact file name inside the guests directory (none: native).
    pub artifact: Option<&'static str>,
    /// What [`RunOutput::work`] counts.
    pub work_unit: &'static str,
    /// One-line configuration note for the report.
    pub note: &'static str,
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
    work_unit: "instr",
    note: "not built in: rebuild the runner with `--features athena`",
};

/// Creates engine `name` with its artifact from `guests`.
pub fn create(name: &str, guests: &Path) -> Result<Box<dyn Engine>, String> {
    let spec = specs().into_iter().find(|s| s.name == name).ok_or_else(|| format!("unknown engine `{name}`"))?;
    let bytes = match spec.artifact {
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

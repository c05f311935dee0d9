//! PolkaVM 0.37: interpreter and (on Linux x86-64) compiler backends, with
//! synchronous gas metering on. The guest is the ELF converted to a
//! `.polkavm` blob by `polkavm-linker` ahead of time.

use bench_workloads::Workload;
use polkavm::{ArcBytes, BackendKind, Config, GasMeteringKind, InterruptKind, Module, ModuleConfig, ProgramCounter};

use super::{Engine, EngineSpec, RunOutput, BUDGET};

/// Spec of the interpreter backend.
pub const SPEC_INTERP: EngineSpec = EngineSpec {
    name: "polkavm-interp",
    artifact: Some("guest.polkavm"),
    load_artifact: Some("load.polkavm"),
    work_unit: "gas",
    note: "polkavm 0.37 interpreter, sync gas metering, default cost model",
};

/// Spec of the compiler backend.
pub const SPEC_COMPILER: EngineSpec = EngineSpec {
    name: "polkavm-compiler",
    artifact: Some("guest.polkavm"),
    load_artifact: Some("load.polkavm"),
    work_unit: "gas",
    note: "polkavm 0.37 x86-64 compiler in its Linux sandbox, sync gas metering, default cost model",
};

/// PolkaVM holding the linked guest blob.
pub struct PolkaVm {
    engine: polkavm::Engine,
    blob: ArcBytes,
    module: Option<(Module, ProgramCounter)>,
}

impl PolkaVm {
    /// An engine with `backend` for the blob `blob`.
    pub fn new(blob: Vec<u8>, backend: BackendKind) -> Result<Self, String> {
        let mut config = Config::new();
        config.set_backend(Some(backend));
        let engine = polkavm::Engine::new(&config).map_err(|e| format!("creating the {backend} engine: {e}"))?;
        Ok(Self { engine, blob: blob.into(), module: None })
    }
}

impl Engine for PolkaVm {
    fn load(&mut self) -> Result<bool, String> {
        let mut config = ModuleConfig::new();
        config.set_gas_metering(Some(GasMeteringKind::Sync));
        let module = Module::new(&self.engine, &config, self.blob.clone()).map_err(|e| e.to_string())?;
        let pc = module
            .exports()
            .find(|e| e.symbol().as_bytes() == b"run")
            .map(|e| e.program_counter())
            .ok_or("the blob exports no `run`")?;
        self.module = Some((module, pc));
        Ok(true)
    }

    fn instantiate(&mut self) -> Result<(), String> {
        let (module, _) = self.module.as_ref().ok_or("not loaded")?;
        module.instantiate().map(drop).map_err(|e| e.to_string())
    }

    fn run(&mut self, workload: Workload) -> Result<RunOutput, String> {
        let (module, pc) = self.module.as_ref().ok_or("not loaded")?;
        let mut instance = module.instantiate().map_err(|e| e.to_string())?;
        let budget = BUDGET as i64;
        instance.set_gas(budget);
        instance.prepare_call_typed(*pc, (workload as u32,));
        loop {
            match instance.run().map_err(|e| e.to_string())? {
                InterruptKind::Finished => break,
                InterruptKind::Step => continue,
                other => return Err(format!("guest stopped: {other:?}")),
            }
        }
        let checksum: u64 = instance.get_result_typed();
        Ok(RunOutput { checksum, work: Some((budget - instance.gas()) as u64) })
    }
}

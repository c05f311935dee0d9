//! wasmi 2 with fuel metering on, eager compilation.

use bench_workloads::Workload;
use wasmi::{CompilationMode, Config, Instance, Linker, Module, Store};

use super::{Engine, EngineSpec, RunOutput, BUDGET};

/// Spec of the wasmi engine.
pub const SPEC: EngineSpec = EngineSpec {
    name: "wasmi",
    artifact: Some("guest.wasm"),
    load_artifact: Some("load.wasm"),
    work_unit: "fuel",
    note: "wasmi 2, fuel metering on, eager compilation (load = validate + translate)",
};

/// wasmi holding the wasm32 guest.
pub struct Wasmi {
    engine: wasmi::Engine,
    wasm: Vec<u8>,
    module: Option<Module>,
}

impl Wasmi {
    /// An engine for the wasm guest `wasm`.
    pub fn new(wasm: Vec<u8>) -> Result<Self, String> {
        let mut config = Config::default();
        config.consume_fuel(true).compilation_mode(CompilationMode::Eager);
        Ok(Self { engine: wasmi::Engine::new(&config), wasm, module: None })
    }
}

impl Wasmi {
    /// A fresh store with the full fuel budget and an instance in it.
    fn instance(&self) -> Result<(Store<()>, Instance), String> {
        let module = self.module.as_ref().ok_or("not loaded")?;
        let mut store = Store::new(&self.engine, ());
        store.set_fuel(BUDGET).map_err(|e| e.to_string())?;
        let instance =
            Linker::<()>::new(&self.engine).instantiate_and_start(&mut store, module).map_err(|e| e.to_string())?;
        Ok((store, instance))
    }
}

impl Engine for Wasmi {
    fn load(&mut self) -> Result<bool, String> {
        self.module = Some(Module::new(&self.engine, &self.wasm).map_err(|e| e.to_string())?);
        Ok(true)
    }

    fn instantiate(&mut self) -> Result<(), String> {
        self.instance().map(drop)
    }

    fn run(&mut self, workload: Workload) -> Result<RunOutput, String> {
        let (mut store, instance) = self.instance()?;
        let run = instance.get_typed_func::<u32, u64>(&store, "run").map_err(|e| e.to_string())?;
        let checksum = run.call(&mut store, workload as u32).map_err(|e| e.to_string())?;
        let fuel_left = store.get_fuel().map_err(|e| e.to_string())?;
        Ok(RunOutput { checksum, work: Some(BUDGET - fuel_left) })
    }
}

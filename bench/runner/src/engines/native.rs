//! Native Rust: the workload functions called directly (the physical limit).

use bench_workloads::Workload;

use super::{Engine, EngineSpec, RunOutput};

/// Spec of the native engine.
pub const SPEC: EngineSpec = EngineSpec {
    name: "native",
    artifact: None,
    load_artifact: None,
    work_unit: "-",
    note: "workload functions called directly in the runner (x86-64, portable code paths)",
};

/// The native "engine".
pub struct Native;

impl Engine for Native {
    fn load(&mut self) -> Result<bool, String> {
        Ok(false)
    }

    fn instantiate(&mut self) -> Result<(), String> {
        Ok(())
    }

    fn run(&mut self, workload: Workload) -> Result<RunOutput, String> {
        let checksum = std::hint::black_box(std::hint::black_box(workload).run());
        Ok(RunOutput { checksum, work: None })
    }
}

//! CKB-VM 0.24: the Rust trace interpreter and the x86-64 `asm` machine,
//! both with CKB's mainnet ISA (IMC + A + B + MOP, VERSION2) and a cycle
//! function of 1 per instruction, so cycles count executed instructions.

use std::sync::{Arc, Mutex};

use bench_workloads::Workload;
use ckb_vm::elf::{parse_elf, ProgramMetadata};
use ckb_vm::machine::asm::{AsmCoreMachine, AsmMachine};
use ckb_vm::machine::trace::TraceMachine;
use ckb_vm::machine::{DefaultCoreMachine, DefaultMachineBuilder, DefaultMachineRunner, VERSION2};
use ckb_vm::memory::sparse::SparseMemory;
use ckb_vm::memory::wxorx::WXorXMemory;
use ckb_vm::registers::{A0, A7};
use ckb_vm::{Bytes, Register, SupportMachine, Syscalls};

use super::{Engine, EngineSpec, RunOutput, BUDGET};

/// Spec of the Rust interpreter.
pub const SPEC_INTERP: EngineSpec = EngineSpec {
    name: "ckb-vm-interp",
    artifact: Some("ckbvm.elf"),
    load_artifact: Some("ckbvm-load.elf"),
    work_unit: "cycles",
    note: "ckb-vm 0.24 TraceMachine over WXorX<SparseMemory>, riscv64imac guest, 1 cycle per decoded op (MOP-fused pairs count once)",
};

/// Spec of the asm machine.
pub const SPEC_ASM: EngineSpec = EngineSpec {
    name: "ckb-vm-asm",
    artifact: Some("ckbvm.elf"),
    load_artifact: Some("ckbvm-load.elf"),
    work_unit: "cycles",
    note: "ckb-vm 0.24 AsmMachine (x86-64 assembly interpreter), riscv64imac guest, 1 cycle per decoded op (MOP-fused pairs count once)",
};

const ISA: u8 = ckb_vm::ISA_IMC | ckb_vm::ISA_A | ckb_vm::ISA_B | ckb_vm::ISA_MOP;
/// The guest's custom "report checksum" syscall (a0 = checksum).
const REPORT: u64 = 9000;

/// Catches the guest's checksum report.
struct Report(Arc<Mutex<Option<u64>>>);

impl<Mac: SupportMachine> Syscalls<Mac> for Report {
    fn initialize(&mut self, _machine: &mut Mac) -> Result<(), ckb_vm::Error> {
        Ok(())
    }

    fn ecall(&mut self, machine: &mut Mac) -> Result<bool, ckb_vm::Error> {
        if machine.registers()[A7].to_u64() != REPORT {
            return Ok(false);
        }
        *self.0.lock().unwrap() = Some(machine.registers()[A0].to_u64());
        Ok(true)
    }
}

/// CKB-VM holding the riscv64 guest.
pub struct CkbVm {
    code: Bytes,
    asm: bool,
    metadata: Option<ProgramMetadata>,
}

impl CkbVm {
    /// An engine for the ELF `elf`; `asm` picks the asm machine.
    pub fn new(elf: Vec<u8>, asm: bool) -> Self {
        Self { code: elf.into(), asm, metadata: None }
    }
}

fn args(workload: Workload) -> impl ExactSizeIterator<Item = Result<Bytes, ckb_vm::Error>> {
    [Bytes::from_static(b"bench"), Bytes::from((workload as u32).to_string())].into_iter().map(Ok)
}

type Trace = TraceMachine<DefaultCoreMachine<u64, WXorXMemory<SparseMemory<u64>>>>;
type Asm = AsmMachine<Box<AsmCoreMachine>>;

impl CkbVm {
    fn metadata(&self) -> Result<&ProgramMetadata, String> {
        self.metadata.as_ref().ok_or_else(|| "not loaded".to_string())
    }

    /// A fresh asm machine with the program loaded; the checksum lands in `slot`.
    fn asm_machine(&self, workload: Workload, slot: &Arc<Mutex<Option<u64>>>) -> Result<Asm, String> {
        let core = <Box<AsmCoreMachine> as SupportMachine>::new(ISA, VERSION2, BUDGET);
        let machine = DefaultMachineBuilder::new(core)
            .instruction_cycle_func(Box::new(|_| 1))
            .syscall(Box::new(Report(slot.clone())))
            .build();
        let mut machine = AsmMachine::new(machine);
        machine.load_program_with_metadata(&self.code, self.metadata()?, args(workload)).map_err(|e| e.to_string())?;
        Ok(machine)
    }

    /// A fresh trace-interpreter machine with the program loaded.
    fn trace_machine(&self, workload: Workload, slot: &Arc<Mutex<Option<u64>>>) -> Result<Trace, String> {
        let core = DefaultCoreMachine::<u64, WXorXMemory<SparseMemory<u64>>>::new(ISA, VERSION2, BUDGET);
        let machine = DefaultMachineBuilder::new(core)
            .instruction_cycle_func(Box::new(|_| 1))
            .syscall(Box::new(Report(slot.clone())))
            .build();
        let mut machine = TraceMachine::new(machine);
        machine.load_program_with_metadata(&self.code, self.metadata()?, args(workload)).map_err(|e| e.to_string())?;
        Ok(machine)
    }
}

impl Engine for CkbVm {
    fn load(&mut self) -> Result<bool, String> {
        self.metadata = Some(parse_elf::<u64>(&self.code, VERSION2).map_err(|e| e.to_string())?);
        Ok(true)
    }

    fn instantiate(&mut self) -> Result<(), String> {
        let slot = Arc::default();
        if self.asm {
            self.asm_machine(Workload::Sieve, &slot).map(drop)
        } else {
            self.trace_machine(Workload::Sieve, &slot).map(drop)
        }
    }

    fn run(&mut self, workload: Workload) -> Result<RunOutput, String> {
        let slot = Arc::default();
        let (exit, cycles) = if self.asm {
            let mut machine = self.asm_machine(workload, &slot)?;
            (machine.run().map_err(|e| e.to_string())?, machine.machine.cycles())
        } else {
            let mut machine = self.trace_machine(workload, &slot)?;
            (machine.run().map_err(|e| e.to_string())?, machine.machine.cycles())
        };
        if exit != 0 {
            return Err(format!("guest exited with {exit}"));
        }
        let checksum = slot.lock().unwrap().ok_or("guest did not report a checksum")?;
        Ok(RunOutput { checksum, work: Some(cycles) })
    }
}

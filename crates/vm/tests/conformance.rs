//! Per-instruction conformance tests for the Athena VM, written against the
//! RISC-V specification and `docs/machine.md` (not against the VM's own
//! code): a small assembler, a harness that runs every snippet on both
//! engines, and table-driven tests per instruction class. Every test runs in
//! both register sets (RV32I and RV32E).

#[path = "conformance/asm.rs"]
mod asm;
#[path = "conformance/harness.rs"]
mod harness;

#[path = "conformance/alu.rs"]
mod alu;
#[path = "conformance/control.rs"]
mod control;
#[path = "conformance/gas.rs"]
mod gas;
#[path = "conformance/memory.rs"]
mod memory;
#[path = "conformance/muldiv.rs"]
mod muldiv;
#[path = "conformance/rv32e.rs"]
mod rv32e;
#[path = "conformance/system.rs"]
mod system;

//! The guest memory layout this runtime relies on.
//!
//! These constants mirror the VM's (`docs/machine.md`); they are repeated
//! here because the guest cannot depend on the host crates.

/// Initial stack pointer set by `_start`; the stack grows down from here.
/// `_start` sets it itself rather than trusting any register at entry.
pub const STACK_TOP: usize = 0x8000_0000;

/// Lowest address of the region the VM reserves for the stack
/// (`0x7FF0_0000..0x8000_0000`). The heap never grows past it.
pub const STACK_BOTTOM: usize = 0x7FF0_0000;

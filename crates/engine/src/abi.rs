//! The guest-visible host-function ABI: syscall numbers, length bounds and
//! record layouts. They live in the dependency-free `athena-abi` crate so
//! that the engine, the VM and the guest runtime share one copy;
//! `docs/syscalls.md` is the normative text.

pub use athena_abi::*;

//! # athcon
//!
//! The C ABI of the Athena VM ("Athena connector"), declared in
//! `include/athcon.h` and specified in `docs/athcon.md`.
//!
//! Built as a `cdylib` (`libathcon.so`, exporting `athcon_create_athenavm`
//! and `athcon_create`) for hosts written in C, Go or anything with a C FFI,
//! and as an `rlib` for Rust users:
//!
//! * [`ffi`] — `#[repr(C)]` mirrors of every type in the header;
//! * the VM side (`athcon_create*`): adapts the caller's C host table into
//!   an [`athena_interface::Host`] and runs frames on the engine;
//! * [`client`] — the host side in Rust: loads any athcon library by the
//!   loader rule and drives it with a Rust `Host` (used by
//!   `athcon-vmtester` and the tests, which thereby need no `unsafe`).
//!
//! This is the only crate of the workspace that uses `unsafe`; every
//! `unsafe` block states why it is sound.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]
#![allow(non_camel_case_types)]

mod chost;
pub mod client;
mod engine;
pub mod ffi;
mod vm;

pub use engine::EngineChoice;
pub use vm::{apply_option, athcon_create, athcon_create_athenavm, Options, VM_NAME, VM_VERSION};

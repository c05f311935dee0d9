//! Builds Athena guest programs: Rust crates compiled to
//! `riscv32em-unknown-none-elf` (the default) or `riscv32im-unknown-none-elf`
//! ELF executables that the VM loads.
//!
//! Guests need a toolchain that can rebuild `core` and `alloc` for a
//! tier-3 target (`-Zbuild-std`), which the host's stable toolchain cannot.
//! This crate finds one ([`GuestToolchain::detect`]), runs its cargo with a
//! scrubbed environment (so a build started from inside `cargo test`
//! is not polluted by the outer cargo) and reports the ELF files produced.
//! It backs `athena build` and every test that runs a real guest.
//!
//! ```no_run
//! use athena_guest_builder::{build_examples, GuestTarget};
//! let examples = build_examples(GuestTarget::Rv32em)?;
//! let hello_elf = examples.path("hello").expect("hello is an example");
//! # Ok::<(), athena_guest_builder::BuildError>(())
//! ```
//!
//! See `docs/guest-toolchain.md` for the toolchain routes, the guest
//! runtime's ABI and the memory layout.

mod builder;
mod env;
mod error;
mod examples;
mod target;
mod toolchain;

pub use builder::{build, BuildOutput, BuildRequest, GuestBinary};
pub use env::{is_polluting_var, scrub_env};
pub use error::{BuildError, ToolchainError};
pub use examples::{
    build_examples, default_target_dir, example_elf, guest_workspace_dir, target_dir_override, Examples, ASM_EXAMPLES,
    EXAMPLES, TARGET_DIR_ENV, TEMPLATES,
};
pub use target::{GuestTarget, UnknownTarget};
pub use toolchain::{
    GuestToolchain, Probe, SystemProbe, ToolchainKind, INSTALL_HINT, OVERRIDE_CARGO_ENV, OVERRIDE_LINKER_ENV,
    OVERRIDE_RUSTC_ENV,
};

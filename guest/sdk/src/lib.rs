//! # athena-sdk
//!
//! Write Athena programs as ordinary Rust. A **template** is a single,
//! ordinary Rust struct: its fields are the program's immutable state (the
//! SCALE-encoded "spawn arguments"), and the methods of its `#[template]`
//! impl block marked `#[callable]` are the entry points, chosen by a
//! 4-byte selector.
//!
//! ```ignore
//! #![cfg_attr(target_arch = "riscv32", no_std, no_main)]
//! use athena_sdk::prelude::*;
//!
//! static COUNT: Value<u64> = Value::new("count");
//!
//! #[derive(Encode, Decode)]
//! pub struct Counter {
//!     step: u64,
//! }
//!
//! #[template]
//! impl Counter {
//!     #[callable]
//!     pub fn increment(&self, times: u64) -> u64 {
//!         let count = COUNT.get_or_default() + self.step * times;
//!         COUNT.set(&count);
//!         count
//!     }
//! }
//! ```
//!
//! What the crate provides:
//! * the macros: [`template`], [`callable`], [`selector!`] and the SCALE
//!   derives [`Encode`](macro@Encode) / [`Decode`](macro@Decode) (a
//!   contract crate needs no dependency besides this one);
//! * [`host`] (re-exported at the root): every host function with typed
//!   wrappers ([`call_method`], [`spawn`], [`context`], [`emit_log`],
//!   [`state`], precompiles, ...), [`revert`] and [`return_value`], and
//!   [`CallResultExt`] for decoding a callee's output;
//! * [`storage`]: raw slots and the typed items [`Value`] and [`Map`];
//! * [`Address`], [`codec`] (`parity-scale-codec`), [`Template`].
//!
//! **Targets.** The SDK is built on `athena-guest-rt`, whose `host`
//! module is the one copy of the host-function layer. Inside the VM
//! (`riscv32em`/`riscv32im-unknown-none-elf`) the runtime brings the
//! entry point, allocator and syscalls, and `#[template]` generates the
//! program's entry point and a panic handler that reverts with the panic
//! message. On any other target both crates still compile, so a contract
//! crate builds on the host for its tests and `cargo run` (which prints
//! its method table); there, host functions panic with "`NAME` is only
//! available inside the Athena VM".
//!
//! The guest-developer guide, including the method ABI and the storage
//! layout, is `docs/sdk.md`.

#![no_std]
#![warn(missing_docs)]
// Inside the VM the SDK installs an allocation-error handler that reverts
// (see `oom`). `#[alloc_error_handler]` is unstable; guest builds already
// run with `RUSTC_BOOTSTRAP=1` (or a nightly) for `-Zbuild-std`.
#![cfg_attr(all(target_arch = "riscv32", target_os = "none"), feature(alloc_error_handler))]

extern crate alloc;
#[cfg(not(all(target_arch = "riscv32", target_os = "none")))]
extern crate std;

mod address;
mod hex;
pub mod host;
#[cfg(all(target_arch = "riscv32", target_os = "none"))]
mod mem;
#[cfg(all(target_arch = "riscv32", target_os = "none"))]
mod panic;
mod private;
pub mod storage;

/// Allocation failure inside the VM: revert with `athena: out of memory`.
///
/// Without this handler `alloc` formats `memory allocation of N bytes
/// failed` with `core::fmt`, which costs every program about 1.5 KB of
/// integer-formatting code (docs/sdk.md, "Sizes").
#[cfg(all(target_arch = "riscv32", target_os = "none"))]
#[alloc_error_handler]
fn oom(_: core::alloc::Layout) -> ! {
    host::revert("athena: out of memory")
}

pub use address::Address;
pub use host::*;
pub use storage::{Map, Value};

/// The SCALE codec (`parity-scale-codec`), for `Encode`/`Decode` bounds,
/// `Compact`, `DecodeAll`, ... The derives in [`prelude`] implement these
/// traits.
pub use parity_scale_codec as codec;

pub use athena_sdk_macros::{callable, selector, template, Decode, Encode};

/// Implementation details of the macros; not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use crate::private::*;
}

/// One callable method of a template, as listed in [`Template::METHODS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Method {
    /// The method's name: what the selector is computed from.
    pub name: &'static str,
    /// `blake3(name)[..4]`: the first four bytes of a call's input.
    pub selector: [u8; 4],
    /// The Rust signature, for people (e.g. `(&self, times: u64) -> u64`).
    pub signature: &'static str,
}

/// `0x1a2b3c4d  name(&self, x: u64) -> u64`.
impl core::fmt::Display for Method {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut hex = [0u8; 8];
        hex::encode_into(&self.selector, &mut hex);
        let hex = core::str::from_utf8(&hex).unwrap_or("????????");
        write!(f, "0x{hex}  {}{}", self.name, self.signature)
    }
}

/// What `#[template]` implements for the template struct: its callable
/// methods, for hosts, tools and tests that need selectors.
pub trait Template {
    /// The struct's name.
    const NAME: &'static str;
    /// Every callable method, in declaration order (including the default
    /// `spawn` when the template does not define one).
    const METHODS: &'static [Method];

    /// The method called `name`, if callable.
    fn method(name: &str) -> Option<&'static Method> {
        Self::METHODS.iter().find(|m| m.name == name)
    }
}

/// The codec traits for the prelude's glob import (see [`prelude`]).
mod codec_traits {
    pub use parity_scale_codec::{Decode, Encode};
}

/// Everything a contract usually needs: `use athena_sdk::prelude::*;`.
///
/// `Encode` and `Decode` name both the codec traits and this SDK's derive
/// macros. The traits come in through a glob import on purpose: if some
/// crate in the build enables `parity-scale-codec`'s own `derive` feature,
/// its derive macros (which need a direct `parity-scale-codec` dependency)
/// would arrive under the same names, and only a glob import lets the
/// explicitly imported SDK derives shadow them instead of clashing.
pub mod prelude {
    pub use crate::codec_traits::*;
    pub use crate::host::{
        balance, call_method, caller, context, emit, emit_log, encode_call, revert, spawn, topic, CallResult,
        CallResultExt, Selector, Word,
    };
    pub use crate::storage::{Map, Value};
    pub use crate::{callable, selector, template, Address, Template};
    pub use crate::{Decode, Encode};
    pub use alloc::{boxed::Box, string::String, vec, vec::Vec};
}

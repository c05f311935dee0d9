//! Runtime for programs that run inside the Athena VM.
//!
//! A guest is plain `#![no_std] #![no_main]` Rust that depends on this crate
//! and names its entry function with [`entry!`]:
//!
//! ```ignore
//! #![no_std]
//! #![no_main]
//! athena_guest_rt::entry!(main);
//! fn main() {
//!     athena_guest_rt::println!("Hello, world!");
//! }
//! ```
//!
//! The crate supplies everything a freestanding RISC-V binary needs and that
//! the VM does not: the `_start` symbol (which sets up the stack and halts
//! with exit code 0 when `main` returns), safe wrappers over the VM's
//! syscalls ([`exit`], [`write`], [`input`], ...), `print!`-style macros, a
//! global bump allocator (so `alloc::vec::Vec` works) and, through
//! [`entry!`], a panic handler that reports to stderr and halts with exit
//! code [`PANIC_EXIT_CODE`].
//!
//! It builds for `riscv32em-unknown-none-elf` and
//! `riscv32im-unknown-none-elf`: it never uses registers above `x15` and
//! never uses atomic read-modify-write instructions (neither target has the
//! A extension). The memory layout it assumes is in [`layout`].
//!
//! **Other targets.** The syscall wrappers, [`host`] included, also compile
//! for any other target, where every syscall panics with "`NAME` is only
//! available inside the Athena VM". That is what lets `athena-sdk` build
//! on one copy of the host-function layer both inside the VM and in a
//! contract crate compiled on the host for its tests. A program of its own
//! (`_start`, the allocator, [`entry!`]) exists only on the VM targets:
//! off them, [`entry!`] is a compile error saying how to build a guest.

#![no_std]

extern crate alloc;

#[cfg(all(target_arch = "riscv32", target_os = "none"))]
pub mod heap;
pub mod host;
pub mod io;
pub mod layout;
pub mod panic;
#[cfg(all(target_arch = "riscv32", target_os = "none"))]
mod start;
pub mod syscall;

pub use io::{input, input_len, input_u32_le, read_input, write, Fd, FdWriter};
pub use panic::PANIC_EXIT_CODE;
pub use syscall::exit;

/// Registers `$main` (a `fn()`) as the program's entry point.
///
/// `_start` in this crate calls the function this macro defines once the
/// stack is set up; when it returns, the program halts with exit code 0.
/// Invoke it exactly once, at the top level of the binary crate. The macro
/// is also what makes the linker pull this crate (and so `_start` and the
/// allocator) into the binary, and it defines the binary's
/// `#[panic_handler]` ([`panic::halt`]: report on stderr, halt with
/// [`PANIC_EXIT_CODE`]). The handler lives in the macro rather than in
/// this crate so that other entry points (`athena-sdk` templates) can
/// choose a different one.
#[cfg(all(target_arch = "riscv32", target_os = "none"))]
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[doc(hidden)]
        #[export_name = "__athena_main"]
        pub extern "C" fn __athena_main() {
            // Type-checks the user's function and keeps the runtime linked.
            let main: fn() = $main;
            $crate::__private::run(main)
        }

        #[doc(hidden)]
        #[panic_handler]
        fn __athena_panic(info: &::core::panic::PanicInfo<'_>) -> ! {
            $crate::panic::halt(info)
        }
    };
}

/// Off the VM targets a guest program cannot be built: [`entry!`] says so
/// (the syscall wrappers still compile there, for `athena-sdk`'s host
/// builds).
#[cfg(not(all(target_arch = "riscv32", target_os = "none")))]
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        ::core::compile_error!(
            "athena-guest-rt programs only build for the riscv32em/riscv32im-unknown-none-elf guest targets; \
             build guests with athena-guest-builder or `athena build` (docs/guest-toolchain.md)"
        );
    };
}

/// Implementation details of the macros; not a stable API.
#[doc(hidden)]
pub mod __private {
    /// Calls the user's `main`. Lives here so that every binary that uses
    /// [`entry!`](crate::entry) references this crate.
    #[inline(always)]
    pub fn run(main: fn()) {
        main()
    }
}

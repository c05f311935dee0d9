//! PolkaVM guest glue (polkavm-linker's 32-bit target JSON, patched;
//! converted to a `.polkavm` blob by `athena-bench polkavm-link`), shared
//! by the two guest binaries: `bench-guest-polkavm` (every workload,
//! `src/main.rs`) and `bench-guest-polkavm-load` (the smaller `load`
//! program, `src/load.rs`).
//!
//! [`guest!`] expands to a program exporting `run(id: u32) -> u64` that
//! returns the checksum.

#![no_std]

pub use bench_workloads;
pub use polkavm_derive;

/// The guest program: the exported `run`, the allocator, the stack size and
/// the panic handler, with `$run: fn(u32) -> u64` running the workload with
/// the given id.
#[macro_export]
macro_rules! guest {
    ($run:path) => {
        #[global_allocator]
        static ALLOC: $crate::bench_workloads::bump::BumpAlloc<{ 3 << 20 }> =
            $crate::bench_workloads::bump::BumpAlloc::new();

        // The linker's default stack is two pages; ed25519 needs more.
        $crate::polkavm_derive::min_stack_size!(256 * 1024);

        /// Runs workload `id`; returns its checksum.
        #[$crate::polkavm_derive::polkavm_export]
        extern "C" fn run(id: u32) -> u64 {
            $run(id)
        }

        #[panic_handler]
        fn panic(_: &::core::panic::PanicInfo) -> ! {
            // SAFETY: `unimp` traps the VM, which is what a panic should do.
            unsafe { ::core::arch::asm!("unimp", options(noreturn)) }
        }
    };
}

//! PolkaVM guest (polkavm-linker's 32-bit target JSON, patched; converted
//! to a `.polkavm` blob by `athena-bench polkavm-link`): exports
//! `run(id: u32) -> u64` returning the checksum.

#![no_std]
#![no_main]

use bench_workloads::bump::BumpAlloc;

#[global_allocator]
static ALLOC: BumpAlloc<{ 3 << 20 }> = BumpAlloc::new();

// The linker's default stack is two pages; ed25519 needs more.
polkavm_derive::min_stack_size!(256 * 1024);

/// Runs workload `id`; returns its checksum.
#[polkavm_derive::polkavm_export]
extern "C" fn run(id: u32) -> u64 {
    bench_workloads::run(id)
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    // SAFETY: `unimp` traps the VM, which is what a panic should do.
    unsafe { core::arch::asm!("unimp", options(noreturn)) }
}

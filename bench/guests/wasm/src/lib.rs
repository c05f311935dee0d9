//! wasm32 guest: exports `run(id: i32) -> i64` returning the checksum.

#![no_std]

use bench_workloads::bump::BumpAlloc;

#[global_allocator]
static ALLOC: BumpAlloc<{ 3 << 20 }> = BumpAlloc::new();

/// Runs workload `id`; returns its checksum.
#[no_mangle]
pub extern "C" fn run(id: u32) -> u64 {
    bench_workloads::run(id)
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

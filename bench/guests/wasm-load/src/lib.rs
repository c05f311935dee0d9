//! The wasm32 `load` program: the glue of `../wasm` (the full guest), but
//! `run` only reaches `bench_workloads::LOAD_PROGRAM`'s workloads. Exports
//! `run(id: i32) -> i64` returning the checksum.

#![no_std]

use bench_workloads::bump::BumpAlloc;

#[global_allocator]
static ALLOC: BumpAlloc<{ 3 << 20 }> = BumpAlloc::new();

/// Runs workload `id` if it is in the load program; returns its checksum.
#[no_mangle]
pub extern "C" fn run(id: u32) -> u64 {
    bench_workloads::run_load_program(id)
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

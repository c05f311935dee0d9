//! CKB-VM guest glue (riscv64imac-unknown-none-elf), shared by the two
//! guest binaries: `bench-guest-ckbvm` (every workload, `src/main.rs`) and
//! `bench-guest-ckbvm-load` (the smaller `load` program, `src/load.rs`).
//!
//! [`guest!`] expands to a program whose `argv[1]` is the workload id in
//! decimal; the checksum is reported with the custom syscall [`REPORT`]
//! (a0 = checksum), then the program exits (syscall 93) with 0 (101 on
//! panic).

#![no_std]

pub use bench_workloads;

/// Custom syscall number the bench runner handles: a0 = checksum.
pub const REPORT: u64 = 9000;
/// CKB's exit syscall.
const EXIT: u64 = 93;

/// The guest program: `_start`, the allocator and the panic handler, with
/// `$run: fn(u32) -> u64` running the workload with the given id.
#[macro_export]
macro_rules! guest {
    ($run:path) => {
        #[global_allocator]
        static ALLOC: $crate::bench_workloads::bump::BumpAlloc<{ 2 << 20 }> =
            $crate::bench_workloads::bump::BumpAlloc::new();

        // CKB-VM starts at `_start` with sp pointing at argc, then the argv pointers.
        ::core::arch::global_asm!(
            ".section .text._start,\"ax\",@progbits",
            ".globl _start",
            "_start:",
            "  ld a0, 0(sp)",
            "  addi a1, sp, 8",
            "  andi sp, sp, -16",
            "  call {entry}",
            "  unimp",
            entry = sym entry,
        );

        unsafe extern "C" fn entry(argc: u64, argv: *const *const u8) -> ! {
            // SAFETY: CKB-VM passes argc and argv as `_start` forwards them.
            let id = unsafe { $crate::workload_id(argc, argv) };
            $crate::report_and_exit($run(id))
        }

        #[panic_handler]
        fn panic(_: &::core::panic::PanicInfo) -> ! {
            $crate::exit(101)
        }
    };
}

fn syscall(number: u64, a0: u64) {
    // SAFETY: CKB-VM handles ecall; the bench syscalls only read a0.
    unsafe { core::arch::asm!("ecall", in("a7") number, inlateout("a0") a0 => _, options(nostack)) }
}

/// The workload id: `argv[1]` in decimal (0 without one).
///
/// # Safety
///
/// `argv` must hold `argc` pointers to NUL-terminated strings.
pub unsafe fn workload_id(argc: u64, argv: *const *const u8) -> u32 {
    let mut id = 0u32;
    if argc >= 2 {
        let mut p = *argv.add(1);
        while (*p).is_ascii_digit() {
            id = id * 10 + u32::from(*p - b'0');
            p = p.add(1);
        }
    }
    id
}

/// Reports `checksum` with [`REPORT`], then exits with 0.
pub fn report_and_exit(checksum: u64) -> ! {
    syscall(REPORT, checksum);
    exit(0)
}

/// Exits with `code`.
pub fn exit(code: u64) -> ! {
    syscall(EXIT, code);
    loop {}
}

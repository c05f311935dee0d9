//! CKB-VM guest (riscv64imac-unknown-none-elf): `argv[1]` is the workload
//! id in decimal; the checksum is reported with the custom syscall
//! [`REPORT`] (a0 = checksum), then the program exits (syscall 93) with 0
//! (101 on panic).

#![no_std]
#![no_main]

use bench_workloads::bump::BumpAlloc;

#[global_allocator]
static ALLOC: BumpAlloc<{ 2 << 20 }> = BumpAlloc::new();

/// Custom syscall number the bench runner handles: a0 = checksum.
const REPORT: u64 = 9000;
/// CKB's exit syscall.
const EXIT: u64 = 93;

// CKB-VM starts at `_start` with sp pointing at argc, then the argv pointers.
core::arch::global_asm!(
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

fn syscall(number: u64, a0: u64) {
    // SAFETY: CKB-VM handles ecall; the bench syscalls only read a0.
    unsafe { core::arch::asm!("ecall", in("a7") number, inlateout("a0") a0 => _, options(nostack)) }
}

fn exit(code: u64) -> ! {
    syscall(EXIT, code);
    loop {}
}

unsafe extern "C" fn entry(argc: u64, argv: *const *const u8) -> ! {
    let mut id = 0u32;
    if argc >= 2 {
        let mut p = *argv.add(1);
        while (*p).is_ascii_digit() {
            id = id * 10 + u32::from(*p - b'0');
            p = p.add(1);
        }
    }
    syscall(REPORT, bench_workloads::run(id));
    exit(0)
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    exit(101)
}

//! Arbitrary bytes as an ELF file: whatever `Program::from_elf` loads must
//! compile to x86-64 and run identically on the JIT and the reference
//! interpreter, with 20,000 gas and 1 MiB of memory.
#![no_main]

use athena_jit_fuzz::check;
use athena_vm::{MachineConfig, Program};
use libfuzzer_sys::fuzz_target;

const CONFIG: MachineConfig = MachineConfig { gas_limit: 20_000, memory_limit: 1 << 20 };

fuzz_target!(|data: &[u8]| {
    let Ok(program) = Program::from_elf(data) else { return };
    // Compare the first pages of each segment (bounded, so a huge .bss
    // costs nothing).
    let pages: Vec<u32> = program
        .segments()
        .iter()
        .flat_map(|s| (0..s.mem_size.div_ceil(4096).min(4)).map(move |i| (s.vaddr & !4095).wrapping_add(i * 4096)))
        .collect();
    check(&program, CONFIG, &pages);
});

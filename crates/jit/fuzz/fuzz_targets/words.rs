//! Arbitrary bytes as little-endian 32-bit words loaded at 0x10000, in both
//! register sets, recompiled to x86-64: compiling and running must never
//! crash, and the JIT must agree exactly with the reference interpreter
//! (outcome, registers, pc, output, allocated pages, code and stack page
//! contents), within the gas invariants. The 0-3 bytes after the last whole
//! word choose the gas limit (none: 20,000).
#![no_main]

use athena_jit_fuzz::{check, gas_limit};
use athena_vm::{MachineConfig, Program, RegisterSet};
use libfuzzer_sys::fuzz_target;

const BASE: u32 = 0x1_0000;

fuzz_target!(|data: &[u8]| {
    let chunks = data.chunks_exact(4);
    let config = MachineConfig { gas_limit: gas_limit(chunks.remainder()), memory_limit: 1 << 20 };
    let words: Vec<u32> = chunks.map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    let pages: Vec<u32> = (0..(words.len() as u32 * 4).div_ceil(4096)).map(|i| BASE + i * 4096).collect();
    for registers in [RegisterSet::Rv32i, RegisterSet::Rv32e] {
        let program = match Program::from_words(BASE, &words, registers) {
            Ok(p) => p,
            // Only an empty program may be refused.
            Err(e) => {
                assert!(words.is_empty(), "{} words refused: {e}", words.len());
                return;
            }
        };
        check(&program, config, &pages);
    }
});

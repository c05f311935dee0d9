//! "Script" guests: hand-assembled programs that issue an exact list of
//! syscalls and `RETURN` what each one answered.
//!
//! Why it is here: host-side tests (engine, runtime) need to drive one
//! syscall with exact arguments and look at its raw `(a0, a1)`, which no
//! compiled guest does. One builder and one decoder keep those tests
//! reading the same layout.

use crate::{asm, ElfBuilder, PF_R, PF_W};
use athena_abi::number::RETURN;

/// Where script code is loaded.
pub const TEXT: u32 = 0x1_0000;
/// Where script data (keys, addresses, payloads) is loaded; writable.
pub const DATA: u32 = 0x2_0000;
/// Size of the data segment in memory.
pub const DATA_SIZE: u32 = 0x2_0000;
/// Where a script stores `(a0, a1)` after each step.
pub const RESULTS: u32 = 0x6_0000;

/// One step of a script guest.
#[derive(Clone, Copy, Debug)]
pub enum Op {
    /// `ECALL` with `t0 = number` and `a0..a5 = args`; then `(a0, a1)` is
    /// stored at `RESULTS + 8 * index`.
    Sys(u32, [u32; 6]),
    /// Spin forever (runs out of gas).
    Loop,
}

/// Shorthand for [`Op::Sys`]; missing arguments are zero.
pub fn sys(number: u32, args: &[u32]) -> Op {
    let mut a = [0u32; 6];
    a[..args.len()].copy_from_slice(args);
    Op::Sys(number, a)
}

/// A guest that performs `ops` in order and then `RETURN`s the 8-byte
/// result records of every step (see [`results`]). `data` is loaded at
/// [`DATA`].
pub fn script(ops: &[Op], data: &[u8]) -> Vec<u8> {
    let mut text = Vec::new();
    let regs = [asm::A0, asm::A1, asm::A2, asm::A3, asm::A4, asm::A5];
    for (i, op) in ops.iter().enumerate() {
        match *op {
            Op::Sys(number, args) => {
                for (reg, value) in regs.iter().zip(args) {
                    text.extend(asm::li(*reg, value));
                }
                text.extend(asm::li(asm::T0, number));
                text.push(asm::ECALL);
                text.extend(asm::li(asm::T1, RESULTS + 8 * i as u32));
                text.push(asm::sw(asm::A0, asm::T1, 0));
                text.push(asm::sw(asm::A1, asm::T1, 4));
            }
            Op::Loop => text.push(0x0000_006f), // jal x0, 0
        }
    }
    text.extend(asm::li(asm::A0, RESULTS));
    text.extend(asm::li(asm::A1, 8 * ops.len() as u32));
    text.extend(asm::li(asm::T0, RETURN));
    text.push(asm::ECALL);
    let mut data = data.to_vec();
    data.resize(data.len().max(4), 0);
    ElfBuilder::new(TEXT).text(TEXT, &text).segment(DATA, PF_R | PF_W, data, DATA_SIZE).build()
}

/// Decodes a script's return data into per-step `(a0, a1)` (a trailing
/// partial record is ignored).
pub fn results(output: &[u8]) -> Vec<(u32, u32)> {
    let word = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    output.chunks_exact(8).map(|c| (word(&c[..4]), word(&c[4..]))).collect()
}

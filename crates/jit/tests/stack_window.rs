//! Differential tests of the recompiler's stack window (`sp`-relative
//! accesses checked once per segment, docs/jit.md) and of guest registers
//! held in host registers across helper calls: outcome, registers, pc,
//! output and memory must equal the reference interpreter's.
#![cfg(all(target_arch = "x86_64", target_os = "linux"))]

mod common;

use athena_jit::JitProgram;
use athena_vm::{MachineConfig, Program, RegisterSet, Segment};
use common::*;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const SP: u32 = 2;
/// Data pages: two writable (the second .bss, allocated on first store),
/// then one holding read-only bytes.
const DATA_PAGES: u32 = 3;

/// Pages whose contents are compared after every run.
fn watched_pages() -> Vec<u32> {
    let mut pages: Vec<u32> = (0..DATA_PAGES + 2).map(|p| DATA_BASE + p * 0x1000).collect();
    pages.extend((0..6).map(|p| 0x7fff_a000 + p * 0x1000));
    pages.extend([0x8000_0000, 0x1000, 0x2000, 0xffff_f000, 0x0001_f000]);
    pages
}

fn image(code: &[u32]) -> Vec<Segment> {
    common::image(code, noise(0x1000, 11), 0x2000, 0x2000, vec![9; 0x40])
}

fn load(size_code: u32, rd: u32, base: u32, imm: i32) -> u32 {
    enc_i(imm, base, size_code, rd, 0x03)
}

fn store(size_code: u32, rs2: u32, base: u32, imm: i32) -> u32 {
    enc_s(imm, rs2, base, size_code)
}

/// A starting `sp`: the default stack top, frames straddling page
/// boundaries, data pages (one with read-only bytes), next to the guard
/// region, wrapping around the address space, misaligned.
fn initial_sp(rng: &mut SmallRng) -> Option<u32> {
    match rng.gen_range(0..12) {
        0..=2 => None,
        3..=5 => Some(0x7fff_e000 + rng.gen_range(0..0x200) * 16),
        6 => Some(DATA_BASE + rng.gen_range(0..0x300) * 16),
        7 => Some(0x1000 + rng.gen_range(0..0x20) * 16),
        8 => Some(0xffff_f000 + rng.gen_range(0..0x100) * 16),
        9 => Some(rng.gen_range(0..0x40) * 4),
        10 => Some(0x7fff_e000 + rng.gen_range(0..0x2000)),
        _ => Some(rng.gen()),
    }
}

/// Random code dominated by `sp`-relative loads and stores (mostly offsets
/// aligned to the access size, as compilers emit them), with `sp` moved by
/// `addi`, loaded from memory, used as an ALU operand; branches and jumps
/// into the middle of straight-line code (static and through `JALR`, which
/// enters segments past their check); calls, syscalls and a host function
/// writing the stack; other accesses through registers derived from `sp`.
fn generate(rng: &mut SmallRng, regs: RegisterSet, len: usize) -> Vec<u32> {
    let top = if regs == RegisterSet::Rv32e { 16 } else { 32 };
    let reg = |rng: &mut SmallRng| -> u32 {
        let r = rng.gen_range(1..top);
        if r == SP || r == 6 {
            10
        } else {
            r
        }
    };
    let mut w = Vec::new();
    if let Some(sp) = initial_sp(rng) {
        w.extend(load_const(SP, sp));
    }
    w.push(enc_i(if rng.gen_bool(0.5) { -64 } else { -1024 }, SP, 0, SP, 0x13));
    w.push(enc_i(60, 0, 0, 6, 0x13)); // x6: loop budget
    let size_code =
        |rng: &mut SmallRng| -> (u32, i32) { [(0, 1), (4, 1), (1, 2), (5, 2), (2, 4)][rng.gen_range(0..5)] };
    while w.len() < len {
        let at = w.len() as i32;
        let word = match rng.gen_range(0..100) {
            0..=39 => {
                let is_store = rng.gen_bool(0.45);
                let (code, size) = size_code(rng);
                let offset = match rng.gen_range(0..20) {
                    0 => rng.gen_range(-2048..2048),
                    1 => [2044, 2047, -2048, -4, 4092 / 2][rng.gen_range(0..5)],
                    2..=5 => rng.gen_range(-64..0) * size,
                    _ => rng.gen_range(0..128) * size,
                };
                if is_store {
                    let code = if code >= 4 { code - 4 } else { code };
                    let value = if rng.gen_bool(0.15) { 0 } else { reg(rng) };
                    store(code, value, SP, offset)
                } else {
                    load(code, if rng.gen_bool(0.05) { 0 } else { reg(rng) }, SP, offset)
                }
            }
            40..=45 => {
                let imm = match rng.gen_range(0..10) {
                    0 => rng.gen_range(-2048..2048),
                    1 => [0x7f0, -0x800, 0x400][rng.gen_range(0..3)],
                    _ => rng.gen_range(-8..8) * 16,
                };
                enc_i(imm, SP, 0, SP, 0x13)
            }
            46 => load(2, SP, SP, rng.gen_range(0..64) * 4),
            47..=64 => {
                if rng.gen_bool(0.5) {
                    let f3 = rng.gen_range(0..8);
                    let imm = if f3 == 1 || f3 == 5 { rng.gen_range(0..32) } else { rng.gen_range(-2048..2048) };
                    let rs1 = if rng.gen_bool(0.2) { SP } else { reg(rng) };
                    enc_i(imm, rs1, f3, reg(rng), 0x13)
                } else {
                    let f7 = [0, 0, 1, 0x20][rng.gen_range(0..4)];
                    let f3 = if f7 == 0x20 { [0, 5][rng.gen_range(0..2)] } else { rng.gen_range(0..8) };
                    let rs1 = if rng.gen_bool(0.1) { SP } else { reg(rng) };
                    enc_r(f7, reg(rng), rs1, f3, reg(rng))
                }
            }
            65..=72 => {
                // An access through a register pointing into the frame or data.
                let r = reg(rng);
                let base = if rng.gen_bool(0.6) { SP } else { 3 };
                if base == 3 {
                    w.extend(load_const(3, DATA_BASE + rng.gen_range(0..0x2800)));
                }
                w.push(enc_i(rng.gen_range(-64..256) * 4, base, 0, r, 0x13));
                let (code, _) = size_code(rng);
                if rng.gen_bool(0.5) {
                    load(code, reg(rng), r, rng.gen_range(-8..8) * 4)
                } else {
                    store(code.min(2), reg(rng), r, rng.gen_range(-8..8) * 4)
                }
            }
            73..=78 => {
                let back = rng.gen_range(1..=at.min(16));
                count_down(&mut w, back)
            }
            79..=83 => {
                let target = rng.gen_range(0..len as i32 + 2);
                let f3 = [0, 1, 4, 5, 6, 7][rng.gen_range(0..6)];
                enc_b((target - at) * 4, reg(rng), reg(rng), f3)
            }
            84..=86 => {
                let target = rng.gen_range(0..len as i32 + 2);
                enc_j((target - at) * 4, if rng.gen_bool(0.6) { 1 } else { 0 })
            }
            87..=89 => {
                if rng.gen_bool(0.5) {
                    enc_i(0, 1, 0, 0, 0x67) // ret
                } else {
                    // auipc x7, 0; jalr to a random slot (maybe mid-segment).
                    let target = rng.gen_range(0..len as i32 + 2);
                    w.push((7 << 7) | 0x17);
                    enc_i((target - at) * 4, 7, 0, if rng.gen_bool(0.5) { 1 } else { 0 }, 0x67)
                }
            }
            90..=95 => {
                // Host function 9 writes 8 bytes at a0 = sp + offset, or
                // WRITE from the frame.
                if rng.gen_bool(0.7) {
                    w.push(enc_i(9, 0, 0, 5, 0x13));
                    w.push(enc_i(rng.gen_range(-16..64) * 4, SP, 0, 10, 0x13));
                    w.push(enc_i(rng.gen_range(0..16), 0, 0, 12, 0x13));
                } else {
                    w.push(enc_i(2, 0, 0, 5, 0x13));
                    w.push(enc_i(1, 0, 0, 10, 0x13));
                    w.push(enc_i(rng.gen_range(0..32) * 4, SP, 0, 11, 0x13));
                    w.push(enc_i(rng.gen_range(0..16), 0, 0, 12, 0x13));
                }
                0x73
            }
            96 => 0x0010_0073, // ebreak
            _ => rng.gen(),
        };
        w.push(word);
    }
    w.truncate(len);
    w
}

#[test]
fn stack_window_matches_reference_on_random_programs() {
    let mut rng = SmallRng::seed_from_u64(0x5eed_0101);
    let pages = watched_pages();
    for case in 0..1500 {
        let regs = if case % 3 == 0 { RegisterSet::Rv32i } else { RegisterSet::Rv32e };
        let len = rng.gen_range(8..200);
        let code = generate(&mut rng, regs, len);
        let program = Program::from_segments(CODE_BASE, regs, image(&code)).expect("valid program");
        let jit = JitProgram::compile(&program).expect("compile");
        for gas in [rng.gen_range(0..60), rng.gen_range(60..600), rng.gen_range(600..8000), 200_000] {
            let memory_limit = match rng.gen_range(0..4) {
                0 => 0x4000, // image plus one page: the stack runs out
                1 => 0x6000,
                _ => 1 << 20,
            };
            let config = MachineConfig { gas_limit: gas, memory_limit };
            check_memory(&program, &jit, config, &pages, &|| {
                format!("case {case} gas {gas} mem {memory_limit:#x} code {code:08x?}")
            });
        }
    }
}

/// A loop whose frame straddles a page boundary for some iterations (the
/// segment check fails: the checked copy runs), then moves down page by
/// page (fresh pages: the stack entry is refilled, stores to unallocated
/// pages step), with every register live across the window, helper calls
/// (loads from the data page miss and refill), a host function writing the
/// frame and a syscall, at every gas limit up to the end.
#[test]
fn stack_window_frames_crossing_pages() {
    for regs in [RegisterSet::Rv32e, RegisterSet::Rv32i] {
        let top = if regs == RegisterSet::Rv32e { 16 } else { 32 };
        let mut code = Vec::new();
        code.extend(load_const(SP, 0x7fff_f0c0));
        code.extend(load_const(3, DATA_BASE));
        for r in 4..top {
            if r != 6 {
                code.extend(load_const(r, 0x0101_0101u32.wrapping_mul(r) ^ 0x5a5a_0000));
            }
        }
        code.push(enc_i(14, 0, 0, 6, 0x13)); // x6 = 14 iterations
        let head = code.len() as i32;
        // Spill every register into the frame, mixing sizes, around sp.
        for (k, r) in (1..top).filter(|&r| r != SP).enumerate() {
            let off = 4 * k as i32 - 0x40;
            code.push(store([2, 1, 0][k % 3], r, SP, off));
        }
        // A load from data (another page: refills an entry) between spills.
        code.push(load(2, 7, 3, 0x40));
        code.push(store(2, 7, SP, 0x7c));
        // The host function writes 8 bytes into the frame.
        code.extend([enc_i(9, 0, 0, 5, 0x13), enc_i(-0x20, SP, 0, 10, 0x13), enc_i(4, 0, 0, 12, 0x13), 0x73]);
        // Reload every register (rotated by one slot) and fold them into x7.
        for (k, r) in (1..top).filter(|&r| r != SP && r != 3 && r != 6).enumerate() {
            let off = 4 * ((k + 1) % 12) as i32 - 0x40;
            code.push(load([2, 5, 4, 1, 0][k % 5], r, SP, off));
            code.push(enc_r(0, r, 7, 4, 7)); // xor x7, x7, r
        }
        code.push(store(2, 7, 3, 0x100)); // checksum into data
        code.push(enc_i(-0x1d0, SP, 0, SP, 0x13)); // move the frame down
        code.push(enc_i(-1, 6, 0, 6, 0x13));
        let at = code.len() as i32;
        code.push(enc_b((head - at) * 4, 6, 0, 4)); // blt x0, x6, head
        code.extend([enc_i(2, 0, 0, 5, 0x13), enc_i(1, 0, 0, 10, 0x13), enc_i(-0x40, SP, 0, 11, 0x13)]);
        code.extend([enc_i(32, 0, 0, 12, 0x13), 0x73]); // WRITE 32 bytes of the frame
        code.extend([enc_i(0, 0, 0, 5, 0x13), enc_i(0, 7, 0, 10, 0x13), 0x73]);
        let program = Program::from_segments(CODE_BASE, regs, image(&code)).expect("valid");
        let jit = JitProgram::compile(&program).expect("compile");
        let pages = watched_pages();
        let full = observe(None, &program, MachineConfig::default(), true);
        assert!(full.0.contains("Halted"), "{}", full.0);
        let used = gas_used(&full.0);
        for memory_limit in [1 << 20, 0x6000, 0x8000] {
            for gas in (0..=used + 1).step_by(3).chain([used, 1_000_000]) {
                let config = MachineConfig { gas_limit: gas, memory_limit };
                check_memory(&program, &jit, config, &pages, &|| format!("{regs:?} gas {gas} mem {memory_limit:#x}"));
            }
        }
    }
}

/// `sp` near the ends of the address space: a segment whose accesses wrap
/// around (`sp` = 0 with negative offsets, which the reference maps to the
/// top page) must not be taken for one in the cached top page, and one at
/// the top with offsets past 2^32 must not be taken for the bottom page.
#[test]
fn stack_window_wraps_around_the_address_space() {
    let mut code = Vec::new();
    code.extend(load_const(SP, 0xffff_f800));
    code.extend(load_const(10, 0x1234_5678));
    // Allocate the top page (stepped), then a segment there fills the
    // stack entry with it.
    code.extend([store(2, 10, SP, 0), store(2, 10, SP, 4), load(2, 11, SP, 0), load(2, 12, SP, 0x7fc)]);
    // sp = 0: offsets -16..-8 are 0xffff_fff0.. (top page) for the guest.
    code.extend([enc_i(0x400, SP, 0, SP, 0x13), enc_i(0x400, SP, 0, SP, 0x13)]);
    code.extend([store(2, 10, SP, -16), store(2, 11, SP, -12), load(2, 13, SP, -16), load(2, 14, SP, -12)]);
    // Back to the top page, then offsets crossing 2^32 (page 0: the guard).
    code.extend([enc_i(-16, SP, 0, SP, 0x13)]);
    code.extend([load(2, 15, SP, 0), load(2, 9, SP, 4), load(2, 8, SP, 12)]);
    code.extend([load(2, 8, SP, 16), load(2, 8, SP, 20)]); // 0x0000_0000: guard fault
    code.extend([enc_i(0, 0, 0, 5, 0x13), 0x73]);
    let program = Program::from_segments(CODE_BASE, RegisterSet::Rv32e, image(&code)).expect("valid");
    let jit = JitProgram::compile(&program).expect("compile");
    let full = observe(None, &program, MachineConfig::default(), true);
    assert!(full.0.contains("LoadFault"), "{}", full.0);
    let pages = watched_pages();
    for gas in 0..120 {
        let config = MachineConfig { gas_limit: gas, memory_limit: 1 << 20 };
        check_memory(&program, &jit, config, &pages, &|| format!("gas {gas}"));
    }
}

/// Segments whose accesses end exactly at a page's last byte, or one byte
/// past it, for every `sp` near the boundary and every access size: the
/// window must be used only when the whole range is in one page.
#[test]
fn stack_window_segments_at_a_page_boundary() {
    let page = 0x7fff_f000u32;
    for (code_size, size) in [(0u32, 1i32), (1, 2), (2, 4)] {
        for sp in (page - 24)..(page + 8) {
            let mut code = Vec::new();
            code.extend(load_const(SP, sp));
            code.extend(load_const(10, 0xa1b2_c3d4));
            // Fill both pages around the boundary (through a0, checked).
            code.extend(load_const(11, page - 32));
            for k in 0..16 {
                code.push(store(2, 10, 11, 4 * k));
                code.push(enc_i(0x135, 10, 0, 10, 0x13));
            }
            // A segment in the lower page first fills the stack entry.
            code.extend([load(4, 14, SP, -32), load(4, 15, SP, -28)]);
            code.push(enc_b(4, 0, 0, 0)); // beq x0, x0, +4: a new run, a new segment
                                          // Window segment: offsets 0..12 in the access size.
            let mut k = 0;
            while k < 12 {
                code.push(load(code_size + 4 * u32::from(size < 4), 12, SP, k));
                code.push(enc_r(0, 12, 13, 4, 13)); // xor a3, a3, a2
                code.push(store(code_size, 13, SP, k));
                k += size;
            }
            code.extend([enc_i(0, 0, 0, 5, 0x13), enc_i(0, 13, 0, 10, 0x13), 0x73]);
            let program = Program::from_segments(CODE_BASE, RegisterSet::Rv32e, image(&code)).expect("valid");
            let jit = JitProgram::compile(&program).expect("compile");
            let pages = watched_pages();
            check_memory(&program, &jit, MachineConfig::default(), &pages, &|| format!("sp {sp:#x} size {size}"));
        }
    }
}

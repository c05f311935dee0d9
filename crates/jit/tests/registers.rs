//! Differential tests of how the recompiler places guest registers: every
//! ALU instruction with every aliasing pattern (`rd` = `rs1`, `rd` = `rs2`,
//! `rs1` = `rs2`, `x0`) while the guest registers involved sit in
//! callee-saved host registers, caller-saved ones, the two lent to rare
//! instructions (`rcx`, `rdx`) or the frame; and results consumed as 64-bit
//! operands afterwards (`MULHU`/`MULHSU` read the whole host register, the
//! stack window indexes with `sp`'s), so a dirty upper half shows.
#![cfg(all(target_arch = "x86_64", target_os = "linux"))]

mod common;

use athena_jit::JitProgram;
use athena_vm::{MachineConfig, Program, RegisterSet};
use common::*;
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

const EDGES: [u32; 14] = [
    0,
    1,
    2,
    31,
    32,
    33,
    0x7fff_ffff,
    0x8000_0000,
    0x8000_0001,
    0xffff_ffff,
    0xffff_fff9,
    0x1234_5678,
    0x7fff_f000,
    0x0006_0100,
];

/// (funct7, funct3) of every OP instruction, base and M.
fn r_ops() -> Vec<(u32, u32)> {
    (0..8).map(|f3| (0, f3)).chain([(0x20, 0), (0x20, 5)]).chain((0..8).map(|f3| (1, f3))).collect()
}

#[test]
fn alu_ops_match_reference_for_every_register_placement() {
    let mut rng = SmallRng::seed_from_u64(0x5eed_0201);
    let ops = r_ops();
    for case in 0..4000 {
        let regs = if case % 4 == 0 { RegisterSet::Rv32i } else { RegisterSet::Rv32e };
        let top = if regs == RegisterSet::Rv32e { 16 } else { 32 };
        let mut code = Vec::new();
        for r in 1..top {
            code.extend(load_const(r, *EDGES.choose(&mut rng).expect("edges")));
        }
        let pick = |rng: &mut SmallRng| rng.gen_range(0..top);
        let (rd, rs1, rs2) = match rng.gen_range(0..6) {
            0 => {
                let r = pick(&mut rng);
                (r, r, pick(&mut rng))
            }
            1 => {
                let r = pick(&mut rng);
                (r, pick(&mut rng), r)
            }
            2 => {
                let r = pick(&mut rng);
                (pick(&mut rng), r, r)
            }
            3 => {
                let r = pick(&mut rng);
                (r, r, r)
            }
            _ => (pick(&mut rng), pick(&mut rng), pick(&mut rng)),
        };
        if rng.gen_bool(0.75) {
            let (f7, f3) = ops[rng.gen_range(0..ops.len())];
            code.push(enc_r(f7, rs2, rs1, f3, rd));
        } else {
            let f3 = rng.gen_range(0..8);
            let imm = match f3 {
                1 => rng.gen_range(0..32),
                5 => rng.gen_range(0..32) | if rng.gen_bool(0.5) { 0x400 } else { 0 },
                _ => rng.gen_range(-2048..2048),
            };
            code.push(enc_i(imm, rs1, f3, rd, 0x13));
        }
        // Consume `rd` as a whole host register, then as `sp`.
        let (a, b) = (pick(&mut rng), pick(&mut rng));
        code.push(enc_r(1, rd, a, 3, b)); // mulhu b, a, rd
        code.push(enc_r(1, rd, b, 2, a)); // mulhsu a, b, rd
        code.push(enc_r(0, 0, rd, 0, 2)); // add sp, rd, x0
        code.push(enc_i(-4, 2, 2, 9, 0x03)); // lw x9, -4(sp)
        code.push(enc_i(0, 2, 2, 8, 0x03)); // lw x8, 0(sp)
        code.push(0x0010_0073); // ebreak: ends the run, registers compared
                                // Unreachable uses that rank the registers at random, so the ones
                                // above land in every kind of host register or the frame.
        let mut order: Vec<u32> = (1..top).collect();
        order.shuffle(&mut rng);
        for (k, &r) in order.iter().enumerate() {
            code.extend(std::iter::repeat_n(enc_i(0, r, 0, r, 0x13), k * 2));
        }
        let program = Program::from_words(CODE_BASE, &code, regs).expect("valid");
        let jit = JitProgram::compile(&program).expect("compile");
        let config = MachineConfig { gas_limit: 10_000, memory_limit: 1 << 20 };
        check(&program, &jit, config, &|| format!("case {case} {regs:?} code {code:08x?}"));
    }
}

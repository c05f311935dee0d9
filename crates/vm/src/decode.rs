//! RV32IM instruction decoding.
//!
//! Decoding is strict: reserved encodings (for example `SLLI` with
//! `imm[5] = 1`, unknown `funct7` values, load `funct3 = 3`) are illegal, so
//! that a program cannot come to depend on an encoding another
//! implementation (or a prover) would interpret differently.

use crate::isa::{AluOp, BranchOp, IllegalReason, Instruction, LoadOp, RegisterSet, StoreOp};

const OPCODE_LOAD: u32 = 0x03;
const OPCODE_MISC_MEM: u32 = 0x0f;
const OPCODE_OP_IMM: u32 = 0x13;
const OPCODE_AUIPC: u32 = 0x17;
const OPCODE_STORE: u32 = 0x23;
const OPCODE_OP: u32 = 0x33;
const OPCODE_LUI: u32 = 0x37;
const OPCODE_BRANCH: u32 = 0x63;
const OPCODE_JALR: u32 = 0x67;
const OPCODE_JAL: u32 = 0x6f;
const OPCODE_SYSTEM: u32 = 0x73;

/// The exact encoding of `ECALL`.
pub const ECALL_WORD: u32 = 0x0000_0073;
/// The exact encoding of `EBREAK`.
pub const EBREAK_WORD: u32 = 0x0010_0073;

#[inline]
fn rd(word: u32) -> u8 {
    ((word >> 7) & 0x1f) as u8
}
#[inline]
fn rs1(word: u32) -> u8 {
    ((word >> 15) & 0x1f) as u8
}
#[inline]
fn rs2(word: u32) -> u8 {
    ((word >> 20) & 0x1f) as u8
}
#[inline]
fn funct3(word: u32) -> u32 {
    (word >> 12) & 0x7
}
#[inline]
fn funct7(word: u32) -> u32 {
    word >> 25
}
#[inline]
fn imm_i(word: u32) -> i32 {
    (word as i32) >> 20
}
#[inline]
fn imm_s(word: u32) -> i32 {
    (((word & 0xfe00_0000) as i32) >> 20) | (((word >> 7) & 0x1f) as i32)
}
#[inline]
fn imm_b(word: u32) -> i32 {
    (((word & 0x8000_0000) as i32) >> 19)
        | (((word & 0x80) << 4) as i32)
        | (((word >> 20) & 0x7e0) as i32)
        | (((word >> 7) & 0x1e) as i32)
}
#[inline]
fn imm_j(word: u32) -> i32 {
    (((word & 0x8000_0000) as i32) >> 11)
        | ((word & 0x000f_f000) as i32)
        | (((word >> 9) & 0x800) as i32)
        | (((word >> 20) & 0x7fe) as i32)
}

/// Decodes one 32-bit word for the given register set. Never fails: words
/// that are not valid instructions become [`Instruction::Illegal`], which
/// only traps if it is executed.
pub fn decode(word: u32, regs: RegisterSet) -> Instruction {
    let insn = decode_rv32im(word);
    if regs == RegisterSet::Rv32e && names_high_register(&insn) {
        return Instruction::Illegal { word, reason: IllegalReason::RegisterOutOfRange };
    }
    insn
}

fn illegal(word: u32) -> Instruction {
    Instruction::Illegal { word, reason: IllegalReason::Undecodable }
}

fn names_high_register(insn: &Instruction) -> bool {
    let high = |r: u8| r >= 16;
    match *insn {
        Instruction::Lui { rd, .. } | Instruction::Auipc { rd, .. } | Instruction::Jal { rd, .. } => high(rd),
        Instruction::Jalr { rd, rs1, .. } | Instruction::Load { rd, rs1, .. } | Instruction::AluImm { rd, rs1, .. } => {
            high(rd) || high(rs1)
        }
        Instruction::Branch { rs1, rs2, .. } | Instruction::Store { rs1, rs2, .. } => high(rs1) || high(rs2),
        Instruction::Alu { rd, rs1, rs2, .. } => high(rd) || high(rs1) || high(rs2),
        Instruction::Fence | Instruction::Ecall | Instruction::Ebreak | Instruction::Illegal { .. } => false,
    }
}

fn decode_rv32im(word: u32) -> Instruction {
    // Every 32-bit RISC-V encoding has the low two bits set; anything else is
    // a compressed (RVC) instruction, which this machine does not implement.
    if word & 0b11 != 0b11 {
        return illegal(word);
    }
    match word & 0x7f {
        OPCODE_LUI => Instruction::Lui { rd: rd(word), imm: word & 0xffff_f000 },
        OPCODE_AUIPC => Instruction::Auipc { rd: rd(word), imm: word & 0xffff_f000 },
        OPCODE_JAL => Instruction::Jal { rd: rd(word), offset: imm_j(word) },
        OPCODE_JALR if funct3(word) == 0 => Instruction::Jalr { rd: rd(word), rs1: rs1(word), offset: imm_i(word) },
        OPCODE_BRANCH => {
            let op = match funct3(word) {
                0 => BranchOp::Eq,
                1 => BranchOp::Ne,
                4 => BranchOp::Lt,
                5 => BranchOp::Ge,
                6 => BranchOp::Ltu,
                7 => BranchOp::Geu,
                _ => return illegal(word),
            };
            Instruction::Branch { op, rs1: rs1(word), rs2: rs2(word), offset: imm_b(word) }
        }
        OPCODE_LOAD => {
            let op = match funct3(word) {
                0 => LoadOp::Lb,
                1 => LoadOp::Lh,
                2 => LoadOp::Lw,
                4 => LoadOp::Lbu,
                5 => LoadOp::Lhu,
                _ => return illegal(word),
            };
            Instruction::Load { op, rd: rd(word), rs1: rs1(word), offset: imm_i(word) }
        }
        OPCODE_STORE => {
            let op = match funct3(word) {
                0 => StoreOp::Sb,
                1 => StoreOp::Sh,
                2 => StoreOp::Sw,
                _ => return illegal(word),
            };
            Instruction::Store { op, rs1: rs1(word), rs2: rs2(word), offset: imm_s(word) }
        }
        OPCODE_OP_IMM => decode_op_imm(word),
        OPCODE_OP => decode_op(word),
        OPCODE_MISC_MEM if funct3(word) == 0 => Instruction::Fence,
        OPCODE_SYSTEM => match word {
            ECALL_WORD => Instruction::Ecall,
            EBREAK_WORD => Instruction::Ebreak,
            _ if funct3(word) != 0 && funct3(word) != 4 => Instruction::Illegal { word, reason: IllegalReason::Csr },
            _ => illegal(word),
        },
        _ => illegal(word),
    }
}

fn decode_op_imm(word: u32) -> Instruction {
    let (rd, rs1, imm) = (rd(word), rs1(word), imm_i(word));
    let op = match funct3(word) {
        0 => AluOp::Add,
        2 => AluOp::Slt,
        3 => AluOp::Sltu,
        4 => AluOp::Xor,
        6 => AluOp::Or,
        7 => AluOp::And,
        1 if funct7(word) == 0 => AluOp::Sll,
        5 if funct7(word) == 0 => AluOp::Srl,
        5 if funct7(word) == 0x20 => AluOp::Sra,
        _ => return illegal(word),
    };
    let imm = match op {
        // Shift amounts are the low five bits; the upper immediate bits were
        // checked above through funct7.
        AluOp::Sll | AluOp::Srl | AluOp::Sra => imm & 0x1f,
        _ => imm,
    };
    Instruction::AluImm { op, rd, rs1, imm }
}

fn decode_op(word: u32) -> Instruction {
    let op = match (funct7(word), funct3(word)) {
        (0x00, 0) => AluOp::Add,
        (0x20, 0) => AluOp::Sub,
        (0x00, 1) => AluOp::Sll,
        (0x00, 2) => AluOp::Slt,
        (0x00, 3) => AluOp::Sltu,
        (0x00, 4) => AluOp::Xor,
        (0x00, 5) => AluOp::Srl,
        (0x20, 5) => AluOp::Sra,
        (0x00, 6) => AluOp::Or,
        (0x00, 7) => AluOp::And,
        (0x01, 0) => AluOp::Mul,
        (0x01, 1) => AluOp::Mulh,
        (0x01, 2) => AluOp::Mulhsu,
        (0x01, 3) => AluOp::Mulhu,
        (0x01, 4) => AluOp::Div,
        (0x01, 5) => AluOp::Divu,
        (0x01, 6) => AluOp::Rem,
        (0x01, 7) => AluOp::Remu,
        _ => return illegal(word),
    };
    Instruction::Alu { op, rd: rd(word), rs1: rs1(word), rs2: rs2(word) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_known_words() {
        // addi a0, zero, -1
        assert_eq!(
            decode(0xfff0_0513, RegisterSet::Rv32i),
            Instruction::AluImm { op: AluOp::Add, rd: 10, rs1: 0, imm: -1 }
        );
        // jal ra, -4
        assert_eq!(decode(0xffdf_f0ef, RegisterSet::Rv32i), Instruction::Jal { rd: 1, offset: -4 });
        // beq a0, a1, -8
        assert_eq!(
            decode(0xfeb5_0ce3, RegisterSet::Rv32i),
            Instruction::Branch { op: BranchOp::Eq, rs1: 10, rs2: 11, offset: -8 }
        );
        // sw a1, -4(sp)
        assert_eq!(
            decode(0xfeb1_2e23, RegisterSet::Rv32i),
            Instruction::Store { op: StoreOp::Sw, rs1: 2, rs2: 11, offset: -4 }
        );
        assert_eq!(decode(ECALL_WORD, RegisterSet::Rv32e), Instruction::Ecall);
        assert_eq!(decode(EBREAK_WORD, RegisterSet::Rv32e), Instruction::Ebreak);
    }

    #[test]
    fn rejects_reserved_and_foreign_encodings() {
        let undecodable = |w| decode(w, RegisterSet::Rv32i) == illegal(w);
        assert!(undecodable(0)); // the all-zero word is defined illegal
        assert!(undecodable(0xffff_ffff));
        assert!(undecodable(0x0200_1013 | (1 << 25))); // slli with imm[5] set
        assert!(undecodable(0x0000_3003)); // load funct3 = 3 (LD on RV64)
        assert!(undecodable(0x0000_4503 | (7 << 12))); // load funct3 = 7
        assert!(undecodable(0x4000_0033 | (1 << 12))); // funct7 0x20 with sll
        assert!(undecodable(0x0000_100f)); // fence.i (Zifencei not implemented)
        assert!(undecodable(0x3020_0073)); // mret
        assert!(undecodable(0x0000_4501)); // compressed c.li
        assert_eq!(
            decode(0x3000_2573, RegisterSet::Rv32i), // csrr a0, mstatus
            Instruction::Illegal { word: 0x3000_2573, reason: IllegalReason::Csr }
        );
    }

    #[test]
    fn rv32e_rejects_high_registers_in_every_field() {
        // add x16, x1, x2 / add x1, x16, x2 / add x1, x2, x16
        for word in [0x0020_8833u32, 0x0028_00b3, 0x0101_00b3] {
            assert!(matches!(decode(word, RegisterSet::Rv32i), Instruction::Alu { .. }));
            assert_eq!(
                decode(word, RegisterSet::Rv32e),
                Instruction::Illegal { word, reason: IllegalReason::RegisterOutOfRange }
            );
        }
    }
}

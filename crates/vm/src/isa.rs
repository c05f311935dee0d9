//! Decoded RV32I/RV32E + M instructions.
//!
//! Decoding is a pure function of the 32-bit word and the register-set
//! variant, so a program can be decoded once at load (code is never
//! writable) and the result is the same on every host.

/// Which base register set a program was built for.
///
/// RV32E programs may only name `x0..x15`; an instruction naming a higher
/// register decodes to [`Instruction::Illegal`] and traps when executed,
/// exactly like any other undecodable word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegisterSet {
    /// RV32I: 32 integer registers.
    Rv32i,
    /// RV32E: 16 integer registers (`EF_RISCV_RVE` in the ELF header).
    Rv32e,
}

impl RegisterSet {
    /// Number of architectural registers of this variant.
    pub const fn count(self) -> u8 {
        match self {
            RegisterSet::Rv32i => 32,
            RegisterSet::Rv32e => 16,
        }
    }
}

/// Register-register and register-immediate ALU operations, including the
/// M extension (which only exists in the register-register form).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AluOp {
    Add,
    Sub,
    Sll,
    Slt,
    Sltu,
    Xor,
    Srl,
    Sra,
    Or,
    And,
    Mul,
    Mulh,
    Mulhsu,
    Mulhu,
    Div,
    Divu,
    Rem,
    Remu,
}

/// Conditional branch comparisons.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BranchOp {
    Eq,
    Ne,
    Lt,
    Ge,
    Ltu,
    Geu,
}

/// Load widths and extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LoadOp {
    Lb,
    Lh,
    Lw,
    Lbu,
    Lhu,
}

impl LoadOp {
    /// Access size in bytes (also the required alignment).
    pub const fn size(self) -> u32 {
        match self {
            LoadOp::Lb | LoadOp::Lbu => 1,
            LoadOp::Lh | LoadOp::Lhu => 2,
            LoadOp::Lw => 4,
        }
    }
}

/// Store widths.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StoreOp {
    Sb,
    Sh,
    Sw,
}

impl StoreOp {
    /// Access size in bytes (also the required alignment).
    pub const fn size(self) -> u32 {
        match self {
            StoreOp::Sb => 1,
            StoreOp::Sh => 2,
            StoreOp::Sw => 4,
        }
    }
}

/// Why a word did not decode to an executable instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IllegalReason {
    /// Not an RV32IM encoding at all (includes compressed, float, atomics).
    Undecodable,
    /// A Zicsr instruction: the machine has no CSRs.
    Csr,
    /// An RV32E program named a register above `x15`.
    RegisterOutOfRange,
}

/// One decoded instruction. Register fields are already validated against
/// the program's [`RegisterSet`]; immediates are sign-extended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Instruction {
    Lui {
        rd: u8,
        imm: u32,
    },
    Auipc {
        rd: u8,
        imm: u32,
    },
    Jal {
        rd: u8,
        offset: i32,
    },
    Jalr {
        rd: u8,
        rs1: u8,
        offset: i32,
    },
    Branch {
        op: BranchOp,
        rs1: u8,
        rs2: u8,
        offset: i32,
    },
    Load {
        op: LoadOp,
        rd: u8,
        rs1: u8,
        offset: i32,
    },
    Store {
        op: StoreOp,
        rs1: u8,
        rs2: u8,
        offset: i32,
    },
    /// Register-immediate ALU op; `op` is never an M-extension op or `Sub`.
    AluImm {
        op: AluOp,
        rd: u8,
        rs1: u8,
        imm: i32,
    },
    /// Register-register ALU op, including the M extension.
    Alu {
        op: AluOp,
        rd: u8,
        rs1: u8,
        rs2: u8,
    },
    /// FENCE (and its FENCE.TSO / PAUSE encodings): a no-op on one hart.
    Fence,
    Ecall,
    Ebreak,
    Illegal {
        word: u32,
        reason: IllegalReason,
    },
}

/// The gas class an instruction is charged under (see `docs/machine.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CostClass {
    Alu,
    Memory,
    Control,
    Multiply,
    Divide,
    System,
}

impl Instruction {
    /// The gas class of this instruction.
    pub const fn cost_class(&self) -> CostClass {
        match self {
            Instruction::Lui { .. } | Instruction::Auipc { .. } | Instruction::AluImm { .. } | Instruction::Fence => {
                CostClass::Alu
            }
            Instruction::Alu { op, .. } => match op {
                AluOp::Mul | AluOp::Mulh | AluOp::Mulhsu | AluOp::Mulhu => CostClass::Multiply,
                AluOp::Div | AluOp::Divu | AluOp::Rem | AluOp::Remu => CostClass::Divide,
                _ => CostClass::Alu,
            },
            Instruction::Load { .. } | Instruction::Store { .. } => CostClass::Memory,
            Instruction::Jal { .. } | Instruction::Jalr { .. } | Instruction::Branch { .. } => CostClass::Control,
            Instruction::Ecall | Instruction::Ebreak | Instruction::Illegal { .. } => CostClass::System,
        }
    }
}

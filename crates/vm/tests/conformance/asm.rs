//! A tiny RV32IM assembler for the conformance tests.
//!
//! One encoder per instruction format and one function per mnemonic, with
//! operands in assembly order (`lw rd, imm(rs1)` is `lw(rd, imm, rs1)`).
//! Encoders panic on out-of-range operands so that a typo in a test cannot
//! silently assemble into a different instruction. The encodings are checked
//! against words produced by `llvm-mc -triple=riscv32 -mattr=+m` (see
//! `known_encodings` below).

#![allow(dead_code)] // a library: not every register name is used

/// A register number `0..=31`.
pub type Reg = u32;

pub const ZERO: Reg = 0;
pub const RA: Reg = 1;
pub const SP: Reg = 2;
pub const GP: Reg = 3;
pub const TP: Reg = 4;
pub const T0: Reg = 5;
pub const T1: Reg = 6;
pub const T2: Reg = 7;
pub const S0: Reg = 8;
pub const S1: Reg = 9;
pub const A0: Reg = 10;
pub const A1: Reg = 11;
pub const A2: Reg = 12;
pub const A3: Reg = 13;
pub const A4: Reg = 14;
pub const A5: Reg = 15;
pub const A6: Reg = 16;
pub const A7: Reg = 17;
pub const S2: Reg = 18;
pub const S3: Reg = 19;
pub const S4: Reg = 20;
pub const S5: Reg = 21;
pub const S6: Reg = 22;
pub const S7: Reg = 23;
pub const S8: Reg = 24;
pub const S9: Reg = 25;
pub const S10: Reg = 26;
pub const S11: Reg = 27;
pub const T3: Reg = 28;
pub const T4: Reg = 29;
pub const T5: Reg = 30;
pub const T6: Reg = 31;

const OP: u32 = 0x33;
const OP_IMM: u32 = 0x13;
const LOAD: u32 = 0x03;
const STORE: u32 = 0x23;
const BRANCH: u32 = 0x63;
const JALR: u32 = 0x67;
const JAL: u32 = 0x6f;
const LUI: u32 = 0x37;
const AUIPC: u32 = 0x17;
const MISC_MEM: u32 = 0x0f;
const SYSTEM: u32 = 0x73;

fn reg(r: Reg) -> u32 {
    assert!(r < 32, "register x{r} does not exist");
    r
}

fn imm12(imm: i32) -> u32 {
    assert!((-2048..=2047).contains(&imm), "12-bit immediate {imm} out of range");
    (imm as u32) & 0xfff
}

// ---------------------------------------------------------------- formats

/// R-type: `funct7 | rs2 | rs1 | funct3 | rd | opcode`.
pub fn r_type(funct7: u32, rs2: Reg, rs1: Reg, funct3: u32, rd: Reg, opcode: u32) -> u32 {
    assert!(funct7 < 128 && funct3 < 8 && opcode < 128);
    (funct7 << 25) | (reg(rs2) << 20) | (reg(rs1) << 15) | (funct3 << 12) | (reg(rd) << 7) | opcode
}

/// I-type: `imm[11:0] | rs1 | funct3 | rd | opcode`.
pub fn i_type(imm: i32, rs1: Reg, funct3: u32, rd: Reg, opcode: u32) -> u32 {
    assert!(funct3 < 8 && opcode < 128);
    (imm12(imm) << 20) | (reg(rs1) << 15) | (funct3 << 12) | (reg(rd) << 7) | opcode
}

/// S-type: `imm[11:5] | rs2 | rs1 | funct3 | imm[4:0] | opcode`.
pub fn s_type(imm: i32, rs2: Reg, rs1: Reg, funct3: u32, opcode: u32) -> u32 {
    assert!(funct3 < 8 && opcode < 128);
    let imm = imm12(imm);
    ((imm >> 5) << 25) | (reg(rs2) << 20) | (reg(rs1) << 15) | (funct3 << 12) | ((imm & 0x1f) << 7) | opcode
}

/// B-type: `imm[12|10:5] | rs2 | rs1 | funct3 | imm[4:1|11] | opcode`.
pub fn b_type(offset: i32, rs2: Reg, rs1: Reg, funct3: u32, opcode: u32) -> u32 {
    assert!((-4096..=4094).contains(&offset) && offset % 2 == 0, "branch offset {offset} out of range");
    let imm = offset as u32;
    (((imm >> 12) & 1) << 31)
        | (((imm >> 5) & 0x3f) << 25)
        | (reg(rs2) << 20)
        | (reg(rs1) << 15)
        | (funct3 << 12)
        | (((imm >> 1) & 0xf) << 8)
        | (((imm >> 11) & 1) << 7)
        | opcode
}

/// U-type: `imm[31:12] | rd | opcode`; `imm20` is the 20-bit upper immediate.
pub fn u_type(imm20: u32, rd: Reg, opcode: u32) -> u32 {
    assert!(imm20 < (1 << 20), "20-bit immediate {imm20:#x} out of range");
    (imm20 << 12) | (reg(rd) << 7) | opcode
}

/// J-type: `imm[20|10:1|11|19:12] | rd | opcode`.
pub fn j_type(offset: i32, rd: Reg, opcode: u32) -> u32 {
    assert!((-(1 << 20)..(1 << 20)).contains(&offset) && offset % 2 == 0, "jump offset {offset} out of range");
    let imm = offset as u32;
    (((imm >> 20) & 1) << 31)
        | (((imm >> 1) & 0x3ff) << 21)
        | (((imm >> 11) & 1) << 20)
        | (((imm >> 12) & 0xff) << 12)
        | (reg(rd) << 7)
        | opcode
}

// ---------------------------------------------------------------- RV32I

macro_rules! r_ops {
    ($($name:ident = ($f7:expr, $f3:expr);)*) => {$(
        pub fn $name(rd: Reg, rs1: Reg, rs2: Reg) -> u32 {
            r_type($f7, rs2, rs1, $f3, rd, OP)
        }
    )*};
}

r_ops! {
    add = (0x00, 0);
    sub = (0x20, 0);
    sll = (0x00, 1);
    slt = (0x00, 2);
    sltu = (0x00, 3);
    xor = (0x00, 4);
    srl = (0x00, 5);
    sra = (0x20, 5);
    or = (0x00, 6);
    and = (0x00, 7);
    mul = (0x01, 0);
    mulh = (0x01, 1);
    mulhsu = (0x01, 2);
    mulhu = (0x01, 3);
    div = (0x01, 4);
    divu = (0x01, 5);
    rem = (0x01, 6);
    remu = (0x01, 7);
}

macro_rules! i_ops {
    ($($name:ident = $f3:expr;)*) => {$(
        pub fn $name(rd: Reg, rs1: Reg, imm: i32) -> u32 {
            i_type(imm, rs1, $f3, rd, OP_IMM)
        }
    )*};
}

i_ops! {
    addi = 0;
    slti = 2;
    sltiu = 3;
    xori = 4;
    ori = 6;
    andi = 7;
}

fn shift_imm(funct7: u32, funct3: u32, rd: Reg, rs1: Reg, shamt: u32) -> u32 {
    assert!(shamt < 32, "shift amount {shamt} out of range");
    r_type(funct7, shamt, rs1, funct3, rd, OP_IMM)
}

pub fn slli(rd: Reg, rs1: Reg, shamt: u32) -> u32 {
    shift_imm(0x00, 1, rd, rs1, shamt)
}

pub fn srli(rd: Reg, rs1: Reg, shamt: u32) -> u32 {
    shift_imm(0x00, 5, rd, rs1, shamt)
}

pub fn srai(rd: Reg, rs1: Reg, shamt: u32) -> u32 {
    shift_imm(0x20, 5, rd, rs1, shamt)
}

/// `lui rd, imm20`: `rd = imm20 << 12`.
pub fn lui(rd: Reg, imm20: u32) -> u32 {
    u_type(imm20, rd, LUI)
}

/// `auipc rd, imm20`: `rd = pc + (imm20 << 12)`.
pub fn auipc(rd: Reg, imm20: u32) -> u32 {
    u_type(imm20, rd, AUIPC)
}

/// `jal rd, offset` (offset relative to this instruction).
pub fn jal(rd: Reg, offset: i32) -> u32 {
    j_type(offset, rd, JAL)
}

/// `jalr rd, offset(rs1)`.
pub fn jalr(rd: Reg, offset: i32, rs1: Reg) -> u32 {
    i_type(offset, rs1, 0, rd, JALR)
}

macro_rules! b_ops {
    ($($name:ident = $f3:expr;)*) => {$(
        pub fn $name(rs1: Reg, rs2: Reg, offset: i32) -> u32 {
            b_type(offset, rs2, rs1, $f3, BRANCH)
        }
    )*};
}

b_ops! {
    beq = 0;
    bne = 1;
    blt = 4;
    bge = 5;
    bltu = 6;
    bgeu = 7;
}

macro_rules! load_ops {
    ($($name:ident = $f3:expr;)*) => {$(
        /// `rd, offset(rs1)`.
        pub fn $name(rd: Reg, offset: i32, rs1: Reg) -> u32 {
            i_type(offset, rs1, $f3, rd, LOAD)
        }
    )*};
}

load_ops! {
    lb = 0;
    lh = 1;
    lw = 2;
    lbu = 4;
    lhu = 5;
}

macro_rules! store_ops {
    ($($name:ident = $f3:expr;)*) => {$(
        /// `rs2, offset(rs1)`.
        pub fn $name(rs2: Reg, offset: i32, rs1: Reg) -> u32 {
            s_type(offset, rs2, rs1, $f3, STORE)
        }
    )*};
}

store_ops! {
    sb = 0;
    sh = 1;
    sw = 2;
}

/// `fence pred, succ` with 4-bit `iorw` sets and the given `fm` field.
pub fn fence_raw(fm: u32, pred: u32, succ: u32) -> u32 {
    assert!(fm < 16 && pred < 16 && succ < 16);
    (fm << 28) | (pred << 24) | (succ << 20) | MISC_MEM
}

/// `fence iorw, iorw`.
pub fn fence() -> u32 {
    fence_raw(0, 0xf, 0xf)
}

/// `fence.tso` (`fm = 1000`, `rw, rw`).
pub fn fence_tso() -> u32 {
    fence_raw(0b1000, 0b0011, 0b0011)
}

/// `pause` (Zihintpause: `fence w, 0`).
pub fn pause() -> u32 {
    fence_raw(0, 0b0001, 0)
}

pub fn ecall() -> u32 {
    0x0000_0073
}

pub fn ebreak() -> u32 {
    0x0010_0073
}

/// A Zicsr instruction: `funct3` 1..=3 (`csrrw/s/c`) or 5..=7 (immediate
/// forms, where `rs1` is the 5-bit immediate).
pub fn csr(funct3: u32, rd: Reg, csr: u32, rs1: Reg) -> u32 {
    assert!(csr < 4096);
    (csr << 20) | (reg(rs1) << 15) | (funct3 << 12) | (reg(rd) << 7) | SYSTEM
}

/// `csrrs rd, csr, rs1` (`csrr rd, csr` when `rs1 = x0`).
pub fn csrrs(rd: Reg, csr_num: u32, rs1: Reg) -> u32 {
    csr(2, rd, csr_num, rs1)
}

// ---------------------------------------------------------------- pseudos

pub fn nop() -> u32 {
    addi(ZERO, ZERO, 0)
}

/// `li rd, value`: one `addi` if the value fits 12 signed bits, otherwise
/// `lui` (upper part, corrected for the sign of the low part) plus an
/// `addi` when the low 12 bits are not zero.
pub fn li(rd: Reg, value: u32) -> Vec<u32> {
    let v = value as i32;
    if (-2048..=2047).contains(&v) {
        return vec![addi(rd, ZERO, v)];
    }
    // Low 12 bits, sign-extended: the `addi` adds them back as a signed
    // number, so the upper part is rounded up when bit 11 is set.
    let lo = ((value << 20) as i32) >> 20;
    let hi = value.wrapping_sub(lo as u32) >> 12;
    let mut words = vec![lui(rd, hi)];
    if lo != 0 {
        words.push(addi(rd, rd, lo));
    }
    words
}

/// `HALT` with whatever exit code is in `a0`: `li t0, 0; ecall`.
pub fn halt() -> Vec<u32> {
    vec![addi(T0, ZERO, 0), ecall()]
}

/// `li a0, code` then [`halt`].
pub fn halt_with(code: u32) -> Vec<u32> {
    let mut words = li(A0, code);
    words.extend(halt());
    words
}

/// `li t0, number; ecall`.
pub fn syscall(number: u32) -> Vec<u32> {
    let mut words = li(T0, number);
    words.push(ecall());
    words
}

#[test]
fn known_encodings() {
    // Words from the RISC-V spec / objdump, and from
    // `llvm-mc -triple=riscv32 -mattr=+m -show-encoding`.
    let cases: &[(&str, u32, u32)] = &[
        ("addi a0, zero, -1", addi(A0, ZERO, -1), 0xfff0_0513),
        ("jal ra, -4", jal(RA, -4), 0xffdf_f0ef),
        ("sw a1, -4(sp)", sw(A1, -4, SP), 0xfeb1_2e23),
        ("mul a0, a0, a1", mul(A0, A0, A1), 0x02b5_0533),
        ("lui a0, 0x12345", lui(A0, 0x12345), 0x1234_5537),
        ("beq a0, a1, -8", beq(A0, A1, -8), 0xfeb5_0ce3),
        ("ret", jalr(ZERO, 0, RA), 0x0000_8067),
        ("nop", nop(), 0x0000_0013),
        ("ecall", ecall(), 0x0000_0073),
        ("ebreak", ebreak(), 0x0010_0073),
        ("fence", fence(), 0x0ff0_000f),
        ("fence.tso", fence_tso(), 0x8330_000f),
        ("pause", pause(), 0x0100_000f),
        ("csrrs a0, mcycle, zero", csrrs(A0, 0xb00, ZERO), 0xb000_2573),
        ("add s2, t6, a7", add(S2, T6, A7), 0x011f_8933),
        ("sub a0, a1, a2", sub(A0, A1, A2), 0x40c5_8533),
        ("sll t3, t4, t5", sll(T3, T4, T5), 0x01ee_9e33),
        ("slt a0, a1, a2", slt(A0, A1, A2), 0x00c5_a533),
        ("sltu a0, a1, a2", sltu(A0, A1, A2), 0x00c5_b533),
        ("xor a0, a1, a2", xor(A0, A1, A2), 0x00c5_c533),
        ("srl a0, a1, a2", srl(A0, A1, A2), 0x00c5_d533),
        ("sra a0, a1, a2", sra(A0, A1, A2), 0x40c5_d533),
        ("or a0, a1, a2", or(A0, A1, A2), 0x00c5_e533),
        ("and a0, a1, a2", and(A0, A1, A2), 0x00c5_f533),
        ("addi sp, sp, -2048", addi(SP, SP, -2048), 0x8001_0113),
        ("addi t6, s11, 2047", addi(T6, S11, 2047), 0x7ffd_8f93),
        ("slti a0, a1, -1", slti(A0, A1, -1), 0xfff5_a513),
        ("sltiu a0, a1, -1", sltiu(A0, A1, -1), 0xfff5_b513),
        ("xori a0, a1, -1", xori(A0, A1, -1), 0xfff5_c513),
        ("ori a0, a1, 0x555", ori(A0, A1, 0x555), 0x5555_e513),
        ("andi a0, a1, 255", andi(A0, A1, 255), 0x0ff5_f513),
        ("slli a0, a1, 31", slli(A0, A1, 31), 0x01f5_9513),
        ("srli a0, a1, 1", srli(A0, A1, 1), 0x0015_d513),
        ("srai a0, a1, 31", srai(A0, A1, 31), 0x41f5_d513),
        ("lui t6, 0xfffff", lui(T6, 0xfffff), 0xffff_ffb7),
        ("auipc a0, 0x80000", auipc(A0, 0x80000), 0x8000_0517),
        ("jal zero, 2048", jal(ZERO, 2048), 0x0010_006f),
        ("jal ra, 0xffffe", jal(RA, 0xffffe), 0x7fff_f0ef),
        ("jal ra, -0x100000", jal(RA, -0x10_0000), 0x8000_00ef),
        ("jalr t1, -2048(t2)", jalr(T1, -2048, T2), 0x8003_8367),
        ("bne a0, zero, 4094", bne(A0, ZERO, 4094), 0x7e05_1fe3),
        ("blt a0, a1, -4096", blt(A0, A1, -4096), 0x80b5_4063),
        ("bge s2, s3, 2048", bge(S2, S3, 2048), 0x0139_50e3),
        ("bltu t0, t1, 16", bltu(T0, T1, 16), 0x0062_e863),
        ("bgeu a4, a5, -2", bgeu(A4, A5, -2), 0xfef7_7fe3),
        ("lb a0, -1(a1)", lb(A0, -1, A1), 0xfff5_8503),
        ("lh a0, 2(a1)", lh(A0, 2, A1), 0x0025_9503),
        ("lw a0, -2048(s11)", lw(A0, -2048, S11), 0x800d_a503),
        ("lbu t6, 2047(t5)", lbu(T6, 2047, T5), 0x7fff_4f83),
        ("lhu a0, 0(a1)", lhu(A0, 0, A1), 0x0005_d503),
        ("sb a0, -2048(a1)", sb(A0, -2048, A1), 0x80a5_8023),
        ("sh t6, 2047(s2)", sh(T6, 2047, S2), 0x7ff9_1fa3),
        ("sw zero, 0(sp)", sw(ZERO, 0, SP), 0x0001_2023),
        ("mulh a0, a1, a2", mulh(A0, A1, A2), 0x02c5_9533),
        ("mulhsu s2, t6, a7", mulhsu(S2, T6, A7), 0x031f_a933),
        ("mulhu a0, a1, a2", mulhu(A0, A1, A2), 0x02c5_b533),
        ("div a0, a1, a2", div(A0, A1, A2), 0x02c5_c533),
        ("divu a0, a1, a2", divu(A0, A1, A2), 0x02c5_d533),
        ("rem a0, a1, a2", rem(A0, A1, A2), 0x02c5_e533),
        ("remu a0, a1, a2", remu(A0, A1, A2), 0x02c5_f533),
    ];
    for &(text, got, want) in cases {
        assert_eq!(got, want, "{text}: assembled {got:#010x}, expected {want:#010x}");
    }
}

#[test]
fn li_sequences() {
    // Small values: one addi.
    assert_eq!(li(A0, 0), vec![0x0000_0513]);
    assert_eq!(li(A0, 0xffff_f800), vec![addi(A0, ZERO, -2048)]);
    // Low part with bit 11 set: the upper part is rounded up (llvm-mc `li a0, 0x12345fff`).
    assert_eq!(li(A0, 0x1234_5fff), vec![0x1234_6537, 0xfff5_0513]);
    // Low part zero: lui only.
    assert_eq!(li(A0, 0x8000_0000), vec![lui(A0, 0x80000)]);
    // 0x7fffffff = lui 0x80000; addi -1.
    assert_eq!(li(A0, 0x7fff_ffff), vec![lui(A0, 0x80000), addi(A0, A0, -1)]);
    // 0xfffff7ff: upper part wraps (lui 0xfffff; addi 0x7ff).
    assert_eq!(li(A0, 0xffff_f7ff), vec![lui(A0, 0xfffff), addi(A0, A0, 2047)]);
}

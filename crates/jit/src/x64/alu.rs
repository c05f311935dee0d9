//! Operand moves, comparisons and ALU instructions on guest registers that
//! live in host registers, in the frame or are `x0` ([`Loc`]).
//!
//! `rax` is the only free scratch register. Rare instructions that need
//! more (`DIV`/`REM`, shifts by a register not held in `rcx`, `MULH*` of a
//! register in the frame, comparisons of two frame registers into one)
//! borrow `rcx` and `rdx`: [`with_scratch`] writes the guest registers held
//! there to the frame, emits the instruction against a map where they live
//! in the frame, and reloads them.
//!
//! Every write to a host register holding a guest register leaves its upper
//! half zero (32-bit operations), so the register can serve as a
//! zero-extended 64-bit operand (`MULHU`, `MULHSU`) or index.

// `dynasm!`'s dynamic-register operands (`Rd(n)`) expand to `n.into()`.
#![allow(clippy::useless_conversion)]

use super::plan::{Loc, RegMap, RAX, RCX, RDX};
use athena_vm::isa::AluOp;
use dynasmrt::{dynasm, DynasmApi, DynasmLabelApi};

pub(super) type Asm = dynasmrt::x64::Assembler;

/// `dst = value at src` (32-bit, zero-extending into the full register).
/// `x0` is materialized with `xor` (clobbers flags).
pub(super) fn get(ops: &mut Asm, dst: u8, src: Loc) {
    match src {
        Loc::Zero => dynasm!(ops ; .arch x64 ; xor Rd(dst), Rd(dst)),
        Loc::Host(h) => {
            if h != dst {
                dynasm!(ops ; .arch x64 ; mov Rd(dst), Rd(h))
            }
        }
        Loc::Mem(d) => dynasm!(ops ; .arch x64 ; mov Rd(dst), DWORD [BYTE rsp + d]),
    }
}

/// `dst = host register src` (nothing for `x0`).
pub(super) fn put(ops: &mut Asm, dst: Loc, src: u8) {
    match dst {
        Loc::Zero => {}
        Loc::Host(h) => {
            if h != src {
                dynasm!(ops ; .arch x64 ; mov Rd(h), Rd(src))
            }
        }
        Loc::Mem(d) => dynasm!(ops ; .arch x64 ; mov DWORD [BYTE rsp + d], Rd(src)),
    }
}

/// `dst = value` (nothing for `x0`; leaves flags alone).
pub(super) fn put_imm(ops: &mut Asm, dst: Loc, value: i32) {
    match dst {
        Loc::Zero => {}
        Loc::Host(h) => dynasm!(ops ; .arch x64 ; mov Rd(h), value),
        Loc::Mem(d) => dynasm!(ops ; .arch x64 ; mov DWORD [BYTE rsp + d], value),
    }
}

/// Immediate forms of two-operand ops ([`imm_op`]).
#[derive(Clone, Copy)]
pub(super) enum ImmOp {
    Add,
    Xor,
    Or,
    And,
    Cmp,
}

/// `op r32, imm`, with a one-byte immediate when it fits (shorter code:
/// the generated code is decode-bound on long straight-line guests).
pub(super) fn imm_op(ops: &mut Asm, op: ImmOp, r: u8, imm: i32) {
    match (op, i8::try_from(imm)) {
        (ImmOp::Add, Ok(b)) => dynasm!(ops ; .arch x64 ; add Rd(r), BYTE b),
        (ImmOp::Xor, Ok(b)) => dynasm!(ops ; .arch x64 ; xor Rd(r), BYTE b),
        (ImmOp::Or, Ok(b)) => dynasm!(ops ; .arch x64 ; or Rd(r), BYTE b),
        (ImmOp::And, Ok(b)) => dynasm!(ops ; .arch x64 ; and Rd(r), BYTE b),
        (ImmOp::Cmp, Ok(b)) => dynasm!(ops ; .arch x64 ; cmp Rd(r), BYTE i32::from(b)),
        (ImmOp::Add, _) => dynasm!(ops ; .arch x64 ; add Rd(r), imm),
        (ImmOp::Xor, _) => dynasm!(ops ; .arch x64 ; xor Rd(r), imm),
        (ImmOp::Or, _) => dynasm!(ops ; .arch x64 ; or Rd(r), imm),
        (ImmOp::And, _) => dynasm!(ops ; .arch x64 ; and Rd(r), imm),
        (ImmOp::Cmp, _) => dynasm!(ops ; .arch x64 ; cmp Rd(r), imm),
    }
}

/// `lea dst32, [base64 + disp]`, with a one-byte displacement when it fits.
pub(super) fn lea(ops: &mut Asm, dst: u8, base: u8, disp: i32) {
    match i8::try_from(disp) {
        Ok(b) => dynasm!(ops ; .arch x64 ; lea Rd(dst), [BYTE Rq(base) + b]),
        Err(_) => dynasm!(ops ; .arch x64 ; lea Rd(dst), [Rq(base) + disp]),
    }
}

/// Emits `f` against a map where the guest registers held in `rcx` and
/// `rdx` live in the frame, so that `rax`, `rcx` and `rdx` are all scratch:
/// those guest registers are written to the frame first and reloaded after.
pub(super) fn with_scratch(ops: &mut Asm, map: &RegMap, f: impl FnOnce(&mut Asm, &RegMap)) {
    let lent: Vec<(i8, u8)> = map.cached().filter(|&(_, h)| h == RCX || h == RDX).collect();
    for &(d, h) in &lent {
        dynasm!(ops ; .arch x64 ; mov DWORD [BYTE rsp + d], Rd(h));
    }
    f(ops, &map.without(&[RCX, RDX]));
    for &(d, h) in &lent {
        dynasm!(ops ; .arch x64 ; mov Rd(h), DWORD [BYTE rsp + d]);
    }
}

/// A comparison outcome, as an x86 condition code.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Cond {
    Lt,
    Ge,
    Gt,
    Le,
    Ltu,
    Geu,
    Gtu,
    Leu,
    Eq,
    Ne,
}

impl Cond {
    /// The condition with the operands exchanged (`a < b` is `b > a`).
    fn swapped(self) -> Cond {
        match self {
            Cond::Lt => Cond::Gt,
            Cond::Gt => Cond::Lt,
            Cond::Ge => Cond::Le,
            Cond::Le => Cond::Ge,
            Cond::Ltu => Cond::Gtu,
            Cond::Gtu => Cond::Ltu,
            Cond::Geu => Cond::Leu,
            Cond::Leu => Cond::Geu,
            c => c,
        }
    }
}

/// Right-hand side of a comparison.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Rhs {
    Reg(Loc),
    Imm(i32),
}

/// Whether [`compare`] needs its scratch register for these operands.
fn compare_needs_scratch(lhs: Loc, rhs: Rhs) -> bool {
    matches!((lhs, rhs), (Loc::Mem(_), Rhs::Reg(Loc::Mem(_))) | (Loc::Zero, Rhs::Imm(_) | Rhs::Reg(Loc::Zero)))
}

/// Emits `cmp lhs, rhs` (through `scratch` when both are in the frame or
/// `lhs` is a constant) and returns the condition to test for `cond`
/// (exchanged when the operands had to be swapped, for `x0` on the left).
pub(super) fn compare(ops: &mut Asm, lhs: Loc, rhs: Rhs, cond: Cond, scratch: u8) -> Cond {
    match (lhs, rhs) {
        (Loc::Host(h), Rhs::Reg(Loc::Host(g))) => dynasm!(ops ; .arch x64 ; cmp Rd(h), Rd(g)),
        (Loc::Host(h), Rhs::Reg(Loc::Mem(d))) => dynasm!(ops ; .arch x64 ; cmp Rd(h), DWORD [BYTE rsp + d]),
        (Loc::Host(h), Rhs::Reg(Loc::Zero)) => dynasm!(ops ; .arch x64 ; test Rd(h), Rd(h)),
        (Loc::Host(h), Rhs::Imm(i)) => imm_op(ops, ImmOp::Cmp, h, i),
        (Loc::Mem(d), Rhs::Reg(Loc::Host(g))) => dynasm!(ops ; .arch x64 ; cmp DWORD [BYTE rsp + d], Rd(g)),
        (Loc::Mem(d), Rhs::Reg(Loc::Zero)) => dynasm!(ops ; .arch x64 ; cmp DWORD [BYTE rsp + d], 0),
        (Loc::Mem(d), Rhs::Imm(i)) => dynasm!(ops ; .arch x64 ; cmp DWORD [BYTE rsp + d], i),
        (Loc::Mem(d), Rhs::Reg(Loc::Mem(e))) => dynasm!(ops
            ; .arch x64
            ; mov Rd(scratch), DWORD [BYTE rsp + d]
            ; cmp Rd(scratch), DWORD [BYTE rsp + e]
        ),
        (Loc::Zero, Rhs::Reg(r @ (Loc::Host(_) | Loc::Mem(_)))) => {
            return compare(ops, r, Rhs::Reg(Loc::Zero), cond.swapped(), scratch);
        }
        (Loc::Zero, rhs) => {
            dynasm!(ops ; .arch x64 ; xor Rd(scratch), Rd(scratch));
            return compare(ops, Loc::Host(scratch), rhs, cond, scratch);
        }
    }
    cond
}

impl Cond {
    /// The x86 condition code (the low nibble of `jcc` and `setcc`).
    pub(super) fn code(self) -> u8 {
        match self {
            Cond::Ltu => 0x2,
            Cond::Geu => 0x3,
            Cond::Eq => 0x4,
            Cond::Ne => 0x5,
            Cond::Leu => 0x6,
            Cond::Gtu => 0x7,
            Cond::Lt => 0xc,
            Cond::Ge => 0xd,
            Cond::Le => 0xe,
            Cond::Gt => 0xf,
        }
    }
}

/// `setcc` into the low byte of host register `r`.
fn setcc(ops: &mut Asm, cond: Cond, r: u8) {
    match cond {
        Cond::Lt => dynasm!(ops ; .arch x64 ; setl Rb(r)),
        Cond::Ge => dynasm!(ops ; .arch x64 ; setge Rb(r)),
        Cond::Gt => dynasm!(ops ; .arch x64 ; setg Rb(r)),
        Cond::Le => dynasm!(ops ; .arch x64 ; setle Rb(r)),
        Cond::Ltu => dynasm!(ops ; .arch x64 ; setb Rb(r)),
        Cond::Geu => dynasm!(ops ; .arch x64 ; setae Rb(r)),
        Cond::Gtu => dynasm!(ops ; .arch x64 ; seta Rb(r)),
        Cond::Leu => dynasm!(ops ; .arch x64 ; setbe Rb(r)),
        Cond::Eq => dynasm!(ops ; .arch x64 ; sete Rb(r)),
        Cond::Ne => dynasm!(ops ; .arch x64 ; setne Rb(r)),
    }
}

/// Right-hand side of `SLT`/`SLTU`.
#[derive(Clone, Copy)]
enum Operand {
    Reg(u8),
    Imm(i32),
}

/// `rd = (rs1 < rhs)`, signed or unsigned: computed straight into `rd`'s
/// host register when it is neither operand, else in `eax` (with borrowed
/// scratch when the comparison itself needs a register too).
fn set_less(ops: &mut Asm, map: &RegMap, rd: u8, rs1: u8, rhs: Operand, signed: bool) {
    let locs = |m: &RegMap| {
        let r = match rhs {
            Operand::Reg(r) => Rhs::Reg(m.loc(r)),
            Operand::Imm(i) => Rhs::Imm(i),
        };
        (m.loc(rd), m.loc(rs1), r)
    };
    let cond = if signed { Cond::Lt } else { Cond::Ltu };
    let (d, a, r) = locs(map);
    let t = match d {
        Loc::Host(hd) if a != d && r != Rhs::Reg(d) => hd,
        _ => RAX,
    };
    if t == RAX && compare_needs_scratch(a, r) {
        return with_scratch(ops, map, |ops, m| {
            let (d, a, r) = locs(m);
            dynasm!(ops ; .arch x64 ; xor eax, eax);
            let cond = compare(ops, a, r, cond, RCX);
            setcc(ops, cond, RAX);
            put(ops, d, RAX);
        });
    }
    if let (Loc::Host(hd), RAX) = (d, t) {
        // `rd` is an operand: compare first, then materialize (`sbb`/`neg`
        // turns the carry of an unsigned `a < b` into 0/1).
        let cond = compare(ops, a, r, cond, RAX);
        if cond == Cond::Ltu {
            dynasm!(ops ; .arch x64 ; sbb Rd(hd), Rd(hd) ; neg Rd(hd));
        } else {
            setcc(ops, cond, RAX);
            dynasm!(ops ; .arch x64 ; movzx Rd(hd), al);
        }
        return;
    }
    dynasm!(ops ; .arch x64 ; xor Rd(t), Rd(t));
    let cond = compare(ops, a, r, cond, RAX);
    setcc(ops, cond, t);
    put(ops, d, t);
}

/// `dst op= src` for the two-operand ops (`ADD`, `SUB`, logic ops, `MUL`).
fn op_rm(ops: &mut Asm, op: AluOp, dst: u8, src: Loc) {
    match (op, src) {
        (AluOp::Add | AluOp::Sub | AluOp::Xor | AluOp::Or, Loc::Zero) => {}
        (_, Loc::Zero) => dynasm!(ops ; .arch x64 ; xor Rd(dst), Rd(dst)),
        (AluOp::Add, Loc::Host(h)) => dynasm!(ops ; .arch x64 ; add Rd(dst), Rd(h)),
        (AluOp::Add, Loc::Mem(d)) => dynasm!(ops ; .arch x64 ; add Rd(dst), DWORD [BYTE rsp + d]),
        (AluOp::Sub, Loc::Host(h)) => dynasm!(ops ; .arch x64 ; sub Rd(dst), Rd(h)),
        (AluOp::Sub, Loc::Mem(d)) => dynasm!(ops ; .arch x64 ; sub Rd(dst), DWORD [BYTE rsp + d]),
        (AluOp::Xor, Loc::Host(h)) => dynasm!(ops ; .arch x64 ; xor Rd(dst), Rd(h)),
        (AluOp::Xor, Loc::Mem(d)) => dynasm!(ops ; .arch x64 ; xor Rd(dst), DWORD [BYTE rsp + d]),
        (AluOp::Or, Loc::Host(h)) => dynasm!(ops ; .arch x64 ; or Rd(dst), Rd(h)),
        (AluOp::Or, Loc::Mem(d)) => dynasm!(ops ; .arch x64 ; or Rd(dst), DWORD [BYTE rsp + d]),
        (AluOp::And, Loc::Host(h)) => dynasm!(ops ; .arch x64 ; and Rd(dst), Rd(h)),
        (AluOp::And, Loc::Mem(d)) => dynasm!(ops ; .arch x64 ; and Rd(dst), DWORD [BYTE rsp + d]),
        (AluOp::Mul, Loc::Host(h)) => dynasm!(ops ; .arch x64 ; imul Rd(dst), Rd(h)),
        (AluOp::Mul, Loc::Mem(d)) => dynasm!(ops ; .arch x64 ; imul Rd(dst), DWORD [BYTE rsp + d]),
        _ => unreachable!("not a two-operand op"),
    }
}

/// `rax = sign-extended value at a`.
fn movsxd_rax(ops: &mut Asm, a: Loc) {
    match a {
        Loc::Zero => dynasm!(ops ; .arch x64 ; xor eax, eax),
        Loc::Host(h) => dynasm!(ops ; .arch x64 ; movsxd rax, Rd(h)),
        Loc::Mem(d) => dynasm!(ops ; .arch x64 ; movsxd rax, DWORD [BYTE rsp + d]),
    }
}

/// `rd = rs1 op rs2`.
pub(super) fn alu(ops: &mut Asm, map: &RegMap, op: AluOp, rd: u8, rs1: u8, rs2: u8) {
    let (d, a, b) = (map.loc(rd), map.loc(rs1), map.loc(rs2));
    if d == Loc::Zero {
        // No effect: ALU ops never trap.
        return;
    }
    match (op, d, b) {
        (AluOp::Add | AluOp::Sub | AluOp::Xor | AluOp::Or | AluOp::And | AluOp::Mul, _, _) => {
            let Loc::Host(hd) = d else {
                get(ops, RAX, a);
                op_rm(ops, op, RAX, b);
                put(ops, d, RAX);
                return;
            };
            if a == d {
                op_rm(ops, op, hd, b);
            } else if b == d && op != AluOp::Sub {
                op_rm(ops, op, hd, a);
            } else if b == d {
                get(ops, RAX, a);
                op_rm(ops, op, RAX, b);
                put(ops, d, RAX);
            } else if let (AluOp::Add, Loc::Host(x), Loc::Host(y)) = (op, a, b) {
                dynasm!(ops ; .arch x64 ; lea Rd(hd), [Rq(x) + Rq(y)]);
            } else {
                get(ops, hd, a);
                op_rm(ops, op, hd, b);
            }
        }
        // x86 masks 32-bit shift counts to 5 bits, as RISC-V does; the count
        // must be in `cl`.
        (AluOp::Sll | AluOp::Srl | AluOp::Sra, _, Loc::Host(RCX)) => {
            let t = match d {
                Loc::Host(hd) if hd != RCX || a == d => hd,
                _ => RAX,
            };
            get(ops, t, a);
            shift_by_cl(ops, op, t);
            put(ops, d, t);
        }
        (AluOp::Slt, _, _) => set_less(ops, map, rd, rs1, Operand::Reg(rs2), true),
        (AluOp::Sltu, _, _) => set_less(ops, map, rd, rs1, Operand::Reg(rs2), false),
        // Host registers are zero-extended, so the 64-bit products of a
        // zero- or sign-extended `rax` and `b`'s register are the unsigned
        // and signed-by-unsigned ones (|a| <= 2^31, b < 2^32: fits in i64).
        (AluOp::Mulhu, _, Loc::Host(hb)) => {
            get(ops, RAX, a);
            dynasm!(ops ; .arch x64 ; imul rax, Rq(hb) ; shr rax, 32);
            put(ops, d, RAX);
        }
        (AluOp::Mulhsu, _, Loc::Host(hb)) => {
            movsxd_rax(ops, a);
            dynasm!(ops ; .arch x64 ; imul rax, Rq(hb) ; shr rax, 32);
            put(ops, d, RAX);
        }
        // `rd`'s register holds the sign-extended `b` (it is overwritten
        // anyway, and `a` is already in `rax`).
        (AluOp::Mulh, Loc::Host(hd), Loc::Host(_) | Loc::Mem(_)) => {
            movsxd_rax(ops, a);
            match b {
                Loc::Host(hb) => dynasm!(ops ; .arch x64 ; movsxd Rq(hd), Rd(hb)),
                Loc::Mem(m) => dynasm!(ops ; .arch x64 ; movsxd Rq(hd), DWORD [BYTE rsp + m]),
                Loc::Zero => unreachable!("matched above"),
            }
            dynasm!(ops ; .arch x64 ; imul rax, Rq(hd) ; shr rax, 32 ; mov Rd(hd), eax);
        }
        _ => with_scratch(ops, map, |ops, m| alu_scratch(ops, m, op, rd, rs1, rs2)),
    }
}

/// `t = t << cl`, `>> cl` or arithmetic `>> cl` for `SLL`/`SRL`/`SRA`
/// (x86 masks 32-bit shift counts to 5 bits, as RISC-V does).
fn shift_by_cl(ops: &mut Asm, op: AluOp, t: u8) {
    match op {
        AluOp::Sll => dynasm!(ops ; .arch x64 ; shl Rd(t), cl),
        AluOp::Srl => dynasm!(ops ; .arch x64 ; shr Rd(t), cl),
        _ => dynasm!(ops ; .arch x64 ; sar Rd(t), cl),
    }
}

/// `rd = rs1 op rs2` with `rax`, `rcx` and `rdx` all scratch (`map` has
/// none of them holding a guest register): shifts, `MULH*`, `DIV`/`REM`.
fn alu_scratch(ops: &mut Asm, map: &RegMap, op: AluOp, rd: u8, rs1: u8, rs2: u8) {
    let (d, a, b) = (map.loc(rd), map.loc(rs1), map.loc(rs2));
    get(ops, RCX, b);
    match op {
        AluOp::Sll | AluOp::Srl | AluOp::Sra => {
            let t = if let Loc::Host(hd) = d { hd } else { RAX };
            get(ops, t, a);
            shift_by_cl(ops, op, t);
            put(ops, d, t);
            return;
        }
        AluOp::Mulh | AluOp::Mulhsu | AluOp::Mulhu => {
            if op == AluOp::Mulhu {
                get(ops, RAX, a);
            } else {
                movsxd_rax(ops, a);
            }
            if op == AluOp::Mulh {
                dynasm!(ops ; .arch x64 ; movsxd rcx, ecx);
            }
            dynasm!(ops ; .arch x64 ; imul rax, rcx ; shr rax, 32);
        }
        // 64-bit division of sign-extended operands: INT_MIN / -1 gives 2^31
        // (low half INT_MIN) and remainder 0, no fault. Divisor 0: eax still
        // holds the dividend (REM's result).
        AluOp::Div | AluOp::Rem => {
            movsxd_rax(ops, a);
            dynasm!(ops
                ; .arch x64
                ; movsxd rcx, ecx
                ; test rcx, rcx
                ; jz >zero
                ; cqo
                ; idiv rcx
            );
            if op == AluOp::Rem {
                dynasm!(ops ; .arch x64 ; mov eax, edx ; zero:);
            } else {
                dynasm!(ops ; .arch x64 ; jmp >done ; zero: ; mov eax, -1 ; done:);
            }
        }
        AluOp::Divu | AluOp::Remu => {
            get(ops, RAX, a);
            dynasm!(ops
                ; .arch x64
                ; test ecx, ecx
                ; jz >zero
                ; xor edx, edx
                ; div ecx
            );
            if op == AluOp::Remu {
                dynasm!(ops ; .arch x64 ; mov eax, edx ; zero:);
            } else {
                dynasm!(ops ; .arch x64 ; jmp >done ; zero: ; mov eax, -1 ; done:);
            }
        }
        _ => unreachable!("handled by `alu`"),
    }
    put(ops, d, RAX);
}

/// `rd = rs1 op imm` (`op` one of the immediate forms, see `plan::classify`).
pub(super) fn alu_imm(ops: &mut Asm, map: &RegMap, op: AluOp, rd: u8, rs1: u8, imm: i32) {
    let (d, a) = (map.loc(rd), map.loc(rs1));
    if d == Loc::Zero {
        return;
    }
    let sh = (imm & 31) as i8;
    if a == Loc::Zero {
        let value = match op {
            AluOp::Add | AluOp::Xor | AluOp::Or => imm,
            AluOp::Slt => i32::from(0 < imm),
            AluOp::Sltu => i32::from(0 < imm as u32),
            _ => 0,
        };
        put_imm(ops, d, value);
        return;
    }
    match op {
        AluOp::Add => match (d, a) {
            (Loc::Host(hd), _) if a == d => {
                if imm != 0 {
                    imm_op(ops, ImmOp::Add, hd, imm);
                }
            }
            (Loc::Host(hd), Loc::Host(h)) if imm != 0 => lea(ops, hd, h, imm),
            (Loc::Host(hd), _) => {
                get(ops, hd, a);
                if imm != 0 {
                    imm_op(ops, ImmOp::Add, hd, imm);
                }
            }
            (Loc::Mem(md), _) if a == d => dynasm!(ops ; .arch x64 ; add DWORD [BYTE rsp + md], imm),
            (Loc::Mem(md), Loc::Host(h)) if imm == 0 => dynasm!(ops ; .arch x64 ; mov DWORD [BYTE rsp + md], Rd(h)),
            (_, Loc::Host(h)) => {
                lea(ops, RAX, h, imm);
                put(ops, d, RAX);
            }
            _ => {
                get(ops, RAX, a);
                if imm != 0 {
                    imm_op(ops, ImmOp::Add, RAX, imm);
                }
                put(ops, d, RAX);
            }
        },
        AluOp::Slt => set_less(ops, map, rd, rs1, Operand::Imm(imm), true),
        AluOp::Sltu => set_less(ops, map, rd, rs1, Operand::Imm(imm), false),
        _ => {
            let t = if let Loc::Host(hd) = d { hd } else { RAX };
            get(ops, t, a);
            match op {
                AluOp::Xor if imm == -1 => dynasm!(ops ; .arch x64 ; not Rd(t)),
                AluOp::Xor => imm_op(ops, ImmOp::Xor, t, imm),
                AluOp::Or => imm_op(ops, ImmOp::Or, t, imm),
                AluOp::And => imm_op(ops, ImmOp::And, t, imm),
                AluOp::Sll => dynasm!(ops ; .arch x64 ; shl Rd(t), sh),
                AluOp::Srl => dynasm!(ops ; .arch x64 ; shr Rd(t), sh),
                AluOp::Sra => dynasm!(ops ; .arch x64 ; sar Rd(t), sh),
                // Classified `Slow`; never emitted.
                _ => unreachable!("non-immediate ALU op in AluImm"),
            }
            put(ops, d, t);
        }
    }
}

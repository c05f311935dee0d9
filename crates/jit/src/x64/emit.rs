//! Code generation for one region: run gas checks, the instruction bodies
//! (memory accesses and control flow here, ALU ops in `alu.rs`), the
//! checked copies of stack-window segments and the out-of-line stubs (the
//! routines shared by the whole program are in `routines.rs`), and the
//! low-level jump and fixup helpers both use. See docs/jit.md.
//!
//! Exits leave the guest pc in the frame (`CTX_PC`) and the exit kind in
//! `eax`, then jump to the shared exit, which writes the guest registers
//! held in host registers back to the frame. A *trap site* instead calls
//! the shared `trap` routine, which leaves its return address in the frame
//! (`CTX_SITE`): `Compiled` maps it back to the slot, refunds the rest of
//! the slot's run and steps the slot with the reference stepper.

// `dynasm!`'s dynamic-register operands (`Rd(n)`) expand to `n.into()`.
#![allow(clippy::useless_conversion)]

use super::alu::{self, compare, put, put_imm, Asm, Cond, Rhs};
use super::ctx::{entry_at, EntryAt, Meter, CTX_PC, STACK_BASE, STACK_PTR, VALUE};
use super::plan::{slot, Class, Loc, Plan, RegMap, RAX, RCX, SP};
use super::routines::Shared;
use super::{EXIT_DISPATCH, EXIT_ECALL, EXIT_STEP};
use athena_vm::isa::{BranchOp, Instruction, LoadOp, StoreOp};
use athena_vm::memory::PAGE_SIZE;
use athena_vm::program::CodeRegion;
use dynasmrt::{dynasm, AssemblyOffset, DynamicLabel, DynasmApi, DynasmLabelApi};

/// Alignment of loop heads: without it, where a hot loop falls relative
/// to 32-byte fetch blocks was a lottery (sieve ran 3-8% slower or faster
/// after unrelated changes in code size).
const LOOP_ALIGN: usize = 32;

/// Pads with multi-byte `nop`s (executed when falling into a loop head) to
/// a multiple of `to`.
pub(super) fn align(ops: &mut Asm, to: usize) {
    const NOPS: [&[u8]; 9] = [
        &[0x90],
        &[0x66, 0x90],
        &[0x0f, 0x1f, 0x00],
        &[0x0f, 0x1f, 0x40, 0x00],
        &[0x0f, 0x1f, 0x44, 0x00, 0x00],
        &[0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00],
        &[0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00],
        &[0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
        &[0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
    ];
    let mut pad = (to - ops.offset().0 % to) % to;
    while pad > 0 {
        let k = pad.min(NOPS.len());
        ops.extend(NOPS[k - 1]);
        pad -= k;
    }
}

/// Meter charge of a slow slot (or any slot native code must not enter):
/// larger than any meter, so the charge always borrows.
pub(super) const NEVER: u64 = 1 << 63;

/// Inside a shared routine (one `call` deep) the frame is at `rsp + F`.
pub(super) const F: i32 = 8;

/// Condition codes (the low nibble of `jcc`): below (borrow), zero, not
/// zero.
pub(super) const CC_B: u8 = 0x2;
pub(super) const CC_Z: u8 = 0x4;
pub(super) const CC_NZ: u8 = 0x5;

/// The 32-bit displacement field of a jump or call emitted before its
/// target was known, to [`patch`] once it is.
#[derive(Clone, Copy)]
pub(super) struct Fixup(u32);

/// Emits `jcc rel32` (or `jmp rel32` without a condition) to a target
/// placed later.
pub(super) fn jump_forward(ops: &mut Asm, cc: Option<u8>) -> Fixup {
    match cc {
        Some(cc) => ops.extend([0x0f, 0x80 | cc]),
        None => ops.push(0xe9),
    }
    let at = Fixup(ops.offset().0 as u32);
    ops.push_u32(0);
    at
}

/// Points the jump at `at` to `target`. (Offsets fit in 32 bits: the
/// code size is checked once assembled.)
pub(super) fn patch(ops: &mut Asm, at: Fixup, target: AssemblyOffset) {
    let rel = (target.0 as u32).wrapping_sub(at.0.wrapping_add(4));
    let mut m = ops.alter_uncommitted();
    m.goto(AssemblyOffset(at.0 as usize));
    m.push_u32(rel);
}

/// Emits `jcc`/`jmp` (or `call` for `Call`) to the already placed `target`,
/// with a one-byte displacement when it fits.
pub(super) fn jump_to(ops: &mut Asm, kind: Jump, target: AssemblyOffset) {
    let here = ops.offset().0 as i64;
    let short = target.0 as i64 - (here + 2);
    match (kind, i8::try_from(short)) {
        (Jump::If(cc), Ok(d)) => ops.extend([0x70 | cc, d as u8]),
        (Jump::Always, Ok(d)) => ops.extend([0xeb, d as u8]),
        (Jump::If(cc), Err(_)) => {
            ops.extend([0x0f, 0x80 | cc]);
            ops.push_u32((target.0 as i64 - (here + 6)) as u32);
        }
        (Jump::Always | Jump::Call, _) => {
            ops.push(if kind == Jump::Call { 0xe8 } else { 0xe9 });
            ops.push_u32((target.0 as i64 - (here + 5)) as u32);
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Jump {
    If(u8),
    Always,
    Call,
}

/// `eax = [rax]`, sign- or zero-extended.
pub(super) fn load_from_rax(ops: &mut Asm, op: LoadOp) {
    match op {
        LoadOp::Lb => dynasm!(ops ; .arch x64 ; movsx eax, BYTE [rax]),
        LoadOp::Lbu => dynasm!(ops ; .arch x64 ; movzx eax, BYTE [rax]),
        LoadOp::Lh => dynasm!(ops ; .arch x64 ; movsx eax, WORD [rax]),
        LoadOp::Lhu => dynasm!(ops ; .arch x64 ; movzx eax, WORD [rax]),
        LoadOp::Lw => dynasm!(ops ; .arch x64 ; mov eax, DWORD [rax]),
    }
}

/// `addr & mask`: the page bits and the alignment bits of an access.
pub(super) fn mask(size: i32) -> i32 {
    (0xffff_f000u32 | (size as u32 - 1)) as i32
}

/// Out-of-line code emitted after a region's bodies.
enum Stub {
    /// A trap site: `call trap` (its return address names slot `pc`).
    Site { at: Fixup, pc: u32 },
    /// Leave the region for `target` (the Rust loop finds where it goes).
    Dispatch { at: Fixup, target: u32 },
    /// A checked access missed its entry `e`: for a store, the value to the
    /// value slot; the routine's miss path; for a load, the value to `rd`;
    /// back after the access.
    Access { at: Fixup, back: u32, e: u8, kind: Access, pc: u32 },
    /// The segment's range `[sp + min, sp + min + span]` is not in the
    /// stack entry's page (`rax` = its low end - the page's address, as in
    /// the check): refill the entry or run the checked copy.
    StackRefill { label: DynamicLabel, back: DynamicLabel, slow: DynamicLabel, min: i32, span: i32 },
}

#[derive(Clone, Copy)]
enum Access {
    Load(LoadOp, Loc),
    Store(StoreOp, Loc),
}

/// How memory accesses are emitted.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// The main code: window accesses for hoisted slots, checked accesses
    /// inline with an out-of-line miss stub.
    Main,
    /// A segment's checked copy: every access checked inline. (Calls of a
    /// routine doing the whole access here, half the size, made transfers a
    /// third slower: its hot frames straddle a page boundary, so their
    /// segments run the copies.)
    Copy,
}

/// Per-region code generation state.
struct Gen<'a> {
    map: &'a RegMap,
    plan: &'a Plan,
    shared: &'a mut Shared,
    start: u32,
    /// Where the address of the region's entry table is stored (for `JALR`).
    table: DynamicLabel,
    /// `JALR` leaving the region (`eax` = target - start), and `JALR` to a
    /// run it cannot afford (`rax` = the table entry).
    jalr_out: DynamicLabel,
    jalr_short: DynamicLabel,
    region_bytes: i32,
    /// Offset of each slot's entry (its run's inline check), once emitted.
    entry: Vec<u32>,
    /// Jumps to static targets not emitted yet: `(jump, slot)`.
    forward: Vec<(Fixup, u32)>,
    /// Per segment: its checked copy, and where both versions rejoin.
    seg_slow: Vec<DynamicLabel>,
    seg_join: Vec<DynamicLabel>,
    stubs: Vec<Stub>,
}

/// Emits one region. `table` is its entry table (its address is embedded
/// in the code): each slot gets the meter charge of the run entered there
/// ([`NEVER`] for slow slots) and the offset of its body (past the run's
/// inline check; in the checked copy for a slot inside a segment), which
/// the caller turns into an address once the code is placed.
pub(super) fn region(ops: &mut Asm, shared: &mut Shared, region: &CodeRegion, table: &mut [[u64; 2]]) {
    let insns = region.instructions();
    let n = insns.len();
    let plan = Plan::new(region.start(), insns);
    let map = shared.map.clone();
    let seg_slow = (0..plan.segments.len()).map(|_| ops.new_dynamic_label()).collect();
    let seg_join = (0..plan.segments.len()).map(|_| ops.new_dynamic_label()).collect();
    let table_at = table.as_ptr() as i64;
    let mut g = Gen {
        map: &map,
        plan: &plan,
        shared,
        start: region.start(),
        table: ops.new_dynamic_label(),
        jalr_out: ops.new_dynamic_label(),
        jalr_short: ops.new_dynamic_label(),
        region_bytes: (n as i32).wrapping_mul(4),
        entry: vec![u32::MAX; n],
        forward: Vec::new(),
        seg_slow,
        seg_join,
        stubs: Vec::new(),
    };

    for (i, &insn) in insns.iter().enumerate() {
        let pc = g.pc(i);
        if plan.loop_heads[i] {
            align(ops, LOOP_ALIGN);
        }
        g.entry[i] = ops.offset().0 as u32;
        if plan.classes[i] == Class::Slow {
            table[i] = [NEVER, ops.offset().0 as u64];
            g.exit_to(ops, EXIT_STEP, pc);
            continue;
        }
        let charge = Meter::run(plan.cost[i], plan.len[i]) as u64;
        if plan.run_start[i] {
            meter_sub(ops, charge as i64);
            let at = jump_forward(ops, Some(CC_B));
            g.stubs.push(Stub::Site { at, pc });
        }
        // A slot inside a segment is entered (by `JALR` or the Rust loop)
        // in the checked copy, since that skips the segment check; set
        // when the copy is emitted.
        table[i] = [charge, ops.offset().0 as u64];
        if let Some(k) = plan.segment_first(i) {
            g.segment_check(ops, k);
        }
        g.insn(ops, i, insn, Mode::Main);
        if let Some(k) = plan.segment_last(i) {
            let join = g.seg_join[k];
            dynasm!(ops ; .arch x64 ; =>join);
        }
    }
    // Falling off the end of the region.
    if n > 0
        && plan.classes[n - 1] != Class::Slow
        && !matches!(insns[n - 1], Instruction::Jal { .. } | Instruction::Jalr { .. } | Instruction::Ecall)
    {
        g.exit_to(ops, EXIT_DISPATCH, g.pc(n));
    }
    for (at, slot) in std::mem::take(&mut g.forward) {
        patch(ops, at, AssemblyOffset(g.entry[slot as usize] as usize));
    }
    // Checked copies of the segments: every access checked inline.
    for (k, seg) in plan.segments.iter().enumerate() {
        let (slow, join) = (g.seg_slow[k], g.seg_join[k]);
        dynasm!(ops ; .arch x64 ; =>slow);
        for (i, &insn) in insns.iter().enumerate().take(seg.last + 1).skip(seg.first) {
            if i > seg.first {
                table[i][1] = ops.offset().0 as u64;
            }
            g.insn(ops, i, insn, Mode::Copy);
        }
        dynasm!(ops ; .arch x64 ; jmp =>join);
    }
    let stubs = std::mem::take(&mut g.stubs);
    for stub in stubs {
        g.stub(ops, stub);
    }
    let (start, table_label, out, short) = (g.start as i32, g.table, g.jalr_out, g.jalr_short);
    // Both `jalr` exits store `start + eax` as the guest pc and leave to the
    // dispatcher: one sequence, emitted after each.
    let exit_with_index = |ops: &mut Asm| {
        dynasm!(ops
            ; .arch x64
            ; add eax, start
            ; mov DWORD [rsp + CTX_PC], eax
            ; mov eax, EXIT_DISPATCH
        );
        jump_to(ops, Jump::Always, g.shared.exit);
    };
    dynasm!(ops ; .arch x64 ; =>out);
    exit_with_index(ops);
    dynasm!(ops
        ; .arch x64
        ; =>short
        ; add r13, QWORD [rax]
        ; sub rax, QWORD [=>table_label]
        ; shr rax, 2
    );
    exit_with_index(ops);
    dynasm!(ops
        ; .arch x64
        ; .align 8
        ; =>table_label
        ; .i64 table_at
    );
}

/// `r13 -= k`: charges a run against the meter (`ctx::Meter`); borrows
/// exactly when the budget left is below the run's gas.
fn meter_sub(ops: &mut Asm, k: i64) {
    match i32::try_from(k) {
        Ok(w) => dynasm!(ops ; .arch x64 ; sub r13, w),
        Err(_) => dynasm!(ops ; .arch x64 ; mov rax, QWORD k ; sub r13, rax),
    }
}

impl Gen<'_> {
    fn pc(&self, i: usize) -> u32 {
        self.start.wrapping_add((i as u32) << 2)
    }

    /// Leaves native code with exit `kind` at guest `pc`.
    fn exit_to(&self, ops: &mut Asm, kind: i32, pc: u32) {
        let pc = pc as i32;
        dynasm!(ops
            ; .arch x64
            ; mov DWORD [rsp + CTX_PC], pc
            ; mov eax, kind
        );
        jump_to(ops, Jump::Always, self.shared.exit);
    }

    /// A jump (`cc`: conditional) to a trap site for slot `i`: it refunds
    /// the rest of the run from slot `i` on and steps slot `i` (Rust does
    /// both, from the site's return address).
    fn jump_to_site(&mut self, ops: &mut Asm, cc: Option<u8>, i: usize) {
        let at = jump_forward(ops, cc);
        self.stubs.push(Stub::Site { at, pc: self.pc(i) });
    }

    /// A jump (`cc`: conditional) for a static jump to `target`: to a slot
    /// entry, or a dispatch exit when it lies outside the region.
    fn jump_to_target(&mut self, ops: &mut Asm, cc: Option<u8>, target: u32) {
        let offset = target.wrapping_sub(self.start);
        let slot = (offset >> 2) as usize;
        if offset & 3 == 0 && slot < self.entry.len() {
            match self.entry[slot] {
                u32::MAX => {
                    let at = jump_forward(ops, cc);
                    self.forward.push((at, slot as u32));
                }
                e => jump_to(ops, cc.map_or(Jump::Always, Jump::If), AssemblyOffset(e as usize)),
            }
            return;
        }
        let at = jump_forward(ops, cc);
        self.stubs.push(Stub::Dispatch { at, target });
    }

    /// Checks that every window access of segment `k` falls in the stack
    /// entry's page and is aligned: `sp` aligned to the largest access, and
    /// `lo - tag` at most `4095 - span`, computed as `(rbx + min) -
    /// stack_ptr` (= `sp + min - (page << 12)` in 64 bits, from the
    /// zero-extended `sp`, so a range wrapping around the address space
    /// matches no page): `lo = sp + min` is in the entry's page and so is
    /// `lo + span`. Otherwise the stub refills the entry or runs the
    /// checked copy.
    fn segment_check(&mut self, ops: &mut Asm, k: usize) {
        let seg = &self.plan.segments[k];
        let (min, span, align) = (seg.min, seg.end - 1 - seg.min, seg.align - 1);
        let room = PAGE_SIZE as i32 - 1 - span;
        let sp_at = slot(SP);
        let (slow, fast, refill) = (self.seg_slow[k], ops.new_dynamic_label(), ops.new_dynamic_label());
        if align > 0 {
            let align = align as i8;
            dynasm!(ops ; .arch x64 ; test BYTE [BYTE rsp + sp_at], align ; jnz =>slow);
        }
        match i8::try_from(min) {
            Ok(b) => dynasm!(ops ; .arch x64 ; lea rax, [BYTE rbx + b]),
            Err(_) => dynasm!(ops ; .arch x64 ; lea rax, [rbx + min]),
        }
        dynasm!(ops
            ; .arch x64
            ; sub rax, QWORD [rsp + STACK_PTR]
            ; cmp rax, room
            ; ja =>refill
            ; =>fast
        );
        self.stubs.push(Stub::StackRefill { label: refill, back: fast, slow, min, span });
    }

    /// `rbx = sp + stack_base` again after `sp` (in the frame) was written.
    fn resync_sp(ops: &mut Asm) {
        let sp_at = slot(SP);
        dynasm!(ops
            ; .arch x64
            ; mov ebx, DWORD [BYTE rsp + sp_at]
            ; add rbx, QWORD [rsp + STACK_BASE]
        );
    }

    /// Emits the body of slot `i`.
    fn insn(&mut self, ops: &mut Asm, i: usize, insn: Instruction, mode: Mode) {
        let writes_sp = match insn {
            Instruction::Lui { rd, .. }
            | Instruction::Auipc { rd, .. }
            | Instruction::AluImm { rd, .. }
            | Instruction::Alu { rd, .. }
            | Instruction::Load { rd, .. } => rd & 31 == SP,
            _ => false,
        };
        self.insn_body(ops, i, insn, mode);
        if writes_sp {
            Self::resync_sp(ops);
        }
    }

    fn insn_body(&mut self, ops: &mut Asm, i: usize, insn: Instruction, mode: Mode) {
        let pc = self.pc(i);
        let map = self.map;
        let window = mode == Mode::Main && self.plan.hoisted[i];
        match insn {
            Instruction::Lui { rd, imm } | Instruction::Auipc { rd, imm } => {
                let value = if matches!(insn, Instruction::Auipc { .. }) { pc.wrapping_add(imm) } else { imm };
                put_imm(ops, map.loc(rd), value as i32);
            }
            Instruction::Fence => {}
            Instruction::AluImm { op, rd, rs1, imm } => alu::alu_imm(ops, map, op, rd, rs1, imm),
            Instruction::Alu { op, rd, rs1, rs2 } => alu::alu(ops, map, op, rd, rs1, rs2),
            Instruction::Load { op, rd, rs1, offset } => {
                if window {
                    Self::window_load(ops, op, map.loc(rd), offset);
                } else {
                    self.load(ops, i, op, map.loc(rd), rs1, offset);
                }
            }
            Instruction::Store { op, rs1, rs2, offset } => {
                if window {
                    Self::window_store(ops, op, map.loc(rs2), offset);
                } else {
                    self.store(ops, i, op, rs1, rs2, offset);
                }
            }
            Instruction::Jal { rd, offset } => {
                let target = pc.wrapping_add(offset as u32);
                if target & 3 != 0 {
                    self.jump_to_site(ops, None, i);
                    return;
                }
                put_imm(ops, map.loc(rd), pc.wrapping_add(4) as i32);
                if rd & 31 == SP {
                    Self::resync_sp(ops);
                }
                self.jump_to_target(ops, None, target);
            }
            Instruction::Jalr { rd, rs1, offset } => self.jalr(ops, i, rd, rs1, offset),
            Instruction::Branch { op, rs1, rs2, offset } => {
                let target = pc.wrapping_add(offset as u32);
                let cond = match op {
                    BranchOp::Eq => Cond::Eq,
                    BranchOp::Ne => Cond::Ne,
                    BranchOp::Lt => Cond::Lt,
                    BranchOp::Ge => Cond::Ge,
                    BranchOp::Ltu => Cond::Ltu,
                    BranchOp::Geu => Cond::Geu,
                };
                let cc = Some(compare(ops, map.loc(rs1), Rhs::Reg(map.loc(rs2)), cond, RAX).code());
                if target & 3 != 0 {
                    self.jump_to_site(ops, cc, i);
                } else {
                    self.jump_to_target(ops, cc, target);
                }
                // Not taken: fall through into the next slot's inline gas check.
            }
            Instruction::Ecall => self.exit_to(ops, EXIT_ECALL, pc),
            Instruction::Ebreak | Instruction::Illegal { .. } => unreachable!("slow slots have no body"),
        }
    }

    /// `eax = base + offset` (the guest address, zero-extended in `rax`).
    fn address(ops: &mut Asm, base: Loc, offset: i32) {
        match base {
            Loc::Host(h) => alu::lea(ops, RAX, h, offset),
            Loc::Zero => dynasm!(ops ; .arch x64 ; mov eax, offset),
            Loc::Mem(d) => {
                dynasm!(ops ; .arch x64 ; mov eax, DWORD [BYTE rsp + d]);
                alu::imm_op(ops, alu::ImmOp::Add, RAX, offset);
            }
        }
    }

    /// `JALR`: through the region's entry table, which holds each slot's
    /// run charge and body: charged here (an unaffordable run exits to the
    /// Rust loop, which steps it), so any slot can be a target.
    fn jalr(&mut self, ops: &mut Asm, i: usize, rd: u8, rs1: u8, offset: i32) {
        let (start, region_bytes, table) = (self.start as i32, self.region_bytes, self.table);
        let (out, short) = (self.jalr_out, self.jalr_short);
        Self::address(ops, self.map.loc(rs1), offset);
        dynasm!(ops
            ; .arch x64
            ; and eax, -2
            ; test al, 2
        );
        self.jump_to_site(ops, Some(CC_NZ), i);
        put_imm(ops, self.map.loc(rd), self.pc(i).wrapping_add(4) as i32);
        if rd & 31 == SP {
            Self::resync_sp(ops);
        }
        // Offset in the region (slot * 4) in rax, times 4: the table holds
        // 16-byte entries.
        dynasm!(ops
            ; .arch x64
            ; sub eax, start
            ; cmp eax, region_bytes
            ; jae =>out
            ; shl rax, 2
            ; add rax, QWORD [=>table]
            ; sub r13, QWORD [rax]
            ; jb =>short
            ; jmp QWORD [rax + 8]
        );
    }

    /// An unchecked load through the stack window: `[rbx + offset]`.
    fn window_load(ops: &mut Asm, op: LoadOp, d: Loc, offset: i32) {
        let t = match d {
            // A load to x0 has no effect once the segment check passed.
            Loc::Zero => return,
            Loc::Host(h) => h,
            Loc::Mem(_) => RAX,
        };
        if let Ok(o) = i8::try_from(offset) {
            match op {
                LoadOp::Lb => dynasm!(ops ; .arch x64 ; movsx Rd(t), BYTE [BYTE rbx + o]),
                LoadOp::Lbu => dynasm!(ops ; .arch x64 ; movzx Rd(t), BYTE [BYTE rbx + o]),
                LoadOp::Lh => dynasm!(ops ; .arch x64 ; movsx Rd(t), WORD [BYTE rbx + o]),
                LoadOp::Lhu => dynasm!(ops ; .arch x64 ; movzx Rd(t), WORD [BYTE rbx + o]),
                LoadOp::Lw => dynasm!(ops ; .arch x64 ; mov Rd(t), DWORD [BYTE rbx + o]),
            }
        } else {
            match op {
                LoadOp::Lb => dynasm!(ops ; .arch x64 ; movsx Rd(t), BYTE [rbx + offset]),
                LoadOp::Lbu => dynasm!(ops ; .arch x64 ; movzx Rd(t), BYTE [rbx + offset]),
                LoadOp::Lh => dynasm!(ops ; .arch x64 ; movsx Rd(t), WORD [rbx + offset]),
                LoadOp::Lhu => dynasm!(ops ; .arch x64 ; movzx Rd(t), WORD [rbx + offset]),
                LoadOp::Lw => dynasm!(ops ; .arch x64 ; mov Rd(t), DWORD [rbx + offset]),
            }
        }
        put(ops, d, t);
    }

    /// An unchecked store through the stack window.
    fn window_store(ops: &mut Asm, op: StoreOp, value: Loc, offset: i32) {
        let v = match value {
            Loc::Zero => None,
            Loc::Host(h) => Some(h),
            Loc::Mem(d) => {
                dynasm!(ops ; .arch x64 ; mov eax, DWORD [BYTE rsp + d]);
                Some(RAX)
            }
        };
        match (i8::try_from(offset), op, v) {
            (Ok(o), StoreOp::Sb, None) => dynasm!(ops ; .arch x64 ; mov BYTE [BYTE rbx + o], 0),
            (Ok(o), StoreOp::Sh, None) => dynasm!(ops ; .arch x64 ; mov WORD [BYTE rbx + o], 0),
            (Ok(o), StoreOp::Sw, None) => dynasm!(ops ; .arch x64 ; mov DWORD [BYTE rbx + o], 0),
            (Ok(o), StoreOp::Sb, Some(v)) => dynasm!(ops ; .arch x64 ; mov BYTE [BYTE rbx + o], Rb(v)),
            (Ok(o), StoreOp::Sh, Some(v)) => dynasm!(ops ; .arch x64 ; mov WORD [BYTE rbx + o], Rw(v)),
            (Ok(o), StoreOp::Sw, Some(v)) => dynasm!(ops ; .arch x64 ; mov DWORD [BYTE rbx + o], Rd(v)),
            (_, StoreOp::Sb, None) => dynasm!(ops ; .arch x64 ; mov BYTE [rbx + offset], 0),
            (_, StoreOp::Sh, None) => dynasm!(ops ; .arch x64 ; mov WORD [rbx + offset], 0),
            (_, StoreOp::Sw, None) => dynasm!(ops ; .arch x64 ; mov DWORD [rbx + offset], 0),
            (_, StoreOp::Sb, Some(v)) => dynasm!(ops ; .arch x64 ; mov BYTE [rbx + offset], Rb(v)),
            (_, StoreOp::Sh, Some(v)) => dynasm!(ops ; .arch x64 ; mov WORD [rbx + offset], Rw(v)),
            (_, StoreOp::Sw, Some(v)) => dynasm!(ops ; .arch x64 ; mov DWORD [rbx + offset], Rd(v)),
        }
    }

    /// The probe shared by checked loads and stores: the address into `rax`,
    /// XORed with the base register's cache entry tag (the write tag for
    /// stores) and tested against [`mask`], then a forward jump to the miss
    /// path. Returns the entry's index, its frame offsets and that jump.
    fn probe(&self, ops: &mut Asm, rs1: u8, offset: i32, size: i32, write: bool) -> (u8, EntryAt, Fixup) {
        Self::address(ops, self.map.loc(rs1), offset);
        let e = rs1 & 31;
        let at = entry_at(usize::from(e));
        let tag = if write { at.wtag } else { at.rtag };
        let mask = mask(size);
        dynasm!(ops
            ; .arch x64
            ; xor rax, QWORD [rsp + tag]
            ; test rax, mask
        );
        (e, at, jump_forward(ops, Some(CC_NZ)))
    }

    /// A checked load: `(addr ^ tag)` of the base register's cache entry
    /// has no bits in `0xffff_ffff_ffff_f000 | (size - 1)` only for an
    /// aligned address in the entry's page (the guard page is never cached)
    /// and is then the offset in the page; a miss goes out of line, to the
    /// entry's load routine. A load to x0 only matters if it traps: its
    /// hit does nothing.
    fn load(&mut self, ops: &mut Asm, i: usize, op: LoadOp, d: Loc, rs1: u8, offset: i32) {
        let (e, at, miss) = self.probe(ops, rs1, offset, op.size() as i32, false);
        match d {
            Loc::Zero => {}
            // `rd`'s register holds the page pointer first (it is
            // overwritten anyway; the address is already in `rax`).
            Loc::Host(h) => {
                dynasm!(ops ; .arch x64 ; mov Rq(h), QWORD [rsp + at.ptr]);
                match op {
                    LoadOp::Lb => dynasm!(ops ; .arch x64 ; movsx Rd(h), BYTE [Rq(h) + rax]),
                    LoadOp::Lbu => dynasm!(ops ; .arch x64 ; movzx Rd(h), BYTE [Rq(h) + rax]),
                    LoadOp::Lh => dynasm!(ops ; .arch x64 ; movsx Rd(h), WORD [Rq(h) + rax]),
                    LoadOp::Lhu => dynasm!(ops ; .arch x64 ; movzx Rd(h), WORD [Rq(h) + rax]),
                    LoadOp::Lw => dynasm!(ops ; .arch x64 ; mov Rd(h), DWORD [Rq(h) + rax]),
                }
            }
            Loc::Mem(_) => {
                dynasm!(ops ; .arch x64 ; add rax, QWORD [rsp + at.ptr]);
                load_from_rax(ops, op);
                put(ops, d, RAX);
            }
        }
        let back = ops.offset().0 as u32;
        self.stubs.push(Stub::Access { at: miss, back, e, kind: Access::Load(op, d), pc: self.pc(i) });
    }

    /// A checked store, like [`Gen::load`] with the entry's write tag.
    fn store(&mut self, ops: &mut Asm, i: usize, op: StoreOp, rs1: u8, rs2: u8, offset: i32) {
        let (e, at, miss) = self.probe(ops, rs1, offset, op.size() as i32, true);
        dynasm!(ops ; .arch x64 ; add rax, QWORD [rsp + at.ptr]);
        let value = self.map.loc(rs2);
        match value {
            Loc::Zero => match op {
                StoreOp::Sb => dynasm!(ops ; .arch x64 ; mov BYTE [rax], 0),
                StoreOp::Sh => dynasm!(ops ; .arch x64 ; mov WORD [rax], 0),
                StoreOp::Sw => dynasm!(ops ; .arch x64 ; mov DWORD [rax], 0),
            },
            Loc::Host(v) => Self::store_reg(ops, op, v),
            Loc::Mem(d) => {
                // Borrow `rcx` for the value.
                let lent = self.map.guest_in(RCX);
                if let Some(l) = lent {
                    dynasm!(ops ; .arch x64 ; mov DWORD [BYTE rsp + l], ecx);
                }
                dynasm!(ops ; .arch x64 ; mov ecx, DWORD [BYTE rsp + d]);
                Self::store_reg(ops, op, RCX);
                if let Some(l) = lent {
                    dynasm!(ops ; .arch x64 ; mov ecx, DWORD [BYTE rsp + l]);
                }
            }
        }
        let back = ops.offset().0 as u32;
        self.stubs.push(Stub::Access { at: miss, back, e, kind: Access::Store(op, value), pc: self.pc(i) });
    }

    /// `[rax] = low bytes of host register v`.
    fn store_reg(ops: &mut Asm, op: StoreOp, v: u8) {
        match op {
            StoreOp::Sb => dynasm!(ops ; .arch x64 ; mov BYTE [rax], Rb(v)),
            StoreOp::Sh => dynasm!(ops ; .arch x64 ; mov WORD [rax], Rw(v)),
            StoreOp::Sw => dynasm!(ops ; .arch x64 ; mov DWORD [rax], Rd(v)),
        }
    }

    fn stub(&mut self, ops: &mut Asm, stub: Stub) {
        match stub {
            Stub::Site { at, pc } => {
                patch(ops, at, ops.offset());
                jump_to(ops, Jump::Call, self.shared.trap);
                self.shared.site(ops, pc);
            }
            Stub::Dispatch { at, target } => {
                patch(ops, at, ops.offset());
                self.exit_to(ops, EXIT_DISPATCH, target);
            }
            Stub::Access { at, back, e, kind, pc } => {
                let routine = match kind {
                    Access::Load(op, _) => self.shared.load_routine(ops, usize::from(e), op),
                    Access::Store(op, _) => self.shared.store_routine(ops, usize::from(e), op),
                };
                patch(ops, at, ops.offset());
                if let Access::Store(_, value) = kind {
                    // `rax` holds the address ^ tag: a value in the frame
                    // goes through the stack.
                    match value {
                        Loc::Zero => dynasm!(ops ; .arch x64 ; mov DWORD [rsp + VALUE], 0),
                        Loc::Host(v) => dynasm!(ops ; .arch x64 ; mov DWORD [rsp + VALUE], Rd(v)),
                        Loc::Mem(d) => {
                            let d = i32::from(d) + 8;
                            dynasm!(ops
                                ; .arch x64
                                ; push rax
                                ; mov eax, DWORD [rsp + d]
                                ; mov DWORD [rsp + 8 + VALUE], eax
                                ; pop rax
                            );
                        }
                    }
                }
                jump_to(ops, Jump::Call, routine);
                self.shared.site(ops, pc);
                if let Access::Load(_, rd) = kind {
                    put(ops, rd, RAX);
                }
                jump_to(ops, Jump::Always, AssemblyOffset(back as usize));
            }
            Stub::StackRefill { label, back, slow, min, span } => {
                let (last, sp_at) = (PAGE_SIZE as i32 - 1, slot(SP));
                dynasm!(ops
                    ; .arch x64
                    ; =>label
                    // Low end in the stack page: the segment straddles two.
                    ; cmp rax, last
                    ; jbe =>slow
                    ; mov eax, DWORD [BYTE rsp + sp_at]
                    ; lea rax, [rax + min]
                    ; mov DWORD [rsp + VALUE], span
                );
                jump_to(ops, Jump::Call, self.shared.refill);
                dynasm!(ops
                    ; .arch x64
                    ; test eax, eax
                    ; jz =>slow
                    ; jmp =>back
                );
            }
        }
    }
}

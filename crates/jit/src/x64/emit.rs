//! Code generation for one region: slot entries and gas checks, the
//! instruction bodies (memory accesses and control flow here, ALU ops in
//! `alu.rs`), the checked copies of stack-window segments and the
//! out-of-line stubs. See docs/jit.md.
//!
//! Exits leave the guest pc in the frame (`CTX_PC`) and the exit kind in
//! `eax`, then jump to the shared exit, which writes the guest registers
//! held in host registers back to the frame.

// `dynasm!`'s dynamic-register operands (`Rd(n)`) expand to `n.into()`.
#![allow(clippy::useless_conversion)]

use super::alu::{self, compare, get, jcc, put, put_imm, Asm, Cond, Rhs};
use super::ctx::{
    entry_at, load_miss, recent_at, stack_refill, store_miss, EntryAt, Meter, CTX_PC, ENTRY_SHIFT, SIGNED, STACK_BASE,
    STACK_PTR,
};
use super::plan::{callee_saved, slot, Class, Loc, Plan, RegMap, RAX, RCX, SP};
use super::{EXIT_DISPATCH, EXIT_ECALL, EXIT_STEP};
use athena_vm::isa::{BranchOp, Instruction, LoadOp, StoreOp};
use athena_vm::memory::{GUARD_END, PAGE_SIZE};
use athena_vm::program::CodeRegion;
use dynasmrt::{dynasm, AssemblyOffset, DynamicLabel, DynasmApi, DynasmLabelApi};

/// An access that missed its cache entry (`rax` = address ^ entry tag).
struct Miss {
    label: DynamicLabel,
    /// Redo the access from the entry (`rax` = offset in the page).
    retry: DynamicLabel,
    /// After the access.
    back: DynamicLabel,
    /// Refund the run and step the slot (guard, misalignment, refusal).
    refund: DynamicLabel,
    /// Cache entry, size, sign (see `ctx::SIGNED`).
    code: i32,
}

/// Out-of-line code emitted after a region's bodies.
enum Stub {
    /// Gas check and count for a run entered by a jump, then the body.
    Entry {
        entry: DynamicLabel,
        body: DynamicLabel,
        cost: i32,
        len: i32,
        unaffordable: DynamicLabel,
    },
    /// Refund the rest of the run (the slot at `pc` included), then step.
    /// Also where an unaffordable run goes: refunding undoes its charge
    /// (the reference stepper raises the exact out-of-gas, or executes the
    /// slot when only the call's budget ran out).
    Refund {
        label: DynamicLabel,
        cost: i32,
        len: i32,
        pc: i32,
    },
    /// Leave the region for `target` (the Rust loop finds where it goes).
    Dispatch {
        label: DynamicLabel,
        target: i32,
    },
    Load {
        miss: Miss,
        rd: Loc,
    },
    /// `value` is the guest register stored.
    Store {
        miss: Miss,
        value: u8,
    },
    /// The segment's range `[sp + min, sp + min + span]` is not in the
    /// stack entry's page (`rax` = its low end - the page's address, as in
    /// the check): refill the entry or run the checked copy.
    StackRefill {
        label: DynamicLabel,
        back: DynamicLabel,
        slow: DynamicLabel,
        min: i32,
        span: i32,
    },
}

/// Per-region code generation state.
struct Gen<'a> {
    map: &'a RegMap,
    plan: &'a Plan,
    start: u32,
    exit: DynamicLabel,
    /// Where the address of the region's entry table is stored (for `JALR`).
    table: DynamicLabel,
    region_bytes: i32,
    /// Slot entries (gas check of the run entered there).
    entry: Vec<DynamicLabel>,
    /// Slot bodies in the main code, and in the checked copies.
    body: Vec<DynamicLabel>,
    slow_body: Vec<DynamicLabel>,
    /// Per segment: its checked copy, and where both versions rejoin.
    seg_slow: Vec<DynamicLabel>,
    seg_join: Vec<DynamicLabel>,
    refund: Vec<Option<DynamicLabel>>,
    stubs: Vec<Stub>,
}

/// Emits one region; returns the assembly offset of each slot's entry.
pub(super) fn region(
    ops: &mut Asm,
    region: &CodeRegion,
    exit: DynamicLabel,
    table: i64,
    map: &RegMap,
) -> Vec<AssemblyOffset> {
    let insns = region.instructions();
    let n = insns.len();
    let plan = Plan::new(region.start(), insns);
    let mut labels = |k: usize| -> Vec<DynamicLabel> { (0..k).map(|_| ops.new_dynamic_label()).collect() };
    let entry = labels(n);
    let body = labels(n);
    let slow_body = labels(n);
    let seg_slow = labels(plan.segments.len());
    let seg_join = labels(plan.segments.len());
    let mut g = Gen {
        map,
        plan: &plan,
        start: region.start(),
        exit,
        table: ops.new_dynamic_label(),
        region_bytes: (n as i32).wrapping_mul(4),
        entry,
        body,
        slow_body,
        seg_slow,
        seg_join,
        refund: vec![None; n],
        stubs: Vec::new(),
    };

    for (i, &insn) in insns.iter().enumerate() {
        let pc = g.pc(i) as i32;
        let entry = g.entry[i];
        if plan.classes[i] == Class::Slow {
            dynasm!(ops ; .arch x64 ; =>entry);
            g.exit_to(ops, EXIT_STEP, pc);
            continue;
        }
        let (cost, len) = (plan.cost[i] as i32, plan.len[i] as i32);
        let unaffordable = g.refund_label(ops, i);
        if plan.run_start[i] {
            dynasm!(ops ; .arch x64 ; =>entry);
            charge(ops, cost, len, unaffordable);
        } else {
            // Entered by a jump into the middle of a run: inside a segment
            // that skips the segment check, so the checked copy runs.
            let body = if plan.inside[i].is_some() { g.slow_body[i] } else { g.body[i] };
            g.stubs.push(Stub::Entry { entry, body, cost, len, unaffordable });
        }
        let body = g.body[i];
        dynasm!(ops ; .arch x64 ; =>body);
        if let Some(k) = plan.seg_first[i] {
            g.segment_check(ops, k);
        }
        g.insn(ops, i, insn, true);
        if let Some(k) = plan.seg_last[i] {
            let join = g.seg_join[k];
            dynasm!(ops ; .arch x64 ; =>join);
        }
    }
    // Falling off the end of the region.
    if n > 0
        && plan.classes[n - 1] != Class::Slow
        && !matches!(insns[n - 1], Instruction::Jal { .. } | Instruction::Jalr { .. } | Instruction::Ecall)
    {
        g.exit_to(ops, EXIT_DISPATCH, g.pc(n) as i32);
    }
    // Checked copies of the segments: every access through the page cache.
    for (k, seg) in plan.segments.iter().enumerate() {
        let (slow, join) = (g.seg_slow[k], g.seg_join[k]);
        dynasm!(ops ; .arch x64 ; =>slow);
        for (i, &insn) in insns.iter().enumerate().take(seg.last + 1).skip(seg.first) {
            let label = g.slow_body[i];
            dynasm!(ops ; .arch x64 ; =>label);
            g.insn(ops, i, insn, false);
        }
        dynasm!(ops ; .arch x64 ; jmp =>join);
    }
    let stubs = std::mem::take(&mut g.stubs);
    for stub in stubs {
        g.stub(ops, stub);
    }
    let table_at = g.table;
    dynasm!(ops ; .arch x64 ; .align 8 ; =>table_at ; .i64 table);
    g.entry.iter().map(|&l| ops.labels().resolve_dynamic(l).expect("every slot entry is defined")).collect()
}

/// Charges a run of `len` instructions costing `cost` gas against the
/// meter in `r13` (`ctx::Meter`): one subtraction, which borrows exactly
/// when the budget left is below `cost` (then to `unaffordable`).
fn charge(ops: &mut Asm, cost: i32, len: i32, unaffordable: DynamicLabel) {
    meter_op(ops, Meter::run(cost as u32, len as u32), false);
    dynasm!(ops ; .arch x64 ; jb =>unaffordable);
}

/// `r13 -= k` (or `+=` when `refund`).
fn meter_op(ops: &mut Asm, k: i64, refund: bool) {
    match (i32::try_from(k), refund) {
        (Ok(w), false) => dynasm!(ops ; .arch x64 ; sub r13, w),
        (Ok(w), true) => dynasm!(ops ; .arch x64 ; add r13, w),
        (Err(_), false) => dynasm!(ops ; .arch x64 ; mov rax, QWORD k ; sub r13, rax),
        (Err(_), true) => dynasm!(ops ; .arch x64 ; mov rax, QWORD k ; add r13, rax),
    }
}

impl Gen<'_> {
    fn pc(&self, i: usize) -> u32 {
        self.start.wrapping_add((i as u32) << 2)
    }

    /// Leaves native code with exit `kind` at guest `pc`.
    fn exit_to(&self, ops: &mut Asm, kind: i32, pc: i32) {
        let exit = self.exit;
        dynasm!(ops
            ; .arch x64
            ; mov DWORD [rsp + CTX_PC], pc
            ; mov eax, kind
            ; jmp =>exit
        );
    }

    /// Label that refunds the run from slot `i` on and steps slot `i`.
    fn refund_label(&mut self, ops: &mut Asm, i: usize) -> DynamicLabel {
        if let Some(l) = self.refund[i] {
            return l;
        }
        let label = ops.new_dynamic_label();
        self.refund[i] = Some(label);
        let (cost, len, pc) = (self.plan.cost[i] as i32, self.plan.len[i] as i32, self.pc(i) as i32);
        self.stubs.push(Stub::Refund { label, cost, len, pc });
        label
    }

    /// Where control goes for a static jump to `target`: a slot entry, or
    /// a dispatch exit when it lies outside the region.
    fn target_label(&mut self, ops: &mut Asm, target: u32) -> DynamicLabel {
        let offset = target.wrapping_sub(self.start);
        let slot = (offset >> 2) as usize;
        if offset & 3 == 0 && slot < self.entry.len() {
            return self.entry[slot];
        }
        let label = ops.new_dynamic_label();
        self.stubs.push(Stub::Dispatch { label, target: target as i32 });
        label
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

    /// Emits the body of slot `i`; `window` selects the unchecked stack
    /// window for the slot's access if the plan hoisted it.
    fn insn(&mut self, ops: &mut Asm, i: usize, insn: Instruction, window: bool) {
        let writes_sp = match insn {
            Instruction::Lui { rd, .. }
            | Instruction::Auipc { rd, .. }
            | Instruction::AluImm { rd, .. }
            | Instruction::Alu { rd, .. }
            | Instruction::Load { rd, .. } => rd & 31 == SP,
            _ => false,
        };
        self.insn_body(ops, i, insn, window);
        if writes_sp {
            Self::resync_sp(ops);
        }
    }

    fn insn_body(&mut self, ops: &mut Asm, i: usize, insn: Instruction, window: bool) {
        let pc = self.pc(i);
        let map = self.map;
        match insn {
            Instruction::Lui { rd, imm } | Instruction::Auipc { rd, imm } => {
                let value = if matches!(insn, Instruction::Auipc { .. }) { pc.wrapping_add(imm) } else { imm };
                put_imm(ops, map.loc(rd), value as i32);
            }
            Instruction::Fence => {}
            Instruction::AluImm { op, rd, rs1, imm } => alu::alu_imm(ops, map, op, rd, rs1, imm),
            Instruction::Alu { op, rd, rs1, rs2 } => alu::alu(ops, map, op, rd, rs1, rs2),
            Instruction::Load { op, rd, rs1, offset } => {
                if window && self.plan.hoisted[i] {
                    self.window_load(ops, op, map.loc(rd), offset);
                } else {
                    self.load(ops, i, op, map.loc(rd), rs1, offset);
                }
            }
            Instruction::Store { op, rs1, rs2, offset } => {
                if window && self.plan.hoisted[i] {
                    self.window_store(ops, op, map.loc(rs2), offset);
                } else {
                    self.store(ops, i, op, rs1, rs2, offset);
                }
            }
            Instruction::Jal { rd, offset } => {
                let target = pc.wrapping_add(offset as u32);
                if target & 3 != 0 {
                    let slow = self.refund_label(ops, i);
                    dynasm!(ops ; .arch x64 ; jmp =>slow);
                    return;
                }
                put_imm(ops, map.loc(rd), pc.wrapping_add(4) as i32);
                if rd & 31 == SP {
                    Self::resync_sp(ops);
                }
                let to = self.target_label(ops, target);
                dynasm!(ops ; .arch x64 ; jmp =>to);
            }
            Instruction::Jalr { rd, rs1, offset } => self.jalr(ops, i, rd, rs1, offset),
            Instruction::Branch { op, rs1, rs2, offset } => {
                let target = pc.wrapping_add(offset as u32);
                let taken = if target & 3 != 0 { self.refund_label(ops, i) } else { self.target_label(ops, target) };
                let cond = match op {
                    BranchOp::Eq => Cond::Eq,
                    BranchOp::Ne => Cond::Ne,
                    BranchOp::Lt => Cond::Lt,
                    BranchOp::Ge => Cond::Ge,
                    BranchOp::Ltu => Cond::Ltu,
                    BranchOp::Geu => Cond::Geu,
                };
                let cond = compare(ops, map.loc(rs1), Rhs::Reg(map.loc(rs2)), cond, RAX);
                jcc(ops, cond, taken);
                // Not taken: fall through into the next slot's inline gas check.
            }
            Instruction::Ecall => self.exit_to(ops, EXIT_ECALL, pc as i32),
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

    fn jalr(&mut self, ops: &mut Asm, i: usize, rd: u8, rs1: u8, offset: i32) {
        let slow = self.refund_label(ops, i);
        let (start, region_bytes, table, exit) = (self.start as i32, self.region_bytes, self.table, self.exit);
        Self::address(ops, self.map.loc(rs1), offset);
        dynasm!(ops
            ; .arch x64
            ; and eax, -2
            ; test al, 2
            ; jnz =>slow
        );
        put_imm(ops, self.map.loc(rd), self.pc(i).wrapping_add(4) as i32);
        if rd & 31 == SP {
            Self::resync_sp(ops);
        }
        // Offset in the region (slot * 4) in rax, doubled: the table holds
        // 8-byte addresses.
        dynasm!(ops
            ; .arch x64
            ; sub eax, start
            ; cmp eax, region_bytes
            ; jae >out
            ; add rax, rax
            ; add rax, QWORD [=>table]
            ; jmp QWORD [rax]
            ; out:
            ; add eax, start
            ; mov DWORD [rsp + CTX_PC], eax
            ; mov eax, EXIT_DISPATCH
            ; jmp =>exit
        );
    }

    /// An unchecked load through the stack window: `[rbx + offset]`.
    fn window_load(&mut self, ops: &mut Asm, op: LoadOp, d: Loc, offset: i32) {
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
    fn window_store(&mut self, ops: &mut Asm, op: StoreOp, value: Loc, offset: i32) {
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

    /// `addr & mask`: the page bits and the alignment bits of an access.
    fn mask(size: i32) -> i32 {
        (0xffff_f000u32 | (size as u32 - 1)) as i32
    }

    /// A checked load: `(addr ^ tag)` of the base register's cache entry
    /// has no bits in `0xffff_ffff_ffff_f000 | (size - 1)` only for an
    /// aligned address in the entry's page (the guard page is never cached)
    /// and is then the offset in the page; a miss goes out of line.
    fn load(&mut self, ops: &mut Asm, i: usize, op: LoadOp, d: Loc, rs1: u8, offset: i32) {
        let size = op.size() as i32;
        let refund = self.refund_label(ops, i);
        Self::address(ops, self.map.loc(rs1), offset);
        if d == Loc::Zero {
            // No effect unless it traps.
            Self::trap_checks(ops, size, refund);
            return;
        }
        let e = usize::from(rs1 & 31);
        let at = entry_at(e);
        let (label, retry, back) = (ops.new_dynamic_label(), ops.new_dynamic_label(), ops.new_dynamic_label());
        let mask = Self::mask(size);
        dynasm!(ops
            ; .arch x64
            ; xor rax, QWORD [rsp + at.rtag]
            ; test rax, mask
            ; jnz =>label
            ; =>retry
        );
        match d {
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
            _ => {
                dynasm!(ops ; .arch x64 ; add rax, QWORD [rsp + at.ptr]);
                match op {
                    LoadOp::Lb => dynasm!(ops ; .arch x64 ; movsx eax, BYTE [rax]),
                    LoadOp::Lbu => dynasm!(ops ; .arch x64 ; movzx eax, BYTE [rax]),
                    LoadOp::Lh => dynasm!(ops ; .arch x64 ; movsx eax, WORD [rax]),
                    LoadOp::Lhu => dynasm!(ops ; .arch x64 ; movzx eax, WORD [rax]),
                    LoadOp::Lw => dynasm!(ops ; .arch x64 ; mov eax, DWORD [rax]),
                }
                put(ops, d, RAX);
            }
        }
        dynasm!(ops ; .arch x64 ; =>back);
        let signed = matches!(op, LoadOp::Lb | LoadOp::Lh);
        let code = size | if signed { SIGNED } else { 0 } | (e as i32) << ENTRY_SHIFT;
        self.stubs.push(Stub::Load { miss: Miss { label, retry, back, refund, code }, rd: d });
    }

    /// A checked store, like [`Gen::load`] with the entry's write tag.
    fn store(&mut self, ops: &mut Asm, i: usize, op: StoreOp, rs1: u8, rs2: u8, offset: i32) {
        let size = op.size() as i32;
        let refund = self.refund_label(ops, i);
        Self::address(ops, self.map.loc(rs1), offset);
        let e = usize::from(rs1 & 31);
        let at = entry_at(e);
        let (label, retry, back) = (ops.new_dynamic_label(), ops.new_dynamic_label(), ops.new_dynamic_label());
        let mask = Self::mask(size);
        dynasm!(ops
            ; .arch x64
            ; xor rax, QWORD [rsp + at.wtag]
            ; test rax, mask
            ; jnz =>label
            ; =>retry
            ; add rax, QWORD [rsp + at.ptr]
        );
        match self.map.loc(rs2) {
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
        dynasm!(ops ; .arch x64 ; =>back);
        let code = size | (e as i32) << ENTRY_SHIFT;
        self.stubs.push(Stub::Store { miss: Miss { label, retry, back, refund, code }, value: rs2 });
    }

    /// `[rax] = low bytes of host register v`.
    fn store_reg(ops: &mut Asm, op: StoreOp, v: u8) {
        match op {
            StoreOp::Sb => dynasm!(ops ; .arch x64 ; mov BYTE [rax], Rb(v)),
            StoreOp::Sh => dynasm!(ops ; .arch x64 ; mov WORD [rax], Rw(v)),
            StoreOp::Sw => dynasm!(ops ; .arch x64 ; mov DWORD [rax], Rd(v)),
        }
    }

    /// Calls helper `f` with `rdi` = the frame (other arguments set by
    /// `args`, after the spill): guest registers in caller-saved host
    /// registers are written to the frame first and reloaded after (helpers
    /// never touch the register array); the result stays in `eax`.
    fn call(&self, ops: &mut Asm, f: usize, args: impl FnOnce(&mut Asm)) {
        for (d, h) in self.map.clobbered() {
            dynasm!(ops ; .arch x64 ; mov DWORD [BYTE rsp + d], Rd(h));
        }
        args(ops);
        let f = f as i64;
        dynasm!(ops
            ; .arch x64
            ; mov rdi, rsp
            ; mov rax, QWORD f
            ; call rax
        );
        for (d, h) in self.map.clobbered() {
            dynasm!(ops ; .arch x64 ; mov Rd(h), DWORD [BYTE rsp + d]);
        }
    }

    /// Guard and alignment checks of an access at `eax`: the reference
    /// stepper raises those traps.
    fn trap_checks(ops: &mut Asm, size: i32, refund: DynamicLabel) {
        let guard = GUARD_END as i32;
        dynasm!(ops ; .arch x64 ; cmp eax, guard ; jb =>refund);
        if size > 1 {
            let mask = (size - 1) as i8;
            dynasm!(ops ; .arch x64 ; test al, mask ; jnz =>refund);
        }
    }

    /// Miss path before the helper: `rax` = address ^ `tag` of the entry;
    /// if one of the two recently refilled pages matches (its read tag for
    /// a load, `write` false; its write tag for a store), copies it into
    /// the entry (borrowing `rcx`) and retries. Leaves the address in `rax`.
    fn try_recent(&self, ops: &mut Asm, m: &Miss, at: EntryAt, write: bool) {
        let tag_of = |e: EntryAt| if write { e.wtag } else { e.rtag };
        let mask = Self::mask(m.code & 7);
        dynasm!(ops ; .arch x64 ; =>m.label ; xor rax, QWORD [rsp + tag_of(at)]);
        let mut hits = Vec::new();
        for r in 0..2 {
            let (hit, tag) = (ops.new_dynamic_label(), tag_of(recent_at(r)));
            dynasm!(ops
                ; .arch x64
                ; xor rax, QWORD [rsp + tag]
                ; test rax, mask
                ; jz =>hit
                ; xor rax, QWORD [rsp + tag]
            );
            hits.push((hit, recent_at(r)));
        }
        let (done, retry) = (ops.new_dynamic_label(), m.retry);
        dynasm!(ops ; .arch x64 ; jmp =>done);
        let lent = self.map.guest_in(RCX);
        for (hit, from) in hits {
            dynasm!(ops ; .arch x64 ; =>hit);
            if let Some(l) = lent {
                dynasm!(ops ; .arch x64 ; mov DWORD [BYTE rsp + l], ecx);
            }
            dynasm!(ops
                ; .arch x64
                ; mov rcx, QWORD [rsp + from.rtag]
                ; mov QWORD [rsp + at.rtag], rcx
                ; mov rcx, QWORD [rsp + from.wtag]
                ; mov QWORD [rsp + at.wtag], rcx
                ; mov rcx, QWORD [rsp + from.ptr]
                ; mov QWORD [rsp + at.ptr], rcx
            );
            if let Some(l) = lent {
                dynasm!(ops ; .arch x64 ; mov ecx, DWORD [BYTE rsp + l]);
            }
            dynasm!(ops ; .arch x64 ; jmp =>retry);
        }
        dynasm!(ops ; .arch x64 ; =>done);
    }

    fn stub(&self, ops: &mut Asm, stub: Stub) {
        match stub {
            Stub::Entry { entry, body, cost, len, unaffordable } => {
                dynasm!(ops ; .arch x64 ; =>entry);
                charge(ops, cost, len, unaffordable);
                dynasm!(ops ; .arch x64 ; jmp =>body);
            }
            Stub::Refund { label, cost, len, pc } => {
                dynasm!(ops ; .arch x64 ; =>label);
                meter_op(ops, Meter::run(cost as u32, len as u32), true);
                self.exit_to(ops, EXIT_STEP, pc);
            }
            Stub::Dispatch { label, target } => {
                dynasm!(ops ; .arch x64 ; =>label);
                self.exit_to(ops, EXIT_DISPATCH, target);
            }
            Stub::Load { miss, rd } => {
                let at = entry_at((miss.code >> ENTRY_SHIFT) as usize);
                self.try_recent(ops, &miss, at, false);
                Self::trap_checks(ops, miss.code & 7, miss.refund);
                let code = miss.code;
                self.call(ops, load_miss as *const () as usize, |ops| {
                    dynasm!(ops ; .arch x64 ; mov esi, eax ; mov edx, code);
                });
                put(ops, rd, RAX);
                dynasm!(ops ; .arch x64 ; jmp =>miss.back);
            }
            Stub::Store { miss, value } => {
                let at = entry_at((miss.code >> ENTRY_SHIFT) as usize);
                self.try_recent(ops, &miss, at, true);
                Self::trap_checks(ops, miss.code & 7, miss.refund);
                let code = miss.code;
                let value = match self.map.loc(value) {
                    // Caller-saved hosts are spilled by `call` first, but
                    // may be overwritten by the arguments: use the frame.
                    Loc::Host(h) if !callee_saved(h) => Loc::Mem(slot(value)),
                    loc => loc,
                };
                self.call(ops, store_miss as *const () as usize, |ops| {
                    get(ops, 2, value);
                    dynasm!(ops ; .arch x64 ; mov esi, eax ; mov ecx, code);
                });
                dynasm!(ops
                    ; .arch x64
                    ; test eax, eax
                    ; jz =>miss.refund
                    ; jmp =>miss.back
                );
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
                );
                self.call(ops, stack_refill as *const () as usize, |ops| {
                    dynasm!(ops ; .arch x64 ; mov rsi, rax ; mov edx, span);
                });
                Self::resync_sp(ops);
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

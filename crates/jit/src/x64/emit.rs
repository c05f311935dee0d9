//! Code generation for one region: run gas checks, the instruction bodies
//! (memory accesses and control flow here, ALU ops in `alu.rs`), the
//! checked copies of stack-window segments and the out-of-line stubs; and
//! the routines shared by the whole program (access misses, trap exits,
//! stack refills). See docs/jit.md.
//!
//! Exits leave the guest pc in the frame (`CTX_PC`) and the exit kind in
//! `eax`, then jump to the shared exit, which writes the guest registers
//! held in host registers back to the frame. A *trap site* instead calls
//! the shared `trap` routine, which leaves its return address in the frame
//! (`CTX_SITE`): `Compiled` maps it back to the slot, refunds the rest of
//! the slot's run and steps the slot with the reference stepper.

// `dynasm!`'s dynamic-register operands (`Rd(n)`) expand to `n.into()`.
#![allow(clippy::useless_conversion)]

use super::alu::{self, compare, jcc, put, put_imm, Asm, Cond, Rhs};
use super::ctx::{
    entry_at, load_miss, recent_at, stack_refill, store_miss, EntryAt, Meter, CTX_PC, CTX_SITE, ENTRIES, ENTRY_SHIFT,
    SIGNED, STACK_BASE, STACK_PTR, VALUE,
};
use super::plan::{slot, Class, Loc, Plan, RegMap, RAX, RCX, SP};
use super::{EXIT_DISPATCH, EXIT_ECALL, EXIT_SITE, EXIT_STEP};
use athena_vm::isa::{BranchOp, Instruction, LoadOp, StoreOp};
use athena_vm::memory::{GUARD_END, PAGE_SIZE};
use athena_vm::program::CodeRegion;
use dynasmrt::{dynasm, AssemblyOffset, DynamicLabel, DynasmApi, DynasmLabelApi};

/// Meter charge of a slow slot (or any slot native code must not enter):
/// larger than any meter, so the charge always borrows.
pub(super) const NEVER: u64 = 1 << 63;

/// Inside a shared routine (one `call` deep) the frame is at `rsp + F`.
const F: i32 = 8;

/// The two entry points of an access routine: `full` takes the guest
/// address in `eax` and does the whole checked access; `miss` takes
/// `rax` = address ^ the entry's tag (an inline check that failed).
#[derive(Clone, Copy)]
struct Routine {
    full: DynamicLabel,
    miss: DynamicLabel,
}

/// What the whole program shares: the exit and trap routines, the access
/// routines (one per cache entry and access kind, emitted after the last
/// region if used), and the trap sites recorded so far.
pub(super) struct Shared {
    pub map: RegMap,
    pub exit: DynamicLabel,
    trap: DynamicLabel,
    refill: DynamicLabel,
    loads: [[Option<Routine>; 5]; ENTRIES],
    stores: [[Option<DynamicLabel>; 3]; ENTRIES],
    /// `(offset after the call, guest pc)` of every trap site, ascending.
    pub sites: Vec<(AssemblyOffset, u32)>,
}

impl Shared {
    pub fn new(ops: &mut Asm, map: RegMap) -> Self {
        Shared {
            map,
            exit: ops.new_dynamic_label(),
            trap: ops.new_dynamic_label(),
            refill: ops.new_dynamic_label(),
            loads: [[None; 5]; ENTRIES],
            stores: [[None; 3]; ENTRIES],
            sites: Vec::new(),
        }
    }

    /// Records that the code just emitted ends with the `call` of trap site
    /// `pc`.
    fn site(&mut self, ops: &Asm, pc: u32) {
        self.sites.push((ops.offset(), pc));
    }

    fn load_routine(&mut self, ops: &mut Asm, e: usize, op: LoadOp) -> Routine {
        let k = load_index(op);
        *self.loads[e % ENTRIES][k]
            .get_or_insert_with(|| Routine { full: ops.new_dynamic_label(), miss: ops.new_dynamic_label() })
    }

    /// The miss path of the store routine for entry `e`.
    fn store_routine(&mut self, ops: &mut Asm, e: usize, op: StoreOp) -> DynamicLabel {
        let k = store_index(op);
        *self.stores[e % ENTRIES][k].get_or_insert_with(|| ops.new_dynamic_label())
    }

    /// Emits the trap and stack-refill routines and every access routine
    /// used; after the last region.
    pub fn finish(&self, ops: &mut Asm) {
        let (trap, exit, refill) = (self.trap, self.exit, self.refill);
        // A trap site's `call` left its return address on the stack: it goes
        // to the frame, which is on top again.
        dynasm!(ops
            ; .arch x64
            ; =>trap
            ; pop QWORD [rsp + CTX_SITE]
            ; mov eax, EXIT_SITE
            ; jmp =>exit
        );
        // `rax` = the range's low end (64 bits), span in the value slot:
        // `stack_refill`, then `rbx` recomputed; `eax` = its result.
        let (sp_at, value) = (i32::from(slot(SP)), VALUE);
        dynasm!(ops ; .arch x64 ; =>refill);
        self.call_helper(ops, stack_refill as *const () as usize, |ops| {
            dynasm!(ops ; .arch x64 ; mov rsi, rax ; mov edx, DWORD [rsp + F + value]);
        });
        dynasm!(ops
            ; .arch x64
            ; mov ebx, DWORD [rsp + F + sp_at]
            ; add rbx, QWORD [rsp + F + STACK_BASE]
            ; ret
        );
        for e in 0..ENTRIES {
            for (k, op) in LOADS.into_iter().enumerate() {
                if let Some(r) = self.loads[e][k] {
                    self.load_routine_code(ops, r, e, op);
                }
            }
            for (k, op) in STORES.into_iter().enumerate() {
                if let Some(r) = self.stores[e][k] {
                    self.store_routine_code(ops, r, e, op);
                }
            }
        }
    }

    /// Calls helper `f` from a routine, with `rdi` = the frame (other
    /// arguments set by `args`, after the spill): guest registers in
    /// caller-saved host registers are written to the frame first and
    /// reloaded after (helpers never touch the register array); the result
    /// stays in `eax`.
    fn call_helper(&self, ops: &mut Asm, f: usize, args: impl FnOnce(&mut Asm)) {
        for (d, h) in self.map.clobbered() {
            let d = i32::from(d) + F;
            dynasm!(ops ; .arch x64 ; mov DWORD [rsp + d], Rd(h));
        }
        args(ops);
        let f = f as i64;
        // One `call` deep, `rsp` is 8 off the 16-byte alignment.
        dynasm!(ops
            ; .arch x64
            ; lea rdi, [rsp + F]
            ; sub rsp, 8
            ; mov rax, QWORD f
            ; call rax
            ; add rsp, 8
        );
        for (d, h) in self.map.clobbered() {
            let d = i32::from(d) + F;
            dynasm!(ops ; .arch x64 ; mov Rd(h), DWORD [rsp + d]);
        }
    }

    /// Miss path shared by loads and stores: `rax` = address ^ the entry's
    /// `tag`. Recovers the address; if one of the two recently refilled
    /// pages matches (its read tag for a load, write tag for a store),
    /// copies it into the entry and
    /// goes to `hit` with `rax` = the offset in the page; else checks the
    /// guard region and alignment (the trap routine: the reference stepper
    /// raises them) and falls through with the address in `eax`.
    fn try_recent(&self, ops: &mut Asm, at: EntryAt, size: i32, write: bool, hit: DynamicLabel) {
        let tag_of = |e: EntryAt| F + if write { e.wtag } else { e.rtag };
        let mask = mask(size);
        let own = tag_of(at);
        dynasm!(ops ; .arch x64 ; xor rax, QWORD [rsp + own]);
        let mut hits = Vec::new();
        for r in 0..2 {
            let (label, tag) = (ops.new_dynamic_label(), tag_of(recent_at(r)));
            dynasm!(ops
                ; .arch x64
                ; xor rax, QWORD [rsp + tag]
                ; test rax, mask
                ; jz =>label
                ; xor rax, QWORD [rsp + tag]
            );
            hits.push((label, recent_at(r)));
        }
        let (done, trap) = (ops.new_dynamic_label(), self.trap);
        dynasm!(ops ; .arch x64 ; jmp =>done);
        for (label, from) in hits {
            dynasm!(ops ; .arch x64 ; =>label);
            // Through `rcx`, saved on the stack (`push`/`pop` of memory
            // operands made the transfers workload a quarter slower).
            dynasm!(ops ; .arch x64 ; push rcx);
            for (src, dst) in [(from.rtag, at.rtag), (from.wtag, at.wtag), (from.ptr, at.ptr)] {
                let (src, dst) = (src + F + 8, dst + F + 8);
                dynasm!(ops ; .arch x64 ; mov rcx, QWORD [rsp + src] ; mov QWORD [rsp + dst], rcx);
            }
            dynasm!(ops ; .arch x64 ; pop rcx ; jmp =>hit);
        }
        let guard = GUARD_END as i32;
        dynasm!(ops ; .arch x64 ; =>done ; cmp eax, guard ; jb =>trap);
        if size > 1 {
            let m = (size - 1) as i8;
            dynasm!(ops ; .arch x64 ; test al, m ; jnz =>trap);
        }
    }

    /// Load routine for cache entry `e`: returns the value in `eax`.
    fn load_routine_code(&self, ops: &mut Asm, r: Routine, e: usize, op: LoadOp) {
        let at = entry_at(e);
        let size = op.size() as i32;
        let (mask, rtag, ptr) = (mask(size), at.rtag + F, at.ptr + F);
        let hit = ops.new_dynamic_label();
        dynasm!(ops
            ; .arch x64
            ; =>r.full
            ; xor rax, QWORD [rsp + rtag]
            ; test rax, mask
            ; jnz =>r.miss
            ; =>hit
            ; add rax, QWORD [rsp + ptr]
        );
        load_from_rax(ops, op);
        dynasm!(ops ; .arch x64 ; ret ; =>r.miss);
        self.try_recent(ops, at, size, false, hit);
        let signed = matches!(op, LoadOp::Lb | LoadOp::Lh);
        let code = size | if signed { SIGNED } else { 0 } | (e as i32) << ENTRY_SHIFT;
        self.call_helper(ops, load_miss as *const () as usize, |ops| {
            dynasm!(ops ; .arch x64 ; mov esi, eax ; mov edx, code);
        });
        dynasm!(ops ; .arch x64 ; ret);
    }

    /// Store routine (miss path) for cache entry `e`: `rax` = address ^
    /// the entry's write tag; stores the value slot's low bytes
    /// (`ctx::VALUE`), or leaves through the trap routine when the helper
    /// refuses (the reference stepper allocates, charges or faults).
    fn store_routine_code(&self, ops: &mut Asm, miss: DynamicLabel, e: usize, op: StoreOp) {
        let at = entry_at(e);
        let size = op.size() as i32;
        let (ptr, trap, hit) = (at.ptr + F, self.trap, ops.new_dynamic_label());
        dynasm!(ops ; .arch x64 ; =>miss);
        self.try_recent(ops, at, size, true, hit);
        let code = size | (e as i32) << ENTRY_SHIFT;
        let value = F + VALUE;
        self.call_helper(ops, store_miss as *const () as usize, |ops| {
            dynasm!(ops ; .arch x64 ; mov esi, eax ; mov edx, DWORD [rsp + value] ; mov ecx, code);
        });
        // A recent page hit: store through it (`rcx` pushed around the
        // store, so the value is at `rsp + F + 8`).
        let pushed = F + 8 + VALUE;
        dynasm!(ops
            ; .arch x64
            ; test eax, eax
            ; jz =>trap
            ; ret
            ; =>hit
            ; add rax, QWORD [rsp + ptr]
            ; push rcx
            ; mov ecx, DWORD [rsp + pushed]
        );
        match op {
            StoreOp::Sb => dynasm!(ops ; .arch x64 ; mov BYTE [rax], cl),
            StoreOp::Sh => dynasm!(ops ; .arch x64 ; mov WORD [rax], cx),
            StoreOp::Sw => dynasm!(ops ; .arch x64 ; mov DWORD [rax], ecx),
        }
        dynasm!(ops ; .arch x64 ; pop rcx ; ret);
    }
}

const LOADS: [LoadOp; 5] = [LoadOp::Lb, LoadOp::Lh, LoadOp::Lw, LoadOp::Lbu, LoadOp::Lhu];
const STORES: [StoreOp; 3] = [StoreOp::Sb, StoreOp::Sh, StoreOp::Sw];

fn load_index(op: LoadOp) -> usize {
    LOADS.iter().position(|&o| o == op).unwrap_or(0)
}

fn store_index(op: StoreOp) -> usize {
    STORES.iter().position(|&o| o == op).unwrap_or(0)
}

/// `eax = [rax]`, sign- or zero-extended.
fn load_from_rax(ops: &mut Asm, op: LoadOp) {
    match op {
        LoadOp::Lb => dynasm!(ops ; .arch x64 ; movsx eax, BYTE [rax]),
        LoadOp::Lbu => dynasm!(ops ; .arch x64 ; movzx eax, BYTE [rax]),
        LoadOp::Lh => dynasm!(ops ; .arch x64 ; movsx eax, WORD [rax]),
        LoadOp::Lhu => dynasm!(ops ; .arch x64 ; movzx eax, WORD [rax]),
        LoadOp::Lw => dynasm!(ops ; .arch x64 ; mov eax, DWORD [rax]),
    }
}

/// `addr & mask`: the page bits and the alignment bits of an access.
fn mask(size: i32) -> i32 {
    (0xffff_f000u32 | (size as u32 - 1)) as i32
}

/// Out-of-line code emitted after a region's bodies.
enum Stub {
    /// A trap site: `call trap` (its return address names slot `pc`).
    Site { label: DynamicLabel, pc: u32 },
    /// Leave the region for `target` (the Rust loop finds where it goes).
    Dispatch { label: DynamicLabel, target: u32 },
    /// A checked load missed its entry: the routine's miss path, then the
    /// value to `rd`.
    Load { label: DynamicLabel, back: DynamicLabel, routine: DynamicLabel, rd: Loc, pc: u32 },
    /// A checked store missed: the value to the value slot, then the
    /// routine's miss path.
    Store { label: DynamicLabel, back: DynamicLabel, routine: DynamicLabel, value: Loc, pc: u32 },
    /// The segment's range `[sp + min, sp + min + span]` is not in the
    /// stack entry's page (`rax` = its low end - the page's address, as in
    /// the check): refill the entry or run the checked copy.
    StackRefill { label: DynamicLabel, back: DynamicLabel, slow: DynamicLabel, min: i32, span: i32 },
}

/// How memory accesses are emitted.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// The main code: window accesses for hoisted slots, checked accesses
    /// inline with an out-of-line miss stub.
    Main,
    /// A segment's checked copy: every access checked inline. (Calls of
    /// the routines' `full` entries here, half the size, made transfers a
    /// third slower: its hot frames straddle a page boundary, so their
    /// segments run the copies.)
    Copy,
}

/// A compiled region's per-slot entry data: the meter charge of the run
/// entered at the slot ([`NEVER`] for slow slots) and where its body starts
/// (past the run's inline check; in the checked copy for a slot inside a
/// segment).
pub(super) struct Entry {
    pub charge: u64,
    pub body: AssemblyOffset,
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
    /// Entry labels of static jump targets.
    target: Vec<Option<DynamicLabel>>,
    /// Per segment: its checked copy, and where both versions rejoin.
    seg_slow: Vec<DynamicLabel>,
    seg_join: Vec<DynamicLabel>,
    /// The last trap-site label made, and its slot (sites are shared
    /// within a slot).
    last_site: Option<(usize, DynamicLabel)>,
    stubs: Vec<Stub>,
}

/// Emits one region; `table` is the address of its entry table (filled
/// by the caller from the returned entries once the code is placed).
pub(super) fn region(ops: &mut Asm, shared: &mut Shared, region: &CodeRegion, table: i64) -> Vec<Entry> {
    let insns = region.instructions();
    let n = insns.len();
    let plan = Plan::new(region.start(), insns);
    let map = shared.map.clone();
    let target = plan.targets.iter().map(|&t| t.then(|| ops.new_dynamic_label())).collect();
    let seg_slow = (0..plan.segments.len()).map(|_| ops.new_dynamic_label()).collect();
    let seg_join = (0..plan.segments.len()).map(|_| ops.new_dynamic_label()).collect();
    let mut g = Gen {
        map: &map,
        plan: &plan,
        shared,
        start: region.start(),
        table: ops.new_dynamic_label(),
        jalr_out: ops.new_dynamic_label(),
        jalr_short: ops.new_dynamic_label(),
        region_bytes: (n as i32).wrapping_mul(4),
        target,
        seg_slow,
        seg_join,
        last_site: None,
        stubs: Vec::new(),
    };
    let mut entries: Vec<Entry> = Vec::with_capacity(n);

    for (i, &insn) in insns.iter().enumerate() {
        let pc = g.pc(i);
        if let Some(label) = g.target[i] {
            dynasm!(ops ; .arch x64 ; =>label);
        }
        if plan.classes[i] == Class::Slow {
            entries.push(Entry { charge: NEVER, body: ops.offset() });
            g.exit_to(ops, EXIT_STEP, pc);
            continue;
        }
        let charge = Meter::run(plan.cost[i], plan.len[i]) as u64;
        if plan.run_start[i] {
            let site = g.site(ops, i);
            meter_sub(ops, charge as i64);
            dynasm!(ops ; .arch x64 ; jb =>site);
        }
        // A slot inside a segment is entered (by `JALR` or the Rust loop)
        // in the checked copy, since that skips the segment check; set
        // when the copy is emitted.
        entries.push(Entry { charge, body: ops.offset() });
        if let Some(k) = plan.seg_first[i] {
            g.segment_check(ops, k);
        }
        g.insn(ops, i, insn, Mode::Main);
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
        g.exit_to(ops, EXIT_DISPATCH, g.pc(n));
    }
    // Checked copies of the segments: every access through the routines.
    for (k, seg) in plan.segments.iter().enumerate() {
        let (slow, join) = (g.seg_slow[k], g.seg_join[k]);
        dynasm!(ops ; .arch x64 ; =>slow);
        for (i, &insn) in insns.iter().enumerate().take(seg.last + 1).skip(seg.first) {
            if i > seg.first {
                entries[i].body = ops.offset();
            }
            g.insn(ops, i, insn, Mode::Copy);
        }
        dynasm!(ops ; .arch x64 ; jmp =>join);
    }
    let stubs = std::mem::take(&mut g.stubs);
    for stub in stubs {
        g.stub(ops, stub);
    }
    let (start, table_at, exit) = (g.start as i32, g.table, g.shared.exit);
    let (out, short) = (g.jalr_out, g.jalr_short);
    dynasm!(ops
        ; .arch x64
        ; =>out
        ; add eax, start
        ; mov DWORD [rsp + CTX_PC], eax
        ; mov eax, EXIT_DISPATCH
        ; jmp =>exit
        ; =>short
        ; add r13, QWORD [rax]
        ; sub rax, QWORD [=>table_at]
        ; shr rax, 2
        ; add eax, start
        ; mov DWORD [rsp + CTX_PC], eax
        ; mov eax, EXIT_DISPATCH
        ; jmp =>exit
        ; .align 8
        ; =>table_at
        ; .i64 table
    );
    entries
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
        let (exit, pc) = (self.shared.exit, pc as i32);
        dynasm!(ops
            ; .arch x64
            ; mov DWORD [rsp + CTX_PC], pc
            ; mov eax, kind
            ; jmp =>exit
        );
    }

    /// A trap site for slot `i`: jumping there refunds the rest of the run
    /// from slot `i` on and steps slot `i` (Rust does both, from the site's
    /// return address).
    fn site(&mut self, ops: &mut Asm, i: usize) -> DynamicLabel {
        if let Some((j, label)) = self.last_site {
            if j == i {
                return label;
            }
        }
        let label = ops.new_dynamic_label();
        self.last_site = Some((i, label));
        self.stubs.push(Stub::Site { label, pc: self.pc(i) });
        label
    }

    /// Where control goes for a static jump to `target`: a slot entry, or
    /// a dispatch exit when it lies outside the region.
    fn target_label(&mut self, ops: &mut Asm, target: u32) -> DynamicLabel {
        let offset = target.wrapping_sub(self.start);
        let slot = (offset >> 2) as usize;
        if offset & 3 == 0 && slot < self.target.len() {
            if let Some(label) = self.target[slot] {
                return label;
            }
        }
        let label = ops.new_dynamic_label();
        self.stubs.push(Stub::Dispatch { label, target });
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
                } else if rd & 31 == 0 {
                    // No effect unless it traps.
                    self.call_load(ops, i, op, map.loc(rd), rs1, offset);
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
                    let slow = self.site(ops, i);
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
                let taken = if target & 3 != 0 { self.site(ops, i) } else { self.target_label(ops, target) };
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
        let slow = self.site(ops, i);
        let (start, region_bytes, table) = (self.start as i32, self.region_bytes, self.table);
        let (out, short) = (self.jalr_out, self.jalr_short);
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

    /// A checked load: `(addr ^ tag)` of the base register's cache entry
    /// has no bits in `0xffff_ffff_ffff_f000 | (size - 1)` only for an
    /// aligned address in the entry's page (the guard page is never cached)
    /// and is then the offset in the page; a miss goes out of line, to the
    /// entry's load routine.
    fn load(&mut self, ops: &mut Asm, i: usize, op: LoadOp, d: Loc, rs1: u8, offset: i32) {
        let size = op.size() as i32;
        Self::address(ops, self.map.loc(rs1), offset);
        let e = usize::from(rs1 & 31);
        let at = entry_at(e);
        let (label, back) = (ops.new_dynamic_label(), ops.new_dynamic_label());
        let mask = mask(size);
        dynasm!(ops
            ; .arch x64
            ; xor rax, QWORD [rsp + at.rtag]
            ; test rax, mask
            ; jnz =>label
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
                load_from_rax(ops, op);
                put(ops, d, RAX);
            }
        }
        dynasm!(ops ; .arch x64 ; =>back);
        let routine = self.shared.load_routine(ops, e, op).miss;
        self.stubs.push(Stub::Load { label, back, routine, rd: d, pc: self.pc(i) });
    }

    /// A checked store, like [`Gen::load`] with the entry's write tag.
    fn store(&mut self, ops: &mut Asm, i: usize, op: StoreOp, rs1: u8, rs2: u8, offset: i32) {
        let size = op.size() as i32;
        Self::address(ops, self.map.loc(rs1), offset);
        let e = usize::from(rs1 & 31);
        let at = entry_at(e);
        let (label, back) = (ops.new_dynamic_label(), ops.new_dynamic_label());
        let mask = mask(size);
        dynasm!(ops
            ; .arch x64
            ; xor rax, QWORD [rsp + at.wtag]
            ; test rax, mask
            ; jnz =>label
            ; add rax, QWORD [rsp + at.ptr]
        );
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
        dynasm!(ops ; .arch x64 ; =>back);
        let routine = self.shared.store_routine(ops, e, op);
        self.stubs.push(Stub::Store { label, back, routine, value, pc: self.pc(i) });
    }

    /// `[rax] = low bytes of host register v`.
    fn store_reg(ops: &mut Asm, op: StoreOp, v: u8) {
        match op {
            StoreOp::Sb => dynasm!(ops ; .arch x64 ; mov BYTE [rax], Rb(v)),
            StoreOp::Sh => dynasm!(ops ; .arch x64 ; mov WORD [rax], Rw(v)),
            StoreOp::Sw => dynasm!(ops ; .arch x64 ; mov DWORD [rax], Rd(v)),
        }
    }

    /// A load to x0, which only matters if it traps: the routine's `full`
    /// entry does the whole checked access.
    fn call_load(&mut self, ops: &mut Asm, i: usize, op: LoadOp, d: Loc, rs1: u8, offset: i32) {
        Self::address(ops, self.map.loc(rs1), offset);
        let routine = self.shared.load_routine(ops, usize::from(rs1 & 31), op).full;
        dynasm!(ops ; .arch x64 ; call =>routine);
        self.shared.site(ops, self.pc(i));
        put(ops, d, RAX);
    }

    fn stub(&mut self, ops: &mut Asm, stub: Stub) {
        match stub {
            Stub::Site { label, pc } => {
                let trap = self.shared.trap;
                dynasm!(ops ; .arch x64 ; =>label ; call =>trap);
                self.shared.site(ops, pc);
            }
            Stub::Dispatch { label, target } => {
                dynasm!(ops ; .arch x64 ; =>label);
                self.exit_to(ops, EXIT_DISPATCH, target);
            }
            Stub::Load { label, back, routine, rd, pc } => {
                dynasm!(ops ; .arch x64 ; =>label ; call =>routine);
                self.shared.site(ops, pc);
                put(ops, rd, RAX);
                dynasm!(ops ; .arch x64 ; jmp =>back);
            }
            Stub::Store { label, back, routine, value, pc } => {
                // `rax` holds the address ^ tag: a value in the frame goes
                // through the stack.
                dynasm!(ops ; .arch x64 ; =>label);
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
                dynasm!(ops ; .arch x64 ; call =>routine);
                self.shared.site(ops, pc);
                dynasm!(ops ; .arch x64 ; jmp =>back);
            }
            Stub::StackRefill { label, back, slow, min, span } => {
                let (last, sp_at, refill) = (PAGE_SIZE as i32 - 1, slot(SP), self.shared.refill);
                dynasm!(ops
                    ; .arch x64
                    ; =>label
                    // Low end in the stack page: the segment straddles two.
                    ; cmp rax, last
                    ; jbe =>slow
                    ; mov eax, DWORD [BYTE rsp + sp_at]
                    ; lea rax, [rax + min]
                    ; mov DWORD [rsp + VALUE], span
                    ; call =>refill
                    ; test eax, eax
                    ; jz =>slow
                    ; jmp =>back
                );
            }
        }
    }
}

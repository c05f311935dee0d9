//! The routines the whole program shares (the exit, trap and stack-refill
//! routines, the access routines per cache entry and access kind) and the
//! trap sites recorded while emitting: [`Shared`]. See docs/jit.md.

// `dynasm!`'s dynamic-register operands (`Rd(n)`) expand to `n.into()`.
#![allow(clippy::useless_conversion)]

use super::alu::Asm;
use super::ctx::{
    entry_at, load_miss, recent_at, stack_refill, store_miss, EntryAt, CTX_SITE, ENTRIES, ENTRY_SHIFT, PAGES,
    PAGE_TABLE, SIGNED, STACK_BASE, VALUE,
};
use super::emit::{jump_to, load_from_rax, mask, Jump, CC_B, CC_NZ, CC_Z, F};
use super::plan::{slot, RegMap, SP};
use super::EXIT_SITE;
use athena_vm::isa::{LoadOp, StoreOp};
use athena_vm::memory::GUARD_END;
use dynasmrt::{dynasm, AssemblyOffset, DynamicLabel, DynasmApi, DynasmLabelApi};

/// What the whole program shares: the exit, trap and stack-refill routines
/// (right after the trampoline), the access routines (one per cache entry
/// and access kind, emitted among a region's stubs when first needed), and
/// the trap sites recorded so far.
pub(super) struct Shared {
    pub map: RegMap,
    pub exit: AssemblyOffset,
    pub trap: AssemblyOffset,
    pub refill: AssemblyOffset,
    loads: [[Option<AssemblyOffset>; 5]; ENTRIES],
    stores: [[Option<AssemblyOffset>; 3]; ENTRIES],
    /// `(offset after the call, guest pc)` of every trap site, ascending.
    pub sites: Vec<(u32, u32)>,
}

impl Shared {
    /// Emits the trap and stack-refill routines; `exit` is the shared exit.
    pub fn new(ops: &mut Asm, map: RegMap, exit: AssemblyOffset) -> Self {
        // A trap site's `call` left its return address on the stack: it goes
        // to the frame, which is on top again.
        let trap = ops.offset();
        dynasm!(ops
            ; .arch x64
            ; pop QWORD [rsp + CTX_SITE]
            ; mov eax, EXIT_SITE
        );
        jump_to(ops, Jump::Always, exit);
        let shared = Shared {
            map,
            exit,
            trap,
            refill: ops.offset(),
            loads: [[None; 5]; ENTRIES],
            stores: [[None; 3]; ENTRIES],
            sites: Vec::new(),
        };
        // `rax` = the range's low end (64 bits), span in the value slot:
        // `stack_refill`, then `rbx` recomputed; `eax` = its result.
        let (sp_at, value) = (i32::from(slot(SP)), VALUE);
        shared.call_helper(ops, stack_refill as *const () as usize, |ops| {
            dynasm!(ops ; .arch x64 ; mov rsi, rax ; mov edx, DWORD [rsp + F + value]);
        });
        dynasm!(ops
            ; .arch x64
            ; mov ebx, DWORD [rsp + F + sp_at]
            ; add rbx, QWORD [rsp + F + STACK_BASE]
            ; ret
        );
        shared
    }

    /// Records that the code just emitted ends with the `call` of trap site
    /// `pc`.
    pub fn site(&mut self, ops: &Asm, pc: u32) {
        self.sites.push((ops.offset().0 as u32, pc));
    }

    /// The load routine for entry `e`, emitted here if not yet (only
    /// between stubs, outside any straight-line code).
    pub fn load_routine(&mut self, ops: &mut Asm, e: usize, op: LoadOp) -> AssemblyOffset {
        self.routine(ops, |s| &mut s.loads, e, load_index(op), |s, ops| s.load_routine_code(ops, e, op))
    }

    /// The store routine for entry `e`, emitted here if not yet.
    pub fn store_routine(&mut self, ops: &mut Asm, e: usize, op: StoreOp) -> AssemblyOffset {
        self.routine(ops, |s| &mut s.stores, e, store_index(op), |s, ops| s.store_routine_code(ops, e, op))
    }

    /// The routine memoized in slot `[e % ENTRIES][k]` of `table`, or the
    /// code `emit` writes, emitted here and memoized there: the one
    /// memoizer behind [`Shared::load_routine`] and
    /// [`Shared::store_routine`], whose tables differ only in width.
    fn routine<const N: usize>(
        &mut self,
        ops: &mut Asm,
        table: fn(&mut Self) -> &mut [[Option<AssemblyOffset>; N]; ENTRIES],
        e: usize,
        k: usize,
        emit: impl FnOnce(&Self, &mut Asm),
    ) -> AssemblyOffset {
        let slot = &mut table(self)[e % ENTRIES][k];
        if let Some(at) = *slot {
            return at;
        }
        let at = ops.offset();
        *slot = Some(at);
        emit(self, ops);
        at
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
    /// pages matches (its read tag for a load, write tag for a store), or
    /// the page's slot in the frame's page table does, copies it into the
    /// entry and goes to `hit` with `rax` = the offset in the page; else
    /// checks the guard region and alignment (the trap routine: the
    /// reference stepper raises them) and falls through with the address in
    /// `eax`. (Cached pages are never guard pages, and the tag test covers
    /// the alignment bits, so a hit needs no trap check.)
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
        // The page table: slot `page % PAGES` (24 bytes each), indexed
        // through `rcx` (saved on the stack).
        let (done, table_hit) = (ops.new_dynamic_label(), ops.new_dynamic_label());
        let slot_tag = PAGE_TABLE + F + 8 + if write { 8 } else { 0 };
        let pages = (PAGES - 1) as i32;
        dynasm!(ops
            ; .arch x64
            ; push rcx
            ; mov ecx, eax
            ; shr ecx, 12
            ; and ecx, pages
            ; imul ecx, ecx, 24
            ; xor rax, QWORD [rsp + rcx + slot_tag]
            ; test rax, mask
            ; jz =>table_hit
            ; xor rax, QWORD [rsp + rcx + slot_tag]
            ; pop rcx
            ; jmp =>done
            ; =>table_hit
            // `rcx` and `rdx` pushed: the frame is at `rsp + F + 16`.
            ; push rdx
        );
        for (src, dst) in [(0, at.rtag), (8, at.wtag), (16, at.ptr)] {
            let (src, dst) = (PAGE_TABLE + F + 16 + src, dst + F + 16);
            dynasm!(ops ; .arch x64 ; mov rdx, QWORD [rsp + rcx + src] ; mov QWORD [rsp + dst], rdx);
        }
        dynasm!(ops ; .arch x64 ; pop rdx ; pop rcx ; jmp =>hit);
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
        dynasm!(ops ; .arch x64 ; =>done ; cmp eax, guard);
        jump_to(ops, Jump::If(CC_B), self.trap);
        if size > 1 {
            let m = (size - 1) as i8;
            dynasm!(ops ; .arch x64 ; test al, m);
            jump_to(ops, Jump::If(CC_NZ), self.trap);
        }
    }

    /// Load routine (miss path) for cache entry `e`: `rax` = address ^
    /// the entry's read tag; returns the value in `eax`.
    fn load_routine_code(&self, ops: &mut Asm, e: usize, op: LoadOp) {
        let at = entry_at(e);
        let size = op.size() as i32;
        let (ptr, hit) = (at.ptr + F, ops.new_dynamic_label());
        self.try_recent(ops, at, size, false, hit);
        let signed = matches!(op, LoadOp::Lb | LoadOp::Lh);
        let code = size | if signed { SIGNED } else { 0 } | (e as i32) << ENTRY_SHIFT;
        self.call_helper(ops, load_miss as *const () as usize, |ops| {
            dynasm!(ops ; .arch x64 ; mov esi, eax ; mov edx, code);
        });
        dynasm!(ops ; .arch x64 ; ret ; =>hit ; add rax, QWORD [rsp + ptr]);
        load_from_rax(ops, op);
        dynasm!(ops ; .arch x64 ; ret);
    }

    /// Store routine (miss path) for cache entry `e`: `rax` = address ^
    /// the entry's write tag; stores the value slot's low bytes
    /// (`ctx::VALUE`), or leaves through the trap routine when the helper
    /// refuses (the reference stepper allocates, charges or faults).
    fn store_routine_code(&self, ops: &mut Asm, e: usize, op: StoreOp) {
        let at = entry_at(e);
        let size = op.size() as i32;
        let (ptr, hit) = (at.ptr + F, ops.new_dynamic_label());
        self.try_recent(ops, at, size, true, hit);
        let code = size | (e as i32) << ENTRY_SHIFT;
        let value = F + VALUE;
        self.call_helper(ops, store_miss as *const () as usize, |ops| {
            dynasm!(ops ; .arch x64 ; mov esi, eax ; mov edx, DWORD [rsp + value] ; mov ecx, code);
        });
        // A recent page hit: store through it (`rcx` pushed around the
        // store, so the value is at `rsp + F + 8`).
        let pushed = F + 8 + VALUE;
        dynasm!(ops ; .arch x64 ; test eax, eax);
        jump_to(ops, Jump::If(CC_Z), self.trap);
        dynasm!(ops
            ; .arch x64
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

pub(super) const LOADS: [LoadOp; 5] = [LoadOp::Lb, LoadOp::Lh, LoadOp::Lw, LoadOp::Lbu, LoadOp::Lhu];
pub(super) const STORES: [StoreOp; 3] = [StoreOp::Sb, StoreOp::Sh, StoreOp::Sw];

pub(super) fn load_index(op: LoadOp) -> usize {
    LOADS.iter().position(|&o| o == op).unwrap_or(0)
}

pub(super) fn store_index(op: StoreOp) -> usize {
    STORES.iter().position(|&o| o == op).unwrap_or(0)
}

//! The x86-64 back end: code generation (with `dynasmrt`) and the Rust loop
//! that enters native code and handles its exits. See `docs/jit.md`.
//!
//! Host register assignment inside native code:
//! - `rbx`: pointer to the guest register array (`[u32; 64]`, `x0..x31`);
//! - `r12`: pointer to the [`Ctx`] block;
//! - `r13`: gas left (`u64`);
//! - `r14`: instructions retired (`u64`);
//! - `CACHE_HOSTS` (`rbp`, `r15`): the hottest guest registers;
//! - everything else is scratch (`eax`/`ecx` carry the exit kind and pc).

// `dynasm!`'s dynamic-register operands (`Rd(n)`) expand to `n.into()`.
#![allow(clippy::useless_conversion)]

use crate::JitError;
use athena_vm::gas::instruction_cost;
use athena_vm::isa::{AluOp, BranchOp, Instruction, LoadOp, StoreOp};
use athena_vm::jit_support::JitStop;
use athena_vm::memory::{Memory, GUARD_END, PAGE_SIZE};
use athena_vm::program::CodeRegion;
use athena_vm::{Environment, Machine, Outcome, Program};
use dynasmrt::{dynasm, AssemblyOffset, DynamicLabel, DynasmApi, DynasmLabelApi, ExecutableBuffer};

/// Exit kinds returned in `eax` (with the pc in [`Ctx::pc`]).
const EXIT_STEP: i32 = 0;
const EXIT_ECALL: i32 = 1;
const EXIT_DISPATCH: i32 = 2;

/// The block shared between Rust and native code. Field offsets are used
/// by the generated code; keep them in sync with the `CTX_*` constants
/// (checked at compile time below).
///
/// The last four fields are the inline page cache (docs/jit.md): one entry
/// for loads and one for stores, each a guest page number (`addr >> 12`) and
/// a pointer to that page's 4096 bytes. [`NO_PAGE`] matches no address. A
/// fresh `Ctx` (empty cache) is built for every entry into native code, so
/// nothing cached survives a reference step or a syscall, which may
/// allocate pages.
#[repr(C)]
struct Ctx {
    regs: *mut u32,
    memory: *mut Memory,
    gas: u64,
    retired: u64,
    pc: u32,
    read_page: u32,
    read_base: usize,
    write_page: u32,
    write_base: usize,
}

const CTX_MEMORY: i32 = 8;
const CTX_GAS: i32 = 16;
const CTX_RETIRED: i32 = 24;
const CTX_PC: i32 = 32;
const CTX_READ_PAGE: i32 = 36;
const CTX_READ_BASE: i32 = 40;
const CTX_WRITE_PAGE: i32 = 48;
const CTX_WRITE_BASE: i32 = 56;

const _: () = {
    use std::mem::offset_of;
    assert!(offset_of!(Ctx, regs) == 0);
    assert!(offset_of!(Ctx, memory) == CTX_MEMORY as usize);
    assert!(offset_of!(Ctx, gas) == CTX_GAS as usize);
    assert!(offset_of!(Ctx, retired) == CTX_RETIRED as usize);
    assert!(offset_of!(Ctx, pc) == CTX_PC as usize);
    assert!(offset_of!(Ctx, read_page) == CTX_READ_PAGE as usize);
    assert!(offset_of!(Ctx, read_base) == CTX_READ_BASE as usize);
    assert!(offset_of!(Ctx, write_page) == CTX_WRITE_PAGE as usize);
    assert!(offset_of!(Ctx, write_base) == CTX_WRITE_BASE as usize);
};

/// Page number of an empty cache entry: guest page numbers are below 2^20.
const NO_PAGE: u32 = u32::MAX;
/// `addr >> PAGE_SHIFT` is the page number.
const PAGE_SHIFT: i8 = 12;

impl Ctx {
    fn new(regs: *mut u32, memory: *mut Memory, gas: u64, retired: u64, pc: u32) -> Self {
        Ctx { regs, memory, gas, retired, pc, read_page: NO_PAGE, read_base: 0, write_page: NO_PAGE, write_base: 0 }
    }

    /// Refills the cache for the page of `addr` if it is allocated: the read
    /// entry always, the write entry if the page has no read-only bytes; an
    /// entry already holding that page is replaced either way, so every
    /// cached pointer to a page comes from its latest `&mut` reborrow.
    /// Returns the page pointer and whether stores may go through it.
    ///
    /// # Safety
    ///
    /// `self.memory` points to the live `Memory` exclusively borrowed by
    /// `Compiled::run` for the current native call.
    unsafe fn refill(&mut self, addr: u32, for_store: bool) -> Option<(*mut u8, bool)> {
        // SAFETY: guaranteed by the caller; no reference to the memory exists
        // while native code runs (only page pointers, which this reborrow
        // does not touch for other pages).
        let (ptr, read_only) = unsafe { (*self.memory).page_ptr_mut(addr) }?;
        let page = addr >> PAGE_SHIFT;
        // Native code accesses `base + addr` = `ptr + (addr & 0xfff)` for an
        // address in `page` (integer arithmetic; never dereferenced here).
        let base = (ptr as usize).wrapping_sub((page as usize) << PAGE_SHIFT);
        if !for_store || self.read_page == page {
            self.read_page = page;
            self.read_base = base;
        }
        if !read_only && (for_store || self.write_page == page) {
            self.write_page = page;
            self.write_base = base;
        }
        Some((ptr, !read_only))
    }
}

/// Signature of the trampoline at the start of the code buffer.
type Enter = unsafe extern "sysv64" fn(ctx: *mut Ctx, entry: *const u8) -> u32;

/// How an instruction slot relates to straight-line runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Executed inline; control falls through to the next slot.
    Normal,
    /// Executed inline (or exits) and ends its run: jumps, branches, `ECALL`.
    Terminator,
    /// Never executed natively: the entry hands the slot to the reference
    /// stepper without charging anything (`EBREAK`, illegal words).
    Slow,
}

fn classify(insn: &Instruction) -> Class {
    match insn {
        Instruction::Jal { .. } | Instruction::Jalr { .. } | Instruction::Branch { .. } | Instruction::Ecall => {
            Class::Terminator
        }
        Instruction::Ebreak | Instruction::Illegal { .. } => Class::Slow,
        // The decoder never produces these immediate forms; if it ever did,
        // the reference stepper would give their exact semantics.
        Instruction::AluImm { op, .. }
            if !matches!(
                op,
                AluOp::Add
                    | AluOp::Slt
                    | AluOp::Sltu
                    | AluOp::Xor
                    | AluOp::Or
                    | AluOp::And
                    | AluOp::Sll
                    | AluOp::Srl
                    | AluOp::Sra
            ) =>
        {
            Class::Slow
        }
        _ => Class::Normal,
    }
}

/// Gas and length of the straight-line run entered at each slot: the slot
/// and every following `Normal` slot up to and including the next
/// `Terminator`; a run stops before a `Slow` slot and at the region end.
/// `Slow` slots have an empty run (they charge nothing natively).
fn runs(insns: &[Instruction], classes: &[Class]) -> (Vec<u32>, Vec<u32>) {
    let n = insns.len();
    let mut cost = vec![0u32; n];
    let mut len = vec![0u32; n];
    for i in (0..n).rev() {
        let c = instruction_cost(insns[i].cost_class()) as u32;
        match classes[i] {
            Class::Slow => {}
            Class::Terminator => {
                cost[i] = c;
                len[i] = 1;
            }
            Class::Normal => {
                let (nc, nl) =
                    if i + 1 < n && classes[i + 1] != Class::Slow { (cost[i + 1], len[i + 1]) } else { (0, 0) };
                cost[i] = c.saturating_add(nc);
                len[i] = nl + 1;
            }
        }
    }
    (cost, len)
}

/// One compiled region: its guest range and the native entry of each slot.
struct Region {
    start: u32,
    /// Absolute native address of each slot's entry (also the table the
    /// generated `JALR` code indexes).
    entries: Box<[usize]>,
}

impl Region {
    #[inline]
    fn slot_of(&self, pc: u32) -> Option<usize> {
        let offset = pc.wrapping_sub(self.start);
        let slot = (offset >> 2) as usize;
        (offset & 3 == 0 && slot < self.entries.len()).then_some(slot)
    }
}

/// A whole program in native form.
pub(crate) struct Compiled {
    /// Owns the executable memory every pointer below points into.
    _buffer: ExecutableBuffer,
    enter: Enter,
    regions: Vec<Region>,
    /// The code compiled, to check a machine runs the same program.
    code: Vec<CodeRegion>,
}

// SAFETY: `Compiled` is immutable after construction; its only raw pointers
// (the `enter` function pointer and the entry tables' addresses) point into
// the owned, read-only executable buffer.
unsafe impl Send for Compiled {}
// SAFETY: as above; running only reads the compiled code and tables.
unsafe impl Sync for Compiled {}

// ---- page-cache miss helpers called from native code ----------------------
//
// Native code has already checked alignment and the guard region, and found
// that the page of `addr` is not the cached one. These refill the cache
// (`Ctx::refill`) and perform the access through the fresh page pointer.
// `ctx` is the block passed to the trampoline; its `memory` is the machine's
// memory, exclusively borrowed by `Compiled::run` for the whole native call.

/// Loads `N` bytes at the aligned `addr` (zero if the page is unallocated,
/// as the interpreter reads it), zero-extended.
///
/// # Safety
///
/// `ctx` is the live block of the current native call; `addr` is aligned to `N`.
#[inline(always)]
unsafe fn load_miss<const N: usize>(ctx: *mut Ctx, addr: u32) -> u32 {
    // SAFETY: `ctx` is valid and not otherwise borrowed during the call.
    let Some((page, _)) = (unsafe { (*ctx).refill(addr, false) }) else { return 0 };
    let mut bytes = [0u8; 4];
    // SAFETY: `page` points to the 4096 bytes of the page of `addr` (pages are
    // boxed and never freed while the memory lives); `addr` is aligned to
    // `N` <= 4, so `[off, off + N)` is inside the page.
    unsafe {
        let src = page.add((addr & PAGE_SIZE.wrapping_sub(1)) as usize);
        std::ptr::copy_nonoverlapping(src, bytes.as_mut_ptr(), N);
    }
    u32::from_le_bytes(bytes)
}

extern "sysv64" fn load_lb(ctx: *mut Ctx, addr: u32) -> u32 {
    // SAFETY: called from native code with the live ctx and a checked address.
    unsafe { load_miss::<1>(ctx, addr) as u8 as i8 as i32 as u32 }
}
extern "sysv64" fn load_lbu(ctx: *mut Ctx, addr: u32) -> u32 {
    // SAFETY: as in `load_lb`.
    unsafe { load_miss::<1>(ctx, addr) }
}
extern "sysv64" fn load_lh(ctx: *mut Ctx, addr: u32) -> u32 {
    // SAFETY: as in `load_lb`.
    unsafe { load_miss::<2>(ctx, addr) as u16 as i16 as i32 as u32 }
}
extern "sysv64" fn load_lhu(ctx: *mut Ctx, addr: u32) -> u32 {
    // SAFETY: as in `load_lb`.
    unsafe { load_miss::<2>(ctx, addr) }
}
extern "sysv64" fn load_lw(ctx: *mut Ctx, addr: u32) -> u32 {
    // SAFETY: as in `load_lb`.
    unsafe { load_miss::<4>(ctx, addr) }
}

/// Stores the low `N` bytes of `value` at the aligned `addr` if its page is
/// allocated and has no read-only bytes; otherwise returns `false` without
/// effect (native code then refunds and steps: allocation, page gas, memory
/// limit and read-only checks are the reference stepper's).
///
/// # Safety
///
/// As [`load_miss`].
#[inline(always)]
unsafe fn store_miss<const N: usize>(ctx: *mut Ctx, addr: u32, value: u32) -> bool {
    // SAFETY: `ctx` is valid and not otherwise borrowed during the call.
    let Some((page, true)) = (unsafe { (*ctx).refill(addr, true) }) else { return false };
    // SAFETY: as in `load_miss`; the page pointer comes from a `&mut`
    // reborrow, and the page has no read-only bytes.
    unsafe {
        let dst = page.add((addr & PAGE_SIZE.wrapping_sub(1)) as usize);
        std::ptr::copy_nonoverlapping(value.to_le_bytes().as_ptr(), dst, N);
    }
    true
}

extern "sysv64" fn store_sb(ctx: *mut Ctx, addr: u32, value: u32) -> bool {
    // SAFETY: called from native code with the live ctx and a checked address.
    unsafe { store_miss::<1>(ctx, addr, value) }
}
extern "sysv64" fn store_sh(ctx: *mut Ctx, addr: u32, value: u32) -> bool {
    // SAFETY: as in `store_sb`.
    unsafe { store_miss::<2>(ctx, addr, value) }
}
extern "sysv64" fn store_sw(ctx: *mut Ctx, addr: u32, value: u32) -> bool {
    // SAFETY: as in `store_sb`.
    unsafe { store_miss::<4>(ctx, addr, value) }
}

/// Byte offset of guest register `r` in the register array.
#[inline]
fn roff(r: u8) -> i32 {
    4 * i32::from(r & 31)
}

/// Out-of-line code emitted after a region's bodies.
enum Stub {
    /// Gas check and count for a run entered by a jump, then the body.
    Entry { entry: DynamicLabel, body: DynamicLabel, cost: i32, len: i32, step: DynamicLabel },
    /// Hand slot at `pc` to the reference stepper (nothing to refund).
    Step { label: DynamicLabel, pc: i32 },
    /// Refund the rest of the run, then step.
    Refund { label: DynamicLabel, cost: i32, len: i32, step: DynamicLabel },
    /// Leave the region for `target` (the Rust loop finds where it goes).
    Dispatch { label: DynamicLabel, target: i32 },
}

struct RegionGen<'a> {
    start: u32,
    insns: &'a [Instruction],
    cost: Vec<u32>,
    len: Vec<u32>,
    entry: Vec<DynamicLabel>,
    step: Vec<Option<DynamicLabel>>,
    refund: Vec<Option<DynamicLabel>>,
    stubs: Vec<Stub>,
    exit: DynamicLabel,
}

impl RegionGen<'_> {
    fn pc(&self, i: usize) -> u32 {
        self.start.wrapping_add((i as u32) << 2)
    }

    fn step_label(&mut self, ops: &mut dynasmrt::x64::Assembler, i: usize) -> DynamicLabel {
        if let Some(l) = self.step[i] {
            return l;
        }
        let label = ops.new_dynamic_label();
        self.step[i] = Some(label);
        self.stubs.push(Stub::Step { label, pc: self.pc(i) as i32 });
        label
    }

    /// Label that refunds the run from slot `i` on and steps slot `i`.
    fn refund_label(&mut self, ops: &mut dynasmrt::x64::Assembler, i: usize) -> DynamicLabel {
        if let Some(l) = self.refund[i] {
            return l;
        }
        let step = self.step_label(ops, i);
        let label = ops.new_dynamic_label();
        self.refund[i] = Some(label);
        self.stubs.push(Stub::Refund { label, cost: self.cost[i] as i32, len: self.len[i] as i32, step });
        label
    }

    /// Where control goes for a static jump to `target`: a slot entry, or
    /// a dispatch exit when it lies outside the region.
    fn target_label(&mut self, ops: &mut dynasmrt::x64::Assembler, target: u32) -> DynamicLabel {
        let offset = target.wrapping_sub(self.start);
        let slot = (offset >> 2) as usize;
        if offset & 3 == 0 && slot < self.insns.len() {
            return self.entry[slot];
        }
        let label = ops.new_dynamic_label();
        self.stubs.push(Stub::Dispatch { label, target: target as i32 });
        label
    }
}

impl Compiled {
    pub(crate) fn new(program: &Program) -> Result<Self, JitError> {
        let err = |e: &dyn std::fmt::Debug| JitError::Assembler(format!("{e:?}"));
        let mut ops = dynasmrt::x64::Assembler::new().map_err(|e| err(&e))?;
        let exit = ops.new_dynamic_label();
        let map = RegMap::choose(program);

        // Trampoline: save callee-saved registers (six pushes plus the
        // padding keep `rsp` 16-byte aligned for helper calls), load the
        // pinned registers, jump to the entry passed in `rsi`.
        let enter_at = ops.offset();
        dynasm!(ops
            ; .arch x64
            ; push rbx
            ; push rbp
            ; push r12
            ; push r13
            ; push r14
            ; push r15
            ; sub rsp, 8
            ; mov r12, rdi
            ; mov rbx, QWORD [r12]
            ; mov r13, QWORD [r12 + CTX_GAS]
            ; mov r14, QWORD [r12 + CTX_RETIRED]
        );
        for (d, h) in map.cached() {
            dynasm!(ops ; .arch x64 ; mov Rd(h), DWORD [rbx + d]);
        }
        dynasm!(ops
            ; .arch x64
            ; jmp rsi
            ; =>exit
        );
        // Cached guest registers go back to the array at every exit.
        for (d, h) in map.cached() {
            dynasm!(ops ; .arch x64 ; mov DWORD [rbx + d], Rd(h));
        }
        dynasm!(ops
            ; .arch x64
            ; mov QWORD [r12 + CTX_GAS], r13
            ; mov QWORD [r12 + CTX_RETIRED], r14
            ; mov DWORD [r12 + CTX_PC], ecx
            ; add rsp, 8
            ; pop r15
            ; pop r14
            ; pop r13
            ; pop r12
            ; pop rbp
            ; pop rbx
            ; ret
        );

        let mut regions = Vec::new();
        let mut offsets: Vec<Vec<AssemblyOffset>> = Vec::new();
        for region in program.code() {
            let n = region.len();
            let entries: Box<[usize]> = vec![0usize; n].into_boxed_slice();
            let table = entries.as_ptr() as i64;
            offsets.push(compile_region(&mut ops, region, exit, table, &map));
            regions.push(Region { start: region.start(), entries });
        }

        let buffer = ops.finalize().map_err(|_| JitError::Assembler("finalize failed".into()))?;
        for (region, offs) in regions.iter_mut().zip(&offsets) {
            for (slot, off) in region.entries.iter_mut().zip(offs) {
                *slot = buffer.ptr(*off) as usize;
            }
        }
        // SAFETY: `enter_at` is the start of the trampoline assembled above,
        // which follows the sysv64 ABI with this exact signature; the buffer
        // is kept alive in `_buffer` as long as the function pointer.
        let enter: Enter = unsafe { std::mem::transmute::<*const u8, Enter>(buffer.ptr(enter_at)) };
        Ok(Self { _buffer: buffer, enter, regions, code: program.code().to_vec() })
    }

    pub(crate) fn run<E: Environment>(&self, machine: &mut Machine<'_>, env: &mut E) -> Outcome {
        let program = machine.jit_program();
        // Compared by content, not address: a program dropped and another
        // allocated in its place must not pass.
        assert!(program.code() == self.code.as_slice(), "JitProgram::run: the machine runs a different program");
        let stop = loop {
            let pc = machine.pc();
            let Some((region, slot)) = self.regions.iter().find_map(|r| r.slot_of(pc).map(|s| (r, s))) else {
                // Not code: the reference stepper raises the exact fault.
                match machine.jit_step(env) {
                    Ok(()) => continue,
                    Err(stop) => break stop,
                }
            };
            let entry = region.entries[slot] as *const u8;
            let gas = machine.gas_left();
            let retired = machine.jit_instructions();
            let (regs, memory) = machine.jit_regs_and_memory();
            let mut ctx = Ctx::new(regs.as_mut_ptr(), memory, gas, retired, pc);
            // SAFETY: `entry` is a slot entry of this buffer (alive in
            // `self`); the native code only touches `ctx`, the 64-slot
            // register array (indices < 32) and guest memory: through the
            // miss helpers, and through the cached page pointers at offsets
            // `< 4096 - size + 1` within their page (the inline tag check
            // guarantees the address is in the cached page). Registers and
            // memory are exclusively borrowed from `machine` for this call
            // and not otherwise used until it returns; the cache starts
            // empty (`Ctx::new`) and native code never allocates, so every
            // cached pointer is to a live page.
            let kind = unsafe { (self.enter)(&mut ctx, entry) };
            let Ctx { gas, retired, pc, .. } = ctx;
            machine.jit_set_gas_left(gas);
            machine.jit_set_pc(pc);
            match kind as i32 {
                EXIT_ECALL => {
                    // Charged and counted with its run; the count is taken
                    // back until the syscall completes (as `run_fast` does).
                    machine.jit_set_instructions(retired - 1);
                    match machine.jit_ecall(pc, env) {
                        Ok(None) => {
                            machine.jit_set_instructions(retired);
                            machine.jit_set_pc(pc.wrapping_add(4));
                        }
                        Ok(Some(code)) => {
                            machine.jit_set_instructions(retired);
                            break JitStop::halt(code);
                        }
                        Err(stop) => break stop,
                    }
                }
                EXIT_DISPATCH => machine.jit_set_instructions(retired),
                _ => {
                    machine.jit_set_instructions(retired);
                    if let Err(stop) = machine.jit_step(env) {
                        break stop;
                    }
                }
            }
        };
        machine.jit_finish(stop)
    }
}

/// Emits one region; returns the assembly offset of each slot's entry.
fn compile_region(
    ops: &mut dynasmrt::x64::Assembler,
    region: &CodeRegion,
    exit: DynamicLabel,
    table: i64,
    map: &RegMap,
) -> Vec<AssemblyOffset> {
    let insns = region.instructions();
    let n = insns.len();
    let classes: Vec<Class> = insns.iter().map(classify).collect();
    let (cost, len) = runs(insns, &classes);
    let entry: Vec<DynamicLabel> = (0..n).map(|_| ops.new_dynamic_label()).collect();
    let mut g = RegionGen {
        start: region.start(),
        insns,
        cost,
        len,
        entry,
        step: vec![None; n],
        refund: vec![None; n],
        stubs: Vec::new(),
        exit,
    };
    let region_bytes = (n as i32).wrapping_mul(4);
    let start = region.start() as i32;

    for i in 0..n {
        let pc = g.pc(i);
        let entry = g.entry[i];
        let starts_run = i == 0 || classes[i - 1] != Class::Normal;
        if classes[i] == Class::Slow {
            let pc = pc as i32;
            dynasm!(ops
                ; .arch x64
                ; =>entry
                ; mov ecx, pc
                ; mov eax, EXIT_STEP
                ; jmp =>exit
            );
            continue;
        }
        let (cost, len) = (g.cost[i] as i32, g.len[i] as i32);
        let step = g.step_label(ops, i);
        if starts_run {
            dynasm!(ops
                ; .arch x64
                ; =>entry
                ; cmp r13, cost
                ; jb =>step
                ; sub r13, cost
                ; add r14, len
            );
        } else {
            let body = ops.new_dynamic_label();
            dynasm!(ops ; .arch x64 ; =>body);
            g.stubs.push(Stub::Entry { entry, body, cost, len, step });
        }
        emit_insn(ops, &mut g, map, i, insns[i], table, start, region_bytes);
    }
    // Falling off the end of the region.
    if n > 0
        && classes[n - 1] != Class::Slow
        && !matches!(insns[n - 1], Instruction::Jal { .. } | Instruction::Jalr { .. } | Instruction::Ecall)
    {
        let end = g.pc(n) as i32;
        dynasm!(ops
            ; .arch x64
            ; mov ecx, end
            ; mov eax, EXIT_DISPATCH
            ; jmp =>exit
        );
    }
    let stubs = std::mem::take(&mut g.stubs);
    for stub in stubs {
        match stub {
            Stub::Entry { entry, body, cost, len, step } => dynasm!(ops
                ; .arch x64
                ; =>entry
                ; cmp r13, cost
                ; jb =>step
                ; sub r13, cost
                ; add r14, len
                ; jmp =>body
            ),
            Stub::Step { label, pc } => dynasm!(ops
                ; .arch x64
                ; =>label
                ; mov ecx, pc
                ; mov eax, EXIT_STEP
                ; jmp =>exit
            ),
            Stub::Refund { label, cost, len, step } => dynasm!(ops
                ; .arch x64
                ; =>label
                ; add r13, cost
                ; sub r14, len
                ; jmp =>step
            ),
            Stub::Dispatch { label, target } => dynasm!(ops
                ; .arch x64
                ; =>label
                ; mov ecx, target
                ; mov eax, EXIT_DISPATCH
                ; jmp =>exit
            ),
        }
    }
    g.entry.iter().map(|&l| ops.labels().resolve_dynamic(l).expect("every slot entry is defined")).collect()
}

// Host register numbers (x86-64 encoding) used by the emitter.
const EAX: u8 = 0;
const ECX: u8 = 1;
const EDX: u8 = 2;
const ESI: u8 = 6;
/// Host registers caching guest registers, hottest guest register first.
/// `rbp` and `r15` are callee-saved (kept across helper calls). Caller-saved
/// ones (`r8`–`r11`, `rdi`: free in generated code) may be appended:
/// [`call_helper`] spills and reloads them around every helper call. With
/// `[5, 15, 8, 9, 10, 11, 7]` the example guests ran 4–29% faster but the
/// 177 KiB bench guest 15–25% slower (sha256, keccak256, ed25519), so they
/// are off until hot registers are chosen per region (docs/jit.md).
const CACHE_HOSTS: [u8; 2] = [5, 15]; // rbp, r15

/// Whether host register `h` survives a sysv64 call.
fn callee_saved(h: u8) -> bool {
    matches!(h, 3 | 5 | 12..=15)
}

/// Where a guest register lives while native code runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Loc {
    /// In a host register (written back to the array at every exit).
    Host(u8),
    /// In the register array at this byte offset from `rbx`.
    Mem(i32),
}

/// Which guest registers are cached in which host registers (same for the
/// whole program, so the trampoline and the shared exit can load and store
/// them).
#[derive(Clone, Copy)]
struct RegMap {
    host: [Option<u8>; 32],
}

impl RegMap {
    /// Picks the guest registers used most, weighting uses inside short
    /// backward loops (static estimate of hotness).
    fn choose(program: &Program) -> Self {
        let mut weight = [0u64; 32];
        for region in program.code() {
            let insns = region.instructions();
            let mut heat = vec![1u64; insns.len()];
            for (i, insn) in insns.iter().enumerate() {
                let offset = match *insn {
                    Instruction::Branch { offset, .. } | Instruction::Jal { offset, .. } => offset,
                    _ => continue,
                };
                if (-1024..=0).contains(&offset) {
                    let back = (-offset / 4) as usize;
                    if back <= i {
                        for h in &mut heat[i - back..=i] {
                            *h = h.saturating_mul(8);
                        }
                    }
                }
            }
            for (insn, &h) in insns.iter().zip(&heat) {
                for r in registers_used(insn) {
                    weight[usize::from(r & 31)] = weight[usize::from(r & 31)].saturating_add(h);
                }
            }
        }
        weight[0] = 0;
        let mut order: Vec<usize> = (1..32).collect();
        order.sort_by_key(|&r| std::cmp::Reverse(weight[r]));
        let mut host = [None; 32];
        for (&r, &h) in order.iter().zip(&CACHE_HOSTS) {
            if weight[r] > 0 {
                host[r] = Some(h);
            }
        }
        Self { host }
    }

    fn loc(&self, r: u8) -> Loc {
        let r = r & 31;
        match self.host[usize::from(r)] {
            Some(h) if r != 0 => Loc::Host(h),
            _ => Loc::Mem(roff(r)),
        }
    }

    fn cached(&self) -> impl Iterator<Item = (i32, u8)> + '_ {
        self.host.iter().enumerate().filter_map(|(r, h)| h.map(|h| (4 * r as i32, h)))
    }

    /// Cached guest registers held in caller-saved host registers.
    fn clobbered(&self) -> impl Iterator<Item = (i32, u8)> + '_ {
        self.cached().filter(|&(_, h)| !callee_saved(h))
    }
}

fn registers_used(insn: &Instruction) -> Vec<u8> {
    match *insn {
        Instruction::Lui { rd, .. } | Instruction::Auipc { rd, .. } | Instruction::Jal { rd, .. } => vec![rd],
        Instruction::Jalr { rd, rs1, .. } | Instruction::Load { rd, rs1, .. } | Instruction::AluImm { rd, rs1, .. } => {
            vec![rd, rs1]
        }
        Instruction::Branch { rs1, rs2, .. } | Instruction::Store { rs1, rs2, .. } => vec![rs1, rs2],
        Instruction::Alu { rd, rs1, rs2, .. } => vec![rd, rs1, rs2],
        _ => Vec::new(),
    }
}

/// Calls the miss helper `f` with `rdi = ctx` (other arguments already in
/// `esi`/`edx`): the cached guest registers in caller-saved host registers
/// are spilled to the register array first and reloaded after (the helper
/// never touches the array); the result stays in `eax`.
fn call_helper(ops: &mut dynasmrt::x64::Assembler, map: &RegMap, f: i64) {
    for (d, h) in map.clobbered() {
        dynasm!(ops ; .arch x64 ; mov DWORD [rbx + d], Rd(h));
    }
    dynasm!(ops
        ; .arch x64
        ; mov rdi, r12
        ; mov rax, QWORD f
        ; call rax
    );
    for (d, h) in map.clobbered() {
        dynasm!(ops ; .arch x64 ; mov Rd(h), DWORD [rbx + d]);
    }
}

/// `dst = guest register at loc` (32-bit move, zero-extends).
fn get(ops: &mut dynasmrt::x64::Assembler, dst: u8, loc: Loc) {
    match loc {
        Loc::Host(h) => dynasm!(ops ; .arch x64 ; mov Rd(dst), Rd(h)),
        Loc::Mem(d) => dynasm!(ops ; .arch x64 ; mov Rd(dst), DWORD [rbx + d]),
    }
}

/// `guest register at loc = src`.
fn put(ops: &mut dynasmrt::x64::Assembler, loc: Loc, src: u8) {
    match loc {
        Loc::Host(h) => dynasm!(ops ; .arch x64 ; mov Rd(h), Rd(src)),
        Loc::Mem(d) => dynasm!(ops ; .arch x64 ; mov DWORD [rbx + d], Rd(src)),
    }
}

/// `guest register at loc = value`.
fn put_imm(ops: &mut dynasmrt::x64::Assembler, loc: Loc, value: i32) {
    match loc {
        Loc::Host(h) => dynasm!(ops ; .arch x64 ; mov Rd(h), value),
        Loc::Mem(d) => dynasm!(ops ; .arch x64 ; mov DWORD [rbx + d], value),
    }
}

/// `dst op= src` for a two-operand ALU op (`dst` a host register number,
/// `src` a guest register's location). Only the ops [`two_operand`] accepts.
fn alu_op(ops: &mut dynasmrt::x64::Assembler, op: AluOp, dst: u8, src: Loc) {
    match (op, src) {
        (AluOp::Add, Loc::Host(h)) => dynasm!(ops ; .arch x64 ; add Rd(dst), Rd(h)),
        (AluOp::Add, Loc::Mem(d)) => dynasm!(ops ; .arch x64 ; add Rd(dst), DWORD [rbx + d]),
        (AluOp::Sub, Loc::Host(h)) => dynasm!(ops ; .arch x64 ; sub Rd(dst), Rd(h)),
        (AluOp::Sub, Loc::Mem(d)) => dynasm!(ops ; .arch x64 ; sub Rd(dst), DWORD [rbx + d]),
        (AluOp::Xor, Loc::Host(h)) => dynasm!(ops ; .arch x64 ; xor Rd(dst), Rd(h)),
        (AluOp::Xor, Loc::Mem(d)) => dynasm!(ops ; .arch x64 ; xor Rd(dst), DWORD [rbx + d]),
        (AluOp::Or, Loc::Host(h)) => dynasm!(ops ; .arch x64 ; or Rd(dst), Rd(h)),
        (AluOp::Or, Loc::Mem(d)) => dynasm!(ops ; .arch x64 ; or Rd(dst), DWORD [rbx + d]),
        (AluOp::And, Loc::Host(h)) => dynasm!(ops ; .arch x64 ; and Rd(dst), Rd(h)),
        (AluOp::And, Loc::Mem(d)) => dynasm!(ops ; .arch x64 ; and Rd(dst), DWORD [rbx + d]),
        (AluOp::Mul, Loc::Host(h)) => dynasm!(ops ; .arch x64 ; imul Rd(dst), Rd(h)),
        (AluOp::Mul, Loc::Mem(d)) => dynasm!(ops ; .arch x64 ; imul Rd(dst), DWORD [rbx + d]),
        _ => unreachable!("not a two-operand op"),
    }
}

/// Ops computed as `dst op= src` by [`alu_op`]; `commutative` is whether
/// the operands may be swapped.
fn two_operand(op: AluOp) -> Option<bool> {
    match op {
        AluOp::Add | AluOp::Xor | AluOp::Or | AluOp::And | AluOp::Mul => Some(true),
        AluOp::Sub => Some(false),
        _ => None,
    }
}

/// `rd = rs1 op rs2` computed directly in `rd`'s host register (no round
/// trip through `eax`/`ecx`) when `rd` is cached; returns whether it
/// emitted anything. `rd != 0`.
fn emit_alu_direct(ops: &mut dynasmrt::x64::Assembler, map: &RegMap, op: AluOp, rd: u8, rs1: u8, rs2: u8) -> bool {
    let Loc::Host(hd) = map.loc(rd) else { return false };
    let (l1, l2) = (map.loc(rs1), map.loc(rs2));
    if let Some(commutative) = two_operand(op) {
        if l1 == Loc::Host(hd) {
            alu_op(ops, op, hd, l2);
        } else if l2 == Loc::Host(hd) {
            if !commutative {
                return false;
            }
            alu_op(ops, op, hd, l1);
        } else {
            get(ops, hd, l1);
            alu_op(ops, op, hd, l2);
        }
        return true;
    }
    if matches!(op, AluOp::Sll | AluOp::Srl | AluOp::Sra) {
        // Count in `cl` first (rs2 may be rd itself), then shift in place.
        get(ops, ECX, l2);
        if l1 != Loc::Host(hd) {
            get(ops, hd, l1);
        }
        match op {
            AluOp::Sll => dynasm!(ops ; .arch x64 ; shl Rd(hd), cl),
            AluOp::Srl => dynasm!(ops ; .arch x64 ; shr Rd(hd), cl),
            _ => dynasm!(ops ; .arch x64 ; sar Rd(hd), cl),
        }
        return true;
    }
    false
}

/// `rd = rs1 op imm` computed directly in `rd`'s host register when `rd`
/// is cached (all immediate ops but the comparisons); returns whether it
/// emitted anything. `rd != 0`.
fn emit_alu_imm_direct(ops: &mut dynasmrt::x64::Assembler, map: &RegMap, op: AluOp, rd: u8, rs1: u8, imm: i32) -> bool {
    let Loc::Host(hd) = map.loc(rd) else { return false };
    if !matches!(op, AluOp::Add | AluOp::Xor | AluOp::Or | AluOp::And | AluOp::Sll | AluOp::Srl | AluOp::Sra) {
        return false;
    }
    let l1 = map.loc(rs1);
    if l1 != Loc::Host(hd) {
        get(ops, hd, l1);
    }
    let sh = (imm & 31) as i8;
    match op {
        AluOp::Add => {
            if imm != 0 {
                dynasm!(ops ; .arch x64 ; add Rd(hd), imm)
            }
        }
        AluOp::Xor => dynasm!(ops ; .arch x64 ; xor Rd(hd), imm),
        AluOp::Or => dynasm!(ops ; .arch x64 ; or Rd(hd), imm),
        AluOp::And => dynasm!(ops ; .arch x64 ; and Rd(hd), imm),
        AluOp::Sll => dynasm!(ops ; .arch x64 ; shl Rd(hd), sh),
        AluOp::Srl => dynasm!(ops ; .arch x64 ; shr Rd(hd), sh),
        _ => dynasm!(ops ; .arch x64 ; sar Rd(hd), sh),
    }
    true
}

/// Emits the body of slot `i`.
#[allow(clippy::too_many_arguments)]
fn emit_insn(
    ops: &mut dynasmrt::x64::Assembler,
    g: &mut RegionGen<'_>,
    map: &RegMap,
    i: usize,
    insn: Instruction,
    table: i64,
    start: i32,
    region_bytes: i32,
) {
    let pc = g.pc(i);
    let exit = g.exit;
    match insn {
        Instruction::Lui { rd, imm } | Instruction::Auipc { rd, imm } => {
            let value = if matches!(insn, Instruction::Auipc { .. }) { pc.wrapping_add(imm) } else { imm } as i32;
            if rd != 0 {
                put_imm(ops, map.loc(rd), value);
            }
        }
        Instruction::Fence => {}
        Instruction::AluImm { op, rd, rs1, imm } => {
            if rd == 0 {
                return;
            }
            if emit_alu_imm_direct(ops, map, op, rd, rs1, imm) {
                return;
            }
            get(ops, EAX, map.loc(rs1));
            match op {
                AluOp::Add => dynasm!(ops ; .arch x64 ; add eax, imm),
                AluOp::Xor => dynasm!(ops ; .arch x64 ; xor eax, imm),
                AluOp::Or => dynasm!(ops ; .arch x64 ; or eax, imm),
                AluOp::And => dynasm!(ops ; .arch x64 ; and eax, imm),
                AluOp::Sll => {
                    let sh = (imm & 31) as i8;
                    dynasm!(ops ; .arch x64 ; shl eax, sh)
                }
                AluOp::Srl => {
                    let sh = (imm & 31) as i8;
                    dynasm!(ops ; .arch x64 ; shr eax, sh)
                }
                AluOp::Sra => {
                    let sh = (imm & 31) as i8;
                    dynasm!(ops ; .arch x64 ; sar eax, sh)
                }
                AluOp::Slt => dynasm!(ops
                    ; .arch x64
                    ; xor ecx, ecx
                    ; cmp eax, imm
                    ; setl cl
                    ; mov eax, ecx
                ),
                AluOp::Sltu => dynasm!(ops
                    ; .arch x64
                    ; xor ecx, ecx
                    ; cmp eax, imm
                    ; setb cl
                    ; mov eax, ecx
                ),
                // Classified `Slow`; never emitted.
                _ => unreachable!("non-immediate ALU op in AluImm"),
            }
            put(ops, map.loc(rd), EAX);
        }
        Instruction::Alu { op, rd, rs1, rs2 } => {
            if rd == 0 {
                // No effect: ALU ops never trap.
                return;
            }
            if emit_alu_direct(ops, map, op, rd, rs1, rs2) {
                return;
            }
            get(ops, EAX, map.loc(rs1));
            get(ops, ECX, map.loc(rs2));
            match op {
                AluOp::Add => dynasm!(ops ; .arch x64 ; add eax, ecx),
                AluOp::Sub => dynasm!(ops ; .arch x64 ; sub eax, ecx),
                AluOp::Xor => dynasm!(ops ; .arch x64 ; xor eax, ecx),
                AluOp::Or => dynasm!(ops ; .arch x64 ; or eax, ecx),
                AluOp::And => dynasm!(ops ; .arch x64 ; and eax, ecx),
                // x86 masks 32-bit shift counts to 5 bits, as RISC-V does.
                AluOp::Sll => dynasm!(ops ; .arch x64 ; shl eax, cl),
                AluOp::Srl => dynasm!(ops ; .arch x64 ; shr eax, cl),
                AluOp::Sra => dynasm!(ops ; .arch x64 ; sar eax, cl),
                AluOp::Slt => dynasm!(ops
                    ; .arch x64
                    ; xor edx, edx
                    ; cmp eax, ecx
                    ; setl dl
                    ; mov eax, edx
                ),
                AluOp::Sltu => dynasm!(ops
                    ; .arch x64
                    ; xor edx, edx
                    ; cmp eax, ecx
                    ; setb dl
                    ; mov eax, edx
                ),
                AluOp::Mul => dynasm!(ops ; .arch x64 ; imul eax, ecx),
                AluOp::Mulh => dynasm!(ops
                    ; .arch x64
                    ; movsxd rax, eax
                    ; movsxd rcx, ecx
                    ; imul rax, rcx
                    ; shr rax, 32
                ),
                // |a| <= 2^31 and b < 2^32 (zero-extended by the 32-bit
                // move), so the product fits in i64.
                AluOp::Mulhsu => dynasm!(ops
                    ; .arch x64
                    ; movsxd rax, eax
                    ; imul rax, rcx
                    ; shr rax, 32
                ),
                // The low 64 bits of a signed 64-bit multiply of two
                // zero-extended 32-bit values are the unsigned product.
                AluOp::Mulhu => dynasm!(ops
                    ; .arch x64
                    ; imul rax, rcx
                    ; shr rax, 32
                ),
                // 64-bit division of sign-extended operands: INT_MIN / -1
                // gives 2^31 (low half INT_MIN) and remainder 0, no fault.
                // Divisor 0: eax still holds the dividend (REM's result).
                AluOp::Div | AluOp::Rem => {
                    dynasm!(ops
                        ; .arch x64
                        ; movsxd rax, eax
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
            }
            put(ops, map.loc(rd), EAX);
        }
        Instruction::Load { op, rd, rs1, offset } => {
            let (size, helper): (i32, extern "sysv64" fn(*mut Ctx, u32) -> u32) = match op {
                LoadOp::Lb => (1, load_lb),
                LoadOp::Lbu => (1, load_lbu),
                LoadOp::Lh => (2, load_lh),
                LoadOp::Lhu => (2, load_lhu),
                LoadOp::Lw => (4, load_lw),
            };
            let slow = g.refund_label(ops, i);
            emit_address_checks(ops, map.loc(rs1), offset, size, slow);
            if rd != 0 {
                // Hit: the page of `esi` is the cached read page; read at
                // `read_base + rsi` = page pointer + `(esi & 0xfff)` (in
                // bounds: aligned, size <= 4; `rsi` is zero-extended).
                // Miss: the helper refills the cache and reads.
                let f = helper as usize as i64;
                dynasm!(ops
                    ; .arch x64
                    ; mov eax, esi
                    ; shr eax, PAGE_SHIFT
                    ; cmp eax, DWORD [r12 + CTX_READ_PAGE]
                    ; jne >miss
                    ; mov rdx, QWORD [r12 + CTX_READ_BASE]
                );
                match op {
                    LoadOp::Lb => dynasm!(ops ; .arch x64 ; movsx eax, BYTE [rdx + rsi]),
                    LoadOp::Lbu => dynasm!(ops ; .arch x64 ; movzx eax, BYTE [rdx + rsi]),
                    LoadOp::Lh => dynasm!(ops ; .arch x64 ; movsx eax, WORD [rdx + rsi]),
                    LoadOp::Lhu => dynasm!(ops ; .arch x64 ; movzx eax, WORD [rdx + rsi]),
                    LoadOp::Lw => dynasm!(ops ; .arch x64 ; mov eax, DWORD [rdx + rsi]),
                }
                dynasm!(ops
                    ; .arch x64
                    ; jmp >done
                    ; miss:
                );
                call_helper(ops, map, f);
                dynasm!(ops ; .arch x64 ; done:);
                put(ops, map.loc(rd), EAX);
            }
        }
        Instruction::Store { op, rs1, rs2, offset } => {
            let (size, helper): (i32, extern "sysv64" fn(*mut Ctx, u32, u32) -> bool) = match op {
                StoreOp::Sb => (1, store_sb),
                StoreOp::Sh => (2, store_sh),
                StoreOp::Sw => (4, store_sw),
            };
            let slow = g.refund_label(ops, i);
            emit_address_checks(ops, map.loc(rs1), offset, size, slow);
            get(ops, EDX, map.loc(rs2));
            // Hit: the page of `esi` is the cached write page (allocated, no
            // read-only bytes); write at `write_base + rsi` = page pointer
            // + `(esi & 0xfff)`.
            // Miss: the helper refills the cache and writes, or refuses
            // (unallocated or read-only page): refund and step.
            let f = helper as usize as i64;
            dynasm!(ops
                ; .arch x64
                ; mov eax, esi
                ; shr eax, PAGE_SHIFT
                ; cmp eax, DWORD [r12 + CTX_WRITE_PAGE]
                ; jne >miss
                ; mov rax, QWORD [r12 + CTX_WRITE_BASE]
            );
            match op {
                StoreOp::Sb => dynasm!(ops ; .arch x64 ; mov BYTE [rax + rsi], dl),
                StoreOp::Sh => dynasm!(ops ; .arch x64 ; mov WORD [rax + rsi], dx),
                StoreOp::Sw => dynasm!(ops ; .arch x64 ; mov DWORD [rax + rsi], edx),
            }
            dynasm!(ops
                ; .arch x64
                ; jmp >done
                ; miss:
            );
            call_helper(ops, map, f);
            dynasm!(ops
                ; .arch x64
                ; test al, al
                ; jz =>slow
                ; done:
            );
        }
        Instruction::Jal { rd, offset } => {
            let target = pc.wrapping_add(offset as u32);
            if target & 3 != 0 {
                let slow = g.refund_label(ops, i);
                dynasm!(ops ; .arch x64 ; jmp =>slow);
                return;
            }
            if rd != 0 {
                put_imm(ops, map.loc(rd), pc.wrapping_add(4) as i32);
            }
            let to = g.target_label(ops, target);
            dynasm!(ops ; .arch x64 ; jmp =>to);
        }
        Instruction::Jalr { rd, rs1, offset } => {
            let slow = g.refund_label(ops, i);
            get(ops, ECX, map.loc(rs1));
            dynasm!(ops
                ; .arch x64
                ; add ecx, offset
                ; and ecx, -2
                ; test ecx, 3
                ; jnz =>slow
            );
            if rd != 0 {
                put_imm(ops, map.loc(rd), pc.wrapping_add(4) as i32);
            }
            // Slot index * 4 in eax; the table holds 8-byte addresses.
            dynasm!(ops
                ; .arch x64
                ; mov eax, ecx
                ; sub eax, start
                ; cmp eax, region_bytes
                ; jae >out
                ; mov rdx, QWORD table
                ; jmp QWORD [rdx + rax * 2]
                ; out:
                ; mov eax, EXIT_DISPATCH
                ; jmp =>exit
            );
        }
        Instruction::Branch { op, rs1, rs2, offset } => {
            let target = pc.wrapping_add(offset as u32);
            let taken = if target & 3 != 0 { g.refund_label(ops, i) } else { g.target_label(ops, target) };
            // Compare in place when rs1 is cached; against x0 as an immediate.
            let lhs = match map.loc(rs1) {
                Loc::Host(h) => h,
                loc => {
                    get(ops, EAX, loc);
                    EAX
                }
            };
            match map.loc(rs2) {
                _ if rs2 & 31 == 0 => dynasm!(ops ; .arch x64 ; cmp Rd(lhs), 0),
                Loc::Host(h) => dynasm!(ops ; .arch x64 ; cmp Rd(lhs), Rd(h)),
                Loc::Mem(d) => dynasm!(ops ; .arch x64 ; cmp Rd(lhs), DWORD [rbx + d]),
            }
            match op {
                BranchOp::Eq => dynasm!(ops ; .arch x64 ; je =>taken),
                BranchOp::Ne => dynasm!(ops ; .arch x64 ; jne =>taken),
                BranchOp::Lt => dynasm!(ops ; .arch x64 ; jl =>taken),
                BranchOp::Ge => dynasm!(ops ; .arch x64 ; jge =>taken),
                BranchOp::Ltu => dynasm!(ops ; .arch x64 ; jb =>taken),
                BranchOp::Geu => dynasm!(ops ; .arch x64 ; jae =>taken),
            }
            // Not taken: fall through into the next slot's inline gas check.
        }
        Instruction::Ecall => {
            let pc = pc as i32;
            dynasm!(ops
                ; .arch x64
                ; mov ecx, pc
                ; mov eax, EXIT_ECALL
                ; jmp =>exit
            );
        }
        Instruction::Ebreak | Instruction::Illegal { .. } => unreachable!("slow slots have no body"),
    }
}

/// `esi = rs1 + offset`; jumps to `slow` for the guard region or a
/// misaligned address (the reference stepper raises the exact trap).
fn emit_address_checks(ops: &mut dynasmrt::x64::Assembler, base: Loc, offset: i32, size: i32, slow: DynamicLabel) {
    let guard = GUARD_END as i32;
    get(ops, ESI, base);
    dynasm!(ops
        ; .arch x64
        ; add esi, offset
        ; cmp esi, guard
        ; jb =>slow
    );
    if size > 1 {
        let mask = size - 1;
        dynasm!(ops ; .arch x64 ; test esi, mask ; jnz =>slow);
    }
}

//! The block native code runs on: the [`Ctx`] Rust hands over, copied into
//! the trampoline's stack [`Frame`] next to the page cache, and the Rust
//! helpers native code calls when an inline cache check misses.
//!
//! While native code runs, `rsp` points at its `Frame`: guest registers not
//! held in host registers, gas, count and exit pc (the `Ctx` part) and the
//! page cache are all `[rsp + offset]`, so no host register is spent on a
//! context pointer. Helpers receive the frame as `frame`.

use athena_vm::memory::{Memory, GUARD_END, PAGE_SIZE};

/// `addr >> PAGE_SHIFT` is the page number.
pub(super) const PAGE_SHIFT: i8 = 12;
/// Tag of an empty cache entry. Entries hold `page << 12` (a 64-bit value);
/// the inline checks test `addr ^ tag` (with `addr` zero-extended) against a
/// mask covering bits 12..64, which bit 32 of this tag always survives.
pub(super) const NO_TAG: u64 = 1 << 32;
/// Frame offset of the *value slot*: x0's slot in the register array,
/// which native code never reads as a register (x0 is an immediate 0). A
/// compact or missed store passes its value there to the store routine (and
/// a stack refill its span); `Compiled::run` never copies it back.
pub(super) const VALUE: i32 = 0;
/// Number of read/write cache entries; an access with base register `r`
/// uses entry `r % ENTRIES`.
pub(super) const ENTRIES: usize = 16;

/// Bits of the meter (`r13`) counting instructions; the gas budget is
/// above them (see [`Meter`]).
pub(super) const COUNT_BITS: u32 = 20;
const COUNT_MASK: u64 = (1 << COUNT_BITS) - 1;
/// Most gas one native call may spend, so that the count field never
/// borrows (every instruction costs at least 1 gas, so at most this many
/// instructions retire per call). When it runs out, native code exits to
/// step exactly as on a real out-of-gas, and the next call gets a new one.
pub(super) const MAX_BUDGET: u64 = COUNT_MASK;

// The meter relies on every instruction costing at least 1 gas.
const _: () = {
    use athena_vm::gas::instruction_cost;
    use athena_vm::isa::CostClass::{Alu, Control, Divide, Memory, Multiply, System};
    let classes = [Alu, Memory, Control, Multiply, Divide, System];
    let mut i = 0;
    while i < classes.len() {
        assert!(instruction_cost(classes[i]) >= 1);
        i += 1;
    }
};

/// The gas/count meter native code keeps in `r13`: `budget << COUNT_BITS |
/// (COUNT_MASK - retired)`. Charging a run of `len` instructions costing
/// `cost` gas is one `sub r13, cost << COUNT_BITS | len` (see
/// `emit::charge`): since at most `budget` instructions retire, the low
/// field never borrows, so the subtraction borrows exactly when the budget
/// left is below `cost`.
#[derive(Clone, Copy)]
pub(super) struct Meter(pub u64);

impl Meter {
    /// A meter with `budget` (at most [`MAX_BUDGET`]) and nothing retired.
    pub fn new(budget: u64) -> Self {
        Meter(budget.min(MAX_BUDGET) << COUNT_BITS | COUNT_MASK)
    }

    /// Budget left and instructions retired.
    pub fn read(self) -> (u64, u64) {
        (self.0 >> COUNT_BITS, COUNT_MASK - (self.0 & COUNT_MASK))
    }

    /// The meter immediate for a run (also what a refund adds back).
    pub fn run(cost: u32, len: u32) -> i64 {
        i64::from(cost) << COUNT_BITS | i64::from(len)
    }
}

/// What Rust hands to native code and gets back: the guest registers, the
/// meter and exit pc. The trampoline copies it into its frame on entry and
/// back to `origin` on exit.
#[repr(C)]
pub(super) struct Ctx {
    /// Guest registers `x0..x31` (those not held in host registers live
    /// here while native code runs).
    pub regs: [u32; 32],
    pub memory: *mut Memory,
    /// The caller's block, where the trampoline copies the frame back.
    pub origin: *mut Ctx,
    pub meter: Meter,
    pub pc: u32,
    _pad: u32,
    /// At an `EXIT_SITE` exit: the native return address of the trap
    /// site's `call` (it names the slot, see `Compiled::sites`).
    pub site: usize,
}

/// One page-cache entry: `rtag` = `page << 12` if the page may be read
/// through `ptr` (its first byte), `wtag` the same if it may also be written
/// (no read-only bytes), [`NO_TAG`] otherwise.
#[repr(C)]
#[derive(Clone, Copy)]
pub(super) struct Entry {
    pub rtag: u64,
    pub wtag: u64,
    pub ptr: usize,
}

/// Native code's stack frame: the [`Ctx`] copy, then the page cache (all
/// of which the trampoline fills with [`NO_TAG`], then sets the stack entry
/// to [`Frame::EMPTY_STACK`]: every entry empty, so nothing cached survives
/// a reference step, an `ECALL` or a dispatch, all of which may allocate
/// pages or write memory through Rust references).
///
/// - `entries`: one per base register (`r % ENTRIES`), for checked
///   accesses: a hit accesses `ptr + (addr ^ rtag)`;
/// - `recent`: the last two pages refilled into an entry (newest first); a
///   missing entry copies a matching one inline before calling a helper;
/// - the stack entry: the page the stack window's unchecked accesses go to
///   (only a page without read-only bytes): `stack_tag` (`page << 12`),
///   `stack_ptr` (its first byte) and `stack_base = stack_ptr - tag`;
///   native code keeps `rbx = sp + stack_base`, so `[rbx + offset]` is the
///   host address of `sp + offset` in that page;
/// - `pages`: every page refilled during this call, direct-mapped by page
///   number (`page % PAGES`): a miss that no recent page serves looks there
///   before calling a helper (the transfers workload walks more pages than
///   the entries and recent pages hold).
#[repr(C, align(16))]
pub(super) struct Frame {
    pub ctx: Ctx,
    pub stack_tag: u64,
    pub stack_base: usize,
    pub stack_ptr: usize,
    pub recent: [Entry; 2],
    pub entries: [Entry; ENTRIES],
    pub pages: [Entry; PAGES],
}

/// Slots of [`Frame::pages`] (a power of two).
pub(super) const PAGES: usize = 64;

impl Frame {
    /// `stack_ptr` of an empty stack entry: `sp + offset - EMPTY_STACK` is
    /// never a small unsigned number, so no segment check passes.
    pub const EMPTY_STACK: u64 = 1 << 63;
}

pub(super) const CTX_ORIGIN: i32 = 136;
pub(super) const CTX_METER: i32 = 144;
pub(super) const CTX_PC: i32 = 152;
pub(super) const CTX_SITE: i32 = 160;
const STACK_TAG: i32 = 168;
pub(super) const STACK_BASE: i32 = 176;
pub(super) const STACK_PTR: i32 = 184;
const RECENT: i32 = 192;
const ENTRY_TABLE: i32 = 240;
/// Frame offset of [`Frame::pages`].
pub(super) const PAGE_TABLE: i32 = ENTRY_TABLE + 24 * ENTRIES as i32;
/// Quadwords of the `Ctx` part (copied in and out with `rep movsq`).
pub(super) const CTX_QWORDS: i32 = (std::mem::size_of::<Ctx>() / 8) as i32;
/// Quadwords of the cache part (filled with [`NO_TAG`] with `rep stosq`).
pub(super) const CACHE_QWORDS: i32 = ((std::mem::size_of::<Frame>() - std::mem::size_of::<Ctx>()) / 8) as i32;
/// Bytes of the frame.
pub(super) const FRAME_BYTES: i32 = std::mem::size_of::<Frame>() as i32;

/// Frame offsets of an entry's read tag, write tag and pointer.
#[derive(Clone, Copy)]
pub(super) struct EntryAt {
    pub rtag: i32,
    pub wtag: i32,
    pub ptr: i32,
}

/// Where cache entry `e` is in the frame.
pub(super) fn entry_at(e: usize) -> EntryAt {
    let base = ENTRY_TABLE + 24 * (e % ENTRIES) as i32;
    EntryAt { rtag: base, wtag: base + 8, ptr: base + 16 }
}

/// Where recent entry `r` (0 or 1) is in the frame.
pub(super) fn recent_at(r: usize) -> EntryAt {
    let base = RECENT + 24 * (r % 2) as i32;
    EntryAt { rtag: base, wtag: base + 8, ptr: base + 16 }
}

const _: () = {
    use std::mem::{offset_of, size_of};
    assert!(offset_of!(Ctx, regs) == 0);
    assert!(offset_of!(Ctx, origin) == CTX_ORIGIN as usize);
    assert!(offset_of!(Ctx, meter) == CTX_METER as usize);
    assert!(offset_of!(Ctx, pc) == CTX_PC as usize);
    assert!(offset_of!(Ctx, site) == CTX_SITE as usize);
    assert!(size_of::<Ctx>() % 8 == 0);
    assert!(offset_of!(Frame, ctx) == 0);
    assert!(offset_of!(Frame, stack_tag) == STACK_TAG as usize);
    assert!(offset_of!(Frame, stack_base) == STACK_BASE as usize);
    assert!(offset_of!(Frame, stack_ptr) == STACK_PTR as usize);
    assert!(offset_of!(Frame, recent) == RECENT as usize);
    assert!(offset_of!(Frame, entries) == ENTRY_TABLE as usize);
    assert!(offset_of!(Frame, pages) == PAGE_TABLE as usize);
    assert!(PAGES.is_power_of_two());
    assert!(size_of::<Entry>() == 24);
    assert!(size_of::<Frame>() % 16 == 0);
    // A cached page never holds guard bytes: pages below `GUARD_END` are
    // never cached (the refills run after the guard check or refuse them).
    assert!(GUARD_END % PAGE_SIZE == 0);
};

impl Ctx {
    /// A block for one native call; `origin` is set by [`Ctx::pin`].
    pub fn new(regs: [u32; 32], memory: *mut Memory, meter: Meter, pc: u32) -> Self {
        Ctx { regs, memory, origin: std::ptr::null_mut(), meter, pc, _pad: 0, site: 0 }
    }

    /// Records where the block lives, for the trampoline's copy back.
    pub fn pin(&mut self) -> *mut Ctx {
        self.origin = self;
        self.origin
    }
}

impl Frame {
    /// The page holding guest page number `page`, if allocated: its pointer
    /// and whether it has no read-only bytes. Every cache entry already
    /// holding that page gets the fresh pointer, so every cached pointer to
    /// a page comes from its latest `&mut` reborrow.
    ///
    /// # Safety
    ///
    /// `self.ctx.memory` points to the live `Memory` exclusively borrowed by
    /// `Compiled::run` for the current native call.
    unsafe fn page(&mut self, page: u32) -> Option<(*mut u8, bool)> {
        let tag = u64::from(page) << PAGE_SHIFT;
        // SAFETY: guaranteed by the caller; no reference to the memory exists
        // while native code runs (only page pointers, which this reborrow
        // does not touch for other pages).
        let (ptr, read_only) = unsafe { (*self.ctx.memory).page_ptr_mut(tag as u32) }?;
        for e in 0..ENTRIES {
            if self.entries[e].rtag == tag {
                self.entries[e].ptr = ptr as usize;
            }
        }
        for r in 0..2 {
            if self.recent[r].rtag == tag {
                self.recent[r].ptr = ptr as usize;
            }
        }
        let slot = &mut self.pages[page as usize % PAGES];
        if slot.rtag == tag {
            slot.ptr = ptr as usize;
        }
        if self.stack_tag == tag {
            // Native code accesses `base + addr` = `ptr + (addr & 0xfff)` for
            // an address in the page (integer arithmetic only). Same page,
            // same pointer: native code's `rbx` stays valid.
            self.stack_base = (ptr as usize).wrapping_sub(tag as usize);
            self.stack_ptr = ptr as usize;
        }
        Some((ptr, !read_only))
    }

    /// Fills access entry `e` (and the recent list) with page `page` if it
    /// is allocated; returns its pointer and whether it is writable.
    ///
    /// # Safety
    ///
    /// As [`Frame::page`].
    unsafe fn refill(&mut self, page: u32, e: usize) -> Option<(*mut u8, bool)> {
        // SAFETY: forwarded.
        let (ptr, writable) = unsafe { self.page(page) }?;
        let tag = u64::from(page) << PAGE_SHIFT;
        let entry = Entry { rtag: tag, wtag: if writable { tag } else { NO_TAG }, ptr: ptr as usize };
        self.entries[e % ENTRIES] = entry;
        self.pages[page as usize % PAGES] = entry;
        if self.recent[0].rtag != tag {
            self.recent[1] = self.recent[0];
            self.recent[0] = entry;
        }
        Some((ptr, writable))
    }
}

// ---- helpers called from native code ---------------------------------------
//
// `frame` is native code's frame (see `Frame`); its `ctx.memory` is the
// machine's memory, exclusively borrowed by `Compiled::run` for the whole
// native call. Native code has already checked the guard region and
// alignment before calling the access helpers.

/// Access code passed to [`load_miss`] and [`store_miss`]: the size (1, 2
/// or 4) in bits 0..3, bit 3 set for a sign-extending load, the cache entry
/// from bit [`ENTRY_SHIFT`] on.
pub(super) const SIGNED: i32 = 8;
pub(super) const ENTRY_SHIFT: i32 = 4;

/// Loads `code & 7` bytes at the aligned `addr` (zero if the page is
/// unallocated, as the interpreter reads it), sign- or zero-extended, after
/// refilling the code's cache entry.
pub(super) extern "sysv64" fn load_miss(frame: *mut Frame, addr: u32, code: u32) -> u32 {
    let entry = (code >> ENTRY_SHIFT) as usize;
    // SAFETY: called from native code with its live frame (see above).
    let Some((page, _)) = (unsafe { (*frame).refill(addr >> PAGE_SHIFT, entry) }) else { return 0 };
    let signed = code & SIGNED as u32 != 0;
    // SAFETY: `page` points to the 4096 bytes of the page of `addr` (pages are
    // boxed and never freed while the memory lives); `addr` is aligned to
    // the access size (1, 2 or 4), so the access is inside the page.
    unsafe {
        let src = page.add((addr & PAGE_SIZE.wrapping_sub(1)) as usize);
        match (code & 7, signed) {
            (1, false) => u32::from(src.read()),
            (1, true) => src.read() as i8 as i32 as u32,
            (2, false) => u32::from(u16::from_le(src.cast::<u16>().read_unaligned())),
            (2, true) => u16::from_le(src.cast::<u16>().read_unaligned()) as i16 as i32 as u32,
            _ => u32::from_le(src.cast::<u32>().read_unaligned()),
        }
    }
}

/// Stores the low `code & 7` bytes of `value` at the aligned `addr` if its
/// page is allocated and has no read-only bytes (refilling the code's
/// entry) and returns 1; otherwise returns 0 without effect (native code
/// then refunds and steps: allocation, page gas, memory limit and read-only
/// checks are the reference stepper's).
pub(super) extern "sysv64" fn store_miss(frame: *mut Frame, addr: u32, value: u32, code: u32) -> u32 {
    let entry = (code >> ENTRY_SHIFT) as usize;
    // SAFETY: called from native code with its live frame (see above).
    let Some((page, true)) = (unsafe { (*frame).refill(addr >> PAGE_SHIFT, entry) }) else { return 0 };
    // SAFETY: as in `load_miss`; the page pointer comes from a `&mut`
    // reborrow, and the page has no read-only bytes.
    unsafe {
        let dst = page.add((addr & PAGE_SIZE.wrapping_sub(1)) as usize);
        match code & 7 {
            1 => dst.write(value as u8),
            2 => dst.cast::<u16>().write_unaligned((value as u16).to_le()),
            _ => dst.cast::<u32>().write_unaligned(value.to_le()),
        }
    }
    1
}

/// Points the stack entry at the page of `lo` if all of `[lo, lo + span]`
/// lies in it and native code may access it directly (not the guard page,
/// allocated, no read-only bytes); returns 1 if so, 0 otherwise (the
/// segment then runs its checked copy). `lo` is `sp + offset` computed in
/// 64 bits, so it may lie outside the address space.
pub(super) extern "sysv64" fn stack_refill(frame: *mut Frame, lo: u64, span: u64) -> u32 {
    let in_one_page = (lo & u64::from(PAGE_SIZE - 1)) + span < u64::from(PAGE_SIZE);
    let Ok(addr) = u32::try_from(lo) else { return 0 };
    if addr < GUARD_END || !in_one_page {
        return 0;
    }
    let page = addr >> PAGE_SHIFT;
    // SAFETY: called from native code with its live frame (see above).
    let frame = unsafe { &mut *frame };
    // SAFETY: as above.
    match unsafe { frame.page(page) } {
        Some((ptr, true)) => {
            let tag = u64::from(page) << PAGE_SHIFT;
            frame.stack_tag = tag;
            frame.stack_base = (ptr as usize).wrapping_sub(tag as usize);
            frame.stack_ptr = ptr as usize;
            1
        }
        _ => 0,
    }
}

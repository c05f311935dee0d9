//! The fast engine's translation cache: a direct-mapped table from guest
//! page numbers to page slots in [`Memory`], one for loads and one for
//! stores, so the common access is one table probe instead of a walk of the
//! two-level page table.
//!
//! Entries never go stale: a page keeps its slot for the life of the memory
//! and its read-only flag never changes after loading, and only allocated
//! pages are cached (a load from a page nobody wrote reads zeros through the
//! miss path without caching anything, so the store that later allocates it
//! needs no invalidation). The store table only holds pages with no
//! read-only bytes. The guard page is never cached, so a hit needs no guard
//! check; alignment is folded into the tag compare.

use crate::memory::{Memory, GUARD_END, PAGE_SIZE};

const TLB_BITS: u32 = 8;
const TLB_LEN: usize = 1 << TLB_BITS;
const PAGE_SHIFT: u32 = PAGE_SIZE.trailing_zeros();
/// A tag no masked address equals: its low 12 bits are all set, and a
/// masked address keeps at most the two alignment bits there.
const EMPTY: u32 = PAGE_SIZE - 1;

// A hit skips the guard check, so the guard region must be whole pages.
const _: () = assert!(GUARD_END % PAGE_SIZE == 0);

#[derive(Clone, Copy)]
struct Entry {
    /// Page base address, or [`EMPTY`].
    tag: u32,
    slot: u32,
}

/// See the module documentation.
pub(super) struct Tlb {
    load: [Entry; TLB_LEN],
    store: [Entry; TLB_LEN],
}

#[inline(always)]
fn index(addr: u32) -> usize {
    (addr >> PAGE_SHIFT) as usize & (TLB_LEN - 1)
}

/// Keeps the page bits and the bits that must be zero for an aligned
/// `N`-byte access: equal to a tag exactly when the access is aligned and
/// inside that tag's page.
#[inline(always)]
const fn tag_mask<const N: usize>() -> u32 {
    !(PAGE_SIZE - N as u32)
}

/// Offset of an `N`-byte access in its page, aligned down (so a range of
/// `N` bytes from it always fits in the page).
#[inline(always)]
const fn offset<const N: usize>(addr: u32) -> usize {
    (addr & (PAGE_SIZE - N as u32)) as usize
}

impl Tlb {
    /// An empty cache.
    pub(super) fn new() -> Self {
        let empty = Entry { tag: EMPTY, slot: 0 };
        Self { load: [empty; TLB_LEN], store: [empty; TLB_LEN] }
    }

    /// The `N` bytes at `addr`, or `None` when the load would trap
    /// (misaligned or in the guard region): the reference path raises it.
    #[inline(always)]
    pub(super) fn load<const N: usize>(&mut self, memory: &Memory, addr: u32) -> Option<[u8; N]> {
        let entry = self.load[index(addr)];
        if addr & tag_mask::<N>() == entry.tag {
            if let Some(page) = memory.slot_page(entry.slot) {
                let off = offset::<N>(addr);
                return page.get(off..off + N).and_then(|b| b.try_into().ok());
            }
        }
        self.load_miss(memory, addr)
    }

    #[cold]
    #[inline(never)]
    fn load_miss<const N: usize>(&mut self, memory: &Memory, addr: u32) -> Option<[u8; N]> {
        if addr % N as u32 != 0 || addr < GUARD_END {
            return None;
        }
        let Some((slot, _)) = memory.page_slot(addr) else {
            // Never written: reads as zeros, and stays uncached.
            return Some([0; N]);
        };
        self.load[index(addr)] = Entry { tag: addr & !(PAGE_SIZE - 1), slot };
        let off = offset::<N>(addr);
        memory.slot_page(slot)?.get(off..off + N)?.try_into().ok()
    }

    /// Stores `bytes` at `addr` if that needs nothing but the write (an
    /// aligned store outside the guard region to an allocated page with no
    /// read-only bytes); otherwise returns `false` with no effect, and the
    /// reference path does the rest (traps, page allocation and its gas).
    #[inline(always)]
    pub(super) fn store<const N: usize>(&mut self, memory: &mut Memory, addr: u32, bytes: [u8; N]) -> bool {
        let entry = self.store[index(addr)];
        if addr & tag_mask::<N>() == entry.tag {
            if let Some(page) = memory.slot_page_mut(entry.slot) {
                let off = offset::<N>(addr);
                if let Some(dst) = page.get_mut(off..off + N) {
                    dst.copy_from_slice(&bytes);
                    return true;
                }
            }
        }
        self.store_miss(memory, addr, bytes)
    }

    #[cold]
    #[inline(never)]
    fn store_miss<const N: usize>(&mut self, memory: &mut Memory, addr: u32, bytes: [u8; N]) -> bool {
        if addr % N as u32 != 0 || addr < GUARD_END {
            return false;
        }
        let Some((slot, false)) = memory.page_slot(addr) else {
            return false;
        };
        self.store[index(addr)] = Entry { tag: addr & !(PAGE_SIZE - 1), slot };
        let off = offset::<N>(addr);
        match memory.slot_page_mut(slot).and_then(|page| page.get_mut(off..off + N)) {
            Some(dst) => {
                dst.copy_from_slice(&bytes);
                true
            }
            None => false,
        }
    }
}

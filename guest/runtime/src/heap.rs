//! The global allocator: a bump allocator over the memory after the image.
//!
//! The heap starts at the linker symbol `_end` (the end of `.bss`, which
//! lld defines when it is referenced) and may grow up to
//! [`STACK_BOTTOM`](crate::layout::STACK_BOTTOM). The VM maps memory lazily
//! and counts only touched pages, so reserving that whole range costs
//! nothing until it is used.
//!
//! Why bump allocation: guests are short-lived and pay gas per
//! instruction, so the cheapest allocator wins. Memory is given back only
//! when the most recent allocation is freed or resized (which covers a
//! growing `Vec`); everything else is reclaimed when the run ends. On
//! exhaustion `alloc` returns null, which the `alloc` crate turns into a
//! panic, which halts with [`PANIC_EXIT_CODE`](crate::PANIC_EXIT_CODE).
//!
//! `alloc_zeroed` skips zeroing memory above the high-water mark: nothing
//! has ever written there, and the VM reads never-written memory as zero.
//! That saves `vec![0; n]` the gas of writing `n` bytes (and the VM the
//! pages they would touch).

use crate::layout::STACK_BOTTOM;
use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr;

extern "C" {
    /// End of the loaded image, defined by the linker.
    static _end: u8;
}

/// A single-threaded bump allocator; see the [module docs](self).
pub struct BumpAllocator {
    /// Address of the first free byte; 0 until the first allocation.
    next: UnsafeCell<usize>,
    /// Highest `next` ever reached: memory at and above it was never
    /// handed out, so it still holds the zeros the VM starts with.
    high_water: UnsafeCell<usize>,
}

// SAFETY: guests are single-threaded and the VM has no interrupts, so the
// cell is never accessed concurrently. (The targets have no atomic
// read-modify-write instructions, so a lock-free design is not available.)
unsafe impl Sync for BumpAllocator {}

impl BumpAllocator {
    /// An allocator whose heap starts at `_end` on first use.
    pub const fn new() -> Self {
        BumpAllocator { next: UnsafeCell::new(0), high_water: UnsafeCell::new(0) }
    }

    /// Bytes handed out so far, including alignment padding and memory
    /// that was freed but not reclaimed. Useful for memory-use tests.
    pub fn used(&self) -> usize {
        // SAFETY: single-threaded; see the `Sync` impl.
        let next = unsafe { *self.next.get() };
        if next == 0 {
            0
        } else {
            next - heap_start()
        }
    }
}

impl Default for BumpAllocator {
    fn default() -> Self {
        Self::new()
    }
}

/// First heap address: `_end`, rounded up to 16 bytes.
fn heap_start() -> usize {
    let end = (&raw const _end) as usize;
    (end + 15) & !15
}

/// `addr` rounded up to `align` (a power of two), or `None` on overflow.
fn align_up(addr: usize, align: usize) -> Option<usize> {
    Some(addr.checked_add(align - 1)? & !(align - 1))
}

// `alloc` and `dealloc` are kept out of line: inlined, every `Vec`
// allocation and drop site carries its own copy (the reclaim check on each
// drop alone), which costs a small contract ~0.4 KB; a call costs a few
// instructions.
unsafe impl GlobalAlloc for BumpAllocator {
    #[inline(never)]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: single-threaded; no other reference to the cell is live.
        let next = unsafe { &mut *self.next.get() };
        if *next == 0 {
            *next = heap_start();
        }
        let Some(start) = align_up(*next, layout.align()) else {
            return ptr::null_mut();
        };
        match start.checked_add(layout.size()) {
            Some(end) if end <= STACK_BOTTOM => {
                *next = end;
                // SAFETY: single-threaded; no other reference to the cell.
                let high_water = unsafe { &mut *self.high_water.get() };
                *high_water = (*high_water).max(end);
                start as *mut u8
            }
            _ => ptr::null_mut(),
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: single-threaded; read before `alloc` moves the mark.
        let fresh_from = unsafe { *self.high_water.get() }.max(heap_start());
        // SAFETY: forwarded from our caller.
        let ptr = unsafe { self.alloc(layout) };
        if !ptr.is_null() {
            // Only the part below the old high-water mark can be dirty.
            let dirty = fresh_from.saturating_sub(ptr as usize).min(layout.size());
            // SAFETY: `ptr` is valid for `layout.size() >= dirty` bytes.
            unsafe { ptr::write_bytes(ptr, 0, dirty) };
        }
        ptr
    }

    #[inline(never)]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: single-threaded; no other reference to the cell is live.
        let next = unsafe { &mut *self.next.get() };
        // Reclaim only the most recent allocation; the rest is leaked.
        if ptr as usize + layout.size() == *next {
            *next = ptr as usize;
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        {
            // SAFETY: single-threaded; the borrow ends before `alloc` below.
            let next = unsafe { &mut *self.next.get() };
            if ptr as usize + layout.size() == *next {
                // The last allocation: resize it in place.
                return match (ptr as usize).checked_add(new_size) {
                    Some(end) if end <= STACK_BOTTOM => {
                        *next = end;
                        // SAFETY: single-threaded; no other reference to the cell.
                        let high_water = unsafe { &mut *self.high_water.get() };
                        *high_water = (*high_water).max(end);
                        ptr
                    }
                    _ => ptr::null_mut(),
                };
            }
        }
        // SAFETY: the caller guarantees `new_size` with `layout.align()` is a
        // valid layout, as `GlobalAlloc::realloc` requires.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: forwarded from our caller.
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks are valid for the smaller size and the new
            // block was just carved past the end of the old one.
            unsafe { ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size)) };
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: BumpAllocator = BumpAllocator::new();

/// The runtime's global allocator, for inspecting [`BumpAllocator::used`].
pub fn allocator() -> &'static BumpAllocator {
    &ALLOCATOR
}

//! A bump allocator over a fixed static arena, for guests that have no
//! allocator of their own. It never frees; each benchmark run is a fresh
//! instance, so that is fine. Single-threaded guests only.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;

/// A never-freeing allocator over an arena of `N` bytes.
pub struct BumpAlloc<const N: usize> {
    arena: UnsafeCell<[u8; N]>,
    next: UnsafeCell<usize>,
}

// SAFETY: guests are single-threaded; there is never concurrent access.
unsafe impl<const N: usize> Sync for BumpAlloc<N> {}

impl<const N: usize> BumpAlloc<N> {
    /// An empty arena (lives in `.bss`).
    pub const fn new() -> Self {
        Self { arena: UnsafeCell::new([0; N]), next: UnsafeCell::new(0) }
    }
}

impl<const N: usize> Default for BumpAlloc<N> {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: returns disjoint, suitably aligned blocks inside the arena or null.
unsafe impl<const N: usize> GlobalAlloc for BumpAlloc<N> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let base = self.arena.get() as *mut u8;
        let next = &mut *self.next.get();
        let addr = base as usize + *next;
        let start = (addr + layout.align() - 1) & !(layout.align() - 1);
        let offset = start - base as usize;
        match offset.checked_add(layout.size()) {
            Some(end) if end <= N => {
                *next = end;
                base.add(offset)
            }
            _ => core::ptr::null_mut(),
        }
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
}

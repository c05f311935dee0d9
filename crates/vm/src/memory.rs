//! Sparse, page-granular guest memory with a hard cap.
//!
//! The 32-bit address space is mapped lazily in 4 KiB pages through a
//! two-level table of page slots: the pages themselves live in one vector
//! and keep their slot for the life of the memory, so the fast engine can
//! cache page-number-to-slot translations that never go stale. Reading a
//! page nobody wrote returns zeros without allocating; the first store to a
//! page allocates it, and the number of
//! allocated pages can never exceed the configured limit, so a guest can
//! never make the host allocate more than `limit` bytes of page data.
//! Addresses below [`GUARD_END`] fault on every access, and ranges marked
//! read-only (every executable or non-writable ELF segment) fault on store.

/// Size of one page in bytes.
pub const PAGE_SIZE: u32 = 4096;
const PAGE_SHIFT: u32 = 12;
const TABLE_BITS: u32 = 10;
const TABLE_LEN: usize = 1 << TABLE_BITS;

/// Accesses to `[0, GUARD_END)` always fault, so null-pointer bugs trap.
pub const GUARD_END: u32 = 0x1000;
/// Initial stack pointer: the stack grows down from here.
pub const STACK_TOP: u32 = 0x8000_0000;
/// Size of the region below [`STACK_TOP`] that no ELF segment may occupy.
pub const STACK_SIZE: u32 = 0x0010_0000;
/// Lowest address of the reserved stack region.
pub const STACK_BOTTOM: u32 = STACK_TOP - STACK_SIZE;
/// Default cap on allocated guest memory (loaded segments plus touched pages).
pub const DEFAULT_MEMORY_LIMIT: u32 = 64 * 1024 * 1024;

/// The bytes of one page.
pub(crate) type Page = [u8; PAGE_SIZE as usize];

/// One allocated page and whether any of its bytes is read-only, so that the
/// common store needs no range scan. The bytes come first and the page is
/// cache-line aligned, so that an aligned guest access never straddles two
/// host cache lines.
#[repr(C, align(64))]
struct PageData {
    bytes: Page,
    has_read_only: bool,
}

/// Second-level table: for each page of a 4 MiB span, its slot in
/// `Memory::pages` plus one (0: not allocated).
type Table = [u32; TABLE_LEN];

/// Why a memory access was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessError {
    /// The access touches the guard region at address 0.
    Guard,
    /// A store to a read-only range.
    ReadOnly,
    /// The range wraps past the end of the 32-bit address space.
    Wrap,
    /// A new page would exceed the memory limit.
    Limit,
}

/// Guest memory. See the module documentation for the model.
pub struct Memory {
    directory: Vec<Option<Box<Table>>>,
    /// Allocated pages in allocation order (boxed: never moved or freed
    /// while the memory lives, see [`Memory::page_ptr_mut`]).
    pages: Vec<Box<PageData>>,
    /// Sorted, non-overlapping half-open byte ranges where stores fault.
    read_only: Vec<(u32, u64)>,
    page_limit: u32,
}

impl std::fmt::Debug for Memory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memory").field("pages", &self.pages.len()).field("page_limit", &self.page_limit).finish()
    }
}

#[inline]
fn split(addr: u32) -> (usize, usize, usize) {
    (
        (addr >> (PAGE_SHIFT + TABLE_BITS)) as usize,
        ((addr >> PAGE_SHIFT) as usize) & (TABLE_LEN - 1),
        (addr & (PAGE_SIZE - 1)) as usize,
    )
}

impl Memory {
    /// Empty memory that may allocate at most `limit_bytes` (rounded down to pages).
    pub fn new(limit_bytes: u32) -> Self {
        let mut directory = Vec::with_capacity(TABLE_LEN);
        directory.resize_with(TABLE_LEN, || None);
        Self { directory, pages: Vec::new(), read_only: Vec::new(), page_limit: limit_bytes / PAGE_SIZE }
    }

    /// Pages currently allocated.
    pub fn allocated_pages(&self) -> u32 {
        self.pages.len() as u32
    }

    /// Marks `[start, start + len)` read-only for guest stores. Ranges must
    /// not overlap (the ELF loader guarantees it). The pages involved are
    /// allocated (they count against the limit) and flagged, so stores to
    /// every other page skip the range check.
    pub fn protect(&mut self, start: u32, len: u32) -> Result<(), AccessError> {
        if len == 0 {
            return Ok(());
        }
        let end = u64::from(start) + u64::from(len);
        if end > 1 << 32 {
            return Err(AccessError::Wrap);
        }
        if !self.can_allocate(self.missing_pages(start, len)) {
            return Err(AccessError::Limit);
        }
        let first = start >> PAGE_SHIFT;
        let last = ((end - 1) >> PAGE_SHIFT) as u32;
        for page in first..=last {
            self.page_data_mut(page << PAGE_SHIFT)?.has_read_only = true;
        }
        let at = self.read_only.partition_point(|&(s, _)| s < start);
        self.read_only.insert(at, (start, end));
        Ok(())
    }

    #[inline]
    fn slot_index(&self, addr: u32) -> Option<usize> {
        let (dir, index, _) = split(addr);
        let slot = self.directory.get(dir)?.as_ref()?.get(index)?.checked_sub(1)?;
        Some(slot as usize)
    }

    #[inline]
    fn page_data(&self, addr: u32) -> Option<&PageData> {
        self.pages.get(self.slot_index(addr)?).map(|p| &**p)
    }

    /// The slot of the allocated page holding `addr`, and whether that page
    /// has read-only bytes. A page keeps its slot for the life of the memory.
    #[inline]
    pub(crate) fn page_slot(&self, addr: u32) -> Option<(u32, bool)> {
        let slot = self.slot_index(addr)?;
        Some((slot as u32, self.pages.get(slot)?.has_read_only))
    }

    /// The bytes of the page in `slot` (see [`Memory::page_slot`]).
    #[inline(always)]
    pub(crate) fn slot_page(&self, slot: u32) -> Option<&Page> {
        self.pages.get(slot as usize).map(|p| &p.bytes)
    }

    /// The bytes of the page in `slot`, for writing. Protection is the
    /// caller's to check (see [`Memory::page_slot`]).
    #[inline(always)]
    pub(crate) fn slot_page_mut(&mut self, slot: u32) -> Option<&mut Page> {
        self.pages.get_mut(slot as usize).map(|p| &mut p.bytes)
    }

    #[inline]
    fn page(&self, addr: u32) -> Option<&Page> {
        self.page_data(addr).map(|p| &p.bytes)
    }

    /// Whether the page holding `addr` has been allocated.
    #[inline]
    pub fn is_allocated(&self, addr: u32) -> bool {
        self.page(addr).is_some()
    }

    /// Pages in `[addr, addr + len)` that are not allocated yet.
    pub fn missing_pages(&self, addr: u32, len: u32) -> u32 {
        if len == 0 {
            return 0;
        }
        let first = addr >> PAGE_SHIFT;
        let last = ((u64::from(addr) + u64::from(len) - 1) >> PAGE_SHIFT) as u32;
        (first..=last).filter(|p| !self.is_allocated(p << PAGE_SHIFT)).count() as u32
    }

    /// Whether allocating `extra` more pages stays within the limit.
    pub fn can_allocate(&self, extra: u32) -> bool {
        self.allocated_pages().checked_add(extra).is_some_and(|total| total <= self.page_limit)
    }

    /// The page holding `addr`, allocated (zeroed) if absent and the limit allows.
    #[inline]
    fn page_mut(&mut self, addr: u32) -> Result<&mut Page, AccessError> {
        self.page_data_mut(addr).map(|p| &mut p.bytes)
    }

    fn page_data_mut(&mut self, addr: u32) -> Result<&mut PageData, AccessError> {
        let (dir, index, _) = split(addr);
        let entry = self
            .directory
            .get_mut(dir)
            .ok_or(AccessError::Wrap)?
            .get_or_insert_with(|| Box::new([0; TABLE_LEN]))
            .get_mut(index)
            .ok_or(AccessError::Wrap)?;
        let slot = match entry.checked_sub(1) {
            Some(slot) => slot as usize,
            None => {
                let slot = self.pages.len();
                if slot >= self.page_limit as usize {
                    return Err(AccessError::Limit);
                }
                *entry = u32::try_from(slot + 1).map_err(|_| AccessError::Limit)?;
                self.pages.push(Box::new(PageData { bytes: [0; PAGE_SIZE as usize], has_read_only: false }));
                slot
            }
        };
        self.pages.get_mut(slot).map(|p| &mut **p).ok_or(AccessError::Wrap)
    }

    /// Checks that a guest load of `[addr, addr + len)` is allowed.
    #[inline]
    pub fn check_read(&self, addr: u32, len: u32) -> Result<(), AccessError> {
        let end = u64::from(addr) + u64::from(len);
        if end > 1 << 32 {
            return Err(AccessError::Wrap);
        }
        if addr < GUARD_END && len > 0 {
            return Err(AccessError::Guard);
        }
        Ok(())
    }

    /// Checks that a guest store to `[addr, addr + len)` is allowed.
    #[inline]
    pub fn check_write(&self, addr: u32, len: u32) -> Result<(), AccessError> {
        self.check_read(addr, len)?;
        if len == 0 {
            return Ok(());
        }
        let end = u64::from(addr) + u64::from(len);
        let first = addr >> PAGE_SHIFT;
        let last = ((end - 1) >> PAGE_SHIFT) as u32;
        let flagged = (first..=last).any(|p| self.page_data(p << PAGE_SHIFT).is_some_and(|d| d.has_read_only));
        if !flagged {
            return Ok(());
        }
        let start = u64::from(addr);
        if self.read_only.iter().any(|&(s, e)| start < e && u64::from(s) < end) {
            return Err(AccessError::ReadOnly);
        }
        Ok(())
    }

    /// Reads one byte (no checks: callers validate with [`Memory::check_read`]).
    #[inline]
    pub fn read_u8(&self, addr: u32) -> u8 {
        let (_, _, off) = split(addr);
        self.page(addr).and_then(|p| p.get(off)).copied().unwrap_or(0)
    }

    /// Reads an aligned little-endian halfword (unchecked as [`Memory::read_u8`]).
    #[inline]
    pub fn read_u16(&self, addr: u32) -> u16 {
        let (_, _, off) = split(addr);
        match self.page(addr).and_then(|p| p.get(off..off + 2)) {
            Some(&[a, b]) => u16::from_le_bytes([a, b]),
            _ => 0,
        }
    }

    /// Reads an aligned little-endian word (unchecked as [`Memory::read_u8`]).
    #[inline]
    pub fn read_u32(&self, addr: u32) -> u32 {
        let (_, _, off) = split(addr);
        match self.page(addr).and_then(|p| p.get(off..off + 4)) {
            Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]),
            _ => 0,
        }
    }

    /// Writes `bytes` at `addr`, allocating pages as needed. Protection is
    /// not checked here (the loader uses this to place read-only segments);
    /// guest stores go through [`Memory::check_write`] first.
    pub fn write_bytes(&mut self, addr: u32, bytes: &[u8]) -> Result<(), AccessError> {
        let len = u32::try_from(bytes.len()).map_err(|_| AccessError::Wrap)?;
        if u64::from(addr) + u64::from(len) > 1 << 32 {
            return Err(AccessError::Wrap);
        }
        if !self.can_allocate(self.missing_pages(addr, len)) {
            return Err(AccessError::Limit);
        }
        let mut cursor = addr;
        let mut rest = bytes;
        while !rest.is_empty() {
            let off = (cursor & (PAGE_SIZE - 1)) as usize;
            let n = rest.len().min(PAGE_SIZE as usize - off);
            let (head, tail) = rest.split_at(n);
            self.page_mut(cursor)?[off..off + n].copy_from_slice(head);
            rest = tail;
            cursor = cursor.wrapping_add(n as u32);
        }
        Ok(())
    }

    /// Copies `[addr, addr + out.len())` into `out` (unallocated bytes read
    /// as zero). Callers validate the range with [`Memory::check_read`].
    pub fn read_bytes(&self, addr: u32, out: &mut [u8]) {
        self.for_each_chunk(addr, out.len() as u32, |pos, chunk| {
            out[pos..pos + chunk.len()].copy_from_slice(chunk);
        });
    }

    /// Calls `f(position, chunk)` for consecutive chunks of
    /// `[addr, addr + len)`, at most one page each, without allocating.
    pub fn for_each_chunk(&self, addr: u32, len: u32, mut f: impl FnMut(usize, &[u8])) {
        static ZEROS: Page = [0; PAGE_SIZE as usize];
        let mut cursor = addr;
        let mut done = 0usize;
        let total = len as usize;
        while done < total {
            let off = (cursor & (PAGE_SIZE - 1)) as usize;
            let n = (total - done).min(PAGE_SIZE as usize - off);
            let page = self.page(cursor).unwrap_or(&ZEROS);
            f(done, &page[off..off + n]);
            done += n;
            cursor = cursor.wrapping_add(n as u32);
        }
    }

    /// A raw pointer to the bytes of the allocated page holding `addr`, and
    /// whether the page has read-only bytes: for the recompiler's inline page
    /// cache (docs/jit.md). Pages are boxed and never freed or moved while
    /// the memory lives, so the pointer stays valid until the memory is
    /// dropped; taking it needs `&mut self` so that writes through it are
    /// derived from a unique borrow. Using it is the caller's `unsafe`.
    pub fn page_ptr_mut(&mut self, addr: u32) -> Option<(*mut u8, bool)> {
        let slot = self.slot_index(addr)?;
        let page = self.pages.get_mut(slot)?;
        Some((page.bytes.as_mut_ptr(), page.has_read_only))
    }

    /// Stores `size` (1, 2 or 4) low bytes of `value` at an aligned `addr`.
    /// The caller has validated the range and paid for a new page.
    #[inline]
    pub fn store(&mut self, addr: u32, size: u32, value: u32) -> Result<(), AccessError> {
        let page = self.page_mut(addr)?;
        let off = (addr & (PAGE_SIZE - 1)) as usize;
        let bytes = value.to_le_bytes();
        let n = size as usize;
        match page.get_mut(off..off + n) {
            Some(dst) => {
                dst.copy_from_slice(&bytes[..n]);
                Ok(())
            }
            None => Err(AccessError::Wrap),
        }
    }
}

//! A bounded cache of validated programs keyed by the hash of their ELF
//! bytes, so a node that runs the same template many times parses,
//! validates and pre-decodes it once.
//!
//! The cache never changes results: a hit returns a program built from
//! identical bytes. It is an optimization only, so eviction order (least
//! recently used) need not be deterministic across nodes, but it is anyway.

use crate::program::{LoadError, Program};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The blake3 hash of a program's ELF bytes: its identity in the cache.
pub type CodeHash = [u8; 32];

/// Hashes ELF bytes the way the cache keys them.
pub fn code_hash(elf: &[u8]) -> CodeHash {
    *blake3::hash(elf).as_bytes()
}

/// Least-recently-used cache of loaded programs (see the module docs).
///
/// `T` is what is kept per program: the [`Program`] itself by default, or a
/// layer's own wrapper around it (the engine keeps compiled native code
/// beside each program).
#[derive(Debug)]
pub struct ProgramCache<T = Program> {
    capacity: usize,
    /// Most bytes the entries may weigh together (see
    /// [`ProgramCache::with_byte_budget`]).
    budget: usize,
    /// What an entry weighs, in bytes (asked again whenever the total is
    /// needed: an entry may grow, e.g. when native code is compiled for
    /// it).
    weigh: fn(&T) -> usize,
    clock: u64,
    entries: BTreeMap<CodeHash, (u64, Arc<T>)>,
    hits: u64,
    misses: u64,
}

impl ProgramCache<Program> {
    /// The program for `elf`, loaded and validated on a miss. Load errors
    /// are returned and not cached (the bytes are rejected every time).
    pub fn get_or_load(&mut self, elf: &[u8]) -> Result<Arc<Program>, LoadError> {
        self.get_or_insert_with(elf, || Program::from_elf(elf))
    }
}

impl<T> ProgramCache<T> {
    /// A cache holding at most `capacity` programs (at least one).
    pub fn new(capacity: usize) -> Self {
        Self::with_byte_budget(capacity, usize::MAX, |_| 0)
    }

    /// A cache holding at most `capacity` programs (at least one) that
    /// together weigh at most `budget` bytes by `weigh`: inserting evicts
    /// least-recently-used entries until both bounds hold for the cache
    /// with the new entry (which is kept even if it alone is over the
    /// budget). Weights are re-read at each insertion and by
    /// [`ProgramCache::bytes`], so entries that grew since (native code
    /// compiled for them) count with their new size; the owner reports
    /// such growth with [`ProgramCache::entry_grew`] so the budget holds at
    /// once, not only from the next insertion.
    pub fn with_byte_budget(capacity: usize, budget: usize, weigh: fn(&T) -> usize) -> Self {
        Self { capacity: capacity.max(1), budget, weigh, clock: 0, entries: BTreeMap::new(), hits: 0, misses: 0 }
    }

    /// The entry for `elf`, made by `load` on a miss (which must build it
    /// from exactly these bytes). Errors are returned and not cached.
    pub fn get_or_insert_with(
        &mut self,
        elf: &[u8],
        load: impl FnOnce() -> Result<T, LoadError>,
    ) -> Result<Arc<T>, LoadError> {
        let hash = code_hash(elf);
        self.clock += 1;
        if let Some((used, entry)) = self.entries.get_mut(&hash) {
            *used = self.clock;
            self.hits += 1;
            return Ok(Arc::clone(entry));
        }
        self.misses += 1;
        let program = Arc::new(load()?);
        // Room for the new entry: one entry fewer than the capacity, and
        // its weight on top of the others'.
        self.evict(None, self.capacity - 1, (self.weigh)(&program));
        self.entries.insert(hash, (self.clock, Arc::clone(&program)));
        Ok(program)
    }

    /// Restores the byte budget after the entry for `hash` grew in place
    /// (native code compiled for it): evicts least-recently-used entries
    /// other than that one until the entries weigh at most the budget
    /// again. Without this, growth would only be accounted for at the next
    /// insertion, and the cache could exceed its budget until then. The
    /// grown entry itself is kept (like a new entry, even if it alone is
    /// over the budget): it is the one in use. Evicting only drops the
    /// cache's reference, so anyone still holding an entry keeps it intact.
    /// `hash` need not be cached (then no entry is spared).
    pub fn entry_grew(&mut self, hash: &CodeHash) {
        self.evict(Some(hash), self.capacity, 0);
    }

    /// Changes the bounds (a count of at least one, and bytes), evicting
    /// least-recently-used entries until both hold: lets a host size the
    /// cache after it was created.
    pub fn set_bounds(&mut self, capacity: usize, budget: usize) {
        self.capacity = capacity.max(1);
        self.budget = budget;
        self.evict(None, self.capacity, 0);
    }

    /// Evicts least-recently-used entries, never `keep`, while there are
    /// more than `max_len` of them or they weigh, with `extra` bytes on top,
    /// more than the budget (or until only `keep` is left).
    fn evict(&mut self, keep: Option<&CodeHash>, max_len: usize, extra: usize) {
        let mut total = self.bytes().saturating_add(extra);
        while self.entries.len() > max_len || total > self.budget {
            let oldest = self
                .entries
                .iter()
                .filter(|(hash, _)| Some(*hash) != keep)
                .min_by_key(|(_, (used, _))| *used)
                .map(|(hash, _)| *hash);
            let Some((_, entry)) = oldest.and_then(|oldest| self.entries.remove(&oldest)) else {
                break;
            };
            total = total.saturating_sub((self.weigh)(&entry));
        }
    }

    /// Most programs the cache holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Most bytes the cached entries may weigh together (`usize::MAX`
    /// without a byte budget).
    pub fn budget(&self) -> usize {
        self.budget
    }

    /// Programs currently cached.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// What the cached entries weigh together, in bytes (0 without a
    /// byte budget).
    pub fn bytes(&self) -> usize {
        self.entries.values().fold(0, |sum: usize, (_, entry)| sum.saturating_add((self.weigh)(entry)))
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Lookups answered from the cache.
    pub fn hits(&self) -> u64 {
        self.hits
    }

    /// Lookups that had to load.
    pub fn misses(&self) -> u64 {
        self.misses
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::RegisterSet;
    use athena_test_elf::{asm, ElfBuilder};

    fn elf_with_exit(code: u8) -> Vec<u8> {
        // addi a0, x0, code; addi t0, x0, 0; ecall.
        let text = [asm::addi(asm::A0, 0, code.into()), asm::addi(asm::T0, 0, 0), asm::ECALL];
        ElfBuilder::new(0x1_0000).text(0x1_0000, &text).build()
    }

    #[test]
    fn hits_return_the_same_program_and_misses_load() {
        let mut cache = ProgramCache::new(2);
        let a = elf_with_exit(1);
        let first = cache.get_or_load(&a).expect("valid");
        let second = cache.get_or_load(&a).expect("valid");
        assert!(Arc::ptr_eq(&first, &second));
        assert_eq!((cache.hits(), cache.misses(), cache.len()), (1, 1, 1));
        assert_eq!(first.registers(), RegisterSet::Rv32i);
    }

    #[test]
    fn least_recently_used_is_evicted_and_errors_are_not_cached() {
        let mut cache = ProgramCache::new(2);
        let (a, b, c) = (elf_with_exit(1), elf_with_exit(2), elf_with_exit(3));
        let pa = cache.get_or_load(&a).expect("a");
        cache.get_or_load(&b).expect("b");
        cache.get_or_load(&a).expect("a again"); // b is now the oldest
        cache.get_or_load(&c).expect("c");
        assert_eq!(cache.len(), 2);
        assert!(Arc::ptr_eq(&pa, &cache.get_or_load(&a).expect("a cached")));
        let misses = cache.misses();
        cache.get_or_load(&b).expect("b reloaded");
        assert_eq!(cache.misses(), misses + 1);
        assert!(cache.get_or_load(b"garbage").is_err());
        assert!(cache.get_or_load(b"garbage").is_err());
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn entries_are_evicted_least_recently_used_to_stay_within_the_byte_budget() {
        // Entries weigh what they hold; 100 bytes in all.
        let mut cache: ProgramCache<usize> = ProgramCache::with_byte_budget(10, 100, |weight| *weight);
        let (a, b, c, d) = (elf_with_exit(1), elf_with_exit(2), elf_with_exit(3), elf_with_exit(4));
        cache.get_or_insert_with(&a, || Ok(40)).expect("a");
        cache.get_or_insert_with(&b, || Ok(40)).expect("b");
        assert_eq!((cache.len(), cache.bytes()), (2, 80));
        cache.get_or_insert_with(&a, || unreachable!("a is cached")).expect("a hit");
        // 120 bytes with c: b, the least recently used, goes.
        cache.get_or_insert_with(&c, || Ok(40)).expect("c");
        assert_eq!((cache.len(), cache.bytes()), (2, 80));
        assert_eq!(*cache.get_or_insert_with(&b, || Ok(41)).expect("b reloaded"), 41, "b was evicted");
        // Now b (41) and c (40) stay, a goes (121 bytes otherwise).
        assert_eq!((cache.len(), cache.bytes()), (2, 81));
        cache.get_or_insert_with(&c, || unreachable!("c is cached")).expect("c hit");
        // An entry over the whole budget evicts everything else and stays.
        cache.get_or_insert_with(&d, || Ok(500)).expect("d");
        assert_eq!((cache.len(), cache.bytes()), (1, 500));
        cache.get_or_insert_with(&d, || unreachable!("d is cached")).expect("d hit");
    }

    #[test]
    fn an_entry_that_grew_evicts_least_recently_used_others_at_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        // Entries weigh what they hold, which can grow in place (like a
        // program that gets native code); 100 bytes in all.
        let mut cache: ProgramCache<AtomicUsize> =
            ProgramCache::with_byte_budget(10, 100, |weight| weight.load(Ordering::Relaxed));
        let (a, b, c) = (elf_with_exit(1), elf_with_exit(2), elf_with_exit(3));
        let ea = cache.get_or_insert_with(&a, || Ok(AtomicUsize::new(30))).expect("a");
        cache.get_or_insert_with(&b, || Ok(AtomicUsize::new(30))).expect("b");
        let ec = cache.get_or_insert_with(&c, || Ok(AtomicUsize::new(30))).expect("c");
        assert_eq!((cache.len(), cache.bytes()), (3, 90));
        // c grows to 50: 110 bytes, so a (least recently used) goes, at
        // once, not at the next insertion; whoever holds a keeps it whole.
        ec.store(50, Ordering::Relaxed);
        cache.entry_grew(&code_hash(&c));
        assert_eq!((cache.len(), cache.bytes()), (2, 80));
        assert_eq!(ea.load(Ordering::Relaxed), 30);
        // Growth within the budget evicts nothing.
        ec.store(70, Ordering::Relaxed);
        cache.entry_grew(&code_hash(&c));
        assert_eq!((cache.len(), cache.bytes()), (2, 100));
        // The grown entry stays even when it is the least recently used
        // and alone over the budget.
        cache.get_or_insert_with(&b, || unreachable!("b is cached")).expect("b hit");
        ec.store(500, Ordering::Relaxed);
        cache.entry_grew(&code_hash(&c));
        assert_eq!((cache.len(), cache.bytes()), (1, 500));
        assert!(Arc::ptr_eq(&ec, &cache.get_or_insert_with(&c, || unreachable!("c is cached")).expect("c hit")));
        // An uncached hash spares nothing; huge weights saturate.
        let misses = cache.misses();
        cache.get_or_insert_with(&a, || Ok(AtomicUsize::new(usize::MAX))).expect("a reloaded");
        assert_eq!((cache.len(), cache.bytes(), cache.misses()), (1, usize::MAX, misses + 1));
        cache.entry_grew(&code_hash(b"not cached"));
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn new_bounds_evict_least_recently_used_entries() {
        let mut cache: ProgramCache<usize> = ProgramCache::with_byte_budget(10, 1000, |weight| *weight);
        let (a, b, c) = (elf_with_exit(1), elf_with_exit(2), elf_with_exit(3));
        for elf in [&a, &b, &c] {
            cache.get_or_insert_with(elf, || Ok(40)).expect("insert");
        }
        cache.set_bounds(10, 100);
        assert_eq!((cache.len(), cache.bytes(), cache.capacity(), cache.budget()), (2, 80, 10, 100));
        cache.set_bounds(0, 100);
        assert_eq!((cache.len(), cache.capacity()), (1, 1));
        cache.get_or_insert_with(&c, || unreachable!("c, the most recently used, stays")).expect("c hit");
    }
}

//! Storage: raw 32-byte slots and typed, named items.
//!
//! A program's storage is its own account's map of 32-byte keys to 32-byte
//! values; it is the program's *mutable* data (the template struct is the
//! immutable state). [`Value`] and [`Map`] store any SCALE type under a
//! name, following one rule that hosts and test frameworks read too
//! (normative in `docs/sdk.md`, "Storage layout"):
//!
//! * base key `K(name, key_bytes) = blake3("athena/storage/" ‖
//!   u32_le(len(name)) ‖ name ‖ key_bytes)`: empty `key_bytes` for a
//!   [`Value`], `SCALE(key)` for a [`Map`] entry;
//! * the encoding `E = SCALE(v)` is stored in chunks: slot `K` holds
//!   `u32_le(len(E) + 1)` and the first 28 bytes of `E` (zero padded);
//!   chunk `i ≥ 1` (the next 32 bytes each) is at [`chunk_key`]`(K, i)`:
//!   `K` with its last 4 bytes, read as a big-endian `u32`,
//!   wrapping-incremented by `i`;
//! * an all-zero slot `K` means "absent"; removing writes zero to every
//!   slot the value used, and overwriting with a shorter value zeroes the
//!   chunks no longer used.
//!
//! Data that breaks the rule (a length header of 0, bytes that do not
//! decode as the item's type) makes the frame revert with
//! `athena: cannot decode storage item `NAME``; it never traps.

use crate::codec::{Decode, DecodeAll, Encode};
use crate::host::{StorageStatus, Word};
use alloc::vec::Vec;
use athena_guest_rt::host as rt;
use core::marker::PhantomData;

/// Prefix of every typed item's key preimage.
pub const KEY_DOMAIN: &[u8] = b"athena/storage/";

/// Bytes of the encoding held by the first slot (after the 4-byte header).
pub const FIRST_CHUNK: usize = 28;

/// Longest encoding a length header may announce (16 MiB, the VM's default
/// memory limit: a longer value could never have been encoded in guest
/// memory). A longer header is treated as corrupted data, which also keeps
/// the slot arithmetic far from overflow.
pub const MAX_ITEM_LEN: usize = 16 << 20;

/// Reads the own account's slot `key` (zero if never written).
pub fn read(key: &Word) -> Word {
    rt::storage_read(key)
}

/// Writes the own account's slot `key`; writing zero deletes it.
pub fn write(key: &Word, value: &Word) -> StorageStatus {
    rt::storage_write(key, value)
}

/// The preimage of an item's base key: `"athena/storage/" ‖
/// u32_le(len(name)) ‖ name ‖ key_bytes`. Hash it with BLAKE3 for the key.
pub fn key_preimage(name: &str, key_bytes: &[u8]) -> Vec<u8> {
    let mut preimage = Vec::with_capacity(KEY_DOMAIN.len() + 4 + name.len() + key_bytes.len());
    preimage.extend_from_slice(KEY_DOMAIN);
    preimage.extend_from_slice(&(name.len() as u32).to_le_bytes());
    preimage.extend_from_slice(name.as_bytes());
    preimage.extend_from_slice(key_bytes);
    preimage
}

/// The base key of item `name` with `key_bytes` (BLAKE3 precompile).
pub fn base_key(name: &str, key_bytes: &[u8]) -> Word {
    rt::blake3(&key_preimage(name, key_bytes))
}

/// The slot of chunk `i` of a value at base key `base` (chunk 0 is `base`).
pub fn chunk_key(base: &Word, i: u32) -> Word {
    let mut key = *base;
    let tail = u32::from_be_bytes([key[28], key[29], key[30], key[31]]).wrapping_add(i);
    key[28..].copy_from_slice(&tail.to_be_bytes());
    key
}

/// How many slots an encoding of `len` bytes occupies.
pub fn slot_count(len: usize) -> u32 {
    let rest = len.saturating_sub(FIRST_CHUNK);
    1 + rest.div_ceil(32) as u32
}

/// Slot `i` of a value whose encoding is `encoded`: the stored stream is
/// `u32_le(len(E) + 1) ‖ E`, zero padded, cut into 32-byte slots. Slots
/// past the end are zero.
pub fn slot_of(encoded: &[u8], i: u32) -> Word {
    let mut slot = [0u8; 32];
    // Slot 0 holds the header in its first 4 bytes.
    let skip = if i == 0 { 4 } else { 0 };
    let start = (32 * i as usize + skip).wrapping_sub(4);
    if let Some(rest) = encoded.get(start..) {
        let take = rest.len().min(32 - skip);
        slot[skip..skip + take].copy_from_slice(&rest[..take]);
    }
    if i == 0 {
        slot[..4].copy_from_slice(&(encoded.len() as u32).wrapping_add(1).to_le_bytes());
    }
    slot
}

/// The encoded length a first slot announces, `None` for an absent value.
/// `Some(Err(()))` for a non-zero slot with a zero header or one over
/// [`MAX_ITEM_LEN`] (corrupted).
fn announced_len(first: &Word) -> Option<Result<usize, ()>> {
    if *first == [0; 32] {
        return None;
    }
    let header = u32::from_le_bytes([first[0], first[1], first[2], first[3]]);
    Some(header.checked_sub(1).map(|len| len as usize).filter(|&len| len <= MAX_ITEM_LEN).ok_or(()))
}

// The item operations below are deliberately not generic: each typed
// access encodes or decodes its value and calls one of them, so a program
// carries one copy of the storage code however many item types it uses.

/// The stored stream of item `name` / `key_bytes` (header ‖ `E`, see
/// [`slot_of`]), `None` if absent; reverts if the header is corrupted.
#[inline(never)]
fn load_raw(name: &str, key_bytes: &[u8]) -> Option<Vec<u8>> {
    let base = base_key(name, key_bytes);
    let first = read(&base);
    let len = match announced_len(&first)? {
        Ok(len) => len,
        Err(()) => corrupted(name),
    };
    let mut image = alloc::vec![0u8; slot_count(len) as usize * 32];
    let (slots, _) = image.as_chunks_mut::<32>();
    if let Some((head, rest)) = slots.split_first_mut() {
        *head = first;
        for (i, slot) in rest.iter_mut().enumerate() {
            rt::storage_read_into(&chunk_key(&base, i as u32 + 1), slot);
        }
    }
    image.truncate(4 + len);
    Some(image)
}

/// `SCALE`-decodes all of `E` in a loaded image, or reverts naming item
/// `name`.
fn decode_item<T: Decode>(image: Vec<u8>, name: &str) -> T {
    match image.get(4..).map(|mut encoded| T::decode_all(&mut encoded)) {
        Some(Ok(value)) => value,
        _ => corrupted(name),
    }
}

/// Reverts with `athena: cannot decode storage item `NAME``.
fn corrupted(name: &str) -> ! {
    crate::private::revert_about(b"athena: cannot decode storage item `", name)
}

/// Slots used by the value currently at `base` (0 if absent).
fn used_slots(base: &Word) -> u32 {
    match announced_len(&read(base)) {
        None => 0,
        Some(Ok(len)) => slot_count(len),
        // A corrupted header: clear the first slot at least.
        Some(Err(())) => 1,
    }
}

/// Stores the encoding `encoded` for item `name` / `key_bytes`, zeroing
/// the chunks of a longer previous value.
#[inline(never)]
fn store_raw(name: &str, key_bytes: &[u8], encoded: &[u8]) {
    let base = base_key(name, key_bytes);
    let old = used_slots(&base);
    // One loop for the new slots and the now unused old ones (zero).
    for i in 0..slot_count(encoded.len()).max(old) {
        write(&chunk_key(&base, i), &slot_of(encoded, i));
    }
}

/// Zeroes every slot of item `name` / `key_bytes`.
#[inline(never)]
fn clear_raw(name: &str, key_bytes: &[u8]) {
    let base = base_key(name, key_bytes);
    for i in 0..used_slots(&base) {
        write(&chunk_key(&base, i), &[0; 32]);
    }
}

/// Whether item `name` / `key_bytes` holds a value.
#[inline(never)]
fn exists_raw(name: &str, key_bytes: &[u8]) -> bool {
    read(&base_key(name, key_bytes)) != [0; 32]
}

/// A single typed value in storage, named by a string.
///
/// ```ignore
/// static COUNT: Value<u64> = Value::new("count");
/// let n = COUNT.get().unwrap_or(0);
/// COUNT.set(&(n + 1));
/// ```
///
/// Each access hashes the name (BLAKE3 precompile) and reads or writes
/// `1 + ⌈(len(E) − 28) / 32⌉` slots.
pub struct Value<T> {
    name: &'static str,
    // `fn() -> T`: the item stores no `T`, and stays `Sync` for statics.
    _type: PhantomData<fn() -> T>,
}

impl<T> Value<T> {
    /// The item called `name`. Names are the storage layout: renaming an
    /// item loses its data.
    pub const fn new(name: &'static str) -> Self {
        Value { name, _type: PhantomData }
    }

    /// The item's name.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The base slot key (`K(name, [])`).
    pub fn key(&self) -> Word {
        base_key(self.name, &[])
    }

    /// Whether a value is stored.
    pub fn exists(&self) -> bool {
        exists_raw(self.name, &[])
    }

    /// Deletes the value (zeroes every slot it used).
    pub fn remove(&self) {
        clear_raw(self.name, &[])
    }
}

impl<T: Encode + Decode> Value<T> {
    /// The stored value, `None` if absent.
    pub fn get(&self) -> Option<T> {
        load_raw(self.name, &[]).map(|image| decode_item(image, self.name))
    }

    /// The stored value, or `T::default()` if absent.
    pub fn get_or_default(&self) -> T
    where
        T: Default,
    {
        self.get().unwrap_or_default()
    }

    /// Stores `value`, replacing any previous one.
    pub fn set(&self, value: &T) {
        value.using_encoded(|encoded| store_raw(self.name, &[], encoded))
    }
}

/// A typed map in storage, named by a string: each entry is stored like a
/// [`Value`] at `K(name, SCALE(key))`. Entries cannot be enumerated.
///
/// ```ignore
/// static BALANCES: Map<Address, u64> = Map::new("balances");
/// BALANCES.insert(&who, &100);
/// ```
pub struct Map<K, V> {
    name: &'static str,
    _types: PhantomData<fn() -> (K, V)>,
}

impl<K: Encode, V> Map<K, V> {
    /// The map called `name`.
    pub const fn new(name: &'static str) -> Self {
        Map { name, _types: PhantomData }
    }

    /// The map's name.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The base slot key of the entry for `key` (`K(name, SCALE(key))`).
    pub fn key(&self, key: &K) -> Word {
        key.using_encoded(|bytes| base_key(self.name, bytes))
    }

    /// Whether an entry for `key` is stored.
    pub fn contains(&self, key: &K) -> bool {
        key.using_encoded(|k| exists_raw(self.name, k))
    }

    /// Deletes the entry for `key`.
    pub fn remove(&self, key: &K) {
        key.using_encoded(|k| clear_raw(self.name, k))
    }
}

impl<K: Encode, V: Encode + Decode> Map<K, V> {
    /// The entry for `key`, `None` if absent.
    pub fn get(&self, key: &K) -> Option<V> {
        key.using_encoded(|k| load_raw(self.name, k)).map(|image| decode_item(image, self.name))
    }

    /// The entry for `key`, or `V::default()` if absent.
    pub fn get_or_default(&self, key: &K) -> V
    where
        V: Default,
    {
        self.get(key).unwrap_or_default()
    }

    /// Stores `value` for `key`, replacing any previous entry.
    pub fn insert(&self, key: &K, value: &V) {
        key.using_encoded(|k| value.using_encoded(|v| store_raw(self.name, k, v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_preimage_follows_the_rule() {
        let p = key_preimage("count", &[9, 8]);
        assert_eq!(&p[..15], b"athena/storage/");
        assert_eq!(&p[15..19], &5u32.to_le_bytes());
        assert_eq!(&p[19..24], b"count");
        assert_eq!(&p[24..], &[9, 8]);
    }

    #[test]
    fn chunk_keys_increment_the_last_four_bytes_big_endian_wrapping() {
        let mut base = [1u8; 32];
        base[28..].copy_from_slice(&[0xff, 0xff, 0xff, 0xfe]);
        assert_eq!(chunk_key(&base, 0), base);
        assert_eq!(&chunk_key(&base, 1)[28..], &[0xff, 0xff, 0xff, 0xff]);
        assert_eq!(&chunk_key(&base, 2)[28..], &[0, 0, 0, 0]);
        assert_eq!(&chunk_key(&base, 3)[..28], &base[..28]);
        assert_eq!(&chunk_key(&base, 3)[28..], &[0, 0, 0, 1]);
    }

    /// The slots storing `encoded`.
    fn slots_of(encoded: &[u8]) -> Vec<Word> {
        let n = slot_count(encoded.len());
        assert_eq!(slot_of(encoded, n), [0; 32], "past the end");
        (0..n).map(|i| slot_of(encoded, i)).collect()
    }

    #[test]
    fn values_are_chunked_with_a_length_header() {
        assert_eq!(slot_count(0), 1);
        assert_eq!(slot_count(28), 1);
        assert_eq!(slot_count(29), 2);
        assert_eq!(slot_count(60), 2);
        assert_eq!(slot_count(61), 3);

        let empty = slots_of(&[]);
        assert_eq!(empty.len(), 1);
        assert_eq!(&empty[0][..4], &1u32.to_le_bytes());
        assert_eq!(&empty[0][4..], &[0; 28]);

        let data: Vec<u8> = (1..=61).collect();
        let slots = slots_of(&data);
        assert_eq!(slots.len(), 3);
        assert_eq!(&slots[0][..4], &62u32.to_le_bytes());
        assert_eq!(&slots[0][4..], &data[..28]);
        assert_eq!(&slots[1][..], &data[28..60]);
        assert_eq!(slots[2][0], 61);
        assert_eq!(&slots[2][1..], &[0; 31]);
    }

    #[test]
    fn announced_lengths() {
        assert_eq!(announced_len(&[0; 32]), None);
        let mut slot = [0u8; 32];
        slot[0] = 1;
        assert_eq!(announced_len(&slot), Some(Ok(0)));
        slot[0] = 0;
        slot[31] = 5;
        assert_eq!(announced_len(&slot), Some(Err(())));
        slot[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(announced_len(&slot), Some(Err(())), "over MAX_ITEM_LEN");
        slot[..4].copy_from_slice(&(MAX_ITEM_LEN as u32 + 1).to_le_bytes());
        assert_eq!(announced_len(&slot), Some(Ok(MAX_ITEM_LEN)));
    }

    #[test]
    fn base_key_vector() {
        // The guest hashes with the BLAKE3 precompile; this pins the key of
        // `Value::new("count")` that docs/sdk.md quotes for host tools.
        let key = blake3::hash(&key_preimage("count", &[]));
        let hex: alloc::string::String = key.as_bytes().iter().map(|b| alloc::format!("{b:02x}")).collect();
        assert_eq!(hex, "2536ec75d252ef493687fea2b62a27c629d486866496b20f962787bb7d2e284b");
        assert_eq!(&key_preimage("count", &[])[..], b"athena/storage/\x05\0\0\0count");
    }
}

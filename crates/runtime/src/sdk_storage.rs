//! The typed-storage layout the SDK writes (docs/sdk.md, "Storage"), on the
//! host: the one implementation that the test framework (to read items by
//! name), the CLI wallet (`athena storage ADDR item:NAME`) and tests use.
//!
//! * The base key of an item is
//!   `K(name, key_bytes) = blake3("athena/storage/" ‖ u32_le(len(name)) ‖ name ‖ key_bytes)`:
//!   a single value uses empty `key_bytes`, a map entry `SCALE(map key)`.
//! * The value `E = SCALE(v)` is split into 32-byte slots: slot `K` holds
//!   `u32_le(len(E) + 1)` and the first 28 bytes of `E`; chunk `i ≥ 1`
//!   holds the next 32 bytes at [`chunk_key`]`(K, i)`. The last slot is zero
//!   padded. An all-zero slot `K` means the item is absent.
//!
//! [`decode_item`] checks all of that strictly (zero padding included), so
//! a test also catches a guest that writes a malformed layout.

use athena_interface::Bytes32;

/// Domain prefix of every item key.
pub const KEY_DOMAIN: &[u8] = b"athena/storage/";

/// Bytes of `E` held by the first slot, after the 4-byte length header.
pub const FIRST_CHUNK: usize = 28;

/// Bytes of `E` held by every further slot.
pub const CHUNK: usize = 32;

/// The longest item [`decode_item`] reads (1 MiB): far above anything a
/// program can afford to write, and a bound on the work a corrupt length
/// header can cause.
pub const MAX_ITEM_LEN: usize = 1 << 20;

/// A storage item whose slots do not follow the layout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    /// The first slot is not zero but its length header is.
    #[error("item at {key}: non-zero slot with a zero length header")]
    ZeroLength {
        /// The item's base key.
        key: Bytes32,
    },
    /// The length header claims more than [`MAX_ITEM_LEN`] bytes.
    #[error("item at {key}: length {len} exceeds the {MAX_ITEM_LEN}-byte limit")]
    TooLarge {
        /// The item's base key.
        key: Bytes32,
        /// The claimed length of `E`.
        len: usize,
    },
    /// Bytes after the end of `E` in its last slot are not zero.
    #[error("item at {key}: non-zero padding after the value")]
    BadPadding {
        /// The item's base key.
        key: Bytes32,
    },
    /// `E` is too long for the `u32` length header.
    #[error("value of {len} bytes is too long for a storage item")]
    ValueTooLong {
        /// The length of `E`.
        len: usize,
    },
}

/// The base key of item `name` with `key_bytes` (empty for a single value,
/// `SCALE(key)` for a map entry).
pub fn item_key(name: &str, key_bytes: &[u8]) -> Bytes32 {
    let name_len = u32::try_from(name.len()).unwrap_or(u32::MAX);
    let mut hasher = blake3::Hasher::new();
    hasher.update(KEY_DOMAIN);
    hasher.update(&name_len.to_le_bytes());
    hasher.update(name.as_bytes());
    hasher.update(key_bytes);
    Bytes32::new(*hasher.finalize().as_bytes())
}

/// The key of chunk `index` of the item at `base`: `base` with its last 4
/// bytes, read as a big-endian `u32`, wrapping-incremented by `index`.
/// Chunk 0 is `base` itself.
pub fn chunk_key(base: &Bytes32, index: u32) -> Bytes32 {
    let mut bytes = base.into_bytes();
    let mut tail = [0u8; 4];
    tail.copy_from_slice(&bytes[28..]);
    let tail = u32::from_be_bytes(tail).wrapping_add(index);
    bytes[28..].copy_from_slice(&tail.to_be_bytes());
    Bytes32::new(bytes)
}

/// The slots that store `encoded` (= `E`) at `base`, in chunk order: what
/// the SDK writes. Lets tests put typed items into storage directly.
pub fn encode_item(base: &Bytes32, encoded: &[u8]) -> Result<Vec<(Bytes32, Bytes32)>, StorageError> {
    let header = u32::try_from(encoded.len())
        .ok()
        .and_then(|len| len.checked_add(1))
        .ok_or(StorageError::ValueTooLong { len: encoded.len() })?;
    let mut first = [0u8; 32];
    first[..4].copy_from_slice(&header.to_le_bytes());
    let head = encoded.len().min(FIRST_CHUNK);
    first[4..4 + head].copy_from_slice(&encoded[..head]);
    let mut slots = vec![(*base, Bytes32::new(first))];
    for (i, chunk) in encoded[head..].chunks(CHUNK).enumerate() {
        let mut slot = [0u8; 32];
        slot[..chunk.len()].copy_from_slice(chunk);
        // At most 2^32 / 32 chunks, so the index fits.
        let index = u32::try_from(i + 1).unwrap_or(u32::MAX);
        slots.push((chunk_key(base, index), Bytes32::new(slot)));
    }
    Ok(slots)
}

/// The length of `E` that `first`, the slot at `base`, announces;
/// `Ok(None)` for an all-zero (absent) slot. It lets a reader that fetches
/// slots one at a time from a source it need not trust (the wallet, from a
/// node) know how many to ask for before asking, with [`decode_item`]'s
/// checks: a zero header or one over [`MAX_ITEM_LEN`] is an error.
pub fn announced_len(base: &Bytes32, first: &Bytes32) -> Result<Option<usize>, StorageError> {
    if first.is_zero() {
        return Ok(None);
    }
    let bytes = first.as_bytes();
    let header = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    let len = header.checked_sub(1).ok_or(StorageError::ZeroLength { key: *base })? as usize;
    if len > MAX_ITEM_LEN {
        return Err(StorageError::TooLarge { key: *base, len });
    }
    Ok(Some(len))
}

/// How many slots (chunk 0 included) an `E` of `len` bytes occupies: the
/// SDK's `slot_count`, so a reader knows which chunks belong to an item.
pub fn slot_count(len: usize) -> usize {
    1 + len.saturating_sub(FIRST_CHUNK).div_ceil(CHUNK)
}

/// Reads the item at `base` through `read` (a slot lookup): `Ok(None)` if
/// absent, else `E`, the SCALE encoding of the value.
pub fn decode_item(base: &Bytes32, mut read: impl FnMut(&Bytes32) -> Bytes32) -> Result<Option<Vec<u8>>, StorageError> {
    let first = read(base);
    let Some(len) = announced_len(base, &first)? else {
        return Ok(None);
    };
    let bytes = first.as_bytes();
    let mut encoded = Vec::with_capacity(len);
    let head = len.min(FIRST_CHUNK);
    encoded.extend_from_slice(&bytes[4..4 + head]);
    let mut last_padding = &bytes[4 + head..];
    let mut index = 1u32;
    while encoded.len() < len {
        let slot = read(&chunk_key(base, index)).into_bytes();
        let take = (len - encoded.len()).min(CHUNK);
        encoded.extend_from_slice(&slot[..take]);
        if slot[take..].iter().any(|b| *b != 0) {
            return Err(StorageError::BadPadding { key: *base });
        }
        last_padding = &[];
        index = index.wrapping_add(1);
    }
    if last_padding.iter().any(|b| *b != 0) {
        return Err(StorageError::BadPadding { key: *base });
    }
    Ok(Some(encoded))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn store(slots: &[(Bytes32, Bytes32)]) -> BTreeMap<Bytes32, Bytes32> {
        slots.iter().copied().collect()
    }

    fn read(map: &BTreeMap<Bytes32, Bytes32>) -> impl FnMut(&Bytes32) -> Bytes32 + '_ {
        |k| map.get(k).copied().unwrap_or(Bytes32::ZERO)
    }

    #[test]
    fn key_derivation_follows_the_rule() {
        let mut preimage = b"athena/storage/".to_vec();
        preimage.extend_from_slice(&5u32.to_le_bytes());
        preimage.extend_from_slice(b"count");
        assert_eq!(item_key("count", &[]).as_bytes(), blake3::hash(&preimage).as_bytes());
        preimage.extend_from_slice(&7u32.to_le_bytes());
        assert_eq!(item_key("count", &7u32.to_le_bytes()).as_bytes(), blake3::hash(&preimage).as_bytes());
        // The length prefix separates names from key bytes.
        assert_ne!(item_key("ab", b"c"), item_key("a", b"bc"));

        let mut base = [7u8; 32];
        base[28..].copy_from_slice(&0xffff_fffeu32.to_be_bytes());
        let base = Bytes32::new(base);
        assert_eq!(chunk_key(&base, 0), base);
        assert_eq!(&chunk_key(&base, 1).as_bytes()[28..], &[0xff, 0xff, 0xff, 0xff]);
        assert_eq!(&chunk_key(&base, 3).as_bytes()[28..], &[0, 0, 0, 1], "wraps");
        assert_eq!(&chunk_key(&base, 3).as_bytes()[..28], &[7; 28], "only the tail changes");
    }

    #[test]
    fn layout_of_short_and_long_values() {
        let base = item_key("x", &[]);
        let short = encode_item(&base, &[1, 2, 3]).unwrap();
        let mut expected = [0u8; 32];
        expected[..4].copy_from_slice(&4u32.to_le_bytes());
        expected[4..7].copy_from_slice(&[1, 2, 3]);
        assert_eq!(short, [(base, Bytes32::new(expected))]);

        // 28 + 32 + 1 bytes: three slots, the last with one byte.
        let long: Vec<u8> = (1..=61).collect();
        let slots = encode_item(&base, &long).unwrap();
        assert_eq!(slots.len(), 3);
        assert_eq!(&slots[0].1.as_bytes()[..4], &62u32.to_le_bytes());
        assert_eq!(slots[1].0, chunk_key(&base, 1));
        assert_eq!(slots[1].1.as_bytes()[0], 29);
        assert_eq!(slots[2].1.as_bytes()[..2], [61, 0]);
        for value in [vec![], vec![0u8], vec![0; 28], vec![9; 29], vec![5; 60], long] {
            let map = store(&encode_item(&base, &value).unwrap());
            assert_eq!(decode_item(&base, read(&map)), Ok(Some(value.clone())), "{} bytes", value.len());
        }
        assert_eq!(decode_item(&base, read(&BTreeMap::new())), Ok(None));
        for len in [0, 1, 28, 29, 60, 61, 1000] {
            assert_eq!(slot_count(len), encode_item(&base, &vec![1; len]).unwrap().len(), "{len} bytes");
            let first = encode_item(&base, &vec![1; len]).unwrap()[0].1;
            assert_eq!(announced_len(&base, &first), Ok(Some(len)));
        }
        assert_eq!(announced_len(&base, &Bytes32::ZERO), Ok(None));
    }

    #[test]
    fn malformed_layouts_are_errors() {
        let base = item_key("x", &[]);
        let slot = |bytes: &[u8]| {
            let mut s = [0u8; 32];
            s[..bytes.len()].copy_from_slice(bytes);
            Bytes32::new(s)
        };
        let one = |s| store(&[(base, s)]);
        assert_eq!(decode_item(&base, read(&one(slot(&[0, 0, 0, 0, 1])))), Err(StorageError::ZeroLength { key: base }));
        let huge = u32::try_from(MAX_ITEM_LEN + 2).unwrap().to_le_bytes();
        assert!(matches!(decode_item(&base, read(&one(slot(&huge)))), Err(StorageError::TooLarge { .. })));
        assert_eq!(
            decode_item(&base, read(&one(slot(&[2, 0, 0, 0, 1, 1])))),
            Err(StorageError::BadPadding { key: base })
        );
        // A chunk with bytes past the value's end.
        let mut slots = encode_item(&base, &[3; 30]).unwrap();
        slots[1].1 = slot(&[3, 3, 1]);
        assert_eq!(decode_item(&base, read(&store(&slots))), Err(StorageError::BadPadding { key: base }));
        // Missing chunks read as zero: the value comes back zero-filled.
        let slots = encode_item(&base, &[0; 40]).unwrap();
        assert_eq!(decode_item(&base, read(&store(&slots[..1]))), Ok(Some(vec![0; 40])));
    }
}

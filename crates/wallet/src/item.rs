//! Reading an SDK typed storage item (`Value` / `Map`, docs/sdk.md,
//! "Storage layout") from a node slot by slot, so `athena storage …
//! item:NAME` can show a value longer than one slot whole.
//!
//! The layout is `athena_runtime::sdk_storage`'s (the host's one copy of
//! the SDK's rule): the first slot holds `u32_le(len(E) + 1)` and the first
//! 28 bytes of `E`, chunk `i ≥ 1` the next 32 bytes at `chunk_key(K, i)`.
//!
//! The node need not be honest, so:
//!
//! * every slot's proof is checked like a single slot's
//!   ([`verify_storage`]), and a slot's header is only followed once its
//!   proof holds;
//! * every slot must come from the same state root (a block committed in
//!   between restarts the read, a few times at most);
//! * the length header is bounded twice before anything is fetched: by the
//!   layout's own limit ([`MAX_ITEM_LEN`], a header over it is corrupt)
//!   and by the caller's `max_slots`, so a hostile header cannot make the
//!   wallet fetch for long or allocate much; bytes are only kept for slots
//!   actually fetched.

use crate::client::{ClientError, StorageItem};
use crate::key::parse_hex32;
use crate::proof::{verify_storage, ProofCheck};
use athena_interface::{Address, Bytes32};
use athena_runtime::sdk_storage::{announced_len, chunk_key, decode_item, slot_count, StorageError, MAX_ITEM_LEN};
use std::collections::BTreeMap;

/// Default bound on the slots one item read fetches (a 32 KiB value): far
/// more than a program usually stores under one item, and few enough
/// requests that a hostile length header costs seconds, not hours.
pub const DEFAULT_MAX_SLOTS: usize = 1024;

/// How many times a read restarts when the node's state moves on between
/// two of its slots.
const ATTEMPTS: usize = 3;

/// One slot of an item as the node answered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemSlot {
    /// The slot key (chunk `i` of the item).
    pub key: [u8; 32],
    /// The node's answer for it (value, height, state root, proof).
    pub answer: StorageItem,
}

/// An item read from a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRead {
    /// The slots fetched, in chunk order: all of the item's if every proof
    /// held, else up to and including the first that failed.
    pub slots: Vec<ItemSlot>,
    /// `E`, the SCALE encoding of the value, reassembled from all its
    /// slots; `None` if the item is absent or a proof failed.
    pub value: Option<Vec<u8>>,
    /// Valid if every slot's proof is (against one state root); else the
    /// first failure, naming the slot.
    pub check: ProofCheck,
}

/// Why an item could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ItemError {
    /// A request to the node failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The proven slots do not follow the SDK's layout (a zero length
    /// header, one over the layout's limit, non-zero padding).
    #[error("the item's slots do not follow the SDK storage layout: {0}")]
    Layout(#[from] StorageError),
    /// The length header needs more slots than the read may fetch.
    #[error(
        "the item's length header announces {len} bytes ({slots} slots), more than the {max} slots this read may \
         fetch; raise --max-slots (at most {MAX_ITEM_LEN} bytes are valid) if you expect a value this long"
    )]
    TooManySlots {
        /// The announced length of `E`.
        len: usize,
        /// The slots that length needs.
        slots: usize,
        /// The bound.
        max: usize,
    },
    /// The node's state root changed between slots on every attempt.
    #[error(
        "the node's state changed while the item's slots were read (state root {first}, then {later}), \
         {ATTEMPTS} times; try again"
    )]
    StateMoved {
        /// The root of the first slot of the last attempt.
        first: String,
        /// The differing root of a later slot.
        later: String,
    },
}

/// Reads the item whose first slot is `base` in `address`'s storage,
/// asking `fetch` for each slot (`NodeClient::storage` in the CLI), and
/// checks every proof against `trusted` (or the node's root, see
/// [`verify_storage`]). At most `max_slots` slots are fetched.
pub fn read_item(
    address: &Address,
    base: &[u8; 32],
    trusted: Option<[u8; 32]>,
    max_slots: usize,
    mut fetch: impl FnMut(&[u8; 32]) -> Result<StorageItem, ClientError>,
) -> Result<ItemRead, ItemError> {
    let mut moved = None;
    for _ in 0..ATTEMPTS {
        match attempt(address, base, trusted, max_slots, &mut fetch)? {
            Attempt::Done(read) => return Ok(read),
            Attempt::Moved { first, later } => moved = Some((first, later)),
        }
    }
    let (first, later) = moved.unwrap_or_default();
    Err(ItemError::StateMoved { first, later })
}

enum Attempt {
    Done(ItemRead),
    Moved { first: String, later: String },
}

fn attempt(
    address: &Address,
    base: &[u8; 32],
    trusted: Option<[u8; 32]>,
    max_slots: usize,
    fetch: &mut impl FnMut(&[u8; 32]) -> Result<StorageItem, ClientError>,
) -> Result<Attempt, ItemError> {
    let base_key = Bytes32::new(*base);
    let first = fetch(base)?;
    let check = verify_storage(&first, address, base, trusted);
    let mut slots = vec![ItemSlot { key: *base, answer: first }];
    if !check.is_valid() {
        return Ok(Attempt::Done(ItemRead { slots, value: None, check: failed(0, base, check) }));
    }
    let root = slots[0].answer.state_root.clone();
    // A valid proof means the value parsed as 32 bytes of hex.
    let first_value = Bytes32::new(parse_hex32(&slots[0].answer.value).unwrap_or([0; 32]));
    let Some(len) = announced_len(&base_key, &first_value)? else {
        return Ok(Attempt::Done(ItemRead { slots, value: None, check }));
    };
    let count = slot_count(len);
    if count > max_slots {
        return Err(ItemError::TooManySlots { len, slots: count, max: max_slots });
    }
    let mut values = BTreeMap::from([(base_key, first_value)]);
    for index in 1..count {
        // `count` ≤ slot_count(MAX_ITEM_LEN), far below u32::MAX.
        let key = chunk_key(&base_key, u32::try_from(index).unwrap_or(u32::MAX)).into_bytes();
        let answer = fetch(&key)?;
        if answer.state_root != root {
            return Ok(Attempt::Moved { first: root, later: answer.state_root });
        }
        let check = verify_storage(&answer, address, &key, trusted);
        let value = parse_hex32(&answer.value).unwrap_or([0; 32]);
        slots.push(ItemSlot { key, answer });
        if !check.is_valid() {
            return Ok(Attempt::Done(ItemRead { slots, value: None, check: failed(index, &key, check) }));
        }
        values.insert(Bytes32::new(key), Bytes32::new(value));
    }
    let value = decode_item(&base_key, |k| values.get(k).copied().unwrap_or(Bytes32::ZERO))?;
    Ok(Attempt::Done(ItemRead { slots, value, check }))
}

/// Names the slot whose proof failed.
fn failed(index: usize, key: &[u8; 32], check: ProofCheck) -> ProofCheck {
    match check {
        ProofCheck::Invalid(why) => {
            ProofCheck::Invalid(format!("slot {index} of the item ({}): {why}", hex::encode(key)))
        }
        other => other,
    }
}

#[cfg(test)]
#[path = "item_tests.rs"]
mod tests;

//! The testkit's demo contract: a counter with a byte-string map, written
//! against the bare guest runtime with the SDK's conventions done by hand
//! (docs/sdk.md): `selector ‖ SCALE(args)` input, SCALE return values,
//! UTF-8 revert messages, and the typed-storage layout.
//!
//! State: `SCALE(u64)`, the counter's start value.
//!
//! | method | args | returns | effect |
//! |---|---|---|---|
//! | `spawn` | — | — | `count = start`, log `["spawned"]`; reverts for start 13 |
//! | `add` | `u64` | `u64` | `count += n`, log `["added"]` with the new count |
//! | `get` | — | `u64` | — |
//! | `put` | `u32, Vec<u8>` | — | `entries[key] = value` |
//! | `fail` | — | — | writes `count`, then reverts |
//! | `pay` | `[u8; 24], u64` | — | sends coins; reverts if that fails |
//! | `caller` | — | `[u8; 24]` | — |
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;
use athena_guest_rt::host::{self, number, Word};

athena_guest_rt::entry!(main);

fn selector(name: &str) -> [u8; 4] {
    let h = host::blake3(name.as_bytes());
    [h[0], h[1], h[2], h[3]]
}

fn main() {
    let input = athena_guest_rt::input();
    if input.len() < 4 {
        host::revert(b"athena: input shorter than a selector");
    }
    let (sel, args) = input.split_at(4);
    let methods: [(&str, fn(&[u8])); 7] =
        [("spawn", spawn), ("add", add), ("get", get), ("put", put), ("fail", fail), ("pay", pay), ("caller", caller)];
    for (name, method) in methods {
        if sel == selector(name) {
            method(args);
            host::return_data(&[]);
        }
    }
    let message = alloc::format!("athena: unknown selector 0x{:02x}{:02x}{:02x}{:02x}", sel[0], sel[1], sel[2], sel[3]);
    host::revert(message.as_bytes());
}

fn u64_arg(args: &[u8], at: usize) -> u64 {
    match args.get(at..at + 8).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
        Some(bytes) => u64::from_le_bytes(bytes),
        None => host::revert(b"athena: cannot decode the arguments"),
    }
}

fn spawn(_: &[u8]) {
    let mut state = [0u8; 8];
    // SAFETY: `state` is writable for its 8 bytes.
    let (n, _) = unsafe { host::syscall6(number::STATE_READ, [state.as_mut_ptr() as u32, 0, 8, 0, 0, 0]) };
    if n != 8 {
        host::revert(b"athena: cannot decode the state");
    }
    let start = u64::from_le_bytes(state);
    if start == 13 {
        host::revert(b"demo: unlucky start");
    }
    write_item(&item_key(b"count", &[]), &start.to_le_bytes());
    host::emit_log(&[host::blake3(b"spawned")], &start.to_le_bytes());
}

fn count() -> u64 {
    let slot = host::storage_read(&item_key(b"count", &[]));
    u64::from_le_bytes([slot[4], slot[5], slot[6], slot[7], slot[8], slot[9], slot[10], slot[11]])
}

fn add(args: &[u8]) {
    let Some(new) = count().checked_add(u64_arg(args, 0)) else {
        host::revert(b"demo: overflow");
    };
    write_item(&item_key(b"count", &[]), &new.to_le_bytes());
    host::emit_log(&[host::blake3(b"added")], &new.to_le_bytes());
    host::return_data(&new.to_le_bytes());
}

fn get(_: &[u8]) {
    host::return_data(&count().to_le_bytes());
}

fn put(args: &[u8]) {
    if args.len() < 5 {
        host::revert(b"athena: cannot decode the arguments");
    }
    // SCALE(u32) is the map key; the rest is SCALE(Vec<u8>), the value.
    let (key, value) = args.split_at(4);
    write_item(&item_key(b"entries", key), value);
}

fn fail(_: &[u8]) {
    write_item(&item_key(b"count", &[]), &999u64.to_le_bytes());
    host::revert(b"demo: failing on purpose");
}

fn pay(args: &[u8]) {
    let Some(to) = args.get(..24).and_then(|b| <[u8; 24]>::try_from(b).ok()) else {
        host::revert(b"athena: cannot decode the arguments");
    };
    let result = host::call(&to, &[], u64_arg(args, 24), host::GAS_ALL);
    if !result.is_success() {
        host::revert(b"demo: payment failed");
    }
}

fn caller(_: &[u8]) {
    host::return_data(&host::context().caller);
}

/// `blake3("athena/storage/" ‖ u32_le(len(name)) ‖ name ‖ key)`.
fn item_key(name: &[u8], key: &[u8]) -> Word {
    let mut preimage = Vec::with_capacity(15 + 4 + name.len() + key.len());
    preimage.extend_from_slice(b"athena/storage/");
    preimage.extend_from_slice(&(name.len() as u32).to_le_bytes());
    preimage.extend_from_slice(name);
    preimage.extend_from_slice(key);
    host::blake3(&preimage)
}

/// Slot `base` gets `u32_le(len + 1) ‖ encoded[..28]`, chunk `i` the next
/// 32 bytes at `base` with its big-endian tail incremented by `i`.
fn write_item(base: &Word, encoded: &[u8]) {
    let mut first = [0u8; 32];
    first[..4].copy_from_slice(&(encoded.len() as u32 + 1).to_le_bytes());
    let head = encoded.len().min(28);
    first[4..4 + head].copy_from_slice(&encoded[..head]);
    host::storage_write(base, &first);
    for (i, chunk) in encoded[head..].chunks(32).enumerate() {
        let mut key = *base;
        let tail = u32::from_be_bytes([key[28], key[29], key[30], key[31]]).wrapping_add(i as u32 + 1);
        key[28..].copy_from_slice(&tail.to_be_bytes());
        let mut slot = [0u8; 32];
        slot[..chunk.len()].copy_from_slice(chunk);
        host::storage_write(&key, &slot);
    }
}

//! Echo: a stateless template that returns what it is given, in every way
//! the method ABI allows, plus the failure paths and the host functions a
//! program uses to inspect its environment.
//!
//! * `echo`, `concat`, `raw`, `input`: SCALE results, raw return data and
//!   the raw call input;
//! * `fail`, `boom`, `unwrap_none`, `nth`: reverting with a message,
//!   panicking with a literal message, and a formatted panic (reported as
//!   `panicked at FILE:LINE:COL`, see docs/sdk.md "Panics");
//! * `remember`/`recall`/`forget`: a `Map<String, Vec<u8>>` in storage
//!   (values of any length, stored in chunks);
//! * `whoami`, `tx`, `block_hash`, `balances`, `hashes`,
//!   `check_signature`, `selector_of`: context records and precompiles
//!   (not `verify`: that name is a well-known method with a fixed ABI);
//! * `copy`, `fill`: exercise the SDK's compact `memcpy`/`memset` at every
//!   alignment.
#![cfg_attr(target_arch = "riscv32", no_std, no_main)]

use athena_sdk::prelude::*;

/// Notes by name.
static MEMO: Map<String, Vec<u8>> = Map::new("memo");

/// No state: every instance spawned from the empty state is the same.
#[derive(Encode, Decode)]
pub struct Echo;

#[template]
impl Echo {
    /// Returns `data` (SCALE: compact length, then the bytes).
    #[callable]
    pub fn echo(data: Vec<u8>) -> Vec<u8> {
        data
    }

    /// `a` followed by `b`.
    #[callable]
    pub fn concat(a: String, b: String) -> String {
        let mut out = a;
        out.push_str(&b);
        out
    }

    /// Returns the bytes of `data` without the SCALE length prefix a
    /// `Vec<u8>` result would get: `return_data` ends the frame with
    /// exactly the bytes given, bypassing the method's declared result.
    #[callable]
    pub fn raw(data: Vec<u8>) {
        athena_sdk::return_data(&data)
    }

    /// The whole call input, selector included, as a `Vec<u8>`: what
    /// `input()` sees. Takes no arguments, so the input is 4 bytes.
    #[callable]
    pub fn input() -> Vec<u8> {
        athena_sdk::input()
    }

    /// Reverts with `message`.
    #[callable]
    pub fn fail(message: String) {
        revert(&message)
    }

    /// Panics with the literal message `boom`: reverts with `boom`.
    #[callable]
    pub fn boom() {
        panic!("boom")
    }

    /// `Option::unwrap` on `None`: a literal core panic message.
    #[callable]
    pub fn unwrap_none() -> u8 {
        core::hint::black_box(None::<u8>).unwrap()
    }

    /// `data[index]`: out of bounds panics with a formatted message, which
    /// the default panic handler reports as its location.
    #[callable]
    pub fn nth(data: Vec<u8>, index: u32) -> u8 {
        data[index as usize]
    }

    /// Stores `value` under `key`.
    #[callable]
    pub fn remember(key: String, value: Vec<u8>) {
        MEMO.insert(&key, &value);
    }

    /// The value stored under `key`, if any.
    #[callable]
    pub fn recall(key: String) -> Option<Vec<u8>> {
        MEMO.get(&key)
    }

    /// Deletes `key`; returns whether it existed.
    #[callable]
    pub fn forget(key: String) -> bool {
        let existed = MEMO.contains(&key);
        MEMO.remove(&key);
        existed
    }

    /// The frame context: (own address, caller, value received, depth).
    #[callable]
    pub fn whoami() -> (Address, Address, u64, u32) {
        let c = context();
        (c.address, c.caller, c.value, c.depth)
    }

    /// The transaction context: (origin, block height, block timestamp,
    /// gas price).
    #[callable]
    pub fn tx() -> (Address, u64, u64, u64) {
        let t = athena_sdk::tx_context();
        (t.origin, t.block_height, t.block_timestamp, t.gas_price)
    }

    /// The hash of block `height` (zero if unknown).
    #[callable]
    pub fn block_hash(height: u64) -> [u8; 32] {
        athena_sdk::block_hash(height)
    }

    /// (own balance, balance of `other`).
    #[callable]
    pub fn balances(other: Address) -> (u64, u64) {
        (balance(), athena_sdk::balance_of(&other))
    }

    /// (SHA-256, BLAKE3) of `data`, from the precompiles.
    #[callable]
    pub fn hashes(data: Vec<u8>) -> ([u8; 32], [u8; 32]) {
        (athena_sdk::sha256(&data), athena_sdk::blake3(&data))
    }

    /// Whether `signature` is a valid Ed25519 signature of `message` under
    /// `public_key`.
    #[callable]
    pub fn check_signature(message: Vec<u8>, public_key: [u8; 32], signature: [u8; 64]) -> bool {
        athena_sdk::ed25519_verify(&message, &public_key, &signature)
    }

    /// The selector of `name`, computed at run time (BLAKE3 precompile).
    #[callable]
    pub fn selector_of(name: String) -> [u8; 4] {
        athena_sdk::selector(&name)
    }

    /// `data[offset..]` copied into a new buffer at each alignment of the
    /// destination (0..4): the four copies, concatenated.
    #[callable]
    pub fn copy(data: Vec<u8>, offset: u32) -> Vec<u8> {
        let src = data.get(offset as usize..).unwrap_or_default();
        let mut out = Vec::new();
        for shift in 0..4 {
            let mut buf = vec![0u8; shift + src.len()];
            buf[shift..].copy_from_slice(src);
            out.extend_from_slice(&buf[shift..]);
        }
        out
    }

    /// `len` copies of `byte`, written at destination alignment `shift`.
    #[callable]
    pub fn fill(byte: u8, len: u32, shift: u32) -> Vec<u8> {
        let shift = (shift % 4) as usize;
        let mut buf = vec![0xAAu8; shift + len as usize];
        for b in buf[shift..].iter_mut() {
            *b = byte;
        }
        buf.split_off(shift)
    }
}

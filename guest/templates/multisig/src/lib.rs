//! The k-of-n multisig account, as a library shared by two templates: the
//! `multisig` binary of this crate and the vesting account
//! (`guest/templates/vesting`), which is a multisig with one extra method.
//! Both have the same state layout, `(k: u8, keys: Vec<[u8; 32]>)`, so
//! they decode and validate it with the same code; only the `#[template]`
//! blocks (which must sit at each binary's root) are separate.
//!
//! Everything here is plain functions over the decoded state; nothing
//! depends on which template runs it. Revert messages say `multisig:`
//! for both templates (the vesting account *is* a multisig).
#![cfg_attr(target_arch = "riscv32", no_std)]

extern crate alloc;

use alloc::vec::Vec;
use athena_sdk::codec::{Compact, Decode, Error, Input};
use athena_sdk::{context, revert, selector, status, Address, CallResult};

/// Most keys a multisig may have: bounds the state, the spawn-time
/// duplicate check (quadratic) and `verify` (at most this many ed25519
/// checks, ~20 000 gas each, well inside the executor's 1 000 000 budget).
pub const MAX_KEYS: usize = 10;

/// Bytes of one authenticator entry: a key index and a 64-byte signature.
const ENTRY_LEN: usize = 1 + 64;

/// Decodes the state `SCALE((k: u8, keys: Vec<[u8; 32]>))`, refusing more
/// than [`MAX_KEYS`] keys before allocating. Same bytes as the derived
/// decoder, but the keys are copied straight into a vector of the right
/// size instead of going through the codec's generic `Vec` path: the
/// state is decoded by every `verify` and `max_spend`, so this is paid by
/// every transaction.
pub fn decode_state<I: Input>(input: &mut I) -> Result<(u8, Vec<[u8; 32]>), Error> {
    let k = input.read_byte()?;
    let Compact(n) = Compact::<u32>::decode(input)?;
    if n as usize > MAX_KEYS {
        return Err("multisig: too many keys".into());
    }
    let mut keys = alloc::vec![[0u8; 32]; n as usize];
    for key in &mut keys {
        input.read(key)?;
    }
    Ok((k, keys))
}

/// Whether `k` and `keys` form a usable k-of-n set: `1 ≤ k ≤ n ≤
/// MAX_KEYS` and no key appears twice (a duplicate would let one signer
/// count twice).
pub fn is_valid(k: u8, keys: &[[u8; 32]]) -> bool {
    let n = keys.len();
    if k == 0 || usize::from(k) > n || n > MAX_KEYS {
        return false;
    }
    for (i, key) in keys.iter().enumerate() {
        if keys[i + 1..].contains(key) {
            return false;
        }
    }
    true
}

/// Reverts a spawn whose state is not [`is_valid`]: the account creation
/// is undone, so no multisig with a degenerate key set ever exists.
pub fn check_spawn(k: u8, keys: &[[u8; 32]]) {
    if !is_valid(k, keys) {
        revert("multisig: need 1 <= k <= n <= 10 distinct keys");
    }
}

/// Whether `authenticator` carries `k` valid signatures of `message` by
/// distinct keys.
///
/// Layout: `SCALE(Vec<(u8, [u8; 64])>)` — a compact count, then per entry
/// the key's index in `keys` and its ed25519 signature. Exactly `k`
/// entries with strictly increasing indices: distinctness is then a
/// comparison with the previous entry, and every valid authenticator has
/// a single encoding. Any other shape (too few or too many entries, an
/// index repeated, out of order or out of range, trailing bytes) or one
/// bad signature is a refusal. The state is checked too, because
/// `verify` also runs for a self-spawn, before `spawn` could reject it.
pub fn verify(k: u8, keys: &[[u8; 32]], message: &[u8], authenticator: &[u8]) -> bool {
    if !is_valid(k, keys) {
        return false;
    }
    let mut rest = authenticator;
    let Ok(Compact(count)) = Compact::<u32>::decode(&mut rest) else {
        return false;
    };
    if count != u32::from(k) || rest.len() != usize::from(k) * ENTRY_LEN {
        return false;
    }
    let mut next = 0usize; // smallest index the next entry may use
    for entry in rest.chunks_exact(ENTRY_LEN) {
        let index = usize::from(entry[0]);
        let (Some(key), Ok(signature)) = (keys.get(index), <&[u8; 64]>::try_from(&entry[1..])) else {
            return false;
        };
        if index < next || !athena_sdk::ed25519_verify(message, key, signature) {
            return false;
        }
        next = index + 1;
    }
    true
}

/// The coins `payload` may move out of the account: `spend` → its
/// amount, `proxy` → its value, anything else → 0 (the other methods move
/// no coins of the account; unknown or undecodable calls revert anyway).
/// Same rules as the single-sig wallet.
pub fn max_spend(payload: &[u8]) -> u64 {
    let Some((selector, mut args)) = payload.split_first_chunk::<4>() else {
        return 0;
    };
    match *selector {
        selector!("spend") => match <(Address, u64)>::decode(&mut args) {
            Ok((_, amount)) if args.is_empty() => amount,
            _ => 0,
        },
        selector!("proxy") => proxy_value(args).unwrap_or(0),
        _ => 0,
    }
}

/// The `value` argument of an encoded `proxy(to, payload, value)` call,
/// read without copying the payload.
fn proxy_value(mut args: &[u8]) -> Option<u64> {
    Address::decode(&mut args).ok()?;
    let Compact(len) = Compact::<u32>::decode(&mut args).ok()?;
    args = args.get(len as usize..)?;
    let value = u64::decode(&mut args).ok()?;
    args.is_empty().then_some(value)
}

/// Reverts unless the account is calling itself: the executor runs a
/// transaction's payload with the principal as caller and callee (after
/// `verify` accepted k signatures), so any other caller is some other
/// program and must not act for the account.
pub fn only_self() {
    let ctx = context();
    if ctx.caller != ctx.address {
        revert("multisig: only the account itself may call this");
    }
}

/// Ends the frame after a failed call: the callee's revert data passes
/// through unchanged, other statuses get a short message.
#[cold]
pub fn fail(result: &CallResult) -> ! {
    match result.status {
        status::REVERT => athena_sdk::revert_data(&result.output),
        status::OUT_OF_GAS => revert("multisig: call ran out of gas"),
        status::INSUFFICIENT_BALANCE => revert("multisig: insufficient balance"),
        status::CALL_DEPTH_EXCEEDED => revert("multisig: call depth exceeded"),
        _ => revert("multisig: call failed"),
    }
}

/// `spend(to, amount)`: sends `amount` to `to` through its `deposit`
/// method (plain accounts ignore the input and keep the coins).
pub fn spend(to: &Address, amount: u64) {
    only_self();
    let result = athena_sdk::call(to, &selector!("deposit"), amount);
    if !result.is_success() {
        fail(&result)
    }
}

/// `proxy(to, payload, value)`: calls `to` with the raw input `payload`
/// and `value` coins; ends the frame with the callee's output unchanged,
/// or reverts with its revert data.
pub fn proxy(to: &Address, payload: &[u8], value: u64) -> ! {
    only_self();
    let result = athena_sdk::call(to, payload, value);
    if !result.is_success() {
        fail(&result)
    }
    athena_sdk::return_data(&result.output)
}

/// `deploy(code)`: deploys `code` as a template and returns its address.
pub fn deploy(code: &[u8]) -> Address {
    only_self();
    match athena_sdk::deploy(code) {
        Ok(template) => template,
        Err(_) => revert("multisig: deploy failed"),
    }
}

/// `spawn_program(template, state)`: spawns a program of `template` with
/// the encoded `state` and returns its address.
pub fn spawn_program(template: &Address, state: &[u8]) -> Address {
    only_self();
    match athena_sdk::spawn_raw(template, state) {
        Ok(program) => program,
        Err(_) => revert("multisig: spawn failed"),
    }
}

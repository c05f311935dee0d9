//! The k-of-n multisig account, as a library shared by two templates: the
//! `multisig` binary of this crate and the vesting account
//! (`guest/templates/vesting`), which is a multisig with one extra method.
//! Both have the same state layout, `(k: u8, keys: Vec<[u8; 32]>)`, so
//! they decode and validate it with the same code, and [`multisig_template!`]
//! writes the struct and the whole `#[template]` block of both (which must
//! sit at each binary's root): the multisig's own `spawn` and `verify`,
//! the principal accounts' shared methods (`guest/templates/common`) and
//! the caller's extra methods.
//!
//! Everything else here is plain functions over the decoded state; nothing
//! depends on which template runs it. Revert messages say `multisig:`
//! for both templates (the vesting account *is* a multisig).
#![cfg_attr(target_arch = "riscv32", no_std)]

extern crate alloc;

use alloc::vec::Vec;
use athena_sdk::codec::{Compact, Decode, Error, Input};
use athena_sdk::revert;
use template_common::account::AccountMessages;

/// The shared account code, for [`multisig_template!`]'s expansion.
#[doc(hidden)]
pub use template_common;

/// The messages of both templates: `multisig: only the account itself may
/// call this`, `multisig: call failed`, `multisig: spawn failed`, …
pub const MESSAGES: AccountMessages = template_common::account_messages!("multisig", "the account");

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

/// The multisig's template: `pub struct NAME { k, keys }` (SCALE-encoded
/// as `(u8, Vec<[u8; 32]>)`, decoded by [`decode_state`]) and its
/// `#[template]` block — `spawn` ([`check_spawn`]), `verify`
/// ([`verify`]), the items given, then the principal accounts' methods
/// (`max_spend`, `spend`, `proxy`, `deploy`, `spawn_program`, `deposit`,
/// with [`MESSAGES`]).
///
/// ```ignore
/// multisig::multisig_template! {
///     /// The vesting account.
///     pub struct Vesting;
///     impl {
///         #[callable]
///         pub fn drain_vault(vault: Address, to: Address, amount: u64) { … }
///     }
/// }
/// ```
///
/// The calling crate needs `use athena_sdk::prelude::*;`.
#[macro_export]
macro_rules! multisig_template {
    ($(#[$meta:meta])* pub struct $ty:ident; impl { $($items:tt)* }) => {
        $(#[$meta])*
        #[derive(Encode)]
        pub struct $ty {
            /// How many distinct keys must sign a transaction.
            pub k: u8,
            /// The ed25519 public keys (at most 10, distinct); an
            /// authenticator names them by index.
            pub keys: Vec<[u8; 32]>,
        }

        /// The derived layout, decoded by the multisig library
        /// (`decode_state`: cheaper, and bounded to 10 keys before
        /// allocating).
        impl Decode for $ty {
            fn decode<I: ::athena_sdk::codec::Input>(input: &mut I) -> Result<Self, ::athena_sdk::codec::Error> {
                let (k, keys) = $crate::decode_state(input)?;
                Ok($ty { k, keys })
            }
        }

        $crate::template_common::account_template! {
            messages: $crate::MESSAGES;
            impl $ty {
                /// Rejects degenerate key sets (`1 ≤ k ≤ n ≤ 10`, no
                /// duplicates).
                #[callable]
                pub fn spawn(&self) {
                    $crate::check_spawn(self.k, &self.keys)
                }

                /// Whether `authenticator` holds `k` valid signatures of
                /// `message` by distinct keys, in increasing key order.
                #[callable]
                pub fn verify(&self, message: Vec<u8>, authenticator: Vec<u8>) -> bool {
                    $crate::verify(self.k, &self.keys, &message, &authenticator)
                }

                $($items)*
            }
        }
    };
}

//! The single-signature wallet: a program owned by one ed25519 key.
//!
//! State (immutable, fixed at spawn): the owner's 32-byte ed25519 public
//! key. Its SCALE encoding is the 32 raw bytes, so the spawn arguments are
//! the key itself and the wallet's address is
//! `program_address(wallet template, public key)` (docs/addresses.md),
//! known before the wallet exists. No storage.
//!
//! Methods (docs/templates.md has the ABI table and gas figures):
//! * `verify(message, authenticator) -> bool`: the authenticator is one
//!   64-byte ed25519 signature of `message` by the key (the executor passes
//!   the transaction's signing bytes);
//! * `max_spend(payload) -> u64`: `spend` → its amount, `proxy` → its value,
//!   anything else (`deploy`, `spawn_program`, `spawn`, unknown or
//!   undecodable) → 0: those move no coins, and a call the wallet cannot
//!   decode reverts anyway;
//! * `spend(to, amount)`, `proxy(to, payload, value)`, `deploy(code)`,
//!   `spawn_program(template, state)`: only the wallet itself may call
//!   them, i.e. a transaction whose principal is this wallet (verified by
//!   `verify`), or the wallet through its own `proxy`;
//! * `deposit()`: accepts coins from anyone (what `spend` calls, so wallets
//!   can pay each other);
//! * `spawn`: the SDK's generated default (any 32-byte key is accepted).
//!
//! Everything but the state and `verify` is the principal accounts' shared
//! code (`guest/templates/common`, `account_template!`), with this
//! template's messages (`wallet: …`).
#![cfg_attr(target_arch = "riscv32", no_std, no_main)]

use athena_sdk::prelude::*;
use template_common::account::AccountMessages;

/// The template: the owner's public key is the whole state.
#[derive(Encode, Decode)]
pub struct Wallet {
    /// Ed25519 public key whose signatures authorise transactions.
    pub public_key: [u8; 32],
}

/// `wallet: only the wallet itself may call this`, `wallet: call failed`, …
const MESSAGES: AccountMessages = template_common::account_messages!("wallet", "the wallet");

template_common::account_template! {
    messages: MESSAGES;
    impl Wallet {
        /// Whether `authenticator` is a valid ed25519 signature of `message`
        /// by the owner's key (strict verification, via the host precompile).
        #[callable]
        pub fn verify(&self, message: Vec<u8>, authenticator: Vec<u8>) -> bool {
            let Ok(signature) = <[u8; 64]>::try_from(authenticator.as_slice()) else {
                return false;
            };
            athena_sdk::ed25519_verify(&message, &self.public_key, &signature)
        }
    }
}

//! The k-of-n multisig wallet: a program owned by `n` ed25519 keys, any
//! `k` of which authorise a transaction.
//!
//! State (immutable, fixed at spawn): `k` and the `n` public keys, SCALE
//! `(u8, Vec<[u8; 32]>)`. The address is `program_address(multisig
//! template, state)`, known (and fundable) before the account exists; its
//! first transaction is its self-spawn, signed like any other. `spawn`
//! rejects `k = 0`, `k > n`, `n > 10` and duplicate keys. No storage.
//!
//! Methods: the single-sig wallet's (`spend`, `proxy`, `deploy`,
//! `spawn_program`, `deposit`, `max_spend`), with the same ABI and rules;
//! only `verify` differs: the authenticator is `SCALE(Vec<(u8, [u8;
//! 64])>)`, exactly `k` (key index, signature) pairs with strictly
//! increasing indices, every signature valid for its key. The logic lives
//! in this crate's library (shared with the vesting account);
//! docs/templates.md has the tables.
#![cfg_attr(target_arch = "riscv32", no_std, no_main)]

use athena_sdk::prelude::*;

/// The template: the threshold and the keys are the whole state.
#[derive(Encode)]
pub struct Multisig {
    /// How many distinct keys must sign a transaction.
    pub k: u8,
    /// The ed25519 public keys (at most 10, distinct); an authenticator
    /// names them by index.
    pub keys: Vec<[u8; 32]>,
}

/// The derived layout, decoded by the multisig library (`decode_state`:
/// cheaper, and bounded to 10 keys before allocating).
impl Decode for Multisig {
    fn decode<I: athena_sdk::codec::Input>(input: &mut I) -> Result<Self, athena_sdk::codec::Error> {
        let (k, keys) = multisig::decode_state(input)?;
        Ok(Multisig { k, keys })
    }
}

#[template]
impl Multisig {
    /// Rejects degenerate key sets (`1 ≤ k ≤ n ≤ 10`, no duplicates).
    #[callable]
    pub fn spawn(&self) {
        multisig::check_spawn(self.k, &self.keys)
    }

    /// Whether `authenticator` holds `k` valid signatures of `message` by
    /// distinct keys, in increasing key order.
    #[callable]
    pub fn verify(&self, message: Vec<u8>, authenticator: Vec<u8>) -> bool {
        multisig::verify(self.k, &self.keys, &message, &authenticator)
    }

    /// The most coins the call `payload` may move: `spend` → amount,
    /// `proxy` → value, anything else → 0.
    #[callable]
    pub fn max_spend(&self, payload: Vec<u8>) -> u64 {
        multisig::max_spend(&payload)
    }

    /// Sends `amount` coins to `to` (its `deposit` method).
    #[callable]
    pub fn spend(to: Address, amount: u64) {
        multisig::spend(&to, amount)
    }

    /// Calls `to` with the raw input `payload` and `value` coins; returns
    /// the callee's output unchanged.
    #[callable]
    pub fn proxy(to: Address, payload: Vec<u8>, value: u64) {
        multisig::proxy(&to, &payload, value)
    }

    /// Deploys `code` as a template and returns its address.
    #[callable]
    pub fn deploy(code: Vec<u8>) -> Address {
        multisig::deploy(&code)
    }

    /// Spawns a program of `template` with the encoded `state`.
    #[callable]
    pub fn spawn_program(template: Address, state: Vec<u8>) -> Address {
        multisig::spawn_program(&template, &state)
    }

    /// Accepts coins from anyone.
    #[callable]
    pub fn deposit() {}
}

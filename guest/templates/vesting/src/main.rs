//! The vesting account: a k-of-n multisig (`guest/templates/multisig`)
//! that owns vaults (`guest/templates/vault`) and drains them.
//!
//! State: the multisig's, `(k: u8, keys: Vec<[u8; 32]>)`, validated the
//! same way. Every multisig method behaves exactly as in the multisig
//! template (same library code); the extra method is
//! `drain_vault(vault, to, amount)`: call `vault.drain(to, amount)`. The
//! vault accepts it only from its owner, i.e. this account, and only up to
//! what has vested. `max_spend` of `drain_vault` is 0: the coins leave the
//! vault, not this account.
//!
//! Why a template of its own when a multisig could `proxy` the same call:
//! the genesis design this follows (go-spacemesh's vesting + vault pair)
//! gives vesting accounts a named method, which wallets and explorers can
//! show as what it is, and costs one method (~150 bytes) on top of the
//! multisig.
#![cfg_attr(target_arch = "riscv32", no_std, no_main)]

use athena_sdk::prelude::*;

/// The template: the same state as the multisig.
#[derive(Encode)]
pub struct Vesting {
    /// How many distinct keys must sign a transaction.
    pub k: u8,
    /// The ed25519 public keys (at most 10, distinct).
    pub keys: Vec<[u8; 32]>,
}

/// The derived layout, decoded by the multisig library (`decode_state`:
/// cheaper, and bounded to 10 keys before allocating).
impl Decode for Vesting {
    fn decode<I: athena_sdk::codec::Input>(input: &mut I) -> Result<Self, athena_sdk::codec::Error> {
        let (k, keys) = multisig::decode_state(input)?;
        Ok(Vesting { k, keys })
    }
}

#[template]
impl Vesting {
    /// Rejects degenerate key sets (`1 ≤ k ≤ n ≤ 10`, no duplicates).
    #[callable]
    pub fn spawn(&self) {
        multisig::check_spawn(self.k, &self.keys)
    }

    /// Whether `authenticator` holds `k` valid signatures of `message` by
    /// distinct keys, in increasing key order (the multisig's layout).
    #[callable]
    pub fn verify(&self, message: Vec<u8>, authenticator: Vec<u8>) -> bool {
        multisig::verify(self.k, &self.keys, &message, &authenticator)
    }

    /// `spend` → amount, `proxy` → value, anything else (`drain_vault`
    /// included: it moves the vault's coins) → 0.
    #[callable]
    pub fn max_spend(&self, payload: Vec<u8>) -> u64 {
        multisig::max_spend(&payload)
    }

    /// Sends `amount` of the vault's vested coins to `to`: calls
    /// `vault.drain(to, amount)`, which checks that this account owns it.
    /// The vault's revert message passes through.
    #[callable]
    pub fn drain_vault(vault: Address, to: Address, amount: u64) {
        multisig::only_self();
        let result = call_method(&vault, selector!("drain"), &(to, amount), 0);
        if !result.is_success() {
            multisig::fail(&result)
        }
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

    /// Spawns a program of `template` with the encoded `state` (e.g. the
    /// account's vaults).
    #[callable]
    pub fn spawn_program(template: Address, state: Vec<u8>) -> Address {
        multisig::spawn_program(&template, &state)
    }

    /// Accepts coins from anyone.
    #[callable]
    pub fn deposit() {}
}

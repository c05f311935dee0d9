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
//! show as what it is, and costs one method (~580 bytes) on top of the
//! multisig.
#![cfg_attr(target_arch = "riscv32", no_std, no_main)]

use athena_sdk::prelude::*;
use multisig::MESSAGES;
use template_common::account::only_self;

multisig::multisig_template! {
    /// The template: the same state as the multisig.
    pub struct Vesting;
    impl {
        /// Sends `amount` of the vault's vested coins to `to`: calls
        /// `vault.drain(to, amount)`, which checks that this account owns
        /// it. The vault's revert message passes through. `max_spend` of
        /// it is 0: the coins leave the vault, not this account.
        #[callable]
        pub fn drain_vault(vault: Address, to: Address, amount: u64) {
            only_self(&MESSAGES);
            let result = call_method(&vault, selector!("drain"), &(to, amount), 0);
            if !result.is_success() {
                template_common::fail(&result, &MESSAGES.call)
            }
        }
    }
}

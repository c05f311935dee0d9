//! The vault: coins that vest linearly between two layers (block heights)
//! and can be drained only by the vault's owner, up to what has vested.
//!
//! State (immutable): `Vault { owner, total, start, end }`. At layer `h`
//! the vested amount is `0` for `h ≤ start`, `total` for `h ≥ end` (and
//! `h > start`: with `end = start` everything vests after that layer), and
//! `⌊total × (h − start) / (end − start)⌋` in between (exact; `spawn`
//! requires `start ≤ end ≤ start + 2³² − 1` so that it fits 64 bits). The **unvested** part, `total − vested`, is locked:
//! `spendable = balance − unvested` (0 if the balance is smaller). What
//! was already drained has left the balance, so it is not counted twice;
//! coins sent on top of `total` are spendable at once.
//!
//! Who drains: `drain(to, amount)` only from `owner`, as the immediate
//! caller. The owner is meant to be a vesting account (its `drain_vault`,
//! `guest/templates/vesting`), but any principal works (a wallet's or a
//! multisig's `proxy` to `drain`). The vault itself is never a principal:
//! `verify` always refuses, so a transaction naming the vault as principal
//! is ineffective, and its coins move only through `drain`.
//!
//! The vault is funded like any account: coins sent to its address before
//! or after it is spawned (`deposit()` accepts them from wallets).
#![cfg_attr(target_arch = "riscv32", no_std, no_main)]

use athena_sdk::prelude::*;
use template_common::{pay, CallFailures};

/// Longest vesting period, in layers: `2³² − 1` (tens of thousands of
/// years of 5-minute layers), so that the vesting arithmetic fits in 64
/// bits.
const MAX_SPAN: u64 = u32::MAX as u64;

/// The template: who owns the coins and how they vest.
#[derive(Encode, Decode)]
pub struct Vault {
    /// The only account that may drain the vault (its vesting account).
    pub owner: Address,
    /// The coins that vest; before `end`, the unvested part of it is
    /// locked in the balance.
    pub total: u64,
    /// Layer at which vesting starts (nothing is vested up to it).
    pub start: u64,
    /// Layer at which everything is vested; `start ≤ end ≤ start + 2³² − 1`
    /// (`end = start`: everything vests at once after that layer).
    pub end: u64,
}

impl Vault {
    /// How much of `total` has vested at layer `height`.
    fn vested_at(&self, height: u64) -> u64 {
        if height <= self.start {
            0
        } else if height >= self.end {
            self.total
        } else {
            // total × elapsed / span without 128-bit division (whose
            // runtime routine is ~1 KB of code): with total = q·span + r,
            // it is q·elapsed + r·elapsed / span, exactly. q·elapsed <
            // total and r·elapsed < span² < 2⁶⁴ (spawn bounds the span).
            let (elapsed, span) = (height - self.start, self.end - self.start);
            (self.total / span) * elapsed + (self.total % span) * elapsed / span
        }
    }

    /// What the owner may drain now: the balance minus the unvested part.
    fn spendable_now(&self) -> u64 {
        let unvested = self.total - self.vested_at(athena_sdk::tx_context().block_height);
        balance().saturating_sub(unvested)
    }
}

/// Every failure of `drain`'s transfer but a revert (whose data passes
/// through).
const TRANSFER_FAILED: CallFailures = CallFailures::same("vault: transfer failed");

template_common::non_principal_template! {
    impl Vault {
        /// Rejects `end < start` and periods over `2³² − 1` layers.
        #[callable]
        pub fn spawn(&self) {
            if self.end < self.start {
                revert("vault: vesting ends before it starts");
            }
            if self.end - self.start > MAX_SPAN {
                revert("vault: vesting lasts too long");
            }
        }

        /// Sends `amount` coins to `to` (its `deposit` method). Only the owner
        /// may call it, and only up to `spendable()`.
        #[callable]
        pub fn drain(&self, to: Address, amount: u64) {
            if caller() != self.owner {
                revert("vault: only the owner may drain the vault");
            }
            if amount > self.spendable_now() {
                revert("vault: amount exceeds the vested balance");
            }
            pay(&to, amount, &TRANSFER_FAILED)
        }

        /// The coins `drain` may move at the current layer.
        #[callable]
        pub fn spendable(&self) -> u64 {
            self.spendable_now()
        }

        /// How much of `total` has vested at the current layer.
        #[callable]
        pub fn vested(&self) -> u64 {
            self.vested_at(athena_sdk::tx_context().block_height)
        }

        /// Accepts coins from anyone (funding the vault).
        #[callable]
        pub fn deposit() {}
    }
}

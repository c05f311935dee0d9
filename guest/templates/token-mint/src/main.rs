//! The token mint: every program of this template *is* one token, named
//! by the mint's address. It sells the token for coins at a fixed price up
//! to a capped supply; the tokens themselves live in token wallets
//! (`guest/templates/token-wallet`), which the mint credits.
//!
//! State (immutable): `TokenMint { owner, price, cap }`. Storage: `supply`
//! (tokens sold so far, a `u64`).
//!
//! Buying (the January 2025 wiring): a user's wallet sends a transaction
//! `proxy(mint, buy(token_wallet), value)`; the wallet pays the fee and
//! calls `buy` with `value` coins; the mint computes `⌊value / price⌋`
//! tokens, checks the cap, records the supply and calls
//! `token_wallet.receive(mint, tokens)`. A token wallet accepts a credit of
//! token `M` only from `M` itself (or from another token wallet that
//! debited it), so no other program can mint this token.
//!
//! Coins: the whole `value` stays with the mint (`value mod price` is not
//! refunded: send multiples of the price); `owner` withdraws them with
//! `withdraw(to, amount)`.
#![cfg_attr(target_arch = "riscv32", no_std, no_main)]

use athena_sdk::prelude::*;
use template_common::{pay, token, CallFailures};

/// Tokens sold so far (≤ `cap`).
static SUPPLY: Value<u64> = Value::new("supply");

/// The template: who collects the coins, the price and the cap.
#[derive(Encode, Decode)]
pub struct TokenMint {
    /// May withdraw the coins paid for tokens (also makes mints of
    /// different owners distinct tokens even at the same price and cap).
    pub owner: Address,
    /// Coins per token; positive.
    pub price: u64,
    /// Most tokens that will ever exist; positive.
    pub cap: u64,
}

/// A failed nested call: the callee's revert data passes through, other
/// statuses get a short message.
const FAILURES: CallFailures =
    CallFailures { out_of_gas: "token-mint: call ran out of gas", ..CallFailures::same("token-mint: call failed") };

template_common::non_principal_template! {
    impl TokenMint {
        /// Rejects a zero price (tokens for free) or a zero cap (no token).
        #[callable]
        pub fn spawn(&self) {
            if self.price == 0 || self.cap == 0 {
                revert("token-mint: price and cap must be positive");
            }
        }

        /// Sells `⌊value / price⌋` tokens for the coins sent with the call and
        /// credits them to the token wallet `recipient` (its
        /// `receive(mint, amount)`); returns how many. Reverts — so the coins go
        /// back to the caller — if that is zero tokens, if it would exceed the
        /// cap, or if `recipient` does not accept them (it must be a spawned
        /// token wallet: an account without code would keep nothing).
        #[callable]
        pub fn buy(&self, recipient: Address) -> u64 {
            let ctx = context();
            let tokens = ctx.value / self.price;
            if tokens == 0 {
                revert("token-mint: value below the price of one token");
            }
            let supply = SUPPLY.get_or_default();
            if tokens > self.cap - supply {
                revert("token-mint: supply cap exceeded");
            }
            SUPPLY.set(&(supply + tokens));
            token::credit(&recipient, ctx.address, tokens, &FAILURES, "token-mint: recipient is not a token wallet");
            tokens
        }

        /// Tokens sold so far.
        #[callable]
        pub fn supply() -> u64 {
            SUPPLY.get_or_default()
        }

        /// Sends `amount` of the collected coins to `to` (its `deposit`
        /// method). Only the owner may call it.
        #[callable]
        pub fn withdraw(&self, to: Address, amount: u64) {
            if caller() != self.owner {
                revert("token-mint: only the owner may withdraw");
            }
            pay(&to, amount, &FAILURES)
        }
    }
}

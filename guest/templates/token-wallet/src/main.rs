//! The token wallet: one owner's balances of any number of tokens, each
//! keyed by the address of the mint that created it
//! (`guest/templates/token-mint`).
//!
//! State (immutable): `TokenWallet { owner }`, the address (a wallet or
//! multisig) that may transfer the tokens; the token wallet of an owner
//! is at `program_address(token-wallet template, owner)`, so anyone can
//! find and spawn it. Storage: `balances`, a `Map<Address, u64>` from mint
//! to amount.
//!
//! Who may credit (`receive(mint, amount)`), the rule that makes tokens
//! unforgeable:
//! * the mint itself: `caller == mint`. A program can only ever mint the
//!   token named by its own address, so "token `M`" means "whatever `M`'s
//!   code issued"; users trust a token by its mint's address, whose
//!   template (and so code) is fixed;
//! * another token wallet moving a balance: the caller runs this very
//!   template, and this template calls `receive` only from `transfer`,
//!   right after debiting the same amount of the same token. The wallet
//!   learns its own template by calling its own `caller_template` method
//!   (the host reports a caller's template, not the callee's), so no
//!   template address needs to be trusted from the state.
//!
//! By induction every balance in every token wallet was issued by its
//! mint. Anything else reverts: a third program crediting someone else's
//! token cannot.
//!
//! Calls are not coins: the owner's transactions reach `transfer` through
//! the owner's `proxy`, with value 0.
#![cfg_attr(target_arch = "riscv32", no_std, no_main)]

use athena_sdk::prelude::*;
use template_common::{token, CallFailures};

/// Token balances by mint address.
static BALANCES: Map<Address, u64> = Map::new("balances");

/// The template: the owner is the whole state.
#[derive(Encode, Decode)]
pub struct TokenWallet {
    /// The only caller `transfer` accepts.
    pub owner: Address,
}

/// A failed nested call: the callee's revert data passes through, other
/// statuses get a short message.
const FAILURES: CallFailures =
    CallFailures { out_of_gas: "token-wallet: call ran out of gas", ..CallFailures::same("token-wallet: call failed") };

/// This program's own template: `caller_template` as seen by a call to
/// itself.
fn own_template() -> Option<Address> {
    let own = athena_sdk::address();
    call_method(&own, selector!("caller_template"), &(), 0).decode::<Option<Address>>().flatten()
}

// Not a principal: its owner's transactions call it.
template_common::non_principal_template! {
    impl TokenWallet {
        /// Credits `amount` of token `mint`; returns the new balance (callers
        /// check for it: an account without code returns nothing). Only the
        /// mint itself, or a token wallet of this template (a transfer), may
        /// call it.
        #[callable]
        pub fn receive(mint: Address, amount: u64) -> u64 {
            let ctx = context();
            if ctx.caller != mint && (ctx.caller_template.is_none() || ctx.caller_template != own_template()) {
                revert("token-wallet: only the mint or a token wallet may credit tokens");
            }
            let Some(balance) = BALANCES.get_or_default(&mint).checked_add(amount) else {
                revert("token-wallet: balance overflow")
            };
            BALANCES.insert(&mint, &balance);
            balance
        }

        /// Moves `amount` of token `mint` to the token wallet `to` (its
        /// `receive`). Only the owner may call it; reverts if the balance is
        /// short or `to` is not a token wallet.
        #[callable]
        pub fn transfer(&self, mint: Address, to: Address, amount: u64) {
            if caller() != self.owner {
                revert("token-wallet: only the owner may transfer");
            }
            let balance = BALANCES.get_or_default(&mint);
            if amount > balance {
                revert("token-wallet: insufficient token balance");
            }
            BALANCES.insert(&mint, &(balance - amount));
            token::credit(&to, mint, amount, &FAILURES, "token-wallet: recipient is not a token wallet")
        }

        /// The balance of token `mint`.
        #[callable]
        pub fn balance_of(mint: Address) -> u64 {
            BALANCES.get_or_default(&mint)
        }

        /// The caller's template (`None` for an account without code). A
        /// token wallet calls this on itself to learn its own template; it
        /// tells any other caller only what it already knows.
        #[callable]
        pub fn caller_template() -> Option<Address> {
            context().caller_template
        }
    }
}

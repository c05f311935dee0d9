//! Code the standard templates (`guest/templates/*`) share, so that each
//! template's crate holds only what makes it different.
//!
//! * [`account`]: the principal accounts' methods — `spend`, `proxy`,
//!   `deploy`, `spawn_program`, `deposit` and `max_spend`, with the
//!   "only the account itself" rule — shared by the wallet, the multisig
//!   and the vesting account, and [`account_template!`] that adds them
//!   to a `#[template]` block;
//! * [`non_principal_template!`]: `verify` → `false`, `max_spend` → 0 for
//!   programs that act only when called (vault, token mint, token wallet);
//! * [`CallFailures`] / [`fail`] / [`pay`]: how a template ends its frame
//!   when a nested call fails, and paying coins to a `deposit` method;
//! * [`token`]: crediting tokens to a token wallet (token mint, token
//!   wallet).
//!
//! Every revert message stays the template's own (`wallet: …`,
//! `multisig: …`, `vault: …`): the templates pass their messages in, as
//! constants, so the shared code costs no bytes or gas over a copy.
//! Why macros for the method lists: `#[template]` must see every
//! `#[callable]` method inside one `impl` block at the binary's root, so
//! shared *methods* (not just functions) can only arrive by expansion.
#![cfg_attr(target_arch = "riscv32", no_std)]

extern crate alloc;

pub mod account;
pub mod token;

use athena_sdk::{revert, revert_data, selector, status, Address, CallResult};

/// The revert messages a template uses when a nested call did not succeed,
/// by the callee's status. A callee's revert data always passes through
/// unchanged instead ([`fail`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallFailures {
    /// The callee ran out of gas.
    pub out_of_gas: &'static str,
    /// The value exceeded this program's balance.
    pub insufficient_balance: &'static str,
    /// The call would have exceeded the depth limit.
    pub depth_exceeded: &'static str,
    /// Any other failure.
    pub other: &'static str,
}

impl CallFailures {
    /// One message for every status: for templates that do not tell the
    /// failures apart (update single fields with `..`).
    pub const fn same(message: &'static str) -> Self {
        CallFailures { out_of_gas: message, insufficient_balance: message, depth_exceeded: message, other: message }
    }
}

/// Ends the frame after a failed call: the callee's revert data passes
/// through unchanged (so the deepest message reaches the transaction's
/// receipt), other statuses revert with the template's message.
#[cold]
pub fn fail(result: &CallResult, messages: &CallFailures) -> ! {
    match result.status {
        status::REVERT => revert_data(&result.output),
        status::OUT_OF_GAS => revert(messages.out_of_gas),
        status::INSUFFICIENT_BALANCE => revert(messages.insufficient_balance),
        status::CALL_DEPTH_EXCEEDED => revert(messages.depth_exceeded),
        _ => revert(messages.other),
    }
}

/// Sends `amount` coins to `to` by calling its `deposit` method, the
/// payable convention of the standard templates (plain accounts ignore the
/// input and keep the coins; docs/templates.md, "Conventions"); [`fail`]s
/// the frame if the call does not succeed.
pub fn pay(to: &Address, amount: u64, messages: &CallFailures) {
    let result = athena_sdk::call(to, &selector!("deposit"), amount);
    if !result.is_success() {
        fail(&result, messages)
    }
}

/// `#[template]` for a program that is **not** a principal: adds
/// `verify` (always `false`, so a transaction naming the program is
/// ineffective) and `max_spend` (0, never asked) before the block's own
/// methods. The program acts only when called, and checks its callers
/// itself.
///
/// ```ignore
/// template_common::non_principal_template! {
///     impl Vault {
///         #[callable]
///         pub fn drain(&self, to: Address, amount: u64) { … }
///     }
/// }
/// ```
///
/// The calling crate needs `use athena_sdk::prelude::*;` (the methods
/// name `Vec`).
#[macro_export]
macro_rules! non_principal_template {
    (impl $ty:ident { $($items:tt)* }) => {
        #[::athena_sdk::template]
        impl $ty {
            /// Always false: this program is not a principal (a
            /// transaction naming it is ineffective); it acts only when
            /// called.
            #[callable]
            pub fn verify(&self, _message: Vec<u8>, _authenticator: Vec<u8>) -> bool {
                false
            }

            /// 0: never asked (`verify` refuses every transaction).
            #[callable]
            pub fn max_spend(&self, _payload: Vec<u8>) -> u64 {
                0
            }

            $($items)*
        }
    };
}

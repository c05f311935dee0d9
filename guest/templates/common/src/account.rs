//! The principal accounts' shared methods: what the wallet, the multisig
//! and the vesting account do alike once `verify` accepted a transaction.
//!
//! The executor runs a transaction's payload as a call from the principal
//! to itself, so every method here that acts for the account first checks
//! `caller == own address` ([`only_self`]): any other caller is some other
//! program. The rules and the ABI are the wallet's (docs/templates.md,
//! "Single-sig wallet"); each template keeps its own messages
//! ([`AccountMessages`], built by [`account_messages!`](crate::account_messages)).

use crate::{fail, pay, CallFailures};
use athena_sdk::codec::{Compact, Decode};
use athena_sdk::{context, revert, selector, Address};

/// The revert messages of one account template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountMessages {
    /// A caller other than the account itself.
    pub only_self: &'static str,
    /// A nested call (`spend`, `proxy`, …) that did not succeed.
    pub call: CallFailures,
    /// `deploy` refused by the host.
    pub deploy_failed: &'static str,
    /// `spawn_program` refused by the host or the template's `spawn`.
    pub spawn_failed: &'static str,
}

/// The [`AccountMessages`] of a template: `account_messages!("wallet",
/// "the wallet")` gives `wallet: only the wallet itself may call this`,
/// `wallet: call ran out of gas`, `wallet: insufficient balance`,
/// `wallet: call depth exceeded`, `wallet: call failed`,
/// `wallet: deploy failed` and `wallet: spawn failed` (string constants,
/// assembled at compile time).
#[macro_export]
macro_rules! account_messages {
    ($prefix:literal, $who:literal) => {
        $crate::account::AccountMessages {
            only_self: concat!($prefix, ": only ", $who, " itself may call this"),
            call: $crate::CallFailures {
                out_of_gas: concat!($prefix, ": call ran out of gas"),
                insufficient_balance: concat!($prefix, ": insufficient balance"),
                depth_exceeded: concat!($prefix, ": call depth exceeded"),
                other: concat!($prefix, ": call failed"),
            },
            deploy_failed: concat!($prefix, ": deploy failed"),
            spawn_failed: concat!($prefix, ": spawn failed"),
        }
    };
}

/// Reverts unless the account is calling itself: its own transaction
/// (after `verify` accepted it) or its own `proxy`.
pub fn only_self(messages: &AccountMessages) {
    let ctx = context();
    if ctx.caller != ctx.address {
        revert(messages.only_self);
    }
}

/// `spend(to, amount)`: sends `amount` to `to` through its `deposit`
/// method (plain accounts ignore the input and keep the coins).
pub fn spend(messages: &AccountMessages, to: &Address, amount: u64) {
    only_self(messages);
    pay(to, amount, &messages.call)
}

/// `proxy(to, payload, value)`: calls `to` with the raw input `payload`
/// and `value` coins; ends the frame with the callee's output unchanged
/// (raw bytes, not re-encoded), or reverts with its revert data.
pub fn proxy(messages: &AccountMessages, to: &Address, payload: &[u8], value: u64) -> ! {
    only_self(messages);
    let result = athena_sdk::call(to, payload, value);
    if !result.is_success() {
        fail(&result, &messages.call)
    }
    athena_sdk::return_data(&result.output)
}

/// `deploy(code)`: deploys `code` as a template and returns its address.
pub fn deploy(messages: &AccountMessages, code: &[u8]) -> Address {
    only_self(messages);
    match athena_sdk::deploy(code) {
        Ok(template) => template,
        Err(_) => revert(messages.deploy_failed),
    }
}

/// `spawn_program(template, state)`: spawns a program of `template` whose
/// immutable state is the encoded `state` and returns its address;
/// reverts if the template does not exist, the program exists already or
/// its `spawn` method rejects it.
pub fn spawn_program(messages: &AccountMessages, template: &Address, state: &[u8]) -> Address {
    only_self(messages);
    match athena_sdk::spawn_raw(template, state) {
        Ok(program) => program,
        Err(_) => revert(messages.spawn_failed),
    }
}

/// The coins the call `payload` may move out of the account: `spend` →
/// its amount, `proxy` → its value, anything else → 0 (`deploy`,
/// `spawn_program`, `deposit`, a template's own extra methods and `spawn`
/// move none of the account's coins; unknown or undecodable calls revert
/// anyway, and a reverting `max_spend` would fail the transaction).
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

/// `#[template]` for a principal account: the block's own methods (at
/// least `verify`; `spawn` and extras as needed), then the shared
/// `max_spend`, `spend`, `proxy`, `deploy`, `spawn_program` and
/// `deposit` with the account's `messages` (a path to an
/// [`AccountMessages`] constant).
///
/// ```ignore
/// const MESSAGES: AccountMessages = template_common::account_messages!("wallet", "the wallet");
///
/// template_common::account_template! {
///     messages: MESSAGES;
///     impl Wallet {
///         #[callable]
///         pub fn verify(&self, message: Vec<u8>, authenticator: Vec<u8>) -> bool { … }
///     }
/// }
/// ```
///
/// The calling crate needs `use athena_sdk::prelude::*;` (the methods
/// name `Vec` and `Address`).
#[macro_export]
macro_rules! account_template {
    (messages: $messages:path; impl $ty:ident { $($items:tt)* }) => {
        #[::athena_sdk::template]
        impl $ty {
            $($items)*

            /// The most coins the call `payload` may move: `spend` →
            /// amount, `proxy` → value, anything else → 0.
            #[callable]
            pub fn max_spend(&self, payload: Vec<u8>) -> u64 {
                $crate::account::max_spend(&payload)
            }

            /// Sends `amount` coins to `to` (calling its `deposit`
            /// method, which plain accounts ignore and wallets accept).
            #[callable]
            pub fn spend(to: Address, amount: u64) {
                $crate::account::spend(&$messages, &to, amount)
            }

            /// Calls `to` with the raw input `payload` (a method call:
            /// selector ‖ SCALE(args)), sending `value` coins. Returns the
            /// callee's output unchanged (raw bytes, not re-encoded), or
            /// reverts with the callee's revert data.
            #[callable]
            pub fn proxy(to: Address, payload: Vec<u8>, value: u64) {
                $crate::account::proxy(&$messages, &to, &payload, value)
            }

            /// Deploys `code` as a template and returns its address.
            #[callable]
            pub fn deploy(code: Vec<u8>) -> Address {
                $crate::account::deploy(&$messages, &code)
            }

            /// Spawns a program of `template` whose immutable state is the
            /// encoded `state` (for an SDK template, the SCALE encoding of
            /// its struct) and returns its address.
            #[callable]
            pub fn spawn_program(template: Address, state: Vec<u8>) -> Address {
                $crate::account::spawn_program(&$messages, &template, &state)
            }

            /// Accepts coins from anyone.
            #[callable]
            pub fn deposit() {}
        }
    };
}

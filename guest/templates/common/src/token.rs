//! Crediting tokens to a token wallet: what the token mint's `buy` and the
//! token wallet's `transfer` both end with (docs/templates.md, "Token mint
//! and token wallet").

use crate::{fail, CallFailures};
use athena_sdk::prelude::*;

/// Calls `recipient.receive(mint, amount)` and checks that it answered
/// with a balance. A call to an address without code succeeds with empty
/// output and would swallow the tokens, so anything but a `u64` reverts:
/// a failed call through [`fail`], a call that returned something else
/// with `not_a_token_wallet`.
pub fn credit(recipient: &Address, mint: Address, amount: u64, failures: &CallFailures, not_a_token_wallet: &str) {
    let result = call_method(recipient, selector!("receive"), &(mint, amount), 0);
    if result.decode::<u64>().is_none() {
        if !result.is_success() {
            fail(&result, failures)
        }
        revert(not_a_token_wallet)
    }
}

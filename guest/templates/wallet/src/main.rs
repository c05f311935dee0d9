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
#![cfg_attr(target_arch = "riscv32", no_std, no_main)]

use athena_sdk::codec::{Compact, Decode};
use athena_sdk::prelude::*;
use athena_sdk::status;

/// The template: the owner's public key is the whole state.
#[derive(Encode, Decode)]
pub struct Wallet {
    /// Ed25519 public key whose signatures authorise transactions.
    pub public_key: [u8; 32],
}

/// Reverts unless the wallet is calling itself: the executor runs a
/// transaction's payload with the principal as both caller and callee, so
/// any other caller is some other program and must not move the coins.
fn only_self() {
    let ctx = context();
    if ctx.caller != ctx.address {
        revert("wallet: only the wallet itself may call this");
    }
}

/// Ends the frame after a failed call: the callee's own revert data passes
/// through unchanged, other statuses get a short message.
#[cold]
fn fail(result: &CallResult) -> ! {
    match result.status {
        status::REVERT => athena_sdk::revert_data(&result.output),
        status::OUT_OF_GAS => revert("wallet: call ran out of gas"),
        status::INSUFFICIENT_BALANCE => revert("wallet: insufficient balance"),
        status::CALL_DEPTH_EXCEEDED => revert("wallet: call depth exceeded"),
        _ => revert("wallet: call failed"),
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

#[template]
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

    /// The most coins the call `payload` may move out of the wallet. The
    /// executor enforces it, so a too-small answer can only make a
    /// transaction fail, never let it spend more.
    #[callable]
    pub fn max_spend(&self, payload: Vec<u8>) -> u64 {
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

    /// Sends `amount` coins to `to` (calling its `deposit` method, which
    /// plain accounts ignore and wallets accept).
    #[callable]
    pub fn spend(to: Address, amount: u64) {
        only_self();
        let result = athena_sdk::call(&to, &selector!("deposit"), amount);
        if !result.is_success() {
            fail(&result)
        }
    }

    /// Calls `to` with the raw input `payload` (a method call: selector ‖
    /// SCALE(args)), sending `value` coins. Returns the callee's output
    /// unchanged (raw bytes, not re-encoded), or reverts with the callee's
    /// revert data.
    #[callable]
    pub fn proxy(to: Address, payload: Vec<u8>, value: u64) {
        only_self();
        let result = athena_sdk::call(&to, &payload, value);
        if !result.is_success() {
            fail(&result)
        }
        athena_sdk::return_data(&result.output)
    }

    /// Deploys `code` as a template and returns its address.
    #[callable]
    pub fn deploy(code: Vec<u8>) -> Address {
        only_self();
        match athena_sdk::deploy(&code) {
            Ok(template) => template,
            Err(_) => revert("wallet: deploy failed"),
        }
    }

    /// Spawns a program of `template` whose immutable state is the
    /// encoded `state` (for an SDK template, the SCALE encoding of its
    /// struct) and returns its address; reverts if the template does not
    /// exist, the program exists already or its `spawn` method rejects it.
    #[callable]
    pub fn spawn_program(template: Address, state: Vec<u8>) -> Address {
        only_self();
        match athena_sdk::spawn_raw(&template, &state) {
            Ok(program) => program,
            Err(_) => revert("wallet: spawn failed"),
        }
    }

    /// Accepts coins from anyone.
    #[callable]
    pub fn deposit() {}
}

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
//! increasing indices, every signature valid for its key. The struct, the
//! `#[template]` block and the logic live in this crate's library
//! (`multisig_template!`, shared with the vesting account; the wallet's
//! methods come from `guest/templates/common`); docs/templates.md has the
//! tables.
#![cfg_attr(target_arch = "riscv32", no_std, no_main)]

use athena_sdk::prelude::*;

multisig::multisig_template! {
    /// The template: the threshold and the keys are the whole state.
    pub struct Multisig;
    impl {}
}

//! Test fixture for the transaction executor (`crates/runtime/tests/tx_*.rs`),
//! not a template anyone should deploy: a principal whose `verify` or
//! `max_spend` misbehaves as its state says.
//!
//! State: `TestAuth { mode, salt }` (salt only makes addresses distinct).
//!
//! | mode | `verify` | `max_spend` |
//! |---|---|---|
//! | 0 | loops forever | 0 |
//! | 1 | reverts | 0 |
//! | 2 | true | loops forever |
//! | 3 | true | reverts |
//! | 4 | true | 0 (while `spend` moves coins: a lying template) |
//! | 5 | false | 0 |
//!
//! Other methods: `spend(to, amount)` sends coins with no authorisation
//! check; `spin()` writes storage and then loops forever (an out-of-gas
//! callee); `deposit()` accepts coins.
#![cfg_attr(target_arch = "riscv32", no_std, no_main)]

use athena_sdk::prelude::*;

/// Written by `spin` before it loops, to check that the write is undone.
static SPUN: Value<u64> = Value::new("spun");

/// The fixture's state.
#[derive(Encode, Decode)]
pub struct TestAuth {
    /// Which misbehaviour (see the module docs).
    pub mode: u8,
    /// Distinguishes programs of the same mode.
    pub salt: u64,
}

/// Burns gas until there is none left.
fn forever() -> ! {
    let mut n = 0u32;
    loop {
        n = core::hint::black_box(n.wrapping_add(1));
    }
}

#[template]
impl TestAuth {
    /// See the mode table.
    #[callable]
    pub fn verify(&self, _message: Vec<u8>, _authenticator: Vec<u8>) -> bool {
        match self.mode {
            0 => forever(),
            1 => revert("test-auth: verify reverts"),
            5 => false,
            _ => true,
        }
    }

    /// See the mode table.
    #[callable]
    pub fn max_spend(&self, _payload: Vec<u8>) -> u64 {
        match self.mode {
            2 => forever(),
            3 => revert("test-auth: max_spend reverts"),
            _ => 0,
        }
    }

    /// Sends `amount` coins to `to`, no questions asked.
    #[callable]
    pub fn spend(to: Address, amount: u64) {
        athena_sdk::call(&to, &selector!("deposit"), amount).unwrap_or_revert::<()>();
    }

    /// Writes storage, then runs out of gas.
    #[callable]
    pub fn spin() {
        SPUN.set(&1);
        forever()
    }

    /// Accepts coins from anyone.
    #[callable]
    pub fn deposit() {}
}

//! A counter: the SDK's smallest complete template.
//!
//! State (immutable, fixed at spawn): the `step` every increment adds,
//! which `spawn` requires to be positive. Storage (mutable): the running
//! `count` and, per caller, how many increments it made (`calls`). Every
//! increment emits a log with topic `blake3("counter/incremented")` and
//! data `SCALE((caller, new_count))`.
#![cfg_attr(target_arch = "riscv32", no_std, no_main)]

use athena_sdk::prelude::*;

/// The running total.
static COUNT: Value<u64> = Value::new("count");
/// Increments made by each caller.
static CALLS: Map<Address, u32> = Map::new("calls");

/// The template: its fields are the program's immutable state.
#[derive(Encode, Decode)]
pub struct Counter {
    /// What one increment adds.
    pub step: u64,
}

#[template]
impl Counter {
    /// Runs once, when the program is spawned: rejects a zero step and
    /// starts the count at zero.
    #[callable]
    pub fn spawn(&self) {
        if self.step == 0 {
            revert("counter: step must be positive");
        }
        COUNT.set(&0);
    }

    /// Adds `times * step` to the count; returns the new count.
    #[callable]
    pub fn increment(&self, times: u64) -> u64 {
        let Some(count) = times.checked_mul(self.step).and_then(|add| add.checked_add(COUNT.get_or_default())) else {
            revert("counter: overflow");
        };
        COUNT.set(&count);
        let who = caller();
        CALLS.insert(&who, &CALLS.get_or_default(&who).saturating_add(1));
        emit(&[topic("counter/incremented")], &(who, count));
        count
    }

    /// The current count.
    #[callable]
    pub fn get(&self) -> u64 {
        COUNT.get_or_default()
    }

    /// The step this program was spawned with.
    #[callable]
    pub fn step(&self) -> u64 {
        self.step
    }

    /// How many increments `who` made.
    #[callable]
    pub fn calls_of(who: Address) -> u32 {
        CALLS.get_or_default(&who)
    }
}

//! Spawner: creates programs from another template (a `counter`) and uses
//! them.
//!
//! State: the template to spawn from. Storage: the list of programs it
//! spawned (`spawned`). A counter's state is its `step`; this crate does
//! not depend on the counter crate, so it declares a struct with the same
//! SCALE encoding (`CounterState`): templates agree on encodings, not on
//! Rust types.
//!
//! Built with `#[template(format_panics)]`: a panic's formatted message
//! (say, `nth_spawned` out of range) is the revert message, at the cost of
//! `core::fmt` in the binary (docs/sdk.md, "Panics").
#![cfg_attr(target_arch = "riscv32", no_std, no_main)]

use athena_sdk::prelude::*;

/// Every program spawned so far, in order.
static SPAWNED: Value<Vec<Address>> = Value::new("spawned");

/// The spawner's immutable state.
#[derive(Encode, Decode)]
pub struct Spawner {
    /// The template `spawn_counter` spawns from.
    pub template: Address,
}

/// A counter's state (same encoding as `counter::Counter`).
#[derive(Encode)]
struct CounterState {
    step: u64,
}

#[template(format_panics)]
impl Spawner {
    /// Rejects a zero template address.
    #[callable]
    pub fn spawn(&self) {
        if self.template.is_zero() {
            revert("spawner: no template");
        }
    }

    /// Spawns a counter with `step`; returns its address. Reverts if the
    /// spawn fails (e.g. `step` 0, which the counter's `spawn` rejects, or
    /// a counter with that step already exists).
    #[callable]
    pub fn spawn_counter(&self, step: u64) -> Address {
        match self.try_spawn(step) {
            Ok(address) => address,
            Err(_) => revert("spawner: spawn failed"),
        }
    }

    /// Spawns a counter with `step`: its address, or the status of the
    /// failed spawn.
    #[callable]
    pub fn try_spawn(&self, step: u64) -> Result<Address, u32> {
        let address = spawn(&self.template, &CounterState { step })?;
        let mut spawned = SPAWNED.get_or_default();
        spawned.push(address);
        SPAWNED.set(&spawned);
        Ok(address)
    }

    /// Spawns a counter and increments it `times` times in one call:
    /// (its address, the count it returned).
    #[callable]
    pub fn spawn_and_increment(&self, step: u64, times: u64) -> (Address, u64) {
        let counter = self.spawn_counter(step);
        let count = call_method(&counter, selector!("increment"), &(times,), 0).unwrap_or_revert();
        (counter, count)
    }

    /// The programs spawned so far.
    #[callable]
    pub fn spawned() -> Vec<Address> {
        SPAWNED.get_or_default()
    }

    /// The `index`-th program spawned; panics (reverts with the formatted
    /// index-out-of-bounds message) past the end.
    #[callable]
    pub fn nth_spawned(index: u32) -> Address {
        SPAWNED.get_or_default()[index as usize]
    }
}

//! Caller: calls methods of other programs, forwarding value, and reports
//! what happened. Stateless.
//!
//! * `forward`: a raw call (any input, any value) returning the callee's
//!   status and output, whatever they are;
//! * `call_named`: the same, with the selector computed from a method name;
//! * `increment`: a typed call of a `counter`'s `increment`, reverting with
//!   the callee's own message if it reverts (`CallResult::unwrap_or_revert`);
//! * `try_increment`: the same, returning the failure instead of reverting.
#![cfg_attr(target_arch = "riscv32", no_std, no_main)]

use athena_sdk::prelude::*;

/// No state.
#[derive(Encode, Decode)]
pub struct Caller;

#[template]
impl Caller {
    /// Calls `target` with the raw `input`, sending `value` of this
    /// program's balance; returns the callee's status and output.
    #[callable]
    pub fn forward(target: Address, input: Vec<u8>, value: u64) -> (u32, Vec<u8>) {
        let result = athena_sdk::call(&target, &input, value);
        (result.status, result.output)
    }

    /// Calls method `method` of `target` with the SCALE-encoded `args`.
    #[callable]
    pub fn call_named(target: Address, method: String, args: Vec<u8>, value: u64) -> (u32, Vec<u8>) {
        let mut input = athena_sdk::selector(&method).to_vec();
        input.extend_from_slice(&args);
        let result = athena_sdk::call(&target, &input, value);
        (result.status, result.output)
    }

    /// `counter.increment(times)`, sending `value`; the callee's result, or
    /// this frame reverts with the callee's revert message.
    #[callable]
    pub fn increment(counter: Address, times: u64, value: u64) -> u64 {
        call_method(&counter, selector!("increment"), &(times,), value).unwrap_or_revert()
    }

    /// `counter.increment(times)`: `Ok(count)`, or `Err(message)` with the
    /// callee's revert message (or `status N` for other failures). The
    /// callee's effects are undone on failure; this frame goes on.
    #[callable]
    pub fn try_increment(counter: Address, times: u64) -> Result<u64, String> {
        let result = call_method(&counter, selector!("increment"), &(times,), 0);
        if let Some(count) = result.decode::<u64>() {
            return Ok(count);
        }
        Err(match result.revert_message() {
            Some(message) => message.into(),
            None => {
                let mut message = String::from("status ");
                message.push(char::from(b'0' + (result.status % 10) as u8));
                message
            }
        })
    }

    /// This program's balance.
    #[callable]
    pub fn balance() -> u64 {
        balance()
    }
}

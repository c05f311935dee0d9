//! Naive recursive Fibonacci: a call-heavy workload (deep recursion, many
//! stack frames) whose result a host test recomputes.
//!
//! Input: `n` as a little-endian `u32` (default 20 when the input is
//! empty). Output: `fib(N) = V\n`, with `fib(0) = 0`, `fib(1) = 1` and
//! wrapping `u64` addition.
#![no_std]
#![no_main]

use athena_guest_rt::{input_u32_le, println};

athena_guest_rt::entry!(main);

/// Default `n` when the run has no input.
const DEFAULT_N: u32 = 20;

fn main() {
    let n = input_u32_le().unwrap_or(DEFAULT_N);
    println!("fib({}) = {}", n, fib(core::hint::black_box(n)));
}

/// Deliberately the exponential recursion, not a loop: the point is the work.
fn fib(n: u32) -> u64 {
    if n < 2 {
        u64::from(n)
    } else {
        fib(n - 1).wrapping_add(fib(n - 2))
    }
}

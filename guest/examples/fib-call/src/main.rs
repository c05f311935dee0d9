//! Fibonacci through cross-contract recursion: every `fib(n)` with `n >= 2`
//! is computed by two `CALL`s to the program's own address, so the call
//! depth reaches `n - 1` and the engine's depth limit is reachable.
//!
//! Input: `n` as a little-endian `u32` (zero-extended if shorter; 0 if
//! empty). Output (return data): `fib(n)` as a little-endian `u64`, with
//! `fib(0) = 0`, `fib(1) = 1` and wrapping addition.
//!
//! If an inner call does not succeed, the frame reverts: with the inner
//! revert data if the inner frame reverted (so the deepest failure travels
//! up unchanged), otherwise with the inner status as a little-endian `u32`.
//! A caller of `fib-call` therefore sees, e.g., `revert` with data
//! `6u32` when some frame hit the depth limit.
#![no_std]
#![no_main]

use athena_guest_rt::host::{call, context, return_data, revert, status, GAS_ALL};

athena_guest_rt::entry!(main);

fn main() {
    let n = athena_guest_rt::input_u32_le().unwrap_or(0);
    if n < 2 {
        return_data(&u64::from(n).to_le_bytes());
    }
    let own = context().address;
    let a = fib(&own, n - 1);
    let b = fib(&own, n - 2);
    return_data(&a.wrapping_add(b).to_le_bytes());
}

/// `fib(n)` computed by a call to `own`; reverts this frame if it fails.
fn fib(own: &[u8; 24], n: u32) -> u64 {
    let result = call(own, &n.to_le_bytes(), 0, GAS_ALL);
    if result.status == status::REVERT {
        revert(&result.output);
    }
    if !result.is_success() {
        revert(&result.status.to_le_bytes());
    }
    match <[u8; 8]>::try_from(result.output.as_slice()) {
        Ok(bytes) => u64::from_le_bytes(bytes),
        Err(_) => revert(b"fib-call: callee returned malformed data"),
    }
}

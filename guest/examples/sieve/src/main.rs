//! Sieve of Eratosthenes: a memory- and loop-heavy workload on a heap
//! `Vec<bool>`, exercising the allocator.
//!
//! Input: `limit` as a little-endian `u32` (default 100000 when the input
//! is empty). Output: `primes below LIMIT: COUNT\n`, counting primes `p`
//! with `p < limit`.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec;
use athena_guest_rt::{input_u32_le, println};

athena_guest_rt::entry!(main);

/// Default `limit` when the run has no input.
const DEFAULT_LIMIT: u32 = 100_000;

fn main() {
    let limit = input_u32_le().unwrap_or(DEFAULT_LIMIT);
    println!("primes below {}: {}", limit, count_primes(limit as usize));
}

/// Number of primes below `limit`.
fn count_primes(limit: usize) -> usize {
    if limit < 3 {
        return 0;
    }
    let mut composite = vec![false; limit];
    let mut i = 2;
    while i * i < limit {
        if !composite[i] {
            let mut j = i * i;
            while j < limit {
                composite[j] = true;
                j += i;
            }
        }
        i += 1;
    }
    composite[2..].iter().filter(|&&c| !c).count()
}

//! Prime sieve: count primes below a limit.

use alloc::vec;

/// The limit the benchmark uses.
pub const LIMIT: u32 = 1_000_000;

/// Number of primes below `limit` (Sieve of Eratosthenes over a byte array).
pub fn count_primes(limit: u32) -> u32 {
    let n = limit as usize;
    if n < 3 {
        return 0;
    }
    let mut composite = vec![0u8; n];
    let mut count = 0;
    let mut i = 2;
    while i < n {
        if composite[i] == 0 {
            count += 1;
            // `i <= n / i` rather than `i * i < n`: no overflow on 32-bit.
            if i <= (n - 1) / i {
                let mut j = i * i;
                while j < n {
                    composite[j] = 1;
                    j += i;
                }
            }
        }
        i += 1;
    }
    count
}

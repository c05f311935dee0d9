//! SHA-256 of a fixed 64 KiB buffer with the `sha2` crate: a
//! compute-heavy workload built from an ordinary third-party `no_std` crate.
//!
//! The buffer is 65536 bytes where byte `i` is `(i * 31 + 7) mod 256`; it is
//! built on the heap. Output: the lowercase hex digest and `\n`. A host test
//! computes the same digest with the same formula.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;
use athena_guest_rt::{write, Fd};
use sha2::{Digest, Sha256};

athena_guest_rt::entry!(main);

/// Size of the hashed buffer.
const LEN: usize = 64 * 1024;

fn main() {
    let data: Vec<u8> = (0..LEN).map(|i| (i.wrapping_mul(31).wrapping_add(7) % 256) as u8).collect();
    let digest = Sha256::digest(&data);

    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut line = [0u8; 65];
    for (i, byte) in digest.iter().enumerate() {
        line[2 * i] = HEX[usize::from(byte >> 4)];
        line[2 * i + 1] = HEX[usize::from(byte & 0xf)];
    }
    line[64] = b'\n';
    write(Fd::Stdout, &line);
}

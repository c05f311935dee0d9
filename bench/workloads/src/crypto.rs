//! Hashing and signature workloads (portable software implementations on
//! every engine, native included: `sha2` is built with `force-soft`).

use alloc::vec;
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::Digest;

use crate::rng::SplitMix64;

/// Bytes hashed by the hash workloads.
pub const HASH_INPUT_LEN: usize = 1 << 20;

/// The message signed by [`SIGNATURE`].
pub const MESSAGE: &[u8] = b"athena bench: ed25519 verify inside the guest, no precompile";

/// Public key of the fixed ed25519 key pair (seed `i*37+11` for byte `i`).
pub const PUBLIC_KEY: [u8; 32] = [
    36, 195, 164, 148, 250, 34, 153, 98, 102, 68, 185, 101, 169, 19, 45, 167, 156, 254, 103, 21, 31, 220, 66, 222, 96,
    12, 240, 144, 151, 219, 130, 71,
];

/// Signature of [`MESSAGE`] under [`PUBLIC_KEY`].
pub const SIGNATURE: [u8; 64] = [
    176, 42, 216, 234, 94, 160, 193, 78, 120, 186, 95, 246, 213, 83, 172, 123, 247, 223, 110, 230, 67, 223, 208, 207,
    60, 16, 188, 32, 200, 134, 244, 125, 204, 208, 74, 106, 144, 163, 114, 95, 171, 92, 87, 20, 181, 157, 132, 155, 25,
    27, 135, 225, 165, 173, 26, 255, 46, 151, 133, 216, 222, 11, 239, 15,
];

fn hash_input() -> alloc::vec::Vec<u8> {
    let mut data = vec![0u8; HASH_INPUT_LEN];
    SplitMix64(0xA7E4A).fill(&mut data);
    data
}

fn first_u64(digest: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(b)
}

/// SHA-256 of the generated input; the first 8 digest bytes as a checksum.
pub fn sha256_checksum() -> u64 {
    first_u64(&sha2::Sha256::digest(hash_input()))
}

/// Keccak-256 of the generated input; the first 8 digest bytes as a checksum.
pub fn keccak256_checksum() -> u64 {
    first_u64(&sha3::Keccak256::digest(hash_input()))
}

/// Verifies [`SIGNATURE`] (strictly); returns 1 when valid, 0 otherwise.
pub fn ed25519_verify_checksum() -> u64 {
    ed25519_verify(&PUBLIC_KEY, MESSAGE, &SIGNATURE) as u64
}

/// Strict ed25519 verification of `sig` over `msg` under `public_key`.
pub fn ed25519_verify(public_key: &[u8; 32], msg: &[u8], sig: &[u8; 64]) -> bool {
    let Ok(key) = VerifyingKey::from_bytes(public_key) else {
        return false;
    };
    key.verify_strict(msg, &Signature::from_bytes(sig)).is_ok()
}

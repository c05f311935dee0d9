//! Precompiles against the reference crates, and their gas schedule.

mod common;

use athena_engine::abi::number as n;
use athena_engine::{execute, gas};
use athena_interface::mock::MockHost;
use athena_interface::{ExecutionResult, Revision, StatusCode};
use common::*;
use ed25519_dalek::{Signer, SigningKey};
use sha2::Digest;

/// Hashes `input` with precompile `number` inside a guest; returns the
/// digest and the frame's result.
fn guest_hash(number: u32, input: &[u8]) -> ([u8; 32], ExecutionResult) {
    let out = DATA + 0x1_0000;
    let code = script(&[sys(number, &[DATA, input.len() as u32, out]), sys(n::RETURN, &[out, 32])], input);
    let result = execute(&mut MockHost::new(), Revision::LATEST, &message(addr(1), &[], GAS), &code);
    assert_eq!(result.status, StatusCode::Success, "{result:?}");
    (result.output.clone().try_into().unwrap(), result)
}

fn inputs() -> Vec<Vec<u8>> {
    [0usize, 1, 55, 63, 64, 65, 1000, 4096, 0x8000]
        .iter()
        .map(|&len| (0..len).map(|i| (i * 7 + len) as u8).collect())
        .collect()
}

#[test]
fn sha256_matches_the_sha2_crate() {
    for input in inputs() {
        let (digest, _) = guest_hash(n::SHA256, &input);
        assert_eq!(digest, <[u8; 32]>::from(sha2::Sha256::digest(&input)), "len {}", input.len());
    }
}

#[test]
fn blake3_matches_the_blake3_crate() {
    for input in inputs() {
        let (digest, _) = guest_hash(n::BLAKE3, &input);
        assert_eq!(digest, *blake3::hash(&input).as_bytes(), "len {}", input.len());
    }
}

#[test]
fn hashes_cost_base_plus_per_block() {
    for (number, per_block) in [(n::SHA256, gas::SHA256_PER_BLOCK), (n::BLAKE3, gas::BLAKE3_PER_BLOCK)] {
        let used = |len: usize| GAS - guest_hash(number, &vec![1u8; len]).1.gas_left;
        assert_eq!(used(64), used(1), "one started block either way");
        assert_eq!(used(65) - used(64), per_block);
        assert_eq!(used(640) - used(64), 9 * per_block);
    }
}

/// Verifies inside a guest; data: message at 0, key at 0x1000, sig at 0x1100.
fn guest_verify(message: &[u8], key: &[u8; 32], signature: &[u8; 64]) -> (u32, u64) {
    let mut data = vec![0u8; 0x1200];
    data[..message.len()].copy_from_slice(message);
    data[0x1000..0x1020].copy_from_slice(key);
    data[0x1100..0x1140].copy_from_slice(signature);
    let ops = [sys(n::ED25519_VERIFY, &[DATA, message.len() as u32, DATA + 0x1000, DATA + 0x1100])];
    let result = execute(&mut MockHost::new(), Revision::LATEST, &message_to(), &script(&ops, &data));
    assert_eq!(result.status, StatusCode::Success, "{result:?}");
    (results(&result.output)[0].0, GAS - result.gas_left)
}

fn message_to() -> athena_interface::Message {
    message(addr(1), &[], GAS)
}

#[test]
fn ed25519_accepts_valid_and_rejects_invalid_signatures() {
    let key = SigningKey::from_bytes(&[42; 32]);
    let public = key.verifying_key().to_bytes();
    let msg = b"athena host functions";
    let sig = key.sign(msg).to_bytes();
    assert_eq!(guest_verify(msg, &public, &sig).0, 1);
    assert_eq!(guest_verify(b"", &public, &key.sign(b"").to_bytes()).0, 1);

    let mut bad_msg = *msg;
    bad_msg[0] ^= 1;
    assert_eq!(guest_verify(&bad_msg, &public, &sig).0, 0, "altered message");
    let mut bad_sig = sig;
    bad_sig[5] ^= 0x10;
    assert_eq!(guest_verify(msg, &public, &bad_sig).0, 0, "altered signature");
    let other = SigningKey::from_bytes(&[43; 32]).verifying_key().to_bytes();
    assert_eq!(guest_verify(msg, &other, &sig).0, 0, "wrong key");
    // Not a point on the curve: invalid, not an error.
    let not_a_point = (2u8..)
        .map(|y| {
            let mut k = [0u8; 32];
            k[0] = y;
            k
        })
        .find(|k| ed25519_dalek::VerifyingKey::from_bytes(k).is_err())
        .unwrap();
    assert_eq!(guest_verify(msg, &not_a_point, &sig).0, 0);
    // Non-canonical S (S + L) is rejected by the strict rule.
    let mut malleated = sig;
    let l: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut carry = 0u16;
    for i in 0..32 {
        let s = u16::from(malleated[32 + i]) + u16::from(l[i]) + carry;
        malleated[32 + i] = s as u8;
        carry = s >> 8;
    }
    assert_eq!(guest_verify(msg, &public, &malleated).0, 0);
}

#[test]
fn ed25519_costs_base_plus_per_block_of_message() {
    let key = SigningKey::from_bytes(&[1; 32]);
    let public = key.verifying_key().to_bytes();
    let short = vec![3u8; 64];
    let long = vec![3u8; 64 * 11];
    let (ok_short, gas_short) = guest_verify(&short, &public, &key.sign(&short).to_bytes());
    let (ok_long, gas_long) = guest_verify(&long, &public, &key.sign(&long).to_bytes());
    assert_eq!((ok_short, ok_long), (1, 1));
    assert_eq!(gas_long - gas_short, 10 * gas::ED25519_VERIFY_PER_BLOCK);
    assert!(gas_short > gas::ED25519_VERIFY);
}

//! Sanity checks of the workloads on the host.

use bench_workloads::{crypto, sieve, transfers, Workload};
use ed25519_dalek::{Signer, SigningKey};

#[test]
fn sieve_counts_known_values() {
    assert_eq!(sieve::count_primes(100), 25);
    assert_eq!(sieve::count_primes(sieve::LIMIT), 78_498);
}

#[test]
fn fixed_signature_matches_fixed_key() {
    let seed: [u8; 32] = core::array::from_fn(|i| (i as u8).wrapping_mul(37).wrapping_add(11));
    let sk = SigningKey::from_bytes(&seed);
    assert_eq!(sk.verifying_key().to_bytes(), crypto::PUBLIC_KEY);
    assert_eq!(sk.sign(crypto::MESSAGE).to_bytes(), crypto::SIGNATURE);
    assert_eq!(Workload::Ed25519Verify.run(), 1);
}

#[test]
fn tampered_signature_fails() {
    let mut sig = crypto::SIGNATURE;
    sig[5] ^= 1;
    assert!(!crypto::ed25519_verify(&crypto::PUBLIC_KEY, crypto::MESSAGE, &sig));
}

#[test]
fn transfers_are_deterministic_and_apply_some() {
    assert_eq!(transfers::run(10, 100), transfers::run(10, 100));
    assert_ne!(transfers::run(10, 100), transfers::run(10, 101));
}

#[test]
fn ids_round_trip_and_unknown_id_is_max() {
    for w in Workload::ALL {
        assert_eq!(Workload::from_id(w as u32), Some(w));
    }
    assert_eq!(bench_workloads::run(0), u64::MAX);
}

#[test]
fn load_program_runs_exactly_its_workloads() {
    for w in Workload::ALL {
        let expected = if bench_workloads::LOAD_PROGRAM.contains(&w) { w.run() } else { u64::MAX };
        assert_eq!(bench_workloads::run_load_program(w as u32), expected, "{}", w.name());
    }
    assert_eq!(bench_workloads::run_load_program(0), u64::MAX);
}

//! The benchmark workloads, written once as plain `no_std` functions.
//!
//! Every engine runs exactly this code: the native runner calls it directly,
//! and each guest crate in `bench/guests/` wraps [`run`] in that VM's calling
//! convention. Every workload returns a `u64` checksum so that each engine's
//! result can be cross-checked against native.
//!
//! Inputs are fixed constants or generated deterministically inside the
//! workload, so no host I/O is needed beyond passing the workload id in and
//! the checksum out.

#![no_std]

extern crate alloc;

#[cfg(feature = "bump-alloc")]
pub mod bump;
pub mod crypto;
pub mod rng;
pub mod sieve;
pub mod transfers;

/// One benchmark workload. The discriminant is the id passed to guests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Workload {
    /// Count primes below [`sieve::LIMIT`] with a byte sieve.
    Sieve = 1,
    /// SHA-256 over [`crypto::HASH_INPUT_LEN`] bytes.
    Sha256 = 2,
    /// Keccak-256 over [`crypto::HASH_INPUT_LEN`] bytes.
    Keccak256 = 3,
    /// One ed25519 signature verification, in software.
    Ed25519Verify = 4,
    /// [`transfers::TRANSFERS`] token transfers over a `BTreeMap` of balances.
    Transfers = 5,
}

impl Workload {
    /// Every workload, in report order.
    pub const ALL: [Workload; 5] =
        [Workload::Sieve, Workload::Sha256, Workload::Keccak256, Workload::Ed25519Verify, Workload::Transfers];

    /// The workload with id `id`, if any.
    pub fn from_id(id: u32) -> Option<Workload> {
        Self::ALL.iter().copied().find(|w| *w as u32 == id)
    }

    /// Short name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Sieve => "sieve",
            Workload::Sha256 => "sha256",
            Workload::Keccak256 => "keccak256",
            Workload::Ed25519Verify => "ed25519",
            Workload::Transfers => "transfers",
        }
    }

    /// One-line description for the report.
    pub fn describe(self) -> &'static str {
        match self {
            Workload::Sieve => "count primes below 1,000,000 (byte sieve)",
            Workload::Sha256 => "SHA-256 of 1 MiB (sha2, soft)",
            Workload::Keccak256 => "Keccak-256 of 1 MiB (sha3)",
            Workload::Ed25519Verify => "ed25519 verify x1 (ed25519-dalek, serial)",
            Workload::Transfers => "10,000 transfers over a BTreeMap<[u8;32],u64>",
        }
    }

    /// Runs the workload and returns its checksum.
    pub fn run(self) -> u64 {
        match self {
            Workload::Sieve => sieve::count_primes(sieve::LIMIT) as u64,
            Workload::Sha256 => crypto::sha256_checksum(),
            Workload::Keccak256 => crypto::keccak256_checksum(),
            Workload::Ed25519Verify => crypto::ed25519_verify_checksum(),
            Workload::Transfers => transfers::run(transfers::ACCOUNTS, transfers::TRANSFERS),
        }
    }
}

/// Runs workload `id` and returns its checksum, or `u64::MAX` for an
/// unknown id. This is the entry point every full guest wraps.
pub fn run(id: u32) -> u64 {
    match Workload::from_id(id) {
        Some(w) => w.run(),
        None => u64::MAX,
    }
}

/// The workloads linked into the `load` program, the smaller guest the
/// `load`/`cold` tasks measure: every workload but ed25519, 44.6 KiB as
/// Athena's stripped riscv32em ELF. ed25519 alone is 127 KiB there
/// (SHA-512's 64-bit rounds unrolled into RV32 code), so it stays out.
pub const LOAD_PROGRAM: [Workload; 4] = [Workload::Sieve, Workload::Sha256, Workload::Keccak256, Workload::Transfers];

/// Entry point of the `load` program: [`run`] restricted to
/// [`LOAD_PROGRAM`], so that only those workloads' code is linked in (any
/// other id returns `u64::MAX`, like an unknown one).
pub fn run_load_program(id: u32) -> u64 {
    match Workload::from_id(id) {
        Some(Workload::Sieve) => Workload::Sieve.run(),
        Some(Workload::Sha256) => Workload::Sha256.run(),
        Some(Workload::Keccak256) => Workload::Keccak256.run(),
        Some(Workload::Transfers) => Workload::Transfers.run(),
        _ => u64::MAX,
    }
}

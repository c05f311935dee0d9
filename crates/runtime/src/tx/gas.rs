//! Gas a transaction pays outside the VM (intrinsic gas), and the budgets
//! of its `verify` and `max_spend` runs.
//!
//! Consensus constants, like `athena_engine::gas`: every node must use the
//! same numbers, and once a chain is live they change only under a new
//! `Revision`. Normative description: docs/transactions.md, "Gas".

use athena_engine::gas as vm;

/// Paid by every effective transaction: decoding, the
/// principal's account record (read, nonce and balance written), the fee
/// recipient's record, and starting the `verify` and `max_spend` frames.
/// About two account reads (2 × 500) and two record writes (2 × 2 500) of
/// the VM's storage prices, plus two frame set-ups.
pub const TX_BASE: u64 = 10_000;

/// Paid per byte of the encoded transaction: it is gossiped to and stored
/// by every node forever, like the bytes of a program's state or a log
/// (`SPAWN_PER_BYTE`, `LOG_PER_BYTE`).
pub const TX_PER_BYTE: u64 = 8;

/// Most gas `verify` may use (never more than what the gas limit leaves
/// after the intrinsic gas). Bounds the work a node spends on a
/// transaction that may turn out ineffective, i.e. unpaid: a signature
/// check costs 20 000 (`ED25519_VERIFY`), so this leaves room for dozens of
/// them (multisig) and for the code around them.
pub const VERIFY_GAS_LIMIT: u64 = 1_000_000;

/// Most gas `max_spend` may use (never more than what is left of the gas
/// limit). It only decodes the payload, so it needs far less.
pub const MAX_SPEND_GAS_LIMIT: u64 = 1_000_000;

/// The intrinsic gas of a transaction whose encoding is `tx_len` bytes
/// long: [`TX_BASE`] + [`TX_PER_BYTE`] × `tx_len`, plus for a self-spawn
/// with a state of `spawn_state_len` bytes what a guest's `SPAWN` pays
/// before the callee runs (`SPAWN` + `SPAWN_PER_BYTE` × state length), so
/// creating a program costs the same from a transaction as from a program.
///
/// Saturating: a result of `u64::MAX` simply exceeds every gas limit.
pub fn intrinsic_gas(tx_len: usize, spawn_state_len: Option<usize>) -> u64 {
    let bytes = |len: usize, price: u64| u64::try_from(len).unwrap_or(u64::MAX).saturating_mul(price);
    let mut gas = TX_BASE.saturating_add(bytes(tx_len, TX_PER_BYTE));
    if let Some(len) = spawn_state_len {
        gas = gas.saturating_add(vm::SPAWN).saturating_add(bytes(len, vm::SPAWN_PER_BYTE));
    }
    gas
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intrinsic_gas_adds_up() {
        assert_eq!(intrinsic_gas(0, None), TX_BASE);
        assert_eq!(intrinsic_gas(100, None), TX_BASE + 800);
        assert_eq!(intrinsic_gas(100, Some(32)), TX_BASE + 800 + vm::SPAWN + 32 * vm::SPAWN_PER_BYTE);
        assert_eq!(intrinsic_gas(usize::MAX, None), u64::MAX);
    }
}

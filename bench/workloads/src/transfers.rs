//! Token transfers over an in-memory storage map, like a token contract's
//! inner loop.

use alloc::collections::BTreeMap;

use crate::rng::SplitMix64;

/// Accounts in the benchmark.
pub const ACCOUNTS: u32 = 1_000;
/// Transfers in the benchmark.
pub const TRANSFERS: u32 = 10_000;
/// Opening balance of every account.
pub const OPENING_BALANCE: u64 = 1_000_000;

/// The 32-byte storage key (address) of account `index`.
pub fn address(index: u32) -> [u8; 32] {
    let mut key = [0u8; 32];
    SplitMix64(0x5EED_0000 ^ u64::from(index)).fill(&mut key);
    key
}

/// Opens `accounts` accounts, performs `transfers` pseudo-random transfers
/// (skipping those the sender cannot afford), and returns a checksum of
/// the final balances and the number of transfers that succeeded.
pub fn run(accounts: u32, transfers: u32) -> u64 {
    let mut balances: BTreeMap<[u8; 32], u64> = BTreeMap::new();
    for i in 0..accounts {
        balances.insert(address(i), OPENING_BALANCE);
    }
    let mut rng = SplitMix64(0x7AB5);
    let mut applied = 0u64;
    for _ in 0..transfers {
        let r = rng.next_u64();
        let from = address((r as u32) % accounts);
        let to = address(((r >> 32) as u32) % accounts);
        let amount = (r >> 20) % 2_000_000;
        let from_balance = balances.get(&from).copied().unwrap_or(0);
        if from == to || from_balance < amount {
            continue;
        }
        balances.insert(from, from_balance - amount);
        *balances.entry(to).or_insert(0) += amount;
        applied += 1;
    }
    let mut h = applied;
    for (key, balance) in &balances {
        h = (h.rotate_left(7) ^ balance ^ u64::from(key[0])).wrapping_mul(0x100_0000_01B3);
    }
    h
}

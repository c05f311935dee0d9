//! Scenarios with the vesting account and the vault
//! (`guest/templates/{vesting,vault}`) through `apply_transaction`: a vault
//! of 1 000 000 coins vesting between layers 100 and 200, owned by a 2-of-3
//! vesting account, drained before, during and after vesting; overspending
//! (failed, reverted, fee charged); other accounts (a wallet, another
//! vesting account, the vault itself as principal) cannot drain it.

mod tx_common;

use athena_interface::{Address, StatusCode};
use athena_runtime::tx::{Failure, Ineffective, TxStatus};
use athena_transaction::{program_address, UnsignedTransaction};
use parity_scale_codec::Encode;
use tx_common::*;

const TOTAL: u64 = 1_000_000;
const START: u64 = 100;
const END: u64 = 200;

/// The chain, the owner (a spawned 2-of-3 vesting account), the vault
/// (funded with `TOTAL` at genesis, then spawned by its owner) and a
/// recipient.
struct Setup {
    chain: Chain,
    owner: Multisig,
    vault: Address,
    vault_template: Address,
    bob: Address,
}

fn setup() -> Setup {
    let mut chain = Chain::new();
    let vesting = chain.genesis_template(&guest("vesting"));
    let vault_template = chain.genesis_template(&guest("vault"));
    let mut owner = Multisig::new(vesting, 2, &[1, 2, 3]);
    chain.fund(owner.address, RICH);
    owner.spawn(&mut chain);

    // The vault's address is known before it exists: fund it (genesis),
    // then the owner spawns it.
    let state = (owner.address.into_bytes(), TOTAL, START, END).encode();
    let vault = program_address(&vault_template, &state);
    chain.fund(vault, TOTAL);
    let receipt = chain.apply(&owner.tx(call("spawn_program", &(vault_template.into_bytes(), state)), &[0, 1]));
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
    assert_eq!(receipt.output, vault.as_bytes());
    assert_eq!(chain.balance(vault), TOTAL, "spawning keeps the coins");
    let bob = Wallet::new(chain.wallet, 8).address;
    Setup { chain, owner, vault, vault_template, bob }
}

impl Setup {
    /// The owner's `drain_vault(vault, bob, amount)` at layer `height`.
    fn drain(&mut self, height: u64, amount: u64) -> athena_runtime::tx::Receipt {
        self.drain_tx(height, amount).0
    }

    /// [`drain`](Self::drain), with the transaction's length.
    fn drain_tx(&mut self, height: u64, amount: u64) -> (athena_runtime::tx::Receipt, usize) {
        self.chain.block.height = height;
        let payload = call("drain_vault", &(self.vault.into_bytes(), self.bob.into_bytes(), amount));
        let bytes = self.owner.tx(payload, &[0, 2]);
        (self.chain.apply(&bytes), bytes.len())
    }

    /// The vault's `spendable()` at layer `height`, asked through the
    /// owner's `proxy`.
    fn spendable(&mut self, height: u64) -> u64 {
        self.chain.block.height = height;
        let receipt = self.chain.apply(&self.owner.tx(proxy(self.vault, call("spendable", &()), 0), &[1, 2]));
        assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
        u64::from_le_bytes(receipt.output.try_into().unwrap())
    }

    /// Asserts that draining `amount` at `height` fails with the vault's
    /// `message`, changing nothing but the owner's fee and nonce.
    fn drain_fails(&mut self, height: u64, amount: u64, message: &str) {
        let (vault, bob, owner) = (self.chain.balance(self.vault), self.chain.balance(self.bob), self.owner.address);
        let before = self.chain.balance(owner);
        let receipt = self.drain(height, amount);
        assert_eq!(receipt.status, TxStatus::Failed(Failure::Payload(StatusCode::Revert)), "{receipt:?}");
        assert_eq!(receipt.revert_message(), Some(message));
        assert!(receipt.fee > 0);
        assert_eq!(self.chain.balance(owner), before - receipt.fee, "the fee is charged");
        assert_eq!((self.chain.balance(self.vault), self.chain.balance(self.bob)), (vault, bob), "reverted");
    }
}

#[test]
fn coins_vest_linearly_and_only_vested_coins_can_be_drained() {
    let mut s = setup();
    const EXCEEDS: &str = "vault: amount exceeds the vested balance";

    // Before the start, and at the start: nothing.
    assert_eq!(s.spendable(0), 0);
    assert_eq!(s.spendable(START), 0);
    s.drain_fails(50, 1, EXCEEDS);
    s.drain_fails(START, 1, EXCEEDS);

    // A quarter of the way: a quarter. Halfway: half.
    assert_eq!(s.spendable(125), TOTAL / 4);
    assert_eq!(s.spendable(150), TOTAL / 2);
    s.drain_fails(150, TOTAL / 2 + 1, EXCEEDS);
    let owner_before = s.chain.balance(s.owner.address);
    let (receipt, len) = s.drain_tx(150, TOTAL / 2);
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
    eprintln!("vesting 2-of-3 drain_vault: {} gas {:?} ({len} bytes)", receipt.gas_used, receipt.gas);
    assert_eq!(s.chain.balance(s.bob), TOTAL / 2);
    assert_eq!(s.chain.balance(s.vault), TOTAL / 2);
    assert_eq!(s.chain.balance(s.owner.address), owner_before - receipt.fee, "the vault paid, not the owner");
    // Drained coins are not vested twice.
    assert_eq!(s.spendable(150), 0);
    s.drain_fails(150, 1, EXCEEDS);

    // Three quarters: another quarter (rounded down in between).
    assert_eq!(s.spendable(175), TOTAL / 4);
    assert_eq!(s.spendable(151), TOTAL / 100 * 51 - TOTAL / 2);
    let receipt = s.drain(175, 100_000);
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");

    // At and after the end: everything left.
    assert_eq!(s.spendable(END), TOTAL - TOTAL / 2 - 100_000);
    assert_eq!(s.spendable(1_000_000), TOTAL - TOTAL / 2 - 100_000);
    s.drain_fails(END, TOTAL, EXCEEDS);
    let receipt = s.drain(END + 1, 400_000);
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
    assert_eq!(s.chain.balance(s.vault), 0);
    assert_eq!(s.chain.balance(s.bob), TOTAL);
}

#[test]
fn coins_beyond_the_total_are_spendable_at_once() {
    let mut s = setup();
    // Someone pays 5 000 more into the vault through its deposit method.
    let mut alice = Wallet::new(s.chain.wallet, 7);
    s.chain.fund(alice.address, RICH);
    alice.spawn(&mut s.chain);
    let receipt = s.chain.apply(&alice.tx(spend(s.vault, 5_000)));
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
    assert_eq!(s.spendable(10), 5_000, "balance − unvested");
    assert_eq!(s.spendable(150), TOTAL / 2 + 5_000);
    let receipt = s.drain(10, 5_000);
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
    assert_eq!(s.spendable(10), 0);
}

#[test]
fn only_the_owner_can_drain() {
    let mut s = setup();
    s.chain.block.height = END + 1; // everything vested
    const NOT_OWNER: &str = "vault: only the owner may drain the vault";

    // A wallet calling the vault directly through its proxy.
    let mut alice = Wallet::new(s.chain.wallet, 7);
    s.chain.fund(alice.address, RICH);
    alice.spawn(&mut s.chain);
    let receipt = s.chain.apply(&alice.tx(proxy(s.vault, call("drain", &(alice.address.into_bytes(), 1u64)), 0)));
    assert_eq!(receipt.status, TxStatus::Failed(Failure::Payload(StatusCode::Revert)), "{receipt:?}");
    assert_eq!(receipt.revert_message(), Some(NOT_OWNER));

    // Another vesting account (one of the owner's keys, but not the owner).
    let mut other = Multisig::new(s.owner.template, 1, &[1]);
    s.chain.fund(other.address, RICH);
    other.spawn(&mut s.chain);
    let payload = call("drain_vault", &(s.vault.into_bytes(), other.address.into_bytes(), 1u64));
    let receipt = s.chain.apply(&other.tx(payload, &[0]));
    assert_eq!(receipt.revert_message(), Some(NOT_OWNER), "{receipt:?}");

    // The owner's drain_vault can only be called by the owner itself.
    let payload = call("drain_vault", &(s.vault.into_bytes(), alice.address.into_bytes(), 1u64));
    let receipt = s.chain.apply(&alice.tx(proxy(s.owner.address, payload, 0)));
    assert_eq!(receipt.revert_message(), Some("multisig: only the account itself may call this"));

    // The vault is no principal: a transaction of its own is ineffective
    // (its verify refuses everything), whatever the authenticator.
    let tx = UnsignedTransaction {
        principal: s.vault,
        template: None,
        nonce: 0,
        gas_limit: 200_000, // the vault can prepay it
        gas_price: PRICE,
        payload: call("drain", &(alice.address.into_bytes(), 1u64)),
    };
    let receipt = s.chain.apply(&tx.with_authenticator(Vec::new()).encode());
    assert_eq!(receipt.status, TxStatus::Ineffective(Ineffective::VerifyRejected));

    assert_eq!(s.chain.balance(s.vault), TOTAL);
    // The owner still can.
    let receipt = s.drain(END + 1, TOTAL);
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
}

#[test]
fn vault_periods_are_bounded_and_the_arithmetic_is_exact() {
    let mut s = setup();
    let template = s.vault_template;
    let bad = (s.owner.address.into_bytes(), TOTAL, 20u64, 10u64).encode();
    let receipt = s.chain.apply(&s.owner.tx(call("spawn_program", &(template.into_bytes(), bad)), &[0, 1]));
    assert_eq!(receipt.revert_message(), Some("multisig: spawn failed"), "{receipt:?}");

    let too_long = (s.owner.address.into_bytes(), TOTAL, 5u64, 5 + (1u64 << 32)).encode();
    let receipt = s.chain.apply(&s.owner.tx(call("spawn_program", &(template.into_bytes(), too_long)), &[0, 1]));
    assert_eq!(receipt.revert_message(), Some("multisig: spawn failed"), "{receipt:?}");

    // The longest period with the largest total: exact 64-bit arithmetic.
    let span = u64::from(u32::MAX);
    let state = (s.owner.address.into_bytes(), u64::MAX, 1_000u64, 1_000 + span).encode();
    let receipt = s.chain.apply(&s.owner.tx(call("spawn_program", &(template.into_bytes(), state.clone())), &[0, 1]));
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
    let huge = program_address(&template, &state);
    for elapsed in [1u64, 1 << 31, span - 1] {
        s.chain.block.height = 1_000 + elapsed;
        let receipt = s.chain.apply(&s.owner.tx(proxy(huge, call("vested", &()), 0), &[1, 2]));
        let expected = (u128::from(u64::MAX) * u128::from(elapsed) / u128::from(span)) as u64;
        assert_eq!(receipt.output, expected.encode(), "{elapsed}");
    }

    // start = end = 300: nothing before, everything from layer 301 on.
    let state = (s.owner.address.into_bytes(), 10u64, 300u64, 300u64).encode();
    let instant = program_address(&template, &state);
    s.chain.fund(instant, 10);
    let receipt = s.chain.apply(&s.owner.tx(call("spawn_program", &(template.into_bytes(), state)), &[0, 1]));
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
    s.vault = instant;
    assert_eq!(s.spendable(300), 0);
    assert_eq!(s.spendable(301), 10);
}

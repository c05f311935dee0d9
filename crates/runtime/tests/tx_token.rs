//! Scenarios with the token mint and token wallet
//! (`guest/templates/token-{mint,wallet}`) through `apply_transaction`,
//! wired as in the January 2025 update: a user's wallet `proxy` → the
//! mint's `buy` (with value) → the token wallet's `receive`; then
//! transfers between two users' token wallets; the cap, short balances,
//! forged credits and foreign owners are refused.

mod tx_common;

use athena_interface::{Address, StatusCode};
use athena_runtime::tx::{Failure, Receipt, TxStatus};
use athena_transaction::program_address;
use parity_scale_codec::Encode;
use tx_common::*;

const PRICE_PER_TOKEN: u64 = 10;
const CAP: u64 = 1_000;

/// Alice and Bob (spawned wallets) with their token wallets (spawned),
/// and a mint owned by Alice: 10 coins per token, 1 000 tokens at most.
struct Setup {
    chain: Chain,
    alice: Wallet,
    bob: Wallet,
    token_wallet: Address,
    mint_template: Address,
    mint: Address,
    alice_tokens: Address,
    bob_tokens: Address,
}

fn setup() -> Setup {
    let mut chain = Chain::new();
    let mint_template = chain.genesis_template(&guest("token-mint"));
    let token_wallet = chain.genesis_template(&guest("token-wallet"));
    let mut alice = Wallet::new(chain.wallet, 7);
    let mut bob = Wallet::new(chain.wallet, 8);
    for user in [&mut alice, &mut bob] {
        chain.fund(user.address, RICH);
        user.spawn(&mut chain);
    }
    let mint_state = (alice.address.into_bytes(), PRICE_PER_TOKEN, CAP).encode();
    let mint = spawn(&mut chain, &mut alice, mint_template, mint_state);
    // A token wallet's state is its owner; anyone may spawn it (here each
    // owner does).
    let (alice_owner, bob_owner) = (alice.address.into_bytes().encode(), bob.address.into_bytes().encode());
    let alice_tokens = spawn(&mut chain, &mut alice, token_wallet, alice_owner);
    let bob_tokens = spawn(&mut chain, &mut bob, token_wallet, bob_owner);
    Setup { chain, alice, bob, token_wallet, mint_template, mint, alice_tokens, bob_tokens }
}

/// `by` spawns a program of `template` with `state`; returns its address.
fn spawn(chain: &mut Chain, by: &mut Wallet, template: Address, state: Vec<u8>) -> Address {
    let receipt = chain.apply(&by.tx(call("spawn_program", &(template.into_bytes(), state.clone()))));
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
    let address = program_address(&template, &state);
    assert_eq!(receipt.output, address.as_bytes());
    address
}

fn buy(mint: Address, recipient: Address, value: u64) -> Vec<u8> {
    proxy(mint, call("buy", &(recipient.into_bytes(),)), value)
}

fn transfer(token_wallet: Address, mint: Address, to: Address, amount: u64) -> Vec<u8> {
    proxy(token_wallet, call("transfer", &(mint.into_bytes(), to.into_bytes(), amount)), 0)
}

fn reverted(receipt: &Receipt, message: &str) {
    assert_eq!(receipt.status, TxStatus::Failed(Failure::Payload(StatusCode::Revert)), "{receipt:?}");
    assert_eq!(receipt.revert_message(), Some(message));
}

impl Setup {
    /// Token `mint`'s balance in `token_wallet`, read from its storage.
    fn tokens(&self, token_wallet: Address, mint: Address) -> u64 {
        self.chain.storage_u64(token_wallet, "balances", mint.as_bytes()).unwrap_or(0)
    }

    /// Tokens the mint has sold.
    fn supply(&self, mint: Address) -> u64 {
        self.chain.storage_u64(mint, "supply", &[]).unwrap_or(0)
    }
}

#[test]
fn buy_through_the_wallet_proxy_then_transfer_between_token_wallets() {
    let mut s = setup();
    let alice_before = s.chain.balance(s.alice.address);

    // Alice buys 25 tokens for 250 coins into her token wallet.
    let bytes = s.alice.tx(buy(s.mint, s.alice_tokens, 250));
    let bought = s.chain.apply(&bytes);
    assert_eq!(bought.status, TxStatus::Succeeded, "{bought:?}");
    assert_eq!(bought.output, 25u64.encode(), "buy returns the tokens, through proxy unchanged");
    eprintln!(
        "token buy (wallet proxy → mint buy → token wallet receive): {} gas {:?} ({} bytes)",
        bought.gas_used,
        bought.gas,
        bytes.len()
    );
    assert_eq!(s.tokens(s.alice_tokens, s.mint), 25);
    assert_eq!(s.supply(s.mint), 25);
    assert_eq!(s.chain.balance(s.mint), 250, "the mint keeps the coins");
    assert_eq!(s.chain.balance(s.alice.address), alice_before - 250 - bought.fee);

    // She sends 10 to Bob's token wallet.
    let bytes = s.alice.tx(transfer(s.alice_tokens, s.mint, s.bob_tokens, 10));
    let moved = s.chain.apply(&bytes);
    assert_eq!(moved.status, TxStatus::Succeeded, "{moved:?}");
    eprintln!(
        "token transfer (wallet proxy → token wallet transfer → token wallet receive): {} gas {:?} ({} bytes)",
        moved.gas_used,
        moved.gas,
        bytes.len()
    );
    assert_eq!((s.tokens(s.alice_tokens, s.mint), s.tokens(s.bob_tokens, s.mint)), (15, 10));

    // Bob passes 4 back; then all he has left.
    let receipt = s.chain.apply(&s.bob.tx(transfer(s.bob_tokens, s.mint, s.alice_tokens, 4)));
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
    let receipt = s.chain.apply(&s.bob.tx(transfer(s.bob_tokens, s.mint, s.alice_tokens, 6)));
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
    assert_eq!((s.tokens(s.alice_tokens, s.mint), s.tokens(s.bob_tokens, s.mint)), (25, 0));
    assert_eq!(s.supply(s.mint), 25, "transfers mint nothing");

    // Relations between the figures: each is a single-sig transaction
    // (same verify work) whose payload adds nested calls and storage.
    let single = s.chain.apply(&s.alice.tx(spend(s.bob.address, 1)));
    for receipt in [&bought, &moved] {
        assert!(receipt.gas.payload > single.gas.payload, "{:?} vs {:?}", receipt.gas, single.gas);
        assert!(receipt.gas.verify.abs_diff(single.gas.verify) < 1_000, "{:?} vs {:?}", receipt.gas, single.gas);
    }
    // Both write storage: buy a new supply and a new balance slot (2 × 10 000),
    // the transfer a modified and a new balance slot (2 500 + 10 000).
    assert!(bought.gas.payload > 20_000 && moved.gas.payload > 12_500);
}

#[test]
fn the_cap_is_enforced_and_a_failed_buy_costs_only_the_fee() {
    let mut s = setup();
    let receipt = s.chain.apply(&s.alice.tx(buy(s.mint, s.alice_tokens, 990 * PRICE_PER_TOKEN)));
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
    assert_eq!(s.supply(s.mint), 990);

    // 11 more do not fit: reverted, Bob's coins stay his, fee charged.
    let before = s.chain.balance(s.bob.address);
    let receipt = s.chain.apply(&s.bob.tx(buy(s.mint, s.bob_tokens, 11 * PRICE_PER_TOKEN)));
    reverted(&receipt, "token-mint: supply cap exceeded");
    assert_eq!(s.chain.balance(s.bob.address), before - receipt.fee);
    assert_eq!((s.supply(s.mint), s.tokens(s.bob_tokens, s.mint)), (990, 0));
    assert_eq!(s.chain.balance(s.mint), 9_900);

    // Exactly the rest does; then nothing more.
    let receipt = s.chain.apply(&s.bob.tx(buy(s.mint, s.bob_tokens, 10 * PRICE_PER_TOKEN + 9)));
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
    assert_eq!(receipt.output, 10u64.encode(), "⌊109 / 10⌋");
    assert_eq!(s.chain.balance(s.mint), 9_900 + 109, "the remainder is not refunded");
    assert_eq!((s.supply(s.mint), s.tokens(s.bob_tokens, s.mint)), (CAP, 10));
    let receipt = s.chain.apply(&s.bob.tx(buy(s.mint, s.bob_tokens, PRICE_PER_TOKEN)));
    reverted(&receipt, "token-mint: supply cap exceeded");

    // Less than one token's price, or no value at all.
    let state = (s.alice.address.into_bytes(), 100u64, 5u64).encode();
    let other = spawn(&mut s.chain, &mut s.alice, s.mint_template, state);
    for value in [0, 99] {
        let receipt = s.chain.apply(&s.bob.tx(buy(other, s.bob_tokens, value)));
        reverted(&receipt, "token-mint: value below the price of one token");
    }
}

#[test]
fn one_token_wallet_holds_many_tokens() {
    let mut s = setup();
    let gold = s.mint;
    let state = (s.bob.address.into_bytes(), 1u64, 1_000_000u64).encode();
    let silver = spawn(&mut s.chain, &mut s.bob, s.mint_template, state);
    let receipt = s.chain.apply(&s.alice.tx(buy(gold, s.alice_tokens, 30)));
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
    let receipt = s.chain.apply(&s.alice.tx(buy(silver, s.alice_tokens, 500)));
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
    assert_eq!((s.tokens(s.alice_tokens, gold), s.tokens(s.alice_tokens, silver)), (3, 500));

    let receipt = s.chain.apply(&s.alice.tx(transfer(s.alice_tokens, silver, s.bob_tokens, 200)));
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
    assert_eq!((s.tokens(s.alice_tokens, gold), s.tokens(s.alice_tokens, silver)), (3, 300));
    assert_eq!((s.tokens(s.bob_tokens, gold), s.tokens(s.bob_tokens, silver)), (0, 200));

    // balance_of, read through the owner's proxy.
    let receipt = s.chain.apply(&s.alice.tx(proxy(s.alice_tokens, call("balance_of", &(silver.into_bytes(),)), 0)));
    assert_eq!(receipt.output, 300u64.encode());
}

#[test]
fn insufficient_balances_wrong_owners_and_bad_recipients_fail() {
    let mut s = setup();
    let receipt = s.chain.apply(&s.alice.tx(buy(s.mint, s.alice_tokens, 50)));
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");

    // More than the balance (5): failed, nothing moved, fee charged.
    let before = s.chain.balance(s.alice.address);
    let receipt = s.chain.apply(&s.alice.tx(transfer(s.alice_tokens, s.mint, s.bob_tokens, 6)));
    reverted(&receipt, "token-wallet: insufficient token balance");
    assert_eq!(s.chain.balance(s.alice.address), before - receipt.fee);
    assert_eq!((s.tokens(s.alice_tokens, s.mint), s.tokens(s.bob_tokens, s.mint)), (5, 0));
    // A token it has none of.
    let receipt = s.chain.apply(&s.alice.tx(transfer(s.alice_tokens, s.bob.address, s.bob_tokens, 1)));
    reverted(&receipt, "token-wallet: insufficient token balance");

    // Bob cannot move Alice's tokens.
    let receipt = s.chain.apply(&s.bob.tx(transfer(s.alice_tokens, s.mint, s.bob_tokens, 1)));
    reverted(&receipt, "token-wallet: only the owner may transfer");

    // A recipient that is not a token wallet: a wallet (no `receive`), an
    // address without code (would keep nothing), an unspawned token wallet.
    let carol_tokens = program_address(&s.token_wallet, &Wallet::new(s.chain.wallet, 9).address.into_bytes().encode());
    for (to, message) in [
        (s.bob.address, "athena: unknown selector"),
        (Address::new([0; 24]), "token-wallet: recipient is not a token wallet"),
        (carol_tokens, "token-wallet: recipient is not a token wallet"),
    ] {
        let receipt = s.chain.apply(&s.alice.tx(transfer(s.alice_tokens, s.mint, to, 1)));
        assert!(receipt.revert_message().unwrap().starts_with(message), "{receipt:?}");
        assert_eq!(s.tokens(s.alice_tokens, s.mint), 5, "the debit was undone");
    }
    // Same for buying: the coins go back.
    let before = s.chain.balance(s.alice.address);
    let receipt = s.chain.apply(&s.alice.tx(buy(s.mint, carol_tokens, 50)));
    reverted(&receipt, "token-mint: recipient is not a token wallet");
    assert_eq!(s.chain.balance(s.alice.address), before - receipt.fee);
    assert_eq!(s.supply(s.mint), 5);
}

#[test]
fn nobody_but_the_mint_can_create_its_tokens() {
    let mut s = setup();
    const REFUSED: &str = "token-wallet: only the mint or a token wallet may credit tokens";
    // Alice's wallet calls Bob's receive directly, naming the mint.
    let forged = proxy(s.bob_tokens, call("receive", &(s.mint.into_bytes(), 1_000u64)), 0);
    reverted(&s.chain.apply(&s.alice.tx(forged)), REFUSED);
    // Through her own token wallet's receive: same (her wallet is not a
    // token wallet, and not the mint).
    let forged = proxy(s.alice_tokens, call("receive", &(s.mint.into_bytes(), 1_000u64)), 0);
    reverted(&s.chain.apply(&s.alice.tx(forged)), REFUSED);
    // Another mint program cannot credit this mint's token either: its
    // `buy` credits its own address only. A wallet can "mint" only the
    // token named by its own address.
    let own = proxy(s.bob_tokens, call("receive", &(s.alice.address.into_bytes(), 7u64)), 0);
    let receipt = s.chain.apply(&s.alice.tx(own));
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
    assert_eq!(receipt.output, 7u64.encode());
    assert_eq!(s.tokens(s.bob_tokens, s.alice.address), 7);
    assert_eq!(s.tokens(s.bob_tokens, s.mint), 0);

    // The probe a token wallet uses to learn its own template tells any
    // other caller its own template.
    let receipt = s.chain.apply(&s.alice.tx(proxy(s.bob_tokens, call("caller_template", &()), 0)));
    assert_eq!(receipt.output, Some(s.chain.wallet.into_bytes()).encode());

    // Token wallets, mints are not principals.
    for principal in [s.bob_tokens, s.mint] {
        s.chain.fund(principal, RICH);
        let mut tx =
            s.bob.unsigned(call("transfer", &(s.mint.into_bytes(), s.alice_tokens.into_bytes(), 1u64)), GAS, PRICE);
        tx.principal = principal;
        tx.nonce = 0;
        let receipt = s.chain.apply(&s.bob.sign(&network(), tx));
        assert_eq!(receipt.status, TxStatus::Ineffective(athena_runtime::tx::Ineffective::VerifyRejected));
    }
}

#[test]
fn the_owner_withdraws_the_mint_coins() {
    let mut s = setup();
    let receipt = s.chain.apply(&s.bob.tx(buy(s.mint, s.bob_tokens, 1_000)));
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
    let withdraw = |to: Address, amount: u64| proxy(s.mint, call("withdraw", &(to.into_bytes(), amount)), 0);
    let receipt = s.chain.apply(&s.bob.tx(withdraw(s.bob.address, 1_000)));
    reverted(&receipt, "token-mint: only the owner may withdraw");
    let before = s.chain.balance(s.alice.address);
    let receipt = s.chain.apply(&s.alice.tx(withdraw(s.alice.address, 600)));
    assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
    assert_eq!(s.chain.balance(s.alice.address), before + 600 - receipt.fee);
    assert_eq!(s.chain.balance(s.mint), 400);
    let receipt = s.chain.apply(&s.alice.tx(withdraw(s.alice.address, 401)));
    assert!(matches!(receipt.status, TxStatus::Failed(_)), "{receipt:?}");

    // spawn rejects a free token or an empty supply.
    for (price, cap) in [(0u64, 10u64), (10, 0)] {
        let state = (s.alice.address.into_bytes(), price, cap).encode();
        let receipt = s.chain.apply(&s.alice.tx(call("spawn_program", &(s.mint_template.into_bytes(), state))));
        reverted(&receipt, "wallet: spawn failed");
    }
}

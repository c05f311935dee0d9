//! Shared helpers of the transaction tests: the guest templates, a chain
//! that applies signed transactions with `apply_transaction` and checks
//! the executor's invariants after every one, and ed25519 wallets.
#![allow(dead_code)]

use athena_interface::{Address, Bytes32};
use athena_runtime::tx::{apply_transaction, BlockContext, Receipt, TxConfig, TxStatus};
use athena_runtime::{Account, ChangeSet, MemoryState, StateReader, StateWriter};
use athena_transaction::{
    encode_payload, program_address, selector, sign_single, template_address, Network, UnsignedTransaction,
};
use ed25519_dalek::SigningKey;
use parity_scale_codec::Encode;
use std::sync::Arc;

/// Plenty of gas for one transaction.
pub const GAS: u64 = 10_000_000;
/// The gas price the tests use unless they say otherwise.
pub const PRICE: u64 = 3;
/// Where fees go.
pub const COINBASE: Address = Address::new([0xcb; 24]);
/// A balance no test runs out of.
pub const RICH: u64 = 1_000_000_000_000;

/// The ELF bytes of guest `name` (an example or a template), built once
/// per process.
pub fn guest(name: &str) -> Vec<u8> {
    let path = athena_guest_builder::example_elf(athena_guest_builder::GuestTarget::Rv32em, name)
        .unwrap_or_else(|e| panic!("building guest programs: {e}"));
    std::fs::read(path).unwrap()
}

/// The test network.
pub fn network() -> Network {
    Network::test(Bytes32::new([0x11; 32]))
}

/// Another network (same HRP, different genesis id).
pub fn other_network() -> Network {
    Network::test(Bytes32::new([0x22; 32]))
}

/// A chain: committed state plus a block context; every transaction is
/// applied and committed, and the executor's invariants are asserted.
pub struct Chain {
    pub state: MemoryState,
    pub block: BlockContext,
    pub config: TxConfig,
    pub wallet: Address,
    pub test_auth: Address,
}

impl Chain {
    /// A chain with the `wallet` and `test-auth` templates deployed (at
    /// genesis, not by a transaction).
    pub fn new() -> Chain {
        let mut chain = Chain {
            state: MemoryState::new(),
            block: BlockContext::new(network(), COINBASE),
            config: TxConfig::default(),
            wallet: Address::ZERO,
            test_auth: Address::ZERO,
        };
        chain.block.height = 7;
        chain.block.timestamp = 1_700_000_000;
        chain.wallet = chain.genesis_template(&guest("wallet"));
        chain.test_auth = chain.genesis_template(&guest("test-auth"));
        chain
    }

    /// Puts `code` into the state as a template (genesis).
    pub fn genesis_template(&mut self, code: &[u8]) -> Address {
        let address = template_address(code);
        let mut changes = ChangeSet::default();
        changes.templates.insert(address, Arc::from(code));
        self.state.apply(&changes).unwrap();
        address
    }

    /// Adds `amount` to the balance of `address` (genesis/faucet).
    pub fn fund(&mut self, address: Address, amount: u64) {
        let mut account = self.account(address).unwrap_or_default();
        account.balance += amount;
        let mut changes = ChangeSet::default();
        changes.accounts.insert(address, account);
        self.state.apply(&changes).unwrap();
    }

    /// Makes a program of `template` with `state` at genesis, without
    /// running its `spawn` method.
    pub fn genesis_program(&mut self, template: Address, state: &[u8], balance: u64) -> Address {
        let address = program_address(&template, state);
        let mut changes = ChangeSet::default();
        changes.accounts.insert(address, Account { balance, nonce: 0, template: Some(template) });
        changes.states.insert(address, state.to_vec());
        self.state.apply(&changes).unwrap();
        address
    }

    pub fn account(&self, address: Address) -> Option<Account> {
        self.state.account(&address).unwrap()
    }

    pub fn balance(&self, address: Address) -> u64 {
        self.account(address).map_or(0, |a| a.balance)
    }

    pub fn nonce(&self, address: Address) -> u64 {
        self.account(address).map_or(0, |a| a.nonce)
    }

    /// Sum of every balance: conserved by every transaction (fees move to
    /// the fee recipient, nothing is minted or burnt).
    pub fn supply(&self) -> u128 {
        self.state.accounts().values().map(|a| u128::from(a.balance)).sum()
    }

    /// Applies `bytes` without committing (for determinism checks).
    pub fn dry_run(&self, bytes: &[u8]) -> Receipt {
        apply_transaction(&self.state, &self.block, bytes, &self.config).expect("evaluable")
    }

    /// Applies and commits `bytes`, asserting the invariants.
    pub fn apply(&mut self, bytes: &[u8]) -> Receipt {
        let receipt = self.dry_run(bytes);
        assert_eq!(receipt, self.dry_run(bytes), "deterministic");
        assert_eq!(receipt.tx_id, Bytes32::new(*blake3::hash(bytes).as_bytes()));
        let supply = self.supply();
        let principal = receipt.principal;
        let nonce_before = principal.map(|p| self.nonce(p));
        self.state.apply(&receipt.changes).unwrap();
        assert_eq!(self.supply(), supply, "coins are conserved: {receipt:?}");
        if receipt.is_effective() {
            let tx = athena_transaction::decode(bytes).unwrap();
            assert_eq!(receipt.fee, receipt.gas_used * tx.body.gas_price, "fee = gas used × price");
            assert!(receipt.gas_used <= tx.body.gas_limit);
            assert_eq!(receipt.gas.total(), receipt.gas_used, "{:?}", receipt.gas);
            assert!(receipt.gas.verify <= athena_runtime::tx::VERIFY_GAS_LIMIT);
            assert!(receipt.gas.max_spend <= athena_runtime::tx::MAX_SPEND_GAS_LIMIT);
            assert!(receipt.gas_used >= athena_runtime::tx::intrinsic_gas(bytes.len(), None));
            assert_eq!(self.nonce(tx.body.principal), nonce_before.unwrap() + 1, "nonce bumped");
        } else {
            assert!(receipt.changes.is_empty(), "ineffective changes nothing: {receipt:?}");
            assert_eq!((receipt.gas_used, receipt.fee), (0, 0));
            assert!(receipt.logs.is_empty());
        }
        if !receipt.is_success() {
            assert!(receipt.logs.is_empty(), "logs only on success");
        }
        receipt
    }
}

/// An unsigned call (no template) of `principal` at `nonce`: what
/// [`Wallet::unsigned`] and [`Multisig::unsigned`] build for their account.
pub fn unsigned_call(
    principal: Address,
    nonce: u64,
    payload: Vec<u8>,
    gas_limit: u64,
    gas_price: u64,
) -> UnsignedTransaction {
    UnsignedTransaction { principal, template: None, nonce, gas_limit, gas_price, payload }
}

/// A chain with Alice's wallet funded and spawned.
pub fn with_alice() -> (Chain, Wallet) {
    let mut chain = Chain::new();
    let mut alice = Wallet::new(chain.wallet, 7);
    chain.fund(alice.address, RICH);
    alice.spawn(&mut chain);
    (chain, alice)
}

/// An ed25519 key and the wallet address it owns.
#[derive(Clone)]
pub struct Wallet {
    pub key: SigningKey,
    pub address: Address,
    pub template: Address,
    pub nonce: u64,
}

impl Wallet {
    /// The wallet of the key with seed `[seed; 32]`, for `template`.
    pub fn new(template: Address, seed: u8) -> Wallet {
        let key = SigningKey::from_bytes(&[seed; 32]);
        let address = program_address(&template, &key.verifying_key().to_bytes());
        Wallet { key, address, template, nonce: 0 }
    }

    /// The public key: the wallet's state and spawn arguments.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    /// An unsigned transaction of this wallet with the next nonce.
    pub fn unsigned(&self, payload: Vec<u8>, gas_limit: u64, gas_price: u64) -> UnsignedTransaction {
        unsigned_call(self.address, self.nonce, payload, gas_limit, gas_price)
    }

    /// Signs `unsigned` for `network` and encodes it; counts the nonce.
    pub fn sign_for(&mut self, network: &Network, unsigned: UnsignedTransaction) -> Vec<u8> {
        self.nonce += 1;
        self.sign(network, unsigned)
    }

    /// Signs `unsigned` for `network` and encodes it, for transactions
    /// expected to be ineffective (the nonce is not counted).
    pub fn sign(&self, network: &Network, unsigned: UnsignedTransaction) -> Vec<u8> {
        sign_single(&self.key, network, unsigned).encode()
    }

    /// A signed transaction calling `payload` on the wallet.
    pub fn tx(&mut self, payload: Vec<u8>) -> Vec<u8> {
        let unsigned = self.unsigned(payload, GAS, PRICE);
        self.sign_for(&network(), unsigned)
    }

    /// The self-spawn transaction.
    pub fn spawn_tx(&mut self) -> Vec<u8> {
        let mut unsigned = self.unsigned(self.spawn_payload(), GAS, PRICE);
        unsigned.template = Some(self.template);
        self.sign_for(&network(), unsigned)
    }

    /// `selector("spawn") ‖ public key`.
    pub fn spawn_payload(&self) -> Vec<u8> {
        let mut payload = selector("spawn").to_vec();
        payload.extend_from_slice(&self.public_key());
        payload
    }

    /// Self-spawns the wallet on `chain` (which must have funded it).
    pub fn spawn(&mut self, chain: &mut Chain) -> Receipt {
        let bytes = self.spawn_tx();
        let receipt = chain.apply(&bytes);
        assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
        receipt
    }
}

/// `spend(to, amount)`.
pub fn spend(to: Address, amount: u64) -> Vec<u8> {
    encode_payload("spend", &(to.into_bytes(), amount))
}

/// `proxy(to, payload, value)`.
pub fn proxy(to: Address, payload: Vec<u8>, value: u64) -> Vec<u8> {
    encode_payload("proxy", &(to.into_bytes(), payload, value))
}

/// A method call's input: `selector(method) ‖ SCALE(args)`.
pub fn call<A: Encode>(method: &str, args: &A) -> Vec<u8> {
    encode_payload(method, args)
}

/// A k-of-n multisig account (the `multisig` template, or the `vesting`
/// account, which has the same state and authenticator) with its keys.
#[derive(Clone)]
pub struct Multisig {
    pub keys: Vec<SigningKey>,
    pub k: u8,
    pub address: Address,
    pub template: Address,
    pub nonce: u64,
}

impl Multisig {
    /// A `k`-of-`seeds.len()` account of `template`, key `i` having seed
    /// `[seeds[i]; 32]`.
    pub fn new(template: Address, k: u8, seeds: &[u8]) -> Multisig {
        let keys: Vec<SigningKey> = seeds.iter().map(|&s| SigningKey::from_bytes(&[s; 32])).collect();
        let mut multisig = Multisig { keys, k, address: Address::ZERO, template, nonce: 0 };
        multisig.address = program_address(&template, &multisig.state());
        multisig
    }

    /// The public keys, in state order.
    pub fn public_keys(&self) -> Vec<[u8; 32]> {
        self.keys.iter().map(|k| k.verifying_key().to_bytes()).collect()
    }

    /// The state (spawn arguments): `SCALE((k, keys))`.
    pub fn state(&self) -> Vec<u8> {
        (self.k, self.public_keys()).encode()
    }

    /// An unsigned transaction of this account with the next nonce.
    pub fn unsigned(&self, payload: Vec<u8>, gas_limit: u64, gas_price: u64) -> UnsignedTransaction {
        unsigned_call(self.address, self.nonce, payload, gas_limit, gas_price)
    }

    /// The authenticator `SCALE(Vec<(index, signature)>)` with one entry
    /// per element of `signers` (key indices, in the order given) signing
    /// `message`.
    pub fn authenticator(&self, message: &[u8], signers: &[u8]) -> Vec<u8> {
        use ed25519_dalek::Signer;
        let entries: Vec<(u8, [u8; 64])> =
            signers.iter().map(|&i| (i, self.keys[usize::from(i)].sign(message).to_bytes())).collect();
        entries.encode()
    }

    /// `unsigned` signed by `signers` for `network` and encoded; the nonce
    /// is not counted.
    pub fn sign(&self, network: &Network, unsigned: UnsignedTransaction, signers: &[u8]) -> Vec<u8> {
        let authenticator = self.authenticator(&unsigned.signing_bytes(network), signers);
        unsigned.with_authenticator(authenticator).encode()
    }

    /// A transaction calling `payload`, signed by `signers`; counts the
    /// nonce.
    pub fn tx(&mut self, payload: Vec<u8>, signers: &[u8]) -> Vec<u8> {
        let bytes = self.sign(&network(), self.unsigned(payload, GAS, PRICE), signers);
        self.nonce += 1;
        bytes
    }

    /// The self-spawn transaction, signed by `signers`; counts the nonce.
    pub fn spawn_tx(&mut self, signers: &[u8]) -> Vec<u8> {
        let mut payload = selector("spawn").to_vec();
        payload.extend_from_slice(&self.state());
        let mut unsigned = self.unsigned(payload, GAS, PRICE);
        unsigned.template = Some(self.template);
        let bytes = self.sign(&network(), unsigned, signers);
        self.nonce += 1;
        bytes
    }

    /// Self-spawns the account on `chain` (which must have funded it),
    /// signed by the first `k` keys.
    pub fn spawn(&mut self, chain: &mut Chain) -> Receipt {
        let signers: Vec<u8> = (0..self.k).collect();
        let bytes = self.spawn_tx(&signers);
        let receipt = chain.apply(&bytes);
        assert_eq!(receipt.status, TxStatus::Succeeded, "{receipt:?}");
        receipt
    }
}

/// Base storage key of item `name` (docs/sdk.md, "Storage layout"):
/// `blake3("athena/storage/" ‖ u32_le(len(name)) ‖ name ‖ key_bytes)`.
pub fn storage_key(name: &str, key_bytes: &[u8]) -> Bytes32 {
    athena_runtime::sdk_storage::item_key(name, key_bytes)
}

impl Chain {
    /// A `u64` storage item of `address` (a `Value` with empty `key_bytes`,
    /// a `Map` entry with `SCALE(key)`): `None` if absent. Values up to 28
    /// bytes fit in the first slot, `u32_le(len + 1) ‖ SCALE(v)`.
    pub fn storage_u64(&self, address: Address, name: &str, key_bytes: &[u8]) -> Option<u64> {
        let slot = self.state.storage(&address, &storage_key(name, key_bytes)).unwrap();
        let slot = slot.as_bytes();
        if slot == &[0u8; 32] {
            return None;
        }
        assert_eq!(slot[..4], 9u32.to_le_bytes(), "a u64 item: 8 bytes + 1");
        Some(u64::from_le_bytes(slot[4..12].try_into().unwrap()))
    }
}

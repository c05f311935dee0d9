//! Model-based block sequences for the executor's block rules, shared by
//! the proptest in `tests/block_model.rs` and the `blocks` fuzz target in
//! `crates/node/fuzz`. Behind the `test-hooks` feature.
//!
//! Bytes are decoded (every byte string is a valid script, so the fuzzer's
//! mutations stay cheap and proptest shrinks plain byte vectors) into up to
//! [`MAX_BLOCKS`] blocks of bundles from two relays. Their transactions are
//! signed spends, self-spawns and counter calls of three genesis wallets,
//! with the right nonce, a gap or a stale one, and enough gas or too
//! little; replays of earlier transactions, duplicates inside the block,
//! single-byte corruptions of earlier transactions, and garbage.
//!
//! Each block goes to two chains from the same genesis, one keeping every
//! height and one pruning (`--keep-heights` 0 to 2), and after each block:
//! - the block survives its wire encoding unchanged;
//! - both chains publish the same result, naming the block's hash;
//! - exactly the transactions the model expects got receipts, in order,
//!   and exactly the others were skipped: a transaction whose id occurred
//!   earlier in the block or was effective in an earlier block gets none
//!   (first occurrence wins; an ineffective one may apply later);
//! - each receipt has its index, bundle and fee recipient, an ineffective
//!   one charges nothing, an effective one charges its gas at price 1;
//! - the stored receipts, the transaction index and both chains' receipts
//!   of the new height agree with the block's outcome;
//! - each wallet's nonce grew by its effective transactions;
//! - no coin was made or lost over every account the script can touch.

use crate::chain::Chain;
use crate::exec::{BlockOutcome, ExecConfig};
use crate::genesis::{build_genesis, LoadedGenesis};
use crate::receipts::StoredStatus;
use crate::types::{Block, Bundle, Genesis, GenesisProgram};
use athena_interface::{Address, Bytes32};
use athena_runtime::StateReader;
use athena_transaction::{
    encode_payload, program_address, selector, sign_single, template_address, UnsignedTransaction,
};
use ed25519_dalek::SigningKey;
use std::collections::{BTreeMap, BTreeSet};

/// Most blocks decoded from one input (bounds the time per input).
pub const MAX_BLOCKS: usize = 8;
/// Genesis wallets (key seeds `1..=WALLETS`).
const WALLETS: u8 = 3;
/// Each wallet's genesis balance.
const FUNDS: u64 = 1_000_000_000_000;
/// Gas limit of a transaction with enough gas.
const GAS: u64 = 5_000_000;
/// Gas limit of one with too little: past intrinsic and verify, short of
/// the payload.
const LOW_GAS: u64 = 60_000;
/// The two fee recipients.
const RELAYS: [[u8; 24]; 2] = [[0xaa; 24], [0xbb; 24]];
/// A plain account that only ever receives.
const SINK: [u8; 24] = [0x5c; 24];
/// Spend amounts: nothing, a little, more than a wallet has.
const AMOUNTS: [u64; 4] = [0, 1, 12_345, FUNDS * 2];

/// A genesis with [`WALLETS`] funded wallets (not spawned yet) and a counter
/// program, built once and shared by every script.
pub struct Setup {
    genesis: LoadedGenesis,
    wallet_template: Address,
    counter: Address,
}

impl Setup {
    /// The genesis from the `wallet` and `counter` template ELFs (the guest
    /// workspace's; the caller builds them).
    pub fn new(wallet_elf: &[u8], counter_elf: &[u8]) -> Setup {
        let wallet_template = template_address(wallet_elf);
        let counter_template = template_address(counter_elf);
        let probe = athena_transaction::Network::test(Bytes32::ZERO);
        let genesis = Genesis {
            network: "atest".into(),
            name: "block-model".into(),
            accounts: (1..=WALLETS)
                .map(|seed| (probe.encode_address(&wallet_address(wallet_template, seed)), FUNDS))
                .collect(),
            templates: vec!["wallet".into(), "counter".into()],
            programs: vec![GenesisProgram {
                template: "counter".into(),
                state: hex::encode(1u64.to_le_bytes()),
                balance: 0,
            }],
        };
        let codes =
            BTreeMap::from([("wallet".to_owned(), wallet_elf.to_vec()), ("counter".to_owned(), counter_elf.to_vec())]);
        let genesis = build_genesis(&genesis, &codes).expect("the model's genesis is valid");
        let counter = program_address(&counter_template, &1u64.to_le_bytes());
        Setup { genesis, wallet_template, counter }
    }
}

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn wallet_address(template: Address, seed: u8) -> Address {
    program_address(&template, &key(seed).verifying_key().to_bytes())
}

/// The input, read a byte at a time; zeros once it is used up.
struct Reader<'a> {
    data: &'a [u8],
}

impl Reader<'_> {
    fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&first, rest)) => {
                self.data = rest;
                first
            }
            None => 0,
        }
    }

    fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

/// What the model knows between blocks.
struct Model<'a> {
    setup: &'a Setup,
    /// Wallet addresses, seed `i + 1` at `i`.
    wallets: Vec<Address>,
    /// Every transaction put in a block so far (replays and corruptions
    /// pick from here).
    history: Vec<Vec<u8>>,
    /// Ids that were effective in a committed block.
    effective: BTreeSet<[u8; 32]>,
}

impl Model<'_> {
    /// Decodes the next block's bundles. `nonces` starts as each wallet's
    /// committed nonce and follows its in-order transactions.
    fn bundles(&mut self, input: &mut Reader, mut nonces: Vec<u64>) -> Vec<Bundle> {
        let header = input.byte();
        (0..1 + header % 3)
            .map(|_| {
                let b = input.byte();
                let mut txs: Vec<Vec<u8>> = Vec::new();
                for _ in 0..(b & 0x7f) % 5 {
                    let tx = self.transaction(input, &mut nonces, txs.last());
                    self.history.push(tx.clone());
                    txs.push(tx);
                }
                Bundle { relay: RELAYS[usize::from(b >> 7)], txs }
            })
            .collect()
    }

    fn transaction(&self, input: &mut Reader, nonces: &mut [u64], previous: Option<&Vec<u8>>) -> Vec<u8> {
        let kind = input.byte();
        let w = usize::from(input.byte() % WALLETS);
        let (payload, template) = match kind % 8 {
            0 | 1 => {
                let to = match input.byte() % 4 {
                    0 => Address::new(SINK),
                    1 => self.setup.counter,
                    n => self.wallets[usize::from(n) % self.wallets.len()],
                };
                let amount = AMOUNTS[usize::from(input.byte() % 4)];
                (encode_payload("spend", &(to.into_bytes(), amount)), None)
            }
            2 => {
                let mut payload = selector("spawn").to_vec();
                payload.extend_from_slice(&key(w as u8 + 1).verifying_key().to_bytes());
                (payload, Some(self.setup.wallet_template))
            }
            3 => {
                let call = encode_payload("increment", &u64::from(input.byte() % 3));
                (encode_payload("proxy", &(self.setup.counter.into_bytes(), call, 0u64)), None)
            }
            4 | 5 if !self.history.is_empty() => {
                let n = usize::from(input.byte());
                let mut tx = self.history[n % self.history.len()].clone();
                if kind % 8 == 5 {
                    let at = usize::from(input.byte()) * 7 % tx.len();
                    tx[at] ^= 1 << (input.byte() % 8);
                }
                return tx;
            }
            7 if previous.is_some() => return previous.cloned().unwrap_or_default(),
            _ => {
                let len = 1 + usize::from(input.byte() % 48);
                return (0..len).map(|_| input.byte()).collect();
            }
        };
        let mode = input.byte();
        let nonce = match mode % 4 {
            0 | 1 => {
                let nonce = nonces[w];
                nonces[w] += 1;
                nonce
            }
            2 => nonces[w] + 1,
            _ => nonces[w].saturating_sub(1),
        };
        let gas_limit = if mode & 0x10 != 0 { LOW_GAS } else { GAS };
        let unsigned =
            UnsignedTransaction { principal: self.wallets[w], template, nonce, gas_limit, gas_price: 1, payload };
        sign_single(&key(w as u8 + 1), &self.setup.genesis.network, unsigned).encode()
    }

    /// The ids that must get receipts, in order, and how many are skipped.
    fn expected(&self, block: &Block) -> (Vec<[u8; 32]>, u32) {
        let mut seen = BTreeSet::new();
        let mut applied = Vec::new();
        let mut skipped = 0;
        for tx in block.bundles.iter().flat_map(|b| &b.txs) {
            let id = *blake3::hash(tx).as_bytes();
            if seen.insert(id) && !self.effective.contains(&id) {
                applied.push(id);
            } else {
                skipped += 1;
            }
        }
        (applied, skipped)
    }

    /// Every account a script can move coins to or from.
    fn touched(&self) -> Vec<Address> {
        let mut all = self.wallets.clone();
        all.extend([self.setup.counter, Address::new(SINK)]);
        all.extend(RELAYS.map(Address::new));
        all
    }
}

fn account(chain: &Chain, address: &Address) -> athena_runtime::Account {
    chain.store().account(address).expect("an in-memory store reads").unwrap_or_default()
}

/// What a script did, so that a test can tell that it reached the rules it
/// means to exercise.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Blocks applied.
    pub blocks: u64,
    /// Receipts by status.
    pub succeeded: u64,
    /// Effective, payload reverted (or out of gas).
    pub failed: u64,
    /// Nothing applied.
    pub ineffective: u64,
    /// Transactions skipped as duplicates or replays.
    pub skipped: u64,
}

/// Runs the script in `data` (see the module documentation); panics on the
/// first broken rule.
pub fn check(setup: &Setup, data: &[u8]) -> Summary {
    let mut summary = Summary::default();
    let mut input = Reader { data };
    let keep = u64::from(input.byte() % 3);
    let plain = Chain::in_memory(&setup.genesis).expect("genesis commits");
    let pruning = Chain::in_memory(&setup.genesis).expect("genesis commits").with_keep_heights(Some(keep));
    let wallets = (1..=WALLETS).map(|seed| wallet_address(setup.wallet_template, seed)).collect();
    let mut model = Model { setup, wallets, history: Vec::new(), effective: BTreeSet::new() };
    let touched = model.touched();
    let supply = |chain: &Chain| -> u128 { touched.iter().map(|a| u128::from(account(chain, a).balance)).sum() };
    let total = supply(&plain);
    assert_eq!(total, u128::from(FUNDS) * u128::from(WALLETS));
    let config = ExecConfig::default();
    let mut timestamp = 1_700_000_000;

    for height in 1..=MAX_BLOCKS as u64 {
        if input.is_empty() {
            break;
        }
        let nonces: Vec<u64> = model.wallets.iter().map(|w| account(&plain, w).nonce).collect();
        let bundles = model.bundles(&mut input, nonces.clone());
        timestamp += u64::from(input.byte() % 3);
        let parent = match height {
            1 => Block::genesis().hash(),
            _ => plain.result(height - 1).expect("results read").expect("the last block has a result").input_hash,
        };
        let block = Block { height, parent_hash: parent, timestamp, bundles };
        assert_eq!(Block::from_bytes(&block.to_bytes()).as_ref(), Ok(&block), "the block's wire encoding");

        let (applied, skipped) = model.expected(&block);
        let (result, outcome) = plain.apply(&block, &config).expect("a block applies");
        let (twin, _) = pruning.apply(&block, &config).expect("a block applies on the pruning chain");
        assert_eq!(result, twin, "pruning (keep {keep}) changed the result of block {height}");
        assert_eq!((result.height, result.input_hash), (height, block.hash()));
        check_receipts(&block, &outcome, &applied, skipped);
        assert_eq!(plain.receipts(height).expect("receipts read"), outcome.receipts);
        assert_eq!(pruning.receipts(height).expect("the newest receipts are kept"), outcome.receipts);
        for receipt in &outcome.receipts {
            let indexed = plain.receipt(&receipt.tx_id).expect("index reads").expect("an applied tx is indexed");
            assert_eq!((indexed.height, indexed.index), (height, receipt.index));
        }

        for (w, address) in model.wallets.iter().enumerate() {
            let used = outcome
                .receipts
                .iter()
                .filter(|r| r.status != StoredStatus::Ineffective && r.principal == Some(address.into_bytes()))
                .count();
            assert_eq!(account(&plain, address).nonce, nonces[w] + used as u64, "nonce of wallet {}", w + 1);
        }
        assert_eq!(supply(&plain), total, "coins made or lost in block {height}");
        let effective = outcome.receipts.iter().filter(|r| r.status != StoredStatus::Ineffective);
        model.effective.extend(effective.map(|r| r.tx_id));
        summary.blocks += 1;
        summary.skipped += u64::from(outcome.skipped);
        for receipt in &outcome.receipts {
            match receipt.status {
                StoredStatus::Succeeded => summary.succeeded += 1,
                StoredStatus::Failed => summary.failed += 1,
                StoredStatus::Ineffective => summary.ineffective += 1,
            }
        }
    }
    summary
}

/// The receipts of `outcome` are those of `applied`, in order, with their
/// positions, and charge what their status says.
fn check_receipts(block: &Block, outcome: &BlockOutcome, applied: &[[u8; 32]], skipped: u32) {
    let ids: Vec<[u8; 32]> = outcome.receipts.iter().map(|r| r.tx_id).collect();
    assert_eq!(ids, applied, "which transactions got receipts");
    assert_eq!(outcome.skipped, skipped, "skipped duplicates");
    for (index, receipt) in outcome.receipts.iter().enumerate() {
        assert_eq!(receipt.index as usize, index);
        let bundle = block.bundles.get(receipt.bundle as usize).expect("a receipt names a bundle of the block");
        assert!(bundle.txs.iter().any(|tx| blake3::hash(tx).as_bytes() == &receipt.tx_id), "bundle of {receipt:?}");
        assert_eq!(receipt.fee_recipient, bundle.relay);
        assert_eq!(receipt.gas.iter().sum::<u64>(), receipt.gas_used, "{receipt:?}");
        if receipt.status == StoredStatus::Ineffective {
            assert_eq!((receipt.gas_used, receipt.fee), (0, 0), "{receipt:?}");
            assert!(receipt.logs.is_empty(), "{receipt:?}");
        } else {
            assert_eq!(receipt.fee, receipt.gas_used, "price 1: {receipt:?}");
            assert!(receipt.gas_used <= GAS, "{receipt:?}");
        }
    }
}

//! The data the node processes exchange, shared by every role (sequencer,
//! executor, shadow, relay) so they agree on one encoding.
//!
//! * Between processes the block data ([`Bundle`], [`Block`]) travels as
//!   SCALE bytes (`application/octet-stream`): it is what is hashed, so the
//!   bytes on the wire are the bytes the hash covers.
//! * Everything people (and wallets) read is JSON: [`BlockResult`], the
//!   response bodies in this module, and the genesis file ([`Genesis`]).
//!   32-byte hashes are lowercase hex strings in JSON.
//!
//! The rules built on these types are in `docs/node.md`.

use parity_scale_codec::{Decode, DecodeAll, Encode};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Largest `POST /v1/bundles` body the sequencer accepts: bounds the memory
/// one request can pin (a bundle of 64 maximal transactions fits).
pub const MAX_BUNDLE_BYTES: usize = 4 * 1024 * 1024;

/// Most transactions in one bundle (each still limited to
/// [`athena_transaction::tx::MAX_TX_SIZE`] bytes).
pub const MAX_BUNDLE_TXS: usize = 4096;

/// Largest encoded block the sequencer produces and an executor accepts.
/// A block holds at least one bundle even when that bundle alone is close to
/// this size, so it is a multiple of [`MAX_BUNDLE_BYTES`].
pub const MAX_BLOCK_BYTES: usize = 4 * MAX_BUNDLE_BYTES;

/// Most transactions the devnet sequencer puts in one block (whole
/// bundles; at least one bundle per block).
pub const MAX_BLOCK_TXS: usize = 4 * MAX_BUNDLE_TXS;

/// How many previous blocks' hashes programs can read with `GET_BLOCK_HASH`
/// (heights `h - 256 .. h`; older and future heights read as zero).
pub const BLOCK_HASH_WINDOW: u64 = 256;

/// A bundle of transactions posted by a relay to the base layer.
///
/// The relay's address receives the fees of the bundle's transactions (the
/// executor uses it as the block context's fee recipient): the relay is paid
/// inside Athena for the base-layer storage fee it covers.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Bundle {
    /// The relay's address (24 bytes); receives the bundle's fees.
    pub relay: [u8; 24],
    /// The transactions, as the bytes users signed and sent (not decoded by
    /// the base layer: ordering and availability only).
    pub txs: Vec<Vec<u8>>,
}

/// A block as ordered by the base layer: the executors' input.
///
/// Height 0 is [`Block::genesis`] (no bundles); ordered blocks start at 1,
/// each naming its parent by [`Block::hash`]. The timestamp is the
/// sequencer's: executors never read a clock.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Block {
    /// The block's height.
    pub height: u64,
    /// [`Block::hash`] of the block at `height - 1` (zero for height 0).
    pub parent_hash: [u8; 32],
    /// Seconds since the Unix epoch, non-decreasing along the chain.
    pub timestamp: u64,
    /// The bundles, in the order the base layer fixed.
    pub bundles: Vec<Bundle>,
}

/// Encoded data that is not what it should be: bad SCALE, trailing bytes,
/// or over a size limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// More bytes than the limit for this kind of data.
    #[error("{what} is {size} bytes, more than the limit of {max}")]
    TooLarge {
        /// What was being decoded.
        what: &'static str,
        /// Its size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// Not a valid SCALE encoding (or bytes left over).
    #[error("{what} is not a valid SCALE encoding: {reason}")]
    Malformed {
        /// What was being decoded.
        what: &'static str,
        /// The codec's complaint.
        reason: String,
    },
    /// Decoded, but breaks a rule (too many transactions, an oversized one).
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// What was being decoded.
        what: &'static str,
        /// Which rule.
        reason: String,
    },
}

/// Decodes exactly one `T` from `bytes` (no trailing bytes), after checking
/// the size against `max`.
fn decode_exact<T: Decode>(what: &'static str, bytes: &[u8], max: usize) -> Result<T, WireError> {
    if bytes.len() > max {
        return Err(WireError::TooLarge { what, size: bytes.len(), max });
    }
    T::decode_all(&mut &bytes[..]).map_err(|e| WireError::Malformed { what, reason: e.to_string() })
}

impl Bundle {
    /// The SCALE bytes sent to `POST /v1/bundles`.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.encode()
    }

    /// Parses and checks a posted bundle: at most [`MAX_BUNDLE_BYTES`], exact
    /// SCALE, at most [`MAX_BUNDLE_TXS`] transactions, each non-empty and at
    /// most `MAX_TX_SIZE` bytes. Transaction contents are not checked: an
    /// undecodable transaction is the executor's (ineffective) business.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, WireError> {
        let bundle: Bundle = decode_exact("bundle", bytes, MAX_BUNDLE_BYTES)?;
        bundle.check()?;
        Ok(bundle)
    }

    /// The per-bundle rules of [`Bundle::from_bytes`].
    pub fn check(&self) -> Result<(), WireError> {
        let invalid = |reason: String| Err(WireError::Invalid { what: "bundle", reason });
        if self.txs.is_empty() {
            return invalid("no transactions".into());
        }
        if self.txs.len() > MAX_BUNDLE_TXS {
            return invalid(format!("{} transactions, at most {MAX_BUNDLE_TXS}", self.txs.len()));
        }
        let max = athena_transaction::tx::MAX_TX_SIZE;
        if let Some((i, tx)) = self.txs.iter().enumerate().find(|(_, tx)| tx.is_empty() || tx.len() > max) {
            return invalid(format!("transaction {i} is {} bytes (1..={max} allowed)", tx.len()));
        }
        Ok(())
    }

    /// The relay as an [`athena_interface::Address`].
    pub fn relay_address(&self) -> athena_interface::Address {
        athena_interface::Address::new(self.relay)
    }
}

impl Block {
    /// The fixed block at height 0: no bundles, zero parent, timestamp 0.
    /// The genesis *state* comes from the genesis file ([`Genesis`]).
    pub fn genesis() -> Block {
        Block { height: 0, parent_hash: [0; 32], timestamp: 0, bundles: Vec::new() }
    }

    /// `blake3(SCALE(block))`: the block's input hash, which executors record
    /// and publish and the next block names as its parent.
    pub fn hash(&self) -> [u8; 32] {
        *blake3::hash(&self.encode()).as_bytes()
    }

    /// The SCALE bytes served by `GET /v1/blocks/{height}`.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.encode()
    }

    /// Parses a served block (at most [`MAX_BLOCK_BYTES`], exact SCALE).
    /// Bundles are not re-checked: the executor applies whatever the base
    /// layer ordered.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, WireError> {
        decode_exact("block", bytes, MAX_BLOCK_BYTES)
    }

    /// Number of transactions over all bundles (duplicates included).
    pub fn tx_count(&self) -> usize {
        self.bundles.iter().map(|b| b.txs.len()).sum()
    }
}

/// What an executor publishes for each block it executed (`POST /v1/results`,
/// JSON) and a shadow executor checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct BlockResult {
    /// The block height.
    pub height: u64,
    /// The block's [`Block::hash`]; at height 0 the genesis id.
    #[serde(with = "hex32")]
    pub input_hash: [u8; 32],
    /// The state root after the block (`docs/store.md`).
    #[serde(with = "hex32")]
    pub state_root: [u8; 32],
    /// The root over the block's receipts (`docs/node.md`).
    #[serde(with = "hex32")]
    pub receipts_root: [u8; 32],
}

/// The genesis file (JSON): the network's initial state.
///
/// ```json
/// {
///   "network": "atest",
///   "name": "devnet-1",
///   "accounts": { "atest1...": 1000000000 },
///   "templates": ["wallet.elf"],
///   "programs": [ { "template": "wallet.elf", "state": "<hex>", "balance": 0 } ]
/// }
/// ```
///
/// Template paths are relative to the genesis file. The genesis id is a hash
/// of the *contents* (code hashes, not paths), see `docs/node.md`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    /// The address HRP of the network (`atest`, `athena`, ...).
    pub network: String,
    /// A free name, part of the genesis id, so two networks with the same
    /// allocations still get different ids (and signatures do not replay).
    #[serde(default)]
    pub name: String,
    /// Funded plain accounts: bech32 address → balance.
    #[serde(default)]
    pub accounts: BTreeMap<String, u64>,
    /// Template ELF files to deploy, relative to the genesis file.
    #[serde(default)]
    pub templates: Vec<String>,
    /// Programs that exist at genesis (their `spawn` method does not run).
    #[serde(default)]
    pub programs: Vec<GenesisProgram>,
}

/// A program created at genesis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisProgram {
    /// A path from [`Genesis::templates`], or a bech32 template address
    /// deployed by this genesis.
    pub template: String,
    /// The program's immutable state (SCALE of the template struct), hex.
    pub state: String,
    /// Its initial balance.
    #[serde(default)]
    pub balance: u64,
}

/// The JSON error body of every endpoint: a stable machine code and a
/// message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable, snake_case (`not_found`, `bad_request`, `too_large`, ...).
    pub error: String,
    /// What went wrong, in words.
    pub message: String,
}

/// `POST /v1/bundles` → 202.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedResponse {
    /// Bundles waiting for the next block, this one included.
    pub queued: usize,
    /// Transactions in the accepted bundle.
    pub txs: usize,
}

/// `GET /v1/blocks/latest` (sequencer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatestResponse {
    /// The height of the newest block (0 before the first ordered block).
    pub height: u64,
}

/// `GET /v1/status` (executor and shadow).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusResponse {
    /// `executor` or `shadow`.
    pub role: String,
    /// The last committed height.
    pub height: u64,
    /// The state root after it (hex).
    pub state_root: String,
    /// The network's address HRP.
    pub network: String,
    /// The genesis id (hex).
    pub genesis_id: String,
    /// The templates deployed at genesis: the genesis file's entry (e.g.
    /// `templates/wallet.elf`) → template address (bech32). Wallets find
    /// their template here (the entry named `wallet` or whose file stem is
    /// `wallet`, docs/wallet.md) instead of needing it configured.
    #[serde(default)]
    pub templates: BTreeMap<String, String>,
}

/// `POST /v1/transactions/check`: a dry run of a transaction against the
/// latest committed state, as if it were the next block's first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResponse {
    /// Whether it would be effective (pay its fee, bump its nonce); a
    /// transaction whose payload fails is still `ok`.
    pub ok: bool,
    /// `succeeded`, `failed` or `ineffective`.
    pub status: String,
    /// Why it is ineffective or failed; `null` when it succeeds.
    pub reason: Option<String>,
    /// Revert message of a failed payload, if UTF-8.
    pub revert_message: Option<String>,
    /// Transaction id (hex).
    pub id: String,
    /// Principal (bech32), if the bytes decode.
    pub principal: Option<String>,
    /// The transaction's nonce, if the bytes decode.
    pub nonce: Option<u64>,
    /// The principal's next nonce in the committed state (0 if no account).
    pub account_nonce: Option<u64>,
    /// The principal's committed balance.
    pub balance: Option<u64>,
    /// Gas price, if the bytes decode.
    pub gas_price: Option<u64>,
    /// Gas limit, if the bytes decode.
    pub gas_limit: Option<u64>,
    /// `gas_limit × gas_price` (saturating): what the principal must hold.
    pub max_fee: Option<u64>,
    /// Gas the dry run used.
    pub gas_used: u64,
    /// The fee the dry run charged.
    pub fee: u64,
    /// The height of the state checked against.
    pub height: u64,
    /// Only with `?ignore_verify=true` (absent otherwise, and from nodes
    /// that predate it): whether the principal's `verify` accepted the
    /// authenticator. When `false`, `status`, `gas_used` and `fee` describe
    /// the run as if it had (an estimate for a transaction not signed
    /// yet) and `ok` is `false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_accepted: Option<bool>,
}

/// A log in receipts and events (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogJson {
    /// Emitting program (bech32).
    pub address: String,
    /// Topics (hex, 32 bytes each).
    pub topics: Vec<String>,
    /// Data (hex).
    pub data: String,
}

/// A transaction receipt as the query API serves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptJson {
    /// Transaction id (hex).
    pub id: String,
    /// Block height.
    pub height: u64,
    /// Position among the block's receipts.
    pub index: u32,
    /// Index of the bundle it came in.
    pub bundle: u32,
    /// `succeeded`, `failed` or `ineffective`.
    pub status: String,
    /// Why it failed / was ineffective.
    pub reason: Option<String>,
    /// The revert data as text, if UTF-8.
    pub revert_message: Option<String>,
    /// Principal (bech32), if the bytes decoded.
    pub principal: Option<String>,
    /// Nonce, if the bytes decoded.
    pub nonce: Option<u64>,
    /// Gas used.
    pub gas_used: u64,
    /// Fee paid to the fee recipient.
    pub fee: u64,
    /// Who received the fee: the bundle's relay (bech32).
    pub fee_recipient: String,
    /// Output / revert data (hex).
    pub output: String,
    /// Logs (only if it succeeded).
    pub logs: Vec<LogJson>,
    /// Hash of the receipt's change set (hex, `docs/node.md`).
    pub changes_hash: String,
    /// The receipt's leaf hash in the block's receipts root (hex): lets a
    /// client check a block's receipts against the published root.
    pub hash: String,
}

/// `GET /v1/accounts/{address}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountResponse {
    /// The address (bech32).
    pub address: String,
    /// Balance.
    pub balance: u64,
    /// Next nonce.
    pub nonce: u64,
    /// Template (bech32) for programs, `null` for plain accounts.
    pub template: Option<String>,
    /// The program's immutable state (hex; empty for plain accounts).
    pub state: String,
    /// Height the answer is for.
    pub height: u64,
    /// State root at that height (hex).
    pub state_root: String,
    /// Proof of the account record under `state_root` (hex, `docs/store.md`).
    pub proof: String,
    /// Proof of the program state leaf under the same `state_root` (hex):
    /// inclusion of `state`, or non-inclusion when `state` is empty. The
    /// blob is its own leaf, so the account proof does not cover it.
    /// Absent from older nodes' answers.
    #[serde(default)]
    pub state_proof: String,
}

/// `GET /v1/accounts/{address}/storage/{key}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageResponse {
    /// The program (bech32).
    pub address: String,
    /// The slot key (hex).
    pub key: String,
    /// The value (hex, 32 bytes; zero = absent).
    pub value: String,
    /// Height the answer is for.
    pub height: u64,
    /// State root at that height (hex).
    pub state_root: String,
    /// Inclusion or non-inclusion proof under `state_root` (hex).
    pub proof: String,
}

/// A bundle in a block summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleJson {
    /// The relay (bech32), which received the bundle's fees.
    pub relay: String,
    /// Transactions in the bundle (duplicates included).
    pub txs: u32,
}

/// `GET /v1/blocks/{height}` (executor): what the node knows of a block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockJson {
    /// Height.
    pub height: u64,
    /// Input hash (hex; the genesis id at height 0).
    pub hash: String,
    /// Parent hash (hex).
    pub parent_hash: String,
    /// Sequencer timestamp.
    pub timestamp: u64,
    /// Bundles.
    pub bundles: Vec<BundleJson>,
    /// Ids of the transactions with receipts, in order (hex).
    pub transactions: Vec<String>,
    /// Duplicates skipped.
    pub skipped: u32,
    /// State root after the block (hex).
    pub state_root: String,
    /// Receipts root (hex).
    pub receipts_root: String,
}

/// One log in `GET /v1/events`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventJson {
    /// Block height.
    pub height: u64,
    /// Transaction id (hex).
    pub tx_id: String,
    /// Receipt index in the block.
    pub index: u32,
    /// Log index in the receipt.
    pub log_index: u32,
    /// The log.
    #[serde(flatten)]
    pub log: LogJson,
}

/// `GET /v1/events`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventsResponse {
    /// Matching logs in chain order.
    pub events: Vec<EventJson>,
    /// Whether the limit cut the list short.
    pub truncated: bool,
}

/// `GET /v1/status` (sequencer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SequencerStatus {
    /// `sequencer`.
    pub role: String,
    /// Newest block height.
    pub height: u64,
    /// Bundles waiting for a block.
    pub queued: usize,
}

/// The first transaction whose receipt differs between the executor and
/// the shadow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DivergentTx {
    /// Receipt index in the block.
    pub index: u32,
    /// Transaction id (hex) as the shadow executed it.
    pub id: String,
    /// The shadow's change-set hash (hex), if it has this receipt.
    pub own_changes_hash: Option<String>,
    /// The executor's change-set hash (hex), if it served this receipt.
    pub executor_changes_hash: Option<String>,
    /// What differs.
    pub reason: String,
}

/// A published result that disagrees with the shadow's own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Divergence {
    /// The first block whose result differs.
    pub height: u64,
    /// What the executor published.
    pub published: BlockResult,
    /// What the shadow computed.
    pub own: BlockResult,
    /// The first differing transaction, when the executor's receipts could
    /// be fetched and compared.
    pub first_tx: Option<DivergentTx>,
    /// Explanation.
    pub detail: String,
}

/// `GET /v1/shadow`: the shadow executor's verdict so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ShadowStatus {
    /// `false` once a divergence is found.
    pub ok: bool,
    /// The last height whose published result matched.
    pub verified_height: Option<u64>,
    /// The first divergence, if any.
    pub divergence: Option<Divergence>,
}

/// `serde` helpers: `[u8; 32]` as a 64-character lowercase hex string.
pub mod hex32 {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    /// Serializes as hex.
    pub fn serialize<S: Serializer>(bytes: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    /// Parses 64 hex characters.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        parse(&text).map_err(D::Error::custom)
    }

    /// Parses 64 hex characters into 32 bytes.
    pub fn parse(text: &str) -> Result<[u8; 32], String> {
        super::parse_hex(text)
    }
}

/// Parses exactly `2 * N` hex characters into `N` bytes; the error names the
/// expected length (the JSON hex fields of results, keys and signatures).
pub fn parse_hex<const N: usize>(text: &str) -> Result<[u8; N], String> {
    let mut out = [0u8; N];
    hex::decode_to_slice(text, &mut out).map_err(|e| format!("expected {} hex characters: {e}", 2 * N))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundle_and_block_round_trip_and_hash() {
        let bundle = Bundle { relay: [7; 24], txs: vec![vec![1, 2, 3], vec![4]] };
        assert_eq!(Bundle::from_bytes(&bundle.to_bytes()).unwrap(), bundle);
        let block = Block { height: 1, parent_hash: Block::genesis().hash(), timestamp: 9, bundles: vec![bundle] };
        assert_eq!(Block::from_bytes(&block.to_bytes()).unwrap(), block);
        assert_eq!(block.hash(), *blake3::hash(&block.to_bytes()).as_bytes());
        assert_ne!(block.hash(), Block::genesis().hash());
        assert_eq!(block.tx_count(), 2);
    }

    #[test]
    fn bundle_rules() {
        let mut bytes = Bundle { relay: [7; 24], txs: vec![vec![1]] }.to_bytes();
        bytes.push(0);
        assert!(matches!(Bundle::from_bytes(&bytes), Err(WireError::Malformed { .. })));
        assert!(matches!(Bundle::from_bytes(&[1, 2, 3]), Err(WireError::Malformed { .. })));
        let empty = Bundle { relay: [7; 24], txs: vec![] }.to_bytes();
        assert!(matches!(Bundle::from_bytes(&empty), Err(WireError::Invalid { .. })));
        let empty_tx = Bundle { relay: [7; 24], txs: vec![vec![]] }.to_bytes();
        assert!(matches!(Bundle::from_bytes(&empty_tx), Err(WireError::Invalid { .. })));
        let big = Bundle { relay: [7; 24], txs: vec![vec![0; athena_transaction::tx::MAX_TX_SIZE + 1]] }.to_bytes();
        assert!(matches!(Bundle::from_bytes(&big), Err(WireError::Invalid { .. })));
        let huge = vec![0u8; MAX_BUNDLE_BYTES + 1];
        assert!(matches!(Bundle::from_bytes(&huge), Err(WireError::TooLarge { .. })));
        // A length prefix claiming far more transactions than there are bytes.
        let mut lying = vec![7u8; 24];
        lying.extend_from_slice(&[0xff, 0xff, 0xff, 0xff]);
        assert!(Bundle::from_bytes(&lying).is_err());
    }

    #[test]
    fn block_result_json_uses_hex() {
        let result = BlockResult { height: 3, input_hash: [1; 32], state_root: [2; 32], receipts_root: [3; 32] };
        let json = serde_json::to_value(result).unwrap();
        assert_eq!(json["state_root"], hex::encode([2u8; 32]));
        assert_eq!(serde_json::from_value::<BlockResult>(json).unwrap(), result);
        assert!(hex32::parse("zz").is_err());
    }
}

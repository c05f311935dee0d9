//! The wallet commands of `athena` (docs/wallet.md): keys, addresses, and
//! transactions through the single-sig wallet, sent to a node's HTTP API
//! (normally the relay, which proxies the executor's query API).
//!
//! `main.rs` flattens [`WalletCommand`] into its own subcommands, so these
//! are top-level: `athena key new`, `athena send`, ...

mod commands;
mod multisig;
mod passphrase;
mod report;

use athena_wallet::key::KdfParams;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Where the wallet commands look for a node when neither `--node` nor
/// `ATHENA_NODE` is given: the relay's suggested listen address
/// (docs/relay.md), which also proxies the executor's query API.
pub const DEFAULT_NODE: &str = "http://127.0.0.1:9300";

/// The wallet subcommands (flattened into `athena`'s).
#[derive(Subcommand, Debug)]
pub enum WalletCommand {
    /// Create or inspect ed25519 key files.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Print the wallet address of a key: program_address(wallet template,
    /// public key). Known before the wallet exists, so it can be funded
    /// first.
    ///
    /// With --wallet-template the address is computed offline (the network
    /// is the template's bech32 prefix); otherwise the node's status names
    /// the wallet template.
    Address(AddressArgs),
    /// Wallet lifecycle: `athena wallet spawn`.
    #[command(subcommand)]
    Wallet(WalletSub),
    /// Send coins from your wallet: calls its `spend(to, amount)`.
    Send(SendArgs),
    /// Deploy a template (a RISC-V ELF) through your wallet's `deploy`;
    /// prints the template's address (a hash of the code).
    Deploy(DeployArgs),
    /// Spawn a program of a template through your wallet's
    /// `spawn_program(template, state)`; prints the program's address.
    Spawn(SpawnArgs),
    /// Call a method of a program through your wallet's
    /// `proxy(to, payload, value)`.
    ///
    /// ARGS are typed and SCALE-encoded in order: u8..u128:N, i8..i128:N,
    /// bool:true, compact:N, bytes:HEX (length-prefixed), str:TEXT,
    /// addr:BECH32 (24 raw bytes), raw:HEX (as is). Example:
    /// `athena call atest1... add u64:5 --wait --returns u64`.
    Call(CallArgs),
    /// Show an account: balance, nonce, template, state; checks the
    /// account proof against the state root.
    Account(AccountArgs),
    /// Show a transaction: pending at the relay, its receipt, or why it was
    /// dropped.
    Tx(TxArgs),
    /// Read one storage slot of a program and check its Merkle proof
    /// (inclusion, or non-inclusion for an empty slot).
    Storage(StorageArgs),
    /// A k-of-n multisig account, signed offline through a proposal file:
    /// address, propose, sign, show, submit (docs/wallet.md, "Multisig").
    #[command(subcommand)]
    Multisig(multisig::MultisigCommand),
}

/// `athena key ...`.
#[derive(Subcommand, Debug)]
pub enum KeyCommand {
    /// Generate a new ed25519 key and write it to a key file (JSON, mode
    /// 0600). Never overwrites an existing file unless --force.
    New(KeyNewArgs),
    /// Show a key file's public key (never the secret); no passphrase
    /// needed for an encrypted file.
    Show(KeyShowArgs),
    /// Encrypt a plain key file in place with a passphrase (argon2id +
    /// XChaCha20-Poly1305; the public key stays readable).
    Encrypt(KeyConvertArgs),
    /// Decrypt an encrypted key file in place (the secret in clear again).
    Decrypt(KeyConvertArgs),
}

/// `athena wallet ...`.
#[derive(Subcommand, Debug)]
pub enum WalletSub {
    /// Spawn your wallet: the self-spawn transaction, signed by your key and
    /// paid from the coins already sent to the wallet's address.
    Spawn(SpawnWalletArgs),
}

/// `--json`.
#[derive(Args, Debug, Clone, Copy)]
pub struct OutputOpts {
    /// Print one JSON object on stdout instead of text (errors still go to
    /// stderr, with a non-zero exit status).
    #[arg(long)]
    pub json: bool,
}

/// How to reach the node.
#[derive(Args, Debug, Clone)]
pub struct NodeOpts {
    /// The node's HTTP API: normally the relay, which also serves the
    /// executor's query API.
    #[arg(long, env = "ATHENA_NODE", value_name = "URL", default_value = DEFAULT_NODE)]
    pub node: String,
    /// Seconds before one HTTP request gives up.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub http_timeout: u64,
}

/// Which key file.
#[derive(Args, Debug, Clone)]
pub struct KeyOpt {
    /// The key file [default: $HOME/.athena/key.json].
    #[arg(long, env = "ATHENA_KEY", value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// For an encrypted key file: read its passphrase from this file (one
    /// trailing newline ignored) [default: $ATHENA_PASSPHRASE, else a
    /// prompt on a terminal].
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
}

/// Which wallet template.
#[derive(Args, Debug, Clone)]
pub struct TemplateOpt {
    /// The wallet template's address [default: the node's status names it
    /// (`templates.wallet`)].
    #[arg(long, env = "ATHENA_WALLET_TEMPLATE", value_name = "ADDR", visible_alias = "template")]
    pub wallet_template: Option<String>,
}

/// Options of every transaction-sending command.
#[derive(Args, Debug, Clone)]
pub struct TxOpts {
    #[command(flatten)]
    pub node: NodeOpts,
    #[command(flatten)]
    pub key: KeyOpt,
    /// The wallet template's address [default: from the node's status].
    #[arg(long, env = "ATHENA_WALLET_TEMPLATE", value_name = "ADDR")]
    pub wallet_template: Option<String>,
    /// Gas limit [default: the dry run's gas use + 25% + 5000, else a
    /// per-command default (100 000 for spend and self-spawn)].
    #[arg(long, value_name = "N")]
    pub gas_limit: Option<u64>,
    /// Gas price (coins per unit of gas).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub gas_price: u64,
    /// Nonce [default: the relay's next nonce for the wallet if it reports
    /// one, else the account's committed nonce].
    #[arg(long, value_name = "N")]
    pub nonce: Option<u64>,
    /// Skip the executor's dry run (which refuses transactions that would
    /// fail and lowers the default gas limit to what is needed).
    #[arg(long)]
    pub no_check: bool,
    #[command(flatten)]
    pub wait: WaitOpts,
}

/// `--wait` and `--wait-timeout`: one declaration for every command that
/// submits a transaction (the wallet's and `multisig submit`), so their
/// help and defaults cannot drift apart.
#[derive(Args, Debug, Clone, Copy)]
pub struct WaitOpts {
    /// Wait until the transaction is in a block and print its receipt
    /// (exit status 1 if it failed).
    #[arg(long)]
    pub wait: bool,
    /// With --wait: give up after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub wait_timeout: u64,
}

/// `athena key new`.
#[derive(Args, Debug)]
pub struct KeyNewArgs {
    /// Where to write the key [default: $ATHENA_KEY, else
    /// $HOME/.athena/key.json].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Replace an existing key file (its key is lost).
    #[arg(long)]
    pub force: bool,
    /// Encrypt the key file with a passphrase (argon2id + XChaCha20-Poly1305).
    #[arg(long)]
    pub encrypt: bool,
    #[command(flatten)]
    pub seal: SealOpts,
    #[command(flatten)]
    pub output: OutputOpts,
}

/// Where the passphrase that seals a key comes from, and the costs.
#[derive(Args, Debug)]
pub struct SealOpts {
    /// Read the passphrase from this file (one trailing newline ignored)
    /// [default: $ATHENA_PASSPHRASE, else asked twice on a terminal].
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// argon2id costs M_KIB,T,P [default: 65536,3,1]; for tests and slow
    /// machines only (bounded: docs/wallet.md).
    #[arg(long, value_name = "M,T,P", hide = true)]
    pub kdf_params: Option<KdfParams>,
}

/// `athena key encrypt` / `athena key decrypt`.
#[derive(Args, Debug)]
pub struct KeyConvertArgs {
    /// The key file, rewritten in place (a new file renamed over it)
    /// [default: $ATHENA_KEY, else $HOME/.athena/key.json].
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub seal: SealOpts,
    #[command(flatten)]
    pub output: OutputOpts,
}

/// `athena key show`.
#[derive(Args, Debug)]
pub struct KeyShowArgs {
    #[command(flatten)]
    pub key: KeyOpt,
    #[command(flatten)]
    pub output: OutputOpts,
}

/// Which wallet a read-only command means when it is your own: the key
/// file, the wallet template and the node to ask for the template. One
/// struct for `athena address` and `athena account`, which both derive the
/// wallet's address from these.
#[derive(Args, Debug, Clone)]
pub struct WalletIdOpts {
    #[command(flatten)]
    pub key: KeyOpt,
    #[command(flatten)]
    pub template: TemplateOpt,
    #[command(flatten)]
    pub node: NodeOpts,
}

/// `athena address`.
#[derive(Args, Debug)]
pub struct AddressArgs {
    #[command(flatten)]
    pub wallet: WalletIdOpts,
    #[command(flatten)]
    pub output: OutputOpts,
}

/// `athena wallet spawn`.
#[derive(Args, Debug)]
pub struct SpawnWalletArgs {
    #[command(flatten)]
    pub tx: TxOpts,
    #[command(flatten)]
    pub output: OutputOpts,
}

/// `athena send`.
#[derive(Args, Debug)]
pub struct SendArgs {
    /// Recipient address (bech32).
    pub to: String,
    /// Coins to send.
    pub amount: u64,
    #[command(flatten)]
    pub tx: TxOpts,
    #[command(flatten)]
    pub output: OutputOpts,
}

/// `athena deploy`.
#[derive(Args, Debug)]
pub struct DeployArgs {
    /// The template's RISC-V ELF (e.g. from `athena build`); at most about
    /// 32 KiB, the payload limit of a transaction.
    pub file: PathBuf,
    #[command(flatten)]
    pub tx: TxOpts,
    #[command(flatten)]
    pub output: OutputOpts,
}

/// `athena spawn`.
#[derive(Args, Debug)]
pub struct SpawnArgs {
    /// The template's address (bech32).
    pub template: String,
    /// The program's state: SCALE of the template's struct, as hex, or as
    /// typed fields in order (u64:5 addr:... bytes:..., see `athena call
    /// --help`). Empty for a template without fields.
    #[arg(value_name = "STATE")]
    pub state: Vec<String>,
    #[command(flatten)]
    pub tx: TxOpts,
    #[command(flatten)]
    pub output: OutputOpts,
}

/// `athena call`.
#[derive(Args, Debug)]
pub struct CallArgs {
    /// The program to call (bech32).
    pub address: String,
    /// Method name (its selector is blake3(name)[..4]), or a selector as
    /// 0x + 8 hex digits.
    pub method: String,
    /// Typed arguments: TYPE:VALUE, e.g. u64:5 str:hi addr:atest1...
    #[arg(value_name = "ARGS")]
    pub args: Vec<String>,
    /// Coins to send with the call.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub value: u64,
    /// With --wait: decode the output as this type (u64, bool, str, bytes,
    /// addr, raw, ...).
    #[arg(long, value_name = "TYPE")]
    pub returns: Option<String>,
    #[command(flatten)]
    pub tx: TxOpts,
    #[command(flatten)]
    pub output: OutputOpts,
}

/// `athena account`.
#[derive(Args, Debug)]
pub struct AccountArgs {
    /// The address (bech32) [default: your wallet's, from --key].
    pub address: Option<String>,
    /// Check the proof against this state root (hex) instead of the one the
    /// node reports.
    #[arg(long, value_name = "HEX")]
    pub root: Option<String>,
    #[command(flatten)]
    pub wallet: WalletIdOpts,
    #[command(flatten)]
    pub output: OutputOpts,
}

/// `athena tx`.
#[derive(Args, Debug)]
pub struct TxArgs {
    /// The transaction id (64 hex digits).
    pub id: String,
    /// Decode a successful output as this type.
    #[arg(long, value_name = "TYPE")]
    pub returns: Option<String>,
    #[command(flatten)]
    pub node: NodeOpts,
    #[command(flatten)]
    pub output: OutputOpts,
}

/// `athena storage`.
#[derive(Args, Debug)]
pub struct StorageArgs {
    /// The program (bech32).
    pub address: String,
    /// The 32-byte slot key (64 hex digits; the raw slot is shown), or
    /// `item:NAME` for the SDK's typed storage item NAME
    /// (`Value::new("NAME")`; docs/sdk.md): its first slot is
    /// `blake3("athena/storage/" ‖ u32_le(len) ‖ NAME ‖ map key)`, and a
    /// value longer than 28 bytes is read from its further slots too, every
    /// one proven, and shown whole.
    pub key: String,
    /// With `item:NAME` of a `Map`: the map key as typed arguments
    /// (SCALE-encoded and concatenated, like `call`'s), e.g.
    /// `addr:atest1…`.
    #[arg(value_name = "MAP_KEY")]
    pub map_key: Vec<String>,
    /// Check the proof against this state root (hex) instead of the one the
    /// node reports.
    #[arg(long, value_name = "HEX")]
    pub root: Option<String>,
    /// With `item:NAME`: fetch at most this many slots (32 bytes each), so
    /// a node announcing a huge value cannot keep the wallet fetching.
    #[arg(long, value_name = "N", default_value_t = athena_wallet::item::DEFAULT_MAX_SLOTS)]
    pub max_slots: usize,
    #[command(flatten)]
    pub node: NodeOpts,
    #[command(flatten)]
    pub output: OutputOpts,
}

/// Runs a wallet command; errors go to stderr as `error: ...`, exit 1.
pub fn run(command: WalletCommand) -> ExitCode {
    match commands::dispatch(command) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

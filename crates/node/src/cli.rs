//! The `athena node ...` command line (also the `athena-node` binary):
//! long-running sequencer, executor and shadow processes with progress
//! logs on stderr, and the offline `compact` of an executor's database.
//!
//! Exit codes: 0 after SIGINT/SIGTERM (or a finished `compact`), 1 on an error, 2 when a shadow
//! executor found a divergence.

use crate::auth::{load_or_create_key, parse_public_key, ResultPolicy, EXECUTOR_KEY_FILE};
use crate::base_layer::HttpBaseLayer;
use crate::exec::Fault;
use crate::executor::{start_executor, ExecutorConfig};
use crate::executor_keys::{AuthorizedKey, KeySource, LivePolicy};
use crate::follower::Role;
use crate::genesis::load_genesis;
use crate::http::{NodeError, NodeEvent, NodeHandle, WorkerExit, WorkerResult};
use crate::sequencer::{start_sequencer_with, SequencerConfig};
use crate::sequencer_limits::{SequencerLimits, SequencerRateLimits};
use athena_ratelimit::Rate;
use clap::{Args, Subcommand};
use ed25519_dalek::VerifyingKey;
use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// Exit code of a shadow executor that found a divergence.
pub const EXIT_DIVERGED: u8 = 2;

/// `athena node`: run one node process. Generic over the set of processes
/// so that the `athena` front door, whose set adds the relay (a crate that
/// depends on this one), reuses this definition instead of repeating it.
#[derive(Args, Debug)]
pub struct NodeArgs<C: Subcommand = NodeCommand> {
    /// Which process.
    #[command(subcommand)]
    pub command: C,
}

/// The node processes.
#[derive(Subcommand, Debug)]
pub enum NodeCommand {
    /// The devnet base layer: accepts bundles from relays, orders them into
    /// a block every interval, serves blocks and executors' results.
    Sequencer(SequencerArgs),
    /// Executes the sequencer's blocks, keeps the state (with proofs),
    /// publishes each block's result and serves the query API.
    Executor(ExecutorArgs),
    /// Re-executes the same blocks and checks every result the executor
    /// publishes; reports the first diverging block and transaction.
    Shadow(ShadowArgs),
    /// Shrinks a stopped executor's or shadow's database file after pruning
    /// (offline).
    ///
    /// Gives back the disk space pruning (`--keep-heights`) freed, which
    /// redb otherwise only reuses for later blocks. Stop the executor first
    /// (a running one is refused), run this, start it again: roots, receipts
    /// and proofs are unchanged. Prints the file size before and after on
    /// stdout (docs/node.md, "Pruning").
    Compact(CompactArgs),
}

/// `athena node compact`.
#[derive(Args, Debug)]
pub struct CompactArgs {
    /// Data directory of the executor or shadow to compact (the
    /// `--data-dir` it runs with); its `state.redb` is rewritten in place.
    /// Required, so a default path never gets compacted by accident.
    #[arg(long)]
    pub data_dir: PathBuf,
}

/// `athena node sequencer`.
#[derive(Args, Debug)]
pub struct SequencerArgs {
    /// Directory of the sequencer's database.
    #[arg(long, default_value = "athena-data/sequencer")]
    pub data_dir: PathBuf,
    /// Address of the HTTP API.
    #[arg(long, default_value = "127.0.0.1:9000")]
    pub listen: SocketAddr,
    /// Time between blocks (`500ms`, `1s`, `2m`).
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub block_interval: Duration,
    /// Also produce blocks when no bundle is waiting.
    #[arg(long)]
    pub empty_blocks: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub results: ResultKeyArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub limits: SequencerLimitArgs,
}

/// The sequencer's per-client rate limits (`docs/node.md`, "Rate limits").
#[derive(Args, Debug, Clone)]
pub struct SequencerLimitArgs {
    /// Bundles (`POST /v1/bundles`) per second per client (IPv4 address or
    /// IPv6 /64); 0 = unlimited.
    #[arg(long, default_value_t = SequencerRateLimits::default().bundles.per_second)]
    pub bundle_rate: u32,
    /// Bundles a client may post back to back; 0 = unlimited.
    #[arg(long, default_value_t = SequencerRateLimits::default().bundles.burst)]
    pub bundle_burst: u32,
    /// Other requests (status, blocks, results) per second per client;
    /// 0 = unlimited. On a devnet every process shares the loopback address.
    #[arg(long, default_value_t = SequencerRateLimits::default().requests.per_second)]
    pub request_rate: u32,
    /// Other requests a client may make back to back; 0 = unlimited.
    #[arg(long, default_value_t = SequencerRateLimits::default().requests.burst)]
    pub request_burst: u32,
    /// Count requests against the right-most `X-Forwarded-For` address
    /// instead of the TCP peer. Only behind exactly one trusted reverse proxy
    /// that appends the client's address; otherwise clients choose their key.
    #[arg(long)]
    pub trust_forwarded_for: bool,
}

impl SequencerLimitArgs {
    /// The limits these flags describe.
    pub fn limits(&self) -> SequencerRateLimits {
        SequencerRateLimits {
            bundles: Rate { per_second: self.bundle_rate, burst: self.bundle_burst },
            requests: Rate { per_second: self.request_rate, burst: self.request_burst },
            trust_forwarded_for: self.trust_forwarded_for,
            ..SequencerRateLimits::default()
        }
    }
}

/// Which executors' results are authentic (sequencer, executor, shadow).
#[derive(Args, Debug, Clone)]
pub struct ResultKeyArgs {
    /// Public key (64 hex digits) of an authorized executor; repeatable.
    /// Results signed by another key are refused.
    #[arg(long = "executor-key", value_name = "HEX", value_parser = parse_public_key)]
    pub executor_keys: Vec<VerifyingKey>,
    /// A keys file: one executor public key (64 hex digits) per line,
    /// optionally with the heights it may sign (`from=N`, `until=N`), `#`
    /// comments. Every node re-reads it while running (sequencer: once per
    /// block interval; executor and shadow: once per poll interval and
    /// before refusing a result), so keys are added or retired without a
    /// restart; a bad file is logged and the keys in force stay
    /// (docs/node.md, "Rotating executor keys").
    #[arg(long = "executor-keys", value_name = "FILE")]
    pub executor_keys_file: Option<PathBuf>,
    /// Development only: accept (and trust) unsigned results and results of
    /// any signer; whoever posts a height first owns it.
    #[arg(long, conflicts_with_all = ["executor_keys", "executor_keys_file"])]
    pub accept_unsigned_results: bool,
}

impl ResultKeyArgs {
    /// The policy these flags ask for, with `own` (an executor's own key)
    /// authorized too. No key at all is a configuration error: a node that
    /// trusts no one by accident would refuse every result (or, for a
    /// shadow, never verify a block) without saying why.
    /// Its keys file, if any, is re-read while the node runs.
    pub fn policy(&self, own: Option<VerifyingKey>) -> Result<LivePolicy, NodeError> {
        Ok(match self.source(own)? {
            Some(source) => source.into(),
            None => ResultPolicy::AcceptUnsigned.into(),
        })
    }

    /// Where the keys come from (`None`: `--accept-unsigned-results`), the
    /// keys file read once here (an unreadable or invalid file is an error
    /// at start, naming the line).
    pub fn source(&self, own: Option<VerifyingKey>) -> Result<Option<KeySource>, NodeError> {
        if self.accept_unsigned_results {
            return Ok(None);
        }
        let mut fixed: Vec<VerifyingKey> = own.into_iter().collect();
        fixed.extend(self.executor_keys.iter().filter(|k| Some(**k) != own));
        let fixed = fixed.into_iter().map(AuthorizedKey::from).collect();
        let source = KeySource::new(fixed, self.executor_keys_file.clone()).map_err(NodeError::Config)?;
        if source.keys().is_empty() {
            return Err(NodeError::Config(
                "no authorized executor key: pass --executor-key HEX (the executor's public key), --executor-keys FILE or, for development only, --accept-unsigned-results".into(),
            ));
        }
        Ok(Some(source))
    }
}

/// Options shared by executors and shadows.
#[derive(Args, Debug)]
pub struct FollowArgs {
    /// URL of the sequencer.
    #[arg(long, default_value = "http://127.0.0.1:9000")]
    pub sequencer: String,
    /// Genesis file (required the first time, checked afterwards).
    #[arg(long)]
    pub genesis: Option<PathBuf>,
    /// How often to ask the sequencer for new blocks.
    #[arg(long, default_value = "200ms", value_parser = parse_duration)]
    pub poll: Duration,
    /// Keep receipts, events and state proofs only for the last committed
    /// height and the N before it, pruning older ones after every block
    /// (queries for them answer 410 `pruned`). Default: keep everything.
    #[arg(long, value_name = "N")]
    pub keep_heights: Option<u64>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub results: ResultKeyArgs,
}

/// `athena node executor`.
#[derive(Args, Debug)]
pub struct ExecutorArgs {
    /// Directory of the executor's database.
    #[arg(long, default_value = "athena-data/executor")]
    pub data_dir: PathBuf,
    /// Address of the query API.
    #[arg(long, default_value = "127.0.0.1:9100")]
    pub listen: SocketAddr,
    /// Key file (the wallet's format) of the key that signs published
    /// results; default `DATA_DIR/executor-key.json`, created (mode 0600) on
    /// first start. Its public key goes to the sequencer's `--executor-key`.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub follow: FollowArgs,
    /// Test only: conjure coins at `HEIGHT[:INDEX]` so a shadow has
    /// something to catch.
    #[arg(long, hide = true, value_parser = Fault::parse)]
    pub inject_fault: Option<Fault>,
}

/// `athena node shadow`.
#[derive(Args, Debug)]
pub struct ShadowArgs {
    /// Directory of the shadow's own database.
    #[arg(long, default_value = "athena-data/shadow")]
    pub data_dir: PathBuf,
    /// Address of the shadow's query API (with `GET /v1/shadow`).
    #[arg(long, default_value = "127.0.0.1:9200")]
    pub listen: SocketAddr,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub follow: FollowArgs,
    /// URL of the executor's query API, to name the first diverging
    /// transaction.
    #[arg(long)]
    pub executor: Option<String>,
    /// Exit (code 2) at the first divergence instead of staying up to
    /// serve the verdict.
    #[arg(long)]
    pub exit_on_divergence: bool,
}

/// Parses `250ms`, `1s`, `2m` (a bare number is seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().map_err(|_| format!("{text:?}: expected a number and a unit (ms, s, m)"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "" | "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n.saturating_mul(60))),
        _ => Err(format!("{text:?}: unknown unit {unit:?} (ms, s, m)")),
    }
}

/// Sends `tracing` output to stderr (`RUST_LOG` overrides the `info` level).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .with_env_filter(filter)
        .try_init();
}

/// Runs `athena node ...` to completion.
pub fn run(args: NodeArgs) -> ExitCode {
    init_logging();
    match run_inner(args) {
        Ok(code) => code,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn announce(name: &str, handle: &NodeHandle) {
    tracing::info!("{name} listening on {}", handle.url());
    // One machine-readable line on stdout for scripts and tests.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening {}", handle.url());
    let _ = out.flush();
}

fn run_inner(args: NodeArgs) -> Result<ExitCode, NodeError> {
    match args.command {
        NodeCommand::Sequencer(a) => {
            let config = SequencerConfig {
                data_dir: Some(a.data_dir),
                listen: a.listen,
                block_interval: a.block_interval,
                empty_blocks: a.empty_blocks,
                signals: true,
                limits: SequencerLimits::shared(a.limits.limits()),
            };
            let handle = start_sequencer_with(config, a.results.policy(None)?)?;
            announce("sequencer", &handle);
            supervise(handle, false)
        }
        NodeCommand::Executor(a) => {
            let key_path = a.key.clone().unwrap_or_else(|| a.data_dir.join(EXECUTOR_KEY_FILE));
            let key = load_or_create_key(&key_path).map_err(|e| NodeError::Config(e.to_string()))?;
            if athena_wallet::key::readable_by_others(&key_path) {
                tracing::warn!("{} is readable by other users (chmod 600 it)", key_path.display());
            }
            tracing::info!("signing results with {} (public {})", key_path.display(), hex::encode(key.public_bytes()));
            let own = Some(key.verifying_key());
            let mut config = executor_config(a.data_dir, a.listen, a.follow, Role::Executor, a.inject_fault, own)?;
            config.signer = Some(key.signing_key().clone());
            let executor = start_executor(config)?;
            announce("executor", &executor.handle);
            supervise(executor.handle, false)
        }
        NodeCommand::Shadow(a) => {
            let role = Role::Shadow { executor: a.executor.clone() };
            let executor = start_executor(executor_config(a.data_dir, a.listen, a.follow, role, None, None)?)?;
            announce("shadow", &executor.handle);
            supervise(executor.handle, a.exit_on_divergence)
        }
        NodeCommand::Compact(a) => {
            let report = crate::compact::compact_data_dir(&a.data_dir)?;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", report.summary())?;
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn executor_config(
    data_dir: PathBuf,
    listen: SocketAddr,
    follow: FollowArgs,
    role: Role,
    fault: Option<Fault>,
    own_key: Option<VerifyingKey>,
) -> Result<ExecutorConfig, NodeError> {
    let results = follow.results.policy(own_key)?;
    let genesis = follow.genesis.as_deref().map(load_genesis).transpose().map_err(crate::chain::ChainError::from)?;
    Ok(ExecutorConfig {
        data_dir: Some(data_dir),
        genesis,
        listen,
        base: Arc::new(HttpBaseLayer::new(&follow.sequencer)),
        role,
        poll: follow.poll,
        fault,
        signals: true,
        signer: None,
        results,
        keep_heights: follow.keep_heights,
    })
}

/// Waits for a signal or the worker's end and turns it into an exit code.
fn supervise(mut handle: NodeHandle, exit_on_divergence: bool) -> Result<ExitCode, NodeError> {
    let mut diverged = false;
    loop {
        match handle.wait() {
            NodeEvent::Signal => {
                tracing::info!("stopping");
                handle.stop_worker()?;
                break;
            }
            NodeEvent::WorkerDone => {
                let result: WorkerResult = handle.stop_worker();
                match result? {
                    WorkerExit::Diverged(_) if exit_on_divergence => return Ok(ExitCode::from(EXIT_DIVERGED)),
                    WorkerExit::Diverged(_) => {
                        diverged = true;
                        tracing::info!("divergence recorded; serving GET /v1/shadow until stopped");
                    }
                    WorkerExit::Stopped => break,
                }
            }
        }
    }
    drop(handle);
    Ok(if diverged { ExitCode::from(EXIT_DIVERGED) } else { ExitCode::SUCCESS })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_duration("3m"), Ok(Duration::from_secs(180)));
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("1h").is_err());
    }

    #[test]
    fn keep_heights_flag_defaults_to_keeping_everything() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            node: NodeArgs,
        }
        let follow = |args: &[&str]| match Cli::try_parse_from(args).map(|cli| cli.node.command) {
            Ok(NodeCommand::Executor(a)) => a.follow.keep_heights,
            Ok(NodeCommand::Shadow(a)) => a.follow.keep_heights,
            other => panic!("{:?}", other.err()),
        };
        assert_eq!(follow(&["x", "executor"]), None);
        assert_eq!(follow(&["x", "executor", "--keep-heights", "100"]), Some(100));
        assert_eq!(follow(&["x", "shadow", "--keep-heights", "0"]), Some(0));
        assert!(Cli::try_parse_from(["x", "executor", "--keep-heights", "-1"]).is_err());
    }
}

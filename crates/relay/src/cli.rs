//! `athena node relay` (and the `athena-relay` binary): the relay as a
//! long-running process with progress logs on stderr and one
//! `listening http://ADDR` line on stdout once it serves, like the other
//! node processes (`docs/node.md`).
//!
//! Exit codes: 0 after SIGINT/SIGTERM, 1 on an error (bad address, port in
//! use).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use athena_node::cli::{init_logging, parse_duration};
use clap::Args;

use crate::{MempoolConfig, Rate, RateLimits, RelayConfig};

/// `athena node relay`.
#[derive(Args, Debug, Clone)]
pub struct RelayArgs {
    /// Directory where the pending transactions are saved across restarts.
    #[arg(long, default_value = "athena-data/relay")]
    pub data_dir: PathBuf,
    /// Address of the relay's HTTP API (the one wallets use).
    #[arg(long, default_value = "127.0.0.1:9300")]
    pub listen: SocketAddr,
    /// URL of the sequencer (takes the bundles).
    #[arg(long, default_value = "http://127.0.0.1:9000")]
    pub sequencer: String,
    /// URL of the executor (dry runs, state, receipts, proxied queries).
    #[arg(long, default_value = "http://127.0.0.1:9100")]
    pub executor: String,
    /// The relay's address (bech32): receives the fees of its bundles.
    #[arg(long)]
    pub address: String,
    /// Time between bundles (`500ms`, `1s`).
    #[arg(long, default_value = "500ms", value_parser = parse_duration)]
    pub bundle_interval: Duration,
    /// How often to poll the executor for new blocks.
    #[arg(long, default_value = "250ms", value_parser = parse_duration)]
    pub poll: Duration,
    /// Most pending transactions in total.
    #[arg(long, default_value_t = MempoolConfig::default().max_txs)]
    pub max_txs: usize,
    /// Most pending transactions per principal.
    #[arg(long, default_value_t = MempoolConfig::default().max_per_account)]
    pub max_per_account: usize,
    /// Submissions (`POST /v1/transactions`, `/v1/transactions/check`) per
    /// second per client (IPv4 address or IPv6 /64); 0 = unlimited.
    #[arg(long, default_value_t = RateLimits::default().submit.per_second)]
    pub submit_rate: u32,
    /// Submissions a client may make back to back; 0 = unlimited.
    #[arg(long, default_value_t = RateLimits::default().submit.burst)]
    pub submit_burst: u32,
    /// Other requests (status, proxied queries) per second per client;
    /// 0 = unlimited.
    #[arg(long, default_value_t = RateLimits::default().read.per_second)]
    pub read_rate: u32,
    /// Other requests a client may make back to back; 0 = unlimited.
    #[arg(long, default_value_t = RateLimits::default().read.burst)]
    pub read_burst: u32,
    /// Count requests against the right-most `X-Forwarded-For` address
    /// instead of the TCP peer. Only behind exactly one trusted reverse proxy
    /// that appends the client's address; otherwise clients choose their key.
    #[arg(long)]
    pub trust_forwarded_for: bool,
}

impl RelayArgs {
    /// The relay configuration these arguments describe.
    pub fn config(&self) -> Result<RelayConfig, String> {
        let (_, address) = athena_transaction::parse_address_any(&self.address)
            .map_err(|e| format!("--address {:?}: {e}", self.address))?;
        let mut config = RelayConfig::new(self.listen, &self.executor, &self.sequencer, address);
        config.data_dir = Some(self.data_dir.clone());
        config.bundle_interval = self.bundle_interval.max(Duration::from_millis(10));
        config.poll_interval = self.poll.max(Duration::from_millis(10));
        config.mempool.max_txs = self.max_txs.max(1);
        config.mempool.max_per_account = self.max_per_account.max(1);
        config.rate_limits = RateLimits {
            submit: Rate { per_second: self.submit_rate, burst: self.submit_burst },
            read: Rate { per_second: self.read_rate, burst: self.read_burst },
            trust_forwarded_for: self.trust_forwarded_for,
            ..RateLimits::default()
        };
        Ok(config)
    }
}

/// Runs the relay process to completion.
pub fn run(args: RelayArgs) -> ExitCode {
    init_logging();
    let result = args.config().and_then(|config| {
        let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the runtime: {e}"))?;
        runtime.block_on(crate::run(config)).map_err(|e| e.to_string())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        relay: RelayArgs,
    }

    #[test]
    fn parses_flags_and_address() {
        let address = athena_transaction::Network::test(Default::default()).encode_address(&[7u8; 24].into());
        let cli = Cli::parse_from(["relay", "--address", &address, "--bundle-interval", "1s", "--max-txs", "9"]);
        let config = cli.relay.config().unwrap();
        assert_eq!(config.address.0, [7; 24]);
        assert_eq!(config.bundle_interval, Duration::from_secs(1));
        assert_eq!(config.mempool.max_txs, 9);
        assert_eq!(config.listen.port(), 9300);
        assert_eq!(config.rate_limits, RateLimits::default());
        let cli = Cli::parse_from(["relay", "--address", &address, "--submit-rate", "0", "--read-burst", "7"]);
        let limits = cli.relay.config().unwrap().rate_limits;
        assert!(limits.submit.is_unlimited());
        assert_eq!(limits.read, Rate { per_second: 100, burst: 7 });
        assert!(!limits.trust_forwarded_for);
        let bad = Cli::parse_from(["relay", "--address", "atest1xyz"]);
        assert!(bad.relay.config().unwrap_err().contains("--address"));
        assert!(Cli::try_parse_from(["relay"]).is_err());
    }
}

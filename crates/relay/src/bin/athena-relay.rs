//! The relay process on its own (the same as `athena node relay`), for
//! scripts and process tests.

use clap::Parser;

/// Athena relay: mempool, bundles, and the user-facing HTTP endpoint.
#[derive(Parser)]
#[command(name = "athena-relay", version)]
struct Cli {
    #[command(flatten)]
    relay: athena_relay::cli::RelayArgs,
}

fn main() -> std::process::ExitCode {
    athena_relay::cli::run(Cli::parse().relay)
}

//! `athena-node`: the node processes on their own (the same as `athena node
//! ...`), so the crate's process tests can spawn them.

use athena_node::cli::{run, NodeArgs, NodeCommand};
use clap::Parser;
use std::process::ExitCode;

/// Athena node processes: sequencer, executor, shadow (and `compact`, the
/// offline shrinking of an executor's database after pruning).
#[derive(Parser, Debug)]
#[command(name = "athena-node", version, about)]
struct Cli {
    #[command(subcommand)]
    command: NodeCommand,
}

fn main() -> ExitCode {
    run(NodeArgs { command: Cli::parse().command })
}

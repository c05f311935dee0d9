//! `athena node sequencer|executor|shadow|relay`: the long-running node
//! processes of the rollup. The sequencer, executor and shadow live in
//! `athena-node` (`athena_node::cli`, also the `athena-node` binary its
//! tests spawn), the relay in `athena-relay` (`athena_relay::cli`, which
//! depends on `athena-node`, so only this front door can offer all four).

use clap::Subcommand;
use std::process::ExitCode;

/// `athena node`: run one node process (`athena-node`'s definition, with
/// the relay among the processes).
pub type NodeArgs = athena_node::cli::NodeArgs<NodeCommand>;

/// The node processes: those of `athena-node` plus the relay.
#[derive(Subcommand, Debug)]
pub enum NodeCommand {
    /// Sequencer, executor and shadow (`athena_node::cli`).
    #[command(flatten)]
    Node(athena_node::cli::NodeCommand),
    /// The relay: the endpoint wallets post transactions to, with a
    /// fee-ordered mempool that checks each transaction against the
    /// executor, bundling to the sequencer, and the executor's query API
    /// proxied (docs/relay.md).
    Relay(athena_relay::cli::RelayArgs),
}

/// Runs one node process until it is stopped (SIGINT/SIGTERM) or fails.
pub fn node(args: NodeArgs) -> ExitCode {
    match args.command {
        NodeCommand::Node(command) => athena_node::cli::run(athena_node::cli::NodeArgs { command }),
        NodeCommand::Relay(args) => athena_relay::cli::run(args),
    }
}

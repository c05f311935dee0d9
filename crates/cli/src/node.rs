//! `athena node sequencer|executor|shadow`: the long-running node processes
//! of the rollup. The processes live in `athena-node` (`athena_node::cli`,
//! also the `athena-node` binary its tests spawn); this is the front door.

use std::process::ExitCode;

pub use athena_node::cli::NodeArgs;

/// Runs one node process until it is stopped (SIGINT/SIGTERM) or fails.
pub fn node(args: NodeArgs) -> ExitCode {
    athena_node::cli::run(args)
}

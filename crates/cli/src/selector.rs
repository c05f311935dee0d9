//! `athena selector`: the method selectors a transaction payload starts with.

use clap::Args;
use std::process::ExitCode;

/// Arguments of `athena selector`.
#[derive(Args, Debug)]
pub struct SelectorArgs {
    /// Method names, e.g. `spawn spend`.
    #[arg(required = true)]
    names: Vec<String>,
}

/// Prints `0x<8 hex digits>  NAME` for every name.
pub fn selector(args: SelectorArgs) -> ExitCode {
    for name in &args.names {
        println!("0x{}  {name}", hex::encode(athena_transaction::selector(name)));
    }
    ExitCode::SUCCESS
}

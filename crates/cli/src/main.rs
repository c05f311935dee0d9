//! `athena`: the command-line front door to the Athena VM.

mod build;
mod devnet;
mod new;
mod node;
mod run;
mod selector;
mod wallet;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Athena: a deterministic, gas-metered RISC-V smart-contract engine.
#[derive(Parser, Debug)]
#[command(name = "athena", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a RISC-V ELF program in the VM.
    ///
    /// The guest's fd 1 goes to stdout and nothing else does; fd 2 and
    /// diagnostics go to stderr. The process exits with the guest's exit
    /// code (codes above 255 become 255). If the program cannot be loaded,
    /// traps, or runs out of gas, a one-line reason goes to stderr and the
    /// exit code is 125, 126 or 124 respectively.
    Run(run::RunArgs),
    /// Build a guest crate to a stripped RISC-V ELF (riscv32em by default).
    ///
    /// Uses the Debian guest toolchain or a rustup nightly with rust-src,
    /// whichever is present (see `scripts/install-guest-toolchain.sh`), and
    /// prints one line per binary: name, path, size.
    Build(build::BuildArgs),
    /// Create a new contract crate: a template with a few methods and a
    /// test that builds it for RISC-V and runs it in an in-process chain.
    ///
    /// `athena new demo && cd demo && cargo test` works out of the box
    /// (the guest toolchain must be installed:
    /// scripts/install-guest-toolchain.sh).
    New(new::NewArgs),
    /// Print the 4-byte selector of each method name (first 4 bytes of the
    /// blake3 hash of the name; docs/transactions.md).
    Selector(selector::SelectorArgs),
    /// Run a node process: `sequencer` (the devnet base layer), `executor`
    /// (state, results and the query API), `shadow` (re-executes and
    /// reports the first block and transaction where the executor's
    /// published results diverge) or `relay` (the mempool wallets submit
    /// to). Progress logs go to stderr; see docs/node.md, docs/relay.md.
    Node(node::NodeArgs),
    /// Run a local network: builds the standard templates, writes a genesis
    /// with funded dev wallets, starts sequencer, executor and relay (and
    /// optionally a shadow executor), prints the endpoints and dev keys,
    /// follows their logs, and stops them on Ctrl-C (docs/devnet.md).
    ///
    /// Run it again with the same --data-dir to resume the chain; --fresh
    /// starts over. The relay listens on 127.0.0.1:9300, where the wallet
    /// commands look by default.
    Devnet(devnet::DevnetArgs),
    /// Wallet commands: key, address, wallet spawn, send, deploy, spawn,
    /// call, account, tx, storage, multisig (docs/wallet.md).
    #[command(flatten)]
    Wallet(wallet::WalletCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => run::run(args),
        Command::Build(args) => build::build(args),
        Command::New(args) => new::new(args),
        Command::Selector(args) => selector::selector(args),
        Command::Node(args) => node::node(args),
        Command::Devnet(args) => devnet::devnet(args),
        Command::Wallet(command) => wallet::run(command),
    }
}

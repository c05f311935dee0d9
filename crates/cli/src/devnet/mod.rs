//! `athena devnet`: a whole local network in one command (docs/devnet.md).
//!
//! Prepares a data directory (standard templates, dev keys, genesis; see
//! [`setup`]), then runs the sequencer, the executor, optionally a shadow
//! executor, and the relay as child processes (`athena node ...` of this
//! binary; see [`supervise`]), forwards their logs with a prefix, restarts
//! one that dies, and stops them all on Ctrl-C / SIGTERM. Running it again
//! with the same data directory resumes the chain.

pub mod setup;
pub mod supervise;

use athena_node::cli::parse_duration;
use athena_wallet::client::NodeClient;
use clap::Args;
use setup::{Layout, Prepared, SetupOptions};
use std::ffi::OsString;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc::{self, Sender};
use std::time::Duration;
use supervise::{say, Event, Service, Stop, Supervisor};

/// Coins of each dev account at genesis.
pub const DEFAULT_BALANCE: u64 = 1_000_000_000_000;

/// Offsets from `--ports BASE`: the sequencer at BASE, the executor at
/// BASE+100, the shadow at BASE+200 and the relay at BASE+300 (with the
/// default 9000, the addresses the node processes and the wallet default
/// to).
const PORT_OFFSETS: [(&str, u16); 4] = [("sequencer", 0), ("executor", 100), ("shadow", 200), ("relay", 300)];

/// `athena devnet`.
#[derive(Args, Debug)]
pub struct DevnetArgs {
    /// The devnet's directory: genesis, templates, keys, each process's
    /// database and logs. Reused (the chain resumed) if it exists.
    #[arg(long, default_value = "athena-data/devnet")]
    pub data_dir: PathBuf,
    /// Delete the data directory first and start a new chain (refuses a
    /// non-empty directory that is not a devnet's).
    #[arg(long)]
    pub fresh: bool,
    /// Dev keys to create for a new devnet, each with a spawned, funded
    /// wallet (ignored when resuming).
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub accounts: usize,
    /// Coins of each dev wallet at genesis (new devnets only).
    #[arg(long, default_value_t = DEFAULT_BALANCE, value_name = "COINS")]
    pub balance: u64,
    /// Time between blocks (`250ms`, `1s`); blocks are made only when
    /// transactions are waiting.
    #[arg(long, default_value = "1s", value_parser = parse_duration, value_name = "DURATION")]
    pub block_interval: Duration,
    /// Ports: sequencer BASE, executor BASE+100, shadow BASE+200, relay
    /// BASE+300; 0 lets the system pick free ones (tests, several devnets).
    #[arg(long, default_value_t = 9000, value_name = "BASE")]
    pub ports: u16,
    /// Also run a shadow executor that re-executes every block and reports
    /// the first divergence from the executor's published results.
    #[arg(long)]
    pub shadow: bool,
    /// Take the standard templates' ELF files (`wallet.elf`, ...) from DIR
    /// instead of building them from this repository's `guest/`.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
}

/// Where service `name` listens for `--ports base`.
pub fn listen_address(base: u16, name: &str) -> Result<SocketAddr, String> {
    let offset = PORT_OFFSETS.iter().find(|(n, _)| *n == name).map_or(0, |(_, o)| *o);
    let port = if base == 0 {
        0
    } else {
        base.checked_add(offset).ok_or_else(|| format!("--ports {base}: the relay's port BASE+300 is over 65535"))?
    };
    Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
}

/// Runs the devnet until Ctrl-C / SIGTERM. Exit status 0 after a signal,
/// 1 if it could not start or a process kept failing.
pub fn devnet(args: DevnetArgs) -> ExitCode {
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: DevnetArgs) -> Result<(), String> {
    let layout = Layout { root: std::path::absolute(&args.data_dir).unwrap_or_else(|_| args.data_dir.clone()) };
    listen_address(args.ports, "relay")?;
    if let Some(pid) = supervise::recorded_pid(&layout.state()).filter(|pid| supervise::alive(*pid)) {
        if pid != std::process::id() {
            return Err(format!(
                "a devnet (pid {pid}) is already running on {}; stop it first or use another --data-dir",
                layout.root.display()
            ));
        }
    }
    let options = SetupOptions {
        fresh: args.fresh,
        accounts: args.accounts,
        balance: args.balance,
        templates: args.templates.clone(),
    };
    let prepared = setup::prepare(&layout, &options)?;
    if prepared.resumed {
        say(&format!("resuming the devnet in {}", layout.root.display()));
        if args.accounts != prepared.accounts.len() {
            say(&format!("(it has {} dev accounts; --accounts applies to new devnets only)", prepared.accounts.len()));
        }
    } else {
        say(&format!("created a new devnet in {}", layout.root.display()));
    }
    say(&format!("genesis {} (network {})", hex::encode(prepared.genesis.genesis_id), prepared.genesis.network.hrp()));

    let exe = std::env::current_exe().map_err(|e| format!("cannot find the athena binary itself: {e}"))?;
    let (tx, rx) = mpsc::channel();
    watch_signals(tx.clone())?;
    let mut supervisor = Supervisor::new(exe, layout.logs(), tx, rx);
    // Claims the directory (the pid) while the processes start.
    write_state(&supervisor, &layout, &prepared);
    let outcome = start_all(&mut supervisor, &layout, &args, &prepared).and_then(|()| {
        write_state(&supervisor, &layout, &prepared);
        print_summary(&supervisor, &layout, &prepared);
        say("ready");
        watch(&mut supervisor, &layout, &prepared)
    });
    say("stopping");
    supervisor.stop_all();
    let _ = std::fs::remove_file(layout.state());
    match outcome {
        Ok(()) | Err(Stop::Signal) => {
            say(&format!("stopped; run again with --data-dir {} to resume", args.data_dir.display()));
            Ok(())
        }
        Err(Stop::Error(e)) => Err(e),
    }
}

fn os(text: impl Into<OsString>) -> OsString {
    text.into()
}

fn start_all(supervisor: &mut Supervisor, layout: &Layout, args: &DevnetArgs, prepared: &Prepared) -> Result<(), Stop> {
    let genesis = os(layout.genesis());
    let interval = format!("{}ms", args.block_interval.as_millis().max(1));
    let dir = |name: &str| os(layout.service(name));
    let url = |s: &Supervisor, name: &str| os(s.find(name).and_then(|s| s.url.clone()).unwrap_or_default());

    let executor_key = os(&prepared.executor_public);
    let sequencer = vec![
        os("sequencer"),
        os("--data-dir"),
        dir("sequencer"),
        os("--block-interval"),
        os(interval),
        os("--executor-key"),
        executor_key.clone(),
    ];
    supervisor.start(Service::new("sequencer", sequencer, listen_address(args.ports, "sequencer")?, false))?;
    let sequencer_url = url(supervisor, "sequencer");

    let executor = vec![
        os("executor"),
        os("--data-dir"),
        dir("executor"),
        os("--sequencer"),
        sequencer_url.clone(),
        os("--genesis"),
        genesis.clone(),
        os("--key"),
        os(layout.executor_key()),
    ];
    supervisor.start(Service::new("executor", executor, listen_address(args.ports, "executor")?, true))?;
    let executor_url = url(supervisor, "executor");

    if args.shadow {
        let shadow = vec![
            os("shadow"),
            os("--data-dir"),
            dir("shadow"),
            os("--sequencer"),
            sequencer_url.clone(),
            os("--executor"),
            executor_url.clone(),
            os("--genesis"),
            genesis,
            os("--executor-key"),
            executor_key,
        ];
        supervisor.start(Service::new("shadow", shadow, listen_address(args.ports, "shadow")?, true))?;
    }

    let relay = vec![
        os("relay"),
        os("--data-dir"),
        dir("relay"),
        os("--sequencer"),
        sequencer_url,
        os("--executor"),
        executor_url,
        os("--address"),
        os(prepared.relay_address.clone()),
    ];
    supervisor.start(Service::new("relay", relay, listen_address(args.ports, "relay")?, true))
}

/// Forwards output and restarts crashed processes until a signal.
fn watch(supervisor: &mut Supervisor, layout: &Layout, prepared: &Prepared) -> Result<(), Stop> {
    loop {
        supervisor.pump(Duration::from_millis(250))?;
        if !supervisor.restart_dead()?.is_empty() {
            write_state(supervisor, layout, prepared);
        }
    }
}

/// Writes `devnet.json`: the devnet's pid, endpoints, process ids, keys
/// (for scripts and tests; removed when the devnet stops).
fn write_state(supervisor: &Supervisor, layout: &Layout, prepared: &Prepared) {
    let services: serde_json::Map<String, serde_json::Value> = supervisor
        .services
        .iter()
        .map(|s| (s.name.to_owned(), serde_json::json!({ "url": s.url, "pid": s.pid() })))
        .collect();
    let accounts: Vec<serde_json::Value> = prepared
        .accounts
        .iter()
        .map(|a| serde_json::json!({ "name": a.name, "key": a.key, "address": a.address }))
        .collect();
    let state = serde_json::json!({
        "pid": std::process::id(),
        "data_dir": layout.root,
        "network": prepared.genesis.network.hrp(),
        "genesis_id": hex::encode(prepared.genesis.genesis_id),
        "node": supervisor.find("relay").and_then(|s| s.url.clone()),
        "services": services,
        "accounts": accounts,
        "relay_address": prepared.relay_address,
        "executor_key": prepared.executor_public,
    });
    let text = serde_json::to_string_pretty(&state).unwrap_or_default() + "\n";
    let tmp = layout.root.join("devnet.json.tmp");
    if std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, layout.state())).is_err() {
        say("warning: cannot write devnet.json");
    }
}

fn print_summary(supervisor: &Supervisor, layout: &Layout, prepared: &Prepared) {
    let url_of = |name: &str| supervisor.find(name).and_then(|s| s.url.clone());
    let relay = url_of("relay").unwrap_or_default();
    let client = NodeClient::new(&relay, Duration::from_secs(5));
    let height = client.status().map(|s| s.height).unwrap_or(0);
    let mut lines = vec![
        String::new(),
        format!(
            "Athena devnet: network {}, genesis {}, at block {height}{}",
            prepared.genesis.network.hrp(),
            hex::encode(&prepared.genesis.genesis_id[..8]),
            if prepared.resumed { " (resumed)" } else { " (new chain)" }
        ),
    ];
    let roles = [
        ("relay", "wallets and the CLI talk to this one (submit + proxied queries)"),
        ("executor", "state, receipts, proofs: GET /v1/status, /openapi.json"),
        ("shadow", "re-executes every block: GET /v1/shadow"),
        ("sequencer", "base layer: blocks and published results"),
    ];
    for (name, what) in roles {
        if let Some(url) = url_of(name) {
            lines.push(format!("  {name:<10} {url:<24} {what}"));
        }
    }
    lines.push(format!("  {:<10} {}  (logs/ has each process's log)", "data", layout.root.display()));
    lines.push("Templates deployed at genesis:".into());
    for (name, address) in &prepared.genesis.templates {
        let short = std::path::Path::new(name).file_stem().and_then(|s| s.to_str()).unwrap_or(name);
        lines.push(format!("  {short:<13} {}", prepared.genesis.network.encode_address(address)));
    }
    lines.push("Dev accounts (spawned wallets; keys are plain files, for this devnet only):".into());
    for account in &prepared.accounts {
        let balance = client.account(&account.address).ok().flatten().map(|a| a.balance);
        let balance = balance.map_or_else(|| "?".to_owned(), |b| b.to_string());
        lines.push(format!(
            "  {:<6} {}  {balance} coins  --key {}",
            account.name,
            account.address,
            account.key.display()
        ));
    }
    if let Some(first) = prepared.accounts.first() {
        lines.push("Try:".into());
        if relay != crate::wallet::DEFAULT_NODE {
            lines.push(format!("  export ATHENA_NODE={relay}"));
        }
        lines.push(format!("  athena account --key {}", first.key.display()));
        lines.push(format!("  athena key new --out alice.json && athena send $(athena address --key alice.json) 1000000 --key {} --wait", first.key.display()));
    }
    lines.push("Ctrl-C stops the devnet; start it again with the same --data-dir to resume.".into());
    lines.push(String::new());
    let mut out = std::io::stdout().lock();
    for line in lines {
        let _ = std::io::Write::write_all(&mut out, format!("{line}\n").as_bytes());
    }
    let _ = std::io::Write::flush(&mut out);
}

/// Turns SIGINT and SIGTERM into [`Event::Signal`] (the handlers are in
/// place when this returns).
fn watch_signals(tx: Sender<Event>) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot watch for signals: {e}"))?;
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let (mut interrupt, mut terminate) = runtime
            .block_on(async {
                Ok::<_, std::io::Error>((signal(SignalKind::interrupt())?, signal(SignalKind::terminate())?))
            })
            .map_err(|e| format!("cannot watch for signals: {e}"))?;
        std::thread::spawn(move || {
            runtime.block_on(async move {
                loop {
                    tokio::select! {
                        _ = interrupt.recv() => {}
                        _ = terminate.recv() => {}
                    }
                    if tx.send(Event::Signal).is_err() {
                        return;
                    }
                }
            })
        });
    }
    #[cfg(not(unix))]
    {
        std::thread::spawn(move || {
            runtime.block_on(async move {
                while tokio::signal::ctrl_c().await.is_ok() {
                    if tx.send(Event::Signal).is_err() {
                        return;
                    }
                }
            })
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_follow_the_base() {
        assert_eq!(listen_address(9000, "sequencer").unwrap().to_string(), "127.0.0.1:9000");
        assert_eq!(listen_address(9000, "executor").unwrap().port(), 9100);
        assert_eq!(listen_address(9000, "shadow").unwrap().port(), 9200);
        assert_eq!(listen_address(9000, "relay").unwrap().port(), 9300);
        assert_eq!(listen_address(0, "relay").unwrap().port(), 0);
        assert!(listen_address(65300, "relay").unwrap_err().contains("65535"));
    }

    #[test]
    fn the_default_relay_is_the_wallets_default_node() {
        let relay = listen_address(9000, "relay").unwrap();
        assert_eq!(format!("http://{relay}"), crate::wallet::DEFAULT_NODE);
    }
}

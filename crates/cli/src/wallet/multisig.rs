//! `athena multisig ...`: a k-of-n multisig account (`guest/templates/multisig`)
//! driven offline-signing style through a proposal file (docs/wallet.md,
//! "Multisig"): `address`, `propose`, `sign`, `show`, `submit`. The rules
//! live in `athena_wallet::multisig`; this file parses flags and prints.

use super::commands::{
    connect, finish_submission, load_key, method_selector, nonce_source_label, parse_state, read_deploy_code, Expect,
};
use super::report::Report;
use super::{KeyOpt, NodeOpts, OutputOpts, WaitOpts};
use athena_transaction::Network;
use athena_wallet::args::{encode_args, ArgType};
use athena_wallet::multisig::{
    multisig_template, offline_network, parse_signer, propose, propose_offline, Multisig, MultisigError, Precheck,
    Proposal, Summary,
};
use athena_wallet::session::{check_address_syntax, parse_address, parse_template_any, would_fail, NonceSource};
use athena_wallet::{Call, SendOptions, TxParams};
use clap::{Args, Subcommand};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

type CmdResult = Result<ExitCode, String>;

/// `athena multisig ...`.
#[derive(Subcommand, Debug)]
pub enum MultisigCommand {
    /// Print the address of a k-of-n multisig: program_address(multisig
    /// template, SCALE((k, keys))). Known before the account exists, so it
    /// can be funded first.
    ///
    /// With --multisig-template the address is computed offline (the
    /// network is the template's bech32 prefix); otherwise the node's
    /// status names the multisig template.
    Address(MultisigAddressArgs),
    /// Build an unsigned multisig transaction and write it to a proposal
    /// file for the signers (`athena multisig sign`).
    ///
    /// Online (the default) it needs the node (--node): the multisig's
    /// account, nonce and balance, and the network's genesis id, which the
    /// signatures bind to. With --offline no node is contacted: give
    /// --genesis-id, --nonce, --gas-limit and --multisig-template (see
    /// `athena multisig propose spawn --help`); nothing is checked before
    /// signing and the file says so. Online, the
    /// nonce and gas limit are chosen like the wallet's (docs/wallet.md).
    /// Unless --no-check (or the nonce follows pending transactions), the
    /// unsigned transaction is dry-run in the node's estimate mode, as if
    /// signed: verify runs (and refuses the missing signatures), then the
    /// call itself. A used nonce, a balance that cannot prepay the gas, a
    /// gas limit below the intrinsic gas, an undeployed template or a call
    /// that would revert is caught before anyone signs, and the gas limit
    /// becomes the estimate (the dry run's gas plus the k-1 signature
    /// checks verify did not reach) with the wallet's margin. A node
    /// without the estimate mode checks only up to verify and the default
    /// gas limit stays; `submit` dry-runs the signed transaction in full.
    #[command(subcommand)]
    Propose(ProposeCommand),
    /// Sign a proposal with your key: checks the key is one of the
    /// multisig's signers and has not signed yet, then adds its signature
    /// to the file. Works offline.
    Sign(SignArgs),
    /// Show a proposal: the multisig, what the transaction does, and who
    /// signed. Works offline.
    Show(ShowArgs),
    /// Submit a proposal once it has k signatures: the authenticator is the
    /// k signatures with the lowest signer indices, in increasing order
    /// (what the template's verify accepts).
    Submit(SubmitArgs),
}

/// Which multisig: threshold, signers and template.
#[derive(Args, Debug, Clone)]
pub struct MultisigIdOpts {
    /// Signatures required (k).
    #[arg(long, short = 'k', value_name = "K")]
    pub threshold: u8,
    /// A signer: an ed25519 public key (64 hex digits) or a key file (only
    /// its public key is read). Repeat for each signer, in a fixed order:
    /// the order is part of the address.
    #[arg(long = "signer", value_name = "HEX_OR_KEYFILE", required = true)]
    pub signers: Vec<String>,
    /// The multisig template's address [default: the node's status names it
    /// (`templates.multisig`)]. Required by `propose --offline`, where its
    /// bech32 prefix names the network.
    #[arg(long, env = "ATHENA_MULTISIG_TEMPLATE", value_name = "ADDR")]
    pub multisig_template: Option<String>,
}

/// `athena multisig address`.
#[derive(Args, Debug)]
pub struct MultisigAddressArgs {
    #[command(flatten)]
    pub multisig: MultisigIdOpts,
    #[command(flatten)]
    pub node: NodeOpts,
    #[command(flatten)]
    pub output: OutputOpts,
}

/// What to propose.
#[derive(Subcommand, Debug)]
pub enum ProposeCommand {
    /// The multisig's self-spawn (creates the account at its address, paid
    /// from the coins sent there).
    Spawn(ProposeSpawnArgs),
    /// Send coins from the multisig: its `spend(to, amount)`.
    Send(ProposeSendArgs),
    /// Call a method of a program through the multisig's
    /// `proxy(to, payload, value)`; ARGS are typed like `athena call`'s
    /// (u64:5, addr:atest1..., bytes:HEX, ...).
    Call(ProposeCallArgs),
    /// Deploy a template (a RISC-V ELF) through the multisig's
    /// `deploy(code)`; shows the template's address (known in advance).
    /// The ELF is checked to load before anything else, as `athena deploy`
    /// does.
    Deploy(ProposeDeployArgs),
    /// Spawn a program of a template through the multisig's
    /// `spawn_program(template, state)`; shows the program's address (known
    /// in advance). Arguments as for `athena spawn`.
    SpawnProgram(ProposeSpawnProgramArgs),
}

/// Options of every proposal.
#[derive(Args, Debug, Clone)]
pub struct ProposeOpts {
    #[command(flatten)]
    pub multisig: MultisigIdOpts,
    /// The proposal file to write (JSON); refused if it exists, unless
    /// --force.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: PathBuf,
    /// Replace an existing proposal file.
    #[arg(long)]
    pub force: bool,
    /// Gas limit [default: the call's default plus 30 000 per
    /// required signature (160 000 for a 2-of-n spend or self-spawn),
    /// lowered to what the balance can prepay, then the dry run's estimate
    /// plus 25% and 5 000 when the node can estimate]. Required with
    /// --offline (no estimate). Unused gas is refunded.
    #[arg(long, visible_alias = "gas", value_name = "N")]
    pub gas_limit: Option<u64>,
    /// Gas price (coins per unit of gas).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub gas_price: u64,
    /// Nonce [default: the relay's next nonce for the multisig if it reports
    /// one, else the account's committed nonce]. Required with --offline
    /// (0 for the self-spawn).
    #[arg(long, value_name = "N")]
    pub nonce: Option<u64>,
    /// Skip the dry run of the unsigned transaction (the node is still
    /// needed for the account, nonce and genesis id; see --offline).
    #[arg(long)]
    pub no_check: bool,
    /// Build the proposal without contacting any node (e.g. on an
    /// air-gapped machine). Requires --genesis-id, --nonce, --gas-limit and
    /// --multisig-template (or ATHENA_MULTISIG_TEMPLATE), whose bech32
    /// prefix is the network; every other address must be of that network.
    /// Nothing is checked before signing: not the account (spawned,
    /// funded, able to prepay the gas), not the nonce, not the call; the
    /// proposal file records that it was made offline and `show` says so.
    /// `submit` (online) still dry-runs the signed transaction and refuses
    /// a proposal for another network than the node's.
    #[arg(long)]
    pub offline: bool,
    /// With --offline: the network's genesis id, 64 hex digits, which the
    /// signing message contains. Take it from the network's node:
    /// `genesis_id` in `curl NODE/v1/status` (what `athena` itself reads),
    /// or from `athena devnet`'s output / devnet.json for a devnet, or the
    /// `network` line of `athena multisig show` of an earlier proposal.
    #[arg(long, value_name = "HEX", requires = "offline")]
    pub genesis_id: Option<String>,
    #[command(flatten)]
    pub node: NodeOpts,
    #[command(flatten)]
    pub output: OutputOpts,
}

/// `athena multisig propose deploy`.
#[derive(Args, Debug)]
pub struct ProposeDeployArgs {
    /// The template's RISC-V ELF (e.g. from `athena build`); at most about
    /// 32 KiB, the payload limit of a transaction.
    pub file: PathBuf,
    #[command(flatten)]
    pub propose: ProposeOpts,
}

/// `athena multisig propose spawn-program`.
#[derive(Args, Debug)]
pub struct ProposeSpawnProgramArgs {
    /// The template's address (bech32).
    pub template: String,
    /// The program's state: SCALE of the template's struct, as hex, or as
    /// typed fields in order (u64:5 addr:... bytes:..., see `athena call
    /// --help`). Empty for a template without fields.
    #[arg(value_name = "STATE")]
    pub state: Vec<String>,
    #[command(flatten)]
    pub propose: ProposeOpts,
}

/// `athena multisig propose spawn`.
#[derive(Args, Debug)]
pub struct ProposeSpawnArgs {
    #[command(flatten)]
    pub propose: ProposeOpts,
}

/// `athena multisig propose send`.
#[derive(Args, Debug)]
pub struct ProposeSendArgs {
    /// Recipient address (bech32).
    pub to: String,
    /// Coins to send.
    pub amount: u64,
    #[command(flatten)]
    pub propose: ProposeOpts,
}

/// `athena multisig propose call`.
#[derive(Args, Debug)]
pub struct ProposeCallArgs {
    /// The program to call (bech32).
    pub address: String,
    /// Method name, or a selector as 0x + 8 hex digits.
    pub method: String,
    /// Typed arguments: TYPE:VALUE, e.g. u64:5 str:hi addr:atest1...
    #[arg(value_name = "ARGS")]
    pub args: Vec<String>,
    /// Coins to send with the call.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub value: u64,
    #[command(flatten)]
    pub propose: ProposeOpts,
}

/// `athena multisig sign`.
#[derive(Args, Debug)]
pub struct SignArgs {
    /// The proposal file (rewritten with the new signature).
    pub proposal: PathBuf,
    #[command(flatten)]
    pub key: KeyOpt,
    #[command(flatten)]
    pub output: OutputOpts,
}

/// `athena multisig show`.
#[derive(Args, Debug)]
pub struct ShowArgs {
    /// The proposal file.
    pub proposal: PathBuf,
    #[command(flatten)]
    pub output: OutputOpts,
}

/// `athena multisig submit`.
#[derive(Args, Debug)]
pub struct SubmitArgs {
    /// The proposal file, with at least k signatures.
    pub proposal: PathBuf,
    /// Skip the executor's dry run (which refuses transactions that would
    /// fail).
    #[arg(long)]
    pub no_check: bool,
    #[command(flatten)]
    pub wait: WaitOpts,
    /// With --wait: decode a call's output as this type (u64, bool, str,
    /// bytes, addr, raw, ...).
    #[arg(long, value_name = "TYPE")]
    pub returns: Option<String>,
    #[command(flatten)]
    pub node: NodeOpts,
    #[command(flatten)]
    pub output: OutputOpts,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Runs one multisig command.
pub fn dispatch(command: MultisigCommand) -> CmdResult {
    match command {
        MultisigCommand::Address(a) => address(a),
        MultisigCommand::Propose(p) => propose_command(p),
        MultisigCommand::Sign(a) => sign(a),
        MultisigCommand::Show(a) => show(a),
        MultisigCommand::Submit(a) => submit(a),
    }
}

fn signers(opts: &MultisigIdOpts) -> Result<Vec<[u8; 32]>, String> {
    opts.signers.iter().map(|s| parse_signer(s).map_err(err)).collect()
}

fn address(a: MultisigAddressArgs) -> CmdResult {
    let keys = signers(&a.multisig)?;
    let (network, template) = match a.multisig.multisig_template.as_deref() {
        // Offline: the template's bech32 prefix names the network.
        Some(text) => {
            let (hrp, template) = parse_template_any("multisig template", text).map_err(err)?;
            (Network::new(&hrp, Default::default()).map_err(err)?, template)
        }
        None => {
            let session = connect(&a.node)?;
            let template = multisig_template(&session, None).map_err(err)?;
            (session.network().clone(), template)
        }
    };
    let multisig = Multisig::new(template, a.multisig.threshold, keys).map_err(err)?;
    let address = network.encode_address(&multisig.address());
    if a.output.json {
        let value = json!({
            "address": address,
            "threshold": multisig.threshold(),
            "signers": multisig.keys().iter().map(hex::encode).collect::<Vec<_>>(),
            "multisig_template": network.encode_address(&template),
            "state": hex::encode(multisig.state()),
        });
        println!("{value}");
    } else {
        println!("{address}");
    }
    Ok(ExitCode::SUCCESS)
}

fn propose_command(command: ProposeCommand) -> CmdResult {
    match command {
        ProposeCommand::Spawn(a) => propose_call(&a.propose, |_| Ok(Call::SelfSpawn)),
        ProposeCommand::Send(a) => {
            check_address_syntax("recipient", &a.to).map_err(err)?;
            propose_call(&a.propose, |network| {
                let to = parse_address(network, "recipient", &a.to).map_err(err)?;
                Ok(Call::Spend { to, amount: a.amount })
            })
        }
        ProposeCommand::Call(a) => {
            let sel = method_selector(&a.method)?;
            check_address_syntax("program", &a.address).map_err(err)?;
            propose_call(&a.propose, |network| {
                let to = parse_address(network, "program", &a.address).map_err(err)?;
                let mut payload = sel.to_vec();
                payload.extend(encode_args(&a.args, Some(network)).map_err(err)?);
                Ok(Call::Proxy { to, payload, value: a.value })
            })
        }
        ProposeCommand::Deploy(a) => {
            let code = read_deploy_code(&a.file)?;
            propose_call(&a.propose, |_| Ok(Call::Deploy { code }))
        }
        ProposeCommand::SpawnProgram(a) => {
            check_address_syntax("template", &a.template).map_err(err)?;
            propose_call(&a.propose, |network| {
                let template = parse_address(network, "template", &a.template).map_err(err)?;
                if athena_transaction::address_kind(&template) != athena_transaction::AddressKind::Template {
                    return Err(format!("template {:?}: not a template address (a program's?)", a.template));
                }
                let state = parse_state(&a.state, network)?;
                Ok(Call::SpawnProgram { template, state })
            })
        }
    }
}

/// Builds the proposal of the call `make` returns (online against the
/// node, or `--offline`), writes it and prints it.
fn propose_call(opts: &ProposeOpts, make: impl FnOnce(&Network) -> Result<Call, String>) -> CmdResult {
    let keys = signers(&opts.multisig)?;
    if !opts.force && opts.out.exists() {
        return Err(err(MultisigError::Exists(opts.out.display().to_string())));
    }
    let mut report = Report::new(opts.output.json);
    if opts.offline {
        let proposal = propose_offline_call(opts, keys, make)?;
        proposal.save(&opts.out, opts.force).map_err(err)?;
        describe(&mut report, &proposal);
        report.field("dry run", "not run (--offline): `submit` dry-runs the signed transaction", "offline");
        report.json_only("nonce_source", nonce_source_label(NonceSource::Explicit));
    } else {
        propose_online(opts, keys, make, &mut report)?;
    }
    report.text("proposal", opts.out.display().to_string());
    report.note(&format!(
        "next: each signer runs `athena multisig sign {} --key THEIR_KEY`, then `athena multisig submit {}`",
        opts.out.display(),
        opts.out.display()
    ));
    report.finish();
    Ok(ExitCode::SUCCESS)
}

/// `--offline`: the network from `--multisig-template` and `--genesis-id`,
/// nonce and gas as given, no node.
fn propose_offline_call(
    opts: &ProposeOpts,
    keys: Vec<[u8; 32]>,
    make: impl FnOnce(&Network) -> Result<Call, String>,
) -> Result<Proposal, String> {
    let missing: Vec<&str> = [
        (opts.genesis_id.is_none(), "--genesis-id HEX (e.g. `genesis_id` in the node's GET /v1/status)"),
        (opts.nonce.is_none(), "--nonce N (the multisig's next nonce, 0 for its self-spawn)"),
        (opts.gas_limit.is_none(), "--gas-limit N (there is no dry run to estimate it)"),
        (opts.multisig.multisig_template.is_none(), "--multisig-template ADDR (or ATHENA_MULTISIG_TEMPLATE)"),
    ]
    .into_iter()
    .filter_map(|(absent, flag)| absent.then_some(flag))
    .collect();
    let (Some(genesis_id), Some(nonce), Some(gas_limit), Some(template), true) = (
        opts.genesis_id.as_deref(),
        opts.nonce,
        opts.gas_limit,
        opts.multisig.multisig_template.as_deref(),
        missing.is_empty(),
    ) else {
        return Err(format!("--offline needs what the node would otherwise supply; missing: {}", missing.join(", ")));
    };
    let (network, template) = offline_network(template, genesis_id).map_err(err)?;
    let multisig = Multisig::new(template, opts.multisig.threshold, keys).map_err(err)?;
    let call = make(&network).map_err(|e| {
        format!("{e} (offline, the network is {}: the multisig template's address prefix)", network.hrp())
    })?;
    let params = TxParams { nonce, gas_limit, gas_price: opts.gas_price };
    propose_offline(&network, &multisig, &call, params).map_err(err)
}

/// Online: connects, builds the proposal with the node's account, nonce
/// and dry run, writes it and reports it and the dry run.
fn propose_online(
    opts: &ProposeOpts,
    keys: Vec<[u8; 32]>,
    make: impl FnOnce(&Network) -> Result<Call, String>,
    report: &mut Report,
) -> Result<(), String> {
    let session = connect(&opts.node).map_err(|e| {
        format!(
            "{e}\nproposing needs the node: the multisig's account, nonce and balance, and the genesis id the \
             signatures bind to, come from it (--no-check skips only the dry run; --offline needs no node)"
        )
    })?;
    let template = multisig_template(&session, opts.multisig.multisig_template.as_deref()).map_err(err)?;
    let multisig = Multisig::new(template, opts.multisig.threshold, keys).map_err(err)?;
    let call = make(session.network())?;
    let options =
        SendOptions { gas_limit: opts.gas_limit, gas_price: opts.gas_price, nonce: opts.nonce, check: !opts.no_check };
    let proposed = propose(&session, &multisig, &call, options).map_err(err)?;
    let proposal = proposed.proposal;
    proposal.save(&opts.out, opts.force).map_err(err)?;
    describe(report, &proposal);
    let (dry_run, dry_run_text) = match proposed.precheck {
        Precheck::Estimated { dry_run_gas, needed } => {
            report.json_only("dry_run_used", dry_run_gas);
            report.json_only("gas_estimate", needed);
            let text = format!(
                "succeeds when run as if signed; about {needed} gas once signed ({dry_run_gas} plus the signature \
                 checks verify did not reach)"
            );
            ("estimated", text)
        }
        Precheck::ReachedVerify => (
            "reached_verify",
            "passed up to verify (decoding, principal, intrinsic gas, nonce, prepayment); the node has no estimate \
             mode (ignore_verify), so the call itself runs only once signed and the gas limit is the default"
                .to_owned(),
        ),
        Precheck::Skipped => ("skipped", "skipped (--no-check)".to_owned()),
        Precheck::PendingNonce => ("pending_nonce", "not run: the nonce follows pending transactions".to_owned()),
        Precheck::Unavailable => ("unavailable", "not run: the node has no dry-run endpoint".to_owned()),
    };
    report.field("dry run", dry_run_text, dry_run);
    report.json_only("nonce_source", nonce_source_label(proposed.nonce_source));
    Ok(())
}

/// The proposal's fields: multisig, call, nonce, gas, signatures; returns
/// what it creates (decoded from its payload), for `submit`'s receipt.
fn describe(report: &mut Report, proposal: &Proposal) -> Option<(&'static str, athena_interface::Address)> {
    let net = proposal.network();
    let m = proposal.multisig();
    let tx = proposal.unsigned();
    report.text("multisig", net.encode_address(&m.address()));
    report.field(
        "signers",
        format!("{}-of-{}", m.threshold(), m.keys().len()),
        json!({ "threshold": m.threshold(), "keys": m.keys().iter().map(hex::encode).collect::<Vec<_>>() }),
    );
    let summary = Summary::of(tx, net);
    report.text("call", summary.call);
    let created = summary.created;
    if let Some((kind, address)) = created {
        report.field(
            "creates",
            format!("{kind} {}", net.encode_address(&address)),
            json!({
                "kind": kind,
                "address": net.encode_address(&address),
            }),
        );
    }
    if let Some((size, hash)) = summary.code {
        report.field(
            "code",
            format!("{size} bytes, blake3 {}", hex::encode(hash)),
            json!({ "size": size, "blake3": hex::encode(hash) }),
        );
    }
    report.field("nonce", tx.nonce, tx.nonce);
    report.field(
        "gas",
        format!(
            "limit {}, price {} (at most {} coins)",
            tx.gas_limit,
            tx.gas_price,
            tx.gas_limit.saturating_mul(tx.gas_price)
        ),
        json!({ "limit": tx.gas_limit, "price": tx.gas_price }),
    );
    report.text("network", format!("{} (genesis {})", net.hrp(), hex::encode(net.genesis_id().as_bytes())));
    if proposal.made_offline() {
        report.field(
            "made",
            "offline (--offline): no dry run, no account or balance check before signing; the nonce, gas and \
             genesis id are as the proposer typed them",
            "offline",
        );
    } else {
        report.json_only("made", "online");
    }
    signatures(report, proposal);
    created
}

fn signatures(report: &mut Report, proposal: &Proposal) {
    let sigs = proposal.signatures();
    let who: Vec<String> = sigs.keys().map(|i| i.to_string()).collect();
    let need = proposal.multisig().threshold();
    let text = if who.is_empty() {
        format!("0 of {need} needed")
    } else {
        format!("{} of {need} needed (signers {})", sigs.len(), who.join(", "))
    };
    report.field(
        "signatures",
        text,
        json!({ "have": sigs.len(), "need": need, "signers": sigs.keys().collect::<Vec<_>>() }),
    );
}

fn load(path: &Path) -> Result<Proposal, String> {
    Proposal::load(path).map_err(err)
}

fn sign(a: SignArgs) -> CmdResult {
    let mut proposal = load(&a.proposal)?;
    let (_, key) = load_key(&a.key)?;
    let index = proposal.sign(&key).map_err(err)?;
    proposal.save(&a.proposal, true).map_err(err)?;
    let mut report = Report::new(a.output.json);
    describe(&mut report, &proposal);
    report.field("signed as", format!("signer {index} ({})", hex::encode(key.public_bytes())), index);
    if proposal.is_complete() {
        report.note(&format!("ready: `athena multisig submit {}`", a.proposal.display()));
    }
    report.finish();
    Ok(ExitCode::SUCCESS)
}

fn show(a: ShowArgs) -> CmdResult {
    let proposal = load(&a.proposal)?;
    let mut report = Report::new(a.output.json);
    describe(&mut report, &proposal);
    report.field("ready", proposal.is_complete(), proposal.is_complete());
    report.finish();
    Ok(ExitCode::SUCCESS)
}

/// Advice for a relay rejection of a signed multisig transaction: its nonce
/// and gas are signed, so a fresh proposal is the way out.
fn resign_hint(code: &str) -> &'static str {
    match code {
        "underpriced" | "nonce_too_low" | "duplicate" | "already_bundled" | "nonce_gap" | "cannot_pay" => {
            "; the nonce and gas are signed: propose again (e.g. with --nonce N or another --gas-limit) and collect \
             new signatures"
        }
        _ => "",
    }
}

fn submit(a: SubmitArgs) -> CmdResult {
    let returns = a.returns.as_deref().map(ArgType::parse).transpose().map_err(err)?;
    let proposal = load(&a.proposal)?;
    // Before contacting the node: enough signatures?
    let tx = proposal.transaction().map_err(err)?;
    let session = connect(&a.node)?;
    proposal.check_network(session.network()).map_err(err)?;
    let mut report = Report::new(a.output.json);
    let created = describe(&mut report, &proposal);
    let mut check = None;
    if !a.no_check {
        let address = proposal.multisig().address();
        let account = session.principal_account(&address, tx.body.is_self_spawn()).map_err(err)?;
        // The dry run executes against the committed state.
        if tx.body.nonce == account.nonce {
            check = session.dry_run(&tx).map_err(err)?;
            if let Some(c) = check.as_ref().filter(|c| c.status != "succeeded") {
                return Err(err(would_fail(c)));
            }
        }
    }
    let id = hex::encode(tx.id().0);
    let relay_id = match session.submit_transaction(&tx) {
        Ok(id) => id,
        Err(athena_wallet::WalletError::Rejected { code, message, .. }) => {
            return Err(format!("the relay rejected the transaction: {message} [{code}]{}", resign_hint(&code)))
        }
        Err(e) => return Err(err(e)),
    };
    let expect = match (returns, created) {
        (Some(ty), _) => Expect::Returns(ty),
        (None, Some((_, address))) => Expect::Address(address),
        (None, None) => Expect::Nothing,
    };
    let dry_run = check.map(|c| c.gas_used);
    finish_submission(&session, report, &relay_id, &id, a.wait, expect, |report| {
        if let Some(gas_used) = dry_run {
            report.json_only("dry_run_used", gas_used);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resign_hints() {
        assert!(resign_hint("underpriced").contains("propose again"));
        assert_eq!(resign_hint("malformed"), "");
    }
}

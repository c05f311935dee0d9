//! What each wallet command does; the flow and its rules live in
//! `athena_wallet::session`, this file parses flags and prints.

use super::passphrase::{self, Purpose};
use super::report::Report;
use super::{
    AccountArgs, AddressArgs, CallArgs, DeployArgs, KeyCommand, KeyConvertArgs, KeyNewArgs, KeyOpt, NodeOpts, SealOpts,
    SendArgs, SpawnArgs, SpawnWalletArgs, StorageArgs, TxArgs, TxOpts, WaitOpts, WalletCommand, WalletSub,
};
use athena_interface::Address;
use athena_runtime::sdk_storage::item_key;
use athena_transaction::{selector, Network};
use athena_wallet::args::{decode_value, encode_args, ArgType};
use athena_wallet::client::{Receipt, TxLookup};
use athena_wallet::item::{read_item, ItemError, ItemRead};
use athena_wallet::key::{parse_hex32, readable_by_others, KeyFile};
use athena_wallet::proof::{verify_account, verify_account_state, verify_storage, ProofCheck};
use athena_wallet::session::{check_address_syntax, parse_template_any, NonceSource};
use athena_wallet::{wallet_address, Call, Key, NodeClient, SendOptions, Session, Wallet};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

type CmdResult = Result<ExitCode, String>;

/// Runs one wallet command.
pub fn dispatch(command: WalletCommand) -> CmdResult {
    match command {
        WalletCommand::Key(KeyCommand::New(a)) => key_new(a),
        WalletCommand::Key(KeyCommand::Show(a)) => key_show(&a.key, a.output.json),
        WalletCommand::Key(KeyCommand::Encrypt(a)) => key_convert(a, true),
        WalletCommand::Key(KeyCommand::Decrypt(a)) => key_convert(a, false),
        WalletCommand::Address(a) => address(a),
        WalletCommand::Wallet(WalletSub::Spawn(a)) => spawn_wallet(a),
        WalletCommand::Send(a) => send(a),
        WalletCommand::Deploy(a) => deploy(a),
        WalletCommand::Spawn(a) => spawn(a),
        WalletCommand::Call(a) => call(a),
        WalletCommand::Account(a) => account(a),
        WalletCommand::Tx(a) => tx(a),
        WalletCommand::Storage(a) => storage(a),
        WalletCommand::Multisig(c) => super::multisig::dispatch(c),
    }
}

/// `$HOME/.athena/key.json`, the key file used when none is named.
fn default_key_path() -> Result<PathBuf, String> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|home| Path::new(&home).join(".athena").join("key.json"))
        .ok_or_else(|| "no key file given and $HOME is not set: pass --key FILE or set ATHENA_KEY".to_owned())
}

fn key_path(opt: &KeyOpt) -> Result<PathBuf, String> {
    opt.key.clone().map_or_else(default_key_path, Ok)
}

/// The key file of `opt`, read but not unlocked: enough for its public key.
fn load_key_file(opt: &KeyOpt) -> Result<(PathBuf, KeyFile), String> {
    let path = key_path(opt)?;
    let file = KeyFile::load(&path).map_err(|e| e.to_string())?;
    if !file.is_encrypted() && readable_by_others(&path) {
        eprintln!("warning: {} is readable by other users; run `chmod 600 {}`", path.display(), path.display());
    }
    Ok((path, file))
}

/// The key of `opt` for signing: an encrypted file's passphrase is asked
/// for (docs/wallet.md, "Key files").
pub(super) fn load_key(opt: &KeyOpt) -> Result<(PathBuf, Key), String> {
    let (path, file) = load_key_file(opt)?;
    let key = passphrase::unlock(&path, file, opt.passphrase_file.as_deref())?;
    Ok((path, key))
}

fn client(node: &NodeOpts) -> NodeClient {
    NodeClient::new(&node.node, Duration::from_secs(node.http_timeout.max(1)))
}

pub(super) fn connect(node: &NodeOpts) -> Result<Session, String> {
    Session::connect(client(node)).map_err(|e| e.to_string())
}

/// `--out`, else `$ATHENA_KEY`, else the default key file.
fn out_path(out: Option<PathBuf>) -> Result<PathBuf, String> {
    match out.or_else(|| std::env::var_os("ATHENA_KEY").filter(|k| !k.is_empty()).map(PathBuf::from)) {
        Some(path) => Ok(path),
        None => default_key_path(),
    }
}

fn key_new(a: KeyNewArgs) -> CmdResult {
    let path = out_path(a.out)?;
    let key = Key::generate();
    if a.encrypt {
        // Before asking for a passphrase: the common mistake costs nothing.
        if !a.force && path.exists() {
            return Err(athena_wallet::KeyError::Exists(path).to_string());
        }
        seal(&key, &path, a.force, &a.seal)?;
    } else {
        key.save(&path, a.force).map_err(|e| e.to_string())?;
    }
    let mut report = Report::new(a.output.json);
    report.text("key file", path.display().to_string());
    report.text("public key", hex::encode(key.public_bytes()));
    report.field("encrypted", if a.encrypt { "yes" } else { "no" }, a.encrypt);
    report.note(&format!("next: `athena address --key {}` prints the wallet address to fund", path.display()));
    report.finish();
    Ok(ExitCode::SUCCESS)
}

/// Writes `key` to `path` encrypted (`key new --encrypt`, `key encrypt`):
/// the passphrase asked for as for sealing, the costs `--kdf-params` or the
/// default; `force` replaces an existing file.
fn seal(key: &Key, path: &Path, force: bool, opts: &SealOpts) -> Result<(), String> {
    let pass = passphrase::passphrase(opts.passphrase_file.as_deref(), Purpose::Seal(path))?;
    let params = opts.kdf_params.unwrap_or_default();
    key.save_encrypted(path, force, pass.as_bytes(), &params).map_err(|e| e.to_string())
}

fn key_show(opt: &KeyOpt, json: bool) -> CmdResult {
    let (path, file) = load_key_file(opt)?;
    let mut report = Report::new(json);
    report.text("key file", path.display().to_string());
    report.text("public key", hex::encode(file.public_bytes()));
    report.field("encrypted", if file.is_encrypted() { "yes" } else { "no" }, file.is_encrypted());
    report.finish();
    Ok(ExitCode::SUCCESS)
}

/// `athena key encrypt` (`encrypt`) / `athena key decrypt`: the key file
/// rewritten in place, atomically (a new file renamed over it).
fn key_convert(a: KeyConvertArgs, encrypt: bool) -> CmdResult {
    let path = out_path(a.file)?;
    let file = KeyFile::load(&path).map_err(|e| e.to_string())?;
    let key = match (file, encrypt) {
        (KeyFile::Plain(key), true) => {
            seal(&key, &path, true, &a.seal)?;
            key
        }
        (KeyFile::Encrypted(sealed), false) => {
            let key = passphrase::unlock_sealed(&path, &sealed, a.seal.passphrase_file.as_deref())?;
            key.save(&path, true).map_err(|e| e.to_string())?;
            key
        }
        (_, true) => return Err(format!("{} is encrypted already", path.display())),
        (_, false) => return Err(format!("{} is not encrypted", path.display())),
    };
    let mut report = Report::new(a.output.json);
    report.text("key file", path.display().to_string());
    report.text("public key", hex::encode(key.public_bytes()));
    report.field("encrypted", if encrypt { "yes" } else { "no" }, encrypt);
    report.finish();
    Ok(ExitCode::SUCCESS)
}

fn address(a: AddressArgs) -> CmdResult {
    let (_, key) = load_key_file(&a.wallet.key)?;
    let (network, template) = match a.wallet.template.wallet_template.as_deref() {
        // Offline: the template's bech32 prefix names the network.
        Some(text) => {
            let (hrp, template) = parse_template_any("wallet template", text).map_err(|e| e.to_string())?;
            let network = Network::new(&hrp, Default::default()).map_err(|e| e.to_string())?;
            (network, template)
        }
        None => {
            let session = connect(&a.wallet.node)?;
            let template = session.wallet_template(None).map_err(|e| e.to_string())?;
            (session.network().clone(), template)
        }
    };
    let address = network.encode_address(&wallet_address(&template, &key.public_bytes()));
    if a.output.json {
        let value = json!({
            "address": address,
            "public_key": hex::encode(key.public_bytes()),
            "wallet_template": network.encode_address(&template),
        });
        println!("{value}");
    } else {
        println!("{address}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The session and the wallet of `--key` for a transaction command.
fn open_wallet(tx: &TxOpts) -> Result<(Session, Wallet), String> {
    let (_, key) = load_key(&tx.key)?;
    let session = connect(&tx.node)?;
    let template = session.wallet_template(tx.wallet_template.as_deref()).map_err(|e| e.to_string())?;
    let wallet = Wallet::new(key, template, session.network().clone());
    Ok((session, wallet))
}

/// What to check in a receipt's output: the created address, or a type to
/// decode the output as.
#[derive(Clone, Copy)]
pub(super) enum Expect {
    Nothing,
    Address(Address),
    Returns(ArgType),
}

/// Prepares, submits and (with `--wait`) waits for `call`; prints each step.
fn send_call(
    session: &Session,
    wallet: &Wallet,
    call: &Call,
    tx: &TxOpts,
    report: Report,
    expect: Expect,
) -> CmdResult {
    let options =
        SendOptions { gas_limit: tx.gas_limit, gas_price: tx.gas_price, nonce: tx.nonce, check: !tx.no_check };
    let (prepared, relay_id) = session.send(wallet, call, options).map_err(|e| e.to_string())?;
    finish_submission(session, report, &relay_id, &prepared.id, tx.wait, expect, |report| {
        let body = &prepared.tx.body;
        let source = nonce_source_label(prepared.nonce_source);
        report.field("nonce", format!("{} ({source})", body.nonce), body.nonce);
        let dry = match &prepared.check {
            Some(c) => format!(", dry run used {}", c.gas_used),
            None => String::new(),
        };
        report.field(
            "gas",
            format!("limit {}, price {}{dry}", body.gas_limit, body.gas_price),
            json!({
                "limit": body.gas_limit,
                "price": body.gas_price,
                "dry_run_used": prepared.check.as_ref().map(|c| c.gas_used),
            }),
        );
    })
}

/// How the output names where a nonce came from (the `nonce` line of a
/// send, `nonce_source` of a proposal): one wording for both.
pub(super) fn nonce_source_label(source: NonceSource) -> &'static str {
    match source {
        NonceSource::Explicit => "--nonce",
        NonceSource::Committed => "committed nonce",
        NonceSource::Relay => "after pending transactions at the relay",
    }
}

/// What every submission does once the relay has accepted the transaction
/// `id` (`send_call` and `multisig submit`): warns if the relay reports
/// another id (`relay_id`), adds the caller's `fields`, then the
/// transaction line, and with `--wait` waits for the receipt and prints
/// it against `expect` (exit status 1 if it failed). `fields` run between
/// the warning and the transaction line, where each caller printed them.
pub(super) fn finish_submission(
    session: &Session,
    mut report: Report,
    relay_id: &str,
    id: &str,
    wait: WaitOpts,
    expect: Expect,
    fields: impl FnOnce(&mut Report),
) -> CmdResult {
    if relay_id != id {
        eprintln!("warning: the relay reports id {relay_id}, but the transaction's id is {id}");
    }
    fields(&mut report);
    report.text("transaction", id.to_owned());
    if !wait.wait {
        report.note(&format!("submitted; `athena tx {id}` shows its status (or pass --wait)"));
        report.finish();
        return Ok(ExitCode::SUCCESS);
    }
    if !report.is_json() {
        eprintln!("waiting for inclusion...");
    }
    let receipt = session
        .wait(id, Duration::from_secs(wait.wait_timeout), Duration::from_millis(250))
        .map_err(|e| e.to_string())?;
    let ok = print_receipt(&mut report, &receipt, session.network(), expect);
    report.finish();
    Ok(if ok { ExitCode::SUCCESS } else { failed(&receipt) })
}

fn new_report(json: bool) -> Report {
    Report::new(json)
}

fn failed(receipt: &Receipt) -> ExitCode {
    let mut reason = receipt.reason.clone().unwrap_or_else(|| "no reason given".into());
    if let Some(message) = receipt.revert_message.as_deref().filter(|m| !reason.contains(*m)) {
        reason = format!("{reason}: {message}");
    }
    eprintln!("error: the transaction was included but {}: {reason}", receipt.status);
    ExitCode::FAILURE
}

/// Prints a receipt; returns whether it succeeded.
fn print_receipt(report: &mut Report, receipt: &Receipt, network: &Network, expect: Expect) -> bool {
    report.text("status", receipt.status.clone());
    report.field("block", format!("{} (index {})", receipt.height, receipt.index), receipt.height);
    report.json_only("index", receipt.index);
    report.field("gas used", receipt.gas_used, receipt.gas_used);
    report.field("fee", receipt.fee, receipt.fee);
    if let Some(reason) = &receipt.reason {
        report.text("reason", reason.clone());
    }
    if let Some(message) = &receipt.revert_message {
        report.text("revert", message.clone());
    }
    let ok = receipt.status == "succeeded";
    let output = hex::decode(&receipt.output).unwrap_or_default();
    if ok {
        match expect {
            Expect::Address(want) => {
                let got = <[u8; 24]>::try_from(output.as_slice()).ok().map(Address::new);
                if got != Some(want) {
                    eprintln!("warning: the output {} is not the expected address", receipt.output);
                }
            }
            Expect::Returns(ty) => match decode_value(ty, &output, network) {
                Ok(value) => report.text("returned", value.to_string()),
                Err(e) => eprintln!("warning: cannot decode the output {}: {e}", receipt.output),
            },
            Expect::Nothing => {}
        }
    }
    if !receipt.output.is_empty() {
        report.text("output", receipt.output.clone());
    }
    if !receipt.logs.is_empty() {
        report.field("logs", receipt.logs.len(), receipt.logs.clone());
    }
    ok
}

fn spawn_wallet(a: SpawnWalletArgs) -> CmdResult {
    let (session, wallet) = open_wallet(&a.tx)?;
    let mut report = new_report(a.output.json);
    report.text("wallet", session.network().encode_address(&wallet.address()));
    send_call(&session, &wallet, &Call::SelfSpawn, &a.tx, report, Expect::Address(wallet.address()))
}

fn send(a: SendArgs) -> CmdResult {
    check_address_syntax("recipient", &a.to).map_err(|e| e.to_string())?;
    let (session, wallet) = open_wallet(&a.tx)?;
    let to = session.parse_address("recipient", &a.to).map_err(|e| e.to_string())?;
    let mut report = new_report(a.output.json);
    report.text("from", session.network().encode_address(&wallet.address()));
    report.text("to", session.network().encode_address(&to));
    report.field("amount", a.amount, a.amount);
    send_call(&session, &wallet, &Call::Spend { to, amount: a.amount }, &a.tx, report, Expect::Nothing)
}

/// The code of a deploy (`athena deploy`, `athena multisig propose
/// deploy`): the file read, refused before anything is built if it cannot
/// fit in a transaction's payload or is not an ELF the VM can load (a
/// deploy of it would only fail on chain, fee paid).
pub(super) fn read_deploy_code(file: &Path) -> Result<Vec<u8>, String> {
    let code = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    // Leave room for the selector and the length prefix.
    let max = athena_transaction::tx::MAX_PAYLOAD_SIZE - 16;
    if code.len() > max {
        return Err(format!(
            "{} is {} bytes; a deploy through an account carries at most {max} (the transaction payload limit)",
            file.display(),
            code.len()
        ));
    }
    athena_vm::Program::from_elf(&code)
        .map_err(|e| format!("{} is not a loadable Athena program: {e}", file.display()))?;
    Ok(code)
}

fn deploy(a: DeployArgs) -> CmdResult {
    let code = read_deploy_code(&a.file)?;
    let (session, wallet) = open_wallet(&a.tx)?;
    let call = Call::Deploy { code };
    let template = call.created_address(&wallet.address()).unwrap_or_default();
    let mut report = new_report(a.output.json);
    report.text("wallet", session.network().encode_address(&wallet.address()));
    report.text("template", session.network().encode_address(&template));
    send_call(&session, &wallet, &call, &a.tx, report, Expect::Address(template))
}

/// Program state from the command line (`athena spawn`, `athena multisig
/// propose spawn-program`): one bare hex string, or typed fields.
pub(super) fn parse_state(items: &[String], network: &Network) -> Result<Vec<u8>, String> {
    if let [single] = items {
        if !single.contains(':') {
            let hex_text = single.strip_prefix("0x").unwrap_or(single);
            return hex::decode(hex_text)
                .map_err(|e| format!("state {single:?} is not hex: {e} (or give typed fields, e.g. u64:5)"));
        }
    }
    encode_args(items, Some(network)).map_err(|e| e.to_string())
}

fn spawn(a: SpawnArgs) -> CmdResult {
    check_address_syntax("template", &a.template).map_err(|e| e.to_string())?;
    let (session, wallet) = open_wallet(&a.tx)?;
    let template = session.parse_address("template", &a.template).map_err(|e| e.to_string())?;
    let state = parse_state(&a.state, session.network())?;
    let call = Call::SpawnProgram { template, state };
    let program = call.created_address(&wallet.address()).unwrap_or_default();
    let mut report = new_report(a.output.json);
    report.text("wallet", session.network().encode_address(&wallet.address()));
    report.text("program", session.network().encode_address(&program));
    send_call(&session, &wallet, &call, &a.tx, report, Expect::Address(program))
}

/// A method name or an explicit `0x` + 8 hex digit selector.
pub(super) fn method_selector(method: &str) -> Result<[u8; 4], String> {
    match method.strip_prefix("0x") {
        Some(hex_text) => {
            let mut out = [0u8; 4];
            hex::decode_to_slice(hex_text, &mut out)
                .map_err(|_| format!("selector {method:?} must be 0x followed by 8 hex digits"))?;
            Ok(out)
        }
        None if method.is_empty() => Err("the method name is empty".into()),
        None => Ok(selector(method)),
    }
}

fn call(a: CallArgs) -> CmdResult {
    let returns = a.returns.as_deref().map(ArgType::parse).transpose().map_err(|e| e.to_string())?;
    let sel = method_selector(&a.method)?;
    check_address_syntax("program", &a.address).map_err(|e| e.to_string())?;
    let (session, wallet) = open_wallet(&a.tx)?;
    let to = session.parse_address("program", &a.address).map_err(|e| e.to_string())?;
    let mut payload = sel.to_vec();
    payload.extend(encode_args(&a.args, Some(session.network())).map_err(|e| e.to_string())?);
    let mut report = new_report(a.output.json);
    report.text("wallet", session.network().encode_address(&wallet.address()));
    report.text("to", session.network().encode_address(&to));
    report.field("method", format!("{} (selector 0x{})", a.method, hex::encode(sel)), a.method.clone());
    report.text("input", hex::encode(&payload));
    if a.value > 0 {
        report.field("value", a.value, a.value);
    }
    let expect = returns.map_or(Expect::Nothing, Expect::Returns);
    send_call(&session, &wallet, &Call::Proxy { to, payload, value: a.value }, &a.tx, report, expect)
}

fn trusted_root(root: Option<&str>) -> Result<Option<[u8; 32]>, String> {
    root.map(|r| parse_hex32(r).map_err(|e| format!("--root: {e}"))).transpose()
}

/// The wording of a proof's report, so the account proof, the program
/// state proof and the storage proof go through one [`proof_result`].
struct ProofWords {
    /// The field (`proof`, `state proof`).
    label: &'static str,
    /// The text shown instead of the check's own when the node sent no
    /// proof (`None`: the check's own words).
    missing: Option<&'static str>,
    /// The start of the error line when the proof does not check out.
    invalid: &'static str,
}

/// The account or storage proof: must check out when present.
const PROOF: ProofWords = ProofWords { label: "proof", missing: None, invalid: "the node's proof does not check out" };

/// The program state proof: a node that sends none (older nodes) leaves
/// the state unproven, said so, without failing.
const STATE_PROOF: ProofWords = ProofWords {
    label: "state proof",
    missing: Some("not provided by the node: the program state is unproven"),
    invalid: "the node's program state does not match its proof",
};

/// Reports a proof check under `words.label` (`{ valid, detail }` in
/// JSON); a proof that does not check out fails the command.
fn proof_result(report: &mut Report, check: &ProofCheck, words: &ProofWords) -> ExitCode {
    let detail = match (check, words.missing) {
        (ProofCheck::Missing, Some(missing)) => missing.to_owned(),
        _ => check.to_string(),
    };
    report.field(words.label, &detail, json!({ "valid": check.is_valid(), "detail": detail }));
    match check {
        ProofCheck::Invalid(_) => {
            eprintln!("error: {}: {check}", words.invalid);
            ExitCode::FAILURE
        }
        _ => ExitCode::SUCCESS,
    }
}

fn account(a: AccountArgs) -> CmdResult {
    let trusted = trusted_root(a.root.as_deref())?;
    if let Some(text) = &a.address {
        check_address_syntax("address", text).map_err(|e| e.to_string())?;
    }
    let session = connect(&a.wallet.node)?;
    let address = match &a.address {
        Some(text) => session.parse_address("address", text).map_err(|e| e.to_string())?,
        None => {
            let (_, key) = load_key_file(&a.wallet.key)?;
            let template =
                session.wallet_template(a.wallet.template.wallet_template.as_deref()).map_err(|e| e.to_string())?;
            wallet_address(&template, &key.public_bytes())
        }
    };
    let account = session.account(&address).map_err(|e| e.to_string())?;
    let mut report = new_report(a.output.json);
    report.text("address", account.address.clone());
    report.field("balance", account.balance, account.balance);
    report.field("nonce", account.nonce, account.nonce);
    match &account.template {
        Some(t) => report.text("template", t.clone()),
        None => report.field("template", "none (a plain account: not spawned)", serde_json::Value::Null),
    }
    if !account.state.is_empty() {
        report.text("state", account.state.clone());
    }
    if let Some(height) = account.height {
        report.field("height", height, height);
    }
    if let Some(root) = &account.state_root {
        report.text("state root", root.clone());
    }
    let check = verify_account(&account, &address, session.network(), trusted);
    let code = proof_result(&mut report, &check, &PROOF);
    let state_code = proof_result(&mut report, &verify_account_state(&account, &address, trusted), &STATE_PROOF);
    report.finish();
    Ok(if code == ExitCode::SUCCESS { state_code } else { code })
}

fn tx(a: TxArgs) -> CmdResult {
    let returns = a.returns.as_deref().map(ArgType::parse).transpose().map_err(|e| e.to_string())?;
    let id = parse_hex32(&a.id).map_err(|e| format!("transaction id {:?}: {e}", a.id))?;
    let id = hex::encode(id);
    let client = client(&a.node);
    let lookup = client.transaction(&id).map_err(|e| e.to_string())?;
    let mut report = new_report(a.output.json);
    report.text("transaction", id.clone());
    let code = match lookup {
        TxLookup::Included(receipt) => {
            // Addresses in decoded outputs need the network.
            let network = match returns {
                Some(ArgType::Addr) => connect(&a.node)?.network().clone(),
                _ => Network::test(Default::default()),
            };
            let expect = returns.map_or(Expect::Nothing, Expect::Returns);
            if print_receipt(&mut report, &receipt, &network, expect) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        TxLookup::Pending(info) => {
            report.text("status", "pending");
            for (key, label) in
                [("nonce", "nonce"), ("gas_price", "gas price"), ("bundled", "bundled"), ("submissions", "submissions")]
            {
                if let Some(v) = info.get(key) {
                    report.field(label, v, v.clone());
                }
            }
            ExitCode::SUCCESS
        }
        TxLookup::Dropped { reason, message } => {
            report.text("status", "dropped");
            report.text("reason", reason);
            report.text("message", message);
            ExitCode::FAILURE
        }
        TxLookup::Unknown => {
            report.finish();
            return Err(format!("unknown transaction {id}: neither pending at the relay nor in any block"));
        }
    };
    report.finish();
    Ok(code)
}

fn storage(a: StorageArgs) -> CmdResult {
    let trusted = trusted_root(a.root.as_deref())?;
    check_address_syntax("address", &a.address).map_err(|e| e.to_string())?;
    let session = connect(&a.node)?;
    let item = a.key.strip_prefix("item:");
    let key = match item {
        Some(name) => {
            let map_key = encode_args(&a.map_key, Some(session.network())).map_err(|e| format!("map key: {e}"))?;
            item_key(name, &map_key).into_bytes()
        }
        None if !a.map_key.is_empty() => return Err("a map key needs KEY = item:NAME".into()),
        None => parse_hex32(&a.key).map_err(|e| format!("storage key {:?}: {e} (or item:NAME)", a.key))?,
    };
    let address = session.parse_address("address", &a.address).map_err(|e| e.to_string())?;
    let text = session.network().encode_address(&address);
    let mut report = new_report(a.output.json);
    let (first, check) = match item {
        Some(name) => {
            let fetch = |k: &[u8; 32]| session.client().storage(&text, &hex::encode(k));
            let read = read_item(&address, &key, trusted, a.max_slots, fetch).map_err(|e| match e {
                ItemError::Layout(_) => format!("item {name}: {e} (its raw first slot: KEY = {})", hex::encode(key)),
                _ => format!("item {name}: {e}"),
            })?;
            report.text("address", text.clone());
            report.text("key", hex::encode(key));
            report.text("item", name);
            report_item(&mut report, &read);
            let first = read.slots.first().map(|s| s.answer.clone()).ok_or("the node sent no slot")?;
            (first, read.check)
        }
        None => {
            let slot = session.client().storage(&text, &hex::encode(key)).map_err(|e| e.to_string())?;
            report.text("address", text.clone());
            report.text("key", hex::encode(key));
            report.text("value", slot.value.clone());
            let check = verify_storage(&slot, &address, &key, trusted);
            (slot, check)
        }
    };
    report.field("height", first.height, first.height);
    report.text("state root", first.state_root.clone());
    let code = proof_result(&mut report, &check, &PROOF);
    report.finish();
    Ok(code)
}

/// The item part of `athena storage … item:NAME`: its first slot (raw),
/// the reassembled SCALE encoding of its value (`null` when absent or not
/// proven) and, in the JSON, every slot it used.
fn report_item(report: &mut Report, read: &ItemRead) {
    if let Some(first) = read.slots.first() {
        report.text("value", first.answer.value.clone());
    }
    match &read.value {
        Some(encoded) => report.text("item value", hex::encode(encoded)),
        None if read.check.is_valid() => report.field("item value", "absent", serde_json::Value::Null),
        None => report.field("item value", "not shown (a proof failed)", serde_json::Value::Null),
    }
    let slots: Vec<_> =
        read.slots.iter().map(|s| json!({ "key": hex::encode(s.key), "value": s.answer.value })).collect();
    report.field("slots", slots.len(), slots);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_storage_items() {
        let mut expected = b"athena/storage/".to_vec();
        expected.extend_from_slice(&5u32.to_le_bytes());
        expected.extend_from_slice(b"count");
        assert_eq!(item_key("count", &[]).into_bytes(), *blake3::hash(&expected).as_bytes());
        expected.push(7);
        assert_eq!(item_key("count", &[7]).into_bytes(), *blake3::hash(&expected).as_bytes());
    }

    #[test]
    fn selectors() {
        assert_eq!(method_selector("spend").unwrap(), selector("spend"));
        assert_eq!(method_selector("0x01020304").unwrap(), [1, 2, 3, 4]);
        assert!(method_selector("0x0102").unwrap_err().contains("8 hex digits"));
        assert!(method_selector("").is_err());
    }

    #[test]
    fn state_forms() {
        let net = Network::test(Default::default());
        assert_eq!(parse_state(&["0x0102".into()], &net).unwrap(), vec![1, 2]);
        assert_eq!(parse_state(&[], &net).unwrap(), Vec::<u8>::new());
        assert_eq!(parse_state(&["u8:1".into(), "u16:2".into()], &net).unwrap(), vec![1, 2, 0]);
        assert!(parse_state(&["xyz".into()], &net).unwrap_err().contains("not hex"));
    }
}

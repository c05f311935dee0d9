//! The wallet's conversation with a node: learn the network, find the
//! wallet template, pick a nonce and a gas limit, dry-run, submit, wait.
//!
//! Every rule here is documented in docs/wallet.md ("Nonces", "Gas",
//! "Dry run"); the CLI only parses flags and prints.

use crate::builder::{Call, TxParams, Wallet};
use crate::client::{Account, Check, ClientError, NodeClient, Receipt, Status, TxLookup};
use athena_interface::{Address, Bytes32};
use athena_transaction::{
    address_kind, parse_address_any, sign_single, AddressError, AddressKind, Network, Transaction,
};
use std::time::{Duration, Instant};

/// Why a wallet operation stopped. Messages are meant for people and say
/// what to do next.
#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    /// The node could not be asked.
    #[error(transparent)]
    Node(#[from] ClientError),
    /// No account at an address the operation needs.
    #[error("unknown account {0}: the node has no account at this address (nothing was ever sent to it)")]
    UnknownAccount(String),
    /// The principal has coins but is not spawned.
    #[error("wallet {address} is not spawned yet (it holds {balance} coins): run `athena wallet spawn` first")]
    NotSpawned {
        /// The wallet.
        address: String,
        /// Its balance.
        balance: u64,
    },
    /// A self-spawn of an address without coins.
    #[error("wallet address {0} has no coins: send it some first (its self-spawn pays its own fee)")]
    Unfunded(String),
    /// A self-spawn of a program that exists.
    #[error("wallet {0} is already spawned")]
    AlreadySpawned(String),
    /// Not enough coins for the value plus the most the gas can cost.
    #[error(
        "insufficient balance: {address} has {balance} coins, but this transaction needs {value} plus up to \
         {max_fee} for gas ({total} in total)"
    )]
    InsufficientBalance {
        /// The wallet.
        address: String,
        /// Its balance.
        balance: u64,
        /// Coins the call moves.
        value: u64,
        /// `gas_limit × gas_price`.
        max_fee: u64,
        /// `value + max_fee` (saturating).
        total: u64,
    },
    /// The executor's dry run says the transaction would not succeed.
    #[error("dry run: the transaction would {verb}: {reason}; not sent (pass --no-check to send it anyway)")]
    WouldFail {
        /// `fail` or `be ineffective`.
        verb: String,
        /// Why (with the revert message if any).
        reason: String,
    },
    /// The relay refused the transaction.
    #[error("the relay rejected the transaction: {message} [{code}]{hint}")]
    Rejected {
        /// The relay's error code.
        code: String,
        /// The relay's message.
        message: String,
        /// Advice for some codes (starts with a separator), or empty.
        hint: String,
    },
    /// The relay dropped a transaction it had accepted.
    #[error("the relay dropped transaction {id}: {message} [{reason}]")]
    Dropped {
        /// Transaction id.
        id: String,
        /// Code.
        reason: String,
        /// Message.
        message: String,
    },
    /// `--wait` gave up.
    #[error(
        "transaction {id} was not included within {seconds} s (last status: {last}); check later with `athena tx {id}`"
    )]
    Timeout {
        /// Transaction id.
        id: String,
        /// Seconds waited.
        seconds: u64,
        /// The last status seen.
        last: String,
    },
    /// The wallet template is not known.
    #[error(
        "the node does not name a wallet template (GET /v1/status has no templates.wallet): pass --wallet-template \
         ADDR or set ATHENA_WALLET_TEMPLATE"
    )]
    NoWalletTemplate,
    /// A malformed address argument.
    #[error("{what} {text:?}: {error}")]
    BadAddress {
        /// What the address is for.
        what: String,
        /// The text.
        text: String,
        /// Why it is rejected.
        error: String,
    },
    /// Anything else (malformed node data, bad arguments).
    #[error("{0}")]
    Other(String),
}

/// Options that shape a transaction besides its call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendOptions {
    /// Explicit gas limit; `None`: a default, lowered by the dry run.
    pub gas_limit: Option<u64>,
    /// Gas price.
    pub gas_price: u64,
    /// Explicit nonce; `None`: from the node (committed + pending).
    pub nonce: Option<u64>,
    /// Run the executor's dry run first and refuse transactions it says
    /// would fail.
    pub check: bool,
}

impl Default for SendOptions {
    /// Gas price 1, everything else automatic, with the dry run.
    fn default() -> Self {
        Self { gas_limit: None, gas_price: 1, nonce: None, check: true }
    }
}

/// How many times [`Session::send`] moves to the next nonce when the relay
/// says a nonce is taken: the relay's per-account pending cap.
pub const MAX_NONCE_BUMPS: u32 = 16;

/// Where a transaction's nonce came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceSource {
    /// `--nonce`.
    Explicit,
    /// The account's committed nonce (no pending transactions known).
    Committed,
    /// After the account's pending transactions at the relay (its next
    /// nonce, or the first nonce it did not report as taken).
    Relay,
}

/// A signed transaction ready to submit, and how it was made.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The transaction.
    pub tx: Transaction,
    /// Its id (hex).
    pub id: String,
    /// Where the nonce came from.
    pub nonce_source: NonceSource,
    /// The dry run's answer, if one ran.
    pub check: Option<Check>,
    /// The address the call creates, if any.
    pub created: Option<Address>,
    /// The principal's account as the node reported it.
    pub account: Account,
}

/// A connection to a node that knows the node's network.
#[derive(Debug, Clone)]
pub struct Session {
    client: NodeClient,
    status: Status,
    network: Network,
}

/// Parses `text` as an address of `network`; `what` names it in errors.
pub fn parse_address(network: &Network, what: &str, text: &str) -> Result<Address, WalletError> {
    network.parse_address(text).map_err(bad_address(what, text))
}

/// The [`WalletError::BadAddress`] for `text` (named `what`), from why it
/// was rejected.
fn bad_address<'a>(what: &'a str, text: &'a str) -> impl FnOnce(AddressError) -> WalletError + 'a {
    move |e| WalletError::BadAddress { what: what.to_owned(), text: text.to_owned(), error: e.to_string() }
}

/// Checks that `text` is a well-formed bech32 address of *some* network,
/// before anything contacts the node: a mistyped address is then reported
/// as such even when the node is down (the network is checked later, by
/// [`parse_address`], once the node has said which one it runs).
pub fn check_address_syntax(what: &str, text: &str) -> Result<(), WalletError> {
    parse_address_any(text).map(|_| ()).map_err(bad_address(what, text))
}

/// Parses a template address of any network (for offline use): returns the
/// network HRP too. Rejects program addresses. `what` names the template in
/// errors (`wallet template`, `multisig template`).
pub fn parse_template_any(what: &str, text: &str) -> Result<(String, Address), WalletError> {
    let (hrp, address) = parse_address_any(text).map_err(bad_address(what, text))?;
    require_template(what, text, &address)?;
    Ok((hrp, address))
}

/// Whether a genesis template `name` (a key of `GET /v1/status`'s
/// `templates`, or a genesis file's template path) is the wallet template:
/// named `wallet`, or with file stem `wallet` (e.g. `templates/wallet.elf`).
pub fn names_wallet_template(name: &str) -> bool {
    let stem = std::path::Path::new(name).file_stem().and_then(|s| s.to_str());
    name == "wallet" || stem == Some("wallet")
}

fn require_template(what: &str, text: &str, address: &Address) -> Result<(), WalletError> {
    if address_kind(address) != AddressKind::Template {
        return Err(WalletError::BadAddress {
            what: what.into(),
            text: text.to_owned(),
            error: "not a template address".into(),
        });
    }
    Ok(())
}

/// Advice for a relay error code.
fn hint(code: &str) -> &'static str {
    match code {
        "underpriced" => {
            "; a transaction with this nonce is already pending: wait for it (`athena tx ID`), or replace it with a \
             higher --gas-price"
        }
        "nonce_too_low" => "; the nonce was used already: leave out --nonce to use the next one",
        "nonce_gap" => "; earlier nonces are missing: leave out --nonce, or send the missing ones first",
        "cannot_pay" => "; the balance cannot cover gas_limit × gas_price: lower --gas-limit or add coins",
        "account_full" | "mempool_full" => "; try again once pending transactions are included",
        _ => "",
    }
}

/// The [`WalletError::InsufficientBalance`] of a transaction from
/// `address` (text) moving `value` with up to `gas_limit × price` for gas.
fn insufficient(address: &str, account: &Account, value: u64, price: u64, gas_limit: u64) -> WalletError {
    let max_fee = gas_limit.saturating_mul(price);
    WalletError::InsufficientBalance {
        address: address.to_owned(),
        balance: account.balance,
        value,
        max_fee,
        total: value.saturating_add(max_fee),
    }
}

/// The gas limit of `call` before any dry run (docs/wallet.md, "Gas"):
/// the explicit one, else `default` lowered so that the prepayment fits
/// the balance next to the value; an error if even that does not fit.
/// `address` names the principal in the error.
pub fn gas_limit_for_balance(
    address: &str,
    account: &Account,
    call: &Call,
    default: u64,
    options: SendOptions,
) -> Result<u64, WalletError> {
    let value = call.value();
    let price = options.gas_price;
    // Without an explicit limit, never ask for more gas than the
    // balance can prepay next to the value: the dry run then tells
    // whether that is enough.
    let gas_limit = match options.gas_limit {
        Some(limit) => limit,
        None if price == 0 => default,
        None => default.min(account.balance.saturating_sub(value) / price),
    };
    let fits = |limit: u64| {
        limit.checked_mul(price).and_then(|fee| fee.checked_add(value)).is_some_and(|t| t <= account.balance)
    };
    if !fits(gas_limit) || (options.gas_limit.is_none() && gas_limit == 0 && price > 0) {
        let limit = options.gas_limit.unwrap_or(default);
        return Err(insufficient(address, account, value, price, limit));
    }
    Ok(gas_limit)
}

/// The gas limit the wallet sets for a transaction a dry run says uses
/// `gas_used`: 25% headroom plus 5 000, because state can change between
/// the dry run and inclusion (and a multisig's estimate is approximate).
/// Unused gas is refunded.
pub fn gas_with_margin(gas_used: u64) -> u64 {
    gas_used.saturating_add(gas_used / 4).saturating_add(5_000)
}

/// The [`WalletError::WouldFail`] for a dry run that did not succeed.
pub fn would_fail(check: &Check) -> WalletError {
    let reason = check.reason.clone().unwrap_or_else(|| "no reason given".into());
    let reason = match &check.revert_message {
        Some(m) if !reason.contains(m.as_str()) => format!("{reason}: {m}"),
        _ => reason,
    };
    let verb = if check.status == "failed" { "fail" } else { "be ineffective" };
    WalletError::WouldFail { verb: verb.into(), reason }
}

impl Session {
    /// Connects: asks the node for its status (network HRP, genesis id).
    pub fn connect(client: NodeClient) -> Result<Self, WalletError> {
        let status = client.status()?;
        let genesis = crate::key::parse_hex32(&status.genesis_id)
            .map_err(|e| WalletError::Other(format!("the node reported a bad genesis id: {e}")))?;
        let network = Network::new(&status.network, Bytes32::new(genesis))
            .map_err(|e| WalletError::Other(format!("the node reported a bad network: {e}")))?;
        Ok(Self { client, status, network })
    }

    /// The client.
    pub fn client(&self) -> &NodeClient {
        &self.client
    }

    /// The node's status at connection time.
    pub fn status(&self) -> &Status {
        &self.status
    }

    /// The node's network.
    pub fn network(&self) -> &Network {
        &self.network
    }

    /// Parses an address of this network.
    pub fn parse_address(&self, what: &str, text: &str) -> Result<Address, WalletError> {
        parse_address(&self.network, what, text)
    }

    /// The wallet template: `explicit` (a flag) if given, else the node's
    /// `templates.wallet` (see [`names_wallet_template`]).
    pub fn wallet_template(&self, explicit: Option<&str>) -> Result<Address, WalletError> {
        self.template("wallet template", names_wallet_template, explicit)?.ok_or(WalletError::NoWalletTemplate)
    }

    /// A genesis template the wallet needs (the wallet's, the multisig's):
    /// `explicit` (a flag) if given, else the first of the node's
    /// `templates` whose name `names` accepts; `None` if neither, so each
    /// caller says which template is missing in its own error. The address
    /// must be a template of this network; `what` names it in errors.
    pub fn template(
        &self,
        what: &str,
        names: fn(&str) -> bool,
        explicit: Option<&str>,
    ) -> Result<Option<Address>, WalletError> {
        let text = match explicit {
            Some(text) => text.to_owned(),
            None => match self.status.templates.iter().find(|(name, _)| names(name)) {
                Some((_, address)) => address.clone(),
                None => return Ok(None),
            },
        };
        let address = self.parse_address(what, &text)?;
        require_template(what, &text, &address)?;
        Ok(Some(address))
    }

    /// The account at `address`, or [`WalletError::UnknownAccount`].
    pub fn account(&self, address: &Address) -> Result<Account, WalletError> {
        let text = self.network.encode_address(address);
        self.client.account(&text)?.ok_or(WalletError::UnknownAccount(text))
    }

    /// The account of the principal `address` of a transaction, checked
    /// for what the transaction needs: for a self-spawn (`self_spawn`),
    /// coins and no program yet; otherwise a spawned program.
    pub fn principal_account(&self, address: &Address, self_spawn: bool) -> Result<Account, WalletError> {
        let text = self.network.encode_address(address);
        match (self_spawn, self.client.account(&text)?) {
            (true, None) => Err(WalletError::Unfunded(text)),
            (true, Some(a)) if a.template.is_some() => Err(WalletError::AlreadySpawned(text)),
            (false, None) => Err(WalletError::UnknownAccount(text)),
            (false, Some(a)) if a.template.is_none() => {
                Err(WalletError::NotSpawned { address: text, balance: a.balance })
            }
            (_, Some(a)) => Ok(a),
        }
    }

    /// The nonce of the principal's next transaction: `explicit` if given,
    /// else the relay's next nonce when it is above the committed one,
    /// else the committed nonce (docs/wallet.md, "Nonces").
    pub fn next_nonce(&self, address: &Address, account: &Account, explicit: Option<u64>) -> (u64, NonceSource) {
        match explicit {
            Some(n) => (n, NonceSource::Explicit),
            None => match self.client.relay_account(&self.network.encode_address(address)) {
                Some(relay) if relay.next_nonce > account.nonce => (relay.next_nonce, NonceSource::Relay),
                _ => (account.nonce, NonceSource::Committed),
            },
        }
    }

    /// Asks the executor for a dry run of `tx` (`None`: the node has no
    /// such endpoint).
    pub fn dry_run(&self, tx: &Transaction) -> Result<Option<Check>, WalletError> {
        Ok(self.client.check(&tx.encode())?)
    }

    /// The dry run's estimate mode for `tx`, which is not signed yet: run
    /// as if `verify` accepted ([`NodeClient::estimate`]).
    pub fn dry_run_estimate(&self, tx: &Transaction) -> Result<Option<Check>, WalletError> {
        Ok(self.client.estimate(&tx.encode())?)
    }

    /// Builds and signs `call` from `wallet`: checks the account, picks the
    /// nonce and gas limit, checks the balance and (if asked) dry-runs.
    pub fn prepare(&self, wallet: &Wallet, call: &Call, options: SendOptions) -> Result<Prepared, WalletError> {
        let address = wallet.address();
        let text = self.network.encode_address(&address);
        let account = self.principal_account(&address, matches!(call, Call::SelfSpawn))?;
        let (nonce, nonce_source) = self.next_nonce(&address, &account, options.nonce);
        let price = options.gas_price;
        let mut gas_limit = gas_limit_for_balance(&text, &account, call, call.default_gas_limit(), options)?;

        let params = |gas_limit| TxParams { nonce, gas_limit, gas_price: price };
        let mut check = None;
        // The dry run executes against the committed state, so only a
        // transaction with the committed nonce can pass it.
        if options.check && nonce == account.nonce {
            let probe = wallet.sign(call, params(gas_limit));
            check = self.dry_run(&probe)?;
            if let Some(c) = &check {
                if c.status != "succeeded" {
                    let reduced = options.gas_limit.is_none() && gas_limit < call.default_gas_limit();
                    let reason = c.reason.clone().unwrap_or_else(|| "no reason given".into());
                    if reduced && (reason.contains("gas") || c.status == "ineffective") {
                        return Err(insufficient(&text, &account, call.value(), price, call.default_gas_limit()));
                    }
                    return Err(would_fail(c));
                }
                if options.gas_limit.is_none() {
                    // Never above the limit that was checked.
                    gas_limit = gas_limit.min(gas_with_margin(c.gas_used));
                }
            }
        }

        let tx = wallet.sign(call, params(gas_limit));
        Ok(Prepared {
            id: hex::encode(tx.id().0),
            tx,
            nonce_source,
            check,
            created: call.created_address(&address),
            account,
        })
    }

    /// Submits a signed transaction to the relay; returns its id.
    pub fn submit_transaction(&self, tx: &Transaction) -> Result<String, WalletError> {
        match self.client.submit(&tx.encode()) {
            Ok(id) => Ok(id),
            // An executor (or anything else) without the relay's endpoint.
            Err(ClientError::Api { status: 404 | 405, .. }) => Err(WalletError::Other(format!(
                "the node at {} does not accept transactions (POST /v1/transactions): point --node at a relay",
                self.client.url()
            ))),
            Err(ClientError::Api { code, message, .. }) => {
                let hint = hint(&code).to_owned();
                Err(WalletError::Rejected { code, message, hint })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Submits a prepared transaction to the relay; returns its id.
    pub fn submit(&self, prepared: &Prepared) -> Result<String, WalletError> {
        self.submit_transaction(&prepared.tx)
    }

    /// [`Session::prepare`] and [`Session::submit`]; with an automatic
    /// nonce, a relay answer that the nonce is taken by a pending
    /// transaction (`underpriced`, `duplicate`, `already_bundled`) moves on
    /// to the next nonce, at most [`MAX_NONCE_BUMPS`] times (the relay's
    /// per-account cap), so consecutive commands work without `--wait` even
    /// when the relay does not report pending nonces. Returns the
    /// transaction actually accepted and the relay's id.
    pub fn send(&self, wallet: &Wallet, call: &Call, options: SendOptions) -> Result<(Prepared, String), WalletError> {
        let mut prepared = self.prepare(wallet, call, options)?;
        let mut bumps = 0;
        loop {
            match self.submit(&prepared) {
                Ok(id) => return Ok((prepared, id)),
                Err(WalletError::Rejected { code, .. })
                    if options.nonce.is_none()
                        && bumps < MAX_NONCE_BUMPS
                        && matches!(code.as_str(), "underpriced" | "duplicate" | "already_bundled") =>
                {
                    bumps += 1;
                    let mut body = prepared.tx.body.clone();
                    body.nonce = body.nonce.saturating_add(1);
                    prepared.tx = sign_single(wallet.key().signing_key(), wallet.network(), body);
                    prepared.id = hex::encode(prepared.tx.id().0);
                    prepared.nonce_source = NonceSource::Relay;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Polls `GET /v1/transactions/{id}` every `poll` until the transaction
    /// is in a block (its receipt), dropped, or `timeout` passes. An
    /// unreachable node or a 5xx answer is retried (a restarting executor
    /// must not end the wait); other errors end it.
    pub fn wait(&self, id: &str, timeout: Duration, poll: Duration) -> Result<Receipt, WalletError> {
        let start = Instant::now();
        loop {
            let last = match self.client.transaction(id) {
                Ok(TxLookup::Included(receipt)) => return Ok(receipt),
                Ok(TxLookup::Dropped { reason, message }) => {
                    return Err(WalletError::Dropped { id: id.to_owned(), reason, message })
                }
                Ok(TxLookup::Pending(_)) => "pending".to_owned(),
                Ok(TxLookup::Unknown) => "unknown".to_owned(),
                // A node restarting (or its executor behind the relay) is
                // transient: keep polling until the timeout.
                Err(e @ ClientError::Unreachable { .. }) => e.to_string(),
                Err(e @ ClientError::Api { status: 500.., .. }) => e.to_string(),
                Err(e) => return Err(e.into()),
            };
            if start.elapsed() >= timeout {
                return Err(WalletError::Timeout { id: id.to_owned(), seconds: timeout.as_secs(), last });
            }
            std::thread::sleep(poll);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_cover_retryable_codes() {
        assert!(hint("underpriced").contains("pending"));
        assert!(hint("nonce_too_low").contains("--nonce"));
        assert_eq!(hint("malformed"), "");
    }

    #[test]
    fn template_parsing() {
        let net = Network::test(Bytes32::ZERO);
        let t = athena_transaction::template_address(b"x");
        let (hrp, parsed) = parse_template_any("wallet template", &net.encode_address(&t)).unwrap();
        assert_eq!((hrp.as_str(), parsed), ("atest", t));
        let program = net.encode_address(&Address::ZERO);
        assert!(parse_template_any("wallet template", &program).unwrap_err().to_string().contains("not a template"));
        assert!(parse_template_any("wallet template", "junk").is_err());
    }
}

//! The wallet's flow against a fake node: what is sent (decoded back and
//! signature-checked), nonces, gas, and each error a user can meet.

use athena_interface::{Address, Bytes32};
use athena_transaction::{decode, program_address, selector, template_address, verify_single, Network};
use athena_wallet::testing::{FakeNetwork, Reply};
use athena_wallet::{Call, Key, NodeClient, SendOptions, Session, Wallet, WalletError};
use std::time::Duration;

fn network() -> Network {
    Network::test(Bytes32::new([3; 32]))
}

fn template() -> Address {
    template_address(b"wallet code")
}

struct Fixture {
    fake: FakeNetwork,
    session: Session,
    wallet: Wallet,
}

fn fixture(account: Option<(u64, u64, bool)>) -> Fixture {
    let fake = FakeNetwork::start(network(), template());
    let session = Session::connect(NodeClient::new(fake.url(), Duration::from_secs(5))).unwrap();
    let template = session.wallet_template(None).unwrap();
    let wallet = Wallet::new(Key::from_seed([7; 32]), template, session.network().clone());
    if let Some((balance, nonce, spawned)) = account {
        let address = wallet.address();
        fake.with(|s| s.accounts.insert(address, (balance, nonce, spawned.then_some(template))));
    }
    Fixture { fake, session, wallet }
}

fn other() -> Address {
    program_address(&template(), &[9; 32])
}

#[test]
fn status_gives_network_and_template() {
    let f = fixture(None);
    assert_eq!(f.session.network(), &network());
    assert_eq!(f.session.wallet_template(None).unwrap(), template());
    let explicit = network().encode_address(&template_address(b"other"));
    assert_eq!(f.session.wallet_template(Some(&explicit)).unwrap(), template_address(b"other"));
    let program = network().encode_address(&other());
    assert!(f.session.wallet_template(Some(&program)).unwrap_err().to_string().contains("not a template"));
    f.fake.with(|s| s.templates.clear());
    let bare = Session::connect(NodeClient::new(f.fake.url(), Duration::from_secs(5))).unwrap();
    assert!(matches!(bare.wallet_template(None), Err(WalletError::NoWalletTemplate)));
}

#[test]
fn spend_happy_path_signed_and_estimated() {
    let f = fixture(Some((1_000_000, 4, true)));
    let call = Call::Spend { to: other(), amount: 500 };
    let prepared = f.session.prepare(&f.wallet, &call, SendOptions::default()).unwrap();
    // Gas from the dry run (40 000 used): + 25% + 5 000.
    assert_eq!(prepared.tx.body.gas_limit, 55_000);
    assert_eq!(prepared.tx.body.nonce, 4);
    let id = f.session.submit(&prepared).unwrap();
    assert_eq!(id, prepared.id);
    let sent = f.fake.with(|s| s.submitted.clone());
    assert_eq!(sent.len(), 1);
    let tx = decode(&sent[0]).unwrap();
    assert!(verify_single(&f.wallet.key().verifying_key(), &network(), &tx));
    assert_eq!(tx.body.principal, f.wallet.address());
    assert_eq!(&tx.body.payload[..4], &selector("spend"));
    // The dry run got a transaction with the default limit.
    let checked = f.fake.node.posted("/v1/transactions/check");
    assert_eq!(decode(&checked[0]).unwrap().body.gas_limit, 100_000);
    let receipt = f.session.wait(&id, Duration::from_secs(5), Duration::from_millis(10)).unwrap();
    assert_eq!((receipt.status.as_str(), receipt.height, receipt.gas_used), ("succeeded", 6, 42_000));
}

#[test]
fn explicit_options_win() {
    let f = fixture(Some((1_000_000, 4, true)));
    let options = SendOptions { gas_limit: Some(77_000), gas_price: 2, nonce: Some(9), check: true };
    let p = f.session.prepare(&f.wallet, &Call::Spend { to: other(), amount: 1 }, options).unwrap();
    assert_eq!((p.tx.body.gas_limit, p.tx.body.gas_price, p.tx.body.nonce), (77_000, 2, 9));
    // Nonce 9 is not the committed one: no dry run.
    assert!(p.check.is_none());
    assert!(f.fake.node.posted("/v1/transactions/check").is_empty());
}

#[test]
fn relay_nonce_counts_pending_transactions() {
    let f = fixture(Some((1_000_000, 4, true)));
    let address = f.wallet.address();
    f.fake.with(|s| s.relay_next_nonce.insert(address, 6));
    let p = f.session.prepare(&f.wallet, &Call::Spend { to: other(), amount: 1 }, SendOptions::default()).unwrap();
    assert_eq!(p.tx.body.nonce, 6);
    assert_eq!(p.nonce_source, athena_wallet::session::NonceSource::Relay);
    // No dry run possible (the executor would say "nonce too high"): the
    // static default limit is used.
    assert_eq!(p.tx.body.gas_limit, 100_000);
}

#[test]
fn self_spawn() {
    let f = fixture(Some((1_000_000, 0, false)));
    let p = f.session.prepare(&f.wallet, &Call::SelfSpawn, SendOptions::default()).unwrap();
    assert_eq!(p.tx.body.template, Some(template()));
    assert_eq!(p.created, Some(f.wallet.address()));
    assert_eq!(&p.tx.body.payload[4..], &f.wallet.key().public_bytes());

    let spawned = fixture(Some((1_000_000, 1, true)));
    let err = spawned.session.prepare(&spawned.wallet, &Call::SelfSpawn, SendOptions::default()).unwrap_err();
    assert!(err.to_string().contains("already spawned"), "{err}");

    let unfunded = fixture(None);
    let err = unfunded.session.prepare(&unfunded.wallet, &Call::SelfSpawn, SendOptions::default()).unwrap_err();
    assert!(err.to_string().contains("has no coins"), "{err}");
}

#[test]
fn account_errors() {
    let f = fixture(None);
    let err =
        f.session.prepare(&f.wallet, &Call::Spend { to: other(), amount: 1 }, SendOptions::default()).unwrap_err();
    assert!(matches!(err, WalletError::UnknownAccount(_)));
    assert!(err.to_string().starts_with("unknown account atest1"), "{err}");

    let f = fixture(Some((500, 0, false)));
    let err =
        f.session.prepare(&f.wallet, &Call::Spend { to: other(), amount: 1 }, SendOptions::default()).unwrap_err();
    assert!(err.to_string().contains("not spawned yet (it holds 500 coins)"), "{err}");
}

#[test]
fn insufficient_balance() {
    let f = fixture(Some((100_000, 1, true)));
    // Value above the balance.
    let err = f
        .session
        .prepare(&f.wallet, &Call::Spend { to: other(), amount: 100_001 }, SendOptions::default())
        .unwrap_err();
    assert!(matches!(err, WalletError::InsufficientBalance { .. }), "{err}");
    assert!(err.to_string().starts_with("insufficient balance:"), "{err}");
    // Explicit gas that the balance cannot prepay next to the value.
    let options = SendOptions { gas_limit: Some(60_000), ..SendOptions::default() };
    let err = f.session.prepare(&f.wallet, &Call::Spend { to: other(), amount: 50_000 }, options).unwrap_err();
    assert!(err.to_string().contains("needs 50000 plus up to 60000 for gas (110000 in total)"), "{err}");
    // Automatic gas shrinks to what the balance allows; the dry run says
    // that is enough (40 000 used), so it goes through.
    let p = f.session.prepare(&f.wallet, &Call::Spend { to: other(), amount: 50_000 }, SendOptions::default()).unwrap();
    assert_eq!(p.tx.body.gas_limit, 50_000);
    let checked = f.fake.node.posted("/v1/transactions/check");
    assert_eq!(decode(checked.last().unwrap()).unwrap().body.gas_limit, 50_000);
    // ... but when the shrunk limit runs out of gas in the dry run, the
    // answer is "insufficient balance", not an out-of-gas puzzle.
    f.fake.with(|s| {
        s.check = Some(serde_json::json!({ "ok": true, "status": "failed", "reason": "payload failed: out_of_gas", "gas_used": 50_000 }))
    });
    let err =
        f.session.prepare(&f.wallet, &Call::Spend { to: other(), amount: 50_000 }, SendOptions::default()).unwrap_err();
    assert!(matches!(err, WalletError::InsufficientBalance { .. }), "{err}");
}

#[test]
fn dry_run_failures_stop_before_sending() {
    let f = fixture(Some((10_000_000, 1, true)));
    f.fake.with(|s| {
        s.check = Some(serde_json::json!({
            "ok": true, "status": "failed", "reason": "payload failed: revert",
            "revert_message": "counter: not allowed", "gas_used": 30_000,
        }))
    });
    let call = Call::Proxy { to: other(), payload: vec![1, 2, 3, 4], value: 0 };
    let err = f.session.prepare(&f.wallet, &call, SendOptions::default()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("would fail: payload failed: revert: counter: not allowed"), "{text}");
    assert!(text.contains("--no-check"), "{text}");
    // --no-check skips it.
    let options = SendOptions { check: false, ..SendOptions::default() };
    let p = f.session.prepare(&f.wallet, &call, options).unwrap();
    assert_eq!(p.tx.body.gas_limit, call.default_gas_limit());
    // A node without dry runs: the default limit, no error.
    f.fake.with(|s| s.check = None);
    let p = f.session.prepare(&f.wallet, &call, SendOptions::default()).unwrap();
    assert!(p.check.is_none());
}

#[test]
fn relay_rejection_carries_its_message() {
    let f = fixture(Some((1_000_000, 2, true)));
    f.fake
        .with(|s| s.reject = Some(Reply::error(422, "nonce_too_low", "nonce too low: 1 < the account's next nonce 2")));
    let options = SendOptions { nonce: Some(1), ..SendOptions::default() };
    let p = f.session.prepare(&f.wallet, &Call::Spend { to: other(), amount: 1 }, options).unwrap();
    let err = f.session.submit(&p).unwrap_err().to_string();
    assert!(
        err.starts_with(
            "the relay rejected the transaction: nonce too low: 1 < the account's next nonce 2 [nonce_too_low]"
        ),
        "{err}"
    );
    assert!(err.contains("leave out --nonce"), "{err}");
}

#[test]
fn unreachable_node() {
    // A port nobody listens on: bind, take the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}");
    let err = Session::connect(NodeClient::new(&url, Duration::from_secs(2))).unwrap_err().to_string();
    assert!(err.starts_with(&format!("cannot reach the node at {url}")), "{err}");
    assert!(err.contains("ATHENA_NODE"), "{err}");
}

#[test]
fn wait_times_out_on_unknown() {
    let f = fixture(Some((1_000_000, 2, true)));
    let err = f.session.wait(&"ab".repeat(32), Duration::from_millis(50), Duration::from_millis(10)).unwrap_err();
    assert!(err.to_string().contains("was not included within"), "{err}");
}

#[test]
fn wait_rides_out_a_node_outage() {
    // The node goes away after connecting: the wait keeps polling and
    // reports the last error at the deadline.
    let outage = FakeNetwork::start(network(), template());
    let session = Session::connect(NodeClient::new(outage.url(), Duration::from_secs(5))).unwrap();
    drop(outage);
    let err = session.wait(&"ab".repeat(32), Duration::from_millis(100), Duration::from_millis(10)).unwrap_err();
    assert!(matches!(err, WalletError::Timeout { .. }), "{err}");
    assert!(err.to_string().contains("last status: cannot reach the node"), "{err}");

    // A relay whose executor is down (503), then back with the receipt.
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = std::sync::Arc::clone(&calls);
    let node = athena_wallet::testing::FakeNode::start(move |r| {
        if r.path == "/v1/status" {
            return Reply::json(serde_json::json!({
                "height": 1, "state_root": "00".repeat(32), "network": "atest", "genesis_id": "03".repeat(32),
            }));
        }
        if seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < 3 {
            return Reply::error(503, "executor_unavailable", "executor down");
        }
        Reply::json(serde_json::json!({ "id": "ab", "status": "included", "receipt": {
            "id": "ab", "height": 9, "status": "succeeded", "gas_used": 1, "fee": 1, "output": "" } }))
    });
    let session = Session::connect(NodeClient::new(node.url(), Duration::from_secs(5))).unwrap();
    let receipt = session.wait(&"ab".repeat(32), Duration::from_secs(5), Duration::from_millis(10)).unwrap();
    assert_eq!(receipt.height, 9);
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 4);
}

#[test]
fn send_moves_past_pending_nonces() {
    let f = fixture(Some((10_000_000, 4, true)));
    let call = Call::Spend { to: other(), amount: 1 };
    let (first, _) = f.session.send(&f.wallet, &call, SendOptions::default()).unwrap();
    assert_eq!(first.tx.body.nonce, 4);
    // The same command again: same transaction (duplicate), then nonce 5.
    let (second, id) = f.session.send(&f.wallet, &call, SendOptions::default()).unwrap();
    assert_eq!(second.tx.body.nonce, 5);
    assert_eq!(second.nonce_source, athena_wallet::session::NonceSource::Relay);
    assert_eq!(id, second.id);
    let other_call = Call::Spend { to: other(), amount: 2 };
    let (third, _) = f.session.send(&f.wallet, &other_call, SendOptions::default()).unwrap();
    assert_eq!(third.tx.body.nonce, 6);
    let sent = f.fake.with(|s| s.submitted.clone());
    assert_eq!(sent.len(), 3);
    for bytes in &sent {
        assert!(verify_single(&f.wallet.key().verifying_key(), &network(), &decode(bytes).unwrap()));
    }
    // An explicit nonce is never changed.
    let options = SendOptions { nonce: Some(4), ..SendOptions::default() };
    let err = f.session.send(&f.wallet, &other_call, options).unwrap_err();
    assert!(err.to_string().contains("[underpriced]"), "{err}");
}

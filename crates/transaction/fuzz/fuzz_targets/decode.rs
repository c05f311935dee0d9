//! Arbitrary bytes as an encoded transaction: `decode` must never panic, and
//! since the encoding is canonical (docs/transactions.md), whatever decodes
//! must re-encode to exactly the input bytes, be within the limits, have the
//! input's hash as its id, and survive signature checking and payload
//! splitting without panicking.
#![no_main]

use athena_transaction::tx::{MAX_TX_SIZE, SELECTOR_LEN};
use athena_transaction::{decode, split_payload, verify_single, Bytes32, DecodeError, Network};
use ed25519_dalek::SigningKey;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let tx = match decode(data) {
        Ok(tx) => tx,
        Err(DecodeError::TooLarge { size, max }) => {
            assert_eq!((size, max), (data.len(), MAX_TX_SIZE));
            assert!(data.len() > MAX_TX_SIZE);
            return;
        }
        Err(_) => return,
    };
    assert_eq!(tx.encode(), data, "decoding is not canonical: {tx:?}");
    assert_eq!(tx.check_limits(), Ok(()), "decode accepted a transaction over the limits");
    assert_eq!(tx.id(), Bytes32(*blake3::hash(data).as_bytes()));
    // The signed message ends with the encoding minus the authenticator.
    let network = Network::test(Bytes32([7; 32]));
    let body = tx.body.encode();
    assert!(data.starts_with(&body) && tx.signing_bytes(&network).ends_with(&body));
    let key = SigningKey::from_bytes(&[3; 32]).verifying_key();
    let _ = verify_single(&key, &network, &tx);
    match split_payload(&tx.body.payload) {
        Some((_, args)) => assert_eq!(args.len() + SELECTOR_LEN, tx.body.payload.len()),
        None => assert!(tx.body.payload.len() < SELECTOR_LEN),
    }
});

//! Arbitrary strings as bech32 addresses: `parse_address_any` must never
//! panic, and an accepted string must be the canonical display of what it
//! parsed to (up to case: bech32 allows an all-uppercase string), for a
//! network with the parsed HRP, which `Network::parse_address` accepts too.
#![no_main]

use athena_transaction::{parse_address_any, Bytes32, Network};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let Ok((hrp, address)) = parse_address_any(s) else { return };
    let network = Network::new(&hrp, Bytes32::ZERO).expect("a parsed HRP is a valid network HRP");
    let shown = network.encode_address(&address);
    assert_eq!(shown, s.to_lowercase(), "not the canonical form");
    assert_eq!(network.display(&address).to_string(), shown);
    assert_eq!(network.parse_address(s), Ok(address));
    assert_eq!(parse_address_any(&shown), Ok((hrp, address)));
});

//! Bech32 strings with *valid* checksums, built from the input, so that the
//! address parser is exercised past the checksum (which the byte-level
//! `address` target almost never gets through), plus edits of real
//! addresses whose rejection bech32 guarantees.
//!
//! The first input byte picks the HRP length (1-8, from the HRP alphabet
//! including `1` and `-`) and one of four shapes; the rest is the material:
//!
//! * `Address`: 24 bytes encoded with `encode_address` parse back to the same
//!   address and HRP, in lower or upper case, under `Network::parse_address`
//!   for that HRP and no other.
//! * `Substitutions`: one to four characters of the data part of such an
//!   address replaced by other bech32 characters. BIP-173 guarantees the
//!   checksum catches any error in at most four characters, so the parser
//!   must answer `BadChecksum`.
//! * `FreeData`: 0-60 arbitrary 5-bit groups under a valid checksum. The
//!   parser accepts exactly the 39-group, zero-padding strings (the byte
//!   encoding of 24 bytes), returns those bytes, and otherwise names the
//!   reason (`WrongLength` with the bit count, or `InvalidPadding`).
//! * `Edits`: deletions, insertions, swaps and case changes anywhere in an
//!   encoded address. Whatever the parser accepts must be the canonical
//!   encoding of what it returns.
#![no_main]

use athena_transaction::{parse_address_any, Address, AddressError, Bytes32, Network};
use bech32::primitives::iter::Fe32IterExt;
use bech32::{Bech32, Fe32, Hrp};
use libfuzzer_sys::fuzz_target;

/// Characters a bech32 HRP may use here (lowercase, so `Network::new` takes
/// it); `1` is allowed because the separator is the *last* `1`.
const HRP_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789-1";
/// The bech32 data alphabet, in value order.
const DATA_ALPHABET: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
/// 24 bytes are 192 bits, so 39 groups of 5 with 3 padding bits.
const ADDRESS_GROUPS: usize = 39;
/// Data part plus the 6-character checksum.
const TAIL: usize = ADDRESS_GROUPS + 6;

fuzz_target!(|data: &[u8]| {
    let Some((&shape, rest)) = data.split_first() else { return };
    let hrp_len = 1 + usize::from(shape & 7);
    let Some((hrp_src, rest)) = rest.split_at_checked(hrp_len) else { return };
    let hrp_text: String =
        hrp_src.iter().map(|&b| char::from(HRP_ALPHABET[usize::from(b) % HRP_ALPHABET.len()])).collect();
    let network = Network::new(&hrp_text, Bytes32::ZERO).expect("the HRP alphabet is valid lowercase bech32");
    match shape >> 3 & 3 {
        0 => address(&network, rest),
        1 => substitutions(&network, rest),
        2 => free_data(&hrp_text, rest),
        _ => edits(rest, &network),
    }
});

/// The first 24 bytes of `rest` as an address, and the rest after them.
fn split_address(rest: &[u8]) -> Option<(Address, &[u8])> {
    let (bytes, rest) = rest.split_first_chunk::<24>()?;
    Some((Address(*bytes), rest))
}

fn address(network: &Network, rest: &[u8]) {
    let Some((address, rest)) = split_address(rest) else { return };
    let text = network.encode_address(&address);
    assert_eq!(text.len(), network.hrp().len() + 1 + TAIL);
    assert_eq!(parse_address_any(&text), Ok((network.hrp().to_owned(), address)));
    assert_eq!(parse_address_any(&text.to_uppercase()), Ok((network.hrp().to_owned(), address)));
    assert_eq!(network.parse_address(&text), Ok(address));
    // Another network (an HRP one character longer) must refuse it.
    let other_hrp = format!("{}{}", network.hrp(), char::from(HRP_ALPHABET[usize::from(*rest.first().unwrap_or(&0)) % 26]));
    let other = Network::new(&other_hrp, Bytes32::ZERO).expect("still a valid HRP");
    assert!(matches!(other.parse_address(&text), Err(AddressError::WrongHrp { .. })));
}

fn substitutions(network: &Network, rest: &[u8]) {
    let Some((address, rest)) = split_address(rest) else { return };
    let text = network.encode_address(&address);
    let tail_start = text.len() - TAIL;
    let mut bytes = text.clone().into_bytes();
    let mut changed = Vec::new();
    for pair in rest.chunks_exact(2).take(4) {
        let at = tail_start + usize::from(pair[0]) % TAIL;
        if changed.contains(&at) {
            continue;
        }
        let new = DATA_ALPHABET[usize::from(pair[1]) % DATA_ALPHABET.len()];
        if new != bytes[at] {
            bytes[at] = new;
            changed.push(at);
        }
    }
    if changed.is_empty() {
        return;
    }
    let edited = String::from_utf8(bytes).expect("ASCII in, ASCII out");
    assert_eq!(parse_address_any(&edited), Err(AddressError::BadChecksum), "{text} -> {edited}");
}

fn free_data(hrp_text: &str, rest: &[u8]) {
    let hrp = Hrp::parse(hrp_text).expect("the HRP alphabet is valid");
    let groups: Vec<Fe32> = rest
        .iter()
        .take(60)
        .map(|&b| Fe32::try_from(b & 31).expect("five bits are a field element"))
        .collect();
    let text: String = groups.iter().copied().with_checksum::<Bech32>(&hrp).chars().collect();
    let parsed = parse_address_any(&text);
    if groups.len() != ADDRESS_GROUPS {
        assert_eq!(parsed, Err(AddressError::WrongLength { actual_bits: groups.len() * 5 }), "{text}");
        return;
    }
    let last = groups.last().map_or(0, |fe| fe.to_u8());
    if last & 0b111 != 0 {
        assert_eq!(parsed, Err(AddressError::InvalidPadding), "{text}");
        return;
    }
    let bytes: Vec<u8> = groups.iter().copied().fes_to_bytes().collect();
    let address = Address::try_from(&bytes[..24]).expect("39 groups hold 24 bytes");
    assert_eq!(parsed, Ok((hrp_text.to_owned(), address)), "{text}");
}

fn edits(rest: &[u8], network: &Network) {
    let Some((address, rest)) = split_address(rest) else { return };
    let mut chars: Vec<u8> = network.encode_address(&address).into_bytes();
    for edit in rest.chunks_exact(3).take(8) {
        let at = usize::from(edit[1]) % (chars.len() + 1);
        let c = edit[2];
        match edit[0] % 4 {
            0 if at < chars.len() => {
                chars.remove(at);
            }
            1 => chars.insert(at, if c.is_ascii_graphic() { c } else { DATA_ALPHABET[usize::from(c) % 32] }),
            2 if at + 1 < chars.len() => chars.swap(at, at + 1),
            3 if at < chars.len() => chars[at] = chars[at].to_ascii_uppercase(),
            _ => {}
        }
    }
    let Ok(text) = String::from_utf8(chars) else { return };
    if let Ok((hrp, parsed)) = parse_address_any(&text) {
        let parsed_network = Network::new(&hrp, Bytes32::ZERO).expect("a parsed HRP is a valid network HRP");
        assert_eq!(parsed_network.encode_address(&parsed), text.to_lowercase(), "not the canonical form");
    }
}

//! Address derivation and bech32 display.
//!
//! Athena has two kinds of on-chain identity, both 24-byte [`Address`]es:
//!
//! * a **template** is deployed code; its address is a hash of that code, so
//!   deploying the same code twice yields the same template;
//! * a **program** (a *principal*, e.g. a wallet) is an instance of a template
//!   with its own state; its address is a hash of the template address and the
//!   SCALE-encoded spawn arguments, so a wallet's address is known — and can
//!   receive funds — before the wallet is spawned.
//!
//! The first four bytes say which kind an address is ([`AddressKind`]), so a
//! node can reject e.g. "spawn from a program" or "send to a template" with a
//! prefix check and no state lookup. See `docs/addresses.md` for the rules and
//! frozen test vectors.

use std::fmt;

use athena_interface::{Address, Bytes32};
use bech32::primitives::decode::{CheckedHrpstring, CheckedHrpstringError, ChecksumError};
use bech32::{Bech32, Hrp};

/// Prefix of every program (principal) address: four zero bytes.
///
/// Zero makes the common case (accounts users send to) the "default" kind and
/// keeps the 20 hash bytes — the same width as widely used account hashes —
/// as the whole of the identity.
pub const PROGRAM_PREFIX: [u8; 4] = [0, 0, 0, 0];

/// Prefix of every template address: big-endian `1`.
///
/// Non-zero so templates can never collide with programs; read as a
/// big-endian `u32` "kind" it leaves `2..=u32::MAX` free for future kinds
/// (e.g. system accounts) without another format change.
pub const TEMPLATE_PREFIX: [u8; 4] = [0, 0, 0, 1];

/// Number of hash bytes after the 4-byte kind prefix.
pub const ADDRESS_HASH_LEN: usize = 20;

/// blake3 `derive_key` context for template addresses.
///
/// blake3's key-derivation mode is its built-in domain separation: a hash
/// under one context can never equal a hash under another, so a code blob can
/// never be confused with spawn arguments or any other hashed object.
pub const TEMPLATE_CONTEXT: &str = "athena 2026-11 template address v1";

/// blake3 `derive_key` context for program (principal) addresses.
pub const PROGRAM_CONTEXT: &str = "athena 2026-11 program address v1";

/// Human-readable part for the main network (`athena1...`).
pub const HRP_MAIN: &str = "athena";

/// Human-readable part for test networks (`atest1...`); distinct from main so
/// a test address pasted into a main-net wallet is rejected, not used.
pub const HRP_TEST: &str = "atest";

/// Number of bech32 data characters for a 24-byte address (192 bits → 39
/// five-bit groups with 3 zero padding bits).
const ADDRESS_FE32_LEN: usize = 39;

/// What an address identifies, read from its first four bytes.
///
/// Knowing the kind without a state lookup lets validation reject malformed
/// transactions (e.g. a "template" field holding a program) cheaply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressKind {
    /// Starts with [`PROGRAM_PREFIX`]: a spawned (or spawnable) program.
    Program,
    /// Starts with [`TEMPLATE_PREFIX`]: deployed code.
    Template,
    /// Any other prefix; reserved for future kinds and invalid today.
    Unknown,
}

/// Classify an address by its prefix. See [`AddressKind`].
pub fn address_kind(address: &Address) -> AddressKind {
    match address.0[..4] {
        [0, 0, 0, 0] => AddressKind::Program,
        [0, 0, 0, 1] => AddressKind::Template,
        _ => AddressKind::Unknown,
    }
}

fn with_prefix(prefix: [u8; 4], hash: &blake3::Hash) -> Address {
    let mut out = [0u8; 24];
    out[..4].copy_from_slice(&prefix);
    out[4..].copy_from_slice(&hash.as_bytes()[..ADDRESS_HASH_LEN]);
    Address(out)
}

/// Address of the template holding `code`:
/// `TEMPLATE_PREFIX || blake3_derive_key(TEMPLATE_CONTEXT, code)[..20]`.
///
/// Content addressing makes deployment idempotent and lets anyone verify that
/// a template address really names the code they audited.
pub fn template_address(code: &[u8]) -> Address {
    let mut h = blake3::Hasher::new_derive_key(TEMPLATE_CONTEXT);
    h.update(code);
    with_prefix(TEMPLATE_PREFIX, &h.finalize())
}

/// Address of the program spawned from `template` with SCALE-encoded
/// `spawn_args`:
/// `PROGRAM_PREFIX || blake3_derive_key(PROGRAM_CONTEXT, template || spawn_args)[..20]`.
///
/// The template address has a fixed 24-byte length, so the concatenation is
/// unambiguous. Being a pure function of public inputs, a wallet's address
/// can be computed (and funded) before its self-spawn transaction exists, and
/// the spawn can be checked to produce exactly that address.
pub fn program_address(template: &Address, spawn_args: &[u8]) -> Address {
    let mut h = blake3::Hasher::new_derive_key(PROGRAM_CONTEXT);
    h.update(template.as_bytes());
    h.update(spawn_args);
    with_prefix(PROGRAM_PREFIX, &h.finalize())
}

/// Why a [`Network`] could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetworkError {
    /// The HRP is not a valid lowercase bech32 human-readable part.
    #[error("invalid bech32 human-readable part {0:?}")]
    InvalidHrp(String),
}

/// A network identity: its address HRP and its 32-byte genesis id.
///
/// The HRP makes addresses visibly network-specific; the genesis id is mixed
/// into every signed message so a transaction cannot be replayed across
/// networks (see [`crate::tx`]). Carrying both in one value keeps display and
/// signing from disagreeing about which network is meant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Network {
    hrp: Hrp,
    genesis_id: Bytes32,
}

impl Network {
    /// A network with a custom HRP (must be lowercase, valid bech32 HRP).
    ///
    /// Lowercase only, because addresses are always displayed in lowercase and
    /// comparison of a parsed HRP is then a plain equality.
    pub fn new(hrp: &str, genesis_id: Bytes32) -> Result<Self, NetworkError> {
        let parsed = Hrp::parse(hrp).map_err(|_| NetworkError::InvalidHrp(hrp.to_owned()))?;
        if hrp.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(NetworkError::InvalidHrp(hrp.to_owned()));
        }
        Ok(Self { hrp: parsed, genesis_id })
    }

    /// The main network ([`HRP_MAIN`]) with the given genesis id.
    pub fn main(genesis_id: Bytes32) -> Self {
        Self { hrp: Hrp::parse_unchecked(HRP_MAIN), genesis_id }
    }

    /// A test network ([`HRP_TEST`]); test networks differ by genesis id.
    pub fn test(genesis_id: Bytes32) -> Self {
        Self { hrp: Hrp::parse_unchecked(HRP_TEST), genesis_id }
    }

    /// The human-readable part addresses on this network start with.
    pub fn hrp(&self) -> &str {
        self.hrp.as_str()
    }

    /// The genesis id bound into every signature on this network.
    pub fn genesis_id(&self) -> &Bytes32 {
        &self.genesis_id
    }

    /// Render `address` as lowercase bech32 (BIP-173) with this network's HRP.
    ///
    /// Classic bech32 (not bech32m) is used: bech32's known weakness concerns
    /// strings whose length may change, and Athena addresses have a fixed
    /// length that [`Network::parse_address`] enforces.
    pub fn encode_address(&self, address: &Address) -> String {
        // Cannot fail: the HRP is valid and 24 bytes are far below the
        // 90-character bech32 limit.
        bech32::encode_lower::<Bech32>(self.hrp, address.as_bytes()).expect("24-byte address always encodes")
    }

    /// A [`fmt::Display`] adapter, for use in `format!` without allocating.
    pub fn display<'a>(&'a self, address: &'a Address) -> DisplayAddress<'a> {
        DisplayAddress { network: self, address }
    }

    /// Parse a bech32 address, requiring this network's HRP.
    ///
    /// Strict on purpose: a wrong network, a typo (checksum), a wrong length or
    /// non-zero padding is an error, never a silently different address.
    pub fn parse_address(&self, s: &str) -> Result<Address, AddressError> {
        let (hrp, address) = parse_address_any(s)?;
        if hrp != self.hrp() {
            return Err(AddressError::WrongHrp { expected: self.hrp().to_owned(), found: hrp });
        }
        Ok(address)
    }
}

/// Displays an address in bech32 for a given network; see [`Network::display`].
#[derive(Debug, Clone, Copy)]
pub struct DisplayAddress<'a> {
    network: &'a Network,
    address: &'a Address,
}

impl fmt::Display for DisplayAddress<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        bech32::encode_lower_to_fmt::<Bech32, _>(f, self.network.hrp, self.address.as_bytes()).map_err(|_| fmt::Error)
    }
}

/// Why a bech32 address string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// Well-formed, but for another network.
    #[error("address is for network {found:?}, expected {expected:?}")]
    WrongHrp {
        /// HRP of the network we parse for.
        expected: String,
        /// HRP found in the string (lowercased).
        found: String,
    },
    /// The checksum does not match: the string was mistyped or corrupted.
    #[error("bad bech32 checksum")]
    BadChecksum,
    /// The data part does not hold exactly 24 bytes.
    #[error("address has wrong length: expected 24 bytes, got {actual_bits} bits")]
    WrongLength {
        /// Number of data bits present (5 per character, excluding checksum).
        actual_bits: usize,
    },
    /// The unused bits after the 24 bytes are not zero, so the string is not
    /// the canonical encoding of any address.
    #[error("non-zero padding bits in address")]
    InvalidPadding,
    /// Not a bech32 string at all (missing separator, bad character, mixed
    /// case, invalid HRP...).
    #[error("malformed bech32 string: {0}")]
    Malformed(String),
}

/// Parse a bech32 address of any network, returning the lowercase HRP.
///
/// Useful for tools that must first discover which network an address names;
/// nodes should use [`Network::parse_address`].
pub fn parse_address_any(s: &str) -> Result<(String, Address), AddressError> {
    let checked = CheckedHrpstring::new::<Bech32>(s).map_err(|e| match e {
        CheckedHrpstringError::Checksum(ChecksumError::InvalidResidue) => AddressError::BadChecksum,
        // Too short to hold a checksum, or over the bech32 length limit.
        CheckedHrpstringError::Checksum(other) => AddressError::Malformed(other.to_string()),
        other => AddressError::Malformed(other.to_string()),
    })?;
    let fe_len = checked.data_part_ascii_no_checksum().len();
    if fe_len != ADDRESS_FE32_LEN {
        return Err(AddressError::WrongLength { actual_bits: fe_len * 5 });
    }
    checked.validate_segwit_padding().map_err(|_| AddressError::InvalidPadding)?;
    let bytes: Vec<u8> = checked.byte_iter().collect();
    let address =
        Address::try_from(bytes.as_slice()).map_err(|_| AddressError::WrongLength { actual_bits: fe_len * 5 })?;
    Ok((checked.hrp().to_lowercase(), address))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net() -> Network {
        Network::test(Bytes32([1; 32]))
    }

    #[test]
    fn kinds_are_distinct() {
        let t = template_address(b"code");
        assert_eq!(address_kind(&t), AddressKind::Template);
        let p = program_address(&t, &[1, 2, 3]);
        assert_eq!(address_kind(&p), AddressKind::Program);
        assert_ne!(program_address(&t, &[1, 2]), p);
        assert_ne!(program_address(&template_address(b"code2"), &[1, 2, 3]), p);
        assert_eq!(address_kind(&Address([9; 24])), AddressKind::Unknown);
    }

    #[test]
    fn domain_separation() {
        // Same input bytes under the two contexts must not share hash bytes.
        let t = template_address(b"x");
        let p = program_address(&Address::ZERO, b"x");
        assert_ne!(t.0[4..], p.0[4..]);
        assert_ne!(&t.0[4..], &blake3::hash(b"x").as_bytes()[..20]);
    }

    #[test]
    fn bech32_round_trip() {
        let n = net();
        for a in [Address::ZERO, Address([0xff; 24]), template_address(b"abc")] {
            let s = n.encode_address(&a);
            assert!(s.starts_with("atest1"));
            assert_eq!(s, n.display(&a).to_string());
            assert_eq!(n.parse_address(&s), Ok(a));
            assert_eq!(n.parse_address(&s.to_uppercase()), Ok(a));
        }
    }

    #[test]
    fn bech32_errors() {
        let n = net();
        let a = template_address(b"abc");
        let s = n.encode_address(&a);
        let main = Network::main(Bytes32::ZERO);
        assert_eq!(
            main.parse_address(&s),
            Err(AddressError::WrongHrp { expected: "athena".into(), found: "atest".into() })
        );
        // Flip one data character.
        let mut chars: Vec<char> = s.chars().collect();
        chars[10] = if chars[10] == 'q' { 'p' } else { 'q' };
        let bad: String = chars.into_iter().collect();
        assert_eq!(n.parse_address(&bad), Err(AddressError::BadChecksum));
        // Wrong length: 20 and 32 bytes with a valid checksum.
        let short = bech32::encode_lower::<Bech32>(Hrp::parse_unchecked("atest"), &[1; 20]).unwrap();
        assert!(matches!(n.parse_address(&short), Err(AddressError::WrongLength { .. })));
        let long = bech32::encode_lower::<Bech32>(Hrp::parse_unchecked("atest"), &[1; 32]).unwrap();
        assert!(matches!(n.parse_address(&long), Err(AddressError::WrongLength { .. })));
        // Bech32m checksum is not accepted as bech32.
        let m = bech32::encode_lower::<bech32::Bech32m>(Hrp::parse_unchecked("atest"), &[1; 24]).unwrap();
        assert_eq!(n.parse_address(&m), Err(AddressError::BadChecksum));
        assert!(matches!(n.parse_address("no separator"), Err(AddressError::Malformed(_))));
        assert!(matches!(n.parse_address(""), Err(AddressError::Malformed(_))));
        let mixed = format!("A{}", &s[1..]);
        assert!(matches!(n.parse_address(&mixed), Err(AddressError::Malformed(_))));
    }

    #[test]
    fn non_zero_padding_rejected() {
        // Build 39 data characters whose last 3 bits are non-zero.
        use bech32::primitives::iter::{ByteIterExt, Fe32IterExt};
        use bech32::Fe32;
        let mut fes: Vec<Fe32> = [0u8; 24].iter().copied().bytes_to_fes().collect();
        assert_eq!(fes.len(), 39);
        fes[38] = Fe32::try_from(1u8).unwrap();
        let s: String = fes.into_iter().with_checksum::<Bech32>(&Hrp::parse_unchecked("atest")).chars().collect();
        assert_eq!(net().parse_address(&s), Err(AddressError::InvalidPadding));
    }

    #[test]
    fn network_hrp_validation() {
        assert!(Network::new("atest", Bytes32::ZERO).is_ok());
        assert!(Network::new("ATEST", Bytes32::ZERO).is_err());
        assert!(Network::new("", Bytes32::ZERO).is_err());
        assert!(Network::new("a b", Bytes32::ZERO).is_err());
        assert_eq!(Network::main(Bytes32::ZERO).hrp(), "athena");
    }
}

//! Fixed-size byte identifiers: [`Address`] and [`Bytes32`].
//!
//! Both are thin newtypes over byte arrays so that they are `Copy`, have a
//! total deterministic order (usable as `BTreeMap` keys) and map directly to
//! `uint8_t[N]` structs in the C ABI.

use std::fmt;
use std::str::FromStr;

/// Why a hex string could not be parsed into a fixed-size byte type.
///
/// Parsing is strict (exact length, no whitespace) because these strings come
/// from configuration, tests and CLIs where a silently truncated or padded
/// identifier would point at the wrong account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FromHexError {
    /// The string (after an optional `0x`/`0X` prefix) did not have exactly
    /// `expected` hex digits.
    #[error("invalid hex length: expected {expected} digits, got {actual}")]
    InvalidLength {
        /// Number of hex digits required (twice the byte length).
        expected: usize,
        /// Number of characters actually present after the prefix.
        actual: usize,
    },
    /// A character that is not a hex digit was found.
    #[error("invalid hex character {ch:?} at position {index}")]
    InvalidChar {
        /// The offending character.
        ch: char,
        /// Its character index in the string after the prefix.
        index: usize,
    },
}

fn hex_val(c: char, index: usize) -> Result<u8, FromHexError> {
    c.to_digit(16).map(|d| d as u8).ok_or(FromHexError::InvalidChar { ch: c, index })
}

/// Decode exactly `N` bytes from `s`, with an optional `0x` prefix.
fn decode_hex<const N: usize>(s: &str) -> Result<[u8; N], FromHexError> {
    let digits = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")).unwrap_or(s);
    // Validate characters first so that a stray non-ASCII char reports a
    // character error rather than a confusing byte-length error.
    let chars: Vec<char> = digits.chars().collect();
    for (index, &ch) in chars.iter().enumerate() {
        hex_val(ch, index)?;
    }
    if chars.len() != 2 * N {
        return Err(FromHexError::InvalidLength { expected: 2 * N, actual: chars.len() });
    }
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = (hex_val(chars[2 * i], 2 * i)? << 4) | hex_val(chars[2 * i + 1], 2 * i + 1)?;
    }
    Ok(out)
}

fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    for b in bytes {
        write!(f, "{b:02x}")?;
    }
    Ok(())
}

macro_rules! fixed_bytes {
    ($(#[$meta:meta])* $name:ident, $len:expr) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(pub [u8; $len]);

        impl $name {
            /// Length in bytes; fixed so the C ABI can use a plain array.
            pub const LEN: usize = $len;

            /// The all-zero value. Used as the "absent" value (e.g. an unset
            /// storage slot reads as zero) so that hosts never need a
            /// separate "missing" representation.
            pub const ZERO: Self = Self([0u8; $len]);

            /// Wrap raw bytes. `const` so identifiers can be constants.
            pub const fn new(bytes: [u8; $len]) -> Self {
                Self(bytes)
            }

            /// Borrow the raw bytes, e.g. to copy them into guest memory.
            pub const fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }

            /// Consume into the raw byte array.
            pub const fn into_bytes(self) -> [u8; $len] {
                self.0
            }

            /// Whether every byte is zero (see [`Self::ZERO`]).
            pub fn is_zero(&self) -> bool {
                self.0.iter().all(|&b| b == 0)
            }
        }

        impl From<[u8; $len]> for $name {
            fn from(bytes: [u8; $len]) -> Self {
                Self(bytes)
            }
        }

        impl From<$name> for [u8; $len] {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        /// Converting from a slice is how values are read out of guest
        /// memory; a wrong length is an error rather than a truncation.
        impl TryFrom<&[u8]> for $name {
            type Error = std::array::TryFromSliceError;
            fn try_from(slice: &[u8]) -> Result<Self, Self::Error> {
                <[u8; $len]>::try_from(slice).map(Self)
            }
        }

        impl AsRef<[u8]> for $name {
            fn as_ref(&self) -> &[u8] {
                &self.0
            }
        }

        /// Debug prints hex (not a list of decimal bytes) so test failures
        /// and logs are readable and comparable with `Display`.
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "(0x"))?;
                write_hex(f, &self.0)?;
                write!(f, ")")
            }
        }

        /// Lowercase hex without a prefix; `{:#}` adds `0x`. Round-trips
        /// through [`FromStr`].
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                if f.alternate() {
                    write!(f, "0x")?;
                }
                write_hex(f, &self.0)
            }
        }

        /// Parses exactly the right number of hex digits (either case),
        /// optionally prefixed by `0x`/`0X`.
        impl FromStr for $name {
            type Err = FromHexError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                decode_hex::<$len>(s).map(Self)
            }
        }
    };
}

fixed_bytes!(
    /// A 24-byte account address.
    ///
    /// 24 bytes (rather than Ethereum's 20) matches the Spacemesh account
    /// model Athena targets. How addresses are rendered to users (e.g.
    /// bech32) is a node concern decided later; here they are raw bytes with
    /// a hex `Display`.
    Address,
    24
);

fixed_bytes!(
    /// A 32-byte word: storage keys and values, hashes, log topics, chain id.
    ///
    /// One fixed word size keeps storage gas pricing and the C ABI simple.
    Bytes32,
    32
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_hex_round_trip() {
        let mut raw = [0u8; 24];
        for (i, b) in raw.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(11).wrapping_add(0xa0);
        }
        let a = Address::from(raw);
        let s = a.to_string();
        assert_eq!(s.len(), 48);
        assert_eq!(s, s.to_lowercase());
        assert_eq!(s.parse::<Address>().unwrap(), a);
        assert_eq!(format!("{a:#}").parse::<Address>().unwrap(), a);
        assert_eq!(format!("0X{}", s.to_uppercase()).parse::<Address>().unwrap(), a);
        assert_eq!(a.as_bytes(), &raw);
        assert_eq!(<[u8; 24]>::from(a), raw);
    }

    #[test]
    fn bytes32_hex_round_trip_and_debug() {
        let b = Bytes32::from([0xabu8; 32]);
        assert_eq!(b.to_string(), "ab".repeat(32));
        assert_eq!(format!("{b:?}"), format!("Bytes32(0x{})", "ab".repeat(32)));
        assert_eq!(b.to_string().parse::<Bytes32>().unwrap(), b);
        assert_eq!(Bytes32::ZERO.to_string(), "0".repeat(64));
        assert!(Bytes32::ZERO.is_zero());
        assert!(!b.is_zero());
    }

    #[test]
    fn hex_parse_errors() {
        assert_eq!("00".parse::<Address>(), Err(FromHexError::InvalidLength { expected: 48, actual: 2 }));
        assert_eq!("0x".parse::<Bytes32>(), Err(FromHexError::InvalidLength { expected: 64, actual: 0 }));
        let too_long = "0".repeat(66);
        assert_eq!(too_long.parse::<Bytes32>(), Err(FromHexError::InvalidLength { expected: 64, actual: 66 }));
        let mut bad = "0".repeat(48);
        bad.replace_range(5..6, "g");
        assert_eq!(bad.parse::<Address>(), Err(FromHexError::InvalidChar { ch: 'g', index: 5 }));
        // Non-ASCII is a character error, not a length error.
        let uni = format!("é{}", "0".repeat(47));
        assert_eq!(uni.parse::<Address>(), Err(FromHexError::InvalidChar { ch: 'é', index: 0 }));
        // Whitespace and a doubled prefix are rejected.
        assert!(format!(" {}", "0".repeat(48)).parse::<Address>().is_err());
        assert!(format!("0x0x{}", "0".repeat(46)).parse::<Address>().is_err());
        // Errors render a useful message.
        assert!(FromHexError::InvalidLength { expected: 48, actual: 2 }.to_string().contains("48"));
    }

    #[test]
    fn slice_conversion_and_order() {
        let bytes = [7u8; 32];
        assert_eq!(Bytes32::try_from(&bytes[..]).unwrap(), Bytes32([7; 32]));
        assert!(Bytes32::try_from(&bytes[..31]).is_err());
        assert!(Address::try_from(&bytes[..]).is_err());
        let lo = Address::new([0; 24]);
        let mut hi = [0u8; 24];
        hi[0] = 1;
        assert!(lo < Address::new(hi));
        assert_eq!(Address::default(), Address::ZERO);
    }
}

//! Typed command-line values for method arguments, program state and
//! return values: `TYPE:VALUE` strings, SCALE-encoded.
//!
//! A method call's input is `selector ‖ SCALE(arg1) ‖ SCALE(arg2) ...`
//! (docs/sdk.md), and a program's state is the SCALE encoding of its
//! template struct, i.e. the concatenation of its fields' encodings. So a
//! list of typed values, each encoded on its own and concatenated, builds
//! both. The types:
//!
//! | form | SCALE | example |
//! |---|---|---|
//! | `u8:N` … `u128:N`, `i8:N` … `i128:N` | fixed-width little endian | `u64:5`, `i32:-1`, `u32:0xff` |
//! | `bool:true` / `bool:false` | one byte 1 / 0 | `bool:true` |
//! | `compact:N` | compact integer | `compact:300` |
//! | `bytes:HEX` | `Vec<u8>`: compact length, then the bytes | `bytes:cafe` |
//! | `str:TEXT` | `String`: compact length, then UTF-8 | `str:hello` |
//! | `addr:BECH32` | `Address`: the 24 raw bytes | `addr:atest1...` |
//! | `raw:HEX` | the bytes as they are (fixed arrays such as `[u8; 32]`, or anything pre-encoded) | `raw:00ff` |
//!
//! Return values (`--returns TYPE`) use the same type names.

use athena_interface::Address;
use athena_transaction::{parse_address_any, Network};
use parity_scale_codec::{Compact, Decode, Encode};
use std::fmt;

/// The type part of a `TYPE:VALUE` argument or a `--returns TYPE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgType {
    /// `u8`.
    U8,
    /// `u16`.
    U16,
    /// `u32`.
    U32,
    /// `u64`.
    U64,
    /// `u128`.
    U128,
    /// `i8`.
    I8,
    /// `i16`.
    I16,
    /// `i32`.
    I32,
    /// `i64`.
    I64,
    /// `i128`.
    I128,
    /// `bool`.
    Bool,
    /// SCALE compact unsigned integer.
    Compact,
    /// `Vec<u8>` (length-prefixed).
    Bytes,
    /// `String` (length-prefixed UTF-8).
    Str,
    /// A 24-byte address, given in bech32.
    Addr,
    /// Bytes copied as they are.
    Raw,
}

/// Every type name, for help and error messages.
pub const TYPE_NAMES: &str = "u8 u16 u32 u64 u128 i8 i16 i32 i64 i128 bool compact bytes str addr raw";

impl ArgType {
    /// Parses a type name (`u64`, `addr`, ...; `hex` is accepted for `raw`).
    pub fn parse(name: &str) -> Result<Self, ArgError> {
        Ok(match name {
            "u8" => Self::U8,
            "u16" => Self::U16,
            "u32" => Self::U32,
            "u64" => Self::U64,
            "u128" => Self::U128,
            "i8" => Self::I8,
            "i16" => Self::I16,
            "i32" => Self::I32,
            "i64" => Self::I64,
            "i128" => Self::I128,
            "bool" => Self::Bool,
            "compact" => Self::Compact,
            "bytes" => Self::Bytes,
            "str" | "string" => Self::Str,
            "addr" | "address" => Self::Addr,
            "raw" | "hex" => Self::Raw,
            other => return Err(ArgError(format!("unknown type {other:?}; types are: {TYPE_NAMES}"))),
        })
    }
}

/// A malformed typed value; the message names the offending argument.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ArgError(pub String);

/// One parsed `TYPE:VALUE` argument, ready to encode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// An unsigned integer of `bits` bits (8..=128), or `Compact` if 0.
    Unsigned {
        /// Width; 0 means SCALE compact.
        bits: u32,
        /// The value (checked to fit the width).
        value: u128,
    },
    /// A signed integer of `bits` bits.
    Signed {
        /// Width.
        bits: u32,
        /// The value (checked to fit the width).
        value: i128,
    },
    /// A boolean.
    Bool(bool),
    /// `Vec<u8>`.
    Bytes(Vec<u8>),
    /// `String`.
    Str(String),
    /// An address (with the HRP it was written with, checked at encoding).
    Addr {
        /// The HRP of the bech32 text.
        hrp: String,
        /// The address.
        address: Address,
        /// The text as given, for error messages.
        text: String,
    },
    /// Raw bytes.
    Raw(Vec<u8>),
}

fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let text = text.strip_prefix("0x").unwrap_or(text);
    hex::decode(text).map_err(|e| format!("not hex: {e}"))
}

fn parse_unsigned(text: &str) -> Result<u128, String> {
    let cleaned = text.replace('_', "");
    match cleaned.strip_prefix("0x") {
        Some(hex) => u128::from_str_radix(hex, 16),
        None => cleaned.parse::<u128>(),
    }
    .map_err(|e| format!("not an unsigned integer: {e}"))
}

fn parse_signed(text: &str) -> Result<i128, String> {
    let cleaned = text.replace('_', "");
    let (negative, digits) = match cleaned.strip_prefix('-') {
        Some(rest) => (true, rest.to_owned()),
        None => (false, cleaned),
    };
    let magnitude = parse_unsigned(&digits).map_err(|_| "not an integer".to_owned())?;
    let magnitude = i128::try_from(magnitude).map_err(|_| "out of range".to_owned())?;
    Ok(if negative { -magnitude } else { magnitude })
}

impl Arg {
    /// Parses `TYPE:VALUE`. A string without a type prefix is an error: a
    /// bare `5` could mean any width, and guessing would change the encoding.
    pub fn parse(text: &str) -> Result<Self, ArgError> {
        let Some((ty, value)) = text.split_once(':') else {
            return Err(ArgError(format!(
                "argument {text:?} has no type: write TYPE:VALUE, e.g. u64:5, bytes:cafe, str:hi, addr:<bech32> \
                 (types: {TYPE_NAMES})"
            )));
        };
        let ty = ArgType::parse(ty).map_err(|e| ArgError(format!("argument {text:?}: {e}")))?;
        Self::parse_typed(ty, value).map_err(|e| ArgError(format!("argument {text:?}: {e}")))
    }

    fn parse_typed(ty: ArgType, value: &str) -> Result<Self, String> {
        let unsigned = |bits: u32| -> Result<Self, String> {
            let v = parse_unsigned(value)?;
            if bits < 128 && v >> bits != 0 {
                return Err(format!("does not fit in {bits} bits"));
            }
            Ok(Self::Unsigned { bits, value: v })
        };
        let signed = |bits: u32| -> Result<Self, String> {
            let v = parse_signed(value)?;
            let (min, max) =
                if bits == 128 { (i128::MIN, i128::MAX) } else { (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1) };
            if v < min || v > max {
                return Err(format!("does not fit in {bits} bits"));
            }
            Ok(Self::Signed { bits, value: v })
        };
        match ty {
            ArgType::U8 => unsigned(8),
            ArgType::U16 => unsigned(16),
            ArgType::U32 => unsigned(32),
            ArgType::U64 => unsigned(64),
            ArgType::U128 => unsigned(128),
            ArgType::Compact => unsigned(128).map(|a| match a {
                Self::Unsigned { value, .. } => Self::Unsigned { bits: 0, value },
                other => other,
            }),
            ArgType::I8 => signed(8),
            ArgType::I16 => signed(16),
            ArgType::I32 => signed(32),
            ArgType::I64 => signed(64),
            ArgType::I128 => signed(128),
            ArgType::Bool => match value {
                "true" | "1" => Ok(Self::Bool(true)),
                "false" | "0" => Ok(Self::Bool(false)),
                _ => Err("expected true or false".into()),
            },
            ArgType::Bytes => parse_hex(value).map(Self::Bytes),
            ArgType::Raw => parse_hex(value).map(Self::Raw),
            ArgType::Str => Ok(Self::Str(value.to_owned())),
            ArgType::Addr => {
                let (hrp, address) = parse_address_any(value).map_err(|e| format!("not a bech32 address: {e}"))?;
                Ok(Self::Addr { hrp, address, text: value.to_owned() })
            }
        }
    }

    /// Appends the SCALE encoding. Addresses must be for `network` (when
    /// given): an address of another network is almost certainly a mistake.
    pub fn encode_to(&self, network: Option<&Network>, out: &mut Vec<u8>) -> Result<(), ArgError> {
        match self {
            Self::Unsigned { bits, value } => match bits {
                0 => Compact(*value).encode_to(out),
                // The parser checked the value fits, so the truncations are exact.
                8 => (*value as u8).encode_to(out),
                16 => (*value as u16).encode_to(out),
                32 => (*value as u32).encode_to(out),
                64 => (*value as u64).encode_to(out),
                _ => value.encode_to(out),
            },
            Self::Signed { bits, value } => match bits {
                8 => (*value as i8).encode_to(out),
                16 => (*value as i16).encode_to(out),
                32 => (*value as i32).encode_to(out),
                64 => (*value as i64).encode_to(out),
                _ => value.encode_to(out),
            },
            Self::Bool(b) => b.encode_to(out),
            Self::Bytes(b) => b.encode_to(out),
            Self::Str(s) => s.encode_to(out),
            Self::Raw(b) => out.extend_from_slice(b),
            Self::Addr { hrp, address, text } => {
                if let Some(network) = network {
                    if hrp != network.hrp() {
                        return Err(ArgError(format!(
                            "address {text:?} is for network {hrp:?}, but the node is on {:?}",
                            network.hrp()
                        )));
                    }
                }
                out.extend_from_slice(address.as_bytes());
            }
        }
        Ok(())
    }
}

/// Parses and encodes a list of typed arguments, concatenated.
pub fn encode_args(texts: &[String], network: Option<&Network>) -> Result<Vec<u8>, ArgError> {
    let mut out = Vec::new();
    for text in texts {
        Arg::parse(text)?.encode_to(network, &mut out)?;
    }
    Ok(out)
}

/// A return value decoded with `--returns TYPE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded(String);

impl fmt::Display for Decoded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Decodes `bytes` as exactly one SCALE value of type `ty` (no trailing
/// bytes), rendered as text: numbers in decimal, bytes in hex, addresses in
/// bech32 for `network`.
pub fn decode_value(ty: ArgType, bytes: &[u8], network: &Network) -> Result<Decoded, ArgError> {
    fn exact<T: Decode>(bytes: &[u8]) -> Result<T, ArgError> {
        let mut input = bytes;
        let value = T::decode(&mut input).map_err(|e| ArgError(format!("output does not decode: {e}")))?;
        if !input.is_empty() {
            return Err(ArgError(format!("{} bytes left over after the value", input.len())));
        }
        Ok(value)
    }
    let text = match ty {
        ArgType::U8 => exact::<u8>(bytes)?.to_string(),
        ArgType::U16 => exact::<u16>(bytes)?.to_string(),
        ArgType::U32 => exact::<u32>(bytes)?.to_string(),
        ArgType::U64 => exact::<u64>(bytes)?.to_string(),
        ArgType::U128 => exact::<u128>(bytes)?.to_string(),
        ArgType::I8 => exact::<i8>(bytes)?.to_string(),
        ArgType::I16 => exact::<i16>(bytes)?.to_string(),
        ArgType::I32 => exact::<i32>(bytes)?.to_string(),
        ArgType::I64 => exact::<i64>(bytes)?.to_string(),
        ArgType::I128 => exact::<i128>(bytes)?.to_string(),
        ArgType::Bool => exact::<bool>(bytes)?.to_string(),
        ArgType::Compact => exact::<Compact<u128>>(bytes)?.0.to_string(),
        ArgType::Bytes => hex::encode(exact::<Vec<u8>>(bytes)?),
        ArgType::Str => exact::<String>(bytes)?,
        ArgType::Addr => network.encode_address(&Address::new(exact::<[u8; 24]>(bytes)?)),
        ArgType::Raw => hex::encode(bytes),
    };
    Ok(Decoded(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use athena_interface::Bytes32;

    fn enc(texts: &[&str]) -> Result<Vec<u8>, ArgError> {
        let texts: Vec<String> = texts.iter().map(|s| s.to_string()).collect();
        encode_args(&texts, Some(&Network::test(Bytes32::ZERO)))
    }

    #[test]
    fn encodings_match_scale() {
        let net = Network::test(Bytes32::ZERO);
        let a = Address::new([5; 24]);
        let addr = net.encode_address(&a);
        let got = enc(&["u64:5", "u8:0xff", "i32:-2", "bool:true", "bytes:cafe", "str:hé", "raw:0102"]).unwrap();
        let mut want = (5u64, 255u8, -2i32, true, vec![0xcau8, 0xfe], "hé".to_string()).encode();
        want.extend_from_slice(&[1, 2]);
        assert_eq!(got, want);
        assert_eq!(enc(&[&format!("addr:{addr}")]).unwrap(), a.0.to_vec());
        assert_eq!(enc(&["compact:300"]).unwrap(), Compact(300u128).encode());
        assert_eq!(enc(&["u128:340282366920938463463374607431768211455"]).unwrap(), u128::MAX.encode());
        assert_eq!(enc(&["i128:-5", "i8:-128", "u16:1_000"]).unwrap(), (-5i128, -128i8, 1000u16).encode());
        assert_eq!(enc(&[]).unwrap(), Vec::<u8>::new());
        assert_eq!(enc(&["hex:00", "string:x"]).unwrap(), (0u8, "x".to_string()).encode());
    }

    #[test]
    fn errors_are_clear() {
        let cases = [
            ("5", "has no type"),
            ("u65:1", "unknown type"),
            ("u8:256", "does not fit in 8 bits"),
            ("i8:128", "does not fit"),
            ("i8:-129", "does not fit"),
            ("u64:-1", "not an unsigned integer"),
            ("u64:abc", "not an unsigned integer"),
            ("bool:yes", "true or false"),
            ("bytes:xyz", "not hex"),
            ("addr:nope", "not a bech32 address"),
        ];
        for (text, expected) in cases {
            let err = enc(&[text]).unwrap_err().0;
            assert!(err.contains(expected) && err.contains(text), "{text}: {err}");
        }
        let main = Network::main(Bytes32::ZERO).encode_address(&Address::new([1; 24]));
        let err = enc(&[&format!("addr:{main}")]).unwrap_err().0;
        assert!(err.contains("is for network \"athena\""), "{err}");
    }

    #[test]
    fn decoding() {
        let net = Network::test(Bytes32::ZERO);
        let d = |ty: &str, bytes: &[u8]| decode_value(ArgType::parse(ty).unwrap(), bytes, &net).map(|d| d.to_string());
        assert_eq!(d("u64", &7u64.encode()).unwrap(), "7");
        assert_eq!(d("i16", &(-3i16).encode()).unwrap(), "-3");
        assert_eq!(d("bool", &[1]).unwrap(), "true");
        assert_eq!(d("str", &"hi".encode()).unwrap(), "hi");
        assert_eq!(d("bytes", &vec![1u8, 2].encode()).unwrap(), "0102");
        assert_eq!(d("raw", &[1, 2]).unwrap(), "0102");
        assert_eq!(d("compact", &Compact(99u128).encode()).unwrap(), "99");
        assert_eq!(d("addr", &[0; 24]).unwrap(), net.encode_address(&Address::ZERO));
        assert!(d("u64", &[1, 2]).unwrap_err().0.contains("does not decode"));
        assert!(d("u8", &[1, 2]).unwrap_err().0.contains("left over"));
        assert!(ArgType::parse("float").is_err());
    }
}

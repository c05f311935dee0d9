//! [`Address`]: a 24-byte account address.

use crate::codec::{Decode, Encode, EncodeLike, Error, Input, Output};
use core::fmt;

/// An account address: 24 bytes, the same value the host's
/// `athena_interface::Address` holds.
///
/// A newtype rather than `[u8; 24]` so that addresses cannot be confused
/// with other byte arrays in method signatures and storage. Its SCALE
/// encoding is the 24 raw bytes (no length prefix), exactly like
/// `[u8; 24]`, so a host can encode arguments with either.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Address(pub [u8; 24]);

impl Address {
    /// Length in bytes.
    pub const LEN: usize = 24;

    /// The all-zero address: "none" in the context records (e.g. no
    /// caller template).
    pub const ZERO: Address = Address([0; 24]);

    /// The raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 24] {
        &self.0
    }

    /// Whether this is [`Address::ZERO`].
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 24]
    }
}

impl From<[u8; 24]> for Address {
    fn from(bytes: [u8; 24]) -> Self {
        Address(bytes)
    }
}

impl From<Address> for [u8; 24] {
    fn from(address: Address) -> Self {
        address.0
    }
}

impl AsRef<[u8]> for Address {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Encode for Address {
    fn size_hint(&self) -> usize {
        Self::LEN
    }

    fn encode_to<O: Output + ?Sized>(&self, dest: &mut O) {
        dest.write(&self.0);
    }

    // The encoding is the bytes themselves: no buffer needed.
    fn using_encoded<R, F: FnOnce(&[u8]) -> R>(&self, f: F) -> R {
        f(&self.0)
    }
}

impl EncodeLike for Address {}
impl EncodeLike<[u8; 24]> for Address {}

impl Decode for Address {
    fn decode<I: Input>(input: &mut I) -> Result<Self, Error> {
        let mut bytes = [0u8; 24];
        input.read(&mut bytes)?;
        Ok(Address(bytes))
    }
}

/// Lowercase hex with a `0x` prefix, as the host's `Address` prints.
impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = [0u8; 2 + 48];
        text[..2].copy_from_slice(b"0x");
        crate::hex::encode_into(&self.0, &mut text[2..]);
        // The buffer holds only ASCII hex digits.
        f.write_str(core::str::from_utf8(&text).unwrap_or("0x?"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn encodes_as_24_raw_bytes() {
        let a = Address([7; 24]);
        assert_eq!(a.encode(), [7u8; 24].encode());
        assert_eq!(a.encode().len(), 24);
        assert_eq!(Address::decode(&mut &[7u8; 24][..]).unwrap(), a);
        assert!(Address::decode(&mut &[7u8; 23][..]).is_err());
    }

    #[test]
    fn prints_as_hex() {
        let mut bytes = [0u8; 24];
        bytes[0] = 0xab;
        bytes[23] = 0x01;
        assert_eq!(format!("{}", Address(bytes)), format!("0xab{}01", "00".repeat(22)));
    }
}

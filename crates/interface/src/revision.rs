//! Protocol revisions and VM capabilities.

use std::fmt;
use std::ops::{BitAnd, BitOr, BitOrAssign};

/// The protocol rule set a message is executed under.
///
/// Gas costs and available syscalls may change between revisions; the node
/// chooses the revision (e.g. by block height) so that historical blocks
/// replay with historical rules. `#[repr(u32)]` for the C ABI.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Revision {
    /// The initial rule set.
    #[default]
    Frontier = 0,
}

impl Revision {
    /// The newest revision this build implements.
    pub const LATEST: Revision = Revision::Frontier;

    /// Decode a value received over the C ABI; unknown (e.g. newer)
    /// revisions are `None` so the VM can reject them explicitly.
    pub const fn from_u32(value: u32) -> Option<Self> {
        match value {
            0 => Some(Revision::Frontier),
            _ => None,
        }
    }
}

/// Set of features a VM implementation supports, reported to the node so it
/// can check compatibility before loading code.
///
/// A plain `u32` newtype (no `bitflags` dependency) so it maps directly to
/// the C ABI's `uint32_t` flags.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Capabilities(u32);

impl Capabilities {
    /// No capabilities.
    pub const EMPTY: Self = Self(0);
    /// Executes RV32E(M) code (16 registers).
    pub const RV32E: Self = Self(1);
    /// Executes RV32I(M) code (32 registers).
    pub const RV32I: Self = Self(2);
    /// Provides precompiles (native implementations of expensive functions).
    pub const PRECOMPILES: Self = Self(4);
    /// Every capability defined by this version.
    pub const ALL: Self = Self(1 | 2 | 4);

    /// The raw bits, for the C ABI.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// From raw bits; `None` if any bit is unknown to this version, so a
    /// newer peer's capabilities are not silently misread.
    pub const fn from_bits(bits: u32) -> Option<Self> {
        if bits & !Self::ALL.0 == 0 {
            Some(Self(bits))
        } else {
            None
        }
    }

    /// From raw bits, dropping unknown bits.
    pub const fn from_bits_truncate(bits: u32) -> Self {
        Self(bits & Self::ALL.0)
    }

    /// Whether every capability in `other` is present in `self`.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether no capability is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl BitOr for Capabilities {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl BitOrAssign for Capabilities {
    fn bitor_assign(&mut self, rhs: Self) {
        self.0 |= rhs.0;
    }
}

impl BitAnd for Capabilities {
    type Output = Self;
    fn bitand(self, rhs: Self) -> Self {
        Self(self.0 & rhs.0)
    }
}

/// Lists the set flags by name, e.g. `Capabilities(RV32E | PRECOMPILES)`.
impl fmt::Debug for Capabilities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [(Self::RV32E, "RV32E"), (Self::RV32I, "RV32I"), (Self::PRECOMPILES, "PRECOMPILES")];
        let set: Vec<&str> = names.iter().filter(|(c, _)| self.contains(*c)).map(|(_, n)| *n).collect();
        let unknown = self.0 & !Self::ALL.0;
        write!(f, "Capabilities(")?;
        if set.is_empty() && unknown == 0 {
            write!(f, "EMPTY")?;
        } else {
            write!(f, "{}", set.join(" | "))?;
            if unknown != 0 {
                write!(f, "{}{unknown:#x}", if set.is_empty() { "" } else { " | " })?;
            }
        }
        write!(f, ")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revision_round_trip() {
        assert_eq!(Revision::LATEST, Revision::Frontier);
        assert_eq!(Revision::from_u32(0), Some(Revision::Frontier));
        assert_eq!(Revision::from_u32(1), None);
        assert_eq!(Revision::Frontier as u32, 0);
    }

    #[test]
    fn capabilities_ops() {
        let mut c = Capabilities::RV32E | Capabilities::PRECOMPILES;
        assert_eq!(c.bits(), 5);
        assert!(c.contains(Capabilities::RV32E));
        assert!(!c.contains(Capabilities::RV32I));
        assert!(!c.contains(Capabilities::RV32E | Capabilities::RV32I));
        assert!(c.contains(Capabilities::EMPTY));
        c |= Capabilities::RV32I;
        assert_eq!(c, Capabilities::ALL);
        assert_eq!(c & Capabilities::RV32I, Capabilities::RV32I);
        assert_eq!(Capabilities::from_bits(7), Some(Capabilities::ALL));
        assert_eq!(Capabilities::from_bits(8), None);
        assert_eq!(Capabilities::from_bits_truncate(0xff), Capabilities::ALL);
        assert!(Capabilities::default().is_empty());
        assert_eq!(
            format!("{:?}", Capabilities::RV32E | Capabilities::PRECOMPILES),
            "Capabilities(RV32E | PRECOMPILES)"
        );
        assert_eq!(format!("{:?}", Capabilities::EMPTY), "Capabilities(EMPTY)");
    }
}

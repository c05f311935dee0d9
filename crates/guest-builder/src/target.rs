//! The two guest targets the VM runs.

use std::fmt;
use std::str::FromStr;

/// A RISC-V target a guest can be built for.
///
/// Both are 32-bit, little-endian, soft-float, without compressed
/// instructions or atomics, matching what the VM executes. `Rv32em` is the
/// default because it is what deployed programs use (16 registers, and
/// the ELF carries the RVE flag that makes the VM enforce it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GuestTarget {
    /// `riscv32em-unknown-none-elf`: RV32E base (x0..x15) + M.
    #[default]
    Rv32em,
    /// `riscv32im-unknown-none-elf`: RV32I base (x0..x31) + M.
    Rv32im,
}

impl GuestTarget {
    /// Every target, for tests and tools that cover both.
    pub const ALL: [GuestTarget; 2] = [GuestTarget::Rv32em, GuestTarget::Rv32im];

    /// The rustc target triple (also cargo's output subdirectory name).
    pub fn triple(self) -> &'static str {
        match self {
            GuestTarget::Rv32em => "riscv32em-unknown-none-elf",
            GuestTarget::Rv32im => "riscv32im-unknown-none-elf",
        }
    }

    /// The short name used on the command line (`rv32em`, `rv32im`).
    pub fn name(self) -> &'static str {
        match self {
            GuestTarget::Rv32em => "rv32em",
            GuestTarget::Rv32im => "rv32im",
        }
    }

    /// Whether ELFs built for this target carry the `EF_RISCV_RVE` flag.
    pub fn is_rve(self) -> bool {
        self == GuestTarget::Rv32em
    }
}

impl fmt::Display for GuestTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A target name that is neither a short name nor a supported triple.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown guest target `{0}` (expected rv32em, rv32im, riscv32em-unknown-none-elf or riscv32im-unknown-none-elf)"
)]
pub struct UnknownTarget(pub String);

impl FromStr for GuestTarget {
    type Err = UnknownTarget;

    /// Accepts the short names and the full triples, case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        GuestTarget::ALL
            .into_iter()
            .find(|t| s.eq_ignore_ascii_case(t.name()) || s.eq_ignore_ascii_case(t.triple()))
            .ok_or_else(|| UnknownTarget(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_short_names_and_triples() {
        for t in GuestTarget::ALL {
            assert_eq!(t.name().parse::<GuestTarget>(), Ok(t));
            assert_eq!(t.triple().parse::<GuestTarget>(), Ok(t));
            assert_eq!(t.name().to_uppercase().parse::<GuestTarget>(), Ok(t));
        }
        assert!("riscv64gc-unknown-none-elf".parse::<GuestTarget>().is_err());
        assert!("".parse::<GuestTarget>().is_err());
    }

    #[test]
    fn default_is_rv32em() {
        assert_eq!(GuestTarget::default(), GuestTarget::Rv32em);
        assert!(GuestTarget::Rv32em.is_rve());
        assert!(!GuestTarget::Rv32im.is_rve());
    }
}

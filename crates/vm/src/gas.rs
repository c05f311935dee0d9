//! The gas schedule. Every number here is consensus-critical and mirrored in
//! `docs/machine.md`; change both in the same commit.

use crate::isa::CostClass;

/// Gas for ALU instructions (`LUI`, `AUIPC`, register and immediate ALU ops, `FENCE`).
pub const ALU: u64 = 1;
/// Gas for loads and stores (page lookup plus bounds and alignment checks).
pub const MEMORY: u64 = 2;
/// Gas for branches and jumps, taken or not (so cost never depends on data).
pub const CONTROL: u64 = 1;
/// Gas for `MUL`, `MULH`, `MULHSU`, `MULHU`.
pub const MULTIPLY: u64 = 2;
/// Gas for `DIV`, `DIVU`, `REM`, `REMU`.
pub const DIVIDE: u64 = 4;
/// Gas for the `ECALL`/`EBREAK` instruction itself (and for an illegal word,
/// which is charged before it traps); each syscall adds its own cost.
pub const SYSTEM: u64 = 1;

/// Base gas of every syscall, charged before the number is even looked at.
pub const SYSCALL_BASE: u64 = 10;
/// Extra gas per started 4-byte word copied between guest memory and the
/// host by `WRITE` and `INPUT_READ`.
pub const PER_WORD_COPIED: u64 = 1;
/// Gas charged the first time a store touches a page that holds no data yet
/// (the host allocates and zeroes 4 KiB for it).
pub const PAGE_ALLOCATION: u64 = 64;

/// The gas of one instruction of the given class.
#[inline]
pub const fn instruction_cost(class: CostClass) -> u64 {
    match class {
        CostClass::Alu => ALU,
        CostClass::Memory => MEMORY,
        CostClass::Control => CONTROL,
        CostClass::Multiply => MULTIPLY,
        CostClass::Divide => DIVIDE,
        CostClass::System => SYSTEM,
    }
}

/// Gas to copy `len` bytes across the guest/host boundary.
#[inline]
pub const fn copy_cost(len: u32) -> u64 {
    (len as u64).div_ceil(4) * PER_WORD_COPIED
}

/// A gas meter: a limit and what is left of it.
///
/// Charging is all-or-nothing: a charge larger than what is left consumes
/// nothing and reports exhaustion, and the run then ends as out-of-gas with
/// `gas_used == limit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GasMeter {
    limit: u64,
    left: u64,
}

/// Returned when a charge does not fit in the gas that is left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutOfGas;

impl GasMeter {
    /// A meter with `limit` gas available.
    pub const fn new(limit: u64) -> Self {
        Self { limit, left: limit }
    }

    /// Takes `amount` gas, or fails leaving the meter untouched.
    #[inline]
    pub fn charge(&mut self, amount: u64) -> Result<(), OutOfGas> {
        match self.left.checked_sub(amount) {
            Some(left) => {
                self.left = left;
                Ok(())
            }
            None => Err(OutOfGas),
        }
    }

    /// Gas still available.
    pub const fn left(&self) -> u64 {
        self.left
    }

    /// The limit the meter started with.
    pub const fn limit(&self) -> u64 {
        self.limit
    }

    /// Gas consumed so far.
    pub const fn used(&self) -> u64 {
        self.limit - self.left
    }

    /// Sets the gas left (the fast engine keeps the meter in a local while
    /// it runs and writes it back at every boundary).
    pub(crate) fn set_left(&mut self, left: u64) {
        self.left = left.min(self.limit);
    }

    /// Marks all gas as consumed (the out-of-gas outcome).
    pub fn exhaust(&mut self) {
        self.left = 0;
    }
}

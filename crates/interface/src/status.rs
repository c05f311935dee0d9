//! Execution status codes.

use std::fmt;

/// The outcome of executing a message, as seen by the caller.
///
/// Values are `#[repr(i32)]` with explicit discriminants because they cross
/// the C ABI and may be persisted in receipts: **never renumber**. Positive
/// values are consensus-visible outcomes of guest execution; negative values
/// are internal errors of the VM or host that say nothing about the guest and
/// must not be turned into a consensus result (the node should treat them as
/// "this transaction could not be evaluated").
///
/// | Code | Name | Meaning | `gas_left` |
/// |-----:|------|---------|-----------|
/// | 0 | `success` | Execution finished normally; effects are kept. | meaningful (unused gas is returned) |
/// | 1 | `failure` | Generic guest failure (e.g. guest panic / abort). Effects reverted. | 0 |
/// | 2 | `revert` | Guest explicitly reverted; effects reverted, output is the revert data. | meaningful (unused gas is returned) |
/// | 3 | `out_of_gas` | The gas limit was exhausted. Effects reverted. | 0 |
/// | 4 | `invalid_instruction` | Illegal or unsupported RISC-V instruction. | 0 |
/// | 5 | `invalid_memory_access` | Out-of-bounds, misaligned or permission-violating access. | 0 |
/// | 6 | `call_depth_exceeded` | A nested call would exceed the depth limit; the callee never ran. | the message's full gas (nothing was spent) |
/// | 7 | `insufficient_balance` | The sender cannot afford the transferred value; the callee never ran. | the message's full gas (nothing was spent) |
/// | 8 | `insufficient_input` | The input is too short for what the program expects (e.g. no method selector). | 0 |
/// | 9 | `invalid_syscall_argument` | A syscall was given an invalid argument (bad pointer, length, id). | 0 |
/// | 10 | `precompile_failure` | A precompile rejected its input or failed. | 0 |
/// | -1 | `internal_error` | Bug or unexpected condition in VM or host. | not meaningful |
/// | -2 | `rejected` | The VM refused to run the message (e.g. unsupported revision or malformed code). | not meaningful |
/// | -3 | `out_of_memory` | The VM could not allocate memory on the host machine. | not meaningful |
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StatusCode {
    /// Normal completion; state changes are committed.
    Success = 0,
    /// Generic failure of the guest program.
    Failure = 1,
    /// Explicit revert by the guest; unused gas is returned.
    Revert = 2,
    /// Gas limit exhausted.
    OutOfGas = 3,
    /// Illegal or unsupported instruction.
    InvalidInstruction = 4,
    /// Invalid memory access.
    InvalidMemoryAccess = 5,
    /// Call depth limit exceeded.
    CallDepthExceeded = 6,
    /// Sender balance below the transferred value.
    InsufficientBalance = 7,
    /// Input shorter than the program requires.
    InsufficientInput = 8,
    /// Invalid argument passed to a syscall.
    InvalidSyscallArgument = 9,
    /// A precompile failed.
    PrecompileFailure = 10,
    /// Internal VM/host error (not a guest outcome).
    InternalError = -1,
    /// The VM rejected the execution request.
    Rejected = -2,
    /// The VM ran out of host memory.
    OutOfMemory = -3,
}

impl StatusCode {
    /// Every status code, in declaration order. Useful for exhaustive tests
    /// and for generating the C header's enum.
    pub const ALL: [StatusCode; 14] = [
        StatusCode::Success,
        StatusCode::Failure,
        StatusCode::Revert,
        StatusCode::OutOfGas,
        StatusCode::InvalidInstruction,
        StatusCode::InvalidMemoryAccess,
        StatusCode::CallDepthExceeded,
        StatusCode::InsufficientBalance,
        StatusCode::InsufficientInput,
        StatusCode::InvalidSyscallArgument,
        StatusCode::PrecompileFailure,
        StatusCode::InternalError,
        StatusCode::Rejected,
        StatusCode::OutOfMemory,
    ];

    /// The stable numeric value, as passed through the C ABI.
    pub const fn as_i32(self) -> i32 {
        self as i32
    }

    /// Decode a value received over the C ABI. Unknown values return `None`
    /// rather than being mapped to a catch-all, so that a version mismatch is
    /// detected instead of silently misinterpreted.
    pub const fn from_i32(value: i32) -> Option<Self> {
        Some(match value {
            0 => StatusCode::Success,
            1 => StatusCode::Failure,
            2 => StatusCode::Revert,
            3 => StatusCode::OutOfGas,
            4 => StatusCode::InvalidInstruction,
            5 => StatusCode::InvalidMemoryAccess,
            6 => StatusCode::CallDepthExceeded,
            7 => StatusCode::InsufficientBalance,
            8 => StatusCode::InsufficientInput,
            9 => StatusCode::InvalidSyscallArgument,
            10 => StatusCode::PrecompileFailure,
            -1 => StatusCode::InternalError,
            -2 => StatusCode::Rejected,
            -3 => StatusCode::OutOfMemory,
            _ => return None,
        })
    }

    /// Whether state changes of the frame are kept. Only `Success` commits.
    pub const fn is_success(self) -> bool {
        matches!(self, StatusCode::Success)
    }

    /// Whether this is an internal (negative) code, i.e. a VM/host problem
    /// rather than an outcome of the guest program.
    pub const fn is_internal(self) -> bool {
        (self as i32) < 0
    }

    /// Whether `gas_left` in a result with this status is meaningful
    /// (unused gas is returned to the caller). See the table on
    /// [`StatusCode`].
    pub const fn returns_gas(self) -> bool {
        matches!(
            self,
            StatusCode::Success | StatusCode::Revert | StatusCode::CallDepthExceeded | StatusCode::InsufficientBalance
        )
    }

    /// The stable snake_case name used in logs, JSON and the C header.
    pub const fn name(self) -> &'static str {
        match self {
            StatusCode::Success => "success",
            StatusCode::Failure => "failure",
            StatusCode::Revert => "revert",
            StatusCode::OutOfGas => "out_of_gas",
            StatusCode::InvalidInstruction => "invalid_instruction",
            StatusCode::InvalidMemoryAccess => "invalid_memory_access",
            StatusCode::CallDepthExceeded => "call_depth_exceeded",
            StatusCode::InsufficientBalance => "insufficient_balance",
            StatusCode::InsufficientInput => "insufficient_input",
            StatusCode::InvalidSyscallArgument => "invalid_syscall_argument",
            StatusCode::PrecompileFailure => "precompile_failure",
            StatusCode::InternalError => "internal_error",
            StatusCode::Rejected => "rejected",
            StatusCode::OutOfMemory => "out_of_memory",
        }
    }
}

/// Prints the stable snake_case [`StatusCode::name`].
impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Same as [`StatusCode::from_i32`], for `?`-friendly conversion; the error
/// carries the unknown value.
impl TryFrom<i32> for StatusCode {
    type Error = i32;
    fn try_from(value: i32) -> Result<Self, i32> {
        StatusCode::from_i32(value).ok_or(value)
    }
}

impl From<StatusCode> for i32 {
    fn from(value: StatusCode) -> i32 {
        value as i32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn stable_values() {
        let expected = [
            (StatusCode::Success, 0),
            (StatusCode::Failure, 1),
            (StatusCode::Revert, 2),
            (StatusCode::OutOfGas, 3),
            (StatusCode::InvalidInstruction, 4),
            (StatusCode::InvalidMemoryAccess, 5),
            (StatusCode::CallDepthExceeded, 6),
            (StatusCode::InsufficientBalance, 7),
            (StatusCode::InsufficientInput, 8),
            (StatusCode::InvalidSyscallArgument, 9),
            (StatusCode::PrecompileFailure, 10),
            (StatusCode::InternalError, -1),
            (StatusCode::Rejected, -2),
            (StatusCode::OutOfMemory, -3),
        ];
        assert_eq!(expected.len(), StatusCode::ALL.len());
        for (code, value) in expected {
            assert_eq!(code.as_i32(), value);
            assert_eq!(i32::from(code), value);
        }
    }

    #[test]
    fn round_trip_every_value() {
        for code in StatusCode::ALL {
            assert_eq!(StatusCode::from_i32(code.as_i32()), Some(code));
            assert_eq!(StatusCode::try_from(code.as_i32()), Ok(code));
            assert_eq!(code.is_internal(), code.as_i32() < 0);
            assert_eq!(code.is_success(), code == StatusCode::Success);
        }
        let names: BTreeSet<_> = StatusCode::ALL.iter().map(|c| c.to_string()).collect();
        assert_eq!(names.len(), StatusCode::ALL.len(), "names must be unique");
        for name in &names {
            assert!(name.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{name}");
        }
        assert_eq!(StatusCode::OutOfGas.to_string(), "out_of_gas");
    }

    #[test]
    fn unknown_values() {
        for v in [11, 12, 100, -4, -100, i32::MAX, i32::MIN] {
            assert_eq!(StatusCode::from_i32(v), None, "{v}");
            assert_eq!(StatusCode::try_from(v), Err(v));
        }
        let known = (-1000..1000).filter(|&v| StatusCode::from_i32(v).is_some()).count();
        assert_eq!(known, StatusCode::ALL.len());
    }
}

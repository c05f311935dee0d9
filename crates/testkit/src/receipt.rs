//! [`Receipt`]: what one call or spawn on a [`crate::Chain`] did.

use crate::error::Error;
use athena_interface::{Address, MessageKind, StatusCode};
use athena_runtime::Log;
use parity_scale_codec::{Decode, DecodeAll};
use std::fmt;

/// The outcome of one transaction sent to a [`crate::Chain`]: status, gas,
/// output and logs, plus what was sent, for readable failure messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// `Call` or `Spawn`.
    pub kind: MessageKind,
    /// The sender (the transaction's principal).
    pub from: Address,
    /// The program called, or the template spawned from.
    pub to: Address,
    /// The method name, for calls made by name.
    pub method: Option<String>,
    /// How execution ended.
    pub status: StatusCode,
    /// The gas limit the transaction was sent with.
    pub gas_limit: u64,
    /// Gas consumed (the whole limit for failures other than revert).
    pub gas_used: u64,
    /// Return data on success (for a spawn: the 24-byte program address),
    /// revert data on revert, empty otherwise.
    pub output: Vec<u8>,
    /// Logs emitted, in order; empty unless the transaction succeeded.
    pub logs: Vec<Log>,
}

impl Receipt {
    /// Whether the transaction succeeded (its effects were kept).
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// The revert message: the revert data as (lossy) UTF-8, for a
    /// transaction that reverted; `None` for any other status.
    pub fn revert_message(&self) -> Option<String> {
        (self.status == StatusCode::Revert).then(|| String::from_utf8_lossy(&self.output).into_owned())
    }

    /// The output decoded as `T` (SCALE, every byte consumed). `()` decodes
    /// from empty output. Fails with [`Error::Failed`] if the transaction
    /// did not succeed.
    pub fn decode<T: Decode>(&self) -> Result<T, Error> {
        self.check()?;
        T::decode_all(&mut self.output.as_slice())
            .map_err(|source| Error::Decode { what: format!("the output of {}", self.what()), source })
    }

    /// The address of the program a successful spawn created.
    pub fn spawned_address(&self) -> Result<Address, Error> {
        self.check()?;
        match <[u8; 24]>::try_from(self.output.as_slice()) {
            Ok(bytes) if self.kind == MessageKind::Spawn => Ok(Address::new(bytes)),
            _ => Err(Error::Failed {
                what: self.what(),
                status: self.status,
                message: Some("not a spawn receipt".to_owned()),
            }),
        }
    }

    /// `Ok(self)` if the transaction succeeded, else [`Error::Failed`] with
    /// the status and revert message: for tests that `?` their calls.
    pub fn into_result(self) -> Result<Self, Error> {
        self.check()?;
        Ok(self)
    }

    /// Panics with this receipt's description unless it succeeded.
    #[track_caller]
    pub fn assert_success(&self) -> &Self {
        assert!(self.is_success(), "expected success: {self}");
        self
    }

    /// Panics unless the transaction ended with `status`.
    #[track_caller]
    pub fn assert_status(&self, status: StatusCode) -> &Self {
        assert_eq!(self.status, status, "expected {status}: {self}");
        self
    }

    /// Panics unless the transaction reverted with a message containing
    /// `expected`.
    #[track_caller]
    pub fn assert_revert(&self, expected: &str) -> &Self {
        match self.revert_message() {
            Some(message) if message.contains(expected) => self,
            _ => panic!("expected a revert with {expected:?}: {self}"),
        }
    }

    /// What was sent, e.g. ``call `increment` on 0x…``.
    pub fn what(&self) -> String {
        match (self.kind, &self.method) {
            (MessageKind::Spawn, _) => format!("spawn from template {}", self.to),
            (_, Some(method)) => format!("call `{method}` on {}", self.to),
            _ => format!("call to {}", self.to),
        }
    }

    fn check(&self) -> Result<(), Error> {
        if self.is_success() {
            return Ok(());
        }
        Err(Error::Failed { what: self.what(), status: self.status, message: self.revert_message() })
    }
}

impl fmt::Display for Receipt {
    /// ``call `increment` on 0x…: revert "too big" (gas 1234 of 100000)``.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.what(), self.status)?;
        if let Some(message) = self.revert_message() {
            write!(f, " {message:?}")?;
        }
        write!(f, " (gas {} of {})", self.gas_used, self.gas_limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parity_scale_codec::Encode;

    fn receipt(status: StatusCode, output: Vec<u8>) -> Receipt {
        Receipt {
            kind: MessageKind::Call,
            from: Address::new([1; 24]),
            to: Address::new([2; 24]),
            method: Some("get".into()),
            status,
            gas_limit: 100,
            gas_used: 40,
            output,
            logs: Vec::new(),
        }
    }

    #[test]
    fn decoding_and_messages() {
        let ok = receipt(StatusCode::Success, 7u64.encode());
        assert_eq!(ok.decode::<u64>().unwrap(), 7);
        assert!(matches!(ok.decode::<u32>(), Err(Error::Decode { .. })), "trailing bytes are an error");
        assert!(receipt(StatusCode::Success, vec![]).decode::<()>().is_ok());
        assert_eq!(ok.revert_message(), None);
        assert!(ok.spawned_address().is_err());
        ok.assert_success();

        let reverted = receipt(StatusCode::Revert, b"too big".to_vec());
        assert_eq!(reverted.revert_message().as_deref(), Some("too big"));
        reverted.assert_revert("big").assert_status(StatusCode::Revert);
        let err = reverted.decode::<u64>().unwrap_err().to_string();
        assert_eq!(err, format!("call `get` on {} failed with revert: too big", Address::new([2; 24])));
        assert_eq!(
            reverted.to_string(),
            format!("call `get` on {}: revert \"too big\" (gas 40 of 100)", Address::new([2; 24]))
        );
        assert!(reverted.clone().into_result().is_err());

        let spawn = Receipt { kind: MessageKind::Spawn, output: vec![9; 24], ..receipt(StatusCode::Success, vec![]) };
        assert_eq!(spawn.spawned_address().unwrap(), Address::new([9; 24]));
    }

    #[test]
    #[should_panic(expected = "expected success: call `get`")]
    fn assert_success_panics_with_the_receipt() {
        receipt(StatusCode::OutOfGas, vec![]).assert_success();
    }
}

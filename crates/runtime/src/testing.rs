//! Helpers shared by the crate's unit tests.

use crate::state::{Account, StateError, StateReader};
use athena_interface::{Address, Bytes32};
use std::sync::Arc;

pub(crate) fn addr(b: u8) -> Address {
    Address::new([b; 24])
}

pub(crate) fn word(b: u8) -> Bytes32 {
    Bytes32::new([b; 32])
}

/// A backend whose account and storage reads fail (with different errors,
/// to tell which came first).
pub(crate) struct Broken;

impl StateReader for Broken {
    fn account(&self, _: &Address) -> Result<Option<Account>, StateError> {
        Err(StateError::Backend("disk on fire".into()))
    }
    fn storage(&self, _: &Address, _: &Bytes32) -> Result<Bytes32, StateError> {
        Err(StateError::Backend("second error".into()))
    }
    fn program_state(&self, _: &Address) -> Result<Vec<u8>, StateError> {
        Ok(Vec::new())
    }
    fn template_code(&self, _: &Address) -> Result<Option<Arc<[u8]>>, StateError> {
        Ok(None)
    }
}

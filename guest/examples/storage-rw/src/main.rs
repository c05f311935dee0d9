//! Storage round trip: writes a value under a key of the own account,
//! reads it back, checks that it is the same, and returns it as return data.
//!
//! Input: a 32-byte key followed by a 32-byte value; any other input uses
//! [`DEFAULT_KEY`] and [`DEFAULT_VALUE`]. Output (return data): the 32-byte
//! value read back. A mismatch panics (status `failure`).
#![no_std]
#![no_main]

use athena_guest_rt::host::{return_data, storage_read, storage_write, Word};

athena_guest_rt::entry!(main);

/// Key used when the input is not 64 bytes.
const DEFAULT_KEY: Word = [0x11; 32];
/// Value used when the input is not 64 bytes.
const DEFAULT_VALUE: Word = [0x22; 32];

fn main() {
    let input = athena_guest_rt::input();
    let (key, value) = match input.len() {
        64 => {
            let mut key = [0u8; 32];
            let mut value = [0u8; 32];
            key.copy_from_slice(&input[..32]);
            value.copy_from_slice(&input[32..]);
            (key, value)
        }
        _ => (DEFAULT_KEY, DEFAULT_VALUE),
    };
    storage_write(&key, &value);
    let read = storage_read(&key);
    assert_eq!(read, value, "storage read back a different value");
    return_data(&read);
}

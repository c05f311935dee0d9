//! Mempool operation sequences: the input bytes are decoded (every input is
//! a valid program) into a small configuration and a sequence of the calls
//! the relay makes, run twice on fresh pools with the invariants checked
//! after every call and every admission undone on a copy (see
//! `athena_relay::mempool::model`). Any panic is a finding.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    athena_relay::mempool::model::check(data);
});

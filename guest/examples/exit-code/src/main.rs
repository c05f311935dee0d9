//! Halts with a chosen exit code: host tests use it to check that `HALT`'s
//! code reaches the host.
//!
//! Input: the code as a little-endian `u32` (default 3 when the input is
//! empty). No output.
#![no_std]
#![no_main]

athena_guest_rt::entry!(main);

/// Exit code when the run has no input.
const DEFAULT_CODE: u32 = 3;

fn main() {
    athena_guest_rt::exit(athena_guest_rt::input_u32_le().unwrap_or(DEFAULT_CODE));
}

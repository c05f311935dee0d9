//! Support code for the code `#[template]` generates. Not a stable API:
//! reach it only through the macros (`athena_sdk::__private`).
//!
//! Every failure here ends the frame with `REVERT` and a UTF-8 message
//! starting with `athena: ` (the exact texts are listed in docs/sdk.md),
//! never with a trap, so a caller can always tell a bad call from a broken
//! program. Messages are assembled from pieces at run time rather than
//! with `core::fmt`, which would cost kilobytes of code in every program.

use crate::codec::{Decode, DecodeAll, Encode};
use crate::host::{revert, revert_data, Selector};
use alloc::vec::Vec;

/// The input of the frame.
pub fn input() -> Vec<u8> {
    athena_guest_rt::input()
}

/// Splits the input into its selector and the encoded arguments.
pub fn split_selector(input: &[u8]) -> (Selector, &[u8]) {
    match input.split_first_chunk::<4>() {
        Some((selector, args)) => (*selector, args),
        None => revert("athena: input shorter than a 4-byte selector"),
    }
}

/// The program's state, decoded as the template struct.
pub fn load_state<T: Decode>() -> T {
    match T::decode_all(&mut crate::host::state().as_slice()) {
        Ok(state) => state,
        Err(_) => revert("athena: cannot decode the program state"),
    }
}

/// Decodes the next argument of `method` from `args`.
pub fn decode_arg<T: Decode>(args: &mut &[u8], method: &str) -> T {
    match T::decode(args) {
        Ok(value) => value,
        Err(_) => revert_about(b"athena: cannot decode the arguments of `", method),
    }
}

/// Checks that the arguments of `method` used the whole input.
pub fn end_args(args: &[u8], method: &str) {
    if !args.is_empty() {
        // Trailing bytes are a decoding error too (SCALE `decode_all`).
        revert_about(b"athena: cannot decode the arguments of `", method)
    }
}

/// Ends the frame with `SCALE(value)`.
pub fn return_value<T: Encode + ?Sized>(value: &T) -> ! {
    crate::host::return_value(value)
}

/// Reverts with `athena: unknown selector 0x........`.
#[cold]
pub fn unknown_selector(selector: Selector) -> ! {
    const PREFIX: &[u8] = b"athena: unknown selector 0x";
    let mut msg = [0u8; PREFIX.len() + 8];
    msg[..PREFIX.len()].copy_from_slice(PREFIX);
    crate::hex::encode_into(&selector, &mut msg[PREFIX.len()..]);
    revert_data(&msg)
}

/// Reverts with `prefix ‖ name ‖ "`"`.
#[cold]
#[inline(never)]
pub(crate) fn revert_about(prefix: &[u8], name: &str) -> ! {
    let mut msg = Vec::with_capacity(prefix.len() + name.len() + 1);
    msg.extend_from_slice(prefix);
    msg.extend_from_slice(name.as_bytes());
    msg.push(b'`');
    revert_data(&msg)
}

/// Appends `n` in decimal. Written without indexing, so it cannot pull
/// in a bounds-check panic (and with it `core::fmt`'s integer code).
pub fn push_decimal(out: &mut Vec<u8>, mut n: u32) {
    let mut digits = [0u8; 10];
    let mut first = digits.len();
    for (i, digit) in digits.iter_mut().enumerate().rev() {
        *digit = b'0' + (n % 10) as u8;
        n /= 10;
        first = i;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(digits.get(first..).unwrap_or_default());
}

#[cfg(all(target_arch = "riscv32", target_os = "none"))]
pub use crate::panic::{panic_revert, panic_revert_formatted};

/// Prints a template's method table (the host-side `fn main` of a contract
/// crate).
#[cfg(not(all(target_arch = "riscv32", target_os = "none")))]
pub fn print_template<T: crate::Template>() {
    std::println!("template {} ({} methods)", T::NAME, T::METHODS.len());
    for method in T::METHODS {
        std::println!("  {method}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal() {
        for n in [0, 7, 10, 4_294_967_295] {
            let mut out = Vec::new();
            push_decimal(&mut out, n);
            assert_eq!(out, alloc::format!("{n}").into_bytes());
        }
    }
}

//! Panics with the message `boom`: host tests use it to check the panic
//! path (a `panicked at ...` report on fd 2 and exit code 101).
#![no_std]
#![no_main]

athena_guest_rt::entry!(main);

fn main() {
    panic!("boom");
}

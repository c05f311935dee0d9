//! Prints `Hello, world!`: the smallest program that exercises `_start`,
//! `WRITE` and a clean exit (code 0).
#![no_std]
#![no_main]

athena_guest_rt::entry!(main);

fn main() {
    athena_guest_rt::println!("Hello, world!");
}

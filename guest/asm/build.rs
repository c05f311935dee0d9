//! Build script shared by the hand-written assembly guests (each crate's
//! `package.build` points here, so paths below are relative to
//! `guest/asm/<crate>`).
//!
//! These programs test the loader with an unusual layout: their code is
//! linked at 0x0020_0800 (not page-aligned, far from the default 0x10000
//! image base) and they enter at `_start` directly, with no runtime.

fn main() {
    println!("cargo:rustc-link-arg-bins=-Ttext=0x00200800");
    println!("cargo:rustc-link-arg-bins=--entry=_start");
    println!("cargo:rerun-if-changed=../build.rs");
}

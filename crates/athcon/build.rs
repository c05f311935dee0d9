//! Link flags of the `libathcon.so` cdylib.
//!
//! `-z nodelete`: the library must never be unmapped by `dlclose`. The
//! engine compiles programs on a background thread that lives as long as
//! the process (`athena_engine::tier`); a host that closes the library
//! while that thread is inside it would have it return into unmapped code
//! (a crash seen in the athcon-vmtester run under load). With the flag,
//! `dlclose` only drops the reference and the code stays mapped, the usual
//! remedy for Rust cdylibs, whose threads and thread-local destructors are
//! not unload-safe. `docs/athcon.md`, "Loading".

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
    }
}

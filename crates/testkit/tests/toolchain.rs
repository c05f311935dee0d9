//! A missing or unusable guest toolchain is a clear, typed error. Its own
//! test binary because it changes the process environment.

use athena_testkit::{build_contract, Error};

#[test]
fn an_unusable_toolchain_is_reported_as_such() {
    // An explicit override that does not exist never falls back silently.
    std::env::set_var(athena_guest_builder::OVERRIDE_CARGO_ENV, "/nonexistent/guest/cargo");
    let err = build_contract(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/contracts/demo")).unwrap_err();
    assert!(matches!(err, Error::ToolchainMissing(_)), "{err:?}");
    let message = err.to_string();
    assert!(message.starts_with("cannot build Athena contracts: "), "{message}");
    assert!(message.contains("ATHENA_GUEST_CARGO"), "{message}");
}

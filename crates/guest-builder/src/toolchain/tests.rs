//! Detection logic against a fake machine.

use super::*;
use std::collections::{HashMap, HashSet};

/// A machine described by hand.
#[derive(Default)]
struct Fake {
    vars: HashMap<String, OsString>,
    files: HashSet<PathBuf>,
    dirs: HashSet<PathBuf>,
    sysroots: HashMap<PathBuf, PathBuf>,
    rustup: HashMap<(String, String), PathBuf>,
}

impl Fake {
    fn new() -> Self {
        let mut f = Fake::default();
        f.vars.insert("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into());
        f
    }
    fn file(mut self, p: &str) -> Self {
        self.files.insert(p.into());
        self
    }
    fn var(mut self, k: &str, v: &str) -> Self {
        self.vars.insert(k.into(), v.into());
        self
    }
    /// A rustc at `rustc` whose sysroot is `sysroot`, with or without the
    /// library source.
    fn rustc(mut self, rustc: &str, sysroot: &str, src: bool) -> Self {
        self.files.insert(rustc.into());
        self.sysroots.insert(rustc.into(), sysroot.into());
        if src {
            self.dirs.insert(Path::new(sysroot).join("lib/rustlib/src/rust/library/core"));
        }
        self
    }
    fn debian(self, src: bool, lld: bool) -> Self {
        let f = self.rustc("/usr/bin/rustc", "/usr", src).file("/usr/bin/cargo");
        if lld {
            f.file("/usr/bin/ld.lld")
        } else {
            f
        }
    }
    fn nightly(mut self, src: bool) -> Self {
        let dir = "/home/u/.rustup/toolchains/nightly";
        self.rustup.insert(("nightly".into(), "rustc".into()), format!("{dir}/bin/rustc").into());
        self.rustup.insert(("nightly".into(), "cargo".into()), format!("{dir}/bin/cargo").into());
        self.file(&format!("{dir}/bin/cargo")).rustc(&format!("{dir}/bin/rustc"), dir, src)
    }
}

impl Probe for Fake {
    fn var(&self, name: &str) -> Option<OsString> {
        self.vars.get(name).cloned()
    }
    fn is_file(&self, path: &Path) -> bool {
        self.files.contains(path)
    }
    fn is_dir(&self, path: &Path) -> bool {
        self.dirs.contains(path)
    }
    fn sysroot(&self, rustc: &Path) -> Option<PathBuf> {
        self.sysroots.get(rustc).cloned()
    }
    fn rustup_which(&self, toolchain: &str, tool: &str) -> Option<PathBuf> {
        self.rustup.get(&(toolchain.to_owned(), tool.to_owned())).cloned()
    }
}

fn not_found_message(probe: &Fake) -> String {
    match GuestToolchain::detect_with(probe) {
        Err(e @ ToolchainError::NotFound { .. }) => e.to_string(),
        other => panic!("expected NotFound, got {other:?}"),
    }
}

#[test]
fn debian_route() {
    let tc = GuestToolchain::detect_with(&Fake::new().debian(true, true)).unwrap();
    assert_eq!(tc.kind(), ToolchainKind::Debian);
    assert_eq!(tc.cargo(), Path::new("/usr/bin/cargo"));
    assert_eq!(tc.rustc(), Path::new("/usr/bin/rustc"));
    assert_eq!(tc.linker(), Some(Path::new("/usr/bin/ld.lld")));
    assert!(tc.needs_bootstrap());
}

#[test]
fn debian_is_preferred_over_nightly() {
    let tc = GuestToolchain::detect_with(&Fake::new().debian(true, true).nightly(true)).unwrap();
    assert_eq!(tc.kind(), ToolchainKind::Debian);
}

#[test]
fn nightly_with_rust_src_when_debian_lacks_source() {
    let tc = GuestToolchain::detect_with(&Fake::new().debian(false, true).nightly(true)).unwrap();
    assert_eq!(tc.kind(), ToolchainKind::RustupNightly);
    assert_eq!(tc.rustc(), Path::new("/home/u/.rustup/toolchains/nightly/bin/rustc"));
    assert_eq!(tc.linker(), None, "nightly links with its own rust-lld");
    assert!(!tc.needs_bootstrap());
}

#[test]
fn nightly_without_rust_src_is_not_enough() {
    // This machine's situation without the Debian packages.
    let msg = not_found_message(&Fake::new().nightly(false));
    assert!(msg.contains("rustup component add rust-src --toolchain nightly"), "{msg}");
    assert!(msg.contains("/usr/bin/rustc (apt package rustc-web or rustc)"), "{msg}");
    assert!(msg.contains("ld.lld on PATH (apt package lld)"), "{msg}");
    assert!(msg.contains("scripts/install-guest-toolchain.sh"), "{msg}");
}

#[test]
fn each_missing_debian_piece_is_named() {
    let msg = not_found_message(&Fake::new().debian(false, false));
    assert!(msg.contains("/usr/lib/rustlib/src/rust/library (apt package rust-web-src or rust-src)"), "{msg}");
    assert!(msg.contains("ld.lld on PATH"), "{msg}");
    assert!(!msg.contains("/usr/bin/cargo ("), "cargo is present: {msg}");
    assert!(msg.contains("no rustup `nightly` toolchain"), "{msg}");

    let msg = not_found_message(&Fake::new().debian(true, false));
    assert!(msg.contains("Debian route: missing ld.lld on PATH"), "{msg}");
}

#[test]
fn lld_is_found_anywhere_on_path() {
    let fake = Fake::new().debian(true, false).file("/opt/llvm/bin/ld.lld").var("PATH", "/opt/llvm/bin:/usr/bin");
    let tc = GuestToolchain::detect_with(&fake).unwrap();
    assert_eq!(tc.linker(), Some(Path::new("/opt/llvm/bin/ld.lld")));

    let no_path = Fake { vars: HashMap::new(), ..Fake::new().debian(true, true) };
    assert!(GuestToolchain::detect_with(&no_path).is_err());
}

#[test]
fn override_wins_over_everything() {
    let fake = Fake::new()
        .debian(true, true)
        .nightly(true)
        .rustc("/opt/rust/bin/rustc", "/opt/rust", true)
        .file("/opt/rust/bin/cargo")
        .var(OVERRIDE_CARGO_ENV, "/opt/rust/bin/cargo")
        .var(OVERRIDE_RUSTC_ENV, "/opt/rust/bin/rustc");
    let tc = GuestToolchain::detect_with(&fake).unwrap();
    assert_eq!(tc.kind(), ToolchainKind::Override);
    assert_eq!(tc.cargo(), Path::new("/opt/rust/bin/cargo"));
    assert_eq!(tc.rustc(), Path::new("/opt/rust/bin/rustc"));
    assert_eq!(tc.linker(), Some(Path::new("/usr/bin/ld.lld")));
    assert!(tc.needs_bootstrap());
}

#[test]
fn override_fills_in_the_sibling() {
    let base = Fake::new().rustc("/opt/rust/bin/rustc", "/opt/rust", true).file("/opt/rust/bin/cargo");
    let tc = GuestToolchain::detect_with(&base.var(OVERRIDE_CARGO_ENV, "/opt/rust/bin/cargo")).unwrap();
    assert_eq!(tc.rustc(), Path::new("/opt/rust/bin/rustc"));
    assert_eq!(tc.linker(), None);

    let base = Fake::new().rustc("/opt/rust/bin/rustc", "/opt/rust", true).file("/opt/rust/bin/cargo");
    let tc = GuestToolchain::detect_with(&base.var(OVERRIDE_RUSTC_ENV, "/opt/rust/bin/rustc")).unwrap();
    assert_eq!(tc.cargo(), Path::new("/opt/rust/bin/cargo"));
}

#[test]
fn override_resolves_bare_names_on_path() {
    let fake = Fake::new()
        .rustc("/usr/local/bin/rustc", "/usr/local", true)
        .file("/usr/local/bin/cargo")
        .var(OVERRIDE_CARGO_ENV, "cargo")
        .var(OVERRIDE_RUSTC_ENV, "rustc");
    let tc = GuestToolchain::detect_with(&fake).unwrap();
    assert_eq!(tc.cargo(), Path::new("/usr/local/bin/cargo"));
    assert_eq!(tc.rustc(), Path::new("/usr/local/bin/rustc"));
}

#[test]
fn a_broken_override_never_falls_back() {
    let bad_path = Fake::new().debian(true, true).var(OVERRIDE_CARGO_ENV, "/nope/cargo");
    match GuestToolchain::detect_with(&bad_path) {
        Err(ToolchainError::BadOverride { var, reason }) => {
            assert_eq!(var, OVERRIDE_CARGO_ENV);
            assert!(reason.contains("/nope/cargo"), "{reason}");
        }
        other => panic!("{other:?}"),
    }

    let no_source = Fake::new()
        .debian(true, true)
        .rustc("/opt/rust/bin/rustc", "/opt/rust", false)
        .file("/opt/rust/bin/cargo")
        .var(OVERRIDE_RUSTC_ENV, "/opt/rust/bin/rustc");
    let err = GuestToolchain::detect_with(&no_source).unwrap_err().to_string();
    assert!(err.starts_with("ATHENA_GUEST_RUSTC is set but unusable"), "{err}");
    assert!(err.contains("/opt/rust/lib/rustlib/src/rust/library"), "{err}");

    let no_sibling =
        Fake::new().rustc("/opt/rust/bin/rustc", "/opt/rust", true).var(OVERRIDE_RUSTC_ENV, "/opt/rust/bin/rustc");
    let err = GuestToolchain::detect_with(&no_sibling).unwrap_err().to_string();
    assert!(err.contains("ATHENA_GUEST_CARGO is not set and there is no /opt/rust/bin/cargo"), "{err}");
}

#[test]
fn empty_override_variables_are_ignored() {
    let fake = Fake::new()
        .debian(true, true)
        .var(OVERRIDE_CARGO_ENV, "")
        .var(OVERRIDE_RUSTC_ENV, "")
        .var(OVERRIDE_LINKER_ENV, "");
    let tc = GuestToolchain::detect_with(&fake).unwrap();
    assert_eq!(tc.kind(), ToolchainKind::Debian);
    assert_eq!(tc.linker(), Some(Path::new("/usr/bin/ld.lld")));
}

#[test]
fn linker_override_applies_to_every_route() {
    let fake = Fake::new().nightly(true).file("/opt/lld/ld.lld").var(OVERRIDE_LINKER_ENV, "/opt/lld/ld.lld");
    let tc = GuestToolchain::detect_with(&fake).unwrap();
    assert_eq!(tc.kind(), ToolchainKind::RustupNightly);
    assert_eq!(tc.linker(), Some(Path::new("/opt/lld/ld.lld")));

    let bad = Fake::new().debian(true, true).var(OVERRIDE_LINKER_ENV, "/opt/none/ld.lld");
    assert!(matches!(
        GuestToolchain::detect_with(&bad),
        Err(ToolchainError::BadOverride { var: OVERRIDE_LINKER_ENV, .. })
    ));
}

#[test]
fn display_names_the_pieces() {
    let tc = GuestToolchain::detect_with(&Fake::new().debian(true, true)).unwrap();
    assert_eq!(
        tc.to_string(),
        "Debian rustc with rust-src: cargo /usr/bin/cargo, rustc /usr/bin/rustc, linker /usr/bin/ld.lld"
    );
}

//! `athena new NAME`: scaffold a contract crate that builds and passes its
//! test out of the box.
//!
//! The crate is standalone (its own `[workspace]`), depends on this
//! checkout's `athena-sdk` and, for its tests, `athena-testkit` by path:
//! nothing is published to a registry yet, so the checkout the `athena`
//! binary was built from is the natural source (override with
//! `--athena-path`). The files come from `templates/new/`, with `{{...}}`
//! placeholders filled in here.

use clap::Args;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `athena new`.
#[derive(Args, Debug)]
pub struct NewArgs {
    /// Name of the contract crate (and of its directory): lowercase
    /// letters, digits, `-` and `_`, starting with a letter.
    name: String,
    /// Create the crate in this directory instead of `./NAME`.
    #[arg(long, value_name = "DIR")]
    path: Option<PathBuf>,
    /// The Athena checkout whose `guest/sdk` and `crates/testkit` the crate
    /// depends on (default: the one this `athena` was built from).
    #[arg(long, value_name = "DIR")]
    athena_path: Option<PathBuf>,
}

/// One file of the scaffold: where it goes and its template text.
struct Template {
    path: &'static str,
    text: &'static str,
}

const TEMPLATES: &[Template] = &[
    Template { path: "Cargo.toml", text: include_str!("../templates/new/Cargo.toml.tmpl") },
    Template { path: "src/main.rs", text: include_str!("../templates/new/main.rs.tmpl") },
    Template { path: "tests/contract.rs", text: include_str!("../templates/new/contract_test.rs.tmpl") },
    Template { path: "README.md", text: include_str!("../templates/new/README.md.tmpl") },
    Template { path: ".gitignore", text: "/target\n" },
];

/// Why a scaffold could not be created. Nothing is written unless every
/// check passed, so a failed `athena new` leaves no half-made directory.
#[derive(Debug)]
enum NewError {
    InvalidName(String),
    Exists(PathBuf),
    NoCheckout(PathBuf),
    Io(PathBuf, std::io::Error),
}

impl fmt::Display for NewError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NewError::InvalidName(name) => write!(
                f,
                "invalid crate name {name:?}: use lowercase ASCII letters, digits, '-' and '_', starting with a letter \
                 (at most 64 characters)"
            ),
            NewError::Exists(dir) => write!(f, "{} already exists; choose another name or --path", dir.display()),
            NewError::NoCheckout(dir) => write!(
                f,
                "{} is not an Athena checkout (no guest/sdk/Cargo.toml or crates/testkit/Cargo.toml); pass --athena-path",
                dir.display()
            ),
            NewError::Io(path, e) => write!(f, "{}: {e}", path.display()),
        }
    }
}

/// Runs `athena new`.
pub fn new(args: NewArgs) -> ExitCode {
    match scaffold(&args) {
        Ok(dir) => {
            println!("created contract crate `{}` in {}", args.name, dir.display());
            println!("  cd {} && cargo test     # builds the contract for RISC-V, then tests it", dir.display());
            println!("  athena build {}          # the stripped ELF and its size", dir.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("athena: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The checkout this binary was compiled from (`crates/cli/../..`).
fn default_checkout() -> PathBuf {
    let cli = Path::new(env!("CARGO_MANIFEST_DIR"));
    cli.parent().and_then(Path::parent).unwrap_or(cli).to_path_buf()
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && name.len() <= 64
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '-' | '_'))
        // Cargo refuses these as package names.
        && !matches!(name, "test" | "core" | "alloc" | "std" | "self" | "crate" | "super")
}

/// `counter-app` -> `CounterApp`: the template struct's name.
fn struct_name(name: &str) -> String {
    name.split(['-', '_'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect()
}

/// A path as it may appear inside a TOML basic string.
fn toml_path(path: &Path) -> String {
    path.display().to_string().replace('\\', "\\\\").replace('"', "\\\"")
}

fn render(text: &str, name: &str, checkout: &Path) -> String {
    text.replace("{{name}}", name)
        .replace("{{crate}}", &name.replace('-', "_"))
        .replace("{{Struct}}", &struct_name(name))
        .replace("{{sdk_path}}", &toml_path(&checkout.join("guest").join("sdk")))
        .replace("{{testkit_path}}", &toml_path(&checkout.join("crates").join("testkit")))
}

/// Checks everything, then writes the files; returns the crate directory.
fn scaffold(args: &NewArgs) -> Result<PathBuf, NewError> {
    if !valid_name(&args.name) {
        return Err(NewError::InvalidName(args.name.clone()));
    }
    let dir = args.path.clone().unwrap_or_else(|| PathBuf::from(&args.name));
    if dir.exists() {
        return Err(NewError::Exists(dir));
    }
    let checkout = args.athena_path.clone().unwrap_or_else(default_checkout);
    let checkout = std::path::absolute(&checkout).map_err(|e| NewError::Io(checkout.clone(), e))?;
    if !checkout.join("guest/sdk/Cargo.toml").is_file() || !checkout.join("crates/testkit/Cargo.toml").is_file() {
        return Err(NewError::NoCheckout(checkout));
    }
    for template in TEMPLATES {
        let path = dir.join(template.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| NewError::Io(parent.to_owned(), e))?;
        }
        std::fs::write(&path, render(template.text, &args.name, &checkout)).map_err(|e| NewError::Io(path, e))?;
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["demo", "counter-app", "a1_b2", "x"] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["", "Demo", "1demo", "-x", "de mo", "dé", "test", &"a".repeat(65), "a/b", "../x"] {
            assert!(!valid_name(bad), "{bad}");
        }
        assert_eq!(struct_name("demo"), "Demo");
        assert_eq!(struct_name("counter-app_v2"), "CounterAppV2");
    }

    #[test]
    fn render_fills_every_placeholder() {
        let checkout = Path::new("/src/athena \"x\"");
        for template in TEMPLATES {
            let out = render(template.text, "my-app", checkout);
            assert!(!out.contains("{{"), "{} keeps a placeholder:\n{out}", template.path);
        }
        let cargo = render(TEMPLATES[0].text, "my-app", checkout);
        assert!(cargo.contains(r#"name = "my-app""#), "{cargo}");
        assert!(cargo.contains(r#"/src/athena \"x\"/guest/sdk"#), "{cargo}");
    }
}

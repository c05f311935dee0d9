//! `athena build`: compile a guest crate to RISC-V ELF with the detected
//! guest toolchain and report what was produced.

use athena_guest_builder::{BuildRequest, GuestTarget, GuestToolchain};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `athena build`.
#[derive(Args, Debug)]
pub struct BuildArgs {
    /// The guest crate or guest workspace directory (or its Cargo.toml).
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Guest target: rv32em (default) or rv32im, or a full target triple.
    #[arg(long, default_value = "rv32em")]
    target: GuestTarget,
    /// Build only this package (repeatable); default: every binary of the workspace.
    #[arg(long, short = 'p', value_name = "NAME")]
    package: Vec<String>,
    /// Where cargo puts its output (default: `target/` next to the manifest).
    #[arg(long, value_name = "DIR")]
    target_dir: Option<PathBuf>,
    /// Hide cargo's progress output.
    #[arg(long, short = 'q')]
    quiet: bool,
}

/// Runs `athena build`.
pub fn build(args: BuildArgs) -> ExitCode {
    let manifest = if args.path.is_dir() { args.path.join("Cargo.toml") } else { args.path.clone() };
    let target_dir = args
        .target_dir
        .clone()
        .unwrap_or_else(|| manifest.parent().map(|dir| dir.join("target")).unwrap_or_else(|| PathBuf::from("target")));
    // Cargo runs in the manifest's directory; keep relative paths relative
    // to where the user typed them.
    let target_dir = std::path::absolute(&target_dir).unwrap_or(target_dir);
    let manifest = std::path::absolute(&manifest).unwrap_or(manifest);
    let toolchain = match GuestToolchain::detect() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("athena: {e}");
            return ExitCode::FAILURE;
        }
    };
    if !args.quiet {
        eprintln!("athena: building {} for {} with {toolchain}", manifest.display(), args.target.triple());
    }
    let mut request = BuildRequest::new(&manifest).target(args.target).target_dir(target_dir).echo(!args.quiet);
    for package in &args.package {
        request = request.package(package.clone());
    }
    match toolchain.build(&request) {
        Ok(output) => {
            for binary in &output.binaries {
                let size = std::fs::metadata(&binary.path).map(|m| m.len()).unwrap_or(0);
                println!("{}\t{}\t{size} bytes", binary.name, binary.path.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("athena: build failed: {e}");
            ExitCode::FAILURE
        }
    }
}

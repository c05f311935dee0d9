//! `athena run`: load an ELF, run it with a gas limit, report the outcome.

use athena_vm::memory::DEFAULT_MEMORY_LIMIT;
use athena_vm::{CollectingEnvironment, Engine, Environment, Exit, Machine, MachineConfig, Outcome, Program};
use clap::Args;
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit status when the gas limit was reached.
pub const EXIT_OUT_OF_GAS: u8 = 124;
/// Exit status when the program or its input could not be read or loaded.
pub const EXIT_LOAD_ERROR: u8 = 125;
/// Exit status when the guest trapped.
pub const EXIT_TRAP: u8 = 126;

/// Default gas limit: enough for billions of simple instructions' worth of
/// work, small enough that an infinite loop ends in seconds.
const DEFAULT_GAS: u64 = 1_000_000_000;

/// Arguments of `athena run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// The statically linked RISC-V ELF executable to run.
    program: PathBuf,
    /// Input bytes for the guest, as hex (an optional 0x prefix is allowed).
    #[arg(long, value_name = "HEX", conflicts_with = "input_file")]
    input: Option<String>,
    /// Read the guest's input bytes from this file.
    #[arg(long, value_name = "FILE")]
    input_file: Option<PathBuf>,
    /// Gas limit for the run.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_GAS)]
    gas: u64,
    /// Most bytes of guest memory the run may use.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MEMORY_LIMIT)]
    memory_limit: u32,
    /// Print one JSON object describing the run instead of the guest's output.
    #[arg(long)]
    json: bool,
    /// After the run, print a one-line summary (status, instructions, gas) to stderr.
    #[arg(long, conflicts_with = "json")]
    stats: bool,
    /// Execution engine; both give identical results, `reference` is the
    /// specification and slower.
    #[arg(long, value_enum, default_value_t = EngineArg::Fast)]
    engine: EngineArg,
}

/// `--engine` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineArg {
    /// Pre-decoded ops, gas per straight-line run.
    Fast,
    /// One instruction at a time.
    Reference,
}

impl From<EngineArg> for Engine {
    fn from(e: EngineArg) -> Self {
        match e {
            EngineArg::Fast => Engine::Fast,
            EngineArg::Reference => Engine::Reference,
        }
    }
}

/// Streams guest output straight to this process's stdout and stderr.
struct StreamingEnvironment {
    input: Vec<u8>,
    stdout: std::io::Stdout,
    stderr: std::io::Stderr,
}

impl Environment for StreamingEnvironment {
    fn input(&self) -> &[u8] {
        &self.input
    }

    fn write(&mut self, fd: u32, bytes: &[u8]) {
        // A closed pipe must not change the guest's outcome, so write errors
        // are ignored here: the run is deterministic whoever is listening.
        let _ = match fd {
            1 => self.stdout.write_all(bytes),
            _ => self.stderr.write_all(bytes),
        };
    }
}

/// Runs `athena run` and maps the outcome to the process exit code.
pub fn run(args: RunArgs) -> ExitCode {
    let config = MachineConfig { gas_limit: args.gas, memory_limit: args.memory_limit };
    let prepared = read_input(&args).and_then(|input| {
        let elf =
            std::fs::read(&args.program).map_err(|e| format!("cannot read program {}: {e}", args.program.display()))?;
        let program =
            Program::from_elf(&elf).map_err(|e| format!("invalid program {}: {e}", args.program.display()))?;
        Ok((input, program))
    });
    let (input, program) = match prepared {
        Ok(p) => p,
        Err(message) => return load_failure(&args, config, &message),
    };
    let mut machine = match Machine::new(&program, config) {
        Ok(m) => m,
        Err(e) => return load_failure(&args, config, &format!("cannot load {}: {e}", args.program.display())),
    };
    if args.json {
        let mut env = CollectingEnvironment::with_input(input);
        let outcome = machine.run_with(args.engine.into(), &mut env);
        print_json(&outcome_json(&outcome, config, &env));
        exit_code(&outcome)
    } else {
        let mut env = StreamingEnvironment { input, stdout: std::io::stdout(), stderr: std::io::stderr() };
        let outcome = machine.run_with(args.engine.into(), &mut env);
        let _ = env.stdout.flush();
        match &outcome.exit {
            Exit::Halted { .. } => {}
            Exit::OutOfGas => eprintln!(
                "athena: out of gas after {} instructions (gas limit {})",
                outcome.instructions, config.gas_limit
            ),
            Exit::Trapped(trap) => eprintln!("athena: trap: {trap}"),
        }
        if args.stats {
            let status = match outcome.exit {
                Exit::Halted { code } => format!("halted with exit code {code}"),
                Exit::OutOfGas => "out of gas".to_owned(),
                Exit::Trapped(_) => "trapped".to_owned(),
            };
            eprintln!(
                "athena: {status}; {} instructions, {} gas used of {}",
                outcome.instructions, outcome.gas_used, config.gas_limit
            );
        }
        exit_code(&outcome)
    }
}

fn read_input(args: &RunArgs) -> Result<Vec<u8>, String> {
    if let Some(text) = &args.input {
        let digits = text.trim().trim_start_matches("0x").trim_start_matches("0X");
        return hex::decode(digits).map_err(|e| format!("--input is not valid hex: {e}"));
    }
    if let Some(path) = &args.input_file {
        return std::fs::read(path).map_err(|e| format!("cannot read input file {}: {e}", path.display()));
    }
    Ok(Vec::new())
}

fn load_failure(args: &RunArgs, config: MachineConfig, message: &str) -> ExitCode {
    if args.json {
        print_json(&json!({
            "status": "load_error",
            "exit_code": null,
            "gas_limit": config.gas_limit,
            "gas_used": 0,
            "instructions": 0,
            "error": message,
        }));
    } else {
        eprintln!("athena: {message}");
    }
    ExitCode::from(EXIT_LOAD_ERROR)
}

/// The process exit code for an outcome.
fn exit_code(outcome: &Outcome) -> ExitCode {
    ExitCode::from(match outcome.exit {
        Exit::Halted { code } => u8::try_from(code).unwrap_or(u8::MAX),
        Exit::OutOfGas => EXIT_OUT_OF_GAS,
        Exit::Trapped(_) => EXIT_TRAP,
    })
}

fn outcome_json(outcome: &Outcome, config: MachineConfig, env: &CollectingEnvironment) -> serde_json::Value {
    let (status, exit_code, trap) = match &outcome.exit {
        Exit::Halted { code } => ("halted", json!(code), serde_json::Value::Null),
        Exit::OutOfGas => ("out_of_gas", serde_json::Value::Null, serde_json::Value::Null),
        Exit::Trapped(t) => (
            "trapped",
            serde_json::Value::Null,
            json!({ "kind": t.kind(), "pc": format!("{:#010x}", t.pc()), "message": t.to_string() }),
        ),
    };
    let (stdout, stdout_encoding) = encode_bytes(&env.stdout);
    let (stderr, stderr_encoding) = encode_bytes(&env.stderr);
    json!({
        "status": status,
        "exit_code": exit_code,
        "gas_limit": config.gas_limit,
        "gas_used": outcome.gas_used,
        "instructions": outcome.instructions,
        "stdout": stdout,
        "stdout_encoding": stdout_encoding,
        "stderr": stderr,
        "stderr_encoding": stderr_encoding,
        "trap": trap,
    })
}

/// UTF-8 text when the bytes are valid UTF-8, hex otherwise.
fn encode_bytes(bytes: &[u8]) -> (String, &'static str) {
    match std::str::from_utf8(bytes) {
        Ok(text) => (text.to_owned(), "utf8"),
        Err(_) => (hex::encode(bytes), "hex"),
    }
}

fn print_json(value: &serde_json::Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{value}");
    let _ = out.flush();
}

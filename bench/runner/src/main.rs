//! `athena-bench`: runs the same Rust workloads on native Rust, Athena,
//! wasmi, CKB-VM and PolkaVM and reports time, guest work and peak memory
//! side by side. See `bench/README.md`; `scripts/bench.sh` is the one
//! command that builds every guest and runs this.

mod engines;
mod measure;
mod report;
mod sys;
mod tools;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use measure::{Measurement, Repeat, Task};

const USAGE: &str = "\
usage:
  athena-bench [--guests DIR] [--engines a,b] [--workloads a,b] [--iters N]
               [--min-time SECS] [--max-iters N] [--timeout SECS] [--report FILE]
  athena-bench measure --engine E --task T [--guests DIR] [--iters N] [--min-time S] [--max-iters N]
  athena-bench list
  athena-bench polkavm-target-json OUT.json
  athena-bench polkavm-link IN.elf OUT.polkavm
tasks: sieve sha256 keccak256 ed25519 transfers   instantiate + run, on the full guest
       load cold                                   load (+ instantiate) the ~50 KiB load program
       load-full cold-full                         the same for the full guest";

/// [`USAGE`] plus the guest artifacts each engine reads from `--guests`.
fn help() -> String {
    let mut s = format!(
        "{USAGE}\nguest artifacts (--guests DIR, default bench/target/guest-artifacts, built by scripts/bench.sh),\n\
         full guest / load program ({}):\n",
        bench_workloads::LOAD_PROGRAM.iter().map(|w| w.name()).collect::<Vec<_>>().join(", ")
    );
    for spec in engines::specs() {
        if let (Some(full), Some(load)) = (spec.artifact, spec.load_artifact) {
            s.push_str(&format!("  {:<17} {full} / {load}\n", spec.name));
        }
    }
    s
}

/// Parsed command-line options.
struct Options {
    guests: PathBuf,
    engines: Vec<String>,
    tasks: Vec<Task>,
    repeat: Repeat,
    timeout: Duration,
    report: PathBuf,
}

impl Options {
    fn defaults() -> Self {
        let bench = PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().map(PathBuf::from).unwrap_or_default();
        Options {
            guests: bench.join("target/guest-artifacts"),
            engines: engines::specs().iter().map(|s| s.name.to_string()).collect(),
            tasks: Task::all(),
            repeat: Repeat { min_iters: 5, min_time: Duration::from_millis(500), max_iters: 1000 },
            timeout: Duration::from_secs(600),
            report: bench.join("REPORT.md"),
        }
    }

    fn parse(args: &[String]) -> Result<(Self, BTreeMap<String, String>), String> {
        let mut o = Options::defaults();
        let mut extra = BTreeMap::new();
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
            let num = || value.parse::<f64>().map_err(|_| format!("{flag}: not a number: {value}"));
            match flag.as_str() {
                "--guests" => o.guests = value.into(),
                "--engines" => o.engines = value.split(',').map(str::to_string).collect(),
                "--workloads" | "--tasks" => {
                    o.tasks = value
                        .split(',')
                        .map(|t| Task::parse(t).ok_or(format!("unknown task `{t}`")))
                        .collect::<Result<_, _>>()?
                }
                "--iters" => o.repeat.min_iters = num()? as u32,
                "--min-time" => o.repeat.min_time = Duration::from_secs_f64(num()?),
                "--max-iters" => o.repeat.max_iters = num()? as u32,
                "--timeout" => o.timeout = Duration::from_secs_f64(num()?),
                "--report" => o.report = value.into(),
                "--engine" | "--task" => {
                    extra.insert(flag.clone(), value.clone());
                }
                _ => return Err(format!("unknown flag {flag}\n{USAGE}")),
            }
        }
        o.repeat.max_iters = o.repeat.max_iters.max(o.repeat.min_iters.max(1));
        o.repeat.min_iters = o.repeat.min_iters.max(1);
        Ok((o, extra))
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("measure") => child(&args[1..]),
        Some("list") => {
            for s in engines::specs() {
                println!("{:<18} {}", s.name, s.note);
            }
            Ok(())
        }
        Some("polkavm-target-json") if args.len() == 2 => tools::polkavm_target_json(args[1].as_ref()),
        Some("polkavm-link") if args.len() == 3 => tools::polkavm_link(args[1].as_ref(), args[2].as_ref()),
        Some("-h" | "--help") => {
            print!("{}", help());
            Ok(())
        }
        _ => parent(&args),
    };
    if let Err(e) = result {
        eprintln!("athena-bench: {e}");
        std::process::exit(1);
    }
}

/// `measure`: one measurement in this process, reported on stdout.
fn child(args: &[String]) -> Result<(), String> {
    let (o, extra) = Options::parse(args)?;
    let engine = extra.get("--engine").ok_or("measure needs --engine")?;
    let task = extra.get("--task").ok_or("measure needs --task")?;
    let task = Task::parse(task).ok_or_else(|| format!("unknown task `{task}`"))?;
    println!("{}", measure::measure(engine, task, &o.guests, o.repeat).to_line());
    Ok(())
}

/// The whole bench: every engine × task in its own child process.
fn parent(args: &[String]) -> Result<(), String> {
    let (o, _) = Options::parse(args)?;
    // Native always runs: its checksums are the reference.
    let specs: Vec<_> =
        engines::specs().into_iter().filter(|s| s.name == "native" || o.engines.iter().any(|e| e == s.name)).collect();
    for e in &o.engines {
        if !specs.iter().any(|s| s.name == e) {
            return Err(format!("unknown engine `{e}` (see `athena-bench list`)"));
        }
    }
    let mut cells = BTreeMap::new();
    let order: Vec<_> = specs.iter().map(|s| s.name).collect();
    let load_before = sys::load_average();
    let total = order.len() * o.tasks.len();
    let mut n = 0;
    for engine in &order {
        for task in &o.tasks {
            n += 1;
            eprint!("[{n:>2}/{total}] {engine:<17} {:<10} ", task.name());
            let m =
                spawn_child(engine, *task, &o).unwrap_or_else(|e| Measurement { error: Some(e), ..Default::default() });
            match (&m.error, m.median_ns) {
                (Some(e), _) => eprintln!("{e}"),
                (None, Some(t)) => eprintln!("{} ({} iters)", report::fmt_ns(t), m.iters),
                _ => eprintln!("?"),
            }
            cells.insert((engine.to_string(), task.name().to_string()), m);
        }
    }
    let results = report::Results {
        engines: specs,
        tasks: o.tasks.clone(),
        cells,
        repeat: o.repeat,
        guests: o.guests.clone(),
        load_average: (load_before, sys::load_average()),
    };
    let md = results.to_markdown();
    println!("{md}");
    std::fs::write(&o.report, &md).map_err(|e| format!("writing {}: {e}", o.report.display()))?;
    eprintln!("report written to {}", o.report.display());
    Ok(())
}

/// Runs `athena-bench measure` for one cell, with a timeout.
fn spawn_child(engine: &str, task: Task, o: &Options) -> Result<Measurement, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let r = o.repeat;
    let mut child = Command::new(exe)
        .args(["measure", "--engine", engine, "--task", task.name()])
        .arg("--guests")
        .arg(&o.guests)
        .args(["--iters", &r.min_iters.to_string(), "--max-iters", &r.max_iters.to_string()])
        .args(["--min-time", &r.min_time.as_secs_f64().to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawning the measuring process: {e}"))?;
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + o.timeout;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("timed out after {:.0} s", o.timeout.as_secs_f64()));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = out.join().unwrap_or_default();
    let err = err.join().unwrap_or_default();
    match Measurement::from_output(&out) {
        Some(m) => Ok(m),
        None => {
            let last = err.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no output");
            Err(format!("measuring process failed ({status}): {last}"))
        }
    }
}

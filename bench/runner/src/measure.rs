//! One measurement (engine × task), run in a child process so that peak
//! memory is per measurement and a crashing engine cannot take the whole
//! bench down. The child prints one `RESULT` line that the parent parses.

use std::path::Path;
use std::time::{Duration, Instant};

use bench_workloads::Workload;

use crate::engines::{self, Engine, Guest};

/// What is timed: loading a guest program, or running one workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Task {
    /// Parse + validate + prepare the guest program.
    Load(Guest),
    /// Cold start: [`Task::Load`] + instantiate, ready to run (no run).
    Cold(Guest),
    /// Instantiate + run one workload (on the full guest).
    Run(Workload),
}

impl Task {
    /// Every task, in report order: workloads, then `load`/`cold` of the
    /// load program, then of the full guest.
    pub fn all() -> Vec<Task> {
        let mut v: Vec<Task> = Workload::ALL.iter().map(|w| Task::Run(*w)).collect();
        v.extend([Task::Load(Guest::Load), Task::Cold(Guest::Load), Task::Load(Guest::Full), Task::Cold(Guest::Full)]);
        v
    }

    /// Name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Task::Load(Guest::Load) => "load",
            Task::Cold(Guest::Load) => "cold",
            Task::Load(Guest::Full) => "load-full",
            Task::Cold(Guest::Full) => "cold-full",
            Task::Run(w) => w.name(),
        }
    }

    /// The task called `name`.
    pub fn parse(name: &str) -> Option<Task> {
        Task::all().into_iter().find(|t| t.name() == name)
    }

    /// The guest program the task needs.
    pub fn guest(self) -> Guest {
        match self {
            Task::Load(g) | Task::Cold(g) => g,
            Task::Run(_) => Guest::Full,
        }
    }
}

/// How long and how often to repeat a measurement.
#[derive(Clone, Copy, Debug)]
pub struct Repeat {
    /// At least this many timed iterations.
    pub min_iters: u32,
    /// Keep iterating until this much time was spent (bounded by `max_iters`).
    pub min_time: Duration,
    /// Never more than this many timed iterations.
    pub max_iters: u32,
}

/// Outcome of one measurement.
#[derive(Clone, Debug, Default)]
pub struct Measurement {
    /// Median wall time of one iteration, in nanoseconds.
    pub median_ns: Option<u64>,
    /// Fastest iteration, in nanoseconds.
    pub min_ns: Option<u64>,
    /// Timed iterations.
    pub iters: u32,
    /// Checksum the engine reported (runs only).
    pub checksum: Option<u64>,
    /// Guest work units of one run, if the engine exposes them.
    pub work: Option<u64>,
    /// Peak resident set of the measuring process, in KiB.
    pub maxrss_kb: Option<u64>,
    /// Peak resident set of its largest reaped child process (PolkaVM's
    /// sandbox workers), in KiB.
    pub child_rss_kb: Option<u64>,
    /// Why there is no time: an error, or `n/a`.
    pub error: Option<String>,
}

impl Measurement {
    /// The child's one-line report.
    pub fn to_line(&self) -> String {
        let mut s = String::from("RESULT");
        let mut put = |k: &str, v: Option<u64>| {
            if let Some(v) = v {
                s.push_str(&format!("\t{k}={v}"));
            }
        };
        put("median_ns", self.median_ns);
        put("min_ns", self.min_ns);
        put("iters", Some(u64::from(self.iters)));
        put("checksum", self.checksum);
        put("work", self.work);
        put("maxrss_kb", self.maxrss_kb);
        put("child_rss_kb", self.child_rss_kb);
        if let Some(e) = &self.error {
            s.push_str(&format!("\terror={}", e.replace(['\t', '\n'], " ")));
        }
        s
    }

    /// Parses [`Measurement::to_line`] output (the first `RESULT` line).
    pub fn from_output(out: &str) -> Option<Measurement> {
        let line = out.lines().find(|l| l.starts_with("RESULT"))?;
        let mut m = Measurement::default();
        for field in line.split('\t').skip(1) {
            let (k, v) = field.split_once('=')?;
            let n = v.parse::<u64>().ok();
            match k {
                "median_ns" => m.median_ns = n,
                "min_ns" => m.min_ns = n,
                "iters" => m.iters = n.unwrap_or(0) as u32,
                "checksum" => m.checksum = n,
                "work" => m.work = n,
                "maxrss_kb" => m.maxrss_kb = n,
                "child_rss_kb" => m.child_rss_kb = n,
                "error" => m.error = Some(v.to_string()),
                _ => {}
            }
        }
        Some(m)
    }
}

/// Runs one measurement in this process.
pub fn measure(engine: &str, task: Task, guests: &Path, repeat: Repeat) -> Measurement {
    let mut rss = None;
    let mut m = match measure_inner(engine, task, guests, repeat, &mut rss) {
        Ok(m) => m,
        Err(e) => Measurement { error: Some(e), ..Measurement::default() },
    };
    m.maxrss_kb = rss.or_else(crate::sys::max_rss_kb);
    m.child_rss_kb = crate::sys::children_max_rss_kb().filter(|kb| *kb > 0);
    m
}

/// `rss` gets the peak RSS right after the first timed iteration: what one
/// load or run needs, before repeated loads can pile up (wasmi's engine, for
/// one, keeps the code of every module it translated).
fn measure_inner(
    engine: &str,
    task: Task,
    guests: &Path,
    repeat: Repeat,
    rss: &mut Option<u64>,
) -> Result<Measurement, String> {
    let mut engine = engines::create(engine, guests, task.guest())?;
    let mut times = Vec::new();
    let mut m = Measurement::default();
    let started = Instant::now();
    // One untimed warm-up, then timed iterations.
    for i in 0.. {
        let timed = i > 0;
        if timed
            && times.len() as u32 >= repeat.min_iters
            && (started.elapsed() >= repeat.min_time || times.len() as u32 >= repeat.max_iters)
        {
            break;
        }
        let t = Instant::now();
        match task {
            Task::Load(_) | Task::Cold(_) => {
                if !engine.load()? {
                    return Ok(Measurement { error: Some("n/a".into()), ..m });
                }
                if let Task::Cold(_) = task {
                    engine.instantiate()?;
                }
            }
            Task::Run(w) => {
                if i == 0 {
                    engine.load()?;
                }
                let t = Instant::now();
                let out = engine.run(w)?;
                let elapsed = t.elapsed();
                if m.checksum.is_some_and(|c| c != out.checksum) {
                    return Err("checksum differs between iterations".into());
                }
                m.checksum = Some(out.checksum);
                m.work = out.work;
                if timed {
                    times.push(elapsed);
                    rss.get_or_insert_with(|| crate::sys::max_rss_kb().unwrap_or(0));
                }
                continue;
            }
        }
        if timed {
            times.push(t.elapsed());
            rss.get_or_insert_with(|| crate::sys::max_rss_kb().unwrap_or(0));
        }
    }
    // After the timing (and the peak-RSS sample): the program just loaded
    // must be one the engine runs, and the right one.
    if task == Task::Load(Guest::Load) || task == Task::Cold(Guest::Load) {
        check_load_program(engine.as_mut())?;
    }
    times.sort();
    m.iters = times.len() as u32;
    m.median_ns = Some(times[times.len() / 2].as_nanos() as u64);
    m.min_ns = Some(times[0].as_nanos() as u64);
    Ok(m)
}

/// Workload run to check a loaded `load` program: in
/// [`bench_workloads::LOAD_PROGRAM`] and the cheapest of those on every
/// engine.
pub const LOAD_CHECK: Workload = Workload::Sieve;
/// Workload the `load` program must leave out (answering `u64::MAX`, as
/// for an unknown id): proves the artifact is not the full guest.
pub const LOAD_ABSENT: Workload = Workload::Ed25519Verify;

/// Runs [`LOAD_CHECK`] on the loaded `load` program and compares it with
/// native's checksum, then checks that [`LOAD_ABSENT`] is left out.
fn check_load_program(engine: &mut dyn Engine) -> Result<(), String> {
    let (got, want) = (engine.run(LOAD_CHECK)?.checksum, LOAD_CHECK.run());
    if got != want {
        return Err(format!("load program check: {} returned {got:#x}, native {want:#x}", LOAD_CHECK.name()));
    }
    let absent = engine.run(LOAD_ABSENT)?.checksum;
    if absent != u64::MAX {
        return Err(format!("load program check: {} returned {absent:#x}: the full guest?", LOAD_ABSENT.name()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_line_round_trips() {
        let m = Measurement {
            median_ns: Some(12),
            min_ns: Some(10),
            iters: 5,
            checksum: Some(u64::MAX),
            work: None,
            maxrss_kb: Some(4096),
            child_rss_kb: None,
            error: Some("bad\tthing".into()),
        };
        let back = Measurement::from_output(&format!("noise\n{}\n", m.to_line())).unwrap();
        assert_eq!(back.median_ns, Some(12));
        assert_eq!(back.min_ns, Some(10));
        assert_eq!(back.iters, 5);
        assert_eq!(back.checksum, Some(u64::MAX));
        assert_eq!(back.work, None);
        assert_eq!(back.maxrss_kb, Some(4096));
        assert_eq!(back.error.as_deref(), Some("bad thing"));
    }

    #[test]
    fn task_names_round_trip() {
        for t in Task::all() {
            assert_eq!(Task::parse(t.name()), Some(t));
        }
        assert_eq!(Task::parse("load"), Some(Task::Load(Guest::Load)));
        assert_eq!(Task::parse("cold-full"), Some(Task::Cold(Guest::Full)));
    }

    #[test]
    fn load_check_workloads_are_in_and_out_of_the_load_program() {
        assert!(bench_workloads::LOAD_PROGRAM.contains(&LOAD_CHECK));
        assert!(!bench_workloads::LOAD_PROGRAM.contains(&LOAD_ABSENT));
    }

    #[test]
    fn native_measurement_runs_and_load_is_na() {
        let repeat = Repeat { min_iters: 1, min_time: Duration::ZERO, max_iters: 1 };
        let m = measure("native", Task::Run(Workload::Ed25519Verify), Path::new("."), repeat);
        assert_eq!((m.checksum, m.iters, m.error), (Some(1), 1, None));
        let m = measure("native", Task::Load(Guest::Load), Path::new("."), repeat);
        assert_eq!(m.error.as_deref(), Some("n/a"));
    }
}

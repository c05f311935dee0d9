//! Turns measurements into Markdown tables (printed and written to a file).

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::engines::{EngineSpec, Guest};
use crate::measure::{Measurement, Repeat, Task};

/// Everything a report shows.
pub struct Results {
    /// Engines in column order.
    pub engines: Vec<EngineSpec>,
    /// Tasks in row order.
    pub tasks: Vec<Task>,
    /// Measurements by (engine name, task name).
    pub cells: BTreeMap<(String, String), Measurement>,
    /// Repetition settings used.
    pub repeat: Repeat,
    /// Where the guest artifacts came from.
    pub guests: std::path::PathBuf,
    /// 1-minute load average before and after the measurements.
    pub load_average: (Option<f64>, Option<f64>),
}

impl Results {
    fn cell(&self, engine: &str, task: Task) -> Option<&Measurement> {
        self.cells.get(&(engine.to_string(), task.name().to_string()))
    }

    /// Expected checksum of a run task: native's.
    fn expected(&self, task: Task) -> Option<u64> {
        self.cell("native", task).and_then(|m| m.checksum)
    }

    /// A successful, verified time for the cell.
    fn good_time(&self, engine: &str, task: Task) -> Option<u64> {
        let m = self.cell(engine, task)?;
        let t = m.median_ns?;
        if let Task::Run(_) = task {
            if m.checksum != self.expected(task) {
                return None;
            }
        }
        Some(t)
    }

    /// The engine times are compared to: Athena when it produced a
    /// verified time for every workload, else native.
    fn baseline(&self, task: Task) -> Option<(&'static str, u64)> {
        let athena = self.engines.iter().find(|e| e.name.starts_with("athena")).map(|e| e.name);
        if let Some(a) = athena {
            let runs = self.tasks.iter().filter(|t| matches!(t, Task::Run(_)));
            if runs.clone().next().is_some() && runs.into_iter().all(|t| self.good_time(a, *t).is_some()) {
                return self.good_time(a, task).map(|t| (a, t));
            }
        }
        self.good_time("native", task).map(|t| ("native", t))
    }

    /// Name of the baseline engine for the run tasks.
    fn baseline_name(&self) -> &'static str {
        self.tasks.iter().find_map(|t| self.baseline(*t).map(|b| b.0)).unwrap_or("native")
    }

    /// Renders the whole report as Markdown.
    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "# Athena bench: side-by-side VM comparison\n");
        let _ = writeln!(
            s,
            "Host: {} ({} logical CPUs). Each cell: median wall time of one iteration after one warm-up, \
             at least {} iterations and {:.1} s (at most {}). A run iteration = instantiate a fresh \
             instance from the prepared program + execute to completion, on the full guest (every \
             workload); `load` = parse + validate + prepare the smaller load program (~50 KiB for \
             Athena: sizes in the last table; checked afterwards by running `{}` against native), \
             `load-full` = the same for the full guest. `×N` = time relative to **{}** (higher is slower). \
             Guests: `{}`. Load average {} before, {} after (2 cores: values above ~1 mean other \
             work competed for the CPU and times are inflated).\n",
            crate::sys::cpu_model(),
            std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            self.repeat.min_iters,
            self.repeat.min_time.as_secs_f64(),
            self.repeat.max_iters,
            crate::measure::LOAD_CHECK.name(),
            self.baseline_name(),
            self.guests.display(),
            fmt_load(self.load_average.0),
            fmt_load(self.load_average.1),
        );
        self.time_table(&mut s, "Time per run (median)", |m| m.median_ns);
        self.time_table(&mut s, "Fastest iteration (min; least disturbed by other load)", |m| m.min_ns);
        if self.tasks.iter().any(|t| matches!(t, Task::Run(_))) {
            self.work_table(&mut s);
            self.throughput_table(&mut s);
            self.native_ratio_table(&mut s);
        }
        self.rss_table(&mut s);
        self.engine_table(&mut s);
        self.problems(&mut s);
        s
    }

    fn header(&self, s: &mut String, first: &str) {
        let _ = write!(s, "| {first} |");
        for e in &self.engines {
            let _ = write!(s, " {} |", e.name);
        }
        let _ = write!(s, "\n|---|");
        for _ in &self.engines {
            let _ = write!(s, "---:|");
        }
        s.push('\n');
    }

    fn time_table(&self, s: &mut String, title: &str, pick: impl Fn(&Measurement) -> Option<u64>) {
        let _ = writeln!(s, "## {title}\n");
        self.header(s, "workload");
        for task in &self.tasks {
            let _ = write!(s, "| {} |", describe(*task));
            let base = self.baseline(*task).and_then(|(name, _)| self.cell(name, *task).and_then(&pick));
            for e in &self.engines {
                let text = match self.cell(e.name, *task) {
                    None => "-".to_string(),
                    Some(m) => match (pick(m), &m.error) {
                        (_, Some(err)) => short_error(err),
                        (Some(t), None) => {
                            let mut c = fmt_ns(t);
                            if matches!(task, Task::Run(_)) && m.checksum != self.expected(*task) {
                                c = format!("{c} **CHECKSUM MISMATCH**");
                            } else if let Some(b) = base {
                                let _ = write!(c, " (×{})", fmt_ratio(t as f64 / b as f64));
                            }
                            c
                        }
                        (None, None) => "-".to_string(),
                    },
                };
                let _ = write!(s, " {text} |");
            }
            s.push('\n');
        }
        s.push('\n');
    }

    fn work_table(&self, s: &mut String) {
        let _ = writeln!(s, "## Guest work per run (instructions / cycles / fuel / gas, as the engine counts)\n");
        self.header(s, "workload");
        let _ = write!(s, "| unit |");
        for e in &self.engines {
            let _ = write!(s, " {} |", e.work_unit);
        }
        s.push('\n');
        for task in self.tasks.iter().filter(|t| matches!(t, Task::Run(_))) {
            let _ = write!(s, "| {} |", task.name());
            for e in &self.engines {
                let w = self.cell(e.name, *task).and_then(|m| m.work);
                let _ = write!(s, " {} |", w.map(fmt_count).unwrap_or_else(|| "-".into()));
            }
            s.push('\n');
        }
        s.push('\n');
    }

    /// Guest work per second (e.g. guest instructions per second for
    /// Athena): the interpreter's raw speed, independent of how many
    /// instructions each ISA needs for the workload.
    fn throughput_table(&self, s: &mut String) {
        let _ = writeln!(s, "## Guest work per second (millions of the unit above, median time)\n");
        self.header(s, "workload");
        for task in self.tasks.iter().filter(|t| matches!(t, Task::Run(_))) {
            let _ = write!(s, "| {} |", task.name());
            for e in &self.engines {
                let rate = self.cell(e.name, *task).and_then(|m| {
                    let (work, ns) = (m.work?, self.good_time(e.name, *task)?);
                    (ns > 0).then(|| work as f64 * 1e3 / ns as f64)
                });
                let _ = write!(s, " {} |", rate.map(|r| format!("{r:.0}")).unwrap_or_else(|| "-".into()));
            }
            s.push('\n');
        }
        s.push('\n');
    }

    /// Every engine's time as a multiple of native's: the cost of running
    /// the same Rust code in a VM instead of on the metal.
    fn native_ratio_table(&self, s: &mut String) {
        let _ = writeln!(s, "## Slowdown against native (median time / native median time)\n");
        self.header(s, "workload");
        for task in self.tasks.iter().filter(|t| matches!(t, Task::Run(_))) {
            let _ = write!(s, "| {} |", task.name());
            let native = self.good_time("native", *task);
            for e in &self.engines {
                let ratio = match (self.good_time(e.name, *task), native) {
                    (Some(t), Some(n)) if n > 0 => format!("{}x", fmt_ratio(t as f64 / n as f64)),
                    _ => "-".into(),
                };
                let _ = write!(s, " {ratio} |");
            }
            s.push('\n');
        }
        s.push('\n');
    }

    fn rss_table(&self, s: &mut String) {
        let _ = writeln!(
            s,
            "## Peak memory (MiB)\n\nMax RSS of the measuring process (the runner itself included, \
             ~3 MiB: see `native`) after the warm-up and the first timed iteration. PolkaVM's compiler \
             runs guests in sandbox processes: `+N sandbox` is the largest one's max RSS, when it was \
             reaped by the measuring process.\n"
        );
        self.header(s, "workload");
        for task in &self.tasks {
            let _ = write!(s, "| {} |", task.name());
            for e in &self.engines {
                let m = self.cell(e.name, *task);
                let mib = |kb: u64| format!("{:.1}", kb as f64 / 1024.0);
                let mut text = m.and_then(|m| m.maxrss_kb).map(mib).unwrap_or_else(|| "-".into());
                if let Some(kb) = m.and_then(|m| m.child_rss_kb) {
                    let _ = write!(text, " (+{} sandbox)", mib(kb));
                }
                let _ = write!(s, " {text} |");
            }
            s.push('\n');
        }
        s.push('\n');
    }

    fn engine_table(&self, s: &mut String) {
        let _ = writeln!(
            s,
            "## Engines and guest artifacts\n\nEvery engine loads its own build of the same load program \
             ({}) and of the full guest, from the same sources and profile, symbols stripped. The \
             artifacts differ in size (ISA, compressed instructions, wasm's compactness), so `load`/`cold` \
             are also given per KiB of artifact.\n\n\
             | engine | load program | size | load per KiB | cold per KiB | full guest | size | load-full per KiB | \
             cold-full per KiB | configuration |\n|---|---|---:|---:|---:|---|---:|---:|---:|---|",
            load_program_names(),
        );
        for e in &self.engines {
            let mut row = format!("| {} |", e.name);
            for (guest, load, cold) in [
                (Guest::Load, Task::Load(Guest::Load), Task::Cold(Guest::Load)),
                (Guest::Full, Task::Load(Guest::Full), Task::Cold(Guest::Full)),
            ] {
                let file = e.artifact_for(guest);
                let bytes = file.and_then(|f| std::fs::metadata(self.guests.join(f)).ok()).map(|m| m.len());
                let size = match (file, bytes) {
                    (None, _) => "-".to_string(),
                    (Some(_), None) => "missing".to_string(),
                    (Some(_), Some(b)) => format!("{:.1} KiB", b as f64 / 1024.0),
                };
                let per_kib = |task: Task| match (bytes, self.good_time(e.name, task)) {
                    (Some(b), Some(ns)) if b > 0 => fmt_ns((ns as f64 * 1024.0 / b as f64) as u64),
                    _ => "-".to_string(),
                };
                let _ = write!(row, " {} | {size} | {} | {} |", file.unwrap_or("-"), per_kib(load), per_kib(cold));
            }
            let _ = writeln!(s, "{row} {} |", e.note);
        }
        s.push('\n');
    }

    fn problems(&self, s: &mut String) {
        let mut lines = Vec::new();
        for ((engine, task), m) in &self.cells {
            if let Some(err) = &m.error {
                if err != "n/a" {
                    lines.push(format!("- `{engine}` / `{task}`: {err}"));
                }
            }
        }
        if !lines.is_empty() {
            let _ = writeln!(s, "## Errors\n\n{}\n", lines.join("\n"));
        }
    }
}

fn describe(task: Task) -> String {
    match task {
        Task::Load(Guest::Load) => "load: parse+validate+prepare the ~50 KiB load program".into(),
        Task::Cold(Guest::Load) => "cold: load + instantiate (ready to run)".into(),
        Task::Load(Guest::Full) => "load-full: `load` for the full guest (every workload)".into(),
        Task::Cold(Guest::Full) => "cold-full: `cold` for the full guest".into(),
        Task::Run(w) => format!("{}: {}", w.name(), w.describe()),
    }
}

/// The load program's workloads, e.g. `sieve, sha256`.
fn load_program_names() -> String {
    bench_workloads::LOAD_PROGRAM.iter().map(|w| w.name()).collect::<Vec<_>>().join(", ")
}

fn fmt_load(l: Option<f64>) -> String {
    l.map(|l| format!("{l:.2}")).unwrap_or_else(|| "?".into())
}

fn short_error(err: &str) -> String {
    if err == "n/a" {
        return "n/a".into();
    }
    let mut e: String = err.chars().take(40).collect();
    if err.chars().count() > 40 {
        e.push('…');
    }
    format!("error: {}", e.replace('|', "/"))
}

/// `1234567` ns -> `1.23 ms` (the unit is picked after rounding).
pub fn fmt_ns(ns: u64) -> String {
    let n = ns as f64;
    if n < 999.5 {
        format!("{ns} ns")
    } else if n < 999_950.0 {
        format!("{:.1} µs", n / 1e3)
    } else if n < 999_995_000.0 {
        format!("{:.2} ms", n / 1e6)
    } else {
        format!("{:.2} s", n / 1e9)
    }
}

fn fmt_ratio(r: f64) -> String {
    if r >= 100.0 {
        format!("{r:.0}")
    } else if r >= 10.0 {
        format!("{r:.1}")
    } else {
        format!("{r:.2}")
    }
}

/// `12345678` -> `12.3M`.
fn fmt_count(n: u64) -> String {
    let f = n as f64;
    if f >= 1e9 {
        format!("{:.2}G", f / 1e9)
    } else if f >= 1e6 {
        format!("{:.2}M", f / 1e6)
    } else if f >= 1e3 {
        format!("{:.1}k", f / 1e3)
    } else {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_pick_the_unit_after_rounding() {
        assert_eq!(fmt_ns(999), "999 ns");
        assert_eq!(fmt_ns(1_500), "1.5 µs");
        assert_eq!(fmt_ns(999_960), "1.00 ms");
        assert_eq!(fmt_ns(999_999_999), "1.00 s");
        assert_eq!(fmt_count(12_345_678), "12.35M");
    }

    #[test]
    fn load_only_report_names_the_load_program_and_skips_run_tables() {
        let engines: Vec<_> = crate::engines::specs().into_iter().filter(|e| e.name == "wasmi").collect();
        let m = Measurement { median_ns: Some(2048), min_ns: Some(1024), iters: 5, ..Default::default() };
        let results = Results {
            engines,
            tasks: vec![Task::Load(Guest::Load), Task::Cold(Guest::Load)],
            cells: [(("wasmi".to_string(), "load".to_string()), m)].into_iter().collect(),
            repeat: Repeat { min_iters: 5, min_time: std::time::Duration::ZERO, max_iters: 5 },
            guests: "/nonexistent".into(),
            load_average: (None, None),
        };
        let md = results.to_markdown();
        assert!(md.contains("| load: parse+validate+prepare the ~50 KiB load program |"), "{md}");
        assert!(md.contains("| wasmi | load.wasm | missing | - | - | guest.wasm | missing |"), "{md}");
        assert!(!md.contains("Guest work per run"), "{md}");
    }
}

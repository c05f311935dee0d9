//! Host facts: peak memory and a CPU description.

/// Peak resident set size of this process in KiB (`getrusage`).
pub fn max_rss_kb() -> Option<u64> {
    // SAFETY: getrusage only writes the struct we pass it.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        (libc::getrusage(libc::RUSAGE_SELF, &mut usage) == 0).then_some(usage.ru_maxrss as u64)
    }
}

/// Peak resident set size of the largest terminated and waited-for child
/// of this process in KiB.
pub fn children_max_rss_kb() -> Option<u64> {
    // SAFETY: getrusage only writes the struct we pass it.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        (libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) == 0).then_some(usage.ru_maxrss as u64)
    }
}

/// The 1-minute load average, if readable (high values mean noisy timings).
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg").ok()?.split_whitespace().next()?.parse().ok()
}

/// The CPU model from `/proc/cpuinfo`, if readable.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

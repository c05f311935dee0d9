//! The devnet's child processes: `athena node ...` of this very binary,
//! each in its own process group (so a terminal's Ctrl-C reaches the
//! devnet only, which then stops them in order) and, on Linux, with a
//! parent-death signal (so even a `kill -9` of the devnet leaves no
//! orphans). Their output is forwarded line by line with a prefix, their
//! readiness awaited, crashes restarted, and everything stopped — politely
//! first (SIGTERM), then for sure (SIGKILL) — when the devnet ends, also
//! on an error or a panic ([`Drop`]).

use athena_wallet::client::NodeClient;
use std::ffi::OsString;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

/// How long a process may take from spawn to answering its status.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a process may take to stop after SIGTERM before SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// Restarts of one process per devnet run before the devnet gives up.
pub const MAX_RESTARTS: u32 = 5;
/// Pause before restarting a process that died.
const RESTART_DELAY: Duration = Duration::from_millis(500);

/// What the reader threads and the signal thread report.
#[derive(Debug)]
pub enum Event {
    /// A line a process printed (stdout or stderr).
    Line {
        /// Index of the service.
        service: usize,
        /// The line, without its newline.
        text: String,
    },
    /// A process announced `listening http://ADDR` on stdout.
    Listening {
        /// Index of the service.
        service: usize,
        /// Which start of it (stale announcements are ignored).
        generation: u32,
        /// `http://ADDR`.
        url: String,
    },
    /// SIGINT or SIGTERM reached the devnet.
    Signal,
}

/// One node process of the devnet.
#[derive(Debug)]
pub struct Service {
    /// `sequencer`, `executor`, `shadow`, `relay`.
    pub name: &'static str,
    /// Arguments after `athena node`, without `--listen`.
    pub args: Vec<OsString>,
    /// Where it listens; port 0 until it first announced its address, the
    /// same address on every restart (the others know its URL).
    pub listen: SocketAddr,
    /// Whether readiness includes `GET /v1/status` answering (executor,
    /// shadow, relay; the sequencer's status is another shape).
    pub check_status: bool,
    /// `http://ADDR` once it listens.
    pub url: Option<String>,
    child: Option<Child>,
    generation: u32,
    restarts: u32,
    log: Option<File>,
}

impl Service {
    /// A service that is not started yet.
    pub fn new(name: &'static str, args: Vec<OsString>, listen: SocketAddr, check_status: bool) -> Self {
        Service { name, args, listen, check_status, url: None, child: None, generation: 0, restarts: 0, log: None }
    }

    /// The process id of the running process.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }
}

/// Why the devnet stops.
#[derive(Debug)]
pub enum Stop {
    /// Ctrl-C / SIGTERM.
    Signal,
    /// Something failed.
    Error(String),
}

impl From<String> for Stop {
    fn from(message: String) -> Self {
        Stop::Error(message)
    }
}

/// The devnet's processes and the channel their output arrives on.
pub struct Supervisor {
    exe: PathBuf,
    logs: PathBuf,
    /// The services, in start order.
    pub services: Vec<Service>,
    tx: Sender<Event>,
    rx: Receiver<Event>,
}

impl Supervisor {
    /// A supervisor running `exe node ...`, writing each process's lines to
    /// `logs/NAME.log`, receiving [`Event`]s (also from the signal thread)
    /// on `rx`.
    pub fn new(exe: PathBuf, logs: PathBuf, tx: Sender<Event>, rx: Receiver<Event>) -> Self {
        Supervisor { exe, logs, services: Vec::new(), tx, rx }
    }

    /// Adds a service and starts it; returns when it is ready.
    pub fn start(&mut self, service: Service) -> Result<(), Stop> {
        self.services.push(service);
        let index = self.services.len() - 1;
        self.spawn(index)?;
        self.await_ready(index)
    }

    /// Index of the service called `name`.
    pub fn find(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }

    fn spawn(&mut self, index: usize) -> Result<(), String> {
        let logs = self.logs.clone();
        let service = &mut self.services[index];
        if service.log.is_none() {
            let _ = std::fs::create_dir_all(&logs);
            let path = logs.join(format!("{}.log", service.name));
            service.log = File::options().create(true).append(true).open(&path).ok();
        }
        let mut command = Command::new(&self.exe);
        command
            .arg("node")
            .args(&service.args)
            .arg("--listen")
            .arg(service.listen.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        isolate(&mut command);
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start {} ({} node ...): {e}", service.name, self.exe.display()))?;
        service.generation += 1;
        let generation = service.generation;
        if let Some(out) = child.stdout.take() {
            forward(out, index, Some(generation), self.tx.clone());
        }
        if let Some(err) = child.stderr.take() {
            forward(err, index, None, self.tx.clone());
        }
        say(&format!("{} started (pid {})", service.name, child.id()));
        service.url = None;
        service.child = Some(child);
        Ok(())
    }

    /// Handles one event: prints lines, records addresses. `Err(Signal)`
    /// on a signal.
    fn handle(&mut self, event: Event) -> Result<(), Stop> {
        match event {
            Event::Line { service, text } => {
                if let Some(s) = self.services.get_mut(service) {
                    if let Some(log) = &mut s.log {
                        let _ = writeln!(log, "{text}");
                    }
                    print_line(s.name, &text);
                }
                Ok(())
            }
            Event::Listening { service, generation, url } => {
                if let Some(s) = self.services.get_mut(service).filter(|s| s.generation == generation) {
                    if let Some(addr) = url.strip_prefix("http://").and_then(|a| a.parse().ok()) {
                        s.listen = addr;
                    }
                    s.url = Some(url);
                }
                Ok(())
            }
            Event::Signal => Err(Stop::Signal),
        }
    }

    /// Forwards output for up to `timeout`; `Err(Signal)` on a signal.
    pub fn pump(&mut self, timeout: Duration) -> Result<(), Stop> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(event) => self.handle(event)?,
                Err(RecvTimeoutError::Timeout) => return Ok(()),
                // Unreachable while `self.tx` lives; nothing more will come.
                Err(RecvTimeoutError::Disconnected) => {
                    std::thread::sleep(left);
                    return Ok(());
                }
            }
            if Instant::now() >= deadline {
                return Ok(());
            }
        }
    }

    /// Waits until service `index` announced its address and (if asked)
    /// answers `GET /v1/status`.
    fn await_ready(&mut self, index: usize) -> Result<(), Stop> {
        let deadline = Instant::now() + START_TIMEOUT;
        let name = self.services[index].name;
        loop {
            self.pump(Duration::from_millis(50))?;
            if let Some(status) = self.exited(index) {
                // Let its last words arrive first.
                self.pump(Duration::from_millis(200))?;
                return Err(Stop::Error(format!(
                    "{name} stopped while starting ({}); its log is above and in {}",
                    describe(status),
                    self.logs.join(format!("{name}.log")).display()
                )));
            }
            if let Some(url) = self.services[index].url.clone() {
                if !self.services[index].check_status {
                    return Ok(());
                }
                match NodeClient::new(&url, Duration::from_secs(2)).status() {
                    Ok(_) => return Ok(()),
                    Err(e) if Instant::now() >= deadline => {
                        return Err(Stop::Error(format!("{name} at {url} does not answer GET /v1/status: {e}")))
                    }
                    Err(_) => {}
                }
            }
            if Instant::now() >= deadline {
                return Err(Stop::Error(format!("{name} did not start within {} s", START_TIMEOUT.as_secs())));
            }
        }
    }

    /// The exit status of service `index` if its process ended.
    fn exited(&mut self, index: usize) -> Option<ExitStatus> {
        let child = self.services[index].child.as_mut()?;
        match child.try_wait() {
            Ok(Some(status)) => {
                self.services[index].child = None;
                Some(status)
            }
            Ok(None) => None,
            Err(_) => None,
        }
    }

    /// Restarts every process that ended since the last call (at most
    /// [`MAX_RESTARTS`] times each). Returns the names restarted.
    pub fn restart_dead(&mut self) -> Result<Vec<&'static str>, Stop> {
        let mut restarted = Vec::new();
        for index in 0..self.services.len() {
            let Some(status) = self.exited(index) else { continue };
            let service = &mut self.services[index];
            service.restarts += 1;
            if service.restarts > MAX_RESTARTS {
                return Err(Stop::Error(format!(
                    "{} stopped ({}) and was restarted {MAX_RESTARTS} times already; giving up",
                    service.name,
                    describe(status)
                )));
            }
            let (name, n) = (service.name, service.restarts);
            say(&format!("{name} stopped ({}); restarting it ({n}/{MAX_RESTARTS})", describe(status)));
            self.pump(RESTART_DELAY)?;
            self.spawn(index)?;
            self.await_ready(index)?;
            say(&format!("{name} is back at {}", self.services[index].url.as_deref().unwrap_or("?")));
            restarted.push(name);
        }
        Ok(restarted)
    }

    /// Stops every process, last started first: SIGTERM, then SIGKILL for
    /// any still running after [`STOP_TIMEOUT`]. Output keeps flowing.
    pub fn stop_all(&mut self) {
        for service in self.services.iter().rev() {
            if let Some(child) = &service.child {
                terminate(child);
            }
        }
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            let mut running = false;
            for index in (0..self.services.len()).rev() {
                if self.services[index].child.is_some() {
                    match self.exited(index) {
                        Some(status) => say(&format!("{} stopped ({})", self.services[index].name, describe(status))),
                        None => running = true,
                    }
                }
            }
            if !running {
                break;
            }
            if Instant::now() >= deadline {
                for service in &mut self.services {
                    if let Some(mut child) = service.child.take() {
                        say(&format!("{} did not stop within {} s: killing it", service.name, STOP_TIMEOUT.as_secs()));
                        let _ = child.kill();
                        let _ = child.wait();
                    }
                }
                break;
            }
            // Signals that arrive now change nothing: we are stopping.
            let _ = self.pump(Duration::from_millis(50));
        }
        // The last lines of the stopped processes.
        let _ = self.pump(Duration::from_millis(100));
    }
}

impl Drop for Supervisor {
    /// Kills whatever still runs (an error or panic on the way out).
    fn drop(&mut self) {
        for service in &mut self.services {
            if let Some(mut child) = service.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

/// A devnet message on stdout.
pub fn say(message: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "[devnet] {message}");
    let _ = out.flush();
}

fn print_line(name: &str, text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "[{name}] {}", tidy(text));
    let _ = out.flush();
}

/// A log line for people: without the timestamp, and without the level
/// when it is `INFO` (`2025-01-01T00:00:00.1Z  INFO block 3: …` →
/// `block 3: …`; warnings and errors keep `WARN` / `ERROR`).
pub fn tidy(line: &str) -> &str {
    let mut rest = line.trim_end();
    if let Some((first, after)) = rest.split_once(' ') {
        let is_time = first.len() >= 20 && first.starts_with(|c: char| c.is_ascii_digit()) && first.contains('T');
        if is_time {
            rest = after.trim_start();
        }
    }
    rest.strip_prefix("INFO ").map(str::trim_start).unwrap_or(rest)
}

/// `exit status 1`, `killed by signal 9`.
pub fn describe(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("killed by signal {signal}");
        }
    }
    match status.code() {
        Some(code) => format!("exit status {code}"),
        None => status.to_string(),
    }
}

/// Reads `stream` line by line into [`Event`]s until it closes. With a
/// generation (stdout), `listening http://…` becomes [`Event::Listening`].
fn forward(stream: impl Read + Send + 'static, service: usize, generation: Option<u32>, tx: Sender<Event>) {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let text = String::from_utf8_lossy(&buf).trim_end_matches(['\n', '\r']).to_owned();
            let event = match (generation, text.strip_prefix("listening ")) {
                (Some(generation), Some(url)) if url.starts_with("http://") => {
                    Event::Listening { service, generation, url: url.to_owned() }
                }
                _ => Event::Line { service, text },
            };
            if tx.send(event).is_err() {
                return;
            }
        }
    });
}

/// Own process group; on Linux, SIGTERM when the devnet dies.
fn isolate(command: &mut Command) {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        let parent = std::process::id();
        // SAFETY: the closure runs in the forked child before exec and only
        // makes async-signal-safe calls (prctl, getppid), allocating nothing.
        unsafe {
            command.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The devnet died between fork and prctl: do not run on.
                if libc::getppid() as u32 != parent {
                    return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
                }
                Ok(())
            });
        }
    }
}

/// Asks a child to stop (SIGTERM; `kill` elsewhere).
fn terminate(child: &Child) {
    #[cfg(unix)]
    {
        if let Ok(pid) = libc::pid_t::try_from(child.id()) {
            // SAFETY: kill(2) on the id of a child we have not reaped yet,
            // so the id cannot belong to another process.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = child;
    }
}

/// Whether a process with this id exists (for `devnet.json` of another
/// devnet on the same data directory).
pub fn alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        match libc::pid_t::try_from(pid) {
            // SAFETY: signal 0 only checks that the process exists.
            Ok(pid) if pid > 0 => unsafe { libc::kill(pid, 0) == 0 },
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        false
    }
}

/// Reads a `devnet.json`'s `pid`, if any.
pub fn recorded_pid(path: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json.get("pid")?.as_u64().and_then(|p| u32::try_from(p).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_lose_timestamp_and_info() {
        assert_eq!(tidy("2025-06-01T12:00:00.123456Z  INFO block 3: 2 txs"), "block 3: 2 txs");
        assert_eq!(tidy("2025-06-01T12:00:00.123456Z  WARN cannot follow"), "WARN cannot follow");
        assert_eq!(tidy("2025-06-01T12:00:00.123456Z ERROR boom"), "ERROR boom");
        assert_eq!(tidy("error: bad genesis"), "error: bad genesis");
        assert_eq!(tidy("   Compiling x"), "   Compiling x");
        assert_eq!(tidy(""), "");
    }

    #[test]
    fn exit_statuses_are_described() {
        let status = Command::new("sh").args(["-c", "exit 3"]).status().unwrap();
        assert_eq!(describe(status), "exit status 3");
        let status = Command::new("sh").args(["-c", "kill -9 $$"]).status().unwrap();
        assert_eq!(describe(status), "killed by signal 9");
        assert!(alive(std::process::id()));
    }
}

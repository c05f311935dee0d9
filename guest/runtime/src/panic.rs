//! The default panic behaviour: report on stderr, halt with
//! [`PANIC_EXIT_CODE`].
//!
//! The `#[panic_handler]` itself is defined by [`entry!`](crate::entry) in
//! the binary crate, not here: a binary has exactly one panic handler, and
//! programs built on other entry points (the `athena-sdk` templates, which
//! revert with the panic message instead) must be able to bring their own
//! while still linking this runtime.
//!
//! The message format follows std's (`panicked at FILE:LINE:COL:` then the
//! message) so hosts and people read guest panics the same way. Formatting
//! goes through a stack buffer, never the heap, so out-of-memory panics are
//! reported too.

use crate::io::{Fd, FdWriter};
use crate::syscall::exit;
use core::fmt::Write;
use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, Ordering};

/// Exit code of a panicking guest (the same as a panicking std program).
pub const PANIC_EXIT_CODE: u32 = 101;

/// Set on the first panic so that a panic while reporting one (a failing
/// `Display` impl) halts at once instead of recursing. Only plain atomic
/// loads and stores are used; the targets have no read-modify-write atomics.
static PANICKING: AtomicBool = AtomicBool::new(false);

/// Reports `info` on stderr and halts with [`PANIC_EXIT_CODE`]: the body
/// of the panic handler [`entry!`](crate::entry) defines.
pub fn halt(info: &PanicInfo<'_>) -> ! {
    if PANICKING.load(Ordering::Relaxed) {
        exit(PANIC_EXIT_CODE);
    }
    PANICKING.store(true, Ordering::Relaxed);
    let mut w = FdWriter::new(Fd::Stderr);
    let _ = match info.location() {
        Some(loc) => write!(w, "panicked at {}:{}:{}:\n{}\n", loc.file(), loc.line(), loc.column(), info.message()),
        None => write!(w, "panicked:\n{}\n", info.message()),
    };
    w.flush();
    exit(PANIC_EXIT_CODE)
}

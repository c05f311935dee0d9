//! The panic handler of SDK templates: revert with the panic message.
//!
//! A panicking template method ends its frame like [`revert`]: status
//! `revert`, effects undone, unused gas returned, and the message (UTF-8)
//! as revert data, so callers and tests see *why*. A message is never
//! prefixed with its location, so `panic!("x")` and `revert("x")` look the
//! same to a caller.
//!
//! Size: formatting a message with `core::fmt` costs 1.5–3 KB of code, up
//! to a third of a small template. So by default only literal messages
//! (`panic!("boom")`, `unwrap()` on `None`, arithmetic overflow,
//! `assert!(x, "text")`: `PanicInfo::message().as_str()`) are kept as
//! is; any other message is replaced by its location,
//! `panicked at FILE:LINE:COL`, built without `core::fmt`.
//! `#[template(format_panics)]` formats every message instead (into a
//! stack buffer of [`MESSAGE_CAPACITY`] bytes; longer ones are cut at a
//! character boundary). docs/sdk.md records both sizes.

use crate::host::{revert, revert_data};
use alloc::vec::Vec;
use core::fmt::{self, Write};
use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, Ordering};

/// Longest formatted panic message kept; the rest is cut.
pub const MESSAGE_CAPACITY: usize = 256;

/// Set on the first formatted panic, so a panic while formatting reverts
/// at once instead of recursing. Plain loads and stores only: the targets
/// have no read-modify-write atomics.
static PANICKING: AtomicBool = AtomicBool::new(false);

/// A fixed-size UTF-8 buffer that silently drops what does not fit.
struct MessageBuf {
    len: usize,
    buf: [u8; MESSAGE_CAPACITY],
}

impl Write for MessageBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = MESSAGE_CAPACITY - self.len;
        let mut take = s.len().min(room);
        while !s.is_char_boundary(take) {
            take -= 1;
        }
        self.buf[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take;
        Ok(())
    }
}

/// Reverts with the literal message, if the panic has one.
fn literal(info: &PanicInfo<'_>) {
    if let Some(text) = info.message().as_str() {
        revert(text);
    }
}

/// The default body of the `#[panic_handler]` that `#[template]`
/// generates: the literal message, else `panicked at FILE:LINE:COL`.
///
/// Runs no user code, so it cannot panic again (an allocation failure
/// reverts through the SDK's allocation-error handler).
pub fn panic_revert(info: &PanicInfo<'_>) -> ! {
    literal(info);
    let mut msg = Vec::with_capacity(64);
    msg.extend_from_slice(b"panicked");
    if let Some(location) = info.location() {
        msg.extend_from_slice(b" at ");
        msg.extend_from_slice(location.file().as_bytes());
        msg.push(b':');
        crate::private::push_decimal(&mut msg, location.line());
        msg.push(b':');
        crate::private::push_decimal(&mut msg, location.column());
    }
    revert_data(&msg)
}

/// The panic handler body for `#[template(format_panics)]`: every message
/// formatted with `core::fmt`. A panic while formatting (a failing
/// `Display` impl) reverts at once instead of recursing.
pub fn panic_revert_formatted(info: &PanicInfo<'_>) -> ! {
    if PANICKING.load(Ordering::Relaxed) {
        revert("athena: panic while panicking");
    }
    PANICKING.store(true, Ordering::Relaxed);
    literal(info);
    let mut buf = MessageBuf { len: 0, buf: [0; MESSAGE_CAPACITY] };
    let _ = write!(buf, "{}", info.message());
    revert_data(&buf.buf[..buf.len])
}

//! Output to the host's file descriptors and access to the run's input.
//!
//! Output goes through the `WRITE` syscall. [`FdWriter`] adapts it to
//! [`core::fmt::Write`] with a small stack buffer, so the `print!` family
//! formats without allocating and with few syscalls.

use crate::syscall::{number, syscall3};
use alloc::vec::Vec;
use core::fmt;

/// File descriptors the VM accepts for `WRITE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Fd {
    /// Standard output (1): the program's result.
    Stdout = 1,
    /// Standard error (2): diagnostics, including panic messages.
    Stderr = 2,
}

/// Writes all of `bytes` to `fd`; returns how many bytes the host took.
///
/// Issues `WRITE` until every byte is taken or the host takes none (which
/// would otherwise loop forever), so the result is `bytes.len()` unless the
/// host refused part of the output.
pub fn write(fd: Fd, bytes: &[u8]) -> usize {
    let mut done = 0;
    while done < bytes.len() {
        let rest = &bytes[done..];
        // SAFETY: `rest` is a valid readable slice for the whole call.
        let n = unsafe { syscall3(number::WRITE, fd as u32, rest.as_ptr() as u32, rest.len() as u32) } as usize;
        if n == 0 {
            break;
        }
        done += n.min(rest.len());
    }
    done
}

/// Length of the run's input in bytes (the `INPUT_LEN` syscall).
pub fn input_len() -> usize {
    // SAFETY: INPUT_LEN touches no memory.
    unsafe { syscall3(number::INPUT_LEN, 0, 0, 0) as usize }
}

/// Copies input bytes starting at `offset` into `buf`; returns how many
/// were copied: `min(buf.len(), input_len - offset)`, 0 past the end.
pub fn read_input(offset: usize, buf: &mut [u8]) -> usize {
    if buf.is_empty() {
        return 0;
    }
    // SAFETY: the VM writes at most `buf.len()` bytes at `buf`, which is a
    // valid, exclusively borrowed slice.
    let n = unsafe { syscall3(number::INPUT_READ, buf.as_mut_ptr() as u32, offset as u32, buf.len() as u32) };
    (n as usize).min(buf.len())
}

/// The whole input of the run, read into a heap buffer.
pub fn input() -> Vec<u8> {
    let len = input_len();
    let mut buf = alloc::vec![0u8; len];
    let n = read_input(0, &mut buf);
    buf.truncate(n);
    buf
}

/// The input's first four bytes as a little-endian `u32`, or `None` when the
/// input is empty. A shorter input is zero-extended (`[5]` reads as 5).
///
/// This is how the example guests take their single numeric parameter
/// without allocating.
pub fn input_u32_le() -> Option<u32> {
    let mut bytes = [0u8; 4];
    if read_input(0, &mut bytes) == 0 {
        return None;
    }
    Some(u32::from_le_bytes(bytes))
}

/// A [`fmt::Write`] adaptor over `WRITE` with a small stack buffer.
///
/// Buffered bytes are written when the buffer fills, on [`FdWriter::flush`]
/// and on drop, so output from one `print!` reaches the host in order and
/// in few syscalls, without any heap allocation.
pub struct FdWriter {
    fd: Fd,
    len: usize,
    buf: [u8; FdWriter::CAPACITY],
}

impl FdWriter {
    /// Buffer size: large enough for a typical line, small enough for the
    /// stack of a panicking program.
    pub const CAPACITY: usize = 128;

    /// A writer to `fd` with an empty buffer.
    pub const fn new(fd: Fd) -> Self {
        FdWriter { fd, len: 0, buf: [0; FdWriter::CAPACITY] }
    }

    /// Writes out whatever is buffered.
    pub fn flush(&mut self) {
        if self.len > 0 {
            write(self.fd, &self.buf[..self.len]);
            self.len = 0;
        }
    }

    /// Appends raw bytes, flushing as needed; large slices bypass the buffer.
    pub fn write_bytes(&mut self, bytes: &[u8]) {
        if bytes.len() > Self::CAPACITY - self.len {
            self.flush();
            if bytes.len() >= Self::CAPACITY {
                write(self.fd, bytes);
                return;
            }
        }
        self.buf[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }
}

impl fmt::Write for FdWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.write_bytes(s.as_bytes());
        Ok(())
    }
}

impl Drop for FdWriter {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Formats `args` to `fd`. Used by the `print!` family.
#[doc(hidden)]
pub fn _print(fd: Fd, args: fmt::Arguments<'_>) {
    let mut w = FdWriter::new(fd);
    // FdWriter itself never fails; a failing Display impl just truncates.
    let _ = fmt::Write::write_fmt(&mut w, args);
}

/// Prints to standard output (fd 1), like `std::print!`.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => {
        $crate::io::_print($crate::io::Fd::Stdout, ::core::format_args!($($arg)*))
    };
}

/// Prints to standard output (fd 1) with a trailing newline, like
/// `std::println!`.
#[macro_export]
macro_rules! println {
    () => {{
        $crate::io::write($crate::io::Fd::Stdout, b"\n");
    }};
    ($($arg:tt)*) => {
        $crate::io::_print($crate::io::Fd::Stdout, ::core::format_args!("{}\n", ::core::format_args!($($arg)*)))
    };
}

/// Prints to standard error (fd 2), like `std::eprint!`.
#[macro_export]
macro_rules! eprint {
    ($($arg:tt)*) => {
        $crate::io::_print($crate::io::Fd::Stderr, ::core::format_args!($($arg)*))
    };
}

/// Prints to standard error (fd 2) with a trailing newline, like
/// `std::eprintln!`.
#[macro_export]
macro_rules! eprintln {
    () => {{
        $crate::io::write($crate::io::Fd::Stderr, b"\n");
    }};
    ($($arg:tt)*) => {
        $crate::io::_print($crate::io::Fd::Stderr, ::core::format_args!("{}\n", ::core::format_args!($($arg)*)))
    };
}

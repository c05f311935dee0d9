//! Validated, immutable programs.
//!
//! A [`Program`] is built once from an ELF file (or from raw words, for
//! tests and fuzzing) and can then be instantiated any number of times. All
//! validation happens here, so instantiating and running never has to
//! re-check the file.

use crate::decode::decode;
use crate::fast::FastCode;
use crate::isa::{Instruction, RegisterSet};
use crate::memory::{GUARD_END, STACK_BOTTOM, STACK_TOP};

/// Largest code size (sum of executable segment sizes) accepted, in bytes.
pub const MAX_CODE_SIZE: u32 = 16 * 1024 * 1024;
/// Largest total memory image (sum of all segment sizes) accepted, in bytes.
pub const MAX_IMAGE_SIZE: u32 = 256 * 1024 * 1024;
/// Most loadable segments accepted.
pub const MAX_SEGMENTS: usize = 16;

/// One loadable segment of a program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Load address.
    pub vaddr: u32,
    /// Size in memory; bytes past `data.len()` read as zero.
    pub mem_size: u32,
    /// Initialized bytes (the segment's file contents).
    pub data: Vec<u8>,
    /// Whether instructions may be fetched from the segment. Executable
    /// segments are never writable, whatever their ELF flags say.
    pub executable: bool,
    /// Whether guest stores to the segment are allowed.
    pub writable: bool,
}

/// An executable region: the raw words (for data reads of code) and their
/// decoding, done once at load.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeRegion {
    start: u32,
    instructions: Vec<Instruction>,
}

impl CodeRegion {
    /// First address of the region.
    pub fn start(&self) -> u32 {
        self.start
    }

    /// The decoded instruction at `pc`, if `pc` is an aligned address inside
    /// the region.
    #[inline]
    pub fn fetch(&self, pc: u32) -> Option<Instruction> {
        let offset = pc.checked_sub(self.start)?;
        self.instructions.get((offset / 4) as usize).copied()
    }

    /// The decoded instruction slots, in address order.
    pub fn instructions(&self) -> &[Instruction] {
        &self.instructions
    }

    /// Number of instruction slots.
    pub fn len(&self) -> usize {
        self.instructions.len()
    }

    /// Whether the region has no instruction slots.
    pub fn is_empty(&self) -> bool {
        self.instructions.is_empty()
    }
}

/// Why a program was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    #[error("not a valid ELF file: {0}")]
    Malformed(&'static str),
    #[error("not a 32-bit little-endian ELF file")]
    NotElf32LittleEndian,
    #[error("ELF machine {0} is not RISC-V (243)")]
    NotRiscV(u16),
    #[error("ELF type {0} is not a static executable (ET_EXEC = 2)")]
    NotExecutable(u16),
    #[error("unsupported ELF flags {flags:#x}: {reason}")]
    UnsupportedFlags { flags: u32, reason: &'static str },
    #[error("dynamically linked programs are not supported (found an interpreter or dynamic segment)")]
    DynamicallyLinked,
    #[error("the program has no loadable segments")]
    NoLoadableSegments,
    #[error("too many loadable segments ({0}, at most {MAX_SEGMENTS})")]
    TooManySegments(usize),
    #[error("segment {index}: file range lies outside the file")]
    SegmentOutsideFile { index: usize },
    #[error("segment {index}: file size {file_size:#x} exceeds memory size {mem_size:#x}")]
    FileSizeExceedsMemSize { index: usize, file_size: u32, mem_size: u32 },
    #[error("segment {index}: {vaddr:#x} + {mem_size:#x} wraps past the end of the address space")]
    SegmentWraps { index: usize, vaddr: u32, mem_size: u32 },
    #[error("segment {index}: overlaps the guard region below {GUARD_END:#x}")]
    SegmentInGuard { index: usize },
    #[error("segment {index}: overlaps the stack region {STACK_BOTTOM:#x}..{STACK_TOP:#x}")]
    SegmentInStack { index: usize },
    #[error("segments {first} and {second} overlap")]
    SegmentsOverlap { first: usize, second: usize },
    #[error("executable segment {index} does not start on a 4-byte boundary ({vaddr:#x})")]
    MisalignedCode { index: usize, vaddr: u32 },
    #[error("code is {size} bytes, more than the {MAX_CODE_SIZE}-byte limit")]
    CodeTooLarge { size: u64 },
    #[error("memory image is {size} bytes, more than the {limit}-byte limit")]
    ImageTooLarge { size: u64, limit: u64 },
    #[error("entry point {0:#x} is not an aligned address inside an executable segment")]
    BadEntry(u32),
}

/// A validated program ready to be instantiated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    pub(crate) entry: u32,
    pub(crate) registers: RegisterSet,
    pub(crate) segments: Vec<Segment>,
    pub(crate) code: Vec<CodeRegion>,
    /// The same code compiled for the fast engine.
    pub(crate) fast: FastCode,
}

impl Program {
    /// Validates segments and builds the program (shared by the ELF loader
    /// and [`Program::from_words`]).
    pub(crate) fn new(entry: u32, registers: RegisterSet, mut segments: Vec<Segment>) -> Result<Self, LoadError> {
        if segments.is_empty() {
            return Err(LoadError::NoLoadableSegments);
        }
        if segments.len() > MAX_SEGMENTS {
            return Err(LoadError::TooManySegments(segments.len()));
        }
        let mut code_size = 0u64;
        let mut image_size = 0u64;
        for (index, seg) in segments.iter().enumerate() {
            let file_size = u32::try_from(seg.data.len()).unwrap_or(u32::MAX);
            if file_size > seg.mem_size {
                return Err(LoadError::FileSizeExceedsMemSize { index, file_size, mem_size: seg.mem_size });
            }
            let end = u64::from(seg.vaddr) + u64::from(seg.mem_size);
            if end > 1 << 32 {
                return Err(LoadError::SegmentWraps { index, vaddr: seg.vaddr, mem_size: seg.mem_size });
            }
            if seg.vaddr < GUARD_END {
                return Err(LoadError::SegmentInGuard { index });
            }
            if u64::from(seg.vaddr) < u64::from(STACK_TOP) && end > u64::from(STACK_BOTTOM) {
                return Err(LoadError::SegmentInStack { index });
            }
            if seg.executable {
                if seg.vaddr % 4 != 0 {
                    return Err(LoadError::MisalignedCode { index, vaddr: seg.vaddr });
                }
                code_size += u64::from(seg.mem_size);
            }
            image_size += u64::from(seg.mem_size);
        }
        if code_size > u64::from(MAX_CODE_SIZE) {
            return Err(LoadError::CodeTooLarge { size: code_size });
        }
        if image_size > u64::from(MAX_IMAGE_SIZE) {
            return Err(LoadError::ImageTooLarge { size: image_size, limit: u64::from(MAX_IMAGE_SIZE) });
        }
        // Overlap check on segments sorted by address (indices reported as given).
        let mut order: Vec<usize> = (0..segments.len()).collect();
        order.sort_by_key(|&i| segments[i].vaddr);
        for pair in order.windows(2) {
            let (a, b) = (&segments[pair[0]], &segments[pair[1]]);
            if u64::from(a.vaddr) + u64::from(a.mem_size) > u64::from(b.vaddr) {
                return Err(LoadError::SegmentsOverlap { first: pair[0].min(pair[1]), second: pair[0].max(pair[1]) });
            }
        }
        for seg in &mut segments {
            if seg.executable {
                seg.writable = false;
            }
        }
        segments.sort_by_key(|s| s.vaddr);
        let code: Vec<CodeRegion> = segments
            .iter()
            .filter(|s| s.executable)
            .map(|s| CodeRegion { start: s.vaddr, instructions: decode_segment(s, registers) })
            .collect();
        let entry_ok = entry % 4 == 0 && code.iter().any(|c| c.fetch(entry).is_some());
        if !entry_ok {
            return Err(LoadError::BadEntry(entry));
        }
        let fast = FastCode::compile(&code);
        Ok(Self { entry, registers, segments, code, fast })
    }

    /// A program made of one executable segment holding `words` at `base`
    /// (entry = `base`), for tests, fuzzing and hand-assembled code.
    pub fn from_words(base: u32, words: &[u32], registers: RegisterSet) -> Result<Self, LoadError> {
        let data: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        let mem_size = u32::try_from(data.len()).map_err(|_| LoadError::CodeTooLarge { size: data.len() as u64 })?;
        let segment = Segment { vaddr: base, mem_size, data, executable: true, writable: false };
        Self::new(base, registers, vec![segment])
    }

    /// Like [`Program::from_words`] plus extra (data) segments.
    pub fn from_segments(entry: u32, registers: RegisterSet, segments: Vec<Segment>) -> Result<Self, LoadError> {
        Self::new(entry, registers, segments)
    }

    /// The entry point.
    pub fn entry(&self) -> u32 {
        self.entry
    }

    /// The register set the program was built for.
    pub fn registers(&self) -> RegisterSet {
        self.registers
    }

    /// Loadable segments, sorted by address.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Executable regions, sorted by address.
    pub fn code(&self) -> &[CodeRegion] {
        &self.code
    }

    /// The decoded instruction at `pc`, or `None` if `pc` is not an
    /// instruction slot of an executable segment.
    #[inline]
    pub fn fetch(&self, pc: u32) -> Option<Instruction> {
        // Programs have very few code regions; a linear scan is fastest.
        self.code.iter().find_map(|c| c.fetch(pc))
    }

    /// Bytes the memory image occupies (sum of segment sizes).
    pub fn image_size(&self) -> u64 {
        self.segments.iter().map(|s| u64::from(s.mem_size)).sum()
    }
}

fn decode_segment(seg: &Segment, registers: RegisterSet) -> Vec<Instruction> {
    let slots = (seg.mem_size / 4) as usize;
    (0..slots)
        .map(|i| {
            let at = i * 4;
            let mut word = [0u8; 4];
            for (k, b) in word.iter_mut().enumerate() {
                *b = seg.data.get(at + k).copied().unwrap_or(0);
            }
            decode(u32::from_le_bytes(word), registers)
        })
        .collect()
}

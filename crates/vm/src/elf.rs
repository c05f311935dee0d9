//! ELF loading: turns untrusted bytes into a validated [`Program`].
//!
//! Accepted: statically linked `ET_EXEC`, ELFCLASS32, little-endian,
//! `EM_RISCV`, soft-float ABI, no compressed instructions. Only `PT_LOAD`
//! segments matter; section headers are never read, so stripped files and
//! files with garbage section tables load the same way.

use crate::isa::RegisterSet;
use crate::program::{LoadError, Program, Segment, MAX_IMAGE_SIZE, MAX_SEGMENTS};
use object::elf::{self, FileHeader32, ProgramHeader32};
use object::read::elf::{FileHeader, ProgramHeader};
use object::Endianness;

/// `e_flags` bit: the program uses compressed instructions.
const EF_RISCV_RVC: u32 = 0x0001;
/// `e_flags` bits: the floating-point calling convention.
const EF_RISCV_FLOAT_ABI: u32 = 0x0006;
/// `e_flags` bit: the program uses the RV32E register set.
const EF_RISCV_RVE: u32 = 0x0008;

impl Program {
    /// Parses and validates a RISC-V ELF executable. Never panics, whatever
    /// the bytes.
    pub fn from_elf(bytes: &[u8]) -> Result<Self, LoadError> {
        // Classify by e_ident first: `FileHeader32::parse` refuses an ELF64
        // header as "unsupported", which would report a 64-bit file as
        // malformed rather than as the wrong class.
        if let [0x7f, b'E', b'L', b'F', class, data, ..] = *bytes {
            if class != elf::ELFCLASS32 || data != elf::ELFDATA2LSB {
                return Err(LoadError::NotElf32LittleEndian);
            }
        }
        let header = FileHeader32::<Endianness>::parse(bytes).map_err(|_| LoadError::Malformed("bad ELF header"))?;
        if !header.is_class_32() || !header.is_little_endian() {
            return Err(LoadError::NotElf32LittleEndian);
        }
        let endian = Endianness::Little;
        let machine = header.e_machine(endian);
        if machine != elf::EM_RISCV {
            return Err(LoadError::NotRiscV(machine));
        }
        let kind = header.e_type(endian);
        if kind != elf::ET_EXEC {
            return Err(LoadError::NotExecutable(kind));
        }
        let flags = header.e_flags(endian);
        if flags & EF_RISCV_RVC != 0 {
            return Err(LoadError::UnsupportedFlags {
                flags,
                reason: "compressed instructions (RVC) are not supported",
            });
        }
        if flags & EF_RISCV_FLOAT_ABI != 0 {
            return Err(LoadError::UnsupportedFlags { flags, reason: "only the soft-float ABI is supported" });
        }
        let registers = if flags & EF_RISCV_RVE != 0 { RegisterSet::Rv32e } else { RegisterSet::Rv32i };

        let headers = header
            .program_headers(endian, bytes)
            .map_err(|_| LoadError::Malformed("program header table outside the file"))?;
        let segments = collect_segments(headers, bytes, endian)?;
        Program::new(header.e_entry(endian), registers, segments)
    }
}

fn collect_segments(
    headers: &[ProgramHeader32<Endianness>],
    bytes: &[u8],
    endian: Endianness,
) -> Result<Vec<Segment>, LoadError> {
    let mut segments = Vec::new();
    let mut image_size = 0u64;
    for ph in headers {
        match ph.p_type(endian) {
            elf::PT_INTERP | elf::PT_DYNAMIC => return Err(LoadError::DynamicallyLinked),
            elf::PT_LOAD => {}
            _ => continue,
        }
        let index = segments.len();
        let mem_size = ph.p_memsz(endian);
        let file_size = ph.p_filesz(endian);
        if file_size > mem_size {
            return Err(LoadError::FileSizeExceedsMemSize { index, file_size, mem_size });
        }
        if mem_size == 0 {
            // An empty segment occupies nothing; skip it instead of letting
            // its address trip the overlap, guard or count checks.
            continue;
        }
        if index >= MAX_SEGMENTS {
            let loads = headers.iter().filter(|h| h.p_type(endian) == elf::PT_LOAD && h.p_memsz(endian) > 0).count();
            return Err(LoadError::TooManySegments(loads));
        }
        // Bound the total before copying anything, so a file whose headers
        // all point at the same large range cannot make us copy it many times.
        image_size += u64::from(mem_size);
        if image_size > u64::from(MAX_IMAGE_SIZE) {
            return Err(LoadError::ImageTooLarge { size: image_size, limit: u64::from(MAX_IMAGE_SIZE) });
        }
        let data = ph.data(endian, bytes).map_err(|_| LoadError::SegmentOutsideFile { index })?;
        let flags = ph.p_flags(endian);
        segments.push(Segment {
            vaddr: ph.p_vaddr(endian),
            mem_size,
            data: data.to_vec(),
            executable: flags & elf::PF_X != 0,
            writable: flags & elf::PF_W != 0,
        });
    }
    Ok(segments)
}

//! # athena-test-elf
//!
//! A tiny builder of RISC-V ELF executables in memory, for
//! tests and fuzz seeds only (`publish = false`).
//!
//! Why it exists: the VM's ELF loader is a consensus-critical parser of
//! untrusted bytes, and its tests need files with *exactly* the property
//! under test (an entry point one byte off, two segments overlapping by one
//! page, a header claiming more program headers than the file holds, ...).
//! A real toolchain cannot produce most of those, and checked-in binary
//! blobs say nothing about what they contain. Building the file in the test
//! keeps the property visible next to the assertion.
//!
//! The builder writes an ELF header, a program header table right after it,
//! and each segment's file bytes after that (4-byte aligned). It never
//! writes section headers: the loader ignores them. By default the output is
//! a valid statically linked `ET_EXEC`, `ELFCLASS32`, little-endian,
//! `EM_RISCV`, soft-float RV32I file; every field can be overridden,
//! including to values no valid file has:
//!
//! * [`ElfBuilder::class`] / [`ElfBuilder::data_encoding`] switch the layout
//!   to a genuine ELF64 and/or big-endian file (so a loader is rejected
//!   for the right reason, not because the rest of the file is garbage);
//! * [`ElfBuilder::truncate`] cuts the output short (truncated header);
//! * [`ElfBuilder::phoff`] / [`ElfBuilder::phnum`] / [`ElfBuilder::phentsize`]
//!   make the program header table point past the end of the file;
//! * [`ProgramHeader::filesz`] / [`ProgramHeader::offset`] lie about where a
//!   segment's bytes are, and a `memsz` smaller than the data gives
//!   `p_filesz > p_memsz`;
//! * [`ElfBuilder::interp`] / [`ElfBuilder::dynamic`] add `PT_INTERP` /
//!   `PT_DYNAMIC` headers.
//!
//! The [`asm`] module encodes the handful of RV32I instructions tests need
//! to write small programs by hand; [`script`] builds guests that issue
//! an exact list of syscalls and return their results, and [`programs`]
//! holds the few fixed programs the host tests share (state echo, spawn
//! factory, reverter). Those two use the syscall numbers of `athena-abi`,
//! the crate's only dependency (itself dependency-free).
//!
//! ```
//! use athena_test_elf::{asm, ElfBuilder, PF_R};
//! // a0 = 7; t0 = 0 (HALT); ecall
//! let text = [asm::addi(asm::A0, 0, 7), asm::addi(asm::T0, 0, 0), asm::ECALL];
//! let elf = ElfBuilder::new(0x1_0000)
//!     .text(0x1_0000, &text)
//!     .segment(0x2_0000, PF_R, b"hi\n".to_vec(), 3)
//!     .build();
//! assert_eq!(&elf[..4], b"\x7fELF");
//! ```

#![forbid(unsafe_code)]

pub mod programs;
pub mod script;

/// `e_ident[EI_CLASS]`: 32-bit objects.
pub const ELFCLASS32: u8 = 1;
/// `e_ident[EI_CLASS]`: 64-bit objects.
pub const ELFCLASS64: u8 = 2;
/// `e_ident[EI_DATA]`: little-endian.
pub const ELFDATA2LSB: u8 = 1;
/// `e_ident[EI_DATA]`: big-endian.
pub const ELFDATA2MSB: u8 = 2;
/// `e_ident[EI_VERSION]` and `e_version`: the only ELF version.
pub const EV_CURRENT: u8 = 1;

/// `e_type`: relocatable object.
pub const ET_REL: u16 = 1;
/// `e_type`: executable (the only type the VM accepts).
pub const ET_EXEC: u16 = 2;
/// `e_type`: shared object / position-independent executable.
pub const ET_DYN: u16 = 3;

/// `e_machine`: RISC-V.
pub const EM_RISCV: u16 = 243;
/// `e_machine`: AMD x86-64 (a "wrong machine" for tests).
pub const EM_X86_64: u16 = 62;

/// `e_flags`: compressed instructions (RVC) are used.
pub const EF_RISCV_RVC: u32 = 0x0001;
/// `e_flags`: single-precision hardware float ABI.
pub const EF_RISCV_FLOAT_ABI_SINGLE: u32 = 0x0002;
/// `e_flags`: double-precision hardware float ABI.
pub const EF_RISCV_FLOAT_ABI_DOUBLE: u32 = 0x0004;
/// `e_flags`: quad-precision hardware float ABI.
pub const EF_RISCV_FLOAT_ABI_QUAD: u32 = 0x0006;
/// `e_flags`: the RV32E (16-register) base ISA.
pub const EF_RISCV_RVE: u32 = 0x0008;

/// `p_type`: loadable segment.
pub const PT_LOAD: u32 = 1;
/// `p_type`: dynamic linking information.
pub const PT_DYNAMIC: u32 = 2;
/// `p_type`: program interpreter path.
pub const PT_INTERP: u32 = 3;
/// `p_type`: auxiliary information (ignored by loaders).
pub const PT_NOTE: u32 = 4;
/// `p_type`: stack permissions (emitted by GNU linkers, ignored by the VM).
pub const PT_GNU_STACK: u32 = 0x6474_e551;

/// `p_flags`: executable.
pub const PF_X: u32 = 1;
/// `p_flags`: writable.
pub const PF_W: u32 = 2;
/// `p_flags`: readable.
pub const PF_R: u32 = 4;

/// Size of an ELF32 file header.
pub const EHDR32_SIZE: usize = 52;
/// Size of an ELF32 program header.
pub const PHDR32_SIZE: usize = 32;
/// Size of an ELF64 file header.
pub const EHDR64_SIZE: usize = 64;
/// Size of an ELF64 program header.
pub const PHDR64_SIZE: usize = 56;

/// One program header and the file bytes it describes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramHeader {
    /// `p_type` (`PT_LOAD`, `PT_INTERP`, ...).
    pub p_type: u32,
    /// `p_vaddr` (and `p_paddr`).
    pub vaddr: u32,
    /// `p_flags`: a combination of [`PF_R`], [`PF_W`], [`PF_X`].
    pub flags: u32,
    /// The segment's file contents; `p_filesz` is their length unless
    /// [`ProgramHeader::filesz`] overrides it.
    pub data: Vec<u8>,
    /// `p_memsz`. Smaller than `data.len()` gives a file whose
    /// `p_filesz > p_memsz`.
    pub memsz: u32,
    /// Overrides `p_offset` (by default the builder places `data` after the
    /// headers): use it to point a segment outside the file.
    pub offset: Option<u32>,
    /// Overrides `p_filesz` without changing the bytes written.
    pub filesz: Option<u32>,
}

impl ProgramHeader {
    /// A `PT_LOAD` header with `memsz == data.len()`.
    pub fn load(vaddr: u32, flags: u32, data: impl Into<Vec<u8>>) -> Self {
        let data = data.into();
        let memsz = u32::try_from(data.len()).expect("segment data larger than 4 GiB");
        Self { p_type: PT_LOAD, vaddr, flags, data, memsz, offset: None, filesz: None }
    }

    /// Sets `p_memsz`.
    pub fn memsz(mut self, memsz: u32) -> Self {
        self.memsz = memsz;
        self
    }

    /// Overrides `p_offset`.
    pub fn offset(mut self, offset: u32) -> Self {
        self.offset = Some(offset);
        self
    }

    /// Overrides `p_filesz`.
    pub fn filesz(mut self, filesz: u32) -> Self {
        self.filesz = Some(filesz);
        self
    }
}

/// Builds an ELF file in memory. See the crate documentation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElfBuilder {
    class: u8,
    data_encoding: u8,
    version: u8,
    e_type: u16,
    e_machine: u16,
    e_flags: u32,
    entry: u32,
    headers: Vec<ProgramHeader>,
    phoff: Option<u32>,
    phnum: Option<u16>,
    phentsize: Option<u16>,
    truncate: Option<usize>,
}

impl ElfBuilder {
    /// A valid RV32I static executable with entry point `entry` and no
    /// program headers yet.
    pub fn new(entry: u32) -> Self {
        Self {
            class: ELFCLASS32,
            data_encoding: ELFDATA2LSB,
            version: EV_CURRENT,
            e_type: ET_EXEC,
            e_machine: EM_RISCV,
            e_flags: 0,
            entry,
            headers: Vec::new(),
            phoff: None,
            phnum: None,
            phentsize: None,
            truncate: None,
        }
    }

    /// Sets `e_ident[EI_CLASS]`. [`ELFCLASS64`] switches to the ELF64
    /// layout (64-byte header, 56-byte program headers); any other value
    /// keeps the ELF32 layout.
    pub fn class(mut self, class: u8) -> Self {
        self.class = class;
        self
    }

    /// Sets `e_ident[EI_DATA]`. [`ELFDATA2MSB`] writes every multi-byte
    /// field big-endian; any other value writes little-endian.
    pub fn data_encoding(mut self, encoding: u8) -> Self {
        self.data_encoding = encoding;
        self
    }

    /// Sets `e_ident[EI_VERSION]` (and `e_version`).
    pub fn version(mut self, version: u8) -> Self {
        self.version = version;
        self
    }

    /// Sets `e_type` ([`ET_EXEC`] by default).
    pub fn e_type(mut self, e_type: u16) -> Self {
        self.e_type = e_type;
        self
    }

    /// Sets `e_machine` ([`EM_RISCV`] by default).
    pub fn machine(mut self, machine: u16) -> Self {
        self.e_machine = machine;
        self
    }

    /// Sets `e_flags` (0, soft-float RV32I, by default): [`EF_RISCV_RVE`],
    /// [`EF_RISCV_RVC`], `EF_RISCV_FLOAT_ABI_*`.
    pub fn flags(mut self, flags: u32) -> Self {
        self.e_flags = flags;
        self
    }

    /// Sets `e_entry`.
    pub fn entry(mut self, entry: u32) -> Self {
        self.entry = entry;
        self
    }

    /// Adds a program header.
    pub fn program_header(mut self, header: ProgramHeader) -> Self {
        self.headers.push(header);
        self
    }

    /// Adds a `PT_LOAD` segment: `flags` from [`PF_R`] | [`PF_W`] | [`PF_X`],
    /// `data` its file bytes, `memsz` its size in memory (the rest of the
    /// segment past `data` is zero-filled by a loader).
    pub fn segment(self, vaddr: u32, flags: u32, data: impl Into<Vec<u8>>, memsz: u32) -> Self {
        self.program_header(ProgramHeader::load(vaddr, flags, data).memsz(memsz))
    }

    /// Adds a read-execute `PT_LOAD` segment holding `words` (little-endian).
    pub fn text(self, vaddr: u32, words: &[u32]) -> Self {
        let bytes = words_to_bytes(words);
        let len = bytes.len() as u32;
        self.segment(vaddr, PF_R | PF_X, bytes, len)
    }

    /// Adds a `PT_INTERP` header naming `path` (what a dynamically linked
    /// executable carries).
    pub fn interp(self, path: &str) -> Self {
        let mut data = path.as_bytes().to_vec();
        data.push(0);
        let len = data.len() as u32;
        self.program_header(ProgramHeader {
            p_type: PT_INTERP,
            vaddr: 0,
            flags: PF_R,
            data,
            memsz: len,
            offset: None,
            filesz: None,
        })
    }

    /// Adds an (empty) `PT_DYNAMIC` header.
    pub fn dynamic(self) -> Self {
        self.program_header(ProgramHeader {
            p_type: PT_DYNAMIC,
            vaddr: 0,
            flags: PF_R | PF_W,
            data: Vec::new(),
            memsz: 0,
            offset: None,
            filesz: None,
        })
    }

    /// Overrides `e_phoff` (by default the table follows the file header).
    pub fn phoff(mut self, phoff: u32) -> Self {
        self.phoff = Some(phoff);
        self
    }

    /// Overrides `e_phnum` (by default the number of headers added). The
    /// table written still has only the headers added, so a larger value
    /// makes the table run past what was written.
    pub fn phnum(mut self, phnum: u16) -> Self {
        self.phnum = Some(phnum);
        self
    }

    /// Overrides `e_phentsize`.
    pub fn phentsize(mut self, phentsize: u16) -> Self {
        self.phentsize = Some(phentsize);
        self
    }

    /// Cuts the output to its first `len` bytes (if it is longer).
    pub fn truncate(mut self, len: usize) -> Self {
        self.truncate = Some(len);
        self
    }

    fn is_64(&self) -> bool {
        self.class == ELFCLASS64
    }

    /// Size of the file header for the chosen class.
    pub fn header_size(&self) -> usize {
        if self.is_64() {
            EHDR64_SIZE
        } else {
            EHDR32_SIZE
        }
    }

    /// Size of one program header for the chosen class.
    pub fn program_header_size(&self) -> usize {
        if self.is_64() {
            PHDR64_SIZE
        } else {
            PHDR32_SIZE
        }
    }

    /// Writes the file.
    pub fn build(&self) -> Vec<u8> {
        let ehsize = self.header_size();
        let phentsize = self.program_header_size();
        let table_start = ehsize;
        let mut cursor = table_start + phentsize * self.headers.len();
        // Place each segment's bytes after the table, 4-byte aligned.
        let mut offsets = Vec::with_capacity(self.headers.len());
        for h in &self.headers {
            cursor = cursor.next_multiple_of(4);
            offsets.push(cursor);
            cursor += h.data.len();
        }

        let mut w =
            Writer { out: Vec::with_capacity(cursor), big: self.data_encoding == ELFDATA2MSB, wide: self.is_64() };
        // e_ident
        w.out.extend_from_slice(b"\x7fELF");
        w.out.extend_from_slice(&[self.class, self.data_encoding, self.version, 0]);
        w.out.extend_from_slice(&[0; 8]);
        w.u16(self.e_type);
        w.u16(self.e_machine);
        w.u32(u32::from(self.version));
        w.addr(u64::from(self.entry));
        let phoff = self.phoff.map_or(if self.headers.is_empty() { 0 } else { table_start as u64 }, u64::from);
        w.addr(phoff); // e_phoff
        w.addr(0); // e_shoff: no section headers
        w.u32(self.e_flags);
        w.u16(ehsize as u16);
        w.u16(self.phentsize.unwrap_or(phentsize as u16));
        w.u16(self.phnum.unwrap_or(self.headers.len() as u16));
        w.u16(if self.is_64() { 64 } else { 40 }); // e_shentsize
        w.u16(0); // e_shnum
        w.u16(0); // e_shstrndx
        debug_assert_eq!(w.out.len(), ehsize);

        for (h, &offset) in self.headers.iter().zip(&offsets) {
            let offset = h.offset.map_or(offset as u64, u64::from);
            let filesz = h.filesz.map_or(h.data.len() as u64, u64::from);
            w.u32(h.p_type);
            if self.is_64() {
                w.u32(h.flags);
            }
            w.addr(offset);
            w.addr(u64::from(h.vaddr)); // p_vaddr
            w.addr(u64::from(h.vaddr)); // p_paddr
            w.addr(filesz);
            w.addr(u64::from(h.memsz));
            if !self.is_64() {
                w.u32(h.flags);
            }
            w.addr(4); // p_align
        }
        for (h, &offset) in self.headers.iter().zip(&offsets) {
            w.out.resize(offset, 0);
            w.out.extend_from_slice(&h.data);
        }
        let mut out = w.out;
        if let Some(len) = self.truncate {
            out.truncate(len);
        }
        out
    }
}

struct Writer {
    out: Vec<u8>,
    big: bool,
    wide: bool,
}

impl Writer {
    fn u16(&mut self, v: u16) {
        self.out.extend_from_slice(&if self.big { v.to_be_bytes() } else { v.to_le_bytes() });
    }
    fn u32(&mut self, v: u32) {
        self.out.extend_from_slice(&if self.big { v.to_be_bytes() } else { v.to_le_bytes() });
    }
    fn u64(&mut self, v: u64) {
        self.out.extend_from_slice(&if self.big { v.to_be_bytes() } else { v.to_le_bytes() });
    }
    /// An address- or offset-sized field (`Elf32_Addr`/`Elf64_Addr`).
    fn addr(&mut self, v: u64) {
        if self.wide {
            self.u64(v);
        } else {
            self.u32(v as u32);
        }
    }
}

/// Little-endian bytes of `words` (how RISC-V code sits in a file).
pub fn words_to_bytes(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// Encoders for the few RV32I instructions hand-written test programs need,
/// and the raw instruction formats (for generated programs).
///
/// Immediates are taken as plain integers and masked to their field; the
/// caller keeps them in range (the tests assert what the VM does with the
/// result, so a wrong encoding shows up as a failing test, not silently).
pub mod asm {
    /// Return address.
    pub const RA: u32 = 1;
    /// Stack pointer.
    pub const SP: u32 = 2;
    /// Temporary `t0`: the syscall number at `ECALL`.
    pub const T0: u32 = 5;
    /// Temporary `t1`.
    pub const T1: u32 = 6;
    /// Argument / result `a0`.
    pub const A0: u32 = 10;
    /// Argument `a1`.
    pub const A1: u32 = 11;
    /// Argument `a2`.
    pub const A2: u32 = 12;
    /// Argument `a3`.
    pub const A3: u32 = 13;
    /// Argument `a4`.
    pub const A4: u32 = 14;
    /// Argument `a5`.
    pub const A5: u32 = 15;
    /// `a6` = `x16`, the first register RV32E lacks.
    pub const A6: u32 = 16;

    /// `ecall`.
    pub const ECALL: u32 = 0x0000_0073;
    /// `ebreak`.
    pub const EBREAK: u32 = 0x0010_0073;
    /// `unimp` as assemblers emit it (`csrrw x0, cycle, x0`): illegal.
    pub const UNIMP: u32 = 0xc000_1073;
    /// `addi x0, x0, 0`.
    pub const NOP: u32 = 0x0000_0013;

    // Raw formats (fields in encoding order, immediates masked to their
    // bits), for tests that generate instructions by field, e.g. at random.

    /// R-type `OP` (register-register ALU, M extension with `funct7 = 1`).
    pub fn r_type(funct7: u32, rs2: u32, rs1: u32, funct3: u32, rd: u32) -> u32 {
        (funct7 << 25) | (rs2 << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | 0x33
    }

    /// I-type with any `opcode` (`OP-IMM`, `LOAD`, `JALR`, ...).
    pub fn i_type(imm: i32, rs1: u32, funct3: u32, rd: u32, opcode: u32) -> u32 {
        (((imm as u32) & 0xfff) << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | opcode
    }

    /// S-type `STORE`.
    pub fn s_type(imm: i32, rs2: u32, rs1: u32, funct3: u32) -> u32 {
        let imm = imm as u32;
        (((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (funct3 << 12) | ((imm & 0x1f) << 7) | 0x23
    }

    /// B-type `BRANCH`; `imm` is the byte offset from the branch.
    pub fn b_type(imm: i32, rs2: u32, rs1: u32, funct3: u32) -> u32 {
        let imm = imm as u32;
        (((imm >> 12) & 1) << 31)
            | (((imm >> 5) & 0x3f) << 25)
            | (rs2 << 20)
            | (rs1 << 15)
            | (funct3 << 12)
            | (((imm >> 1) & 0xf) << 8)
            | (((imm >> 11) & 1) << 7)
            | 0x63
    }

    /// J-type `JAL`; `imm` is the byte offset from the jump.
    pub fn j_type(imm: i32, rd: u32) -> u32 {
        let imm = imm as u32;
        (((imm >> 20) & 1) << 31)
            | (((imm >> 1) & 0x3ff) << 21)
            | (((imm >> 11) & 1) << 20)
            | (((imm >> 12) & 0xff) << 12)
            | (rd << 7)
            | 0x6f
    }

    /// `addi rd, rs1, imm` (imm in -2048..2048).
    pub fn addi(rd: u32, rs1: u32, imm: i32) -> u32 {
        i_type(imm, rs1, 0, rd, 0x13)
    }

    /// `add rd, rs1, rs2`.
    pub fn add(rd: u32, rs1: u32, rs2: u32) -> u32 {
        r_type(0, rs2, rs1, 0, rd)
    }

    /// `lui rd, upper`: `rd = upper << 12`.
    pub fn lui(rd: u32, upper: u32) -> u32 {
        ((upper & 0xf_ffff) << 12) | (rd << 7) | 0x37
    }

    /// `lw rd, imm(rs1)`.
    pub fn lw(rd: u32, rs1: u32, imm: i32) -> u32 {
        i_type(imm, rs1, 2, rd, 0x03)
    }

    /// `lbu rd, imm(rs1)`.
    pub fn lbu(rd: u32, rs1: u32, imm: i32) -> u32 {
        i_type(imm, rs1, 4, rd, 0x03)
    }

    /// `sw rs2, imm(rs1)`.
    pub fn sw(rs2: u32, rs1: u32, imm: i32) -> u32 {
        s_type(imm, rs2, rs1, 2)
    }

    /// `sb rs2, imm(rs1)`.
    pub fn sb(rs2: u32, rs1: u32, imm: i32) -> u32 {
        s_type(imm, rs2, rs1, 0)
    }

    /// `li rd, value` as the usual `lui` + `addi` pair (always two words,
    /// so code layout does not depend on the value).
    pub fn li(rd: u32, value: u32) -> [u32; 2] {
        let low = ((value & 0xfff) as i32) << 20 >> 20; // sign-extended low 12 bits
        let upper = value.wrapping_sub(low as u32) >> 12;
        [lui(rd, upper), addi(rd, rd, low)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object::elf::{FileHeader32, FileHeader64};
    use object::read::elf::{FileHeader, ProgramHeader as _};
    use object::Endianness;

    fn sample() -> ElfBuilder {
        ElfBuilder::new(0x1_0000).text(0x1_0000, &[asm::addi(asm::A0, 0, 7), asm::ECALL]).segment(
            0x2_0000,
            PF_R | PF_W,
            vec![1, 2, 3],
            0x100,
        )
    }

    #[test]
    fn default_output_is_a_valid_elf32_riscv_executable() {
        let bytes = sample().flags(EF_RISCV_RVE).build();
        let header = FileHeader32::<Endianness>::parse(&*bytes).unwrap();
        let e = header.endian().unwrap();
        assert_eq!(e, Endianness::Little);
        assert!(header.is_class_32());
        assert_eq!(header.e_type(e), ET_EXEC);
        assert_eq!(header.e_machine(e), EM_RISCV);
        assert_eq!(header.e_flags(e), EF_RISCV_RVE);
        assert_eq!(header.e_entry(e), 0x1_0000);
        assert_eq!(header.e_shnum(e), 0);
        let phdrs = header.program_headers(e, &*bytes).unwrap();
        assert_eq!(phdrs.len(), 2);
        assert_eq!(phdrs[0].p_type(e), PT_LOAD);
        assert_eq!(phdrs[0].p_flags(e), PF_R | PF_X);
        assert_eq!(phdrs[0].p_vaddr(e), 0x1_0000);
        assert_eq!(phdrs[0].data(e, &*bytes).unwrap(), words_to_bytes(&[asm::addi(asm::A0, 0, 7), asm::ECALL]));
        assert_eq!(phdrs[1].p_flags(e), PF_R | PF_W);
        assert_eq!(phdrs[1].p_filesz(e), 3);
        assert_eq!(phdrs[1].p_memsz(e), 0x100);
        assert_eq!(phdrs[1].data(e, &*bytes).unwrap(), &[1, 2, 3]);
        assert_eq!(phdrs[1].p_offset(e) % 4, 0);
    }

    #[test]
    fn class64_writes_a_genuine_elf64_layout() {
        let bytes = sample().class(ELFCLASS64).build();
        assert_eq!(bytes[4], ELFCLASS64);
        let header = FileHeader64::<Endianness>::parse(&*bytes).unwrap();
        let e = header.endian().unwrap();
        assert_eq!(header.e_ehsize(e) as usize, EHDR64_SIZE);
        assert_eq!(header.e_entry(e), 0x1_0000);
        let phdrs = header.program_headers(e, &*bytes).unwrap();
        assert_eq!(phdrs.len(), 2);
        assert_eq!(phdrs[1].p_memsz(e), 0x100);
        assert_eq!(phdrs[1].data(e, &*bytes).unwrap(), &[1, 2, 3]);
        // ... and a 32-bit parser refuses it.
        assert!(FileHeader32::<Endianness>::parse(&*bytes).is_err());
    }

    #[test]
    fn big_endian_writes_fields_big_endian() {
        let bytes = sample().data_encoding(ELFDATA2MSB).build();
        let header = FileHeader32::<Endianness>::parse(&*bytes).unwrap();
        let e = header.endian().unwrap();
        assert_eq!(e, Endianness::Big);
        assert_eq!(header.e_machine(e), EM_RISCV);
        assert_eq!(&bytes[18..20], &EM_RISCV.to_be_bytes());
        assert_eq!(header.program_headers(e, &*bytes).unwrap()[1].p_memsz(e), 0x100);
    }

    #[test]
    fn header_fields_can_be_overridden() {
        let bytes = sample().e_type(ET_DYN).machine(EM_X86_64).entry(0x1234).flags(0xff).build();
        let header = FileHeader32::<Endianness>::parse(&*bytes).unwrap();
        let e = Endianness::Little;
        assert_eq!(header.e_type(e), ET_DYN);
        assert_eq!(header.e_machine(e), EM_X86_64);
        assert_eq!(header.e_entry(e), 0x1234);
        assert_eq!(header.e_flags(e), 0xff);
    }

    #[test]
    fn truncation_and_table_overrides_make_broken_files() {
        assert_eq!(sample().truncate(20).build().len(), 20);
        assert!(FileHeader32::<Endianness>::parse(&*sample().truncate(51).build()).is_err());

        let e = Endianness::Little;
        let past_eof = sample().phoff(0x10_0000).build();
        let header = FileHeader32::<Endianness>::parse(&*past_eof).unwrap();
        assert!(header.program_headers(e, &*past_eof).is_err());

        let too_many = sample().phnum(200).build();
        let header = FileHeader32::<Endianness>::parse(&*too_many).unwrap();
        assert!(header.program_headers(e, &*too_many).is_err());

        let bad_entsize = sample().phentsize(31).build();
        let header = FileHeader32::<Endianness>::parse(&*bad_entsize).unwrap();
        assert!(header.program_headers(e, &*bad_entsize).is_err());
    }

    #[test]
    fn segment_overrides_lie_about_sizes_and_offsets() {
        let e = Endianness::Little;
        let bytes = ElfBuilder::new(0x1_0000)
            .program_header(ProgramHeader::load(0x1_0000, PF_R, vec![0; 16]).memsz(8))
            .program_header(ProgramHeader::load(0x2_0000, PF_R, vec![0; 4]).offset(0xffff_0000))
            .program_header(ProgramHeader::load(0x3_0000, PF_R, vec![0; 4]).filesz(0x1000))
            .build();
        let header = FileHeader32::<Endianness>::parse(&*bytes).unwrap();
        let phdrs = header.program_headers(e, &*bytes).unwrap();
        assert_eq!((phdrs[0].p_filesz(e), phdrs[0].p_memsz(e)), (16, 8));
        assert_eq!(phdrs[1].p_offset(e), 0xffff_0000);
        assert!(phdrs[1].data(e, &*bytes).is_err());
        assert_eq!(phdrs[2].p_filesz(e), 0x1000);
        assert!(phdrs[2].data(e, &*bytes).is_err());
    }

    #[test]
    fn interp_and_dynamic_headers() {
        let e = Endianness::Little;
        let bytes = sample().interp("/lib/ld.so").dynamic().build();
        let header = FileHeader32::<Endianness>::parse(&*bytes).unwrap();
        let phdrs = header.program_headers(e, &*bytes).unwrap();
        assert_eq!(phdrs[2].p_type(e), PT_INTERP);
        assert_eq!(phdrs[2].data(e, &*bytes).unwrap(), b"/lib/ld.so\0");
        assert_eq!(phdrs[3].p_type(e), PT_DYNAMIC);
    }

    #[test]
    fn no_program_headers_means_phoff_zero() {
        let bytes = ElfBuilder::new(0).build();
        assert_eq!(bytes.len(), EHDR32_SIZE);
        let header = FileHeader32::<Endianness>::parse(&*bytes).unwrap();
        assert_eq!(header.e_phoff(Endianness::Little), 0);
    }

    #[test]
    fn asm_encodings_match_the_assembler() {
        // Reference encodings from GNU as (riscv32-unknown-elf).
        assert_eq!(asm::addi(asm::A0, 0, -1), 0xfff0_0513); // li a0, -1
        assert_eq!(asm::addi(asm::T0, 0, 2), 0x0020_0293); // li t0, 2
        assert_eq!(asm::lui(asm::A1, 0x201), 0x0020_15b7); // lui a1, 0x201
        assert_eq!(asm::sw(asm::A1, asm::SP, -4), 0xfeb1_2e23); // sw a1, -4(sp)
        assert_eq!(asm::lw(asm::A0, asm::A1, 8), 0x0085_a503); // lw a0, 8(a1)
        assert_eq!(asm::sb(asm::A0, asm::A1, 0), 0x00a5_8023); // sb a0, 0(a1)
        assert_eq!(asm::lbu(asm::A0, asm::A1, 1), 0x0015_c503); // lbu a0, 1(a1)
        assert_eq!(asm::add(asm::A0, asm::A0, asm::A1), 0x00b5_0533); // add a0, a0, a1
        assert_eq!(asm::r_type(1, asm::A1, asm::A0, 0, asm::A0), 0x02b5_0533); // mul a0, a0, a1
        assert_eq!(asm::b_type(-8, asm::A1, asm::A0, 0), 0xfeb5_0ce3); // beq a0, a1, -8
        assert_eq!(asm::j_type(-4, asm::RA), 0xffdf_f0ef); // jal ra, -4
        assert_eq!(asm::j_type(-0x10_0000, asm::RA), 0x8000_00ef); // jal ra, -0x100000
        for value in [0u32, 1, 0x7ff, 0x800, 0xfff, 0x1000, 0xdead_beef, 0x8000_0000, u32::MAX] {
            let [hi, lo] = asm::li(asm::A0, value);
            let upper = hi & 0xffff_f000;
            let low = (lo as i32) >> 20;
            assert_eq!(upper.wrapping_add(low as u32), value, "li {value:#x}");
        }
    }
}

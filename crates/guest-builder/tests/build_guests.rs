//! Builds the real `guest/` workspace for both targets and checks the
//! ELF headers of every example. Needs a guest toolchain
//! (`scripts/install-guest-toolchain.sh`); the first run takes a while
//! because `core` and `alloc` are rebuilt for each target.

use athena_guest_builder::{
    build_examples, example_elf, BuildError, BuildRequest, GuestTarget, GuestToolchain, ASM_EXAMPLES, EXAMPLES,
};
use std::path::Path;

const EM_RISCV: u16 = 243;
const ET_EXEC: u16 = 2;
const EF_RISCV_RVC: u32 = 0x1;
const EF_RISCV_FLOAT_ABI: u32 = 0x6;
const EF_RISCV_RVE: u32 = 0x8;
const PT_LOAD: u32 = 1;
const PF_X: u32 = 1;

/// The ELF header fields the VM cares about.
struct Header {
    e_type: u16,
    machine: u16,
    entry: u32,
    flags: u32,
    /// `(vaddr, flags)` of each `PT_LOAD` segment.
    loads: Vec<(u32, u32)>,
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Parses an ELF32 little-endian header, panicking with `what` otherwise.
fn parse(bytes: &[u8], what: &str) -> Header {
    assert!(bytes.len() >= 52, "{what}: too short for an ELF header");
    assert_eq!(&bytes[..4], b"\x7fELF", "{what}: not ELF");
    assert_eq!(bytes[4], 1, "{what}: not ELFCLASS32");
    assert_eq!(bytes[5], 1, "{what}: not little-endian");
    let phoff = u32_at(bytes, 28) as usize;
    let phentsize = usize::from(u16_at(bytes, 42));
    let phnum = usize::from(u16_at(bytes, 44));
    let loads = (0..phnum)
        .map(|i| phoff + i * phentsize)
        .filter(|&ph| u32_at(bytes, ph) == PT_LOAD)
        .map(|ph| (u32_at(bytes, ph + 8), u32_at(bytes, ph + 24)))
        .collect();
    Header {
        e_type: u16_at(bytes, 16),
        machine: u16_at(bytes, 18),
        entry: u32_at(bytes, 24),
        flags: u32_at(bytes, 36),
        loads,
    }
}

fn check_target(target: GuestTarget) {
    let examples = build_examples(target).unwrap_or_else(|e| panic!("building guest/ for {target}: {e}"));
    assert_eq!(examples.target(), target);
    for name in EXAMPLES.iter().chain(ASM_EXAMPLES) {
        let path = examples.require(name).unwrap();
        assert!(path.is_file(), "{name}: {} missing", path.display());
        assert!(path.to_string_lossy().contains(target.triple()), "{}", path.display());
        let bytes = examples.read(name).unwrap();
        let h = parse(&bytes, name);
        assert_eq!(h.e_type, ET_EXEC, "{name}");
        assert_eq!(h.machine, EM_RISCV, "{name}");
        assert_eq!(h.flags & EF_RISCV_RVE != 0, target.is_rve(), "{name}: e_flags {:#x}", h.flags);
        assert_eq!(h.flags & (EF_RISCV_RVC | EF_RISCV_FLOAT_ABI), 0, "{name}: e_flags {:#x}", h.flags);
        assert!(h.loads.iter().any(|&(_, f)| f & PF_X != 0), "{name}: no executable segment");
        if name.starts_with("asm-") {
            assert_eq!(h.entry, 0x0020_0800, "{name}: entry");
            assert!(h.loads.iter().any(|&(v, f)| v == 0x0020_0800 && f & PF_X != 0), "{name}: text not at 0x200800");
        } else {
            // Runtime guests sit in the default image (0x10000 upwards), far
            // below the stack region.
            assert!((0x1_0000..0x7ff0_0000).contains(&h.entry), "{name}: entry {:#x}", h.entry);
        }
    }
    // Another call in the same process is served from memory.
    assert_eq!(build_examples(target).unwrap(), examples);
    assert_eq!(example_elf(target, "hello").unwrap(), examples.path("hello").unwrap());
}

#[test]
fn builds_every_example_for_rv32em() {
    check_target(GuestTarget::Rv32em);
}

#[test]
fn builds_every_example_for_rv32im() {
    check_target(GuestTarget::Rv32im);
}

#[test]
fn examples_are_size_optimised_and_stripped() {
    let examples = build_examples(GuestTarget::Rv32em).unwrap();
    for name in EXAMPLES.iter().chain(ASM_EXAMPLES) {
        let size = std::fs::metadata(examples.require(name).unwrap()).unwrap().len();
        // sha256, the largest, is about 12 KiB; debug info or a missing LTO
        // would blow far past this.
        assert!(size < 32 * 1024, "{name} is {size} bytes");
        let bytes = examples.read(name).unwrap();
        assert!(!bytes.windows(8).any(|w| w == b".symtab\0"), "{name} is not stripped");
    }
}

#[test]
fn unknown_example_is_a_typed_error() {
    let err = example_elf(GuestTarget::Rv32em, "no-such-example").unwrap_err();
    assert!(matches!(err, BuildError::MissingBinary { ref name, .. } if name == "no-such-example"), "{err}");
}

#[test]
fn a_cargo_failure_carries_cargo_stderr() {
    // A manifest cargo rejects at once: exercises the failure path without
    // compiling anything.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("broken-guest");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("Cargo.toml"), "[package]\nname = \"broken\"\nthis is not toml\n").unwrap();
    let toolchain = GuestToolchain::detect().unwrap();
    let err = toolchain.build(&BuildRequest::new(&dir).target_dir(dir.join("target"))).unwrap_err();
    match err {
        BuildError::CargoFailed { ref stderr_tail, target, .. } => {
            assert_eq!(target, "riscv32em-unknown-none-elf");
            assert!(stderr_tail.contains("Cargo.toml"), "{stderr_tail}");
        }
        other => panic!("expected CargoFailed, got {other}"),
    }
}

#[test]
fn a_missing_manifest_is_a_typed_error() {
    let err = athena_guest_builder::build(&BuildRequest::new("/no/such/guest")).unwrap_err();
    assert!(matches!(err, BuildError::ManifestNotFound(_)), "{err}");
}

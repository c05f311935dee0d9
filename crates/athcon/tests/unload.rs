//! The cdylib stays mapped after `dlclose` (`docs/athcon.md`, "Unloading"):
//! the engine's background compiler thread lives as long as the process,
//! and a host that unloaded the library while that thread ran inside it
//! crashed (seen as a SIGSEGV after every athcon-vmtester check passed).

use object::read::elf::{Dyn, ElfFile64, FileHeader};

#[test]
#[cfg(target_os = "linux")]
fn the_cdylib_is_linked_nodelete() {
    let path = athcon::client::built_cdylib().unwrap_or_else(|e| panic!("{e}"));
    let data = std::fs::read(&path).unwrap();
    let file = ElfFile64::<object::Endianness>::parse(&*data).unwrap();
    let endian = file.endian();
    let sections = file.elf_header().sections(endian, &*data).unwrap();
    let (dynamic, _) = sections.dynamic(endian, &*data).unwrap().expect("a dynamic section");
    let flags = dynamic
        .iter()
        .find(|entry| entry.tag32(endian) == Some(object::elf::DT_FLAGS_1))
        .and_then(|entry| entry.val32(endian))
        .unwrap_or(0);
    assert_ne!(flags & object::elf::DF_1_NODELETE, 0, "{}: DT_FLAGS_1 = {flags:#x}", path.display());
}

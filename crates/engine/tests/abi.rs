//! The host-function ABI exists in three copies (engine, guest runtime,
//! docs); this keeps them in step.

use athena_engine::abi::number;
use std::path::Path;

fn repo_file(relative: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::fs::read_to_string(root.join(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

#[test]
fn guest_runtime_numbers_match_the_engine() {
    let guest = repo_file("guest/runtime/src/host.rs");
    for &(value, name) in number::ALL {
        let line = format!("pub const {name}: u32 = {value:#X};").replace("0X", "0x");
        assert!(guest.contains(&line), "guest/runtime/src/host.rs lacks `{line}`");
    }
    let declared =
        guest.lines().filter(|l| l.trim_start().starts_with("pub const") && l.contains(": u32 = 0x1")).count();
    assert_eq!(declared, number::ALL.len(), "the guest declares a number the engine does not know");
}

#[test]
fn docs_list_every_syscall_with_its_number() {
    let docs = repo_file("docs/syscalls.md");
    for &(value, name) in number::ALL {
        let row = format!("| `{value:#x}` | `{name}` |");
        assert!(docs.contains(&row), "docs/syscalls.md lacks the row `{row}`");
    }
}

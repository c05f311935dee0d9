//! The host-function ABI lives in code once (`athena-abi`, used by the
//! engine and the guest runtime) and in prose in `docs/syscalls.md`; this
//! keeps the prose in step.

use athena_engine::abi::number;
use std::path::Path;

fn repo_file(relative: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::fs::read_to_string(root.join(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

#[test]
fn docs_list_every_syscall_with_its_number() {
    let docs = repo_file("docs/syscalls.md");
    for &(value, name) in number::ALL {
        let row = format!("| `{value:#x}` | `{name}` |");
        assert!(docs.contains(&row), "docs/syscalls.md lacks the row `{row}`");
    }
}

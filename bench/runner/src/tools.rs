//! Build helpers `scripts/bench.sh` calls: PolkaVM's target JSON and
//! ELF-to-blob linking (so the script needs no registry paths).

use std::path::Path;

/// Writes PolkaVM 0.37's 32-bit target JSON, patched for the Debian rustc
/// 1.96 toolchain: `"abi": "ilp32e"` (required by rustc >= 1.96), `ld.lld`
/// as the linker (there is no `rust-lld`), and without `only-cdylib`
/// (Debian's rustc ICEs linking a cdylib with a non-cc linker, so the guest
/// is a PIE executable, which polkavm-linker accepts too).
pub fn polkavm_target_json(out: &Path) -> Result<(), String> {
    let mut json = String::new();
    for line in polkavm_linker::TARGET_JSON_32_BIT_NEW.lines() {
        let key = line.trim_start().split(':').next().unwrap_or("");
        match key {
            "\"only-cdylib\"" => continue,
            "\"linker\"" => json.push_str("  \"linker\": \"ld.lld\",\n"),
            "\"arch\"" => {
                json.push_str(line);
                json.push('\n');
                json.push_str("  \"abi\": \"ilp32e\",\n");
            }
            _ => {
                json.push_str(line);
                json.push('\n');
            }
        }
    }
    if !json.contains("\"abi\"") || !json.contains("ld.lld\",") {
        return Err("unexpected PolkaVM target JSON layout".into());
    }
    std::fs::write(out, json).map_err(|e| format!("writing {}: {e}", out.display()))
}

/// Converts a PolkaVM guest ELF into a `.polkavm` program blob.
pub fn polkavm_link(elf: &Path, out: &Path) -> Result<(), String> {
    let data = std::fs::read(elf).map_err(|e| format!("reading {}: {e}", elf.display()))?;
    let mut config = polkavm_linker::Config::default();
    config.set_strip(true);
    let blob = polkavm_linker::program_from_elf(config, polkavm_linker::TargetInstructionSet::Latest, &data)
        .map_err(|e| format!("polkavm-linker: {e}"))?;
    std::fs::write(out, blob).map_err(|e| format!("writing {}: {e}", out.display()))
}

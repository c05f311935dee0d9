#!/usr/bin/env bash
# The VM demo (README): build the example guests from source and run each
# one in the Athena VM, showing its output, exit status and gas.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> checking the guest toolchain" >&2
bash scripts/install-guest-toolchain.sh

echo "==> building the athena CLI (release)" >&2
cargo build --release --quiet -p athena-cli
athena=target/release/athena

echo "==> building the example guests for riscv32em" >&2
"$athena" build guest --target rv32em --target-dir target/guest

elf_dir=target/guest/riscv32em-unknown-none-elf/release
run() {
    local name=$1
    shift
    echo
    echo "--- athena run $elf_dir/$name $*"
    local status=0
    "$athena" run --stats "$elf_dir/$name" "$@" || status=$?
    echo "    (exit status $status)"
}

run hello
run fib --input 19000000            # n = 25 (u32 little-endian)
run sieve --input 40420f00          # limit = 1,000,000
run sha256
run exit-code --input 07000000
run panic
run asm-hello
run asm-loop --gas 1000000
echo
echo "==> done" >&2

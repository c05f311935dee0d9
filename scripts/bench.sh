#!/usr/bin/env bash
# The one command for the side-by-side VM benchmark (bench/README.md):
# builds the bench guests for every target (Debian rustc + -Zbuild-std),
# builds the runner in release mode, and runs it. Arguments go to the
# runner, e.g.  scripts/bench.sh --iters 3 --engines native,wasmi
#
# Guest artifacts (bench/target/guest-artifacts), per engine the full guest
# (every workload: the run tasks, load-full, cold-full) and the ~50 KiB
# load program (bench_workloads::LOAD_PROGRAM: the load and cold tasks):
#   Athena   athena.elf     athena-load.elf      (riscv32em)
#            athena-im.elf  athena-im-load.elf   (riscv32im, same sources)
#   CKB-VM   ckbvm.elf      ckbvm-load.elf
#   wasmi    guest.wasm     load.wasm
#   PolkaVM  guest.polkavm  load.polkavm   (from polkavm.elf, polkavm-load.elf)
#
# Environment:
#   ATHENA=0            build the runner without Athena's VM (empty slot)
#   BENCH_SKIP_BUILD=1  reuse the last build, only run
#   ATHENA_GUEST_CARGO / ATHENA_GUEST_RUSTC   guest toolchain override
# Progress goes to stderr; the report goes to stdout and bench/REPORT.md.
set -euo pipefail
SCRIPT="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$0")/../bench"
BENCH="$PWD"
ART="$BENCH/target/guest-artifacts"
GUEST_TARGET="$BENCH/target/guests"
RUNNER="$BENCH/target/release/athena-bench"

say() { if [ -t 2 ]; then printf '\033[1m[bench]\033[0m %s\n' "$*" >&2; else printf '[bench] %s\n' "$*" >&2; fi; }

for arg in "$@"; do
    if [ "$arg" = -h ] || [ "$arg" = --help ]; then
        sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$SCRIPT"
        if [ -x "$RUNNER" ]; then
            printf '\nRunner options (athena-bench --help):\n'
            "$RUNNER" --help
        else
            printf '\nRunner options: build it first (run this script once), then %s --help\n' "$RUNNER"
        fi
        exit 0
    fi
done

runner_features=()
[ "${ATHENA:-1}" = 0 ] && runner_features=(--no-default-features)

build_runner() {
    say "building the runner (release; host toolchain)"
    (
        unset CARGO_TARGET_DIR CARGO_BUILD_TARGET CARGO_BUILD_TARGET_DIR RUSTFLAGS CARGO_ENCODED_RUSTFLAGS
        cargo build --release -p athena-bench "${runner_features[@]}" --target-dir "$BENCH/target" >&2
    )
}

# Guest builds must not see the outer cargo's/rustup's variables.
guest_cargo() { # target-name target-triple-or-json extra-rustflags [cargo args...]
    local name="$1" target="$2" flags="$3"
    shift 3
    (
        while read -r v; do unset "$v"; done < <(compgen -e | grep -E '^(CARGO_(BUILD|TARGET|ENCODED|PROFILE|MANIFEST|PKG|PRIMARY|CFG|MAKEFLAGS)|CARGO$|RUSTC|RUSTFLAGS$|RUSTDOCFLAGS$|RUSTUP_TOOLCHAIN$|RUSTUP_HOME_OVERRIDE$)' || true)
        export RUSTC="${ATHENA_GUEST_RUSTC:-/usr/bin/rustc}" RUSTC_BOOTSTRAP=1 RUSTFLAGS="$flags"
        cd "$BENCH/guests/$name"
        "${ATHENA_GUEST_CARGO:-/usr/bin/cargo}" build --release -Zbuild-std=core,alloc "$@" \
            --target "$target" --target-dir "$GUEST_TARGET/$name" >&2
    )
}

# Every guest package builds two programs from the same sources and
# profile: the full guest (every workload; the run tasks) and the `load`
# program (bench_workloads::LOAD_PROGRAM only, ~50 KiB for Athena; the
# load/cold tasks). Symbols are stripped (`-C strip=symbols`; the PolkaVM
# blob is stripped by polkavm-linker), so an artifact's size is what an
# engine loads.
build_guests() {
    if [ -x ../scripts/install-guest-toolchain.sh ] && [ -z "${ATHENA_GUEST_CARGO:-}${ATHENA_GUEST_RUSTC:-}" ]; then
        ../scripts/install-guest-toolchain.sh >&2
    fi
    mkdir -p "$ART" "$GUEST_TARGET/polkavm"
    local out

    say "guest 1/5: Athena (riscv32em-unknown-none-elf)"
    guest_cargo athena riscv32em-unknown-none-elf "-C linker=ld.lld -C strip=symbols"
    out="$GUEST_TARGET/athena/riscv32em-unknown-none-elf/release"
    cp "$out/bench-guest-athena" "$ART/athena.elf"
    cp "$out/bench-guest-athena-load" "$ART/athena-load.elf"

    # The same guest with 32 registers instead of 16: the columns that
    # show what RV32E's register spills cost (bench/README.md).
    say "guest 2/5: Athena (riscv32im-unknown-none-elf)"
    guest_cargo athena riscv32im-unknown-none-elf "-C linker=ld.lld -C strip=symbols"
    out="$GUEST_TARGET/athena/riscv32im-unknown-none-elf/release"
    cp "$out/bench-guest-athena" "$ART/athena-im.elf"
    cp "$out/bench-guest-athena-load" "$ART/athena-im-load.elf"

    say "guest 3/5: CKB-VM (riscv64imac-unknown-none-elf)"
    guest_cargo ckbvm riscv64imac-unknown-none-elf "-C linker=ld.lld -C strip=symbols"
    out="$GUEST_TARGET/ckbvm/riscv64imac-unknown-none-elf/release"
    cp "$out/bench-guest-ckbvm" "$ART/ckbvm.elf"
    cp "$out/bench-guest-ckbvm-load" "$ART/ckbvm-load.elf"

    say "guest 4/5: wasmi (wasm32-unknown-unknown)"
    guest_cargo wasm wasm32-unknown-unknown "-C linker=wasm-ld -C strip=symbols" -p bench-guest-wasm -p bench-guest-wasm-load
    out="$GUEST_TARGET/wasm/wasm32-unknown-unknown/release"
    cp "$out/bench_guest_wasm.wasm" "$ART/guest.wasm"
    cp "$out/bench_guest_wasm_load.wasm" "$ART/load.wasm"

    say "guest 5/5: PolkaVM (polkavm-linker's 32-bit target JSON, patched) + polkavm-linker"
    local json="$GUEST_TARGET/polkavm/riscv32emac-unknown-none-polkavm.json"
    "$RUNNER" polkavm-target-json "$json"
    guest_cargo polkavm "$json" "" -Zjson-target-spec
    out="$GUEST_TARGET/polkavm/riscv32emac-unknown-none-polkavm/release"
    cp "$out/bench-guest-polkavm" "$ART/polkavm.elf"
    cp "$out/bench-guest-polkavm-load" "$ART/polkavm-load.elf"
    "$RUNNER" polkavm-link "$ART/polkavm.elf" "$ART/guest.polkavm"
    "$RUNNER" polkavm-link "$ART/polkavm-load.elf" "$ART/load.polkavm"
    say "guest artifacts in $ART: $(cd "$ART" && ls -l | awk 'NR>1 {printf "%s (%d B) ", $9, $5}')"
}

if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
    build_runner   # first: the PolkaVM steps use it
    build_guests
fi
say "running: athena-bench $*"
exec "$RUNNER" "$@"

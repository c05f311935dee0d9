#!/usr/bin/env bash
# The project's one test command (README, .ci/run): installs what the tests
# need (the guest toolchain), then runs every test in the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

# One build from scratch gains nothing from incremental state, and it costs
# gigabytes of disk; keep it if the caller asked for it.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
echo "==> free disk space for the build: $(df -h --output=avail . | tail -1 | tr -d ' ')" >&2

echo "==> checking the guest toolchain" >&2
bash scripts/install-guest-toolchain.sh
echo "==> checking host-test dependencies (C compiler, Go)" >&2
bash scripts/install-host-deps.sh

if cargo nextest --version >/dev/null 2>&1; then
    echo "==> cargo nextest run --workspace" >&2
    cargo nextest run --workspace --no-fail-fast "$@"
else
    echo "==> cargo test --workspace (cargo-nextest not installed)" >&2
    cargo test --workspace --no-fail-fast "$@"
fi
echo "==> doc tests" >&2
cargo test --workspace --doc --quiet
echo "==> lints (rustfmt, clippy)" >&2
cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings

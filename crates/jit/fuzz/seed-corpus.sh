#!/usr/bin/env bash
# Seeds corpus/elf and corpus/words exactly as the VM's fuzz project does
# (same targets, same inputs): the example guest ELFs and their executable
# segments. Run after the guests are built (./scripts/demo-vm.sh or
# `athena build`); GUESTS=dir points it at another checkout's target/guest.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec "$here/../../vm/fuzz/seed-corpus.sh" "$here"

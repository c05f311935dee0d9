#!/usr/bin/env bash
# Seeds corpus/elf with the example guest ELFs and corpus/words with their
# executable segments, so the fuzzers start from real compiled code.
# Run after the guests are built (./scripts/demo-vm.sh or `athena build`);
# GUESTS=dir points it at another checkout's target/guest. An argument names
# another fuzz project with the same targets to seed (crates/jit/fuzz).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
guests=${GUESTS:-$here/../../../target/guest}
cd "${1:-$here}"
mkdir -p corpus/elf corpus/words
found=0
for triple in riscv32im-unknown-none-elf riscv32em-unknown-none-elf; do
    for f in "$guests/$triple"/release/*; do
        [ -f "$f" ] && [ -x "$f" ] && [ "$(head -c 4 "$f" | tail -c 3)" = ELF ] || continue
        cp "$f" "corpus/elf/seed-$triple-$(basename "$f")"
        found=$((found + 1))
    done
done
python3 - <<'PY'
import glob, os, struct
for path in glob.glob("corpus/elf/seed-*"):
    b = open(path, "rb").read()
    phoff, = struct.unpack_from("<I", b, 28)
    phnum, = struct.unpack_from("<H", b, 44)
    for i in range(phnum):
        p_type, off, _va, _pa, filesz, _memsz, flags, _al = struct.unpack_from("<8I", b, phoff + 32 * i)
        if p_type == 1 and flags & 1:  # PT_LOAD, PF_X
            open("corpus/words/" + os.path.basename(path), "wb").write(b[off:off + filesz][:4096])
PY
echo "seeded $found ELF files (and their text) into corpus/" >&2

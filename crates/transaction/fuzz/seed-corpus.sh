#!/usr/bin/env bash
# Seeds corpus/decode with the golden transactions of tests/vectors.json
# and corpus/address with its bech32 addresses.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p corpus/decode corpus/address
python3 - <<'PY'
import json
v = json.load(open("../tests/vectors.json"))
n = 0
for name in ("self_spawn_tx", "spend_tx"):
    tx = v[name]
    for key in ("encoded",):
        if key in tx:
            open(f"corpus/decode/seed-{name}", "wb").write(bytes.fromhex(tx[key]))
            n += 1
            break
for key, value in v.items():
    if key.endswith(("_bech32_test", "_bech32_main")):
        open(f"corpus/address/seed-{key}", "w").write(value)
        n += 1
print(f"seeded {n} files into corpus/")
PY

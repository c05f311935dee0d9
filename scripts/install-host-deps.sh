#!/usr/bin/env bash
# Installs what the athcon host tests need besides Rust (docs/athcon.md):
#   * a C compiler (`cc`) for hosts/c/host.c,
#   * Go (`go`, Debian's golang-go) for hosts/go/,
#   * valgrind, which checks the C host for leaks and bad frees.
# Idempotent: does nothing when the tools are already on PATH. Installs only
# when running as root (CI and the dev machines are root); otherwise prints
# what is missing and exits non-zero so the caller sees why.
set -euo pipefail

say() { printf '[install-host-deps] %s\n' "$*" >&2; }

missing=()
command -v cc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
command -v go >/dev/null 2>&1 || missing+=(golang-go)
command -v valgrind >/dev/null 2>&1 || missing+=(valgrind)

if [ "${#missing[@]}" -eq 0 ]; then
    say "cc, go and valgrind present: $(go version 2>/dev/null || true)"
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    say "missing packages: ${missing[*]}; run as root: apt-get install -y ${missing[*]}"
    exit 1
fi

say "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq "${missing[@]}" >&2
say "done: $(go version 2>/dev/null || echo 'go still missing')"
command -v go >/dev/null 2>&1 && command -v cc >/dev/null 2>&1

#!/usr/bin/env bash
# Makes sure a toolchain that can build Athena guests is present.
#
# Guests are built with `cargo -Zbuild-std=core,alloc` for
# riscv32em/riscv32im-unknown-none-elf, which needs a rustc with its
# library source and an LLD linker. Detection mirrors
# crates/guest-builder/src/toolchain.rs (see docs/guest-toolchain.md):
#   1. ATHENA_GUEST_CARGO / ATHENA_GUEST_RUSTC (explicit override)
#   2. Debian: /usr/bin/rustc + /usr/bin/cargo + library source + ld.lld
#   3. rustup nightly with the rust-src component
# If none is usable, installs route 2 with apt-get (as root, or through
# non-interactive sudo). Idempotent; prints one line on success.
set -euo pipefail

has_library_source() { # rustc
    local sysroot
    sysroot="$("$1" --print sysroot 2>/dev/null)" || return 1
    [ -n "$sysroot" ] && [ -d "$sysroot/lib/rustlib/src/rust/library/core" ]
}

resolve() { # program name or path
    if [[ "$1" == */* ]]; then [ -f "$1" ] && printf '%s\n' "$1"; else command -v "$1"; fi
}

# Prints the route in use and returns 0, or returns 1 and fills $missing.
detect() {
    missing=()
    if [ -n "${ATHENA_GUEST_CARGO:-}" ] || [ -n "${ATHENA_GUEST_RUSTC:-}" ]; then
        local cargo rustc
        if [ -n "${ATHENA_GUEST_CARGO:-}" ]; then
            cargo="$(resolve "$ATHENA_GUEST_CARGO")" || { echo "ATHENA_GUEST_CARGO=$ATHENA_GUEST_CARGO is not a program" >&2; exit 2; }
        fi
        if [ -n "${ATHENA_GUEST_RUSTC:-}" ]; then
            rustc="$(resolve "$ATHENA_GUEST_RUSTC")" || { echo "ATHENA_GUEST_RUSTC=$ATHENA_GUEST_RUSTC is not a program" >&2; exit 2; }
        fi
        rustc="${rustc:-$(dirname "$cargo")/rustc}"
        cargo="${cargo:-$(dirname "$rustc")/cargo}"
        [ -f "$rustc" ] && [ -f "$cargo" ] || { echo "override incomplete: need both $cargo and $rustc" >&2; exit 2; }
        has_library_source "$rustc" || { echo "ATHENA_GUEST_RUSTC: $rustc has no library source in its sysroot" >&2; exit 2; }
        echo "guest toolchain: override ($cargo, $rustc)"
        return 0
    fi

    local debian_ok=1
    if [ ! -f /usr/bin/rustc ]; then
        missing+=("/usr/bin/rustc (rustc-web)"); debian_ok=0
    elif ! has_library_source /usr/bin/rustc; then
        missing+=("library source for /usr/bin/rustc (rust-web-src)"); debian_ok=0
    fi
    [ -f /usr/bin/cargo ] || { missing+=("/usr/bin/cargo (cargo-web)"); debian_ok=0; }
    command -v ld.lld >/dev/null 2>&1 || { missing+=("ld.lld (lld)"); debian_ok=0; }
    if [ "$debian_ok" = 1 ]; then
        echo "guest toolchain: Debian rustc $(/usr/bin/rustc --version | cut -d' ' -f2) with rust-src and $(command -v ld.lld)"
        return 0
    fi

    local nightly_rustc
    if command -v rustup >/dev/null 2>&1 \
        && nightly_rustc="$(RUSTUP_AUTO_INSTALL=0 rustup which --toolchain nightly rustc 2>/dev/null)" \
        && has_library_source "$nightly_rustc"; then
        echo "guest toolchain: rustup nightly with rust-src ($nightly_rustc)"
        return 0
    fi
    return 1
}

if detect; then
    exit 0
fi

# Debian 12 ships a recent compiler as rustc-web; later releases as rustc.
packages=(rustc-web cargo-web rust-web-src lld)
fallback=(rustc cargo rust-src lld)

as_root=()
can_install=0
if command -v apt-get >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        can_install=1
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        as_root=(sudo -n)
        can_install=1
    fi
fi

if [ "$can_install" = 1 ]; then
    export DEBIAN_FRONTEND=noninteractive
    "${as_root[@]}" apt-get update -qq >/dev/null
    if ! "${as_root[@]}" apt-get install -y -qq "${packages[@]}" >/dev/null 2>&1; then
        "${as_root[@]}" apt-get install -y -qq "${fallback[@]}" >/dev/null
    fi
    if detect; then
        exit 0
    fi
    echo "installed packages but the guest toolchain is still incomplete: missing ${missing[*]}" >&2
    exit 1
fi

echo "no guest toolchain: missing ${missing[*]}" >&2
echo "install as root: apt-get update && apt-get install -y ${packages[*]}" >&2
echo "or: rustup toolchain install nightly --component rust-src" >&2
exit 1

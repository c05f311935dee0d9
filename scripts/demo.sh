#!/usr/bin/env bash
# The main job (README): a local Athena network and the CLI wallet, end to end.
#
# Starts `athena devnet` (sequencer, executor, relay) on a scratch data
# directory, then with the wallet: creates two keys, funds their wallets from
# a genesis-funded dev account, spawns them, sends coins between them, deploys
# the counter template, spawns a counter and calls it, and shows balances and
# account/storage proofs. The devnet is stopped on exit, also on failure.
#
# Environment: ATHENA_DEMO_PORTS (default 9000: relay on 9300, the wallet's
# default node), ATHENA_DEMO_KEEP=1 keeps the scratch directory.
# The VM-only demo (guest programs run directly in the VM) is scripts/demo-vm.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold= plain=; fi
section() { printf '\n%s=== %s ===%s\n' "$bold" "$*" "$plain"; }
# Shows a wallet command, then runs it (from the scratch directory).
athena() {
    printf '\n$ athena %s\n' "$*"
    "$bin" "$@"
}
# The value of `label:` in a command's text output.
field() { sed -n "s/^$1: *//p" | head -n 1; }

section "checking the guest toolchain"
bash scripts/install-guest-toolchain.sh

section "building the athena CLI (release)"
cargo build --release --quiet -p athena-cli
bin=$repo/target/release/athena

section "building the counter template (guest/examples/counter)"
counter=$("$bin" build guest/examples/counter --target-dir target/guest -q | awk -F'\t' '$1 == "counter" { print $2 }')
echo "counter: $counter ($(wc -c <"$counter") bytes)"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/athena-demo.XXXXXX")
log=$scratch/devnet.log
devnet_pid=
finish() {
    status=$?
    if [ -n "$devnet_pid" ] && kill -0 "$devnet_pid" 2>/dev/null; then
        section "stopping the devnet"
        kill -TERM "$devnet_pid" 2>/dev/null || true
        wait "$devnet_pid" 2>/dev/null || true
        tail -n 6 "$log"
    fi
    if [ "$status" -ne 0 ]; then
        echo >&2
        echo "demo failed (exit status $status); devnet log: $log" >&2
        tail -n 30 "$log" >&2 2>/dev/null || true
    elif [ "${ATHENA_DEMO_KEEP:-0}" = 1 ]; then
        echo "scratch directory kept: $scratch"
    else
        rm -rf "$scratch"
    fi
    exit "$status"
}
trap finish EXIT
trap 'exit 130' INT TERM

section "starting the devnet (athena devnet --fresh)"
echo "data directory: $scratch/devnet; its log: $log"
echo "(the first start builds the standard templates: a few minutes)"
# Created here, not by the background job's redirection, so that the wait
# below never looks for a file that does not exist yet.
: >"$log"
"$bin" devnet --data-dir "$scratch/devnet" --fresh --ports "${ATHENA_DEMO_PORTS:-9000}" \
    --block-interval 500ms >"$log" 2>&1 &
devnet_pid=$!
waited=0
until grep -q '^\[devnet\] ready$' "$log"; do
    if ! kill -0 "$devnet_pid" 2>/dev/null; then
        devnet_pid=
        echo "the devnet stopped while starting:" >&2
        exit 1
    fi
    if [ "$waited" -ge 1200 ]; then
        echo "the devnet did not start within 10 minutes" >&2
        exit 1
    fi
    sleep 0.5
    waited=$((waited + 1))
done
# The summary the devnet printed: endpoints, templates, dev accounts.
sed -n '/^Athena devnet:/,/^Ctrl-C/p' "$log"
node=$(sed -n 's/^  "node": "\(.*\)",$/\1/p' "$scratch/devnet/devnet.json")
export ATHENA_NODE=$node
echo "wallet commands below use ATHENA_NODE=$ATHENA_NODE (the relay)"

cd "$scratch"
ln -s devnet/keys/dev-1.json dev-1.json

section "1. two new keys: alice and bob"
athena key new --out alice.json
athena key new --out bob.json
athena address --key alice.json
alice=$("$bin" address --key alice.json)
athena address --key bob.json
bob=$("$bin" address --key bob.json)

section "2. funding their wallets from the dev account dev-1 (funded at genesis)"
athena account --key dev-1.json
athena send "$alice" 10000000 --key dev-1.json --wait
athena send "$bob" 10000000 --key dev-1.json --wait

section "3. spawning the two wallets (each pays its own spawn)"
athena wallet spawn --key alice.json --wait
athena wallet spawn --key bob.json --wait

section "4. alice sends 250000 coins to bob"
athena send "$bob" 250000 --key alice.json --wait

section "5. alice deploys the counter template"
# 2>&1 through tee: the progress line on stderr keeps its place in the output.
athena deploy "$counter" --key alice.json --wait 2>&1 | tee deploy.txt
template=$(field template <deploy.txt)

section "6. alice spawns a counter (step 3) and calls it"
athena spawn "$template" u64:3 --key alice.json --wait 2>&1 | tee spawn.txt
program=$(field program <spawn.txt)
athena call "$program" increment u64:2 --key alice.json --wait --returns u64
athena call "$program" get --key alice.json --wait --returns u64

section "7. balances, each with its account proof checked against the state root"
athena account "$alice"
athena account "$bob"

section "8. the counter's storage: the item 'count' with its Merkle proof"
athena storage "$program" item:count
athena tx "$(field transaction <spawn.txt)"

section "what the nodes logged meanwhile (last lines)"
grep -E '^\[(sequencer|executor|relay)\] (block|submitted|followed)' "$log" | tail -n 12

section "done"
echo "the devnet is stopped on exit; run it yourself with: $bin devnet"

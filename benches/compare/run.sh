#!/usr/bin/env bash
# Reproducible comparison: otlp-sync vs the official Rust SDK on shared/bench/WORKLOAD.md.
# Builds release (niced: the machine has 2 shared cores), then runs the `compare` driver,
# which starts ONE sink and runs every case for both peers in alternation.
#
#   benches/compare/run.sh [compare options]      e.g. --reps 3 --count 100000 --threads 2
#   benches/compare/run.sh --scaling [options]    threads / batch / attrs sweep of traces-nodrop
#   benches/compare/run.sh --footprint [options]  then runs ./footprint.sh (if executable)
#
# Environment:
#   OURS=1 (default)     build both peers (the `ours` feature is on by default); fail if
#                        peer_ours does not build
#   OURS=auto            as 1, but fall back to the official peer alone if peer_ours fails
#   OURS=0               official peer only (--no-default-features)
#   CARGO_TARGET_DIR     defaults to benches/compare/target
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
OURS="${OURS:-1}"
# --footprint is ours, not the driver's: take it out of the arguments.
footprint=0
args=()
for a in "$@"; do
    if [ "$a" = --footprint ]; then footprint=1; else args+=("$a"); fi
done
ours_flag=--no-ours
if [ "$OURS" != 0 ]; then
    if nice -n 10 cargo build --release --bins; then
        ours_flag=--ours
    elif [ "$OURS" = 1 ]; then
        echo "run.sh: peer_ours does not build (OURS=1; OURS=auto falls back)" >&2
        exit 1
    else
        echo "run.sh: peer_ours does not build; running the official peer only" >&2
    fi
fi
if [ "$ours_flag" = --no-ours ]; then
    nice -n 10 cargo build --release --bins --no-default-features
fi
if [ "$footprint" = 0 ]; then
    exec "$CARGO_TARGET_DIR/release/compare" "$ours_flag" ${args[@]+"${args[@]}"}
fi
status=0
"$CARGO_TARGET_DIR/release/compare" "$ours_flag" ${args[@]+"${args[@]}"} || status=$?
if [ -x ./footprint.sh ]; then
    echo
    ./footprint.sh || status=$?
else
    echo "run.sh: --footprint: $PWD/footprint.sh is missing or not executable; skipped" >&2
    status=1
fi
exit "$status"

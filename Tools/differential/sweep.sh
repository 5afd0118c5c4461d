#!/usr/bin/env bash
# A long differential sweep: generates COUNT cases from SEED with unicorn (one generator per
# CPU core), runs them on the release build and prints what `resetvector differential` prints,
# ending with `N passed, N failed`. Exits with that command's status.
#
#     Tools/differential/sweep.sh SEED COUNT
set -euo pipefail
if [ $# -ne 2 ] || ! [[ $1 =~ ^[0-9]+$ && $2 =~ ^[0-9]+$ ]] || [ "$2" -eq 0 ]; then
    echo "usage: $0 SEED COUNT (non-negative integers, COUNT at least 1)" >&2
    exit 64
fi
seed=$1
count=$2
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

swift build -c release --product resetvector >/dev/null

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
parts=$(nproc 2>/dev/null || echo 1)
if [ "$parts" -gt "$count" ]; then parts=$count; fi
pids=()
first=0
for part in $(seq 0 $((parts - 1))); do
    size=$(((count - first) / (parts - part)))
    python3 Tools/differential/oracle.py --mode 32 --seed "$seed" --first "$first" --count "$size" \
        --out "$work/part-$part.jsonl" &
    pids+=($!)
    first=$((first + size))
done
for pid in "${pids[@]}"; do
    wait "$pid"
done
cat "$work"/part-*.jsonl > "$work/cases.jsonl"
.build/release/resetvector differential "$work/cases.jsonl"

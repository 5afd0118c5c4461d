#!/usr/bin/env bash
# A long differential sweep: generates COUNT cases from SEED with unicorn (one generator per
# CPU core) in 32-bit protected mode, 64-bit mode, or both (the default), runs them on the
# release build and prints what `resetvector differential` prints for each mode, ending with
# `N passed, N failed` (the total over the modes run). Exits non-zero if any case failed.
#
#     Tools/differential/sweep.sh SEED COUNT [32|64]
set -euo pipefail
if [ $# -lt 2 ] || [ $# -gt 3 ] || ! [[ $1 =~ ^[0-9]+$ && $2 =~ ^[0-9]+$ ]] || [ "$2" -eq 0 ] \
    || { [ $# -eq 3 ] && ! [[ $3 =~ ^(32|64)$ ]]; }; then
    echo "usage: $0 SEED COUNT [32|64] (non-negative integers, COUNT at least 1; both modes by default)" >&2
    exit 64
fi
seed=$1
count=$2
modes=${3:-"32 64"}
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

swift build -c release --product resetvector >/dev/null

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
parts=$(nproc 2>/dev/null || echo 1)
if [ "$parts" -gt "$count" ]; then parts=$count; fi
passed=0
failed=0
status=0
for mode in $modes; do
    pids=()
    first=0
    for part in $(seq 0 $((parts - 1))); do
        size=$(((count - first) / (parts - part)))
        python3 Tools/differential/oracle.py --mode "$mode" --seed "$seed" --first "$first" --count "$size" \
            --out "$work/part-$mode-$part.jsonl" &
        pids+=($!)
        first=$((first + size))
    done
    for pid in "${pids[@]}"; do
        wait "$pid"
    done
    cat "$work"/part-"$mode"-*.jsonl > "$work/cases-$mode.jsonl"
    echo "== $mode-bit mode, seed $seed, $count cases"
    .build/release/resetvector differential "$work/cases-$mode.jsonl" | tee "$work/result-$mode.txt" || status=1
    summary=$(tail -n 1 "$work/result-$mode.txt")
    if [[ $summary =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
        passed=$((passed + BASH_REMATCH[1]))
        failed=$((failed + BASH_REMATCH[2]))
    else
        status=1
    fi
done
if [ "$(wc -w <<<"$modes")" -gt 1 ]; then
    echo "== all modes"
    echo "$passed passed, $failed failed"
fi
exit $status

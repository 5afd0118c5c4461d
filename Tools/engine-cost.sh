#!/bin/bash
# Host instructions per guest instruction for each `bench` workload, counted with callgrind
# (Debian's valgrind) on a release build: each workload alone, minus a run with every loop at 1.
# Usage: Tools/engine-cost.sh [path/to/resetvector]
set -euo pipefail
binary=${1:-.build/release/resetvector}
count() {  # prints "host-instructions guest-instructions" for the given bench arguments
    local out
    out=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$binary" bench --rounds 1 "$@" 2>&1)
    local host guest
    host=$(echo "$out" | sed -n 's/.*Collected : *\([0-9]*\).*/\1/p')
    guest=$(echo "$out" | awk '/MIPS/ { gsub("\\(", "", $4); sum += $4 } END { print sum }')
    echo "$host $guest"
}
one="--iterations 1 --paged-iterations 1 --real-code-iterations 1 --long-mode-iterations 1"
read -r baseHost baseGuest < <(count $one)
for workload in "real-mode:--iterations 100000" "protected-paged:--paged-iterations 100000" \
                "real-code:--real-code-iterations 3000" "long-mode:--long-mode-iterations 100000"; do
    name=${workload%%:*}
    # shellcheck disable=SC2086
    read -r host guest < <(count $one ${workload#*:})
    echo "$name: $(echo "scale=1; ($host - $baseHost) / ($guest - $baseGuest)" | bc) host instructions per guest instruction"
done
# Dynamic exclusivity checks inside the run loop cost about 75 host instructions each; one that
# an inlined handler's public or unidentified property brings in is hoisted to every block's
# start (it once cost 25-30% of every workload). The three at the loop's entry are expected.
if command -v objdump >/dev/null; then
    checks=$(objdump -d --no-show-raw-insn "$binary" --disassemble='$s3X863CPUC3run5limitAA10StopReasonOSi_tF' 2>/dev/null \
             | grep -c 'call.*swift_beginAccess' || true)
    echo "swift_beginAccess calls in CPU.run(limit:): $checks (3 expected, at its entry)"
    # The executor's switch must be inlined into the run loop; a case or loop change can make the
    # compiler call it instead, which costs every workload 15-20%.
    calls=$(objdump -d --no-show-raw-insn "$binary" --disassemble='$s3X863CPUC3run5limitAA10StopReasonOSi_tF' 2>/dev/null \
            | grep -c 'call.*CPUC7execute' || true)
    echo "calls to CPU.execute(_:) in CPU.run(limit:): $calls (0 expected: inlined)"
fi

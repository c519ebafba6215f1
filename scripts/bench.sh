#!/usr/bin/env bash
# make bench: run the benchmarks (docs/benchmarks.md) from a release build.
#   scripts/bench.sh BUILD_DIR    (default build/release)
# Prints the machine it ran on, then bench_decode and bench_capture with their
# defaults (200 MB mixed stream; 2,000,000 events into an on-disk SQLite file),
# then bench_sched (`comb fibers report` on 10 million scheduler events, about
# 20 s with its setup), then flash and RAM of the firmware images per board
# (bench/size_table.py) and the pool allocator's figures (bench/heap_bench.py:
# sizes, QEMU instruction counts, callgrind); both need the cross-built firmware,
# as does the thread dispatch overhead (bench/sched_bench.py).
# Takes about 90 s on a 2-core VM. Figures are only comparable on an idle machine:
# the load average is printed so a noisy run can be recognised.
set -euo pipefail
build=${1:-build/release}
for b in bench_decode bench_capture bench_layout; do
  if [[ ! -x "$build/bench/$b" ]]; then
    echo "bench.sh: $build/bench/$b not found; build first (make build, or cmake --build $build)" >&2
    exit 1
  fi
done

tmp=${TMPDIR:-/tmp}
cpu=$(grep -m1 '^model name' /proc/cpuinfo 2>/dev/null | sed 's/^model name[[:space:]]*:[[:space:]]*//' || true)
echo "== machine =="
echo "cpus:    $(nproc) ($(nproc --all) total), ${cpu:-unknown CPU model}"
echo "kernel:  $(uname -srm)"
echo "memory:  $(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo 2>/dev/null || echo unknown)"
echo "tmp:     $tmp ($(df -PT "$tmp" 2>/dev/null | awk 'NR == 2 {print $2}' || echo unknown) filesystem; bench_capture writes its database here)"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) before the run"
echo "build:   $build ($(grep -m1 '^CMAKE_BUILD_TYPE:' "$build/CMakeCache.txt" 2>/dev/null | cut -d= -f2 || echo unknown))"
echo

start=$SECONDS
echo "== bench_decode =="
"$build/bench/bench_decode"
echo
echo "== bench_capture =="
"$build/bench/bench_capture"
echo
echo "== bench_layout =="
# heapdemo's heap trace (bench/traces/heapdemo.itm, its UART stream recorded in
# QEMU) goes through `comb heap trace` into a scratch database first
layout_args=()
trace="$(dirname "$0")/../bench/traces/heapdemo.itm"
db="$tmp/comb-bench-layout-$$.db"
if [[ -f "$trace" && -x "$build/host/comb" ]] &&
   "$build/host/comb" heap trace --quiet --db "$db" "file:$trace"; then
  layout_args=(--db "$db" --name heapdemo)
fi
"$build/bench/bench_layout" "${layout_args[@]}"
rm -f "$db" "$db-wal" "$db-shm"
echo
echo "== bench_sched: comb fibers report on a 10-million-event session (docs/scheduler-analysis.md) =="
if [[ -x "$build/bench/bench_sched" ]]; then "$build/bench/bench_sched"; else echo "(not built)"; fi
echo; echo "== bench_dashboard: comb dashboard on a 10-million-event session (docs/dashboards.md) =="; "$build/bench/bench_dashboard" --comb "$build/host/comb"
echo
echo "== firmware size per board: hello, runtime with log + heap + scheduler (docs/size.md) =="
/usr/bin/python3 "$(dirname "$0")/../bench/size_table.py" "$build"
echo
echo "== pool allocator: code size, instructions per call (QEMU), host callgrind (docs/heap.md) =="
/usr/bin/python3 "$(dirname "$0")/../bench/heap_bench.py" "$build"
echo
echo "== thread dispatch: instructions from wakeup to fiber (QEMU), runtime code size (docs/scheduler.md) =="
/usr/bin/python3 "$(dirname "$0")/../bench/sched_bench.py" "$build"
echo
echo "benchmarks took $((SECONDS - start)) s; load afterwards: $(cut -d' ' -f1-3 /proc/loadavg)"

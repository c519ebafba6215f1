#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (tests/fuzz/CMakeLists.txt) into
# BUILD_DIR and runs each: first over its saved inputs (every crash ever found
# and fixed, tests/fuzz/regressions/<target>/, and the reproducers of bugs found
# but not fixed yet, tests/fuzz/known/<target>/), then fuzzing from its seeds for
# SECONDS (default 10) or RUNS executions (default 2000000), whichever comes
# first. Exit status non-zero if a target does not build, crashes or breaks an
# oracle; the crashing input is left in BUILD_DIR/crashes/.
#
#   tests/fuzz/run.sh BUILD_DIR [SECONDS] [RUNS] [TARGET...]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: run.sh BUILD_DIR [SECONDS] [RUNS] [TARGET...]}
seconds=${2:-10}
runs=${3:-2000000}
shift $(( $# < 3 ? $# : 3 ))
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(itm_decoder output_selector tpiu event_block)
  for t in drone_toml drone_heaptrace; do
    [[ -f "$here/../../analysis/include/comb/$t.h" && -f "$here/fuzz_$t.c" ]] && targets+=("$t")
  done
fi

command -v clang >/dev/null || { echo "run.sh: clang is not installed (scripts/bootstrap.sh installs it)" >&2; exit 1; }
mkdir -p "$build"
cmake -S "$here" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug >/dev/null
python3 "$here/make_seeds.py" "$build/seeds"

status=0
for t in "${targets[@]}"; do
  if ! cmake --build "$build" --target "fuzz_$t" -j2 >"$build/build_$t.log" 2>&1; then
    echo "fuzz_$t: BUILD FAILED (see $build/build_$t.log)" >&2
    tail -20 "$build/build_$t.log" >&2
    status=1
    continue
  fi
  bin="$build/fuzz_$t"
  mkdir -p "$build/corpus/$t" "$build/crashes" "$build/seeds/$t"
  saved=()
  for d in "$here/regressions/$t" "$here/known/$t"; do
    [[ -d "$d" ]] && for f in "$d"/*; do [[ -f "$f" ]] && saved+=("$f"); done
  done
  if ((${#saved[@]})); then
    failed=0
    for f in "${saved[@]}"; do  # one at a time: libFuzzer stops at the first failing input
      if ! "$bin" -runs=0 "$f" >"$build/saved_$t.log" 2>&1; then
        echo "fuzz_$t: saved input ${f#$here/} fails (see $build/saved_$t.log)" >&2
        grep -E 'ERROR|oracle violated|SUMMARY' "$build/saved_$t.log" | head -5 >&2
        failed=1
      fi
    done
    if ((failed)); then
      status=1
      continue
    fi
  fi
  log="$build/fuzz_$t.log"
  if "$bin" -max_total_time="$seconds" -runs="$runs" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
       -print_final_stats=1 -artifact_prefix="$build/crashes/$t-" \
       "$build/corpus/$t" "$build/seeds/$t" >"$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    echo "fuzz_$t: ok, ${execs:-?} runs, ${cov:-cov: ?}, corpus $(ls "$build/corpus/$t" | wc -l) inputs"
  else
    echo "fuzz_$t: FAILED (see $log; input in $build/crashes/)" >&2
    grep -E 'ERROR|oracle violated|SUMMARY|Test unit written' "$log" | head -10 >&2
    status=1
  fi
done
exit $status

#!/usr/bin/env bash
# make demo: boot the demo firmware `fibers` in QEMU (mps2-an385, Cortex-M3: threads at
# several priorities, fibers, heap traffic), capture its ITM-over-UART stream with
# `comb log --db` through a pty (as from a USB-UART), then show what the host concluded:
# the log, the stored session, the heap report, an optimized pool layout, the latency
# report, and the dashboard.
#   scripts/demo.sh [BUILD_DIR]     (COMB_DEMO_DIR: where to write, default BUILD_DIR/demo)
set -euo pipefail
build=${1:-build/release}
src=$(cd "$(dirname "$0")/.." && pwd)
comb="$build/host/comb"
# heap_event and sched_event are virtual tables of comb's SQLite module: the sqlite3 shell
# reads them with the extension built next to comb (SQLite adds the .so)
ext="$build/host/libcomb_sqlite"
image=fibers
elf="$build/firmware-arm/examples/$image/$image.elf"
layout="$src/firmware/examples/$image/Drone.toml"
out=${COMB_DEMO_DIR:-$build/demo}
mkdir -p "$out"
db="$out/demo.db"
mon="$out/qemu-monitor.sock"
qemu_out="$out/qemu.out"
rm -f "$db" "$db-wal" "$db-shm" "$mon"
[[ -x "$comb" && -f "$elf" && -f "$ext.so" ]] ||
  { echo "demo: $comb, $ext.so or $elf is missing (run make build)" >&2; exit 1; }

# QEMU starts paused (-S) and runs only once comb holds the pty, so nothing the guest
# writes is lost; the timeout bounds a run whose firmware never gets its ACK.
timeout 120 qemu-system-arm -M mps2-an385 -display none -S -monitor "unix:$mon,server=on,wait=off" \
  -semihosting-config enable=on,target=native -serial pty -kernel "$elf" >"$qemu_out" 2>&1 &
qemu=$!
capture=
monitor=
cleanup() { kill $qemu $capture $monitor 2>/dev/null || true; }
trap cleanup EXIT
pty=
for _ in $(seq 200); do
  pty=$(grep -o '/dev/pts/[0-9]*' "$qemu_out" 2>/dev/null || true)
  [[ -n "$pty" && -S "$mon" ]] && break
  sleep 0.05
done
[[ -n "$pty" ]] || { echo "demo: QEMU did not open a pty (see $qemu_out)" >&2; exit 1; }

echo "== firmware output (ports 0 and 1, through comb's ITM decoder) =="
"$comb" log --db "$db" "serial:$pty@2000000" :0:1 &
capture=$!
for _ in $(seq 200); do # until comb holds the pty
  ls -l "/proc/$capture/fd" 2>/dev/null | grep -q "$pty" && break
  sleep 0.05
done
# "cont" on the monitor; the connection stays open until QEMU exits (QEMU drops a
# command whose connection closes at once, and the guest would stay paused).
/usr/bin/python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"cont\n")
while s.recv(4096):
    pass' "$mon" &
monitor=$!
wait $qemu && rc=0 || rc=$?
wait $capture || true
wait $monitor 2>/dev/null || true
trap - EXIT
echo
echo "== QEMU exit status: $rc (0 = the firmware checked itself and saw the host's acknowledgement) =="
[[ $rc -eq 124 ]] && echo "demo: QEMU ran into the 120 s timeout" >&2

echo
echo "== session stored in $db =="
sqlite3 -header -column "$db" \
  "SELECT id, protocol_version AS proto, core_hz, ts_hz, build_id, bytes, packets, events, log_lines,
          overflows, decode_errors, end_reason FROM session ORDER BY id DESC LIMIT 1;"
sqlite3 -cmd ".load '$ext'" -header -column "$db" \
  "SELECT 'heap_event' AS \"table\", count(*) AS rows FROM heap_event
   UNION ALL SELECT 'sched_event', count(*) FROM sched_event
   UNION ALL SELECT 'log_line', count(*) FROM log_line;"

echo
echo "== heap report (comb heap report --db $db --elf ...) =="
"$comb" heap report --db "$db" --elf "$elf"

echo
echo "== optimized layout: the smallest 4-pool heap that passes this session, +25 % margin =="
echo "== (comb heap generate --pools 4 --margin 25; the image shipped with $layout) =="
"$comb" heap generate --db "$db" --pools 4 --margin 25
cp "$layout" "$out/Drone.toml" # --write replaces [heap.main] and keeps the rest of the file
"$comb" heap generate --db "$db" --pools 4 --margin 25 --write "$out/Drone.toml" >/dev/null
echo "-- written to $out/Drone.toml; replaying the session against it (comb heap verify):"
"$comb" heap verify --db "$db" --layout "$out/Drone.toml"

echo
echo "== latency report (comb fibers report --db $db --elf ...) =="
"$comb" fibers report --db "$db" --elf "$elf"

echo
index=$("$comb" dashboard --db "$db" --out "$out/dashboard" --elf "$elf" --layout "$out/Drone.toml")
echo "== dashboard written: open $index =="
exit $rc

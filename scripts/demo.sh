#!/usr/bin/env bash
# make demo: boot the demo firmware in QEMU (mps2-an385, Cortex-M3), capture its
# ITM-over-UART stream through a Unix socket with `comb log --db`, then show
# what the host concluded.
set -euo pipefail
build=${1:-build/release}
comb="$build/host/comb"
elf="$build/firmware-arm/examples/hello/hello.elf"
out=${COMB_DEMO_DIR:-$build/demo}
mkdir -p "$out"
db="$out/demo.db"
sock="$out/qemu-uart.sock"
rm -f "$db" "$db-wal" "$db-shm" "$sock"

qemu-system-arm -M mps2-an385 -display none -monitor none -semihosting-config enable=on,target=native \
  -chardev socket,id=uart0,path="$sock",server=on,wait=on -serial chardev:uart0 -kernel "$elf" \
  2>"$out/qemu.log" &
qemu=$!
trap 'kill $qemu 2>/dev/null || true' EXIT
for _ in $(seq 100); do [[ -S "$sock" ]] && break; sleep 0.05; done

echo "== firmware output (ports 0 and 1, through comb's ITM decoder) =="
"$comb" log --db "$db" "unix:$sock" :0:1
wait $qemu && rc=0 || rc=$?
trap - EXIT
echo
echo "== QEMU exit status: $rc (0 = the firmware saw the host's acknowledgement) =="
echo
echo "== session stored in $db =="
sqlite3 -header -column "$db" \
  "SELECT id, source, protocol_version AS proto, core_hz, ts_hz, build_id, bytes, packets, events, log_lines,
          decode_errors, end_reason FROM session ORDER BY id DESC LIMIT 1;"
echo
sqlite3 -header -column "$db" \
  "SELECT seq, port, CAST(text AS TEXT) AS text FROM log_line WHERE session = (SELECT max(id) FROM session);"
echo
sqlite3 -header -column "$db" \
  "SELECT e.seq, e.port, e.name, e.ts, printf('%.3f', 1e6 * (e.ts - s.start_ts) / s.ts_hz) AS us_since_start,
          e.fields
     FROM trace_event e JOIN session s ON s.id = e.session
    WHERE e.session = (SELECT max(id) FROM session) ORDER BY e.seq;"
# ---- the dashboard (docs/dashboards.md) --------------------------------------------------
# A richer session for the plots: the scheduler demo `fibers` (threads, fibers, heap
# traffic; heapdemo when this build has no fibers image), captured through a pty as from
# a USB-UART, which loses nothing (a Unix socket backs up and makes the firmware drop
# packets). QEMU starts paused and runs once comb holds the pty.
dash_image=fibers
[[ -f "$build/firmware-arm/examples/$dash_image/$dash_image.elf" ]] || dash_image=heapdemo
dash_elf="$build/firmware-arm/examples/$dash_image/$dash_image.elf"
dash_db="$out/dashboard.db"
mon="$out/qemu-monitor.sock"
rm -f "$dash_db" "$dash_db-wal" "$dash_db-shm" "$mon"
echo
echo "== dashboard: $dash_image in QEMU, captured through a pty =="
qemu-system-arm -M mps2-an385 -display none -S -monitor "unix:$mon,server=on,wait=off" \
  -semihosting-config enable=on,target=native -serial pty -kernel "$dash_elf" >"$out/qemu-$dash_image.out" 2>&1 &
qemu=$!
trap 'kill $qemu 2>/dev/null || true' EXIT
pty=
for _ in $(seq 200); do
  pty=$(grep -o '/dev/pts/[0-9]*' "$out/qemu-$dash_image.out" 2>/dev/null || true)
  [[ -n "$pty" && -S "$mon" ]] && break
  sleep 0.05
done
[[ -n "$pty" ]] || { echo "demo: QEMU did not open a pty (see $out/qemu-$dash_image.out)" >&2; exit 1; }
"$comb" log --quiet --db "$dash_db" "serial:$pty@2000000" >"$out/$dash_image.log" &
capture=$!
for _ in $(seq 200); do # until comb holds the pty, so that nothing the guest writes is lost
  ls -l "/proc/$capture/fd" 2>/dev/null | grep -q "$pty" && break
  sleep 0.05
done
/usr/bin/python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"cont\n")' "$mon"
wait $qemu && dash_rc=0 || dash_rc=$?
wait $capture || true
trap - EXIT
layout="$(dirname "$0")/../firmware/examples/$dash_image/Drone.toml"
index=$("$comb" dashboard --db "$dash_db" --out "$out/dashboard" --elf "$dash_elf" --layout "$layout")
echo "$dash_image exited with status $dash_rc; its output is in $out/$dash_image.log"
echo
echo "== dashboard written: open $index =="
exit $rc

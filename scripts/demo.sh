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
exit $rc

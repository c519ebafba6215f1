"""The pool allocator on the real firmware in QEMU, on every QEMU board
(conftest `board`), its heap trace decoded by the real `comb log` into the
session database, and checked there in SQL.

- heapstress: thread mode, SysTick, the board's timer and software interrupt
  (three nested priorities) allocate, reallocate and free at random for
  100,000 operations under -icount shift=0 (on microbit, a Cortex-M0, through
  the PRIMASK free lists; heapstress_m0 runs that code on the M3 of
  mps2-an385). The firmware checks itself (no block handed out twice, every
  block back at the end) and the trace must balance.
- heapdemo: the realistic workload, captured live through a pty (acknowledged
  session end, exit 0), with caller addresses that point into its code.
"""
import re
import sqlite3
import subprocess

import pytest

from combdb import connect_db
from conftest import DEFAULT_BOARD, capture_over_pty, qemu_args

# Per block (ptr): +1 for heap_alloc and the new block of heap_realloc, -1 for
# heap_free and the old block of heap_realloc, 0 for heap_resize. Walking each
# block's events in the given order, the running sum must stay 0 or 1 (no block
# allocated twice, none freed unallocated) and be 1 at a resize; at the end
# every block is back at 0 (everything allocated was freed, exactly once).
BALANCE_SQL = """
WITH d AS (
  SELECT seq, ts, json_extract(fields, '$.ptr') AS ptr, 1 AS delta FROM trace_event
   WHERE session = :s AND name = 'heap_alloc'
  UNION ALL
  SELECT seq, ts, json_extract(fields, '$.ptr'), -1 FROM trace_event
   WHERE session = :s AND name = 'heap_free'
  UNION ALL
  SELECT seq, ts, json_extract(fields, '$.old'), -1 FROM trace_event
   WHERE session = :s AND name = 'heap_realloc'
  UNION ALL
  SELECT seq, ts, json_extract(fields, '$.new'), 1 FROM trace_event
   WHERE session = :s AND name = 'heap_realloc'
  UNION ALL
  SELECT seq, ts, json_extract(fields, '$.ptr'), 0 FROM trace_event
   WHERE session = :s AND name = 'heap_resize'
), walk AS (
  SELECT ptr, delta,
         SUM(delta) OVER (PARTITION BY ptr ORDER BY {order} ROWS UNBOUNDED PRECEDING) AS live
    FROM d
)
SELECT (SELECT count(*) FROM walk WHERE live NOT IN (0, 1) OR (delta = 0 AND live <> 1)) AS bad_steps,
       (SELECT count(*) FROM (SELECT ptr FROM d GROUP BY ptr HAVING SUM(delta) <> 0)) AS unbalanced,
       (SELECT count(*) FROM d) AS steps,
       (SELECT count(DISTINCT ptr) FROM d) AS blocks
"""


def check_balance(con, session):
    """The trace balances in decode (completion) order and in timestamp order:
    the allocator emits heap_alloc after taking a block and heap_free before
    giving it back, so per block both orders are exact even though events of
    interrupts complete inside (before) the events they preempted."""
    results = {}
    for order in ("seq", "ts, seq"):
        bad, unbalanced, steps, blocks = con.execute(BALANCE_SQL.format(order=order), {"s": session}).fetchone()
        assert bad == 0, f"order {order}: {bad} impossible steps (double alloc / free of a free block)"
        assert unbalanced == 0, f"order {order}: {unbalanced} blocks not freed exactly once"
        results[order] = (steps, blocks)
    return results["seq"]


def session_row(con):
    con.row_factory = sqlite3.Row
    rows = con.execute("SELECT * FROM session").fetchall()
    assert len(rows) == 1
    return rows[0]


def test_heapstress_nested_interrupts_100k_ops(comb, firmware, qemu, tmp_path, board):
    elf = firmware("heapstress", board)
    if not board.mainline:  # ARMv6-M: the allocator's PRIMASK sections, no exclusives anywhere
        dis = subprocess.run(["arm-none-eabi-objdump", "-d", elf], capture_output=True, text=True).stdout
        assert "cpsid" in dis and "ldrex" not in dis and "strex" not in dis
    check_heapstress(comb, qemu, board, elf, tmp_path)


def test_heapstress_m0_allocator_on_m3(comb, firmware, qemu, tmp_path):
    """The allocator compiled for Cortex-M0, in the M3 image of mps2-an385."""
    check_heapstress(comb, qemu, DEFAULT_BOARD, firmware("heapstress_m0"), tmp_path)


def check_heapstress(comb, qemu, board, elf, tmp_path):
    raw = tmp_path / "hs.bin"
    db = tmp_path / "hs.db"
    res = subprocess.run([qemu, *qemu_args(board), "-icount", "shift=0", "-serial", f"file:{raw}",
                          "-kernel", elf], capture_output=True, timeout=300)
    log = subprocess.run([comb, "log", "--db", str(db), "--no-ack", f"file:{raw}", ":1"],
                         capture_output=True, timeout=120)
    assert log.returncode == 0, log.stderr
    line = log.stdout.decode()
    m = re.search(r"heapstress: ops=(\d+) thread=(\d+) systick=(\d+) timer=(\d+) pended=(\d+) fails=(\d+) "
                  r"double=(\d+) badtag=(\d+) badcopy=(\d+) inuse=(\d+) drained=(\d+)/(\d+) peaks=(\w+) "
                  r"dropped=(\d+)", line)
    assert m, line
    ops, thread, systick, timer, pended, fails, double, badtag, badcopy, inuse, drained, cap = map(int, m.groups()[:12])
    peaks, dropped = m.group(13), int(m.group(14))
    assert res.returncode == 0, line
    # the firmware's own checks
    assert ops >= 100_000 and ops == thread + systick + timer + pended
    assert min(systick, timer, pended) > 1000, "every interrupt level allocated and freed"
    assert double == 0 and badtag == 0 and badcopy == 0
    assert inuse == 0 and drained == cap and peaks == "ok"
    assert dropped == 0
    assert 0 < fails < ops // 10, "some exhaustion, mostly success"

    con = connect_db(db)
    s = session_row(con)
    assert s["overflows"] == 0 and s["decode_errors"] == 0 and s["trace_errors"] == 0 and s["dropped"] == 0
    steps, blocks = check_balance(con, s["id"])
    counts = dict(con.execute("SELECT name, count(*) FROM trace_event WHERE port = 31 GROUP BY name"))
    assert counts["heap_alloc"] == counts["heap_free"]
    assert counts["heap_fail"] == fails
    assert counts["heap_realloc"] > 1000 and counts["heap_resize"] > 1000
    # every operation is one event: alloc/free/realloc/resize/fail
    n_ops = sum(counts[k] for k in ("heap_alloc", "heap_free", "heap_realloc", "heap_resize", "heap_fail"))
    assert n_ops >= 100_000
    assert blocks <= cap, "no address outside the heap's blocks"
    # interrupts really preempted events on port 31 (nested decode, SPEC 3.2)
    nested = con.execute("SELECT count(*) FROM trace_event WHERE port = 31 AND depth > 0").fetchone()[0]
    assert nested > 100
    con.close()


def _symbols(elf):
    """name -> (start, end) of the FUNC symbols of an ELF."""
    out = subprocess.run(["arm-none-eabi-nm", "-S", "--defined-only", elf], capture_output=True, text=True).stdout
    syms = {}
    for ln in out.splitlines():
        parts = ln.split()
        if len(parts) == 4 and parts[2] in "tT":
            start, size = int(parts[0], 16), int(parts[1], 16)
            syms[parts[3]] = (start, start + size)
    return syms


def test_heapdemo_live_capture(comb, firmware, qemu, tmp_path, board):
    """heapdemo through a pty (a UART's worth of buffering: a Unix socket
    backs up after a few hundred 1-byte writes and makes the firmware drop
    trace packets when the capture is not scheduled for a millisecond). QEMU
    starts paused until comb holds the pty; the firmware exits 0 only after
    comb acknowledged SESSION_END and every block came back."""
    elf = firmware("heapdemo", board)
    db = tmp_path / "demo.db"
    rc, log = capture_over_pty(qemu, comb, elf, db, tmp_path, board=board)
    out, err = log.stdout, log.stderr
    text = out.decode()
    assert rc == 0, text + err.decode()
    assert "heapdemo: in use at exit 0, failures 0" in text, text
    pools = re.findall(r"pool +(\d+) x +(\d+): in use (\d+), peak (\d+)", text)
    assert len(pools) == 6 and all(int(u) == 0 for _, _, u, _ in pools)
    assert all(0 < int(pk) <= int(c) for _, c, _, pk in pools), "every pool was used"

    con = connect_db(db)
    s = session_row(con)
    assert s["acks"] == 1
    assert s["overflows"] == 0 and s["decode_errors"] == 0 and s["trace_errors"] == 0
    check_balance(con, s["id"])
    counts = dict(con.execute("SELECT name, count(*) FROM trace_event WHERE port = 31 GROUP BY name"))
    assert counts["heap_alloc"] > 2000 and counts["heap_realloc"] > 50 and counts["heap_resize"] > 300
    assert "heap_fail" not in counts
    # heap_* events carry the caller (HEAPDEMO_TRACE_CALLER): a return address
    # inside the function that called the allocator
    syms = _symbols(elf)
    callers = {r[0] for r in con.execute(
        "SELECT DISTINCT json_extract(fields, '$.caller') FROM trace_event WHERE name LIKE 'heap_%'")}
    assert None not in callers
    owners = set()
    for c in callers:
        hit = [n for n, (a, b) in syms.items() if a <= (c & ~1) < b]
        assert hit, f"caller 0x{c:x} is in no function"
        owners.add(hit[0])
    assert {"main", "SysTick_Handler", f"IRQ{board.timer_irq}_Handler"} <= owners, owners
    # sizes are the requested ones (messages 24-72, records 12), not block sizes
    sizes = {r[0] for r in con.execute(
        "SELECT DISTINCT json_extract(fields, '$.size') FROM trace_event WHERE name = 'heap_alloc'")}
    assert 12 in sizes and any(s not in (8, 16, 32, 64, 128, 512) for s in sizes)
    con.close()


def test_heapdemo_layout_is_the_checked_in_one(comb):
    """The checked-in fallback headers are exactly what `comb heap header`
    makes of their Drone.toml (when this comb has the command)."""
    from conftest import ROOT
    help_ = subprocess.run([comb, "heap", "header", "--help"], capture_output=True, text=True)
    if help_.returncode != 0:
        pytest.skip("this comb has no `heap header` command yet")
    for ex in ("heapdemo", "heapstress", "heapbench"):
        d = ROOT / "firmware" / "examples" / ex
        res = subprocess.run([comb, "heap", "header", "--layout", str(d / "Drone.toml")],
                             capture_output=True, text=True, timeout=30)
        assert res.returncode == 0, res.stderr
        assert res.stdout == (d / "heap_layout.h").read_text(), ex


def _data_symbol(elf, name):
    out = subprocess.run(["arm-none-eabi-nm", "-S", elf], capture_output=True, text=True).stdout
    for ln in out.splitlines():
        parts = ln.split()
        if len(parts) == 4 and parts[3] == name:
            return int(parts[0], 16), int(parts[0], 16) + int(parts[1], 16)
    raise AssertionError(f"{name} not in {elf}")


def _run_small(comb, firmware, qemu_socket, tmp_path, image, board):
    db = tmp_path / f"{image}.db"
    q = qemu_socket(firmware(image, board), board=board)
    res = subprocess.run([comb, "log", "--db", str(db), f"unix:{q.sock}"], capture_output=True, timeout=60)
    rc = q.wait()
    assert res.returncode == 0, res.stderr.decode()
    con = connect_db(db)
    s = session_row(con)
    assert s["acks"] == 1 and s["overflows"] == 0 and s["trace_errors"] == 0
    check_balance(con, s["id"])
    return rc, res.stdout.decode(), con


@pytest.mark.board_features("ram-64k")  # its static arena for newlib's malloc
def test_newlib_malloc_traced_by_link_time_wrapper(comb, firmware, qemu_socket, tmp_path, board):
    """heapwrap keeps newlib's malloc; -Wl,--wrap=... puts the same heap trace
    around it: every block inside newlib's sbrk arena, requested sizes, one
    failure, callers in main."""
    elf = firmware("heapwrap", board)
    rc, out, con = _run_small(comb, firmware, qemu_socket, tmp_path, "heapwrap", board)
    assert rc == 0, out
    assert "huge failed" in out
    lo, hi = _data_symbol(elf, "arena")
    ptrs = [r[0] for r in con.execute(
        "SELECT json_extract(fields, '$.ptr') FROM trace_event WHERE name = 'heap_alloc' "
        "UNION ALL SELECT json_extract(fields, '$.new') FROM trace_event WHERE name = 'heap_realloc'")]
    assert len(ptrs) > 300 and all(lo <= p < hi for p in ptrs)
    fails = [r[0] for r in con.execute("SELECT json_extract(fields, '$.size') FROM trace_event WHERE name = 'heap_fail'")]
    assert fails == [1 << 20]
    assert con.execute("SELECT count(*) FROM trace_event WHERE name = 'heap_alloc' "
                       "AND json_extract(fields, '$.size') = 0").fetchone()[0] >= 1  # malloc(0), realloc(p, 0)
    main_lo, main_hi = _symbols(elf)["main"]
    callers = {r[0] for r in con.execute(
        "SELECT DISTINCT json_extract(fields, '$.caller') FROM trace_event WHERE name LIKE 'heap_%'")}
    assert callers and all(main_lo <= (c & ~1) < main_hi for c in callers)
    con.close()


def test_newlib_retargeted_to_pools(comb, firmware, qemu_socket, tmp_path, board):
    """heapnewlib: malloc/calloc/realloc/free and newlib's own _malloc_r
    (strdup) come from the pools, traced by the pool allocator."""
    elf = firmware("heapnewlib", board)
    rc, out, con = _run_small(comb, firmware, qemu_socket, tmp_path, "heapnewlib", board)
    assert rc == 0, out
    assert "heapnewlib: bad 0, in use 0, failures 1" in out
    lo, hi = _data_symbol(elf, "comb_heap__mem_main")
    ptrs = [r[0] for r in con.execute(
        "SELECT json_extract(fields, '$.ptr') FROM trace_event WHERE name = 'heap_alloc'")]
    assert len(ptrs) >= 21 and all(lo <= p < hi for p in ptrs)
    # strdup's allocations: callers outside main (inside newlib's strdup)
    syms = _symbols(elf)
    owners = set()
    for (c,) in con.execute("SELECT json_extract(fields, '$.caller') FROM trace_event WHERE name = 'heap_alloc'"):
        owners.update(n for n, (a, b) in syms.items() if a <= (c & ~1) < b)
    assert "main" in owners and any("strdup" in n for n in owners), owners
    con.close()

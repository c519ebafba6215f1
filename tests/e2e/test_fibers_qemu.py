"""Threads and fibers (docs/scheduler.md) on the NVIC of every QEMU board,
checked from the scheduler trace (port 30) that the real `comb` stores in the
session database.

- schedtest runs its scenarios on every QEMU board (mps2-an385/an386/an500:
  ARMv7-M, mps2-an505: ARMv8-M Mainline, microbit: ARMv6-M)
  under -icount shift=0,sleep=off (deterministic: two runs give the same
  bytes), checks itself (exit status, "ok" lines on port 0) and frames each
  scenario with "begin/end <name> <ts>" lines; the tests here check the same
  properties again from the events of each window:
  preemption order by priority, LIFO order within a chain, yield versus
  complete, drop callbacks and pool fibers, timer periods, wakeups from nested
  interrupts (`from` is the innermost thread, 0xFF for an interrupt that is
  not a thread).
- The latency scenario alone (selected through the image's preload word, which
  QEMU preloads; mps2-an385) is a known scenario: high wakes low and then spins 4000 ticks, so low's
  wakeup-to-entry latency is 4000 ticks plus the dispatch; low wakes top,
  which spins 1000 ticks, and spins until 3000 ticks after its start, so low's
  self time is 2000 ticks. Checked from the events here, and against the JSON
  of `comb fibers report`.
- The thread names are ELF absolute symbols that survive --gc-sections.
- The fibers demo runs live over a pty with an acknowledged session end.
"""
import json
import re
import sqlite3
import subprocess
from dataclasses import dataclass, field

import pytest

from combdb import connect_db
from conftest import DEFAULT_BOARD, capture_over_pty, qemu_args, selected_boards

ICOUNT = ["-icount", "shift=0,sleep=off"]
# schedtest's scenario selection (firmware/examples/schedtest/main.c):
# 0x5CED0000 | mask in the image's preload word; bit 5 = latency.
SELECT_LATENCY = 0x5CED0020
SCHED_EVENTS = ("thread_wakeup", "thread_enter", "thread_exit", "fiber_added", "fiber_resumed",
                "fiber_yielded", "fiber_completed")
NONE = 0xFF
LOW, MID, HIGH, SAME, TOP = range(5)  # schedtest's thread table, in order
THREAD_NAMES = {"t_low": LOW, "t_mid": MID, "t_high": HIGH, "t_same": SAME, "t_top": TOP}


def symbols(elf):
    """name -> (value, nm type letter)."""
    out = subprocess.run(["arm-none-eabi-nm", elf], capture_output=True, text=True, check=True).stdout
    syms = {}
    for ln in out.splitlines():
        parts = ln.split()
        if len(parts) == 3:
            syms[parts[2]] = (int(parts[0], 16), parts[1])
    return syms


@dataclass
class Ev:
    name: str
    ts: int
    offset: int
    f: dict

    @property
    def thr(self):
        return self.f.get("thr")

    @property
    def src(self):
        return self.f["ids"] >> 8

    @property
    def dst(self):
        return self.f["ids"] & 0xFF


@dataclass
class Capture:
    board: object
    rc: int
    raw: bytes
    text: str
    session: sqlite3.Row
    events: list
    windows: dict = field(default_factory=dict)
    db: str = ""

    def window(self, name):
        lo, hi = self.windows[name]
        return [e for e in self.events if lo <= e.ts <= hi]


def capture_file(qemu, comb, elf, tmp, name, extra=(), board=DEFAULT_BOARD):
    """Run `elf` under -icount with UART0 into a file, then `comb log` it into a database."""
    raw = tmp / f"{name}.bin"
    db = tmp / f"{name}.db"
    q = subprocess.run([qemu, *qemu_args(board), *ICOUNT, *extra, "-serial", f"file:{raw}", "-kernel", elf],
                       capture_output=True, timeout=120)
    log = subprocess.run([comb, "log", "--db", str(db), "--no-ack", f"file:{raw}", ":0"],
                         capture_output=True, timeout=60)
    assert log.returncode == 0, log.stderr.decode()
    con = connect_db(db)
    con.row_factory = sqlite3.Row
    session = con.execute("SELECT * FROM session").fetchone()
    rows = con.execute(
        f"SELECT name, ts, offset, fields FROM trace_event WHERE session = ? AND port = 30 "
        f"AND name IN ({','.join('?' * len(SCHED_EVENTS))}) ORDER BY ts, offset",
        (session["id"], *SCHED_EVENTS)).fetchall()
    events = [Ev(r["name"], r["ts"], r["offset"], json.loads(r["fields"])) for r in rows]
    lines = [bytes(r[0]).decode() for r in con.execute(
        "SELECT text FROM log_line WHERE session = ? AND port = 0 ORDER BY seq", (session["id"],))]
    con.close()
    cap = Capture(board, q.returncode, raw.read_bytes(), "\n".join(lines), session, events, db=str(db))
    begins = {m.group(1): int(m.group(2)) for m in re.finditer(r"^begin (\w+) (\d+)$", cap.text, re.M)}
    ends = {m.group(1): int(m.group(2)) for m in re.finditer(r"^end (\w+) (\d+)$", cap.text, re.M)}
    cap.windows = {k: (begins[k], ends[k]) for k in begins if k in ends}
    return cap


def preload(elf, value):
    """QEMU options that store `value` in the image's preload word before it starts. Its address is
    the board's (boards/common/comb_sections.ld: just above .bss), read from the ELF."""
    addr = symbols(elf)["__comb_preload_word__"][0]
    return ["-device", f"loader,addr={addr:#x},data={value:#x},data-len=4"]


# schedtest runs on every QEMU board: ARMv7-M and ARMv8-M Mainline (wakeups through
# NVIC_STIR) and ARMv6-M (NVIC_ISPR, word-wide priority writes, PRIMASK CAS);
# COMB_E2E_BOARDS narrows the choice.
SCHED_BOARDS = selected_boards()


@pytest.fixture(scope="module", params=SCHED_BOARDS, ids=[b.name for b in SCHED_BOARDS])
def schedtest(request, comb, firmware, qemu, tmp_path_factory):
    board = request.param
    elf = firmware("schedtest", board)
    cap = capture_file(qemu, comb, elf, tmp_path_factory.mktemp(f"schedtest-{board}"), "all", board=board)
    return elf, cap


def test_schedtest_checks_itself(schedtest):
    elf, cap = schedtest
    assert cap.rc == 0, cap.text
    assert "schedtest: failures 0 dropped 0" in cap.text
    verdicts = re.findall(r"^([\w-]+): \S+ (ok|FAIL)$", cap.text, re.M)
    assert {n for n, _ in verdicts} == {"prio", "pending", "lifo", "yield", "drop", "nested-irq",
                                         "nested-thread"}
    assert all(v == "ok" for _, v in verdicts), verdicts
    s = cap.session
    assert s["overflows"] == 0 and s["decode_errors"] == 0 and s["trace_errors"] == 0 and s["dropped"] == 0
    assert set(cap.windows) == {"prio", "pending", "lifo", "yield", "drop", "timer", "nested", "latency"}


def test_icount_runs_are_identical(schedtest, comb, qemu, tmp_path):
    elf, cap = schedtest
    again = capture_file(qemu, comb, elf, tmp_path, "again", board=cap.board)
    assert again.raw == cap.raw


def test_thread_names_are_absolute_symbols(schedtest, firmware):
    elf, _ = schedtest
    syms = symbols(elf)
    names = {n[len("comb_thr_name_"):]: v for n, v in syms.items() if n.startswith("comb_thr_name_")}
    assert names == {k: (v, "A") for k, v in THREAD_NAMES.items()}
    # the demo's too, and its fibers are named objects
    demo = symbols(firmware("fibers"))
    assert {n: v[0] for n, v in demo.items() if n.startswith("comb_thr_name_")} == {
        "comb_thr_name_sample": 0, "comb_thr_name_filter": 1, "comb_thr_name_control": 2,
        "comb_thr_name_worker": 3, "comb_thr_name_background": 4}
    assert {"sampler", "smoother", "producer", "reporter", "checksum"} <= set(demo)


def runs(events):
    """(enter|exit, thr) in time order."""
    return [(e.name[len("thread_"):], e.thr) for e in events if e.name in ("thread_enter", "thread_exit")]


def wakeups(events):
    return [(e.src, e.dst) for e in events if e.name == "thread_wakeup"]


def test_preemption_order_by_priority(schedtest):
    _, cap = schedtest
    ev = cap.window("prio")
    # low wakes high: preempted at once; high wakes mid: mid runs after high,
    # before low resumes; low wakes same (same priority): after low
    assert runs(ev) == [("enter", LOW), ("enter", HIGH), ("exit", HIGH), ("enter", MID), ("exit", MID),
                        ("exit", LOW), ("enter", SAME), ("exit", SAME)]
    assert wakeups(ev) == [(NONE, LOW), (LOW, HIGH), (HIGH, MID), (LOW, SAME)]
    # pending: three pended by high, taken by priority, then IRQ number
    ev = cap.window("pending")
    assert runs(ev) == [("enter", HIGH), ("exit", HIGH), ("enter", MID), ("exit", MID), ("enter", LOW),
                        ("exit", LOW), ("enter", SAME), ("exit", SAME)]
    assert wakeups(ev) == [(NONE, HIGH), (HIGH, SAME), (HIGH, LOW), (HIGH, MID)]
    # every wakeup comes before its thread's entry
    for e in ev:
        if e.name == "thread_wakeup":
            assert any(x.name == "thread_enter" and x.thr == e.dst and x.ts >= e.ts for x in ev)


def test_lifo_order_within_a_chain(schedtest):
    elf, cap = schedtest
    syms = symbols(elf)
    addr = {syms[n][0]: n for n in ("fib_a", "fib_b", "fib_c")}
    ev = cap.window("lifo")
    assert [addr[e.f["fiber"]] for e in ev if e.name == "fiber_added"] == ["fib_a", "fib_b", "fib_c"]
    assert [addr[e.f["fiber"]] for e in ev if e.name == "fiber_resumed"] == ["fib_c", "fib_b", "fib_a"]
    assert all(e.thr == MID for e in ev if e.name.startswith("fiber_"))


def test_yield_versus_complete(schedtest):
    elf, cap = schedtest
    syms = symbols(elf)
    y, once = syms["fib_yield"][0], syms["fib_once"][0]
    ev = cap.window("yield")
    fib = [(e.name[len("fiber_"):], e.f["fiber"]) for e in ev if e.name.startswith("fiber_")]
    assert fib == [("added", y), ("added", once),
                   ("resumed", once), ("completed", once), ("resumed", y), ("yielded", y),
                   ("resumed", y), ("yielded", y),
                   ("resumed", y), ("completed", y)]
    # woken four times; the fourth run finds the chain empty
    assert runs(ev) == [("enter", MID), ("exit", MID)] * 4


def test_drop_callbacks_return_pool_fibers(schedtest):
    elf, cap = schedtest
    assert re.search(r"^drop: 32103d2c1b0a ok$", cap.text, re.M)  # steps 3..0, then each drop after its completion
    assert "drop: dropped 4 in_use 4 -> 0" in cap.text
    syms = symbols(elf)
    lo = syms["comb_heap__mem_main"][0]
    ev = cap.window("drop")
    fibers = sorted({e.f["fiber"] for e in ev if e.name == "fiber_added"})
    assert len(fibers) == 4 and all(lo <= a < lo + 512 for a in fibers)
    for a in fibers:
        names = [e.name for e in ev if e.name.startswith("fiber_") and e.f["fiber"] == a]
        assert names == ["fiber_added", "fiber_resumed", "fiber_yielded", "fiber_resumed", "fiber_completed"]


def test_timer_periods(schedtest):
    elf, cap = schedtest
    syms = symbols(elf)
    tick = int(re.search(r"^timer: tick (\d+)$", cap.text, re.M).group(1))
    assert 500 <= tick <= 2000  # 1000 core cycles (QEMU clocks SysTick at half the timestamp rate)
    ev = cap.window("timer")
    period = [e.ts for e in ev if e.name == "fiber_resumed" and e.f["fiber"] == syms["f_period"][0]]
    assert len(period) == 10
    gaps = [b - a for a, b in zip(period, period[1:])]
    assert all(abs(g - 5 * tick) <= 50 for g in gaps), gaps
    assert abs(period[-1] - period[0] - 9 * 5 * tick) <= 50  # no drift
    sleeper = [e.ts for e in ev if e.name == "fiber_resumed" and e.f["fiber"] == syms["f_sleeper"][0]]
    assert len(sleeper) == 4  # started, then three sleeps of 7 ticks
    gaps = [b - a for a, b in zip(sleeper, sleeper[1:])]
    assert 6 * tick - 50 <= gaps[0] <= 7 * tick + 50  # the first tick is partly gone
    assert all(abs(g - 7 * tick) <= 50 for g in gaps[1:]), gaps
    # expiries wake from SysTick, which is not a thread
    timer_wakes = [w for w in wakeups(ev) if w[1] in (HIGH, MID)]
    assert len(timer_wakes) == 10 + 3 + 1 and timer_wakes.count((NONE, HIGH)) == 10


def test_wakeups_from_nested_interrupts(schedtest):
    _, cap = schedtest
    ev = cap.window("nested")
    w = [(e.src, e.dst, e.ts) for e in ev if e.name == "thread_wakeup"]
    assert [(s, d) for s, d, _ in w] == [(NONE, LOW), (NONE, MID), (NONE, LOW), (LOW, TOP), (TOP, HIGH),
                                         (HIGH, MID)]
    # the board timer's interrupt (not a thread) landed inside low's run and
    # woke mid, which ran before low resumed
    enter_low, exit_low = [e.ts for e in ev if e.name in ("thread_enter", "thread_exit") and e.thr == LOW][:2]
    assert enter_low < w[1][2] < exit_low
    first = ev[:[i for i, e in enumerate(ev) if e.name == "thread_exit" and e.thr == LOW][0] + 1]
    assert runs(first) == [("enter", LOW), ("enter", MID), ("exit", MID), ("exit", LOW)]
    # thread inside thread: each wakeup names the innermost running thread
    second = ev[len(first):]
    assert runs(second) == [("enter", LOW), ("enter", TOP), ("exit", TOP), ("enter", HIGH), ("exit", HIGH),
                            ("enter", MID), ("exit", MID), ("exit", LOW)]


# ---- the latency scenario ---------------------------------------------------------

HIGH_SPIN, LOW_SPIN, TOP_SPIN, REPS = 4000, 3000, 1000, 8
SLACK = 150  # ticks of dispatch and tracing on top of a spin (measured: about 50-80)


@pytest.fixture(scope="module")
def latency(comb, firmware, qemu, tmp_path_factory):
    if DEFAULT_BOARD not in selected_boards():
        pytest.skip("the latency scenario runs on mps2-an385 (COMB_E2E_BOARDS leaves it out)")
    elf = firmware("schedtest")
    cap = capture_file(qemu, comb, elf, tmp_path_factory.mktemp("latency"), "latency",
                       preload(elf, SELECT_LATENCY))
    assert cap.rc == 0, cap.text
    assert set(cap.windows) == {"latency"}
    return elf, cap


def self_times(events, thr):
    """enter -> exit of `thr` minus the runs of threads nested inside (self time)."""
    out, stack = [], []
    for e in events:
        if e.name == "thread_enter":
            stack.append([e.thr, e.ts, 0])
        elif e.name == "thread_exit":
            t, start, inner = stack.pop()
            assert t == e.thr
            if stack:
                stack[-1][2] += e.ts - start
            if t == thr:
                out.append(e.ts - start - inner)
    return out


def test_latency_scenario_from_events(latency):
    _, cap = latency
    ev = cap.events
    lat = []
    for i, e in enumerate(ev):
        if e.name == "thread_wakeup" and e.dst == LOW:
            assert e.src == HIGH
            enter = next(x for x in ev[i:] if x.name == "thread_enter" and x.thr == LOW)
            lat.append(enter.ts - e.ts)
    assert len(lat) == REPS
    assert all(HIGH_SPIN - SLACK <= v <= HIGH_SPIN + SLACK for v in lat), lat
    assert max(lat) - min(lat) <= 5  # deterministic run, same path every time
    assert all(HIGH_SPIN <= v <= HIGH_SPIN + SLACK for v in self_times(ev, HIGH))
    assert all(LOW_SPIN - TOP_SPIN - SLACK <= v <= LOW_SPIN - TOP_SPIN + SLACK for v in self_times(ev, LOW))
    assert all(TOP_SPIN <= v <= TOP_SPIN + SLACK for v in self_times(ev, TOP))


def fibers_report(comb, args):
    res = subprocess.run([comb, "fibers", "report", *args], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    return res


def near(stats, unit, want, slack):
    return all(want - slack <= stats[unit][k] <= want + slack for k in ("min", "p50", "p90", "p99", "max"))


def test_latency_report_matches_the_scenario(latency, comb):
    elf, cap = latency
    rep = json.loads(fibers_report(comb, ["--db", cap.db, "--elf", elf, "--json"]).stdout)
    assert rep["core_hz"] == 25_000_000 and rep["ts_hz"] == 25_000_000
    assert rep["span"]["ticks"] > REPS * (HIGH_SPIN + LOW_SPIN)
    thr = {t["name"]: t for t in rep["threads"]}
    assert {"t_low", "t_high", "t_top"} <= set(thr)
    low, high, top = thr["t_low"], thr["t_high"], thr["t_top"]
    assert low["thr"] == LOW and high["thr"] == HIGH and top["thr"] == TOP
    assert low["runs"] == REPS and low["wakeups"] == REPS
    assert low["latency"]["count"] == REPS
    assert near(low["latency"], "ticks", HIGH_SPIN + SLACK // 2, SLACK // 2 + 1)
    assert low["latency"]["cycles"] == low["latency"]["ticks"]  # core clock = timestamp clock
    assert abs(low["latency"]["us"]["p50"] - low["latency"]["ticks"]["p50"] / 25) < 0.05
    assert near(low["run_time"], "ticks", LOW_SPIN - TOP_SPIN, SLACK)  # self time, top's runs taken out
    assert near(high["run_time"], "ticks", HIGH_SPIN + SLACK // 2, SLACK // 2 + 1)
    assert near(top["run_time"], "ticks", TOP_SPIN + SLACK // 2, SLACK // 2 + 1)
    assert high["latency"]["ticks"]["max"] < 100  # woken from thread mode: runs at once
    assert 0 < sum(t["cpu_share"] for t in rep["threads"]) <= 1
    assert abs(high["cpu_share"] - REPS * high["run_time"]["ticks"]["p50"] / rep["span"]["ticks"]) < 0.02
    assert high["longest_run"]["ticks"] >= HIGH_SPIN
    fib = {f["name"]: f for f in rep["fibers"]}
    for name, t in (("f_lat_low", LOW), ("f_lat_high", HIGH), ("f_lat_top", TOP)):
        f = fib[name]
        assert f["thr"] == t and f["added"] == 1 and f["resumes"] == REPS
        assert f["yields"] == REPS - 1 and f["completions"] == 1
    assert near(fib["f_lat_low"]["run_time"], "ticks", LOW_SPIN - TOP_SPIN, SLACK)
    # without --elf: the same numbers, no names
    bare = json.loads(fibers_report(comb, ["--db", cap.db, "--json"]).stdout)
    assert all(t["name"] is None for t in bare["threads"])
    assert [t["latency"] for t in bare["threads"]] == [t["latency"] for t in rep["threads"]]


# ---- the demo, live ------------------------------------------------------------------


def test_fibers_demo_live(comb, firmware, qemu, tmp_path):
    elf = firmware("fibers")
    db = tmp_path / "fibers.db"
    rc, log = capture_over_pty(qemu, comb, elf, db, tmp_path, timeout=120)
    text = log.stdout.decode()
    assert rc == 0, text + log.stderr.decode()
    m = re.search(r"fibers: commands (\d+) done (\d+) failed (\d+), checksums (\d+), samples (\d+) used (\d+) "
                  r"lost (\d+), pool in use (\d+)", text)
    assert m, text
    issued, done, failed, checksums, samples, used, lost, in_use = map(int, m.groups())
    assert issued == done == 48 and failed == 0 and checksums == 6 and in_use == 0
    assert used + lost == samples and lost > 0 and samples > 40
    assert len(re.findall(r"^checksum \d: 0x[0-9a-f]{8}$", text, re.M)) == 6
    con = connect_db(db)
    s = con.execute("SELECT id, acks, overflows, decode_errors, trace_errors FROM session").fetchone()
    assert s[1:] == (1, 0, 0, 0), s  # acks, overflows, decode and trace errors
    counts = dict(con.execute("SELECT json_extract(fields, '$.thr'), count(*) FROM trace_event "
                              "WHERE name = 'thread_enter' GROUP BY 1"))
    assert set(counts) == {0, 1, 2, 3, 4}  # every thread ran
    assert counts[4] >= 6 * 8  # each checksum runs in 8 slices
    con.close()

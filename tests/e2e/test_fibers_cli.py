"""`comb fibers report` end to end: scheduler event streams built with
itm_stream.py, captured with `comb log --db`, reported as JSON and text.

The main scenario is periodic, so every number follows from its description
(nearest-rank percentiles, docs/scheduler-analysis.md); the others cover a
damaged capture, names from an ELF and bad input."""
import json
import re
import shutil
import subprocess

import pytest

from itm_stream import SYNC, Writer, event_bytes

TS_HZ = 25_000_000   # ticks per second: 1 tick = 0.04 us
CORE_HZ = 100_000_000  # cycles = 4 x ticks

U16, U32 = 2, 4
THR = (("thr", U16), ("ts", U32))
FIB = (("thr", U16), ("fiber", U32), ("ts", U32))


class Sched:
    """An ITM stream of scheduler events on port 30 (trace-protocol/SPEC.md 3.5)."""

    def __init__(self, core_hz=CORE_HZ, ts_hz=TS_HZ, start=True):
        self.w = Writer()
        if start:
            fields = (("version", U16), ("core_hz", U32), ("ts_hz", U32), ("build_id_lo", U32),
                      ("build_id_hi", U32), ("ts", U32))
            self.ev(0x01, fields, version=1, core_hz=core_hz, ts_hz=ts_hz, build_id_lo=1, build_id_hi=2, ts=0)

    def ev(self, etype, fields, **values):
        self.w.item(event_bytes(etype, 30, fields, values))

    def wakeup(self, ts, to, frm=0xFF):
        self.ev(0x10, (("ids", U16), ("ts", U32)), ids=frm << 8 | to, ts=ts)

    def enter(self, ts, thr):
        self.ev(0x11, THR, thr=thr, ts=ts)

    def exit(self, ts, thr):
        self.ev(0x12, THR, thr=thr, ts=ts)

    def fiber(self, kind, ts, thr, addr):
        etype = {"added": 0x13, "resumed": 0x14, "yielded": 0x15, "completed": 0x16}[kind]
        self.ev(etype, FIB, thr=thr, fiber=addr, ts=ts)

    def dropped(self, ts, packets):
        self.ev(0x04, (("packets", U32), ("ts", U32)), packets=packets, ts=ts)

    def end(self, ts):
        self.ev(0x02, (("ts", U32),), ts=ts)

    def bytes(self):
        return bytes(self.w.out)


FIBER_A = 0x20000400


def periodic(fiber=FIBER_A, bad_exit=None):
    """100 periods of 1 ms (25000 ticks), k = 0..99, starting at tick 1000:
      thread 1 is woken from thread mode at the period start and entered
        50 + 5 * (k % 10) ticks later (latency 50..95, ten times each);
      it resumes fiber A 10 ticks after entry, A yields 200 ticks later (k = 99:
        completes), and thread 1 exits 300 ticks after entry;
      on even k thread 2 preempts A: woken by thread 1 at entry + 100, entered
        2 ticks later, runs 50 ticks.
    Self times: thread 1 300 (odd k) or 250 (even), thread 2 50, A 200 or 150.
    bad_exit = (k, ts): thread 1's exit of period k carries a corrupted ts."""
    s = Sched()
    s.fiber("added", 500, 1, fiber)
    for k in range(100):
        base = 1000 + 25000 * k
        enter = base + 50 + 5 * (k % 10)
        s.wakeup(base, 1)
        s.enter(enter, 1)
        s.fiber("resumed", enter + 10, 1, fiber)
        if k % 2 == 0:
            s.wakeup(enter + 100, 2, frm=1)
            s.enter(enter + 102, 2)
            s.exit(enter + 152, 2)
        s.fiber("completed" if k == 99 else "yielded", enter + 210, 1, fiber)
        s.exit(bad_exit[1] if bad_exit and bad_exit[0] == k else enter + 300, 1)
    s.end(1000 + 25000 * 100)
    return s.bytes()


def run(comb, *args):
    return subprocess.run([comb, *map(str, args)], capture_output=True, text=True, timeout=120)


def capture(comb, tmp_path, data, db=None, name="stream.bin"):
    raw = tmp_path / name
    raw.write_bytes(data)
    db = db or tmp_path / "sched.db"
    res = run(comb, "log", "--db", db, f"file:{raw}")
    assert res.returncode == 0, res.stderr
    return db


def report(comb, db, *args):
    res = run(comb, "fibers", "report", "--db", db, "--json", *args)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def stats(count, ticks):
    """STATS of the report for five tick values min, p50, p90, p99, max."""
    keys = ("min", "p50", "p90", "p99", "max")
    return {"count": count, "ticks": dict(zip(keys, ticks)),
            "cycles": dict(zip(keys, (t * CORE_HZ // TS_HZ for t in ticks))),
            "us": dict(zip(keys, (t * 1e6 / TS_HZ for t in ticks)))}


def test_periodic_scenario_numbers(comb, tmp_path):
    db = capture(comb, tmp_path, periodic())
    rep = report(comb, db)
    assert rep["session"] == 1 and rep["core_hz"] == CORE_HZ and rep["ts_hz"] == TS_HZ
    first, last = 500, 1000 + 25000 * 99 + 50 + 45 + 300
    span = last - first
    assert rep["span"] == {"ticks": span, "us": pytest.approx(span / 25)}
    assert rep["problems"]["total"] == 0, rep["problems"]
    t1, t2 = rep["threads"]
    # thread 1: latencies 50, 55, ..., 95 ten times each: rank 50 -> 70, rank 90 -> 90, rank 99 -> 95
    assert (t1["thr"], t1["name"], t1["runs"], t1["wakeups"], t1["coalesced"]) == (1, None, 100, 100, 0)
    assert t1["latency"] == stats(100, (50, 70, 90, 95, 95))
    assert t1["latency"]["us"]["p50"] == pytest.approx(2.8)
    # run (self) times: 250 on even k (thread 2's 50 ticks taken out), 300 on odd k
    assert t1["run_time"] == stats(100, (250, 250, 300, 300, 300))
    assert t1["cpu_share"] == pytest.approx((50 * 250 + 50 * 300) / span, rel=1e-12)
    # the first run of 300 ticks: k = 1, entered at 1000 + 25000 + 55
    assert t1["longest_run"] == {"start_ts": 26055, "ticks": 300, "cycles": 1200, "us": 12}
    assert (t2["thr"], t2["runs"], t2["wakeups"]) == (2, 50, 50)
    assert t2["latency"] == stats(50, (2,) * 5)
    assert t2["run_time"] == stats(50, (50,) * 5)
    assert t2["cpu_share"] == pytest.approx(50 * 50 / span, rel=1e-12)
    assert t2["longest_run"] == {"start_ts": 1000 + 50 + 102, "ticks": 50, "cycles": 200, "us": 2}
    (a,) = rep["fibers"]
    assert (a["thr"], a["fiber"], a["name"]) == (1, FIBER_A, None)
    assert (a["added"], a["resumes"], a["yields"], a["completions"]) == (1, 100, 99, 1)
    assert a["run_time"] == stats(100, (150, 150, 200, 200, 200))
    assert a["cpu_share"] == pytest.approx((50 * 150 + 50 * 200) / span, rel=1e-12)
    assert a["longest_run"] == {"start_ts": 26065, "ticks": 200, "cycles": 800, "us": 8}

    # the text report: one row per thread and fiber, in microseconds, 100 columns
    res = run(comb, "fibers", "report", "--db", db)
    assert res.returncode == 0 and res.stderr == ""
    out = res.stdout
    assert out.startswith(f"Session 1: 651 scheduler events over {span / 25000:.3f} ms ({span} ticks at 25 MHz; "
                          "core clock 100 MHz)\n")
    row = re.search(r"\n +1 - +100 +(\S+) +(\S+) +(\S+) +(\S+) +(\S+) +(\S+) +(\S+)% +(\S+)\n", out)
    assert row, out
    assert row.groups() == ("2.80", "3.80", "3.80", "10.00", "12.00", "12.00",
                            f"{100 * 27500 / span:.1f}", "12.00")
    assert re.search(r"\n +1 0x20000400 - +100 +99 +1 +6\.00 +8\.00 +8\.00 +0\.7% +8\.00\n", out), out
    # each row's second line: the same times in core cycles (4 per tick)
    assert re.search(r"% +12\.00\n +cycles +280 +380 +380 +1000 +1200 +1200 +1200\n", out), out
    assert re.search(r"% +8\.00\n +cycles +600 +800 +800 +800\n", out), out
    assert "warning" not in out
    assert max(len(line) for line in out.splitlines()) <= 100


def test_corrupted_timestamp(comb, tmp_path):
    """One exit stamp with flipped bits (1509984623 ticks, a minute on): it is
    counted as a ts outlier and left out, so the span and the CPU shares are
    those of the clean run; only that run of thread 1 has no end."""
    clean = report(comb, capture(comb, tmp_path, periodic(), db=tmp_path / "clean.db", name="clean.bin"))
    db = capture(comb, tmp_path, periodic(bad_exit=(40, 1509984623)), db=tmp_path / "bad.db", name="bad.bin")
    rep = report(comb, db)
    p = rep["problems"]
    assert p["ts_outliers"] == 1, p
    assert rep["span"] == clean["span"]
    t1, t2 = rep["threads"]
    c1 = clean["threads"][0]
    assert t1["runs"] == 100 and t1["run_time"]["count"] == 99  # run 40 has no exit
    assert t1["cpu_share"] == pytest.approx(c1["cpu_share"] - 250 / rep["span"]["ticks"], rel=1e-9)
    assert t1["run_time"]["ticks"]["max"] == 300
    assert t2 == clean["threads"][1]
    assert p["total"] == 1 + p["lost_ends"] + p["open_at_end"], p
    out = run(comb, "fibers", "report", "--db", db).stdout
    assert "warning: 1 event with a timestamp far out of line" in out
    assert re.search(r"\n +1 - +100 +\S+ +\S+ +\S+ +\S+ +\S+ +\S+ +(\d+\.\d)% ", out).group(1) != "0.0"


def test_sessions_and_latest(comb, tmp_path):
    """--session picks a session; the default is the latest."""
    db = capture(comb, tmp_path, periodic(), name="one.bin")
    s = Sched()
    s.wakeup(100, 7)
    s.enter(125, 7)
    s.exit(150, 7)
    capture(comb, tmp_path, s.bytes(), db=db, name="two.bin")
    latest = report(comb, db)
    assert latest["session"] == 2
    assert [t["thr"] for t in latest["threads"]] == [7]
    assert latest["threads"][0]["latency"]["ticks"]["max"] == 25
    assert latest["span"] == {"ticks": 50, "us": 2}
    assert report(comb, db, "--session", 1)["threads"][0]["runs"] == 100


def test_damaged_capture(comb, tmp_path):
    """A `dropped` event while thread 1 runs: its run and thread 2's pending
    wakeup are discarded there, the exit after it has no enter; thread 1 is
    entered again and the capture stops (an event cut short): open at the end."""
    s = Sched()
    s.wakeup(100, 1)
    s.enter(110, 1)          # latency 10
    s.wakeup(115, 2, frm=1)  # pending at the loss point
    s.dropped(120, 3)
    s.exit(200, 1)           # exit without enter
    s.enter(300, 1)          # no wakeup: no latency sample
    s.wakeup(310, 1)
    s.enter(320, 3)          # a hardware interrupt, runs 30 ticks
    s.exit(350, 3)
    data = s.bytes() + bytes([30 << 3 | 1, 0x11 | 2 << 5])  # a thread_enter header without its fields
    db = capture(comb, tmp_path, data)
    rep = report(comb, db)
    p = rep["problems"]
    assert p == {"total": 3, "open_at_end": 1, "exit_without_enter": 1, "lost_ends": 0, "fiber_not_running": 0,
                 "fiber_end_without_resume": 0, "out_of_order": 0, "loss_points": 1, "runs_cut": 1,
                 "wakeups_cut": 1, "dropped_events": 1, "dropped_packets": 3, "decode_errors": 1, "overflows": 0,
                 "skipped_rows": 0, "ts_outliers": 0, "same_tick_reorders": 0}
    t = {x["thr"]: x for x in rep["threads"]}
    assert (t[1]["runs"], t[1]["wakeups"], t[1]["run_time"]["count"]) == (2, 2, 0)
    assert t[1]["latency"]["ticks"]["max"] == 10 and t[1]["latency"]["count"] == 1
    assert t[1]["longest_run"]["ticks"] is None
    assert (t[2]["runs"], t[2]["wakeups"], t[2]["latency"]["count"]) == (0, 1, 0)
    assert t[3]["run_time"] == stats(1, (30,) * 5) and t[3]["latency"]["count"] == 0
    res = run(comb, "fibers", "report", "--db", db)
    assert res.returncode == 0
    assert ("warning: 1 run was still open when the capture stopped (no exit, yield or completion yet):\n"
            "         not counted\n") in res.stdout
    assert "warning: 1 thread_exit of a thread that was not running" in res.stdout
    assert ("warning: events may be missing at 1 place (1 dropped event with 3 packets, 1 decode error);\n"
            "         discarded there: 1 open run, 1 pending wakeup\n") in res.stdout
    assert max(len(line) for line in res.stdout.splitlines()) <= 100


def test_names_from_elf(comb, tmp_path):
    """Threads named by absolute symbols comb_thr_name_<name> = index, fibers by
    the data object holding their address (ELF32 from the ARM toolchain, ELF64
    from the host compiler, whichever is installed)."""
    src = tmp_path / "fw.c"
    src.write_text('__asm__(".globl comb_thr_name_low\\n.set comb_thr_name_low, 1\\n"\n'
                   '        ".globl comb_thr_name_high\\n.set comb_thr_name_high, 2\\n");\n'
                   "struct fiber { int state[8]; };\n"
                   "struct fiber blink_fiber, uart_fiber;\n"
                   "int main(void) { return blink_fiber.state[0] + uart_fiber.state[1]; }\n")
    builds = []  # (compiler command, nm)
    if shutil.which("arm-none-eabi-gcc") and shutil.which("arm-none-eabi-nm"):
        builds.append((["arm-none-eabi-gcc", "-mcpu=cortex-m3", "-mthumb", "-nostdlib", "-Wl,-e,main",
                        "-Wl,-Ttext=0x0", "-Wl,-Tbss=0x20000000"], "arm-none-eabi-nm"))
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc and shutil.which("nm"):
        builds.append(([cc, "-no-pie"], "nm"))
    if not builds:
        pytest.skip("no C compiler to build an ELF with")
    for i, (cmd, nm_tool) in enumerate(builds):
        elf = tmp_path / f"fw{i}.elf"
        subprocess.run([*cmd, "-o", elf, src], check=True, capture_output=True)
        nm = subprocess.run([nm_tool, elf], capture_output=True, text=True, check=True).stdout
        addr = {l.split()[2]: int(l.split()[0], 16) for l in nm.splitlines() if len(l.split()) == 3}
        blink, uart = addr["blink_fiber"], addr["uart_fiber"]
        assert addr["comb_thr_name_low"] == 1 and blink < 1 << 32
        s = Sched()
        s.enter(10, 1)
        s.fiber("resumed", 11, 1, blink)
        s.fiber("yielded", 21, 1, blink)
        s.fiber("resumed", 22, 1, uart + 8)
        s.fiber("yielded", 32, 1, uart + 8)
        s.exit(40, 1)
        s.enter(50, 3)
        s.exit(60, 3)
        db = capture(comb, tmp_path, s.bytes(), db=tmp_path / f"names{i}.db")
        rep = report(comb, db, "--elf", elf)
        assert [(t["thr"], t["name"]) for t in rep["threads"]] == [(1, "low"), (3, None)]
        assert sorted((f["fiber"], f["name"]) for f in rep["fibers"]) == sorted(
            [(blink, "blink_fiber"), (uart + 8, "uart_fiber+0x8")])
        out = run(comb, "fibers", "report", "--db", db, "--elf", elf).stdout
        assert re.search(r"\n +1 low +1 ", out), out
        assert re.search(r"\n +1 0x[0-9a-f]{8} blink_fiber +1 +1 +0 ", out), out


def test_session_without_scheduler_events(comb, tmp_path):
    w = Writer()
    for ch in b"hello\n":
        w.item(bytes([0x01, ch]))  # port 0, 1-byte packets
    db = capture(comb, tmp_path, bytes(w.out))
    res = run(comb, "fibers", "report", "--db", db)
    assert res.returncode == 1 and res.stdout == ""
    assert res.stderr == (f"comb fibers report: {db}: session 1 has no scheduler events (no thread or fiber events "
                          "on port 30: is the firmware's scheduler tracing on?)\n")


@pytest.mark.parametrize("args,code,msg", [
    (["report"], 2, "comb fibers report: --db FILE is required\n"),
    (["report", "--db", "MISSING"], 1, "comb fibers report: MISSING: No such file or directory\n"),
    (["report", "--db", "DB", "--session", "9"], 1, "comb fibers report: DB: no session 9 (sessions 1 to 1)\n"),
    (["report", "--db", "DB", "--session", "x"], 2, "comb fibers report: --session needs a session number, not 'x'\n"),
    (["report", "--db", "DB", "--elf", "MISSING"], 1, "comb fibers report: MISSING: No such file or directory\n"),
    (["report", "--db", "DB", "--bogus"], 2,
     "comb fibers report: unknown option '--bogus' (try comb fibers report --help)\n"),
    (["report", "--db"], 2, "comb fibers report: --db needs a value\n"),
    (["frobnicate"], 2, "comb fibers: unknown subcommand 'frobnicate' (try comb fibers --help)\n"),
])
def test_bad_input(comb, tmp_path, args, code, msg):
    db = capture(comb, tmp_path, periodic())
    missing = tmp_path / "missing.db"
    subst = {"DB": str(db), "MISSING": str(missing)}
    res = run(comb, "fibers", *[subst.get(a, a) for a in args])
    assert res.returncode == code
    assert res.stderr == msg.replace("MISSING", str(missing)).replace("DB", str(db))
    assert res.stdout == ""
    assert not missing.exists()


def test_not_a_database(comb, tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("not sqlite " * 100)
    res = run(comb, "fibers", "report", "--db", bad)
    assert res.returncode == 1 and res.stderr.startswith(f"comb fibers report: {bad}: ")
    assert len(res.stderr.splitlines()) == 1

"""A coherent synthetic session for the dashboard and export tests: a comb-framed
ITM stream (trace-protocol/SPEC.md) of a small scheduler workload with heap
traffic and log lines, plus what a correct analysis must find in it.

The workload, on one core, with timestamps at 25 MHz:
- thread mode wakes thread 0 every ~2 ms (from 255); thread 0 enters after a
  latency, resumes one of its fibers (resumed ... yielded / completed), and
  sometimes wakes thread 1, which has the higher priority and runs at once,
  nested inside thread 0's run; thread 2 is woken by thread 1 and runs after
  thread 0 exits (so its latency spans the rest of thread 0's run);
- every run allocates and frees blocks (heap_alloc / heap_free by address);
- log lines on ports 0 and 2.
Nothing is nested on the wire (each event goes out whole), so stored `seq`
order is time order.
"""
import random

from itm_stream import SYNC, Writer, event_bytes, text_packets

TS_HZ = 25_000_000
CORE_HZ = 25_000_000

F_TS = ("ts", 4)
SCHEMA = {
    "wakeup": (0x10, 30, (("ids", 2), F_TS)),
    "enter": (0x11, 30, (("thr", 2), F_TS)),
    "exit": (0x12, 30, (("thr", 2), F_TS)),
    "fiber_added": (0x13, 30, (("thr", 2), ("fiber", 4), F_TS)),
    "fiber_resumed": (0x14, 30, (("thr", 2), ("fiber", 4), F_TS)),
    "fiber_yielded": (0x15, 30, (("thr", 2), ("fiber", 4), F_TS)),
    "fiber_completed": (0x16, 30, (("thr", 2), ("fiber", 4), F_TS)),
    "alloc": (0x08, 31, (("ptr", 4), ("size", 0), F_TS)),
    "free": (0x09, 31, (("ptr", 4), F_TS)),
}


class Truth:
    """What the stream holds, computed while generating it."""

    def __init__(self):
        self.latency = {0: [], 1: [], 2: []}   # ticks, per woken thread: wakeup -> its next enter
        self.runs = {0: 0, 1: 0, 2: 0}
        self.wakeups = {0: 0, 1: 0, 2: 0}
        self.fiber_runs = 0
        self.fibers = set()
        self.sizes = {}                          # requested size -> allocations
        self.live = 0                            # bytes requested, now
        self.peak = 0                            # most bytes requested at once
        self.log_lines = {0: 0, 2: 0}
        self.first_ts = None
        self.last_ts = None
        self.start_ts = None
        self.events = []                         # (kind, ts, fields) in order


def generate(rounds=400, seed=7):
    """Returns (stream bytes, Truth)."""
    rnd = random.Random(seed)
    w = Writer()
    truth = Truth()
    ts = 5000
    truth.start_ts = ts
    start = {"version": 1, "core_hz": CORE_HZ, "ts_hz": TS_HZ, "build_id_lo": 0x11223344,
             "build_id_hi": 0x55667788, "ts": ts}
    w.item(event_bytes(0x01, 30, tuple((f, 2 if f == "version" else 4) for f in start), start))

    live = {}                  # ptr -> size
    free_ptrs = [0x20000000 + 16 * i for i in range(4096)]
    rnd.shuffle(free_ptrs)
    pending = {0: None, 1: None, 2: None}   # first unserved wakeup ts per thread

    def emit(kind, **values):
        etype, port, fields = SCHEMA[kind]
        values["ts"] = ts & 0xFFFFFFFF
        w.item(event_bytes(etype, port, fields, values))
        truth.events.append((kind, ts, dict(values)))
        if truth.first_ts is None:
            truth.first_ts = ts
        truth.last_ts = ts

    def tick(lo, hi):
        nonlocal ts
        ts += rnd.randrange(lo, hi)

    def wake(to, frm):
        emit("wakeup", ids=(frm << 8) | to)
        truth.wakeups[to] += 1
        if pending[to] is None:
            pending[to] = ts

    def enter(thr):
        emit("enter", thr=thr)
        truth.runs[thr] += 1
        if pending[thr] is not None:
            truth.latency[thr].append(ts - pending[thr])
            pending[thr] = None

    def heap_work():
        for _ in range(rnd.randrange(1, 4)):
            tick(5, 40)
            if live and rnd.random() < 0.45:
                ptr = rnd.choice(sorted(live))
                emit("free", ptr=ptr)
                truth.live -= live.pop(ptr)
                free_ptrs.append(ptr)
            else:
                size = rnd.choice((8, 12, 24, 24, 40, 64, 100, 200, 512))
                ptr = free_ptrs.pop()
                emit("alloc", ptr=ptr, size=size)
                live[ptr] = size
                truth.sizes[size] = truth.sizes.get(size, 0) + 1
                truth.live += size
                truth.peak = max(truth.peak, truth.live)

    fibers = [0x20010000 + 0x40 * i for i in range(3)]
    for f in fibers:
        tick(10, 20)
        emit("fiber_added", thr=0, fiber=f)
        truth.fibers.add(f)

    lines = [b"sensor %d ok" % i for i in range(50)] + [b"tx queue depth %d" % i for i in range(50)]
    for r in range(rounds):
        tick(40_000, 60_000)   # ~2 ms at 25 MHz
        wake(0, 255)
        tick(200, 3000)        # latency of thread 0
        enter(0)
        heap_work()
        f = fibers[r % len(fibers)]
        tick(50, 500)
        emit("fiber_resumed", thr=0, fiber=f)
        truth.fiber_runs += 1
        heap_work()
        if r % 3 == 0:
            tick(50, 300)
            wake(1, 0)
            tick(30, 120)
            enter(1)           # preempts thread 0 (nested run)
            heap_work()
            tick(20, 200)
            wake(2, 1)
            tick(100, 800)
            emit("exit", thr=1)
        tick(100, 2000)
        emit("fiber_completed" if r % 7 == 6 else "fiber_yielded", thr=0, fiber=f)
        tick(50, 400)
        emit("exit", thr=0)
        if pending[2] is not None:
            tick(50, 400)
            enter(2)
            heap_work()
            tick(100, 900)
            emit("exit", thr=2)
        if r % 4 == 0:
            port = 0 if r % 8 else 2
            w.item(text_packets(rnd.choice(lines) + b"\n", port))
            truth.log_lines[port] += 1
    # free everything but a few blocks (leaks)
    for ptr in sorted(live)[:-3]:
        tick(5, 40)
        emit("free", ptr=ptr)
        truth.live -= live.pop(ptr)
    tick(10, 20)
    w.item(event_bytes(0x02, 30, (F_TS,), {"ts": ts & 0xFFFFFFFF}))
    assert ts < 1 << 32
    w.out += SYNC
    return bytes(w.out), truth


def nearest_rank(sorted_values, pct):
    """The P-th percentile by nearest rank (1-based rank ceil(P n / 100))."""
    n = len(sorted_values)
    rank = max(1, -(-pct * n // 100))
    return sorted_values[rank - 1]

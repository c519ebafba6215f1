"""Generated comb-framed ITM streams (trace-protocol/SPEC.md) for the capture
tests, together with what a lossless capture must store from them.

The framing is the firmware's: a sync packet starts the stream and goes in
again whenever another KiB has gone out (here only between two items, which a
host must accept as well); log lines on port 0 as 4-byte words with a 2- and/or
1-byte tail; events on ports 30 and 31 (header packet plus field packets).
Nothing is nested and event timestamps strictly increase, so stored events in
`seq` order have increasing `ts`.
"""
import random
import sqlite3

from combdb import connect_db

SYNC = b"\x00\x00\x00\x00\x00\x80"

# type, name, port, fields (name, kind): kind 2 = u16, 4 = u32, 0 = size (2 bytes below 65536, else 4)
EVENTS = [
    (0x08, "heap_alloc", 31, (("ptr", 4), ("size", 0), ("ts", 4))),
    (0x09, "heap_free", 31, (("ptr", 4), ("ts", 4))),
    (0x0B, "heap_resize", 31, (("ptr", 4), ("size", 0), ("ts", 4))),
    (0x11, "thread_enter", 30, (("thr", 2), ("ts", 4))),
    (0x12, "thread_exit", 30, (("thr", 2), ("ts", 4))),
    (0x14, "fiber_resumed", 30, (("thr", 2), ("fiber", 4), ("ts", 4))),
]
FIELD_NAMES = sorted({f for _, _, _, fields in EVENTS for f, _ in fields} | {"version", "core_hz", "ts_hz", "build_id_lo", "build_id_hi"})


def swit(port, size, value):
    return bytes([(port << 3) | (3 if size == 4 else size)]) + value.to_bytes(size, "little")


def text_packets(line: bytes, port=0):
    out = bytearray()
    i = 0
    while i + 4 <= len(line):
        out += swit(port, 4, int.from_bytes(line[i:i + 4], "little"))
        i += 4
    if len(line) - i >= 2:
        out += swit(port, 2, int.from_bytes(line[i:i + 2], "little"))
        i += 2
    if i < len(line):
        out += swit(port, 1, line[i])
    return bytes(out)


class Expected:
    """What the database must hold after a lossless capture."""

    def __init__(self, record=False):
        self.record = record
        self.event_list = []   # (name, values) in order, when recording
        self.line_list = []    # log line texts in order, when recording
        self.events = 0
        self.per_type = {}     # name -> [count, {field: sum}]
        self.log_lines = 0
        self.log_bytes = 0     # text bytes without the newlines
        self.stream_bytes = 0

    def add_event(self, name, values):
        if self.record:
            self.event_list.append((name, dict(values)))
        entry = self.per_type.setdefault(name, [0, {}])
        entry[0] += 1
        for f, v in values.items():
            entry[1][f] = entry[1].get(f, 0) + v
        self.events += 1


class Writer:
    def __init__(self):
        self.out = bytearray(SYNC)
        self.next_sync = 1024

    def item(self, data: bytes):
        if len(self.out) >= self.next_sync:
            self.out += SYNC
            self.next_sync = (len(self.out) // 1024 + 1) * 1024
        self.out += data


def event_bytes(etype, port, fields, values):
    out = bytearray(swit(port, 1, etype | (len(fields) << 5)))
    for (fname, kind) in fields:
        v = values[fname]
        size = kind if kind else (2 if v < 65536 else 4)
        out += swit(port, size, v)
    return bytes(out)


def generate(target_bytes, seed=1, text_share=0.5, session=True, session_end=None, record=False):
    """Returns (stream bytes, Expected). text_share: fraction of items that are log lines;
    session: begin with session_start and (unless session_end=False) end with session_end;
    record: keep every event and line in order in Expected."""
    if session_end is None:
        session_end = session
    rnd = random.Random(seed)
    exp = Expected(record)
    w = Writer()
    ts = 1000
    words = b"heap pool fiber thread alloc free ready wake sleep tick irq dma uart ok 0123456789".split()
    lines = []
    for _ in range(256):
        n = rnd.randrange(3, 9)
        text = b" ".join(rnd.choice(words) for _ in range(n))
        lines.append((text, text_packets(text + b"\n")))
    if session:
        start = {"version": 1, "core_hz": 25_000_000, "ts_hz": 25_000_000, "build_id_lo": 0x01234567,
                 "build_id_hi": 0x89ABCDEF, "ts": ts}
        fields = tuple((f, 2 if f == "version" else 4) for f in start)
        w.item(event_bytes(0x01, 30, fields, start))
        exp.add_event("session_start", start)
    while len(w.out) < target_bytes:
        if rnd.random() < text_share:
            text, packets = lines[rnd.randrange(len(lines))]
            w.item(packets)
            exp.log_lines += 1
            exp.log_bytes += len(text)
            if record:
                exp.line_list.append(text)
        else:
            etype, name, port, fields = EVENTS[rnd.randrange(len(EVENTS))]
            ts += rnd.randrange(1, 2000)
            values = {}
            for fname, kind in fields:
                if fname == "ts":
                    values[fname] = ts & 0xFFFFFFFF
                elif kind == 2:
                    values[fname] = rnd.randrange(0x10000)
                elif kind == 0:
                    values[fname] = rnd.randrange(65536, 1 << 20) if rnd.random() < 0.02 else rnd.randrange(1, 4096)
                else:
                    values[fname] = 0x20000000 + rnd.randrange(1 << 18) * 8
            w.item(event_bytes(etype, port, fields, values))
            exp.add_event(name, values)
    if session_end:
        ts += 1
        w.item(event_bytes(0x02, 30, (("ts", 4),), {"ts": ts & 0xFFFFFFFF}))
        exp.add_event("session_end", {"ts": ts & 0xFFFFFFFF})
    exp.stream_bytes = len(w.out)
    return bytes(w.out), exp


# ---- the database side (docs/schema.md); kept in one place so a schema change touches only this ----

def stored_summary(db_path, session_id=None):
    """Per event name: [count, {field: sum}] from the database, plus the session row and log totals."""
    con = connect_db(db_path, read_only=True)
    try:
        if session_id is None:
            session_id = con.execute("SELECT max(id) FROM session").fetchone()[0]
        cols = [d[0] for d in con.execute("SELECT * FROM session WHERE id=?", (session_id,)).description]
        row = dict(zip(cols, con.execute("SELECT * FROM session WHERE id=?", (session_id,)).fetchone()))
        sums = ", ".join(f"total(json_extract(fields, '$.{f}'))" for f in FIELD_NAMES)
        per_type = {}
        for r in con.execute(f"SELECT name, count(*), {sums} FROM trace_event WHERE session=? GROUP BY name",
                             (session_id,)):
            per_type[r[0]] = [r[1], {f: int(v) for f, v in zip(FIELD_NAMES, r[2:]) if v}]
        events = con.execute("SELECT count(*) FROM trace_event WHERE session=?", (session_id,)).fetchone()[0]
        # order: timestamps strictly increase in seq order (nothing is nested in these streams)
        not_increasing = con.execute(
            "SELECT count(*) FROM (SELECT ts - lag(ts) OVER (ORDER BY seq) AS d FROM trace_event WHERE session=?)"
            " WHERE d <= 0", (session_id,)).fetchone()[0]
        lines, text = con.execute("SELECT count(*), total(length(text)) FROM log_line WHERE session=?",
                                  (session_id,)).fetchone()
        integrity = con.execute("PRAGMA integrity_check").fetchone()[0]
        return {"session": row, "per_type": per_type, "events": events, "not_increasing": not_increasing,
                "log_lines": lines, "log_bytes": int(text), "integrity": integrity}
    finally:
        con.close()


def expected_summary(exp: Expected):
    return {name: [c, {f: v for f, v in sums.items() if v}] for name, (c, sums) in exp.per_type.items()}


def session_counters(db_path):
    """The latest session row's counters as last checkpointed, or None (read-only, while comb runs)."""
    try:
        con = connect_db(db_path, read_only=True, timeout=5)
    except sqlite3.Error:
        return None
    try:
        r = con.execute("SELECT bytes, events, log_lines FROM session ORDER BY id DESC LIMIT 1").fetchone()
        return None if r is None else {"bytes": r[0], "events": r[1], "log_lines": r[2]}
    except sqlite3.Error:
        return None
    finally:
        con.close()


def stored_events(db_path, session_id=None):
    """[(name, {field: value})] in seq order, and the log line texts in seq order."""
    import json
    con = connect_db(db_path, read_only=True)
    try:
        if session_id is None:
            session_id = con.execute("SELECT max(id) FROM session").fetchone()[0]
        events = [(r[0], json.loads(r[1])) for r in
                  con.execute("SELECT name, fields FROM trace_event WHERE session=? ORDER BY seq", (session_id,))]
        lines = [bytes(r[0]) for r in
                 con.execute("SELECT text FROM log_line WHERE session=? ORDER BY seq", (session_id,))]
        return events, lines
    finally:
        con.close()


def tpiu_format(streams, seed=1, sync_every=8, half_syncs=True):
    """Wraps byte streams {trace_id: bytes} in TPIU/CoreSight formatter frames
    (itm-protocol.md section 11): runs of each ID interleaved, ID changes in the
    immediate or delayed form, a full sync FF FF FF 7F every `sync_every` frames
    (and first), some half syncs FF 7F between byte pairs, ID 0 padding at the end."""
    rnd = random.Random(seed)
    pos = {i: 0 for i in streams}
    items = []
    while any(pos[i] < len(streams[i]) for i in streams):
        i = rnd.choice([k for k in streams if pos[k] < len(streams[k])])
        n = rnd.randrange(1, 41)
        items.extend((i, b) for b in streams[i][pos[i]:pos[i] + n])
        pos[i] += n
    out = bytearray()
    frame = bytearray(16)
    state = {"p": 0, "cur": -1, "frames": 0}

    def flush():
        if state["frames"] % sync_every == 0:
            out.extend(b"\xff\xff\xff\x7f")
        for k in range(0, 16, 2):
            if half_syncs and rnd.random() < 0.03:
                out.extend(b"\xff\x7f")
            out.extend(frame[k:k + 2])
        state["frames"] += 1
        state["p"] = 0
        frame[:] = bytes(16)

    def mixed_id(i, aux):
        p = state["p"]
        frame[p] = (i << 1) | 1
        frame[15] |= aux << (p // 2)
        state["p"] += 1

    def mixed_data(b):
        p = state["p"]
        frame[p] = b & 0xFE
        frame[15] |= (b & 1) << (p // 2)
        state["p"] += 1

    def data(b):
        frame[state["p"]] = b
        state["p"] += 1

    k = 0
    n = len(items)
    while k < n or state["p"] != 0:
        if state["p"] == 15:
            flush()
            continue
        cur_id, cur_b = items[k] if k < n else (0, 0)
        nxt_id, nxt_b = items[k + 1] if k + 1 < n else (0, 0)
        if state["p"] == 14:
            if cur_id != state["cur"]:
                mixed_id(cur_id, rnd.randrange(2))
                state["cur"] = cur_id
            else:
                mixed_data(cur_b)
                k += 1
            continue
        if cur_id != state["cur"]:
            mixed_id(cur_id, 0)
            state["cur"] = cur_id
            data(cur_b)
            k += 1
        elif nxt_id != state["cur"]:
            mixed_id(nxt_id, 1)
            data(cur_b)
            state["cur"] = nxt_id
            k += 1
        else:
            mixed_data(cur_b)
            data(nxt_b)
            k += 2
    return bytes(out)

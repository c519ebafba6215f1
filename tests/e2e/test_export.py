"""comb export end to end, on the synthetic session of dashboard_streams.py
captured by the real `comb log --db`:

- perfetto: the file is Chrome trace-event JSON that a validator written here
  from the format's description accepts (required fields per phase, B/E
  balanced per track, timestamps never decreasing along a track, flow starts
  and ends paired, counters numeric, metadata well-formed), and it holds the
  session: a slice per run and fiber run, an arrow per wakeup, the heap's
  bytes in use peaking at the session's peak, every log line;
- csv: each table's rows, RFC 4180 quoting that Python's csv module reads back;
- bad input: one line on stderr and a non-zero status.
"""
import csv
import io
import json
import subprocess

import pytest

import dashboard_streams as ds
from combdb import connect_db


@pytest.fixture(scope="module")
def session(comb, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("export")
    stream, truth = ds.generate(rounds=300, seed=11)
    (tmp / "stream.bin").write_bytes(stream)
    db = tmp / "session.db"
    log = subprocess.run([comb, "log", "--db", str(db), "--no-ack", f"file:{tmp / 'stream.bin'}", ":0:2"],
                         capture_output=True, timeout=60)
    assert log.returncode == 0, log.stderr
    return db, truth, tmp


REQUIRED = {
    "B": {"name", "ts", "pid", "tid"}, "E": {"ts", "pid", "tid"}, "X": {"name", "ts", "dur", "pid", "tid"},
    "i": {"name", "ts", "pid", "s"}, "C": {"name", "ts", "pid", "args"}, "M": {"name", "pid", "args"},
    "s": {"name", "cat", "id", "ts", "pid", "tid"}, "f": {"name", "cat", "id", "ts", "pid", "tid"},
}


def validate_trace(doc):
    """Trace-event format checks; returns the events grouped for the content checks."""
    assert isinstance(doc, dict) and isinstance(doc.get("traceEvents"), list)
    assert doc.get("displayTimeUnit") in ("ms", "ns")
    stacks, last_ts, flows_open, flows_done = {}, {}, {}, set()
    counters_last = {}
    for n, e in enumerate(doc["traceEvents"]):
        ph = e.get("ph")
        assert ph in REQUIRED, f"event {n}: phase {ph!r}"
        missing = REQUIRED[ph] - e.keys()
        assert not missing, f"event {n} ({ph}): missing {missing}"
        assert isinstance(e["pid"], int) and ("tid" not in e or isinstance(e["tid"], int))
        if ph == "M":
            assert e["name"] in ("process_name", "thread_name", "process_sort_index", "thread_sort_index")
            continue
        ts = e["ts"]
        assert isinstance(ts, (int, float)) and ts >= 0
        if ph == "C":
            key = (e["pid"], e["name"])
            assert ts >= counters_last.get(key, -1), f"event {n}: counter time goes back"
            counters_last[key] = ts
            assert e["args"] and all(isinstance(v, (int, float)) for v in e["args"].values())
            continue
        track = (e["pid"], e.get("tid"))
        if ph != "i" or e["s"] == "t":
            assert ts >= last_ts.get(track, -1), f"event {n}: time goes back on track {track}"
            last_ts[track] = ts
        if ph == "B":
            stacks.setdefault(track, []).append(e["name"])
        elif ph == "E":
            assert stacks.get(track), f"event {n}: E without B on {track}"
            stacks[track].pop()
        elif ph == "X":
            assert e["dur"] >= 0
        elif ph == "i":
            assert e["s"] in ("t", "p", "g")
        elif ph == "s":
            key = (e["id"], e["cat"], e["name"])
            assert key not in flows_open and key not in flows_done, f"event {n}: flow id reused"
            flows_open[key] = ts
        elif ph == "f":
            key = (e["id"], e["cat"], e["name"])
            assert key in flows_open, f"event {n}: flow end without start"
            assert e.get("bp") == "e" and ts >= flows_open.pop(key)
            flows_done.add(key)
    assert all(not s for s in stacks.values()), f"unbalanced B/E: {stacks}"
    assert not flows_open, f"{len(flows_open)} flows never end"
    return flows_done


def test_perfetto_is_valid_and_holds_the_session(comb, session, tmp_path):
    db, truth, tmp = session
    out = tmp_path / "trace.json"
    res = subprocess.run([comb, "export", "perfetto", "--db", str(db), "-o", str(out)],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert "trace events" in res.stderr
    doc = json.loads(out.read_text())
    flows = validate_trace(doc)
    ev = doc["traceEvents"]
    names = {(e["pid"], e["tid"]): e["args"]["name"] for e in ev if e["ph"] == "M" and e["name"] == "thread_name"}
    assert names[(1, 1)] == "thread 0" and names[(1, 2)] == "thread 1" and names[(1, 3)] == "thread 2"
    assert names[(1, 65537)] == "thread mode / other interrupts"  # thr is 16 bits: thread mode is past them
    assert names[(2, 1)] == "log port 0" and names[(2, 3)] == "log port 2"
    runs = [e for e in ev if e["ph"] == "B" and e["cat"] == "run"]
    for thr in (0, 1, 2):
        assert sum(1 for e in runs if e["tid"] == thr + 1) == truth.runs[thr]
    assert sum(1 for e in ev if e["ph"] == "B" and e["cat"] == "fiber") == truth.fiber_runs
    assert len(flows) == sum(truth.wakeups.values())
    # thread 1 preempts thread 0: its arrow starts inside thread 0's run
    starts = [e for e in ev if e["ph"] == "s"]
    assert {e["tid"] for e in starts} == {65537, 1, 2}
    heap = [e["args"]["bytes in use"] for e in ev if e["ph"] == "C" and e["name"] == "heap"]
    assert len(heap) == sum(1 for k, _, _ in truth.events if k in ("alloc", "free"))
    assert max(heap) == truth.peak and heap[-1] == truth.live
    logs = [e for e in ev if e["ph"] == "i" and e.get("cat") == "log"]
    assert len(logs) == sum(truth.log_lines.values())
    assert all(e["args"]["text"].startswith(("sensor", "tx queue")) for e in logs)
    # µs of session time: the first wakeup is where the generator put it
    first_wakeup = next(ts for k, ts, _ in truth.events if k == "wakeup")
    assert min(e["ts"] for e in ev if e["ph"] == "X") == pytest.approx((first_wakeup - truth.start_ts) / 25, abs=1e-3)


def test_csv_tables(comb, session):
    db, truth, tmp = session
    con = connect_db(db)
    for table, sql_table in (("heap", "heap_event"), ("sched", "sched_event"), ("log", "log_line")):
        res = subprocess.run([comb, "export", "csv", "--db", str(db), "--table", table],
                             capture_output=True, timeout=60)
        assert res.returncode == 0, res.stderr
        rows = list(csv.reader(io.StringIO(res.stdout.decode())))
        assert len(rows) - 1 == con.execute(f"SELECT count(*) FROM {sql_table}").fetchone()[0]
        if table == "sched":
            assert rows[0] == ["seq", "offset", "t_s", "kind", "ts", "thr", "from_thr", "fiber", "depth"]
            times = [float(r[2]) for r in rows[1:]]
            assert times == sorted(times)
            first = next((k, ts) for k, ts, _ in truth.events if k != "alloc" and k != "free")
            assert rows[1][3] == first[0] and int(rows[1][4]) == first[1]
            assert float(rows[1][2]) == pytest.approx((first[1] - truth.start_ts) / ds.TS_HZ)
        elif table == "heap":
            kinds = [r[3] for r in rows[1:]]
            assert kinds == [k for k, _, _ in truth.events if k in ("alloc", "free")]
        else:
            assert rows[0] == ["seq", "port", "host_ns", "host_s", "itm_ts", "text"]
            assert sorted(r[5] for r in rows[1:]) == sorted(
                bytes(t).decode() for (t,) in con.execute("SELECT text FROM log_line"))
    con.close()


def test_csv_quoting_round_trip(comb, tmp_path):
    """Log text with commas, quotes, CR and bytes that are not UTF-8 comes back byte for byte."""
    from itm_stream import SYNC, text_packets
    lines = [b'a,b "c"', b"semi;colon\r", b"\xff\xfe raw", b"  spaced  "]
    stream = SYNC + b"".join(text_packets(t + b"\n") for t in lines)
    (tmp_path / "s.bin").write_bytes(stream)
    db = tmp_path / "q.db"
    subprocess.run([comb, "log", "--db", str(db), "--no-ack", "--assume-sync", f"file:{tmp_path / 's.bin'}", ":1"],
                   capture_output=True, check=True, timeout=60)
    out = tmp_path / "log.csv"
    res = subprocess.run([comb, "export", "csv", "--db", str(db), "--table", "log", "-o", str(out)],
                         capture_output=True, timeout=60)
    assert res.returncode == 0, res.stderr
    with open(out, newline="", encoding="latin-1") as f:
        rows = list(csv.reader(f))
    assert [r[5].encode("latin-1") for r in rows[1:]] == lines


@pytest.mark.parametrize("args, message", [
    (["csv", "--table", "heap"], "--db FILE is required"),
    (["csv", "--db", "DB"], "give one of --table heap|sched|log or --plots DIR"),
    (["csv", "--db", "DB", "--table", "trace"], "--table is heap, sched or log, not 'trace'"),
    (["csv", "--db", "DB", "--table", "heap", "--plots", "X"], "give one of"),
    (["csv", "--db", "DB", "--table", "heap", "--from", "1"], "--layout, --from, --to and --elf go with --plots"),
    (["csv", "--db", "DB", "--table", "heap", "-o", "/nonexistent/x.csv"], "cannot write /nonexistent/x.csv"),
    (["perfetto", "--db", "DB", "--session", "0"], "--session needs a session number, not '0'"),
    (["perfetto", "--db", "DB", "--session", "4"], "no session 4 (sessions 1 to 1)"),
    (["perfetto", "--db", "DB", "extra"], "unexpected argument 'extra'"),
    (["json", "--db", "DB"], "unknown format 'json': give csv or perfetto"),
    ([], "comb export: give csv or perfetto (comb export --help)"),
])
def test_bad_input(comb, session, args, message):
    db, truth, tmp = session
    args = [str(db) if a == "DB" else a for a in args]
    res = subprocess.run([comb, "export", *args], capture_output=True, text=True, timeout=60)
    assert res.returncode != 0
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("comb export"), res.stderr
    assert message in lines[0]

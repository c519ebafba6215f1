"""Schema v5's heap_event and sched_event (virtual tables of the `comb_events`
module over the heap_block / sched_block tables) read from outside comb: the
sqlite3 shell with the loadable extension <build>/host/libcomb_sqlite, the same
shell without it, and comb itself (which registers the module on its own).

Input: two synthetic sessions of dashboard_streams (scheduler workload with heap
traffic and log lines), captured into one fresh database by the real `comb log`;
every expected row comes from the generated streams.
"""
import csv
import io
import json
import re
import shutil
import subprocess

import pytest

import dashboard_streams as ds
from combdb import connect_db, extension_path

STREAMS = ((21, 1500), (22, 600))  # (seed, rounds): session 1 spans several full event blocks
HEAP_KINDS = ("alloc", "free")     # dashboard_streams' port-31 events; every other one is a scheduler event


def heap_rows(truth):
    """(kind, ts, ptr, size) of the stream's heap events, in stream order."""
    return [(k, ts, v["ptr"], v.get("size")) for k, ts, v in truth.events if k in HEAP_KINDS]


def sched_rows(truth):
    """(kind, ts, thr, from_thr, fiber) of the stream's scheduler events, in stream order."""
    rows = []
    for k, ts, v in truth.events:
        if k in HEAP_KINDS:
            continue
        if k == "wakeup":
            rows.append((k, ts, v["ids"] & 0xFF, v["ids"] >> 8, None))
        else:
            rows.append((k, ts, v["thr"], None, v.get("fiber")))
    return rows


@pytest.fixture(scope="module")
def captured(comb, tmp_path_factory):
    """(db, {session id: Truth}): the streams captured one after the other into one database."""
    tmp = tmp_path_factory.mktemp("sqlite_ext")
    db = tmp / "sessions.db"
    sessions = {}
    for seed, rounds in STREAMS:
        stream, truth = ds.generate(rounds=rounds, seed=seed)
        src = tmp / f"stream-{seed}.bin"
        src.write_bytes(stream)
        log = subprocess.run([comb, "log", "--db", str(db), "--no-ack", f"file:{src}", ":0:2"],
                             capture_output=True, text=True, timeout=60)
        assert log.returncode == 0, log.stderr
        m = re.search(r"session (\d+):", log.stderr)
        assert m, log.stderr
        sessions[int(m.group(1))] = truth
    assert len(sessions) == len(STREAMS)
    return db, sessions


@pytest.fixture(scope="module")
def sqlite3_shell():
    path = shutil.which("sqlite3")
    if not path:
        pytest.fail("the sqlite3 shell is not installed (scripts/bootstrap.sh installs the Debian package sqlite3)")
    return path


@pytest.fixture(scope="module")
def shell(sqlite3_shell):
    """Runs SQL in the sqlite3 shell (JSON output mode), with the extension loaded as the
    docs say (`.load <build>/host/libcomb_sqlite`, SQLite adds the .so) unless load=False."""
    ext = extension_path()
    if not ext.exists():
        pytest.fail(f"the comb SQLite extension is not built at {ext} (build the CMake target comb_sqlite)")

    def run(db, sql, load=True, mode="-json"):
        args = [sqlite3_shell, "-batch", "-bail", mode]
        if load:
            args += ["-cmd", f".load '{ext.with_suffix('')}'"]
        return subprocess.run([*args, str(db), sql], capture_output=True, text=True, timeout=60)

    return run


def shell_rows(shell, db, sql):
    res = shell(db, sql)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout) if res.stdout.strip() else []


def test_shell_with_the_extension_reads_every_event_in_seq_order(shell, captured):
    db, sessions = captured
    heap_counts = {r["session"]: r["n"] for r in
                   shell_rows(shell, db, "SELECT session, count(*) AS n FROM heap_event GROUP BY session")}
    sched_counts = {r["session"]: r["n"] for r in
                    shell_rows(shell, db, "SELECT session, count(*) AS n FROM sched_event GROUP BY session")}
    assert heap_counts == {sid: len(heap_rows(t)) for sid, t in sessions.items()}
    assert sched_counts == {sid: len(sched_rows(t)) for sid, t in sessions.items()}
    for sid, truth in sessions.items():
        heap = shell_rows(shell, db, f"SELECT seq, kind, ts, ptr, size FROM heap_event WHERE session={sid} "
                                     "ORDER BY seq")
        seqs = [r["seq"] for r in heap]
        assert all(a < b for a, b in zip(seqs, seqs[1:])), f"session {sid}: heap seq not strictly increasing"
        assert [(r["kind"], r["ts"], r["ptr"], r["size"]) for r in heap] == heap_rows(truth)
        sched = shell_rows(shell, db, f"SELECT seq, kind, ts, thr, from_thr, fiber FROM sched_event "
                                      f"WHERE session={sid} ORDER BY seq")
        seqs = [r["seq"] for r in sched]
        assert all(a < b for a, b in zip(seqs, seqs[1:])), f"session {sid}: sched seq not strictly increasing"
        assert [(r["kind"], r["ts"], r["thr"], r["from_thr"], r["fiber"]) for r in sched] == sched_rows(truth)
        # one seq numbering over both tables: merged by seq they give the stream's event order
        merged = sorted([(r["seq"], r["kind"]) for r in heap] + [(r["seq"], r["kind"]) for r in sched])
        assert [k for _, k in merged] == [k for k, _, _ in truth.events]


def test_shell_without_the_extension_names_the_missing_module(shell, captured):
    db, sessions = captured
    for sql in ("SELECT seq FROM heap_event WHERE session=1 ORDER BY seq",
                "SELECT count(*) FROM sched_event",
                "SELECT count(*) FROM trace_event"):  # the view reads the virtual tables
        res = shell(db, sql, load=False)
        assert res.returncode != 0, sql
        assert "no such module: comb_events" in res.stderr, (sql, res.stderr)
    res = shell(db, "SELECT count(*) FROM session", load=False, mode="-list")
    assert res.returncode == 0, res.stderr
    assert int(res.stdout) == len(sessions)
    # the events themselves are in ordinary tables, readable by any SQLite
    res = shell(db, "SELECT count(*) FROM heap_block; SELECT count(*) FROM sched_block", load=False, mode="-list")
    assert res.returncode == 0, res.stderr
    assert all(int(n) > 0 for n in res.stdout.split())


def test_virtual_tables_serve_session_and_seq_order_without_a_sort(shell, captured):
    db, _ = captured

    def plan(sql):
        res = shell(db, "EXPLAIN QUERY PLAN " + sql, mode="-list")
        assert res.returncode == 0, res.stderr
        return res.stdout

    for table in ("heap_event", "sched_event"):
        for sql in (f"SELECT * FROM {table} WHERE session = 1 ORDER BY seq",
                    f"SELECT * FROM {table} ORDER BY session, seq"):
            text = plan(sql)
            assert f"SCAN {table} VIRTUAL TABLE" in text, (sql, text)
            assert "USE TEMP B-TREE" not in text, (sql, text)
        # an order the blocks do not have still needs SQLite's sort: the check above can see one
        text = plan(f"SELECT * FROM {table} WHERE session = 1 ORDER BY ts DESC")
        assert "USE TEMP B-TREE" in text, text


def test_comb_reads_the_file_with_its_own_module(comb, captured):
    db, sessions = captured

    def export(sid, table):
        res = subprocess.run([comb, "export", "csv", "--db", str(db), "--session", str(sid), "--table", table],
                             capture_output=True, text=True, timeout=60)
        assert res.returncode == 0, res.stderr
        return list(csv.DictReader(io.StringIO(res.stdout)))

    def num(s):
        return int(s) if s != "" else None

    for sid, truth in sessions.items():
        heap = export(sid, "heap")
        assert [(r["kind"], num(r["ts"]), num(r["ptr"]), num(r["size"])) for r in heap] == heap_rows(truth)
        sched = export(sid, "sched")
        assert [(r["kind"], num(r["ts"]), num(r["thr"]), num(r["from_thr"]), num(r["fiber"])) for r in sched] \
            == sched_rows(truth)
        res = subprocess.run([comb, "heap", "report", "--db", str(db), "--session", str(sid), "--json"],
                             capture_output=True, text=True, timeout=60)
        assert res.returncode == 0, res.stderr
        report = json.loads(res.stdout)
        assert report["session"] == sid
        events = report["report"]["events"]
        assert (events["alloc"], events["free"]) == tuple(sum(1 for r in heap_rows(truth) if r[0] == k)
                                                          for k in HEAP_KINDS)
        assert report["report"]["peak_bytes"]["bytes"] == truth.peak


def test_python_helper_opens_read_only_with_the_module(captured):
    db, sessions = captured
    con = connect_db(db, read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM heap_event").fetchone()[0] == \
            sum(len(heap_rows(t)) for t in sessions.values())
        with pytest.raises(Exception, match="readonly"):
            con.execute("INSERT INTO session(started_at, source, settings) VALUES ('x', 'y', '{}')")
    finally:
        con.close()

"""The spine, end to end: the real hello firmware in QEMU, captured by the real
`comb log`, decoded by the real decoder, stored in a real SQLite file. The
firmware tests run on every QEMU board (conftest `board`)."""
import re
import sqlite3
import subprocess
import time

import pytest

from combdb import connect_db
from conftest import capture_over_pty


def run_log(comb, args, timeout=60):
    return subprocess.run([comb, "log", *args], capture_output=True, timeout=timeout)


def session_rows(db):
    con = connect_db(db)
    con.row_factory = sqlite3.Row
    try:
        return con, con.execute("SELECT * FROM session ORDER BY id").fetchall()
    except Exception:
        con.close()
        raise


def test_hello_over_socket_reaches_stdout_and_database(comb, firmware, qemu_socket, tmp_path, board):
    db = tmp_path / "s.db"
    q = qemu_socket(firmware("hello", board), board=board)
    res = run_log(comb, ["--db", str(db), f"unix:{q.sock}"])
    rc = q.wait()
    assert res.returncode == 0, res.stderr.decode()
    assert res.stdout.decode() == "Hello, world!\n"
    # the firmware exits with 0 only after it received the host's acknowledgement
    assert rc == 0
    summary = res.stderr.decode()
    assert re.search(r"0 decode errors", summary), summary

    con, sessions = session_rows(db)
    assert len(sessions) == 1
    s = sessions[0]
    assert s["source"] == f"unix:{q.sock}"
    assert s["protocol_version"] == 1
    assert s["core_hz"] == board.core_hz and s["ts_hz"] == board.ts_hz
    assert re.fullmatch(r"[0-9a-f]{16}", s["build_id"]) and s["build_id"] != "0" * 16
    assert s["end_reason"] == "end_of_input"
    assert s["acks"] == 1
    assert s["decode_errors"] == 0 and s["trace_errors"] == 0
    lines = con.execute("SELECT port, text FROM log_line WHERE session=? ORDER BY seq", (s["id"],)).fetchall()
    assert [(r["port"], bytes(r["text"])) for r in lines] == [(0, b"Hello, world!")]
    names = [r[0] for r in con.execute("SELECT name FROM trace_event WHERE session=? ORDER BY seq", (s["id"],))]
    assert names == ["session_start", "session_end"]
    ts = [r[0] for r in con.execute("SELECT ts FROM trace_event WHERE session=? ORDER BY seq", (s["id"],))]
    assert ts[0] < ts[1], "timestamps must advance from start to end"
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()


def test_hello_build_id_matches_elf(comb, firmware, qemu_socket, tmp_path, board):
    """The build id the firmware announces is the one in its ELF note."""
    elf = firmware("hello", board)
    note = subprocess.run(["arm-none-eabi-readelf", "-n", elf], capture_output=True, text=True).stdout
    m = re.search(r"Build ID: ([0-9a-f]+)", note)
    assert m, note
    db = tmp_path / "s.db"
    q = qemu_socket(elf, board=board)
    assert run_log(comb, ["--db", str(db), "--quiet", f"unix:{q.sock}"]).returncode == 0
    q.wait()
    con = connect_db(db)
    (build_id,) = con.execute("SELECT build_id FROM session").fetchone()
    con.close()
    first8 = bytes.fromhex(m.group(1))[:8]
    lo, hi = int.from_bytes(first8[:4], "little"), int.from_bytes(first8[4:], "little")
    assert build_id == f"{hi:08x}{lo:08x}"


def test_hello_over_pty(comb, firmware, qemu, tmp_path, board):
    """Capture through a pty, as from a USB-UART. QEMU drops what the guest writes
    while nobody has the pty open, so QEMU starts paused (-S) and is resumed from
    its monitor once comb holds the pty. At exit a pty loses the tail of the
    stream if QEMU quits right after writing; the SESSION_END acknowledgement
    makes the firmware wait, so nothing is lost."""
    db = tmp_path / "p.db"
    rc, log = capture_over_pty(qemu, comb, firmware("hello", board), db, tmp_path, timeout=30, board=board)
    out, err = log.stdout, log.stderr
    assert out.decode() == "Hello, world!\n", err.decode()
    assert rc == 0
    con = connect_db(db)
    assert con.execute("SELECT count(*) FROM log_line").fetchone()[0] == 1
    assert con.execute("SELECT end_reason, acks FROM session").fetchone() == ("device_lost", 1)
    con.close()


def test_ctrl_c_leaves_a_valid_database(comb, tmp_path):
    """SIGINT mid-capture: the session is closed and everything decoded so far is there."""
    import os
    import signal
    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)
    db = tmp_path / "c.db"
    proc = subprocess.Popen([comb, "log", "--db", str(db), f"file:{fifo}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with open(fifo, "wb", buffering=0) as w:
        w.write(bytes([0, 0, 0, 0, 0, 0x80]) + b"".join(bytes([0x01, c]) for c in b"line one\nline two\n"))
        time.sleep(0.6)  # longer than the 250 ms commit period
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err.decode()
    assert out.decode() == "line one\nline two\n"
    assert "interrupted" in err.decode()
    con = connect_db(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = con.execute("SELECT text FROM log_line ORDER BY seq").fetchall()
    assert [bytes(r[0]) for r in rows] == [b"line one", b"line two"]
    assert con.execute("SELECT end_reason, bytes FROM session").fetchone() == ("interrupted", 6 + 36)
    con.close()


@pytest.mark.parametrize("source,message", [
    ("bogus", "bad source 'bogus'"),
    ("file:/nonexistent/x.bin", "cannot open /nonexistent/x.bin"),
    ("unix:/nonexistent/x.sock", "unix:/nonexistent/x.sock: cannot connect"),
    ("tcp:localhost", "expected tcp:HOST:PORT"),
    ("serial:/dev/nonexistent-tty@115200", "serial:/dev/nonexistent-tty: cannot open"),
    ("serial:/dev/null@abc", "bad baud rate 'abc'"),
])
def test_bad_sources_fail_with_one_clear_line(comb, source, message):
    res = subprocess.run([comb, "log", source], capture_output=True, text=True, timeout=10)
    assert res.returncode != 0
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], res.stderr


@pytest.mark.parametrize("output,message", [
    (":32", "port 32 is out of range"),
    (":x", "'x' is not a port number"),
    ("f.bin::1", "'' is not a port number"),
])
def test_bad_outputs_fail_with_one_clear_line(comb, tmp_path, output, message):
    src = tmp_path / "empty.bin"
    src.write_bytes(b"")
    res = subprocess.run([comb, "log", f"file:{src}", output], capture_output=True, text=True, timeout=10)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], res.stderr


def test_output_selectors_route_ports(comb, tmp_path):
    """Drone's selector syntax: files get the raw payload of their ports; no port = all ports."""
    stream = bytes([0, 0, 0, 0, 0, 0x80])
    stream += bytes([0x01, ord("a")]) + bytes([0x09, ord("e")])          # port 0 'a', port 1 'e'
    stream += bytes([0xFB, 0x55, 0xCE, 0xAC, 0x64])                      # port 31 word (a Drone heap word)
    stream += bytes([0x13, 1, 2, 3, 4])                                  # port 2 word
    src = tmp_path / "in.bin"
    src.write_bytes(stream)
    heap, all_, two = tmp_path / "heap.bin", tmp_path / "all.bin", tmp_path / "two.bin"
    heap.write_bytes(b"old contents that must be truncated")
    res = subprocess.run([comb, "log", "--quiet", f"file:{src}", ":1", f"{heap}:31", str(all_), f"{two}:2:0"],
                         capture_output=True, timeout=10)
    assert res.returncode == 0, res.stderr
    assert res.stdout == b"e"
    assert heap.read_bytes() == bytes([0x55, 0xCE, 0xAC, 0x64])
    assert all_.read_bytes() == b"ae" + bytes([0x55, 0xCE, 0xAC, 0x64, 1, 2, 3, 4])
    assert two.read_bytes() == b"a" + bytes([1, 2, 3, 4])


def test_garbage_input_is_counted_not_fatal(comb, tmp_path):
    import random
    rng = random.Random(1234)
    good = bytes([0, 0, 0, 0, 0, 0x80]) + b"".join(bytes([0x01, c]) for c in b"ok\n")
    stream = bytes(rng.randrange(256) for _ in range(5000)) + good
    src = tmp_path / "g.bin"
    src.write_bytes(stream)
    db = tmp_path / "g.db"
    res = subprocess.run([comb, "log", "--db", str(db), f"file:{src}"], capture_output=True, timeout=20)
    assert res.returncode == 0, res.stderr
    assert res.stdout.endswith(b"ok\n")
    con = connect_db(db)
    errors, skipped = con.execute("SELECT decode_errors, bytes_skipped FROM session").fetchone()
    assert errors >= 1 and skipped >= 1
    assert con.execute("SELECT count(*) FROM decode_error").fetchone()[0] == errors
    con.close()

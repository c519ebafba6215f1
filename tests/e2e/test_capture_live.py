"""`comb log` in live use: TPIU deformatting (--tpiu) and the warning for a
formatted capture read without it, the status line on a terminal (a pty) and
its absence elsewhere, the wrong-baud-rate hint, SIGINT and SIGTERM mid-capture, a
device that vanishes (pty master closed), a device already in use, and a database
that fails mid-capture, each checked against the database.
"""
import os
import re
import signal
import socket
import subprocess
import threading
import time
import tty

import pytest

import itm_stream
from combdb import connect_db
from conftest import SHARED, holds_open, wait_for

CSFORMAT = "opencsd-itm/itm_only_csformat/itm_testdata_ID_0x14.bin"
RAW = "opencsd-itm/itm_only_raw/itm_testdata.bin"


def corpus(name):
    return SHARED / "corpora" / name


def stderr_lines(res):
    return res.stderr.decode().strip().splitlines()


# ---- --tpiu ---------------------------------------------------------------------------------

def test_tpiu_opencsd_corpus_decodes_like_the_raw_capture(comb, tmp_path):
    """ID 0x14 of the formatted OpenCSD capture is the raw capture, byte for byte: the same
    payload reaches the outputs and the same counts are reported."""
    out_f, out_r = tmp_path / "f.bin", tmp_path / "r.bin"
    f = subprocess.run([comb, "log", "--tpiu", "0x14", f"file:{corpus(CSFORMAT)}", str(out_f)],
                       capture_output=True, timeout=30)
    r = subprocess.run([comb, "log", f"file:{corpus(RAW)}", str(out_r)], capture_output=True, timeout=30)
    assert f.returncode == 0 and r.returncode == 0, (f.stderr, r.stderr)
    assert out_f.read_bytes() == out_r.read_bytes() and out_r.read_bytes()
    fs, rs = stderr_lines(f), stderr_lines(r)
    assert len(fs) == 1 and len(rs) == 1
    assert "tpiu ID 20: 18 frames, 0 bytes of other IDs, 0 realigned" in fs[0]
    # the same counters up to the TPIU part of the summary
    assert fs[0].split("; tpiu")[0] == rs[0].split("; end_of_input")[0]


def test_tpiu_multiplexed_stream_is_lossless(comb, tmp_path):
    """A comb session under trace ID 1 interleaved with another source (ID 2) in formatter
    frames with full and half syncs: every event and line of ID 1 is stored."""
    data, exp = itm_stream.generate(400_000, seed=11)
    framed = itm_stream.tpiu_format({1: data, 2: os.urandom(50_000)}, seed=12)
    src = tmp_path / "framed.bin"
    src.write_bytes(framed)
    db = tmp_path / "t.db"
    res = subprocess.run([comb, "log", "--db", str(db), "--tpiu", "1", f"file:{src}"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
    assert res.returncode == 0, res.stderr
    lines = res.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "0 decode errors" in lines[0] and "50000 bytes of other IDs" in lines[0], lines
    got = itm_stream.stored_summary(db)
    assert got["integrity"] == "ok"
    assert got["events"] == exp.events and got["log_lines"] == exp.log_lines
    assert got["per_type"] == itm_stream.expected_summary(exp)
    assert '"tpiu":1' in got["session"]["settings"]


def test_formatted_capture_without_tpiu_warns_once(comb, tmp_path):
    data, _ = itm_stream.generate(50_000, seed=13)
    src = tmp_path / "framed.bin"
    src.write_bytes(itm_stream.tpiu_format({1: data}, seed=14))
    res = subprocess.run([comb, "log", f"file:{src}"], capture_output=True, timeout=60)
    assert res.returncode == 0
    lines = stderr_lines(res)
    assert len(lines) == 2, lines
    assert "TPIU formatter syncs" in lines[0] and "--tpiu" in lines[0]
    assert lines[1].startswith("comb log: ")
    # a raw capture: no warning
    raw = tmp_path / "raw.bin"
    raw.write_bytes(data)
    res = subprocess.run([comb, "log", f"file:{raw}"], capture_output=True, timeout=60)
    assert len(stderr_lines(res)) == 1


@pytest.mark.parametrize("arg,message", [
    ("0", "bad trace ID '0'"),
    ("0x70", "bad trace ID '0x70'"),
    ("abc", "bad trace ID 'abc'"),
    (None, "--tpiu needs a trace ID"),
])
def test_bad_tpiu_id_fails_with_one_clear_line(comb, tmp_path, arg, message):
    args = [comb, "log", "--tpiu"] + ([arg, "file:/dev/null"] if arg is not None else [])
    res = subprocess.run(args, capture_output=True, text=True, timeout=10)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], res.stderr


@pytest.mark.parametrize("source,message", [
    ("ftdi:", "ftdi: no FTDI UART"),
    ("ftdi:0403:6014/NOSUCH@3000000", "no 0403:6014 with serial number 'NOSUCH' is connected"),
    ("ftdi:0403:6014@20000000", "out of range"),
    ("ftdi:0403", "expected ftdi:[VID:PID[:IF]][/SERIAL][@BAUD]"),
    ("bmp:", "bmp: no Black Magic Probe is connected"),
    ("bmp:NOSUCH", "no Black Magic Probe with serial number 'NOSUCH'"),
    ("bmp:a/b", "expected bmp: or bmp:SERIAL"),
])
def test_usb_sources_without_hardware_fail_with_one_clear_line(comb, source, message):
    """No probe is attached here: each USB source fails with one line (or, where USB
    itself is unavailable or a device is there but not permitted, says that)."""
    res = subprocess.run([comb, "log", source], capture_output=True, text=True, timeout=30)
    assert res.returncode == 1 or res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert (message in lines[0] or "permission denied" in lines[0] or "cannot initialise" in lines[0]), lines[0]


# ---- the status line ---------------------------------------------------------------------------

STATUS = re.compile(r"\r(comb log: \d+:\d\d:\d\d [^\r\n]*?)\x1b\[K")
CLEAR = "\r\x1b[K"


def wide_pty():
    """A raw pty 200 columns wide (the status line is cut to the terminal's width)."""
    import fcntl
    import struct
    import termios
    master, slave = os.openpty()
    tty.setraw(slave)
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
    return master, slave


def read_all(fd, sink):
    while True:
        try:
            b = os.read(fd, 65536)
        except OSError:  # EIO once every slave is closed
            return
        if not b:
            return
        sink.append(b)


def test_status_line_on_a_terminal(comb, tmp_path):
    """stderr on a pty: a status line refreshed while data flows, cleared before the
    summary; the log text (stdout, a pipe here) is untouched."""
    data, exp = itm_stream.generate(300_000, seed=21, record=True)
    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)
    master, slave = wide_pty()
    got = []
    reader = threading.Thread(target=read_all, args=(master, got), daemon=True)
    reader.start()
    proc = subprocess.Popen([comb, "log", f"file:{fifo}"], stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    out_chunks = []
    out_reader = threading.Thread(target=lambda: out_chunks.append(proc.stdout.read()), daemon=True)
    out_reader.start()
    try:
        with open(fifo, "wb") as w:
            w.write(data[:150_000])
            w.flush()
            # the status line appears while the input is still open (no time assumed)
            wait_for(lambda: STATUS.search(b"".join(got).decode(errors="replace")), 60, "a status line")
            w.write(data[150_000:])
        proc.wait(timeout=60)
        out_reader.join(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(timeout=10)
    os.close(master)
    assert proc.returncode == 0
    text = b"".join(got).decode()
    statuses = STATUS.findall(text)
    assert statuses, text
    for s in statuses:
        assert "B/s" in s and "pkt/s" in s and "events" in s and "overflows" in s and "errors" in s \
            and "skipped" in s, s
        assert "\n" not in s
    # the summary comes after a clear, on a line of its own, and nothing follows it
    tail = text[text.rindex(CLEAR) + len(CLEAR):]
    assert re.fullmatch(r"comb log: \d+ bytes, [^\r\n]*; end_of_input\n", tail), repr(tail)
    assert out_chunks[0] == b"".join(t + b"\n" for t in exp.line_list)


def test_status_line_never_garbles_log_text_on_the_same_terminal(comb, tmp_path):
    """stdout and stderr on one pty: after removing status lines and clears, what is left
    is exactly the log text and then the summary. (The status line is only drawn when the
    text ends with a whole line, so the input comes in pieces that do.)"""
    pieces = [itm_stream.generate(20_000, seed=22 + i, session=False, record=True) for i in range(15)]
    lines_expected = [t for _, e in pieces for t in e.line_list]
    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)
    master, slave = wide_pty()
    got = []
    reader = threading.Thread(target=read_all, args=(master, got), daemon=True)
    reader.start()
    proc = subprocess.Popen([comb, "log", f"file:{fifo}"], stdout=slave, stderr=slave)
    os.close(slave)
    try:
        with open(fifo, "wb") as w:
            for i, (piece, _) in enumerate(pieces):  # status and text interleave
                w.write(piece)
                w.flush()
                if i == 5:
                    wait_for(lambda: STATUS.search(b"".join(got).decode(errors="replace")), 60, "a status line")
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(timeout=10)
    os.close(master)
    assert proc.returncode == 0
    text = b"".join(got).decode()
    assert STATUS.search(text)
    plain = STATUS.sub("", text).replace(CLEAR, "")
    body, summary = plain[:plain.rindex("comb log: ")], plain[plain.rindex("comb log: "):]
    assert body == "".join(t.decode() + "\n" for t in lines_expected)
    assert summary.endswith("; end_of_input\n") and "\r" not in summary


def test_no_status_line_when_stderr_is_not_a_terminal(comb, tmp_path):
    data, _ = itm_stream.generate(200_000, seed=23)
    src = tmp_path / "s.bin"
    src.write_bytes(data)
    res = subprocess.run([comb, "log", f"file:{src}"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         timeout=60)
    assert res.returncode == 0
    assert b"\r" not in res.stderr and b"\x1b" not in res.stderr
    assert len(res.stderr.decode().splitlines()) == 1


def test_quiet_terminal_has_no_status_line(comb, tmp_path):
    data, _ = itm_stream.generate(100_000, seed=24)
    src = tmp_path / "s.bin"
    src.write_bytes(data)
    master, slave = os.openpty()
    got = []
    reader = threading.Thread(target=read_all, args=(master, got), daemon=True)
    reader.start()
    proc = subprocess.run([comb, "log", "--quiet", f"file:{src}"], stdout=subprocess.DEVNULL, stderr=slave,
                          timeout=60)
    os.close(slave)
    reader.join(timeout=10)
    os.close(master)
    assert proc.returncode == 0
    assert b"".join(got) == b""


# ---- a pty as a serial device: baud hint, vanished device ----------------------------------------

class PtyDevice:
    """A pty pair standing in for a USB-UART; comb opens the slave as serial:PATH."""

    def __init__(self):
        self.master, slave = os.openpty()
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        self.slave = slave

    def wait_open(self, proc):
        wait_for(lambda: holds_open(proc.pid, self.path), 30, "comb to open the pty")
        os.close(self.slave)
        self.slave = None

    def write(self, b):
        view = memoryview(b)
        while view:
            n = os.write(self.master, view)
            view = view[n:]

    def vanish(self):
        os.close(self.master)
        self.master = None

    def close(self):
        for fd in (self.master, self.slave):
            if fd is not None:
                os.close(fd)


def start_reading(dev, db):
    """comb drains stale bytes right after opening: send zeros (which only lengthen the
    first sync packet) until the database shows it reads."""
    def reading():
        dev.write(bytes(64))
        c = itm_stream.session_counters(db)
        return c is not None and c["bytes"] > 0
    wait_for(reading, 60, "comb to read from the pty")


def test_wrong_baud_rate_gives_a_hint(comb, tmp_path):
    """Garbage from the start, as at a wrong line rate: one hint line (stderr is not a
    terminal here: the hint is not part of the status line)."""
    import random
    rnd = random.Random(5)
    garbage = bytes(rnd.choice(range(1, 256)) for _ in range(8192))  # no zero bytes: no sync
    db = tmp_path / "h.db"
    dev = PtyDevice()
    proc = subprocess.Popen([comb, "log", "--db", str(db), f"serial:{dev.path}@115200"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        dev.wait_open(proc)

        def enough():
            dev.write(garbage[:1024])
            c = itm_stream.session_counters(db)
            return c is not None and c["bytes"] >= 8192
        wait_for(enough, 60, "comb to read the garbage")
        dev.vanish()
        _, err = proc.communicate(timeout=30)
    finally:
        dev.close()
        if proc.poll() is None:
            proc.kill()
    lines = err.decode().strip().splitlines()
    assert proc.returncode == 0
    assert len(lines) == 2, lines
    assert "baud rate is probably wrong" in lines[0] and "100% of the first" in lines[0]
    assert "device_lost" in lines[1]


def test_right_baud_rate_gives_no_hint_and_vanished_device_keeps_everything(comb, tmp_path):
    """A clean session through a pty, then the device vanishes (master closed) mid-session
    (no session_end): the session ends as device_lost, the file is intact, and every event
    and line decoded before is stored, exactly and in order."""
    data, exp = itm_stream.generate(500_000, seed=31, session_end=False, record=True)
    db = tmp_path / "v.db"
    dev = PtyDevice()
    proc = subprocess.Popen([comb, "log", "--db", str(db), f"serial:{dev.path}@2250000"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        dev.wait_open(proc)
        start_reading(dev, db)
        dev.write(data)
        wait_for(lambda: (itm_stream.session_counters(db) or {}).get("events") == exp.events, 120,
                 "all events committed")
        dev.vanish()
        _, err = proc.communicate(timeout=30)
    finally:
        dev.close()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].endswith("device_lost"), lines  # no hint
    got = itm_stream.stored_summary(db)
    assert got["integrity"] == "ok"
    assert got["session"]["end_reason"] == "device_lost"
    assert got["session"]["decode_errors"] == 0
    events, texts = itm_stream.stored_events(db)
    assert events == exp.event_list
    assert texts == exp.line_list


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_mid_capture_keeps_every_decoded_event(comb, tmp_path, sig):
    """Ctrl-C (SIGINT) or SIGTERM while data still flows: the session ends as interrupted,
    the file is intact, and the stored events are exactly the first ones sent, as many as
    the session says."""
    data, exp = itm_stream.generate(6_000_000, seed=41, record=True)
    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)
    db = tmp_path / "t.db"
    proc = subprocess.Popen([comb, "log", "--db", str(db), f"file:{fifo}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stop = threading.Event()

    def writer():
        try:
            with open(fifo, "wb", buffering=0) as w:
                for i in range(0, len(data), 4096):
                    if stop.is_set():
                        return
                    w.write(data[i:i + 4096])
                    time.sleep(0.002)  # about 2 MB/s: still sending when the signal comes
        except BrokenPipeError:
            pass

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    try:
        wait_for(lambda: (itm_stream.session_counters(db) or {}).get("events", 0) >= 5000, 120,
                 "a first batch of events committed")
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        stop.set()
        if proc.poll() is None:
            proc.kill()
    t.join(timeout=30)
    assert proc.returncode == 0, err
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].endswith("interrupted"), lines
    got = itm_stream.stored_summary(db)
    s = got["session"]
    assert got["integrity"] == "ok"
    assert s["end_reason"] == "interrupted"
    assert s["decode_errors"] <= 1  # the signal may cut a packet: reported as truncated
    assert 5000 <= s["events"] < exp.events, "the signal must come mid-stream"
    events, texts = itm_stream.stored_events(db)
    assert len(events) == s["events"] and len(texts) == s["log_lines"]
    assert events == exp.event_list[:len(events)]
    # the last line may be cut short by the signal: it is stored as far as it came
    assert texts[:-1] == exp.line_list[:len(texts) - 1]
    assert exp.line_list[len(texts) - 1].startswith(texts[-1])


# ---- a device in use; a database that fails mid-capture ---------------------------------------

def test_second_capture_of_a_busy_device_fails_with_one_line(comb, tmp_path):
    """Linux does not lock ttys: comb does, so a second comb on the same device (here a pty,
    through a symlink as /dev/serial/by-id/... would be) gets one line and exit 1 instead of
    silently taking half the bytes; the first capture goes on and gets everything."""
    dev = PtyDevice()
    link = tmp_path / "usb-adapter-if00"
    link.symlink_to(dev.path)
    db = tmp_path / "b.db"
    first = subprocess.Popen([comb, "log", "--db", str(db), f"serial:{dev.path}@2250000"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        dev.wait_open(first)
        start_reading(dev, db)
        second = subprocess.run([comb, "log", f"serial:{link}@2250000"], capture_output=True, timeout=30)
        assert second.returncode != 0
        assert stderr_lines(second) == [f"comb log: serial:{link}: busy (another program has it open)"]
        dev.write(bytes([0x80, 0x01, ord("x"), 0x01, ord("\n")]))  # end of the sync, then "x\n" on port 0
        wait_for(lambda: (itm_stream.session_counters(db) or {}).get("log_lines") == 1, 30, "the line committed")
        dev.vanish()
        out, err = first.communicate(timeout=30)
    finally:
        dev.close()
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0, err
    assert out == b"x\n"
    assert err.decode().strip().endswith("device_lost"), err


@pytest.mark.parametrize("release", [True, False], ids=["row-closed", "row-left-open"])
def test_database_failing_mid_capture_ends_the_session_as_error(comb, tmp_path, release):
    """Another writer takes the database's lock mid-capture and keeps it past comb's busy
    timeout: comb stops with the store's message and exit 1, and closes the session row as
    `error` through a fresh connection once the lock is free (release=True). If the lock is
    never freed, one more line says the row was left open, as a crash leaves it; either way
    the file is intact and holds everything committed before."""
    data, exp = itm_stream.generate(200_000, seed=51, session_end=False)
    sock_path = tmp_path / "s.sock"
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(str(sock_path))
    srv.listen(1)
    db = tmp_path / "f.db"
    proc = subprocess.Popen([comb, "log", "--db", str(db), f"unix:{sock_path}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    conn, _ = srv.accept()
    locker = None
    try:
        half = len(data) // 2
        conn.sendall(data[:half])
        wait_for(lambda: (itm_stream.session_counters(db) or {}).get("bytes") == half, 60, "the first half committed")
        committed = itm_stream.session_counters(db)
        locker = connect_db(db, timeout=30, isolation_level=None)
        locker.execute("BEGIN IMMEDIATE")  # waits for comb's open transaction to commit
        conn.sendall(data[half:])  # comb's writer now waits for the lock, then fails
        first = proc.stderr.readline().decode()
        assert first.startswith("comb log: ") and "locked" in first, first
        if release:
            locker.execute("ROLLBACK")
        _, rest = proc.communicate(timeout=60)
    finally:
        conn.close()
        srv.close()
        if locker is not None:
            if locker.in_transaction:
                locker.execute("ROLLBACK")
            locker.close()
        if proc.poll() is None:
            proc.kill()
    lines = rest.decode().strip().splitlines()
    assert proc.returncode == 1
    assert lines[-1].endswith("; error"), lines  # the summary
    got = itm_stream.stored_summary(db)
    assert got["integrity"] == "ok"
    s = got["session"]
    assert s["bytes"] >= committed["bytes"] and s["events"] >= committed["events"]
    if release:
        assert len(lines) == 1, lines
        assert s["end_reason"] == "error" and s["ended_at"]
    else:
        assert len(lines) == 2 and "session 1 left open (no end time; counters of its last commit)" in lines[0], lines
        assert s["end_reason"] is None and s["ended_at"] is None

"""Soak: a generated comb session streamed into the real `comb log --db` at the
rate of a 12 Mbaud UART (1.2 MB/s, 8N1), paced by the sender, for 60 s, once
through a Unix socket and once through a pty (a USB-UART stand-in); every event
and log line must be in the database afterwards (counts, per-type sums of every
event field, order), with no decode or trace error and an intact file.

COMB_SOAK_SECONDS shortens the run for local experiments (default 60).
"""
import os
import socket
import subprocess
import sys
import time
import tty

import pytest

import itm_stream
from conftest import holds_open, wait_for

RATE = 1_200_000  # bytes per second: 12 Mbaud at 10 bit times per byte
SECONDS = int(os.environ.get("COMB_SOAK_SECONDS", "60"))
CHUNK = 16384


@pytest.fixture(scope="module")
def soak_stream():
    return itm_stream.generate(RATE * SECONDS, seed=2024, text_share=0.5)


def paced_send(write, data):
    """Writes data at RATE bytes/s (sleeping to the schedule; a slower reader
    makes the writes block, which stretches the run but loses nothing)."""
    start = time.monotonic()
    sent = 0
    view = memoryview(data)
    while sent < len(data):
        delay = start + sent / RATE - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        sent += write(view[sent:sent + CHUNK])
    return time.monotonic() - start


def check_lossless(db, exp, stream_len, end_reason, label, elapsed):
    got = itm_stream.stored_summary(db)
    s = got["session"]
    print(f"\n{label}: {stream_len} bytes in {elapsed:.1f} s ({stream_len / elapsed / 1e6:.2f} MB/s), "
          f"{got['events']} events, {got['log_lines']} log lines stored; expected {exp.events} and {exp.log_lines}",
          file=sys.stderr)
    assert got["integrity"] == "ok"
    assert s["end_reason"] == end_reason
    assert s["decode_errors"] == 0 and s["bytes_skipped"] == 0 and s["trace_errors"] == 0, s
    assert s["bytes"] >= stream_len  # the pty run adds leading zeros (part of the first sync)
    assert s["events"] == exp.events and got["events"] == exp.events
    assert s["log_lines"] == exp.log_lines and got["log_lines"] == exp.log_lines
    assert got["log_bytes"] == exp.log_bytes
    assert got["per_type"] == itm_stream.expected_summary(exp)
    assert got["not_increasing"] == 0
    assert s["protocol_version"] == 1 and s["build_id"] == "89abcdef01234567"


def test_soak_unix_socket_12mbaud(comb, tmp_path, soak_stream):
    data, exp = soak_stream
    sock_path = tmp_path / "soak.sock"
    db = tmp_path / "soak.db"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(sock_path))
    server.listen(1)
    server.settimeout(30)
    proc = subprocess.Popen([comb, "log", "--db", str(db), f"unix:{sock_path}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        conn, _ = server.accept()
        conn.settimeout(None)
        elapsed = paced_send(conn.send, data)
        conn.shutdown(socket.SHUT_WR)
        acks = b""
        while True:  # the acknowledgement of session_end, then comb's close
            b = conn.recv(64)
            if not b:
                break
            acks += b
        conn.close()
        _, err = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
        server.close()
    assert proc.returncode == 0, err.decode()
    assert acks == b"\x06"
    check_lossless(db, exp, len(data), "end_of_input", "unix socket soak", elapsed)


def test_soak_pty_12mbaud(comb, tmp_path, soak_stream):
    """Through a pty at 12 Mbaud, ended by the device vanishing (master closed)."""
    data, exp = soak_stream
    db = tmp_path / "soak-pty.db"
    master, slave = os.openpty()
    tty.setraw(slave)  # raw from the start: no echo, no line editing
    path = os.ttyname(slave)
    proc = subprocess.Popen([comb, "log", "--db", str(db), f"serial:{path}@12000000"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: holds_open(proc.pid, path), 30, "comb to open the pty")
        os.close(slave)
        slave = None
        # comb drains stale bytes right after opening; until it is surely reading, send
        # zeros: they only lengthen the first sync packet, whatever part is drained
        def reading():
            os.write(master, bytes(64))
            c = itm_stream.session_counters(db)
            return c is not None and c["bytes"] > 0
        wait_for(reading, 60, "comb to read from the pty")
        elapsed = paced_send(lambda b: os.write(master, b), data)
        # everything must be decoded and committed before the device goes away
        wait_for(lambda: (itm_stream.session_counters(db) or {}).get("events") == exp.events, 600,
                 "all events in the database")
        os.close(master)
        master = None
        _, err = proc.communicate(timeout=60)
    finally:
        for fd in (master, slave):
            if fd is not None:
                os.close(fd)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err.decode()
    check_lossless(db, exp, len(data), "device_lost", "pty soak", elapsed)

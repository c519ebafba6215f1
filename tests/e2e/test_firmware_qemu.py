"""Firmware behaviour in QEMU on every QEMU board (conftest `board`), checked
through comb's own decoder: nested interrupts writing while thread mode writes
(no packet split, none lost), and fault reports on port 1."""
import re
import struct
import subprocess

from combdb import connect_db
from conftest import DEFAULT_BOARD, QEMU_BOARDS, firmware_path, qemu_args


def run_to_file(qemu, board, elf, out, extra=()):
    res = subprocess.run([qemu, *qemu_args(board), *extra, "-serial", f"file:{out}", "-kernel", elf],
                         capture_output=True, timeout=120)
    return res.returncode


def test_each_board_gets_the_images_its_features_allow():
    """comb_add_example REQUIRES: an example is built for exactly the boards
    that offer its features (the build's COMB_BOARDS holds every QEMU board)."""
    requires = {"hello": set(), "fault": {"semihosting"}, "stress": {"semihosting", "timer"},
                "heapstress": {"semihosting", "timer", "swi"}, "heapdemo": {"semihosting", "timer"},
                "heapnewlib": {"semihosting"}, "heapwrap": {"semihosting", "ram-64k"}}
    for board in QEMU_BOARDS.values():
        for image, need in requires.items():
            assert firmware_path(image, board).exists() == (need <= board.features), (image, board.name)
        # images restricted with BOARDS: the default board only
        assert firmware_path("heapstress_m0", board).exists() == (board == DEFAULT_BOARD), board.name


def test_stress_nested_interrupts_lose_nothing(comb, firmware, qemu, tmp_path, board):
    """Thread mode writes 20000 words on port 2 while SysTick (port 3) and a
    higher-priority timer interrupt (port 4, the board's example timer) preempt
    it and each other. Every sequence must arrive complete, in order, with
    packet boundaries intact."""
    raw = tmp_path / "stress.bin"
    # -icount: deterministic virtual time, so the UART never backs up by host load
    assert run_to_file(qemu, board, firmware("stress", board), raw, ["-icount", "shift=0"]) == 0
    p = {n: tmp_path / f"p{n}.bin" for n in (2, 3, 4)}
    db = tmp_path / "stress.db"
    res = subprocess.run([comb, "log", "--db", str(db), f"file:{raw}", ":1",
                          f"{p[2]}:2", f"{p[3]}:3", f"{p[4]}:4"], capture_output=True, timeout=60)
    assert res.returncode == 0, res.stderr
    m = re.search(rb"thread=(\d+) systick=(\d+) timer=(\d+) dropped=(\d+)", res.stdout)
    assert m, res.stdout
    thread, systick, timer, dropped = map(int, m.groups())
    assert thread == 20000 and systick > 50 and timer > 50 and dropped == 0

    assert p[2].read_bytes() == b"".join(struct.pack("<I", k) for k in range(thread))
    assert p[3].read_bytes() == b"".join(struct.pack("<HI", k & 0xFFFF, ~k & 0xFFFFFFFF) for k in range(systick))
    assert p[4].read_bytes() == b"".join(struct.pack("<IB", k, k & 0xFF) for k in range(timer))

    con = connect_db(db)
    row = con.execute("SELECT bytes, overflows, decode_errors, trace_errors FROM session").fetchone()
    con.close()
    assert row == (raw.stat().st_size, 0, 0, 0)
    # packet sizes survive too: port 4 alternates 4- and 1-byte writes
    dec = subprocess.run([comb, "decode", "--json", str(raw)], capture_output=True, text=True, timeout=60)
    import json
    sizes = [o["size"] for o in map(json.loads, dec.stdout.splitlines()) if o["type"] == "swit" and o["port"] == 4]
    assert sizes == [4, 1] * timer
    syncs = sum(1 for line in dec.stdout.splitlines() if '"type":"sync"' in line)
    assert syncs >= raw.stat().st_size // 1024 - 1, "a sync packet at least every ~1 KiB"


def test_fault_is_reported_on_stderr_port(comb, firmware, qemu, tmp_path, board):
    """UDF: a UsageFault with CFSR.UNDEFINSTR on Mainline cores, a HardFault
    (no fault status registers) on ARMv6-M; the stacked PC is the UDF."""
    raw = tmp_path / "fault.bin"
    elf = firmware("fault", board)
    assert run_to_file(qemu, board, elf, raw) == 1
    res = subprocess.run([comb, "log", "--quiet", f"file:{raw}", ":0", f"{tmp_path / 'err.txt'}:1"],
                         capture_output=True, timeout=30)
    assert res.stdout == b"faulting now\n"
    err = (tmp_path / "err.txt").read_text()
    if board.mainline:
        assert re.search(r"\*\*\* UsageFault: ipsr=0x00000006 ", err), err
        assert re.search(r"cfsr=0x00010000", err), err  # UNDEFINSTR
    else:
        assert re.search(r"\*\*\* HardFault: ipsr=0x00000003 ", err), err
        assert "cfsr" not in err, err
    pc = int(re.search(r"pc=0x([0-9a-f]+)", err).group(1), 16)
    dis = subprocess.run(["arm-none-eabi-objdump", "-d", elf], capture_output=True, text=True).stdout
    assert re.search(rf"^\s*{pc:x}:\s+de00\s+udf", dis, re.M), f"stacked pc 0x{pc:x} is not the udf"


def test_tcp_and_stdin_sources(comb, tmp_path):
    """The same stream through tcp: and through '-' decodes the same."""
    import socket
    import threading
    stream = bytes([0, 0, 0, 0, 0, 0x80]) + b"".join(bytes([0x01, c]) for c in b"over tcp\n")
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]

    def serve():
        conn, _ = srv.accept()
        conn.sendall(stream)
        conn.close()

    t = threading.Thread(target=serve)
    t.start()
    res = subprocess.run([comb, "log", "--quiet", f"tcp:127.0.0.1:{port}"], capture_output=True, timeout=30)
    t.join()
    srv.close()
    assert res.returncode == 0 and res.stdout == b"over tcp\n", res.stderr
    res = subprocess.run([comb, "log", "--quiet", "-"], input=stream, capture_output=True, timeout=30)
    assert res.returncode == 0 and res.stdout == b"over tcp\n", res.stderr

"""examples/tour (log + heap + threads and fibers in one image) on every QEMU
board with a software-interrupt line, captured by the real `comb log`: the
same image the hardware boards get over SWO (tests/e2e/test_hw_boards.py)."""
import subprocess

import pytest

from combdb import connect_db

EXPECTED = ("tour: run 0, 16-byte block\n"
            "tour: run 1, 64-byte block\n"
            "tour: run 2, 64-byte block\n"
            "tour: run 3, 256-byte block\n"
            "tour: fiber done, 0 bytes in use\n")


@pytest.mark.board_features("swi")
def test_tour(comb, firmware, qemu_socket, tmp_path, board):
    db = tmp_path / "tour.db"
    q = qemu_socket(firmware("tour", board), board=board)
    res = subprocess.run([comb, "log", "--db", str(db), f"unix:{q.sock}"], capture_output=True, timeout=60)
    assert q.wait() == 0  # fiber done, heap empty, session end acknowledged
    assert res.returncode == 0, res.stderr.decode()
    assert res.stdout.decode() == EXPECTED
    con = connect_db(db)
    try:
        counts = dict(con.execute("SELECT name, count(*) FROM trace_event GROUP BY name"))
        # four runs of the one thread, one fiber resumed in each, one block each
        assert counts == {"session_start": 1, "session_end": 1, "thread_wakeup": 4, "thread_enter": 4,
                          "thread_exit": 4, "fiber_added": 1, "fiber_resumed": 4, "fiber_yielded": 3,
                          "fiber_completed": 1, "heap_alloc": 4, "heap_free": 4}, counts
    finally:
        con.close()

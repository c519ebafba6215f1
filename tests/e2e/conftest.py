"""Fixtures for the end-to-end tests: the built `comb` tool and firmware images.

COMB_BUILD_DIR (set by `make test`) points at the CMake build tree; by default
build/test under the project root.

Boards: a test that takes the `board` fixture runs once per QEMU board of
QEMU_BOARDS (all of them unless COMB_E2E_BOARDS lists some, e.g.
COMB_E2E_BOARDS=microbit,mps2-an505), with `firmware(name, board)`,
`qemu_args(board)`, `qemu_socket(elf, board=board)` and
`capture_over_pty(..., board=board)` picking that board's image and machine.
@pytest.mark.board_features("ram-64k") keeps the boards that offer those
features (as comb_add_example REQUIRES does for the build). Tests without the
fixture (host-only ones, and images built for one board) run once, on the
default board.
"""
import os
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"


def build_dir() -> Path:
    return Path(os.environ.get("COMB_BUILD_DIR", ROOT / "build" / "test")).resolve()


@dataclass(frozen=True)
class Board:
    """A firmware board that runs in QEMU (firmware/boards/<name>/board.cmake)."""
    name: str
    machine: str            # qemu-system-arm -M
    core_hz: int            # comb_board_core_hz()
    ts_hz: int              # comb_board_ts_hz()
    mainline: bool          # ARMv7-M/ARMv8-M Mainline (CFSR, UsageFault); False: ARMv6-M
    timer_irq: int          # COMB_BOARD_TIMER_IRQ: the example timer's handler is IRQ<n>_Handler
    features: frozenset     # comb_add_board FEATURES

    def __str__(self):
        return self.name


_MPS2 = frozenset({"semihosting", "timer", "swi", "mps2", "ram-64k"})
QEMU_BOARDS = {b.name: b for b in (
    Board("mps2-an385", "mps2-an385", 25_000_000, 25_000_000, True, 9, _MPS2),
    Board("mps2-an386", "mps2-an386", 25_000_000, 25_000_000, True, 9, _MPS2),
    Board("mps2-an500", "mps2-an500", 25_000_000, 25_000_000, True, 9, _MPS2),
    Board("mps2-an505", "mps2-an505", 20_000_000, 20_000_000, True, 4, _MPS2),
    Board("microbit", "microbit", 16_000_000, 16_000_000, False, 9,
          frozenset({"semihosting", "timer", "swi"})),
)}
DEFAULT_BOARD = QEMU_BOARDS["mps2-an385"]  # COMB_DEFAULT_BOARD: images at examples/<name>/<name>.elf


def selected_boards():
    names = [n for n in re.split(r"[,\s]+", os.environ.get("COMB_E2E_BOARDS", "")) if n]
    for n in names:
        if n not in QEMU_BOARDS:
            raise pytest.UsageError(f"COMB_E2E_BOARDS: unknown board '{n}' (known: {', '.join(QEMU_BOARDS)})")
    return [QEMU_BOARDS[n] for n in names] if names else list(QEMU_BOARDS.values())


def pytest_configure(config):
    config.addinivalue_line("markers", "board_features(*features): run only on boards that offer them")


def pytest_generate_tests(metafunc):
    if "board" not in metafunc.fixturenames:
        return
    need = set()
    for mark in metafunc.definition.iter_markers("board_features"):
        need.update(mark.args)
    boards = [b for b in selected_boards() if need <= b.features]
    metafunc.parametrize("board", boards, ids=[b.name for b in boards])


def board_of(board) -> Board:
    return board if isinstance(board, Board) else QEMU_BOARDS[board]


def qemu_args(board=DEFAULT_BOARD):
    """QEMU options for running an image of `board` (a Board or its name)."""
    return ["-M", board_of(board).machine, "-display", "none", "-monitor", "none",
            "-semihosting-config", "enable=on,target=native"]


@pytest.fixture(scope="session")
def comb() -> str:
    path = build_dir() / "host" / "comb"
    if not path.exists():
        pytest.fail(f"comb not built at {path} (run make test)")
    return str(path)


def firmware_path(name: str, board=DEFAULT_BOARD) -> Path:
    """examples/<name>/<name>.elf for the default board, examples/<name>/<board>/<name>.elf else."""
    b = board_of(board)
    d = build_dir() / "firmware-arm" / "examples" / name
    return d / f"{name}.elf" if b == DEFAULT_BOARD else d / b.name / f"{name}.elf"


@pytest.fixture(scope="session")
def firmware():
    """Returns a function (name, board=default) -> path of that board's image."""

    def find(name: str, board=DEFAULT_BOARD) -> str:
        path = firmware_path(name, board)
        if not path.exists():
            pytest.fail(f"firmware image not built at {path} (is {board_of(board).name} in the build's "
                        f"COMB_BOARDS?)")
        return str(path)

    return find


@pytest.fixture(scope="session")
def qemu() -> str:
    path = shutil.which("qemu-system-arm")
    if not path:
        pytest.fail("qemu-system-arm is not installed (scripts/bootstrap.sh installs it)")
    return path


QEMU_BASE = qemu_args(DEFAULT_BOARD)  # the default board's options


class QemuSocket:
    """QEMU with UART0 on a Unix socket; QEMU waits for the client before starting."""

    def __init__(self, qemu_bin: str, elf: str, sock: Path, extra=(), board=DEFAULT_BOARD):
        self.sock = sock
        self.proc = subprocess.Popen(
            [qemu_bin, *qemu_args(board), *extra,
             "-chardev", f"socket,id=uart0,path={sock},server=on,wait=on",
             "-serial", "chardev:uart0", "-kernel", elf],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while not sock.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                out, err = self.proc.communicate(timeout=5)
                raise RuntimeError(f"QEMU did not open {sock}: {err.decode()}")
            time.sleep(0.02)

    def wait(self, timeout=30) -> int:
        return self.proc.wait(timeout=timeout)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def qemu_socket(qemu, tmp_path):
    started = []

    def start(elf: str, extra=(), board=DEFAULT_BOARD):
        q = QemuSocket(qemu, elf, tmp_path / "uart0.sock", extra, board)
        started.append(q)
        return q

    yield start
    for q in started:
        q.kill()


def holds_open(pid: int, path: str) -> bool:
    """True if process `pid` has `path` open now (read from /proc)."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == path:
                return True
        except OSError:  # closed while we looked
            pass
    return False


def wait_for(pred, timeout, what):
    """Polls pred() until it is true; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def wait_for_fd(pid: int, path: str, timeout=10) -> bool:
    """True once process `pid` holds `path` open (no guessed sleeps); False when it
    has exited or the timeout passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if holds_open(pid, path):
            return True
        if not os.path.isdir(f"/proc/{pid}"):
            return False
        time.sleep(0.02)
    return False


def capture_over_pty(qemu_bin: str, comb_bin: str, elf, db, tmp_path, timeout=60, board=DEFAULT_BOARD):
    """Runs `elf` (an image of `board`) in QEMU with UART0 on a pty and captures
    it with `comb log --db DB serial:PTY`, as from a USB-UART.

    QEMU drops what the guest writes while nobody has the pty open, so QEMU
    starts paused (-S) and is resumed from its monitor only once comb holds the
    pty. Returns (QEMU's exit status, comb's CompletedProcess)."""
    mon = tmp_path / f"mon-{Path(db).stem}.sock"
    proc = subprocess.Popen([qemu_bin, "-M", board_of(board).machine, "-display", "none", "-S",
                             "-monitor", f"unix:{mon},server=on,wait=off",
                             "-semihosting-config", "enable=on,target=native",
                             "-serial", "pty", "-kernel", str(elf)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    log = None
    try:
        line = proc.stdout.readline().decode()  # QEMU 7.2 announces the pty on stdout
        m = re.search(r"(/dev/pts/\d+)", line)
        assert m, f"QEMU did not report its pty: {line!r}"
        pty = m.group(1)
        args = [comb_bin, "log", "--db", str(db), f"serial:{pty}@2000000"]
        log = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert wait_for_fd(log.pid, pty), "comb did not open the pty"
        for _ in range(200):
            if mon.exists():
                break
            time.sleep(0.02)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(str(mon))
            s.sendall(b"cont\n")
            rc = proc.wait(timeout=timeout)
        out, err = log.communicate(timeout=30)
    finally:
        for p in (proc, log):
            if p and p.poll() is None:
                p.kill()
    return rc, subprocess.CompletedProcess(args, log.returncode, out, err)

"""Fixtures for the end-to-end tests: the built `comb` tool and firmware images.

COMB_BUILD_DIR (set by `make test`) points at the CMake build tree; by default
build/test under the project root.
"""
import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"


def build_dir() -> Path:
    return Path(os.environ.get("COMB_BUILD_DIR", ROOT / "build" / "test")).resolve()


@pytest.fixture(scope="session")
def comb() -> str:
    path = build_dir() / "host" / "comb"
    if not path.exists():
        pytest.fail(f"comb not built at {path} (run make test)")
    return str(path)


@pytest.fixture(scope="session")
def firmware():
    """Returns a function name -> path of examples/<name>/<name>.elf."""

    def find(name: str) -> str:
        path = build_dir() / "firmware-arm" / "examples" / name / f"{name}.elf"
        if not path.exists():
            pytest.fail(f"firmware image not built at {path}")
        return str(path)

    return find


@pytest.fixture(scope="session")
def qemu() -> str:
    path = shutil.which("qemu-system-arm")
    if not path:
        pytest.fail("qemu-system-arm is not installed (scripts/bootstrap.sh installs it)")
    return path


QEMU_BASE = ["-M", "mps2-an385", "-display", "none", "-monitor", "none",
             "-semihosting-config", "enable=on,target=native"]


class QemuSocket:
    """QEMU with UART0 on a Unix socket; QEMU waits for the client before starting."""

    def __init__(self, qemu_bin: str, elf: str, sock: Path, extra=()):
        self.sock = sock
        self.proc = subprocess.Popen(
            [qemu_bin, *QEMU_BASE, *extra,
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

    def start(elf: str, extra=()):
        q = QemuSocket(qemu, elf, tmp_path / "uart0.sock", extra)
        started.append(q)
        return q

    yield start
    for q in started:
        q.kill()


def wait_for_fd(pid: int, path: str, timeout=10) -> bool:
    """True once process `pid` holds `path` open (read from /proc, no guessed sleeps)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    if os.readlink(f"/proc/{pid}/fd/{fd}") == path:
                        return True
                except OSError:
                    pass
        except OSError:
            return False
        time.sleep(0.02)
    return False


def capture_over_pty(qemu_bin: str, comb_bin: str, elf, db, tmp_path, timeout=60):
    """Runs `elf` in QEMU with UART0 on a pty and captures it with
    `comb log --db DB serial:PTY`, as from a USB-UART.

    QEMU drops what the guest writes while nobody has the pty open, so QEMU
    starts paused (-S) and is resumed from its monitor only once comb holds the
    pty. Returns (QEMU's exit status, comb's CompletedProcess)."""
    mon = tmp_path / f"mon-{Path(db).stem}.sock"
    proc = subprocess.Popen([qemu_bin, "-M", "mps2-an385", "-display", "none", "-S",
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

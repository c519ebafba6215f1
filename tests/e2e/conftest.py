"""Fixtures for the end-to-end tests: the built `comb` tool and firmware images.

COMB_BUILD_DIR (set by `make test`) points at the CMake build tree; by default
build/test under the project root.
"""
import os
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

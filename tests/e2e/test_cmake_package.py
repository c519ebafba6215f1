"""comb in a firmware project of its own (docs/integration.md): the project in
tests/package configured with comb's cross toolchain and built, through
add_subdirectory and through find_package, on a comb board and on the
project's own startup; the QEMU one is run and captured by the real `comb log`.
Bad uses stop the configure step with a message that names the problem."""
import re
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT

APP = ROOT / "tests" / "package"
TOOLCHAIN = ROOT / "cmake" / "arm-none-eabi.cmake"


def configure(build: Path, comb: str, *defs):
    return subprocess.run(
        ["cmake", "-S", str(APP), "-B", str(build), f"-DCMAKE_TOOLCHAIN_FILE={TOOLCHAIN}",
         "-DCMAKE_BUILD_TYPE=MinSizeRel", f"-DCOMB_HOST_TOOL={comb}", *defs],
        capture_output=True, text=True, timeout=300)


def build_app(build: Path, comb: str, *defs) -> Path:
    res = configure(build, comb, *defs)
    assert res.returncode == 0, res.stdout + res.stderr
    res = subprocess.run(["cmake", "--build", str(build), "-j2"], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
    # the size of the image is part of the build output
    assert "app.elf" in res.stdout and "text" in res.stdout, res.stdout
    return build / "app.elf"


def symbols(elf: Path) -> dict:
    out = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True, check=True).stdout
    syms = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3:
            syms[parts[2]] = int(parts[0], 16)
    return syms


def test_add_subdirectory_on_a_qemu_board_runs(comb, qemu_socket, tmp_path):
    elf = build_app(tmp_path / "b", comb, "-DCOMB_USE=subdirectory", f"-DCOMB_ROOT={ROOT}",
                    "-DAPP_BOARD=mps2-an385", "-DAPP_TRANSPORT=uart", "-DAPP_LTO=ON")
    # linked with LTO: comb_board_init is inlined into main
    assert "comb_board_init" not in symbols(elf)
    q = qemu_socket(str(elf))
    res = subprocess.run([comb, "log", f"unix:{q.sock}"], capture_output=True, timeout=60)
    assert q.wait() == 0  # the host acknowledged the end of the session
    assert res.returncode == 0, res.stderr.decode()
    # 40 bytes come from the 64-byte pool of tests/package/Drone.toml
    assert res.stdout.decode() == "package app: 64-byte block from the Drone.toml heap\n"
    assert "0 decode errors" in res.stderr.decode()


def test_find_package_on_a_swo_board(comb, tmp_path):
    build = tmp_path / "b"
    elf = build_app(build, comb, "-DCOMB_USE=package", f"-Dcomb_DIR={ROOT / 'firmware' / 'cmake'}",
                    "-DAPP_BOARD=bluepill", "-DAPP_TRANSPORT=swo")
    syms = symbols(elf)
    # the board's memory map and startup: vectors at the start of the F103's flash,
    # the stack at the top of its 20 KiB of RAM
    assert syms["comb_core_vectors"] == 0x0800_0000
    assert syms["__stack_top__"] == 0x2000_5000
    # the SWO transport, not the UART one's ring; linked without LTO (the
    # default), so the board's functions are all there
    assert {"comb_swo_limits", "comb_swo_init", "comb_transport_swit", "comb_board_init"} <= syms.keys()
    assert "ring" not in syms
    # the heap of the project's layout
    header = next(build.rglob("heap_layout.h")).read_text()
    assert "COMB_HEAP_MAIN_POOLS(P) P(16u, 32u) P(64u, 8u) P(256u, 4u)" in header
    assert "comb_heap_main" in syms


def test_find_package_on_the_projects_own_startup(comb, tmp_path):
    elf = build_app(tmp_path / "b", comb, "-DCOMB_USE=package",
                    f"-DCMAKE_PREFIX_PATH={ROOT / 'firmware'}", "-DAPP_BOARD=", "-DAPP_TRANSPORT=swo")
    syms = symbols(elf)
    assert syms["app_vectors"] == 0x0800_0000  # the project's, not comb's
    assert "comb_core_vectors" not in syms and "Reset_Handler" not in syms
    assert {"comb_swo_limits", "comb_heap_main", "comb_swo_init", "comb_trace_timestamp"} <= syms.keys()
    # DEFINITIONS COMB_SWO_STM32=1 reached comb's sources: comb_swo_init programs DBGMCU_CR
    disasm = subprocess.run(["arm-none-eabi-objdump", "-d", str(elf)], capture_output=True, text=True).stdout
    assert re.search(r"\.word\s+0xe004200[04]", disasm)  # DBGMCU_CR or its base, in a literal pool


@pytest.mark.parametrize("defs, message", [
    (["-DAPP_BOARD=nosuch", "-DAPP_TRANSPORT=uart"], "comb_firmware: no board 'nosuch'"),
    (["-DAPP_BOARD=bluepill", "-DAPP_TRANSPORT=uart"], "comb_firmware: board bluepill traces over swo, not uart"),
    (["-DAPP_BOARD=bluepill", "-DAPP_TRANSPORT=spi"], "comb_firmware: TRANSPORT is uart or swo, not 'spi'"),
    (["-DAPP_BOARD=", "-DAPP_TRANSPORT="], "comb_firmware: without BOARD, give TRANSPORT"),
])
def test_bad_use_stops_configure(comb, tmp_path, defs, message):
    res = configure(tmp_path / "b", comb, "-DCOMB_USE=subdirectory", f"-DCOMB_ROOT={ROOT}", *defs)
    assert res.returncode != 0
    # CMake wraps long messages: compare with the line breaks taken out
    assert message in " ".join(res.stderr.split()), res.stderr


def test_unknown_board_lists_the_boards(comb, tmp_path):
    res = configure(tmp_path / "b", comb, "-DCOMB_USE=subdirectory", f"-DCOMB_ROOT={ROOT}",
                    "-DAPP_BOARD=nosuch", "-DAPP_TRANSPORT=uart")
    text = " ".join(res.stderr.split())
    for board in ("bluepill", "mps2-an385", "nrf52840-dk", "nucleo-f429zi"):
        assert board in text, text


def test_find_package_without_a_cross_toolchain(tmp_path):
    res = subprocess.run(
        ["cmake", "-S", str(APP), "-B", str(tmp_path / "b"), "-DCOMB_USE=package",
         f"-Dcomb_DIR={ROOT / 'firmware' / 'cmake'}", "-DAPP_BOARD=bluepill"],
        capture_output=True, text=True, timeout=300)
    assert res.returncode != 0
    assert "comb's firmware package needs a cross toolchain" in " ".join(res.stderr.split()), res.stderr

"""The hardware boards traced over SWO (firmware/boards/{bluepill,nucleo-f429zi,
nrf52840-dk}): nothing can run them here, so this checks what the build made
of them. Each image (hello, and tour: log + heap + scheduler) exists
(COMB_BOARDS has every board by default), sits at its chip's flash origin
with the stack at the top of its RAM, is compiled for its core, carries the
SWO transport and not the UART one, and has no semihosting breakpoint (no
debugger on a board in the field). The ITM write path keeps its exclusive
sequence (LDREX, CBZ, STREX of the packet's width on the same stimulus port,
CLREX on the full path) in every image, so a rewrite that loses it fails
here, not on a board."""
import re
import subprocess

import pytest

from conftest import build_dir

BOARDS = {
    # board: (flash origin, RAM end, CPU arch tag, hard-float)
    "bluepill": (0x0800_0000, 0x2000_0000 + 20 * 1024, "v7", False),
    "nucleo-f429zi": (0x0800_0000, 0x2000_0000 + 192 * 1024, "v7E-M", True),
    "nrf52840-dk": (0x0000_0000, 0x2000_0000 + 256 * 1024, "v7E-M", True),
}


def image(name: str, hw_board: str):
    path = build_dir() / "firmware-arm" / "examples" / name / hw_board / f"{name}.elf"
    if not path.exists():
        pytest.fail(f"{path} was not built: the hardware boards belong in COMB_BOARDS "
                    f"(firmware/CMakeLists.txt builds every board by default)")
    return path


def tool(*args) -> str:
    return subprocess.run(list(args), capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("name", ["hello", "tour"])
@pytest.mark.parametrize("hw_board", sorted(BOARDS))
def test_image(hw_board, name):
    flash, ram_end, arch, hard_float = BOARDS[hw_board]
    elf = image(name, hw_board)
    syms = {}
    for line in tool("arm-none-eabi-nm", str(elf)).splitlines():
        parts = line.split()
        if len(parts) == 3:
            syms[parts[2]] = int(parts[0], 16)

    assert syms["comb_core_vectors"] == flash
    assert syms["__stack_top__"] == ram_end
    # the vector table's first two words: the stack, and Reset_Handler in Thumb state
    words = tool("arm-none-eabi-objdump", "-s", "-j", ".text", f"--start-address={flash:#x}",
                 f"--stop-address={flash + 8:#x}", str(elf))
    row = re.search(r"^ ([0-9a-f]+) ([0-9a-f]{8}) ([0-9a-f]{8})", words, re.M)
    assert row and int(row[1], 16) == flash, words
    sp, reset = (int.from_bytes(bytes.fromhex(w), "little") for w in row.groups()[1:])
    assert sp == ram_end and reset == syms["Reset_Handler"] | 1

    attrs = tool("arm-none-eabi-readelf", "-A", str(elf))
    assert re.search(rf"Tag_CPU_arch: {re.escape(arch)}\n", attrs), attrs
    assert ("Tag_ABI_VFP_args: VFP registers" in attrs) == hard_float, attrs

    # the SWO transport's state, not the UART ring
    assert "comb_swo_limits" in syms and "ring" not in syms
    # no semihosting call anywhere: its BKPT would fault without a debugger
    assert "bkpt" not in tool("arm-none-eabi-objdump", "-d", str(elf))
    if name == "tour":  # the heap of its Drone.toml and its thread table
        assert "comb_heap_main" in syms and "comb_thr_table" in syms


def instructions(elf, symbol):
    """(address, mnemonic, operands) of `symbol`'s disassembly."""
    out = tool("arm-none-eabi-objdump", "-d", "--no-show-raw-insn", f"--disassemble={symbol}", str(elf))
    rows = re.findall(r"^\s+([0-9a-f]+):\s+(\S+)\s*([^;@\n]*)", out, re.M)
    return [(int(a, 16), m, ops.strip()) for a, m, ops in rows]


@pytest.mark.parametrize("name", ["hello", "tour"])
@pytest.mark.parametrize("hw_board", sorted(BOARDS))
def test_exclusive_stimulus_write(hw_board, name):
    """comb_transport_swit (firmware/src/itm_swo.c): for each width b/h/word, LDREX reads
    FIFOREADY, CBZ on that register branches to a CLREX, else the very next instruction
    is the STREX of the same width to the same address (nothing in between that could
    be interrupted into losing the packet)."""
    insns = instructions(image(name, hw_board), "comb_transport_swit")
    assert insns, f"comb_transport_swit not found in {name}/{hw_board}"
    at = {a: m for a, m, _ in insns}
    found = set()
    for i, (_, m, ops) in enumerate(insns[:-2]):
        w = re.fullmatch(r"ldrex([bh]?)", m)
        if not w:
            continue
        r, base = re.fullmatch(r"(\w+), \[(\w+)\]", ops).groups()
        _, m1, ops1 = insns[i + 1]
        if m1 != "cbz":
            continue  # the drop counter's CAS: LDREX, CMP, ...
        reg, target = re.fullmatch(r"(\w+), ([0-9a-f]+)(?: <.*>)?", ops1).groups()
        _, m2, ops2 = insns[i + 2]
        assert reg == r and m2 == "strex" + w[1], insns[i:i + 3]
        assert re.fullmatch(rf"\w+, \w+, \[{base}\]", ops2), insns[i:i + 3]
        assert at.get(int(target, 16)) == "clrex", (target, insns[i:i + 3])
        found.add(w[1])
    assert found == {"b", "h", ""}, f"exclusive stimulus writes of widths {sorted(found)} only"

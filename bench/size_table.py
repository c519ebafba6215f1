#!/usr/bin/env python3
"""Flash and RAM of the firmware images per board (make bench; docs/size.md).

    bench/size_table.py BUILD_DIR      (the top-level build: BUILD_DIR/firmware-arm)

For every board of the cross build (COMB_BOARDS in its CMake cache): `hello`,
and the runtime with log + heap + scheduler, that is the first image of that
board (`tour`, then `fibers`, then the others by name) whose symbols show all
three: the log
facade (comb_log_*), the pool allocator (comb_heap_*) and threads/fibers
(comb_thr_* / comb_fib_*); "n/a" when no image links all three. Sizes from
arm-none-eabi-size: flash = text + data (the .data image is stored in flash),
RAM = data + bss (the stack, the rest of RAM, is not counted).
"""
import re
import subprocess
import sys
from pathlib import Path

# Looked at first: `tour` is built for every board with the same workload,
# `fibers` is the scheduler demo.
PREFERRED = ["tour", "fibers"]

RUNTIME_PARTS = {
    "log": re.compile(r"^comb_log_"),
    "heap": re.compile(r"^comb_heap_"),
    "sched": re.compile(r"^comb_(thr|fib)_"),
}


def cache_value(cache: Path, name: str) -> str:
    for line in cache.read_text().splitlines():
        m = re.match(rf"^{name}(:[A-Z]+)?=(.*)$", line)
        if m:
            return m.group(2)
    return ""


def image(examples: Path, name: str, board: str, default: str) -> Path:
    d = examples / name
    return d / f"{name}.elf" if board == default else d / board / f"{name}.elf"


def size(elf: Path):
    out = subprocess.run(["arm-none-eabi-size", str(elf)], capture_output=True, text=True, check=True).stdout
    text, data, bss = (int(x) for x in out.splitlines()[1].split()[:3])
    return text + data, data + bss


def arch(elf: Path) -> str:
    """The architecture the image was built for, from its build attributes."""
    out = subprocess.run(["arm-none-eabi-readelf", "-A", str(elf)], capture_output=True, text=True).stdout
    m = re.search(r'Tag_CPU_name: "([^"]+)"', out)
    fp = "Tag_ABI_VFP_args: VFP registers" in out
    return ("v" + m.group(1).replace(".MAIN", ".main") if m else "?") + ("+fp" if fp else "")


def links_runtime(elf: Path) -> bool:
    out = subprocess.run(["arm-none-eabi-nm", "--defined-only", str(elf)], capture_output=True, text=True).stdout
    names = [ln.split()[-1] for ln in out.splitlines() if ln.split()]
    return all(any(p.match(n) for n in names) for p in RUNTIME_PARTS.values())


def runtime_image(examples: Path, board: str, default: str):
    names = sorted(p.name for p in examples.iterdir() if p.is_dir())
    for first in reversed(PREFERRED):
        if first in names:
            names.remove(first)
            names.insert(0, first)
    for name in names:
        elf = image(examples, name, board, default)
        if elf.exists() and links_runtime(elf):
            return name, elf
    return None, None


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: size_table.py BUILD_DIR", file=sys.stderr)
        return 2
    fw = Path(sys.argv[1]) / "firmware-arm"
    cache = fw / "CMakeCache.txt"
    if not cache.exists():
        print(f"size_table.py: no cross build at {fw} (build with COMB_BUILD_FIRMWARE=ON)", file=sys.stderr)
        return 1
    boards = [b for b in cache_value(cache, "COMB_BOARDS").split(";") if b]
    default = cache_value(cache, "COMB_DEFAULT_BOARD")
    examples = fw / "examples"

    print(f"{'board':<15} {'arch':<13} {'hello flash':>11} {'RAM':>6}   "
          f"{'log+heap+sched':<16} {'flash':>6} {'RAM':>6}")
    for board in boards:
        hello = image(examples, "hello", board, default)
        if not hello.exists():
            print(f"{board:<15} {'?':<13} {'not built':>11}")
            continue
        hf, hr = size(hello)
        name, rt = runtime_image(examples, board, default)
        rt_cols = f"{name:<16} {size(rt)[0]:>6} {size(rt)[1]:>6}" if rt else f"{'n/a':<16} {'':>6} {'':>6}"
        print(f"{board:<15} {arch(hello):<13} {hf:>11} {hr:>6}   {rt_cols}")
    print("flash = text + data, RAM = data + bss (without the stack); hello is linked with LTO")
    return 0


if __name__ == "__main__":
    sys.exit(main())

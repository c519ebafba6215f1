#!/usr/bin/env python3
"""Pool allocator benchmarks (docs/heap.md), run by scripts/bench.sh.

    bench/heap_bench.py BUILD_DIR [--listing]

From a build tree that holds the cross-built firmware (BUILD_DIR/firmware-arm)
and the host tools:

1. Code size, Cortex-M3 -Os (and Cortex-M0): per function, from
   arm-none-eabi-nm -S of the allocator objects compiled for heapbench
   (no tracing), heapbench_trace (tracing) and heapbench_m0 (ARMv6-M).
2. Instructions per call on each path:
   - "path": one call, traced instruction by instruction in QEMU
     (-singlestep -d exec), counting the instructions executed inside the
     allocator's own functions; --listing prints the common paths against the
     disassembly;
   - "icount": the average over 1000 calls measured by heapbench itself under
     -icount shift=0 (1 instruction = 1 ns of virtual time).
3. Host: instructions per comb_heap_alloc / comb_heap_free under
   valgrind --tool=callgrind, and ns per pair (bench_heap).
Targets (issue 3): alloc and free <= 30 instructions on the common path
without tracing; allocator code (alloc + free) <= 300 bytes.
"""
import glob
import os
import re
import shutil
import sys
import tempfile

from qemu_exec import QEMU, functions, run, trace_pcs

CASES = ["alloc_common", "free_common", "alloc_bump", "alloc_last_pool", "free_last_pool",
         "alloc_worst", "alloc_fail", "realloc_in_place", "realloc_move"]
CORE = ("comb_heap_alloc", "comb_heap_free", "other_heap")


def heap_object(fw, image):
    hits = glob.glob(f"{fw}/examples/heapbench/CMakeFiles/{image}_heap.dir/**/heap.c.obj", recursive=True)
    return hits[0] if hits else None


def code_size(fw):
    rows = []
    for image, label in (("heapbench", "Cortex-M3, no tracing"), ("heapbench_trace", "Cortex-M3, tracing"),
                         ("heapbench_m0", "Cortex-M0, no tracing")):
        obj = heap_object(fw, image)
        if obj is None:
            continue
        f = functions(obj)
        size = {k: v[1] for k, v in f.items()}
        core = sum(size.get(k, 0) for k in CORE)
        total = sum(size.values())
        rows.append((label, size.get("comb_heap_alloc", 0), size.get("comb_heap_free", 0),
                     size.get("other_heap", 0), core, size.get("take", 0),
                     size.get("comb_heap_realloc_caller", 0), size.get("comb_heap_calloc_caller", 0), total))
    print("Code size in bytes (-Os, arm-none-eabi-gcc; from nm -S of heap.c's object):")
    print("| build | comb_heap_alloc | comb_heap_free | other_heap | alloc + free | take (realloc/calloc) "
          "| realloc | calloc | all of heap.c |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(str(x) for x in r) + " |")
    return rows


def icount_figures(fw, comb, image):
    elf = f"{fw}/examples/heapbench/{image}.elf"
    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, "out.bin")
        r = run([*QEMU, "-serial", f"file:{raw}", "-kernel", elf], timeout=300)
        if r.returncode != 0:
            raise SystemExit(f"heap_bench: {image} exited {r.returncode}")
        out = run([comb, "log", "--quiet", "--no-ack", f"file:{raw}", ":0"], timeout=60).stdout
    figs = {m.group(1): int(m.group(2)) / 100.0 for m in re.finditer(r"heapbench (\w+) (\d+)", out)}
    if "done" not in out:
        raise SystemExit(f"heap_bench: {image} did not finish: {out!r}")
    return figs


def path_figures(fw, image, listing_cases=()):
    """Instructions executed inside heap.c's functions for one call of each case."""
    elf = f"{fw}/examples/heapbench/{image}.elf"
    obj = heap_object(fw, image)
    names = set(functions(obj)) if obj else set()
    syms = functions(elf)
    ranges = [(a, a + s, n) for n, (a, s) in syms.items() if n in names]
    mark = syms["bench_mark"][0]
    dis = {}
    for ln in run(["arm-none-eabi-objdump", "-d", "--no-show-raw-insn", elf]).stdout.splitlines():
        m = re.match(r"\s+([0-9a-f]+):\s+(.*)", ln)
        if m:
            dis[int(m.group(1), 16)] = m.group(2).strip()
    pcs = trace_pcs(elf, f"heap_bench: {image} (path mode)",
                    ["-device", "loader,addr=0x20300000,data=0xC0FFEE01,data-len=4"])
    marks = [i for i, pc in enumerate(pcs) if pc == mark]
    if len(marks) != 2 * len(CASES):
        raise SystemExit(f"heap_bench: expected {2 * len(CASES)} bench_mark calls, saw {len(marks)}")
    result = {}
    for k, case in enumerate(CASES):
        seg = pcs[marks[2 * k]:marks[2 * k + 1]]
        inside = [pc for pc in seg if any(a <= pc < b for a, b, _ in ranges)]
        result[case] = len(inside)
        if case in listing_cases:
            print(f"\n{image}: {case}, {len(inside)} instructions executed in the allocator:")
            for pc in inside:
                fn = next(n for a, b, n in ranges if a <= pc < b)
                print(f"  {pc:08x}  {fn:<18} {dis.get(pc, '?')}")
    return result


def callgrind(build):
    exe = f"{build}/bench/bench_heap"
    if not os.path.exists(exe):
        return None
    speed = run([exe]).stdout.strip()
    if not shutil.which("valgrind"):
        return speed, None, None
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.out")
        n = 100000
        r = run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--toggle-collect=bench_pairs",
                 exe, "--pairs", str(n)])
        if r.returncode != 0:
            return speed, None, None
        ann = run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", out]).stdout
    per = {}
    for fn in ("comb_heap_alloc", "comb_heap_free"):
        m = re.search(r"^\s*([\d,]+) \([^)]*\)\s+=> \S+:" + fn + r" \((\d[\d,]*)x\)", ann, re.M)
        if m:
            ir, calls = int(m.group(1).replace(",", "")), int(m.group(2).replace(",", ""))
            per[fn] = ir / calls
    return speed, per.get("comb_heap_alloc"), per.get("comb_heap_free")


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    build = os.path.abspath(sys.argv[1])
    listing = "--listing" in sys.argv
    fw = f"{build}/firmware-arm"
    comb = f"{build}/host/comb"
    if not os.path.exists(f"{fw}/examples/heapbench/heapbench.elf"):
        print(f"heap_bench: {fw}/examples/heapbench/heapbench.elf not built (COMB_BUILD_FIRMWARE=ON)",
              file=sys.stderr)
        return 1
    gcc = run(["arm-none-eabi-gcc", "--version"]).stdout.splitlines()[0]
    qemu = run(["qemu-system-arm", "--version"]).stdout.splitlines()[0]
    print(f"toolchain: {gcc}; {qemu}\n")
    sizes = code_size(fw)

    ic = {img: icount_figures(fw, comb, img) for img in ("heapbench", "heapbench_trace", "heapbench_m0")}
    pth = {"heapbench": path_figures(fw, "heapbench", ("alloc_common", "free_common") if listing else ()),
           "heapbench_m0": path_figures(fw, "heapbench_m0", ())}
    print("\nInstructions per call (heapbench layout: 8 pools; 'last pool' = 7 pools skipped; worst = the "
          "request falls through all 8 pools to the last one's never-used blocks):")
    print("| path | M3 path (QEMU trace) | M3 -icount | M3 tracing compiled in, port 31 off | M0 path | M0 -icount |")
    print("|---|---|---|---|---|---|")
    for c in CASES:
        print(f"| {c} | {pth['heapbench'][c]} | {ic['heapbench'][c]:.0f} | {ic['heapbench_trace'][c]:.0f} "
              f"| {pth['heapbench_m0'][c]} | {ic['heapbench_m0'][c]:.0f} |")
    for c in ("alloc_common_traced", "free_common_traced"):
        if c in ic["heapbench_trace"]:
            print(f"| {c} (port 31 on: event emitted to the UART transport) | | "
                  f"{ic['heapbench_trace'][c]:.0f} | | | |")

    cg = callgrind(build)
    if cg:
        speed, a, f = cg
        print(f"\nHost (x86-64, release build): {speed}")
        if a is not None and f is not None:
            print(f"callgrind: comb_heap_alloc {a:.1f} instructions, comb_heap_free {f:.1f}, "
                  f"pair {a + f:.1f} (common path, C11 atomics, ABA-tagged head)")

    alloc, free = pth["heapbench"]["alloc_common"], pth["heapbench"]["free_common"]
    core = sizes[0][4] if sizes else None
    print("\nTargets (Cortex-M3 -Os, no tracing):")
    print(f"  alloc common path {alloc} instructions (target <= 30): {'met' if alloc <= 30 else 'MISSED'}")
    print(f"  free common path  {free} instructions (target <= 30): {'met' if free <= 30 else 'MISSED'}")
    if core is not None:
        print(f"  alloc + free code {core} bytes (target <= 300): {'met' if core <= 300 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

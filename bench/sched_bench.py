#!/usr/bin/env python3
"""Thread dispatch overhead (docs/scheduler.md), run by scripts/bench.sh.

    bench/sched_bench.py BUILD_DIR [--listing]

From a build tree that holds the cross-built firmware (BUILD_DIR/firmware-arm):

1. Instructions, Cortex-M3 -Os, counted on a QEMU instruction trace
   (-singlestep -d exec: every executed instruction once) of schedbench:
   - wakeup to work: from the wakeup call (after bench_mark(case) returns) to
     the first instruction of the work: the bare IRQ handler, or the fiber
     callback of the woken thread;
   - work to resumed: from the work's return to bench_mark(0) (the handler's
     epilogue, exception return, back in the code that woke it);
   for a bare interrupt handler doing the same work, a thread with port 30
   disabled, and with port 30 enabled (five events to the UART transport).
   Exception entry and return are hardware, not instructions: on a Cortex-M3
   they add 12 and 10 cycles to every case alike. The median of 5 runs;
   --listing prints one path of each case against the disassembly.
2. Code size of the runtime's objects (arm-none-eabi-size, as linked into
   the board library) and of the fibers example.
"""
import glob
import os
import re
import statistics
import sys

from qemu_exec import functions, run, trace_pcs

CASES = {1: "bare IRQ handler", 2: "thread, port 30 off", 3: "thread, port 30 on (traced)"}
RUNTIME = ("mpsc_list.c", "thread.c", "fiber.c", "fiber_pool.c", "future.c", "pulse.c", "timer.c")


def measure(fw, listing):
    elf = f"{fw}/examples/schedbench/schedbench.elf"
    syms = functions(elf)
    mark = syms["bench_mark"]
    work = {1: syms["IRQ30_Handler"], 2: syms["bench_fiber_step"], 3: syms["bench_fiber_step"]}
    # the case number is the argument in r0: read it from the `movs r0, #N`
    # before each call instead of trusting the order
    dis = {}
    for ln in run(["arm-none-eabi-objdump", "-d", "--no-show-raw-insn", elf]).stdout.splitlines():
        m = re.match(r"\s+([0-9a-f]+):\s+(.*)", ln)
        if m:
            dis[int(m.group(1), 16)] = m.group(2).strip()
    pcs = trace_pcs(elf, "sched_bench: schedbench")
    in_mark = lambda pc: mark[0] <= pc < mark[0] + mark[1]
    entries = [i for i, pc in enumerate(pcs) if pc == mark[0]]
    order = [1, 0, 2, 0, 3, 0] * 5
    if len(entries) != len(order):
        raise SystemExit(f"sched_bench: expected {len(order)} bench_mark calls, saw {len(entries)}")
    results = {c: {"entry": [], "exit": [], "path": None} for c in CASES}
    for k in range(0, len(order), 2):
        case = order[k]
        seg = pcs[entries[k]:entries[k + 1]]
        seg = [pc for pc in seg if not in_mark(pc)]  # bench_mark's own instructions
        w0, wn = work[case]
        first = next(i for i, pc in enumerate(seg) if pc == w0)
        last = max(i for i, pc in enumerate(seg) if w0 <= pc < w0 + wn)
        results[case]["entry"].append(first)
        results[case]["exit"].append(len(seg) - last - 1)
        results[case]["path"] = seg
    if listing:
        names = sorted((a, a + s, n) for n, (a, s) in syms.items())
        for case, label in CASES.items():
            seg = results[case]["path"]
            print(f"\n{label}: {len(seg)} instructions from the wakeup call to bench_mark(0):")
            for pc in seg:
                fn = next((n for a, b, n in names if a <= pc < b), "?")
                print(f"  {pc:08x}  {fn:<24} {dis.get(pc, '?')}")
    return {c: (statistics.median(r["entry"]), statistics.median(r["exit"])) for c, r in results.items()}


def sizes(fw):
    print("Code size in bytes (-Os, Cortex-M3; arm-none-eabi-size of the objects in the board library):")
    print("| object | text | data | bss |")
    print("|---|---:|---:|---:|")
    total = [0, 0, 0]
    for src in RUNTIME:
        hits = glob.glob(f"{fw}/**/comb_board_mps2-an385.dir/**/{src}.obj", recursive=True)
        if not hits:
            continue
        out = run(["arm-none-eabi-size", hits[0]]).stdout.splitlines()
        t, d, b = (int(x) for x in out[1].split()[:3])
        total = [total[0] + t, total[1] + d, total[2] + b]
        print(f"| {src} | {t} | {d} | {b} |")
    print(f"| all | {total[0]} | {total[1]} | {total[2]} |")
    print("(objects hold every function; an image keeps only those it calls, --gc-sections)")
    for ex in ("fibers", "schedbench"):
        elf = f"{fw}/examples/{ex}/{ex}.elf"
        if os.path.exists(elf):
            t, d, b = (int(x) for x in run(["arm-none-eabi-size", elf]).stdout.splitlines()[1].split()[:3])
            print(f"examples/{ex}: text {t}, data {d}, bss {b}")


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    build = os.path.abspath(sys.argv[1])
    fw = f"{build}/firmware-arm"
    if not os.path.exists(f"{fw}/examples/schedbench/schedbench.elf"):
        print(f"sched_bench: {fw}/examples/schedbench/schedbench.elf not built (COMB_BUILD_FIRMWARE=ON)",
              file=sys.stderr)
        return 1
    gcc = run(["arm-none-eabi-gcc", "--version"]).stdout.splitlines()[0]
    qemu = run(["qemu-system-arm", "--version"]).stdout.splitlines()[0]
    print(f"toolchain: {gcc}; {qemu}\n")
    res = measure(fw, "--listing" in sys.argv)
    bare = res[1]
    print("Instructions (Cortex-M3 -Os, QEMU trace; median of 5):")
    print("| case | wakeup to work | work to resumed | total | over the bare handler |")
    print("|---|---:|---:|---:|---:|")
    for case, label in CASES.items():
        e, x = res[case]
        print(f"| {label} | {e:.0f} | {x:.0f} | {e + x:.0f} | {e + x - bare[0] - bare[1]:+.0f} |")
    print()
    sizes(fw)
    return 0


if __name__ == "__main__":
    sys.exit(main())

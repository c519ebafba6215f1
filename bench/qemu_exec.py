"""What heap_bench.py and sched_bench.py share: running a firmware image in
QEMU (mps2-an385, -icount shift=0) with an instruction trace, and reading
function symbols with arm-none-eabi-nm."""
import os
import re
import subprocess
import tempfile

QEMU = ["qemu-system-arm", "-M", "mps2-an385", "-display", "none", "-monitor", "none",
        "-semihosting-config", "enable=on,target=native", "-icount", "shift=0"]


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def functions(path):
    """name -> (start, size) of the function symbols of an object or ELF
    (start without the Thumb bit)."""
    out = run(["arm-none-eabi-nm", "-S", "--defined-only", path]).stdout
    syms = {}
    for ln in out.splitlines():
        p = ln.split()
        if len(p) == 4 and p[2] in "tT":
            syms[p[3]] = (int(p[0], 16) & ~1, int(p[1], 16))
    return syms


def trace_pcs(elf, what, extra=()):
    """Program counters of every executed instruction of `elf`, in order
    (-singlestep -d exec,nochain: each instruction once; a translation block
    QEMU rewinds and re-executes is counted once). `extra`: more QEMU
    arguments (e.g. a loader device). Exits with a message naming `what`
    when QEMU does not exit 0."""
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "exec.log")
        r = run([*QEMU, "-singlestep", "-d", "exec,nochain", "-D", log, *extra,
                 "-serial", f"file:{os.path.join(tmp, 'o.bin')}", "-kernel", elf], timeout=300)
        if r.returncode != 0:
            raise SystemExit(f"{what} exited {r.returncode}")
        pcs = []
        with open(log) as f:
            for ln in f:
                if ln.startswith("Trace"):
                    m = re.search(r"\[[0-9a-f]+/([0-9a-f]+)/", ln)
                    if m:
                        pcs.append(int(m.group(1), 16))
                elif "rewound execution of TB to" in ln:
                    pc = int(ln.rsplit(" ", 1)[1], 16)
                    if pcs and pcs[-1] == pc:
                        pcs.pop()  # re-executed: count it once
    return pcs

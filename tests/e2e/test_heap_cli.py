"""`comb heap` end to end on synthetic sessions and imported Drone traces:
header (the firmware's build step), import with its warnings, report (Drone's
table byte for byte, JSON, --elf), generate (Drone's output format, the size
refusal, --write round trip, c-header), verify exit codes, bad input."""
import json
import os
import re
import shutil
import struct
import subprocess

import pytest

from combdb import connect_db

KEY = 0xC5ACCE55


# ---- Drone heaptrace files -----------------------------------------------------------

def _w(x):
    return struct.pack("<I", (x ^ KEY) & 0xFFFFFFFF)


def d_alloc(s, bug=False, h=0xA1):
    hi = (s >> 24) if bug else (s >> 8)
    return _w(h << 24 | (hi & 0xFFFFFF)) + _w((h + 1) << 24 | (s & 0xFF))


def d_dealloc(s, bug=False):
    return d_alloc(s, bug, 0xD1)


def d_resize(old, new, bug=False):
    h = 0xB1 if new > old else 0xC1
    hi = (old >> 24) if bug else (old >> 8)
    return (_w(h << 24 | (hi & 0xFFFFFF)) + _w((h + 1) << 24 | (old & 0xFF) << 16 | new >> 16)
            + _w((h + 2) << 24 | (new & 0xFFFF)))


def book_trace():
    """The drone-book example: sizes:max 1:1, 12:3, 28:1, 32:1, 128:1."""
    out = d_alloc(1)
    for _ in range(2):
        out += d_alloc(12) * 3 + d_dealloc(12) * 3
    out += d_alloc(12) + d_dealloc(12)
    for _ in range(2):
        out += d_alloc(28) + d_dealloc(28) + d_alloc(128) + d_dealloc(128)
    return out + d_alloc(32) + d_dealloc(32) + d_dealloc(1)


BOOK_TABLE = (" Block Size | Max Load | Total Allocations \n"
              "------------+----------+-------------------\n"
              "          1 |        1 |                 1 \n"
              "         12 |        3 |                 7 \n"
              "         28 |        1 |                 2 \n"
              "         32 |        1 |                 1 \n"
              "        128 |        1 |                 2 \n"
              "\n"
              "Maximum heap load: 225 / 2.20%\n")


# ---- comb ITM streams ------------------------------------------------------------------

class Stream:
    def __init__(self):
        self.b = bytearray(b"\x00\x00\x00\x00\x00\x80")
        self.ts = 1000

    def swit(self, port, size, v):
        self.b.append(port << 3 | (3 if size == 4 else size))
        self.b += (v & (1 << (8 * size)) - 1).to_bytes(size, "little")

    def event(self, port, typ, fields):
        self.swit(port, 1, typ | len(fields) << 5)
        for size, v in fields:
            self.swit(port, size, v)

    def tick(self):
        self.ts += 25
        return self.ts

    def session_start(self):
        self.event(30, 1, [(2, 1), (4, 25_000_000), (4, 25_000_000), (4, 0x1234), (4, 0x5678), (4, self.ts)])

    def alloc(self, ptr, size, caller=None):
        f = [(4, ptr), (2, size), (4, self.tick())] + ([(4, caller)] if caller else [])
        self.event(31, 8, f)

    def free(self, ptr):
        self.event(31, 9, [(4, ptr), (4, self.tick())])

    def fail(self, size, caller=None):
        self.event(31, 12, [(2, size), (4, self.tick())] + ([(4, caller)] if caller else []))

    def log(self, text):
        for c in text.encode():
            self.swit(0, 1, c)


def workload(callers=(0x100, 0x200, 0x300, 0x400)):
    """Four 24-byte messages and a 100-byte frame at once, then three of 40; a
    failure and a leak at the end."""
    s = Stream()
    s.session_start()
    s.log("boot\n")
    base = 0x2000_0000
    for _ in range(20):
        for i in range(4):
            s.alloc(base + 0x100 + 0x20 * i, 24, callers[0])
        s.alloc(base + 0x400, 100, callers[1])
        for i in range(4):
            s.free(base + 0x100 + 0x20 * i)
        for i in range(3):
            s.alloc(base + 0x200 + 0x40 * i, 40, callers[2])
        s.free(base + 0x400)
        for i in range(3):
            s.free(base + 0x200 + 0x40 * i)
    s.fail(300, callers[3])
    s.alloc(base + 0x700, 8, callers[3])
    return bytes(s.b)


def run(comb, *args, **kw):
    return subprocess.run([comb, *map(str, args)], capture_output=True, text=True, timeout=60, **kw)


@pytest.fixture
def session_db(comb, tmp_path):
    raw = tmp_path / "stream.bin"
    raw.write_bytes(workload())
    db = tmp_path / "heap.db"
    res = run(comb, "heap", "trace", "--db", db, f"file:{raw}")
    assert res.returncode == 0, res.stderr
    return db


DRONE_TOML = """\
# Drone.toml of a project
[memory.flash]
size = "64K"   # flash
origin = 0x08000000
[memory.ram]
size = "20K"
origin = 0x20000000

[heap.main]          # the heap
size = "10K"
pools = [
    { block = "4", capacity = 896 },
    { block = "32", capacity = 208 },
]
# comments after the section stay

[linker]
platform = "arm"
"""


# ---- header ------------------------------------------------------------------------------

def test_header_from_layout(comb, tmp_path):
    toml = tmp_path / "Drone.toml"
    toml.write_text(DRONE_TOML.replace("[linker]", "[heap.dma-buffers]\norigin = 0x20010000\nsize = \"4K\"\n"
                                       "pools = [{ block = \"64\", capacity = 64 }]\n\n[linker]"))
    res = run(comb, "heap", "header", "--layout", toml)
    assert res.returncode == 0, res.stderr
    assert res.stdout == (
        "/* Generated by comb from Drone.toml; do not edit. */\n"
        "#ifndef COMB_HEAP_LAYOUT_H\n#define COMB_HEAP_LAYOUT_H\n\n"
        "/* H(name, NAME) once per heap. */\n"
        "#define COMB_HEAPS(H) H(main, MAIN) H(dma_buffers, DMA_BUFFERS)\n\n"
        "#define COMB_HEAP_MAIN_SIZE 10240u\n"
        "#define COMB_HEAP_MAIN_ORIGIN 0u          /* 0: placed by the linker; else [heap.NAME] origin */\n"
        "#define COMB_HEAP_MAIN_POOL_COUNT 2u\n"
        "/* P(block, capacity) per pool, ascending block size. */\n"
        "#define COMB_HEAP_MAIN_POOLS(P) P(4u, 896u) P(32u, 208u)\n\n"
        "#define COMB_HEAP_DMA_BUFFERS_SIZE 4096u\n"
        "#define COMB_HEAP_DMA_BUFFERS_ORIGIN 536936448u\n"
        "#define COMB_HEAP_DMA_BUFFERS_POOL_COUNT 1u\n"
        "#define COMB_HEAP_DMA_BUFFERS_POOLS(P) P(64u, 64u)\n\n"
        "#endif\n")
    # -o writes the file; an unchanged header is not rewritten (builds stay incremental)
    out = tmp_path / "heap_layout.h"
    assert run(comb, "heap", "header", "--layout", toml, "-o", out).returncode == 0
    assert out.read_text() == res.stdout
    os.utime(out, (1_000_000, 1_000_000))
    assert run(comb, "heap", "header", "--layout", toml, "-o", out).returncode == 0
    assert out.stat().st_mtime == 1_000_000
    # and the header compiles and holds the numbers
    prog = tmp_path / "p.c"
    prog.write_text('#include <stdio.h>\n#include "heap_layout.h"\n#define P(b, c) printf("%u:%u ", b, c);\n'
                    'int main(void) { COMB_HEAP_MAIN_POOLS(P) printf("%u\\n", COMB_HEAP_MAIN_SIZE); return 0; }\n')
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc:
        subprocess.run([cc, "-Wall", "-Werror", "-o", tmp_path / "p", prog, f"-I{tmp_path}"], check=True)
        assert subprocess.run([tmp_path / "p"], capture_output=True, text=True).stdout == "4:896 32:208 10240\n"


def test_header_rejects_bad_layouts(comb, tmp_path):
    toml = tmp_path / "Drone.toml"
    toml.write_text(DRONE_TOML.replace("capacity = 208", "capacity = 207"))
    res = run(comb, "heap", "header", "--layout", toml, "-o", tmp_path / "h.h")
    assert res.returncode == 1
    assert res.stderr == (f"comb heap header: {toml}:10: `heap.main` pools add up to 10208, "
                          "but `heap.main.size` is 10240\n")
    assert not (tmp_path / "h.h").exists()
    toml.write_text(DRONE_TOML.replace('size = "10K"', 'size = "10k"'))
    res = run(comb, "heap", "header", "--layout", toml)
    assert res.returncode == 1 and res.stderr.count("\n") == 1
    assert f"{toml}:10: `heap.main.size`: invalid size string \"10k\"" in res.stderr
    toml.write_text(DRONE_TOML.replace("platform = \"arm\"", "platform = arm"))
    res = run(comb, "heap", "header", "--layout", toml)
    assert res.returncode == 1 and f"{toml}:18: " in res.stderr
    res = run(comb, "heap", "header", "--layout", tmp_path / "missing.toml")
    assert res.returncode == 1 and "No such file" in res.stderr
    assert run(comb, "heap", "header").returncode == 2


# ---- import and report ----------------------------------------------------------------

def test_import_and_report_book_trace(comb, tmp_path):
    trace = tmp_path / "heaptrace"
    trace.write_bytes(book_trace())
    db = tmp_path / "h.db"
    res = run(comb, "heap", "import", "--drone", trace, "--db", db)
    assert res.returncode == 0, res.stderr
    assert "session 1: 26 events (13 allocs, 13 deallocs, 0 grows, 0 shrinks)" in res.stderr
    res = run(comb, "heap", "report", "--db", db, "--size", "10K")
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith(BOOK_TABLE)
    assert "Concurrent peak: 129 bytes in 2 blocks, at event 18\n" in res.stdout
    assert "Live at the end (possible leaks): 0 blocks, 0 bytes\n" in res.stdout
    # the heap size can come from a Drone.toml (./Drone.toml by default, like Drone)
    (tmp_path / "Drone.toml").write_text(DRONE_TOML)
    res = run(comb, "heap", "report", "--db", db, cwd=tmp_path)
    assert res.stdout.startswith(BOOK_TABLE)
    res = run(comb, "heap", "report", "--db", db, "--json")
    rep = json.loads(res.stdout)
    assert rep["session"] == 1
    assert rep["report"]["max_heap_load"] == 225
    assert [(s["size"], s["max_load"], s["total"]) for s in rep["report"]["sizes"]] == \
        [(1, 1, 1), (12, 3, 7), (28, 1, 2), (32, 1, 1), (128, 1, 2)]
    assert rep["report"]["peak_bytes"]["bytes"] == 129


def test_import_warns_about_v014_defects(comb, tmp_path):
    # drone-core v0.14: 300 recorded as 44; a Vec grown through Allocator::grow traced twice
    data = (d_alloc(12, True) + d_resize(12, 300, True) + d_alloc(300, True) + d_dealloc(12, True)
            + d_alloc(1024, True) + d_dealloc(300, True) + d_alloc(8))
    data += b"\x00\x00\x00\x00" + b"\x55"  # one unknown word, half a word
    trace = tmp_path / "heaptrace"
    trace.write_bytes(data)
    db = tmp_path / "h.db"
    res = run(comb, "heap", "import", "--drone", trace, "--db", db)
    assert res.returncode == 0, res.stderr
    err = res.stderr
    assert "1 words with an unknown header and 0 broken frames skipped (the first at byte 60)" in err
    assert "1 bytes of an incomplete last word ignored" in err
    assert re.search(r"all 7 size words have a zero high part: .* drone-core v0\.12-v0\.14, which records sizes "
                     r"of 256 bytes or more modulo 256 .*evidence: 1 zero-size allocations, 1 resizes to 256 bytes "
                     r"or more, 1 duplicate allocations showing the size modulo 256, 1 frees matched only modulo 256",
                     err), err
    assert "1 resizes were traced twice" in err
    con = connect_db(db)
    kinds = con.execute("SELECT kind, size, old_size FROM heap_event ORDER BY seq").fetchall()
    settings = json.loads(con.execute("SELECT settings FROM session").fetchone()[0])
    con.close()
    assert kinds == [("alloc", 12, None), ("realloc", 300, 12), ("alloc", 0, None), ("free", 44, None),
                     ("alloc", 8, None)]
    assert settings["double_traced"] == 1 and settings["size_truncation_suspected"] is True
    # not a heaptrace at all: refused, one line
    junk = tmp_path / "junk"
    junk.write_bytes(b"hello world, this is text\n" * 4)
    res = run(comb, "heap", "import", "--drone", junk, "--db", db)
    assert res.returncode == 1 and res.stderr.count("\n") == 1 and "not a Drone heaptrace" in res.stderr
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert run(comb, "heap", "import", "--drone", empty, "--db", db).returncode == 1


def test_report_of_a_capture(comb, session_db, firmware, tmp_path):
    res = run(comb, "heap", "report", "--db", session_db)
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "Maximum heap load: 324\n" in out  # no heap size known: no percentage
    assert re.search(r"Concurrent peak: 220 bytes in 4 blocks, at 0\.0000\d+ s \(event \d+\)", out), out
    assert "Most blocks live: 5 blocks (196 bytes)" in out
    assert "Failed allocations: 1\n  300 bytes at" in out
    assert re.search(r"Live at the end \(possible leaks\): 1 blocks, 8 bytes\n +size +blocks +oldest +caller\n"
                     r" +8 +1 +0\.\d+ s \(event \d+\) +0x00000400\n", out), out
    assert re.search(r"Top allocation sites \(of 4\):\n.*\n +80 +1920 +0 +0 +0x00000100\n", out), out
    rep = json.loads(run(comb, "heap", "report", "--db", session_db, "--json").stdout)["report"]
    assert rep["failures"]["count"] == 1 and rep["failures"]["first"][0]["caller"] == {"addr": 0x400}
    assert rep["live_at_end"]["groups"][0]["size"] == 8
    assert rep["peak_bytes"]["when"]["seconds"] > 0

    # --elf: callers named from the firmware's symbol table
    elf = firmware("hello")
    nm = subprocess.run(["arm-none-eabi-nm", elf], capture_output=True, text=True)
    if nm.returncode != 0:
        pytest.skip("arm-none-eabi-nm not available")
    syms = {l.split()[2]: int(l.split()[0], 16) for l in nm.stdout.splitlines()
            if len(l.split()) == 3 and l.split()[1] in "tT"}
    main = syms["main"] & ~1
    raw = tmp_path / "elf.bin"
    raw.write_bytes(workload(callers=(main + 0x11, main + 0x21, main + 0x31, main + 0x41)))
    db = tmp_path / "elf.db"
    assert run(comb, "heap", "trace", "--db", db, f"file:{raw}").returncode == 0
    res = run(comb, "heap", "report", "--db", db, "--elf", elf)
    assert res.returncode == 0, res.stderr
    assert re.search(r" 80 +1920 +0 +0  main\+0x10( \(\S+:\d+\))?\n", res.stdout), res.stdout
    res = run(comb, "heap", "report", "--db", db, "--elf", tmp_path / "elf.bin")
    assert res.returncode == 1 and "not a little-endian ELF file" in res.stderr


# ---- generate and verify ----------------------------------------------------------------

def test_generate_drone_format(comb, tmp_path):
    trace = tmp_path / "heaptrace"
    trace.write_bytes(book_trace())
    db = tmp_path / "h.db"
    assert run(comb, "heap", "import", "--drone", trace, "--db", db).returncode == 0
    res = run(comb, "heap", "generate", "--db", db, "--pools", 3)
    assert res.returncode == 0, res.stderr
    # time-aware: 28, 32 and 128 are never live together: one 128-byte block serves them
    assert res.stdout == ('[heap.main]\nsize = "168"\npools = [\n'
                          '    { block = "4", capacity = 1 },\n'
                          '    { block = "12", capacity = 3 },\n'
                          '    { block = "128", capacity = 1 },\n]\n')
    assert res.stderr == ("\n" + "=" * 31 + " OPTIMIZED LAYOUT " + "=" * 31 + "\n"
                          "# fragmentation: 39 / 23.21%\n"
                          "# hint: replace the existing [heap.main] section in Drone.toml\n")
    # with --size: the spare memory shared out, Drone's size strings
    res = run(comb, "heap", "generate", "--db", db, "--pools", 3, "--size", "10K", "--heap", "big-heap")
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith('[heap.big-heap]\nsize = "10K"\n')
    assert "# hint: replace the existing [heap.big-heap] section in Drone.toml\n" in res.stderr
    # too small: refused with the minimum
    res = run(comb, "heap", "generate", "--db", db, "--pools", 3, "--size", 100)
    assert res.returncode == 1 and res.stdout == ""
    assert res.stderr == ("comb heap generate: --size 100 is too small: session 1 needs at least 168 bytes with at "
                          "most 3 pools; use --size 168 or more\n")
    assert run(comb, "heap", "generate", "--db", db, "--pools", 3, "--size", 168).returncode == 0
    # the margin: ceil(peak x pct / 100) more per pool
    res = run(comb, "heap", "generate", "--db", db, "--pools", 3, "--margin", 50)
    assert res.stdout == ('[heap.main]\nsize = "324"\npools = [\n    { block = "4", capacity = 2 },\n'
                          '    { block = "12", capacity = 5 },\n    { block = "128", capacity = 2 },\n]\n')
    # c-header
    res = run(comb, "heap", "generate", "--db", db, "--pools", 2, "--format", "c-header")
    assert res.returncode == 0, res.stderr
    assert "#define COMB_HEAP_MAIN_POOLS(P) P(12u, 4u) P(128u, 1u)\n" in res.stdout
    assert "#define COMB_HEAP_MAIN_SIZE 176u\n" in res.stdout


def test_generate_write_then_verify(comb, session_db, tmp_path):
    toml = tmp_path / "Drone.toml"
    toml.write_text(DRONE_TOML)
    res = run(comb, "heap", "generate", "--db", session_db, "--pools", 4, "--size", "2K", "--write", toml)
    assert res.returncode == 0, res.stderr
    assert f"# wrote [heap.main] to {toml}\n" in res.stderr and "# hint" not in res.stderr
    new = toml.read_text()
    start = DRONE_TOML.index("[heap.main]")
    end = DRONE_TOML.index("# comments after")
    assert new.startswith(DRONE_TOML[:start])
    assert new.endswith(DRONE_TOML[end:])
    assert new[start:len(new) - len(DRONE_TOML[end:])] == res.stdout
    # a comb session: blocks of 4 or multiples of 8 (the allocator's spacing), 300 -> 304;
    # 2048 bytes asked, the 32 left over fit no 40-byte block
    assert res.stdout == ('[heap.main]\nsize = "2016"\npools = [\n    { block = "40", capacity = 20 },\n'
                          '    { block = "304", capacity = 4 },\n]\n')
    # header of the new layout, and verify passes
    assert run(comb, "heap", "header", "--layout", toml).returncode == 0
    res = run(comb, "heap", "verify", "--db", session_db, "--layout", toml)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.splitlines()[-1].startswith("OK: no request fails; smallest headroom: ")
    assert "1 allocations that failed in the session would succeed with this layout" in res.stdout

    # minimal layout: zero headroom; one block less fails, naming the first failing request
    res = run(comb, "heap", "generate", "--db", session_db, "--pools", 2, "--write", toml)
    assert res.returncode == 0
    res = run(comb, "heap", "verify", "--db", session_db, "--layout", toml)
    assert res.returncode == 0 and "smallest headroom: 0 blocks" in res.stdout
    text = toml.read_text()
    m = re.search(r'\{ block = "(\d+)", capacity = (\d+) \},\n\]', text)
    block, cap = int(m.group(1)), int(m.group(2))
    lines = text.replace(m.group(0), f'{{ block = "{block}", capacity = {cap - 1} }},\n]')
    size = int(re.search(r'\[heap.main\]\nsize = "(\d+)"', text).group(1))
    lines = lines.replace(f'[heap.main]\nsize = "{size}"', f'[heap.main]\nsize = "{size - block}"')
    toml.write_text(lines)
    res = run(comb, "heap", "verify", "--db", session_db, "--layout", toml)
    assert res.returncode == 1
    assert re.search(r"^FAIL: \d+ of \d+ requests would fail; the first: \d+ bytes at [\d.]+ s \(event \d+\) "
                     r"from 0x00000\d00 \(", res.stdout, re.M), res.stdout
    # a layout that does not add up is refused with its line
    toml.write_text(DRONE_TOML.replace("capacity = 208", "capacity = 1"))
    res = run(comb, "heap", "verify", "--db", session_db, "--layout", toml)
    assert res.returncode == 1 and f"{toml}:10: `heap.main` pools add up to" in res.stderr
    res = run(comb, "heap", "verify", "--db", session_db, "--layout", toml, "--heap", "nope")
    assert res.returncode == 1 and "no [heap.nope] section" in res.stderr


def test_sessions_and_log_capture(comb, tmp_path):
    """comb log --db stores heap events too; --session picks one; latest by default."""
    raw = tmp_path / "s.bin"
    raw.write_bytes(workload())
    db = tmp_path / "many.db"
    res = run(comb, "log", "--db", db, f"file:{raw}")
    assert res.returncode == 0 and res.stdout == "boot\n"
    s2 = Stream()
    s2.alloc(0x2000_0000, 64)
    raw2 = tmp_path / "s2.bin"
    raw2.write_bytes(bytes(s2.b))
    assert run(comb, "heap", "trace", "--db", db, "--quiet", f"file:{raw2}").returncode == 0
    latest = json.loads(run(comb, "heap", "report", "--db", db, "--json").stdout)
    assert latest["session"] == 2 and latest["report"]["max_heap_load"] == 64
    first = json.loads(run(comb, "heap", "report", "--db", db, "--json", "--session", 1).stdout)
    assert first["session"] == 1 and first["report"]["events"]["fail"] == 1
    res = run(comb, "heap", "report", "--db", db, "--session", 9)
    assert res.returncode == 1 and res.stderr == f"comb heap report: {db}: no session 9 (sessions 1 to 2)\n"


@pytest.mark.parametrize("args, code, msg", [
    (["report"], 2, "--db FILE is required"),
    (["report", "--db", "/nonexistent/x.db"], 1, "No such file"),
    (["report", "--db", "DB", "--session", "x"], 2, "--session needs a session number"),
    (["generate", "--db", "DB"], 2, "--pools N is required"),
    (["generate", "--db", "DB", "--pools", "0"], 2, "--pools must be from 1"),
    (["generate", "--db", "DB", "--pools", "4k"], 2, "--pools '4k'"),
    (["generate", "--db", "DB", "--pools", "4", "--size", "1.5K"], 2, "--size '1.5K'"),
    (["generate", "--db", "DB", "--pools", "4", "--margin", "-3"], 2, "--margin needs a percentage"),
    (["generate", "--db", "DB", "--pools", "4", "--format", "rust"], 2, "--format is drone or c-header"),
    (["verify", "--db", "DB"], 2, "--layout Drone.toml is required"),
    (["report", "--db", "DB", "--frobnicate"], 2, "unknown option '--frobnicate'"),
    (["frobnicate"], 2, "unknown subcommand 'frobnicate'"),
])
def test_bad_input(comb, session_db, args, code, msg):
    res = run(comb, "heap", *[str(session_db) if a == "DB" else a for a in args])
    assert res.returncode == code, res.stderr
    assert msg in res.stderr and res.stderr.count("\n") == 1, res.stderr
    assert res.stdout == ""


def test_generate_empty_session(comb, tmp_path):
    s = Stream()
    s.session_start()
    raw = tmp_path / "e.bin"
    raw.write_bytes(bytes(s.b))
    db = tmp_path / "e.db"
    assert run(comb, "heap", "trace", "--db", db, f"file:{raw}").returncode == 0
    res = run(comb, "heap", "generate", "--db", db, "--pools", 8)
    assert res.returncode == 1 and "has no allocations; give --size" in res.stderr
    # Drone's default layout for an empty trace (drone-book heap.md), TOML only
    res = run(comb, "heap", "generate", "--db", db, "--pools", 8, "--size", "10K")
    assert res.returncode == 0 and res.stderr == ""
    assert res.stdout == ('[heap.main]\nsize = "10K"\npools = [\n'
                          '    { block = "4", capacity = 118 },\n    { block = "8", capacity = 148 },\n'
                          '    { block = "20", capacity = 82 },\n    { block = "56", capacity = 34 },\n'
                          '    { block = "116", capacity = 16 },\n    { block = "208", capacity = 8 },\n'
                          '    { block = "336", capacity = 3 },\n    { block = "512", capacity = 1 },\n]\n')

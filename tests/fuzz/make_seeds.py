#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into OUTDIR/<target>/:
the golden vectors of trace-protocol/vectors (their `bytes:`), the OpenCSD ITM
captures (raw and TPIU-formatted), a generated comb session, Drone.toml and
heaptrace samples when those targets exist, and a few selectors."""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORPORA = ROOT.parent / "shared" / "corpora" / "opencsd-itm"
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
import itm_stream  # noqa: E402


def vectors():
    for vec in sorted((ROOT / "trace-protocol" / "vectors").glob("*.vec")):
        name, data = None, bytearray()
        for line in vec.read_text().splitlines() + ["vector: end"]:
            line = line.split("#", 1)[0].strip()
            if line.startswith("vector:"):
                if name and data:
                    yield f"{vec.stem}_{name}", bytes(data)
                name, data = line.split(":", 1)[1].strip(), bytearray()
            elif line.startswith("bytes:"):
                data += bytes.fromhex(line.split(":", 1)[1])


def write(d: Path, name, data):
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


def main(out: Path):
    sync = itm_stream.SYNC
    raw = (CORPORA / "itm_only_raw" / "itm_testdata.bin").read_bytes()
    framed = (CORPORA / "itm_only_csformat" / "itm_testdata_ID_0x14.bin").read_bytes()
    session, _ = itm_stream.generate(3000, seed=99)

    itm = out / "itm_decoder"  # control byte (bit 0: assume sync), then the stream
    for name, data in vectors():
        write(itm, name + "_wait", b"\x00" + sync + data)
        write(itm, name + "_assume", b"\x01" + data)
    write(itm, "opencsd_raw", b"\x00" + raw)
    write(itm, "opencsd_raw_assume", b"\x21" + raw)
    write(itm, "comb_session", b"\x40" + session)

    tp = out / "tpiu"  # trace ID byte, chunking byte, then the frames
    write(tp, "opencsd_id14", bytes([0x13, 0]) + framed)       # 1 + 0x13 % 111 = 0x14
    write(tp, "opencsd_id14_other", bytes([0x00, 7]) + framed)
    write(tp, "comb_id1_synced", bytes([0, 3]) + itm_stream.tpiu_format({1: session[:1500], 2: raw}, seed=3))

    sel = out / "output_selector"
    for i, s in enumerate([":0:1", "heap.bin:31", "all.bin", "two.bin:2:0", ":32", ":x", "f.bin::1", "a:001",
                           "x" * 600 + ":1"]):
        write(sel, f"sel{i}", s.encode())

    drone = ROOT / "tests" / "fuzz" / "seeds"
    for sub in ("drone_toml", "drone_heaptrace"):
        if (drone / sub).is_dir():
            for f in (drone / sub).iterdir():
                write(out / sub, f.name, f.read_bytes())


if __name__ == "__main__":
    main(Path(sys.argv[1]))

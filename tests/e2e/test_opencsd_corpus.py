"""`comb decode --json` on the OpenCSD ITM test capture, checked against OpenCSD's own listing.

Corpus: ../shared/corpora/opencsd-itm (see its README.md). `expected/itm_only_raw.ppl` is the output
of OpenCSD's trc_pkt_lister on `itm_only_raw/itm_testdata.bin`; its packet lines look like

    Idx:35; ID:0; [0x0a 0x45 0x23 ];<TAB>ITM_SWIT: {src id: 0x01}  0x2345; 'Software Stimulus write packet'

Every packet line is compared with comb's packet at the same position: offset, length, raw bytes, type
and the decoded fields. OpenCSD splits the 16 unsynchronised bytes at the start into several
ITM_NOTSYNC packets; comb reports them as one "error"/"nosync" packet.
"""
import json
import re
import subprocess
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpora" / "opencsd-itm"
CAPTURE = CORPUS / "itm_only_raw" / "itm_testdata.bin"
LISTING = CORPUS / "expected" / "itm_only_raw.ppl"

PACKET_LINE = re.compile(
    r"^Idx:(\d+); ID:[0-9a-fA-F]+; \[((?:0x[0-9a-fA-F]{2} )*)\];\t(ITM_[A-Z0-9_]+):(.*)$")
ELEMENT_SWIT = re.compile(
    r"^Idx:(\d+); ID:[0-9a-fA-F]+; OCSD_GEN_TRC_ELEM_ITMTRACE\(.*ITM_SWIT \(ch: 0x([0-9a-fA-F]+); "
    r"Data: 0x([0-9a-fA-F]+)\)")

TYPES = {
    "ITM_ASYNC": "sync",
    "ITM_OVERFLOW": "overflow",
    "ITM_SWIT": "swit",
    "ITM_DWT": "hwit",
    "ITM_TS_LOCAL": "lts",
    "ITM_GTS_1": "gts1",
    "ITM_GTS_2": "gts2",
    "ITM_EXTENSION": "ext",
}

# OpenCSD's labels for the local timestamp TC field (trc_pkt_elem_itm.cpp)
LTS_TC = {
    "TS Sync": 0,
    "TS Delayed": 1,
    "TS Sync, Packet Delayed": 2,
    "TS Delayed, Packet Delayed": 3,
}


def parse_listing():
    """Returns (packet lines as dicts, {offset: (channel, data)} from the SWIT element lines)."""
    packets, swit_elements = [], {}
    for line in LISTING.read_text().splitlines():
        m = PACKET_LINE.match(line)
        if m:
            packets.append({
                "idx": int(m.group(1)),
                "bytes": bytes(int(b, 16) for b in m.group(2).split()),
                "kind": m.group(3),
                "text": m.group(4).strip(),
            })
            continue
        m = ELEMENT_SWIT.match(line)
        if m:
            swit_elements[int(m.group(1))] = (int(m.group(2), 16), int(m.group(3), 16))
    return packets, swit_elements


def hex_after_brace(text: str) -> int:
    """The first 0x number after the closing brace: `{src id: 0x01}  0x2345; '...'` -> 0x2345."""
    m = re.search(r"\}\s*0x([0-9a-fA-F]+)", text)
    assert m, f"no value in {text!r}"
    return int(m.group(1), 16)


@pytest.fixture(scope="module")
def decoded(comb):
    assert CAPTURE.is_file(), f"corpus missing: {CAPTURE}"
    run = subprocess.run([comb, "decode", "--json", str(CAPTURE)], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines, "no output"
    return [json.loads(line) for line in lines]


def test_output_is_one_object_per_line_tiling_the_file(decoded):
    data = CAPTURE.read_bytes()
    assert len(data) == 261
    pos = 0
    for p in decoded:
        assert isinstance(p, dict)
        assert p["type"] in {"sync", "overflow", "swit", "hwit", "lts", "gts1", "gts2", "ext", "error"}
        assert p["offset"] == pos, p
        assert p["length"] >= 1
        n = min(p["length"], 8)
        assert bytes.fromhex(p["raw"]) == data[pos:pos + n], p
        pos += p["length"]
    assert pos == len(data)


def test_packets_match_opencsd_listing(decoded):
    listing, swit_elements = parse_listing()
    data = CAPTURE.read_bytes()

    notsync = [e for e in listing if e["kind"] == "ITM_NOTSYNC"]
    rest = [e for e in listing if e["kind"] != "ITM_NOTSYNC"]
    assert len(notsync) == 4 and len(rest) == 75
    assert listing[:4] == notsync, "the NOTSYNC packets come first"

    # OpenCSD's NOTSYNC chunks = comb's single nosync packet over bytes 0-15
    skipped = b"".join(e["bytes"] for e in notsync)
    assert skipped == data[:len(skipped)] and len(skipped) == 16
    first = decoded[0]
    assert first["type"] == "error" and first["error"] == "nosync"
    assert first["offset"] == 0 and first["length"] == 16 and first["skipped"] == 16

    assert len(decoded) == 1 + len(rest), [p["type"] for p in decoded]
    page = 0
    for exp, got in zip(rest, decoded[1:]):
        where = f"Idx {exp['idx']} {exp['kind']} {exp['text']!r} vs {got}"
        raw = exp["bytes"]
        kind, text = exp["kind"], exp["text"]
        assert got["type"] == TYPES[kind], where
        assert got["offset"] == exp["idx"], where
        assert got["length"] == len(raw), where
        assert data[exp["idx"]:exp["idx"] + len(raw)] == raw or kind == "ITM_GTS_1", where
        if kind == "ITM_GTS_1" and len(raw) == 5:
            # listing quirk: OpenCSD prints the last GTS1 byte with the flag bits 6:5 cleared
            wire = bytes.fromhex(got["raw"])
            assert wire[:4] == raw[:4] and wire[4] & 0x9F == raw[4], where
        else:
            assert bytes.fromhex(got["raw"]) == raw[:8], where

        if kind == "ITM_ASYNC":
            page = 0
        elif kind == "ITM_SWIT":
            addr = int(re.search(r"\{src id: 0x([0-9a-fA-F]+)\}", text).group(1), 16)
            assert got["port"] == page * 32 + addr, where
            assert got["size"] == len(raw) - 1, where
            assert got["value"] == hex_after_brace(text), where
            # the decoded element carries the full channel, page included
            ch, value = swit_elements[exp["idx"]]
            assert (got["port"], got["value"]) == (ch, value), where
        elif kind == "ITM_DWT":
            disc = int(re.search(r"\{desc: 0x([0-9a-fA-F]+)\}", text).group(1), 16)
            assert got["port"] == disc, where
            assert got["size"] == len(raw) - 1, where
            assert got["value"] == int.from_bytes(raw[1:], "little"), where
        elif kind == "ITM_TS_LOCAL":
            m = re.match(r"0x([0-9a-fA-F]+) \{ ([^}]*?) \}", text)
            assert m, where
            assert got["value"] == int(m.group(1), 16), where
            assert got["tc"] == LTS_TC[m.group(2)], where
        elif kind == "ITM_GTS_1":
            assert got["value"] == hex_after_brace(text), where
            assert got["size"] == len(raw) - 1, where
            assert got["clkch"] == ("Clk change" in text), where
            assert got["wrap"] == ("Clk wrap" in text), where
        elif kind == "ITM_GTS_2":
            assert got["value"] == hex_after_brace(text), where
            assert got["size"] == (6 if "[63:26]" in text else 4), where
            assert got["size"] == len(raw) - 1, where
        elif kind == "ITM_EXTENSION":
            assert "{stim port page}" in text, where
            assert got["sh"] == 0, where
            assert got["value"] == hex_after_brace(text), where
            page = got["value"]

    counts = {}
    for p in decoded:
        counts[p["type"]] = counts.get(p["type"], 0) + 1
    # README "Packet counts per section", NOTSYNC folded into one error
    assert counts == {"error": 1, "sync": 5, "overflow": 4, "swit": 20, "hwit": 15, "lts": 14,
                      "gts1": 10, "gts2": 4, "ext": 3}

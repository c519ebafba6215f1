"""The link-loss and TPIU counters of a capture are session columns (schema version 4, docs/schema.md).

`comb log --tpiu ID` fills tpiu_frames, tpiu_bytes_other, tpiu_realigns and tpiu_bytes_dropped with
the deformatter's counts, the same numbers as the summary line; without --tpiu they stay NULL. The
link_* columns (adapter overruns, line errors, bytes comb's USB buffer dropped) are only known for
the ftdi: and bmp: sources; for files, sockets and ttys they stay NULL. Input: the OpenCSD corpus's
formatted capture (18 frames of trace ID 0x14, see test_decode_tpiu.py).
"""
import re
import subprocess
from pathlib import Path

from combdb import connect_db

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpora" / "opencsd-itm"
FRAMED = CORPUS / "itm_only_csformat" / "itm_testdata_ID_0x14.bin"
COLUMNS = ["tpiu_frames", "tpiu_bytes_other", "tpiu_realigns", "tpiu_bytes_dropped",
           "link_overruns", "link_line_errors", "link_host_dropped"]


def capture(comb, db, *args, stdin=None):
    run = subprocess.run([comb, "log", "--db", str(db), "--no-ack", *args], input=stdin,
                         capture_output=True, timeout=60)
    assert run.returncode == 0, run.stderr.decode()
    con = connect_db(db)
    row = con.execute(f"SELECT {', '.join(COLUMNS)}, bytes, end_reason FROM session ORDER BY id DESC LIMIT 1")
    values = dict(zip(COLUMNS + ["bytes", "end_reason"], row.fetchone()))
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    return values, run.stderr.decode()


def summary_numbers(stderr):
    m = re.search(r"tpiu ID \d+: (\d+) frames, (\d+) bytes of other IDs, (\d+) realigned", stderr)
    assert m, stderr
    return [int(g) for g in m.groups()]


def test_tpiu_counters_are_stored(comb, tmp_path):
    db = tmp_path / "t.db"
    v, err = capture(comb, db, "--tpiu", "0x14", f"file:{FRAMED}")
    assert v["tpiu_frames"] == 18 and v["tpiu_bytes_other"] == 0
    assert v["tpiu_realigns"] == 0 and v["tpiu_bytes_dropped"] == 0
    assert summary_numbers(err) == [v["tpiu_frames"], v["tpiu_bytes_other"], v["tpiu_realigns"]]
    assert v["bytes"] == 261  # the deformatted ITM bytes
    assert v["end_reason"] == "end_of_input"
    # a file cannot tell about the link below it
    assert v["link_overruns"] is None and v["link_line_errors"] is None and v["link_host_dropped"] is None

    # another trace ID: every data byte is counted as belonging to other IDs
    v, err = capture(comb, db, "--tpiu", "0x15", f"file:{FRAMED}")
    assert v["tpiu_frames"] == 18 and v["tpiu_bytes_other"] == 261 and v["bytes"] == 0
    assert summary_numbers(err) == [18, 261, 0]


def test_realignment_and_dropped_bytes_are_stored(comb, tmp_path):
    framed = FRAMED.read_bytes()
    frames = [framed[i:i + 16] for i in range(0, len(framed), 16)]
    # 5 stray bytes, then a full sync: the deformatter drops the partial frame and realigns
    stream = b"".join(frames[:9]) + b"\x01\x02\x03\x04\x05\xff\xff\xff\x7f" + b"".join(frames[9:])
    v, err = capture(comb, tmp_path / "r.db", "--tpiu", "20", "-", stdin=stream)
    assert v["tpiu_frames"] == 18 and v["tpiu_realigns"] == 1 and v["tpiu_bytes_dropped"] == 5
    assert summary_numbers(err) == [18, 0, 1]
    assert v["bytes"] == 261


def test_without_tpiu_every_counter_column_is_null(comb, tmp_path):
    raw = CORPUS / "itm_only_raw" / "itm_testdata.bin"
    v, _ = capture(comb, tmp_path / "n.db", f"file:{raw}")
    assert all(v[c] is None for c in COLUMNS), v
    assert v["bytes"] == 261

"""`make demo`'s script (scripts/demo.sh) against this build tree: it boots the
`fibers` firmware in QEMU, captures it through a pty, and must end with every
report and the dashboard, within a bounded time (a paused QEMU that never gets
its `cont` once made it hang for ever)."""
import os
import re
import subprocess

from combdb import connect_db
from conftest import ROOT, build_dir


def test_demo_script_shows_every_report(tmp_path):
    out = tmp_path / "demo"
    env = dict(os.environ, COMB_DEMO_DIR=str(out))
    res = subprocess.run(["bash", str(ROOT / "scripts" / "demo.sh"), str(build_dir())], env=env,
                         capture_output=True, text=True, timeout=240)
    text = res.stdout
    assert res.returncode == 0, text + res.stderr
    # the firmware's own verdict, through comb's decoder
    assert re.search(r"^fibers: commands 48 done 48 failed 0", text, re.M), text
    assert "== QEMU exit status: 0" in text
    for heading in ("== heap report", "== optimized layout", "== latency report", "== dashboard written: open "):
        assert heading in text, heading
    # the heap report, the layout and its verification, the latency table carry real numbers
    assert re.search(r"Events: 96 \(48 allocations, 48 frees", text), text
    assert re.search(r"^\[heap\.main\]$", text, re.M)
    assert "OK: no request fails" in text
    assert re.search(r"^\s+\d+ background\s+\d+", text, re.M), text
    index = re.search(r"== dashboard written: open (\S+) ==", text).group(1)
    assert os.path.getsize(index) > 1000
    assert (out / "dashboard" / "timeline.png").stat().st_size > 1000
    con = connect_db(out / "demo.db")
    acks, overflows, errors = con.execute("SELECT acks, overflows, decode_errors FROM session").fetchone()
    assert (acks, overflows, errors) == (1, 0, 0)
    assert con.execute("SELECT count(*) FROM sched_event").fetchone()[0] > 1000
    con.close()
    # the generated layout was written into a copy of the shipped Drone.toml, other sections kept
    toml = (out / "Drone.toml").read_text()
    assert "[memory.flash]" in toml and "[heap.main]" in toml

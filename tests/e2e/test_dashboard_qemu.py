"""The dashboard of a real session: the demo firmware in QEMU (mps2-an385),
captured live through a pty by the real `comb log --db` (conftest's
capture_over_pty), drawn by `comb dashboard` with the firmware's own layout.

The image is `fibers` (threads, fibers and heap traffic) when the tree has that
example, else `heapdemo` (heap traffic and log lines; its session has no
scheduler events, so the latency and timeline plots are left out and the page
says why). Every plot the session has data for must be a valid, non-empty PNG
and SVG whose CSV series are not empty.
"""
import subprocess

import dashboard_checks as dc
from combdb import connect_db
from conftest import ROOT, capture_over_pty

IMAGE = "fibers" if (ROOT / "firmware" / "examples" / "fibers").is_dir() else "heapdemo"


def expected_plots(db):
    con = connect_db(db)
    heap = con.execute("SELECT count(*) FROM heap_event").fetchone()[0]
    wakeups = con.execute("SELECT count(*) FROM sched_event WHERE kind = 'wakeup'").fetchone()[0]
    runs = con.execute("SELECT count(*) FROM sched_event WHERE kind = 'enter'").fetchone()[0]
    lines = con.execute("SELECT count(*) FROM log_line").fetchone()[0]
    con.close()
    want = set()
    if heap:
        want |= {"heap_usage", "pool_occupancy", "alloc_sizes"}
    if wakeups and runs:
        want |= {"latency_hist", "latency_cdf"}
    if runs:
        want.add("timeline")
    if lines:
        want.add("log_rate")
    return want


def test_dashboard_of_the_qemu_demo_session(comb, firmware, qemu, tmp_path):
    elf = firmware(IMAGE)
    db = tmp_path / "demo.db"
    rc, log = capture_over_pty(qemu, comb, elf, db, tmp_path)
    assert rc == 0, log.stdout.decode() + log.stderr.decode()
    want = expected_plots(db)
    assert {"heap_usage", "pool_occupancy", "alloc_sizes", "log_rate"} <= want
    if IMAGE == "fibers":
        assert want == set(dc.PLOTS)
    layout = ROOT / "firmware" / "examples" / IMAGE / "Drone.toml"
    out = tmp_path / "dash"
    args = [comb, "dashboard", "--db", str(db), "--out", str(out), "--elf", elf]
    if layout.exists():
        args += ["--layout", str(layout)]
    res = subprocess.run(args, capture_output=True, text=True, timeout=180)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == str(out / "index.html")
    for plot in dc.PLOTS:
        if plot in want:
            dc.check_plot(out, plot)
        else:
            assert not (out / f"{plot}.png").exists() and not (out / f"{plot}.svg").exists()
    page = (out / "index.html").read_text()
    assert page.count('<img class="plot"') == len(want)
    if layout.exists():
        # the firmware ran with this layout, so the replay must serve everything it did
        assert "layout [heap.main]" in page and "serves all" in page
        header, pools = dc.csv_rows(out / "data" / "heap_pools.csv")
        assert all(0 < int(p[3]) <= int(p[2]) for p in pools), "every pool was used, within its capacity"
    # --elf names the threads (fibers) or the allocation sites (heapdemo)
    if IMAGE == "fibers":
        assert "thread 0 (sample)" in page and "thread 4 (background)" in page
        header, rows = dc.csv_rows(out / "data" / "timeline.csv")
        assert "thread 0 (sample)" in {r[1] for r in rows}
    else:
        assert "SysTick_Handler" in page
    if "latency_hist" not in want:
        assert "No scheduler events in this session." in page

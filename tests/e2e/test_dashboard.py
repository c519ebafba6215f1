"""comb dashboard end to end on a synthetic session whose every number is known
(dashboard_streams.py: threads, fibers, wakeups, nested preemption, heap
traffic, log lines), captured by the real `comb log --db`:

- every plot is drawn as a PNG and an SVG that decode, are not blank, and
  whose CSV series hold the session's numbers (latencies, sizes, peaks);
- the gnuplot scripts in dashboards/ redraw a plot on their own from the CSV
  that `comb export csv --plots` writes;
- --layout draws the capacity and replays the pools; --from/--to pick the
  timeline's window;
- index.html, opened from file:// in headless Chromium with no network,
  loads every image and is not blank;
- bad input: one line on stderr and a non-zero status.
"""
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import dashboard_checks as dc
import dashboard_streams as ds
from conftest import ROOT


@pytest.fixture(scope="module")
def session(comb, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dash")
    stream, truth = ds.generate()
    (tmp / "stream.bin").write_bytes(stream)
    db = tmp / "session.db"
    log = subprocess.run([comb, "log", "--db", str(db), "--no-ack", f"file:{tmp / 'stream.bin'}", ":0:2"],
                         capture_output=True, timeout=60)
    assert log.returncode == 0, log.stderr
    return db, truth, tmp


@pytest.fixture(scope="module")
def dashboard(comb, session):
    db, truth, tmp = session
    out = tmp / "dash"
    res = subprocess.run([comb, "dashboard", "--db", str(db), "--out", str(out)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == str(out / "index.html")
    return out, truth


def us(ticks):
    return ticks * 1e6 / ds.TS_HZ


def test_every_plot_is_drawn_with_data(dashboard):
    out, truth = dashboard
    for plot in dc.PLOTS:
        dc.check_plot(out, plot)


def test_latency_series_are_the_sessions(dashboard):
    out, truth = dashboard
    header, rows = dc.csv_rows(out / "data" / "latency_cdf.csv")
    assert header == ["fraction", "thread 0", "thread 1", "thread 2"]
    assert len(rows) == 201
    for thr in (0, 1, 2):
        lat = sorted(truth.latency[thr])
        col = [float(r[thr + 1]) for r in rows]
        assert col == sorted(col), "a CDF never decreases"
        assert col[0] == pytest.approx(us(lat[0]))
        assert col[-1] == pytest.approx(us(lat[-1]))
        assert col[100] == pytest.approx(us(ds.nearest_rank(lat, 50)))
        assert col[198] == pytest.approx(us(ds.nearest_rank(lat, 99)))
    # the histogram counts every latency once, in the right bin
    header, rows = dc.csv_rows(out / "data" / "latency_hist.csv")
    assert header[:2] == ["lo_us", "hi_us"] and len(rows) == 41
    for thr in (0, 1, 2):
        counts = [int(r[2 + thr]) for r in rows]
        assert sum(counts) == len(truth.latency[thr])
        lo, hi = float(rows[0][0]), float(rows[0][1])
        width = hi - lo
        expect = [0] * 41
        for t in truth.latency[thr]:
            expect[min(int(us(t) / width + 1e-9), 40)] += 1
        assert counts == expect


def test_heap_series_are_the_sessions(dashboard):
    out, truth = dashboard
    header, rows = dc.csv_rows(out / "data" / "alloc_sizes.csv")
    assert {int(r[0]): int(r[3]) for r in rows} == truth.sizes
    header, rows = dc.csv_rows(out / "data" / "heap_usage.csv")
    assert header[:2] == ["t_s", "requested"] and header[2] == "≤ 8 B"
    requested = [int(r[1]) for r in rows]
    # each slice shows the moment its pools held the most: the true peak is within
    # the largest block rounding of the largest slice value
    assert max(requested) <= truth.peak
    stack = [sum(int(v) for v in r[2:]) for r in rows]
    assert all(s >= q for s, q in zip(stack, requested)), "size classes round requests up"
    assert max(stack) >= truth.peak * 0.9
    times = [float(r[0]) for r in rows]
    assert times == sorted(times) and times[-1] < (truth.last_ts - truth.start_ts) / ds.TS_HZ
    page = (out / "index.html").read_text()
    assert f"<b>{truth.peak:,} bytes</b> requested at once" in page
    assert "3 blocks, " in page and "possible leaks" in page


def test_timeline_default_window(dashboard):
    out, truth = dashboard
    header, rows = dc.csv_rows(out / "data" / "timeline.csv")
    assert header == ["row", "label", "start_s", "end_s", "kind"]
    kinds = {}
    for r in rows:
        kinds[r[4]] = kinds.get(r[4], 0) + 1
        assert float(r[2]) <= float(r[3])
    # the default window ends at the 40th thread exit
    assert 40 <= kinds["run"] <= 42 and kinds["fiber"] > 10 and kinds["wakeup"] >= 40
    labels = {r[1] for r in rows}
    assert {"thread 0", "thread 1", "thread 2"} <= labels
    assert any(label.startswith("fiber 0x20010000") for label in labels)


def test_layout_window_and_page(comb, session, tmp_path):
    db, truth, tmp = session
    layout = tmp_path / "Drone.toml"
    # too small on purpose: the replay fails and borrows
    layout.write_text('[heap.main]\nsize = "2560"\npools = [\n    { block = "16", capacity = 32 },\n'
                      '    { block = "64", capacity = 16 },\n    { block = "256", capacity = 4 },\n]\n')
    out = tmp_path / "dash"
    res = subprocess.run([comb, "dashboard", "--db", str(db), "--out", str(out), "--layout", str(layout),
                          "--from", "0.1", "--to", "110ms"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    for plot in dc.PLOTS:
        dc.check_plot(out, plot)
    meta = (out / "data" / "meta.gp").read_text()
    assert "heap_capacity = 2560" in meta and "pool_kind = 'pool'" in meta
    header, rows = dc.csv_rows(out / "data" / "heap_usage.csv")
    assert header[2:] == ["16 B", "64 B", "256 B"]
    assert max(sum(int(v) for v in r[2:]) for r in rows) <= 2560
    header, pools = dc.csv_rows(out / "data" / "heap_pools.csv")
    assert [(p[0], p[2]) for p in pools] == [("16 B", "32"), ("64 B", "16"), ("256 B", "4")]
    assert all(int(p[3]) <= int(p[2]) for p in pools)
    page = (out / "index.html").read_text()
    assert "layout [heap.main]" in page and "would fail" in page
    # the window: everything clipped to [0.1 s, 0.11 s]
    header, rows = dc.csv_rows(out / "data" / "timeline.csv")
    assert rows
    for r in rows:
        assert 0.1 - 1e-9 <= float(r[2]) <= float(r[3]) <= 0.11 + 1e-9
    # the latency table comes from comb fibers report's reconstruction
    assert "From comb fibers report" in page
    for thr in (0, 1, 2):
        row = re.search(rf"<tr><td>thread {thr}</td><td>([\d,]+)</td><td>([\d,]+)</td><td>([\d,]+)</td>", page)
        assert row, f"thread {thr} row"
        assert [int(v.replace(",", "")) for v in row.groups()] == [
            truth.wakeups[thr], truth.runs[thr], len(truth.latency[thr])]


def test_scripts_work_on_exported_csv(comb, session, tmp_path):
    """A user restyles: comb export csv --plots, then the scripts by hand."""
    db, truth, tmp = session
    data = tmp_path / "data"
    res = subprocess.run([comb, "export", "csv", "--db", str(db), "--plots", str(data)],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in data.iterdir()) == sorted(
        ["alloc_sizes.csv", "heap_pools.csv", "heap_usage.csv", "latency_cdf.csv", "latency_hist.csv",
         "log_rate.csv", "meta.gp", "timeline.csv"])
    scripts = tmp_path / "my-dashboards"
    shutil.copytree(ROOT / "dashboards", scripts)
    for plot in ("latency_cdf", "heap_usage"):
        for ext in ("png", "svg"):
            out = tmp_path / f"{plot}.{ext}"
            r = subprocess.run(["gnuplot", "-c", str(scripts / f"{plot}.gp"), str(data), str(out)],
                               capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, r.stderr
            if ext == "png":
                dc.check_png(out)
            else:
                dc.check_svg(out, data / f"{plot}.csv", len(dc.csv_rows(data / f"{plot}.csv")[0]) - 1,
                             dc.KEY_VERTICES.get(plot, 4))
    # a restyled script that draws only axes, grid and key does not pass for a plot
    empty = scripts / "empty_cdf.gp"
    empty.write_text((scripts / "latency_cdf.gp").read_text()
                     .replace("set logscale x", "set logscale x\nset xrange [1:1000]")
                     .replace("using (column(i) > 0 ? column(i) : NaN):1", "using (NaN):1"))
    out = tmp_path / "empty.svg"
    r = subprocess.run(["gnuplot", "-c", str(empty), str(data), str(out)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and out.exists(), r.stderr
    with pytest.raises(AssertionError, match="data series are not drawn|no data series"):
        dc.check_svg(out, data / "latency_cdf.csv", len(dc.csv_rows(data / "latency_cdf.csv")[0]) - 1, 2)
    bad = subprocess.run(["gnuplot", "-c", str(scripts / "log_rate.gp"), str(data), str(tmp_path / "x.gif")],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "must end in .png or .svg" in bad.stdout + bad.stderr


def test_page_in_headless_chromium(dashboard, tmp_path):
    out, truth = dashboard
    attrs, dom, (w, h, rows) = dc.open_in_chromium(out / "index.html", tmp_path / "shot.png", tmp_path)
    assert attrs.get("data-plots-loaded") == f"{len(dc.PLOTS)}/{len(dc.PLOTS)}", attrs
    assert "class=\"missing\"" not in dom
    assert (w, h) == (1366, 900)
    colours = {px[:3] for row in rows[::5] for px in row[::5]}
    assert len(colours) > 50, "the page is blank"
    # the title and the first plots are on screen
    dark = sum(1 for row in rows[:120] for px in row if sum(px[:3]) < 200)
    assert dark > 500, "no text at the top"


def test_page_from_file_has_no_network_references(dashboard):
    out, truth = dashboard
    page = (out / "index.html").read_text()
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    for ref in re.findall(r"(?:src|href)=\"([^\"#]+)\"", page):
        assert (out / ref).exists(), ref


def test_window_is_kept_inside_the_session(comb, session, tmp_path):
    """--to past the session's end is moved to the end (one line says so); a --from
    at or past the end is refused."""
    db, truth, tmp = session
    data = tmp_path / "data"
    res = subprocess.run([comb, "export", "csv", "--db", str(db), "--plots", str(data), "--to", "1000s"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "--to 1000s is past the session's end: the timeline ends at" in lines[0], res.stderr
    end = float(re.search(r"ends at ([\d.]+) s", lines[0]).group(1))
    meta = dict(re.findall(r"^(\w+) = (.*)$", (data / "meta.gp").read_text(), re.M))
    assert abs(float(meta["window_to"]) - end) < 1e-6 and float(meta["window_to"]) < 1000
    assert meta["window_truncated"] == "0"
    _, rows = dc.csv_rows(data / "timeline.csv")
    assert rows and max(float(r[3]) for r in rows) <= end + 1e-6
    res = subprocess.run([comb, "dashboard", "--db", str(db), "--out", str(tmp_path / "o"), "--from", "1000"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "--from 1000 is not before the session's end" in lines[0], res.stderr


@pytest.mark.parametrize("args, message", [
    ([], "--db FILE is required"),
    (["--db", "DB"], "--out DIR is required"),
    (["--db", "DB", "--out", "OUT", "--session", "x"], "--session needs a session number"),
    (["--db", "DB", "--out", "OUT", "--session", "9"], "no session 9 (sessions 1 to 1)"),
    (["--db", "DB", "--out", "OUT", "--from", "soon"], "--from 'soon' is not a session time"),
    (["--db", "DB", "--out", "OUT", "--from", "2", "--to", "1"], "--to 1 is not after --from 2"),
    (["--db", "DB", "--out", "OUT", "--layout", "MISSING"], "MISSING"),
    (["--db", "DB", "--out", "OUT", "--heap", "main"], "--heap NAME needs --layout"),
    (["--db", "DB", "--out", "OUT", "--scripts", "/nonexistent"], "does not hold the dashboard scripts"),
    (["--db", "DB", "--out", "OUT", "--bogus"], "unknown option '--bogus'"),
    (["--db", "/nonexistent.db", "--out", "OUT"], "/nonexistent.db: No such file or directory"),
])
def test_bad_input(comb, session, tmp_path, args, message):
    db, truth, tmp = session
    args = [str(db) if a == "DB" else str(tmp_path / "out") if a == "OUT" else
            str(tmp_path / "missing.toml") if a == "MISSING" else a for a in args]
    res = subprocess.run([comb, "dashboard", *args], capture_output=True, text=True, timeout=60)
    assert res.returncode != 0
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("comb dashboard: "), res.stderr
    assert message.replace("MISSING", "missing.toml") in lines[0]
    assert not (tmp_path / "out" / "index.html").exists()

"""Checks of dashboard output for the e2e tests: PNG and SVG files decoded and
looked into (not just "the file exists"), the CSV the plots read, and the
page in headless Chromium.
"""
import csv
import re
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

PLOTS = ["heap_usage", "pool_occupancy", "alloc_sizes", "latency_hist", "latency_cdf", "timeline", "log_rate"]
# the CSV each plot reads, and the columns that carry its data series
PLOT_DATA = {
    "heap_usage": ("heap_usage.csv", slice(1, None)),
    "pool_occupancy": ("heap_pools.csv", slice(3, 4)),
    "alloc_sizes": ("alloc_sizes.csv", slice(3, 4)),
    "latency_hist": ("latency_hist.csv", slice(2, None)),
    "latency_cdf": ("latency_cdf.csv", slice(1, None)),
    "timeline": ("timeline.csv", slice(2, 4)),
    "log_rate": ("log_rate.csv", slice(1, None)),
}
# entries in a plot's key where they are not one per series column of PLOT_DATA
KEY_ENTRIES = {"pool_occupancy": 3, "timeline": 3, "alloc_sizes": 0}  # alloc_sizes has no key
# vertices of one key sample: a line has 2, a box 4
KEY_VERTICES = {"latency_cdf": 2, "log_rate": 2}


def png_pixels(path):
    """(width, height, rows of pixel tuples) of an 8-bit RGB/RGBA/grey PNG, decoded
    here (signature, chunks and their CRCs, zlib, the five scanline filters)."""
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path}: not a PNG signature"
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        crc = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0]
        assert zlib.crc32(ctype + body) == crc, f"{path}: bad CRC in {ctype!r}"
        if ctype == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif ctype == b"IDAT":
            idat += body
        elif ctype == b"IEND":
            break
        pos += 12 + length
    assert ihdr, f"{path}: no IHDR"
    width, height, depth, colour, _, _, interlace = ihdr
    assert depth == 8 and interlace == 0 and colour in (0, 2, 6), f"{path}: unsupported PNG {ihdr}"
    bpp = {0: 1, 2: 3, 6: 4}[colour]
    raw = zlib.decompress(idat)
    stride = width * bpp
    assert len(raw) == height * (stride + 1), f"{path}: IDAT holds {len(raw)} bytes, not {height} rows"
    rows, prev = [], bytearray(stride)
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 0xFF
            elif ftype == 2:
                line[i] = (line[i] + b) & 0xFF
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
            else:
                assert ftype == 0, f"{path}: filter {ftype}"
        rows.append([tuple(line[x * bpp:(x + 1) * bpp]) for x in range(width)])
        prev = line
    return width, height, rows


def check_png(path, min_colours=4):
    w, h, rows = png_pixels(path)
    assert w >= 300 and h >= 200, f"{path}: {w}x{h}"
    colours = {px for row in rows[::4] for px in row[::4]}
    assert len(colours) >= min_colours, f"{path}: {len(colours)} colours: blank"
    # not just axes, grid and text (greys): the data series are drawn in colour
    sample = [px for row in rows[::2] for px in row[::2]]
    coloured = sum(1 for px in sample if max(px[:3]) - min(px[:3]) > 40)
    assert coloured > len(sample) // 500, f"{path}: no data drawn ({coloured} coloured pixels)"
    return w, h


def _colour(value):
    """(r, g, b) of an SVG colour as gnuplot writes them (rgb(r, g, b) or #rrggbb), else None."""
    if not value:
        return None
    m = re.fullmatch(r"\s*rgb\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\)\s*", value)
    if m:
        return tuple(int(x) for x in m.groups())
    m = re.fullmatch(r"\s*#([0-9a-fA-F]{6})\s*", value)
    return tuple(int(m.group(1)[i:i + 2], 16) for i in (0, 2, 4)) if m else None


def svg_series_marks(path):
    """The marks drawn in colour (the data series: axes, grid and text are greys):
    the vertices of coloured paths and polygons plus the coloured point symbols,
    colours inherited from enclosing groups as SVG does."""
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg"), f"{path}: root is {root.tag}"
    marks = 0

    def walk(e, inherited, in_defs):
        nonlocal marks
        tag = e.tag.rsplit("}", 1)[-1]
        in_defs = in_defs or tag == "defs"
        colours = [c for c in (_colour(e.get("stroke")), _colour(e.get("fill"))) if c] or inherited
        coloured = any(max(c) - min(c) > 24 for c in colours)  # greys are 0; the palest series (#c9d7e8) 31
        if coloured and not in_defs:
            if tag == "path" and e.get("d"):
                marks += len(re.findall(r"-?\d+(?:\.\d+)?", e.get("d"))) // 2
            elif tag in ("polygon", "polyline") and e.get("points"):
                marks += len(re.findall(r"-?\d+(?:\.\d+)?", e.get("points"))) // 2
            elif tag in ("use", "rect", "circle"):
                marks += 1
        for child in e:
            walk(child, colours, in_defs)

    walk(root, [], False)
    return marks


def check_svg(path, data_csv=None, series=1, key_vertices=4):
    """A parsed SVG whose data series are drawn: with data_csv (the CSV the plot
    reads), at least one coloured mark per data row plus what the key's samples
    can account for (key_vertices for each of `series` entries), so a plot of
    axes, grid and key alone fails."""
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg"), f"{path}: root is {root.tag}"
    marks = svg_series_marks(path)
    assert marks > 0, f"{path}: nothing drawn in colour: no data series"
    if data_csv is not None:
        header, rows = csv_rows(data_csv)
        need = len(rows) + key_vertices * series
        assert marks >= need, f"{path}: {marks} coloured marks for {len(rows)} rows of {Path(data_csv).name}" \
                              f" ({series} series): the data series are not drawn"
    return marks


def csv_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        r = list(csv.reader(f))
    return r[0], r[1:]


def check_series(data_dir, plot):
    """The plot's CSV has data rows, and its series columns hold non-zero values."""
    name, cols = PLOT_DATA[plot]
    header, rows = csv_rows(Path(data_dir) / name)
    assert rows, f"{name}: no rows"
    values = [float(v) for row in rows for v in row[cols] if v != ""]
    assert values and any(v != 0 for v in values), f"{name}: the series are empty"
    return header, rows


def check_plot(out_dir, plot):
    out_dir = Path(out_dir)
    check_png(out_dir / f"{plot}.png")
    name, cols = PLOT_DATA[plot]
    header, _ = csv_rows(out_dir / "data" / name)
    check_svg(out_dir / f"{plot}.svg", out_dir / "data" / name, KEY_ENTRIES.get(plot, len(header[cols])),
              KEY_VERTICES.get(plot, 4))
    return check_series(out_dir / "data", plot)


def chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                  "--disable-extensions", "--disable-background-networking", "--disable-sync",
                  "--virtual-time-budget=5000"]


def open_in_chromium(index_html, screenshot, tmp_path, size=(1366, 900)):
    """Loads the page from file:// with no network; returns (body attributes of the
    rendered DOM, screenshot pixels)."""
    browser = chromium()
    assert browser, "chromium is not installed (scripts/bootstrap.sh installs it)"
    url = Path(index_html).resolve().as_uri()
    profile = tmp_path / "chromium-profile"
    base = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={size[0]},{size[1]}"]
    dom = subprocess.run([*base, "--dump-dom", url], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    shot = subprocess.run([*base, f"--screenshot={screenshot}", url], capture_output=True, text=True, timeout=120)
    assert shot.returncode == 0 and Path(screenshot).exists(), shot.stderr[-2000:]
    m = re.search(r"<body([^>]*)>", dom.stdout)
    assert m, "no <body> in the rendered DOM"
    attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', m.group(1)))
    return attrs, dom.stdout, png_pixels(screenshot)

"""A short run of every libFuzzer target (tests/fuzz/run.sh): built with clang,
AddressSanitizer and UndefinedBehaviorSanitizer; each first replays its saved
inputs (tests/fuzz/regressions: crashes found and fixed; tests/fuzz/known:
found and not fixed yet), then fuzzes from its seeds for COMB_FUZZ_SECONDS
(default 10). `make fuzz` runs them longer.

A target with reproducers in tests/fuzz/known/ is an expected failure (strict:
once the bug is fixed the test fails until the reproducers move to
tests/fuzz/regressions/, where they guard against its return)."""
import os
import subprocess

import pytest

from conftest import ROOT, build_dir

SECONDS = os.environ.get("COMB_FUZZ_SECONDS", "10")
FUZZ = ROOT / "tests" / "fuzz"


def targets():
    names = ["itm_decoder", "output_selector", "tpiu", "event_block"]
    names += [t for t in ("drone_toml", "drone_heaptrace")
              if (ROOT / "analysis" / "include" / "comb" / f"{t}.h").exists() and (FUZZ / f"fuzz_{t}.c").exists()]
    params = []
    for t in names:
        known = sorted(p.name for p in (FUZZ / "known" / t).glob("*")) if (FUZZ / "known" / t).is_dir() else []
        marks = [pytest.mark.xfail(strict=True, reason=f"known bug, reproducers in tests/fuzz/known/{t}: {known}")] \
            if known else []
        params.append(pytest.param(t, marks=marks))
    return params


@pytest.mark.parametrize("target", targets())
def test_fuzz_target_short_run(target):
    out = build_dir() / "fuzz"
    res = subprocess.run([str(FUZZ / "run.sh"), str(out), SECONDS, "2000000", target],
                         capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"fuzz_{target}: ok" in res.stdout, res.stdout

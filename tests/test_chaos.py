"""The chaos probes (tools/chaos.py) as CI runs them: fixed seeds, a time budget, every probe
must hold. What each probe checks, and against what, is in the script's docstring."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "tools" / "chaos.py"
PROBES = {"flips", "insertions", "kill-9", "two-writers", "late-data", "requests"}


@pytest.mark.slow
def test_every_chaos_probe_holds():
    run = subprocess.run([sys.executable, str(SCRIPT), "--json", "--budget-s", "300"],
                         capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=540)
    results = json.loads(run.stdout)
    assert set(results) == PROBES, run.stderr[-2000:]
    failed = {name: r["detail"] for name, r in results.items() if not r["ok"]}
    assert not failed and run.returncode == 0, failed


@pytest.mark.slow
@pytest.mark.parametrize("args, message", [(["--only", "flips,nope"], "unknown probe(s) nope"),
                                           (["--only", ","], "--only names no probe"),
                                           (["--hours", "0"], "--hours 0: give 6 to 168 hours"),
                                           (["--hours", "nan"], "--hours nan"),
                                           (["--budget-s", "-1"], "--budget-s -1")])
def test_bad_options_are_one_line_errors(args, message):
    run = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                         stdin=subprocess.DEVNULL, timeout=120)
    assert run.returncode == 2 and message in run.stderr and "Traceback" not in run.stderr


@pytest.mark.slow
def test_a_probe_the_budget_did_not_allow_fails():
    """A spent budget is a failure, never a silent pass."""
    run = subprocess.run([sys.executable, str(SCRIPT), "--json", "--hours", "6", "--only", "late-data,requests",
                          "--budget-s", "0.001"], capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)
    results = json.loads(run.stdout)
    assert run.returncode == 1 and not any(r["ok"] for r in results.values())

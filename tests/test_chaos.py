"""The chaos probes (tools/chaos.py) as CI runs them: fixed seeds, a time budget, every probe
must hold. What each probe checks, and against what, is in the script's docstring."""
import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "tools" / "chaos.py"
PROBES = {"flips", "insertions", "kill-9", "two-writers", "late-data", "requests"}


def test_every_chaos_probe_holds():
    run = subprocess.run([sys.executable, str(SCRIPT), "--json", "--hours", "12", "--budget-s", "240"],
                         capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=540)
    results = json.loads(run.stdout)
    assert set(results) == PROBES, run.stderr[-2000:]
    failed = {name: r["detail"] for name, r in results.items() if not r["ok"]}
    assert not failed and run.returncode == 0, failed


def test_an_unknown_probe_is_a_one_line_error():
    run = subprocess.run([sys.executable, str(SCRIPT), "--only", "flips,nope"], capture_output=True, text=True,
                         stdin=subprocess.DEVNULL, timeout=120)
    assert run.returncode == 2 and "unknown probe(s) nope" in run.stderr and "Traceback" not in run.stderr

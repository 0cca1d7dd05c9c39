"""Operational forecaster speed, against the targets the operations issue sets.

    python benchmarks/bench_forecaster.py [--days N]

- issue: one forecast (three targets, 25-member ensemble, 27-day outlook) from an archive holding
  the last 42 days of 1-minute station packets and L1 feed rows, best of 5, against the required
  2 s;
- replay: N days (default 30) from 2010-03-01 of 6-hourly issues through the whole path (packets ingested, feed
  parsed and stored, forecast issued and stored), per issue and extrapolated to a year (1,461
  issues), against the required 2 minutes for a year on 2 cores.
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

from astropy.time import Time

sys.path.insert(0, str(Path(__file__).parent))
from timing import best_of  # noqa: E402

from l4station.ground import forecaster, replay  # noqa: E402
from l4station.ground.store import Archive  # noqa: E402
from l4station.heliosphere import insitu  # noqa: E402


def _us(iso: str) -> int:
    return int(round(Time(iso, scale="utc").unix * 1e6))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=30)
    days = parser.parse_args().days
    records = insitu.packaged()
    start = _us("2010-03-01")           # after the held-back window: a year of data ahead
    with tempfile.TemporaryDirectory() as folder, Archive(f"sqlite:///{folder}/ops.db") as archive:
        began = time.perf_counter()
        runs = replay.replay(archive, records, start, start + days * forecaster.DAY_US)
        elapsed = time.perf_counter() - began
        at = start + days * forecaster.DAY_US + 3 * forecaster.HOUR_US
        issue_s = best_of(lambda: forecaster.compute(archive, at), repeat=5)
    per_issue = elapsed / runs
    year_s = per_issue * 1461
    print(f"issue from the archive: {issue_s:.3f} s  (required 2 s; ratio {2.0 / issue_s:.1f}x inside)")
    print(f"replay: {runs} issues in {elapsed:.1f} s = {per_issue:.3f} s per issue; a year extrapolated "
          f"{year_s:.0f} s  (required 120 s; ratio {120.0 / year_s:.2f})")


if __name__ == "__main__":
    main()

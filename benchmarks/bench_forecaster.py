"""Operational forecaster speed, against the targets the operations issue sets.

    python benchmarks/bench_forecaster.py [--days N]

- issue: one forecast (three targets, 25-member ensemble, 27-day outlook) from an archive holding
  the last 42 days of 1-minute station packets and L1 feed rows, best of 5, against the required
  2 s;
- replay: N days (default 30) from 2010-03-01 of 6-hourly issues through the whole path (packets ingested, feed
  parsed and stored, forecast issued and stored), per issue and extrapolated to a year (1,461
  issues), against the required 2 minutes for a year on 2 cores;
- HAPI CSV rows/s of the forecast datasets (forecast_earth with its isotime column, forecast_runs)
  against the station's plasma dataset, 500,000 rows each through the same writer: the forecast
  datasets must go at the station's rate.
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

from astropy.time import Time

sys.path.insert(0, str(Path(__file__).parent))
from timing import best_of  # noqa: E402

import numpy as np  # noqa: E402

from l4station.ground import forecaster, hapi, replay  # noqa: E402
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
    rows = 500_000
    t_us = 1_800_000_000_000_000 + np.arange(rows, dtype=np.int64) * 60_000_000
    rng = np.random.default_rng(0)
    speeds = {}
    for name in ("plasma", "forecast_earth", "forecast_runs"):
        dataset = hapi.datasets()[name]
        request = hapi.Request(dataset, [f.name for f in dataset.fields], int(t_us[0]), int(t_us[-1]) + 1)
        columns = {"t_us": t_us} | {f.name: (t_us.astype(float) if f.calibration == "time" else
                                             400.0 + 100.0 * rng.random(rows)) for f in dataset.fields}
        hapi.csv_rows(request, {k: v[:10] for k, v in columns.items()})          # compiled code loaded
        speeds[name] = rows / best_of(lambda: hapi.csv_rows(request, columns), repeat=3)
    per_issue = elapsed / runs
    year_s = per_issue * 1461
    print(f"issue from the archive: {issue_s:.3f} s  (required 2 s; ratio {2.0 / issue_s:.1f}x inside)")
    print(f"replay: {runs} issues in {elapsed:.1f} s = {per_issue:.3f} s per issue; a year extrapolated "
          f"{year_s:.0f} s  (required 120 s; ratio {120.0 / year_s:.2f})")
    for name in ("forecast_earth", "forecast_runs"):
        print(f"HAPI CSV {name}: {speeds[name] / 1e6:.2f} M rows/s; plasma {speeds['plasma'] / 1e6:.2f} M rows/s; "
              f"ratio {speeds[name] / speeds['plasma']:.2f}")


if __name__ == "__main__":
    main()

"""Fit the forecaster's band widening (``forecaster.SPREAD_ADD_KMS``) and check it on other years.

Replays real records (STEREO-A as the station, OMNI as the L1 feed; ``l4station replay``) with
the widening and the sliding-window scale (``forecaster.band_scale``) switched off, then, per
lead day k = 1..7, finds the speed s_k (km/s) which, added in quadrature to each side's Gaussian
sigma (distance of p10 or p90 to p50 / 1.2816), makes the p10-p90 band hold 80 % of the hourly
speeds L1 observed. Fitted on 2010-03..08; then scored on 2008-03..08 and 2011-03..08, which the
fit never saw: the members alone, with the fixed widening, and as operations run (the widening
and the 40-day sliding-window scale).

    python builders/spread_calibration.py [--every 6]

Prints the fitted values and the coverage by lead day on each window (about 8 minutes).
"""
from __future__ import annotations

import argparse
import tempfile

import numpy as np
from scipy.optimize import brentq

from l4station.ground import forecaster, replay, verification
from l4station.ground.forecaster import DAY_US, HOUR_US, Z90, mjd_of_us
from l4station.ground.store import Archive
from l4station.heliosphere import insitu

FIT = ("2010-03-01", "2010-09-01")
CHECKS = (("2008-03-01", "2008-09-01"), ("2011-03-01", "2011-09-01"))
TARGET_COVERAGE = 0.8


def _us(iso: str) -> int:
    return int(np.datetime64(iso, "us").astype(np.int64))


def bands(window: tuple[str, str], every_h: float, add_kms=None, training_days: float = 0.0) -> dict[str, np.ndarray]:
    """Lead day, p10, p50, p90 and the observed L1 speed of every hour of every run, replayed
    with the widening ``add_kms`` (default none) and the sliding window ``training_days`` (0: off)."""
    forecaster.SPREAD_ADD_KMS = add_kms or (0.0,) * forecaster.HORIZON_DAYS
    forecaster.TRAINING_DAYS = training_days
    with tempfile.TemporaryDirectory() as folder, Archive(f"sqlite:///{folder}/replay.db") as archive:
        replay.replay(archive, insitu.packaged(), _us(window[0]), _us(window[1]), every_us=int(every_h * HOUR_US))
        rows = np.array(archive.query(
            "SELECT r.issue_us, v.t_us, v.vr_p10, v.vr_p50, v.vr_p90 FROM forecast_runs r JOIN forecast_values v "
            "ON v.run_id = r.run_id WHERE v.target = 'earth'"), dtype=float)
        obs_mjd, obs_v = verification.observed_speeds(archive, "L1")
    observed = forecaster.value_at(obs_mjd, obs_v, mjd_of_us(rows[:, 1]))
    ok = np.isfinite(observed) & np.isfinite(rows[:, 2])
    day = forecaster.lead_day((rows[:, 1] - rows[:, 0]) / DAY_US)
    return {"day": day[ok], "p10": rows[ok, 2], "p50": rows[ok, 3], "p90": rows[ok, 4], "observed": observed[ok]}


def coverage(b: dict[str, np.ndarray], day: int, add_kms: float) -> float:
    pick = b["day"] == day
    p10, p50, p90, o = b["p10"][pick], b["p50"][pick], b["p90"][pick], b["observed"][pick]
    low = p50 - np.hypot((p50 - p10) / Z90, add_kms) * Z90
    high = p50 + np.hypot((p90 - p50) / Z90, add_kms) * Z90
    return float(np.mean((o >= low) & (o <= high)))


def fit(b: dict[str, np.ndarray]) -> list[float]:
    out = []
    for day in range(1, forecaster.HORIZON_DAYS + 1):
        short = coverage(b, day, 0.0) - TARGET_COVERAGE
        out.append(0.0 if short >= 0 else brentq(lambda s: coverage(b, day, s) - TARGET_COVERAGE, 0.0, 400.0, xtol=0.05))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=float, default=6.0, help="hours between issues (default 6)")
    every_h = parser.parse_args().every
    operations = forecaster.TRAINING_DAYS
    fitted_on = bands(FIT, every_h)
    add = tuple(round(s, 1) for s in fit(fitted_on))
    print("SPREAD_ADD_KMS =", add)
    days = range(1, forecaster.HORIZON_DAYS + 1)
    for window in (FIT, *CHECKS):
        raw = fitted_on if window == FIT else bands(window, every_h)
        run = bands(window, every_h, add, operations)
        members = " ".join(f"{coverage(raw, d, 0.0):.2f}" for d in days)
        widened = " ".join(f"{coverage(raw, d, add[d - 1]):.2f}" for d in days)
        sliding = " ".join(f"{coverage(run, d, 0.0):.2f}" for d in days)
        print(f"{window[0]}..{window[1]}: p10-p90 coverage by lead day: members {members}; widened {widened}; "
              f"widened and scaled on the last {operations:.0f} days {sliding}")


if __name__ == "__main__":
    main()

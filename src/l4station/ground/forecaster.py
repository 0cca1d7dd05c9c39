"""The forecaster: one solar-wind forecast from what the archive had received by an instant.

Inputs, each as the archive had *received* it by the issue time, over the last 1.5 solar
rotations: the station's own plasma speeds (L4; quality good or degraded), the L1 feeds
(NOAA RTSW's active spacecraft, HAPI datasets such as OMNI; quality normal) and L5 feeds if
any, as hourly means. Each is mapped back to 30 R_sun along its observer's track and
assimilated into one boundary map (:mod:`~l4station.heliosphere.corotation`, after Owens &
Riley 2017), which the solar-wind model runs forward along the radial lines of Earth, the Moon
and Mars: hourly speeds out to 7 days. The spread comes from an ensemble of boundary maps
perturbed by the map's own error per longitude (the assimilation's 1 / sqrt(weight)) and the
change of the boundary structure over half the horizon (the fitted error-growth model), smooth
over ~20 deg of longitude: p10, p50 and p90 of the members. The members still miss what a
boundary held fixed cannot hold (structure born after the issue, the model's own error), so the
band is widened per lead day as ensemble post-processing does (variance inflation; Wilks 2011,
Statistical Methods in the Atmospheric Sciences, sec. 8.3): each side's Gaussian sigma
(its distance to p50 / 1.2816) is combined in quadrature with SPREAD_ADD_KMS of the lead day,
fitted so that the band holds 80 % of L1's hourly speeds in a replay of 2010-03..08
(``builders/spread_calibration.py``). That alone holds 71-81 % by lead day in 2008-03..08 but
64-66 % in 2011-03..08, nearer solar maximum, so the band then follows the forecast's recent
errors: its half-widths are scaled per lead day by the conformal quantile of the runs of the
last 40 days against what L1 observed (:func:`band_scale`). As operations run it, the band
holds 77-78 % by lead day in 2010-03..08, 77-80 % in 2008-03..08 and 77-78 % in 2011-03..08
(the members alone: 44-68 %). ``vr`` is the central (unperturbed) map's run. The L4 recurrence
outlook runs the central map on at Earth to 27 days (daily means).

A missing L1 or L4 input degrades the forecast (flagged ``no_L1``/``no_L4``; an input whose
newest sample is older than STALE_AFTER_HOURS, ``stale_L1``...), it does not stop it; with no
input at all there is no forecast. Each run is stored with its run id, issue time,
model version and the latest data time of each input; a run whose inputs are unchanged since
the last run is returned, not repeated.

>>> run_id("2026-05-01T12:00:00Z", "3fa2c1d09e")
'20260501T120000Z-3fa2c1d0'
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import repeat
from importlib.metadata import version

import numpy as np

from l4station import tables
from l4station.constants import DAY_US, HOUR_US
from l4station.errors import InputError
from l4station.ground import cmes, watches
from l4station.ground.store import FEED_GOOD, STATION_GOOD, Archive, iso
from l4station.heliosphere import corotation, ensemble
from l4station.heliosphere.insitu import Series

UNIX_MJD = 40587.0                   # MJD of 1970-01-01
HORIZON_DAYS = 7
OUTLOOK_DAYS = 27
MEMBERS = 24
# An input whose newest sample is older than this at the issue is flagged stale_<point>: the L1
# and L5 feeds are real-time streams; the station's data come down in a daily pass.
STALE_AFTER_HOURS = {"L1": 3.0, "L4": 36.0, "L5": 3.0}
# The boundary keeps changing after the issue while the model holds it fixed: members add the
# structure change over half the horizon (the error-growth model fitted to OMNI and STEREO-A/B,
# corotation.ErrorModel) to the assimilation's own error.
STRUCTURE_CHANGE = corotation.ErrorModel()
# Added in quadrature to each side's sigma, lead days 1..7 (km/s): builders/spread_calibration.py.
SPREAD_ADD_KMS = (34.3, 49.0, 51.8, 48.4, 44.8, 46.9, 50.0)
Z90 = 1.2815515655446004             # standard normal quantile of 0.9: p10 and p90 lie Z90 sigma from p50
# The band then follows the forecast's recent errors (band_scale): runs of the last TRAINING_DAYS
# verified at L1, per lead day at least MIN_TRAINING_HOURS of them, the factor kept in BAND_SCALE_LIMITS.
TRAINING_DAYS = 40.0
MIN_TRAINING_HOURS = 240
BAND_SCALE_LIMITS = (0.5, 3.0)
TARGETS = ("earth", "moon", "mars")
BAND = ("vr_p10", "vr_p50", "vr_p90")
MODEL_VERSION = f"l4station {version('l4station')}: corotation assimilation + upwind solar-wind model"


def run_id(issue_iso: str, key: str) -> str:
    """A run's id: its issue time to the second and the start of its inputs' digest."""
    return issue_iso[:19].replace("-", "").replace(":", "") + "Z-" + key[:8]


def mjd_of_us(t_us) -> np.ndarray:
    return np.asarray(t_us, dtype=float) / DAY_US + UNIX_MJD


def us_of_mjd(mjd) -> np.ndarray:
    return np.rint((np.asarray(mjd, dtype=float) - UNIX_MJD) * DAY_US).astype(np.int64)


# ---- inputs ------------------------------------------------------------------------------------

SPEED_BOUNDS_KMS = (100.0, 2999.0)     # solar wind; the model's stability limit is 3000 km/s
POINT_QUERIES = {   # vantage point -> its good samples (t_us, km/s, received_us) from batches after ? up to ?
    "L4": "SELECT t_us, vr, received_us FROM plasma WHERE batch > ? AND batch <= ? AND t_us >= ? "
          f"AND vr BETWEEN {SPEED_BOUNDS_KMS[0]} AND {SPEED_BOUNDS_KMS[1]} AND {STATION_GOOD}",
    **{point: "SELECT t_us, speed, received_us FROM feed_wind WHERE batch > ? AND batch <= ? AND t_us >= ? "
              f"AND point = '{point}' AND speed BETWEEN {SPEED_BOUNDS_KMS[0]} AND {SPEED_BOUNDS_KMS[1]} "
              f"AND {FEED_GOOD}" for point in ("L1", "L5")},
}


class Received:
    """The forecaster's inputs as the archive received them: each point's samples with their
    receive times, read batch by batch, so a forecaster that issues again (a schedule, a replay)
    reads only what arrived since. Samples older than the history any issue needs are dropped."""

    def __init__(self):
        self.batch = 0
        self.training = Training()
        self.samples = {point: np.zeros((0, 3)) for point in POINT_QUERIES}

    def update(self, archive: Archive, since_us: int) -> None:
        latest = archive.latest_batch()
        if latest <= self.batch:
            return
        feeds_held = archive.has("feed_wind")        # an archive from before feeds, read-only: none
        for point, query in POINT_QUERIES.items():
            if point != "L4" and not feeds_held:
                continue
            rows = np.array(archive.query(query, (self.batch, latest, since_us)), dtype=float).reshape(-1, 3)
            kept = self.samples[point]
            self.samples[point] = np.vstack([kept[kept[:, 0] >= since_us], rows])
        self.batch = latest

    def hourly(self, at_us: int) -> dict[str, tuple[np.ndarray, np.ndarray, int | None]]:
        """Hourly means (hour start MJD, km/s) and latest sample time per point, of the samples
        received by ``at_us`` over the history an issue at ``at_us`` uses."""
        start = at_us - int(corotation.HISTORY_DAYS * DAY_US) - DAY_US
        found = {}
        for point, table in self.samples.items():
            t, v, received = table.T
            pick = (received <= at_us) & (t >= start) & (t <= at_us)
            if not pick.any():
                found[point] = (np.zeros(0), np.zeros(0), None)
                continue
            hour = (t[pick] // HOUR_US).astype(np.int64)
            first = hour.min()
            count = np.bincount(hour - first)
            held = np.flatnonzero(count)
            means = np.bincount(hour - first, v[pick])[held] / count[held]
            found[point] = ((first + held) / 24 + UNIX_MJD, means, int(t[pick].max()))
        return found


def observations(archive: Archive, at_us: int, received: Received | None = None
                 ) -> dict[str, tuple[np.ndarray, np.ndarray, int | None]]:
    """Hourly mean speeds per vantage point received by ``at_us``: point -> (MJD, km/s, latest
    sample time). ``received`` keeps what earlier calls read (issue times then only move on)."""
    received = Received() if received is None else received
    received.update(archive, at_us - int(corotation.HISTORY_DAYS * DAY_US) - DAY_US)
    return received.hourly(at_us)


TRACK_BLOCK_DAYS = 64


@lru_cache(maxsize=64)
def _daily_track(point: str, first_day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Daily DE421 track of a point over TRACK_BLOCK_DAYS + 2 days from MJD ``first_day``: (MJD,
    unwrapped Earth-relative longitude deg, distance km)."""
    from astropy.time import Time

    from l4station.heliosphere import observers
    daily = np.arange(first_day, first_day + TRACK_BLOCK_DAYS + 2.0)
    lon, r = observers.track(point, Time(daily, format="mjd", scale="utc"))
    return daily, np.degrees(np.unwrap(np.radians(lon))), r


def track(point: str, mjd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Earth-relative longitude (deg, unwrapped) and distance (km) of a vantage point or target:
    DE421 daily, linear between days (blocks of days computed once)."""
    if len(mjd) == 0:
        return np.zeros(0), np.zeros(0)
    blocks = range(int(mjd.min() // TRACK_BLOCK_DAYS), int(mjd.max() // TRACK_BLOCK_DAYS) + 1)
    parts = [_daily_track(point, b * TRACK_BLOCK_DAYS) for b in blocks]
    days = np.concatenate([d[:TRACK_BLOCK_DAYS] for d, _, _ in parts] + [parts[-1][0][TRACK_BLOCK_DAYS:]])
    lon = np.concatenate([x[:TRACK_BLOCK_DAYS] for _, x, _ in parts] + [parts[-1][1][TRACK_BLOCK_DAYS:]])
    r = np.concatenate([x[:TRACK_BLOCK_DAYS] for _, _, x in parts] + [parts[-1][2][TRACK_BLOCK_DAYS:]])
    lon = np.degrees(np.unwrap(np.radians(lon)))             # blocks unwrapped on their own: join them
    return np.interp(mjd, days, lon), np.interp(mjd, days, r)


def series(point: str, mjd: np.ndarray, v_kms: np.ndarray, tracks: dict[str, Series] | None = None) -> Series:
    """Speeds at a vantage point placed on its track: ``tracks[point]`` if given (a replayed
    spacecraft's own positions), else the point itself from DE421."""
    if tracks and point in tracks and len(mjd):
        path = tracks[point]
        near = slice(max(np.searchsorted(path.mjd, mjd[0] - 2.0) - 1, 0), np.searchsorted(path.mjd, mjd[-1] + 2.0) + 1)
        lon = np.interp(mjd, path.mjd[near], np.degrees(np.unwrap(np.radians(path.lon_deg[near]))))
        return Series(point, mjd, v_kms, lon, np.interp(mjd, path.mjd[near], path.r_km[near]))
    lon, r = track(point, mjd)
    return Series(point, mjd, v_kms, lon, r)        # longitude unwrapped: interpolates across +-180


# ---- the run -----------------------------------------------------------------------------------

@dataclass
class Run:
    """A stored forecast: hourly speed (the central map's run) with the ensemble's p10/p50/p90 per
    target, and the daily recurrence outlook at Earth."""

    run_id: str
    issue_us: int
    model_version: str
    inputs: dict
    flags: list[str]
    values: dict[str, dict[str, np.ndarray]]          # target -> t_us, vr, vr_p10, vr_p50, vr_p90
    repeated: bool = False
    cmes: list = field(default_factory=list)
    messages: list = field(default_factory=list)        # watches and warnings this issue sent
    band_scale: list = field(default_factory=lambda: [1.0] * HORIZON_DAYS)     # per lead day (band_scale())

    def to_json(self) -> dict:
        def num(x):
            return None if not np.isfinite(x) else round(float(x), 1)

        targets = {}
        for target, v in self.values.items():
            targets[target] = [{"time": iso(t), "vr": num(a), "vr_p10": num(b), "vr_p50": num(m), "vr_p90": num(c)}
                               for t, a, b, m, c in zip(v["t_us"], v["vr"], v["vr_p10"], v["vr_p50"], v["vr_p90"])]
        return {"run_id": self.run_id, "issue_time": iso(self.issue_us), "model_version": self.model_version,
                "repeated": self.repeated, "inputs": self.inputs, "flags": self.flags, "band_scale": self.band_scale,
                "targets": targets,
                "cmes": self.cmes, "messages": self.messages}

    def __rich__(self):
        rows = []
        for target in TARGETS:
            v = self.values.get(target)
            if v is None:
                continue
            days = ((v["t_us"] - self.issue_us) // DAY_US).astype(int)
            for day in range(HORIZON_DAYS):
                pick = days == day
                if pick.any() and np.isfinite(v["vr"][pick]).any():
                    median = v["vr_p50"][pick]
                    rows.append([target if day == 0 else "", f"{day + 1}",
                                 f"{np.nanmean(v['vr'][pick]):.0f}",
                                 f"{np.nanmean(median):.0f}" if np.isfinite(median).any() else "—",
                                 f"{np.nanmin(v['vr_p10'][pick]):.0f}–{np.nanmax(v['vr_p90'][pick]):.0f}",
                                 f"{np.nanmax(v['vr'][pick]):.0f}"])
        inputs = ", ".join(f"{p} to {i['latest'] or '—'}" for p, i in self.inputs.items() if p != "cmes")
        arrivals = [f"CME {c['id']} ({c['speed']:.0f} km/s at 21.5 R☉ {c['time21_5']}): "
                    + "; ".join(f"{t} {a['arrival']} ({a['arrival_p10'][5:16]}–{a['arrival_p90'][5:16]})"
                                if a["hit"] else f"{t} missed" for t, a in c["targets"].items()) for c in self.cmes]
        note = "unchanged inputs: the stored run" if self.repeated else "new run"
        return tables.group(
            tables.table(f"Forecast {self.run_id} issued {iso(self.issue_us)} ({note})",
                         ["Target", "Day", "Mean (km/s)", "Median (km/s)", "p10–p90 (km/s)", "Peak (km/s)"], rows,
                         left=1),
            f"inputs: {inputs}" + (f"; flags: {', '.join(self.flags)}" if self.flags else ""), *arrivals,
            *(f"sent {m['product_id']} serial {m['serial']} ({m['status']})" for m in self.messages))


def _inputs(found: dict, analyses: list[dict], at_us: int) -> dict:
    """What a run is made from; an input turning stale is a change (its run carries the flag)."""
    return {point: {"latest": None if latest is None else iso(latest), "hours": int(len(mjd)),
                    "stale": latest is not None and at_us - latest > STALE_AFTER_HOURS[point] * HOUR_US}
            for point, (mjd, _, latest) in found.items()} | {"cmes": [a["id"] for a in analyses]}


def stored_scale(text) -> list[float]:
    """A run's stored band_scale (JSON): seven numbers kept in BAND_SCALE_LIMITS; anything else
    (missing, edited, from a run stored before the scale) is read as no scaling."""
    try:
        values = json.loads(text) if isinstance(text, (str, bytes)) else None
    except ValueError:
        values = None
    if not (isinstance(values, list) and len(values) == HORIZON_DAYS
            and all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in values)):
        return [1.0] * HORIZON_DAYS
    return [min(max(float(x), BAND_SCALE_LIMITS[0]), BAND_SCALE_LIMITS[1]) for x in values]


def _key(inputs: dict) -> str:
    text = json.dumps({"model": MODEL_VERSION, "inputs": inputs}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def value_at(mjd: np.ndarray, v: np.ndarray, when) -> np.ndarray:
    """Value of an hourly series (MJD of each hour's start) at times ``when`` (within half an
    hour), NaN where none."""
    when = np.asarray(when, dtype=float)
    if len(mjd) == 0:
        return np.full(when.shape, np.nan)
    i = np.clip(np.searchsorted(mjd, when - 0.5 / 24), 0, len(mjd) - 1)
    return np.where(np.abs(mjd[i] - when) <= 0.5 / 24 + 1e-9, v[i], np.nan)


def lead_day(lead_days) -> np.ndarray:
    """Lead day 1..HORIZON_DAYS of leads in days: (k - 1, k] is day k."""
    return np.clip(np.ceil(np.asarray(lead_days) - 1e-9).astype(int), 1, HORIZON_DAYS)


class Training:
    """The Earth values of recent runs that :func:`band_scale` verifies (issue, valid time, p10,
    p50, p90, the scale in force at that lead), read once: a forecaster that issues again reads
    only the runs stored since."""

    def __init__(self):
        self.rows = np.zeros((0, 6))
        self.latest: int | None = None          # issue time of the newest run read

    def update(self, archive: Archive, at_us: int) -> np.ndarray:
        """Rows of the runs issued in the TRAINING_DAYS before ``at_us``."""
        start = at_us - int(TRAINING_DAYS * DAY_US)
        if self.latest is not None and at_us <= self.latest:      # issue times went back: read afresh
            self.rows, self.latest = np.zeros((0, 6)), None
        after = start - 1 if self.latest is None else max(start - 1, self.latest)
        rows = archive.query(
            "SELECT r.issue_us, r.band_scale, v.t_us, v.vr_p10, v.vr_p50, v.vr_p90 FROM forecast_runs r "
            "JOIN forecast_values v ON v.run_id = r.run_id WHERE v.target = 'earth' AND r.issue_us > ? "
            "AND r.issue_us < ? AND v.vr_p50 IS NOT NULL ORDER BY r.issue_us", (after, at_us))
        if rows:
            used = {text: stored_scale(text) for text in {r[1] for r in rows}}
            new = np.array([(r[0], r[2], r[3], r[4], r[5]) for r in rows], dtype=float)
            day = lead_day((new[:, 1] - new[:, 0]) / DAY_US)
            before = np.array([used[r[1]][d - 1] for r, d in zip(rows, day.tolist())], dtype=float)
            self.rows = np.vstack([self.rows, np.column_stack([new, before])])
            self.latest = int(new[-1, 0])
        self.rows = self.rows[self.rows[:, 0] >= start]
        return self.rows


def band_scale(archive: Archive, at_us: int, l1: tuple[np.ndarray, np.ndarray, int | None],
               training: Training | None = None) -> np.ndarray:
    """Per lead day, the factor on the band's half-widths (either side of p50) that would have held
    80 % of what L1 observed, over the runs of the last TRAINING_DAYS verified by ``at_us``
    against ``l1`` (hourly MJD, km/s received by then): the 0.8 quantile of |observed - p50| /
    the half-width on the observed side of each run's unscaled band (split conformal calibration,
    Romano, Patterson & Candes 2019, NeurIPS 32; a 40-day sliding window as Gneiting et al. 2005,
    Mon. Wea. Rev. 133, 1098). 1 where fewer than MIN_TRAINING_HOURS were verified."""
    scale = np.ones(HORIZON_DAYS)
    mjd, v, _ = l1
    if TRAINING_DAYS <= 0 or not len(mjd) or not archive.has("forecast_runs", "band_scale"):
        return scale
    rows = (training or Training()).update(archive, at_us)
    issue_us, t_us, p10, p50, p90, before = rows[rows[:, 1] <= at_us].T
    day = lead_day((t_us - issue_us) / DAY_US)
    observed = value_at(mjd, v, mjd_of_us(t_us))
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(observed < p50, (p50 - observed) / (p50 - p10), (observed - p50) / (p90 - p50)) * before
    for k in range(1, HORIZON_DAYS + 1):
        s = score[(day == k) & np.isfinite(score)]
        if len(s) >= MIN_TRAINING_HOURS:
            scale[k - 1] = np.clip(np.quantile(s, 0.8), *BAND_SCALE_LIMITS)
    return scale


def band(members: np.ndarray, lead_days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(p10, p50, p90) of member runs (members, hours) at ``lead_days``, the band widened by
    SPREAD_ADD_KMS (see the module's docstring):

    >>> p10, p50, p90 = band(np.array([[400.0], [400.0]]), np.array([0.5]))
    >>> round(float(p50[0])), round(float(p90[0] - p50[0]), 1), round(float(p50[0] - p10[0]), 1)
    (400, 44.0, 44.0)
    """
    p10, p50, p90 = np.percentile(members, [10, 50, 90], axis=0)
    add = np.asarray(SPREAD_ADD_KMS)[lead_day(lead_days) - 1]
    return (p50 - np.hypot((p50 - p10) / Z90, add) * Z90, p50, p50 + np.hypot((p90 - p50) / Z90, add) * Z90)


def compute(archive: Archive, at_us: int, *, members: int = MEMBERS, seed: int = 0, found: dict | None = None,
            analyses: list[dict] | None = None, tracks: dict[str, Series] | None = None,
            training: Training | None = None) -> Run:
    """The forecast from what the archive had received by ``at_us`` (not stored); ``found``: its
    :func:`observations`, if read already; ``tracks``: where vantage points really were (replays);
    ``training``: the recent runs :func:`band_scale` verifies, if read already."""
    found = observations(archive, at_us) if found is None else found
    analyses = cmes.recent(archive, at_us) if analyses is None else analyses
    inputs = _inputs(found, analyses, at_us)
    if not any(len(mjd) for mjd, _, _ in found.values()):
        raise InputError(f"no observations received by {iso(at_us)} from the {corotation.HISTORY_DAYS:.0f} days before it: "
                         "ingest the station's packets or run a feed first, or give an --at just after the "
                         "archive's data")
    flags = [f"no_{p}" for p in ("L1", "L4") if not len(found[p][0])]
    flags += [f"stale_{p}" for p in found if inputs[p]["stale"]]
    issue_mjd = float(mjd_of_us(at_us))
    samples = [corotation.backmap(series(p, mjd, v, tracks)) for p, (mjd, v, _) in found.items() if len(mjd)]
    central, sigma, coverage = corotation.boundary_map(samples, issue_mjd, min_coverage=0.0)
    if coverage == 0.0:
        raise InputError(f"no observation received by {iso(at_us)} left the Sun within the last "
                         f"{corotation.HISTORY_DAYS:.0f} days: nothing to forecast from")
    if coverage < 0.5:
        flags.append("partial_coverage")
    spread = ensemble.spread(sigma, HORIZON_DAYS / 2, STRUCTURE_CHANGE)
    maps = np.vstack([np.clip(central, *ensemble.SPEED_LIMITS_KMS),
                      ensemble.perturbed(central, spread, np.random.default_rng(seed), members)])
    hours = np.arange(HORIZON_DAYS * 24) / 24 + 1 / 24                 # 1 h .. 7 d after issue
    valid_mjd = issue_mjd + hours
    scale = band_scale(archive, at_us, found["L1"], training)
    by_hour = scale[lead_day(hours) - 1]
    values = {}
    for target in TARGETS:
        path_mjd = np.arange(issue_mjd - 1.0, issue_mjd + OUTLOOK_DAYS + 2.0, 1 / 24)
        path = series(target, path_mjd, np.full(len(path_mjd), np.nan))
        runs = corotation.run_along(maps, path, np.full(len(maps), issue_mjd), hours)
        p10, p50, p90 = band(runs[1:], hours)
        values[target] = {"t_us": us_of_mjd(valid_mjd), "vr": runs[0], "vr_p10": p50 - by_hour * (p50 - p10),
                          "vr_p50": p50, "vr_p90": p50 + by_hour * (p90 - p50)}
        if target == "earth":
            days = np.arange(HORIZON_DAYS * 24, OUTLOOK_DAYS * 24) / 24 + 1 / 24
            outlook = corotation.run_along(central[None, :], path, [issue_mjd], days)[0].reshape(-1, 24).mean(axis=1)
            t = us_of_mjd(issue_mjd + np.arange(HORIZON_DAYS, OUTLOOK_DAYS) + 0.5)
            values["earth_outlook"] = {"t_us": t, "vr": outlook} | {k: np.full(len(t), np.nan) for k in BAND}
    arrivals = []
    for analysis in analyses:
        at_targets = {}
        for target in TARGETS:
            lon, r = track(target, np.array([issue_mjd]))
            wind = float(np.nanmean(values[target]["vr"][:72]))        # the ambient wind of the next 3 days
            at_targets[target] = cmes.arrival(analysis, float(lon[0]), float(r[0]), wind)
        arrivals.append({"id": analysis["id"], "time21_5": iso(analysis["time21_5_us"]), "speed": analysis["speed"],
                         "targets": {t: _arrival_json(a) for t, a in at_targets.items()}})
    key = _key(inputs)
    return Run(run_id(iso(at_us), key), at_us, MODEL_VERSION, inputs, flags, values, cmes=arrivals,
               band_scale=[round(float(x), 4) for x in scale])


def _arrival_json(a: dict) -> dict:
    if not a["hit"]:
        return {"hit": False}
    return {"hit": True, "arrival": iso(a["arrival_us"]), "arrival_p10": iso(a["arrival_p10_us"]),
            "arrival_p90": iso(a["arrival_p90_us"]), "arrival_speed_kms": a["arrival_speed_kms"],
            "speed_error": a["speed_error"]}


def latest_run(archive: Archive, at_us: int | None = None) -> tuple[str, str] | None:
    """(run id, inputs key) of the latest run issued by ``at_us`` (or ever)."""
    if not archive.has("forecast_runs"):
        return None                      # an archive from before forecasts, read-only
    where, args = ("WHERE issue_us <= ?", (at_us,)) if at_us is not None else ("", ())
    rows = archive.query(f"SELECT run_id, inputs_key FROM forecast_runs {where} ORDER BY issue_us DESC, run_id DESC "
                         "LIMIT 1", args)
    return (rows[0][0], rows[0][1]) if rows else None


def load(archive: Archive, run: str) -> Run:
    """A stored run by id."""
    scale = "band_scale" if archive.has("forecast_runs", "band_scale") else "NULL"   # a run stored before it was
    rows = archive.query(f"SELECT run_id, issue_us, model_version, inputs, flags, cmes, {scale} FROM forecast_runs "
                         "WHERE run_id = ?", (run,))
    if not rows:
        raise InputError(f"no forecast run {run!r} in the archive")
    rid, issue_us, model, inputs, flags, arrivals, scale = rows[0]
    values = {}
    p50 = "vr_p50" if archive.has("forecast_values", "vr_p50") else "NULL"      # a run stored before p50 was
    for target, *row in archive.query(f"SELECT target, t_us, vr, vr_p10, {p50}, vr_p90 FROM forecast_values "
                                      "WHERE run_id = ? ORDER BY target, t_us", (run,)):
        v = values.setdefault(target, {name: [] for name in ("t_us", "vr", *BAND)})
        for name, x in zip(("t_us", "vr", "vr_p10", "vr_p50", "vr_p90"), row):
            v[name].append(math.nan if x is None else x)
    arrays = {t: {k: np.array(x, dtype=np.int64 if k == "t_us" else float) for k, x in v.items()} for t, v in values.items()}
    return Run(rid, int(issue_us), model, json.loads(inputs), json.loads(flags), arrays, cmes=json.loads(arrivals),
               band_scale=stored_scale(scale))


def save(archive: Archive, run: Run) -> bool:
    """Store a run with its values; False (nothing written) if a run of that id is stored already."""
    with archive.transaction() as cursor:
        row = (run.run_id, run.issue_us, run.model_version, _key(run.inputs), json.dumps(run.inputs),
               json.dumps(run.flags), json.dumps(run.cmes), json.dumps(run.band_scale))
        if not archive.insert_rows(cursor, "forecast_runs", [row]):
            return False
        def stored(x):
            return [None if y != y else y for y in np.asarray(x, dtype=float).tolist()]     # NaN -> NULL
        rows = []
        for target, v in run.values.items():
            rows += zip(repeat(run.run_id), repeat(target), v["t_us"].tolist(), stored(v["vr"]), stored(v["vr_p10"]),
                        stored(v["vr_p90"]), stored(v["vr_p50"]))
        archive.insert_rows(cursor, "forecast_values", rows)
    return True


def issue(archive: Archive, at_us: int, *, received: Received | None = None, **options) -> Run:
    """Issue (compute and store) the forecast for ``at_us``, unless the inputs are those of the
    latest run issued by then: that run is returned, marked ``repeated``."""
    found = observations(archive, at_us, received)
    analyses = cmes.recent(archive, at_us)
    previous = latest_run(archive, at_us)
    if previous is not None and previous[1] == _key(_inputs(found, analyses, at_us)):
        run = load(archive, previous[0])
        run.repeated = True
        return run
    run = compute(archive, at_us, found=found, analyses=analyses,
                  training=None if received is None else received.training, **options)
    if not save(archive, run):        # the same second, the same inputs: the run stored already
        run = load(archive, run.run_id)
        run.repeated = True
        return run
    run.messages = watches.update(archive, at_us, watches.predicted(run) + watches.shocks(archive, at_us))
    return run


def hapi_columns(archive: Archive, dataset: str) -> dict[str, np.ndarray]:
    """Columns of a forecast HAPI dataset (see :func:`l4station.ground.hapi.datasets`): the latest
    run at a target (``forecast_earth``, ...), or every run's daily Earth means (``forecast_runs``)."""
    if dataset == "forecast_runs":
        rows = [] if not archive.has("forecast_runs") else archive.query(f"SELECT r.issue_us, (v.t_us - r.issue_us - 1) / {DAY_US}, AVG(v.vr) FROM forecast_runs r "
                             "JOIN forecast_values v ON v.run_id = r.run_id WHERE v.target = 'earth' "
                             "GROUP BY r.run_id, r.issue_us, 2 ORDER BY r.issue_us, r.run_id, 2")
        issues = sorted({int(r[0]) for r in rows})
        out = {"t_us": np.array(issues, dtype=np.int64)} | {f"vr_lead{k}": np.full(len(issues), np.nan)
                                                            for k in range(1, HORIZON_DAYS + 1)}
        index = {t: i for i, t in enumerate(issues)}
        for issue_us, day, mean in rows:
            if 0 <= int(day) < HORIZON_DAYS and mean is not None:
                out[f"vr_lead{int(day) + 1}"][index[int(issue_us)]] = mean
        return out
    latest = latest_run(archive)
    if latest is None:
        return {"t_us": np.zeros(0, np.int64)} | {k: np.zeros(0) for k in ("vr", *BAND, "issue_time")}
    run = load(archive, latest[0])
    v = run.values[dataset.removeprefix("forecast_")]
    return {"t_us": v["t_us"], "vr": v["vr"]} | {k: v[k] for k in BAND} | {
        "issue_time": np.full(len(v["t_us"]), float(run.issue_us))}

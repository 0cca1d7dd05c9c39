"""Verification of stored forecast runs against what L1 then observed.

Every run's hourly Earth speeds are scored per lead day k = 1..7 (valid hours in ((k-1), k] days
after issue) against the L1 feeds' hourly means (the layout of NOAA's REFM ``ws_stats``): mean
absolute error, RMSE, mean error (forecast minus observed), prediction efficiency
1 - MSE / variance(observed), and the skill 1 - MSE / MSE_ref against two references on the same
hours (Owens et al. 2013, Space Weather 11, 225), and the ensemble's reliability: the share of
observed hours inside the p10-p90 band (80 % for a calibrated band) and its mean half-width in
sigma units, (p90 - p10) / (2 x 1.2816), to set beside the RMSE (spread-skill; Wilks 2011, sec. 8.7):

* 27-day persistence: the speed L1 observed one synodic rotation (27.27 days) earlier;
* L4 recurrence: the speed the station saw at the same Carrington longitude, i.e. at
  t - 60/13.2 days (4.55 d) or whole rotations before that, the latest one observed by the issue.

High-speed-stream events (after Jian et al. 2006 and Temmer et al. 2018, JSWSC 8:A18, as
defined here): an hour whose speed is at least 500 km/s and at least 100 km/s above the
lowest of the preceding 24 hours starts an event; hours within 2 days of an event's start
belong to it. Observed and forecast events match when they start within 2 days of each other;
POD = hits / (hits + misses), FAR = false alarms / (hits + false alarms), threat score
TS = hits / (hits + misses + false alarms), bias = (hits + false alarms) / (hits + misses), and
the timing error of hits. The forecast series for events is each hour's value from the latest
run issued at least one day before it; persistence is scored on the same events.

>>> starts = event_starts(np.arange(96) / 24, np.r_[np.full(48, 380.0), np.full(48, 560.0)])
>>> starts.tolist()
[2.0]
"""
from __future__ import annotations

import warnings

import numpy as np

from l4station import tables
from l4station.constants import DAY_US, HOUR_US
from l4station.ground.forecaster import HORIZON_DAYS, Z90, lead_day, mjd_of_us, us_of_mjd, value_at
from l4station.ground.store import FEED_GOOD, STATION_GOOD, Archive, iso
from l4station.heliosphere.corotation import OMEGA_DEG_PER_DAY, PERIOD_DAYS

HSS_PEAK_KMS = 500.0
HSS_RISE_KMS = 100.0
HSS_WINDOW_DAYS = 1.0
MATCH_DAYS = 2.0
L4_LAG_DAYS = 60.0 / OMEGA_DEG_PER_DAY


def hourly(archive: Archive, table: str, column: str, where: str = "", args: tuple = ()) -> tuple[np.ndarray, np.ndarray]:
    """Hourly mean (MJD of the hour's start, km/s) of every stored sample of a column."""
    rows = archive.query(f"SELECT t_us / {HOUR_US}, AVG({column}) FROM {table} WHERE {column} IS NOT NULL {where} "
                         "GROUP BY 1 ORDER BY 1", args)
    table_ = np.array(rows, dtype=float).reshape(-1, 2)
    return mjd_of_us(table_[:, 0] * HOUR_US), table_[:, 1]


def observed_speeds(archive: Archive, point: str, start_us: int = -2 ** 62, stop_us: int = 2 ** 62
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Hourly means of the speeds fit to verify with, observed at L1 (feeds) or L4 (the station)."""
    if point == "L4":
        return hourly(archive, "plasma", "vr", f"AND {STATION_GOOD} AND t_us >= ? AND t_us < ?", (start_us, stop_us))
    if not archive.has("feed_wind"):
        return np.zeros(0), np.zeros(0)            # an archive from before feeds, read-only
    return hourly(archive, "feed_wind", "speed", f"AND point = ? AND {FEED_GOOD} AND t_us >= ? AND t_us < ?",
                  (point, start_us, stop_us))


def event_starts(mjd: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Start times (MJD) of high-speed-stream events in an hourly series (see the module's definition)."""
    mjd, v = np.asarray(mjd, dtype=float), np.asarray(v, dtype=float)
    if len(v) == 0:
        return np.zeros(0)
    window = int(round(HSS_WINDOW_DAYS * 24))
    padded = np.r_[np.full(window, np.nan), v]
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)          # a day with no data: no minimum, no event
        low = np.nanmin(np.lib.stride_tricks.sliding_window_view(padded, window + 1)[:, :-1], axis=1)
        candidate = (v >= HSS_PEAK_KMS) & (v - low >= HSS_RISE_KMS)
    starts = []
    for t in mjd[candidate]:
        if not starts or t - starts[-1] > MATCH_DAYS:
            starts.append(float(t))
    return np.array(starts)


def contingency(observed: np.ndarray, forecast: np.ndarray) -> dict:
    """Hits, misses and false alarms of forecast event starts against observed ones (greedy,
    nearest first, within MATCH_DAYS), and the scores."""
    pairs = sorted((abs(f - o), i, j) for i, o in enumerate(observed) for j, f in enumerate(forecast)
                   if abs(f - o) <= MATCH_DAYS)
    used_o, used_f, timing = set(), set(), []
    for gap, i, j in pairs:
        if i not in used_o and j not in used_f:
            used_o.add(i)
            used_f.add(j)
            timing.append(gap * 24)
    hits = len(used_o)
    misses = len(observed) - hits
    false = len(forecast) - hits

    def ratio(a, b):
        return None if b == 0 else round(a / b, 3)
    return {"hits": hits, "misses": misses, "false_alarms": false, "pod": ratio(hits, hits + misses),
            "far": ratio(false, hits + false), "ts": ratio(hits, hits + misses + false),
            "bias": ratio(hits + false, hits + misses),
            "timing_mae_h": None if not timing else round(float(np.mean(timing)), 1)}


def _band(o: np.ndarray, low: np.ndarray, high: np.ndarray) -> dict:
    """Share of observed hours inside [low, high] and the band's mean half-width as a sigma (km/s)."""
    ok = np.isfinite(o) & np.isfinite(low) & np.isfinite(high)
    if ok.sum() < 2:
        return {"band_coverage": None, "spread_kms": None}
    inside = (o[ok] >= low[ok]) & (o[ok] <= high[ok])
    return {"band_coverage": round(float(inside.mean()), 3),
            "spread_kms": round(float(np.mean(high[ok] - low[ok]) / (2 * Z90)), 1)}


def _scores(f: np.ndarray, o: np.ndarray, p: np.ndarray, r: np.ndarray, low: np.ndarray, high: np.ndarray) -> dict:
    ok = np.isfinite(f) & np.isfinite(o)
    n = int(ok.sum())
    if n < 2:
        return {"n": n, "mae_kms": None, "rmse_kms": None, "me_kms": None, "prediction_efficiency": None,
                "skill_vs_persistence": None, "skill_vs_recurrence": None, "persistence_mae_kms": None,
                "band_coverage": None, "spread_kms": None}
    e = f[ok] - o[ok]
    mse = float(np.mean(e ** 2))

    def skill(ref):
        both = ok & np.isfinite(ref)
        reference = np.mean((ref[both] - o[both]) ** 2) if both.sum() >= 2 else 0.0
        if reference == 0:
            return None                  # no reference error to improve on (e.g. a constant wind)
        return round(1 - np.mean((f[both] - o[both]) ** 2) / reference, 3)
    both_p = ok & np.isfinite(p)
    return {"n": n, "mae_kms": round(float(np.mean(np.abs(e))), 1), "rmse_kms": round(mse ** 0.5, 1),
            "me_kms": round(float(np.mean(e)), 1),
            "prediction_efficiency": round(1 - mse / float(np.var(o[ok])), 3) if np.var(o[ok]) > 0 else None,
            "skill_vs_persistence": skill(p), "skill_vs_recurrence": skill(r),
            "persistence_mae_kms": round(float(np.mean(np.abs(p[both_p] - o[both_p]))), 1) if both_p.sum() else None
            } | _band(o, low, high)


class Verification(dict):
    """Scores by lead day (full period and last 30 days) and event scores; JSON values."""

    def to_json(self) -> dict:
        return dict(self)

    def __or__(self, other: dict) -> "Verification":
        return Verification(dict(self) | other)

    def __rich__(self):
        def cell(x, spec):
            return "—" if x is None else f"{x:{spec}}"
        rows = [[str(s["lead_days"]), f"{s['n']:,}", cell(s["mae_kms"], ".1f"), cell(s["rmse_kms"], ".1f"),
                 cell(s["me_kms"], "+.1f"), cell(s["skill_vs_persistence"], "+.3f"),
                 cell(s["skill_vs_recurrence"], "+.3f"), cell(s["persistence_mae_kms"], ".1f"),
                 cell(s["band_coverage"], ".0%"), cell(s["spread_kms"], ".1f")]
                for s in self["by_lead"]]
        ev = self["events"]
        event_rows = [[who, cell(e["pod"], ".2f"), cell(e["far"], ".2f"), cell(e["ts"], ".2f"), cell(e["bias"], ".2f"),
                       cell(e["timing_mae_h"], ".1f")] for who, e in (("forecast", ev["model"]),
                                                                      ("27-day persistence", ev["persistence"]))]
        return tables.group(
            tables.table(f"Verification at {self['target']}: {self['runs']} runs, {self['start']} to {self['stop']}",
                         ["Lead (d)", "Hours", "MAE", "RMSE", "Mean error", "Skill vs persistence",
                          "Skill vs L4 recurrence", "Persistence MAE", "In p10–p90", "Spread"], rows, left=0),
            tables.table(f"High-speed streams ({ev['observed']} observed)", ["", "POD", "FAR", "TS", "Bias",
                                                                              "Timing MAE (h)"], event_rows, left=1))


def verify(archive: Archive, *, start_us: int | None = None, stop_us: int | None = None,
           tracks: dict | None = None) -> Verification:
    """Scores of the runs issued in [start, stop) at Earth against the L1 feeds (all received);
    ``tracks["L4"]``: where a replayed station really was (its lag to Earth follows its longitude)."""
    lo = -2 ** 62 if start_us is None else start_us
    hi = 2 ** 62 if stop_us is None else stop_us
    obs_mjd, obs_v = observed_speeds(archive, "L1")
    l4_mjd, l4_v = observed_speeds(archive, "L4")
    rows = [] if not archive.has("forecast_runs") else archive.query(
        "SELECT r.issue_us, v.t_us, v.vr, v.vr_p10, v.vr_p90 FROM forecast_runs r JOIN forecast_values v "
        "ON v.run_id = r.run_id WHERE v.target = 'earth' AND r.issue_us >= ? AND r.issue_us < ? "
        "ORDER BY r.issue_us, v.t_us", (lo, hi))
    table = np.array(rows, dtype=float).reshape(-1, 5)
    issue_us, t_us, f, low, high = table.T
    lead_days = (t_us - issue_us) / DAY_US
    valid = mjd_of_us(t_us)
    issue = mjd_of_us(issue_us)
    o = value_at(obs_mjd, obs_v, valid)
    p = value_at(obs_mjd, obs_v, valid - PERIOD_DAYS)
    # L4 recurrence: the station's view of the same longitude, whole rotations earlier until observed by the issue
    lag = L4_LAG_DAYS if not tracks or "L4" not in tracks else \
        np.interp(valid, tracks["L4"].mjd, tracks["L4"].lon_deg) / OMEGA_DEG_PER_DAY
    back = np.ceil(np.maximum(valid - lag - issue, 0) / PERIOD_DAYS)
    r = value_at(l4_mjd, l4_v, valid - lag - back * PERIOD_DAYS)
    day = lead_day(lead_days)
    last30 = issue >= (issue.max() - 30.0 if len(issue) else 0)
    by_lead, recent = [], []
    for k in range(1, HORIZON_DAYS + 1):
        pick = day == k
        by_lead.append({"lead_days": k} | _scores(f[pick], o[pick], p[pick], r[pick], low[pick], high[pick]))
        pick30 = pick & last30
        recent.append({"lead_days": k} | _scores(f[pick30], o[pick30], p[pick30], r[pick30], low[pick30], high[pick30]))
    # events: each hour from the latest run issued at least a day before it
    eligible = lead_days >= 1.0
    order = np.lexsort((-issue[eligible], valid[eligible]))        # by valid time, latest issue first
    v_e, f_e = valid[eligible][order], f[eligible][order]
    first = np.r_[True, np.diff(v_e) > 1e-9] if len(v_e) else np.zeros(0, bool)
    series_t, series_f = v_e[first], f_e[first]
    span = (obs_mjd >= series_t.min()) & (obs_mjd <= series_t.max()) if len(series_t) else np.zeros(len(obs_mjd), bool)
    observed = event_starts(obs_mjd[span], obs_v[span])
    persistence = event_starts(obs_mjd[span], value_at(obs_mjd, obs_v, obs_mjd[span] - PERIOD_DAYS))
    predicted = event_starts(series_t, series_f)
    runs = len(np.unique(issue_us))

    def when(mjd):
        return None if mjd is None else iso(int(us_of_mjd(mjd)))
    return Verification(target="earth", runs=runs, start=when(issue.min() if runs else None),
                        stop=when(issue.max() if runs else None), by_lead=by_lead, last_30_days=recent,
                        persistence_by_lead=[{"lead_days": s["lead_days"], "mae_kms": s["persistence_mae_kms"]}
                                             for s in by_lead],
                        events={"observed": len(observed), "model": contingency(observed, predicted),
                                "persistence": contingency(observed, persistence)})

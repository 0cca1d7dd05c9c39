"""From in-situ speeds to forecasts anywhere: back-mapping, a simple assimilation, and forward runs.

An observed speed v at distance r maps back to the inner boundary (30 R_sun) along the steady
accelerated profile of :mod:`~l4station.heliosphere.solarwind`: boundary speed
v0 = v / (1 + alpha (1 - exp(-(r - r0)/r_acc))), travel time

    tau = r_acc / ((1 + alpha) v0) * ln((1 + alpha) exp((r - r0)/r_acc) - alpha)

(the integral of dr / v(r); alpha = 0 gives (r - r0)/v0). In the model's frame the boundary map
turns at the synodic rate Omega, so a parcel that crossed the boundary at Earth-relative
longitude lambda at time t_b sits at map longitude psi = lambda - Omega (t_b - t_ref): the
inverse of the forward model, as in HUXt-based corotation forecasts (Owens & Riley 2017, Space
Weather 15, 1461; Thomas et al. 2018, Space Weather 16, 814).

Several observers combine in one map per issue time by a simple optimal-interpolation step:
each back-mapped sample weighs 1 / (sigma0^2 + (g * age)^2), its error growing with the time since
it left the boundary, so the freshest view of each longitude dominates (the error growth g is
measured from the data; see :func:`fit_error_growth`). The map then drives the model forward along
the target's own radial line (lines are independent), one ensemble member per issue time.

The boundary turns at the Sun's synodic rate seen from Earth, 360 deg per 27.2753 days
(Carrington):

>>> round(OMEGA_DEG_PER_DAY, 3)
13.199
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from l4station import tables
from l4station.constants import DAY_S, SYNODIC_PERIOD_DAYS
from l4station.heliosphere import solarwind as sw
from l4station.heliosphere.insitu import MJD_2000, Series

OMEGA_DEG_PER_DAY = 360.0 / SYNODIC_PERIOD_DAYS
PERIOD_DAYS = SYNODIC_PERIOD_DAYS
HISTORY_DAYS = 1.5 * PERIOD_DAYS                # the assimilation's memory: samples this many days old at most


def _profile(r_km):
    x = (np.asarray(r_km, dtype=float) - sw.model_grid().r_km[0]) / sw.R_ACCEL_KM
    return x, 1 + sw.ALPHA * (1 - np.exp(-x))


def boundary_speed(v_kms, r_km) -> np.ndarray:
    """Inner-boundary speed (km/s) of wind seen at v_kms, r_km on the steady accelerated profile."""
    return np.asarray(v_kms, dtype=float) / _profile(r_km)[1]


def travel_time_s(v0_kms, r_km) -> np.ndarray:
    """Time (s) for wind leaving the 30 R_sun boundary at v0_kms to reach r_km (steady profile)."""
    x, _ = _profile(r_km)
    a = 1 + sw.ALPHA
    return sw.R_ACCEL_KM / (a * np.asarray(v0_kms, dtype=float)) * np.log(a * np.exp(x) - sw.ALPHA)


@dataclass(frozen=True)
class BoundarySamples:
    """Observations mapped to the inner boundary: when each became available to forecasters
    (``available_mjd``), when its parcel crossed the boundary (``boundary_mjd``), at which map
    longitude (``psi_deg``) and with which boundary speed (``v0_kms``)."""

    name: str
    available_mjd: np.ndarray
    boundary_mjd: np.ndarray
    psi_deg: np.ndarray
    v0_kms: np.ndarray


def backmap(series: Series, latency_hours: float = 0.0) -> BoundarySamples:
    """Map an observer's valid samples to the inner boundary; ``latency_hours`` delays their availability."""
    ok = np.isfinite(series.v_kms)
    mjd, v, lon, r = series.mjd[ok], series.v_kms[ok], series.lon_deg[ok], series.r_km[ok]
    v0 = boundary_speed(v, r)
    t_b = mjd - travel_time_s(v0, r) / DAY_S
    psi = (lon - OMEGA_DEG_PER_DAY * (t_b - MJD_2000)) % 360.0
    order = np.argsort(mjd + latency_hours / 24, kind="stable")
    return BoundarySamples(series.name, (mjd + latency_hours / 24)[order], t_b[order], psi[order], v0[order])


@dataclass(frozen=True)
class ErrorModel:
    """Error (1 sigma, km/s at the boundary) of a back-mapped sample ``age`` days after it crossed the
    boundary: variance sigma0^2 + sigma_s^2 (1 - exp(-age / tau)), structure decorrelating over tau
    days. Defaults: fitted by :func:`fit_error_growth` to OMNI and STEREO-A/B, 2008-2012."""

    sigma0_kms: float = 9.9
    sigma_s_kms: float = 57.8
    tau_days: float = 4.75

    def variance(self, age_days) -> np.ndarray:
        return self.sigma0_kms ** 2 + self.sigma_s_kms ** 2 * (1 - np.exp(-np.asarray(age_days) / self.tau_days))

    def weight(self, age_days) -> np.ndarray:
        return 1.0 / self.variance(age_days)


def _accumulate(samples: list[BoundarySamples], issue_mjd: np.ndarray, n_lon: int, error: ErrorModel,
                history_days: float) -> tuple[np.ndarray, np.ndarray]:
    """Weighted sums (value x weight, weight), (N, n_lon), per map cell of the samples available at
    each issue time that crossed the boundary within ``history_days`` before it."""
    value = np.zeros((len(issue_mjd), n_lon))
    weight = np.zeros((len(issue_mjd), n_lon))
    for s in samples:
        _add_samples(s.available_mjd, s.boundary_mjd, s.psi_deg, s.v0_kms, issue_mjd, OMEGA_DEG_PER_DAY,
                     float(MJD_2000), error.sigma0_kms ** 2, error.sigma_s_kms ** 2, error.tau_days,
                     float(history_days), value, weight)
    return value, weight


@njit(cache=True)
def _add_samples(available_mjd, boundary_mjd, psi_deg, v0_kms, issue_mjd, omega_deg_per_day, mjd_2000, sigma0_sq,
                 sigma_s_sq, tau_days, history_days, value, weight):
    """Adds one observer's samples to ``value`` and ``weight`` (N, K) at each of the N issue times:
    each sample available by the issue (``available_mjd`` sorted) and no older than
    ``history_days`` at the boundary weighs 1 / (sigma0^2 + sigma_s^2 (1 - exp(-age / tau))) (km/s)^-2
    (:class:`ErrorModel`) and splits linearly between its two nearest of the K cells. Sums in the
    order numpy's bincount makes them (the first cells' shares, then the second's)."""
    n_lon = value.shape[1]
    part_w, part_v = np.empty((2, n_lon)), np.empty((2, n_lon))   # first cells' shares, second cells'
    for r in range(issue_mjd.shape[0]):
        t_i = issue_mjd[r]
        stop = _bisect(available_mjd, t_i, True)
        start = _bisect(available_mjd, t_i - history_days - 10.0, False)
        turn = omega_deg_per_day * (t_i - mjd_2000)
        part_w[:] = 0.0
        part_v[:] = 0.0
        for k in range(start, stop):
            if boundary_mjd[k] < t_i - history_days:
                continue
            lam = (psi_deg[k] + turn) % 360.0
            w = 1.0 / (sigma0_sq + sigma_s_sq * (1 - math.exp(-(t_i - boundary_mjd[k]) / tau_days)))
            f = lam / 360.0 * n_lon
            j = math.floor(f)
            frac = f - j
            for p, cell, share in ((0, j % n_lon, 1 - frac), (1, (j + 1) % n_lon, frac)):
                part_w[p, cell] += w * share
                part_v[p, cell] += w * share * v0_kms[k]
        for p in range(2):
            for c in range(n_lon):
                weight[r, c] += part_w[p, c]
                value[r, c] += part_v[p, c]


@njit(cache=True)
def _bisect(a, x, right: bool) -> int:
    """np.searchsorted(a, x, side="right" if right else "left") on sorted, NaN-free ``a``."""
    lo, hi = 0, a.shape[0]
    while lo < hi:
        mid = (lo + hi) // 2
        if a[mid] < x or (right and a[mid] == x):
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def _interp_periodic(x, xp, fp, period, out):
    """``out[:] = np.interp(x, xp, fp, period=period)`` operation for operation (distinct xp), in
    compiled loops."""
    n = xp.shape[0]
    xs, fs = np.empty(n + 2), np.empty(n + 2)
    wrapped = xp % period
    order = np.arange(n)                                     # sorted by insertion (xp is mostly in order)
    for i in range(1, n):
        k, j = order[i], i - 1
        while j >= 0 and wrapped[order[j]] > wrapped[k]:
            order[j + 1] = order[j]
            j -= 1
        order[j + 1] = k
    for k in range(n):
        xs[k + 1], fs[k + 1] = wrapped[order[k]], fp[order[k]]
    xs[0], fs[0] = xs[n] - period, fs[n]
    xs[n + 1], fs[n + 1] = xs[1] + period, fs[1]
    for i in range(x.shape[0]):
        xv = x[i] % period
        if xv < xs[0]:
            out[i] = fs[0]
            continue
        if xv >= xs[n + 1]:
            out[i] = fs[n + 1]
            continue
        j = _bisect(xs, xv, True) - 1                        # xs[j] <= xv < xs[j + 1]
        if xs[j] == xv:
            out[i] = fs[j]
            continue
        slope = (fs[j + 1] - fs[j]) / (xs[j + 1] - xs[j])
        out[i] = slope * (xv - xs[j]) + fs[j]
        if math.isnan(out[i]):                               # as numpy: try from the other end
            out[i] = slope * (xv - xs[j + 1]) + fs[j + 1]
            if math.isnan(out[i]) and fs[j] == fs[j + 1]:
                out[i] = fs[j]


@njit(cache=True)
def _fill_maps(value, weight, min_coverage, maps):
    """Maps (N, K) km/s from the weighted sums: observed cells their weighted mean, the others
    interpolated periodically from their neighbours; NaN where under ``min_coverage`` of the cells
    are observed."""
    n_lon = value.shape[1]
    cells = np.arange(n_lon) * 1.0
    xp, fp = np.empty(n_lon), np.empty(n_lon)
    for r in range(value.shape[0]):
        seen = 0
        for c in range(n_lon):
            if weight[r, c] > 0:
                xp[seen], fp[seen] = cells[c], value[r, c] / weight[r, c]
                seen += 1
        coverage = seen / n_lon
        if coverage == 0.0 or coverage < min_coverage:
            maps[r, :] = np.nan
        else:
            _interp_periodic(cells, xp[:seen], fp[:seen], float(n_lon), maps[r])


def boundary_maps(samples: list[BoundarySamples], issue_mjd, *, n_lon: int = 128,
                  error: ErrorModel = ErrorModel(), history_days: float = HISTORY_DAYS,
                  min_coverage: float = 0.5) -> np.ndarray:
    """Boundary maps (N, n_lon) km/s at each issue time, on Earth-relative longitudes 0..360 deg (the
    ``boundary_speed`` of :func:`~l4station.heliosphere.solarwind.solve` with t = 0 at the issue).

    Uses only samples available by the issue time and crossing the boundary within
    ``history_days`` before it, weighted by ``error``; each sample splits linearly between its two
    nearest cells. Empty cells are filled periodically from their neighbours; a map with fewer than
    ``min_coverage`` of its cells observed is NaN (no forecast).
    """
    issue = np.atleast_1d(np.asarray(issue_mjd, dtype=float))
    value, weight = _accumulate(samples, issue, n_lon, error, history_days)
    maps = np.empty((len(issue), n_lon))
    _fill_maps(value, weight, float(min_coverage), maps)
    return maps


def boundary_map(samples: list[BoundarySamples], issue_mjd: float, *, n_lon: int = 128,
                 error: ErrorModel = ErrorModel(), history_days: float = HISTORY_DAYS,
                 min_coverage: float = 0.5) -> tuple[np.ndarray, np.ndarray, float]:
    """One issue time's boundary map (km/s, as :func:`boundary_maps`), its 1-sigma error per cell
    (km/s: 1 / sqrt(total weight) where observed; unobserved cells take the error of the
    farthest-reaching structure change, sqrt(sigma0^2 + sigma_s^2)) and the observed fraction
    of cells. The map is NaN below ``min_coverage``."""
    value, weight = _accumulate(samples, np.array([float(issue_mjd)]), n_lon, error, history_days)
    maps = np.empty((1, n_lon))
    _fill_maps(value, weight, float(min_coverage), maps)
    seen = weight[0] > 0
    sigma = np.full(n_lon, math.sqrt(error.sigma0_kms ** 2 + error.sigma_s_kms ** 2))
    sigma[seen] = 1.0 / np.sqrt(weight[0][seen])
    return maps[0], sigma, float(seen.mean())


def structure_change(samples: list[BoundarySamples], *, n_lon: int = 128, max_lag_days: int = 30
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """How fast the boundary map changes: for each lag (days) the RMS difference (km/s) of boundary
    speeds seen at the same map longitude that many days apart (by the same or another observer),
    and the number of pairs. Samples are first averaged per (map cell, boundary day)."""
    grids = []
    day0 = min(float(s.boundary_mjd.min()) for s in samples if len(s.boundary_mjd))
    n_days = int(max(float(s.boundary_mjd.max()) for s in samples if len(s.boundary_mjd)) - day0) + 1
    for s in samples:
        index = (np.floor(s.boundary_mjd - day0).astype(int) * n_lon
                 + np.floor(s.psi_deg / 360.0 * n_lon).astype(int) % n_lon)
        total = np.bincount(index, s.v0_kms, n_days * n_lon)
        count = np.bincount(index, None, n_days * n_lon)
        with np.errstate(invalid="ignore"):
            grids.append((total / count).reshape(n_days, n_lon))
    lags = np.arange(1, max_lag_days + 1)
    rms, pairs = np.full(len(lags), np.nan), np.zeros(len(lags), dtype=int)
    for k, lag in enumerate(lags):
        sq, n = 0.0, 0
        for a in grids:
            for b in grids:
                d = a[:-lag] - b[lag:]
                ok = np.isfinite(d)
                sq += float(np.sum(d[ok] ** 2))
                n += int(ok.sum())
        if n:
            rms[k], pairs[k] = math.sqrt(sq / n), n
    return lags.astype(float), rms, pairs


def fit_error_growth(samples: list[BoundarySamples], *, min_pairs: int = 200) -> ErrorModel:
    """The :class:`ErrorModel` fitted to :func:`structure_change`: each of a pair carries half the
    variance of their difference; least squares over the lags with at least ``min_pairs`` pairs
    (non-negative linear least squares in sigma0^2 and sigma_s^2 for each tau, ``scipy.optimize.nnls``:
    variable projection, Golub & Pereyra 1973). The cost has more than one minimum in tau, so the
    best of a 0.25-day grid over 0.25-30 days (``brute``) is polished by bounded ``minimize_scalar``
    within one grid step."""
    from scipy.optimize import brute, minimize_scalar, nnls

    lags, rms, pairs = structure_change(samples)
    ok = pairs >= min_pairs
    if ok.sum() < 3:
        raise ValueError("too few repeated views of the same longitude to fit the error growth")
    target = rms[ok] ** 2 / 2

    def fit(tau):
        a = np.stack([np.ones(ok.sum()), 1 - np.exp(-lags[ok] / tau)], axis=1)
        coef, residual = nnls(a, target)
        return coef, residual ** 2

    step = 0.25
    start = float(brute(lambda t: fit(t[0])[1], ((step, 30.0),), Ns=int(30.0 / step), finish=None))
    tau = float(minimize_scalar(lambda t: fit(t)[1], bounds=(max(step, start - step), min(30.0, start + step)),
                                method="bounded", options={"xatol": 1e-3}).x)
    s0, ss = fit(tau)[0]
    if ss <= 0:
        raise ValueError("the structure-change curve does not fit a growing error")
    return ErrorModel(math.sqrt(s0), math.sqrt(ss), float(tau))


@dataclass(frozen=True)
class Forecast:
    """A forecast series at a target: valid times ``mjd`` (hourly), forecast and observed speed
    (NaN where none), with lead between ``lead_days`` and ``lead_days + cadence_days``."""

    observers: tuple[str, ...]
    target: str
    lead_days: float
    cadence_days: float
    mjd: np.ndarray
    forecast_kms: np.ndarray
    observed_kms: np.ndarray
    persistence_kms: np.ndarray

    def metrics(self) -> dict:
        """MAE, RMSE (km/s), Pearson correlation and count where forecast and truth exist, and the skill
        1 - MSE / MSE(27-day persistence) where persistence exists too (Owens et al. 2013)."""
        ok = np.isfinite(self.forecast_kms) & np.isfinite(self.observed_kms)
        n = int(ok.sum())
        if n < 2:
            return {"mae_kms": None, "rmse_kms": None, "corr": None, "n": n, "skill_vs_persistence": None}
        err = self.forecast_kms[ok] - self.observed_kms[ok]
        both = ok & np.isfinite(self.persistence_kms)
        skill = None
        if both.sum() >= 2:
            mse_f = np.mean((self.forecast_kms[both] - self.observed_kms[both]) ** 2)
            mse_p = np.mean((self.persistence_kms[both] - self.observed_kms[both]) ** 2)
            skill = float(1 - mse_f / mse_p)
        return {"mae_kms": float(np.mean(np.abs(err))), "rmse_kms": float(np.sqrt(np.mean(err ** 2))),
                "corr": float(np.corrcoef(self.forecast_kms[ok], self.observed_kms[ok])[0, 1]), "n": n,
                "skill_vs_persistence": skill}

    def times(self) -> list[str]:
        """Valid times, ISO UTC to the second with a Z."""
        from astropy.time import Time

        return [t[:19] + "Z" for t in Time(self.mjd, format="mjd", scale="utc").isot]

    def to_json(self) -> dict:
        def speed(v):
            return None if np.isnan(v) else round(float(v), 1)
        return {"observers": list(self.observers), "target": self.target, "lead_days": self.lead_days,
                "metrics": self.metrics(),
                "series": [{"time": t, "forecast_kms": speed(v), "observed_kms": speed(o)}
                           for t, v, o in zip(self.times(), self.forecast_kms, self.observed_kms)]}

    def __rich__(self):
        m, times = self.metrics(), self.times()

        def cell(x, spec):
            return "—" if x is None else f"{x:{spec}}"
        return tables.group(
            tables.table(f"{'+'.join(self.observers)} → {self.target}, lead {self.lead_days:g}–"
                         f"{self.lead_days + self.cadence_days:g} days, {times[0][:10]} to {times[-1][:10]}",
                         ["MAE (km/s)", "RMSE (km/s)", "Correlation", "Skill vs 27-day persistence", "Hours scored"],
                         [[cell(m["mae_kms"], ".1f"), cell(m["rmse_kms"], ".1f"), cell(m["corr"], ".3f"),
                           cell(m["skill_vs_persistence"], ".3f"), f"{m['n']:,}"]], left=0),
            f"{len(times):,} hourly forecasts; --json prints the series.")


def persistence(target: Series, mjd) -> np.ndarray:
    """27-day recurrence: the target's own speed one synodic rotation earlier."""
    return target.at(np.asarray(mjd) - PERIOD_DAYS)


def forecast(samples: list[BoundarySamples], target: Series, issue_mjd, *, lead_days: float,
             cadence_days: float = 1.0, error: ErrorModel = ErrorModel(), n_lon: int = 128) -> Forecast:
    """Forecast the target's speed from the observers' back-mapped samples.

    At each issue time the assimilated map drives the model along the target's radial line; the
    hours from ``lead_days`` to ``lead_days + cadence_days`` after the issue make the series.
    ``target`` supplies the path (Earth-relative longitude, distance) and the truth (its speeds).
    """
    maps = boundary_maps(samples, issue_mjd, n_lon=n_lon, error=error)
    return forecasts(maps, tuple(s.name for s in samples), target, issue_mjd, [lead_days],
                     cadence_days=cadence_days)[0]


def run_along(maps: np.ndarray, path: Series, issue_mjd, offsets_days) -> np.ndarray:
    """Speed (km/s) along a target's path at ``offsets_days`` after each issue time, from boundary
    maps (N, K) on Earth-relative longitudes at the N issue times: (N, len(offsets)), NaN for a
    NaN map. ``path`` gives the target's Earth-relative longitude and distance over time; each
    map is turned so that the target's mean longitude over the offsets sits at 0 deg and run
    forward along that one radial line."""
    issue = np.atleast_1d(np.asarray(issue_mjd, dtype=float))
    offsets = np.asarray(offsets_days, dtype=float)
    n_lon = maps.shape[1]
    valid = issue[:, None] + offsets[None, :]
    lon = np.interp(valid, path.mjd, path.lon_deg)
    r = np.interp(valid, path.mjd, path.r_km)
    have = np.all(np.isfinite(maps), axis=1)
    out = np.full(valid.shape, np.nan)
    if not have.any():
        return out
    mid = np.degrees(np.angle(np.mean(np.exp(1j * np.radians(lon)), axis=1)))
    cells = np.arange(n_lon) * 360.0 / n_lon
    turned = np.empty((int(have.sum()), n_lon))
    _turn(maps, np.flatnonzero(have), mid, cells, turned)
    grid = sw.model_grid(r_outer_rsun=max(240.0, float(r.max()) / sw.R_SUN_KM + 3.0))
    band = (grid.r_km >= r[have].min() - grid.dr_km) & (grid.r_km <= r[have].max() + grid.dr_km)
    solution = sw.solve(turned, duration_s=(float(offsets.max()) + 1 / 24) * DAY_S, grid=grid,
                        longitudes_deg=[0.0], store_r_km=grid.r_km[band], output_every_s=1800.0)
    # Stored every few model steps (not exactly hourly): linear in time to the valid hours.
    lead_s = offsets * DAY_S
    k = np.clip(np.searchsorted(solution.t_s, lead_s) - 1, 0, len(solution.t_s) - 2)
    u = ((lead_s - solution.t_s[k]) / (solution.t_s[k + 1] - solution.t_s[k]))[None, :, None]
    series = (1 - u) * solution.v[:, 0, k, :] + u * solution.v[:, 0, k + 1, :]     # (N_have, H, S)
    j0, j1, g = sw.radial_bracket(solution.r_km, r[have])
    lo = np.take_along_axis(series, j0[..., None], axis=2)[..., 0]
    hi = np.take_along_axis(series, j1[..., None], axis=2)[..., 0]
    out[have] = (1 - g) * lo + g * hi
    return out


@njit(cache=True)
def _turn(maps, rows, mid_deg, cells_deg, out):
    """out[k] = the map of row rows[k] turned so that longitude mid_deg[rows[k]] sits at 0 deg (cells_deg
    evenly spaced over 360 deg)."""
    for k in range(rows.shape[0]):
        _interp_periodic(cells_deg + mid_deg[rows[k]], cells_deg, maps[rows[k]], 360.0, out[k])


def forecasts(maps: np.ndarray, observers: tuple[str, ...], target: Series, issue_mjd, leads_days, *,
              cadence_days: float = 1.0) -> list[Forecast]:
    """One :class:`Forecast` per lead from boundary maps (N, K) already assimilated at the N issue
    times (:func:`boundary_maps`): a single model run per issue covers every lead."""
    issue = np.atleast_1d(np.asarray(issue_mjd, dtype=float))
    leads = [float(x) for x in leads_days]
    if min(leads) < 0 or cadence_days <= 0:
        raise ValueError(f"lead days must be >= 0 and cadence_days > 0, got {leads}, {cadence_days}")
    hours = np.arange(int(round(cadence_days * 24)))
    offsets = np.concatenate([lead + hours / 24 for lead in leads])           # days after issue
    valid = issue[:, None] + offsets[None, :]                                 # (N, leads x H)
    out = run_along(maps, target, issue, offsets)
    result = []
    for n, lead in enumerate(leads):
        cols = slice(n * len(hours), (n + 1) * len(hours))
        flat = valid[:, cols].ravel()
        result.append(Forecast(tuple(observers), target.name, lead, float(cadence_days), flat, out[:, cols].ravel(),
                               target.at(flat), persistence(target, flat)))
    return result

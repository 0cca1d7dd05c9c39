"""Observing-system experiments: what L4 (and L5) observations are worth for forecasts.

Two sources of truth. *Real*: OMNI stands for L1 and Earth, STEREO-A for an L4 station and
STEREO-B for an L5 station, at their true positions (:mod:`~l4station.heliosphere.insitu`).
*Synthetic*: a nature run of the solar-wind model with an evolving structured boundary and cone
CMEs, sampled at L1, L4, L5, Earth and Mars along their DE421 paths, the observers' records then
thinned by outages, blurred by noise and delayed by latency. For each observer set the
assimilated forecast (:mod:`~l4station.heliosphere.corotation`) is scored at each target and
lead against the truth and against 27-day persistence. CME arrival errors compare the drag-based
ensemble fed by the speeds each observer set would measure (:mod:`~l4station.heliosphere.cme`).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from astropy.time import Time

from l4station import tables
from l4station.arrays import ar1
from l4station.constants import DAY_S, OBSERVER_LONGITUDES_DEG
from l4station.errors import InputError
from l4station.geometry import wrap_degrees
from l4station.heliosphere import cme as cme_model
from l4station.heliosphere import corotation, observers, solarwind as sw
from l4station.heliosphere.insitu import Series
from l4station.records import instant, positive, record

OBSERVER_SETS = (("L1",), ("L1", "L4"), ("L1", "L5"), ("L1", "L4", "L5"))


@dataclass(frozen=True)
class Case:
    observers: tuple[str, ...]
    target: str
    source: str
    forecast: corotation.Forecast

    def to_json(self) -> dict:
        m = self.forecast.metrics()
        return {"observers": list(self.observers), "target": self.target, "source": self.source,
                "lead_days": self.forecast.lead_days, "mae_kms": m["mae_kms"], "rmse_kms": m["rmse_kms"],
                "corr": m["corr"], "skill_vs_persistence": m["skill_vs_persistence"], "n": m["n"]}


def skill_cases(records: dict[str, Series], targets: dict[str, Series], start_mjd: float, stop_mjd: float, *,
                leads_days, source: str, latency_hours: dict[str, float] | None = None,
                sets=OBSERVER_SETS, cadence_days: float = 1.0,
                on_step: Callable[[float], None] | None = None) -> list[Case]:
    """Forecasts issued every ``cadence_days`` over [start, stop) for every observer set and target."""
    latency_hours = latency_hours or {}
    samples = {k: corotation.backmap(s, latency_hours.get(k, 0.0)) for k, s in records.items()}
    issue = np.arange(start_mjd, stop_mjd - max(leads_days) - cadence_days, cadence_days)
    if len(issue) == 0:
        raise ValueError("the window is shorter than the longest lead; widen it or shorten the leads")
    cases = []
    for n, obs in enumerate(sets):
        maps = corotation.boundary_maps([samples[o] for o in obs], issue)
        for name, target in targets.items():
            for f in corotation.forecasts(maps, obs, target, issue, leads_days, cadence_days=cadence_days):
                cases.append(Case(obs, name, source, f))
        if on_step is not None:
            on_step((n + 1) / len(sets))
    return cases


# --- synthetic nature run -------------------------------------------------------------------------

def _ou(rng, n: int, tau: float, shape: tuple = ()) -> np.ndarray:
    """Unit-variance Ornstein-Uhlenbeck series (n, *shape) of daily steps, correlation time tau days."""
    return ar1(rng.standard_normal((n, *shape)), np.exp(-1.0 / tau))


def synthetic_boundary(days: int, rng: np.random.Generator, n_lon: int = 128) -> np.ndarray:
    """Daily boundary maps (days, n_lon) km/s: slow wind near 330 km/s with three fast streams
    (peaks 450-750 km/s, 15-35 deg wide) whose strength and place wander over weeks, plus
    small-scale structure that changes over days. Values estimated to give 1-au speeds of
    300-800 km/s, as in the solar-cycle declining phase."""
    lon = np.arange(n_lon) * 360.0 / n_lon
    centres = rng.uniform(0, 360, 3) + np.cumsum(rng.normal(0, 1.5, (days, 3)), axis=0)
    amplitude = np.clip(260 + 70 * _ou(rng, days, 40.0, (3,)), 60, 450)
    width = rng.uniform(15, 35, 3)
    d = wrap_degrees(lon[None, None, :] - centres[:, :, None])
    maps = 330 + np.sum(amplitude[:, :, None] * np.exp(-0.5 * (d / width[None, :, None]) ** 2), axis=1)
    modes = np.arange(4, 13)
    coef = _ou(rng, days, 5.0, (len(modes), 2)) * (25 / np.sqrt(len(modes)))
    phase = np.radians(lon)[None, :, None] * modes[None, None, :]
    maps += np.sum(coef[:, None, :, 0] * np.cos(phase) + coef[:, None, :, 1] * np.sin(phase), axis=2)
    return np.clip(maps, 250, 900)


def synthetic_cmes(days: float, rng: np.random.Generator, rate_per_day: float = 0.15) -> list[sw.ConeCME]:
    """Cone CMEs at random times and longitudes: speeds log-normal about 700 km/s (300-2500),
    widths 30-90 deg (estimated; the rate is a fraction of the ~1 CME/day near solar maximum)."""
    n = rng.poisson(rate_per_day * days)
    speed = np.clip(700 * np.exp(0.35 * rng.standard_normal(n)), 300, 2500)
    width = rng.uniform(30, 90, n)
    return [sw.ConeCME(t_launch_s=float(t), longitude_deg=float(l), v_kms=float(v), width_deg=float(w),
                       duration_s=8.5 * 3600 * float(w) / 30)
            for t, l, v, w in zip(np.sort(rng.uniform(0, days * DAY_S, n)), rng.uniform(0, 360, n), speed, width)]


@dataclass(frozen=True)
class NatureRun:
    """Truth at each place (hourly Series, complete) and the CMEs launched."""

    start_mjd: float
    truth: dict[str, Series]
    cmes: list[sw.ConeCME] = field(default_factory=list)


def nature_run(start: Time, days: int = 365, seed: int = 1) -> NatureRun:
    """Run the model over ``days`` from ``start`` with an evolving boundary and CMEs; sample it
    hourly at Earth, L1, L4, L5 and Mars."""
    rng = np.random.default_rng(seed)
    maps = synthetic_boundary(days + 1, rng)
    cmes = synthetic_cmes(days, rng)
    hours = np.arange(days * 24)
    times = Time(start.mjd + hours / 24.0, format="mjd", scale="utc")
    places = {name: observers.track(name, times) for name in ("earth", "L1", "L4", "L5", "mars")}
    r_all = np.concatenate([r for _, r in places.values()])
    grid = sw.model_grid(r_outer_rsun=float(r_all.max()) / sw.R_SUN_KM + 3.0)
    # Store only the radii the places visit (every grid radius near 1 au, every third beyond).
    keep = np.zeros(len(grid.r_km), dtype=bool)
    for _, r in places.values():
        inside = (grid.r_km >= r.min() - grid.dr_km) & (grid.r_km <= r.max() + grid.dr_km)
        idx = np.flatnonzero(inside)
        keep[idx if r.max() - r.min() < 10 * grid.dr_km else np.union1d(idx[::3], idx[-1:])] = True
    lines = observers.lines_read(np.concatenate([lon for lon, _ in places.values()]), maps.shape[1])
    solution = sw.solve(maps, boundary_times_s=np.arange(days + 1) * DAY_S, duration_s=days * DAY_S, grid=grid,
                        cmes=cmes, store_r_km=grid.r_km[keep], output_every_s=7200.0, lines=lines)
    t_s = np.minimum(hours * 3600.0, solution.t_s[-1])
    truth = {}
    for name, (lon, r) in places.items():
        v = observers.sample_seconds(solution, t_s, lon, r)[0]
        truth[name] = Series(name, times.mjd, v.astype(float), lon, r)
    return NatureRun(start.mjd, truth, cmes)


def observe(truth: Series, rng: np.random.Generator, *, loss_fraction: float, mean_gap_hours: float = 6.0,
            noise_kms: float = 5.0) -> Series:
    """An instrument's record of the truth: Gaussian noise and outages (exponential lengths with
    mean ``mean_gap_hours``, starting at random so that ``loss_fraction`` of hours is lost)."""
    v = truth.v_kms + noise_kms * rng.standard_normal(len(truth.v_kms))
    n = len(v)
    lost = np.zeros(n, dtype=bool)
    if loss_fraction > 0:
        starts = rng.random(n) < loss_fraction / mean_gap_hours
        for i in np.flatnonzero(starts):
            lost[i:i + max(1, int(rng.exponential(mean_gap_hours)))] = True
    return Series(truth.name, truth.mjd, np.where(lost, np.nan, v), truth.lon_deg, truth.r_km)


# --- CME arrival ---------------------------------------------------------------------------------

def cme_arrival_errors(n: int = 300, seed: int = 2, errors: cme_model.SpeedErrors = cme_model.SpeedErrors(),
                       sets=OBSERVER_SETS) -> list[dict]:
    """Mean absolute error (hours) of drag-based ensemble arrival forecasts at Earth for ``n``
    synthetic Earth-directed CMEs (apex within 30 deg of Earth), per observer set: each set's
    coronagraphs measure the speed with the error its viewing angles allow. Truth: the drag-based
    model with each CME's own drag (0.1-0.5e-7 /km) and wind; forecasts use the climatological
    drag range and a wind known to 50 km/s (Dumbović et al. 2018)."""
    rng = np.random.default_rng(seed)
    direction = rng.uniform(-30, 30, n)
    v0 = np.clip(900 * np.exp(0.35 * rng.standard_normal(n)), 400, 2500)
    wind = np.clip(rng.normal(420, 80, n), 280, 750)
    gamma = rng.uniform(0.1e-7, 0.5e-7, n)
    offset = np.abs(direction)
    true_t, _ = cme_model.arrival(v0, wind, gamma_per_km=gamma, offset_deg=offset, half_width_deg=45.0)
    draws = rng.standard_normal(n)                       # the same measurement luck for every set
    w_measured = wind + 50 * rng.standard_normal(n)
    out = []
    for obs in sets:
        angles = np.stack([cme_model.view_angle_deg(direction, OBSERVER_LONGITUDES_DEG[o]) for o in obs], axis=-1)
        sigma = errors.combined(angles)
        measured = np.clip(v0 * (1 + sigma * draws), 150, None)
        t, _ = cme_model.ensemble_arrival(measured, sigma, np.clip(w_measured, 250, None), offset_deg=offset,
                                          half_width_deg=45.0, rng=np.random.default_rng(seed + 1))
        err = (t - true_t) / 3600.0
        out.append({"observers": list(obs), "arrival_mae_hours": float(np.nanmean(np.abs(err))),
                    "speed_error_percent": float(100 * np.mean(sigma)), "n": int(np.isfinite(err).sum())})
    return out


def mjd_of(iso_date) -> float:
    """MJD (UTC) of a date or ISO string.

    >>> mjd_of("2008-07-01")          # JD 2454648.5 (USNO Julian date converter)
    54648.0
    """
    return float(Time(str(iso_date), scale="utc").mjd)


# --- the whole experiment ------------------------------------------------------------------------

REAL_TARGETS = {"earth": "L1", "L1": "L1", "L4": "L4", "L5": "L5"}   # target: the record that is its truth


def forecast_window(records: dict[str, Series], observers: list[str], target: str, start_mjd: float,
                    stop_mjd: float, *, lead_days: float, cadence_days: float,
                    latency_hours: dict[str, float]) -> corotation.Forecast:
    """Forecasts at ``target`` from ``observers``' real records issued every ``cadence_days`` from
    ``start_mjd``, valid ``lead_days`` ahead, up to ``stop_mjd``. Raises InputError for a window
    too short for one forecast or one in which the observers have no data."""
    if stop_mjd - start_mjd < lead_days + cadence_days:
        raise InputError(f"the window must span at least the lead plus the cadence ({lead_days + cadence_days:g} d); "
                         "give a later stop or an earlier start")
    truth = target_series(target, records, start_mjd, stop_mjd)
    issue = np.arange(start_mjd, stop_mjd - lead_days - cadence_days + 1e-9, cadence_days)
    samples = [corotation.backmap(records[o], latency_hours.get(o, 0.0)) for o in observers]
    result = corotation.forecast(samples, truth, issue, lead_days=lead_days, cadence_days=cadence_days)
    if result.metrics()["n"] == 0 and np.all(np.isnan(result.forecast_kms)):
        raise InputError("the observers have no data in the window (the files cover 2007-2023; "
                         "2009-06..2010-02 is held back)")
    return result


def target_series(name: str, records: dict[str, Series], start_mjd: float, stop_mjd: float) -> Series:
    """The truth at a target over [start, stop): a real record, or (Mars, no data) its DE421 path alone."""
    if name in REAL_TARGETS:
        s = records[REAL_TARGETS[name]]
        return Series(name, s.mjd, s.v_kms, s.lon_deg, s.r_km)
    mjd = np.arange(start_mjd, stop_mjd + 30.0, 1 / 24)
    lon, r = observers.track(name, Time(mjd, format="mjd", scale="utc"))
    return Series(name, mjd, np.full(len(mjd), np.nan), lon, r)


@dataclass(frozen=True)
class Experiment:
    cases: list[Case]
    cme: list[dict]
    nature: NatureRun

    def to_json(self) -> dict:
        return {"cases": [c.to_json() for c in self.cases], "cme": self.cme}

    def __rich__(self):
        doc = self.to_json()
        leads = list(dict.fromkeys(c["lead_days"] for c in doc["cases"]))
        by_case: dict[tuple, dict] = {}
        for c in doc["cases"]:
            by_case.setdefault((c["source"], c["target"], "+".join(c["observers"])), {})[c["lead_days"]] = c
        rows = [[*key, *("—" if (c := by_lead.get(x)) is None or c["mae_kms"] is None
                         else f"{c['mae_kms']:.1f} / {c['skill_vs_persistence']:+.2f}" for x in leads)]
                for key, by_lead in by_case.items()]
        return tables.group(
            tables.table("Forecast skill (MAE km/s / skill vs 27-day persistence)",
                         ["Source", "Target", "Observers"] + [f"lead {x:g} d" for x in leads], rows, left=3),
            tables.table("CME arrival at Earth (drag-based ensemble)", ["Observers", "Speed error", "Arrival MAE (h)"],
                         [["+".join(c["observers"]), f"{c['speed_error_percent']:.0f}%", f"{c['arrival_mae_hours']:.1f}"]
                          for c in doc["cme"]]))


@record
class ExperimentInputs:
    """Everything the observing-system experiment depends on besides the real-data records."""

    targets: tuple[str, ...]                 # where the solar wind is forecast
    lead_days: tuple[float, ...]
    cadence_days: float                      # forecasts issued this often
    real_start: date                         # real-data window
    real_stop: date
    epoch: Time                              # start of the synthetic nature run
    synthetic_days: int
    seed: int
    latency_hours: dict[str, float]          # per observer, of the synthetic observations
    data_loss: dict[str, float]              # per observer, fraction of samples lost
    cme_count: int

    def __post_init__(self):
        instant(self, "epoch")
        positive(self, "cadence_days", "synthetic_days", "cme_count")
        positive(self, "seed", zero=True)
        for lead in self.lead_days:
            if not (isinstance(lead, (int, float)) and 0 <= lead <= 27):
                raise InputError(f"ExperimentInputs.lead_days must lie in 0-27 days, got {lead!r}")
        for name, table, top in (("latency_hours", self.latency_hours, 240.0), ("data_loss", self.data_loss, 0.999)):
            for observer, value in table.items():
                if not (isinstance(value, (int, float)) and 0 <= value <= top):
                    raise InputError(f"ExperimentInputs.{name}[{observer!r}] must lie in 0-{top:g}, got {value!r}")


def real_window(inputs: ExperimentInputs) -> tuple:
    """The fields of ``inputs`` the real-data cases read (their cache key, with the records)."""
    return inputs.targets, inputs.lead_days, inputs.cadence_days, inputs.real_start, inputs.real_stop


def real_cases(inputs: ExperimentInputs, records: dict[str, Series], *,
               on_step: Callable[[float], None] | None = None) -> list[Case]:
    """The cases on real data over ``real_start``..``real_stop``, for the targets with a record."""
    start, stop = mjd_of(inputs.real_start), mjd_of(inputs.real_stop)
    targets = {t: target_series(t, records, start, stop) for t in inputs.targets if t in REAL_TARGETS}
    return skill_cases(records, targets, start, stop, leads_days=list(inputs.lead_days), source="real",
                       cadence_days=inputs.cadence_days, on_step=on_step)


def experiment(inputs: ExperimentInputs, records: dict[str, Series], *, real: list[Case] | None = None,
               on_step: Callable[[str, float], None] | None = None) -> Experiment:
    """Every case of the observing-system experiment: real data (``real``, if already computed by
    :func:`real_cases`), the synthetic nature run from ``epoch`` (every target), and CME arrival
    errors."""
    f = inputs
    step = on_step or (lambda name, fraction: None)
    cases = list(real) if real is not None else real_cases(f, records, on_step=lambda x: step("real data", x))
    step("nature run", 0.0)
    nature = nature_run(f.epoch, f.synthetic_days, f.seed)
    rng = np.random.default_rng(f.seed + 100)
    observed = {k: observe(nature.truth[k], rng, loss_fraction=f.data_loss.get(k, 0.0)) for k in ("L1", "L4", "L5")}
    cases += skill_cases(observed, {t: nature.truth[t] for t in f.targets}, nature.start_mjd + corotation.HISTORY_DAYS,
                         nature.start_mjd + f.synthetic_days, leads_days=list(f.lead_days), source="synthetic",
                         latency_hours=f.latency_hours, cadence_days=f.cadence_days,
                         on_step=lambda x: step("synthetic", x))
    return Experiment(cases, cme_arrival_errors(f.cme_count, f.seed + 1), nature)

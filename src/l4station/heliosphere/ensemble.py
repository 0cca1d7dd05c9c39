"""Solar-wind ensembles, from the forecaster's two dozen members to tens of thousands, in this
process or over a Dask cluster.

A member is the assimilated boundary map plus its error: ``spread`` (km/s per longitude) times
unit-variance noise, periodic in longitude and Gaussian-correlated over ``correlation_deg``
(the map's errors are coherent over a stream's width), clipped to physical speeds. With a
``growth`` error model the map's error grows through the run as the Sun's structure changes:
each member's map evolves day by day, new smooth noise adding the variance the model gains over
each day (sigma_s^2 (1 - exp(-t / tau)), fitted to OMNI and STEREO-A/B), so the spread at 1 au
grows with lead once the wind arriving left the Sun after the start (about four days). In a large
ensemble member i draws its noise from its own stream, seeded by (seed, i) (numpy's
SeedSequence), so a member is the same whichever process runs it, and a longer run extends it. The model's radial lines are
independent (:func:`~l4station.heliosphere.solarwind.solve`), so the work splits by longitude:
each task runs every member along a few lines and keeps only their quantiles at 1 au; a run
split over a cluster equals a one-process run bit for bit.

Neighbouring cells of a 128-cell map, 2.81 deg apart, correlate as the kernel convolved with
itself, a Gaussian of sigma sqrt(2) x 10 deg: exp(-(2.81 / 14.1)^2 / 2) = 0.98.

>>> noise = smooth_noise(np.random.default_rng(0), 2000, 128)
>>> round(float(noise.std()), 1), round(float(np.corrcoef(noise[:, 0], noise[:, 1])[0, 1]), 2)
(1.0, 0.98)
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from l4station import tables
from l4station.constants import AU_KM, DAY_S
from l4station.errors import InputError
from l4station.heliosphere import corotation, solarwind as sw
from l4station.limits import MAX_MEMBERS

CORRELATION_DEG = 20.0
SPEED_LIMITS_KMS = (150.0, 2500.0)          # members stay physical and inside the model's CFL limit
EPOCH_DAYS = 1.0                            # a growing member's map changes day by day
LINES_PER_TASK = 4
MEMBER_CHUNK = 1000                         # members made and run at once within a task (bounds its memory)
TASK_BYTES = 1e9                            # a task's memory: members x lines x outputs, twice, float32


def smooth_noise(rng: np.random.Generator, members: int, n_lon: int, correlation_deg: float = CORRELATION_DEG
                 ) -> np.ndarray:
    """Unit-variance noise (members, n_lon), periodic in longitude, smoothed by a Gaussian kernel
    of standard deviation ``correlation_deg`` / 2."""
    return smoothed(rng.standard_normal((members, n_lon)), correlation_deg)


def smoothed(white: np.ndarray, correlation_deg: float = CORRELATION_DEG) -> np.ndarray:
    """Unit-variance white noise (..., n_lon) smoothed along longitude (periodic) by a Gaussian
    kernel of standard deviation ``correlation_deg`` / 2, still of unit variance."""
    n_lon = white.shape[-1]
    lag = np.minimum(np.arange(n_lon), n_lon - np.arange(n_lon)) * 360.0 / n_lon
    kernel = np.exp(-0.5 * (lag / (correlation_deg / 2)) ** 2)
    smooth = np.fft.irfft(np.fft.rfft(white, axis=-1) * np.fft.rfft(kernel), n=n_lon, axis=-1)
    return smooth / np.sqrt(np.sum(kernel ** 2))


def perturbed(central: np.ndarray, spread: np.ndarray, rng: np.random.Generator, members: int) -> np.ndarray:
    """``members`` maps (members, K) km/s: ``central`` plus ``spread`` times smooth noise."""
    return np.clip(central + spread * smooth_noise(rng, members, len(central)), *SPEED_LIMITS_KMS)


def spread(sigma_kms: np.ndarray, horizon_days: float, error: corotation.ErrorModel = corotation.ErrorModel()
           ) -> np.ndarray:
    """Members' spread (km/s) per longitude: the assimilation's own error and the boundary's
    structure change over ``horizon_days`` (the error-growth model fitted to OMNI and STEREO-A/B)."""
    return np.sqrt(sigma_kms ** 2 + error.variance(horizon_days) - error.sigma0_kms ** 2)


def epochs_days(duration_s: float) -> np.ndarray:
    """Days after the start at which a growing member's map is given (linear between them)."""
    return np.arange(0.0, duration_s / DAY_S + EPOCH_DAYS, EPOCH_DAYS)


def members(central: np.ndarray, spread_kms: np.ndarray, seed: int, first: int, count: int,
            growth: corotation.ErrorModel | None = None, duration_s: float = 0.0) -> np.ndarray:
    """Members ``first`` .. ``first + count - 1`` of a large ensemble, each from its own stream:
    (count, K) maps held through the run, or with ``growth`` (count, E, K) maps at
    :func:`epochs_days` of ``duration_s``, their error growing as the model says."""
    rows = 1 if growth is None else len(epochs_days(duration_s))
    white = np.stack([np.random.default_rng([seed, i]).standard_normal((rows, len(central)))
                      for i in range(first, first + count)])
    noise = smoothed(white)                                                   # (count, rows, K)
    error = spread_kms * noise[:, :1]
    if growth is not None:
        step_kms = np.sqrt(np.diff(growth.variance(epochs_days(duration_s))))[:, None]     # (E-1, 1)
        error = error + np.concatenate([np.zeros_like(error), np.cumsum(step_kms * noise[:, 1:], axis=1)], axis=1)
    maps = np.clip(central + error, *SPEED_LIMITS_KMS)
    return maps[:, 0] if growth is None else maps


def run_lines(central: np.ndarray, spread_kms: np.ndarray, count: int, seed: int, lines: np.ndarray,
              duration_s: float, quantiles: tuple[float, ...], output_every_s: float,
              growth: corotation.ErrorModel | None = None) -> np.ndarray:
    """Quantiles (Q, len(lines), T) km/s at 1 au of ``count`` members along the map's longitude
    cells ``lines`` (one task of :func:`solar_wind`), made and run MEMBER_CHUNK members at a time."""
    n_lon = len(central)
    times = None if growth is None else epochs_days(duration_s) * DAY_S
    at_1au = []
    for first in range(0, count, MEMBER_CHUNK):
        maps = members(central, spread_kms, seed, first, min(MEMBER_CHUNK, count - first), growth, duration_s)
        solution = sw.solve(maps, duration_s=duration_s, longitudes_deg=np.asarray(lines) * 360.0 / n_lon,
                            store_r_km=[AU_KM], output_every_s=output_every_s, boundary_times_s=times)
        at_1au.append(solution.v[..., 0])
    return np.quantile(np.concatenate(at_1au), quantiles, axis=0).astype(np.float32)


@dataclass(frozen=True)
class Ensemble:
    """Quantiles of an ensemble's speed at 1 au on every longitude line of the map."""

    members: int
    seed: int
    quantiles: tuple[float, ...]
    longitudes_deg: np.ndarray      # (L,) Earth-relative at t = 0
    t_s: np.ndarray                 # (T,) after the start
    values: np.ndarray              # (Q, L, T) km/s
    elapsed_s: float
    workers: str                    # "in this process" or "on <the Dask scheduler's address>"

    @property
    def members_per_s(self) -> float:
        return self.members / self.elapsed_s

    def to_json(self) -> dict:
        earth = {f"p{round(q * 100):02d}": [round(float(x), 1) for x in self.values[k, 0, ::24]]
                 for k, q in enumerate(self.quantiles)}
        return {"members": self.members, "seed": self.seed, "lines": len(self.longitudes_deg),
                "hours": len(self.t_s), "elapsed_s": round(self.elapsed_s, 2),
                "members_per_s": round(self.members_per_s, 1), "workers": self.workers,
                "earth_daily": {"day": [round(float(t) / DAY_S, 3) for t in self.t_s[::24]], **earth}}

    def __rich__(self):
        doc = self.to_json()
        keys = [k for k in doc["earth_daily"] if k != "day"]
        rows = [[f"{day:g}", *(f"{doc['earth_daily'][k][i]:.0f}" for k in keys)]
                for i, day in enumerate(doc["earth_daily"]["day"])]
        return tables.group(
            tables.table("Ensemble speed at 1 au on Earth's line (km/s)", ["Day", *keys], rows, left=1),
            f"{self.members:,} members x {doc['lines']} lines x {doc['hours']} outputs in {self.elapsed_s:.1f} s "
            f"({self.members_per_s:,.0f} members/s) {self.workers}")


@dataclass(frozen=True)
class Assimilated:
    """The boundary map a large ensemble starts from: assimilated at ``at`` from the records of
    ``asked``, its 1-sigma error (km/s per cell), and the observers that had data in the
    assimilation's history (:data:`~l4station.heliosphere.corotation.HISTORY_DAYS`)."""

    at: str
    central: np.ndarray
    sigma_kms: np.ndarray
    asked: tuple[str, ...]
    seen: tuple[str, ...]

    @property
    def missing(self) -> list[str]:
        """The observers asked for that had no data in the history."""
        return [o for o in self.asked if o not in self.seen]


def assimilate(records: dict, observers: list[str], issue_mjd: float, at: str) -> Assimilated:
    """The boundary map from ``records`` (observer -> :class:`~l4station.heliosphere.insitu.Series`)
    of ``observers`` as they stood at ``issue_mjd`` (``at`` names that time); InputError when
    none of them saw anything in the history before it."""
    history = corotation.HISTORY_DAYS
    samples = [corotation.backmap(records[o]) for o in observers if o in records]
    central, sigma, coverage = corotation.boundary_map(samples, issue_mjd, min_coverage=0.0)
    if coverage == 0.0:
        raise InputError(f"the observers {', '.join(observers)} saw nothing in the {history:.0f} days before {at}: "
                         "choose an --at inside their records")
    seen = tuple(o for o in observers if o in records and np.any(
        (records[o].mjd >= issue_mjd - history) & (records[o].mjd <= issue_mjd) & np.isfinite(records[o].v_kms)))
    return Assimilated(at, central, sigma, tuple(observers), seen)


@dataclass(frozen=True)
class Issued:
    """An ensemble with what it was made from (``l4station ensemble``)."""

    assimilated: Assimilated
    ensemble: Ensemble

    def to_json(self) -> dict:
        a = self.assimilated
        return {"at": a.at, "observers": list(a.seen),
                "observers_without_data": a.missing, **self.ensemble.to_json()}

    def __rich__(self):
        a = self.assimilated
        note = f"Boundary map at {a.at} from {', '.join(a.seen)}" + (
            f"; no data from {', '.join(a.missing)} in the {corotation.HISTORY_DAYS:.0f} days before" if a.missing else "")
        return tables.group(note, self.ensemble)

    def write_parquet(self, path) -> None:
        """Every line's quantiles at every output time (longitude_deg, t_hours, pNN_kms)."""
        import pyarrow as pa
        import pyarrow.parquet as pq
        e = self.ensemble
        _, lines, hours = e.values.shape
        columns = {"longitude_deg": np.repeat(e.longitudes_deg, hours), "t_hours": np.tile(e.t_s / 3600.0, lines)}
        columns |= {f"p{round(q * 100):02d}_kms": e.values[k].ravel() for k, q in enumerate(e.quantiles)}
        pq.write_table(pa.table(columns), path)


def solar_wind(central: np.ndarray, spread_kms: np.ndarray, *, count: int, seed: int = 0,
               duration_s: float = corotation.PERIOD_DAYS * DAY_S, quantiles: tuple[float, ...] = (0.1, 0.5, 0.9),
               output_every_s: float = 3600.0, client=None, lines_per_task: int = LINES_PER_TASK,
               growth: corotation.ErrorModel | None = None,
               on_done: Callable[[int, int], None] | None = None) -> Ensemble:
    """``count`` members from the boundary map ``central`` (K,) km/s and its ``spread_kms`` (K,)
    (at the start, growing as ``growth`` says if given), run for ``duration_s`` along every one
    of the K lines; tasks of ``lines_per_task`` lines go to the Dask ``client`` if given, else run
    here in turn. ``on_done(k, n)`` after each task."""
    central = np.asarray(central, dtype=float)
    spread_kms = np.broadcast_to(np.asarray(spread_kms, dtype=float), central.shape).copy()
    if not 1 <= count <= MAX_MEMBERS:
        raise InputError(f"{count:,} ensemble members asked for; give 1 to {MAX_MEMBERS:,}")
    if not (np.all(np.isfinite(central)) and np.all(np.isfinite(spread_kms)) and np.all(spread_kms >= 0)):
        raise InputError("the boundary map and its spread must be finite, the spread at least 0 km/s")
    began = time.perf_counter()
    n_lon = len(central)
    outputs = duration_s / output_every_s + 1
    lines_per_task = max(1, min(lines_per_task, int(TASK_BYTES / (count * outputs * 8))))
    chunks = [np.arange(k, min(k + lines_per_task, n_lon)) for k in range(0, n_lon, lines_per_task)]
    args = (central, spread_kms, count, seed)
    rest = (duration_s, tuple(quantiles), output_every_s, growth)
    parts: list[np.ndarray] = [None] * len(chunks)
    if client is None:
        for k, lines in enumerate(chunks):
            parts[k] = run_lines(*args, lines, *rest)
            if on_done is not None:
                on_done(k + 1, len(chunks))
    else:
        from distributed import as_completed
        # hash=False: a second ensemble of the same map must not reuse keys the first is releasing
        shared = client.scatter(list(args[:2]), broadcast=True, hash=False)
        futures = {client.submit(run_lines, *shared, count, seed, lines, *rest, pure=False): k
                   for k, lines in enumerate(chunks)}
        for done, future in enumerate(as_completed(futures), 1):
            parts[futures[future]] = future.result()
            if on_done is not None:
                on_done(done, len(chunks))
        workers = f"on {client.scheduler.address}"
    values = np.concatenate(parts, axis=1)
    dt_s = sw.model_grid().dt_s
    t_s = np.arange(values.shape[2]) * max(1, int(round(output_every_s / dt_s))) * dt_s
    return Ensemble(count, seed, tuple(quantiles), np.arange(n_lon) * 360.0 / n_lon, t_s, values,
                    time.perf_counter() - began, "in this process" if client is None else workers)

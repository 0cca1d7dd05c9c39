"""Where observers sit in the solar-wind model's frame: Earth-relative longitude and distance.

The model's frame turns with Earth (:mod:`l4station.heliosphere.solarwind`); an observer's
place in it is its heliocentric ecliptic longitude minus Earth's, and its distance from the
Sun. Named observers come from DE421 (Earth, the Moon, Mars) or the Sun–EMB Lagrange points (L1, L4,
L5); a spacecraft can come from a CSV file of heliocentric ecliptic J2000 positions.

L4 leads Earth by 60 deg of heliocentric longitude, at Earth's distance from the Sun (0.983 au
at the start of January, near perihelion):

>>> lon_deg, r_km = track("L4", Time("2030-01-01"))
>>> round(float(lon_deg), 3), round(float(r_km) / 149597870.7, 3)
(60.001, 0.983)
"""
from __future__ import annotations

import csv
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.time import Time

from l4station import ephemeris
from l4station.constants import DAY_S
from l4station.geometry import wrap_degrees
from l4station.heliosphere.solarwind import Solution, radial_bracket

OBSERVERS = ("earth", "moon", "L1", "L4", "L5", "mars")


def _track(positions_km: np.ndarray, time: Time) -> tuple[np.ndarray, np.ndarray]:
    earth = ephemeris.position("earth", time).value
    lon = np.degrees(np.arctan2(positions_km[..., 1], positions_km[..., 0])
                     - np.arctan2(earth[..., 1], earth[..., 0]))
    return wrap_degrees(lon), np.linalg.norm(positions_km, axis=-1)


def track(observer: str, time: Time) -> tuple[np.ndarray, np.ndarray]:
    """Earth-relative longitude (deg) and heliocentric distance (km) of a named observer."""
    key = observer if observer in OBSERVERS else observer.lower() if observer.lower() in OBSERVERS else observer.upper()
    if key not in OBSERVERS:
        raise ValueError(f"unknown observer '{observer}'; known: {', '.join(OBSERVERS)} (or a position file)")
    if key in ("earth", "moon", "mars"):
        r = ephemeris.position(key, time).value
    else:
        r = ephemeris.lagrange_point(key, time)[0].value
    return _track(r, time)


def track_from_file(path: str | Path) -> tuple[Time, np.ndarray, np.ndarray]:
    """Times, Earth-relative longitude (deg) and distance (km) of a spacecraft from a CSV file with
    columns ``time`` (ISO UTC), ``x_km``, ``y_km``, ``z_km`` (heliocentric ecliptic J2000)."""
    path = Path(path)
    try:
        with path.open(newline="") as f:
            rows = list(csv.DictReader(f))
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file; give a CSV of time, x_km, y_km, z_km") from None
    if not rows or not {"time", "x_km", "y_km", "z_km"} <= set(rows[0]):
        raise ValueError(f"{path}: needs the columns time, x_km, y_km, z_km")
    try:
        time = Time([r["time"] for r in rows], scale="utc")
        xyz = np.array([[float(r["x_km"]), float(r["y_km"]), float(r["z_km"])] for r in rows])
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    lon, dist = _track(xyz, time)
    return time, lon, dist


def _line_below(lon_deg, n_lon: int) -> tuple[np.ndarray, np.ndarray]:
    """Index of the model line at or west of each Earth-relative longitude (deg), of n_lon lines
    evenly spaced from 0, and the weight of the next line east."""
    f = (np.radians(lon_deg) % (2 * np.pi)) / (2 * np.pi) * n_lon
    return np.floor(f).astype(int) % n_lon, f - np.floor(f)


def lines_read(lon_deg, n_lon: int) -> np.ndarray:
    """Indices of the model lines :func:`sample` reads for observers at these longitudes (deg): the
    ones a run needs to march (:func:`~l4station.heliosphere.solarwind.solve`'s ``lines``)."""
    below = _line_below(np.asarray(lon_deg, dtype=float), n_lon)[0]
    return np.union1d(below, (below + 1) % n_lon)


def sample(solution: Solution, start: Time, lon_deg, r_km, time: Time) -> np.ndarray:
    """Model speed (M, N) along an observer's path: at each of its N times (the model's t = 0 is
    ``start``), at its Earth-relative longitude and distance; linear in time, longitude and radius
    (the model lines must cover the circle evenly)."""
    return sample_seconds(solution, (time - start).to_value(u.s), lon_deg, r_km)


def sample_seconds(solution: Solution, t_s, lon_deg, r_km) -> np.ndarray:
    """:func:`sample` with times as seconds from the model's t = 0."""
    t = np.atleast_1d(np.asarray(t_s, dtype=float))
    if np.any(t < solution.t_s[0]) or np.any(t > solution.t_s[-1]):
        raise ValueError(f"observer times run outside the model run (0 to {solution.t_s[-1] / DAY_S:.1f} days)")
    lon, r = np.broadcast_to(lon_deg, t.shape), np.broadcast_to(r_km, t.shape)
    n_lon = len(solution.lon_rad)
    i0, wl = _line_below(lon, n_lon)
    k = np.clip(np.searchsorted(solution.t_s, t) - 1, 0, len(solution.t_s) - 2)
    wt = (t - solution.t_s[k]) / (solution.t_s[k + 1] - solution.t_s[k])
    j0, j1, wr = radial_bracket(solution.r_km, r)
    v = solution.v
    out = 0.0
    for li, wli in ((i0, 1 - wl), ((i0 + 1) % n_lon, wl)):
        for ki, wki in ((k, 1 - wt), (k + 1, wt)):
            for ji, wji in ((j0, 1 - wr), (j1, wr)):
                out = out + (wli * wki * wji) * v[:, li, ki, ji]
    return out

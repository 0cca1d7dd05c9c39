"""Where observers sit in the solar-wind model's frame: Earth-relative longitude and distance.

The model's frame turns with Earth (:mod:`l4station.heliosphere.solarwind`); an observer's
place in it is its heliocentric ecliptic longitude minus Earth's, and its distance from the
Sun. Named observers come from DE421 (Earth, Mars) or the Sun–EMB Lagrange points (L1, L4,
L5); a spacecraft can come from a CSV file of heliocentric ecliptic J2000 positions.
"""
from __future__ import annotations

import csv
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.time import Time

from l4station import ephemeris
from l4station.geometry import wrap_degrees
from l4station.heliosphere.solarwind import Solution

OBSERVERS = ("earth", "L1", "L4", "L5", "mars")


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
    if key in ("earth", "mars"):
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


def sample(solution: Solution, start: Time, lon_deg, r_km, time: Time) -> np.ndarray:
    """Model speed (M, N) along an observer's path: at each of its N times (the model's t = 0 is
    ``start``), at its Earth-relative longitude and distance; linear in time, longitude and radius."""
    t = (time - start).to_value(u.s)
    if np.any(t < solution.t_s[0]) or np.any(t > solution.t_s[-1]):
        raise ValueError(f"observer times run outside the model run ({solution.t_s[-1] / 86400:.1f} days "
                         f"from {start.utc.isot[:10]})")
    lon_deg, r_km = np.broadcast_to(lon_deg, t.shape), np.broadcast_to(r_km, t.shape)
    out = np.empty((solution.v.shape[0], len(t)))
    for n in range(len(t)):
        series = solution.at(float(lon_deg[n]), float(r_km[n]))  # (M, T)
        for m in range(series.shape[0]):
            out[m, n] = np.interp(t[n], solution.t_s, series[m])
    return out

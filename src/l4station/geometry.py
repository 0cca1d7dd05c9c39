"""Geometry of the station as seen from Earth over the mission: range, angles, light time.

The angles are the ones a link or an observation plan needs:

* Sun–Earth–probe (SEP, the solar elongation of the station seen from Earth):
  60° at an ideal L4, the quantity that sets solar-scintillation and
  sky-background limits on the links;
* Sun–probe–Earth (SPE, the phase angle at the station);
* the station's heliocentric ecliptic longitude ahead of Earth (+60° at L4).
"""
from __future__ import annotations

from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.time import Time

from l4station import ephemeris
from l4station.constants import C_KM_S


def angle_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle (rad) between (..., 3) vectors, atan2(|a x b|, a . b): accurate at 0 and pi."""
    return np.arctan2(np.linalg.norm(np.cross(a, b), axis=-1), np.sum(a * b, axis=-1))


def wrap_degrees(angle: np.ndarray) -> np.ndarray:
    """Wrap angles in degrees into [-180, 180)."""
    return (np.asarray(angle) + 180.0) % 360.0 - 180.0


def wrap_radians(angle: np.ndarray) -> np.ndarray:
    """Wrap angles in radians into [-pi, pi)."""
    return (np.asarray(angle) + np.pi) % (2 * np.pi) - np.pi


@dataclass(frozen=True)
class GeometryTimeline:
    """Station–Earth–Sun geometry at each time (heliocentric ecliptic J2000, geometric)."""

    time: Time
    station: u.Quantity           # (N, 3) km, heliocentric
    earth: u.Quantity             # (N, 3) km, heliocentric
    earth_range: u.Quantity       # (N,) km, Earth centre to station
    sun_earth_probe: u.Quantity   # (N,) deg
    sun_probe_earth: u.Quantity   # (N,) deg
    longitude_from_earth: u.Quantity  # (N,) deg, station minus Earth, in [-180, 180)
    light_time: u.Quantity        # (N,) s, one way

    def summary(self) -> dict:
        """Extremes over the timeline, as plain floats for study.json."""
        def span(q, unit):
            v = q.to_value(unit)
            return {"min": float(np.min(v)), "max": float(np.max(v))}
        return {
            "earth_range_au": span(self.earth_range, u.au),
            "sun_earth_probe_deg": span(self.sun_earth_probe, u.deg),
            "sun_probe_earth_deg": span(self.sun_probe_earth, u.deg),
            "longitude_from_earth_deg": span(self.longitude_from_earth, u.deg),
            "light_time_s": span(self.light_time, u.s),
        }

    def __str__(self) -> str:
        s = self.summary()
        rows = [
            ("Earth range", "earth_range_au", "au", ".4f"),
            ("Sun-Earth-probe angle", "sun_earth_probe_deg", "deg", ".3f"),
            ("Sun-probe-Earth angle", "sun_probe_earth_deg", "deg", ".3f"),
            ("Longitude ahead of Earth", "longitude_from_earth_deg", "deg", ".3f"),
            ("One-way light time", "light_time_s", "s", ".1f"),
        ]
        lines = [f"Geometry, {self.time[0].utc.isot[:10]} .. {self.time[-1].utc.isot[:10]}"
                 f" ({len(self.time)} samples)"]
        for label, key, unit, fmt in rows:
            lo, hi = s[key]["min"], s[key]["max"]
            lines.append(f"  {label:<26} {lo:{fmt}} .. {hi:{fmt}} {unit}")
        return "\n".join(lines)


def geometry_timeline(time: Time, station: u.Quantity) -> GeometryTimeline:
    """Geometry of a station at heliocentric ecliptic positions ``station`` (N, 3) at ``time`` (N,).

    >>> t = mission_times(Time("2031-01-01"), 1 * u.yr, 30 * u.day)
    >>> print(geometry_timeline(t, ephemeris.lagrange_point("L4", t)[0]))  # doctest: +ELLIPSIS
    Geometry, 2031-01-01 .. ...
    """
    earth = ephemeris.position("earth", time)
    r_station = station.to_value(u.km)
    r_earth = earth.to_value(u.km)
    earth_to_station = r_station - r_earth
    earth_range = np.linalg.norm(earth_to_station, axis=-1)
    sep = angle_between(-r_earth, earth_to_station)
    spe = angle_between(-r_station, -earth_to_station)
    dlon = np.arctan2(r_station[..., 1], r_station[..., 0]) - np.arctan2(r_earth[..., 1], r_earth[..., 0])
    return GeometryTimeline(
        time=time,
        station=station.to(u.km),
        earth=earth,
        earth_range=earth_range * u.km,
        sun_earth_probe=np.rad2deg(sep) * u.deg,
        sun_probe_earth=np.rad2deg(spe) * u.deg,
        longitude_from_earth=wrap_degrees(np.rad2deg(dlon)) * u.deg,
        light_time=earth_range / C_KM_S * u.s,
    )


def mission_times(start: Time, duration: u.Quantity, step: u.Quantity) -> Time:
    """Evenly spaced times from ``start`` over ``duration`` (both ends included)."""
    n = int(np.floor((duration / step).to_value(u.one) + 1e-9)) + 1
    return start + np.arange(n) * step

"""Magnetic connectivity: Parker-spiral footpoints of observers (plotted by
:func:`l4station.study.figures.connectivity`).

An observer at distance r and longitude phi is connected along the Parker spiral to the solar
longitude phi + Omega (r - R_sun) / v (Parker 1958, ApJ 128, 664), with the Sun's sidereal
rotation Omega = 360 deg / 25.38 d, as in Solar-MACH (Gieseler et al. 2023, Front. Astron. Space
Sci. 9, 1058810). Longitudes here are Earth-relative (the model frame: positive ahead of Earth,
which is west of the Sun's central meridian as Earth sees it), so a footprint of +61 deg is W61.

At 400 km/s the spiral through Earth (longitude 0, 1 au) meets the Sun near W61 (Parker 1958;
Solar-MACH gives the same with the 25.38-day rotation):

>>> round(float(footpoint_deg(0.0, AU_KM, 400.0)), 1)
61.1
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from astropy.time import Time

from l4station.constants import AU_KM, SUN_SIDEREAL_RAD_S
from l4station.geometry import wrap_degrees
from l4station.heliosphere import observers
from l4station.heliosphere.solarwind import R_SUN_KM




def footpoint_deg(lon_deg, r_km, v_kms) -> np.ndarray:
    """Longitude (deg, Earth-relative) of the spiral's footpoint on the solar surface."""
    return np.asarray(lon_deg) + np.degrees(SUN_SIDEREAL_RAD_S * (np.asarray(r_km) - R_SUN_KM) / np.asarray(v_kms))


def spiral(lon_deg: float, r_km: float, v_kms: float, n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """The field line from the Sun out to the observer: radii (km) and longitudes (deg)."""
    r = np.linspace(R_SUN_KM, r_km, n)
    return r, lon_deg + np.degrees(SUN_SIDEREAL_RAD_S * (r_km - r) / v_kms)


def separation_deg(a, b) -> np.ndarray:
    """Signed difference a - b wrapped to (-180, 180]."""
    return -wrap_degrees(np.asarray(b) - np.asarray(a))


@dataclass(frozen=True)
class Connection:
    name: str
    lon_deg: float
    r_au: float
    v_kms: float
    footpoint_deg: float
    flare_separation_deg: float | None   # footpoint minus flare longitude

    @property
    def limb(self) -> str:
        """The footpoint as the Sun's disk is named from Earth: W for positive, E for negative."""
        f = wrap_degrees(self.footpoint_deg)
        return f"{'W' if f >= 0 else 'E'}{abs(f):.0f}"


def connections(names, time: Time, v_kms=400.0, flare_lon_deg: float | None = None) -> list[Connection]:
    """Footpoints of named observers at one time, each with its own wind speed (scalar or per name),
    and the separation from a flare's longitude (Earth-relative, i.e. Stonyhurst W positive)."""
    speeds = np.broadcast_to(np.asarray(v_kms, dtype=float), (len(names),))
    out = []
    for name, v in zip(names, speeds):
        if v <= 0:
            raise ValueError(f"solar-wind speed for {name} must be positive, got {v}")
        lon, r = observers.track(name, time)
        foot = float(footpoint_deg(float(lon), float(r), v))
        sep = None if flare_lon_deg is None else float(separation_deg(foot, flare_lon_deg))
        out.append(Connection(name, float(lon), float(r) / AU_KM, float(v), foot, sep))
    return out

"""Where the spacecraft stands in each station's sky, for millions of times at once.

Topocentric elevation of a deep-space target from ground stations, vectorised over
times and stations:

1. geocentric direction of the target (ICRF), corrected for annual aberration to first
   order (u + v_earth / c, Kaplan 2005, USNO Circular 179, eq. 7.39), computed on hourly
   nodes and interpolated (the direction of a target at 1 au turns ~1 deg/day);
2. celestial-to-intermediate matrix of IAU 2006/2000A (``erfa.c2i06a``) on daily nodes,
   interpolated element by element (the precession-nutation it carries moves < 0.1"/day);
3. Earth rotation angle (``erfa.era00``) at every time from UT1 (astropy's IERS tables);
4. polar motion (< 0.5") neglected; no refraction (vacuum elevation, as astropy's
   AltAz with zero pressure).

Held to astropy's AltAz transform within 0.01 deg.

WGS 84 geodetic to ITRS (Vallado 2013, eq. 3-7): a point on the equator at the prime meridian
sits one equatorial radius (6378.137 km) out on x, the pole one polar radius (6356.752 km) up:

>>> station_itrs(0.0, 0.0, 0.0).round(3).tolist()
[6378.137, 0.0, 0.0]
>>> round(float(station_itrs(90.0, 0.0, 0.0)[2]), 3)
6356.752
"""
from __future__ import annotations

import astropy.units as u
import erfa
import numpy as np
from astropy.time import Time

from l4station import ephemeris, offline
from l4station.constants import C_KM_S

_WGS84_A = 6378.137
_WGS84_F = 1 / 298.257223563


def ut1(times: Time) -> Time:
    """``times`` in UT1 from the IERS tables shipped in astropy-iers-data, never downloaded
    (:mod:`l4station.offline`); the host's astropy settings are left as they were."""
    with offline.settings():
        return times.ut1


def station_itrs(latitude_deg, longitude_deg, height_m) -> np.ndarray:
    """Geocentric ITRS position (km) of a WGS 84 geodetic location (Vallado 2013, eq. 3-7)."""
    lat, lon = np.radians(latitude_deg), np.radians(longitude_deg)
    e2 = _WGS84_F * (2 - _WGS84_F)
    n = _WGS84_A / np.sqrt(1 - e2 * np.sin(lat) ** 2)
    h = np.asarray(height_m) / 1000.0
    return np.stack([(n + h) * np.cos(lat) * np.cos(lon), (n + h) * np.cos(lat) * np.sin(lon),
                     (n * (1 - e2) + h) * np.sin(lat)], axis=-1)


def _up(latitude_deg, longitude_deg) -> np.ndarray:
    lat, lon = np.radians(latitude_deg), np.radians(longitude_deg)
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1)


def _interpolate(t_nodes, values, t):
    """Linear interpolation of (n_nodes, ...) ``values`` at times ``t`` (same units as t_nodes)."""
    flat = values.reshape(len(t_nodes), -1)
    out = np.empty((len(t), flat.shape[1]))
    for k in range(flat.shape[1]):
        out[:, k] = np.interp(t, t_nodes, flat[:, k])
    return out.reshape((len(t),) + values.shape[1:])


def target_itrs(times: Time, target_bcrs) -> tuple[np.ndarray, np.ndarray]:
    """Apparent geocentric direction (unit vectors, (N, 3)) of a target in the terrestrial
    frame, and its geocentric distance (km, (N,)).

    ``target_bcrs``: a callable giving barycentric ICRF positions (km) of the target at a Time
    array, evaluated only on hourly nodes spanning ``times``.
    """
    # Offsets in the times' own scale: no leap second falls inside a planning span (none are
    # announced that far ahead), so they equal TT and UT1 offsets to < 1 ms per year.
    days = (times.jd1 - times.jd1[0]) + (times.jd2 - times.jd2[0])
    span = days[-1] - days[0]
    hourly = np.arange(0.0, span + 1 / 24 + 1e-9, 1 / 24) if span > 0 else np.array([0.0])
    node_times = times[0].tt + hourly * u.day
    earth_r, earth_v = (x.value for x in ephemeris.posvel("earth", node_times, center="ssb", frame="icrf"))
    rel = np.asarray(target_bcrs(node_times)) - earth_r
    distance = np.linalg.norm(rel, axis=-1)
    direction = rel / distance[:, None] + earth_v / C_KM_S
    direction /= np.linalg.norm(direction, axis=-1, keepdims=True)
    if len(hourly) > 1:
        geo, distance = _interpolate(hourly, direction, days), np.interp(days, hourly, distance)
    else:
        geo, distance = np.broadcast_to(direction, (len(days), 3)), np.broadcast_to(distance, len(days))

    daily = np.arange(0.0, span + 1.0 + 1e-9, 1.0)
    node_tt = times[0].tt + daily * u.day
    c2i = erfa.c2i06a(node_tt.jd1, node_tt.jd2)
    c2i_t = _interpolate(daily, c2i, days) if len(daily) > 1 else np.broadcast_to(c2i, (len(days), 3, 3))
    # UT1 on the hourly nodes (astropy's IERS tables), interpolated: UT1 - TT drifts ~1 ms/day.
    node_ut1 = ut1(node_times)
    ut1_offset = (node_ut1.jd1 - node_ut1.jd1[0]) + (node_ut1.jd2 - node_ut1.jd2[0])
    ut1_days = np.interp(days, hourly, ut1_offset) if len(hourly) > 1 else days
    era = erfa.era00(node_ut1.jd1[0], node_ut1.jd2[0] + ut1_days)
    cirs = np.einsum("nij,nj->ni", c2i_t, geo)
    c, s = np.cos(era), np.sin(era)
    itrs = np.stack([c * cirs[:, 0] + s * cirs[:, 1], -s * cirs[:, 0] + c * cirs[:, 1], cirs[:, 2]], axis=-1)
    return itrs, distance


def elevations(times: Time, target_bcrs, stations) -> np.ndarray:
    """Elevation (deg, float32, shape (S, N)) of the target from each station at each time,
    topocentric parallax included.

    ``target_bcrs``: callable giving barycentric ICRF positions (km) at a Time array.
    ``stations``: objects with latitude_deg, longitude_deg and height_m (WGS 84).
    """
    direction, distance = target_itrs(times, target_bcrs)
    geocentric = direction * distance[:, None]
    out = np.empty((len(stations), len(times)), dtype=np.float32)
    for i, s in enumerate(stations):
        d = geocentric - station_itrs(s.latitude_deg, s.longitude_deg, s.height_m)
        sin_el = (d @ _up(s.latitude_deg, s.longitude_deg)) / np.linalg.norm(d, axis=-1)
        out[i] = np.degrees(np.arcsin(np.clip(sin_el, -1.0, 1.0)))
    return out

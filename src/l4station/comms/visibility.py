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

import math

import astropy.units as u
import erfa
import numpy as np
from astropy.time import Time
from numba import njit

from l4station import ephemeris, offline
from l4station.constants import C_KM_S

_WGS84_A = 6378.137
_WGS84_F = 1 / 298.257223563


def ut1(times: Time) -> Time:
    """``times`` in UT1 from the IERS tables shipped in astropy-iers-data, never downloaded
    (:mod:`l4station.offline`); the host's astropy settings are left as they were. Past the
    tables' Bulletin B rows (mission epochs) UT1-UTC comes from :func:`offline.ut1_minus_utc`,
    the same numbers without astropy's reading of both tables (2 s)."""
    with offline.settings():
        utc = times.utc
        dut1 = offline.ut1_minus_utc(utc.jd1, utc.jd2)
        if dut1 is None:
            return times.ut1
        times = times.copy()
        times.delta_ut1_utc = dut1
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
    return elevations_and_range(times, target_bcrs, stations)[0]


def elevations_and_range(times: Time, target_bcrs, stations) -> tuple[np.ndarray, np.ndarray]:
    """:func:`elevations` and the target's geocentric distance (km, (N,)) they were worked out from."""
    direction, distance = target_itrs(times, target_bcrs)
    geocentric = direction * distance[:, None]
    sites = np.array([station_itrs(s.latitude_deg, s.longitude_deg, s.height_m) for s in stations]).reshape(-1, 3)
    ups = np.array([_up(s.latitude_deg, s.longitude_deg) for s in stations]).reshape(-1, 3)
    out = np.empty((len(stations), len(times)), dtype=np.float32)
    _elevations(geocentric, sites, ups, out)
    return out, distance


@njit(cache=True)
def _elevations(geocentric, sites, ups, out):
    """out[i, n] = elevation (deg) of geocentric[n] (km, ITRS) from sites[i] (km) with local
    vertical ups[i]: asin(d . up / |d|), d = geocentric - site (each sum as numpy forms it)."""
    for n in range(geocentric.shape[0]):
        for i in range(sites.shape[0]):
            d0, d1, d2 = geocentric[n, 0] - sites[i, 0], geocentric[n, 1] - sites[i, 1], geocentric[n, 2] - sites[i, 2]
            sin_el = _dot_fused(d0, d1, d2, ups[i]) / math.sqrt(d0 * d0 + d1 * d1 + d2 * d2)
            out[i, n] = math.asin(min(max(sin_el, -1.0), 1.0)) * (180.0 / math.pi)


@njit(cache=True, fastmath={"contract"})
def _dot_fused(d0, d1, d2, up) -> float:
    """d . up with fused multiply-adds, as the BLAS kernel behind numpy's ``d @ up`` sums it."""
    return d0 * up[0] + d1 * up[1] + d2 * up[2]

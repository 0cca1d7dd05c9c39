"""Full-force heliocentric propagation: Sun, planets and Moon from DE421, solar radiation pressure.

Point-mass gravity of every body in ``BODIES`` at its DE421 position (barycentric
ICRF, no indirect term since the origin is the solar-system barycentre), the Sun's
post-Newtonian (Schwarzschild) term, and a cannonball solar-radiation-pressure
acceleration. Body positions are tabulated once
per propagation and interpolated by cubic Hermite polynomials from DE421 positions
and velocities (0.125-day nodes: under 1 m for the Moon, the fastest body). The
acceleration is compiled with numba; integration is scipy's DOP853.
Kernel units: km, s, km/s; time is TDB seconds from the propagation epoch.

The radiation pressure at 1 au is the total solar irradiance over c, 1361 W/m^2 / c = 4.54 uPa
(Kopp & Lean 2011), and a force model names only bodies it knows:

>>> f"{SOLAR_PRESSURE_1AU:.3e}"
'4.540e-06'
>>> ForceModel(bodies=("sun", "vulcan"))
Traceback (most recent call last):
...
ValueError: unknown bodies ['vulcan']; known: sun, mercury, venus, earth, moon, mars, jupiter,
    saturn, uranus, neptune, pluto
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.time import Time
from numba import njit
from scipy.integrate import solve_ivp

from l4station import ephemeris
from l4station.constants import AU_KM, C_KM_S, C_M_S, DAY_S

# DE421 gravitational parameters, km^3/s^2 (Folkner, Williams & Boggs 2008, IOM 343R-08-003,
# table 4); Earth and Moon split from GM_EMB by the DE421 Earth/Moon mass ratio 81.30056.
GM = {
    "sun": 132712440040.944,
    "mercury": 22032.09,
    "venus": 324858.592,
    "earth": 403503.235502 * 81.30056 / 82.30056,
    "moon": 403503.235502 / 82.30056,
    "mars": 42828.375214,
    "jupiter": 126712764.8,
    "saturn": 37940585.2,
    "uranus": 5794548.6,
    "neptune": 6836535.0,
    "pluto": 977.0,
}
BODIES = tuple(GM)

SOLAR_PRESSURE_1AU = 1361.0 / C_M_S
"""Solar radiation pressure on an absorbing surface at 1 au, N/m^2 (TSI 1361 W/m^2, Kopp & Lean 2011)."""

_NODE_STEP_S = 0.125 * DAY_S


@dataclass(frozen=True)
class ForceModel:
    """Which bodies pull, and the spacecraft's SRP coefficient Cr * A / m (m^2/kg; 0 for none)."""

    bodies: tuple[str, ...] = BODIES
    cr_area_over_mass: float = 0.0
    near_scale: float = 1.0  # multiplies GM of Earth and Moon (continuation in differential correction)

    def __post_init__(self):
        unknown = set(self.bodies) - set(GM)
        if unknown:
            raise ValueError(f"unknown bodies {sorted(unknown)}; known: {', '.join(GM)}")


@njit(cache=True)
def _hermite(nodes_r, nodes_v, j, s, h, out):
    """Cubic Hermite interpolation of body j between nodes i and i+1 at fraction s."""
    i = int(s)
    if i >= nodes_r.shape[1] - 1:
        i = nodes_r.shape[1] - 2
    f = s - i
    h00 = 2 * f ** 3 - 3 * f ** 2 + 1
    h10 = f ** 3 - 2 * f ** 2 + f
    h01 = -2 * f ** 3 + 3 * f ** 2
    h11 = f ** 3 - f ** 2
    for k in range(3):
        out[k] = (h00 * nodes_r[j, i, k] + h10 * h * nodes_v[j, i, k]
                  + h01 * nodes_r[j, i + 1, k] + h11 * h * nodes_v[j, i + 1, k])


@njit(cache=True)
def _rhs(t, y, nodes_r, nodes_v, t_first, h, gms, sun, srp):
    out = np.empty(6)
    out[0], out[1], out[2] = y[3], y[4], y[5]
    ax = ay = az = 0.0
    body = np.empty(3)
    s = (t - t_first) / h
    for j in range(gms.shape[0]):
        _hermite(nodes_r, nodes_v, j, s, h, body)
        dx, dy, dz = y[0] - body[0], y[1] - body[1], y[2] - body[2]
        d2 = dx * dx + dy * dy + dz * dz
        k = gms[j] / (d2 * math.sqrt(d2))
        ax -= k * dx
        ay -= k * dy
        az -= k * dz
        if j == sun:
            d = math.sqrt(d2)
            # Schwarzschild term of the Sun (Moyer 2003, DESCANSO monograph 2, eq. 4-61, one body,
            # PPN beta = gamma = 1), with the Sun's own slow barycentric motion neglected.
            rv = dx * y[3] + dy * y[4] + dz * y[5]
            v2 = y[3] ** 2 + y[4] ** 2 + y[5] ** 2
            g = gms[j] / (C_KM_S ** 2 * d2 * d)
            a_r = g * (4.0 * gms[j] / d - v2)
            ax += a_r * dx + 4.0 * g * rv * y[3]
            ay += a_r * dy + 4.0 * g * rv * y[4]
            az += a_r * dz + 4.0 * g * rv * y[5]
            if srp > 0.0:
                # Cannonball SRP, away from the Sun, as 1/r^2 (srp in km/s^2 at 1 au).
                p = srp * (AU_KM / d) ** 2 / d
                ax += p * dx
                ay += p * dy
                az += p * dz
    out[3], out[4], out[5] = ax, ay, az
    return out


@dataclass(frozen=True)
class Trajectory:
    """Propagated states: ``time`` (N,) Time, ``position`` and ``velocity`` (N, 3) km and km/s,
    barycentric ICRF (the frame of integration)."""

    time: Time
    position: np.ndarray
    velocity: np.ndarray

    def heliocentric(self, frame: str = "ecliptic") -> tuple[np.ndarray, np.ndarray]:
        """Positions and velocities relative to the Sun, km and km/s, in ``frame``."""
        sun_r, sun_v = ephemeris.posvel("sun", self.time, center="ssb", frame="icrf")
        r = self.position - sun_r.to_value(u.km)
        v = self.velocity - sun_v.to_value(u.km / u.s)
        if frame == "ecliptic":
            return ephemeris.icrf_to_ecliptic(r), ephemeris.icrf_to_ecliptic(v)
        return r, v


@functools.lru_cache(maxsize=16)
def _body_table(bodies: tuple[str, ...], jd1: float, jd2: float, t_first: float, n_nodes: int):
    """Barycentric ICRF positions (km) and velocities (km/s) of ``bodies`` at the Hermite
    nodes, (B, n_nodes, 3) each. Cached: differential correction flies the same span
    many times."""
    epoch = Time(jd1, jd2, format="jd", scale="tdb")
    node_times = epoch + (t_first + np.arange(n_nodes) * _NODE_STEP_S) * u.s
    nodes_r = np.empty((len(bodies), n_nodes, 3))
    nodes_v = np.empty_like(nodes_r)
    for j, body in enumerate(bodies):
        r, v = ephemeris.posvel(body, node_times, center="ssb", frame="icrf")
        nodes_r[j], nodes_v[j] = r.to_value(u.km), v.to_value(u.km / u.s)
    nodes_r.flags.writeable = False
    nodes_v.flags.writeable = False
    return nodes_r, nodes_v


def propagate(r0, v0, epoch: Time, duration_s: float, *, model: ForceModel = ForceModel(),
              t_eval=None, rtol: float = 1e-11, atol: float = 1e-6) -> Trajectory:
    """Integrate a spacecraft from barycentric ICRF state (r0 km, v0 km/s) at ``epoch``.

    ``duration_s`` may be negative (backwards). ``t_eval``: output times in seconds from
    ``epoch`` (default: the integrator's own steps).
    """
    sign = 1.0 if duration_s >= 0 else -1.0
    span = abs(duration_s)
    margin = 2 * _NODE_STEP_S
    n_nodes = int(math.ceil((span + 2 * margin) / _NODE_STEP_S)) + 1
    t_first = -margin if sign > 0 else -(span + margin)
    tdb = epoch.tdb
    nodes_r, nodes_v = _body_table(model.bodies, float(tdb.jd1), float(tdb.jd2), t_first, n_nodes)
    gms = np.array([GM[b] * (model.near_scale if b in ("earth", "moon") else 1.0) for b in model.bodies])
    sun = model.bodies.index("sun") if "sun" in model.bodies else -1
    srp = SOLAR_PRESSURE_1AU * model.cr_area_over_mass / 1000.0  # km/s^2 at 1 au
    sol = solve_ivp(_rhs, (0.0, float(duration_s)), np.concatenate([r0, v0]).astype(float),
                    method="DOP853", rtol=rtol, atol=atol, t_eval=t_eval,
                    args=(nodes_r, nodes_v, t_first, _NODE_STEP_S, gms, sun, srp))
    if not sol.success:
        raise RuntimeError(f"propagation failed: {sol.message}")
    return Trajectory(epoch + sol.t * u.s, sol.y[:3].T.copy(), sol.y[3:].T.copy())

"""Full-force heliocentric propagation: Sun, planets and Moon from DE421, solar radiation pressure.

Point-mass gravity of every body in ``BODIES`` at its DE421 position (barycentric
ICRF, no indirect term since the origin is the solar-system barycentre), the Sun's
post-Newtonian (Schwarzschild) term, and a cannonball solar-radiation-pressure
acceleration. Body positions are tabulated once
per propagation and interpolated by cubic Hermite polynomials from DE421 positions
and velocities (0.125-day nodes: under 1 m for the Moon, the fastest body). The
acceleration and the integrator, DOP853 step for step as scipy's ``solve_ivp`` runs it
(:mod:`l4station.orbit.dop853`), are compiled together with numba.
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

from l4station import ephemeris
from l4station.constants import AU_KM, C_KM_S, C_M_S, DAY_S
from l4station.orbit import dop853

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
def _derivative(t, y, nodes_r, nodes_v, t_first, h, gms, sun, srp, body, out):
    """Writes dy/dt (km/s, km/s^2) of state y (km, km/s) at t (s) into ``out``; ``body`` (3,) is
    scratch."""
    out[0], out[1], out[2] = y[3], y[4], y[5]
    ax = ay = az = 0.0
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


# --- DOP853 step by step (tableau in l4station.orbit.dop853), as scipy's solve_ivp runs it ---------------
# A loop built on these (f = the derivative at t, y): 1. h = _first_step(h0, y0, f0, f(t0 + h0 d, y1))
# after h0 = _first_guess(..., y1); 2. each try: K[0] = f, K[s] = f(t + C[s] h, _stage(y, K, s, A[s], h)) for
# s = 1..11, y_new = _stage(y, K, 12, B, h), K[12] = f(t + h, y_new); _error_norm < 1 accepts the step and
# _step_factor scales h either way; 3. where outputs fall in a step: K[13..15] (EXTRA), _interpolant once,
# _interpolate per output. Only the order in which numpy (BLAS) sums the stages differs from scipy.


@njit(cache=True)
def _rms(x, y0, rtol, atol) -> float:
    """Root mean square of x / (atol + |y0| rtol): scipy's ``norm`` of a scaled vector."""
    total = 0.0
    for i in range(x.shape[0]):
        q = x[i] / (atol + abs(y0[i]) * rtol)
        total += q * q
    return math.sqrt(total) / math.sqrt(x.shape[0])


@njit(cache=True)
def _first_guess(y0, f0, interval, direction, rtol, atol, y1) -> float:
    """First half of the initial step choice (Hairer et al. 1993, sec. II.4): returns the trial
    step h0 and writes y1 = y0 + h0 direction f0, where the caller evaluates f1."""
    d0, d1 = _rms(y0, y0, rtol, atol), _rms(f0, y0, rtol, atol)
    h0 = 1e-6 if d0 < 1e-5 or d1 < 1e-5 else 0.01 * d0 / d1
    h0 = min(h0, interval)
    step = h0 * direction
    for i in range(y0.shape[0]):
        y1[i] = y0[i] + step * f0[i]
    return h0


@njit(cache=True)
def _first_step(h0, y0, f0, f1, interval, rtol, atol) -> float:
    """Initial step size from the derivatives f0 at y0 and f1 a trial step h0 on (f1 is left
    holding f1 - f0: one signature of _rms, compiled once)."""
    d1 = _rms(f0, y0, rtol, atol)
    for i in range(f1.shape[0]):
        f1[i] -= f0[i]
    d2 = _rms(f1, y0, rtol, atol) / h0
    if d1 <= 1e-15 and d2 <= 1e-15:
        h1 = max(1e-6, h0 * 1e-3)
    else:
        h1 = (0.01 / max(d1, d2)) ** (1.0 / 8.0)
    return min(100 * h0, h1, interval)


@njit(cache=True)
def _stage(y, K, s, a, h, out):
    """out = y + (sum over j < s of a[j] K[j]) h: the state of stage s (or, with s = 12 and
    a = B, of the step's end)."""
    for i in range(y.shape[0]):
        acc = 0.0
        for j in range(s):
            acc += K[j, i] * a[j]
        out[i] = y[i] + acc * h


@njit(cache=True)
def _error_norm(K, h, y, y_new, rtol, atol) -> float:
    """Scaled error of the step (below 1: accept), from K[0..12]."""
    n = y.shape[0]
    sum5, sum3 = 0.0, 0.0
    for i in range(n):
        scale = atol + max(abs(y[i]), abs(y_new[i])) * rtol
        e5, e3 = 0.0, 0.0
        for j in range(dop853.N_STAGES + 1):
            e5 += K[j, i] * dop853.E5[j]
            e3 += K[j, i] * dop853.E3[j]
        e5 /= scale
        e3 /= scale
        sum5 += e5 * e5
        sum3 += e3 * e3
    norm5, norm3 = math.sqrt(sum5) ** 2, math.sqrt(sum3) ** 2
    if norm5 == 0.0 and norm3 == 0.0:
        return 0.0
    return abs(h) * norm5 / math.sqrt((norm5 + 0.01 * norm3) * n)


@njit(cache=True)
def _step_factor(error: float, rejected: bool) -> float:
    """What the step size is multiplied by after a try of scaled ``error``; ``rejected`` says
    whether a try of this step has already failed."""
    if error >= 1.0:
        return max(dop853.MIN_FACTOR, dop853.SAFETY * error ** dop853.ERROR_EXPONENT)
    factor = (dop853.MAX_FACTOR if error == 0.0
              else min(dop853.MAX_FACTOR, dop853.SAFETY * error ** dop853.ERROR_EXPONENT))
    return min(1.0, factor) if rejected else factor


@njit(cache=True)
def _interpolant(K, h, y_old, y, F):
    """Coefficients F (7, n) of the step's interpolant from all 16 stages in K; h the step."""
    for i in range(y.shape[0]):
        delta = y[i] - y_old[i]
        F[0, i] = delta
        F[1, i] = h * K[0, i] - delta
        F[2, i] = 2 * delta - h * (K[dop853.N_STAGES, i] + K[0, i])
        for r in range(4):
            acc = 0.0
            for j in range(dop853.N_STAGES_EXTENDED):
                acc += dop853.D[r, j] * K[j, i]
            F[3 + r, i] = h * acc


@njit(cache=True)
def _interpolate(F, y_old, x, out):
    """The state at fraction x of the step (0: its start, 1: its end)."""
    for i in range(y_old.shape[0]):
        v = 0.0
        for k in range(7):
            v += F[6 - k, i]
            v *= x if k % 2 == 0 else 1 - x
        out[i] = v + y_old[i]


@njit(cache=True)
def _copy(source, target):
    """target[:] = source, element by element (a slice assignment would compile numba's shape-error
    formatting into the caller: seconds of compile time)."""
    for i in range(source.shape[0]):
        target[i] = source[i]


@njit(cache=True)
def _fly(y0, t_bound, t_eval, at_steps, rtol, atol, nodes_r, nodes_v, t_first, h_node, gms, sun, srp):
    """DOP853 (:mod:`l4station.orbit.dop853`) from state y0 (km, km/s) at t = 0 to ``t_bound`` (s,
    either sign; not 0). Outputs at ``t_eval`` (s, ordered in the direction of flight), or with
    ``at_steps`` at the start and every step. Returns (t (m,), states (m, 6), ok); ok is False
    if the step size fell below the spacing of floats at t (scipy's "too small step")."""
    n = y0.shape[0]
    args = (nodes_r, nodes_v, t_first, h_node, gms, sun, srp, np.empty(3))
    direction = 1.0 if t_bound > 0 else -1.0
    K = np.empty((dop853.N_STAGES_EXTENDED, n))
    F = np.empty((7, n))
    trial = np.empty(n)
    y, y_new, f = y0.copy(), np.empty(n), np.empty(n)
    capacity = t_eval.shape[0] if not at_steps else 64
    t_out, y_out, m = np.empty(capacity), np.empty((capacity, n)), 0
    if at_steps:
        t_out[0], m = 0.0, 1
        _copy(y0, y_out[0])
    _derivative(0.0, y, *args, f)
    h0 = _first_guess(y, f, abs(t_bound), direction, rtol, atol, y_new)
    _derivative(h0 * direction, y_new, *args, trial)
    h_abs = _first_step(h0, y, f, trial, abs(t_bound), rtol, atol)
    t, k = 0.0, 0
    while True:
        min_step = 10 * abs(np.nextafter(t, direction * np.inf) - t)
        h_abs = max(h_abs, min_step)
        rejected = False
        while True:                                  # tries until one is accepted
            if h_abs < min_step:
                return t_out[:m], y_out[:m], False
            t_new = t + h_abs * direction
            if direction * (t_new - t_bound) > 0:
                t_new = t_bound
            h = t_new - t
            h_abs = abs(h)
            _copy(f, K[0])
            for s in range(1, dop853.N_STAGES):
                _stage(y, K, s, dop853.A[s], h, trial)
                _derivative(t + dop853.C[s] * h, trial, *args, K[s])
            _stage(y, K, dop853.N_STAGES, dop853.B, h, y_new)
            _derivative(t + h, y_new, *args, K[dop853.N_STAGES])
            error = _error_norm(K, h, y, y_new, rtol, atol)
            h_abs *= _step_factor(error, rejected)
            if error < 1.0:
                break
            rejected = True
        t_old, t = t, t_new
        y, y_new = y_new, y                          # y_new now holds the step's start
        _copy(K[dop853.N_STAGES], f)
        if at_steps:
            if m == t_out.shape[0]:
                t_out, y_out = np.concatenate((t_out, np.empty(m))), np.concatenate((y_out, np.empty((m, n))))
            t_out[m] = t
            _copy(y, y_out[m])
            m += 1
        elif k < t_eval.shape[0] and direction * (t_eval[k] - t) <= 0:
            for s in dop853.EXTRA:
                _stage(y_new, K, s, dop853.A[s], h, trial)
                _derivative(t_old + dop853.C[s] * h, trial, *args, K[s])
            _interpolant(K, h, y_new, y, F)
            while k < t_eval.shape[0] and direction * (t_eval[k] - t) <= 0:
                t_out[m] = t_eval[k]
                _interpolate(F, y_new, (t_eval[k] - t_old) / h, y_out[m])
                k, m = k + 1, m + 1
        if direction * (t - t_bound) >= 0:
            return t_out[:m], y_out[:m], True


@dataclass(frozen=True)
class Trajectory:
    """Propagated states: at ``t_s`` (N,) seconds from ``epoch``, ``position`` and ``velocity``
    (N, 3) km and km/s, barycentric ICRF (the frame of integration)."""

    epoch: Time
    t_s: np.ndarray
    position: np.ndarray
    velocity: np.ndarray

    @functools.cached_property
    def time(self) -> Time:
        """The (N,) sample times; formed on first use (differential correction reads only the
        last position of most flights)."""
        return self.epoch + self.t_s * u.s

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


def _checked(r0, v0, epoch, duration_s, t_eval, rtol, atol, model) -> tuple[np.ndarray, np.ndarray]:
    """The initial state (6,) and output times of :func:`propagate`, or a ValueError naming what
    is wrong (the kernel reads exactly six numbers and divides by the tolerances), checked before
    DE421 is read for the whole flight."""
    if not (isinstance(epoch, Time) and epoch.shape == ()):
        raise ValueError(f"epoch must be one astropy Time, got {type(epoch).__name__} {np.shape(epoch)}")
    if np.shape(r0) != (3,) or np.shape(v0) != (3,):
        raise ValueError(f"r0 and v0 must be three numbers each (km, km/s), got shapes {np.shape(r0)} and "
                         f"{np.shape(v0)}")
    y0 = np.concatenate([r0, v0]).astype(float)
    if not np.all(np.isfinite(y0)):
        raise ValueError(f"the initial state must be finite, got r0 = {r0}, v0 = {v0}")
    if not math.isfinite(duration_s):
        raise ValueError(f"duration_s must be a finite number of seconds, got {duration_s}")
    if not (0 < rtol < 1 and 0 < atol < math.inf):
        raise ValueError(f"rtol must lie between 0 and 1 and atol be positive and finite, got {rtol} and {atol}")
    if not (math.isfinite(model.near_scale) and math.isfinite(model.cr_area_over_mass)):
        raise ValueError(f"the force model's near_scale and cr_area_over_mass must be finite, got {model.near_scale} "
                         f"and {model.cr_area_over_mass}")
    ephemeris.tdb_jd(epoch + [0.0, duration_s] * u.s)          # both ends inside DE421
    times = np.zeros(0) if t_eval is None else np.asarray(t_eval, dtype=float).ravel()
    if not np.all(np.isfinite(times)):
        raise ValueError("t_eval must be finite seconds from the epoch")
    return y0, times


def propagate(r0, v0, epoch: Time, duration_s: float, *, model: ForceModel = ForceModel(),
              t_eval=None, rtol: float = 1e-11, atol: float = 1e-6) -> Trajectory:
    """Integrate a spacecraft from barycentric ICRF state (r0 km, v0 km/s) at ``epoch``.

    ``duration_s`` may be negative (backwards). ``t_eval``: output times in seconds from
    ``epoch`` (default: the integrator's own steps).
    """
    y0, times = _checked(r0, v0, epoch, duration_s, t_eval, rtol, atol, model)
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
    if np.any(times < min(0.0, duration_s)) or np.any(times > max(0.0, duration_s)):
        raise ValueError(f"t_eval must lie between 0 and duration_s = {duration_s} s")
    if np.any(sign * np.diff(times) <= 0):
        raise ValueError("t_eval must run in the direction of flight, without repeats")
    if duration_s == 0:
        t, y = (times, np.tile(y0, (len(times), 1))) if t_eval is not None else (np.zeros(2), np.stack([y0, y0]))
    else:
        t, y, ok = _fly(y0, float(duration_s), times, t_eval is None, float(rtol), float(atol),
                        nodes_r, nodes_v, t_first, _NODE_STEP_S, gms, sun, srp)
        if not ok:
            raise RuntimeError(f"propagation failed: the step size fell below the spacing of floats at "
                               f"t = {t[-1] if len(t) else 0.0:.6g} s from the epoch")
    return Trajectory(epoch, t, y[:, :3].copy(), y[:, 3:].copy())

"""Two-body propagation by universal variables, compiled and vectorised over states and times.

Universal Kepler equation solved by Newton's method on chi with Stumpff functions,
then the Lagrange f and g coefficients (Curtis 2020, *Orbital Mechanics for
Engineering Students*, 4th ed., algorithms 3.3-3.4; Vallado 2013, algorithm 8).
Works for ellipses, parabolas and hyperbolas. Kernel units: km, s, km/s.
"""
from __future__ import annotations

import math

import astropy.units as u
import numpy as np
from numba import njit, prange


@njit(cache=True)
def _stumpff(z):
    """Stumpff functions C(z), S(z), with series near z = 0."""
    if z > 1e-6:
        sz = math.sqrt(z)
        return (1.0 - math.cos(sz)) / z, (sz - math.sin(sz)) / sz ** 3
    if z < -1e-6:
        sz = math.sqrt(-z)
        return (math.cosh(sz) - 1.0) / -z, (math.sinh(sz) - sz) / sz ** 3
    return 0.5 - z / 24.0 + z * z / 720.0, 1.0 / 6.0 - z / 120.0 + z * z / 5040.0


@njit(cache=True)
def _propagate_one(r0, v0, dt, mu, r_out, v_out):
    """Advance (r0 km, v0 km/s) by dt s; returns False if Newton did not converge."""
    rn0 = math.sqrt(r0[0] ** 2 + r0[1] ** 2 + r0[2] ** 2)
    vr0 = (r0[0] * v0[0] + r0[1] * v0[1] + r0[2] * v0[2]) / rn0
    v2 = v0[0] ** 2 + v0[1] ** 2 + v0[2] ** 2
    alpha = 2.0 / rn0 - v2 / mu  # reciprocal semi-major axis, 1/km
    smu = math.sqrt(mu)
    # Starting guess: elliptic (Curtis) or hyperbolic (Vallado 2013, eq. 2-71).
    if alpha > 1e-12:
        chi = smu * dt * alpha
    elif alpha < -1e-12:
        a = 1.0 / alpha
        sign = 1.0 if dt >= 0 else -1.0
        arg = -2.0 * mu * alpha * dt / (rn0 * vr0 + sign * math.sqrt(-mu * a) * (1.0 - rn0 * alpha))
        chi = sign * math.sqrt(-a) * math.log(max(arg, 1e-300))
    else:
        chi = smu * dt / rn0
    converged = False
    for _ in range(100):
        z = alpha * chi * chi
        c, s = _stumpff(z)
        f = rn0 * vr0 / smu * chi * chi * c + (1.0 - alpha * rn0) * chi ** 3 * s + rn0 * chi - smu * dt
        df = rn0 * vr0 / smu * chi * (1.0 - z * s) + (1.0 - alpha * rn0) * chi * chi * c + rn0
        step = f / df
        chi -= step
        if abs(step) < 1e-12 * max(1.0, abs(chi)):
            converged = True
            break
    z = alpha * chi * chi
    c, s = _stumpff(z)
    f = 1.0 - chi * chi / rn0 * c
    g = dt - chi ** 3 / smu * s
    for k in range(3):
        r_out[k] = f * r0[k] + g * v0[k]
    rn = math.sqrt(r_out[0] ** 2 + r_out[1] ** 2 + r_out[2] ** 2)
    fdot = smu / (rn * rn0) * (alpha * chi ** 3 * s - chi)
    gdot = 1.0 - chi * chi / rn * c
    for k in range(3):
        v_out[k] = fdot * r0[k] + gdot * v0[k]
    return converged


@njit(parallel=True, cache=True)
def _propagate_batch(r0, v0, dt, mu, r, v, ok):
    for i in prange(dt.shape[0]):
        ok[i] = _propagate_one(r0[i], v0[i], dt[i], mu, r[i], v[i])


def propagate(r0, v0, dt, mu):
    """State after ``dt`` on the conic through (r0, v0) about a body of parameter ``mu``.

    r0 (..., 3) km, v0 (..., 3) km/s, dt (...) s and mu km^3/s^2 broadcast together
    (Quantities accepted); returns r, v as (..., 3) arrays in km and km/s.

    >>> r, v = propagate([7000, -12124, 0], [2.6679, 4.6210, 0], 3600, 398600)
    >>> r.round(1)  # Curtis (2020), example 3.7: -3297.8 i + 7413.4 j km
    array([-3297.8,  7413.4,     0. ])
    """
    def values(x, unit):
        return np.asarray(x.to_value(unit) if isinstance(x, u.Quantity) else x, dtype=float)

    r0, v0 = values(r0, u.km), values(v0, u.km / u.s)
    dt, mu = values(dt, u.s), float(values(mu, u.km**3 / u.s**2))
    shape = np.broadcast_shapes(r0.shape[:-1], v0.shape[:-1], dt.shape)
    n = int(np.prod(shape))
    flat = lambda a, tail=(): np.ascontiguousarray(np.broadcast_to(a, shape + tail).reshape((n,) + tail))
    r = np.empty((n, 3))
    v = np.empty((n, 3))
    ok = np.empty(n, dtype=np.bool_)
    _propagate_batch(flat(r0, (3,)), flat(v0, (3,)), flat(dt), mu, r, v, ok)
    if not ok.all():
        raise ValueError(f"universal Kepler iterations did not converge for {np.count_nonzero(~ok)} state(s)")
    return r.reshape(shape + (3,)), v.reshape(shape + (3,))

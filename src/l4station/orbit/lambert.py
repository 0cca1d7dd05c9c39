"""Lambert's problem by Izzo's method, compiled and vectorised over arrays of problems.

Izzo, D. (2015), "Revisiting Lambert's problem", Celest. Mech. Dyn. Astron. 121, 1-15:
the time-of-flight equation in the variable x, solved by Householder iterations
from the paper's initial guesses; multi-revolution problems have two solutions per
revolution count, chosen with ``low_path`` (the convention of lamberthub and
poliastro: ``low_path=True`` takes the larger of the two initial guesses).

The kernel (:func:`_solve_one`) works in km, s and km/s; :func:`solve` broadcasts its
arguments, runs every problem in parallel on all cores (numba ``prange``) and
returns NaN where a problem has no solution.
"""
from __future__ import annotations

import math

import astropy.units as u
import numpy as np
from numba import njit, prange

from l4station.errors import InputError

OK, NO_SOLUTION, NOT_CONVERGED, DEGENERATE = 0, 1, 2, 3
MAX_REVS = 1_000_000      # more revolutions than any transfer flies; beyond, the kernels' integers would overflow
# The kernels follow numpy's rule for a division by zero (inf or NaN, then a problem that fails on
# its own): an exception raised in a parallel thread is lost, and its batch came back half written.
_MAXITER = 35
_RTOL = 1e-10


@njit(cache=True, fastmath=False, error_model="numpy")
def _hyp2f1b(x):
    """Gauss hypergeometric 2F1(3, 1; 5/2; x) by its series (Izzo 2015, eq. 20 region)."""
    if x >= 1.0:
        return math.inf
    res, term, i = 1.0, 1.0, 0
    while True:
        term = term * (3.0 + i) * (1.0 + i) / (2.5 + i) * x / (i + 1.0)
        old = res
        res += term
        if res == old:
            return res
        i += 1


@njit(cache=True, error_model="numpy")
def _y(x, ll):
    return math.sqrt(1.0 - ll * ll * (1.0 - x * x))


@njit(cache=True, error_model="numpy")
def _psi(x, y, ll):
    if -1.0 <= x < 1.0:
        return math.acos(x * y + ll * (1.0 - x * x))
    if x > 1.0:
        return math.asinh((y - x * ll) * math.sqrt(x * x - 1.0))
    return 0.0


@njit(cache=True, error_model="numpy")
def _tof(x, y, ll, m):
    """Non-dimensional time of flight T(x) (Izzo 2015, eqs. 18 and 20)."""
    if m == 0 and math.sqrt(0.6) < x < math.sqrt(1.4):
        eta = y - ll * x
        s1 = (1.0 - ll - x * eta) * 0.5
        q = 4.0 / 3.0 * _hyp2f1b(s1)
        return (eta ** 3 * q + 4.0 * ll * eta) * 0.5
    psi = _psi(x, y, ll)
    return ((psi + m * math.pi) / math.sqrt(abs(1.0 - x * x)) - x + ll * y) / (1.0 - x * x)


@njit(cache=True, error_model="numpy")
def _dtof(x, y, t, ll):
    """First three derivatives of T(x) (Izzo 2015, eq. 22)."""
    d1 = (3.0 * t * x - 2.0 + 2.0 * ll ** 3 * x / y) / (1.0 - x * x)
    d2 = (3.0 * t + 5.0 * x * d1 + 2.0 * (1.0 - ll * ll) * ll ** 3 / y ** 3) / (1.0 - x * x)
    d3 = (7.0 * x * d2 + 8.0 * d1 - 6.0 * (1.0 - ll * ll) * ll ** 5 * x / y ** 5) / (1.0 - x * x)
    return d1, d2, d3


@njit(cache=True, error_model="numpy")
def _t_min(ll, m):
    """Minimum non-dimensional time of flight for ``m`` revolutions, by Halley iterations on
    dT/dx = 0 (Izzo 2015, sec. 2.2). Returns (x_min, T_min, converged)."""
    if ll == 1.0:
        x = 0.0
        return x, _tof(x, _y(x, ll), ll, m), True
    if m == 0:
        return math.inf, 0.0, True
    x = 0.1
    for _ in range(_MAXITER):
        y = _y(x, ll)
        t = _tof(x, y, ll, m)
        d1, d2, d3 = _dtof(x, y, t, ll)
        if d2 == 0.0:
            return x, t, False
        step = 2.0 * d1 * d2 / (2.0 * d2 * d2 - d1 * d3)
        x -= step
        if abs(step) < _RTOL:
            return x, _tof(x, _y(x, ll), ll, m), True
    return x, _tof(x, _y(x, ll), ll, m), False


@njit(cache=True, error_model="numpy")
def _initial_guess(t, ll, m, low_path):
    if m == 0:
        t0 = math.acos(ll) + ll * math.sqrt(1.0 - ll * ll)  # eq. 19
        t1 = 2.0 * (1.0 - ll ** 3) / 3.0  # eq. 21
        if t >= t0:
            return (t0 / t) ** (2.0 / 3.0) - 1.0
        if t < t1:
            return 2.5 * t1 / t * (t1 - t) / (1.0 - ll ** 5) + 1.0
        # Between t1 and t0; the paper's printed expression (30) has a typo, this is the
        # corrected form used by pykep and lamberthub.
        return math.exp(math.log(2.0) * math.log(t / t0) / math.log(t1 / t0)) - 1.0
    a = ((m * math.pi + math.pi) / (8.0 * t)) ** (2.0 / 3.0)
    b = ((8.0 * t) / (m * math.pi)) ** (2.0 / 3.0)
    x_left = (a - 1.0) / (a + 1.0)
    x_right = (b - 1.0) / (b + 1.0)
    return max(x_left, x_right) if low_path else min(x_left, x_right)


@njit(cache=True, error_model="numpy")
def _householder(x, t_target, ll, m):
    """Householder (4th-order) iterations on T(x) = T_target (Izzo 2015, eq. 31)."""
    for _ in range(_MAXITER):
        y = _y(x, ll)
        t = _tof(x, y, ll, m)
        f = t - t_target
        d1, d2, d3 = _dtof(x, y, t, ll)
        step = f * (d1 * d1 - f * d2 / 2.0) / (d1 * (d1 * d1 - f * d2) + d3 * f * f / 6.0)
        x -= step
        if abs(step) < _RTOL:
            return x, True
    return x, False


@njit(cache=True, error_model="numpy")
def _cross(a, b):
    """a x b of two 3-tuples, as numpy's np.cross computes it."""
    return a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]


@njit(cache=True, error_model="numpy")
def _frame(r1, r2, tof, mu, prograde):
    """Geometry of one problem (r1, r2 (3,) km; tof s; mu km^3/s^2): lambda and the non-dimensional
    time of flight T (Izzo 2015, eqs. 2 and 9), |r1|, |r2|, chord, semi-perimeter (km) and the radial
    and transverse unit vectors at both ends, as scalars (no small arrays to allocate per problem).
    lambda is NaN when r1 and r2 are collinear (0 or 180 deg: the orbit plane is undefined)."""
    c0, c1, c2 = r2[0] - r1[0], r2[1] - r1[1], r2[2] - r1[2]
    c = math.sqrt(c0 * c0 + c1 * c1 + c2 * c2)
    n1 = math.sqrt(r1[0] ** 2 + r1[1] ** 2 + r1[2] ** 2)
    n2 = math.sqrt(r2[0] ** 2 + r2[1] ** 2 + r2[2] ** 2)
    s = (n1 + n2 + c) * 0.5
    ir1 = (r1[0] / n1, r1[1] / n1, r1[2] / n1)
    ir2 = (r2[0] / n2, r2[1] / n2, r2[2] / n2)
    ih = _cross(ir1, ir2)
    nh = math.sqrt(ih[0] ** 2 + ih[1] ** 2 + ih[2] ** 2)
    if nh < 1e-12:
        return math.nan, 0.0, n1, n2, c, s, ir1, ir2, ir1, ir2
    ih = (ih[0] / nh, ih[1] / nh, ih[2] / nh)
    ll = math.sqrt(max(0.0, 1.0 - min(1.0, c / s)))
    if ih[2] < 0.0:
        ll = -ll
        it1 = _cross(ir1, ih)
        it2 = _cross(ir2, ih)
    else:
        it1 = _cross(ih, ir1)
        it2 = _cross(ih, ir2)
    if not prograde:
        ll = -ll
        it1 = (-it1[0], -it1[1], -it1[2])
        it2 = (-it2[0], -it2[1], -it2[2])
    t = math.sqrt(2.0 * mu / s ** 3) * tof
    return ll, t, n1, n2, c, s, ir1, ir2, it1, it2


@njit(cache=True, error_model="numpy")
def _max_revs(ll, t):
    """Most revolutions possible for non-dimensional time of flight T (Izzo 2015, sec. 2.2)."""
    m_max = int(math.floor(min(t / math.pi, MAX_REVS + 1.0)))
    t00 = math.acos(ll) + ll * math.sqrt(1.0 - ll * ll)
    if m_max > 0 and t < t00 + m_max * math.pi:
        _, tmin, _ = _t_min(ll, m_max)
        if t < tmin:
            m_max -= 1
    return m_max


@njit(cache=True, error_model="numpy")
def _solve_one(r1, r2, tof, mu, m, prograde, low_path, m_max, v1, v2):
    """One problem: r1, r2 (3,) km; tof s; mu km^3/s^2; ``m_max`` the most revolutions possible
    (:func:`_max_revs`), or -1 to work it out. Writes v1, v2 (km/s); returns a status and
    ``m_max`` (-1 where r1 and r2 are collinear)."""
    if m > m_max >= 0:
        return NO_SOLUTION, m_max
    ll, t, n1, n2, c, s, ir1, ir2, it1, it2 = _frame(r1, r2, tof, mu, prograde)
    if math.isnan(ll):
        return DEGENERATE, m_max
    if m_max < 0:
        m_max = _max_revs(ll, t)
    if m > m_max:
        return NO_SOLUTION, m_max
    x, converged = _householder(_initial_guess(t, ll, m, low_path), t, ll, m)
    if not converged:
        return NOT_CONVERGED, m_max
    y = _y(x, ll)
    gamma = math.sqrt(mu * s / 2.0)
    rho = (n1 - n2) / c
    sigma = math.sqrt(1.0 - rho * rho)
    vr1 = gamma * ((ll * y - x) - rho * (ll * y + x)) / n1
    vr2 = -gamma * ((ll * y - x) + rho * (ll * y + x)) / n2
    vt1 = gamma * sigma * (y + ll * x) / n1
    vt2 = gamma * sigma * (y + ll * x) / n2
    for k in range(3):
        v1[k] = vr1 * ir1[k] + vt1 * it1[k]
        v2[k] = vr2 * ir2[k] + vt2 * it2[k]
    return OK, m_max


@njit(parallel=True, cache=True, error_model="numpy")
def _solve_batch(r1, r2, tof, mu, revs, prograde, low_path, m_max, v1, v2, status):
    """:func:`_solve_one` of every problem; ``m_max`` -1 where unknown, and then filled in (the
    next family's solve reuses it)."""
    for i in prange(tof.shape[0]):
        status[i], m_max[i] = _solve_one(r1[i], r2[i], tof[i], mu, revs[i], prograde[i], low_path[i], m_max[i],
                                         v1[i], v2[i])
        if status[i] != OK:
            for k in range(3):
                v1[i, k] = math.nan
                v2[i, k] = math.nan


@njit(cache=True, error_model="numpy")
def _min_tof(r1, r2, mu, m, prograde):
    """Minimum time of flight (s) of an ``m``-revolution transfer between r1 and r2."""
    c = math.sqrt(((r2 - r1) ** 2).sum())
    n1 = math.sqrt((r1 ** 2).sum())
    n2 = math.sqrt((r2 ** 2).sum())
    s = (n1 + n2 + c) * 0.5
    ll = math.sqrt(max(0.0, 1.0 - min(1.0, c / s)))
    if np.cross(r1, r2)[2] < 0.0:
        ll = -ll
    if not prograde:
        ll = -ll
    if m == 0:
        return 0.0
    _, tmin, _ = _t_min(ll, m)
    return tmin / math.sqrt(2.0 * mu / s ** 3)


def _values(x, unit, name):
    if isinstance(x, u.Quantity):
        x = x.to_value(unit)
    x = np.asarray(x, dtype=float)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must be finite, got {x[~np.isfinite(x)].flat[0]}")
    return x


def _checked(r1, r2, tof, mu):
    """The problems as float arrays in km, s and km^3/s^2, or a ValueError saying what is wrong."""
    r1 = _values(r1, u.km, "r1")
    r2 = _values(r2, u.km, "r2")
    tof = _values(tof, u.s, "tof")
    mu = float(_values(mu, u.km**3 / u.s**2, "mu"))
    if r1.shape[-1:] != (3,) or r2.shape[-1:] != (3,):
        raise ValueError(f"r1 and r2 must have a last axis of length 3, got {r1.shape} and {r2.shape}")
    if mu <= 0:
        raise ValueError(f"mu must be positive, got {mu} km^3/s^2")
    for name, r in (("r1", r1), ("r2", r2)):
        if np.any(np.linalg.norm(r, axis=-1) == 0):
            raise ValueError(f"{name} has zero length; positions are measured from the central body")
    if np.any(tof <= 0):
        bad = tof[tof <= 0].flat[0]
        raise ValueError(f"tof must be positive, got {bad} s")
    return r1, r2, tof, mu


def _flat(a, shape, tail=(), dtype=float) -> np.ndarray:
    """``a`` broadcast to ``shape`` + ``tail`` and laid out as one contiguous run of problems."""
    n = int(np.prod(shape))
    return np.ascontiguousarray(np.broadcast_to(a, shape + tail).reshape((n,) + tail)).astype(dtype)


def _check_revs(revs) -> np.ndarray:
    revs_a = np.asarray(revs)
    if not np.issubdtype(revs_a.dtype, np.integer) or np.any(revs_a < 0) or np.any(revs_a > MAX_REVS):
        raise ValueError(f"revs must be a whole number from 0 to {MAX_REVS:,}, got {revs!r}")
    return revs_a


def _check_flag(flag, name: str) -> np.ndarray:
    flag_a = np.asarray(flag)
    if flag_a.dtype != bool:          # "no" and 2 ran as True, None and 0 as False
        got = repr(flag) if flag_a.ndim == 0 else f"an array of {flag_a.dtype}"
        raise InputError(f"{name} must be True or False (or an array of them), got {got}")
    return flag_a


def solve(r1, r2, tof, mu, *, revs=0, prograde=True, low_path=True):
    """Velocities at both ends of the conic from r1 to r2 in time tof.

    Parameters broadcast against each other: r1, r2 (..., 3) km; tof (...) s;
    mu km^3/s^2 (scalar); revs, prograde, low_path scalars or arrays. Quantities are
    accepted and converted. Returns v1, v2 as (..., 3) arrays in km/s. In a batch, a
    problem with no solution for its ``revs`` gives NaN; a single problem raises
    ValueError saying why.

    >>> v1, v2 = solve([15945.34, 0, 0], [12214.83399, 10249.46731, 0], 76 * 60, 398600.4418)
    >>> v1.round(6)  # Vallado (2013), example 7-5
    array([2.058913, 2.915965, 0.      ])
    """
    r1, r2, tof, mu = _checked(r1, r2, tof, mu)
    revs_a = _check_revs(revs)
    prograde, low_path = _check_flag(prograde, "prograde"), _check_flag(low_path, "low_path")
    shape = np.broadcast_shapes(r1.shape[:-1], r2.shape[:-1], tof.shape, revs_a.shape,
                                prograde.shape, low_path.shape)
    n = int(np.prod(shape))
    r1f, r2f, tf = _flat(r1, shape, (3,)), _flat(r2, shape, (3,)), _flat(tof, shape)
    rv = _flat(revs_a, shape, dtype=np.int64)
    pg = _flat(prograde, shape, dtype=bool)
    lp = _flat(low_path, shape, dtype=bool)
    v1 = np.empty((n, 3))
    v2 = np.empty((n, 3))
    status = np.empty(n, dtype=np.int64)
    _solve_batch(r1f, r2f, tf, mu, rv, pg, lp, np.full(n, -1, dtype=np.int64), v1, v2, status)

    if shape == () and status[0] != OK:
        if status[0] == NO_SOLUTION:
            minimum = _min_tof(r1f[0], r2f[0], mu, int(rv[0]), bool(pg[0]))
            raise ValueError(f"no {rv[0]}-revolution solution for tof={tf[0]:.6g} s; the minimum is "
                             f"{minimum:.6g} s (or use fewer revs)")
        if status[0] == DEGENERATE:
            raise ValueError("r1 and r2 are collinear: the transfer plane is undefined (0 or 180 deg)")
        raise ValueError("Lambert iterations did not converge")
    return v1.reshape(shape + (3,)), v2.reshape(shape + (3,))


def solve_families(r1, r2, tof, mu, families, *, prograde=True):
    """:func:`solve` for each (revs, low_path) in ``families`` on the same batch of problems,
    checked and laid out once: yields (revs, low_path, v1, v2), NaN where a problem has no
    solution of that family.

    >>> [(m, low, v1.shape) for m, low, v1, v2 in solve_families(
    ...     [[1.5e8, 0, 0]], [[0, 1.5e8, 0]], [4e7], 1.327e11, [(0, True), (1, True), (1, False)])]
    [(0, True, (1, 3)), (1, True, (1, 3)), (1, False, (1, 3))]
    """
    r1, r2, tof, mu = _checked(r1, r2, tof, mu)
    prograde = _check_flag(prograde, "prograde")
    shape = np.broadcast_shapes(r1.shape[:-1], r2.shape[:-1], tof.shape, prograde.shape)
    n = int(np.prod(shape))
    r1f, r2f, tf = _flat(r1, shape, (3,)), _flat(r2, shape, (3,)), _flat(tof, shape)
    pg = _flat(prograde, shape, dtype=bool)
    status = np.empty(n, dtype=np.int64)
    m_max = np.full(n, -1, dtype=np.int64)              # the first family's solve works it out for the rest
    for revs, low_path in families:
        revs, low_path = int(_check_revs(revs)), bool(_check_flag(low_path, "low_path"))
        v1, v2 = np.empty((n, 3)), np.empty((n, 3))
        _solve_batch(r1f, r2f, tf, mu, np.full(n, revs, dtype=np.int64), pg, np.full(n, low_path), m_max,
                     v1, v2, status)
        yield revs, low_path, v1.reshape(shape + (3,)), v2.reshape(shape + (3,))

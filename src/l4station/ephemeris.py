"""Sun, planets, Moon and the Sun–EMB Lagrange points from JPL DE421, offline.

DE421 (Folkner, Williams & Boggs 2008, JPL IOM 343R-08-003) ships inside the
``skyfield-data`` wheel, so positions need no download. It covers 1899-07-29 to
2053-10-09 (TDB).

Frames
------
``"icrf"``
    The ephemeris' own axes (ICRF, equatorial).
``"ecliptic"``
    Ecliptic and mean equinox of J2000 as JPL Horizons and SPICE define it
    (``ECLIPJ2000``): the ICRF rotated about +x by the IAU 1976 obliquity
    84381.448 arcsec. Horizons' "Ecliptic of J2000.0" vectors are in this frame.

Every function broadcasts over the shape of ``time`` and returns ``(..., 3)``
Quantities in km and km/s.
"""
from __future__ import annotations

import functools
import math
from importlib import resources

import astropy.units as u
import numpy as np
from astropy.time import Time
from jplephem.spk import SPK

from l4station.constants import DAY_S, LAGRANGE_AHEAD_DEG
from l4station.errors import InputError

OBLIQUITY_J2000 = (84381.448 * u.arcsec).to(u.rad)
"""IAU 1976 obliquity of the ecliptic at J2000, used by JPL for ECLIPJ2000."""

GM_SUN = 132712440040.944 * u.km**3 / u.s**2
"""Heliocentric gravitational constant of DE421 (Folkner et al. 2008, table 4)."""

GM_EMB = 403503.235502 * u.km**3 / u.s**2
"""GM of the Earth–Moon system in DE421 (Folkner et al. 2008, table 4)."""

SUN_EMB_MASS_RATIO = float(GM_EMB / (GM_SUN + GM_EMB))
"""mu = m_EMB / (m_Sun + m_EMB) of the Sun–EMB restricted problem (3.0404e-6)."""

FRAMES = ("ecliptic", "icrf")

# Each body as the chain of DE421 segments (center, target) from the solar-system barycentre.
_CHAINS = {
    "ssb": (),
    "sun": ((0, 10),),
    "mercury": ((0, 1), (1, 199)),
    "venus": ((0, 2), (2, 299)),
    "emb": ((0, 3),),
    "earth": ((0, 3), (3, 399)),
    "moon": ((0, 3), (3, 301)),
    "mars": ((0, 4), (4, 499)),
    "jupiter": ((0, 5),),
    "saturn": ((0, 6),),
    "uranus": ((0, 7),),
    "neptune": ((0, 8),),
    "pluto": ((0, 9),),
}
BODIES = tuple(_CHAINS)
"""Bodies known to :func:`posvel`; the outer planets and Pluto are their system barycentres."""

LAGRANGE_POINTS = ("L1", "L2", "L3", "L4", "L5")

_SECONDS_PER_DAY = DAY_S


class EphemerisRangeError(InputError):
    """A time outside the ephemeris; ``start`` and ``stop`` carry the covered span."""

    def __init__(self, message: str, start: Time, stop: Time):
        super().__init__(message)
        self.start = start
        self.stop = stop

    def __reduce__(self):            # raised in a worker process, it crosses back whole
        return type(self), (str(self), self.start, self.stop)


def _collinear_balance(x: float, mu: float) -> float:
    """Net rotating-frame force on the x axis, dOmega/dx (Szebehely 1967, eq. 4.3)."""
    r1 = x + mu
    r2 = x - 1.0 + mu
    return x - (1.0 - mu) * r1 / abs(r1) ** 3 - mu * r2 / abs(r2) ** 3


def _brent(f, a: float, b: float, args: tuple, *, xtol: float, rtol: float, maxiter: int = 100) -> float:
    """Root of f(x, *args) in [a, b] by Brent's method (Brent 1973, *Algorithms for Minimization
    without Derivatives*, ch. 4), step for step as scipy's ``brentq`` (its brentq.c): the same
    root to the last bit, without loading scipy.optimize (0.5 s)."""
    xpre, xcur = a, b
    xblk = fblk = spre = scur = 0.0
    fpre, fcur = f(xpre, *args), f(xcur, *args)
    if fpre == 0:
        return xpre
    if fcur == 0:
        return xcur
    if math.copysign(1.0, fpre) == math.copysign(1.0, fcur):
        raise ValueError(f"f({a}) and f({b}) have the same sign: no root is bracketed")
    for _ in range(maxiter):
        if fpre != 0 and fcur != 0 and math.copysign(1.0, fpre) != math.copysign(1.0, fcur):
            xblk, fblk = xpre, fpre
            spre = scur = xcur - xpre
        if abs(fblk) < abs(fcur):                 # keep the better end in xcur
            xpre, xcur, xblk = xcur, xblk, xcur
            fpre, fcur, fblk = fcur, fblk, fcur
        delta = (xtol + rtol * abs(xcur)) / 2
        sbis = (xblk - xcur) / 2
        if fcur == 0 or abs(sbis) < delta:
            return xcur
        if abs(spre) > delta and abs(fcur) < abs(fpre):
            if xpre == xblk:                      # secant
                stry = -fcur * (xcur - xpre) / (fcur - fpre)
            else:                                 # inverse quadratic interpolation
                dpre = (fpre - fcur) / (xpre - xcur)
                dblk = (fblk - fcur) / (xblk - xcur)
                stry = -fcur * (fblk * dblk - fpre * dpre) / (dblk * dpre * (fblk - fpre))
            if 2 * abs(stry) < min(abs(spre), 3 * abs(sbis) - delta):
                spre, scur = scur, stry
            else:
                spre = scur = sbis
        else:
            spre = scur = sbis
        xpre, fpre = xcur, fcur
        xcur += scur if abs(scur) > delta else (delta if sbis > 0 else -delta)
        fcur = f(xcur, *args)
    raise RuntimeError(f"Brent's method did not converge in {maxiter} iterations")


def lagrange_points(mu: float) -> np.ndarray:
    """The five equilibrium points L1..L5 as a (5, 3) array of rotating-frame positions.

    L1 lies between the primaries, L2 beyond the secondary, L3 beyond the
    primary; each is the single root of the collinear force balance in its
    interval (Brent's method to machine precision). L4 and L5 are the vertices of
    the equilateral triangles on the primaries, L4 leading the secondary (+y).

    >>> lagrange_points(0.012150585)[:2, 0].round(6)  # Earth–Moon L1, L2
    array([0.836915, 1.155682])
    """
    if not 0.0 < mu <= 0.5:
        raise ValueError(f"mass ratio mu must be in (0, 0.5], got {mu}")
    eps = 1e-12
    brackets = {
        "L1": (-mu + eps, 1.0 - mu - eps),
        "L2": (1.0 - mu + eps, 2.0),
        "L3": (-2.0, -mu - eps),
    }
    x = [_brent(_collinear_balance, a, b, (mu,), xtol=1e-15, rtol=4 * np.finfo(float).eps)
         for a, b in brackets.values()]
    half_height = np.sqrt(3.0) / 2.0
    return np.array([
        [x[0], 0.0, 0.0],
        [x[1], 0.0, 0.0],
        [x[2], 0.0, 0.0],
        [0.5 - mu, half_height, 0.0],
        [0.5 - mu, -half_height, 0.0],
    ])


@functools.cache
def _kernel() -> SPK:
    path = resources.files("skyfield_data") / "data" / "de421.bsp"
    return SPK.open(str(path))


def reopen() -> None:
    """Open the kernel afresh on next use. Call it first thing in a forked worker process:
    jplephem reads segments lazily through a file whose offset a fork shares (the segments
    already read into memory stay: they are the same numbers)."""
    _kernel.cache_clear()


@functools.cache
def coverage() -> tuple[Time, Time]:
    """First and last instants (TDB) covered by the shipped DE421 kernel."""
    segment = _kernel().pairs[(0, 3)]
    return (Time(segment.start_jd, format="jd", scale="tdb"),
            Time(segment.end_jd, format="jd", scale="tdb"))


_DTDB_NODE_DAYS = 0.5
"""Spacing of the nodes TDB-TT is interpolated on for long TT arrays (:func:`_tt_to_tdb`)."""


def _tt_to_tdb(jd1: np.ndarray, jd2: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """TDB of many TT instants: TDB-TT (``erfa.dtdb``, geocentric, as astropy computes it for a Time
    without a location) on nodes every ``_DTDB_NODE_DAYS``, interpolated linearly; within 20 ns of
    the series at every instant (1 mm of Earth's motion) at a tenth of its cost. None when the
    instants are too few or too spread for the nodes to save work."""
    import erfa

    ref = float(np.ravel(jd1)[0])
    offset = (jd1 - ref) + jd2
    low, high = float(offset.min()), float(offset.max())
    if not np.size(offset) > 4 * ((high - low) / _DTDB_NODE_DAYS + 3):
        return None
    nodes = np.arange(low - _DTDB_NODE_DAYS, high + 2 * _DTDB_NODE_DAYS, _DTDB_NODE_DAYS)
    dtdb_s = np.interp(offset, nodes, erfa.dtdb(ref, nodes, 0.0, 0.0, 0.0, 0.0))
    return jd1, jd2 + dtdb_s / _SECONDS_PER_DAY


def tdb_jd(time: Time) -> tuple[np.ndarray, np.ndarray]:
    """Two-part TDB Julian date of ``time`` (long TT arrays through :func:`_tt_to_tdb`), checked
    against the kernel's span."""
    if not isinstance(time, Time):
        raise TypeError(f"time must be an astropy Time, got {type(time).__name__}")
    fast = _tt_to_tdb(np.asarray(time.jd1, float), np.asarray(time.jd2, float)) if (
        time.scale == "tt" and time.location is None and time.size > 1) else None
    if fast is None:
        tdb = time.tdb
        fast = np.asarray(tdb.jd1, float), np.asarray(tdb.jd2, float)
    jd1, jd2 = fast
    start, stop = coverage()
    jd = jd1 + jd2
    if np.any(jd < start.jd) or np.any(jd > stop.jd):
        worst = Time(jd.min() if np.any(jd < start.jd) else jd.max(), format="jd", scale="tdb")
        raise EphemerisRangeError(
            f"time {worst.utc.isot[:10]} is outside DE421's span "
            f"{start.utc.isot[:10]} .. {stop.utc.isot[:10]}; choose epochs inside it",
            start, stop)
    return jd1, jd2


_SEGMENTS: dict = {}
"""Coefficients of each DE421 segment used, read into memory once (:func:`l4station.spk.coefficients`)."""


def _ssb_state(body: str, jd1: np.ndarray, jd2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Barycentric ICRF state of ``body``: position (..., 3) km, velocity (..., 3) km/s. Each
    segment of its chain is evaluated by :func:`l4station.spk.add_state`, jplephem's own
    arithmetic compiled (jplephem itself for a segment of another type or a date outside)."""
    from l4station import spk

    shape = np.shape(jd1)
    # Writable copies: a read-only array (astropy's) would make numba compile the kernel again.
    flat1, flat2 = np.array(jd1, np.float64).ravel(), np.array(jd2, np.float64).ravel()
    position = np.zeros((flat1.size, 3))
    velocity = np.zeros((flat1.size, 3))
    kernel = _kernel()
    for pair in _CHAINS[body]:
        if pair not in _SEGMENTS:
            _SEGMENTS[pair] = spk.coefficients(kernel[pair])
        table = _SEGMENTS[pair]
        if table is None or not spk.add_state(*table, flat1, flat2, position, velocity):
            p, v = kernel[pair].compute_and_differentiate(flat1, flat2)   # raises if out of range
            position += p.T
            velocity += v.T
    velocity /= _SECONDS_PER_DAY
    return position.reshape(shape + (3,)), velocity.reshape(shape + (3,))


def _check_choice(name: str, value: str, known: tuple[str, ...]) -> str:
    """The canonical spelling of ``value`` among ``known`` (case-insensitive), or a ValueError."""
    canonical = {k.lower(): k for k in known}.get(str(value).lower())
    if canonical is None:
        raise ValueError(f"unknown {name} {value!r}; known: {', '.join(known)}")
    return canonical


def icrf_to_ecliptic(vectors: np.ndarray) -> np.ndarray:
    """Rotate (..., 3) ICRF vectors into ECLIPJ2000 (rotation about +x by the J2000 obliquity)."""
    eps = OBLIQUITY_J2000.value
    c, s = np.cos(eps), np.sin(eps)
    x, y, z = np.moveaxis(np.asarray(vectors), -1, 0)
    return np.stack([x, c * y + s * z, -s * y + c * z], axis=-1)


def _state(body: str, time: Time, center: str, frame: str) -> tuple[np.ndarray, np.ndarray]:
    body = _check_choice("body", body, BODIES)
    center = _check_choice("center", center, BODIES)
    frame = _check_choice("frame", frame, FRAMES)
    jd1, jd2 = tdb_jd(time)
    r, v = _ssb_state(body, jd1, jd2)
    r0, v0 = _ssb_state(center, jd1, jd2)
    r, v = r - r0, v - v0
    if frame == "ecliptic":
        r, v = icrf_to_ecliptic(r), icrf_to_ecliptic(v)
    return r, v


def posvel(body: str, time: Time, *, center: str = "sun", frame: str = "ecliptic"):
    """Geometric position (km) and velocity (km/s) of ``body`` relative to ``center``.

    No light-time or aberration correction: these are the "GEOMETRIC cartesian
    states" of JPL Horizons. Default: heliocentric, ecliptic J2000.

    >>> r, v = posvel("earth", Time("2020-01-01 12:00", scale="tdb"))
    >>> r.to(u.au).round(4)
    <Quantity [-0.175 ,  0.9676, -0.    ] AU>
    """
    r, v = _state(body, time, center, frame)
    return r * u.km, v * (u.km / u.s)


def position(body: str, time: Time, *, center: str = "sun", frame: str = "ecliptic"):
    """Geometric position (km) of ``body`` relative to ``center``; see :func:`posvel`."""
    return posvel(body, time, center=center, frame=frame)[0]


def _rotate(vectors: np.ndarray, axis: np.ndarray, angle: float) -> np.ndarray:
    """Rodrigues rotation of (..., 3) vectors about unit (..., 3) axes by ``angle`` rad."""
    c, s = np.cos(angle), np.sin(angle)
    dot = np.sum(axis * vectors, axis=-1, keepdims=True)
    return vectors * c + np.cross(axis, vectors) * s + axis * dot * (1.0 - c)


def lagrange_point(point: str, time: Time, *, frame: str = "ecliptic", center: str = "sun"):
    """Position (km) and velocity (km/s) of a Sun–EMB Lagrange point relative to ``center``
    (default the Sun; "ssb" gives the barycentric state a propagation starts from).

    L4 and L5 are the equilateral points of the Sun and the Earth–Moon
    barycentre (Lagrange 1772; Murray & Dermott 1999, sec. 3.5): the EMB's
    heliocentric vector turned by +60° (L4, ahead of Earth) or -60° (L5) about the
    normal of the instantaneous Sun–EMB orbit. L1, L2 and L3 lie on the Sun–EMB
    line at the circular-problem distances
    (:func:`lagrange_points`) scaled to the instantaneous
    separation. The velocity is the EMB's turned the same way,
    which neglects the slow precession of the orbit normal.

    >>> r, v = lagrange_point("L4", Time("2030-01-01", scale="tdb"))
    """
    point = _check_choice("point", point, LAGRANGE_POINTS)
    frame = _check_choice("frame", frame, FRAMES)
    r, v = _state("emb", time, "sun", frame)
    if point in ("L4", "L5"):
        normal = np.cross(r, v)
        normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
        angle = np.deg2rad(LAGRANGE_AHEAD_DEG[point])
        r, v = _rotate(r, normal, angle), _rotate(v, normal, angle)
    else:
        # Rotating-frame x of the point with the Sun at -mu: its heliocentric distance is x + mu.
        scale = lagrange_points(SUN_EMB_MASS_RATIO)[LAGRANGE_POINTS.index(point), 0] + SUN_EMB_MASS_RATIO
        r, v = r * scale, v * scale
    if center != "sun":
        r0, v0 = _state("sun", time, center, frame)  # the Sun relative to the requested centre
        r, v = r + r0, v + v0
    return r * u.km, v * (u.km / u.s)

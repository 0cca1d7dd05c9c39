"""Circular restricted three-body problem (CR3BP) in the rotating, normalised frame.

Units: the primaries' separation is 1, their mean motion is 1, the primary (mass
1 - mu) sits at x = -mu and the secondary (mass mu) at x = 1 - mu
(Szebehely 1967, *Theory of Orbits*, ch. 1; Koon, Lo, Marsden & Ross 2011, sec. 2.3).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from l4station.ephemeris import lagrange_points  # noqa: F401 - the model's equilibria, defined at the bottom layer


@njit(cache=True)
def _eom(t, state, mu):
    x, y, z, vx, vy, vz = state
    r1 = math.sqrt((x + mu) ** 2 + y * y + z * z)
    r2 = math.sqrt((x - 1.0 + mu) ** 2 + y * y + z * z)
    k1 = (1.0 - mu) / r1 ** 3
    k2 = mu / r2 ** 3
    out = np.empty(6)
    out[0], out[1], out[2] = vx, vy, vz
    out[3] = 2.0 * vy + x - k1 * (x + mu) - k2 * (x - 1.0 + mu)
    out[4] = -2.0 * vx + y - k1 * y - k2 * y
    out[5] = -k1 * z - k2 * z
    return out


def equations_of_motion(t, state, mu):
    """Time derivative of the rotating-frame state (x, y, z, vx, vy, vz) (Szebehely 1967, eq. 1.9)."""
    return _eom(t, np.asarray(state, dtype=float), mu)


def jacobi_constant(state, mu):
    """C = 2 Omega - v^2, Omega = (x^2 + y^2)/2 + (1-mu)/r1 + mu/r2 (Szebehely 1967, eq. 1.33).

    Broadcasts over (..., 6) states.
    """
    s = np.asarray(state, dtype=float)
    x, y, z = s[..., 0], s[..., 1], s[..., 2]
    r1 = np.sqrt((x + mu) ** 2 + y ** 2 + z ** 2)
    r2 = np.sqrt((x - 1 + mu) ** 2 + y ** 2 + z ** 2)
    omega = 0.5 * (x ** 2 + y ** 2) + (1 - mu) / r1 + mu / r2
    return 2 * omega - np.sum(s[..., 3:] ** 2, axis=-1)


def propagate(state, duration, mu, *, rtol=1e-12, atol=1e-12, samples=None):
    """Integrate the CR3BP with DOP853 for ``duration`` (normalised time: 2 pi = one period).

    Returns (t, states (N, 6)); ``samples`` evenly spaced outputs, else the solver's steps.
    """
    from scipy.integrate import solve_ivp   # here, not on import: scipy.integrate takes 0.3 s to load

    t_eval = None if samples is None else np.linspace(0.0, duration, samples)
    sol = solve_ivp(_eom, (0.0, duration), np.asarray(state, dtype=float), method="DOP853",
                    args=(mu,), rtol=rtol, atol=atol, t_eval=t_eval)
    if not sol.success:
        raise RuntimeError(f"CR3BP integration failed: {sol.message}")
    return sol.t, sol.y.T


@dataclass(frozen=True)
class TriangularStability:
    """Linear stability of L4/L5: eigenvalues and libration periods (normalised units)."""

    mu: float
    eigenvalues: np.ndarray   # (4,) complex, of the planar linearised system
    omega_short: float        # rad per unit time (near 1: the epicycle)
    omega_long: float         # rad per unit time (sqrt(27 mu / 4) for small mu: the tadpole)

    @property
    def stable(self) -> bool:
        """Linearly stable below Routh's critical mass ratio 0.0385 (all eigenvalues imaginary)."""
        return bool(np.all(np.abs(self.eigenvalues.real) < 1e-12))

    @property
    def period_short(self) -> float:
        return 2 * np.pi / self.omega_short

    @property
    def period_long(self) -> float:
        return 2 * np.pi / self.omega_long


def triangular_stability(mu: float) -> TriangularStability:
    """Eigenvalues of the linearised motion about L4 (or L5).

    Characteristic equation lambda^4 + lambda^2 + (27/4) mu (1 - mu) = 0
    (Murray & Dermott 1999, *Solar System Dynamics*, eq. 3.143; Szebehely 1967, sec. 5.4):
    two pairs of imaginary roots while 27 mu (1 - mu) < 1 (Routh 1875), the short
    (epicyclic, about one orbital period) and long (tadpole, 2 pi / sqrt(27 mu / 4))
    libration frequencies. Periods are in normalised time (2 pi = one orbital period).

    >>> s = triangular_stability(3.0404234e-6)   # Sun-EMB
    >>> round(s.period_long / (2 * np.pi), 1)     # years
    220.7
    """
    disc = 1.0 - 27.0 * mu * (1.0 - mu)
    lam2 = np.array([(-1 + np.sqrt(complex(disc))) / 2, (-1 - np.sqrt(complex(disc))) / 2])
    lam = np.concatenate([np.sqrt(lam2), -np.sqrt(lam2)])
    omegas = np.sort(np.abs(np.sqrt(lam2).imag))
    return TriangularStability(mu, lam, omega_short=float(omegas[1]), omega_long=float(omegas[0]))


def tadpole_amplitude(dv_along: float, mu: float) -> float:
    """Half-width (rad) of the tadpole libration excited by an along-track speed error.

    ``dv_along`` is the error as a fraction of the orbital speed (dv / v). Linear theory
    about L4 (Murray & Dermott 1999, sec. 3.8): the speed error changes the semi-major
    axis by da/a = 2 dv/v, which drifts the longitude at -(3/2) n da/a; the long-period
    mode of frequency n sqrt(27 mu / 4) turns that drift into an oscillation of
    half-width (3/2)(da/a) / sqrt(27 mu / 4) = (2 / sqrt(3)) (dv/v) / sqrt(mu).
    """
    return 2.0 / np.sqrt(3.0) * abs(dv_along) / np.sqrt(mu)


def libration_from_insertion(dv_along: float, mu: float, *, periods_long: float = 1.0, samples: int = 20000):
    """Integrate the CR3BP from L4 with an along-track velocity error; returns
    (t, angle from L4 in rad, as seen from the primary) over ``periods_long`` long periods."""
    l4 = lagrange_points(mu)[3]
    r_from_primary = l4[:2] - np.array([-mu, 0.0])
    along = np.array([-r_from_primary[1], r_from_primary[0]]) / np.linalg.norm(r_from_primary)
    speed = np.linalg.norm(r_from_primary)  # inertial speed at L4 is |omega x r| with omega = 1
    state = np.array([l4[0], l4[1], 0.0, *(dv_along * speed * along), 0.0])
    duration = periods_long * triangular_stability(mu).period_long
    t, states = propagate(state, duration, mu, rtol=1e-11, atol=1e-13, samples=samples)
    angle = np.arctan2(states[:, 1], states[:, 0] + mu) - np.arctan2(r_from_primary[1], r_from_primary[0])
    return t, angle

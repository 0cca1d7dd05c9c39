"""Circular restricted three-body problem (CR3BP) in the rotating, normalised frame.

Units: the primaries' separation is 1, their mean motion is 1, the primary (mass
1 - mu) sits at x = -mu and the secondary (mass mu) at x = 1 - mu
(Szebehely 1967, *Theory of Orbits*, ch. 1; Koon, Lo, Marsden & Ross 2011, sec. 2.3).
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import brentq


def _collinear_balance(x: float, mu: float) -> float:
    """Net rotating-frame force on the x axis, dOmega/dx (Szebehely 1967, eq. 4.3)."""
    r1 = x + mu
    r2 = x - 1.0 + mu
    return x - (1.0 - mu) * r1 / abs(r1) ** 3 - mu * r2 / abs(r2) ** 3


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
    x = [brentq(_collinear_balance, a, b, args=(mu,), xtol=1e-15, rtol=4 * np.finfo(float).eps)
         for a, b in brackets.values()]
    half_height = np.sqrt(3.0) / 2.0
    return np.array([
        [x[0], 0.0, 0.0],
        [x[1], 0.0, 0.0],
        [x[2], 0.0, 0.0],
        [0.5 - mu, half_height, 0.0],
        [0.5 - mu, -half_height, 0.0],
    ])

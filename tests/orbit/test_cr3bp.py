"""CR3BP equilibrium points: equilibria of the rotating-frame force, exact triangle points."""
import numpy as np
import pytest

from l4station.orbit.cr3bp import _collinear_balance, lagrange_points


@pytest.mark.parametrize("mu", [3.0404e-6, 9.537e-4, 0.012150585, 0.5])
def test_points_are_equilibria(mu):
    # Mass ratios of Sun-EMB, Sun-Jupiter and Earth-Moon, and the symmetric limit.
    points = lagrange_points(mu)
    for x in points[:3, 0]:
        assert abs(_collinear_balance(x, mu)) < 1e-12
    assert points[0, 0] < 1 - mu < points[1, 0] and points[2, 0] < -mu
    for p in points[3:]:
        # Equilateral: unit distance from both primaries (Murray & Dermott 1999, sec. 3.5).
        assert np.hypot(p[0] + mu, p[1]) == pytest.approx(1.0, abs=1e-15)
        assert np.hypot(p[0] - 1 + mu, p[1]) == pytest.approx(1.0, abs=1e-15)
    assert points[3, 1] > 0 > points[4, 1]


def test_rejects_impossible_mass_ratio():
    with pytest.raises(ValueError, match=r"mass ratio mu must be in \(0, 0.5\], got 0.7"):
        lagrange_points(0.7)

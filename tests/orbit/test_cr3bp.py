"""CR3BP equilibrium points: equilibria of the rotating-frame force, exact triangle points."""
import numpy as np
import pytest

from l4station.ephemeris import _collinear_balance
from l4station.orbit.cr3bp import lagrange_points


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


from l4station.orbit.cr3bp import (jacobi_constant, libration_from_insertion, propagate,
                                   tadpole_amplitude, triangular_stability)
from l4station.orbit.cr3bp import equations_of_motion

MU_SUN_EMB = 3.0404234e-6        # DE421 GM_EMB / (GM_Sun + GM_EMB)
MU_SUN_EARTH = 3.0034896e-6      # Earth alone (IAU 2009 GM_Earth / GM_Sun)


def test_libration_periods_at_sun_earth_l4():
    # The long (tadpole) libration is 2 pi / sqrt(27 mu / 4) orbits: about 222 years for the
    # Sun-Earth pair (Murray & Dermott 1999, eq. 3.151), and the short one
    # about one year.
    earth = triangular_stability(MU_SUN_EARTH)
    assert earth.period_long / (2 * np.pi) == pytest.approx(222.1, abs=0.3)
    emb = triangular_stability(MU_SUN_EMB)
    assert emb.period_long / (2 * np.pi) == pytest.approx(220.7, abs=0.3)
    assert emb.period_short / (2 * np.pi) == pytest.approx(1.0, abs=1e-4)
    assert emb.stable


def test_routh_critical_mass_ratio():
    # Routh (1875): L4 is linearly stable only for mu < 0.0385208965 (27 mu (1 - mu) < 1).
    assert triangular_stability(0.0385).stable
    assert not triangular_stability(0.0386).stable


def test_eigenvalues_match_the_numerical_jacobian():
    mu = 0.0121505856
    l4 = lagrange_points(mu)[3]
    state = np.array([l4[0], l4[1], 0.0, 0.0, 0.0, 0.0])
    jac = np.empty((6, 6))
    for k in range(6):
        d = np.zeros(6)
        d[k] = 1e-7
        jac[:, k] = (equations_of_motion(0, state + d, mu) - equations_of_motion(0, state - d, mu)) / 2e-7
    planar = jac[np.ix_([0, 1, 3, 4], [0, 1, 3, 4])]
    numeric = np.sort(np.abs(np.linalg.eigvals(planar).imag))
    analytic = np.sort(np.abs(triangular_stability(mu).eigenvalues.imag))
    assert np.allclose(numeric, analytic, atol=1e-6)


def test_jacobi_constant_is_conserved():
    mu = 0.0121505856
    l1 = lagrange_points(mu)[0]
    _, states = propagate([l1[0] - 0.01, 0, 0.005, 0, 0.02, 0], 10.0, mu)
    c = jacobi_constant(states, mu)
    assert np.ptp(c) < 1e-10  # DOP853 at rtol 1e-12 over ~1.6 orbits of the Moon


@pytest.mark.slow
def test_tadpole_amplitude_linear_theory_against_integration():
    # 1 m/s along-track insertion error at Sun-EMB L4 (orbital speed 29.78 km/s).
    dv = 1e-3 / 29.78
    _, angle = libration_from_insertion(dv, MU_SUN_EMB)
    numeric = np.max(np.abs(angle))
    assert numeric == pytest.approx(tadpole_amplitude(dv, MU_SUN_EMB), rel=0.03)
    assert np.degrees(numeric) == pytest.approx(1.29, abs=0.03)

"""Universal-variable propagation against textbook examples and numerical integration."""
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from l4station.orbit.kepler import propagate


def test_vallado_example_2_4():
    # Vallado (2013), example 2-4 (KEPLER), mu = 398600.4418, 40 min:
    # r = -4219.7527 i + 4363.0292 j - 3958.7666 k km; v = 3.689866 i - 1.916735 j - 6.112511 k km/s.
    r, v = propagate([1131.340, -2282.343, 6672.423], [-5.64305, 4.30333, 2.42879], 40 * 60.0, 398600.4418)
    assert np.allclose(r, [-4219.7527, 4363.0292, -3958.7666], atol=1e-4)  # km, the printed digits
    assert np.allclose(v, [3.689866, -1.916735, -6.112511], atol=1e-6)  # km/s


def test_curtis_example_3_7():
    # Curtis (2020), example 3.7 (mu = 398600), 60 min: r = -3297.8 i + 7413.4 j km.
    r, _ = propagate([7000, -12124, 0], [2.6679, 4.6210, 0], 3600.0, 398600.0)
    assert np.allclose(r, [-3297.8, 7413.4, 0.0], atol=0.05)


def _two_body(t, y, mu):
    r = y[:3]
    return np.concatenate([y[3:], -mu * r / np.linalg.norm(r) ** 3])


@pytest.mark.parametrize("v0", [[0.0, 7.5, 1.0], [0.0, 10.9, 0.5], [0.0, 13.0, 2.0]],
                         ids=["ellipse", "near-parabola", "hyperbola"])
def test_agrees_with_numerical_integration(v0):
    r0, mu, dt = np.array([7000.0, 0, 0]), 398600.0, 20000.0
    sol = solve_ivp(_two_body, (0, dt), np.concatenate([r0, v0]), method="DOP853", rtol=1e-13, atol=1e-9, args=(mu,))
    r, v = propagate(r0, v0, dt, mu)
    assert np.linalg.norm(r - sol.y[:3, -1]) < 1e-4  # km
    assert np.linalg.norm(v - sol.y[3:, -1]) < 1e-8  # km/s


def test_batch_and_backwards():
    r0 = np.array([[7000.0, 0, 0], [0, 9000.0, 0]])
    v0 = np.array([[0, 7.5, 0], [-6.5, 0, 1.0]])
    dt = np.array([[1000.0], [5000.0], [-3000.0]])  # (3, 1) against (2,) states -> (3, 2)
    r, v = propagate(r0, v0, dt, 398600.0)
    assert r.shape == (3, 2, 3)
    back, _ = propagate(r[1], v[1], -dt[1], 398600.0)
    assert np.allclose(back, r0, atol=1e-6)

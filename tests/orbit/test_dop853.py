"""The compiled DOP853 held to scipy's solve_ivp(method="DOP853"), whose steps it takes
(Hairer, Nørsett & Wanner 1993, sec. II.10): the same full-force right-hand side flown by both."""
import numpy as np
import pytest
from astropy.time import Time
from scipy.integrate import solve_ivp

from l4station import ephemeris
from l4station.orbit import propagation
from l4station.orbit.propagation import ForceModel, propagate


def _scipy(r0, v0, epoch, duration, model, t_eval, rtol, atol=1e-6):
    """The same flight through scipy's solve_ivp, as propagate flew it before it was compiled."""
    sign = 1.0 if duration >= 0 else -1.0
    margin = 2 * propagation._NODE_STEP_S
    n_nodes = int(np.ceil((abs(duration) + 2 * margin) / propagation._NODE_STEP_S)) + 1
    t_first = -margin if sign > 0 else -(abs(duration) + margin)
    tdb = epoch.tdb
    nodes = propagation._body_table(model.bodies, float(tdb.jd1), float(tdb.jd2), t_first, n_nodes)
    gms = np.array([propagation.GM[b] for b in model.bodies])
    srp = propagation.SOLAR_PRESSURE_1AU * model.cr_area_over_mass / 1000.0
    args = (*nodes, t_first, propagation._NODE_STEP_S, gms, model.bodies.index("sun"), srp, np.empty(3))

    def rhs(t, y):
        out = np.empty(6)
        propagation._derivative(t, y, *args, out)
        return out
    sol = solve_ivp(rhs, (0.0, duration), np.concatenate([r0, v0]), method="DOP853", rtol=rtol, atol=atol,
                    t_eval=t_eval)
    return sol.t, sol.y.T


@pytest.mark.parametrize("days, samples, rtol", [(700.0, 9, 1e-10), (-300.0, 50, 1e-9), (1.0, 1, 1e-11)])
def test_flies_as_scipy_dop853(days, samples, rtol):
    # A departure 3 million km from Earth with 1 km/s of excess, in the full-force model. The two
    # differ only in the order the stages are summed (numpy's BLAS against compiled loops): a
    # rounding-level difference that the step-size control carries, measured <= 0.1 m.
    epoch = Time("2029-03-01", scale="tdb")
    r, v = (x.value for x in ephemeris.posvel("earth", epoch, center="ssb", frame="icrf"))
    r, v = r + np.array([3e6, 0.0, 0.0]), v + np.array([0.3, -0.9, 0.2])
    model = ForceModel(cr_area_over_mass=0.013)
    duration = days * 86400.0
    t_eval = np.linspace(0.0, duration, samples + 1)[1:]
    ours = propagate(r, v, epoch, duration, model=model, t_eval=t_eval, rtol=rtol)
    t, states = _scipy(r, v, epoch, duration, model, t_eval, rtol)
    assert np.array_equal(ours.t_s, t)
    assert np.max(np.abs(ours.position - states[:, :3])) < 1e-3        # km
    assert np.max(np.abs(ours.velocity - states[:, 3:])) < 1e-9        # km/s


def test_steps_without_t_eval_end_on_the_duration():
    epoch = Time("2031-01-01", scale="tdb")
    r, v = (x.value for x in ephemeris.posvel("mars", epoch, center="ssb", frame="icrf"))
    model = ForceModel(bodies=("sun", "jupiter"))
    steps = propagate(r, v, epoch, 90 * 86400.0, model=model)
    end = propagate(r, v, epoch, 90 * 86400.0, model=model, t_eval=[90 * 86400.0])
    assert steps.t_s[0] == 0.0 and steps.t_s[-1] == 90 * 86400.0 and np.all(np.diff(steps.t_s) > 0)
    assert np.allclose(steps.position[-1], end.position[-1], rtol=0, atol=1e-6)   # km
    assert steps.time.shape == steps.t_s.shape


def test_t_eval_outside_the_flight_is_refused():
    epoch = Time("2031-01-01", scale="tdb")
    r, v = (x.value for x in ephemeris.posvel("mars", epoch, center="ssb", frame="icrf"))
    with pytest.raises(ValueError, match="t_eval must lie between 0 and duration_s"):
        propagate(r, v, epoch, 86400.0, t_eval=[2 * 86400.0], model=ForceModel(bodies=("sun",)))
    with pytest.raises(ValueError, match="direction of flight"):
        propagate(r, v, epoch, -86400.0, t_eval=[-86400.0, -3600.0], model=ForceModel(bodies=("sun",)))

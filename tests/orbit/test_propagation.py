"""Full-force propagator held to JPL DE421 itself: planets flown as test particles."""
import numpy as np
import pytest
from astropy.time import Time

from l4station import ephemeris
from l4station.orbit.propagation import BODIES, SOLAR_PRESSURE_1AU, ForceModel, propagate


@pytest.mark.parametrize("planet", ["mars", "venus"])
def test_planet_as_test_particle_follows_de421(planet):
    # DE421 integrates the planets with relativistic point-mass dynamics plus 343 asteroids
    # (Folkner et al. 2008). Flying a planet from its DE421 state with the other bodies and the
    # Sun's Schwarzschild term reproduces DE421 to 0.5 km over two years; the asteroids are the
    # rest. (Without the Schwarzschild term Mars drifts 33 km: its 1.35"/century perihelion advance.)
    epoch = Time("2031-01-01", scale="tdb")
    r, v = (x.value for x in ephemeris.posvel(planet, epoch, center="ssb", frame="icrf"))
    span = 2 * 365.25 * 86400.0
    model = ForceModel(bodies=tuple(b for b in BODIES if b != planet))
    flown = propagate(r, v, epoch, span, model=model, t_eval=np.linspace(0, span, 9))
    truth = ephemeris.position(planet, flown.time, center="ssb", frame="icrf").value
    assert np.max(np.linalg.norm(flown.position - truth, axis=-1)) < 1.0  # km


def test_solar_radiation_pressure_displacement():
    # Over one day at 1 au, SRP of Cr A/m = 0.01 m^2/kg adds (1/2) a t^2 with
    # a = (1361 W/m^2 / c) * 0.01 m^2/kg = 4.54e-8 m/s^2 (Montenbruck & Gill 2000, eq. 3.75):
    # 0.169 km, radially outward.
    epoch = Time("2031-01-01", scale="tdb")
    r, v = (x.value for x in ephemeris.lagrange_point("L4", epoch, frame="icrf"))
    sun_r, sun_v = (x.value for x in ephemeris.posvel("sun", epoch, center="ssb", frame="icrf"))
    r, v = r + sun_r, v + sun_v
    day = 86400.0
    plain = propagate(r, v, epoch, day, t_eval=[day])
    pushed = propagate(r, v, epoch, day, model=ForceModel(cr_area_over_mass=0.01), t_eval=[day])
    shift = pushed.position[-1] - plain.position[-1]
    dist_au = np.linalg.norm(r - sun_r) / 149597870.7
    expected = 0.5 * SOLAR_PRESSURE_1AU * 0.01 / dist_au**2 / 1000 * day**2  # km
    assert np.linalg.norm(shift) == pytest.approx(expected, rel=0.01)
    assert np.dot(shift, r - sun_r) > 0


def test_backwards_returns_to_start():
    epoch = Time("2031-01-01", scale="tdb")
    r, v = (x.value for x in ephemeris.posvel("mars", epoch, center="ssb", frame="icrf"))
    span = 200 * 86400.0
    out = propagate(r, v, epoch, span, t_eval=[span], model=ForceModel(bodies=("sun", "jupiter")))
    back = propagate(out.position[-1], out.velocity[-1], out.time[-1], -span, t_eval=[-span],
                     model=ForceModel(bodies=("sun", "jupiter")))
    assert np.linalg.norm(back.position[-1] - r) < 1e-3  # km


def test_unknown_body_is_named():
    with pytest.raises(ValueError, match=r"unknown bodies \['vulcan'\]"):
        ForceModel(bodies=("sun", "vulcan"))


_R0, _V0, _EPOCH = np.array([1.5e8, 0.0, 0.0]), np.array([0.0, 30.0, 0.0]), Time("2030-01-01", scale="utc")


@pytest.mark.parametrize("change, message", [
    # a two-number position was read past its end by the kernel (garbage or a crash); a NaN tolerance
    # hung; zero tolerances and an infinite GM divided by zero; a flight to year 33,718 read DE421
    # for minutes before its range was checked
    ({"r0": [1.5e8, 0.0]}, "three numbers each"),
    ({"r0": [[1.5e8, 0.0, 0.0]], "v0": [[0.0, 30.0, 0.0]]}, "three numbers each"),
    ({"duration_s": np.inf}, "finite number of seconds"),
    ({"rtol": np.nan}, "rtol must lie between 0 and 1"),
    ({"rtol": 0.0, "atol": 0.0}, "rtol must lie between 0 and 1"),
    ({"model": ForceModel(near_scale=np.inf)}, "must be finite"),
    ({"t_eval": [0.0, np.nan]}, "t_eval must be finite"),
    ({"epoch": Time(["2030-01-01", "2030-01-02"])}, "epoch must be one astropy Time"),
    ({"duration_s": 1e12}, "outside DE421's span"),
])
def test_bad_flights_are_refused_before_any_work(change, message):
    args = {"r0": _R0, "v0": _V0, "epoch": _EPOCH, "duration_s": 100.0} | change
    with pytest.raises(ValueError, match=message):
        propagate(**args)

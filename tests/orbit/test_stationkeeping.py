"""A spacecraft left at L4: stays close (L4 is linearly stable), with the CR3BP periods, and
the yearly station-keeping cost agrees with an independent N-body integration (REBOUND)."""
import astropy.units as u
import numpy as np
import pytest
import rebound
from hypothesis import given, settings, strategies as st
from astropy.time import Time

from l4station import ephemeris
from l4station.constants import AU_KM, JULIAN_YEAR_S
from l4station.orbit.propagation import GM, SOLAR_PRESSURE_1AU
from l4station.orbit import stationkeeping
from l4station.orbit.stationkeeping import StayInputs, stay


@pytest.mark.slow
def test_left_at_l4_it_stays_close():
    # Routh (1875): Sun-EMB L4 (mu = 3e-6) is linearly stable, and the planets perturb it only
    # slowly: over three years the station stays within 0.1 deg of the point (150,000 km).
    s = stay(StayInputs("L4", Time("2031-01-01"), 3.0, cr_area_over_mass=0.0139))
    doc = s.to_json()
    assert doc["max_drift_deg"] < 0.1 and doc["max_drift_km"] < 3e5
    assert doc["libration_period_long_years"] == pytest.approx(220.7, abs=0.3)
    assert doc["libration_period_short_days"] == pytest.approx(365.25, abs=0.1)
    assert doc["stationkeeping_dv_ms_per_year"] == pytest.approx(_rebound_reset_cost(0.0139, years=3), abs=0.05)
    assert len(s.time) == len(s.longitude_offset_deg) == 1096


def _rebound_reset_cost(cr_area_over_mass: float, years: int = 1) -> float:
    """The yearly reset cost (m/s, the mean over ``years`` legs, each released on L4 with the
    point's velocity at 2031-01-01 + k years, as stationkeeping.stay), from REBOUND's IAS15
    (Rein & Spiegel 2015, MNRAS 446, 1424): the Sun, planets, Pluto and the Moon integrated as
    N bodies from their DE421 states at the epoch, with the same GMs and cannonball SRP as an
    extra force. Differences from our model: the
    bodies follow their own N-body paths (Earth ends ~60 km from DE421 after the year) and REBOUND
    has no relativity here (the Sun's Schwarzschild term moves the cost by ~2 mm/s)."""
    return float(np.mean([_rebound_leg(Time("2031-01-01") + k * JULIAN_YEAR_S * u.s, cr_area_over_mass)
                          for k in range(years)]))


def _rebound_leg(epoch: Time, cr_area_over_mass: float) -> float:
    sim = rebound.Simulation()
    sim.G, sim.integrator = 1.0, "ias15"                   # km, s, masses as GM (km^3/s^2)
    for body, gm in GM.items():
        r, v = ephemeris.posvel(body, epoch, center="ssb", frame="icrf")
        sim.add(m=gm, x=r[0].value, y=r[1].value, z=r[2].value, vx=v[0].value, vy=v[1].value, vz=v[2].value)
    r0, v0 = (x.value for x in ephemeris.lagrange_point("L4", epoch, frame="icrf", center="ssb"))
    sim.add(m=0.0, x=r0[0], y=r0[1], z=r0[2], vx=v0[0], vy=v0[1], vz=v0[2])
    sim.N_active = len(GM)
    srp = SOLAR_PRESSURE_1AU * cr_area_over_mass / 1000.0   # km/s^2 at 1 au

    def radiation(_):
        sun, craft = sim.particles[0], sim.particles[len(GM)]
        d = np.array([craft.x - sun.x, craft.y - sun.y, craft.z - sun.z])
        push = srp * (AU_KM / np.linalg.norm(d)) ** 2 * d / np.linalg.norm(d)
        craft.ax, craft.ay, craft.az = craft.ax + push[0], craft.ay + push[1], craft.az + push[2]
    sim.additional_forces = radiation
    sim.force_is_velocity_dependent = 0
    sim.integrate(JULIAN_YEAR_S)
    craft = sim.particles[len(GM)]
    r1, v1 = (x.value for x in ephemeris.lagrange_point("L4", epoch + JULIAN_YEAR_S * u.s, frame="icrf", center="ssb"))
    dv = np.linalg.norm(np.array([craft.vx, craft.vy, craft.vz]) - v1)
    dr = np.linalg.norm(np.array([craft.x, craft.y, craft.z]) - r1)
    return float((dv + dr / JULIAN_YEAR_S) * 1000.0)


def test_yearly_cost_without_sunlight_agrees_with_rebound():
    """The planets' pull alone (no SRP): 6.1 m/s a year, against REBOUND within 0.05 m/s."""
    s = stay(StayInputs("L4", Time("2031-01-01"), 1.0, cr_area_over_mass=0.0))
    assert s.stationkeeping_dv_ms_per_year == pytest.approx(_rebound_reset_cost(0.0), abs=0.05)


def test_years_must_be_positive():
    with pytest.raises(ValueError, match="StayInputs.years must be a finite number above 0, got -1"):
        stay(StayInputs("L4", Time("2031-01-01"), -1))


def test_a_stay_under_a_year_has_no_yearly_cost_and_strict_json():
    import json
    s = stay(StayInputs("L4", Time("2031-01-01"), 0.5, step_days=5.0))
    assert s.stationkeeping_dv_ms_per_year is None
    json.loads(json.dumps(s.to_json()), parse_constant=lambda name: pytest.fail(f"{name} in the JSON"))


@settings(max_examples=300, deadline=None)
@given(years=st.floats(1e-4, 30.0), step_days=st.floats(60 / 86400, 366.0))
def test_the_stay_is_sampled_from_0_to_its_end_never_past_it(years, step_days):
    # An 8.2-year stay sampled every 0.05 days once asked the propagator for a time 3e-8 s past
    # its end (a step rounded up) and stopped with a traceback.
    from l4station.constants import DAY_S, JULIAN_YEAR_S
    duration, step = years * JULIAN_YEAR_S, step_days * DAY_S
    t = stationkeeping.sample_times(duration, step)
    assert t[0] == 0.0 and np.all(np.diff(t) > 0) and t[-1] <= duration
    assert duration - t[-1] < step
    assert stationkeeping.sample_times(8.2 * JULIAN_YEAR_S, 0.05 * DAY_S)[-1] <= 8.2 * JULIAN_YEAR_S

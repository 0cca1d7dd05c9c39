"""Geometry timeline held to Earth's published orbit and to the L4 triangle."""
import astropy.units as u
import numpy as np
from astropy.time import Time

from l4station import ephemeris
from l4station.geometry import angle_between, geometry_timeline, mission_times

AU_LIGHT_TIME_S = 499.004783836  # IAU 2009 system of constants (tau_A)


def l4_timeline(years=3, step_days=1):
    t = mission_times(Time("2031-01-01"), years * u.yr, step_days * u.day)
    return geometry_timeline(t, ephemeris.lagrange_point("L4", t)[0])


def test_station_at_l4_sees_earth_at_earths_own_solar_distance():
    # At the equilateral point the Earth-station range equals the Sun-EMB distance, which
    # swings between perihelion 0.98329 au and aphelion 1.01671 au (Astronomical Almanac,
    # Earth's orbital elements: a = 1.00000 au, e = 0.01671); the Earth-EMB offset adds at
    # most 4,700 km (3e-5 au).
    g = l4_timeline()
    rng = g.earth_range.to_value(u.au)
    assert abs(rng.min() - 0.98329) < 2e-4 and abs(rng.max() - 1.01671) < 2e-4


def test_angles_at_l4_are_sixty_degrees():
    # Equilateral triangle: every angle 60 deg; Earth sits up to 4,700 km off the EMB, which
    # moves the apex angle seen from Earth by up to 4,700 km / 1 au = 0.0018 deg.
    g = l4_timeline()
    for angle in (g.sun_earth_probe, g.sun_probe_earth, g.longitude_from_earth):
        assert np.allclose(angle.to_value(u.deg), 60.0, atol=0.003)


def test_light_time_is_range_over_c():
    g = l4_timeline(years=1)
    expected = g.earth_range.to_value(u.au) * AU_LIGHT_TIME_S
    assert np.allclose(g.light_time.to_value(u.s), expected, rtol=0, atol=1e-6)
    assert 490 < g.light_time.to_value(u.s).min() and g.light_time.to_value(u.s).max() < 508


def test_l5_is_sixty_degrees_behind():
    t = mission_times(Time("2031-01-01"), 1 * u.yr, 10 * u.day)
    g = geometry_timeline(t, ephemeris.lagrange_point("L5", t)[0])
    assert np.allclose(g.longitude_from_earth.to_value(u.deg), -60.0, atol=0.003)
    assert np.allclose(g.sun_earth_probe.to_value(u.deg), 60.0, atol=0.003)


def test_angle_between_is_accurate_near_zero_and_pi():
    a = np.array([1.0, 0.0, 0.0])
    tiny = 1e-9
    assert np.isclose(angle_between(a, np.array([1.0, tiny, 0.0])), tiny, rtol=1e-6)
    assert np.isclose(angle_between(a, np.array([-1.0, tiny, 0.0])), np.pi - tiny, rtol=0, atol=1e-15)


def test_mission_times_include_both_ends():
    t = mission_times(Time("2031-01-01"), 10 * u.day, 1 * u.day)
    assert len(t) == 11 and (t[-1] - t[0]).to_value(u.day) == 10


def test_summary_and_str():
    g = l4_timeline(years=1, step_days=30)
    s = g.summary()
    assert set(s) >= {"earth_range_au", "sun_earth_probe_deg", "light_time_s"}
    assert all(set(v) == {"min", "max"} for v in s.values())
    text = str(g)
    assert text.splitlines()[0] == "Geometry, 2031-01-01 .. 2031-12-27 (13 samples)"
    assert "Sun-Earth-probe angle" in text and "deg" in text

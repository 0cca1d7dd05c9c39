"""Ephemeris held to JPL Horizons (DE431/DE441) and to the definitions of the Lagrange points."""
import astropy.units as u
import numpy as np
import pytest
from astropy.time import Time

from l4station import ephemeris

AU_KM = 149597870.700  # IAU 2012 Resolution B2


def test_earth_heliocentric_icrf_matches_horizons_de441():
    # JPL Horizons, Earth (399) w.r.t. Sun (10), DE441, GEOMETRIC states, frame ICRF, AU-D,
    # 2020-Jan-01 12:00 TDB (JD 2458850.0); Horizons output of 2022-01-28 (WWW_USER):
    #   X =-1.749585912701602E-01 Y = 8.877645495087018E-01 Z = 3.848482875671789E-01
    #   VX=-1.721190438300784E-02 VY=-2.874039035670773E-03 VZ=-1.245648654352060E-03
    r_ref = np.array([-1.749585912701602e-01, 8.877645495087018e-01, 3.848482875671789e-01]) * AU_KM
    v_ref = np.array([-1.721190438300784e-02, -2.874039035670773e-03, -1.245648654352060e-03]) * AU_KM / 86400
    r, v = ephemeris.posvel("earth", Time(2458850.0, format="jd", scale="tdb"), frame="icrf")
    assert np.linalg.norm(r.to_value(u.km) - r_ref) < 1.0  # km; measured 0.09 km (DE421 vs DE441)
    assert np.linalg.norm(v.to_value(u.km / u.s) - v_ref) < 1e-4  # km/s; measured 4e-8 km/s


@pytest.mark.parametrize("date, expected_km", [
    # JPL Horizons, Earth (399) w.r.t. Sun (10), DE431mx, "Ecliptic and Mean Equinox of Reference
    # Epoch", KM-S, position only; query of 2017-06-20 (daily 2017-06-19 .. 2030-06-19 TDB),
    # as pasted in the README of jayweng7/ephemerides-model.
    ("2017-06-19", (-6.155424147343478e06, -1.518815065626095e08, 6.643649614661932e03)),
    ("2017-07-05", (3.406361356725481e07, -1.482284607943399e08, 5.558231655016541e03)),
    ("2030-06-19", (-6.982412442849495e06, -1.518359198665248e08, 1.027031955035031e04)),
])
def test_earth_heliocentric_ecliptic_matches_horizons_de431(date, expected_km):
    r = ephemeris.position("earth", Time(date, scale="tdb"))
    assert np.linalg.norm(r.to_value(u.km) - np.array(expected_km)) < 1.0  # km; measured <= 0.31 km


def _from_elements(e, q, i, node, peri, nu):
    """Position (km) from osculating elements (q km, angles deg): exact, whatever GM was used."""
    i, node, peri, nu = np.deg2rad([i, node, peri, nu])
    r = q * (1 + e) / (1 + e * np.cos(nu))
    arg = peri + nu
    return r * np.array([np.cos(node) * np.cos(arg) - np.sin(node) * np.sin(arg) * np.cos(i),
                         np.sin(node) * np.cos(arg) + np.cos(node) * np.sin(arg) * np.cos(i),
                         np.sin(arg) * np.sin(i)])


def test_emb_heliocentric_matches_horizons_osculating_elements():
    # JPL Horizons, Earth-Moon Barycenter (3) w.r.t. Sun (10), DE441, osculating elements in the
    # ICRF ecliptic (standard obliquity), 2024-Jan-01 00:00 TDB; query of 2024-08-23:
    #   EC= 1.669113318183532E-02 QR= 1.471011280790811E+08 IN= 3.202477893480893E-03
    #   OM= 1.738524823660708E+02 W = 2.891365971401908E+02 TA= 3.567227040257570E+02
    expected = _from_elements(1.669113318183532e-02, 1.471011280790811e08, 3.202477893480893e-03,
                              1.738524823660708e02, 2.891365971401908e02, 3.567227040257570e02)
    r = ephemeris.position("emb", Time("2024-01-01", scale="tdb"))
    assert np.linalg.norm(r.to_value(u.km) - expected) < 1.0  # km; measured 0.08 km


def test_earth_against_astropy_builtin_epv00():
    # Independent code: astropy's built-in ephemeris (ERFA epv00, Bretagnon & Francou VSOP87
    # fit). SOFA quotes 4.6 km against DE405 for the heliocentric Earth; the frame tie of the
    # fit adds a few km more: measured 7.4 km over 2020-2050.
    from astropy.coordinates import get_body_barycentric

    t = Time("2020-01-01") + np.linspace(0, 30, 31) * u.yr
    ours = ephemeris.position("earth", t, frame="icrf").to_value(u.km)
    theirs = (get_body_barycentric("earth", t, ephemeris="builtin")
              - get_body_barycentric("sun", t, ephemeris="builtin")).xyz.to_value(u.km).T
    assert np.max(np.linalg.norm(ours - theirs, axis=-1)) < 10.0  # km


def test_moon_distance_stays_between_extreme_perigee_and_apogee():
    # Meeus, Astronomical Algorithms (2nd ed. 1998), ch. 50: extreme lunar distances 1500-2500
    # are 356,375 km (perigee) and 406,720 km (apogee).
    t = Time("2030-01-01") + np.arange(0, 3 * 365, 0.25) * u.day
    d = np.linalg.norm(ephemeris.position("moon", t, center="earth").to_value(u.km), axis=-1)
    assert 356_375 <= d.min() < 358_000 and 405_000 < d.max() <= 406_720


def test_velocity_is_the_derivative_of_position():
    t = Time("2031-06-01", scale="tdb")
    dt = 60 * u.s
    for body in ("earth", "mars", "moon", "jupiter"):
        r1, r2 = (ephemeris.position(body, t + s * dt) for s in (-1, 1))
        v = ephemeris.posvel(body, t)[1]
        numerical = ((r2 - r1) / (2 * dt)).to(u.km / u.s)
        assert np.allclose(v.value, numerical.value, atol=1e-7)  # km/s = 0.1 mm/s


@pytest.mark.parametrize("shape", [(), (4,), (3, 5)])
def test_broadcasts_over_time_shape(shape):
    jd = 2462000.5 + np.arange(int(np.prod(shape))).reshape(shape) * 10.0
    t = Time(jd, format="jd", scale="tdb")
    r, v = ephemeris.posvel("mars", t)
    assert r.shape == shape + (3,) and v.shape == shape + (3,)
    assert r.unit == u.km and v.unit == u.km / u.s
    flat = ephemeris.position("mars", Time(np.ravel(jd), format="jd", scale="tdb"))
    assert np.array_equal(r.reshape(-1, 3).value, flat.value)
    r4, v4 = ephemeris.lagrange_point("L4", t)
    assert r4.shape == shape + (3,) and v4.shape == shape + (3,)


def test_outside_de421_raises_range_error_with_the_span():
    with pytest.raises(ephemeris.EphemerisRangeError, match=r"2060-01-01 is outside DE421's span 1899-07-2\d") as info:
        ephemeris.position("earth", Time(["2030-01-01", "2060-01-01"]))
    assert info.value.start.jd < Time("1900-01-01").jd and info.value.stop.jd > Time("2053-01-01").jd


def test_unknown_body_frame_and_point_name_the_choices():
    t = Time("2030-01-01")
    with pytest.raises(ValueError, match="unknown body 'marz'; known: ssb, sun, mercury"):
        ephemeris.position("marz", t)
    with pytest.raises(ValueError, match="unknown frame 'galactic'; known: ecliptic, icrf"):
        ephemeris.position("mars", t, frame="galactic")
    with pytest.raises(ValueError, match="unknown point 'L6'; known: L1, L2, L3, L4, L5"):
        ephemeris.lagrange_point("L6", t)
    with pytest.raises(TypeError, match="time must be an astropy Time"):
        ephemeris.position("mars", "2030-01-01")


def _longitude_deg(r):
    return np.rad2deg(np.arctan2(r[..., 1], r[..., 0]))


def test_l4_and_l5_are_the_equilateral_points_of_sun_and_emb():
    # Lagrange (1772); Murray & Dermott (1999), Solar System Dynamics, sec. 3.5: L4 and L5 are
    # at the primaries' separation from both, L4 60 deg ahead of the secondary on its orbit.
    t = Time("2031-01-01") + np.arange(0, 730, 7) * u.day
    emb, v_emb = (x.to_value(x.unit) for x in ephemeris.posvel("emb", t))
    for point, sign in (("L4", 1), ("L5", -1)):
        r = ephemeris.lagrange_point(point, t)[0].to_value(u.km)
        d_sun, d_emb = np.linalg.norm(r, axis=-1), np.linalg.norm(r - emb, axis=-1)
        sep = np.linalg.norm(emb, axis=-1)
        assert np.allclose(d_sun, sep, rtol=0, atol=1e-3)  # km
        assert np.allclose(d_emb, sep, rtol=0, atol=1e-3)  # km
        # Ahead means in the sense of the EMB's heliocentric motion; the orbit is inclined only
        # 0.003 deg to the ecliptic, so ecliptic longitudes differ by 60 deg to ~1e-4 deg.
        dlon = (_longitude_deg(r) - _longitude_deg(emb) + 180) % 360 - 180
        assert np.allclose(dlon, sign * 60.0, atol=1e-3)
        moving_ahead = np.sum(np.cross(emb, r) * np.cross(emb, v_emb), axis=-1)
        assert np.all(np.sign(moving_ahead) == sign)


def test_collinear_points_follow_hill_series():
    # Murray & Dermott (1999), eqs. 3.83-3.84: with alpha = (mu2 / (3 mu1))**(1/3), L1 and L2
    # lie alpha -/+ alpha^2/3 - alpha^3/9 - (23|31) alpha^4/81 + O(alpha^5) from the secondary
    # (alpha^5 = 1e-10 of the separation, 15 m, for the Sun-EMB pair).
    t = Time("2031-03-01")
    emb = ephemeris.position("emb", t).to_value(u.km)
    sep = np.linalg.norm(emb)
    mu = ephemeris.SUN_EMB_MASS_RATIO
    a = (mu / (3 * (1 - mu))) ** (1 / 3)
    gamma = {"L1": a - a**2 / 3 - a**3 / 9 - 23 * a**4 / 81, "L2": a + a**2 / 3 - a**3 / 9 - 31 * a**4 / 81}
    for point, sign in (("L1", -1), ("L2", 1)):
        r = ephemeris.lagrange_point(point, t)[0].to_value(u.km)
        assert abs(np.linalg.norm(r - emb) - gamma[point] * sep) < 0.1  # km
        assert np.dot(r - emb, emb) * sign > 0
    # L1 at about 1.5 million km sunward, as SOHO's halo orbit is centred (Domingo et al. 1995).
    l1 = np.linalg.norm(ephemeris.lagrange_point("L1", t)[0].to_value(u.km) - emb)
    assert 1.45e6 < l1 < 1.52e6


def test_lagrange_point_about_another_centre():
    # Changing the centre only adds the Sun's state about it: barycentric = heliocentric + Sun(ssb).
    t = Time("2031-01-01") + np.arange(3) * u.day
    helio_r, helio_v = ephemeris.lagrange_point("L4", t, frame="icrf")
    bary_r, bary_v = ephemeris.lagrange_point("L4", t, frame="icrf", center="ssb")
    sun_r, sun_v = ephemeris.posvel("sun", t, center="ssb", frame="icrf")
    assert np.allclose((bary_r - helio_r - sun_r).to_value(u.km), 0, atol=1e-6)
    assert np.allclose((bary_v - helio_v - sun_v).to_value(u.km / u.s), 0, atol=1e-12)


def test_compiled_segments_equal_jplephem_bit_for_bit():
    # l4station.spk runs jplephem's Chebyshev recurrences operation for operation: every body, at
    # random instants over DE421's span (both ends included), in position and velocity.
    rng = np.random.default_rng(0)
    start, stop = ephemeris.coverage()
    jd = np.concatenate([[start.jd, stop.jd], rng.uniform(start.jd, stop.jd, 2000)])
    t = Time(jd, format="jd", scale="tdb")
    jd1, jd2 = np.asarray(t.jd1, float), np.asarray(t.jd2, float)
    for body in ephemeris.BODIES:
        position, velocity = np.zeros((3, len(jd))), np.zeros((3, len(jd)))
        for pair in ephemeris._CHAINS[body]:
            p, v = ephemeris._kernel()[pair].compute_and_differentiate(jd1, jd2)
            position, velocity = position + p, velocity + v
        ours = ephemeris._ssb_state(body, jd1, jd2)
        assert np.array_equal(ours[0], position.T) and np.array_equal(ours[1], velocity.T / 86400.0), body


@pytest.mark.slow
@pytest.mark.parametrize("step", [1 * u.min, 1 * u.hour, 6 * u.hour])
def test_long_tt_arrays_take_tdb_within_20_ns_of_the_erfa_series(step):
    # TDB-TT interpolated from nodes half a day apart against astropy's TT->TDB (ERFA dtdb, the
    # Fairhead & Bretagnon 1990 series, every instant); the Earth's position moves < 1 mm.
    t = Time("2030-02-11T03:17:00", scale="tt") + np.arange(0.0, (400 * u.day / step).to_value(u.one)) * step
    jd1, jd2 = ephemeris.tdb_jd(t)
    exact = t.tdb
    assert np.abs((jd1 - exact.jd1) + (jd2 - exact.jd2)).max() * 86400.0 < 20e-9
    ours = ephemeris.position("earth", t[::97], center="ssb", frame="icrf")
    theirs = ephemeris.position("earth", exact[::97], center="ssb", frame="icrf")
    assert np.abs(ours - theirs).max() < 1 * u.mm


def test_brent_takes_scipys_steps():
    # The collinear points come from a port of scipy's brentq (brentq.c): the same root to the bit.
    from scipy.optimize import brentq

    for mu in (ephemeris.SUN_EMB_MASS_RATIO, 0.012150585, 0.3):
        for a, b in ((-mu + 1e-12, 1.0 - mu - 1e-12), (1.0 - mu + 1e-12, 2.0), (-2.0, -mu - 1e-12)):
            tol = dict(xtol=1e-15, rtol=4 * np.finfo(float).eps)
            assert ephemeris._brent(ephemeris._collinear_balance, a, b, (mu,), **tol) == \
                brentq(ephemeris._collinear_balance, a, b, args=(mu,), **tol)
    with pytest.raises(ValueError, match="no root is bracketed"):
        ephemeris._brent(lambda x: x * x + 1.0, -1.0, 1.0, (), xtol=1e-12, rtol=1e-15)

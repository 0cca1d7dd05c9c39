"""Observers in the model frame: Lagrange points where they belong, Mars from DE421, a file."""
import astropy.units as u
import numpy as np
import pytest
from astropy.time import Time

from l4station.heliosphere import observers, solarwind as sw


def test_named_observers_sit_where_they_should():
    t = Time("2031-01-01") + np.arange(0, 365, 30) * u.day
    lon, r = observers.track("L4", t)
    assert np.allclose(lon, 60.0, atol=0.01) and np.all(np.abs(r / sw.AU_KM - 1) < 0.02)
    lon, _ = observers.track("L5", t)
    assert np.allclose(lon, -60.0, atol=0.01)
    lon, r = observers.track("L1", t)
    _, r_earth = observers.track("earth", t)
    # L1 is sunward of Earth by about 1% of Earth's distance (1.5 million km).
    assert np.allclose(lon, 0.0, atol=0.01) and np.allclose(r_earth - r, 1.49e6, rtol=0.03)
    _, r = observers.track("mars", t)
    # Mars: perihelion 1.381 au, aphelion 1.666 au (Astronomical Almanac orbital elements).
    assert np.all((r / sw.AU_KM > 1.38) & (r / sw.AU_KM < 1.67))
    with pytest.raises(ValueError, match="unknown observer 'venus'"):
        observers.track("venus", t)


def test_track_from_a_position_file(tmp_path):
    path = tmp_path / "sc.csv"
    t = Time("2031-01-01") + np.arange(3) * u.day
    from l4station import ephemeris
    r = ephemeris.lagrange_point("L4", t)[0].value
    path.write_text("time,x_km,y_km,z_km\n" + "".join(f"{ti.isot},{x},{y},{z}\n" for ti, (x, y, z) in zip(t, r)))
    times, lon, dist = observers.track_from_file(path)
    assert len(times) == 3 and np.allclose(lon, 60.0, atol=0.01)
    (tmp_path / "bad.csv").write_text("when,x\n1,2\n")
    with pytest.raises(ValueError, match="needs the columns time, x_km, y_km, z_km"):
        observers.track_from_file(tmp_path / "bad.csv")


def test_sample_along_a_path_matches_fixed_longitude_sampling():
    start = Time("2031-01-01")
    lon = np.arange(64) * 360 / 64
    s = sw.solve(400 + 200 * np.cos(np.radians(lon)), duration_s=5 * 86400.0, store_r_km=[sw.AU_KM])
    times = start + np.arange(0, 4, 0.5) * u.day
    along = observers.sample(s, start, 60.0, sw.AU_KM, times)
    fixed = s.at(60.0, sw.AU_KM)[0]
    assert np.allclose(along[0], np.interp((times - start).to_value(u.s), s.t_s, fixed))
    with pytest.raises(ValueError, match="outside the model run"):
        observers.sample(s, start, 60.0, sw.AU_KM, start + [10] * u.day)


def test_lines_read_are_the_two_either_side():
    # 128 lines 2.8125 deg apart: 1 deg sits between lines 0 and 1, -1 deg between 127 and 0.
    assert observers.lines_read([1.0, -1.0, 1.5], 128).tolist() == [0, 1, 127]

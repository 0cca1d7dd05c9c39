"""Parker-spiral footpoints held to Parker's formula (Parker 1958) and Solar-MACH's angles (Gieseler et al. 2023), and the
S-scale and event rule held to NOAA's published definitions."""
import numpy as np
import pytest
from astropy.time import Time

from l4station.heliosphere import connectivity
from l4station.radiation import events as radiation
from l4station.heliosphere.solarwind import AU_KM, R_SUN_KM


def test_footpoints_of_earth_and_l4_at_400_kms():
    # At 400 km/s Earth's footpoint is near W60 and L4's, 60 deg further on, near W120. Parker (1958)
    # with the sidereal 25.38-day rotation (as Solar-MACH, Gieseler et al. 2023): 1 au -> 61.1 deg.
    expected = np.degrees(2 * np.pi / (25.38 * 86400) * (AU_KM - R_SUN_KM) / 400.0)
    assert connectivity.footpoint_deg(0.0, AU_KM, 400.0) == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(61.1, abs=0.05)
    conns = {c.name: c for c in connectivity.connections(["earth", "L4", "L5"], Time("2035-03-01"), 400.0,
                                                         flare_lon_deg=60.0)}
    assert conns["earth"].footpoint_deg == pytest.approx(60, abs=2) and conns["earth"].limb.startswith("W")
    assert conns["L4"].footpoint_deg == pytest.approx(120, abs=2)
    assert abs(conns["earth"].flare_separation_deg) < 2 and conns["L4"].flare_separation_deg == pytest.approx(60, abs=2)


def test_spiral_runs_from_the_sun_to_the_observer():
    r, lon = connectivity.spiral(30.0, AU_KM, 400.0)
    assert r[0] == R_SUN_KM and r[-1] == AU_KM and lon[-1] == 30.0
    assert lon[0] == pytest.approx(connectivity.footpoint_deg(30.0, AU_KM, 400.0))


def test_connectivity_plot_has_every_observer():
    conns = connectivity.connections(["earth", "L4", "mars"], Time("2035-03-01"), [400.0, 400.0, 450.0])
    from l4station.study.figures import connectivity as connectivity_figure
    fig = connectivity_figure(conns, flare_lon_deg=45.0)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert len(labels) == 4 and labels[1].startswith("L4: footpoint W12")


def test_bad_speed():
    with pytest.raises(ValueError, match="must be positive"):
        connectivity.connections(["earth"], Time("2035-03-01"), -1.0)


def test_s_scale_thresholds():
    # NOAA Space Weather Scales: S1 10 pfu, S2 100, S3 1000, S4 10^4, S5 10^5 (>=10 MeV protons).
    flux = [5.0, 10.0, 99.9, 100.0, 1e3, 9999.0, 1e4, 1e5, 3e5, np.nan]
    assert radiation.s_level(flux).tolist() == [0, 1, 1, 2, 3, 3, 4, 5, 5, -1]


def test_event_onset_needs_three_readings_and_ends_at_the_last_reading_above():
    # SWPC's event rule: start = first of three consecutive >= 10 pfu, end = last reading >= 10 pfu.
    flux = np.array([1, 12, 3, 11, 15, 40, 900, 2000, 300, 50, 9, 2, 10, 10, 2, np.nan, 1], dtype=float)
    events = radiation.detect_events(flux)
    assert len(events) == 1
    e = events[0]
    assert (e.start, e.end, e.peak, e.peak_pfu, e.level) == (3, 9, 7, 2000.0, 3)


def test_connection_weighting():
    assert radiation.relative_intensity(0.0) == 1.0
    assert radiation.relative_intensity(43.0) == pytest.approx(np.exp(-0.5))
    assert radiation.connected([10.0, -40.0, 60.0]).tolist() == [True, True, False]

"""SEP peak forecasts: Richardson et al. (2014)'s law, the event fit that recovers a known law
from three observers, the skill experiment against SEPSTER's published spread, and the SEP
Scoreboard form."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from l4station.errors import InputError
from l4station.radiation import sep


def test_richardsons_law():
    # I = 0.013 exp(0.0036 V - phi^2 / (2 sigma^2)), sigma = 43 deg (Richardson et al. 2014, Eq. 2)
    assert sep.peak_intensity(1000.0, 0.0) == pytest.approx(0.013 * np.exp(3.6))
    assert sep.peak_intensity(1000.0, 43.0) / sep.peak_intensity(1000.0, 0.0) == pytest.approx(np.exp(-0.5))
    assert sep.peak_intensity(1000.0, 30.0, centre_deg=30.0) == sep.peak_intensity(1000.0, 0.0)


@settings(max_examples=60, deadline=None)
@given(centre=st.floats(-40.0, 40.0), width=st.floats(20.0, 80.0), factor=st.floats(-1.0, 1.0),
       speed=st.floats(400.0, 2500.0), spread=st.floats(20.0, 70.0))
def test_three_observers_recover_an_events_law(centre, width, factor, speed, spread):
    # Noise-free peaks at three observers spread either side of the centre: the grid fit finds the
    # centre within its 3 deg step and the width within 15 %, and forecasts a fourth point to 30 %.
    phi = np.array([[centre - spread, centre + 0.3 * spread, centre + spread]])
    peaks = 10 ** factor * sep.peak_intensity(speed, phi, centre, width)
    weak = sep.Prior(amplitude_log10=3.0, centre_deg=200.0, width_log=5.0, measurement_log10=0.01)
    a, c, s = sep.fit(speed, phi, peaks, weak)
    assert c[0] == pytest.approx(centre, abs=3.0) and s[0] == pytest.approx(width, rel=0.15)
    other = centre + 0.7 * spread
    assert a[0] * sep.peak_intensity(speed, other, c[0], s[0]) == pytest.approx(
        10 ** factor * sep.peak_intensity(speed, other, centre, width), rel=0.3)


def test_with_no_observer_the_fit_is_richardsons_law():
    a, c, s = sep.fit(1200.0, [[10.0, 70.0]], [[np.nan, np.nan]])
    assert (a[0], c[0], s[0]) == (1.0, 0.0, 43.0)


def test_the_side_views_make_the_earth_forecast_better():
    rows = {"+".join(r["observers"]): r for r in sep.experiment(events=1500, seed=3)}
    # L1 alone on Richardson's law spreads as SEPSTER does on real events (Richardson, Mays &
    # Thompson 2018: ~75 % within a factor 10)
    assert rows["L1"]["within_factor_10"] == pytest.approx(0.75, abs=0.06)
    assert rows["L1+L4+L5"]["rms_log10_error"] < rows["L1+L4"]["rms_log10_error"] < rows["L1"]["rms_log10_error"]
    assert rows["L1+L4+L5"]["pod"] > rows["L1"]["pod"] and rows["L1+L4+L5"]["far"] < rows["L1"]["far"]


@settings(max_examples=60, deadline=None)
@given(peak=st.floats(1e-3, 1e4), peak_h=st.floats(0.5, 80.0))
def test_the_time_profile_peaks_where_it_is_told_and_its_fluence_is_its_integral(peak, peak_h):
    # The Reid-Axford profile's maximum, crossings and closed-form fluence (Gradshteyn & Ryzhik
    # 3.471.9) against a dense grid and scipy's adaptive quadrature, to 0.1 %.
    from scipy import integrate
    profile = sep.Profile(peak, peak_h)
    t = np.geomspace(peak_h / 50, peak_h * 50, 20001)
    i = profile.intensity(t)
    assert t[i.argmax()] == pytest.approx(peak_h, rel=1e-3) and i.max() == pytest.approx(peak, rel=1e-6)
    total = integrate.quad(profile.intensity, 0, np.inf, points=None, limit=400)[0] * 3600.0
    assert profile.fluence() == pytest.approx(total, rel=1e-3)
    rise, fall = profile.crossings_h(sep.ALL_CLEAR_THRESHOLD)
    if peak >= sep.ALL_CLEAR_THRESHOLD:
        assert rise <= peak_h <= fall
        assert profile.intensity(np.array([rise, fall])) == pytest.approx(sep.ALL_CLEAR_THRESHOLD, rel=1e-6)
    else:
        assert np.isnan(rise) and np.isnan(fall)


def test_a_timed_forecast_fills_the_scoreboards_crossing_length_and_fluence():
    doc = sep.scoreboard("2031-03-01T12:00Z", ("2031-03-01T12:00Z", "2031-03-04T12:00Z"),
                         {"start_time": "2031-03-01T11:24Z", "speed": 1500.0}, "earth", 2.9, 0.5, connection_deg=20.0)
    (f,) = doc["sep_forecast_submission"]["forecasts"]
    profile = sep.Profile(2.9, sep.time_to_peak_h(20.0))            # 4 h + 0.3 h/deg x 20 deg = 10 h
    assert f["peak_intensity"]["time"] == "2031-03-01T21:24Z"
    (crossing,), (length,), (fluence,) = f["threshold_crossings"], f["event_lengths"], f["fluences"]
    rise, fall = profile.crossings_h(sep.ALL_CLEAR_THRESHOLD)
    launch = np.datetime64("2031-03-01T11:24")
    assert np.datetime64(crossing["crossing_time"][:-1]) == launch + np.timedelta64(int(round(rise * 60)), "m")
    assert np.datetime64(length["end_time"][:-1]) == launch + np.timedelta64(int(round(fall * 60)), "m")
    assert length["start_time"] == crossing["crossing_time"] < f["peak_intensity"]["time"] < length["end_time"]
    assert fluence["fluence"] == pytest.approx(profile.fluence())
    quiet = sep.scoreboard("t", ("a", "b"), {"start_time": "2031-03-01T11:24Z"}, "earth", 0.01, 0.5,
                           connection_deg=80.0)["sep_forecast_submission"]["forecasts"][0]
    assert quiet["threshold_crossings"] == [] and quiet["event_lengths"] == [] and quiet["fluences"][0]["fluence"] > 0


def test_the_side_views_warn_of_more_events_and_latency_costs_warning():
    rows = {"+".join(r["observers"]): r for r in sep.experiment(events=1500, seed=3)}
    # with L1 alone the first (speed-only) forecast is the only one: it warns of what it detects
    assert rows["L1"]["warned"] == pytest.approx(rows["L1"]["pod"], abs=0.03)
    assert rows["L1+L4+L5"]["warned"] > rows["L1+L4"]["warned"] > rows["L1"]["warned"]
    # a forecast issued an hour later warns an hour less (the crossings do not move)
    late = {"+".join(r["observers"]): r for r in sep.experiment(events=1500, seed=3, latency_h=1.25)}
    assert late["L1"]["mean_warning_h"] < rows["L1"]["mean_warning_h"]
    assert late["L1"]["warned"] <= rows["L1"]["warned"]


def test_a_forecast_in_the_sep_scoreboard_form():
    doc = sep.scoreboard("2031-03-01T12:00Z", ("2031-03-01T12:00Z", "2031-03-03T12:00Z"),
                         {"start_time": "2031-03-01T11:24Z", "lon": 45.0, "lat": -10.0, "speed": 1500.0},
                         "earth", 0.12, 0.5)
    (f,) = doc["sep_forecast_submission"]["forecasts"]
    assert set(f) == {"energy_channel", "species", "location", "prediction_window", "peak_intensity", "all_clear",
                      "threshold_crossings", "event_lengths", "fluences"}
    assert f["all_clear"]["all_clear_boolean"] is True and f["all_clear"]["threshold"] == sep.ALL_CLEAR_THRESHOLD
    assert f["peak_intensity"]["uncertainty_low"] == pytest.approx(0.12 / 10 ** 0.5)


def test_a_fit_of_mismatched_angles_and_peaks_is_refused():
    with pytest.raises(InputError, match=r"connection angles \(1, 2\), peak intensities \(1, 1\)"):
        sep.fit(1000.0, [[0.0, 10.0]], [[1.0]])


@pytest.mark.parametrize("call, message", [
    (lambda: sep.experiment(events=0), "events must be 1 to 1,000,000"),
    (lambda: sep.peak_intensity(1000.0, 0.0, sigma_deg=0.0), "width must be positive"),
    (lambda: sep.peak_intensity(1e6, 0.0), "CME speeds must be in 0-5000 km/s"),
    (lambda: sep.fit([1000.0, 1200.0], [[0.0, 10.0]], [[1.0, 2.0]]), "must be one per event"),
    (lambda: sep.scoreboard("t", ("a", "b"), {}, "earth", float("nan"), 0.5), "finite peak"),
    (lambda: sep.scoreboard("t", ("a", "b"), {}, "earth", 1.0, -0.5), "uncertainty >= 0"),
    (lambda: sep.scoreboard("t", ("a", "b"), {"start_time": "soon"}, "earth", 1.0, 0.5, connection_deg=5.0),
     "start_time in ISO 8601"),
    (lambda: sep.scoreboard("t", ("a", "b"), {}, "earth", 1.0, 0.5, connection_deg=5.0), "start_time in ISO 8601"),
    (lambda: sep.scoreboard("t", ("a", "b"), {"start_time": "2031-03-01T11:24Z"}, "earth", 1.0, 0.5,
                            connection_deg=float("nan")), "connection angle must be a finite"),
    (lambda: sep.experiment(events=10, latency_h=-1.0), "latency_h must be 0 to 240 h"),
])
def test_bad_forecast_inputs_are_one_line_errors(call, message):
    with pytest.raises(InputError, match=message):
        call()

"""Alerts against their definitions: XTCE minViolations, the Heliospheric Shock Database's
fast-forward shock criteria (Kilpua et al. 2015) and NOAA's S-scale with SWPC's event rule."""
import numpy as np
import pytest

from l4station.ground import alerts

MIN = 60_000_000


def _plasma(n, v, density, temperature):
    t = np.arange(n, dtype=np.int64) * MIN
    return {"t_us": t, "density": np.asarray(density, float), "vr": np.asarray(v, float), "vt": np.zeros(n),
            "vn": np.zeros(n), "temperature": np.asarray(temperature, float), "quality": np.zeros(n)}


def _mag(n, b):
    t = np.arange(n * 6, dtype=np.int64) * 10_000_000
    b = np.repeat(np.asarray(b, float), 6)
    return {"t_us": t, "br": b / np.sqrt(2), "bt": -b / np.sqrt(2), "bn": np.zeros(n * 6), "quality": np.zeros(n * 6)}


@pytest.mark.parametrize("outside, raised", [(2, False), (3, True)])
def test_a_limit_needs_persistence_consecutive_samples(outside, raised):
    """Speed yellow above 600 km/s, persistence 3 (the dictionary's): 2 samples out is noise."""
    v = np.full(30, 450.0)
    v[10:10 + outside] = 650.0
    found = alerts.limit_alerts("plasma", _plasma(30, v, np.full(30, 5.0), np.full(30, 1e5)))
    assert [(a.parameter, a.level) for a in found] == ([("plasma.vr", "yellow")] if raised else [])
    if raised:
        assert found[0].start_us == 10 * MIN and found[0].stop_us == (9 + outside) * MIN and found[0].value == 650.0


@pytest.mark.parametrize("dv, ratio, shock", [(60.0, 1.5, True), (15.0, 1.5, False), (60.0, 1.15, False)])
def test_shock_criteria(dv, ratio, shock):
    """A step at minute 30: a shock only if V jumps >= 20 km/s and N, |B| jump by >= 1.2 (T may
    not fall by more than 1/1.2)."""
    n = 60
    step = np.arange(n) >= 30
    v = np.where(step, 400 + dv, 400.0)
    plasma = _plasma(n, v, np.where(step, 5 * ratio, 5.0), np.where(step, 1.3e5, 1e5))
    found = alerts.shock_alerts(plasma, _mag(n, np.where(step, 5 * ratio, 5.0)))
    assert len(found) == int(shock)
    if shock:
        assert abs(found[0].start_us - 30 * MIN) <= MIN and found[0].value == pytest.approx(dv)


def test_s_scale_alerts_follow_the_swpc_event_rule():
    """>=10 MeV flux: two readings at 12 pfu do not make an event; a rise to 150 pfu makes S1 from
    the first of three readings >= 10 pfu and S2 from the first >= 100 pfu."""
    flux = np.full(100, 0.3)
    flux[5:7] = 12.0
    flux[40:80] = np.r_[np.linspace(10, 150, 20), np.linspace(150, 11, 20)]
    t = np.arange(100, dtype=np.int64) * MIN
    found = alerts.radiation_alerts({"t_us": t, "p10": flux})
    assert [(a.level, a.start_us // MIN, a.stop_us // MIN) for a in found] == [("S1", 40, 79), ("S2", 53, 79)]   # 10 + 7.37 k >= 100 at k = 13
    assert found[1].value == pytest.approx(150.0)


def test_runs():
    from l4station.arrays import runs
    flag = np.array([0, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1], bool)
    assert runs(flag, 3) == [(1, 4), (8, 12)]

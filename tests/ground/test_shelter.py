"""Shelter advisories: raised during a proton event from the first reading whose projected cabin
BFO dose (dose so far plus the present rate for a day) reaches half NASA's 30-day limit."""
import numpy as np
import pytest

from l4station.ground import alerts
from l4station.radiation import dose

MINUTE_US = 60_000_000
SHAPE = np.array([6.0, 2.5, 1.0, 0.25, 0.12, 0.04])      # pfu per pfu at >=10 MeV, >=1..>=100 MeV


def _event(size: float, minutes: int = 4 * 1440, onset: int = 120, decay_min: float = 600.0) -> dict:
    i = np.arange(minutes)
    profile = np.where(i >= onset, size * np.exp(-(i - onset) / decay_min), 0.001)
    return {"t_us": i * MINUTE_US, **{c: SHAPE[k] * profile for k, c in enumerate(alerts.CHANNELS)}}


def test_a_large_event_raises_the_advisory_at_the_first_reading_past_half_the_limit():
    data = _event(10_000.0)        # S4 at its peak
    (advisory,) = alerts.shelter_alerts(data)
    rate = dose.dose_rate(alerts.CHANNELS_MEV, np.stack([data[c] for c in alerts.CHANNELS], -1), alerts.SHELTER_SCENARIO)
    onset = int(np.argmax(data["p10"] >= 10))
    so_far = np.concatenate([[0.0], np.cumsum(rate[onset:] / 60.0)[:-1]])
    first = onset + int(np.argmax(so_far + 24 * rate[onset:] >= 125.0))
    assert advisory.start_us == data["t_us"][first] and advisory.level == "shelter"
    assert advisory.stop_us == data["t_us"][onset + int(np.flatnonzero(data["p10"][onset:] >= 10)[-1])]
    assert "within 30 minutes" in advisory.message


def test_a_small_event_raises_an_s_alert_but_no_advisory():
    data = _event(30.0)
    assert alerts.radiation_alerts(data) and not alerts.shelter_alerts(data)

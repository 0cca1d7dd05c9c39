"""A spacecraft left at L4: stays close (L4 is linearly stable), with the CR3BP periods."""
import pytest
from astropy.time import Time

from l4station.orbit.stationkeeping import StayInputs, stay


def test_left_at_l4_it_stays_close():
    # Routh (1875): Sun-EMB L4 (mu = 3e-6) is linearly stable, and the planets perturb it only
    # slowly: over three years the station stays within 0.1 deg of the point (150,000 km).
    s = stay(StayInputs("L4", Time("2031-01-01"), 3.0, cr_area_over_mass=0.0139))
    doc = s.to_json()
    assert doc["max_drift_deg"] < 0.1 and doc["max_drift_km"] < 3e5
    assert doc["libration_period_long_years"] == pytest.approx(220.7, abs=0.3)
    assert doc["libration_period_short_days"] == pytest.approx(365.25, abs=0.1)
    assert 0 < doc["stationkeeping_dv_ms_per_year"] < 30
    assert len(s.time) == len(s.longitude_offset_deg) == 1096


def test_years_must_be_positive():
    with pytest.raises(ValueError, match="StayInputs.years must be a finite number above 0, got -1"):
        stay(StayInputs("L4", Time("2031-01-01"), -1))


def test_a_stay_under_a_year_has_no_yearly_cost_and_strict_json():
    import json
    s = stay(StayInputs("L4", Time("2031-01-01"), 0.5, step_days=5.0))
    assert s.stationkeeping_dv_ms_per_year is None
    json.loads(json.dumps(s.to_json()), parse_constant=lambda name: pytest.fail(f"{name} in the JSON"))

"""Relay paths: bookkeeping, geometry, and Mars solar conjunctions found on their dates."""
import pytest
from astropy.time import Time

from l4station import config
from l4station.comms import rf, relay
from l4station.study import inputs

AU = 1.495978707e11


def test_path_rate_is_the_slowest_hop_and_latency_adds_up():
    p = relay.Path([relay.Hop("L4", "GEO", AU, 4e6), relay.Hop("GEO", "ground", 3.6e7, 1.2e9)], relay_delay_s=1.0)
    assert p.rate_bps == 4e6 and p.nodes == ["L4", "GEO", "ground"]
    assert p.latency_s == pytest.approx(AU / 299792458.0 + 3.6e7 / 299792458.0 + 1.0)


@pytest.mark.slow
def test_mission_paths():
    i = inputs.survey(config.load())
    paths = relay.mission_paths(i.target, i.epoch, 1.0168 * AU, terminal=i.terminal, link=i.link,
                                tracking=i.tracking, relay=i.relay, laser=i.laser, optics=i.optics)
    direct, l5 = paths[0], next(p for p in paths if p.nodes == ["L4", "L5"])
    # L4 and L5 are 120 deg apart on Earth's orbit: sqrt(3) au apart (within Earth's eccentricity).
    assert l5.hops[0].distance_m / AU == pytest.approx(3 ** 0.5, rel=0.02)
    assert direct.latency_s == pytest.approx(1.0168 * AU / 299792458.0)
    assert all(p.rate_bps > 0 for p in paths)
    assert direct.rate_bps > l5.rate_bps  # a 34 m dish beats the station's own 1.2 m antenna


def test_mars_conjunctions_on_their_dates():
    # Mars solar conjunctions (Sun-Earth-Mars angle minimum): 2023-11-18 and 2026-01-09
    # (US Naval Observatory, Astronomical Almanac for 2023 and 2026, phenomena).
    settings = relay.RelaySettings(geo_aperture_m=1.0, geo_feeder_bps=1.2e9, spacecraft_noise_k=300.0,
                                   relay_delay_s=1.0, mars_power_w=100.0, mars_antenna_m=3.0, conjunction_deg=3.0)
    terminal = rf.RadioTerminal(power_w=100.0, antenna_diameter_m=1.2, antenna_efficiency=0.55, bands=("X",))
    found = relay.mars_conjunctions("L4", Time("2023-06-01"), 3.0, settings, terminal, rf.LinkSettings(), 1e6)
    assert len(found) == 2
    for c, date in zip(found, ("2023-11-18", "2026-01-09")):
        assert c.start <= Time(date) <= c.end
        assert c.min_sun_earth_mars_deg < 2.0
        # From L4, 60 deg ahead of Earth, Mars behind the Sun stands tens of degrees from it.
        assert c.relay_clear and c.min_sun_station_mars_deg > 20
        assert c.relay.nodes == ["Mars", "L4", "Earth"]

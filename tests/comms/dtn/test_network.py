"""The mission's contact plan: ground passes as the contact study scheduled them, light times
from DE421 ranges, the relays, and solar exclusion cutting Mars off from Earth (but not from L4)
through its 2032 conjunction, found independently by the relay study (Sun-Earth-Mars angle from
DE421); routed end to end by CGR and written as ION and HDTN plans."""
import functools

import astropy.units as u
import numpy as np
import pytest
from astropy.time import Time

from l4station import config, ephemeris
from l4station.comms import contacts, relay
from l4station.comms.dtn import cgr, network, plan as plans
from l4station.comms.survey import survey
from l4station.constants import AU_M, C_M_S, DAY_S
from l4station.study import inputs
from l4station.study.study import StudyContext

START = Time("2032-06-22", scale="utc")      # Mars' solar conjunction of July 2032 inside the span
DAYS = 40


@functools.cache
def _built():
    c = config.load()
    ci = inputs.contacts(c, days=DAYS, start=START)
    passes = contacts.plan(ci, StudyContext(c).station_bcrs)
    links = survey(inputs.survey(c), 1.75 * AU_M, 20.0)
    conj = relay.mars_conjunctions(c.mission.target, START, DAYS / 365.25, inputs.survey(c).relay,
                                   inputs.radio_terminal(c), inputs.link_settings(c), links.paths[0].rate_bps)
    net = network.mission_network(passes, target=c.mission.target, beacon_stations=ci.beacon, beacon_bps=1e4,
                                  ground_latency_s=c.link.ground_latency_s, relay_paths=links.paths,
                                  conjunctions=conj, exclusion_deg=c.relay.conjunction_deg)
    return c, passes, conj, net


@pytest.fixture(scope="module")
def built():
    return _built()


@pytest.mark.slow
def test_science_passes_are_the_contact_studys_passes(built):
    c, passes, _, net = built
    p = net.plan
    for k, name in enumerate(passes.stations):
        node = network.GROUND_FIRST + k
        mine = (p.frm == network.STATION) & (p.to == node) & (p.rate_bps != 1e4)
        hours = float(np.sum(p.end_s[mine] - p.start_s[mine]) / 3600)
        assert hours == pytest.approx(float((passes.tracked_by == k).sum() * passes.step_s / 3600), abs=1e-9)
    # light time: the pass's mean DE421 range over c, one of them checked by hand
    first = np.flatnonzero((p.frm == network.STATION) & (p.rate_bps != 1e4) & (p.to < network.MOC))[0]
    a, b = int(p.start_s[first] / passes.step_s), int(p.end_s[first] / passes.step_s)
    assert p.owlt_s[first] == pytest.approx(passes.distance_m[a:b].mean() / C_M_S, rel=1e-12)
    # L4 makes an equilateral triangle with the Sun and Earth: its range is Earth's distance from the
    # Sun (DE421, independent of the station's track), to 0.5 % for the tadpole's excursions
    mid = START + (p.start_s[first] + p.end_s[first]) / 2 * u.s
    sun_earth_m = float(np.linalg.norm(ephemeris.position("earth", mid).to_value(u.m)))
    assert p.owlt_s[first] == pytest.approx(sun_earth_m / C_M_S, rel=0.005)


@pytest.mark.slow
def test_solar_exclusion_cuts_mars_from_earth_but_not_from_l4(built):
    c, _, conj, net = built
    p = net.plan
    (j,) = conj                                           # the relay study's conjunction (SEP < 3 deg)
    assert j.relay_clear and j.start.utc.isot[:7] == "2032-07"
    mid = (j.start + (j.end - j.start) / 2 - START).to_value(u.s)
    direct = (p.frm == network.MARS) & (p.to == network.MOC)
    relayed = (p.frm == network.MARS) & (p.to == network.STATION)
    assert not np.any(direct & (p.start_s <= mid) & (p.end_s > mid))        # the Sun is in the way
    assert np.any(relayed & (p.start_s <= mid) & (p.end_s > mid))          # L4 sees Mars 30+ deg from the Sun
    assert np.any(direct & (p.end_s < (j.start - START).to_value(u.s) - 2 * DAY_S))   # and before it, direct
    # CGR routes Mars' data through L4 in the conjunction: Mars -> L4 -> a ground station -> MOC,
    # delivered no sooner than the two light times
    route = cgr.Router(p).best_route(network.MARS, network.MOC, at_s=mid, bundle_bits=1e4)
    path = [int(p.frm[route.contacts[0]])] + [int(p.to[k]) for k in route.contacts]
    assert path[:2] == [network.MARS, network.STATION] and path[-1] == network.MOC
    assert route.delivery_s - mid >= sum(p.owlt_s[k] for k in route.contacts)
    assert route.delivery_s - mid > 20 * 60                 # Mars-L4 alone is more than 1 au


def test_the_mission_plan_survives_ion_and_hdtn_files(built, tmp_path):
    _, _, _, net = built
    for suffix in (".json", ".rc"):
        net.plan.write(tmp_path / f"mission{suffix}")
        back = plans.read(tmp_path / f"mission{suffix}")
        for column in ("frm", "to", "start_s", "end_s", "rate_bps", "owlt_s"):
            np.testing.assert_allclose(getattr(back, column), getattr(net.plan, column), rtol=1e-12)
    doc = net.to_json()
    assert doc["nodes"]["1"] == "L4" and doc["nodes"]["100"] == "MOC" and doc["contacts"] == len(net.plan)

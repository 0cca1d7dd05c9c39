"""Store-and-forward delivery against hand counts (queueing at the link rate, a wait for a later
contact, storage), against the laws of chance LTP follows (CCSDS 734.1-B-1: a red segment lost
with probability p is resent after a report segment, one round trip a round, so the rounds a
bundle of n segments needs are the largest of n geometric draws; a green bundle survives with
probability (1 - p)^n), and against contact graph routing itself (CCSDS 734.3-B-1): no bundle
beats the earliest delivery CGR finds on the empty plan, and every reused route is what a fresh
CGR search would pick."""
import dataclasses
import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from l4station.comms.dtn import cgr, forwarding as fw, plan as plans
from l4station.errors import InputError

from plain_cgr import contacts_strategy

SEG = fw.SEGMENT_BITS


def one_contact(start=10.0, end=1000.0, rate=1000.0, owlt=2.5):
    return plans.ContactPlan.of([(1, 2, start, end, rate, owlt)])


# --- hand counts ----------------------------------------------------------------------------

def test_bundles_queue_at_the_contact_rate_in_priority_order():
    # Hand count: all six wait for the contact (opens at S = 10 s); sent one after another at
    # R = 1000 bit/s, B = 100 bits each, expedited (0) first, then normal (1), then bulk (2), ties
    # by creation; the k-th sent arrives at S + k B / R + L (L = 2.5 s).
    plan = one_contact()
    traffic = fw.Traffic.of(1, 2, 0.0, 100.0, priority=[2, 1, 0, 1, 2, 0])
    out = fw.simulate(plan, traffic)
    sent_order = [2, 5, 1, 3, 0, 4]
    expected = np.empty(6)
    expected[sent_order] = 10.0 + np.arange(1, 7) * 100.0 / 1000.0 + 2.5
    np.testing.assert_allclose(out.delivered_s, expected, rtol=0, atol=1e-9)
    assert out.delivered == 6 and out.lost == 0
    assert all(out.path(i) == (1, 2) for i in range(6)) and set(out.hops) == {1}
    assert out.latency_by_path["1>2"]["bundles"] == 6


def test_a_later_creation_waits_for_the_link_and_then_its_priority():
    # Hand count: bundle 0 (bulk, 1000 bits at 100 bit/s) is on the link from 0 to 10 s; bundles
    # 1 (bulk) and 2 (expedited) arrive meanwhile: at 10 s the expedited one goes first (10-20 s),
    # then bundle 1 (20-30 s). Arrivals one light time (1 s) later. No pre-emption of bundle 0.
    plan = one_contact(start=0.0, rate=100.0, owlt=1.0)
    out = fw.simulate(plan, fw.Traffic.of(1, 2, [0.0, 2.0, 3.0], 1000.0, priority=[2, 2, 0]))
    np.testing.assert_allclose(out.delivered_s, [11.0, 31.0, 21.0], atol=1e-9)


def test_two_hops_wait_for_the_second_contact():
    # Hand count: 1 -> 2 (0-100 s, 1000 bit/s, 1 s) lands the 1000-bit bundle at 2 at t = 2 s; it
    # waits for 2 -> 3 (opens at 500 s, 500 bit/s, 3 s): delivered at 500 + 1000/500 + 3 = 505 s.
    # Node 2 holds it from 2 s until its transmission ends at 502 s.
    plan = plans.ContactPlan.of([(1, 2, 0.0, 100.0, 1000.0, 1.0), (2, 3, 500.0, 600.0, 500.0, 3.0)])
    out = fw.simulate(plan, fw.Traffic.of(1, 3, 0.0, 1000.0))
    assert out.delivered_s[0] == pytest.approx(505.0, abs=1e-9)
    assert out.path(0) == (1, 2, 3) and out.hops[0] == 2
    assert out.storage_peak_bits == {1: 1000.0, 2: 1000.0, 3: 0.0}
    times, held = out.storage_series[2]
    assert len(times) <= 2000 and held.max() == 1000.0
    assert held[times < 1.0].max() == 0 and held[(times > 3.0) & (times < 500.0)].min() == 1000.0
    assert held[times > 503.0].max() == 0


def test_a_full_node_drops_the_next_bundle():
    # Hand count: node 1 holds n = 3 bundles of 100 bits; of four created before 1 -> 2 opens the
    # fourth is dropped. Relay 2 holds 2: of the three that reach it (at 10.6, 10.7 and 10.8 s)
    # before 2 -> 3 opens at 200 s, the third is. The two left go on at 1000 bit/s, 0.5 s.
    plan = plans.ContactPlan.of([(1, 2, 10.0, 100.0, 1000.0, 0.5), (2, 3, 200.0, 300.0, 1000.0, 0.5)])
    out = fw.simulate(plan, fw.Traffic.of(1, 3, np.zeros(4), 100.0), storage_bits={1: 300.0, 2: 200.0})
    assert [fw.REASONS[r] if r >= 0 else "delivered" for r in out.reason] == \
        ["delivered", "delivered", "storage full", "storage full"]
    assert out.lost_by_reason["storage full"] == 2
    np.testing.assert_allclose(out.delivered_s[:2], [200.1 + 0.5, 200.2 + 0.5], atol=1e-9)
    assert out.storage_peak_bits[1] == 300.0 and out.storage_peak_bits[2] == 200.0
    times, held = out.storage_series[2]
    assert held[(times > 11.0) & (times < 199.0)].min() == 200.0 and held[times > 201.0].max() == 0


def test_red_bundles_book_their_expected_retransmissions():
    # Hand count: the first contact carries 1000 bits (100 bit/s for 10 s). With half the
    # segments lost, a red 100-bit bundle books 100 / (1 - 0.5) = 200 bits: five are booked on it
    # and the other five wait for the second contact (1000 s on). Green bundles book their size:
    # all ten fit on the first.
    plan = plans.ContactPlan.of([(1, 2, 0.0, 10.0, 100.0, 0.0), (1, 2, 1000.0, 2000.0, 100.0, 0.0)])
    red = fw.simulate(plan, fw.Traffic.of(1, 2, np.arange(10) * 1e-3, 100.0, red=True), loss=0.5)
    assert red.delivered == 10 and np.all(red.delivered_s[5:] > 1000.0)
    assert red.residual_bits[0] == 0.0
    green = fw.simulate(plan, fw.Traffic.of(1, 2, np.arange(10) * 1e-3, 100.0, red=False), loss=0.0)
    assert np.all(green.delivered_s <= 10.0) and green.residual_bits[0] == 0.0
    three = fw.simulate(plan, fw.Traffic.of(1, 2, np.zeros(3), 100.0, red=True), loss=0.5)
    assert list(three.residual_bits) == [1000.0 - 3 * 200.0, 100000.0 - 200.0 * np.sum(three.delivered_s > 1000)]


def test_no_route_and_the_end_of_the_plan():
    # Node 3 is never reachable from 2 (only 3 -> 2 exists) and no contact leaves 2: "no route",
    # dropped at once. A bundle created after the plan's last contact ended is "undelivered at end".
    plan = plans.ContactPlan.of([(1, 2, 0.0, 100.0, 1000.0, 1.0), (3, 2, 0.0, 100.0, 1000.0, 1.0)])
    out = fw.simulate(plan, fw.Traffic.of([2, 1], [3, 2], [5.0, 150.0], 100.0))
    assert [fw.REASONS[r] for r in out.reason] == ["no route", "undelivered at end"]
    doc = out.to_json()
    assert doc["delivered"] == 0 and doc["lost"] == 2 and doc["latency_s"] == {"p50": None, "p95": None, "max": None}
    json.dumps(doc, allow_nan=False)


def test_files_complete_when_their_last_bundle_lands():
    # Hand count: a 250-bit file in 100-bit bundles is 100 + 100 + 50 bits; at 100 bit/s from
    # t = 0 with 1 s of light time they land at 2, 3 and 3.5 s: complete after 3.5 s. The second
    # file (created at 10 s) the same. A third, of 450 bits (4 x 100 + 50) at a node that holds
    # 300 bits, loses its last two bundles: incomplete.
    plan = one_contact(start=0.0, rate=100.0, owlt=1.0)
    traffic = fw.periodic(1, 2, 0.0, 20.0, 10.0, 100.0, file_bits=250.0)
    assert list(traffic.bits) == [100, 100, 50] * 2 and list(traffic.file) == [0, 0, 0, 1, 1, 1]
    out = fw.simulate(plan, traffic)
    assert out.files == {"sent": 2, "complete": 2, "median_completion_s": pytest.approx(3.5)}
    both = fw.Traffic.concat([traffic, fw.periodic(1, 2, 30.0, 31.0, 10.0, 100.0, file_bits=450.0)])
    assert list(both.file) == [0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2]
    out = fw.simulate(plan, both, storage_bits={1: 300.0})
    assert out.files == {"sent": 3, "complete": 2, "median_completion_s": pytest.approx(3.5)}
    assert out.lost_by_reason["storage full"] == 2


def test_periodic_streams_and_concat():
    beacon = fw.periodic(1, 2, 0.0, 300.0, 60.0, 2000.0, priority=0, red=False)
    assert list(beacon.created_s) == [0, 60, 120, 180, 240] and not beacon.red.any()
    assert set(beacon.file) == {-1} and set(beacon.priority) == {0}
    science = fw.periodic(1, 2, 5.0, 100.0, 30.0, 64000.0)
    both = fw.Traffic.concat([beacon, science])
    assert len(both) == 9 and np.all(np.diff(both.created_s) >= 0)
    assert list(both.created_s[:4]) == [0, 5, 35, 60]


# --- LTP ------------------------------------------------------------------------------------

def expected_rounds(p, n):
    """Mean LTP retransmission rounds for n segments each lost with probability p: the largest
    of n Geometric(1 - p) transmission counts, minus one; E = sum_k>=1 [1 - (1 - p^k)^n]."""
    return sum(1 - (1 - p ** k) ** n for k in range(1, 200))


def test_red_bundles_all_arrive_and_each_round_costs_a_round_trip():
    # 4,000 red bundles of 4 segments, one a second, over a long contact with 30 % segment loss
    # and a 10-s light time; the rate (1 Gbit/s) makes transmission times negligible (< 0.1 ms).
    p, n, owlt, count = 0.3, 4, 10.0, 4000
    plan = plans.ContactPlan.of([(1, 2, 0.0, 1e6, 1e9, owlt)])
    traffic = fw.Traffic.of(1, 2, np.arange(count, dtype=float), n * SEG, red=True)
    out = fw.simulate(plan, traffic, loss=p, seed=3)
    assert out.delivered == count
    extra = out.delivered_s - traffic.created_s - owlt
    np.testing.assert_allclose(extra, out.ltp_rounds * 2 * owlt, atol=1e-3)      # 2 x OWLT per round
    mean, sd = out.ltp_rounds.mean(), out.ltp_rounds.std()
    assert abs(mean - expected_rounds(p, n)) < 5 * sd / math.sqrt(count)
    share = np.mean(out.ltp_rounds == 0)                                        # no loss: (1 - p)^n
    q = (1 - p) ** n
    assert abs(share - q) < 5 * math.sqrt(q * (1 - q) / count)


def test_green_bundles_are_lost_at_the_segment_loss_rate():
    # Binomial reference: a 3-segment green bundle survives with probability (1 - p)^3.
    p, n, count = 0.1, 3, 20000
    plan = plans.ContactPlan.of([(1, 2, 0.0, 1e7, 1e9, 1.0)])
    traffic = fw.Traffic.of(1, 2, np.arange(count, dtype=float), n * SEG, red=False)
    out = fw.simulate(plan, traffic, loss={(1, 2): p}, seed=7)
    q = 1 - (1 - p) ** n
    lost = out.lost_by_reason["green loss"] / count
    assert abs(lost - q) < 5 * math.sqrt(q * (1 - q) / count)
    assert out.delivered + out.lost == count and out.lost == out.lost_by_reason["green loss"]
    assert np.all(out.delivered_s[np.isfinite(out.delivered_s)] - traffic.created_s[np.isfinite(out.delivered_s)]
                  == pytest.approx(1.0 + n * SEG / 1e9))


def test_a_red_session_that_cannot_finish_waits_for_the_next_contact():
    # The first contact (0-15 s) cannot fit a round trip (2 x 10 s): a bundle with a lost segment
    # goes again in full on the second contact (100 s on); the others land within the first
    # contact's end plus a light time, with no retransmission.
    plan = plans.ContactPlan.of([(1, 2, 0.0, 15.0, 1e6, 10.0), (1, 2, 100.0, 1e5, 1e6, 10.0)])
    traffic = fw.Traffic.of(1, 2, np.zeros(200) + np.arange(200) * 1e-3, SEG, red=True)
    out = fw.simulate(plan, traffic, loss=0.5, seed=1)
    assert out.delivered == 200
    first = out.delivered_s < 100
    assert np.all(out.delivered_s[first] >= traffic.created_s[first] + SEG / 1e6 + 10.0 - 1e-9)
    assert np.all(out.delivered_s[first] <= 15.0 + 10.0)
    assert 50 < first.sum() < 150                       # binomial: 200 x (1 - 0.5), 5 sigma = 35
    assert np.all(out.delivered_s[~first] >= 100.0 + SEG / 1e6 + 10.0)
    assert np.all(out.ltp_rounds[first] == 0)


# --- against CGR ----------------------------------------------------------------------------

bundle = st.tuples(st.integers(0, 3), st.integers(0, 3), st.floats(0, 60), st.sampled_from([1.0, 3.0, 10.0]),
                   st.integers(0, 2), st.booleans())


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(rows=contacts_strategy(nodes=4, most=12), bundles=st.lists(bundle, min_size=1, max_size=15),
       capacity=st.sampled_from([None, 5.0, 20.0]), loss=st.sampled_from([0.0, 0.3]), seed=st.integers(0, 3))
def test_no_bundle_beats_cgr_on_the_empty_plan(rows, bundles, capacity, loss, seed):
    if not rows:
        return
    plan = plans.ContactPlan.of(rows)
    nodes = [int(n) for n in plan.nodes]
    picked = [(nodes[a % len(nodes)], nodes[b % len(nodes)], t, bits, prio, red)
              for a, b, t, bits, prio, red in bundles if nodes[a % len(nodes)] != nodes[b % len(nodes)]]
    if not picked:
        return
    src, dst, created, bits, prio, red = (np.array(c) for c in zip(*picked))
    traffic = fw.Traffic.of(src, dst, created, bits, prio, -1, red)
    storage = {} if capacity is None else {nodes[0]: capacity}
    out = fw.simulate(plan, traffic, storage_bits=storage, loss=loss, seed=seed, verify_routes=True)
    assert out.route_mismatches == 0                   # every reused route is a fresh CGR search's choice
    assert out.delivered + out.lost == len(traffic)
    ok = np.isfinite(out.delivered_s)
    assert np.all((out.reason >= 0) != ok)
    empty = cgr.Router(plan)                           # nothing booked: queueing can only delay
    least_owlt = {}
    for f, t, o in zip(plan.frm, plan.to, plan.owlt_s):
        least_owlt[(int(f), int(t))] = min(o, least_owlt.get((int(f), int(t)), math.inf))
    for i in np.flatnonzero(ok):
        path = out.path(i)
        assert path[0] == traffic.source[i] and path[-1] == traffic.dest[i] and out.hops[i] == len(path) - 1
        light = sum(least_owlt[(a, b)] for a, b in zip(path, path[1:]))
        assert out.delivered_s[i] >= traffic.created_s[i] + light - 1e-9
        best = empty.best_route(int(traffic.source[i]), int(traffic.dest[i]), traffic.created_s[i], traffic.bits[i])
        assert best is not None and out.delivered_s[i] >= best.delivery_s - 1e-9
    json.dumps(out.to_json(), allow_nan=False)


def station_week(days=4):
    """A small mission plan: the station (1) with daily 8-hour passes at two ground stations
    (100, 101; 499 s) and a continuous relay (11, 500 s), the ground reaching the centre (200)."""
    rows = []
    rng = np.random.default_rng(0)
    for day in range(days):
        t = day * 86400.0
        for k, g in enumerate((100, 101)):
            s = t + k * 43200 + rng.uniform(0, 7200)
            rows.append((1, g, s, s + 8 * 3600.0, 2e5, 499.0))
        rows += [(1, 11, t, t + 86400.0, 3e4, 500.0), (11, 200, t, t + 86400.0, 1e7, 0.1),
                 (100, 200, t, t + 86400.0, 1e8, 0.05), (101, 200, t, t + 86400.0, 1e8, 0.05)]
    return plans.ContactPlan.of(rows)


def test_route_lists_agree_with_cgr_on_a_mission_plan():
    # Reference: a fresh CGR search (Router's) for every bundle that reuses a route; passes
    # opening and closing and the relay in their gaps exercise every reason to search again.
    plan = station_week()
    traffic = fw.Traffic.concat([fw.periodic(1, 200, 0.0, 3 * 86400.0, 60.0, 2e3, priority=0, red=False),
                                 fw.periodic(1, 200, 5.0, 3 * 86400.0, 20.0, 64e3, priority=1),
                                 fw.periodic(1, 200, 9.0, 3 * 86400.0, 3600.0, 64e3, priority=2, file_bits=2e6)])
    out = fw.simulate(plan, traffic, loss={(1, 100): 0.02, (1, 11): 0.05}, storage_bits={1: 1e9},
                      verify_routes=True)
    assert out.route_mismatches == 0 and out.route_searches < len(traffic) / 20
    assert {"1>100>200", "1>101>200", "1>11>200"} <= set(out.latency_by_path)
    assert out.delivered + out.lost == len(traffic) and out.files["complete"] == out.files["sent"] == 72
    for node, (times, held) in out.storage_series.items():
        assert len(times) == 2000 and held.max() == pytest.approx(out.storage_peak_bits[node])
    doc = out.to_json()
    assert set(doc) >= {"days", "bundles", "delivered", "lost", "lost_by_reason", "latency_s", "latency_by_path",
                        "storage_peak_bits", "files"}
    assert doc["days"] == 4 and set(doc["storage_peak_bits"]) == {"1", "11", "100", "101", "200"}
    json.dumps(doc, allow_nan=False)
    from rich.console import Console
    console = Console(width=120, record=True)
    console.print(out)
    assert "Store-and-forward over 4 days" in console.export_text()


# --- bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize("make, message", [
    (lambda p: fw.simulate(p, fw.Traffic.of(7, 2, 0.0, 10.0)),
     r"bundle 0: source node 7 is not in the contact plan \(its nodes: 1, 2\)"),
    (lambda p: fw.simulate(p, fw.Traffic.of(1, [2, 9], 0.0, 10.0)),
     r"bundle 1: destination node 9 is not in the contact plan"),
    (lambda p: fw.Traffic.of(1, 2, 0.0, [10.0, -5.0]), r"bundle 1: size -5.0 bits must be a positive finite number"),
    (lambda p: fw.Traffic.of(1, 2, [0.0, np.nan], 10.0), r"bundle 1: creation time nan must be a finite number"),
    (lambda p: fw.Traffic.of(1, 2, 0.0, 10.0, priority=3), r"bundle 0: priority 3 must be 0 \(expedited\)"),
    (lambda p: fw.Traffic.of(1, 1, 0.0, 10.0), r"bundle 0: source and destination are the same node \(1\)"),
    (lambda p: fw.simulate(p, fw.Traffic.of(1, 2, 0.0, 10.0), storage_bits={1: -1.0}),
     r"storage of node 1: -1.0 bits must be 0 or more"),
    (lambda p: fw.simulate(p, fw.Traffic.of(1, 2, 0.0, 10.0), storage_bits={5: 1.0}),
     r"node 5 is not in the contact plan"),
    (lambda p: fw.simulate(p, fw.Traffic.of(1, 2, 0.0, 10.0), loss=1.0),
     r"segment loss 1.0 must be a probability in \[0, 1\)"),
    (lambda p: fw.simulate(p, fw.Traffic.of(1, 2, 0.0, 10.0), loss={(1, 2): -0.1}),
     r"segment loss -0.1 from 1 to 2 must be a probability"),
    (lambda p: fw.simulate(p, fw.Traffic.of(1, 2, 0.0, 10.0), segment_bits=0),
     r"LTP segment size 0 bits must be a positive"),
    # 1e-16-bit segments overflowed the kernel's segment count to 1 (a lossy link then lost nothing);
    # 1e-9 bits would have drawn losses for two days
    (lambda p: fw.simulate(p, fw.Traffic.of(1, 2, 0.0, 8000.0), segment_bits=1e-16, loss=0.5),
     r"LTP segments of 1e-16 bits cut the largest bundle \(8000 bits\) into 8e\+19; at most 10,000,000"),
    (lambda p: fw.simulate(p, fw.Traffic.of(1, 2, 0.0, 10.0), segment_bits="8000"),
     r"LTP segment size '8000' bits must be a positive"),
    # seeds 2**32 apart gave the same losses; 2**63 raised OverflowError
    (lambda p: fw.simulate(p, fw.Traffic.of(1, 2, 0.0, 10.0), seed=2 ** 32),
     r"seed 4294967296 must be a whole number from 0 to 2\*\*32 - 1"),
    (lambda p: fw.simulate(p, fw.Traffic.of(1, 2, 0.0, 10.0), seed=1.9), r"seed 1.9 must be a whole number"),
    # a Traffic made directly: 2-D columns reached the kernel (a numba typing error), a priority of 0.5 ran as 0
    (lambda p: fw.simulate(p, dataclasses.replace(fw.Traffic.of(1, 2, [0.0, 1.0], 10.0), bits=np.array([[10.0, 10.0]]))),
     r"traffic column bits has shape \(1, 2\) for 2 bundles"),
    (lambda p: fw.simulate(p, dataclasses.replace(fw.Traffic.of(1, 2, 0.0, 10.0), priority=np.array([0.5]))),
     r"bundle 0: priority 0.5 must be a whole number"),
    (lambda p: fw.periodic(1, 2, 0.0, 10.0, 0.0, 10.0), r"stream period 0.0 s must be a positive"),
    # a node key of 1.5 was truncated to node 1 (True too); a loss pair's 1.5 matched no contact and lost nothing
    (lambda p: fw.simulate(p, fw.Traffic.of(1, 2, 0.0, 10.0), storage_bits={1.5: 1.0}),
     r"storage_bits keys must be whole node numbers, got 1.5"),
    (lambda p: fw.simulate(p, fw.Traffic.of(1, 2, 0.0, 10.0), storage_bits={True: 1.0}),
     r"storage_bits keys must be whole node numbers, got True"),
    (lambda p: fw.simulate(p, fw.Traffic.of(1, 2, 0.0, 10.0), storage_bits={1: True}),
     r"storage of node 1: True bits must be 0 or more"),
    (lambda p: fw.simulate(p, fw.Traffic.of(1, 2, 0.0, 10.0), loss={(1.5, 2): 0.5}),
     r"segment loss pairs must be whole node numbers, got \(1.5, 2\)"),
    (lambda p: fw.simulate(p, fw.Traffic.of(1, 2, 0.0, 10.0), loss=np.array([0.5])),
     r"segment loss array of shape \(1,\) must be a probability in \[0, 1\)"),
    # node numbers and file ids of 1e20 or 2**63 wrapped to -2**63 (a RuntimeWarning at most)
    (lambda p: fw.Traffic.of(1e20, 2, 0.0, 10.0),
     r"bundle 0: source 1e\+20 must be a whole node number from 0 to 9,007,199,254,740,991"),
    (lambda p: fw.Traffic.of(1, 2 ** 63, 0.0, 10.0), r"bundle 0: dest 9223372036854775808 must be a whole node number"),
    (lambda p: fw.Traffic.of(1, [2, -1], 0.0, 10.0), r"bundle 1: dest -1 must be a whole node number"),
    (lambda p: fw.Traffic.of(True, 2, 0.0, 10.0), r"bundle 0: source True must be a whole node number"),
    (lambda p: fw.Traffic.of(1, 2, 0.0, 10.0, file=1e20), r"bundle 0: file id 1e\+20 must be a whole number from -1"),
    (lambda p: fw.Traffic.of(1, 2, 0.0, 10.0, priority=1e20), r"bundle 0: priority 1e\+20 must be 0 \(expedited\)"),
    (lambda p: fw.Traffic.of(1, 2, 0.0, 10.0, priority=2 ** 64 + 1), r"bundle 0: priority 18446744073709551617 must"),
    (lambda p: fw.Traffic.of(1, 2, 0.0, "10"), r"bundle 0: size '10' bits must be a positive finite number"),
    (lambda p: fw.Traffic.of(1, 2, [0.0, 2e10], 10.0),
     r"bundle 1: creation time 20000000000.0 must be a finite number of seconds within ±1e\+10 s of the plan's epoch"),
    # red="no" ran as red (True), and so did 0.5 and NaN
    (lambda p: fw.Traffic.of(1, 2, 0.0, 10.0, red="no"), r"bundle 0: red 'no' must be True \(LTP red"),
    (lambda p: fw.Traffic.of(1, 2, 0.0, 10.0, red=[True, 0.5]), r"bundle 1: red 0.5 must be True"),
    # a span of +-1e308 s (or a period of 1e-320 s, or files of 1e308 bits in 1e-300-bit bundles) raised
    # OverflowError; a period below the time resolution made every bundle at one instant
    (lambda p: fw.periodic(1, 2, -1e308, 1e308, 10.0, 10.0),
     r"stream start time -1e\+308 must be a finite number of seconds within ±1e\+10 s of the plan's epoch"),
    (lambda p: fw.periodic(1, 2, 0.0, 1.0, 1e-320, 10.0), r"stream of inf bundles is more than 100,000,000"),
    (lambda p: fw.periodic(1, 2, 0.0, 1.0, 1.0, 1e-300, file_bits=1e308), r"stream of inf bundles"),
    (lambda p: fw.periodic(1, 2, 1e9, 1e9 + 1e-3, 1e-8, 10.0),
     r"stream period 1e-08 s is below the time resolution at 1e\+09 s; lengthen it"),
])
def test_bad_input_is_a_one_line_error(make, message):
    with pytest.raises(InputError, match=message) as caught:
        make(one_contact())
    assert "\n" not in str(caught.value)


@settings(max_examples=60, deadline=None)
@given(key=st.one_of(st.floats().filter(lambda x: not x.is_integer()), st.booleans(), st.text(max_size=3)),
       where=st.sampled_from(["storage", "from", "to"]))
def test_a_node_key_that_is_not_a_whole_number_is_refused(key, where):
    # storage_bits={1.5: ...} held node 1's storage, {True: ...} too; loss={(1.5, 2): p} lost nothing
    traffic = fw.Traffic.of(1, 2, 0.0, 10.0)
    kwargs = {"storage": dict(storage_bits={key: 1.0}), "from": dict(loss={(key, 2): 0.5}),
              "to": dict(loss={(1, key): 0.5})}[where]
    with pytest.raises(InputError, match="keys must be whole node numbers|pairs must be whole node numbers") as caught:
        fw.simulate(one_contact(), traffic, **kwargs)
    assert "\n" not in str(caught.value)


@settings(max_examples=15, deadline=None)
@given(p=st.floats(0.0, 0.9), seed=st.integers(0, 3), by_pair=st.booleans())
def test_a_0d_array_loss_is_the_float(p, seed, by_pair):
    # np.array(0.5) was refused as "segment loss 0.5 must be a probability in [0, 1)"
    plan, traffic = one_contact(), fw.Traffic.of(1, 2, np.arange(20.0), 3 * SEG, red=[True, False] * 10)
    wrap = (lambda q: {(1, 2): q}) if by_pair else (lambda q: q)
    a = fw.simulate(plan, traffic, loss=wrap(p), seed=seed)
    b = fw.simulate(plan, traffic, loss=wrap(np.array(p)), seed=seed)
    assert np.array_equal(a.delivered_s, b.delivered_s, equal_nan=True) and np.array_equal(a.reason, b.reason)
    assert np.array_equal(a.ltp_rounds, b.ltp_rounds) and np.array_equal(a.residual_bits, b.residual_bits)


whole_or_not = st.one_of(st.integers(-2 ** 70, 2 ** 70), st.floats(), st.booleans(), st.none(), st.text(max_size=2))


@settings(max_examples=200, deadline=None)
@given(value=whole_or_not, column=st.sampled_from(["source", "dest", "priority", "file"]))
def test_a_whole_number_column_keeps_its_value_exactly_or_is_refused(value, column):
    # 1e20 and 2**63 wrapped to -2**63, 2**64 raised OverflowError, True ran as 1
    cols = dict(source=3, dest=4, priority=1, file=-1) | {column: value}
    try:
        traffic = fw.Traffic.of(cols["source"], cols["dest"], 0.0, 10.0, cols["priority"], cols["file"])
    except InputError as caught:
        assert "\n" not in str(caught)
        return
    kept = getattr(traffic, column)
    assert kept.dtype == np.int64 and not isinstance(value, (bool, str)) and kept[0] == value
    assert {"source": 0, "dest": 0, "priority": 0, "file": -1}[column] <= value <= \
        {"source": plans.MAX_NODE, "dest": plans.MAX_NODE, "priority": 2, "file": plans.MAX_NODE}[column]


@settings(max_examples=200, deadline=None)
@given(start=st.floats(), stop=st.floats(), every=st.floats(), file_bits=st.one_of(st.none(), st.floats()))
@example(start=-1e308, stop=1e308, every=10.0, file_bits=None)
@example(start=0.0, stop=0.0, every=1.0, file_bits=5e-324)
def test_a_periodic_stream_is_as_asked_or_refused(start, stop, every, file_bits):
    # +-1e308 s raised OverflowError, and a period below the time resolution put every bundle at one instant;
    # a file of 5e-324 bits was cut into no bundles (an IndexError)
    with np.errstate(all="ignore"):
        count = np.ceil((np.float64(stop) - start) / every) * (1 if file_bits is None else np.ceil(file_bits / 10.0))
    if 10_000 < count <= 100_000_000:           # allowed, but too many for a quick test
        return
    try:
        traffic = fw.periodic(1, 2, start, stop, every, 10.0, file_bits=file_bits)
    except InputError as caught:
        assert "\n" not in str(caught)
        return
    times = np.unique(traffic.created_s)
    assert np.all(np.abs(times) <= fw.MAX_TIME_S) and len(times) == max(0, math.ceil((stop - start) / every))
    assert np.all(np.diff(times) > 0) and (len(times) == 0 or (times[0] == start and times[-1] < stop))


def test_a_plan_made_directly_is_checked():
    # ContactPlan(...) skipped ContactPlan.of's checks: a rate of 0 or an end before the start ran, every
    # bundle "no route"; a NaN light time, "undelivered at end"
    good = one_contact()
    for change, message in [(dict(rate_bps=np.array([0.0])), "rate 0 bit/s must be a positive number"),
                            (dict(end_s=np.array([5.0])), "ends at or before it starts"),
                            (dict(owlt_s=np.array([np.nan])), "one-way light time nan s must be zero or more"),
                            (dict(frm=np.array([1.5])), "node numbers must be whole numbers from 0 to"),
                            (dict(to=np.array([2, 3])), r"contact plan column to has shape \(2,\) for 1 contacts")]:
        with pytest.raises(InputError, match=message):
            fw.simulate(dataclasses.replace(good, **change), fw.Traffic.of(1, 2, np.zeros(3), 100.0))


def test_a_bundle_made_after_its_nodes_last_contact_waits_past_the_end():
    # Found when tried as an attacker would: after the day's last pass a beacon bundle has no
    # route within the plan; it is not unroutable, it waits for a pass the plan does not hold.
    plan = plans.ContactPlan.of([(1, 2, 0.0, 100.0, 1000.0, 1.0), (2, 3, 0.0, 500.0, 1000.0, 1.0)])
    out = fw.simulate(plan, fw.Traffic.of(1, 3, [10.0, 200.0], 100.0))
    assert [fw.REASONS[r] if r >= 0 else "delivered" for r in out.reason] == ["delivered", "undelivered at end"]


@pytest.mark.parametrize("segments, p", [(125, 0.1), (3, 0.5), (1000, 0.001), (10, 0.9)])
def test_segment_losses_are_binomial(segments, p):
    # Devroye's waiting-time draw (the gaps between lost segments are geometric) against the
    # binomial law's mean n p and variance n p (1 - p), over 100,000 draws: within 5 standard errors
    from numba import njit

    @njit
    def draws(n, p, m):
        np.random.seed(11)
        out = np.empty(m)
        for k in range(m):
            out[k] = fw._lost(n, p)
        return out

    x = draws(segments, p, 100_000)
    mean, var = segments * p, segments * p * (1 - p)
    fourth = var * (1 + 3 * (segments - 2) * p * (1 - p))        # the binomial's fourth central moment
    assert abs(x.mean() - mean) < 5 * math.sqrt(var / x.size)
    assert abs(x.var() - var) < 5 * math.sqrt((fourth - var ** 2) / x.size)
    assert 0 <= x.min() and x.max() <= segments

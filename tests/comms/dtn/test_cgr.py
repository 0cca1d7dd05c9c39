"""Contact graph routing against the CGR tutorial's plan and answers (Fraire, De Jonckère &
Burleigh 2021, JNCA 174, 102884; the plan as HDTN ships it, tests/data/cgrTutorial.json, in
HDTN's older form with "rate"), and against a plain-Python router written from the tutorial's
description and a brute-force enumeration of every loop-free route on random plans."""
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from l4station.comms.dtn import cgr, plan as plans
from l4station.errors import InputError

from plain_cgr import all_routes, best_delivery, contacts_strategy

TUTORIAL = Path(__file__).parents[2] / "data" / "cgrTutorial.json"


@pytest.fixture(scope="module")
def tutorial():
    return plans.read(TUTORIAL)


def test_the_tutorials_best_route_is_1_3_4_5_delivered_at_3(tutorial):
    route = cgr.Router(tutorial).best_route(1, 5, at_s=0.0)
    assert [int(tutorial.to[c]) for c in route.contacts] == [3, 4, 5]
    assert route.contacts == (4, 6, 10)                  # HDTN's unit test: contacts 4, 6 and 10
    assert route.delivery_s == 3.0


def test_yen_finds_the_tutorials_seven_routes_in_rank_order(tutorial):
    found = cgr.Router(tutorial).routes(1, 5, at_s=0.0, k=10)
    assert [r.delivery_s for r in found] == [3, 4, 11, 31, 31, 51, 51]
    assert [int(tutorial.to[r.contacts[0]]) for r in found[:3]] == [3, 2, 5]
    # equal delivery: fewer hops first (SABR 3.2.6.9)
    assert [len(r.contacts) for r in found[3:5]] == [3, 4] and [len(r.contacts) for r in found[5:]] == [3, 4]


def test_a_later_query_misses_the_closed_contacts(tutorial):
    router = cgr.Router(tutorial)
    assert router.best_route(1, 5, at_s=9.5).delivery_s == 11.0         # 1->5 opens at 10
    assert router.best_route(1, 5, at_s=20.0).delivery_s == 31.0        # 3->4 still open to 30
    assert router.best_route(1, 5, at_s=60.0) is None                    # every contact has ended


def test_a_bundle_bigger_than_a_contact_goes_around_it(tutorial):
    # At 1 bit/s a 9-bit bundle takes 9 s a hop. Through 3 it reaches 4 at 20 s, after 4->5's
    # first contact (0-10 s) ended: 4->5 at 30 s delivers at 40 s. 1->5 direct (10-20 s) sends
    # it from 10 s to 19 s: delivered at 20 s, the best.
    router = cgr.Router(tutorial)
    big = router.best_route(1, 5, bundle_bits=9.0)
    assert big.contacts == (8,) and big.delivery_s == 10 + 9 + 1
    assert [r.delivery_s for r in router.routes(1, 5, k=3, bundle_bits=9.0)] == [20, 40, 40]
    # 11 bits fit no contact into node 5 (10 s each at 1 bit/s)
    assert router.best_route(1, 5, bundle_bits=11.0) is None


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(rows=contacts_strategy(), at=st.sampled_from([0.0, 7.0, 25.0]), bundle=st.sampled_from([0.0, 3.0, 20.0]),
       k=st.integers(1, 6))
def test_routes_match_the_plain_router_and_every_loop_free_route(rows, at, bundle, k):
    if not rows:
        return
    plan = plans.ContactPlan.of(rows)
    router = cgr.Router(plan)
    tuples = [(f, t, s, e, r, o, r * (e - s)) for f, t, s, e, r, o in rows]
    nodes = [int(n) for n in plan.nodes]
    source, dest = nodes[0], nodes[-1]
    best = router.best_route(source, dest, at_s=at, bundle_bits=bundle)
    plain = best_delivery(tuples, source, dest, at, bundle)
    assert (best.delivery_s if best else math.inf) == pytest.approx(plain, abs=1e-9)
    every = all_routes(tuples, source, dest, at, bundle)
    found = router.routes(source, dest, at_s=at, k=k, bundle_bits=bundle)
    assert [(r.delivery_s, len(r.contacts)) for r in found] == pytest.approx([e[:2] for e in every[:k]])
    for r in found:                                   # each a real, loop-free, time-consistent route
        hops = [int(plan.frm[r.contacts[0]])] + [int(plan.to[c]) for c in r.contacts]
        assert hops[0] == source and hops[-1] == dest and len(set(hops)) == len(hops)


def test_an_unknown_node_is_a_one_line_error(tutorial):
    with pytest.raises(InputError, match=r"node 9 is not in the contact plan \(its nodes: 1, 2, 3, 4, 5\)"):
        cgr.Router(tutorial).best_route(1, 9)
    with pytest.raises(InputError, match="k must be 1 to 1000"):
        cgr.Router(tutorial).routes(1, 5, k=0)
    with pytest.raises(InputError, match="same node"):
        cgr.Router(tutorial).best_route(3, 3)


def test_a_backlog_at_the_sender_delays_its_first_contact(tutorial):
    # 5 bits queued ahead on 1->3 at 1 bit/s open it at t = 5: through 3 the bundle reaches 5 at
    # 5 + 1 + 1 + 1 = 8, so the route through 2 (delivered at 4) comes first (SABR 3.2.6.9.3).
    backlog = np.zeros(len(tutorial))
    backlog[4] = 5.0
    router = cgr.Router(tutorial, backlog_bits=backlog)
    found = router.routes(1, 5, k=2)
    assert [r.delivery_s for r in found] == [4.0, 8.0] and found[0].contacts == (0, 2, 6, 10)
    # a backlog elsewhere than at the querying node does not count
    assert cgr.Router(tutorial, backlog_bits=backlog).best_route(3, 5).delivery_s == 2.0
    with pytest.raises(InputError, match="backlog volumes must be finite"):
        cgr.Router(tutorial, backlog_bits=np.full(len(tutorial), -1.0))


def test_equal_delivery_goes_to_fewer_hops_then_later_termination():
    # Found when tried as an attacker would: a route reaching an intermediate node later but in
    # fewer hops delivers as early when the last contact opens later (SABR 3.2.6.9: fewer hops
    # first), and of two equal routes the one whose contacts last longer ranks first.
    tie = plans.from_ion("a contact +0 +10 1 2 1\na range +0 +10 1 2 0\na contact +0 +10 2 3 1\n"
                         "a range +0 +10 2 3 0\na contact +0 +10 1 3 1\na range +0 +10 1 3 4\n"
                         "a contact +5 +10 3 4 1\na range +0 +10 3 4 1\n")
    found = cgr.Router(tie).routes(1, 4, k=3)
    assert [(len(r.contacts), r.delivery_s) for r in found] == [(2, 6.0), (3, 6.0)]
    term = plans.from_ion("a contact +0 +10 1 2 1\na contact +5 +10 2 4 1\na contact +0 +100 1 3 1\n"
                          "a contact +5 +100 3 4 1\na range +0 +100 1 2 1\na range +0 +100 2 4 1\n"
                          "a range +0 +100 1 3 1\na range +0 +100 3 4 1\n")
    found = cgr.Router(term).routes(1, 4, k=3)
    assert [(r.delivery_s, r.termination_s) for r in found] == [(6.0, 100.0), (6.0, 10.0)]
    assert cgr.Router(term).best_route(1, 4).termination_s == 100.0

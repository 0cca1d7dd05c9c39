"""Contact plans in ION's and HDTN's forms: each read back as written, ION's absolute times and
one-way ranges as ION reads them (ION Design and Operation Guide, ionadmin), and every plan no
network could have refused in one line."""
import json

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from l4station.cli import main
from l4station.comms.dtn import plan as plans
from l4station.errors import InputError

ROWS = [(1, 2, 0.0, 600.0, 2e6, 480.5), (2, 1, 0.0, 600.0, 1e3, 480.5), (2, 30, 100.0, 3700.0, 8e3, 0.0125, 0.8)]


def _same(a, b):
    for c in plans.COLUMNS:
        np.testing.assert_allclose(getattr(a, c), getattr(b, c), rtol=1e-9)


@pytest.mark.parametrize("suffix", [".json", ".rc"])
def test_a_plan_reads_back_as_written(tmp_path, suffix):
    plan = plans.ContactPlan.of(ROWS)
    plan.write(tmp_path / f"plan{suffix}")
    back = plans.read(tmp_path / f"plan{suffix}")
    _same(plan, back) if suffix == ".rc" else _same(plans.ContactPlan.of([r[:6] for r in ROWS]), back)


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9), st.floats(0, 1e7), st.floats(1e-3, 1e6),
                          st.floats(1.0, 1e9), st.floats(0.0, 3e3)), min_size=1, max_size=20))
def test_any_plan_survives_ion_commands(tmp_path_factory, rows):
    rows = [(f, t, s, s + d, r, o) for f, t, s, d, r, o in rows if f != t]
    kept = []
    for r in rows:
        if all(not (k[:2] == r[:2] and k[2] < r[3] and r[2] < k[3]) for k in kept):
            kept.append(r)
    if not kept:
        return
    plan = plans.ContactPlan.of(kept)
    _same(plan, plans.from_ion(plan.to_ion()))


def test_ion_rates_are_bytes_and_a_one_way_range_holds_both_ways():
    text = """
    # a two-node plan
    a contact +0 +3600 21 22 125000
    a contact +0 +3600 22 21 1000 0.5
    a range +0 +86400 21 22 480
    s
    """
    plan = plans.from_ion(text)
    assert list(plan.rate_bps) == [1e6, 8e3] and list(plan.owlt_s) == [480.0, 480.0]
    assert list(plan.confidence) == [1.0, 0.5]


def test_ion_absolute_times_count_from_the_first():
    plan = plans.from_ion("a contact 2031/03/01-00:00:00 2031/03/01-01:00:00 1 2 1000\n"
                          "a contact 2031/03/01-00:30:00 2031/03/01-00:40:00 2 1 1000\n"
                          "a range 2031/03/01-00:00:00 2031/03/02-00:00:00 1 2 1.5\n")
    assert list(plan.start_s) == [0.0, 1800.0] and list(plan.end_s) == [3600.0, 2400.0]
    assert plan.epoch == "2031-03-01T00:00:00.000"


def test_hdtn_rate_bits_per_sec_and_the_older_rate_key():
    new = plans.from_hdtn(json.dumps({"contacts": [{"contact": 0, "source": 1, "dest": 2, "startTime": 0,
                                                    "endTime": 10, "rateBitsPerSec": 5e6, "owlt": 2}]}))
    old = plans.from_hdtn(json.dumps({"contacts": [{"contact": 0, "source": 1, "dest": 2, "startTime": 0,
                                                    "endTime": 10, "rate": 5e6, "owlt": 2}]}))
    assert new.rate_bps[0] == old.rate_bps[0] == 5e6


@pytest.mark.parametrize("rows, message", [
    ([(1, 2, 10.0, 5.0, 1e3, 1.0)], r"contact 0 \(1->2, 10-5 s\): ends at or before it starts \(duration -5 s\)"),
    ([(1, 2, 0.0, 5.0, 0.0, 1.0)], "rate 0 bit/s must be a positive number"),
    ([(1, 2, 0.0, 5.0, 1e3, -1.0)], "one-way light time -1 s must be zero or more"),
    ([(1, 2, 0.0, 5.0, 1e3, float("nan"))], "one-way light time nan s"),
    ([(1, 1, 0.0, 5.0, 1e3, 1.0)], "joins two different nodes"),
    ([(1, 2, 0.0, 50.0, 1e3, 1.0), (1, 2, 40.0, 60.0, 1e3, 1.0)], r"contacts 0 and 1 \(1->2\) overlap in time"),
    ([(1, 2, 0.0, float("inf"), 1e3, 1.0)], "start and end must be finite"),
])
def test_impossible_contacts_are_refused(rows, message):
    with pytest.raises(InputError, match=message):
        plans.ContactPlan.of(rows)


def first_complaint(plan):
    """What is wrong with the first impossible contact, contact by contact (the check as it was
    before it worked on whole columns), or None."""
    for k in range(len(plan)):
        f, t, s, e, r, o, c = (col[k] for col in (plan.frm, plan.to, plan.start_s, plan.end_s, plan.rate_bps,
                                                     plan.owlt_s, plan.confidence))
        where = f"contact {k} ({f:.16g}->{t:.16g}, {s:g}-{e:g} s)"
        with np.errstate(all="ignore"):
            tests = [(not (np.isfinite(s) and np.isfinite(e)), "start and end must be finite seconds"),
                     (not e > s, f"ends at or before it starts (duration {e - s:g} s); give end > start"),
                     (not (np.isfinite(r) and r > 0), f"rate {r:g} bit/s must be a positive number"),
                     (not (np.isfinite(o) and o >= 0), f"one-way light time {o:g} s must be zero or more"),
                     (not 0 < c <= 1, f"confidence {c:g} must be in (0, 1]"),
                     (not np.isfinite(r * (e - s)),
                      "rate x duration overflows; give a shorter contact or a lower rate"),
                     (f == t, "a contact joins two different nodes"),
                     (not all(n % 1 == 0 and 0 <= n <= plans.MAX_NODE for n in (f, t)),
                      f"node numbers must be whole numbers from 0 to {plans.MAX_NODE:,} (ipn node numbers)")]
        for bad, message in tests:
            if bad:
                return f"{where}: {message}"
    return None


odd = st.sampled_from([np.nan, np.inf, -np.inf, -1.0, 0.0, 0.5, 1.5, 1e300, -1e300])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.integers(0, 4), odd), st.one_of(st.integers(0, 4), odd),
                          st.one_of(st.floats(0, 100), odd), st.one_of(st.floats(0, 100), odd),
                          st.one_of(st.floats(1, 1e3), odd), st.one_of(st.floats(0, 10), odd),
                          st.one_of(st.just(1.0), odd)), min_size=1, max_size=8))
def test_the_column_check_names_the_first_bad_contact_as_one_by_one(rows):
    plan = plans.ContactPlan(*(np.array(c, dtype=float) for c in zip(*rows)))
    expected = first_complaint(plan)
    try:
        plan.check()
        got = None
    except InputError as caught:
        got = str(caught)
    assert got == expected or (expected is None and "overlap in time" in got)


def test_a_node_number_that_is_not_whole_is_refused_not_truncated():
    # ContactPlan.of read 1.5 -> 2.7 as 1 -> 2
    with pytest.raises(InputError, match=r"contact 0 \(1.5->2.7, 0-10 s\): node numbers must be whole numbers"):
        plans.ContactPlan.of([(1.5, 2.7, 0.0, 10.0, 1.0, 0.0)])
    with pytest.raises(InputError, match=r"node numbers must be whole numbers from 0 to 9,007,199,254,740,991"):
        plans.ContactPlan.of({"frm": [2 ** 60], "to": [1], "start_s": [0.0], "end_s": [1.0], "rate_bps": [1.0],
                              "owlt_s": [0.0]})


@pytest.mark.parametrize("text, message", [
    ("a contact +0 +10 1 2 1000\n", r"no 'a range' covers contact 1->2 at \+0 s"),
    ("a contact +0 +ten 1 2 1000\na range +0 +10 1 2 1\n", "line 1: 'a contact \\+0 \\+ten 1 2 1000' is not"),
    ("a contact +0 +10 1 2\n", "line 1"),
    ("a contact +0 +10 1 x 1000\n", "line 1"),
    ("a contact 2031-03-01 +10 1 2 1000\n", "neither \\+SECONDS nor yyyy/mm/dd-hh:mm:ss"),
])
def test_bad_ion_commands_name_their_line(text, message):
    with pytest.raises(InputError, match=message):
        plans.from_ion(text)


@pytest.mark.parametrize("text, message", [
    ("{", "not JSON"),
    ('{"contacts": [{"source": 1}]}', "each contact needs source, dest"),
    ('{"contacts": [{"source": 1.5, "dest": 2, "startTime": 0, "endTime": 1, "rate": 1, "owlt": 0}]}',
     "node 1.5 is not a node number"),
    ('{"contacts": [{"source": 1, "dest": 2, "startTime": "soon", "endTime": 1, "rate": 1, "owlt": 0}]}', "soon"),
    ('{"contacts": 3}', "each contact needs"),
])
def test_bad_hdtn_json_is_one_line(text, message):
    with pytest.raises(InputError, match=message):
        plans.from_hdtn(text)


def test_the_route_command_prints_the_issues_json_and_refuses_bad_plans(tmp_path, capsys):
    good = tmp_path / "plan.rc"
    plans.ContactPlan.of([(1, 2, 0, 100, 8e3, 5.0), (2, 3, 50, 150, 8e3, 5.0)]).write(good)
    with pytest.raises(SystemExit) as done:
        main(["route", str(good), "--from", "1", "--to", "3", "--k", "3", "--json"])
    assert done.value.code == 0
    doc = json.loads(capsys.readouterr().out)
    (r,) = doc["routes"]
    assert r["next_hop"] == 2 and r["delivery_time"] == 55.0 and r["volume_bits"] == pytest.approx(8e3 * 100)
    assert r["hops"] == [{"from": 1, "to": 2, "start": 0.0, "end": 100.0}, {"from": 2, "to": 3, "start": 50.0,
                                                                          "end": 150.0}]
    bad = tmp_path / "bad.json"
    bad.write_text('{"contacts": [{"source": 1, "dest": 2, "startTime": 5, "endTime": 1, "rate": 1, "owlt": 0}]}')
    for args, message in [([str(bad), "--from", "1", "--to", "2"], "ends at or before it starts"),
                          ([str(good), "--from", "1", "--to", "7"], "node 7 is not in the contact plan"),
                          ([str(tmp_path / "none.rc"), "--from", "1", "--to", "2"], "cannot read contact plan")]:
        with pytest.raises(SystemExit) as done:
            main(["route", *args])
        assert done.value.code == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("text, message", [
    ('{"contacts": []}', "holds no contacts"),
    ('{"contacts": [{"source": 1, "dest": 2, "startTime": true, "endTime": 1, "rate": 1, "owlt": 0}]}',
     "startTime True is not a number"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"contacts": [{"source": 1, "dest": 2, "startTime": 0, "endTime": 1e300, "rate": 1e300, "owlt": 0}]}',
     "rate x duration overflows"),
    ('{"contacts": [{"source": 1, "dest": 18446744073709551615, "startTime": 0, "endTime": 1, "rate": 1, "owlt": 0}]}',
     "outside 0 to 9,007,199,254,740,991"),
])
def test_plans_found_wanting_when_tried_as_an_attacker_would(text, message):
    with pytest.raises(InputError, match=message):
        plans.from_hdtn(text)


def test_ion_refuses_backwards_contacts_and_disagreeing_ranges_and_reads_ranges_by_pair():
    with pytest.raises(InputError, match=r"ends at or before it starts \(\+10 to \+5 s\)"):
        plans.from_ion("a contact +10 +5 1 2 100\na range +0 +100 1 2 1\n")
    with pytest.raises(InputError, match="overlap at \\+50 s with different light times"):
        plans.from_ion("a contact +0 +10 1 2 100\na range +0 +100 1 2 1\na range +50 +200 1 2 2\n")
    # 3,000 contacts of 30 pairs, each pair with its own range: read by pair, not contact x range
    rows = "".join(f"a contact +{k * 10} +{k * 10 + 5} {k % 30 + 1} {k % 30 + 2} 1000\n" for k in range(3000))
    ranges = "".join(f"a range +0 +100000 {p + 1} {p + 2} {p + 0.5}\n" for p in range(30))
    plan = plans.from_ion(rows + ranges)
    assert len(plan) == 3000 and plan.owlt_s[31] == 1.5


@pytest.mark.parametrize("suffix", [".json", ".rc"])
def test_node_names_travel_with_the_plan(tmp_path, suffix):
    plan = plans.ContactPlan.of(ROWS, names={1: "L4", 2: "DSS-24", 30: "L1 relay"})
    plan.write(tmp_path / f"named{suffix}")
    assert plans.read(tmp_path / f"named{suffix}").names == {1: "L4", 2: "DSS-24", 30: "L1 relay"}

"""Input records: a digest that is an identity (equal values equal, different values different),
frozen fields, and records that refuse values no computation can use."""
import dataclasses
import math
from datetime import datetime, timedelta, timezone
from fractions import Fraction
import subprocess
import sys

import astropy.units as u
import numpy as np
import pytest
from astropy.time import Time
from hypothesis import given, settings, strategies as st

from l4station import config, records
from l4station.comms import rf
from l4station.errors import InputError
from l4station.orbit.stationkeeping import StayInputs
from l4station.study import inputs

BUILDERS = {"trade": inputs.trade, "stay": inputs.stay, "contacts": lambda c: inputs.contacts(c, 10),
            "survey": inputs.survey, "experiment": inputs.experiment}


@pytest.mark.parametrize("name", BUILDERS)
def test_records_of_the_same_mission_are_one_key(name):
    first, again = BUILDERS[name](config.load()), BUILDERS[name](config.load())
    assert first.digest() == again.digest() and first == again and len({first, again}) == 1


@pytest.mark.parametrize("name", BUILDERS)
def test_every_field_changed_changes_the_digest(name):
    record = BUILDERS[name](config.load())
    for f in dataclasses.fields(record):
        value = getattr(record, f.name)
        if isinstance(value, float):
            changed = dataclasses.replace(record, **{f.name: math.nextafter(value, math.inf)})
        elif isinstance(value, Time):
            changed = dataclasses.replace(record, **{f.name: value + 1 * u.ms})
        else:
            continue
        assert changed.digest() != record.digest(), f.name


def test_a_mission_file_change_reaches_the_records(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text("[spacecraft.rf]\npower_w = 61.0\n")
    assert inputs.survey(config.load(path)) != inputs.survey(config.load())
    assert inputs.trade(config.load(path)) == inputs.trade(config.load())   # the trade does not use the radio


def test_values_are_tagged_by_kind_and_numbers_compared_by_value():
    d = records.digest
    assert d(3.0) != d("3.0") and d({1: 2}) != d({"1": 2}) and d(True) != d(1)
    assert d(np.float64(60.0)) == d(60.0) == d(60) and d(-0.0) == d(0.0) and d(np.True_) == d(True)
    assert d(2 ** 53 + 1) != d(float(2 ** 53 + 1)) and d(Fraction(1, 3)) != d(1 / 3)
    assert d(2 * u.m) != d(2 * u.km) and d(1 * u.km) == d(1000 * u.m)
    assert d(Time("2031-01-01T00:00:00", scale="utc")) == d(Time("2031-01-01T00:00:00", scale="utc").tt)
    assert d(datetime(2031, 1, 1, 9, tzinfo=timezone(timedelta(hours=9)))) == d(datetime(2031, 1, 1, tzinfo=timezone.utc))
    with pytest.raises(TypeError, match="a record cannot hold a object"):
        records.digest(object())


@pytest.mark.slow
def test_set_fields_digest_the_same_in_every_process():
    code = ("from l4station.comms import rf; "
            "print(rf.RadioTerminal(60.0, 1.2, 0.55, frozenset({'X', 'Ka'})).digest())")
    found = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={"PYTHONHASHSEED": seed, "PATH": ""}).stdout for seed in ("1", "2", "3")}
    assert len(found) == 1


@pytest.mark.parametrize("name", BUILDERS)
def test_records_survive_pickle_and_deepcopy(name):
    import copy
    import pickle
    record = BUILDERS[name](config.load())
    assert pickle.loads(pickle.dumps(record)) == record == copy.deepcopy(record)


def test_nested_containers_arrays_and_times_are_frozen_copies():
    @records.record
    class Holder:
        value: object
    nested = Holder(({"x": [1]},))
    with pytest.raises((TypeError, AttributeError)):
        nested.value[0]["x"] = 2
    with pytest.raises((TypeError, AttributeError)):
        nested.value[0]["x"].append(2)
    times, array = Time(["2026-01-01", "2026-01-02"]), np.array([1.0, 2.0])
    held_times, held_array = Holder(times), Holder(array)
    before = held_times.digest(), held_array.digest()
    times[0], array[0] = "2030-01-01", 9.0
    assert (held_times.digest(), held_array.digest()) == before


def test_fields_cannot_change_under_the_hash():
    record = inputs.experiment(config.load())
    keys = {record}
    with pytest.raises(TypeError, match="cannot change"):
        record.latency_hours["L4"] = 999.0
    assert record in keys


scalars = st.one_of(st.floats(allow_nan=False), st.integers(), st.text(max_size=5), st.booleans(), st.none())
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(st.text(max_size=3), inner, max_size=4)),
                      max_leaves=12)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(values)
def test_digest_depends_on_the_value_only(value):
    import copy
    assert records.digest(value) == records.digest(copy.deepcopy(value))


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False), st.floats(allow_nan=False, allow_infinity=False))
def test_different_floats_different_digests(a, b):
    assert (records.digest(a) == records.digest(b)) == (a == b)


TERMINAL = rf.RadioTerminal(60.0, 1.2, 0.55, ("X",))


@pytest.mark.parametrize("change, message", [
    ({"step_s": 0.0}, "step_s must be a finite number above 0"),
    ({"step_s": -60.0}, "step_s"), ({"step_s": math.nan}, "step_s"), ({"step_s": math.inf}, "step_s"),
    ({"tracking_hours_per_day": 0.0}, "tracking_hours_per_day"),
    ({"tracking_hours_per_day": 25.0}, "at most 24"),
    ({"recorder_gbit": -1.0}, "recorder_gbit"), ({"recorder_gbit": 0.0}, "recorder_gbit"),
    ({"tracking": ("Nowhere",)}, "must be in the network"),
])
def test_contact_inputs_refuse_what_no_plan_can_use(change, message):
    good = inputs.contacts(config.load(), 1)
    with pytest.raises(InputError, match=message):
        dataclasses.replace(good, **change)


@pytest.mark.parametrize("change, message", [
    ({"target": "L3"}, "target must be one of L4, L5"), ({"target": "l4"}, "target"),
    ({"step_days": 0.0}, "step_days"), ({"years": math.nan}, "years"), ({"years": math.inf}, "years"),
    ({"cr_area_over_mass": -1.0}, "cr_area_over_mass"), ({"epoch": Time(["2031-01-01", "2031-01-02"])}, "one astropy Time"), ({"epoch": "2031-01-01"}, "one astropy Time"),
])
def test_stay_inputs_refuse_what_no_stay_can_use(change, message):
    good = StayInputs("L4", Time("2031-01-01"), 1.0)
    with pytest.raises(InputError, match=message):
        dataclasses.replace(good, **change)


@pytest.mark.parametrize("build, message", [
    (lambda: dataclasses.replace(inputs.survey(config.load()), target="L3"), "target"),
    (lambda: dataclasses.replace(inputs.survey(config.load()), years=math.nan), "years"),
    (lambda: dataclasses.replace(inputs.experiment(config.load()), cadence_days=0.0), "cadence_days"),
    (lambda: dataclasses.replace(inputs.experiment(config.load()), lead_days=(30.0,)), "lead_days"),
    (lambda: dataclasses.replace(inputs.experiment(config.load()), data_loss={"L1": 1.5}), "data_loss"),
    (lambda: rf.LinkSettings(code="turbo-9/10"), "code must be one of"),
    (lambda: rf.LinkSettings(availability=0.5), "availability"),
    (lambda: dataclasses.replace(inputs.survey(config.load()).optics, efficiency=-1.0), "efficiency"),
])
def test_every_record_refuses_values_no_computation_can_use(build, message):
    with pytest.raises(InputError, match=message):
        build()


def test_trade_and_terminal_refuse_bad_values():
    good = inputs.trade(config.load())
    with pytest.raises(InputError, match="target"):
        dataclasses.replace(good, target="l4")
    with pytest.raises(InputError, match="tof_min_years must be below"):
        dataclasses.replace(good, tof_min_years=7.0)
    with pytest.raises(InputError, match="bands"):
        dataclasses.replace(TERMINAL, bands=("W",))
    with pytest.raises(InputError, match="contact_step_s|step_s"):
        inputs.contacts(config.load(), 1, step_s=0.0)

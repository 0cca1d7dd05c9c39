"""`l4station deliver`: the JSON the README documents for the default mission's bundles over its
contact plan, the plan written as a file ION or HDTN would read (and ours reads back), and refusals."""
import json

import astropy.units as u
import numpy as np
import pytest
from astropy.time import Time

from l4station import ephemeris
from l4station.cli import main
from l4station.comms.dtn import plan as plans
from l4station.constants import C_M_S


@pytest.mark.slow
def test_deliver_prints_its_json_and_writes_the_plan(tmp_path, capsys):
    out = tmp_path / "mission.json"
    with pytest.raises(SystemExit) as done:
        main(["deliver", "--days", "3", "--plan", str(out), "--json"])
    assert done.value.code == 0
    doc = json.loads(capsys.readouterr().out)
    assert {"days", "bundles", "delivered", "lost", "latency_s", "storage_peak_bits", "files"} <= set(doc)
    assert doc["days"] == 3 and doc["delivered"] + doc["lost"] == doc["bundles"] > 3 * 1440   # a beacon a minute
    assert set(doc["latency_s"]) == {"p50", "p95", "max"} and set(doc["files"]) == {"sent", "complete",
                                                                                    "median_completion_s"}
    # the beacon's bundles, one a minute over a continuous link: the median crosses L4's light time
    # (L4, the Sun and Earth make an equilateral triangle: Earth's distance from the Sun in DE421)
    # and the ground's 5 s, and waits less than the minute between bundles
    days = Time("2031-01-01", scale="utc") + np.linspace(0.0, 3.0, 13) * u.day
    light_s = np.linalg.norm(ephemeris.position("earth", days).to_value(u.m), axis=-1) / C_M_S
    assert light_s.min() + 5.0 <= doc["latency_s"]["p50"] <= light_s.max() + 5.0 + 60.0
    assert "1" in doc["storage_peak_bits"] and "100" in doc["storage_peak_bits"]
    plan = plans.read(out)
    assert 1 in plan.nodes and 100 in plan.nodes and np.all(plan.end_s > plan.start_s)


@pytest.mark.slow
@pytest.mark.parametrize("args, message", [(["--days", "0"], "--days"), (["--days", "3000"], "longer than the mission"),
                                           (["--days", "nan"], "--days"), (["--days", "1.5"], "--days"),
                                           (["--plan", "plan.xml"], "name it .json (HDTN) or .rc")])
def test_deliver_refuses_bad_spans(args, message, capsys):
    with pytest.raises(SystemExit) as done:
        main(["deliver", *args])
    assert done.value.code == 2 and message in capsys.readouterr().err

"""`l4station deliver`: the issue's JSON for the default mission's bundles over its contact plan,
the plan written as a file ION or HDTN would read (and ours reads back), and refusals."""
import json

import numpy as np
import pytest

from l4station.cli import main
from l4station.comms.dtn import plan as plans


@pytest.mark.slow
def test_deliver_prints_the_issues_json_and_writes_the_plan(tmp_path, capsys):
    out = tmp_path / "mission.json"
    with pytest.raises(SystemExit) as done:
        main(["deliver", "--days", "3", "--plan", str(out), "--json"])
    assert done.value.code == 0
    doc = json.loads(capsys.readouterr().out)
    assert {"days", "bundles", "delivered", "lost", "latency_s", "storage_peak_bits", "files"} <= set(doc)
    assert doc["days"] == 3 and doc["delivered"] + doc["lost"] == doc["bundles"] > 3 * 1440   # a beacon a minute
    assert set(doc["latency_s"]) == {"p50", "p95", "max"} and set(doc["files"]) == {"sent", "complete",
                                                                                    "median_completion_s"}
    # the beacon's bundles cross at least L4's light time (L4 is 1 au from Earth: 499 s, less 0.3 % in January)
    assert doc["latency_s"]["p50"] >= 497.0
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

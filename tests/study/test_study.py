"""The study: sections in order, study.json schema, a self-contained report."""
import json
import re
from html.parser import HTMLParser

from pathlib import Path

import numpy as np
import pytest

from l4station import config

SMALL = Path(__file__).parents[1] / "data" / "small-trade.toml"
from l4station.study import study
from l4station.study.report import Section


@pytest.fixture(scope="module")
def result(small_study):
    return small_study[0]


@pytest.mark.slow
def test_study_json_has_the_documented_fields(result):
    d = result.document
    assert d["sections"] == ["mission", "geometry", "transfer", "stability", "communications", "delivery",
                             "spaceweather", "radiation"]
    m = d["mission"]
    assert (m["name"], m["target"], m["epoch"], m["duration_years"]) == (
        "L4 solar-wind station (default concept)", "L4", "2031-01-01T00:00:00.000", 1.0)
    g = d["geometry"]
    for key in ("earth_range_au", "sun_earth_probe_deg", "light_time_s"):
        assert g[key]["min"] <= g[key]["max"]
    # Earth's perihelion and aphelion distances (0.98329, 1.01671 au) bound the L4 range.
    assert 0.983 < g["earth_range_au"]["min"] < 0.984 and 1.016 < g["earth_range_au"]["max"] < 1.017
    assert 59.9 < g["sun_earth_probe_deg"]["min"] <= g["sun_earth_probe_deg"]["max"] < 60.1  # drifting station
    assert d["config_sha256"] == config.load(SMALL).sha256()
    assert all(p["refined_arrival_error_km"] < 1000 for p in d["transfer"]["pareto"])
    assert d["stability"]["max_drift_deg"] < 0.1
    c = d["communications"]
    assert c["data_lost_gbit"] == 0 and c["daily_volume_gbit"] == pytest.approx(c["produced_gbit_per_day"], rel=0.02)
    assert {link["band"] for link in c["links"]} == {"X", "Ka"}
    sw = d["spaceweather"]
    # The OSSE's schema: every observer set, real and synthetic, each target and lead.
    keys = {(tuple(c["observers"]), c["target"], c["source"], c["lead_days"]) for c in sw["cases"]}
    assert len(keys) == len(sw["cases"]) == 4 * 3 * 1 + 4 * 2 * 1      # synthetic: 3 targets; real: earth, L4
    assert {tuple(c["observers"]) for c in sw["cme"]} == {("L1",), ("L1", "L4"), ("L1", "L5"), ("L1", "L4", "L5")}
    rad = d["radiation"]
    assert [e["event"] for e in rad["events"]] == ["king1972", "sapphire-1in10", "sapphire-1in100", "sapphire-1in1000"]
    assert {s["name"] for s in rad["scenarios"]} == {"lunar-surface EVA suit", "Orion-class cabin", "storm shelter",
                                                     "lunar-surface habitat"}
    # Parker spirals at 400 km/s (Parker 1958): W61 from 1 au, each point 60 deg from Earth
    foot = {c["observer"]: c["footpoint_deg"] for c in rad["connectivity"]}
    assert foot["earth"] == pytest.approx(61.1 * 0.9833, abs=0.3)     # January: Earth at 0.9833 au
    assert foot["L4"] - foot["earth"] == pytest.approx(60.0, abs=1.0) and foot["earth"] - foot["L5"] == pytest.approx(60.0, abs=1.0)
    # Connected within +-43 deg: Earth alone 86/360 of longitudes; with a point 60 deg away, 146/360
    cover = rad["source_longitudes_connected"]
    assert cover["earth"] == pytest.approx(87 / 360, abs=2 / 360)
    assert cover["earth+L4"] == pytest.approx((87 + 60) / 360, abs=3 / 360)
    assert cover["earth+L4+L5"] == pytest.approx((87 + 120) / 360, abs=4 / 360)
    assert [c["observers"] for c in rad["sep_forecast"]["cases"]] == [["L1"], ["L1", "L4"], ["L1", "L5"],
                                                                       ["L1", "L4", "L5"]]
    dl = d["delivery"]
    for run in ("with_relays", "ground_only"):
        r = dl[run]
        assert r["delivered"] + r["lost"] == r["bundles"] > 0
        # nothing reaches the operations centre sooner than L4's light time (>= 1 au: 490 s)
        assert r["latency_s"]["p50"] >= 490
    assert dl["with_relays"]["latency_s"]["p95"] < dl["ground_only"]["latency_s"]["p95"]   # what a relay buys
    json.dumps(d, allow_nan=False)  # plain JSON types only


@pytest.mark.slow
def test_sections_are_functions_of_the_context(result):
    assert all(isinstance(s, Section) for s in result.sections)
    names = [f.__module__.rsplit(".", 1)[-1] for f in study.sections()]
    assert names == ["mission", "geometry", "transfer", "stability", "communications", "delivery", "spaceweather",
                     "radiation"]


def test_progress_callback_sees_every_section(small_study):
    seen = small_study[1]
    assert seen == [(0, "mission"), (1, "geometry"), (2, "transfer"), (3, "stability"), (4, "communications"),
                    (5, "delivery"), (6, "spaceweather"), (7, "radiation")]


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.external = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href") and value and not value.startswith("#"):
                self.external.append(value)


def test_report_is_self_contained_html(result, tmp_path):
    html_path = result.write(tmp_path / "out")
    assert html_path == tmp_path / "out" / "index.html"
    html = html_path.read_text()
    parser = _Collector()
    parser.feed(html)
    assert parser.external == []  # nothing to fetch: opens offline
    assert parser.tags.count("svg") >= 1 and parser.tags.count("table") >= 3
    assert 'id="geometry"' in html and "Sun–Earth rotating frame" in html
    assert "Δv against time of flight" in html and "Drift of a station left at L4" in html
    assert "Downlink rate by station, band and elevation" in html and "recorder" in html
    assert json.loads((tmp_path / "out" / "study.json").read_text()) == result.document
    # The embedded resolved config reproduces the study.
    embedded = re.search(r"<pre>(.*?)</pre>", html, re.S).group(1)
    import html as html_module
    path = tmp_path / "again.toml"
    path.write_text(html_module.unescape(embedded))
    assert config.load(path).sha256() == result.document["config_sha256"]


@pytest.mark.slow
def test_report_is_reproducible(result, tmp_path):
    first = result.write(tmp_path / "a").read_text()
    second = study.run(config.load(SMALL)).write(tmp_path / "b").read_text()
    assert first == second


@pytest.mark.slow
def test_a_study_without_figures_has_the_same_numbers(result):
    """What a sweep's variant runs: no section draws, and study.json is the drawn study's."""
    undrawn = study.run(config.load(SMALL), draw=False)
    assert all(not s.figures for s in undrawn.sections) and all(s.figures for s in result.sections
                                                                  if s.name != "mission")
    assert json.dumps(undrawn.document, sort_keys=True) == json.dumps(result.document, sort_keys=True)


def test_figures_of_merit_are_the_sections_numbers_in_their_units(result):
    """study.json's figures: each is the number its section reports, converted to the unit its
    name says (a Julian year of 365.25 days); a figure the study has no case for is null."""
    from l4station.study import merit
    d = result.document
    f = d["figures"]
    assert list(f) == [m.name for m in merit.MERITS] == list(merit.figures(d))
    chosen = d["transfer"]["pareto"][d["transfer"]["chosen"]]
    assert f["transfer_dv_kms"] == chosen["total_dv_kms"]
    assert f["transfer_tof_years"] == pytest.approx(chosen["tof_days"] / 365.25, rel=1e-12)
    assert f["propellant_margin_kg"] == pytest.approx(d["transfer"]["propellant_on_board_kg"] - chosen["propellant_kg"])
    assert f["stationkeeping_ms_per_year"] == d["stability"]["stationkeeping_dv_ms_per_year"]
    assert f["best_x_rate_kbps"] == max(link["data_rate_bps"] for link in d["communications"]["links"]
                                        if link["band"] == "X") / 1000
    earth_l1_l4 = [c for c in d["spaceweather"]["cases"] if c["target"] == "earth" and c["source"] == "real"
                   and sorted(c["observers"]) == ["L1", "L4"]]
    assert f["forecast_skill_earth_lead1"] == earth_l1_l4[0]["skill_vs_persistence"]
    assert f["forecast_skill_earth_lead7"] is None          # this mission file forecasts 1 day ahead only
    assert f["cme_arrival_mae_h"] == next(r["arrival_mae_hours"] for r in d["spaceweather"]["cme"]
                                          if r["observers"] == ["L1", "L4"])
    import io

    from rich.console import Console
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(result)
    shown = console.export_text()
    assert "Figures of merit" in shown and "stationkeeping_ms_per_year" in shown and "m/s/yr" in shown


@pytest.mark.slow
def test_a_mission_to_l5_flies_a_transfer_that_arrives_by_the_epoch(tmp_path):
    """The default launch window to L5: every family's cheapest transfer arrives after the
    2031-01-01 epoch, so the trade also refines the cheapest grid transfer that arrives in time
    (found here by brute force over the whole grid), and the study chooses it, never a late one."""
    import astropy.units as u
    import numpy as np

    from l4station.study.sections.transfer import chosen
    path = tmp_path / "l5.toml"
    path.write_text('[mission]\ntarget = "L5"\n')
    mission = config.load(path)
    trade = study.StudyContext(mission).transfer
    best, why = chosen(trade, mission.mission.epoch_time)
    grid = trade.grid
    arrives = grid.departure.tdb.jd[:, None] + grid.tof_days[None, :]
    cheapest = np.min(np.where(arrives <= mission.mission.epoch_time.tdb.jd, grid.total, np.inf))
    assert why == "in_time"
    assert best.candidate.departure + best.candidate.tof_days * u.day <= mission.mission.epoch_time
    assert best.candidate.total == pytest.approx(cheapest, abs=0.01)          # km/s, the front's step


@pytest.mark.slow
def test_a_coarse_timeline_keeps_the_station_where_it_is(tmp_path):
    # The contact plan asks where the station is every hour; the stay is sampled every
    # timeline_step_days. Interpolating positions between samples 30 days apart cut 0.15 au across
    # the orbit (the Earth range fell from 0.975 to 0.82 au); the offset from the point does not.
    import astropy.units as u
    from l4station.study import study
    where = {}
    for step in (1.0, 30.0):
        path = tmp_path / f"step{step:g}.toml"
        path.write_text(f"[mission]\nduration_years = 2.0\ntimeline_step_days = {step}\n")
        context = study.StudyContext(config.load(path), None, False)
        where[step] = context.station_bcrs(context.stay.time[0] + np.linspace(0.0, 1.99, 500) * u.yr)
    apart_km = np.linalg.norm(where[30.0] - where[1.0], axis=1)
    assert apart_km.max() < 2.6e4               # 0.01 deg seen from 1 au


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc (Linux)")
def test_a_study_killed_mid_run_takes_its_second_process_with_it(tmp_path):
    # Killed, the study once left its second process computing, then waiting on a pipe for ever.
    import os
    import signal
    import subprocess
    import sys
    import time
    env = {**os.environ, "L4STATION_CACHE": ""}
    study_process = subprocess.Popen([sys.executable, "-m", "l4station", "study", "--config", str(SMALL), "--out",
                                      str(tmp_path / "report")], env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not (spare := _children(study_process.pid)):
        assert study_process.poll() is None and time.monotonic() < deadline, "no second process started"
        time.sleep(0.2)
    study_process.send_signal(signal.SIGKILL)
    study_process.wait()
    deadline = time.monotonic() + 15
    while any(Path(f"/proc/{pid}").exists() and "zombie" not in _state(pid) for pid in spare):
        assert time.monotonic() < deadline, f"processes {spare} outlived the study"
        time.sleep(0.2)


def _state(pid: int) -> str:
    try:
        return {"Z": "zombie", "X": "dead"}.get((Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]), "alive")
    except OSError:
        return "dead"

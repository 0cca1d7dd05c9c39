"""The operational products a forecaster's tools read: NOAA's current RTSW object layout for the
station's own data (NWS Service Change Notice 26-21), the retired array products marked as
deprecated (RFC 9745), an Enlil-style forecast series, CME analyses in DONKI's form, and the
jobs the server runs beside serving."""
import json
import math
import shutil

import numpy as np
import pytest
from astropy.time import Time
from fastapi.testclient import TestClient

from l4station.constants import AU_KM
from l4station.ground import cmes, forecaster, ingest, replay, schedule
from l4station.ground.server import create_app
from l4station.ground.store import Archive
from l4station.heliosphere import cme as cme_model
from l4station.heliosphere import insitu
from l4station.heliosphere.solarwind import R_SUN_KM

TOKEN = "s3cret-token"
ANALYSIS = {"time21_5": "2008-08-04T12:00Z", "latitude": 0.0, "longitude": 0.0, "halfAngle": 45.0, "speed": 1000.0,
            "type": "O", "associatedCMEID": "2008-08-04T11:30:00-CME-001"}


def _us(iso: str) -> int:
    return int(round(Time(iso, scale="utc").unix * 1e6))


@pytest.fixture(scope="module")
def ops(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('ops') / 'ops.db'}"
    with Archive(url) as archive:
        replay.replay(archive, insitu.packaged(), _us("2008-08-01"), _us("2008-08-04T06:00"))
    return url


@pytest.mark.slow
def test_station_data_in_the_rtsw_object_layout(ops, two_days, tmp_path):
    url = f"sqlite:///{tmp_path / 'station.db'}"
    with Archive(url) as archive:
        ingest.ingest_bytes(archive, two_days.data, source="test")
        plasma = archive.columns("plasma", 0, 2 ** 62)
    client = TestClient(create_app(url))
    wind = client.get("/json/rtsw/rtsw_wind_1m.json?hours=2").json()
    assert len(wind) == 120 and wind[0]["time_tag"] > wind[-1]["time_tag"]            # newest first
    newest = wind[0]
    assert newest["source"] == "L4STATION" and newest["active"] is True and newest["overall_quality"] == 0
    speed = math.sqrt(plasma["vr"][-1] ** 2 + plasma["vt"][-1] ** 2 + plasma["vn"][-1] ** 2)
    assert newest["proton_speed"] == pytest.approx(speed, abs=0.051)
    mag = client.get("/json/rtsw/rtsw_mag_1m.json?hours=1").json()
    assert len(mag) == 60
    # bt in NOAA's layout is the field's magnitude, not our tangential component
    assert mag[0]["bt"] == pytest.approx(math.sqrt(mag[0]["br_rtn"] ** 2 + mag[0]["bt_rtn"] ** 2 + mag[0]["bn_rtn"] ** 2),
                                         abs=0.02)
    old = client.get("/products/solar-wind/plasma-1-day.json")
    assert old.headers["deprecation"] == "@1777593600"                               # 2026-05-01T00:00Z
    assert 'rel="successor-version"' in old.headers["link"]
    assert client.get("/json/rtsw/rtsw_kp.json").status_code == 404
    assert client.get("/json/rtsw/rtsw_wind_1m.json?hours=9999").status_code == 400


@pytest.mark.slow
def test_cme_analysis_through_the_api_reaches_the_next_forecast(ops):
    client = TestClient(create_app(ops, token=TOKEN))
    assert client.post("/api/cme", json=ANALYSIS).status_code == 401
    bad = client.post("/api/cme", json=ANALYSIS | {"halfAngle": 120}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert bad.status_code == 400 and "halfAngle" in bad.json()["error"]
    with Archive(ops) as archive:                      # received in time for the issue (the API stamps "now")
        identifier, new = cmes.add(archive, ANALYSIS, _us("2008-08-04T13:00"))
        assert new and identifier == ANALYSIS["associatedCMEID"]
        assert cmes.add(archive, ANALYSIS | {"latitude": 10.0}, _us("2008-08-04T14:00")) == (identifier, False)
        run = forecaster.issue(archive, _us("2008-08-04T18:00"))
    earth = run.to_json()["cmes"][0]["targets"]["earth"]
    assert earth["hit"]
    # the drag-based model alone, apex at 1 au in the forecast's wind: within the ensemble's spread
    wind = float(np.mean(run.values["earth"]["vr"][:72]))
    t_s, _ = cme_model.arrival(1000.0, wind, r_target_km=0.985 * AU_KM, r0_km=21.5 * R_SUN_KM)
    expected = _us("2008-08-04T12:00") + t_s * 1e6
    assert _us(earth["arrival_p10"]) - 6 * 3.6e9 < expected < _us(earth["arrival_p90"]) + 6 * 3.6e9
    series = client.get("/json/forecast/earth.json").json()
    assert len(series) == 168 and series[0]["run_id"] == run.run_id and series[0]["issue_time"] == "2008-08-04T18:00:00Z"
    assert client.get("/json/forecast/venus.json").status_code == 404


@pytest.mark.parametrize("field, value, message", [
    ("speed", -5, "speed must be a number in [50, 5000]"), ("latitude", 91, "latitude"),
    ("type", "XX", "type must be one of S, C, O, R, ER"), ("time21_5", "soon", "not an ISO UTC time"),
    ("longitude", float("nan"), "longitude"), ("speed", True, "speed"), ("speed", 10 ** 400, "speed"),
    ("speed", 3000.0, "type O means 1000-2000 km/s"), ("time21_5", "300000-01-01T00:00", "between 1957 and 2100"),
    ("time21_5", "0001-01-01T00:00", "between 1957 and 2100"),
    ("associatedCMEID", "INJ\nSerial Number: 999", "letters, digits"), ("associatedCMEID", "x" * 65, "1-64"),
])
def test_impossible_cme_analyses_are_refused_naming_the_field(field, value, message):
    with pytest.raises(cmes.InputError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")
                       .replace("]", r"\]")):
        cmes.check(ANALYSIS | {field: value})


def test_a_failing_job_is_counted_and_the_server_keeps_serving(ops, tmp_path):
    def broken():
        raise RuntimeError("the feed's server is down\nsecond line")
    job = schedule.Job("feed:broken", 60.0, broken)
    job.run_once()
    job.run_once()
    assert job.status()["failures"] == 2 and job.status()["message"] == "the feed's server is down"
    with TestClient(create_app(ops, jobs=[job])) as client:
        status = client.get("/api/status").json()
        assert status["jobs"]["feed:broken"]["last_ok"] is False
        assert client.get("/hapi/catalog").status_code == 200


def test_the_scheduled_forecaster_issues_from_what_arrived(ops, tmp_path):
    jobs = schedule.operations_jobs(ops, [], feed_every_s=60.0, forecast_every_s=600.0)
    assert [j.name for j in jobs] == ["forecast"]
    jobs[0].run_once()            # "now" is years after the replayed data: refused in one line, not raised
    assert jobs[0].last_ok is False and "no observations received by" in jobs[0].message


def test_forecast_datasets_over_hapi_read_by_hapiclient(ops, tmp_path):
    """The community's client reads the latest run at each target and every run's daily means
    from our server on loopback; what it reads is what the archive stores."""
    from hapiclient import hapi as hapi_client

    from conftest import serving
    with Archive(ops) as archive:
        run = forecaster.load(archive, forecaster.latest_run(archive)[0])
    with serving(ops) as base:
        for fmt in ("csv", "binary"):
            data, meta = hapi_client(f"{base}/hapi", "forecast_mars", "vr,vr_p90,issue_time", "2008-08-04T00:00:00Z",
                                     "2008-08-13T00:00:00Z", format=fmt, logging=False, usecache=False, cache=False,
                                     cachedir=str(tmp_path))
            assert [p["type"] for p in meta["parameters"]] == ["isotime", "double", "double", "isotime"]
            assert len(data) == 168
            assert np.allclose(data["vr"], run.values["mars"]["vr"], atol=0.051)       # CSV keeps 0.1 km/s
            assert {t.decode()[:19] for t in data["issue_time"]} == {forecaster.iso(run.issue_us)[:19]}
        runs, _ = hapi_client(f"{base}/hapi", "forecast_runs", "vr_lead1,vr_lead7", "2008-08-01T00:00:00Z",
                              "2008-08-04T12:00:00Z", logging=False, usecache=False, cache=False, cachedir=str(tmp_path))
    assert len(runs) == 14 and np.all((runs["vr_lead1"] > 250) & (runs["vr_lead1"] < 800))  # 6-hourly, 1-4 Aug


@pytest.mark.slow
@pytest.mark.parametrize("parameters", ["issue_time", "vr,issue_time", "Time,issue_time", ""])
@pytest.mark.parametrize("fmt", ["csv", "binary", "json"])
def test_time_columns_in_every_format(ops, parameters, fmt):
    """A dataset of only a time column once overran the CSV writer's buffer (the HAPI verifier's
    request with parameters=issue_time crashed the server): every combination, every format."""
    client = TestClient(create_app(ops))
    url = f"/hapi/data?dataset=forecast_earth&start=2008-08-04&stop=2008-08-13&format={fmt}"
    response = client.get(url + (f"&parameters={parameters}" if parameters else ""))
    assert response.status_code == 200
    if fmt == "csv":
        rows = response.text.splitlines()
        assert len(rows) == 168 and all(r.count("Z") == 1 + ("issue_time" in parameters or not parameters) for r in rows)


def test_metadata_carry_last_modified_and_data_gzip(ops):
    client = TestClient(create_app(ops))
    for route in ("/hapi/about", "/hapi/capabilities", "/hapi/catalog", "/hapi/info?dataset=forecast_runs"):
        assert client.get(route).headers["last-modified"].endswith(" GMT"), route
    data = client.get("/hapi/data?dataset=forecast_earth&start=2008-08-04&stop=2008-08-13",
                      headers={"Accept-Encoding": "gzip"})
    assert data.headers["content-encoding"] == "gzip" and len(data.text.splitlines()) == 168
    assert client.get("/hapi/").headers["content-type"].startswith("text/html")
    info = client.get("/hapi/info?dataset=forecast_earth").json()     # where the HAPI verifier's default request looks
    rows = client.get(f"/hapi/data?dataset=forecast_earth&start={info['sampleStartDate']}&stop={info['sampleStopDate']}")
    assert rows.headers["x-hapi-status"] == "1200" and len(rows.text.splitlines()) == 24 + 1


def test_cme_posts_that_are_too_big_too_deep_or_from_the_future(ops):
    client = TestClient(create_app(ops, token=TOKEN))
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert client.post("/api/cme", content=b"[" * 60_000, headers=auth).status_code == 400      # too deep
    assert client.post("/api/cme", content=b" " * (65 * 1024), headers=auth).status_code == 413
    future = client.post("/api/cme", json=ANALYSIS | {"time21_5": "2099-01-01T00:00Z"}, headers=auth)
    assert future.status_code == 400 and "describes the past" in future.json()["error"]


def _older(url: str, drop: list[str]) -> None:
    """Make ``url`` look written by an older version: without the tables or columns ``drop`` names."""
    import sqlite3
    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
        for item in drop:
            table, _, column = item.partition(".")
            db.execute(f"ALTER TABLE {table} DROP COLUMN {column}" if column else f"DROP TABLE {table}")


FORECAST_PATHS = ["/hapi/info?dataset=forecast_earth", "/hapi/info?dataset=forecast_runs",
                  "/hapi/data?dataset=forecast_earth&start=2008-08-01T00:00Z&stop=2008-09-01T00:00Z",
                  "/json/forecast/earth.json", "/api/forecast", "/api/verification", "/json/alerts.json"]


@pytest.mark.slow
def test_an_archive_from_before_forecasts_reads_as_one_without_runs(two_days, tmp_path, capsys):
    """The station's archive written before feeds and forecasts existed (no feed, CME, run or
    watch tables), opened read-only while no writer has upgraded it: every forecast product
    answers as for an archive without runs, and ``verify`` scores nothing, in one line."""
    from l4station.cli import main
    from l4station.ground.store import OTHER_TABLES
    url = f"sqlite:///{tmp_path / 'old.db'}"
    with Archive(url) as archive:
        ingest.ingest_bytes(archive, two_days.data, source="test", received_us=_us("2026-11-22"))
    _older(url, list(OTHER_TABLES))
    client = TestClient(create_app(url + "?mode=ro"))
    for path in FORECAST_PATHS:
        answer = client.get(path)
        assert answer.status_code in (200, 404) and "1500" not in answer.text, (path, answer.text)
    assert client.get("/json/forecast/earth.json").json() == []
    with pytest.raises(SystemExit) as done:
        main(["verify", "--db", url + "?mode=ro", "--json"])
    assert done.value.code == 0 and json.loads(capsys.readouterr().out)["runs"] == 0


@pytest.mark.slow
def test_a_reader_sees_the_median_once_a_writer_adds_its_column(ops, tmp_path):
    """A read-only server started on an archive from before ``vr_p50``: once a writer opens the
    archive (adding the column) and issues, the server serves the new runs' medians."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    shutil.copy(ops.removeprefix("sqlite:///"), url.removeprefix("sqlite:///"))
    _older(url, ["forecast_values.vr_p50"])
    client = TestClient(create_app(url + "?mode=ro"))
    assert all(row["v_r_p50"] is None for row in client.get("/json/forecast/earth.json").json())
    with Archive(url) as archive:
        replay.replay(archive, insitu.packaged(), _us("2008-08-23"), _us("2008-08-23"))
    served = client.get("/json/forecast/earth.json").json()
    assert served and all(row["v_r_p50"] is not None for row in served)

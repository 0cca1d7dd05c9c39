"""The rest of the server: SWPC-style products, alerts, dashboard data and the write path's
security (token, size, read-only methods, no path from a request to the filesystem)."""
import numpy as np
import pytest
from fastapi.testclient import TestClient

from l4station.ground import ingest
from l4station.ground.server import MAX_INGEST_BYTES, create_app
from l4station.ground.store import Archive


@pytest.fixture(scope="module")
def served(tmp_path_factory, two_days):
    url = f"sqlite:///{tmp_path_factory.mktemp('server') / 'a.db'}"
    with Archive(url) as archive:
        ingest.ingest_bytes(archive, two_days.data, source="test")
    return url, TestClient(create_app(url, token="t0ken"))


def test_swpc_products_have_noaas_layout(served):
    """NOAA SWPC products/solar-wind/plasma-*.json and mag-*.json: header row, then strings."""
    url, client = served
    plasma = client.get("/products/solar-wind/plasma-2-hour.json").json()
    mag = client.get("/products/solar-wind/mag-1-day.json").json()
    assert plasma[0] == ["time_tag", "density", "speed", "temperature"] and len(plasma) == 121
    assert mag[0] == ["time_tag", "bx_gsm", "by_gsm", "bz_gsm", "lon_gsm", "lat_gsm", "bt"] and len(mag) == 1441
    assert plasma[-1][0] == "2026-11-21 23:59:00.000" and all(isinstance(v, str) for v in plasma[-1])
    with Archive(url) as archive:
        last = archive.columns("plasma", 1_795_305_540_000_000, 1_795_305_600_000_000)
        bn = archive.columns("mag", 1_795_305_540_000_000, 1_795_305_600_000_000)["bn"]
    speed = np.sqrt(last["vr"] ** 2 + last["vt"] ** 2 + last["vn"] ** 2)[0]
    assert float(plasma[-1][2]) == pytest.approx(speed, abs=0.05)
    assert float(mag[-1][3]) == pytest.approx(bn.mean(), abs=0.006)          # bz = N, 1-minute mean
    bx, by, bz, lon, lat, bt = map(float, mag[-1][1:])
    assert bt == pytest.approx(np.sqrt(bx ** 2 + by ** 2 + bz ** 2), abs=0.01)
    assert lon == pytest.approx(np.degrees(np.arctan2(by, bx)) % 360, abs=0.2)
    assert client.get("/products/solar-wind/plasma-9-day.json").status_code == 404


def test_alerts_served_as_json(served):
    _, client = served
    found = client.get("/api/alerts").json()["alerts"]
    kinds = {(a["kind"], a["level"]) for a in found}
    assert {("shock", "shock"), ("radiation", "S1"), ("radiation", "S2")} <= kinds
    shock = next(a for a in found if a["kind"] == "shock")
    assert shock["start"].startswith("2026-11-21T02:2")          # the simulated shock at 55 % of 48 h (02:24)


def test_dashboard_data(served):
    _, client = served
    panels = client.get("/api/panels?span=2-hour").json()
    assert set(panels["series"]) == {"bt", "bn", "density", "speed", "temperature", "p10"}
    assert len(panels["series"]["bt"]["t"]) == 720 and len(panels["series"]["speed"]["t"]) == 120
    week = client.get("/api/panels?span=7-day").json()
    assert len(week["series"]["bt"]["t"]) <= 1600               # min/max bins beyond 1500 points
    assert client.get("/api/panels?span=forever").status_code == 400
    page = client.get("/")
    assert "plotly.min.js" in page.text and "cdn" not in page.text.lower()
    assert client.get("/dashboard/plotly.min.js").content.startswith(b"/**")
    status = client.get("/api/status").json()
    assert status["datasets"]["mag"]["last"] == "2026-11-21T23:59:50.000Z"


def test_ingest_needs_the_token_and_a_bounded_body(served, two_days):
    _, client = served
    body = two_days.data[:25 * 100]
    assert client.post("/api/ingest", content=body).status_code == 401
    assert client.post("/api/ingest", content=body, headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = client.post("/api/ingest", content=body, headers={"Authorization": "Bearer t0ken"})
    assert ok.status_code == 200 and ok.json()["duplicates"] == ok.json()["valid"] > 0
    big = client.post("/api/ingest", content=b"\0" * (MAX_INGEST_BYTES + 1), headers={"Authorization": "Bearer t0ken"})
    assert big.status_code == 413


def test_read_only_and_no_filesystem_paths(served, tmp_path):
    url, client = served
    assert client.post("/hapi/data?dataset=plasma").status_code == 405
    assert client.delete("/hapi/catalog").status_code == 405
    assert client.get("/dashboard/..%2F..%2Fserver.py").status_code == 404
    assert client.get("/dashboard/index.html").status_code == 404        # only the fixed table is served
    off = TestClient(create_app(url))
    assert off.post("/api/ingest", content=b"x", headers={"Authorization": "Bearer "}).status_code == 403

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


# ---- edges: query parameters, methods, HEAD, the token ------------------------------------------

@pytest.mark.parametrize("hours", ["nan", "inf", "-inf", "1e300", "-1", "0", "abc", ""])
def test_alert_hours_out_of_range_is_a_400_naming_the_range(served, hours):
    _, client = served
    response = client.get(f"/api/alerts?hours={hours}")
    assert response.status_code == 400
    body = response.json()
    assert body["parameter"] == "hours" and body["allowed"] == {"above": 0, "max": 8784}
    assert body["error"] == f"hours must be a number of hours, more than 0 and at most 8784; got {hours!r}"
    assert client.get("/api/alerts?hours=8784").status_code == 200


HAPI_ROUTES = ["/hapi", "/hapi/about", "/hapi/capabilities", "/hapi/catalog", "/hapi/info?dataset=plasma",
               "/hapi/data?dataset=plasma&start=2026-11-20&stop=2026-11-20T01Z", "/hapi/nonsense"]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("route", HAPI_ROUTES)
def test_other_methods_on_hapi_get_a_hapi_405(served, method, route):
    """HAPI 3.3 section 3: the endpoints are read with GET; anything else gets a HAPI status
    document (code 1400, user input error) with HTTP 405 and the Allow header of RFC 9110 15.5.6."""
    _, client = served
    response = client.request(method, route)
    assert response.status_code == 405 and response.headers["allow"] == "GET, HEAD"
    body = response.json()
    assert body["HAPI"] == "3.3" and body["status"]["code"] == 1400
    assert body["status"]["message"] == f"HAPI error 1400: Bad request - user input error: method {method} not allowed; " \
                                        "HAPI is read with GET, HEAD"


GET_ROUTES = {
    "/hapi": "/hapi", "/hapi/": "/hapi/", "/hapi/about": "/hapi/about", "/hapi/capabilities": "/hapi/capabilities",
    "/hapi/catalog": "/hapi/catalog", "/hapi/info": "/hapi/info?dataset=mag",
    "/hapi/data": "/hapi/data?dataset=mag&start=2026-11-20T23Z&stop=2026-11-21T01Z&parameters=bn",
    "/hapi/{endpoint:path}": "/hapi/nonsense",
    "/products/solar-wind/{product}.json": "/products/solar-wind/mag-1-day.json",
    "/api/status": "/api/status", "/api/alerts": "/api/alerts?hours=24", "/api/panels": "/api/panels",
    "/": "/", "/dashboard/{name}": "/dashboard/app.js",
    "/json/rtsw/{product}.json": "/json/rtsw/rtsw_mag_1m.json", "/json/forecast/{target}.json": "/json/forecast/earth.json",
    "/api/forecast": "/api/forecast", "/api/verification": "/api/verification", "/api/cme": "/api/cme",
    "/json/alerts.json": "/json/alerts.json", "/api/forecast/panel": "/api/forecast/panel",
    "/api/dose": "/api/dose?hours=24", "/api/files": "/api/files", "/api/files/{name}": "/api/files/none.bin",
}


def test_every_get_route_is_in_the_head_table(served):
    _, client = served
    def flat(routes):       # routers included in the application hold their own routes
        for r in routes:
            yield from flat(r.original_router.routes) if hasattr(r, "original_router") else [r]
    routes = {r.path for r in flat(client.app.routes) if "GET" in getattr(r, "methods", ())}
    assert routes == set(GET_ROUTES)


@pytest.mark.slow
@pytest.mark.parametrize("route", list(GET_ROUTES.values()))
def test_head_on_every_get_route(served, route):
    """RFC 9110 9.3.2: HEAD is GET without the content, same status and header fields."""
    _, client = served
    get, head = client.get(route), client.head(route)
    assert head.status_code == get.status_code and head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    if route != "/api/status":                          # its body holds the clock
        assert head.headers.get("content-length") == get.headers.get("content-length")
    assert head.headers.get("x-hapi-status") == get.headers.get("x-hapi-status")


@pytest.mark.parametrize("header, code", [("Bearer t0ken", 200), ("bearer t0ken", 200), ("BEARER t0ken", 200),
                                          ("bEaReR  t0ken", 200), ("Bearer T0KEN", 401), ("Bearer t0ke", 401),
                                          ("t0ken", 401), ("Basic t0ken", 401), ("Bearer", 401), ("", 401)])
def test_bearer_scheme_in_any_case(served, two_days, header, code):
    """RFC 7235 2.1: the scheme name is case-insensitive; the token itself is not."""
    _, client = served
    response = client.post("/api/ingest", content=two_days.data[:25 * 4], headers={"Authorization": header})
    assert response.status_code == code
    if code == 401:
        assert response.headers["www-authenticate"] == "Bearer"


def test_token_is_checked_before_the_body_is_read(served):
    """A wrong token is refused without reading a body (here one that never ends)."""
    _, client = served

    def endless():
        while True:
            yield b"\0" * 65536

    response = client.post("/api/ingest", content=endless(), headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401


@pytest.fixture
def token_archive(tmp_path, two_days):
    url = f"sqlite:///{tmp_path / 't.db'}"
    Archive(url).close()
    return url


@pytest.mark.slow
@pytest.mark.parametrize("how", ["env", "file", "file-over-env"])
def test_token_from_the_environment_or_a_file(run_server, token_archive, tmp_path, two_days, how):
    """The token need not appear in the process list (`ps`): L4STATION_TOKEN or --token-file."""
    import httpx
    path = tmp_path / "token"
    path.write_text("s3cret-from-file\n")
    args, env, token = {"env": ([], {"L4STATION_TOKEN": "s3cret-env"}, "s3cret-env"),
                        "file": (["--token-file", str(path)], {}, "s3cret-from-file"),
                        "file-over-env": (["--token-file", str(path)], {"L4STATION_TOKEN": "other"},
                                          "s3cret-from-file")}[how]
    process, base = run_server(token_archive, *args, env=env)
    assert token not in " ".join(process.args)
    body = two_days.data[:25 * 40]
    ok = httpx.post(f"{base}/api/ingest", content=body, headers={"Authorization": f"bearer {token}"}, timeout=20)
    assert ok.status_code == 200 and ok.json()["stored_rows"] == ok.json()["valid"] > 0
    assert httpx.post(f"{base}/api/ingest", content=body, headers={"Authorization": "Bearer nope"},
                      timeout=20).status_code == 401


@pytest.mark.slow
@pytest.mark.parametrize("content, message", [
    (None, "cannot read the token from --token-file {path}: No such file or directory"),
    ("", "--token-file {path} is empty: write the token on its first line"),
    ("\n  \n", "--token-file {path} is empty: write the token on its first line"),
])
def test_unusable_token_file_is_one_line_and_exit_2(token_archive, tmp_path, content, message):
    import os
    import subprocess
    import sys
    from pathlib import Path
    path = tmp_path / "token"
    if content is not None:
        path.write_text(content)
    env = {k: v for k, v in os.environ.items() if not k.startswith("L4STATION_")}
    env["PYTHONPATH"] = str(Path(__file__).parents[2] / "src")
    done = subprocess.run([sys.executable, "-m", "l4station", "serve", "--db", token_archive, "--port", "1",
                           "--token-file", str(path)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["l4station: error: " + message.format(path=path)]


def test_head_on_a_long_span_does_not_format_it(served, monkeypatch):
    """HEAD on a streamed HAPI span sends the headers without producing the rows."""
    from l4station.ground import hapi
    _, client = served
    route = "/hapi/data?dataset=mag&start=2026-11-20&stop=2026-11-23&format=json"
    get = client.get(route, headers={"Accept-Encoding": "gzip"})
    monkeypatch.setattr(hapi, "_json_data", lambda *a: pytest.fail("rows formatted for HEAD"))
    head = client.head(route, headers={"Accept-Encoding": "gzip"})
    assert head.status_code == 200 and head.content == b"" and "content-length" not in get.headers
    assert head.headers["content-type"] == get.headers["content-type"] == "application/json"
    # gzip frames both alike: no Content-Length of an empty body's gzip on the HEAD (RFC 9110 9.3.2)
    framing = ("content-encoding", "content-length", "vary")
    assert {k: head.headers.get(k) for k in framing} == {k: get.headers.get(k) for k in framing}
    assert get.headers["content-encoding"] == "gzip"


def test_swpc_mag_minute_means_skip_missing_samples():
    """NOAA SWPC's 1-minute magnetometer means are over the samples present: a minute of
    [4, 4, 4, NaN, NaN, NaN] nT is 4.00 nT (not 2.00), and a minute with none is null."""
    from l4station.ground.server import swpc_table
    t = np.arange(12, dtype=np.int64) * 10_000_000
    b = np.array([4, 4, 4, np.nan, np.nan, np.nan] + [np.nan] * 6)
    rows = swpc_table("mag", {"t_us": t, "br": -b, "bt": 0 * b, "bn": 0 * b})
    assert rows[1][1:] == ["4.00", "0.00", "0.00", "0.00", "0.00", "4.00"]
    assert rows[2][1:] == [None] * 6

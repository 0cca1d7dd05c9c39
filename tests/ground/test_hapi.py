"""The HAPI server against the HAPI 3.3.0 specification's tables and rules, and read by the real
hapiclient over loopback."""
import json
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from l4station.ground import hapi, ingest
from l4station.ground.server import create_app
from l4station.ground.store import Archive

SPEC = json.loads((Path(__file__).parents[1] / "data" / "hapi-3.3-status.json").read_text())["codes"]
DAY = "2026-11-20"


@pytest.fixture(scope="module")
def archive_file(tmp_path_factory, two_days):
    url = f"sqlite:///{tmp_path_factory.mktemp('hapi') / 'a.db'}"
    with Archive(url) as archive:
        ingest.ingest_bytes(archive, two_days.data, source="test")
    return url


@pytest.fixture(scope="module")
def client(archive_file):
    return TestClient(create_app(archive_file, token="t0ken"))


def test_status_codes_and_messages_are_the_specs():
    assert {str(k): [http, msg] for k, (http, msg) in hapi.STATUS.items()} == SPEC


@pytest.mark.parametrize("url, code", [
    ("/hapi/data?dataset=plasma&start=2026-11-20&stop=2026-11-20T01Z", 1200),
    ("/hapi/data?dataset=plasma&start=2026-11-22T12Z&stop=2026-11-22T13Z", 1201),
    ("/hapi/data?start=2026-11-20&stop=2026-11-21", 1400),
    ("/hapi/nonsense", 1400),
    ("/hapi/data?dataset=plasma&dataset=mag&start=2026-11-20&stop=2026-11-21", 1400),
    ("/hapi/data?dataset=plasma&start=2026-11-20&stop=2026-11-21&colour=red", 1401),
    ("/hapi/data?dataset=plasma&start=2026-11-32&stop=2026-11-21", 1402),
    ("/hapi/data?dataset=plasma&start=2026-367&stop=2026-11-21", 1402),
    ("/hapi/data?dataset=plasma&start=2026-11-20&stop=tomorrow", 1403),
    ("/hapi/data?dataset=plasma&start=2026-11-21&stop=2026-11-21", 1404),
    ("/hapi/data?dataset=plasma&start=2026-11-19&stop=2026-11-21", 1405),
    ("/hapi/data?dataset=../../etc/passwd&start=2026-11-20&stop=2026-11-21", 1406),
    ("/hapi/info?dataset=solar_flares", 1406),
    ("/hapi/data?dataset=plasma&start=2026-11-20&stop=2026-11-21&parameters=speed", 1407),
    ("/hapi/data?dataset=plasma&start=2026-11-20&stop=2026-11-21&format=xml", 1409),
    ("/hapi/data?dataset=plasma&start=2026-11-20&stop=2026-11-21&include=footer", 1410),
    ("/hapi/data?dataset=plasma&start=2026-11-20&stop=2026-11-21&parameters=vr,density", 1411),
    ("/hapi/info?dataset=plasma&parameters=vr,vr", 1411),
    ("/hapi/info?dataset=plasma&resolve_references=maybe", 1412),
])
def test_each_status_in_the_http_code_and_the_json(client, url, code):
    response = client.get(url)
    assert response.status_code == SPEC[str(code)][0]
    if code in (1200, 1201):                 # CSV without a header: the status rides in a header
        assert response.headers["x-hapi-status"] == str(code)
        response = client.get(url + "&format=json")
    body = response.json()
    assert body["HAPI"] == "3.3" and body["status"]["code"] == code
    # the spec's text; errors led by "HAPI error NNNN", which the HAPI verifier (verifier-nodejs) asks for
    lead = "" if code < 1400 else f"HAPI error {code}: "
    assert body["status"]["message"].startswith(lead + SPEC[str(code)][1])


def test_1408_for_more_than_a_year():
    query = {"dataset": "plasma", "start": "2026-01-01", "stop": "2027-01-03"}
    with pytest.raises(hapi.HapiError) as error:
        hapi.data_request(query, None)
    assert error.value.code == 1408


@pytest.mark.parametrize("text, iso", [
    ("2017-01-15T23:00:00.000Z", "2017-01-15T23:00:00"), ("2017-01-15T23Z", "2017-01-15T23:00:00"),
    ("2017-015T23Z", "2017-01-15T23:00:00"), ("2017-01-15Z", "2017-01-15T00:00:00"),
    ("2016-366T12:30:15.5Z", "2016-12-31T12:30:15.5"), ("2017Z", "2017-01-01T00:00:00"),
    ("2017-01-15T23:59:59.123456", "2017-01-15T23:59:59.123456"),
])
def test_truncated_and_day_of_year_times(text, iso):
    """Spec 3.7.6.1 examples: truncated forms take the smallest value of what is missing."""
    assert hapi.parse_time(text, 1402) == np.datetime64(iso, "us").astype(np.int64)


def test_formatted_times_and_numbers_match_numpy_and_python():
    rng = np.random.default_rng(6)
    t = rng.integers(-10 ** 15, 4 * 10 ** 15, 2000) // 1000 * 1000
    texts = hapi._time_text(t).view("S24").ravel().astype(str)
    assert all(s == str(np.datetime64(int(v), "us").astype("datetime64[ms]")) + "Z" for s, v in zip(texts, t))
    values = np.concatenate([rng.normal(0, 500, 1000), 10 ** rng.uniform(-5, 9, 1000), [0.0, -0.004, np.nan]])
    for decimals in (2, -1):
        cells = hapi._csv(np.zeros(len(values), np.int64), values[:, None], np.array([decimals]),
                          np.frombuffer(b"-1.0E31", np.uint8)).tobytes().decode().splitlines()
        parsed = np.array([float(c.split(",")[1]) for c in cells])
        finite = np.isfinite(values)
        assert np.all(parsed[~finite] == -1e31)
        if decimals == 2:
            assert np.max(np.abs(parsed[finite] - values[finite])) <= 0.005 + 1e-9
        else:
            assert np.max(np.abs(parsed[finite] / np.where(values[finite] == 0, 1, values[finite]) - 1)
                          * (values[finite] != 0)) <= 5e-4


def test_start_is_inclusive_and_stop_exclusive(client):
    text = client.get("/hapi/data?dataset=plasma&start=2026-11-20T00:10Z&stop=2026-11-20T00:20Z&parameters=vr").text
    times = [line.split(",")[0] for line in text.splitlines()]
    assert times[0] == "2026-11-20T00:10:00.000Z" and times[-1] == "2026-11-20T00:19:00.000Z"


def test_the_three_formats_carry_the_same_data(client):
    base = "/hapi/data?dataset=mag&start=2026-11-20T03Z&stop=2026-11-20T05Z&parameters=br,bn"
    csv = [line.split(",") for line in client.get(base).text.splitlines()]
    binary = np.frombuffer(client.get(base + "&format=binary").content,
                           dtype=[("t", "S24"), ("br", "<f8"), ("bn", "<f8")])
    document = client.get(base + "&format=json").json()
    assert document["format"] == "json" and [p["name"] for p in document["parameters"]] == ["Time", "br", "bn"]
    assert len(csv) == len(binary) == len(document["data"]) > 600
    for row, record, item in zip(csv, binary, document["data"]):
        assert row[0] == record["t"].decode() == item[0]
        assert float(row[1]) == pytest.approx(record["br"], abs=0.005) and record["br"] == item[1]


def test_header_and_parameter_subsets(client):
    text = client.get("/hapi/data?dataset=plasma&start=2026-11-20&stop=2026-11-20T00:03Z&parameters=Time,temperature"
                      "&include=header").text
    header = json.loads("\n".join(line[1:] for line in text.splitlines() if line.startswith("#")))
    assert header["format"] == "csv" and [p["name"] for p in header["parameters"]] == ["Time", "temperature"]
    rows = [line for line in text.splitlines() if not line.startswith("#")]
    assert len(rows) == 3 and all(len(r.split(",")) == 2 for r in rows)
    only_time = client.get("/hapi/data?dataset=plasma&start=2026-11-20&stop=2026-11-20T00:03Z&parameters=Time").text
    assert only_time.splitlines()[0] == "2026-11-20T00:00:00.000Z"
    everything = client.get("/hapi/info?dataset=plasma&parameters=").json()
    assert [p["name"] for p in everything["parameters"]] == ["Time", "density", "vr", "vt", "vn", "temperature", "quality"]


def test_metadata_endpoints(client):
    assert client.get("/hapi/capabilities").json()["outputFormats"] == ["csv", "binary", "json"]
    about = client.get("/hapi/about").json()
    assert {"id", "title", "contact"} <= set(about)
    catalog = client.get("/hapi/catalog").json()["catalog"]
    assert [d["id"] for d in catalog] == ["plasma", "mag", "particles", "housekeeping", "forecast_earth", "forecast_moon",
                                          "forecast_mars", "forecast_runs", "dose_rates"]
    assert max(len(d["title"]) for d in catalog) <= 40          # the HAPI verifier warns on longer titles
    info = client.get("/hapi/info?dataset=particles").json()
    assert info["startDate"] == "2026-11-20T00:00:00.000Z" and info["cadence"] == "PT60S"
    assert info["parameters"][0] == {"name": "Time", "type": "isotime", "units": "UTC", "fill": None, "length": 24}
    assert client.get("/hapi").headers["content-type"].startswith("text/html")
    assert client.get("/hapi/catalog").headers["access-control-allow-origin"] == "*"


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["csv", "binary"])
def test_hapiclient_reads_our_server(live_server, fmt, tmp_path):
    """The community's Python client (hapiclient) against our server over loopback, on both
    archive back ends: what it reads is what the archive holds."""
    from hapiclient import hapi as hapi_client
    url, archive_url = live_server
    data, meta = hapi_client(f"{url}/hapi", "plasma", "vr,temperature", "2026-11-20T00:00:00Z",
                             "2026-11-21T00:00:00Z", format=fmt, logging=False, usecache=False,
                             cache=False, cachedir=str(tmp_path))
    with Archive(archive_url) as archive:
        truth = archive.columns("plasma", 1_795_132_800_000_000, 1_795_219_200_000_000)
    assert meta["status"]["code"] == 1200 and len(data) == len(truth["t_us"]) > 1000
    assert np.allclose(data["vr"], truth["vr"], atol=0.05)
    assert np.allclose(data["temperature"], truth["temperature"], rtol=1e-3)
    assert data["Time"][0].decode() == "2026-11-20T00:00:00.000Z"


@pytest.mark.slow
def test_hapiclient_reads_the_crews_dose_rates(live_server, tmp_path):
    """The dose_rates dataset, computed from the archived proton channels as it is read: what
    hapiclient gets is each scenario's BFO rate from those channels (radiation.dose)."""
    from hapiclient import hapi as hapi_client

    from l4station.radiation import dose
    url, archive_url = live_server
    data, meta = hapi_client(f"{url}/hapi", "dose_rates", "cabin_bfo,shelter_bfo", "2026-11-20T06:00:00Z",
                             "2026-11-20T18:00:00Z", logging=False, usecache=False, cache=False,
                             cachedir=str(tmp_path))
    with Archive(archive_url) as archive:
        truth = archive.columns("particles", 1_795_154_400_000_000, 1_795_197_600_000_000)
    flux = np.stack([truth[c] for c in dose.STATION_CHANNELS], axis=-1)
    assert meta["status"]["code"] == 1200 and len(data) == len(truth["t_us"]) > 600
    assert [p["units"] for p in meta["parameters"][1:]] == ["mGy-Eq/h", "mGy-Eq/h"]
    for name, scenario in (("cabin_bfo", dose.SCENARIOS[1]), ("shelter_bfo", dose.SCENARIOS[2])):
        assert np.allclose(data[name], dose.dose_rate(dose.STATION_CHANNELS_MEV, flux, scenario), rtol=1e-3)


# ---- streaming day by day, and the bounded cache ------------------------------------------------

def _whole(url: str, query: dict) -> bytes:
    """The response as formatted before streaming: every row of the span at once, read straight
    from the archive."""
    with Archive(url) as archive:
        extent = archive.extent(query["dataset"])
        r = hapi.data_request(query, hapi.extent_dates(extent))
        columns = archive.columns(r.dataset.name, r.start_us, r.stop_us)
    columns = {k: columns[k] for k in ["t_us", *r.parameters]}
    code = 1200 if len(columns["t_us"]) else 1201
    if r.format == "json":
        return hapi.json_document(r, columns, extent, code)
    rows = hapi.csv_rows(r, columns) if r.format == "csv" else hapi.binary_rows(r, columns)
    return (hapi.header_lines(r, extent, code) if r.header else b"") + rows


SPANS = {
    "across midnight": ("mag", "2026-11-20T21:13:10Z", "2026-11-21T02:00:05Z"),
    "partial day": ("plasma", "2026-11-21T06:30Z", "2026-11-21T06:47:30Z"),
    "two whole days": ("mag", "2026-11-20", "2026-11-22"),
    "from the first day into the empty one": ("particles", "2026-11-21T23Z", "2026-11-22T05Z"),
    "empty": ("plasma", "2026-11-22T01Z", "2026-11-22T02Z"),
    "one sample": ("mag", "2026-11-20T12:00:00Z", "2026-11-20T12:00:01Z"),
    "three days, partial at both ends": ("particles", "2026-11-20T13:17Z", "2026-11-22T23:59:59.5Z"),
    "up to the stopDate": ("mag", "2026-11-20T00:00:10Z", "2026-11-23"),
}


@pytest.mark.slow
@pytest.mark.parametrize("cache_bytes, whole_days", [(64 * 2 ** 20, 2), (300_000, 0), (0, 0)],
                         ids=["roomy cache, short spans at once", "evicting cache, streamed", "no cache, streamed"])
@pytest.mark.parametrize("extra", ["", "&parameters=bn", "&parameters=Time", "&include=header",
                                   "&parameters=quality&include=header"])
@pytest.mark.parametrize("fmt", ["csv", "binary", "json"])
@pytest.mark.parametrize("span", list(SPANS))
def test_streamed_day_by_day_is_byte_identical_to_all_at_once(archive_file, span, fmt, extra, cache_bytes,
                                                              whole_days, monkeypatch):
    """Day-by-day chunks (from a roomy cache, one that evicts, and none at all; streamed, or
    joined for short spans) against all rows formatted at once, for every format, parameter
    subsets and the header."""
    from l4station.ground import server
    monkeypatch.setattr(server, "WHOLE_RESPONSE_DAYS", whole_days)
    dataset, start, stop = SPANS[span]
    if "bn" in extra and dataset != "mag":
        extra = extra.replace("bn", "quality")
    query = {"dataset": dataset, "start": start, "stop": stop, "format": fmt}
    for item in extra.split("&")[1:]:
        key, value = item.split("=")
        query[key] = value
    client = _clients(archive_file, cache_bytes)
    response = client.get("/hapi/data", params=query)
    assert response.status_code == 200
    assert response.content == _whole(archive_file, query)
    streamed = whole_days == 0 or span.startswith(("three", "up to"))
    if span != "empty":          # an empty stream is one empty message: gzip gives it a length
        assert ("content-length" in response.headers) == (not streamed)
    if span == "empty" and fmt != "json":
        assert response.headers["x-hapi-status"] == "1201"


_CLIENTS = {}


def _clients(url, cache_bytes):
    if (url, cache_bytes) not in _CLIENTS:
        _CLIENTS[(url, cache_bytes)] = TestClient(create_app(url, cache_bytes=cache_bytes))
    return _CLIENTS[(url, cache_bytes)]


def _mag(t_us) -> bytes:
    from l4station.ground import packets
    n = len(t_us)
    values = {"br": np.full(n, 1.0), "bt": np.full(n, 2.0), "bn": np.linspace(-5, 5, n), "quality": np.zeros(n)}
    return packets.encode(packets.dictionary()["mag"], t_us, np.arange(n), values).tobytes()


def test_new_data_show_up_through_the_cache(tmp_path):
    """Data ingested after chunks were cached appear: late samples inside a cached day, a new
    day, from the server's own ingest endpoint and from another process (another connection)."""
    url = f"sqlite:///{tmp_path / 'grow.db'}"
    day0 = 1_795_132_800_000_000                      # 2026-11-20
    t = day0 + np.arange(0, 8640, 2) * 10_000_000     # every other sample of the first day
    with Archive(url) as archive:
        ingest.ingest_bytes(archive, _mag(t), source="test")
    client = TestClient(create_app(url, token="t0ken", cache_bytes=10 * 2 ** 20))
    query = "/hapi/data?dataset=mag&start=2026-11-20&stop=2026-11-22&parameters=bn"
    assert client.get(query).text.count("\n") == 4320
    assert client.get("/api/status").json()["datasets"]["mag"]["samples"] == 4320
    assert client.get("/hapi/info?dataset=mag").json()["stopDate"] == "2026-11-22T00:00:00.000Z"

    late = day0 + np.arange(1, 8640, 2) * 10_000_000  # the other half, late, into the cached day
    with Archive(url) as other:                       # as another process would
        ingest.ingest_bytes(other, _mag(late), source="other")
    assert client.get(query).text.count("\n") == 8640
    assert client.get(query).content == _whole(url, {"dataset": "mag", "start": "2026-11-20",
                                                     "stop": "2026-11-22", "parameters": "bn"})
    assert client.get("/api/status").json()["datasets"]["mag"]["samples"] == 8640

    next_day = day0 + 86_400_000_000 + np.arange(360) * 10_000_000
    posted = client.post("/api/ingest", content=_mag(next_day), headers={"Authorization": "Bearer t0ken"})
    assert posted.status_code == 200 and posted.json()["stored_rows"] == 360
    assert client.get(query).text.count("\n") == 8640 + 360
    assert client.get("/api/status").json()["datasets"]["mag"]["samples"] == 9000
    assert client.get("/hapi/info?dataset=mag").json()["stopDate"] == "2026-11-23T00:00:00.000Z"
    assert client.get("/products/solar-wind/mag-2-hour.json").json()[-1][0] == "2026-11-21 00:59:00.000"


def test_cache_stays_within_its_bytes(archive_file):
    from l4station.ground.server import ChunkCache
    cache = ChunkCache(400_000)                       # about one day of magnetometer samples (8640 x 5 x 8 B)
    with Archive(archive_file) as archive:
        for day in range(20_777, 20_779):             # 2026-11-20 and 21
            for name in ("mag", "plasma", "particles"):
                chunk = cache.day(archive, name, day)
                assert len(chunk["t_us"]) in (8640, 1440)
                assert cache.bytes == sum(sum(v.nbytes for v in c.values()) for c in cache.chunks.values())
                assert cache.bytes <= 400_000
    assert ("particles", 20_778) in cache.chunks and ("mag", 20_777) not in cache.chunks
    big = ChunkCache(2 ** 20)
    with Archive(archive_file) as archive:
        two = big.days(archive, "plasma", 20_777, 20_779)              # one read, split in days
    assert [len(c["t_us"]) for c in two] == [1440, 1440] and len(big.chunks) == 2
    # each chunk owns its memory (no view holding the whole read), so the byte count is true
    assert all(v.base is None for c in big.chunks.values() for v in c.values())

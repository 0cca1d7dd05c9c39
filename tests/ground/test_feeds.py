"""Feeds: NOAA RTSW JSON in its current object layout and HAPI datasets read with hapiclient,
into the archive. The RTSW sample (tests/data/rtsw, written by builders/rtsw_sample.py) holds real
OMNI hourly speeds of 2008-08-06 (BRaVDA files, Lang & Owens 2019) in the layout of NWS Service
Change Notice 26-21, with a spacecraft switch, fills, flagged, repeated and out-of-order rows."""
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from l4station.cli import main
from l4station.ground import feeds
from l4station.ground.store import Archive

DATA = Path(__file__).parents[1] / "data"
WIND = DATA / "rtsw" / "rtsw_wind_1m.json"
MAG = DATA / "rtsw" / "rtsw_mag_1m.json"


def _omni_hour(day_of_year: int, hour: int) -> float:
    table = np.loadtxt(DATA / "solarwind" / "OMNI_observations.txt")
    row = table[(table[:, 0] == 2008) & (table[:, 1] == day_of_year) & (table[:, 2] == hour)]
    return float(row[0, 3])


def test_rtsw_sample_parses_with_everything_planted_counted():
    rows = feeds.parse_rtsw(WIND.read_text())
    assert rows.kind == "wind" and len(rows.t_us) == 720                   # 360 minutes x 2 spacecraft
    assert rows.counts == {"rows": 721, "malformed": 0, "fill": 2, "out_of_range": 0, "bad_flag": 0, "out_of_order": 2,
                           "repeated": 1, "switches": 1, "suspect": 2, "error": 2}
    assert set(rows.spacecraft) == {"SOLAR1", "IMAP"}                       # whatever the fleet is called
    first = rows.t_us == rows.t_us.min()
    solar1 = np.array(rows.spacecraft) == "SOLAR1"
    # OMNI, 2008-08-06 (day 219) 00 UTC, km/s: exact to the file's 0.1 km/s
    assert rows.values["speed"][first & solar1][0] == pytest.approx(_omni_hour(219, 0), abs=0.05)
    assert np.isnan(rows.values["density"][rows.t_us == rows.t_us.min() + 10 * 60_000_000]).all()   # the fill


def test_feed_is_idempotent_and_never_alters_a_stored_row(archive_url):
    source = feeds.parse_source(f"rtsw:{WIND.parent}")
    with Archive(archive_url) as archive:
        first = feeds.run(archive, source, now_us=1)
        again = feeds.run(archive, source, now_us=2)
        assert first["stored"] == 1440 and again["stored"] == 0              # wind and mag, 720 rows each
        changed = json.loads(WIND.read_text())
        for row in changed:
            row["proton_speed"] = 999.0
        feeds.store(archive, source, [feeds.parse_rtsw(json.dumps(changed))], 3)
        speeds = archive.query("SELECT MAX(speed), MIN(received_us), MAX(received_us) FROM feed_wind")[0]
        assert speeds[0] < 999.0 and (speeds[1], speeds[2]) == (1, 1)
        kept = archive.query("SELECT quality, active FROM feed_wind WHERE spacecraft = 'IMAP' ORDER BY t_us")
        assert kept[0] == (0, 0) and kept[-1] == (0, 1)                       # flags kept, the switch at 03:00


def test_a_late_value_fills_a_missing_one_and_never_replaces_a_stored_one(archive_url):
    """A minute first sent as fill (NOAA may fill it in later) takes the value when it comes;
    a value stored once is kept whatever comes after."""
    source = feeds.parse_source("rtsw:late.json")

    def send(speed, quality, received):
        row = {"time_tag": "2026-05-01T00:00:00", "source": "SOLAR1", "active": True, "proton_speed": speed,
               "proton_density": 5.0, "overall_quality": quality}
        return feeds.store(archive, source, [feeds.parse_rtsw(json.dumps([row]))], received)["stored"]
    with Archive(archive_url) as archive:
        assert send(-9999, 0, 1) == 1 and send(450.0, 0, 2) == 1 and send(999.0, 0, 3) == 0
        assert archive.query("SELECT speed, quality, received_us FROM feed_wind") == [(450.0, 0, 2)]   # when it came


@pytest.mark.parametrize("flag, stored", [(0, 0), (2, 2), (2.0, 2), ("2", 2), ("1", 1), (" 0 ", 0), ("x", None),
                                          (3, None), (-1, None), (1.5, None), (None, None)])
def test_quality_flags_are_read_in_any_sensible_spelling(flag, stored):
    row = {"time_tag": "2026-05-01T00:00:00", "source": "ACE", "active": "false", "proton_speed": 400.0,
           "overall_quality": flag}
    rows = feeds.parse_rtsw(json.dumps([row]))
    assert rows.quality == [stored] and rows.active == [0]
    assert rows.counts["bad_flag"] == (stored is None and flag is not None)


@pytest.mark.parametrize("text, message", [
    ("{not json", "not JSON"),
    ('[["time_tag", "speed"], ["2026-05-01 00:00:00.000", "400"]]', "neither RTSW wind"),
    ('{"time_tag": "x"}', "expected a JSON array"),
    ('[{"time_tag": "2026-05-01T00:00:00", "source": "ACE", "kp": 3}]', "neither RTSW wind"),
    ("[" * 100_000, "nested too deeply"),
])
def test_bad_documents_are_one_line(text, message):
    with pytest.raises(feeds.FeedError, match=message):
        feeds.parse_rtsw(text)


row = st.fixed_dictionaries({}, optional={
    "time_tag": st.one_of(st.just("2026-05-01T00:00:00"), st.text(max_size=25), st.integers(), st.none()),
    "source": st.one_of(st.sampled_from(["SOLAR1", "ACE", "IMAP", ""]), st.integers(), st.text(max_size=40)),
    "active": st.one_of(st.booleans(), st.integers(-2, 3), st.none(), st.text(max_size=3)),
    "proton_speed": st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.just(-9999), st.text(max_size=5),
                              st.none(), st.lists(st.integers(), max_size=2)),
    "overall_quality": st.one_of(st.integers(-3, 5), st.none(), st.floats()),
})


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.one_of(row, st.integers(), st.none(), st.text(max_size=4)), max_size=12))
def test_whatever_a_source_sends_is_parsed_or_refused_in_one_line(rows, tmp_path):
    try:
        parsed = feeds.parse_rtsw(json.dumps(rows, allow_nan=True))
    except feeds.FeedError as error:
        assert "\n" not in str(error)
        return
    speeds = parsed.values["speed"]
    assert np.all(np.isnan(speeds) | ((speeds >= 100) & (speeds <= 3000)))    # stored only if physical
    assert sum(parsed.counts[k] for k in ("malformed", "repeated")) + len(parsed.t_us) == len(rows)


@pytest.mark.parametrize("tag, expected_us", [
    ("2026-05-01T05:00:00+05:00", 1_777_593_600_000_000), ("2026-05-01T00:00:00Z", 1_777_593_600_000_000),
    ("2026-05-01 00:00:00.000", 1_777_593_600_000_000), ("99999999-01-01T00:00", None), ("1800-01-01T00:00", None),
    ("2100-01-01T00:00:00", None), ("2026-02-30T00:00", None)])
def test_time_tags_in_utc_and_only_plausible_ones(tag, expected_us):
    rows = feeds.parse_rtsw(json.dumps([{"time_tag": tag, "source": "ACE", "proton_speed": 400.0}]))
    assert rows.t_us.tolist() == ([] if expected_us is None else [expected_us])
    assert rows.counts["malformed"] == (expected_us is None)


def test_odd_values_are_counted_not_raised():
    rows = [{"time_tag": "2026-05-01T00:00:00", "source": "ACE", "proton_speed": 10 ** 400},
            {"time_tag": "2026-05-01T00:01:00", "source": "\ud800", "proton_speed": 400.0}]
    parsed = feeds.parse_rtsw(json.dumps(rows))
    assert parsed.counts["out_of_range"] == 1 and parsed.counts["malformed"] == 1


@pytest.mark.slow
def test_hapi_feed_with_hapiclient_stores_what_the_server_holds(live_server, tmp_path, capsys):
    """Our own server on loopback as the HAPI source, read by hapiclient."""
    base, station_url = live_server
    server = f"{base}/hapi"
    target = f"sqlite:///{tmp_path / 'feeds.db'}"
    with pytest.raises(SystemExit) as done:
        main(["feed", f"hapi:{server}#plasma", "--point", "L5", "--db", target, "--start", "2026-11-20T00:00:00",
              "--stop", "2026-11-20T06:00:00", "--json"])
    assert done.value.code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["stored"] == 360 and summary["point"] == "L5"                # 6 h of 1-min wind; no GSM field
    with Archive(station_url) as station, Archive(target) as fed:
        held = station.columns("plasma", 1_795_132_800_000_000, 1_795_154_400_000_000, ["vr", "density"])
        got = fed.query("SELECT t_us, speed, density FROM feed_wind ORDER BY t_us")
    assert [r[0] for r in got] == held["t_us"].tolist()
    # the server writes vr with 1 decimal (0.1 km/s resolution of the packet)
    assert np.allclose([r[1] for r in got], held["vr"], atol=0.051)


@pytest.mark.slow
def test_a_forecast_dataset_is_never_fed_as_observations(live_server, tmp_path, capsys):
    """Our own forecast_earth (vr, its percentiles, issue_time) read back as a feed would store
    forecasts as L1 measurements and verify the forecast against itself: refused, nothing written."""
    base, _ = live_server
    target = tmp_path / "feeds.db"
    with pytest.raises(SystemExit) as done:
        main(["feed", f"hapi:{base}/hapi#forecast_earth", "--db", f"sqlite:///{target}"])
    err = capsys.readouterr().err
    assert done.value.code == 2 and "holds forecasts (issue_time, vr_p10, vr_p50, vr_p90)" in err
    assert "Traceback" not in err and not target.exists()
    # polling does not retry a source that can never be fed, and hapiclient's progress lines stay out
    with pytest.raises(SystemExit) as done:
        main(["feed", f"hapi:{base}/hapi#forecast_runs", "--every", "1s", "--db", f"sqlite:///{target}"])
    err = capsys.readouterr().err
    assert done.value.code == 2 and "holds forecasts (vr_lead1" in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.slow
@pytest.mark.parametrize("args, message", [
    (["feed", "ftp://example.org/x.json"], "neither rtsw:FILE|URL nor hapi:SERVER#DATASET"),
    (["feed", "hapi:http://127.0.0.1:9/hapi"], "neither rtsw"),
    (["feed", "rtsw:/no/such/file.json"], "cannot read /no/such/file.json"),
    (["feed", "rtsw:http://127.0.0.1:9/rtsw_wind_1m.json"], "cannot reach"),
    (["feed", "rtsw:http://[::1/x.json"], "bad URL"),
    (["feed", "rtsw:http://127.0.0.1:9/a b.json"], "cannot reach"),
    (["feed", f"rtsw:{WIND}", "--point", "L4"], "L1 or L5"),
    (["feed", f"rtsw:{WIND}", "--every", "0s"], "not a duration"),
])
def test_bad_sources_exit_2_in_one_line(args, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as done:
        main([*args, "--db", f"sqlite:///{tmp_path / 'a.db'}"])
    err = capsys.readouterr().err
    assert done.value.code == 2 and message in err and len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_hapi_feed_without_a_window_reads_what_the_server_holds(live_server, tmp_path, capsys):
    """No --start/--stop: the last 7 days up to the server's stopDate, clamped to its startDate."""
    base, station_url = live_server
    target = f"sqlite:///{tmp_path / 'feeds.db'}"
    with pytest.raises(SystemExit) as done:
        main(["feed", f"hapi:{base}/hapi#plasma", "--db", target, "--json"])
    assert done.value.code == 0
    with Archive(station_url) as station:
        held = station.extent("plasma")
    summary = json.loads(capsys.readouterr().out)
    assert summary["stored"] == 48 * 60 and summary["latest"] == feeds.iso(held[1])


@pytest.fixture
def fake_hapi(tmp_path):
    """A loopback HTTP server answering /hapi/info with whatever the test gives (and a catalog)."""
    import functools
    import http.server
    import threading

    (tmp_path / "hapi").mkdir()
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass
    handler = functools.partial(Quiet, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def answer(info):
        (tmp_path / "hapi" / "info").write_text(json.dumps(info))
        (tmp_path / "hapi" / "catalog").write_text(json.dumps({"HAPI": "3.3", "status": {"code": 1200},
                                                               "catalog": [{"id": "OMNI_HRO2_1MIN"}]}))
        return f"http://127.0.0.1:{server.server_address[1]}/hapi"
    yield answer
    server.shutdown()


@pytest.mark.slow
@pytest.mark.parametrize("info, message", [
    ({"HAPI": "3.3", "status": {"code": 1200}, "parameters": "speed"}, "parameters must be a list"),
    ({"HAPI": "3.3", "status": {"code": 1200}, "parameters": [{"type": "double"}]}, "parameters must be a list"),
    ({"HAPI": "3.3", "status": {"code": 1200}, "parameters": [{"name": "Time", "type": "isotime"},
                                                              {"name": "flow_speed", "type": "double"}]},
     "lacks startDate or stopDate"),
    ({"HAPI": "3.3", "status": {"code": 1200}, "startDate": "yesterday", "stopDate": "2026-01-02Z",
      "parameters": [{"name": "Time", "type": "isotime"}, {"name": "flow_speed", "type": "double"}]}, "not a HAPI time"),
    ({"HAPI": "3.3", "status": {"code": 1200}, "startDate": "2026-001Z", "stopDate": "2026-002Z",
      "parameters": [{"name": "Time", "type": "isotime"}, {"name": "kp", "type": "double"}]}, "no solar-wind parameter"),
])
def test_broken_hapi_servers_are_one_line(fake_hapi, info, message, tmp_path, capsys):
    server = fake_hapi(info)
    with pytest.raises(SystemExit) as done:
        main(["feed", f"hapi:{server}#OMNI_HRO2_1MIN", "--db", f"sqlite:///{tmp_path / 'a.db'}"])
    out, err = capsys.readouterr()
    assert done.value.code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert out == ""


def test_reading_hapi_in_one_thread_leaves_the_others_output_alone(capsys):
    """A server's feed job reads HAPI in a worker thread while other threads print: hapiclient's
    own prints go to its logger, and nothing swaps the process's stdout under the others (the
    output of the main thread once went to a stale stream)."""
    import threading

    inside, leave = threading.Event(), threading.Event()

    def feed_job():
        with feeds._quiet_hapiclient():
            from hapiclient import util
            vars(util).get("print", print)("hapiclient's failure line")     # the print its code calls
            inside.set()
            leave.wait(10)
    worker = threading.Thread(target=feed_job)
    worker.start()
    inside.wait(10)
    print("the main thread's line")
    leave.set()
    worker.join(10)
    out, err = capsys.readouterr()
    assert out == "the main thread's line\n" and "hapiclient" not in err


@pytest.mark.slow
def test_a_source_that_never_ends_is_cut_off(monkeypatch, tmp_path):
    """A stream of bytes without end (a file like /dev/zero, a server that keeps sending) stops
    at the size cap; one that drips stops at the deadline: each a one-line failure."""
    import http.server
    import threading
    import time as clock

    monkeypatch.setattr(feeds, "MAX_DOCUMENT_BYTES", 2 ** 20)
    with pytest.raises(feeds.FeedError, match="larger than 1 MB"):
        feeds.read_location("/dev/zero")

    class Drip(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            for _ in range(40):
                self.wfile.write(b" ")
                self.wfile.flush()
                clock.sleep(0.1)

        def log_message(self, *args):
            pass
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Drip)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(feeds, "DEADLINE_S", 1.0)
    began = clock.monotonic()
    with pytest.raises(feeds.FeedError, match="took longer than 1 s"):
        feeds.read_location(f"http://127.0.0.1:{server.server_address[1]}/rtsw_wind_1m.json")
    assert clock.monotonic() - began < 3.0
    server.shutdown()

"""Watches and warnings in NOAA SWPC's message form (the header lines of SWPC's alerts.json
messages: Space Weather Message Code, Serial Number, Issue Time; EXTENDED and CANCEL with serial
cross-references): issued once, extended or cancelled as forecasts change."""
import json

import numpy as np
import pytest
from fastapi.testclient import TestClient

from l4station.constants import HOUR_US
from l4station.ground import feeds, forecaster, ingest, watches
from l4station.ground.server import create_app
from l4station.ground.store import Archive

T0 = 1_800_000_000_000_000           # 2027-01-15T08:00Z


def _run(run_id, speeds, cmes=()):
    t = T0 + (np.arange(168) + 1) * HOUR_US
    v = np.asarray(speeds, dtype=float)
    return forecaster.Run(run_id, T0, "test", {}, [], {"earth": {"t_us": t, "vr": v, "vr_p10": v - 20, "vr_p50": v, "vr_p90": v + 20}},
                          cmes=list(cmes))


def _stream(first_hour, last_hour):
    v = np.full(168, 420.0)
    v[first_hour:last_hour + 1] = 650.0
    return v


@pytest.fixture
def archive(archive_url):
    with Archive(archive_url) as a:
        yield a


def test_a_watch_is_sent_once_extended_then_cancelled(archive):
    first = watches.update(archive, T0, watches.predicted(_run("a", _stream(48, 60))))
    assert [(m["product_id"], m["serial"], m["status"]) for m in first] == [("WATHSS", 1, "new")]
    lines = first[0]["message"].splitlines()
    assert lines[:3] == ["Space Weather Message Code: WATHSS", "Serial Number: 1", "Issue Time: 2027 Jan 15 0800 UTC"]
    assert "Valid From: 2027-01-17 09:00:00 UTC" in lines
    # the same stream in the next run: nothing new
    assert watches.update(archive, T0 + HOUR_US, watches.predicted(_run("b", _stream(47, 61)))) == []
    # it lasts longer: EXTENDED, naming serial 1
    extended = watches.update(archive, T0 + 2 * HOUR_US, watches.predicted(_run("c", _stream(48, 80))))
    assert extended[0]["status"] == "extended" and "Extension to Serial Number: 1" in extended[0]["message"]
    assert extended[0]["message"].splitlines()[4].startswith("EXTENDED WATCH:")
    # the next run sees no stream before the window begins: CANCEL serial 2
    cancel = watches.update(archive, T0 + 3 * HOUR_US, watches.predicted(_run("d", np.full(168, 400.0))))
    assert [(m["serial"], m["status"]) for m in cancel] == [(3, "cancel")]
    assert "Cancel Serial Number: 2" in cancel[0]["message"]
    assert watches.update(archive, T0 + 4 * HOUR_US, watches.predicted(_run("e", np.full(168, 400.0)))) == []
    rows = watches.recent(archive, 24.0, T0 + 5 * HOUR_US)
    assert [r["product_id"] for r in rows] == ["WATHSS"] * 3 and rows[0]["issue_datetime"] == "2027-01-15 11:00:00.000"


def test_a_cme_watch_gives_the_arrival_window(archive):
    cme = {"id": "C1", "time21_5": "2027-01-15T06:00:00Z", "speed": 1500.0, "targets": {"earth": {
        "hit": True, "arrival": "2027-01-17T02:00:00Z", "arrival_p10": "2027-01-16T20:00:00Z",
        "arrival_p90": "2027-01-17T09:00:00Z", "arrival_speed_kms": 700.0, "speed_error": 0.13}}}
    sent = watches.update(archive, T0, watches.predicted(_run("a", np.full(168, 400.0), [cme])))
    assert sent[0]["product_id"] == "WATCME"
    assert "Valid From: 2027-01-16 20:00:00 UTC" in sent[0]["message"] and "Valid To: 2027-01-17 09:00:00 UTC" \
        in sent[0]["message"]


def test_a_shock_at_l1_warns_of_a_sudden_impulse_an_hour_ahead(archive):
    """A 400 -> 560 km/s shock at L1 (density and field x2): at 560 km/s the 1.5 million km to
    Earth take 45 minutes (SWPC's WARSUD lead is typically 30-60 min)."""
    minutes = np.arange(120)
    shock = minutes >= 60
    rows_wind = [{"time_tag": str(np.datetime64(T0 // 1_000_000 + 60 * int(m), "s")), "source": "SOLAR1", "active": True,
                  "proton_speed": 560.0 if s else 400.0, "proton_density": 10.0 if s else 5.0,
                  "proton_temperature": 2e5 if s else 1e5, "overall_quality": 0} for m, s in zip(minutes, shock)]
    rows_mag = [{"time_tag": r["time_tag"], "source": "SOLAR1", "active": True, "bt": 10.0 if s else 5.0,
                 "bx_gsm": 10.0 if s else 5.0, "by_gsm": 0.0, "bz_gsm": 0.0, "overall_quality": 0}
                for r, s in zip(rows_wind, shock)]
    source = feeds.parse_source("rtsw:test")
    feeds.store(archive, source, [feeds.parse_rtsw(json.dumps(rows_wind)), feeds.parse_rtsw(json.dumps(rows_mag))],
                T0 + 2 * HOUR_US)
    events = watches.shocks(archive, T0 + 2 * HOUR_US)
    assert [e.code for e in events] == ["WARSUD"]
    lead_min = (events[0].start_us - (T0 + 60 * 60_000_000)) / 60e6
    assert lead_min == pytest.approx(1.5e6 / 560.0 / 60, abs=1.5)
    sent = watches.update(archive, T0 + 2 * HOUR_US, events)
    assert sent[0]["message"].splitlines()[4] == "WARNING: Geomagnetic Sudden Impulse expected"
    assert watches.update(archive, T0 + 2 * HOUR_US + 60_000_000, watches.shocks(archive, T0 + 2 * HOUR_US)) == []


@pytest.mark.slow
def test_a_shock_at_the_station_is_a_watch_four_and_a_half_days_ahead(archive, two_days):
    ingest.ingest_bytes(archive, two_days.data, source="test")
    shock_us = archive.query("SELECT start_us FROM alerts WHERE kind = 'shock'")[0][0]
    events = watches.shocks(archive, shock_us + HOUR_US)
    assert [e.code for e in events] == ["WATSUD"]
    middle_days = ((events[0].start_us + events[0].stop_us) / 2 - shock_us) / 86_400e6
    assert middle_days == pytest.approx(60.0 / (360.0 / 27.2753), abs=0.01)       # Carrington synodic rate


def test_alerts_json_route(archive_url, archive):
    watches.update(archive, T0, watches.predicted(_run("a", _stream(10, 20))))
    rows = TestClient(create_app(archive_url)).get("/json/alerts.json").json()
    assert rows[0]["product_id"] == "WATHSS" and rows[0]["message"].startswith("Space Weather Message Code: WATHSS")


def test_past_windows_and_back_dated_issues_send_nothing(archive):
    over = watches.Event("WARSUD", "L1:1", T0 - 2 * HOUR_US, T0 - HOUR_US, ("WARNING: Geomagnetic Sudden Impulse expected",))
    assert watches.update(archive, T0, [over]) == []                     # its window ended before the issue
    assert watches.update(archive, T0, watches.predicted(_run("a", _stream(48, 60))))[0]["serial"] == 1
    # an issue dated before the latest message: forecasts may be re-run for the past, messages may not
    assert watches.update(archive, T0 - 24 * HOUR_US, watches.predicted(_run("z", np.full(168, 400.0)))) == []
    assert watches.update(archive, T0 - 24 * HOUR_US, watches.predicted(_run("y", _stream(10, 20)))) == []


def test_two_issuers_at_once_never_share_a_serial(archive_url):
    """Serial numbers are read and written under the archive's write lock (a CLI issue while the
    server's scheduled forecaster runs)."""
    import threading

    def issuer(n):
        with Archive(archive_url) as own:
            for k in range(5):
                watches.update(own, T0 + k * HOUR_US, [watches.Event("WATCME", f"cme:{n}-{k}", T0 + 50 * HOUR_US,
                                                                     T0 + 60 * HOUR_US, ("WATCH: CME",))])
    Archive(archive_url).close()
    threads = [threading.Thread(target=issuer, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with Archive(archive_url) as check:
        serials = [r[0] for r in check.query("SELECT serial FROM watches ORDER BY serial")]
    assert serials == list(range(1, len(serials) + 1)) and len(serials) >= 5

"""Shelter advisories: raised during a proton event from the first reading whose projected cabin
BFO dose (dose so far plus the present rate for a day) reaches half NASA's 30-day limit."""
import numpy as np
import pytest

from l4station.ground import alerts
from l4station.radiation import dose

MINUTE_US = 60_000_000
SHAPE = np.array([6.0, 2.5, 1.0, 0.25, 0.12, 0.04])      # pfu per pfu at >=10 MeV, >=1..>=100 MeV


def _event(size: float, minutes: int = 4 * 1440, onset: int = 120, decay_min: float = 600.0) -> dict:
    i = np.arange(minutes)
    profile = np.where(i >= onset, size * np.exp(-(i - onset) / decay_min), 0.001)
    return {"t_us": i * MINUTE_US, **{c: SHAPE[k] * profile for k, c in enumerate(alerts.CHANNELS)}}


def test_a_large_event_raises_the_advisory_at_the_first_reading_past_half_the_limit():
    data = _event(10_000.0)        # S4 at its peak
    (advisory,) = alerts.shelter_alerts(data)
    rate = dose.dose_rate(alerts.CHANNELS_MEV, np.stack([data[c] for c in alerts.CHANNELS], -1), alerts.SHELTER_SCENARIO)
    onset = int(np.argmax(data["p10"] >= 10))
    so_far = np.concatenate([[0.0], np.cumsum(rate[onset:] / 60.0)[:-1]])
    first = onset + int(np.argmax(so_far + 24 * rate[onset:] >= 125.0))
    assert advisory.start_us == data["t_us"][first] and advisory.level == "shelter"
    assert advisory.stop_us == data["t_us"][onset + int(np.flatnonzero(data["p10"][onset:] >= 10)[-1])]
    assert "within 30 minutes" in advisory.message


def test_a_small_event_raises_an_s_alert_but_no_advisory():
    data = _event(30.0)
    assert alerts.radiation_alerts(data) and not alerts.shelter_alerts(data)


def _shelter_rows(url: str) -> list:
    from l4station.ground.store import Archive
    with Archive(url) as archive:
        return archive.query("SELECT start_us, value FROM alerts WHERE level = 'shelter'")


@pytest.mark.slow
def test_the_archive_keeps_its_shelter_fraction_for_every_later_writer(tmp_path, two_days, capsys):
    # The simulated S2 event gives the cabin a few mGy-Eq: no advisory at half the limit, one at 1 %.
    from l4station.cli import main
    half, low = f"sqlite:///{tmp_path / 'half.db'}", f"sqlite:///{tmp_path / 'low.db'}"
    first, second = tmp_path / "first.bin", tmp_path / "second.bin"
    cut = len(two_days.data) // 2 // 25 * 25
    first.write_bytes(two_days.data[:cut])
    second.write_bytes(two_days.data[cut:])
    for url, option in ((half, []), (low, ["--shelter-fraction", "0.01"])):
        for part, extra in ((first, option), (second, [])):        # the second writer gives no option
            with pytest.raises(SystemExit) as done:
                main(["ingest", str(part), "--db", url, "--json", *extra])
            assert done.value.code == 0
    capsys.readouterr()
    assert _shelter_rows(half) == [] and len(_shelter_rows(low)) == 1
    assert _shelter_rows(low)[0][1] >= 0.01 * 250.0


@pytest.mark.parametrize("args, message", [
    (["ingest", "x.bin", "--shelter-fraction", "0"], "--shelter-fraction"),
    (["ingest", "x.bin", "--shelter-fraction", "nan"], "--shelter-fraction"),
    (["ingest", "x.bin", "--shelter-fraction", "1_0"], "--shelter-fraction"),         # Python's float reads 10
    (["ingest", "x.bin", "--shelter-fraction", "\uff10.5"], "--shelter-fraction"),     # a full-width digit
    (["serve", "--db", "sqlite:///a.db?mode=ro", "--shelter-fraction", "0.3"], "read-only (mode=ro)"),
])
def test_a_bad_shelter_fraction_is_one_line_and_exit_2(tmp_path, monkeypatch, args, message, capsys):
    from l4station.cli import main
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.bin").write_bytes(b"")
    with pytest.raises(SystemExit) as done:
        main(args)
    err = capsys.readouterr().err.strip()
    assert done.value.code == 2 and len(err.splitlines()) == 1 and message in err


@pytest.mark.parametrize("spoil", ["nan channel", "inf channel", "bad quality", "dead p1", "dead p5", "dead p10",
                                   "no p10"])
def test_a_missing_or_bad_channel_never_switches_the_advisory_off(spoil):
    # found when one NaN channel zeroed the dose rate and the advisory with it; then when a low
    # channel stuck at its floor (a dead detector, 1e-4 pfu) capped every channel above it, and
    # when a p10 outage hid the event the advisory is judged in
    data = _event(10_000.0)
    expected = alerts.shelter_alerts(data)
    if spoil == "nan channel":
        data["p30"] = np.full_like(data["p30"], np.nan)
    elif spoil == "inf channel":
        data["p1"] = np.full_like(data["p1"], np.inf)
    elif spoil == "bad quality":
        data["quality"] = np.where(np.arange(len(data["t_us"])) % 2 == 1, 2.0, 0.0)
    elif spoil.startswith("dead"):
        channel = spoil.split()[1]
        data[channel] = np.full_like(data[channel], 1e-4)
    else:
        data["p10"] = np.full_like(data["p10"], np.nan)
    found = alerts.shelter_alerts(data)
    assert len(found) == 1 and found[0].start_us <= expected[0].start_us + 60_000_000


DAY_MIN = 1440


def _two_events(gap_days: float, size: float = 3000.0) -> dict:
    """Quiet flux, an event, ``gap_days`` later the same event again (minute readings)."""
    minutes = int((gap_days + 8) * DAY_MIN)
    i = np.arange(minutes)
    second = 120 + int(gap_days * DAY_MIN)
    profile = np.full(minutes, 0.001)
    for onset in (120, second):
        profile = np.where(i >= onset, profile + size * np.exp(-(i - onset) / 600.0), profile)
    return {"t_us": 1_700_000_000_000_000 + i * MINUTE_US, "quality": np.zeros(minutes),
            **{c: SHAPE[k] * profile for k, c in enumerate(alerts.CHANNELS)}}


def test_an_earlier_event_within_30_days_counts_in_the_projection():
    # NASA's limit is over 30 days: the dose of an event 10 days earlier is still in the budget, one
    # 40 days earlier is not. At a fraction between one event's projection and two events', only the
    # second event of the close pair raises the advisory.
    one = alerts.shelter_alerts(_two_events(40.0), fraction=0.01)
    single_peak = max(a.value for a in one)
    fraction = 1.3 * single_peak / dose.LIMIT_BFO_30DAY_MGY_EQ
    assert alerts.shelter_alerts(_two_events(40.0), fraction) == []
    close = _two_events(10.0)
    (advisory,) = alerts.shelter_alerts(close, fraction)
    second_onset = close["t_us"][0] + (120 + 10 * DAY_MIN) * MINUTE_US
    assert advisory.start_us >= second_onset
    # its projection: the first event's whole dose (30-day window) plus the second's so far and a day
    rate = dose.dose_rate(alerts.CHANNELS_MEV, np.stack([close[c] for c in alerts.CHANNELS], -1), alerts.SHELTER_SCENARIO)
    k = int((advisory.start_us - close["t_us"][0]) // MINUTE_US)
    assert advisory.value >= rate[:k].sum() / 60.0 + 24 * rate[k] - 1e-6


@pytest.mark.slow
def test_shelter_advisories_do_not_depend_on_which_event_arrives_first(tmp_path):
    # The later event's advisory needs the earlier one's dose: ingest them in either order.
    from l4station.ground import ingest, packets
    from l4station.ground.store import Archive
    data = _two_events(10.0)
    ptype = packets.dictionary()["particles"]
    n = len(data["t_us"])
    stream = packets.encode(ptype, data["t_us"], np.arange(n), data).tobytes()
    half = n // 2 * ptype.octets
    fraction = 1.3 * max(a.value for a in alerts.shelter_alerts(_two_events(40.0), 0.01)) / dose.LIMIT_BFO_30DAY_MGY_EQ
    stored = {}
    for order in ("forward", "backward"):
        url = f"sqlite:///{tmp_path / order}.db"
        with Archive(url) as archive:
            alerts.set_shelter_fraction(archive, fraction)
            parts = (stream[:half], stream[half:]) if order == "forward" else (stream[half:], stream[:half])
            for part in parts:
                ingest.ingest_bytes(archive, part, source=order)
            stored[order] = archive.query("SELECT start_us, stop_us FROM alerts WHERE level = 'shelter'")
    expected = [(a.start_us, a.stop_us) for a in alerts.shelter_alerts(packets.decode(stream).data["particles"], fraction)]
    assert len(expected) == 1
    assert [tuple(r) for r in stored["forward"]] == [tuple(r) for r in stored["backward"]] == expected


def test_a_p10_outage_in_the_archive_still_raises_the_advisory_and_api_dose_counts_as_it_does(tmp_path):
    # Through ingest: the archive's re-judgement must look for the event in every channel, and the
    # running dose the dashboard shows must count flagged readings as the advisory does.
    from fastapi.testclient import TestClient
    from l4station.ground import ingest, packets
    from l4station.ground.server import create_app
    from l4station.ground.store import Archive
    data = _two_events(10.0)
    data["p10"] = np.full_like(data["p10"], np.nan)
    n = len(data["t_us"])
    flagged = (np.arange(n) % 3 == 0) & (np.arange(n) > 200)
    data["quality"] = np.where(flagged, 2.0, 0.0)
    ptype = packets.dictionary()["particles"]
    stream = packets.encode(ptype, data["t_us"], np.arange(n), data).tobytes()
    url = f"sqlite:///{tmp_path / 'a.db'}"
    with Archive(url) as archive:
        ingest.ingest_bytes(archive, stream, source="test")
        stored = archive.query("SELECT start_us FROM alerts WHERE level = 'shelter'")
    decoded = packets.decode(stream).data["particles"]
    assert len(stored) == len(alerts.shelter_alerts(decoded)) >= 1
    with TestClient(create_app(url)) as client:
        doc = client.get("/api/dose", params={"hours": 24 * 40}).json()
    cabin = next(s for s in doc["scenarios"] if s["shield_gcm2"] == alerts.SHELTER_SCENARIO.shield_gcm2)
    held = dose.reading_rates(decoded, alerts.SHELTER_SCENARIO)
    step_h = dose.reading_hours(decoded["t_us"], ptype.cadence_s)
    assert cabin["dose_mgy_eq"] == pytest.approx(float(np.sum(held * step_h)), rel=1e-9)

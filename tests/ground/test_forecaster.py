"""The operational forecaster on a replayed archive (real STEREO-A and OMNI speeds, BRaVDA
files, Lang & Owens 2019): forecasts from what had arrived, stored runs, degradation, and the
verification against 27-day persistence, the reference NOAA's REFM forecasts failed to beat at
2-8 days (the target: positive skill at every lead 1-7)."""
import json
import warnings

import numpy as np
import pytest
from astropy.time import Time
from hypothesis import given, settings
from hypothesis import strategies as st

from l4station.cli import main
from l4station.errors import InputError
from l4station.ground import feeds, forecaster, replay, verification
from l4station.ground.store import Archive
from l4station.heliosphere import insitu


def _us(iso: str) -> int:
    return int(round(Time(iso, scale="utc").unix * 1e6))


@pytest.fixture(scope="module")
def replayed(tmp_path_factory):
    """Three weeks of 6-hourly issues, 2008-08-01 to 08-22 (solar minimum: recurrent streams;
    STEREO-A 35 deg ahead), and the records."""
    records = insitu.packaged()
    url = f"sqlite:///{tmp_path_factory.mktemp('replay') / 'ops.db'}"
    with Archive(url) as archive:
        replay.replay(archive, records, _us("2008-08-01"), _us("2008-08-22"))
    return url, records


@pytest.mark.slow
def test_replay_beats_27_day_persistence_at_every_lead(replayed):
    url, records = replayed
    with Archive(url) as archive:
        result = verification.verify(archive, tracks={"L4": records["L4"]}).to_json()
    assert result["runs"] == 85
    for lead in result["by_lead"]:
        assert lead["n"] > 500 and lead["skill_vs_persistence"] > 0.2, lead
    # WSA-type models: RMSE ~100 km/s at Earth (Reiss et al. 2016); lead 1 here is well inside that
    assert result["by_lead"][0]["rmse_kms"] < 100.0


@pytest.mark.slow
def test_the_band_is_reliable_outside_the_window_it_was_calibrated_on(replayed):
    """A reliable p10-p90 band holds 80 % of what is then observed (Wilks 2011, Statistical
    Methods in the Atmospheric Sciences, sec. 8.7). The widening was fitted on 2010
    (forecaster.SPREAD_ADD_KMS); here three weeks of 2008 at OMNI, the sliding-window scale
    starting from nothing: 0.80 +- 0.15 at every lead (three weeks: about 7 independent stream
    passages). Unwidened, the band held 0.52-0.64 in 2008. (Its Gaussian-equivalent spread is
    below the RMSE, 0.7-0.9 of it: the errors are heavy-tailed, large at stream interfaces.)"""
    url, records = replayed
    with Archive(url) as archive:
        result = verification.verify(archive, tracks={"L4": records["L4"]}).to_json()
    for lead in result["by_lead"]:
        assert abs(lead["band_coverage"] - 0.80) <= 0.15, lead


def test_the_forecast_uses_only_what_had_arrived(replayed):
    url, _ = replayed
    with Archive(url) as archive:
        found = forecaster.observations(archive, _us("2008-08-10T00:00"))
        latest_l4, latest_l1 = found["L4"][2], found["L1"][2]
    # hours arrive whole after their latency (L4 0.5 h, L1 0.1 h): the last complete hours before the issue
    assert latest_l4 <= _us("2008-08-10T00:00") - 30 * 60_000_000
    assert latest_l1 <= _us("2008-08-10T00:00") - 6 * 60_000_000


@pytest.mark.slow
def test_unchanged_inputs_return_the_stored_run_and_new_data_make_a_new_one(replayed):
    url, _ = replayed
    with Archive(url) as archive:
        first = forecaster.issue(archive, _us("2008-08-22T02:00"))
        again = forecaster.issue(archive, _us("2008-08-22T02:30"))
        assert not first.repeated and again.repeated and again.run_id == first.run_id
        earth = first.values["earth"]
        assert len(earth["t_us"]) == 7 * 24
        assert np.all(earth["vr_p10"] <= earth["vr_p50"]) and np.all(earth["vr_p50"] <= earth["vr_p90"])
        assert len(first.values["earth_outlook"]["t_us"]) == 27 - 7
        assert set(first.values) == {"earth", "moon", "mars", "earth_outlook"}
        stored = forecaster.load(archive, first.run_id)
        for column in ("vr", "vr_p10", "vr_p50", "vr_p90"):
            assert np.allclose(stored.values["mars"][column], first.values["mars"][column], equal_nan=True)


@pytest.mark.slow
def test_missing_inputs_degrade_the_forecast_and_none_refuses_it(tmp_path):
    records = insitu.packaged()
    url = f"sqlite:///{tmp_path / 'l1only.db'}"
    with Archive(url) as archive:
        with pytest.raises(InputError, match="no observations received by 2008-08-01"):
            forecaster.compute(archive, _us("2008-08-01"))
        l1 = records["L1"].window(Time("2008-07-01").mjd, Time("2008-08-01").mjd)
        feeds.store(archive, feeds.Source("rtsw", "x"), [feeds.parse_rtsw(json.dumps(replay.rtsw_rows(l1.mjd, l1.v_kms)))],
                    _us("2008-08-01"))
        run = forecaster.compute(archive, _us("2008-08-01"))
    assert run.flags == ["no_L4"]
    assert np.isfinite(run.values["earth"]["vr"]).all()


@pytest.mark.slow
def test_issue_and_replay_refuse_bad_input_in_one_line(tmp_path, capsys):
    db = f"sqlite:///{tmp_path / 'none.db'}"
    for args, message in ((["issue", "--db", db], "no archive at"),
                          (["issue", "--db", db, "--at", "yesterday-ish"], "not an ISO UTC time"),
                          (["replay", "--start", "2008-08-01", "--stop", "2008-07-01"], "not after --start"),
                          (["replay", "--every", "0h"], "not a duration"),
                          (["replay", "--start", "1990-01-01", "--stop", "1990-02-01"], "give --start/--stop inside")):
        with pytest.raises(SystemExit) as done:
            main(args)
        err = capsys.readouterr().err
        assert done.value.code == 2 and message in err and len(err.strip().splitlines()) == 1, (args, err)


def _station_only(tmp_path, speeds_kms, name="station.db"):
    """An archive holding 30 days of the station's 1-minute plasma packets at the given speeds, in turn."""
    from l4station.ground import ingest, packets
    url = f"sqlite:///{tmp_path / name}"
    t_us = _us("2026-10-01") + np.arange(30 * 1440) * 60_000_000
    v = np.resize(np.asarray(speeds_kms, dtype=float), len(t_us))
    n = len(t_us)
    values = {"density": np.full(n, 5.0), "vr": v, "vt": np.zeros(n), "vn": np.zeros(n),
              "temperature": np.full(n, 1e5), "quality": np.zeros(n)}
    stream = packets.encode(packets.dictionary()["plasma"], t_us, np.arange(n) % packets.SEQUENCE_MODULO, values)
    with Archive(url) as archive:
        ingest.ingest_bytes(archive, stream.tobytes(), source="test", received_us=_us("2026-10-31"))
    return url


@pytest.mark.slow
@pytest.mark.parametrize("speeds", [[0.0], [-100.0], [3276.7], [5.0, 450.0]])
def test_unphysical_station_speeds_never_reach_the_model(tmp_path, speeds):
    url = _station_only(tmp_path, speeds)
    with Archive(url) as archive:
        if all(v < 100 or v >= 3000 for v in speeds):
            with pytest.raises(InputError, match="no observations received"):
                forecaster.compute(archive, _us("2026-10-31"))
        else:
            run = forecaster.compute(archive, _us("2026-10-31"))
            assert np.allclose(run.values["earth"]["vr"], 450.0, atol=60.0)   # steady 450 km/s wind, accelerated profile


@pytest.mark.slow
def test_issues_a_second_apart_are_two_runs_of_168_hours(tmp_path):
    url = _station_only(tmp_path, [400.0])
    with Archive(url) as archive:
        late = forecaster.issue(archive, _us("2026-10-31T12:00:50"))
        early = forecaster.issue(archive, _us("2026-10-31T12:00:10"))
        assert late.run_id != early.run_id
        for run in (late, early):
            assert len(forecaster.load(archive, run.run_id).values["earth"]["t_us"]) == 168


@pytest.mark.slow
def test_verify_on_an_archive_without_runs_or_l1(tmp_path, capsys):
    url = _station_only(tmp_path, [400.0])
    with pytest.raises(SystemExit) as done:
        main(["verify", "--db", url, "--json"])
    assert done.value.code == 0 and json.loads(capsys.readouterr().out)["runs"] == 0


def test_a_forecast_from_the_future_and_a_foreign_database_are_refused(tmp_path, capsys):
    import sqlite3
    foreign = tmp_path / "users.db"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE users (name TEXT)")
    for args, message in ((["issue", "--db", f"sqlite:///{foreign}"], "not an l4station archive"),
                          (["feed", f"rtsw:{tmp_path}", "--db", f"sqlite:///{foreign}"], "not an l4station archive"),
                          (["issue", "--db", f"sqlite:///{foreign}", "--at", "2999-01-01"], "in the future")):
        with pytest.raises(SystemExit) as done:
            main(args)
        err = capsys.readouterr().err
        assert done.value.code == 2 and message in err and len(err.strip().splitlines()) == 1, (args, err)
    with sqlite3.connect(foreign) as db:
        assert [r[0] for r in db.execute("SELECT name FROM sqlite_master")] == ["users"]      # untouched


@pytest.mark.slow
def test_replay_json_has_the_documented_fields(capsys):
    with pytest.raises(SystemExit) as done:
        main(["replay", "--start", "2008-08-01", "--stop", "2008-08-03", "--every", "12h", "--json"])
    assert done.value.code == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["runs"], doc["target"], doc["start"], doc["stop"]) == (5, "earth", "2008-08-01T00:00:00Z",
                                                                       "2008-08-03T00:00:00Z")
    assert [x["lead_days"] for x in doc["by_lead"]] == list(range(1, 8))
    assert {"n", "mae_kms", "rmse_kms", "skill_vs_persistence", "skill_vs_recurrence"} <= set(doc["by_lead"][0])
    assert [set(x) for x in doc["persistence_by_lead"]] == [{"lead_days", "mae_kms"}] * 7
    for who in ("model", "persistence"):
        assert {"pod", "far", "ts", "bias", "timing_mae_h"} <= set(doc["events"][who])


@pytest.mark.slow
def test_replay_with_l5_feeds_stereo_b_from_where_it_was(tmp_path):
    """--l5: STEREO-B's hourly speeds (BRaVDA files) arrive as an L5 RTSW feed and enter the
    forecast; in April 2010 STEREO-B was 70-72 deg behind Earth (stereob_2006_2029.lst), which
    the forecast's L5 samples are mapped from, not the nominal -60 deg."""
    records = insitu.packaged()
    url = f"sqlite:///{tmp_path / 'l5.db'}"
    with Archive(url) as archive:
        replay.replay(archive, records, _us("2010-04-01"), _us("2010-04-02"), every_us=forecaster.DAY_US, l5=True)
        fed = archive.query("SELECT DISTINCT spacecraft, point FROM feed_wind ORDER BY point")
        run = forecaster.load(archive, forecaster.latest_run(archive)[0])
    assert fed == [("OMNI", "L1"), ("STEREO-B", "L5")]
    assert run.inputs["L5"]["hours"] > 24 * 30 and "no_L1" not in run.flags
    b = records["L5"]
    april = (b.mjd >= 55287) & (b.mjd < 55289)                   # 2010-04-01 and 02
    assert -73.0 < b.lon_deg[april].mean() < -69.0
    with Archive(url) as archive:
        found = forecaster.observations(archive, _us("2010-04-02"))
        placed = forecaster.series("L5", found["L5"][0][-24:], found["L5"][1][-24:], {"L5": b})
    assert abs(placed.lon_deg.mean() - b.lon_deg[april].mean()) < 1.0


def test_issues_inside_the_held_back_window_make_no_forecast_and_do_not_stop_a_replay(tmp_path):
    """2009-06-01 to 2010-02-28 is absent from the shared data: issues there have nothing that
    left the Sun within 1.5 rotations, and the replay goes on to the data after it."""
    with Archive(f"sqlite:///{tmp_path / 'gap.db'}") as archive:
        replay.replay(archive, insitu.packaged(), _us("2009-07-20"), _us("2009-07-22"), every_us=24 * 3_600_000_000)
        assert archive.query("SELECT COUNT(*) FROM forecast_runs")[0][0] == 0
        with pytest.raises(InputError, match="no observation"):
            forecaster.compute(archive, _us("2009-07-22"))


def test_a_replay_that_issues_nothing_says_why(capsys):
    with pytest.raises(SystemExit) as done:
        main(["replay", "--start", "2009-09-01", "--stop", "2009-09-02", "--json"])
    out, err = capsys.readouterr()
    assert done.value.code == 0 and json.loads(out)["runs"] == 0
    assert err.startswith("l4station: no forecast issued") and len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_inputs_older_than_their_cadence_are_flagged_stale(replayed):
    """The station's data come down in a daily pass and L1's in real time: a forecast issued two
    days after the last of both carries stale_L1 and stale_L4; one issued at once carries neither."""
    url, _ = replayed
    with Archive(url) as archive:
        fresh = forecaster.compute(archive, _us("2008-08-22T00:00"))
        late = forecaster.compute(archive, _us("2008-08-24T00:00"))
    assert not {"stale_L1", "stale_L4"} & set(fresh.flags)
    assert {"stale_L1", "stale_L4"} <= set(late.flags) and "no_L1" not in late.flags


@pytest.mark.slow
def test_an_archive_from_before_the_median_keeps_its_runs_and_gains_the_column(archive_url, tmp_path):
    """An archive written before ``vr_p50`` existed: read as it is (the median unknown), and
    given the column, not refused, when opened for writing; its old runs stay whole."""
    at = _us("2008-08-10T00:00")
    with Archive(archive_url) as archive:
        replay.replay(archive, insitu.packaged(), at - forecaster.DAY_US, at, every_us=forecaster.DAY_US)
        run = forecaster.latest_run(archive)[0]
        before = forecaster.load(archive, run)
        with archive.transaction() as cursor:
            cursor.execute("ALTER TABLE forecast_values DROP COLUMN vr_p50")
    read_only = archive_url + "?mode=ro" if archive_url.startswith("sqlite") else archive_url
    with Archive(read_only, create=False) as archive:
        old = forecaster.load(archive, run)
    assert np.isnan(old.values["earth"]["vr_p50"]).all()
    assert np.array_equal(old.values["earth"]["vr_p90"], before.values["earth"]["vr_p90"])
    with Archive(archive_url) as archive:
        assert archive.has("forecast_values", "vr_p50")
        replay.replay(archive, insitu.packaged(), at + forecaster.DAY_US, at + forecaster.DAY_US)
        later = forecaster.latest_run(archive)[0]
        assert later != run and np.isfinite(forecaster.load(archive, later).values["earth"]["vr_p50"]).all()
        assert np.array_equal(forecaster.load(archive, run).values["earth"]["vr"], before.values["earth"]["vr"])


@pytest.mark.slow
def test_the_band_scale_is_the_conformal_quantile_of_recent_errors(tmp_path):
    """Split conformal calibration (Romano et al. 2019) counted by hand: runs whose unscaled band
    is p50 +- 50 km/s (stored as +- 100 with a scale of 2 in force), L1 then observing p50 +- 25
    km/s in 7 hours of 10 and +- 60 in 3: scores |o - p50| / 50 are 0.5 and 1.2, and 80 % of
    what was observed lies within 1.2 half-widths at every lead day."""
    at = _us("2027-01-13")
    hour = 3_600_000_000
    with Archive(f"sqlite:///{tmp_path / 'scale.db'}") as archive:
        for n in range(48):                                # every 6 h over the 12 days before
            issue_us = at - 12 * forecaster.DAY_US + n * 6 * hour
            t = issue_us + (np.arange(168) + 1) * hour
            v = np.full(168, 400.0)
            run = forecaster.Run(f"r{n:02d}", issue_us, "test", {}, [], {
                "earth": {"t_us": t, "vr": v, "vr_p10": v - 100, "vr_p50": v, "vr_p90": v + 100}},
                band_scale=[2.0] * 7)
            assert forecaster.save(archive, run)
        hours = np.arange(at - 13 * forecaster.DAY_US, at + 1, hour)
        index = np.arange(len(hours))
        offset = np.where(index % 10 < 3, 60.0, 25.0) * np.where(index % 2, 1.0, -1.0)
        l1 = (forecaster.mjd_of_us(hours), 400.0 + offset, int(hours[-1]))
        scale = forecaster.band_scale(archive, at, l1)
        assert np.allclose(scale, 1.2, atol=1e-9), scale
        # too few verified hours at a lead (issued less than a day before): no change
        assert np.allclose(forecaster.band_scale(archive, at - 11 * forecaster.DAY_US, l1), 1.0)
        # read run by run as a schedule issues, or afresh: the same rows
        training = forecaster.Training()
        for step in range(0, 13 * 24, 5):
            when = at - 12 * forecaster.DAY_US + step * hour
            assert np.array_equal(training.update(archive, when), forecaster.Training().update(archive, when))


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(st.one_of(st.none(), st.binary(max_size=40), st.text(max_size=40),
                 st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5),
                              lambda inner: st.lists(inner, max_size=9) | st.dictionaries(st.text(max_size=3), inner),
                              max_leaves=12).map(json.dumps)))
def test_whatever_a_stored_scale_holds_is_read_as_seven_bounded_numbers(text):
    """band_scale is JSON text in the archive: edited, truncated or foreign values never stop a
    forecast; they read as no scaling, and numbers are kept in BAND_SCALE_LIMITS."""
    scale = forecaster.stored_scale(text)
    low, high = forecaster.BAND_SCALE_LIMITS
    assert len(scale) == 7 and all(isinstance(x, float) and low <= x <= high for x in scale)


@pytest.mark.slow
def test_a_stored_run_turning_stale_is_issued_again_with_the_flag(tmp_path):
    """Nothing new arrives after 2008-08-10T00:00 (L1's newest sample 22:59): an issue at 01:50
    returns the run of 01:40; one at 02:05, L1 then over 3 h old, is a new run flagged stale_L1
    (staleness alone changes the inputs), and edited scales stored with the runs (text, NaN)
    neither stop it nor reach its JSON."""
    with Archive(f"sqlite:///{tmp_path / 'stale.db'}") as archive:
        replay.replay(archive, insitu.packaged(), _us("2008-08-09T00:00"), _us("2008-08-10T00:00"),
                      every_us=12 * 3_600_000_000)
        first = forecaster.issue(archive, _us("2008-08-10T01:40"))
        with archive.transaction() as cursor:
            cursor.execute("UPDATE forecast_runs SET band_scale = 'nan' WHERE run_id <> ?", (first.run_id,))
            cursor.execute("UPDATE forecast_runs SET band_scale = '[NaN, 1]' WHERE run_id = ?", (first.run_id,))
        again = forecaster.issue(archive, _us("2008-08-10T01:50"))
        later = forecaster.issue(archive, _us("2008-08-10T02:05"))
        found = forecaster.observations(archive, _us("2008-08-10T01:50"))
    assert again.repeated and again.run_id == first.run_id and again.band_scale == [1.0] * 7
    assert not later.repeated and "stale_L1" in later.flags and "stale_L1" not in first.flags
    json.dumps(later.to_json(), allow_nan=False)
    keys = {forecaster._key(forecaster._inputs(found, [], _us(t))) for t in ("2008-08-10T01:50", "2008-08-10T02:05")}
    assert len(keys) == 2


def test_skill_against_a_reference_without_error_is_null():
    """A constant wind that persistence matches exactly: no skill to speak of (not -infinity)."""
    flat = np.full(48, 450.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scores = verification._scores(flat + 10.0, flat, flat, flat, flat - 50, flat + 50)
    assert scores["skill_vs_persistence"] is None and scores["skill_vs_recurrence"] is None
    assert scores["mae_kms"] == 10.0

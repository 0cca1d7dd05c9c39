"""Large solar-wind ensembles: a member is the same whoever runs it, a run split over a Dask
cluster equals the one-process run bit for bit, and an ensemble without spread is the model's
own deterministic run."""
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from l4station import cluster
from l4station.cli import main
from l4station.constants import AU_KM, DAY_S
from l4station.errors import InputError
from l4station.heliosphere import corotation, ensemble, solarwind as sw


def _map(seed: int = 2) -> np.ndarray:
    """A two-stream boundary map (km/s) on 128 longitudes."""
    lon = np.arange(128) * 360.0 / 128
    return 400.0 + 150.0 * np.exp(-0.5 * ((lon - 90.0) / 25.0) ** 2) + 120.0 * np.exp(-0.5 * ((lon - 250.0) / 15.0) ** 2)


def test_a_member_is_the_same_whichever_chunk_draws_it():
    central, spread = _map(), np.full(128, 40.0)
    assert np.array_equal(ensemble.members(central, spread, 7, 5, 3), ensemble.members(central, spread, 7, 0, 8)[5:8])
    assert not np.array_equal(ensemble.members(central, spread, 7, 0, 2), ensemble.members(central, spread, 8, 0, 2))
    grow = corotation.ErrorModel()
    short, long = (ensemble.members(central, spread, 7, 0, 3, grow, days * DAY_S) for days in (2, 6))
    assert short.shape == (3, 3, 128) and np.array_equal(short, long[:, :3])      # a longer run extends a member


def test_a_growing_member_s_error_has_the_error_model_s_variance_each_day():
    # Corotation's error model (fitted to OMNI and STEREO-A/B): variance sigma0^2 + sigma_s^2
    # (1 - exp(-t/tau)). The members' error at day t must have the start's spread^2 plus what the
    # model gains by t: checked over 3,000 members and 128 longitudes to 4 % (sampling: ~1 %).
    grow = corotation.ErrorModel()
    central, spread = np.full(128, 600.0), np.full(128, 30.0)
    maps = ensemble.members(central, spread, 1, 0, 3000, grow, 10 * DAY_S)
    expected = spread[0] ** 2 + grow.variance(ensemble.epochs_days(10 * DAY_S)) - grow.sigma0_kms ** 2
    assert np.var(maps - central, axis=(0, 2)) == pytest.approx(expected, rel=0.04)


@pytest.mark.slow
def test_with_growth_the_band_at_1_au_widens_with_lead():
    # Wind reaching 1 au in the first days left the Sun before the start (about 4 days' travel),
    # so the band holds the start's spread; beyond, it widens as the maps' error grows.
    central = _map()
    run = ensemble.solar_wind(central, 20.0, count=200, seed=1, duration_s=12 * DAY_S, growth=corotation.ErrorModel())
    width = (run.values[2] - run.values[0]).mean(axis=0)                     # over the 128 lines
    day = lambda d: float(width[int(d * 24)])                                # noqa: E731
    assert day(2) == pytest.approx(day(1), rel=0.1)
    assert day(7) > 1.5 * day(2) and day(12) > day(7)


@pytest.mark.slow
def test_a_run_on_a_dask_cluster_equals_the_one_process_run():
    central, spread = _map(), np.full(128, 40.0)
    here = ensemble.solar_wind(central, spread, count=24, seed=3, duration_s=2 * DAY_S, lines_per_task=32)
    with cluster.client(workers=2) as client:
        ensemble.solar_wind(central, spread, count=2, seed=3, duration_s=DAY_S, client=client)   # the same map twice
        there = ensemble.solar_wind(central, spread, count=24, seed=3, duration_s=2 * DAY_S, client=client)
    assert there.workers.startswith("on tcp://") and here.workers == "in this process"
    assert np.array_equal(here.values, there.values) and np.array_equal(here.t_s, there.t_s)


def test_without_spread_every_quantile_is_the_model_s_own_run():
    """Zero spread: every member is the central map, so p10 = p50 = p90 = the deterministic
    solution of solarwind.solve at 1 au (itself held to HUXt elsewhere), to float32 rounding."""
    central = _map()
    result = ensemble.solar_wind(central, 0.0, count=5, duration_s=3 * DAY_S)
    truth = sw.solve(central, duration_s=3 * DAY_S, store_r_km=[AU_KM]).v[0, :, :, 0]
    for k in range(3):
        assert np.max(np.abs(result.values[k] - truth)) < 1e-3          # km/s
    assert np.allclose(result.longitudes_deg, np.arange(128) * 2.8125)


@pytest.mark.slow
def test_the_band_widens_with_the_spread():
    central = _map()
    narrow = ensemble.solar_wind(central, 20.0, count=64, seed=1, duration_s=2 * DAY_S)
    wide = ensemble.solar_wind(central, 60.0, count=64, seed=1, duration_s=2 * DAY_S)
    width = lambda e: float(np.mean(e.values[2] - e.values[0]))      # noqa: E731
    # the same members scaled: the p10-p90 width grows near-linearly with the spread (3x, within 20 %)
    assert width(wide) / width(narrow) == pytest.approx(3.0, rel=0.2)


@settings(max_examples=60, deadline=None)
@given(st.floats(150.0, 2400.0), st.floats(0.0, 3000.0), st.integers(0, 2**32 - 1))
def test_members_stay_physical_whatever_the_map_and_spread(level, spread, seed):
    maps = ensemble.perturbed(np.full(128, level), np.full(128, spread), np.random.default_rng(seed), 4)
    low, high = ensemble.SPEED_LIMITS_KMS
    assert maps.shape == (4, 128) and np.all((maps >= low) & (maps <= high))


@pytest.mark.parametrize("args, message", [
    (["--members", "0"], "--members"),
    (["--at", "1990-01-01"], "saw nothing in the 41 days before 1990-01-01"),
    (["--at", "soon"], "--at 'soon' is not an ISO date"),
    (["--observers", "L2"], "--observers must list distinct observers"),
    (["--days", "-1"], "--days"),
    (["--scheduler", ""], "needs the scheduler's address, tcp://HOST:PORT"),      # once: ran in this process
    (["--scheduler", "tcp://127.0.0.1:1", "--workers", "2"], "give --scheduler (an existing cluster) or --workers"),
])
def test_bad_ensemble_requests_exit_2_with_one_line(args, message, capsys):
    with pytest.raises(SystemExit) as done:
        main(["ensemble", *args])
    err = capsys.readouterr().err.strip()
    assert done.value.code == 2 and message in err and len(err.splitlines()) == 1, err


@pytest.mark.slow
def test_the_ensemble_command_writes_every_line_s_quantiles(tmp_path, capsys):
    out = tmp_path / "q.parquet"
    with pytest.raises(SystemExit) as done:
        main(["ensemble", "--members", "16", "--days", "1", "--at", "2010-08-01", "--out", str(out), "--json"])
    import json

    import pyarrow.parquet as pq
    doc = json.loads(capsys.readouterr().out)
    table = pq.read_table(out).to_pydict()
    assert done.value.code == 0 and doc["members"] == 16 and doc["lines"] == 128
    assert len(table["p50_kms"]) == 128 * doc["hours"]
    assert all(a <= b <= c for a, b, c in zip(table["p10_kms"], table["p50_kms"], table["p90_kms"]))


@pytest.mark.slow
def test_a_write_that_fails_keeps_the_file_already_there(tmp_path, capsys, monkeypatch):
    # A full disk once deleted the earlier results at --out and printed a traceback (exit 1).
    import errno

    def full_disk(self, path):
        Path(path).write_bytes(b"PAR1 half")
        raise OSError(errno.ENOSPC, "No space left on device")

    out = tmp_path / "q.parquet"
    out.write_bytes(b"earlier results")
    monkeypatch.setattr(ensemble.Issued, "write_parquet", full_disk)
    with pytest.raises(SystemExit) as done:
        main(["ensemble", "--members", "4", "--days", "1", "--at", "2010-08-01", "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert done.value.code == 2 and len(err.splitlines()) == 1 and "No space left on device" in err, err
    assert out.read_bytes() == b"earlier results" and sorted(p.name for p in tmp_path.iterdir()) == ["q.parquet"]
    with pytest.raises(SystemExit) as done:
        main(["ensemble", "--members", "4", "--days", "1", "--at", "2010-08-01", "--out", "/dev/null"])
    assert done.value.code == 2 and "/dev/null: not a regular file" in capsys.readouterr().err


@pytest.mark.slow
def test_the_command_names_the_observers_it_had_and_its_band_does_not_depend_on_the_run_length(capsys):
    """STEREO-B (L5) fell silent in 2014: an ensemble at 2020-01-01 says so. A longer run extends
    the same members, so the band at the first hour is the same for a 1-day and a 3-day run with
    the same seed."""
    import json
    widths = []
    for days in ("1", "3"):
        with pytest.raises(SystemExit):
            main(["ensemble", "--members", "40", "--days", days, "--observers", "L1,L5", "--at", "2020-01-01", "--json"])
        doc = json.loads(capsys.readouterr().out)
        assert (doc["observers"], doc["observers_without_data"]) == (["L1"], ["L5"])
        widths.append(doc["earth_daily"]["p90"][0] - doc["earth_daily"]["p10"][0])
    assert widths[0] == pytest.approx(widths[1], abs=0.1)


def test_more_members_than_the_limit_are_refused_in_one_line(capsys):
    # the command allowed 1,000,000 while the ensemble stops at limits.MAX_MEMBERS (100,000): a
    # ValueError traceback after the assimilation
    from l4station.limits import MAX_MEMBERS
    with pytest.raises(SystemExit) as done:
        main(["ensemble", "--members", str(MAX_MEMBERS + 1), "--days", "1", "--at", "2010-08-01"])
    err = capsys.readouterr().err.strip()
    assert done.value.code == 2 and len(err.splitlines()) == 1 and "less than or equal to 100000" in err, err
    with pytest.raises(InputError, match="1,000,000 ensemble members asked for; give 1 to 100,000"):
        ensemble.solar_wind(np.full(8, 400.0), np.full(8, 50.0), count=1_000_000)

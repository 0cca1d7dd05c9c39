"""Trade-space sweeps on a real Dask cluster: a `dask scheduler` and two `dask worker` processes
started on loopback. A variant's figures are those of `study` on the same mission; a rerun
computes nothing again; bad sweep files stop before any work."""
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from l4station.cli import main

SMALL_STUDY = Path(__file__).parents[1] / "data" / "small-trade.toml"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster():
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                  "--port", str(port), "--dashboard-address", ":0"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                                 "--host", "127.0.0.1", "--dashboard-address", ":0"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
    from distributed import Client
    deadline = time.monotonic() + 60
    while True:
        try:
            with Client(address, timeout=5) as client:
                if len(client.scheduler_info()["workers"]) == 2:
                    break
        except OSError:
            pass
        assert time.monotonic() < deadline, "the Dask cluster did not start"
        time.sleep(0.5)
    yield address
    for process in (*workers, scheduler):
        process.terminate()
    for process in (*workers, scheduler):
        process.wait(30)


def test_a_sweep_on_a_cluster_gives_the_study_s_figures_and_resumes(cluster, small_study, tmp_path, capsys):
    sweep = tmp_path / "antenna.toml"
    sweep.write_text(f'base = "{SMALL_STUDY}"\n[vary]\n"spacecraft.rf.antenna_diameter_m" = [0.8, 1.2]\n')
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as done:
        main(["sweep", str(sweep), "--out", str(out), "--scheduler", cluster, "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert done.value.code == 0 and (summary["variants"], summary["completed"], summary["computed"]) == (2, 2, 2)
    rows = {r["variant"]: r for r in pq.read_table(out / "results.parquet").to_pylist()}
    assert (out / "results.csv").read_text().count("\n") == 3
    # v0001 sets the antenna the small mission already has: the same mission, the same figures as `study`
    study = small_study[0].document
    assert rows["v0001"]["config_sha256"] == study["config_sha256"]
    for name, value in study["figures"].items():
        assert rows["v0001"][name] == pytest.approx(value, rel=1e-9, abs=1e-12) if value is not None \
            else rows["v0001"][name] is None, name
    # a smaller antenna returns less: the X-band rate falls as the dish area, (0.8 / 1.2)^2 (link equation)
    assert rows["v0000"]["best_x_rate_kbps"] / rows["v0001"]["best_x_rate_kbps"] == pytest.approx((0.8 / 1.2) ** 2, rel=0.02)
    with pytest.raises(SystemExit) as done:
        main(["sweep", str(sweep), "--out", str(out), "--scheduler", cluster, "--json"])
    again = json.loads(capsys.readouterr().out)
    assert done.value.code == 0 and (again["completed"], again["computed"]) == (2, 0)


@pytest.mark.parametrize("text, message", [
    ('[vary]\n"spacecraft.rf.antenna_diameter_m" = [1.0, -1.0]\n',
     "variant v0001 (spacecraft.rf.antenna_diameter_m=-1.0): spacecraft.rf.antenna_diameter_m: Input should be greater than 0"),
    ('[vary]\n"spacecraft.rf.nope" = [1]\n', "spacecraft.rf.nope: unknown key"),
    ('[vary]\n"ground.stations[99].diameter_m" = [1]\n', "no config path 'ground.stations[99].diameter_m'"),
    ('[vary]\n"mission.target" = []\n', "vary.mission.target must be a non-empty list"),
    ('[sample]\n"spacecraft.rf.power_w" = [60, 20]\nn = 4\n', "must be [low, high] with low < high"),
    ('[sample]\n"spacecraft.rf.power_w" = [20, 60]\nn = 4\nmethod = "grid"\n', "use sobol or lhs"),
    ('[sample]\n"spacecraft.rf.power_w" = [20, 60]\n', "sample.n must be a whole number"),
    ('colour = "red"\n', "unknown key 'colour'"),
    ('[vary\n', "not valid TOML"),
    ('', "nothing to sweep"),
    ('[vary]\n"mission.target" = ["L4"]\n[pareto]\nspeed = "min"\n', "pareto.speed is not a figure of merit"),
    ('[vary]\n"mission.target" = ["L4"]\n[pareto]\ntransfer_dv_kms = "least"\n', 'use "min" or "max"'),
])
def test_bad_sweep_files_stop_before_any_work(text, message, tmp_path, capsys):
    sweep = tmp_path / "bad.toml"
    sweep.write_text(text)
    with pytest.raises(SystemExit) as done:
        main(["sweep", str(sweep), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert done.value.code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "out").exists()


def test_sampled_variants_fill_their_ranges():
    """Scrambled Sobol' points (scipy.stats.qmc) inside [low, high], crossed with the grid."""
    from l4station.study import sweep
    plan = sweep.parse({"vary": {"mission.target": ["L4", "L5"]},
                        "sample": {"spacecraft.rf.power_w": [20.0, 80.0], "n": 8, "seed": 3}}, "s.toml")
    every = sweep.variants(plan)
    assert len(every) == 16 and {v.values["mission.target"] for v in every} == {"L4", "L5"}
    powers = sorted({v.values["spacecraft.rf.power_w"] for v in every})
    assert len(powers) == 8 and 20.0 <= powers[0] and powers[-1] <= 80.0
    assert {v.config.spacecraft.rf.power_w for v in every} == set(powers)


def test_a_variant_that_fails_is_a_row_with_its_error_and_is_computed_again(monkeypatch, tmp_path):
    """evaluate never raises: a failing study is a 'failed' row with its first line; only
    completed rows count as done when a sweep resumes."""
    from l4station.study import sweep
    plan = sweep.parse({"vary": {"spacecraft.rf.power_w": [20.0, 40.0]}}, "s.toml")
    first, second = sweep.variants(plan)
    monkeypatch.setattr(sweep, "figures_of", lambda mission, cache=None: (_ for _ in ()).throw(RuntimeError("no convergence\nat step 3")))
    failed = sweep.evaluate(first)
    assert (failed["status"], failed["error"], failed["transfer_dv_kms"]) == ("failed", "no convergence", None)
    monkeypatch.setattr(sweep, "figures_of", lambda mission, cache=None: {m.name: 1.0 for m in sweep.merit.MERITS})
    done = sweep.evaluate(second)
    sweep.write([failed, done], tmp_path)
    assert set(sweep.completed(tmp_path / "results.parquet")) == {second.config.sha256()}


def test_the_pareto_front_follows_the_objectives_named():
    from l4station.study import sweep
    rows = [{"variant": v, "status": "completed", "transfer_dv_kms": dv, "data_returned_gbit_per_day": gbit}
            for v, dv, gbit in (("a", 1.0, 3.0), ("b", 2.0, 4.0), ("c", 2.5, 3.5), ("d", 0.9, 1.0))]
    assert sweep.pareto(rows, {"transfer_dv_kms": "min", "data_returned_gbit_per_day": "max"}) == ["a", "b", "d"]
    assert sweep.pareto(rows, {"transfer_dv_kms": "max"}) == ["c"]
    plan = sweep.parse({"vary": {"mission.target": ["L4"]}, "pareto": {"beacon_coverage": "max"}}, "s.toml")
    assert plan.objectives == {"beacon_coverage": "max"}

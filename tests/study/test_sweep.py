"""Trade-space sweeps on a real Dask cluster: a `dask scheduler` and two `dask worker` processes
started on loopback. A variant's figures are those of `study` on the same mission; a rerun
computes nothing again; bad sweep files stop before any work."""
import contextlib
import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from l4station.cli import main

SMALL_STUDY = Path(__file__).parents[1] / "data" / "small-trade.toml"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_cluster(workers: int) -> tuple[str, list[subprocess.Popen]]:
    """A `dask scheduler` and ``workers`` single-threaded `dask worker` processes on loopback."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                  "--port", str(port), "--dashboard-address", ":0"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                                 "--host", "127.0.0.1", "--dashboard-address", ":0"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(workers)]
    from distributed import Client
    deadline = time.monotonic() + 60
    while True:
        try:
            with Client(address, timeout=5) as client:
                if len(client.scheduler_info()["workers"]) == workers:
                    break
        except OSError:
            pass
        assert time.monotonic() < deadline, "the Dask cluster did not start"
        time.sleep(0.5)
    return address, [scheduler, *started]


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in reversed(processes):
        process.terminate()
    for process in processes:
        process.wait(30)


@pytest.fixture(scope="module")
def cluster():
    address, processes = _start_cluster(2)
    yield address
    _stop(processes)


def _rows_written(out: Path) -> list[dict]:
    try:
        return pq.read_table(out / "results.parquet").to_pylist()
    except (OSError, ValueError):
        return []


def _wait_for_rows(out: Path, count: int, deadline_s: float = 300) -> list[dict]:
    deadline = time.monotonic() + deadline_s
    while len(rows := _rows_written(out)) < count:
        assert time.monotonic() < deadline, f"no {count} rows in {out} after {deadline_s} s"
        time.sleep(0.2)
    return rows


@pytest.mark.slow
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
    _check_report(Path(again["report"]), ["v0000", "v0001"], plots=2)     # two variants: too few for sensitivity
    # the same sweep on a local cluster (its slow parts read from the first run's cache) gives the same figures
    local = tmp_path / "local"
    shutil.copytree(out / "cache", local / "cache")
    with pytest.raises(SystemExit) as done:
        main(["sweep", str(sweep), "--out", str(local), "--workers", "1", "--json"])
    assert json.loads(capsys.readouterr().out)["computed"] == 2
    assert pq.read_table(local / "results.parquet").drop(["elapsed_s"]).to_pylist() == \
        pq.read_table(out / "results.parquet").drop(["elapsed_s"]).to_pylist()


def _check_report(page: Path, variants: list[str], plots: int) -> None:
    """The trade-space page is one offline file: plotly.js inline, no request leaves it, and in
    Chromium its plots draw without a script error and its table lists every variant."""
    html = page.read_text()
    assert 'src="http' not in html and "plotly.js" in html.lower()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--headless", "--no-sandbox", "--disable-gpu"])
        page_ = browser.new_page()
        errors, requests = [], []
        page_.on("pageerror", lambda e: errors.append(str(e)))
        page_.on("request", lambda r: requests.append(r.url))
        page_.goto(page.as_uri())
        page_.wait_for_selector(".js-plotly-plot .main-svg")
        assert page_.locator(".js-plotly-plot").count() == plots
        assert page_.locator("#variant-table tbody tr td:first-child").all_inner_texts() == variants
        browser.close()
    assert errors == [] and all(url.startswith("file:") for url in requests), (errors, requests)


@pytest.mark.slow
def test_a_sweep_completes_when_a_worker_is_killed_and_reports_its_failing_variant(tmp_path, capsys):
    """Four variants on a fresh two-worker cluster; one worker is killed (SIGKILL) once the first
    row is written: its variant runs again on the other. The variant whose only station never
    sees the spacecraft above 89 deg is a failed row; the other three complete."""
    base = tmp_path / "chilbolton.toml"
    base.write_text(SMALL_STUDY.read_text() + '\n[ground]\nstations = ["Chilbolton"]\ntracking = ["Chilbolton"]\n'
                    'beacon = []\n')
    sweep = tmp_path / "floor.toml"
    sweep.write_text(f'base = "{base}"\n[vary]\n"ground.custom[0].min_elevation_deg" = [10.0, 15.0, 20.0, 89.0]\n')
    out = tmp_path / "out"
    address, processes = _start_cluster(2)
    try:
        client = subprocess.Popen([sys.executable, "-m", "l4station", "sweep", str(sweep), "--out", str(out),
                                   "--scheduler", address, "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
        _wait_for_rows(out, 1)
        victim = processes[1]
        victim.kill()
        victim.wait(30)
        stdout, stderr = client.communicate(timeout=600)
    finally:
        _stop([p for p in processes if p.poll() is None])
    assert client.returncode == 1, stderr                # a variant failed: said in the exit code, too
    summary = json.loads(stdout)
    assert (summary["variants"], summary["completed"]) == (4, 3)
    assert [f["variant"] for f in summary["failed"]] == ["v0003"]
    assert "no station of the ground network sees the spacecraft" in summary["failed"][0]["error"]
    rows = {r["variant"]: r for r in pq.read_table(out / "results.parquet").to_pylist()}
    assert [rows[v]["status"] for v in sorted(rows)] == ["completed"] * 3 + ["failed"]


@pytest.mark.slow
def test_a_killed_client_resumes_without_computing_finished_variants_again(cluster, tmp_path):
    sweep = tmp_path / "margin.toml"
    sweep.write_text(f'base = "{SMALL_STUDY}"\n[vary]\n"link.required_margin_db" = [3.0, 4.0, 5.0, 6.0]\n')
    out = tmp_path / "out"
    client = subprocess.Popen([sys.executable, "-m", "l4station", "sweep", str(sweep), "--out", str(out),
                               "--scheduler", cluster], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_rows(out, 1)
    finally:
        client.kill()
        client.wait(30)
    finished = {r["variant"] for r in _rows_written(out) if r["status"] == "completed"}
    assert 1 <= len(finished) < 4
    again = subprocess.run([sys.executable, "-m", "l4station", "sweep", str(sweep), "--out", str(out),
                            "--scheduler", cluster, "--json"], capture_output=True, text=True, timeout=600)
    summary = json.loads(again.stdout)
    assert (summary["completed"], summary["computed"]) == (4, 4 - len(finished)), again.stderr
    rows = pq.read_table(out / "results.parquet").to_pylist()
    assert sorted(r["variant"] for r in rows) == ["v0000", "v0001", "v0002", "v0003"]
    # the margin changes the rate, never the data the station sees: the X-band rate falls 1 dB per dB
    rate = {r["link.required_margin_db"]: r["best_x_rate_kbps"] for r in rows}
    assert rate[3.0] / rate[6.0] == pytest.approx(10 ** 0.3, rel=0.02)


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
    ('sample = 5\n', "[sample] must be a table"),
    ('[sample]\n"spacecraft.rf.power_w" = [20, 60]\nn = 4\nseed = -1\n', "sample.seed must be a whole number, at least 0"),
    ('[vary]\n"mission.target" = ["L4"]\n"mission.target, spacecraft.rf.power_w" = [["L5", 20.0]]\n',
     "mission.target is varied twice"),
    ('[vary]\n"mission.target" = ["L4"]\n[sample]\nn = 4\n', "sample.n is given but no config path is sampled"),
    ('[vary]\n"spacecraft.rf.power_w" = [nan, 20.0]\n', "holds nan or inf"),
    ('[vary]\n"mission.launch.earliest, mission.epoch" = [[2029-01-01T00:00:00]]\n', "each value must be a list of 2"),
    ('[vary]\n"ground.stations[0].a.b" = [1]\n', "no config path 'ground.stations[0].a.b'"),   # a station is a name
    ('[sample]\n"spacecraft.rf.power_w" = [-1e308, 1e308]\nn = 2\n', "wider than a float can hold"),
    ('[vary]\n"mission.epoch" = [2053-06-01T00:00:00]\n', "must lie inside DE421's span, a day in from its ends"),
    ('base = "missing.toml"\n[vary]\n"mission.target" = ["L4"]\n', "bad.toml: base "),         # says it is the base
    ('[vary]\nmission.target = ["L4"]\n', 'vary.mission is a table; write each config path in quotes, "mission.target"'),
    ('[sample]\nspacecraft.rf.power_w = [20, 60]\nn = 4\n', 'sample.spacecraft is a table; write each config path'),
    # a field inside a table also swept: whichever was set last won, the row recording the other
    ('[vary]\n"spacecraft.rf.antenna_diameter_m" = [2.0]\n"spacecraft.rf" = [{antenna_diameter_m = 1.0}]\n',
     "spacecraft.rf.antenna_diameter_m lies inside spacecraft.rf, which is swept too"),
    ('[vary]\n"ground.custom" = [[]]\n[sample]\n"ground.custom[0].efficiency.X" = [0.5, 0.7]\nn = 2\n',
     "ground.custom[0].efficiency.X lies inside ground.custom"),
    ('[sample]\n"forecast.cme_count" = [10.2, 10.8]\nn = 4\n', "sample.forecast.cme_count = [10.2, 10.8] holds no whole number"),
    # one spelling per path: [00] and an Arabic-Indic zero once passed as other paths than [0]
    ('[vary]\n"ground.custom[00].diameter_m" = [12.0]\n', "'ground.custom[00].diameter_m' is not a config path"),
    ('[vary]\n"ground.custom[\u0660].diameter_m" = [12.0]\n', "is not a config path"),
])
@pytest.mark.slow
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


def test_a_whole_number_field_is_sampled_in_whole_numbers():
    # found by trying it as a new user would: a sampled transfer.max_revs failed every variant with
    # "Input should be a valid integer (got 4.40...)", a value the user never wrote
    from l4station.study import sweep
    plan = sweep.parse({"sample": {"mission.transfer.max_revs": [1, 5], "n": 8, "method": "lhs", "seed": 1}}, "s.toml")
    revs = [v.values["mission.transfer.max_revs"] for v in sweep.variants(plan)]
    assert all(type(r) is int and 1 <= r <= 5 for r in revs) and len(set(revs)) >= 3


def test_a_table_value_is_laid_over_the_table_as_a_mission_file_lays_it(tmp_path):
    # found by trying it as a new user would: {L4 = 1.0} for forecast.latency_hours replaced the
    # whole table in a sweep (L1 and L5 quietly 0 h) where a mission file keeps their defaults
    from l4station import config
    from l4station.study import sweep
    (variant,) = sweep.variants(sweep.parse({"vary": {"forecast.latency_hours": [{"L4": 1.0}]}}, "s.toml"))
    path = tmp_path / "m.toml"
    path.write_text("[forecast.latency_hours]\nL4 = 1.0\n")
    assert variant.config.forecast == config.load(path).forecast


def test_an_empty_out_is_refused_not_the_working_folder(tmp_path, capsys, monkeypatch):
    # an unset shell variable gave --out "", and the sweep wrote results and its cache into the
    # working folder (found by trying it as a new user would)
    monkeypatch.chdir(tmp_path)
    sweep_file = tmp_path / "s.toml"
    sweep_file.write_text('[vary]\n"mission.target" = ["L4"]\n')
    for command in (["sweep", str(sweep_file)], ["study"]):
        with pytest.raises(SystemExit) as done:
            main([*command, "--out", ""])
        err = capsys.readouterr().err.strip()
        assert done.value.code == 2 and len(err.splitlines()) == 1 and "an empty path; name a folder" in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]


def test_a_variant_with_a_new_network_starts_its_roles_afresh_as_a_mission_file_does(tmp_path):
    """Varying ground.stations is the same mission as a file setting them: the default tracking
    and beacon roles (which named the default's stations) are dropped unless given too."""
    from l4station import config
    from l4station.study import sweep
    network = ["DSS-34", "KDSA"]
    plan = sweep.parse({"vary": {"ground.stations": [network]}}, "s.toml")
    (variant,) = sweep.variants(plan)
    path = tmp_path / "m.toml"
    path.write_text('[ground]\nstations = ["DSS-34", "KDSA"]\n')
    assert variant.config.ground == config.load(path).ground
    plan = sweep.parse({"vary": {"ground.stations, ground.beacon": [[network, ["KDSA"]]]}}, "s.toml")
    assert sweep.variants(plan)[0].config.ground.beacon == ["KDSA"]


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
    sweep.write([failed, done], tmp_path, sweep.parameters(plan))
    assert set(sweep.completed(tmp_path / "results.parquet", sweep.parameters(plan))) == {second.config.sha256()}


def test_an_edited_sweep_keeps_the_rows_of_the_variants_it_no_longer_lists(monkeypatch, tmp_path):
    """Narrowing [vary] loses no computed row: the dropped variant's row moves to earlier.parquet,
    and widening again takes it back without computing it (every variant is done: no cluster)."""
    import pyarrow.parquet as pq
    from l4station.study import sweep
    monkeypatch.setattr(sweep, "figures_of", lambda mission, cache=None: {m.name: 1.0 for m in sweep.merit.MERITS})
    wide = sweep.parse({"base": str(SMALL_STUDY), "vary": {"spacecraft.rf.power_w": [20.0, 40.0]}}, str(tmp_path / "s.toml"))
    narrow = sweep.parse({"base": str(SMALL_STUDY), "vary": {"spacecraft.rf.power_w": [20.0]}}, str(tmp_path / "s.toml"))
    first, second = sweep.variants(wide)
    sweep.write([sweep.evaluate(first), sweep.evaluate(second)], tmp_path, sweep.parameters(wide))
    summary = sweep._run(narrow, tmp_path, sweep.variants(narrow), None, None, None, 0.0)
    assert summary["computed"] == 0 and summary["variants"] == 1
    kept = pq.read_table(tmp_path / "earlier.parquet").to_pylist()
    assert [r["config_sha256"] for r in kept] == [second.config.sha256()] and (tmp_path / "earlier.csv").exists()
    summary = sweep._run(wide, tmp_path, sweep.variants(wide), None, None, None, 0.0)
    assert summary["computed"] == 0 and summary["completed"] == 2 and not (tmp_path / "earlier.parquet").exists()


@pytest.mark.parametrize("name, count", [("l4-vs-l5", 12), ("ground-network", 20), ("observers", 32)])
def test_the_shipped_sweeps_check_with_the_variants_the_readme_counts(name, count):
    # ground-network.toml's base once named the default's partner beacon station after replacing
    # the custom stations that define it: the shipped example could not start.
    from l4station.study import sweep
    every = sweep.variants(sweep.read(Path(__file__).parents[2] / "sweeps" / f"{name}.toml"))
    assert len(every) == count


def test_the_ground_network_sweep_runs_each_mission_once():
    # KDSA's receiver bracket was once crossed with the DSN-only network, which never uses it:
    # four of its 24 variants repeated a mission under another digest.
    from l4station.study import sweep
    every = sweep.variants(sweep.read(Path(__file__).parents[2] / "sweeps" / "ground-network.toml"))
    used = set()
    for variant in every:
        ground = variant.config.ground
        kdsa = "KDSA" in ground.stations
        used.add((tuple(ground.stations), variant.config.spacecraft.rf.power_w, tuple(variant.config.spacecraft.rf.bands),
                  (ground.custom[0].receiver_noise_k["X"], ground.custom[0].efficiency["X"]) if kdsa else None))
    assert len(used) == len(every)


def test_the_pareto_front_follows_the_objectives_named():
    from l4station.study import sweep
    rows = [{"variant": v, "status": "completed", "transfer_dv_kms": dv, "data_returned_gbit_per_day": gbit}
            for v, dv, gbit in (("a", 1.0, 3.0), ("b", 2.0, 4.0), ("c", 2.5, 3.5), ("d", 0.9, 1.0))]
    assert sweep.pareto(rows, {"transfer_dv_kms": "min", "data_returned_gbit_per_day": "max"}) == ["a", "b", "d"]
    assert sweep.pareto(rows, {"transfer_dv_kms": "max"}) == ["c"]
    # a design that cannot fly is no choice: "d" short of propellant, "b" arriving late
    rows[3]["propellant_margin_kg"], rows[1]["arrival_margin_days"] = -111.0, -1458.0
    assert sweep.pareto(rows, {"transfer_dv_kms": "min", "data_returned_gbit_per_day": "max"}) == ["a", "c"]
    plan = sweep.parse({"vary": {"mission.target": ["L4"]}, "pareto": {"beacon_coverage": "max"}}, "s.toml")
    assert plan.objectives == {"beacon_coverage": "max"}


def test_sensitivity_matches_the_ishigami_indices():
    """First-order indices of the Ishigami function (a = 7, b = 0.1) from 4096 scrambled Sobol'
    points, against the exact values 0.3139, 0.4424, 0 (Saltelli et al. 2008, section 4.3): within 0.03."""
    import numpy as np
    from scipy.stats import qmc

    from l4station.study.tradespace import first_order
    x = qmc.scale(qmc.Sobol(3, seed=5).random(4096), [-np.pi] * 3, [np.pi] * 3)
    y = np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])
    assert [first_order(list(x[:, k]), list(y)) for k in range(3)] == pytest.approx([0.3139, 0.4424, 0.0], abs=0.03)


def test_sensitivity_on_a_factorial_grid_is_the_share_of_variance():
    """y = a + 2 b on the grid {0, 1}^2: Var(a) / Var(y) = 0.25 / 1.25 = 0.2 and 1 / 1.25 = 0.8,
    exactly; a constant figure has none."""
    from l4station.study.tradespace import first_order
    a, b = [0, 0, 1, 1], [0, 1, 0, 1]
    y = [p + 2 * q for p, q in zip(a, b)]
    assert (first_order(a, y), first_order(b, y)) == pytest.approx((0.2, 0.8), abs=1e-12)
    assert first_order(["L4", "L4", "L5", "L5"], [1.0] * 4) is None


def _small_sweep(tmp_path: Path, path: str = "spacecraft.rf.power_w") -> Path:
    sweep = tmp_path / "s.toml"
    sweep.write_text(f'base = "{SMALL_STUDY}"\n[vary]\n"{path}" = [20.0, 40.0]\n')
    return sweep


@pytest.mark.parametrize("damage, message", [
    ("another", "holds the results of another sweep (varying spacecraft.rf.antenna_diameter_m)"),
    ("garbage", "not a readable results file"),
    ("folder", "results.parquet is a folder"),
    ("locked", "another sweep is writing to"),
])
def test_an_out_folder_holding_other_results_is_refused_before_any_work(damage, message, tmp_path, capsys):
    """Results are never overwritten by another sweep's, a damaged file is reported in one
    line, and two sweeps never write one folder at once."""
    import fcntl

    from l4station.study import sweep as sweep_module
    out = tmp_path / "out"
    out.mkdir()
    if damage == "another":
        other = sweep_module.parse({"vary": {"spacecraft.rf.antenna_diameter_m": [1.0]}}, "o.toml")
        sweep_module.write([{"variant": "v0000", "spacecraft.rf.antenna_diameter_m": 1.0, "status": "completed"}],
                           out, sweep_module.parameters(other))
    elif damage == "garbage":
        (out / "results.parquet").write_text("garbage")
    elif damage == "folder":
        (out / "results.parquet").mkdir()
    lock = (out / ".sweep.lock").open("a")
    before = sorted(p.name for p in out.iterdir())
    if damage == "locked":
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        with pytest.raises(SystemExit) as done:
            main(["sweep", str(_small_sweep(tmp_path)), "--out", str(out)])
    finally:
        lock.close()
    err = capsys.readouterr().err.strip()
    assert done.value.code == 2 and message in err and len(err.splitlines()) == 1, err
    assert sorted(p.name for p in out.iterdir()) == before          # nothing written, nothing lost


def test_an_unreachable_scheduler_is_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as done:
        main(["sweep", str(_small_sweep(tmp_path)), "--out", str(tmp_path / "out" / "a" / "b"), "--scheduler",
              "tls://127.0.0.1:1"])
    err = capsys.readouterr().err.strip()
    assert done.value.code == 2 and "cannot reach the Dask scheduler at tls://127.0.0.1:1" in err and \
        len(err.splitlines()) == 1, err
    assert not (tmp_path / "out").exists()                  # its lock file, then its parents, once stayed behind


@pytest.mark.slow
def test_ctrl_c_stops_a_sweep_in_one_line_and_a_rerun_resumes(tmp_path):
    """Ctrl-C reaches every process of the command (the terminal's process group): the workers
    once each printed a KeyboardInterrupt traceback, and the command's own line was missing."""
    import os
    import signal
    sweep = tmp_path / "margin.toml"
    sweep.write_text(f'base = "{SMALL_STUDY}"\n[vary]\n"link.required_margin_db" = [3.0, 4.0, 5.0, 6.0, 7.0, 8.0]\n'
                     '"spacecraft.rf.power_w" = [30.0, 40.0]\n')
    out = tmp_path / "out"
    command = [sys.executable, "-m", "l4station", "sweep", str(sweep), "--out", str(out), "--workers", "2"]
    run = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    _wait_for_rows(out, 1)
    os.killpg(run.pid, signal.SIGINT)
    _, stderr = run.communicate(timeout=120)
    assert run.returncode == 130 and stderr == "l4station: interrupted\n", stderr
    finished = {r["variant"] for r in _rows_written(out) if r["status"] == "completed"}
    again = subprocess.run([*command, "--json"], capture_output=True, text=True, timeout=600)
    assert json.loads(again.stdout)["computed"] == 12 - len(finished), again.stderr


def test_a_float_field_a_base_writes_as_a_whole_number_is_sampled_in_floats(tmp_path):
    from l4station.study import sweep
    base = tmp_path / "base.toml"
    base.write_text("[mission]\nduration_years = 2\n")
    plan = tmp_path / "s.toml"
    plan.write_text(f'base = "{base}"\n[sample]\n"mission.duration_years" = [1.2, 1.8]\nn = 4\n')
    years = [v.values["mission.duration_years"] for v in sweep.variants(sweep.read(plan))]
    assert len(set(years)) == 4 and all(1.2 <= y <= 1.8 for y in years)


def test_whole_numbers_sampled_stay_inside_the_range():
    # [0.2, 5.8] once rounded to 0 and 6, outside it
    from l4station.study import sweep
    plan = sweep.parse({"sample": {"mission.transfer.max_revs": [0.2, 5.8], "n": 64, "method": "lhs"}}, "s.toml")
    assert {v.values["mission.transfer.max_revs"] for v in sweep.variants(plan)} == {1, 2, 3, 4, 5}


@pytest.fixture
def in_process(monkeypatch):
    """Sweeps on a Dask cluster of threads in this process, each variant's study replaced by
    ``figures`` (a function of the mission), counting the studies run."""
    from distributed import Client
    from l4station.study import merit, sweep
    studied = []

    @contextlib.contextmanager
    def threads(scheduler, workers):
        with Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None, protocol="tcp",
                    host="127.0.0.1") as client:
            yield client

    def figures(mission, cache=None):
        studied.append(mission.sha256())
        return {m.name: float(mission.spacecraft.rf.power_w) for m in merit.MERITS}
    monkeypatch.setattr(sweep.cluster, "client", threads)
    monkeypatch.setattr(sweep, "figures_of", figures)
    return studied


def test_variants_that_are_the_same_mission_are_studied_once(in_process, tmp_path):
    from l4station.study import sweep
    plan = sweep.parse({"vary": {"spacecraft.rf.power_w": [20, 20.0, 40]}}, "s.toml")
    summary = sweep.run(plan, tmp_path / "out")
    assert (summary["variants"], summary["completed"], summary["computed"], len(in_process)) == (3, 3, 2, 2)
    rows = pq.read_table(tmp_path / "out" / "results.parquet").to_pylist()
    assert [(r["variant"], r["transfer_dv_kms"]) for r in rows] == [("v0000", 20.0), ("v0001", 20.0), ("v0002", 40.0)]
    # a rerun keeps each variant's own values (it once gave v0000 the cells of the row it shares)
    same = sweep.parse({"vary": {"spacecraft.rf": [{"power_w": 60.0}, {"power_w": 60.0, "antenna_efficiency": 0.55}]}},
                       "t.toml")
    for _ in range(2):
        sweep.run(same, tmp_path / "same")
        cells = [r["spacecraft.rf"] for r in pq.read_table(tmp_path / "same" / "results.parquet").to_pylist()]
        assert [json.loads(c) for c in cells] == [{"power_w": 60.0}, {"power_w": 60.0, "antenna_efficiency": 0.55}]


def test_variants_waiting_on_a_cluster_without_workers_fail_instead_of_waiting_for_ever(tmp_path, monkeypatch):
    # a kill storm once left a sweep with no worker, waiting for ever on its futures
    from distributed import Client
    from l4station.study import sweep

    @contextlib.contextmanager
    def empty(scheduler, workers):
        with Client(processes=False, n_workers=0, dashboard_address=None, protocol="tcp", host="127.0.0.1") as client:
            yield client
    monkeypatch.setattr(sweep.cluster, "client", empty)
    monkeypatch.setattr(sweep.cluster, "check_code", lambda client: None)
    monkeypatch.setattr(sweep.cluster, "WORKER_WAIT_S", 1.0)
    monkeypatch.setattr(sweep, "POLL_S", 0.2)
    summary = sweep.run(sweep.parse({"vary": {"spacecraft.rf.power_w": [20.0, 40.0]}}, "s.toml"), tmp_path / "out")
    assert summary["completed"] == 0 and [f["error"] for f in summary["failed"]] == ["no Dask worker left for 1 s"] * 2


def test_a_variant_whose_task_is_lost_is_a_failed_row_and_the_sweep_finishes(in_process, tmp_path, monkeypatch):
    # a worker killed on every try raises KilledWorker from the future: it once ended the sweep
    # with a traceback and no results file
    from l4station.study import sweep
    evaluate = sweep.evaluate

    def lost(variant, cache=None):
        if variant.values["spacecraft.rf.power_w"] == 40.0:
            raise RuntimeError("Attempted to run task 'variant-v0001' on 3 different workers, but all those workers died")
        return evaluate(variant, cache)
    monkeypatch.setattr(sweep, "evaluate", lost)
    summary = sweep.run(sweep.parse({"vary": {"spacecraft.rf.power_w": [20.0, 40.0]}}, "s.toml"), tmp_path / "out")
    assert summary["completed"] == 1 and summary["failed"] == [
        {"variant": "v0001", "error": "Attempted to run task 'variant-v0001' on 3 different workers, but all those "
                                      "workers died"}]
    assert [r["status"] for r in pq.read_table(tmp_path / "out" / "results.parquet").to_pylist()] == ["completed", "failed"]


def test_a_scheduler_address_where_something_else_answers_is_one_line(tmp_path, capsys):
    # An SSH server's banner read as Dask frames once asked for 2.8 EiB (a MemoryError traceback).
    import threading
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def banner():
        connection, _ = server.accept()
        connection.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")
        time.sleep(5)
        connection.close()

    threading.Thread(target=banner, daemon=True).start()
    address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
    with pytest.raises(SystemExit) as done:
        main(["ensemble", "--members", "4", "--days", "1", "--at", "2010-08-01", "--scheduler", address])
    server.close()
    err = capsys.readouterr().err.strip()
    assert done.value.code == 2 and f"cannot reach the Dask scheduler at {address}" in err and \
        len(err.splitlines()) == 1, err


def test_a_scheduler_address_that_never_answers_is_given_up_in_one_line(tmp_path, capsys, monkeypatch):
    # An HTTP server at the address kept distributed's handshake waiting past its own timeout.
    import threading
    from l4station import cluster
    monkeypatch.setattr(cluster, "CONNECT_WAIT_S", 2.0)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    held = []
    threading.Thread(target=lambda: held.append(server.accept()), daemon=True).start()   # accepts, says nothing
    address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
    began = time.monotonic()
    with pytest.raises(SystemExit) as done:
        main(["ensemble", "--members", "4", "--days", "1", "--at", "2010-08-01", "--scheduler", address])
    server.close()
    err = capsys.readouterr().err.strip()
    assert done.value.code == 2 and "no Dask handshake in 2 s" in err and len(err.splitlines()) == 1, err
    assert time.monotonic() - began < 20


@pytest.mark.parametrize("objectives, plots", [
    ({"transfer_dv_kms": "min"}, 3),                                    # one objective: variants ranked
    ({"transfer_dv_kms": "min", "data_returned_gbit_per_day": "max"}, 3),
])
def test_the_report_draws_rows_with_missing_figures_and_a_single_objective(objectives, plots, tmp_path):
    """A figure a variant could not produce (None) draws no line instead of a category at the
    top of its axis; one objective gives a ranking; a failed row is listed, not plotted."""
    from l4station.study import merit, tradespace
    rows = [{"variant": f"v{k:04d}", "spacecraft.rf.power_w": p, **{m.name: None for m in merit.MERITS},
             "transfer_dv_kms": dv, "data_returned_gbit_per_day": gbit, "best_x_rate_kbps": p / 10,
             "status": "completed", "error": "",
             "elapsed_s": 1.0}
            for k, (p, dv, gbit) in enumerate([(20.0, 1.2, 2.0), (40.0, None, 3.0), (60.0, 1.0, None), (80.0, 1.5, 4.0)])]
    rows.append(rows[0] | {"variant": "v0004", "status": "failed", "error": "no contact"})
    from l4station.study.sweep import pareto
    front = pareto(rows, objectives)
    summary = {"variants": 5, "completed": 4, "failed": [{"variant": "v0004", "error": "no contact"}],
               "objectives": objectives, "pareto": front}
    figs = tradespace.figures(rows, ["spacecraft.rf.power_w"], objectives, front)
    assert len(figs) == plots
    parallel = figs[1][2].data[0]
    dv_axis = next(d for d in parallel.dimensions if d["label"].startswith("transfer_dv_kms"))
    assert dv_axis.ticktext is None and np.isnan(dv_axis.values[1])
    heat = figs[2][2].data[0]                    # only the figure known in every row has a sensitivity
    assert list(heat.y) == ["best_x_rate_kbps"] and heat.z[0][0] == pytest.approx(1.0)
    page = tradespace.write(tmp_path, summary, rows, ["spacecraft.rf.power_w"], "s.toml").read_text()
    assert page.count('class="js-plotly-plot"') + page.count("Plotly.newPlot") >= plots and "no contact" in page


@pytest.mark.slow
def test_checking_the_variants_reports_its_progress():
    from l4station.study import sweep as sweep_module
    plan = sweep_module.parse({"base": str(SMALL_STUDY), "vary": {"spacecraft.rf.power_w": [20.0, 30.0],
                                                                   "spacecraft.rf.antenna_diameter_m": [0.8, 1.2]}}, "t")
    seen = []
    assert len(sweep_module.variants(plan, on_checked=lambda k, n: seen.append((k, n)))) == 4
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]

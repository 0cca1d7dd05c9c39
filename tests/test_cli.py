"""The l4station command: exit codes, one-line errors, JSON on stdout, no traceback, no network."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from l4station.cli import main

OFFLINE = Path(__file__).parent / "offline"
SMALL = Path(__file__).parent / "data" / "small-trade.toml"


def run(capsys, *argv):
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


def test_no_arguments_prints_help(capsys):
    code, out, _ = run(capsys, )
    assert code == 0 and "study" in out and "config" in out


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.startswith("l4station ")


def test_config_show_prints_resolved_toml_that_checks(capsys, tmp_path):
    code, out, _ = run(capsys, "config", "show")
    assert code == 0 and out.startswith("# resolved from <default")
    path = tmp_path / "resolved.toml"
    path.write_text(out)
    code, out, _ = run(capsys, "config", "check", str(path))
    assert code == 0 and "valid" in out


def test_config_show_json(capsys):
    code, out, _ = run(capsys, "config", "show", "--json")
    assert code == 0 and json.loads(out)["mission"]["target"] == "L4"


@pytest.mark.slow
@pytest.mark.parametrize("text, fragment", [
    ("[spacecraft]\ndry_mass_kg = -5\n", "spacecraft.dry_mass_kg: Input should be greater than 0 (got -5)"),
    ("[ground]\nstations = ['DSS-99']\n", "ground.stations: unknown station 'DSS-99'"),
    ("[mission\n", "not valid TOML"),
    ("[mission]\nbogus = 1\n", "mission.bogus: unknown key"),
    ("[mission]\nduration_years = 'x'\n", "mission.duration_years: must be a number, not the text 'x'"),
])
def test_bad_config_exits_2_with_one_line(capsys, tmp_path, text, fragment):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    for argv in (["config", "check", str(path)], ["config", "show", str(path)],
                 ["study", "--config", str(path), "--out", str(tmp_path / "r")]):
        code, out, err = run(capsys, *argv)
        assert code == 2 and out == ""
        assert err.count("\n") == 1 and err.startswith(f"l4station: error: {path}: ")
        assert fragment in err


def test_config_check_json_reports_the_problem(capsys, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[spacecraft]\ndry_mass_kg = -5\n")
    code, out, _ = run(capsys, "config", "check", str(path), "--json")
    assert code == 2
    assert json.loads(out) == {"file": str(path), "valid": False, "field": "spacecraft.dry_mass_kg",
                               "error": "Input should be greater than 0 (got -5)"}


def test_usage_errors_are_one_line(capsys):
    code, out, err = run(capsys, "study", "--bogus")
    assert code == 2 and err == "l4station: error: No such option: --bogus (Possible options: --out) " \
                                "(see 'l4station study --help')\n"
    code, _, err = run(capsys, "config", "check")
    assert code == 2 and "Missing argument 'FILE'" in err.replace("'file'", "'FILE'")
    code, _, err = run(capsys, "frobnicate")
    assert code == 2 and "No such command 'frobnicate'" in err


@pytest.mark.slow
def test_transfer_json(capsys):
    code, out, _ = run(capsys, "transfer", "--config", str(SMALL), "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["target"] == "L4" and doc["lambert_solves"] > 0 and doc["elapsed_s"] > 0
    keys = {"departure", "tof_days", "revs", "departure_vinf_kms", "c3_km2s2", "arrival_dv_kms",
            "total_dv_kms", "propellant_kg", "refined_arrival_error_km"}
    assert doc["pareto"] and all(keys <= set(p) for p in doc["pareto"])
    assert all(p["refined_arrival_error_km"] < 1000 for p in doc["pareto"])
    assert doc["free_drift"]["drift_rate_deg_per_year"] > 0


@pytest.mark.slow
def test_transfer_table_and_bad_target(capsys):
    code, out, _ = run(capsys, "transfer", "--config", str(SMALL), "--target", "l5")
    assert code == 0 and "Transfers to L5" in out and "Free drift" in out
    code, _, err = run(capsys, "transfer", "--target", "L3")
    assert code == 2 and err == "l4station: error: --target must be L4 or L5, got 'L3'\n"


def test_stability_json(capsys):
    code, out, _ = run(capsys, "stability", "--years", "1", "--json")
    assert code == 0
    doc = json.loads(out)
    assert set(doc) >= {"years", "max_drift_deg", "max_drift_km", "libration_period_long_years",
                        "libration_period_short_days", "stationkeeping_dv_ms_per_year"}
    assert doc["years"] == pytest.approx(1.0, abs=0.01)
    code, _, err = run(capsys, "stability", "--years", "0")
    assert code == 2 and "--years" in err


def test_unwritable_output_directory(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, err = run(capsys, "study", "--config", str(SMALL), "--out", str(blocker / "report"))
    assert code == 2 and err == f"l4station: error: --out {blocker / 'report'}: {blocker} is not a folder; choose another path\n"


def _subprocess(tmp_path, *argv):
    log = tmp_path / "network.log"
    env = {**os.environ, "PYTHONPATH": str(OFFLINE), "L4STATION_NETLOG": str(log)}
    proc = subprocess.run([sys.executable, "-m", "l4station", *argv], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    return proc, (log.read_text() if log.exists() else "")


@pytest.mark.slow
def test_study_json_end_to_end_offline(tmp_path):
    # A real process, as a user runs it, with every outbound connection and astropy download
    # recorded and refused: none may be attempted.
    proc, attempts = _subprocess(tmp_path, "study", "--json", "--out", "report")
    assert proc.returncode == 0, proc.stderr
    assert attempts == ""
    document = json.loads(proc.stdout)
    assert document["mission"]["target"] == "L4"
    assert document == json.loads((tmp_path / "report" / "study.json").read_text())
    assert (tmp_path / "report" / "index.html").stat().st_size > 10_000


@pytest.mark.slow
def test_bad_config_in_a_real_process_has_no_traceback(tmp_path):
    (tmp_path / "bad.toml").write_text("[spacecraft]\nwet_mass_kg = -1\n")
    proc, _ = _subprocess(tmp_path, "config", "check", "bad.toml")
    assert proc.returncode == 2
    assert proc.stderr == ("l4station: error: bad.toml: spacecraft.wet_mass_kg: "
                           "Input should be greater than 0 (got -1)\n")
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_link_json_has_the_issue_fields(capsys):
    code, out, _ = run(capsys, "link", "--json")
    assert code == 0
    doc = json.loads(out)
    keys = {"station", "band", "elevation_deg", "eirp_dbw", "path_loss_db", "atmosphere_db", "gt_dbk",
            "cn0_dbhz", "code", "required_ebn0_db", "margin_db", "data_rate_bps"}
    assert doc["links"] and all(keys <= set(link) for link in doc["links"])
    assert {link["band"] for link in doc["links"]} == {"X", "Ka"}
    assert all(link["data_rate_bps"] > 0 for link in doc["links"])
    assert {o["station"] for o in doc["optical"]} >= {"Palomar-Hale"} and all(o["rate_bps"] > 0 for o in doc["optical"])
    assert doc["relays"] and all(set(r) >= {"path", "rate_bps", "latency_s"} for r in doc["relays"])
    assert [c["path"] for c in doc["mars_conjunctions"]] == [["Mars", "L4", "Earth"]] * 2


def test_contacts_json(capsys):
    code, out, err = run(capsys, "contacts", "--days", "3", "--json")
    assert code == 0 and err == ""  # no library warnings leak to the user
    doc = json.loads(out)
    assert set(doc) >= {"stations", "daily_volume_gbit", "recorder_max_fill", "data_lost_gbit", "realtime_latency_s"}
    assert {s["name"] for s in doc["stations"]} >= {"DSS-24", "KDSA"}
    assert 490 < doc["realtime_latency_s"] < 520  # light time (~500 s) plus 5 s on the ground


def test_contacts_with_no_contact_is_an_error(capsys, tmp_path):
    path = tmp_path / "pole.toml"
    path.write_text("[ground]\nstations = ['Pole']\n[[ground.custom]]\nname = 'Pole'\nlatitude_deg = -89.9\n"
                    "longitude_deg = 0\nheight_m = 2800\ndiameter_m = 10\nbands = ['X']\n"
                    "[mission]\nepoch = 2031-07-01T00:00:00\n")
    code, out, err = run(capsys, "contacts", "--config", str(path), "--days", "5")
    assert code == 2 and out == "" and "no contact" in err and err.count("\n") == 1


SOLARWIND = Path(__file__).parent / "data" / "solarwind"


def test_forecast_json_follows_issue_5(capsys):
    code, out, _ = run(capsys, "forecast", "--observers", "L1,L5", "--target", "earth", "--data", str(SOLARWIND),
                       "--start", "2008-03-01", "--stop", "2008-05-01", "--json")
    out = json.loads(out)
    assert code == 0
    assert out["observers"] == ["L1", "L5"] and out["target"] == "earth" and out["lead_days"] == 1.0
    assert set(out["metrics"]) >= {"mae_kms", "rmse_kms", "corr", "n"} and out["metrics"]["n"] > 1000
    first = out["series"][0]
    assert set(first) == {"time", "forecast_kms", "observed_kms"} and first["time"].endswith("Z")


@pytest.mark.slow
def test_osse_json_follows_issue_5(capsys):
    code, out, _ = run(capsys, "osse", "--config", str(SMALL), "--data", str(SOLARWIND), "--json")
    doc = json.loads(out)
    assert code == 0 and set(doc) == {"cases", "cme"}
    case = doc["cases"][0]
    assert set(case) >= {"observers", "target", "source", "lead_days", "mae_kms", "rmse_kms", "corr",
                         "skill_vs_persistence"}
    assert {c["source"] for c in doc["cases"]} == {"real", "synthetic"}
    assert set(doc["cme"][0]) >= {"observers", "arrival_mae_hours"}


@pytest.mark.parametrize("args, message", [
    (["--observers", "L1,L9"], "--observers must list distinct observers"),
    (["--target", "venus"], "--target must be earth, L1, L4, L5 or mars"),
    (["--start", "yesterday"], "--start 'yesterday' is not an ISO date"),
    (["--data", "/nonexistent"], "no such folder"),
    (["--start", "1999-01-01", "--stop", "1999-03-01"], "no forecast between"),
])
def test_forecast_bad_input_is_one_line(args, message, capsys):
    code, _, err = run(capsys, "forecast", "--data", str(SOLARWIND), *args)
    assert code == 2 and message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_simulate_ingest_export_end_to_end(capsys, tmp_path):
    """The operations chain as a user runs it; the ingest JSON has the fields the README documents."""
    stream, db = tmp_path / "day.bin", f"sqlite:///{tmp_path / 'ops.db'}"
    code, out, _ = run(capsys, "simulate", "--hours", "6", "--start", "2026-11-20T00:00:00", "--out", str(stream),
                       "--duplicates", "0.01", "--bit-error-rate", "1e-5", "--json")
    sim = json.loads(out)
    assert code == 0 and sim["packets"] == {"plasma": 360, "mag": 2160, "particles": 360, "housekeeping": 360}
    code, out, _ = run(capsys, "ingest", str(stream), "--db", db, "--json")
    summary = json.loads(out)
    assert code == 0 and set(summary) >= {"packets", "valid", "rejected", "duplicates", "gaps", "stored_rows", "elapsed_s"}
    assert set(summary["rejected"]) == {"crc", "length", "apid"}
    assert summary["valid"] == summary["stored_rows"] + summary["duplicates"]
    assert summary["duplicates"] >= sim["impairments"]["duplicated"] - sim["impairments"]["bits_flipped"]
    code, out, _ = run(capsys, "ingest", str(stream), "--db", db, "--json")
    assert json.loads(out)["stored_rows"] == 0
    code, out, _ = run(capsys, "export", "--day", "2026-11-20", "--db", db, "--out", str(tmp_path), "--json")
    assert code == 0 and len(json.loads(out)["files"]) == 4


@pytest.mark.slow
@pytest.mark.parametrize("args, message", [
    (["ingest", "missing.bin", "--db", "sqlite:///x.db"], "no packet file"),
    (["ingest", "tcp://localhost", "--db", "sqlite:///x.db"], "tcp://host:port"),
    (["ingest", "tcp://127.0.0.1:1", "--db", "sqlite:///x.db"], "cannot read from"),
    (["ingest", "x.bin", "--db", "oracle://x"], "bad database URL"),
    (["ingest", "x.bin", "--db", "sqlite:////no/such/folder/a.db"], "does not exist"),
    (["simulate", "--hours", "0", "--out", "x.bin"], "--hours"),
    (["simulate", "--gaps", "1.5", "--out", "x.bin"], "--gaps"),
    (["simulate", "--source", "moon", "--out", "x.bin"], "unknown --source"),
    (["simulate", "--start", "yesterday", "--out", "x.bin"], "not a date"),
    (["export", "--day", "2026-11-20", "--db", "sqlite:///nothing-here.db"], "no archive"),
    (["serve", "--port", "70000", "--db", "sqlite:///x.db"], "not a TCP port"),
])
def test_operations_bad_input_is_one_line(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.bin").write_bytes(b"")
    code, out, err = run(capsys, *args)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err

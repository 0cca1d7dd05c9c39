"""Every user mistake ends the same way: exit code 2, one line on stderr saying what is wrong and
how to fix it, no traceback, and no file created or changed (DESIGN.md, "Conventions").

Each case runs the command in-process in a fresh folder holding the fixtures below, and compares
the folder before and after. No case may start a server, connect anywhere or read stdin:
``serve`` cases run with uvicorn replaced by a trap, ``simulate`` output cases with the simulator
replaced by one, so an error that comes too late fails the case instead of hanging or working.

Permission bits do not stop root (CI runs as root), so unreadable and read-only cases use what
stops everyone: /proc/self/mem (opens, then every read fails), /proc/self (no new files), a path
through a regular file (not a directory) and SQLite's own ``?mode=ro``. The chmod variants run
where permission bits are enforced (an ordinary user, or root without CAP_DAC_OVERRIDE).
"""
from __future__ import annotations

import errno
import hashlib
import io
import math
import os
import shutil
import signal
import socket
import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from l4station import config
from l4station.cli import main

LONG = "a" * 300 + ".db"                 # longer than any file system's name limit (255 bytes)


def _permission_bits_bite() -> bool:
    """False where permission bits stop nothing (root, or CAP_DAC_OVERRIDE, as in CI)."""
    with tempfile.TemporaryDirectory() as folder:
        locked = Path(folder) / "locked"
        locked.write_text("")
        locked.chmod(0)
        try:
            locked.read_text()
        except PermissionError:
            return True
        return False


PERMISSIONS = _permission_bits_bite()
AS_ROOT = "permission bits stop nothing here (root); the /proc and ?mode=ro cases cover this"


@dataclass
class Case:
    id: str
    argv: list[str]
    says: str                                            # words the one line must hold
    files: dict[str, str] = field(default_factory=dict)  # extra text files for this case
    chmod: tuple[str, int] | None = None                 # (path, mode) before running
    fault: str | None = None                             # a failure of the archive's disk (see FAULTS)
    slow: bool = False                                   # the simulator is a trap: refuse before it


def _toml(section: str, body: str) -> dict[str, str]:
    return {"bad.toml": f"[{section}]\n{body}\n"}


def _deep(opening: str, closing: str) -> dict[str, str]:
    return {"bad.toml": f"x = {opening * 5000}{closing * 5000}\n"}


CONFIG = [
    Case("duration inf", ["config", "check", "bad.toml"], "mission.duration_years", _toml("mission", "duration_years = inf")),
    Case("duration 1e300", ["config", "check", "bad.toml"], "mission.duration_years", _toml("mission", "duration_years = 1e300")),
    Case("duration nan", ["config", "check", "bad.toml"], "mission.duration_years", _toml("mission", "duration_years = nan")),
    Case("duration true", ["config", "check", "bad.toml"], "must be a number, not true", _toml("mission", "duration_years = true")),
    Case("duration zero", ["config", "check", "bad.toml"], "greater than 0", _toml("mission", "duration_years = 0")),
    Case("duration 31 years", ["config", "check", "bad.toml"], "less than or equal to 30", _toml("mission", "duration_years = 31")),
    Case("step 1e-300 days", ["config", "check", "bad.toml"], "mission.timeline_step_days", _toml("mission", "timeline_step_days = 1e-300")),
    Case("step inf", ["config", "check", "bad.toml"], "mission.timeline_step_days", _toml("mission", "timeline_step_days = inf")),
    Case("timeline too long", ["config", "check", "bad.toml"], "timeline samples",
         _toml("mission", "duration_years = 20\ntimeline_step_days = 0.001")),
    Case("latency inf", ["config", "check", "bad.toml"], "link.ground_latency_s", _toml("link", "ground_latency_s = inf")),
    Case("relay delay inf", ["config", "check", "bad.toml"], "relay.relay_delay_s", _toml("relay", "relay_delay_s = inf")),
    Case("wet mass inf", ["config", "check", "bad.toml"], "spacecraft.wet_mass_kg", _toml("spacecraft", "wet_mass_kg = inf")),
    Case("wet mass 1e9", ["config", "check", "bad.toml"], "less than or equal to 100000", _toml("spacecraft", "wet_mass_kg = 1e9")),
    Case("revs a float", ["config", "check", "bad.toml"], "mission.transfer.max_revs: Input should be a valid integer",
         _toml("mission.transfer", "max_revs = 2.0")),
    Case("seed true", ["config", "check", "bad.toml"], "forecast.seed: Input should be a valid integer (got true)",
         _toml("forecast", "seed = true")),
    Case("realtime 1", ["config", "check", "bad.toml"], "instruments[0].realtime",
         {"bad.toml": "[[instruments]]\nname = 'mag'\ndata_rate_bps = 10\nrealtime = 1\n"}),
    Case("epoch a number", ["config", "check", "bad.toml"], "mission.epoch: must be a date",
         _toml("mission", "epoch = 2000000000")),
    Case("lead nan", ["config", "check", "bad.toml"], "forecast.lead_days[0]", _toml("forecast", "lead_days = [nan]")),
    Case("latency hours inf", ["config", "check", "bad.toml"], "forecast.latency_hours.L4",
         _toml("forecast", "latency_hours = { L4 = inf }")),
    Case("station latitude true", ["config", "check", "bad.toml"], "ground.custom[0].latitude_deg",
         {"bad.toml": "[[ground.custom]]\nname = 'X'\nlatitude_deg = true\nlongitude_deg = 0\nheight_m = 0\n"
                      "diameter_m = 10\nbands = ['X']\n"}),
    Case("transfer grid huge", ["config", "check", "bad.toml"], "transfer grid",
         _toml("mission.transfer", "departure_step_days = 0.1\ntof_step_days = 0.1")),
    Case("arrays 5000 deep", ["config", "check", "bad.toml"], "nested too deeply", _deep("[", "]")),
    Case("tables 5000 deep", ["config", "check", "bad.toml"], "nested too deeply", _deep("{a = ", "}")),
    Case("not UTF-8", ["config", "check", "bad.toml"], "is not UTF-8", {"bad.toml": "name = '\udcff'\n"}),
    Case("no such file", ["config", "check", "missing.toml"], "no such file"),
    # a device would be read without end, a pipe would wait for a writer
    Case("mission file a device", ["study", "--config", "/dev/zero", "--out", "report"], "/dev/zero: cannot read it (not a regular file"),
    Case("sweep file a device", ["sweep", "/dev/zero", "--out", "swept"], "/dev/zero: cannot read it (not a regular file"),
    Case("sweep base a device", ["sweep", "base.toml", "--out", "swept"], "base /dev/zero: cannot read it (not a regular file",
         {"base.toml": 'base = "/dev/zero"\n[vary]\n"mission.target" = ["L4"]\n'}),
    Case("contact plan a device", ["route", "/dev/zero", "--from", "1", "--to", "2"], "cannot read contact plan /dev/zero: not a regular file"),
    Case("link with inf duration", ["link", "--config", "bad.toml"], "mission.duration_years",
         _toml("mission", "duration_years = inf")),
    Case("study with bad step", ["study", "--config", "bad.toml", "--out", "report"], "mission.timeline_step_days",
         _toml("mission", "timeline_step_days = 1e-300")),
    Case("show nan", ["config", "show", "bad.toml"], "finite number", _toml("relay", "mars_power_w = nan")),
]

ARCHIVES = [("ingest", ["ingest", "x.bin"]), ("serve", ["serve"]), ("export", ["export", "--day", "2026-11-20"])]
BAD_DB = [
    ("a folder", "sqlite:///dir.db", "dir.db is a folder"),
    ("not a database", "sqlite:///notdb.db", "notdb.db as an archive: file is not a database"),
    ("bad IPv6 URL", "postgresql://[bad", "bad database URL 'postgresql://[bad'"),
    ("300-character name", f"sqlite:///{LONG}", "File name too long"),
    ("path through a file", "sqlite:///blocker/a.db", "Not a directory"),
    ("another program's database", "sqlite:///foreign.db", "is not an l4station archive"),
    ("unknown parameter", "sqlite:///archive.db?cache=shared", "unsupported parameter 'cache'"),
    ("bad mode", "sqlite:///archive.db?mode=xyz", "bad mode 'xyz'"),
    ("no path", "sqlite://", "bad database URL"),
    ("unknown scheme", "oracle://x", "bad database URL"),
]
ARCHIVE = [Case(f"{command}: {what}", [*argv, "--db", url], says)
           for command, argv in ARCHIVES for what, url, says in BAD_DB]

OPERATIONS = [
    # ingest: the input is checked before the archive is touched
    Case("ingest unreadable file", ["ingest", "/proc/self/mem", "--db", "sqlite:///new.db"], "cannot read /proc/self/mem"),
    Case("ingest missing file", ["ingest", "missing.bin", "--db", "sqlite:///new.db"], "no packet file at missing.bin"),
    Case("ingest a folder", ["ingest", "dir.db", "--db", "sqlite:///new.db"], "no packet file"),
    Case("ingest tcp without port", ["ingest", "tcp://localhost", "--db", "sqlite:///new.db"], "tcp://host:port"),
    Case("ingest tcp port 99999", ["ingest", "tcp://127.0.0.1:99999", "--db", "sqlite:///new.db"], "port in 1-65535"),
    Case("ingest tcp without host", ["ingest", "tcp://:80", "--db", "sqlite:///new.db"], "tcp://host:port"),
    Case("ingest read-only URL", ["ingest", "x.bin", "--db", "sqlite:///archive.db?mode=ro"], "drop ?mode=ro"),
    Case("ingest read-only URL, no file", ["ingest", "x.bin", "--db", "sqlite:///ok.db?mode=ro"], "no archive at ok.db"),
    Case("ingest into /proc", ["ingest", "x.bin", "--db", "sqlite:////proc/self/new.db"], "/proc/self is read-only"),
    Case("ingest, no such folder", ["ingest", "x.bin", "--db", "sqlite:///missing/a.db"], "folder missing does not exist"),
    Case("ingest, first write fails", ["ingest", "x.bin", "--db", "sqlite:///new.db"],
         "cannot write to the archive sqlite:///new.db: database or disk is full", fault="disk full"),
    Case("ingest, write fails in an archive", ["ingest", "x.bin", "--db", "sqlite:///archive.db"],
         "cannot write to the archive sqlite:///archive.db: database or disk is full", fault="disk full"),
    Case("ingest chmod unreadable", ["ingest", "x.bin", "--db", "sqlite:///new.db"], "cannot read x.bin",
         chmod=("x.bin", 0o000)),
    Case("ingest chmod read-only archive", ["ingest", "x.bin", "--db", "sqlite:///archive.db"], "is read-only",
         chmod=("archive.db", 0o444)),
    Case("ingest chmod read-only folder", ["ingest", "x.bin", "--db", "sqlite:///ro/new.db"], "is read-only",
         chmod=("ro", 0o555)),
    # serve: every error before the server listens (uvicorn is a trap here)
    Case("serve read-only with token", ["serve", "--db", "sqlite:///archive.db?mode=ro", "--token", "t"],
         "--token turns on ingest"),
    Case("serve into /proc", ["serve", "--db", "sqlite:////proc/self/new.db"], "/proc/self is read-only"),
    Case("serve port 0", ["serve", "--port", "0", "--db", "sqlite:///archive.db"], "--port 0 is not a TCP port"),
    Case("serve port text", ["serve", "--port", "http"], "'--port'"),
    Case("serve chmod read-only folder", ["serve", "--db", "sqlite:///ro/new.db"], "is read-only", chmod=("ro", 0o555)),
    # export: day, format and output folder before any file
    Case("export empty day", ["export", "--day", "", "--db", "sqlite:///archive.db"], "--day '' is not a date"),
    Case("export month 13", ["export", "--day", "2026-13-01", "--db", "sqlite:///archive.db"], "write YYYY-MM-DD"),
    Case("export a month", ["export", "--day", "2026-11", "--db", "sqlite:///archive.db"], "write YYYY-MM-DD"),
    Case("export yesterday", ["export", "--day", "yesterday", "--db", "sqlite:///archive.db"], "is not a date"),
    Case("export hdf5", ["export", "--day", "2026-11-20", "--format", "hdf5", "--db", "sqlite:///archive.db"],
         "use cdf or netcdf"),
    Case("export out is a file", ["export", "--day", "2026-11-20", "--db", "sqlite:///archive.db", "--out", "blocker"],
         "'blocker' is a file"),
    Case("export out through a file", ["export", "--day", "2026-11-20", "--db", "sqlite:///archive.db", "--out",
                                       "blocker/day"], "blocker is not a folder"),
    Case("export out in /proc", ["export", "--day", "2026-11-20", "--db", "sqlite:///archive.db", "--out",
                                 "/proc/self/day"], "/proc/self is read-only"),
    Case("export no archive", ["export", "--day", "2026-11-20", "--db", "sqlite:///nothing.db"], "no archive at nothing.db"),
    Case("export, the archive cannot be read", ["export", "--day", "2026-11-20", "--db", "sqlite:///archive.db",
                                                "--out", "day"], "cannot read the archive sqlite:///archive.db: disk I/O error",
         fault="read fails"),
    Case("export, the disk fills", ["export", "--day", "2026-11-20", "--db", "sqlite:///archive.db", "--out",
                                     "new/day"], "cannot write to new/day: No space left on device", fault="no space"),
    Case("export netCDF, the disk fills", ["export", "--day", "2026-11-20", "--db", "sqlite:///archive.db", "--format",
                                           "netcdf", "--out", "new/day"], "is the disk full?", fault="netCDF fails"),
    Case("archive mode given twice", ["export", "--day", "2026-11-20", "--db", "sqlite:///archive.db?mode=ro&mode=rwc"],
         "mode given 2 times"),
    Case("ingest with mode given twice", ["ingest", "x.bin", "--db", "sqlite:///new.db?mode=rwc&mode=ro"],
         "mode given 2 times"),
    Case("export no --day", ["export", "--db", "sqlite:///archive.db"], "Missing option '--day'"),
    Case("export chmod read-only out", ["export", "--day", "2026-11-20", "--db", "sqlite:///archive.db", "--out", "ro"],
         "is read-only", chmod=("ro", 0o555)),
    # simulate: the output is checked before the (long) simulation, which is a trap here
    Case("simulate out through a file", ["simulate", "--out", "blocker/x.bin"], "blocker is not a folder", slow=True),
    Case("simulate out in /proc", ["simulate", "--out", "/proc/self/x.bin"], "/proc/self is read-only", slow=True),
    Case("simulate out a folder", ["simulate", "--out", "dir.db"], "'dir.db' is a directory", slow=True),
    Case("simulate out, no folder", ["simulate", "--out", "missing/x.bin"], "folder missing does not exist", slow=True),
    Case("simulate chmod read-only", ["simulate", "--out", "ro/x.bin"], "is read-only", chmod=("ro", 0o555), slow=True),
    Case("simulate hours zero", ["simulate", "--hours", "0", "--out", "new.bin"], "--hours must be in (0, 8784]"),
    Case("simulate hours negative", ["simulate", "--hours", "-1", "--out", "new.bin"], "'-1' is not a number in"),
    Case("simulate hours nan", ["simulate", "--hours", "nan", "--out", "new.bin"], "'nan' is not a number in [0, 8784]"),
    Case("simulate hours inf", ["simulate", "--hours", "inf", "--out", "new.bin"], "'inf' is not a number"),
    Case("simulate gaps nan", ["simulate", "--gaps", "nan", "--out", "new.bin"], "--gaps must be a fraction"),
    Case("simulate bit error rate 1", ["simulate", "--bit-error-rate", "1", "--out", "new.bin"], "--bit-error-rate"),
    Case("simulate seed negative", ["simulate", "--seed", "-1", "--out", "new.bin"], "'--seed'"),
    Case("simulate before CUC time", ["simulate", "--start", "1800-01-01", "--hours", "1", "--out", "new.bin"],
         "run from 1958-01-01 to 2094-02-06"),
    Case("simulate past CUC time", ["simulate", "--start", "9999-01-01", "--hours", "1", "--out", "new.bin"],
         "choose a start and --hours in between"),
    Case("contacts days 1e9", ["contacts", "--days", "1e9"], "'1e9' is not a number in [0.01, 36525]"),
    Case("simulate 30 February", ["simulate", "--start", "2026-02-30", "--out", "new.bin"], "not a date"),
    # design commands: number options must be finite and in range
    Case("stability years nan", ["stability", "--years", "nan"], "'nan' is not a number in [0.01, 20]"),
    Case("stability years negative", ["stability", "--years", "-1"], "not a number in [0.01, 20]"),
    Case("link elevation inf", ["link", "--elevation", "inf"], "'inf' is not a number in [0.1, 90]"),
    Case("contacts days nan", ["contacts", "--days", "nan"], "'nan' is not a number"),
    Case("forecast lead nan", ["forecast", "--lead", "nan"], "'nan' is not a number in [0, 27]"),
    Case("forecast 30 February", ["forecast", "--start", "2008-02-30"], "--start '2008-02-30' is not an ISO date"),
    Case("transfer L3", ["transfer", "--target", "L3"], "--target must be L4 or L5"),
    # paths the system refuses whatever the command: too long, through a file
    Case("ingest 300-character input", ["ingest", LONG, "--db", "sqlite:///new.db"], "File name too long"),
    Case("config 300-character name", ["config", "check", LONG], "cannot read it (File name too long)"),
    Case("config through a file", ["config", "check", "blocker/m.toml"], "cannot read it (Not a directory)"),
    Case("contact plan of 631 million steps", ["config", "check", "bad.toml"], "use a step of at least 126 s",
         files={"bad.toml": "[mission]\nduration_years = 20.0\n[ground]\ncontact_step_s = 1.0\n"}),
    Case("a station listed twice", ["config", "check", "bad.toml"], "DSS-34 listed more than once",
         _toml("ground", 'stations = ["DSS-34", "KDSA", "DSS-34"]')),
    Case("contacts for 9000 days", ["contacts", "--days", "9000"], "plan fewer days or raise ground.contact_step_s"),
    Case("stability 300-character config", ["stability", "--config", LONG], "File name too long"),
    Case("export 300-character out", ["export", "--day", "2026-11-20", "--db", "sqlite:///archive.db", "--out", LONG],
         "--out " + LONG + ": File name too long"),
    Case("simulate 300-character out", ["simulate", "--out", LONG], "File name too long", slow=True),
    Case("study 300-character out", ["study", "--out", LONG], "File name too long"),
    Case("study out through a file", ["study", "--out", "blocker/report"], "blocker is not a folder"),
    Case("study cache empty", ["study", "--cache", ""], "--cache needs a folder"),
    Case("forecast 300-character data", ["forecast", "--data", LONG], "cannot read --data"),
    Case("forecast data through a file", ["forecast", "--data", "blocker/x"], "no such folder"),
    Case("forecast empty data folder", ["forecast", "--data", "dir.db"], "no such file"),
    Case("stability no config", ["stability", "--config", "missing.toml"], "missing.toml: no such file"),
]

CASES = CONFIG + ARCHIVE + OPERATIONS


CASE_SECONDS = 30


@pytest.fixture(autouse=True)
def never_waits(monkeypatch):
    """No case may wait: stdin is empty, and a case still running after CASE_SECONDS fails."""
    monkeypatch.setattr("sys.stdin", io.StringIO(""))

    def too_long(signum, frame):
        raise TimeoutError(f"an error case ran for {CASE_SECONDS} s: it must fail at once")
    previous = signal.signal(signal.SIGALRM, too_long)
    signal.alarm(CASE_SECONDS)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module")
def stream(tmp_path_factory) -> Path:
    """An hour of simulated packets, and an archive holding them (their first copies)."""
    from astropy.time import Time

    from l4station.ground import ingest, instruments
    from l4station.ground.store import Archive
    folder = tmp_path_factory.mktemp("fixtures")
    (folder / "x.bin").write_bytes(instruments.simulate(Time("2026-11-20T00:00:00", scale="utc"), 1.0).data)
    with Archive(f"sqlite:///{folder / 'archive.db'}") as archive:
        ingest.ingest_file(archive, folder / "x.bin")
    foreign = sqlite3.connect(folder / "foreign.db")
    foreign.execute("CREATE TABLE plasma (x INTEGER)")
    foreign.commit()
    foreign.close()
    return folder


def _snapshot(root: Path) -> dict[str, str]:
    """Every file and folder under ``root``, with the digest of each file's bytes."""
    return {str(p.relative_to(root)): "folder" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*"))}


def _trap(*args, **kwargs):
    raise AssertionError("the command went on to work that should never start after a bad input")


def _fails(message: str):
    def fail(*args, **kwargs):
        raise sqlite3.OperationalError(message)
    return fail


def _no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _hdf_error(*args, **kwargs):
    raise RuntimeError("NetCDF: HDF error")     # what netCDF4 raises when the disk fills mid-file


FAULTS = {"disk full": ("l4station.ground.store.Archive.insert", _fails("database or disk is full")),
          "netCDF fails": ("xarray.Dataset.to_netcdf", _hdf_error),
          "read fails": ("l4station.ground.store.Archive.columns", _fails("disk I/O error")),
          "no space": ("l4station.ground.export._write", _no_space)}


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_error_is_one_line_and_changes_nothing(case, stream, tmp_path, monkeypatch, capsys):
    if case.chmod and not PERMISSIONS:
        pytest.skip(AS_ROOT)
    if any("/proc/" in arg for arg in case.argv) and not Path("/proc/self/mem").exists():
        pytest.skip("no /proc file system here")
    for name in ("x.bin", "archive.db", "foreign.db"):
        shutil.copy(stream / name, tmp_path / name)
    (tmp_path / "notdb.db").write_text("this is not a database\n")
    (tmp_path / "blocker").write_text("a regular file where a folder is wanted\n")
    (tmp_path / "dir.db").mkdir()
    (tmp_path / "ro").mkdir()
    for name, text in case.files.items():
        (tmp_path / name).write_bytes(text.encode("utf-8", "surrogateescape"))
    before = _snapshot(tmp_path)
    if case.chmod:
        locked = tmp_path / case.chmod[0]
        mode = locked.stat().st_mode
        locked.chmod(case.chmod[1])
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("uvicorn.run", _trap)
    if case.slow:
        monkeypatch.setattr("l4station.ground.instruments.simulate", _trap)
    if case.fault:
        monkeypatch.setattr(*FAULTS[case.fault])
    try:
        with pytest.raises(SystemExit) as exit_info:
            main(case.argv)
    finally:
        if case.chmod:
            locked.chmod(mode)
    out, err = capsys.readouterr()
    assert exit_info.value.code == 2, err
    assert err.startswith("l4station: error: ") and err.count("\n") == 1 and err.endswith("\n"), err
    assert case.says in err and "Traceback" not in err
    assert out == ""
    assert _snapshot(tmp_path) == before


def test_serve_on_a_busy_port_refuses_before_touching_the_archive(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("uvicorn.run", _trap)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SystemExit) as exit_info:
            main(["serve", "--port", str(port), "--db", "sqlite:///new.db"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in err
    assert list(tmp_path.iterdir()) == []


# ---- property: config values -----------------------------------------------------------------

def _numeric_fields():
    """(TOML table, key, annotation, bounds) of every number in the default mission's tables."""
    document = config._default_document()
    found = []

    def walk(model, table, path):
        for key, value in table.items():
            info = model.model_fields.get(key)
            if info is None:
                continue
            if isinstance(value, dict) and hasattr(info.annotation, "model_fields"):
                walk(info.annotation, value, (*path, key))
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                bounds = {name: getattr(m, name) for m in info.metadata for name in ("gt", "ge", "lt", "le")
                          if hasattr(m, name)}
                found.append((".".join(path), key, info.annotation, bounds))
    walk(config.MissionConfig, document, ())
    return found


FIELDS = _numeric_fields()
# Fields tied to others by a rule of the whole table (dry < wet mass, tof_min < tof_max, the mission
# inside DE421, grid and contact-plan sizes, a daily pass of at least one contact step): a value in its own
# range can still be refused, so only
# bad values here.
LINKED = {"mission.duration_years", "mission.timeline_step_days", "spacecraft.wet_mass_kg", "ground.tracking_hours_per_day",
          "spacecraft.dry_mass_kg", "ground.contact_step_s"} | {f"mission.transfer.{k}" for k in
                                      ("departure_step_days", "tof_min_years", "tof_max_years", "tof_step_days")}


def _literal(value) -> str:
    """A TOML literal: true/false, inf/nan, or the number."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return repr(value)


def _check(table: str, key: str, value) -> tuple[int, str]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.toml"
        path.write_text(f"[{table}]\n{key} = {_literal(value)}\n")
        with pytest.raises(SystemExit) as exit_info:
            main(["config", "check", str(path)])
    return exit_info.value.code


def _bad_value(data, annotation, bounds):
    choices = [math.inf, -math.inf, math.nan, True, False]
    if "le" in bounds or "lt" in bounds:
        high = bounds.get("le", bounds.get("lt"))
        choices.append(high + data.draw(st.floats(min_value=1e-3 * max(abs(high), 1), max_value=1e6 * max(abs(high), 1))))
    if "ge" in bounds or "gt" in bounds:
        low = bounds.get("ge", bounds.get("gt"))
        choices.append(low - data.draw(st.floats(min_value=1e-3 * max(abs(low), 1), max_value=1e6 * max(abs(low), 1))))
    if annotation is int:
        choices.append(float(data.draw(st.integers(0, 100))) + 0.5)
    value = data.draw(st.sampled_from(choices))
    return int(value) if annotation is int and isinstance(value, float) and value.is_integer() else value


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_config_check_refuses_any_bad_number_in_one_line(data, capsys):
    table, key, annotation, bounds = data.draw(st.sampled_from(FIELDS))
    value = _bad_value(data, annotation, bounds)
    code = _check(table, key, value)
    out, err = capsys.readouterr()
    assert code == 2, f"[{table}] {key} = {value!r} passed"
    assert err.count("\n") == 1 and f"{table}.{key}" in err and "Traceback" not in err


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_config_check_accepts_any_number_in_range(data, capsys):
    table, key, annotation, bounds = data.draw(st.sampled_from(
        [f for f in FIELDS if f"{f[0]}.{f[1]}" not in LINKED]))
    low = bounds.get("ge", bounds.get("gt", -1e6))
    high = bounds.get("le", bounds.get("lt", 1e6))
    if annotation is int:
        value = data.draw(st.integers(int(low), int(high)))
    else:
        value = data.draw(st.floats(min_value=low, max_value=high, exclude_min="gt" in bounds,
                                    exclude_max="lt" in bounds, allow_nan=False))
    code = _check(table, key, value)
    out, err = capsys.readouterr()
    assert code == 0, f"[{table}] {key} = {value!r} refused: {err}"


def test_every_user_error_crosses_a_process_boundary_whole():
    # The study builds sections in a second process: an error that cannot be pickled back arrives
    # as BrokenProcessPool with a traceback instead of its own one line.
    import pickle
    from l4station import ephemeris
    from l4station.cli.common import UserFacingError
    from l4station.errors import InputError
    from l4station.ground.feeds import FeedError
    from l4station.ground.store import ArchiveError
    start, stop = ephemeris.coverage()
    for error in (InputError("a"), UserFacingError("b"), FeedError("c"), ArchiveError("d"),
                  config.ConfigError("mission.toml", "mission.epoch", "must be inside"),
                  ephemeris.EphemerisRangeError("time 2060-01-01 is outside DE421's span", start, stop)):
        back = pickle.loads(pickle.dumps(error))
        assert type(back) is type(error) and str(back) == str(error)
        assert vars(back).keys() == vars(error).keys()

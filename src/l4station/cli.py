"""The ``l4station`` command: one subcommand per job.

Human-readable output by default, ``--json`` for machines (stdout holds only the
JSON; progress goes to stderr). A user mistake exits with code 2 and one line on
stderr saying what is wrong and how to fix it, never a traceback.
"""
from __future__ import annotations

import json
import math
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

import l4station
from l4station import config as config_module
from l4station.constants import AU_M
from l4station.ephemeris import EphemerisRangeError

class UserFacingError(Exception):
    """A one-line message for the user, raised inside a command."""


USER_ERRORS = (config_module.ConfigError, EphemerisRangeError, UserFacingError)
"""Exceptions that describe a mistake in the user's input, reported in one line."""

app = typer.Typer(
    name="l4station",
    help="Mission design and space-weather operations for a Sun–Earth L4 observatory.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="Mission files: print the resolved config, or check one.",
                         no_args_is_help=True)
app.add_typer(config_app, name="config")

stdout = Console(highlight=False, soft_wrap=True)
if not stdout.is_terminal:
    stdout = Console(highlight=False, soft_wrap=True, width=160)  # piped: no terminal width to fit
stderr = Console(stderr=True, highlight=False)

ConfigOption = Annotated[Optional[Path], typer.Option(
    "--config", "-c", help="Mission TOML file, laid over the embedded default mission.",
    dir_okay=False)]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON to stdout.")]


def _finite(low: float, high: float):
    """Parser of a number option in [low, high] (typer's min/max let nan through)."""
    def parse(text) -> float:
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a number") from None
        if not (math.isfinite(number) and low <= number <= high):
            raise ValueError(f"{text!r} is not a number in [{low:g}, {high:g}]")
        return number
    return parse


def _writable(path: Path, option: str, *, folder: bool) -> None:
    """Refuse, before any work, an output ``path`` (a file, or a folder if ``folder``) that cannot
    be written: the wrong kind of thing is there, or the nearest existing folder is read-only."""
    try:
        _check_writable(path, option, folder)
    except OSError as error:             # name too long, ...
        raise UserFacingError(f"{option} {path}: {error.strerror}; choose another path") from None


def _check_writable(path: Path, option: str, folder: bool) -> None:
    kind = "folder" if folder else "file"
    if path.exists() and path.is_dir() != folder:
        raise UserFacingError(f"{option} {path} is {'a file' if folder else 'a folder'}: give a {kind} path")
    if path.exists() and not os.access(path, os.W_OK):
        raise UserFacingError(f"{option} {path} is read-only; choose another path")
    parent = path.parent
    while folder and not parent.exists() and parent != parent.parent:
        parent = parent.parent           # a folder is made with its parents; a file needs its folder
    if not parent.exists():
        raise UserFacingError(f"{option} {path}: folder {parent} does not exist; create it or choose another path")
    if not parent.is_dir():
        raise UserFacingError(f"{option} {path}: {parent} is not a folder; choose another path")
    if not path.exists() and not os.access(parent, os.W_OK):
        raise UserFacingError(f"{option} {path}: {parent} is read-only; choose another path")


def _print_json(document) -> None:
    sys.stdout.write(json.dumps(document, indent=2) + "\n")


def _progress() -> Progress:
    return Progress(TextColumn("[bold]{task.description:<14}"), BarColumn(),
                    TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(),
                    console=stderr, transient=True, disable=not stderr.is_terminal)


def _version(value: bool) -> None:
    if value:
        stdout.print(f"l4station {l4station.__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Print the version and exit.")] = False):
    """Mission design and space-weather operations for a Sun–Earth L4 observatory."""


@app.command()
def study(config: ConfigOption = None,
          out: Annotated[Path, typer.Option("--out", "-o", help="Directory for index.html and study.json.",
                                            file_okay=False)] = Path("l4station-report"),
          json_output: JsonOption = False):
    """Run the whole mission study and write the report (index.html + study.json)."""
    from l4station.study import study as study_module

    mission = config_module.load(config)
    _writable(out, "--out", folder=True)
    steps = study_module.sections()
    progress = _progress()
    with progress:
        task = progress.add_task("study", total=len(steps) + 1)  # + writing the report
        result = study_module.run(
            mission, on_section=lambda index, name: progress.update(task, completed=index, description=name))
        progress.update(task, completed=len(steps), description="report")
        try:
            html = result.write(out)
        except OSError as exc:
            raise UserFacingError(f"cannot write the report to {out}: {exc.strerror}; choose another --out") from None
    if json_output:
        _print_json(result.document)
        return
    geometry = result.document["geometry"]
    table = Table(title=f"{mission.mission.name}", title_justify="left")
    table.add_column("Quantity")
    table.add_column("Min", justify="right")
    table.add_column("Max", justify="right")
    for label, key, fmt in (("Earth range (au)", "earth_range_au", ".4f"),
                            ("Sun–Earth–probe (deg)", "sun_earth_probe_deg", ".3f"),
                            ("One-way light time (s)", "light_time_s", ".1f")):
        table.add_row(label, f"{geometry[key]['min']:{fmt}}", f"{geometry[key]['max']:{fmt}}")
    stdout.print(table)
    stdout.print(f"Sections: {', '.join(result.document['sections'])}")
    stdout.print(f"Report: {html}")


TargetOption = Annotated[Optional[str], typer.Option(
    "--target", help="L4 or L5; the mission file's target if omitted.", case_sensitive=False)]


def _target(mission, target: str | None) -> str:
    if target is None:
        return mission.mission.target
    if target.upper() not in ("L4", "L5"):
        raise UserFacingError(f"--target must be L4 or L5, got '{target}'")
    return target.upper()


@app.command()
def transfer(config: ConfigOption = None, target: TargetOption = None, json_output: JsonOption = False):
    """Earth-to-L4 transfer trade: Pareto front of delta-v against flight time, refined in the
    full-force model, and the free-drift option."""
    from l4station.orbit.transfer import transfer_trade

    mission = config_module.load(config)
    point = _target(mission, target)
    with _progress() as progress:
        task = progress.add_task("transfer", total=1.0)
        trade = transfer_trade(mission, point,
                               on_step=lambda name, f: progress.update(task, description=name, completed=f))
    document = trade.to_json()
    if json_output:
        _print_json(document)
        return
    table = Table(title=f"Transfers to {point} ({document['lambert_solves']:,} Lambert arcs, "
                        f"{document['elapsed_s']:.1f} s)", title_justify="left")
    for column in ("Departure", "TOF (d)", "Revs", "v∞ (km/s)", "C3 (km²/s²)", "Arrival Δv (km/s)",
                   "Total (km/s)", "Propellant (kg)", "Miss (km)"):
        table.add_column(column, justify="left" if column == "Departure" else "right")
    for row in document["pareto"]:
        table.add_row(row["departure"][:10], f"{row['tof_days']:.0f}", f"{row['revs']} {row['branch']}",
                      f"{row['departure_vinf_kms']:.3f}", f"{row['c3_km2s2']:.3f}", f"{row['arrival_dv_kms']:.3f}",
                      f"{row['total_dv_kms']:.3f}",
                      f"{row['propellant_kg']:.0f}" + ("" if row["feasible"] else " (!)"),
                      f"{row['refined_arrival_error_km']:.3f}")
    stdout.print(table)
    if not all(row["feasible"] for row in document["pareto"]):
        stdout.print(f"(!) needs more than the {document['propellant_on_board_kg']:.0f} kg of propellant on board.")
    d = document["free_drift"]
    stdout.print(f"Free drift (no stop burn): leave {d['departure'][:10]} with v∞ {d['departure_vinf_kms']:.3f} km/s, "
                 f"reach {point}'s longitude {d['reaches_target'][:10]}, drifting {d['drift_rate_deg_per_year']:.1f} "
                 f"deg/yr, {d['days_within_5deg']:.0f} days within ±5 deg.")


@app.command()
def stability(config: ConfigOption = None, target: TargetOption = None,
              years: Annotated[float, typer.Option("--years", help="How long to follow the spacecraft.",
                                                   parser=_finite(0.01, 20.0))] = 10.0,
              json_output: JsonOption = False):
    """Staying at L4: drift of a spacecraft left at the point (Sun, planets, Moon, solar
    radiation pressure), libration periods, and a station-keeping delta-v estimate."""
    from l4station.orbit.propagation import ForceModel
    from l4station.orbit.stationkeeping import stay

    mission = config_module.load(config)
    point = _target(mission, target)
    with _progress() as progress:
        progress.add_task("stability", total=None)
        result = stay(point, mission.mission.epoch_time, years,
                      model=ForceModel(cr_area_over_mass=mission.spacecraft.cr_area_over_mass))
    document = result.to_json()
    if json_output:
        _print_json(document)
        return
    table = Table(title=f"A spacecraft left at {point} from {mission.mission.epoch:%Y-%m-%d}", title_justify="left")
    table.add_column("Quantity")
    table.add_column("Value", justify="right")
    for label, key, fmt in (("Years followed", "years", ".1f"), ("Largest longitude drift (deg)", "max_drift_deg", ".3f"),
                            ("Largest distance from the point (km)", "max_drift_km", ",.0f"),
                            ("Long libration period (years)", "libration_period_long_years", ".1f"),
                            ("Short libration period (days)", "libration_period_short_days", ".1f"),
                            ("Station keeping (m/s per year)", "stationkeeping_dv_ms_per_year", ".2f")):
        table.add_row(label, f"{document[key]:{fmt}}")
    stdout.print(table)


def _rate_text(bps: float) -> str:
    """A data rate with a unit that suits it."""
    for unit, scale in (("Gbps", 1e9), ("Mbps", 1e6), ("kbps", 1e3)):
        if bps >= scale:
            return f"{bps / scale:.3g} {unit}"
    return f"{bps:.3g} bps"


def _target_bcrs(point: str):
    """Barycentric ICRF positions (km) of the target Lagrange point, as a function of time."""
    from l4station import ephemeris

    def positions(t):
        return ephemeris.lagrange_point(point, t, frame="icrf", center="ssb")[0].value
    return positions


@app.command()
def link(config: ConfigOption = None,
         elevation: Annotated[float, typer.Option("--elevation", help="Station elevation, deg.",
                                                     parser=_finite(0.1, 90.0))] = 20.0,
         json_output: JsonOption = False):
    """RF link budgets from the station to every ground station and band, at the mission's
    greatest Earth range and the given elevation."""
    from l4station.comms.survey import greatest_range_m, survey

    mission = config_module.load(config)
    lk = mission.link
    result = survey(mission, greatest_range_m(mission), elevation)
    distance, budgets, optical_rows = result.distance_m, result.budgets, result.optical
    diversity, paths, conjunctions = result.optical_site_diversity, result.paths, result.conjunctions
    if json_output:
        _print_json(result.to_json())
        return
    table = Table(title=f"Downlinks at {distance / AU_M:.4f} au, {elevation:g} deg elevation, "
                        f"{lk.code}, {lk.required_margin_db:g} dB margin, {lk.availability:.0%} availability",
                  title_justify="left")
    for column in ("Station", "Band", "EIRP (dBW)", "Path (dB)", "Atm. (dB)", "G/T (dB/K)", "C/N0 (dB-Hz)",
                   "Rate (kbps)"):
        table.add_column(column, justify="left" if column in ("Station", "Band") else "right")
    for b in budgets:
        table.add_row(b.station, b.band, f"{b.eirp_dbw:.2f}", f"{b.path_loss_db:.2f}", f"{b.atmosphere_db:.2f}",
                      f"{b.gt_dbk:.2f}", f"{b.cn0_dbhz:.2f}", f"{b.data_rate_bps / 1e3:,.1f}")
    stdout.print(table)
    if optical_rows:
        opt = Table(title=f"Laser downlinks (PPM, photon counting); one site or more clear {diversity:.0%} "
                          "of the time", title_justify="left")
        for column in ("Telescope", "Aperture (m)", "Night (Mbps)", "Day (Mbps)", "PPM", "Slot (ns)", "Code",
                       "Clear sky"):
            opt.add_column(column, justify="left" if column == "Telescope" else "right")
        for r in optical_rows:
            night = f"{r['rate_bps'] / 1e6:.2f}" if r["closes"] else "does not close"
            day = f"{r['day_rate_bps'] / 1e6:.2f}" if r["day_rate_bps"] > 0 else "does not close"
            opt.add_row(r["station"], f"{r['aperture_m']:g}", night, day, str(r["ppm_order"]),
                        f"{r['slot_ns']:g}", f"{r['code_rate']:.2f}", f"{r['availability']:.0%}")
        stdout.print(opt)
    rel = Table(title="Paths for the data", title_justify="left")
    for column in ("Path", "Rate", "Latency (s)"):
        rel.add_column(column, justify="left" if column == "Path" else "right")
    for p in paths:
        rel.add_row(" → ".join(p.nodes), _rate_text(p.rate_bps), f"{p.latency_s:.1f}")
    for c in conjunctions:
        rel.add_row(f"Mars → {mission.mission.target} → Earth, conjunction {c.start.utc.isot[:10]}.."
                    f"{c.end.utc.isot[:10]} ({'clear' if c.relay_clear else 'blocked'}, "
                    f"{c.min_sun_l4_mars_deg:.0f}° from the Sun)", _rate_text(c.relay.rate_bps), f"{c.relay.latency_s:.0f}")
    stdout.print(rel)


@app.command()
def contacts(config: ConfigOption = None,
             days: Annotated[Optional[float], typer.Option("--days", help="Plan this many days from the "
                                                           "operations epoch (default: the whole mission).",
                                                           parser=_finite(0.01, 36525.0))] = None,
             json_output: JsonOption = False):
    """Visibility, daily tracking schedule, data volume, recorder and real-time latency."""
    from l4station.comms.contacts import plan

    mission = config_module.load(config)
    with _progress() as progress:
        progress.add_task("contacts", total=None)
        try:
            result = plan(mission, _target_bcrs(mission.mission.target), days=days)
        except ValueError as exc:
            raise UserFacingError(str(exc)) from None
    document = result.to_json()
    if json_output:
        _print_json(document)
        return
    table = Table(title=f"Contacts over {document['days']:.0f} days", title_justify="left")
    for column in ("Station", "In view (h/day)", "Tracked (h/day)"):
        table.add_column(column, justify="left" if column == "Station" else "right")
    for row in document["stations"]:
        table.add_row(row["name"], f"{row['hours_per_day']:.2f}", f"{row['tracked_hours_per_day']:.2f}")
    stdout.print(table)
    stdout.print(f"Data: {document['produced_gbit_per_day']:.2f} Gbit/day produced, {document['daily_volume_gbit']:.2f} "
                 f"returned (pass capacity {document['daily_capacity_gbit']:.1f}); recorder peak "
                 f"{document['recorder_max_fill']:.0%} of {document['recorder_capacity_gbit']:g} Gbit, "
                 f"{document['data_lost_gbit']:.2f} Gbit lost.")
    stdout.print(f"Real time: beacon received {document['beacon_coverage']:.0%} of the time; latency median "
                 f"{document['realtime_latency_s']:.0f} s, 95th percentile {document['realtime_latency_p95_s']:.0f} s.")


DataOption = Annotated[Optional[Path], typer.Option(
    "--data", help="Folder laid out like the BRaVDA solar-wind files (OMNI_observations.txt, ...); "
                   "the packaged copy if omitted.", file_okay=False)]


def _records(data: Path | None):
    from l4station.heliosphere import insitu
    try:
        return insitu.packaged() if data is None else insitu.read_folder(data)
    except ValueError as exc:
        raise UserFacingError(str(exc)) from None
    except OSError as exc:
        raise UserFacingError(f"cannot read --data {data}: {exc.strerror}; give a folder of solar-wind files") from None


def _mjd(text: str, option: str) -> float:
    from astropy.time import Time
    try:
        return float(Time(text, scale="utc").mjd)
    except ValueError:
        raise UserFacingError(f"{option} '{text}' is not an ISO date or time (e.g. 2008-07-01)") from None


@app.command()
def forecast(observers: Annotated[str, typer.Option("--observers", help="Comma-separated: L1, L4, L5.")] = "L1,L4",
             target: Annotated[str, typer.Option("--target", help="earth, L1, L4, L5 or mars.")] = "earth",
             data: DataOption = None,
             start: Annotated[Optional[str], typer.Option("--start", help="First issue time, ISO UTC "
                                                          "(default: the mission file's real_start).")] = None,
             stop: Annotated[Optional[str], typer.Option("--stop", help="Last valid time, ISO UTC "
                                                         "(default: real_stop).")] = None,
             lead: Annotated[float, typer.Option("--lead", help="Lead time, days.",
                                                 parser=_finite(0.0, 27.0))] = 1.0,
             config: ConfigOption = None, json_output: JsonOption = False):
    """Solar-wind speed forecast at a target from in-situ observers (real data): back-mapped,
    assimilated and run forward with the solar-wind model; metrics where truth exists. STEREO-A
    stands in for L4, STEREO-B for L5, OMNI for L1 and Earth."""
    from l4station.heliosphere import corotation, osse

    mission = config_module.load(config)
    names = [o.strip().upper() for o in observers.split(",") if o.strip()]
    if not names or any(o not in ("L1", "L4", "L5") for o in names) or len(set(names)) != len(names):
        raise UserFacingError(f"--observers must list distinct observers among L1, L4, L5, got '{observers}'")
    key = {"EARTH": "earth", "MARS": "mars"}.get(target.upper(), target.upper())
    if key not in ("earth", "L1", "L4", "L5", "mars"):
        raise UserFacingError(f"--target must be earth, L1, L4, L5 or mars, got '{target}'")
    f = mission.forecast
    t0 = _mjd(start, "--start") if start else osse.mjd_of(f.real_start)
    t1 = _mjd(stop, "--stop") if stop else osse.mjd_of(f.real_stop)
    if t1 - t0 < lead + f.cadence_days:
        raise UserFacingError(f"--stop must come at least {lead + f.cadence_days:g} days after --start")
    records = _records(data)
    truth = osse.target_series(key, records, t0, t1)
    issue = np.arange(t0, t1 - lead - f.cadence_days + 1e-9, f.cadence_days)
    with _progress() as progress:
        progress.add_task("forecast", total=None)
        samples = [corotation.backmap(records[o], f.latency_hours.get(o, 0.0)) for o in names]
        result = corotation.forecast(samples, truth, issue, lead_days=lead, cadence_days=f.cadence_days)
    metrics = result.metrics()
    if metrics["n"] == 0 and np.all(np.isnan(result.forecast_kms)):
        raise UserFacingError(f"no forecast between {start or f.real_start} and {stop or f.real_stop}: the observers "
                              "have no data then (the files cover 2007-2023; 2009-06..2010-02 is held back)")
    from astropy.time import Time
    times = Time(result.mjd, format="mjd", scale="utc").isot
    document = {"observers": names, "target": key, "lead_days": lead, "metrics": metrics,
                "series": [{"time": t[:19] + "Z", "forecast_kms": None if np.isnan(v) else round(float(v), 1),
                            "observed_kms": None if np.isnan(o) else round(float(o), 1)}
                           for t, v, o in zip(times, result.forecast_kms, result.observed_kms)]}
    if json_output:
        _print_json(document)
        return
    table = Table(title=f"{'+'.join(names)} → {key}, lead {lead:g}–{lead + f.cadence_days:g} days, "
                        f"{times[0][:10]} to {times[-1][:10]}", title_justify="left")
    for column in ("MAE (km/s)", "RMSE (km/s)", "Correlation", "Skill vs 27-day persistence", "Hours scored"):
        table.add_column(column, justify="right")
    fmt = lambda x, spec: "—" if x is None else f"{x:{spec}}"  # noqa: E731
    table.add_row(fmt(metrics["mae_kms"], ".1f"), fmt(metrics["rmse_kms"], ".1f"), fmt(metrics["corr"], ".3f"),
                  fmt(metrics["skill_vs_persistence"], ".3f"), f"{metrics['n']:,}")
    stdout.print(table)
    stdout.print(f"{len(document['series']):,} hourly forecasts; --json prints the series.")


@app.command()
def osse(config: ConfigOption = None, data: DataOption = None, json_output: JsonOption = False):
    """Observing-system experiment: forecast skill at each target for observer sets {L1}, {L1,L4},
    {L1,L5}, {L1,L4,L5} on real data and a synthetic nature run, and CME arrival errors."""
    from l4station.heliosphere import osse as osse_module

    mission = config_module.load(config)
    records = _records(data)
    with _progress() as progress:
        task = progress.add_task("osse", total=1.0)
        result = osse_module.experiment(mission, records, on_step=lambda name, fraction: progress.update(
            task, description=name, completed=fraction))
    document = result.to_json()
    if json_output:
        _print_json(document)
        return
    table = Table(title="Forecast skill (MAE km/s / skill vs 27-day persistence)", title_justify="left")
    leads = mission.forecast.lead_days
    for column in ["Source", "Target", "Observers"] + [f"lead {x:g} d" for x in leads]:
        table.add_column(column, justify="left" if column in ("Source", "Target", "Observers") else "right")
    rows = {}
    for c in document["cases"]:
        rows.setdefault((c["source"], c["target"], "+".join(c["observers"])), {})[c["lead_days"]] = c
    for (source, target, obs), by_lead in rows.items():
        cells = []
        for x in leads:
            c = by_lead.get(x)
            cells.append("—" if c is None or c["mae_kms"] is None else
                         f"{c['mae_kms']:.1f} / {c['skill_vs_persistence']:+.2f}")
        table.add_row(source, target, obs, *cells)
    stdout.print(table)
    cme = Table(title="CME arrival at Earth (drag-based ensemble)", title_justify="left")
    for column in ("Observers", "Speed error", "Arrival MAE (h)"):
        cme.add_column(column, justify="left" if column == "Observers" else "right")
    for c in document["cme"]:
        cme.add_row("+".join(c["observers"]), f"{c['speed_error_percent']:.0f}%", f"{c['arrival_mae_hours']:.1f}")
    stdout.print(cme)

# ---- operations: telemetry, archive, server --------------------------------------------------

DbOption = Annotated[str, typer.Option("--db", help="Archive URL: sqlite:///path.db or postgresql://user@host/db.")]


def _archive(url: str, create: bool = True):
    from l4station.ground.store import Archive, ArchiveError
    try:
        return Archive(url, create=create)
    except ArchiveError as error:
        raise UserFacingError(str(error)) from None


@contextmanager
def _writing(url: str):
    """The archive at ``url`` open for writing; a database error becomes one line, and an archive
    this command created is removed again if the command fails."""
    from l4station.ground.store import first_line

    archive = _archive(url)
    try:
        yield archive
    except Exception as error:
        archive.discard()
        if isinstance(error, archive.driver_error):
            raise UserFacingError(f"cannot write to the archive {url}: {first_line(error)}") from None
        raise
    finally:
        archive.close()                  # (again, after discard: closing twice is harmless)


@app.command()
def simulate(out: Annotated[Path, typer.Option("--out", "-o", help="File to write the packet stream to.",
                                               dir_okay=False)],
             hours: Annotated[float, typer.Option("--hours", help="Hours of observations (at most 8784, a leap year).",
                                                  parser=_finite(0.0, 24 * 366))] = 24.0,
             start: Annotated[Optional[str], typer.Option(
                 "--start", help="UTC start (ISO); default: so that the data end now.")] = None,
             source: Annotated[str, typer.Option("--source", help="replay (real STEREO-A speeds) or model.")] = "replay",
             gaps: Annotated[float, typer.Option("--gaps", help="Fraction of time lost in outages.")] = 0.0,
             duplicates: Annotated[float, typer.Option("--duplicates", help="Fraction of packets sent twice.")] = 0.0,
             reorder: Annotated[float, typer.Option("--reorder", help="Fraction of packets out of order.")] = 0.0,
             bit_error_rate: Annotated[float, typer.Option("--bit-error-rate", help="Bit error rate on the link.")] = 0.0,
             events: Annotated[bool, typer.Option("--events/--no-events",
                                                  help="Include a shock and a proton event.")] = True,
             seed: Annotated[int, typer.Option("--seed", min=0)] = 1,
             json_output: JsonOption = False):
    """Simulate the station's instruments: a CCSDS packet stream (plasma, magnetometer, protons,
    housekeeping) with optional link impairments."""
    import time as time_module

    from astropy.time import Time

    from l4station.ground import instruments
    _writable(out, "--out", folder=False)
    try:
        begin = Time(start, scale="utc") if start else Time(np.floor(time_module.time() / 60) * 60 - hours * 3600,
                                                             format="unix", scale="utc")
    except ValueError:
        raise UserFacingError(f"--start {start!r} is not a date: write e.g. 2026-11-22T00:00:00") from None
    try:
        stream = instruments.simulate(begin, hours, source=source, seed=seed, events=events,
                                      impairments=instruments.Impairments(gaps, duplicates, reorder, bit_error_rate))
    except ValueError as error:
        raise UserFacingError(str(error)) from None
    partial = out.with_name(out.name + ".partial")     # written aside, then moved: never half a file
    try:
        partial.write_bytes(stream.data)
        os.replace(partial, out)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise UserFacingError(f"cannot write {out}: {error.strerror}; choose another --out") from None
    document = {"out": str(out), "bytes": len(stream.data), "packets": stream.packets, "impairments": stream.impaired,
                "start": Time(stream.start_us / 1e6, format="unix").isot + "Z",
                "stop": Time(stream.stop_us / 1e6, format="unix").isot + "Z"}
    if json_output:
        _print_json(document)
        return
    stdout.print(f"{sum(stream.packets.values())} packets ({len(stream.data) / 1e6:.2f} MB) from "
                 f"{document['start']} to {document['stop']} written to {out}")
    stdout.print("  " + ", ".join(f"{name} {n}" for name, n in stream.packets.items()))
    if stream.impaired:
        stdout.print("  impairments: " + ", ".join(f"{k} {v}" for k, v in stream.impaired.items()))


@app.command()
def ingest(source: Annotated[str, typer.Argument(help="Packet file, or tcp://host:port of a packet server.")],
           db: DbOption = "sqlite:///l4station.db",
           json_output: JsonOption = False):
    """Ingest CCSDS packets into the archive: check CRC, length and APID, drop duplicates,
    reorder, record gaps and latency, raise alerts."""
    from l4station.ground import ingest as ingest_module

    if source.startswith("tcp://"):       # every check of the input before the archive is touched
        host, _, port = source[len("tcp://"):].rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise UserFacingError(f"bad address {source!r}: write tcp://host:port with a port in 1-65535")
    else:
        path = Path(source)
        try:
            is_file = path.is_file()
        except OSError as error:
            raise UserFacingError(f"cannot read {path}: {error.strerror}; check the path") from None
        if not is_file:
            raise UserFacingError(f"no packet file at {path}: give a file written by 'l4station simulate' "
                                  "or tcp://host:port")
        try:
            with path.open("rb") as handle:
                handle.read(1)
        except OSError as error:
            raise UserFacingError(f"cannot read {path}: {error.strerror or error}; check the file and its "
                                  "permissions") from None
    with _writing(db) as archive:
        if source.startswith("tcp://"):
            try:
                summary = ingest_module.ingest_tcp(archive, host, int(port))
            except OSError as error:
                raise UserFacingError(f"cannot read from {source}: {error.strerror or error}") from None
        else:
            with _progress() as progress:
                task = progress.add_task("ingest", total=1.0)
                try:
                    summary = ingest_module.ingest_file(archive, path,
                                                        on_progress=lambda f: progress.update(task, completed=f))
                except OSError as error:
                    raise UserFacingError(f"cannot read {path}: {error.strerror or error}") from None
    if json_output:
        _print_json(summary)
        return
    r = summary["rejected"]
    stdout.print(f"{summary['packets']} packets: {summary['valid']} valid, rejected {r['crc']} CRC, "
                 f"{r['length']} length, {r['apid']} APID ({summary['rejected_bytes']} bytes skipped); "
                 f"{summary['duplicates']} duplicates; "
                 f"{summary['gaps']} gaps; {summary['stored_rows']} rows stored in {summary['elapsed_s']:.2f} s")



def _can_listen(host: str, port: int) -> None:
    """Refuse an address the server could not listen on (port taken, no such local address),
    by binding it without listening, before anything else happens."""
    import socket
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)     # as uvicorn does
            probe.bind(address)
    except OSError as error:
        raise UserFacingError(f"cannot listen on {host}:{port}: {error.strerror or error}; "
                              "choose another --host or --port") from None


@app.command()
def serve(db: DbOption = "sqlite:///l4station.db",
          host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
          port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
          token: Annotated[Optional[str], typer.Option(
              "--token", envvar=["L4STATION_TOKEN", "L4STATION_INGEST_TOKEN"],
              help="Bearer token that enables POST /api/ingest (default: ingest endpoint off). Visible to "
                   "other users in the process list: prefer L4STATION_TOKEN or --token-file.")] = None,
          token_file: Annotated[Optional[Path], typer.Option(
              "--token-file", help="File whose first line is the bearer token (takes precedence over "
                                   "--token and L4STATION_TOKEN).")] = None,
          cache_mb: Annotated[float, typer.Option(
              "--cache-mb", help="Memory for cached archive columns, MB (1-65536); the server's memory "
                                 "stays near this plus what requests in flight hold.",
              parser=_finite(1.0, 65536.0))] = 64.0):
    """Serve the archive: HAPI 3.3 at /hapi, SWPC-style JSON at /products/solar-wind/, alerts at
    /api/alerts and the live dashboard at /."""
    import uvicorn

    from l4station.ground.server import create_app
    from l4station.ground.store import ArchiveError
    if not 0 < port < 65536:
        raise UserFacingError(f"--port {port} is not a TCP port: use 1-65535")
    if token_file is not None:
        try:
            lines = token_file.read_text().splitlines()
        except (OSError, UnicodeDecodeError) as error:
            raise UserFacingError(f"cannot read the token from --token-file {token_file}: "
                                  f"{getattr(error, 'strerror', None) or error}") from None
        token = lines[0].strip() if lines else ""
        if not token:
            raise UserFacingError(f"--token-file {token_file} is empty: write the token on its first line")
    _can_listen(host, port)
    try:
        application = create_app(db, token=token, cache_bytes=int(cache_mb * 2 ** 20))   # archive errors first
    except ArchiveError as error:
        raise UserFacingError(str(error)) from None
    stderr.print(f"l4station: serving {db} at http://{host}:{port}/ (HAPI at /hapi)")
    uvicorn.run(application, host=host, port=port, log_level="warning")


@app.command()
def export(day: Annotated[str, typer.Option("--day", help="UTC day, YYYY-MM-DD.")],
           db: DbOption = "sqlite:///l4station.db",
           out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the files.", file_okay=False)] = Path("."),
           fmt: Annotated[str, typer.Option("--format", help="cdf (ISTP) or netcdf (CF).")] = "cdf",
           json_output: JsonOption = False):
    """Write a day of the archive as ISTP CDF or CF netCDF files, one per dataset."""
    from l4station.ground.export import check_request, export_day
    from l4station.ground.store import first_line

    try:
        check_request(day, fmt)
    except ValueError as error:
        raise UserFacingError(str(error)) from None
    _writable(out, "--out", folder=True)
    with _archive(db, create=False) as archive:
        try:
            written = export_day(archive, day, out, fmt)
        except OSError as error:
            raise UserFacingError(f"cannot write to {out}: {error.strerror or error}; choose another --out") from None
        except archive.driver_error as error:
            raise UserFacingError(f"cannot read the archive {db}: {first_line(error)}") from None
    if json_output:
        _print_json({"files": [str(p) for p in written]})
        return
    if not written:
        stdout.print(f"no data on {day}")
    for path in written:
        stdout.print(str(path))


@config_app.command("show")
def config_show(file: Annotated[Optional[Path], typer.Argument(
                    help="Mission TOML file; the embedded default mission if omitted.", dir_okay=False)] = None,
                json_output: JsonOption = False):
    """Print the resolved mission config (the file laid over the default)."""
    mission = config_module.load(file)
    if json_output:
        _print_json(mission.to_dict())
        return
    sys.stdout.write(f"# resolved from {mission.source}\n{mission.to_toml()}")


@config_app.command("check")
def config_check(file: Annotated[Path, typer.Argument(help="Mission TOML file to validate.", dir_okay=False)],
                 json_output: JsonOption = False):
    """Validate a mission file: exit 0 if usable, 2 with the reason if not."""
    try:
        mission = config_module.load(file)
    except config_module.ConfigError as exc:
        if json_output:
            _print_json({"file": str(file), "valid": False, "field": exc.field, "error": exc.problem})
        raise
    if json_output:
        _print_json({"file": str(file), "valid": True, "sha256": mission.sha256()})
        return
    m = mission.mission
    stdout.print(f"{file}: valid — {m.name}; {m.target}, {m.duration_years:g} years from "
                 f"{m.epoch:%Y-%m-%d}, {len(mission.ground.stations)} stations")


def _fail(message: str) -> int:
    stderr.print(f"l4station: error: {message}", markup=False, highlight=False, soft_wrap=True)
    return 2


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``l4station`` console script and ``python -m l4station``."""
    try:
        code = app(args=argv, prog_name="l4station", standalone_mode=False)
    except USER_ERRORS as exc:
        code = _fail(str(exc))
    except OSError as exc:
        # A path the user gave that the system refused, where no command checked it first.
        if exc.filename is None:
            raise
        code = _fail(f"{exc.filename}: {exc.strerror}; check the path")
    except typer.Abort:
        stderr.print("l4station: interrupted")
        code = 130
    except Exception as exc:
        # The command-line parser's own errors (unknown option, missing argument, bad value)
        # carry format_message() and an exit code; anything else is a bug and keeps its traceback.
        if not (hasattr(exc, "format_message") and hasattr(exc, "exit_code")):
            raise
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError":
            sys.stdout.write(ctx.get_help() + "\n")
            code = 0
        else:
            where = ctx.command_path if ctx is not None else "l4station"
            message = exc.format_message().replace("Value error, ", "")   # from a parser's ValueError
            code = _fail(f"{message} (see '{where} --help')")
    sys.exit(code if isinstance(code, int) else 0)

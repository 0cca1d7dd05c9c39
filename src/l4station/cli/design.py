"""Mission design commands: the study, transfer, stability, links, contacts, the OSSE, mission files."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from l4station.cli.common import (app, ConfigOption, JsonOption, TargetOption, UserFacingError, emit, finite,
                                  load_mission, named_path, print_json, progress, SchedulerOption, stdout, WorkersOption,
                                  writable)

config_app = typer.Typer(help="Mission files: print the resolved config, or check one.", no_args_is_help=True)
app.add_typer(config_app, name="config")


def _target(mission, target: str | None) -> str:
    if target is None:
        return mission.mission.target
    if target.upper() not in ("L4", "L5"):
        raise UserFacingError(f"--target must be L4 or L5, got '{target}'")
    return target.upper()


def _target_bcrs(point: str):
    """Barycentric ICRF positions (km) of the target Lagrange point, as a function of time."""
    from l4station import ephemeris

    def positions(t):
        return ephemeris.lagrange_point(point, t, frame="icrf", center="ssb")[0].value
    return positions


@app.command()
def study(config: ConfigOption = None,
          out: Annotated[Path, typer.Option("--out", "-o", help="Directory for index.html and study.json.",
                                            parser=named_path)] = Path("l4station-report"),
          cache: Annotated[Optional[str], typer.Option(
              "--cache", help="Folder keeping the slow parts (transfer trade, stay, visibility, real-data "
                              "forecasts) for the next study or sweep that needs them (default: the user's "
                              "cache, $L4STATION_CACHE; set it empty to keep nothing).")] = None,
          json_output: JsonOption = False):
    """Run the whole mission study and write the report (index.html + study.json)."""
    mission = load_mission(config)
    writable(out, "--out", folder=True)
    from l4station.errors import InputError
    from l4station.study import study as study_module
    from l4station.cache import Cache, shared

    if cache == "":                                                # Path("") is the working folder
        raise UserFacingError("--cache needs a folder; leave it out for the user's cache, or set "
                              "L4STATION_CACHE empty to keep nothing")
    try:
        kept = Cache(cache) if cache is not None else shared()     # by default the user's cache
    except InputError as error:
        raise UserFacingError(f"--cache: {error}") from None
    steps = study_module.sections()
    with progress() as bar:
        task = bar.add_task("study", total=len(steps) + 1)  # + writing the report
        result = study_module.run(mission, cache=kept, on_section=lambda index, name: bar.update(task, completed=index,
                                                                                       description=name))
        bar.update(task, completed=len(steps), description="report")
        try:
            html = result.write(out)
        except OSError as exc:
            raise UserFacingError(f"cannot write the report to {out}: {exc.strerror}; choose another --out") from None
    emit(result, json_output)
    if not json_output:
        stdout.print(f"Report: {html}")


@app.command()
def sweep(file: Annotated[Path, typer.Argument(help="Sweep TOML: base, [vary] lists, [sample] ranges.")],
          out: Annotated[Path, typer.Option("--out", "-o", help="Directory for results.parquet and results.csv.",
                                            parser=named_path)] = Path("l4station-sweep"),
          scheduler: SchedulerOption = None,
          workers: WorkersOption = None,
          json_output: JsonOption = False):
    """Run every variant of a mission (a full study each) and tabulate their figures of merit;
    a rerun skips the variants already completed."""
    from l4station.errors import InputError
    from l4station.study import sweep as sweep_module

    try:
        plan = sweep_module.read(file)
        with progress() as bar:                      # validated before any work starts
            task = bar.add_task("checking variants", total=1.0)
            every = sweep_module.variants(plan, on_checked=lambda k, n: bar.update(task, completed=k / n))
    except InputError as error:
        raise UserFacingError(str(error)) from None
    writable(out, "--out", folder=True)
    with progress() as bar:
        task = bar.add_task("sweep", total=1.0)
        try:
            summary = sweep_module.run(plan, out, scheduler=scheduler, workers=workers, every=every,
                                       on_done=lambda k, n: bar.update(task, completed=k / n))
        except InputError as error:
            raise UserFacingError(str(error)) from None
    emit(sweep_module.Summary(summary), json_output)
    if summary["failed"]:
        raise typer.Exit(1)                          # some variants failed: their errors are in the table


@app.command()
def transfer(config: ConfigOption = None, target: TargetOption = None, json_output: JsonOption = False):
    """Earth-to-L4 transfer trade: Pareto front of delta-v against flight time, refined in the
    full-force model, and the free-drift option."""
    mission = load_mission(config)
    point = _target(mission, target)
    from l4station.orbit.transfer import transfer_trade
    from l4station.study import inputs

    with progress() as bar:
        task = bar.add_task("transfer", total=1.0)
        trade = transfer_trade(inputs.trade(mission, point),
                               on_step=lambda name, f: bar.update(task, description=name, completed=f))
    emit(trade, json_output)


@app.command()
def stability(config: ConfigOption = None, target: TargetOption = None,
              years: Annotated[float, typer.Option("--years", help="How long to follow the spacecraft.",
                                                   parser=finite(0.01, 20.0))] = 10.0,
              json_output: JsonOption = False):
    """Staying at L4: drift of a spacecraft left at the point (Sun, planets, Moon, solar
    radiation pressure), libration periods, and a station-keeping delta-v estimate."""
    mission = load_mission(config)
    point = _target(mission, target)
    from l4station.orbit.stationkeeping import stay
    from l4station.study import inputs

    with progress() as bar:
        bar.add_task("stability", total=None)
        result = stay(inputs.stay(mission, point, years, step_days=1.0))
    emit(result, json_output)


@app.command()
def link(config: ConfigOption = None,
         elevation: Annotated[float, typer.Option("--elevation", help="Station elevation, deg.",
                                                  parser=finite(0.1, 90.0))] = 20.0,
         json_output: JsonOption = False):
    """RF link budgets from the station to every ground station and band, at the mission's
    greatest Earth range and the given elevation."""
    mission = load_mission(config)
    from l4station.comms.survey import greatest_range_m, survey
    from l4station.study import inputs

    m = mission.mission
    emit(survey(inputs.survey(mission), greatest_range_m(m.target, m.epoch_time, m.duration), elevation), json_output)


@app.command()
def contacts(config: ConfigOption = None,
             days: Annotated[Optional[float], typer.Option("--days", help="Plan this many days from the "
                                                           "operations epoch (default: the whole mission).",
                                                           parser=finite(0.01, 36525.0))] = None,
             json_output: JsonOption = False):
    """Visibility, daily tracking schedule, data volume, recorder and real-time latency."""
    mission = load_mission(config)
    from l4station.comms.contacts import plan
    from l4station.study import inputs

    with progress() as bar:
        bar.add_task("contacts", total=None)
        try:
            result = plan(inputs.contacts(mission, days), _target_bcrs(mission.mission.target))
        except ValueError as exc:
            raise UserFacingError(str(exc)) from None
    emit(result, json_output)


@config_app.command("show")
def config_show(file: Annotated[Optional[Path], typer.Argument(
                    help="Mission TOML file; the embedded default mission if omitted.", dir_okay=False)] = None,
                json_output: JsonOption = False):
    """Print the resolved mission config (the file laid over the default)."""
    mission = load_mission(file)
    if json_output:
        print_json(mission.to_dict())
        return
    sys.stdout.write(f"# resolved from {mission.source}\n{mission.to_toml()}")


@config_app.command("check")
def config_check(file: Annotated[Path, typer.Argument(help="Mission TOML file to validate.", dir_okay=False)],
                 json_output: JsonOption = False):
    """Validate a mission file: exit 0 if usable, 2 with the reason if not."""
    from l4station.config import ConfigError

    try:
        mission = load_mission(file)
    except ConfigError as exc:
        if json_output:
            print_json({"file": str(file), "valid": False, "field": exc.field, "error": exc.problem})
        raise
    if json_output:
        print_json({"file": str(file), "valid": True, "sha256": mission.sha256()})
        return
    m = mission.mission
    stdout.print(f"{file}: valid — {m.name}; {m.target}, {m.duration_years:g} years from "
                 f"{m.epoch:%Y-%m-%d}, {len(mission.ground.stations)} stations")

"""Forecast commands: solar-wind speed at a target from in-situ observers, and the observing-system
experiment that measures what each observer set is worth."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from l4station.constants import DAY_S, SYNODIC_PERIOD_DAYS
from l4station.cli.common import (app, ConfigOption, DataOption, DbOption, JsonOption, UserFacingError, emit, finite, load_mission,
                                  progress, SchedulerOption, WorkersOption, writable, write_aside)
from l4station.errors import InputError
from l4station.limits import MAX_MEMBERS



def records(data: Path | None):
    """The solar-wind records: the packaged BRaVDA files, or a folder laid out like them."""
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


def _observers(text: str) -> list[str]:
    names = [o.strip().upper() for o in text.split(",") if o.strip()]
    if not names or any(o not in ("L1", "L4", "L5") for o in names) or len(set(names)) != len(names):
        raise UserFacingError(f"--observers must list distinct observers among L1, L4, L5, got '{text}'")
    return names


@app.command()
def ensemble(members: Annotated[int, typer.Option("--members", help="Ensemble members.", min=1,
                                                  max=MAX_MEMBERS)] = 1000,
             at: Annotated[Optional[str], typer.Option("--at", help="Issue time, ISO UTC: the boundary map from "
                                                       "what the observers had seen by then (default: the mission "
                                                       "file's real_stop).")] = None,
             observers: Annotated[str, typer.Option("--observers", help="Comma-separated: L1, L4, L5.")] = "L1,L4",
             days: Annotated[float, typer.Option("--days", help="Days to run (default one synodic rotation).",
                                                 parser=finite(0.5, 60.0))] = SYNODIC_PERIOD_DAYS,
             seed: Annotated[int, typer.Option("--seed", help="Seed; member i draws from stream (seed, i).",
                                               min=0)] = 0,
             scheduler: SchedulerOption = None,
             workers: WorkersOption = None,
             out: Annotated[Optional[Path], typer.Option("--out", help="Parquet file for every line's quantiles.",
                                                         dir_okay=False)] = None,
             data: DataOption = None, config: ConfigOption = None, json_output: JsonOption = False):
    """A large solar-wind ensemble: the boundary map assimilated from the observers at --at,
    perturbed by its error, which grows through the run as the Sun's structure changes (members
    each from their own random stream), and run along all 128 longitudes; p10, p50 and p90 at 1 au. In this process, or split by longitude over Dask
    (--workers, --scheduler) with the same result."""
    import contextlib

    from l4station import cluster
    from l4station.heliosphere import corotation, ensemble as ensemble_model, osse

    mission = load_mission(config)
    names = _observers(observers)
    if out is not None:
        writable(out, "--out", folder=False)
    issue = _mjd(at, "--at") if at else osse.mjd_of(mission.forecast.real_stop)
    start = ensemble_model.assimilate(records(data), names, issue, at or str(mission.forecast.real_stop))
    run_on = cluster.client(scheduler, workers) if scheduler or workers else contextlib.nullcontext()
    with progress() as bar:
        task = bar.add_task("ensemble", total=1.0)
        with run_on as client:
            result = ensemble_model.solar_wind(start.central, start.sigma_kms, count=members, seed=seed,
                                               duration_s=days * DAY_S, client=client, growth=corotation.ErrorModel(),
                                               on_done=lambda k, n: bar.update(task, completed=k / n))
    issued = ensemble_model.Issued(start, result)
    if out is not None:
        write_aside(out, issued.write_parquet)
    emit(issued, json_output)


@app.command()
def forecast(observers: Annotated[str, typer.Option("--observers", help="Comma-separated: L1, L4, L5.")] = "L1,L4",
             target: Annotated[str, typer.Option("--target", help="earth, L1, L4, L5 or mars.")] = "earth",
             data: DataOption = None,
             start: Annotated[Optional[str], typer.Option("--start", help="First issue time, ISO UTC "
                                                          "(default: the mission file's real_start).")] = None,
             stop: Annotated[Optional[str], typer.Option("--stop", help="Last valid time, ISO UTC "
                                                         "(default: real_stop).")] = None,
             lead: Annotated[float, typer.Option("--lead", help="Lead time, days.",
                                                 parser=finite(0.0, 27.0))] = 1.0,
             config: ConfigOption = None, json_output: JsonOption = False):
    """Solar-wind speed forecast at a target from in-situ observers (real data): back-mapped,
    assimilated and run forward with the solar-wind model; metrics where truth exists. STEREO-A
    stands in for L4, STEREO-B for L5, OMNI for L1 and Earth."""
    mission = load_mission(config)
    names = _observers(observers)
    key = {"EARTH": "earth", "MARS": "mars"}.get(target.upper(), target.upper())
    if key not in ("earth", "L1", "L4", "L5", "mars"):
        raise UserFacingError(f"--target must be earth, L1, L4, L5 or mars, got '{target}'")
    from l4station.heliosphere import osse

    f = mission.forecast
    t0 = _mjd(start, "--start") if start else osse.mjd_of(f.real_start)
    t1 = _mjd(stop, "--stop") if stop else osse.mjd_of(f.real_stop)
    solar_wind = records(data)
    with progress() as bar:
        bar.add_task("forecast", total=None)
        try:
            result = osse.forecast_window(solar_wind, names, key, t0, t1, lead_days=lead, cadence_days=f.cadence_days,
                                          latency_hours=f.latency_hours)
        except InputError as error:
            raise UserFacingError(f"no forecast between {start or f.real_start} and {stop or f.real_stop}: "
                                  f"{error}") from None
    emit(result, json_output)


@app.command()
def osse(config: ConfigOption = None, data: DataOption = None, json_output: JsonOption = False):
    """Observing-system experiment: forecast skill at each target for observer sets {L1}, {L1,L4},
    {L1,L5}, {L1,L4,L5} on real data and a synthetic nature run, and CME arrival errors."""
    mission = load_mission(config)
    from l4station.heliosphere.osse import experiment
    from l4station.study import inputs

    solar_wind = records(data)
    with progress() as bar:
        task = bar.add_task("osse", total=1.0)
        result = experiment(inputs.experiment(mission), solar_wind,
                            on_step=lambda name, fraction: bar.update(task, description=name, completed=fraction))
    emit(result, json_output)


@app.command()
def issue(db: DbOption = "sqlite:///l4station.db",
          at: Annotated[Optional[str], typer.Option("--at", help="Issue time, ISO UTC: forecast from what the archive "
                                                    "had received by then (default: now).")] = None,
          json_output: JsonOption = False):
    """Issue one solar-wind forecast from the archive (the station at L4, L1 and L5 feeds): hourly
    speed with p10-p90 at Earth, the Moon and Mars to 7 days, the recurrence outlook to 27 days.
    Stored as a run; unchanged inputs return the stored run."""
    from l4station.cli.common import instant_us
    from l4station.cli.operations import _archive, _writing
    from l4station.ground import forecaster

    import time

    at_us = instant_us(at, "--at")
    if at_us > time.time() * 1e6 + 60e6:
        raise UserFacingError(f"--at {at} is in the future: a forecast issues from what has been received, "
                              "so give a time up to now")
    _archive(db, create=False).close()                 # an archive must exist: nothing to forecast from otherwise
    with _writing(db) as archive:
        run = forecaster.issue(archive, at_us)
    emit(run, json_output)


@app.command()
def replay(data: DataOption = None,
           start: Annotated[str, typer.Option("--start", help="First issue time, ISO UTC.")] = "2008-07-01",
           stop: Annotated[str, typer.Option("--stop", help="Last issue time, ISO UTC.")] = "2008-10-01",
           every: Annotated[str, typer.Option("--every", help="Issue a forecast every DURATION (e.g. 6h).")] = "6h",
           db: Annotated[Optional[str], typer.Option("--db", help="Archive URL to replay into (default: a "
                                                     "temporary one).")] = None,
           l5: Annotated[bool, typer.Option("--l5", help="Also feed STEREO-B as an L5 station (where it "
                                            "really was).")] = False,
           json_output: JsonOption = False):
    """Replay real records through operations: STEREO-A as the station's packets, OMNI as an L1
    RTSW feed (and with --l5 STEREO-B as an L5 feed), each after its latency; a forecast issued
    every --every on what had arrived; then verified at Earth by lead day, and on
    high-speed-stream events."""
    import tempfile

    from l4station.cli.common import duration_s, instant_us
    from l4station.cli.operations import _writing
    from l4station.ground import replay as replay_module
    from l4station.ground import verification

    start_us, stop_us = instant_us(start, "--start"), instant_us(stop, "--stop")
    if stop_us <= start_us:
        raise UserFacingError(f"--stop {stop} is not after --start {start}: give a later stop")
    every_us = int(duration_s(every, "--every") * 1e6)
    if (stop_us - start_us) // every_us > 20_000:
        raise UserFacingError(f"{(stop_us - start_us) // every_us:,} issues: replay at most 20,000 (a longer --every "
                              "or a shorter window)")
    solar_wind = records(data)
    first, last = (min(s.mjd[0] for s in solar_wind.values() if len(s.mjd)),
                   max(s.mjd[-1] for s in solar_wind.values() if len(s.mjd)))
    from l4station.ground.forecaster import iso, mjd_of_us
    from l4station.heliosphere.corotation import HISTORY_DAYS
    if mjd_of_us(stop_us) < first or mjd_of_us(start_us) > last:
        raise UserFacingError(f"the data cover MJD {first:.0f}-{last:.0f} ({'--data' if data else 'the packaged files'}): "
                              "give --start/--stop inside them")
    with tempfile.TemporaryDirectory() as folder:
        url = db or f"sqlite:///{folder}/replay.db"
        mission = load_mission(None)
        with _writing(url) as archive, progress() as bar:
            task = bar.add_task("replay", total=1.0)
            replay_module.replay(archive, solar_wind, start_us, stop_us, every_us=every_us,
                                        latency_hours=dict(mission.forecast.latency_hours), l5=l5,
                                        on_issue=lambda f: bar.update(task, completed=f))
            result = verification.verify(archive, start_us=start_us, stop_us=stop_us + 1,
                                         tracks={"L4": solar_wind["L4"]})
    result |= {"start": iso(start_us), "stop": iso(stop_us)}          # the window asked for
    emit(result, json_output)
    if result["runs"] == 0:
        typer.echo(f"l4station: no forecast issued: nothing had arrived from the {HISTORY_DAYS:.0f} days before any issue time "
                   "(the data hold no speeds there: in the packaged files, the held-back 2009-06..2010-02 or past their end)", err=True)


@app.command()
def verify(db: DbOption = "sqlite:///l4station.db",
           start: Annotated[Optional[str], typer.Option("--start", help="First issue time scored, ISO UTC.")] = None,
           stop: Annotated[Optional[str], typer.Option("--stop", help="Issue times scored before this, ISO UTC.")] = None,
           json_output: JsonOption = False):
    """Score every stored forecast run at Earth against what L1 then observed: by lead day 1-7
    (MAE, RMSE, skill against 27-day persistence and L4 recurrence) and on high-speed streams."""
    from l4station.cli.common import instant_us
    from l4station.cli.operations import _archive
    from l4station.ground import verification

    start_us = None if start is None else instant_us(start, "--start")
    stop_us = None if stop is None else instant_us(stop, "--stop")
    if start_us is not None and stop_us is not None and stop_us <= start_us:
        raise UserFacingError(f"--stop {stop} is not after --start {start}: give a later stop")
    with _archive(db, create=False) as archive:
        result = verification.verify(archive, start_us=start_us, stop_us=stop_us)
    emit(result, json_output)


@app.command()
def cme(analysis: Annotated[Path, typer.Argument(help="DONKI-style CME analysis: a JSON object (or a list) with "
                                                      "time21_5, latitude, longitude, halfAngle, speed, type.",
                                                 dir_okay=False)],
        db: DbOption = "sqlite:///l4station.db", json_output: JsonOption = False):
    """Enter CME analyses into the archive; the next forecast gives their arrival at Earth, the
    Moon and Mars, with the station's side view narrowing the speed error."""
    import json
    import time

    from l4station.cli.operations import _writing
    from l4station.ground import cmes

    try:
        document = json.loads(analysis.read_text())
    except OSError as error:
        raise UserFacingError(f"cannot read {analysis}: {error.strerror}; give a JSON file") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise UserFacingError(f"{analysis} is not JSON ({str(error).splitlines()[0]})") from None
    except RecursionError:
        raise UserFacingError(f"{analysis} is not a CME analysis: JSON nested too deeply") from None
    items = document if isinstance(document, list) else [document]
    checked = []
    for n, item in enumerate(items):
        try:
            cmes.check(item)
        except InputError as error:
            raise UserFacingError(f"{analysis}: analysis {n + 1}: {error}") from None
        checked.append(item)
    with _writing(db) as archive:
        try:
            stored = [cmes.add(archive, item, int(time.time() * 1e6)) for item in checked]
        except InputError as error:
            raise UserFacingError(f"{analysis}: {error}") from None
    emit(cmes.Stored(stored), json_output)

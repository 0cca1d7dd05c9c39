"""Forecast commands: solar-wind speed at a target from in-situ observers, and the observing-system
experiment that measures what each observer set is worth."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from l4station.cli.common import (app, ConfigOption, DataOption, JsonOption, UserFacingError, emit, finite, load_mission,
                                  progress)
from l4station.errors import InputError



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
    names = [o.strip().upper() for o in observers.split(",") if o.strip()]
    if not names or any(o not in ("L1", "L4", "L5") for o in names) or len(set(names)) != len(names):
        raise UserFacingError(f"--observers must list distinct observers among L1, L4, L5, got '{observers}'")
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

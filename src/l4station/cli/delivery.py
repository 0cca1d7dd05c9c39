"""Delay-tolerant delivery commands: routes over a contact plan, files by CFDP, the mission's bundles by
store and forward."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from l4station.constants import JULIAN_YEAR_DAYS
from l4station.cli.common import (ConfigOption, DbOption, JsonOption, UserFacingError, app, emit, finite,
                                  load_mission, progress, writable)
from l4station.cli.operations import _writing

MAX_FILE_OCTETS = 256 * 1024 * 1024
PLAN_SUFFIXES = (".json", ".rc", ".ionrc", ".txt")


@app.command()
def route(plan_file: Annotated[Path, typer.Argument(
              metavar="PLAN", help="Contact plan: ION commands ('a contact' / 'a range') or HDTN JSON.")],
          source: Annotated[int, typer.Option("--from", help="Sending node number.")],
          dest: Annotated[int, typer.Option("--to", help="Destination node number.")],
          at: Annotated[float, typer.Option("--at", help="Time the bundle is ready (s after the plan's epoch).")] = 0.0,
          k: Annotated[int, typer.Option("--k", help="How many routes (Yen's k shortest).")] = 1,
          bundle: Annotated[float, typer.Option("--bundle-bits", help="Bundle size (bits) the route must carry.")] = 0.0,
          json_output: JsonOption = False):
    """Routes from one node to another over a contact plan, by contact graph routing (CCSDS SABR),
    in SABR's rank order: earliest delivery, fewer hops, later termination."""
    from l4station.comms.dtn import cgr, plan
    emit(cgr.query(plan.read(plan_file), source, dest, at, k, bundle), json_output)


@app.command()
def downlink(sources: Annotated[list[Path], typer.Argument(metavar="FILE...", help="Files the station sends.")],
             db: DbOption = "sqlite:///l4station.db",
             light_time: Annotated[float, typer.Option("--light-time", help="One-way light time (s); ~500 from L4.",
                                                       parser=finite(0.0, 1e5))] = 500.0,
             rate: Annotated[float, typer.Option("--rate", help="Downlink rate (bit/s).",
                                                 parser=finite(1.0, 1e10))] = 1e6,
             loss: Annotated[float, typer.Option("--loss", help="Share of PDUs lost each way, in [0, 1).",
                                                 parser=finite(0.0, 0.999))] = 0.0,
             cfdp_class: Annotated[int, typer.Option("--class", min=1, max=2,
                                                     help="CFDP class: 2 acknowledged (files), 1 unacknowledged (beacon).")] = 2,
             segment: Annotated[int, typer.Option("--segment", min=16, max=65000,
                                                  help="File-data segment length (octets).")] = 512,
             seed: Annotated[int, typer.Option("--seed", min=0)] = 0,
             json_output: JsonOption = False):
    """Send files from the station to the ground with CFDP over a simulated deep-space link (light
    time, rate, loss): the files delivered whole, their checksums verified, go into the archive's
    file store (listed by `serve` at /api/files)."""
    import time as time_module

    from l4station.comms.dtn import cfdp
    files = {}
    for path in sources:
        try:
            if not path.is_file():
                raise UserFacingError(f"no file at {path}: give files to send")
            if path.stat().st_size > MAX_FILE_OCTETS:
                raise UserFacingError(f"{path} is {path.stat().st_size:,} octets; files up to "
                                      f"{MAX_FILE_OCTETS:,} octets can be sent")
            files[path.name] = path.read_bytes()
        except OSError as error:
            raise UserFacingError(f"cannot read {path}: {error.strerror or error}") from None
    if len(files) != len(sources):
        raise UserFacingError("two files of the same name: CFDP delivers them under their names; rename one")
    result = cfdp.deliver(files, cfdp.Link(light_time, rate, loss, seed=seed), acknowledged=cfdp_class == 2,
                          segment_octets=segment)
    started_us = int(time_module.time() * 1e6)
    with _writing(db) as archive:
        for d in result.deliveries:
            if d.complete:
                archive.put_file(d.name, result.received[d.name], started_us + int(d.received_s * 1e6),
                                 f"cfdp class {cfdp_class}")
    emit(result, json_output)
    if not all(d.complete for d in result.deliveries):
        raise typer.Exit(1)


@app.command()
def deliver(config: ConfigOption = None,
            days: Annotated[int, typer.Option("--days", min=1, max=3660,
                                              help="Whole days from the operations epoch (at most the mission).")] = 30,
            relays: Annotated[bool, typer.Option("--relays/--no-relays",
                                                 help="Use the mission's relays, or the ground stations alone.")] = True,
            plan_out: Annotated[Optional[Path], typer.Option(
                "--plan", help="Also write the mission's contact plan: ION commands (.rc) or HDTN JSON (.json).",
                dir_okay=False)] = None,
            json_output: JsonOption = False):
    """Carry the mission's bundles home by store and forward over its contact plan (ground passes,
    relays, Mars in conjunction): contact graph routing, LTP, priorities, finite storage; latency,
    losses, storage peaks and file completion."""
    from l4station.comms.dtn import mission as dtn_mission
    from l4station.study import inputs
    from l4station.study.sections import delivery
    from l4station.study.study import StudyContext
    mission = load_mission(config)
    if days > mission.mission.duration_years * JULIAN_YEAR_DAYS:
        raise UserFacingError(f"--days {days:g} is longer than the mission ({mission.mission.duration_years:g} years); "
                              "give fewer days")
    if plan_out is not None:
        if plan_out.suffix.lower() not in PLAN_SUFFIXES:
            raise UserFacingError(f"--plan {plan_out}: name it .json (HDTN) or {', '.join(PLAN_SUFFIXES[1:])} (ION)")
        writable(plan_out, "--plan", folder=False)
    context = StudyContext(mission)
    with progress() as bar:
        task = bar.add_task("contacts", total=3)
        passes = delivery.first_days(context.contacts, days)
        bar.update(task, advance=1, description="links")
        links = context.links
        bar.update(task, advance=1, description="delivery")
        run = dtn_mission.deliver(inputs.delivery(mission), passes, links, relays=relays)
        bar.update(task, advance=1)
    if plan_out is not None:
        run.network.plan.write(plan_out)
    emit(run, json_output)

"""Delay-tolerant delivery commands: routes over a contact plan."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from l4station.cli.common import JsonOption, app, emit


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

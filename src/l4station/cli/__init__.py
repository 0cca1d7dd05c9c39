"""The ``l4station`` command: one subcommand per job, in one module per area.

* :mod:`~l4station.cli.design`: study, transfer, stability, link, contacts, config;
* :mod:`~l4station.cli.forecast`: forecast, osse;
* :mod:`~l4station.cli.operations`: simulate, ingest, serve, export;
* :mod:`~l4station.cli.radiation`: radiation;
* :mod:`~l4station.cli.delivery`: route, downlink, deliver.

Loading the command loads no numerics: ``l4station --help`` answers at once, and each
command imports what it computes with.
"""
from __future__ import annotations

import sys
from typing import Annotated

import typer

import l4station
from l4station import offline
from l4station.cli import delivery, design, forecast, operations, radiation  # noqa: F401  (each adds its commands)
from l4station.cli.common import app, stderr, stdout
from l4station.errors import InputError


def _version(value: bool) -> None:
    if value:
        stdout.print(f"l4station {l4station.__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Print the version and exit.")] = False):
    """Mission design and space-weather operations for a Sun–Earth L4 observatory."""
    offline.configure()     # the command owns its process: astropy never downloads in it


def _fail(message: str) -> int:
    stderr.print(f"l4station: error: {message}", markup=False, emoji=False, highlight=False, soft_wrap=True)
    return 2


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``l4station`` console script and ``python -m l4station``."""
    try:
        code = app(args=argv, prog_name="l4station", standalone_mode=False)
        if code == 130:                   # typer's answer to Ctrl-C (KeyboardInterrupt), silent otherwise
            stderr.print("l4station: interrupted")
    except InputError as exc:
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

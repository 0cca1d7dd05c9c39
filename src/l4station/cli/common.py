"""What every command shares: the consoles, the common options, output checks and ``emit``.

Human-readable output by default, ``--json`` for machines (stdout holds only the JSON;
progress goes to stderr). A user mistake raises :class:`~l4station.errors.InputError`;
:func:`l4station.cli.main` reports it in one line with exit code 2, never a traceback.
Nothing heavy is imported here: each command imports what it computes with.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from l4station.constants import DAY_S
from l4station.errors import InputError, plain_number


class UserFacingError(InputError):
    """A one-line message for the user, raised inside a command."""


app = typer.Typer(
    name="l4station",
    help="Mission design and space-weather operations for a Sun–Earth L4 observatory.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
"""The command; each area module (design, forecast, operations) adds its commands to it."""

stdout = Console(highlight=False, soft_wrap=True)
if not stdout.is_terminal:
    stdout = Console(highlight=False, soft_wrap=True, width=160)  # piped: no terminal width to fit
stderr = Console(stderr=True, highlight=False)

ConfigOption = Annotated[Optional[Path], typer.Option(
    "--config", "-c", help="Mission TOML file, laid over the embedded default mission.",
    dir_okay=False)]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON to stdout.")]


def _address(text: str) -> str:
    if not text.strip():
        raise ValueError("needs the scheduler's address, tcp://HOST:PORT")
    return text.strip()


SchedulerOption = Annotated[Optional[str], typer.Option(
    "--scheduler", help="Dask scheduler to run on (tcp://HOST:PORT); not with --workers.", parser=_address)]
WorkersOption = Annotated[Optional[int], typer.Option(
    "--workers", help="Local Dask worker processes (not with --scheduler).", min=1, max=256)]
TargetOption = Annotated[Optional[str], typer.Option(
    "--target", help="L4 or L5; the mission file's target if omitted.", case_sensitive=False)]
DataOption = Annotated[Optional[Path], typer.Option(
    "--data", help="Folder laid out like the BRaVDA solar-wind files (OMNI_observations.txt, ...); "
                   "the packaged copy if omitted.", file_okay=False)]
DbOption = Annotated[str, typer.Option("--db", help="Archive URL: sqlite:///path.db or postgresql://user@host/db.")]


def finite(low: float, high: float):
    """Parser of a number option in [low, high] (typer's min/max let nan through)."""
    def parse(text) -> float:
        try:
            number = plain_number(str(text)) if isinstance(text, str) else float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a number") from None
        if not (math.isfinite(number) and low <= number <= high):
            raise ValueError(f"{text!r} is not a number in [{low:g}, {high:g}]")
        return number
    return parse


def named_path(text) -> Path:
    """Parser of a path option that must name something: an empty one (an unset shell variable)
    would otherwise be the working folder."""
    if not str(text).strip():
        raise ValueError("an empty path; name a folder, or leave the option out for its default")
    return Path(text)


def writable(path: Path, option: str, *, folder: bool) -> None:
    """Refuse, before any work, an output ``path`` (a file, or a folder if ``folder``) that cannot
    be written: the wrong kind of thing is there, or the nearest existing folder is read-only."""
    try:
        _check_writable(path, option, folder)
    except OSError as error:             # name too long, ...
        raise UserFacingError(f"{option} {path}: {error.strerror}; choose another path") from None


def write_aside(out: Path, write: Callable[[Path], None], option: str = "--out") -> None:
    """``write(partial)`` a file beside ``out``, then move it into place: a failed write (a full
    disk, a file system that refuses it) leaves whatever was at ``out`` untouched, and is one line."""
    if out.exists() and not out.is_file():              # a device or a pipe is not replaced by a file
        raise UserFacingError(f"cannot write {out}: not a regular file; choose another {option}")
    partial = out.with_name(out.name + ".partial")
    try:
        write(partial)
        os.replace(partial, out)
    except OSError as error:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise UserFacingError(f"cannot write {out}: {error.strerror or error}; choose another {option}") from None


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


def print_json(document) -> None:
    sys.stdout.write(json.dumps(document, indent=2) + "\n")


def emit(result, json_output: bool) -> None:
    """Print a result: its ``to_json()`` for machines, else its ``__rich__`` (or ``str``) for a person."""
    if json_output:
        print_json(result.to_json())
    else:
        stdout.print(result if hasattr(result, "__rich__") else str(result))


def progress() -> Progress:
    """A progress bar on stderr (shown only on a terminal; gone when done)."""
    return Progress(TextColumn("[bold]{task.description:<14}"), BarColumn(),
                    TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(),
                    console=stderr, transient=True, disable=not stderr.is_terminal)


def load_mission(path: Path | None):
    """The mission config from ``path`` laid over the default."""
    from l4station import config

    return config.load(path)


def duration_s(text: str, option: str) -> float:
    """Seconds in a duration written 30s, 10m, 6h or 1d (a plain number is seconds)."""
    units = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": DAY_S}
    number, unit = (text[:-1], text[-1]) if text and text[-1] in units else (text, "s")
    try:
        seconds = float(number) * units[unit]
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and 1.0 <= seconds <= 366 * DAY_S):
        raise UserFacingError(f"{option} {text!r} is not a duration between 1 s and 366 d: write e.g. 10m, 6h or 1d")
    return seconds


def instant_us(text: str | None, option: str) -> int:
    """Unix microseconds of an ISO UTC time (now if None)."""
    import time

    if text is None:
        return int(time.time() * 1e6)
    from astropy.time import Time
    try:
        return int(round(float(Time(text, scale="utc").unix) * 1e6))
    except ValueError:
        raise UserFacingError(f"{option} {text!r} is not an ISO UTC time: write e.g. 2026-05-01T12:00") from None

"""Operations commands: simulated telemetry, ingest into the archive, the server, file export."""
from __future__ import annotations

import math
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer

from l4station.cli.common import (app, DbOption, JsonOption, UserFacingError, emit, finite, print_json, progress, stderr,
                                  writable, write_aside)



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
                                                  parser=finite(0.0, 24 * 366))] = 24.0,
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
             framed: Annotated[bool, typer.Option(
                 "--frames", help="Carry the packets in CCSDS TM transfer frames (sync marker, virtual channels: "
                                  "beacon 0, playback 1, idle 7; frame CRC); bit errors then fall on the frames.")] = False,
             json_output: JsonOption = False):
    """Simulate the station's instruments: a CCSDS packet stream (plasma, magnetometer, protons,
    housekeeping), bare or in transfer frames, with optional link impairments."""
    import time as time_module

    from astropy.time import Time

    from l4station.ground import instruments
    writable(out, "--out", folder=False)
    try:
        begin = Time(start, scale="utc") if start else Time(math.floor(time_module.time() / 60) * 60 - hours * 3600,
                                                             format="unix", scale="utc")
    except ValueError:
        raise UserFacingError(f"--start {start!r} is not a date: write e.g. 2026-11-22T00:00:00") from None
    try:
        stream = instruments.simulate(begin, hours, source=source, seed=seed, events=events,
                                      impairments=instruments.Impairments(gaps, duplicates, reorder, bit_error_rate),
                                      framed=framed)
    except ValueError as error:
        raise UserFacingError(str(error)) from None
    write_aside(out, lambda partial: partial.write_bytes(stream.data))     # never half a file
    stream.out = str(out)
    emit(stream, json_output)


ShelterOption = Annotated[Optional[float], typer.Option(
    "--shelter-fraction", help="Raise a shelter advisory when an event's projected cabin BFO dose reaches this share "
                               "of NASA's 30-day limit (0.001-10; kept in the archive for every writer; default 0.5).",
    parser=finite(0.001, 10.0))]


@app.command()
def ingest(source: Annotated[str, typer.Argument(help="Packet file, or tcp://host:port of a packet server.")],
           db: DbOption = "sqlite:///l4station.db",
           shelter_fraction: ShelterOption = None,
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
        if shelter_fraction is not None:
            from l4station.ground import alerts
            alerts.set_shelter_fraction(archive, shelter_fraction)
        if source.startswith("tcp://"):
            try:
                summary = ingest_module.ingest_tcp(archive, host, int(port))
            except OSError as error:
                raise UserFacingError(f"cannot read from {source}: {error.strerror or error}") from None
        else:
            with progress() as bar:
                task = bar.add_task("ingest", total=1.0)
                try:
                    summary = ingest_module.ingest_file(archive, path,
                                                        on_progress=lambda f: bar.update(task, completed=f))
                except OSError as error:
                    raise UserFacingError(f"cannot read {path}: {error.strerror or error}") from None
    emit(summary, json_output)



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
              parser=finite(1.0, 65536.0))] = 64.0,
          feed: Annotated[Optional[list[str]], typer.Option(
              "--feed", help="A feed to run while serving (repeat for several): rtsw:FILE|URL or "
                             "hapi:SERVER#DATASET, at L1.")] = None,
          feed_every: Annotated[str, typer.Option("--feed-every", help="How often each feed is read.")] = "1m",
          forecast_every: Annotated[Optional[str], typer.Option(
              "--forecast-every", help="Issue a forecast this often (e.g. 10m) from what has arrived.")] = None,
          shelter_fraction: ShelterOption = None):
    """Serve the archive: HAPI 3.3 at /hapi, NOAA RTSW-form JSON at /json/rtsw/, forecasts at
    /json/forecast/ and /api/forecast, verification at /api/verification, alerts at /api/alerts
    and the live dashboard at /; with --feed and --forecast-every, feeds and the forecaster run
    on their schedules in the same process."""
    import uvicorn

    from l4station.ground.server import create_app
    from l4station.ground.store import ArchiveError, read_only
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
    from l4station.cli.common import duration_s
    from l4station.ground import feeds, schedule
    sources = [feeds.parse_source(text) for text in feed or []]
    feed_every_s = duration_s(feed_every, "--feed-every")
    forecast_every_s = None if forecast_every is None else duration_s(forecast_every, "--forecast-every")
    if (sources or forecast_every_s or shelter_fraction is not None) and read_only(db):
        raise UserFacingError(f"--feed, --forecast-every and --shelter-fraction write to the archive, but {db} is "
                              "read-only (mode=ro): drop ?mode=ro")
    _can_listen(host, port)
    if shelter_fraction is not None:
        from l4station.ground import alerts
        with _writing(db) as archive:
            alerts.set_shelter_fraction(archive, shelter_fraction)
    jobs = schedule.operations_jobs(db, sources, feed_every_s=feed_every_s, forecast_every_s=forecast_every_s)
    if jobs:
        import logging
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    try:
        application = create_app(db, token=token, cache_bytes=int(cache_mb * 2 ** 20), jobs=jobs)  # archive errors first
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
    from l4station.ground.export import Exported, check_request, export_day
    from l4station.ground.store import first_line

    try:
        check_request(day, fmt)
    except ValueError as error:
        raise UserFacingError(str(error)) from None
    writable(out, "--out", folder=True)
    with _archive(db, create=False) as archive:
        try:
            written = export_day(archive, day, out, fmt)
        except OSError as error:
            raise UserFacingError(f"cannot write to {out}: {error.strerror or error}; choose another --out") from None
        except archive.driver_error as error:
            raise UserFacingError(f"cannot read the archive {db}: {first_line(error)}") from None
    emit(Exported(day, written), json_output)


@app.command()
def feed(source: Annotated[str, typer.Argument(help="rtsw:FILE|URL (NOAA RTSW JSON; a folder or URL ending in / "
                                                    "for both files) or hapi:SERVER#DATASET.")],
         db: DbOption = "sqlite:///l4station.db",
         every: Annotated[Optional[str], typer.Option("--every", help="Repeat every DURATION (e.g. 1m, 10m); "
                                                      "once if omitted.")] = None,
         point: Annotated[str, typer.Option("--point", help="Vantage point of the source: L1 or L5.")] = "L1",
         start: Annotated[Optional[str], typer.Option("--start", help="HAPI: first time to read (ISO UTC); "
                                                      "default: after the latest stored, or the last 7 days.")] = None,
         stop: Annotated[Optional[str], typer.Option("--stop", help="HAPI: time to read to (ISO UTC).")] = None,
         json_output: JsonOption = False):
    """Add observations from another vantage point to the archive: NOAA's real-time solar wind
    (RTSW JSON) or a HAPI dataset. New rows only: a feed never alters a stored row."""
    import logging
    import time as time_module

    from l4station.cli.common import duration_s, instant_us
    from l4station.ground import feeds
    from l4station.ground.store import first_line

    parsed = feeds.parse_source(source, point.upper())
    period = None if every is None else duration_s(every, "--every")
    start_us = None if start is None else instant_us(start, "--start")
    stop_us = None if stop is None else instant_us(stop, "--stop")
    if start_us is not None and stop_us is not None and start_us >= stop_us:
        raise UserFacingError(f"--start {start} is not before --stop {stop}: give an earlier start")
    logging.basicConfig(level=logging.INFO if period else logging.WARNING, format="%(asctime)s %(message)s",
                        stream=sys.stderr)
    while True:
        began = time_module.monotonic()
        with _writing(db) as archive:
            try:
                summary = feeds.run(archive, parsed, start_us=start_us, stop_us=stop_us)
            except feeds.FeedError as error:
                if period is None:
                    raise UserFacingError(str(error)) from None
                logging.getLogger("l4station.feeds").warning("%s: %s (retrying in %s)", parsed.name, error, every)
                summary = None
            except archive.driver_error as error:
                if period is None:
                    raise
                logging.getLogger("l4station.feeds").warning("%s: archive: %s", parsed.name, first_line(error))
                summary = None
        if period is None:
            emit(summary, json_output)
            return
        if summary is not None:
            if json_output:
                print_json(summary.to_json())
            else:
                logging.getLogger("l4station.feeds").info("%s", summary)
        time_module.sleep(max(0.0, period - (time_module.monotonic() - began)))

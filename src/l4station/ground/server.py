"""The operations server: HAPI 3.3, NOAA SWPC-style solar-wind products, alerts, the live
dashboard, and the one write path, an authenticated ingest endpoint.

Everything is read-only except ``POST /api/ingest`` (bearer token; the endpoint is off without
one), whose body is capped in size. Dataset names are checked against the telemetry dictionary
and static files come from a fixed table, so no request parameter reaches the filesystem.

Reads go through a bounded cache of (dataset, UTC day) column chunks that follows the archive
batch by batch (batches commit in the order of their numbers, see :mod:`l4station.ground.store`),
so a request slices arrays instead of querying the database row by row; HAPI data are streamed
day by day, so the server's memory stays bounded whatever the archive's size or the span asked.
HEAD is answered on every GET route.
"""
from __future__ import annotations

import asyncio
import hmac
import importlib
import json
import math
import threading
import time
from urllib.parse import quote
from email.utils import formatdate
from collections import OrderedDict
from contextlib import asynccontextmanager
from importlib.resources import files
from pathlib import Path
from typing import Annotated

import numpy as np
import plotly
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from l4station.arrays import group_starts
from l4station.ground import alerts, hapi, ingest, packets
from l4station.ground.schedule import Job
from l4station.ground.store import DAY_US, Archive, ArchiveError, read_only

MAX_INGEST_BYTES = 16 * 1024 * 1024
MAX_CME_BYTES = 64 * 1024
SPANS_H = {"2-hour": 2, "6-hour": 6, "1-day": 24, "3-day": 72, "7-day": 168}
MAX_ALERT_HOURS = 8784.0     # /api/alerts?hours= at most a leap year
READ_AHEAD_DAYS = 7          # days read from the archive in one query when streaming HAPI data
WHOLE_RESPONSE_DAYS = 2      # HAPI data spans up to this long are sent at once, longer ones streamed
MAX_STREAMS = 8              # streamed responses in flight at once (each holds a few days of rows); more wait
STREAM_WAIT_S = 10.0         # how long a long request waits for a slot before a 503 "retry"
PANEL_POINTS = 1500          # points per dashboard series (bins of min/max beyond that)
_STATIC = {"app.js": "text/javascript", "style.css": "text/css"}
ARRAY_PRODUCTS_RETIRED_UNIX_S = 1_777_593_600    # 2026-05-01T00:00Z: NOAA's array-form solar-wind JSON retired


class ChunkCache:
    """Columns of (dataset, UTC day) chunks, least recently used first out, within ``max_bytes``.

    Rows of the archive are never changed once stored (inserts keep existing times), and batches
    commit in the order of their numbers. So a chunk read when the newest batch was B holds every
    row of batches <= B; when newer batches appear, the days they touched are asked of the
    archive (an index on the batch number) and those chunks dropped, whoever wrote them (this
    server's ingest endpoint or another process). Sample counts follow the same way, and
    extents are asked again (two index look-ups).

    A chunk read while newer batches were being followed is served but not kept, so a chunk in
    the cache is never older than the batch counter says.
    """

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.lock = threading.Lock()
        self.chunks: OrderedDict[tuple[str, int], dict[str, np.ndarray]] = OrderedDict()
        self.bytes = 0
        self.batch = 0                              # newest batch followed so far
        self.counts: dict[str, int] = {}
        self.extents: dict[str, tuple[int, int] | None] = {}
        self.reading = {name: threading.Lock() for name in packets.dictionary()}

    def follow(self, archive: Archive) -> int:
        """Catch up with batches committed since the last call; returns the newest batch."""
        latest = archive.latest_batch()
        with self.lock:
            if latest <= self.batch:
                return self.batch
            after = self.batch
            held = {name for name, _ in self.chunks} | set(self.counts)
        # only datasets with something to update are asked (a first look at a big archive asks nothing)
        touched = {name: archive.days_of_batches(name, after, latest) for name in held}
        with self.lock:
            if self.batch != after:                # another thread followed meanwhile: it did this
                return self.batch
            for name, days in touched.items():
                for day in days:
                    self._drop((name, day))
                if name in self.counts:
                    self.counts[name] += sum(days.values())
            for name in packets.dictionary():
                if name not in touched or touched[name]:
                    self.extents.pop(name, None)
            for key in [key for key in self.chunks if key[0] not in touched]:
                self._drop(key)                    # kept by another thread since the look: unchecked
            for name in [name for name in self.counts if name not in touched]:
                del self.counts[name]
            self.batch = latest
            return latest

    def _drop(self, key):
        old = self.chunks.pop(key, None)
        if old is not None:
            self.bytes -= _nbytes(old)

    def day(self, archive: Archive, name: str, day: int) -> dict[str, np.ndarray]:
        """Every sample of one dataset in one UTC day (days since 1970-01-01)."""
        return self.days(archive, name, day, day + 1)[0]

    def days(self, archive: Archive, name: str, first: int, stop: int) -> list[dict[str, np.ndarray]]:
        """Chunks of days first <= day < stop; missing runs are read in one query each, one
        reader per dataset at a time (concurrent requests for the same days read them once)."""
        batch = self.follow(archive)
        found = self._look(name, first, stop, [None] * (stop - first))
        if all(chunk is not None for chunk in found):
            return found
        with self.reading[name]:
            found = self._look(name, first, stop, found)          # read by another request meanwhile?
            k = 0
            while k < len(found):
                if found[k] is not None:
                    k += 1
                    continue
                run = k
                while run < len(found) and found[run] is None:
                    run += 1
                columns = archive.columns(name, (first + k) * DAY_US, (first + run) * DAY_US)
                bounds = np.searchsorted(columns["t_us"], (first + np.arange(k, run + 1)) * DAY_US)
                for j in range(k, run):
                    i0, i1 = bounds[j - k], bounds[j - k + 1]
                    found[j] = {key: v[i0:i1].copy() for key, v in columns.items()}   # own memory, counted
                with self.lock:
                    if self.batch == batch:
                        for j in range(k, run):
                            self._keep((name, first + j), found[j])
                k = run
        return found

    def _look(self, name: str, first: int, stop: int, found: list) -> list:
        """``found`` with its gaps filled from the cache (most recently used now)."""
        with self.lock:
            for j, d in enumerate(range(first, stop)):
                if found[j] is None and (name, d) in self.chunks:
                    self.chunks.move_to_end((name, d))
                    found[j] = self.chunks[(name, d)]
        return found

    def _keep(self, key, chunk):
        size = _nbytes(chunk)
        if size > self.max_bytes:
            return
        self._drop(key)
        self.chunks[key] = chunk
        self.bytes += size
        while self.bytes > self.max_bytes:
            _, old = self.chunks.popitem(last=False)
            self.bytes -= _nbytes(old)

    def extent(self, archive: Archive, name: str) -> tuple[int, int] | None:
        batch = self.follow(archive)
        with self.lock:
            if name in self.extents:
                return self.extents[name]
        extent = archive.extent(name)
        with self.lock:
            if self.batch == batch:
                self.extents[name] = extent
        return extent

    def count(self, archive: Archive, name: str) -> int:
        batch = self.follow(archive)
        with self.lock:
            if name in self.counts:
                return self.counts[name]
        n = archive.count(name, batch)
        with self.lock:
            if self.batch == batch:
                self.counts[name] = n
        return n

    def span(self, archive: Archive, name: str, start_us: int, stop_us: int) -> dict[str, np.ndarray]:
        """Samples with start <= t < stop, joined from the day chunks (for short spans)."""
        if stop_us <= start_us:
            return _empty(name)
        chunks = self.days(archive, name, start_us // DAY_US, (stop_us - 1) // DAY_US + 1)
        joined = {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}
        return _slice(joined, start_us, stop_us)


def _nbytes(columns: dict[str, np.ndarray]) -> int:
    return sum(v.nbytes for v in columns.values())


def _empty(name: str) -> dict[str, np.ndarray]:
    return {"t_us": np.zeros(0, np.int64)} | {f.name: np.zeros(0) for f in packets.dictionary()[name].fields}


def _slice(columns: dict[str, np.ndarray], start_us: int, stop_us: int) -> dict[str, np.ndarray]:
    t = columns["t_us"]
    i, j = np.searchsorted(t, start_us), np.searchsorted(t, stop_us)
    return {k: v[i:j] for k, v in columns.items()}


def _bins(t_us: np.ndarray, x: np.ndarray, start_us: int, stop_us: int, points: int, cadence_s: float):
    """Series thinned for plotting, in ms and values (None breaks the line at a gap): as is if
    short, else min and max per time bin (keeps peaks)."""
    t_ms, values = t_us // 1000, x
    if len(t_us) > points:
        edges = np.linspace(start_us, stop_us, points // 2 + 1)
        k = np.clip(np.searchsorted(edges, t_us, side="right") - 1, 0, points // 2 - 1)
        starts = group_starts(k)
        lo = np.minimum.reduceat(np.where(np.isnan(x), np.inf, x), starts)
        hi = np.maximum.reduceat(np.where(np.isnan(x), -np.inf, x), starts)
        t_ms = np.repeat(((edges[k[starts]] + edges[k[starts] + 1]) / 2000).astype(np.int64), 2)
        values = np.column_stack([lo, hi]).ravel()
        values = np.where(np.isfinite(values), values, np.nan)
    step_ms = max(2.5 * cadence_s * 1000, 2.5 * (stop_us - start_us) / 1000 / (points // 2))
    breaks = np.flatnonzero(np.diff(t_ms) > step_ms) + 1
    t_ms = np.insert(t_ms.astype(float), breaks, np.nan)
    values = np.insert(np.round(values, 4), breaks, np.nan)
    return ([None if np.isnan(v) else int(v) for v in t_ms],
            np.where(np.isnan(values), None, values).tolist())


class HeadAsGet:
    """HEAD on every GET route (RFC 9110 9.3.2): the request goes through as GET and the
    response keeps its status and headers (Content-Length included) but sends no body."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message):
            if message["type"] == "http.response.body":
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            await send(message)

        await self.app(dict(scope, method="GET", **{"l4station.head": True}), receive, headers_only)


class SlotStreamingResponse(StreamingResponse):
    """A streamed response that holds one of the server's stream slots (acquired by the caller)
    and gives it back however the response ends: sent, failed or cut off by the client."""

    def __init__(self, slots: threading.BoundedSemaphore, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.slots = slots

    async def __call__(self, scope, receive, send):
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.slots.release()


def bearer_matches(header: str, token: str) -> bool:
    """Whether an Authorization header carries ``token`` in the Bearer scheme (the scheme name
    in any case, RFC 7235 2.1), comparing in constant time."""
    scheme, _, credentials = header.strip().partition(" ")
    given = credentials.strip(" ").encode() if scheme.lower() == "bearer" else b""
    return hmac.compare_digest(given, token.encode()) and bool(given)


def hours_parameter(name: str, text: str, most: float) -> float | JSONResponse:
    """A query parameter in hours, 0 < hours <= most; else the 400 response that says so."""
    try:
        hours = float(text)
    except ValueError:
        hours = math.nan
    if math.isfinite(hours) and 0 < hours <= most:
        return hours
    return JSONResponse({"error": f"{name} must be a number of hours, more than 0 and at most {most:g}; got {text!r}",
                         "parameter": name, "allowed": {"above": 0, "max": most}}, status_code=400)


class Station:
    """What every route shares: the archive at ``url`` (one connection per thread), the column
    cache in front of it, the slots for streamed responses, and the ingest token."""

    def __init__(self, url: str, *, token: str | None, cache_bytes: int):
        if token is not None and read_only(url):
            raise ArchiveError(f"--token turns on ingest, which writes to the archive, but {url} is read-only "
                               "(mode=ro): drop one of them")
        Archive(url, create=not read_only(url)).close()   # create the schema (and fail early on a bad URL)
        self.url, self.token = url, token
        self.cache = ChunkCache(cache_bytes)
        self.streams = threading.BoundedSemaphore(MAX_STREAMS)   # memory per streamed response times this, at most
        self._local = threading.local()
        self.jobs: list[Job] = []

    def archive(self) -> Archive:
        """This thread's connection to the archive."""
        if getattr(self._local, "archive", None) is None:
            self._local.archive = Archive(self.url, create=False)
        return self._local.archive

    def extent(self, name: str) -> tuple[int, int] | None:
        return self.cache.extent(self.archive(), name)

    def recent(self, name: str, hours: float) -> dict[str, np.ndarray]:
        """The last ``hours`` of a dataset, up to its newest sample."""
        extent = self.extent(name)
        if extent is None:
            return _empty(name)
        stop = extent[1] + 1
        return self.cache.span(self.archive(), name, stop - int(hours * 3.6e9), stop)

    def day_chunks(self, r: hapi.Request):
        """The requested columns, one UTC day at a time (read a week ahead when not cached)."""
        name, fields = r.dataset.name, ["t_us", *r.parameters]
        first, stop = r.start_us // DAY_US, (r.stop_us - 1) // DAY_US + 1
        for ahead in range(first, stop, READ_AHEAD_DAYS):
            for columns in self.cache.days(self.archive(), name, ahead, min(ahead + READ_AHEAD_DAYS, stop)):
                yield _slice({k: columns[k] for k in fields}, r.start_us, r.stop_us)


def station(request: Request) -> Station:
    """The dependency every route takes: the station the application serves."""
    return request.app.state.station


Shared = Annotated[Station, Depends(station)]


def query(request: Request) -> dict[str, str]:
    """The query parameters, each given once (HAPI 1400 otherwise)."""
    keys = [k for k, _ in request.query_params.multi_items()]
    if len(keys) != len(set(keys)):
        raise hapi.HapiError(1400, "each request parameter may be given once")
    return dict(request.query_params)


# ---- HAPI ----------------------------------------------------------------------------------------

hapi_routes = APIRouter()


@hapi_routes.get("/hapi", response_class=HTMLResponse)
@hapi_routes.get("/hapi/", response_class=HTMLResponse, include_in_schema=False)
def landing():
    items = "".join(f"<li><a href='/hapi/info?dataset={n}'>{n}</a>: {p.description}</li>"
                    for n, p in hapi.datasets().items())
    return ("<!doctype html><title>l4station HAPI server</title><h1>l4station HAPI server</h1>"
            f"<p>HAPI {hapi.VERSION}: <a href='/hapi/about'>about</a>, <a href='/hapi/capabilities'>capabilities</a>, "
            f"<a href='/hapi/catalog'>catalog</a>.</p><ul>{items}</ul>")


STARTED_S = time.time()           # metadata that only a new release changes date from the server's start


def _dated(document: dict, modified_s: float) -> JSONResponse:
    """A JSON response with Last-Modified (HAPI 3.3 advises it on metadata, for caching)."""
    return JSONResponse(document, headers={"Last-Modified": formatdate(modified_s, usegmt=True)})


@hapi_routes.get("/hapi/about")
def about():
    return _dated(hapi.status() | {"id": "l4station", "title": "L4 space-weather station (l4station)",
                                   "contact": "l4station operations team",
                                   "description": "Solar-wind plasma, magnetic field, energetic protons and housekeeping "
                                                  "from a station at the Sun-Earth L4 point, and forecasts from them."},
                  STARTED_S)


@hapi_routes.get("/hapi/capabilities")
def capabilities():
    return _dated(hapi.status() | {"outputFormats": list(hapi.FORMATS)}, STARTED_S)


@hapi_routes.get("/hapi/catalog")
def catalog():
    return _dated(hapi.status() | {"catalog": [{"id": n, "title": p.description} for n, p in hapi.datasets().items()]},
                  STARTED_S)


def _forecast_columns(s: Station, name: str) -> dict[str, np.ndarray] | None:
    """A forecast dataset's columns (small: read whole), or None for the station's datasets."""
    if name in packets.dictionary() or name in hapi.DERIVED or name not in hapi.datasets():
        return None
    from l4station.ground import forecaster
    return forecaster.hapi_columns(s.archive(), name)


def _extent(s: Station, name: str, columns: dict[str, np.ndarray] | None) -> tuple[int, int] | None:
    if columns is None:
        source = hapi.source_of(name)
        return s.extent(source) if source in packets.dictionary() else None
    return (int(columns["t_us"][0]), int(columns["t_us"][-1])) if len(columns["t_us"]) else None


@hapi_routes.get("/hapi/info")
def info(request: Request, s: Shared):
    r = hapi.info_request(query(request))
    received = s.archive().query("SELECT MAX(received_us) FROM batches")[0][0]     # the extent moves with data
    return _dated(hapi.info(r.dataset, r.parameters, _extent(s, r.dataset.name, _forecast_columns(s, r.dataset.name))),
                  STARTED_S if received is None else max(received / 1e6, 0.0))


@hapi_routes.get("/hapi/data")
def data(request: Request, s: Shared):
    q = query(request)
    name = q.get("dataset", q.get("id"))
    forecast = _forecast_columns(s, name)
    extent = _extent(s, name, forecast)
    r = hapi.data_request(q, hapi.extent_dates(extent) if extent else None)
    if forecast is None:
        source = hapi.source_of(r.dataset.name)
        code = 1200 if s.archive().has_samples(source, r.start_us, r.stop_us) else 1201
        chunks = s.day_chunks(r) if source == r.dataset.name else hapi.derive(r, s.day_chunks(hapi.source_request(r)))
    else:
        columns = _slice({k: forecast[k] for k in ["t_us", *r.parameters]}, r.start_us, r.stop_us)
        code = 1200 if len(columns["t_us"]) else 1201
        chunks = [columns]
    body = hapi.stream(r, chunks, extent, code)
    media = {"csv": "text/csv", "binary": "application/octet-stream", "json": "application/json"}[r.format]
    headers = {} if r.format == "json" else {"X-HAPI-Status": str(code)}
    if r.stop_us - r.start_us <= WHOLE_RESPONSE_DAYS * DAY_US:    # short: at once, with its length
        return Response(b"".join(body), media_type=media, headers=headers)
    if request.scope.get("l4station.head"):                # the same headers; the rows would be dropped
        # one empty chunk still to come: gzip frames it as the GET's stream (no Content-Length)
        return StreamingResponse(iter((b"",)), media_type=media, headers=headers)
    if not s.streams.acquire(timeout=STREAM_WAIT_S):
        return JSONResponse(hapi.status(1500, f"{MAX_STREAMS} long requests are being answered; retry in a few "
                                              "seconds or ask for a shorter span"),
                            status_code=503, headers={"Retry-After": "5"})
    return SlotStreamingResponse(s.streams, iterate_in_threadpool(body), media_type=media, headers=headers)


@hapi_routes.get("/hapi/{endpoint:path}")
def unknown_endpoint(endpoint: str):
    return JSONResponse(hapi.status(1400, "unknown endpoint; use about, capabilities, catalog, info or data"),
                        status_code=400)


# ---- SWPC-style products -------------------------------------------------------------------------

product_routes = APIRouter()


@product_routes.get("/products/solar-wind/{product}.json")
def swpc(product: str, s: Shared):
    kind, _, span = product.partition("-")
    if kind not in ("plasma", "mag") or span not in SPANS_H:
        return JSONResponse({"error": f"unknown product {product!r}: plasma-SPAN or mag-SPAN, "
                                      f"SPAN one of {', '.join(SPANS_H)}"}, status_code=404)
    successor = "/json/rtsw/rtsw_wind_1m.json" if kind == "plasma" else "/json/rtsw/rtsw_mag_1m.json"
    # NOAA retired this array layout on 2026-04-30 (NWS SCN 26-21); kept one release, marked as RFC 9745 asks
    return JSONResponse(swpc_table(kind, s.recent("plasma" if kind == "plasma" else "mag", SPANS_H[span])),
                        headers={"Deprecation": f"@{ARRAY_PRODUCTS_RETIRED_UNIX_S}",
                                 "Link": f'<{successor}>; rel="successor-version"'})


# ---- dashboard -----------------------------------------------------------------------------------

dashboard_routes = APIRouter()


@dashboard_routes.get("/api/status")
def status_now(s: Shared):
    now = int(time.time() * 1e6)
    out = {"now": hapi.format_time(now), "datasets": {}}
    for name, p in packets.dictionary().items():
        extent = s.extent(name)
        last = extent[1] if extent else None
        out["datasets"][name] = {"samples": s.cache.count(s.archive(), name), "cadence_s": p.cadence_s,
                                 "last": hapi.format_time(last) if last else None,
                                 "age_s": (now - last) / 1e6 if last else None}
    out["jobs"] = {job.name: job.status() for job in s.jobs}
    return out


@dashboard_routes.get("/api/alerts")
def alert_list(s: Shared, hours: str = "168"):
    hours = hours_parameter("hours", hours, MAX_ALERT_HOURS)
    if isinstance(hours, JSONResponse):
        return hours
    # the window ends now, or at the newest sample if the data stop earlier (a replay)
    newest = [e[1] for e in (s.extent(n) for n in packets.dictionary()) if e]
    end = min(int(time.time() * 1e6), max(newest, default=2 ** 62))
    since = end - int(hours * 3.6e9)
    return {"alerts": [a | {"start": hapi.format_time(a["start_us"]),
                            "stop": hapi.format_time(a["stop_us"]) if a["stop_us"] else None}
                       for a in alerts.recent(s.archive(), since)]}


@dashboard_routes.get("/api/panels")
def panels(s: Shared, span: str = "1-day"):
    if span not in SPANS_H:
        return JSONResponse({"error": f"unknown span {span!r}: one of {', '.join(SPANS_H)}"}, status_code=400)
    plasma, mag, particles = (s.recent(name, SPANS_H[span]) for name in ("plasma", "mag", "particles"))
    ends = [int(c["t_us"][-1]) for c in (plasma, mag, particles) if len(c["t_us"])]
    stop = max(ends) + 1 if ends else int(time.time() * 1e6)
    start = stop - int(SPANS_H[span] * 3.6e9)
    cadence = {name: p.cadence_s for name, p in packets.dictionary().items()}
    series = {
        "bt": (mag, np.sqrt(mag["br"] ** 2 + mag["bt"] ** 2 + mag["bn"] ** 2), cadence["mag"]),
        "bn": (mag, mag["bn"], cadence["mag"]),
        "density": (plasma, plasma["density"], cadence["plasma"]),
        "speed": (plasma, np.sqrt(plasma["vr"] ** 2 + plasma["vt"] ** 2 + plasma["vn"] ** 2), cadence["plasma"]),
        "temperature": (plasma, plasma["temperature"], cadence["plasma"]),
        "p10": (particles, particles["p10"], cadence["particles"]),
    }
    out = {"span": span, "start": start // 1000, "stop": stop // 1000, "series": {}, "gaps": []}
    for key, (columns, x, step_s) in series.items():
        tt, xx = _bins(columns["t_us"], x, start, stop, PANEL_POINTS, step_s)
        out["series"][key] = {"t": tt, "v": xx}
    for name in ("plasma", "mag", "particles"):
        out["gaps"] += [{"packet": g.name, "start": g.start_us // 1000, "stop": g.stop_us // 1000,
                         "missing": g.missing} for g in s.archive().gaps(name, start, stop)]
    return out


@dashboard_routes.get("/api/dose")
def crew_dose(s: Shared, hours: str = "24"):
    """The radiation panel: the latest integral proton spectrum, each crew scenario's BFO dose
    rate over the last ``hours`` (µGy-Eq/h, binned as the panels are) and the dose it adds up to (each
    reading covering the time to the next, at most the cadence), against the 30-day limit."""
    from l4station.radiation import dose
    hours = hours_parameter("hours", hours, MAX_ALERT_HOURS)
    if isinstance(hours, JSONResponse):
        return hours
    particles = s.recent("particles", hours)
    t = particles["t_us"]
    flux = dose.station_flux(particles)
    cadence_s = packets.dictionary()["particles"].cadence_s
    step_h = dose.reading_hours(t, cadence_s)
    stop = int(t[-1]) + 1 if len(t) else int(time.time() * 1e6)
    start = stop - int(hours * 3.6e9)
    scenarios = []
    for key, scenario in hapi.DOSE_SCENARIOS.items():
        rate = dose.reading_rates(particles, scenario)          # as the shelter advisory counts it
        total = float(np.sum(rate * step_h))
        tt, vv = _bins(t, 1000 * rate, start, stop, PANEL_POINTS, cadence_s)      # µGy-Eq/h
        scenarios.append({"key": key, "name": scenario.name, "shield_gcm2": scenario.shield_gcm2,
                          "rate_mgy_eq_h": None if not len(t) or not np.isfinite(rate[-1]) else float(rate[-1]),
                          "dose_mgy_eq": total, "fraction_of_30day_limit": total / dose.LIMIT_BFO_30DAY_MGY_EQ,
                          "t": tt, "v": vv})
    latest = None if not len(t) else {"time": hapi.format_time(int(t[-1])),
                                      "energy_mev": list(dose.STATION_CHANNELS_MEV),
                                      "integral_pfu": [None if not np.isfinite(x) else float(x) for x in flux[-1]]}
    return {"hours": hours, "start": start // 1000, "stop": stop // 1000, "spectrum": latest, "series_units": "µGy-Eq/h",
            "limit_mgy_eq": dose.LIMIT_BFO_30DAY_MGY_EQ, "scenarios": scenarios}


@dashboard_routes.get("/api/files")
def file_list(s: Shared):
    """Files delivered whole by CFDP, newest first (name, size, CRC-32, when, from where)."""
    return {"files": [f | {"received": hapi.format_time(f["received_us"])} for f in s.archive().file_list()]}


@dashboard_routes.get("/api/files/{name}")
def file_content(s: Shared, name: str):
    content = s.archive().file_content(name)
    if content is None:
        return JSONResponse({"error": f"no file {name!r}: see /api/files"}, status_code=404)
    # RFC 6266: a plain-ASCII fallback name, and the name itself percent-encoded in UTF-8
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in name)
    return Response(content, media_type="application/octet-stream",
                    headers={"Content-Disposition": f"attachment; filename=\"{fallback}\"; "
                                                    f"filename*=UTF-8''{quote(name, safe='')}"})


@dashboard_routes.get("/", response_class=HTMLResponse)
def dashboard():
    return files("l4station.ground").joinpath("dashboard/index.html").read_text()


@dashboard_routes.get("/dashboard/{name}")
def static(name: str):
    if name == "plotly.min.js":        # the plotting library, from the installed plotly package
        return Response((Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes(),
                        media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})
    if name not in _STATIC:
        return JSONResponse({"error": "not found"}, status_code=404)
    return Response(files("l4station.ground").joinpath(f"dashboard/{name}").read_bytes(), media_type=_STATIC[name])


# ---- operational forecasts: NOAA's current object layouts, forecast series, verification, CMEs ----------

forecast_routes = APIRouter()
RTSW_MAX_HOURS = 168.0
STATION_SOURCE = "L4STATION"      # the station's name in its RTSW-form products


def _rtsw_rows(kind: str, columns: dict[str, np.ndarray]) -> list[dict]:
    """The station's samples in NOAA's RTSW object layout, newest first, one per minute (mag: the
    minute's finite means). RTN components are given as such: at L4 there is no GSM frame."""
    minute, starts = _minutes(columns["t_us"])
    mean = {k: _finite_means(columns[k], starts) for k in columns if k not in ("t_us", "quality")}
    # the minute's worst flag: one bad sample makes it suspect or bad, as NOAA flags a minute
    worst = np.maximum.reduceat(np.nan_to_num(columns["quality"], nan=-1.0), starts) if len(starts) else np.zeros(0)
    mean["quality"] = np.where(worst < 0, np.nan, worst)
    times = [hapi.format_time(int(m) * 60_000_000)[:19] for m in minute[starts]]

    def value(x, places):
        return None if not np.isfinite(x) else round(float(x), places)
    rows = []
    for i, tag in enumerate(times):
        row = {"time_tag": tag, "source": STATION_SOURCE, "active": True}
        quality = mean["quality"][i]
        if kind == "wind":
            row |= {"proton_speed": value(math.sqrt(mean["vr"][i] ** 2 + mean["vt"][i] ** 2 + mean["vn"][i] ** 2), 1),
                    "proton_density": value(mean["density"][i], 2), "proton_temperature": value(mean["temperature"][i], 0),
                    "proton_vr_rtn": value(mean["vr"][i], 1), "proton_vt_rtn": value(mean["vt"][i], 1),
                    "proton_vn_rtn": value(mean["vn"][i], 1)}
        else:
            b = math.sqrt(mean["br"][i] ** 2 + mean["bt"][i] ** 2 + mean["bn"][i] ** 2)
            row |= {"bt": value(b, 2), "br_rtn": value(mean["br"][i], 2), "bt_rtn": value(mean["bt"][i], 2),
                    "bn_rtn": value(mean["bn"][i], 2)}
        row["overall_quality"] = None if not np.isfinite(quality) else int(round(quality))
        rows.append(row)
    return rows[::-1]


@forecast_routes.get("/json/rtsw/{product}.json")
def rtsw(product: str, s: Shared, hours: str = "24"):
    kinds = {"rtsw_wind_1m": ("wind", "plasma"), "rtsw_mag_1m": ("mag", "mag")}
    if product not in kinds:
        return JSONResponse({"error": f"unknown product {product!r}: rtsw_wind_1m or rtsw_mag_1m"}, status_code=404)
    hours = hours_parameter("hours", hours, RTSW_MAX_HOURS)
    if isinstance(hours, JSONResponse):
        return hours
    kind, dataset = kinds[product]
    return _rtsw_rows(kind, s.recent(dataset, hours))


@forecast_routes.get("/json/forecast/{target}.json")
def forecast_series(target: str, s: Shared):
    from l4station.ground import forecaster
    if target not in forecaster.TARGETS:
        return JSONResponse({"error": f"unknown target {target!r}: {', '.join(forecaster.TARGETS)}"}, status_code=404)
    latest = forecaster.latest_run(s.archive())
    if latest is None:
        return []
    run = forecaster.load(s.archive(), latest[0])
    values = run.values[target]
    issue = forecaster.iso(run.issue_us)

    def value(x):
        return None if not np.isfinite(x) else round(float(x), 1)
    return [{"time_tag": forecaster.iso(t)[:19], "v_r": value(v), "v_r_p10": value(lo), "v_r_p50": value(mid),
             "v_r_p90": value(hi), "run_id": run.run_id, "issue_time": issue}
            for t, v, lo, mid, hi in zip(values["t_us"], values["vr"], values["vr_p10"], values["vr_p50"],
                                         values["vr_p90"])]


@forecast_routes.get("/json/alerts.json")
def watch_messages(s: Shared, hours: str = "168"):
    from l4station.ground import watches
    hours = hours_parameter("hours", hours, MAX_ALERT_HOURS)
    if isinstance(hours, JSONResponse):
        return hours
    return watches.recent(s.archive(), hours, int(time.time() * 1e6))


@forecast_routes.get("/api/forecast")
def forecast_latest(s: Shared):
    from l4station.ground import forecaster
    latest = forecaster.latest_run(s.archive())
    return {"run": None} if latest is None else {"run": forecaster.load(s.archive(), latest[0]).to_json()}


@forecast_routes.get("/api/forecast/panel")
def forecast_panel(s: Shared):
    """What the dashboard's forecast panel draws: the latest run at Earth (central, p10, p90),
    hourly speeds observed at L1 and at the station from 3 days before its issue, the latest
    watches and the verification by lead day of the last 30 days' runs."""
    from l4station.ground import forecaster, verification, watches
    latest = forecaster.latest_run(s.archive())
    if latest is None:
        return {"run": None}
    run = forecaster.load(s.archive(), latest[0])
    earth = run.values["earth"]
    observed = {}
    for point in ("L1", "L4"):
        mjd, v = verification.observed_speeds(s.archive(), point, run.issue_us - 3 * DAY_US, int(earth["t_us"][-1]))
        observed[point] = {"t": (forecaster.us_of_mjd(mjd) // 1000).tolist(), "v": np.round(v, 1).tolist()}

    def series(x):
        return [None if not np.isfinite(v) else round(float(v), 1) for v in x]
    # the last 30 days of issues (read every minute by every open dashboard: not the whole archive)
    scores = verification.verify(s.archive(), start_us=run.issue_us - 30 * DAY_US).to_json()
    return {"run": {"run_id": run.run_id, "issue": run.issue_us // 1000, "flags": run.flags,
                    "t": (earth["t_us"] // 1000).tolist(), "vr": series(earth["vr"]), "p10": series(earth["vr_p10"]),
                    "p90": series(earth["vr_p90"])},
            "observed": observed, "watches": watches.recent(s.archive(), 168.0, int(time.time() * 1e6))[:5],
            "verification": scores["by_lead"]}


@forecast_routes.get("/api/verification")
def verification_scores(s: Shared):
    from l4station.ground import verification
    return verification.verify(s.archive()).to_json()


@forecast_routes.post("/api/cme")
async def cme_analysis(request: Request, s: Shared):
    from l4station.errors import InputError
    from l4station.ground import cmes
    refusal = _refuse_writer(request, s)
    if refusal is not None:
        return refusal
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_CME_BYTES:
            return JSONResponse({"error": f"body larger than {MAX_CME_BYTES} bytes: send one analysis"}, status_code=413)
    try:
        analysis = json.loads(body)
    except (ValueError, RecursionError):
        return JSONResponse({"error": "the body is not JSON: send a DONKI-style CME analysis object"}, status_code=400)
    try:
        identifier, new = await run_in_threadpool(lambda: cmes.add(s.archive(), analysis, int(time.time() * 1e6)))
    except InputError as error:
        return JSONResponse({"error": str(error)}, status_code=400)
    return JSONResponse({"id": identifier, "new": new}, status_code=201 if new else 200)


@forecast_routes.get("/api/cme")
def cme_list(s: Shared):
    from l4station.ground import cmes
    rows = cmes.recent(s.archive(), int(time.time() * 1e6))
    return {"cmes": [r | {"time21_5": hapi.format_time(r.pop("time21_5_us"))} for r in rows]}


def _refuse_writer(request: Request, s: Station) -> JSONResponse | None:
    """Why a write request is refused (no token configured, or the wrong one), or None."""
    if not s.token:
        return JSONResponse({"error": "writing is disabled: start the server with --token-file, "
                                      "L4STATION_TOKEN or --token"}, status_code=403)
    if not bearer_matches(request.headers.get("authorization", ""), s.token):
        return JSONResponse({"error": "missing or wrong bearer token"}, status_code=401,
                            headers={"WWW-Authenticate": "Bearer"})
    return None


# ---- the write path ------------------------------------------------------------------------------

ingest_routes = APIRouter()


@ingest_routes.post("/api/ingest")
async def ingest_endpoint(request: Request, s: Shared):
    refusal = _refuse_writer(request, s)
    if refusal is not None:
        return refusal
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_INGEST_BYTES):
        return JSONResponse({"error": f"body larger than {MAX_INGEST_BYTES} bytes: send smaller batches"},
                            status_code=413)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_INGEST_BYTES:
            return JSONResponse({"error": f"body larger than {MAX_INGEST_BYTES} bytes: send smaller batches"},
                                status_code=413)
    summary, _ = await run_in_threadpool(lambda: ingest.ingest_bytes(s.archive(), bytes(body), source="api"))
    return summary


# ---- the application -----------------------------------------------------------------------------

async def _hapi_error(request: Request, error: hapi.HapiError) -> JSONResponse:
    """Any HAPI error raised by a route: its HAPI status JSON and HTTP code."""
    return JSONResponse(hapi.status(error.code, error.detail), status_code=error.http)


async def _http_error(request: Request, error: StarletteHTTPException):
    """405 answers with the methods allowed (HEAD wherever GET is), as HAPI JSON under /hapi."""
    if error.status_code != 405:
        return await http_exception_handler(request, error)
    allowed = [m.strip() for m in (error.headers or {}).get("Allow", "GET").split(",")]
    allow = ", ".join(allowed + (["HEAD"] if "GET" in allowed and "HEAD" not in allowed else []))
    if request.url.path == "/hapi" or request.url.path.startswith("/hapi/"):
        return JSONResponse(hapi.status(1400, f"method {request.method} not allowed; HAPI is read with {allow}"),
                            status_code=405, headers={"Allow": allow})
    return JSONResponse({"error": f"method {request.method} not allowed here; use {allow}"}, status_code=405,
                        headers={"Allow": allow})


async def _cors_and_errors(request: Request, call_next):
    """CORS headers on HAPI (any origin may read it), and a HAPI 1500 instead of a bare 500."""
    try:
        response = await call_next(request)
    except Exception:       # noqa: BLE001 - a HAPI client must get a HAPI status, never a bare 500
        response = JSONResponse(hapi.status(1500), status_code=500)
    if request.url.path.startswith("/hapi"):
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    return response


def _warm(s: Station) -> None:
    """Read what the first requests need (each dataset's extent, the forecaster's modules) at
    start-up, in the background: the first metadata request answers in milliseconds (HAPI
    clients give metadata a second)."""
    hapi.warm()
    for name in packets.dictionary():
        s.extent(name)
    importlib.import_module("l4station.ground.forecaster")      # the forecast routes' modules, loaded now


def create_app(url: str, *, token: str | None = None, cache_bytes: int = 64 * 2 ** 20,
               jobs: list[Job] = ()) -> FastAPI:
    """The server over the archive at ``url``; ``token`` enables the write endpoints (ingest, CME
    analyses); ``jobs`` (feeds, the forecaster) run on their schedules while it serves.

    Reads go through a cache of (dataset, UTC day) column chunks of at most ``cache_bytes``
    (default 64 MiB); HAPI data go out day by day, so memory does not grow with the archive or
    the span requested (about ``cache_bytes`` plus a few days of the densest dataset per
    request in flight)."""
    @asynccontextmanager
    async def lifespan(_):
        tasks = [asyncio.create_task(job.forever()) for job in jobs]
        tasks.append(asyncio.create_task(asyncio.to_thread(_warm, app.state.station)))
        yield
        for task in tasks:
            task.cancel()

    app = FastAPI(title="l4station operations", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.station = Station(url, token=token, cache_bytes=cache_bytes)
    app.state.station.jobs = list(jobs)
    for routes in (hapi_routes, product_routes, dashboard_routes, forecast_routes, ingest_routes):
        app.include_router(routes)
    app.add_exception_handler(hapi.HapiError, _hapi_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    # gzip whenever the client accepts it, small responses too (HAPI 3.3 advises it and the HAPI verifier
    # checks every response; CSV shrinks about 5x), inside the error
    # middleware so that whole responses keep their length; level 5 keeps up with the CSV writer
    app.add_middleware(GZipMiddleware, minimum_size=0, compresslevel=5)
    app.middleware("http")(_cors_and_errors)
    app.add_middleware(HeadAsGet)            # outermost: routing and the middleware above see a GET
    return app


def _minutes(t_us: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The UTC minute of each time-sorted sample, and where each minute's samples begin."""
    minute = t_us // 60_000_000
    return minute, group_starts(minute)


def _finite_means(x: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Means of the finite samples of x in each segment beginning at ``starts``; NaN where none."""
    if len(x) == 0:
        return np.zeros(0)
    finite = np.isfinite(x)
    sums, counts = np.add.reduceat(np.where(finite, x, 0.0), starts), np.add.reduceat(finite, starts)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / counts, np.nan)


def swpc_table(kind: str, columns: dict[str, np.ndarray]) -> list[list]:
    """NOAA SWPC real-time solar wind JSON: a header row, then rows of strings (null if missing).
    Plasma: time_tag, density (cm^-3), speed (km/s), temperature (K), one row per sample. Mag:
    time_tag, bx_gsm, by_gsm, bz_gsm (nT), lon_gsm, lat_gsm (deg), bt (nT), 1-minute means. The
    station's RTN axes are mapped as at L1 (x = -R, y = -T, z = N); no GSM rotation is applied,
    since the field at L4 has not yet met Earth's dipole."""
    t = columns["t_us"]

    def text(x, places):
        rounded = np.round(x, places) + 0.0          # no "-0.00"
        return [None if np.isnan(v) else f"{v:.{places}f}" for v in rounded]

    if kind == "plasma":
        speed = np.sqrt(columns["vr"] ** 2 + columns["vt"] ** 2 + columns["vn"] ** 2)
        rows = [["time_tag", "density", "speed", "temperature"]]
        times = [hapi.format_time(v).replace("T", " ")[:-1] for v in t]
        return rows + [list(r) for r in zip(times, text(columns["density"], 2), text(speed, 1), text(columns["temperature"], 0))]
    minute, starts = _minutes(t)
    mean = {k: _finite_means(columns[k], starts) for k in ("br", "bt", "bn")}
    bx, by, bz = -mean["br"], -mean["bt"], mean["bn"]
    bt = np.sqrt(bx ** 2 + by ** 2 + bz ** 2)
    lon = np.degrees(np.arctan2(by, bx)) % 360
    with np.errstate(invalid="ignore"):
        lat = np.where(bt > 0, np.degrees(np.arcsin(bz / np.where(bt > 0, bt, 1.0))), np.where(np.isnan(bt), np.nan, 0.0))
    times = [hapi.format_time(int(m) * 60_000_000).replace("T", " ")[:-1] for m in minute[starts]]
    rows = [["time_tag", "bx_gsm", "by_gsm", "bz_gsm", "lon_gsm", "lat_gsm", "bt"]]
    return rows + [list(r) for r in zip(times, text(bx, 2), text(by, 2), text(bz, 2), text(lon, 2), text(lat, 2), text(bt, 2))]

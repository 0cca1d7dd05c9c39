"""The operations server: HAPI 3.3, NOAA SWPC-style solar-wind products, alerts, the live
dashboard, and the one write path, an authenticated ingest endpoint.

Everything is read-only except ``POST /api/ingest`` (bearer token; the endpoint is off without
one), whose body is capped in size. Dataset names are checked against the telemetry dictionary
and static files come from a fixed table, so no request parameter reaches the filesystem.

Reads go through an in-memory column cache per dataset that follows the archive batch by batch
(batches commit in the order of their numbers, see :mod:`l4station.ground.store`), so a request
slices arrays instead of querying the database row by row.
"""
from __future__ import annotations

import hmac
import threading
import time
from importlib.resources import files

from pathlib import Path

import numpy as np
import plotly
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from l4station.ground import alerts, hapi, ingest, packets
from l4station.ground.store import Archive, ArchiveError, read_only

MAX_INGEST_BYTES = 16 * 1024 * 1024
SPANS_H = {"2-hour": 2, "6-hour": 6, "1-day": 24, "3-day": 72, "7-day": 168}
PANEL_POINTS = 1500          # points per dashboard series (bins of min/max beyond that)
_STATIC = {"app.js": "text/javascript", "style.css": "text/css"}


class ColumnCache:
    """Per-dataset arrays that follow the archive: each read first pulls the batches committed
    since the last one."""

    def __init__(self):
        self.lock = threading.Lock()
        self.data: dict[str, dict[str, np.ndarray]] = {}
        self.batch: dict[str, int] = {}

    def get(self, archive: Archive, name: str) -> dict[str, np.ndarray]:
        latest = archive.latest_batch()
        with self.lock:
            have = self.batch.get(name, 0)
            if latest > have or name not in self.data:
                new = archive.columns_of_batches(name, have, latest)
                old = self.data.get(name)
                if old is not None and len(old["t_us"]):
                    merged = {k: np.concatenate([old[k], new[k]]) for k in old}
                    if len(new["t_us"]) and new["t_us"][0] < old["t_us"][-1]:     # late packets
                        order = np.argsort(merged["t_us"], kind="stable")
                        merged = {k: v[order] for k, v in merged.items()}
                    new = merged
                self.data[name], self.batch[name] = new, latest
            return self.data[name]


def _slice(columns: dict[str, np.ndarray], start_us: int, stop_us: int) -> dict[str, np.ndarray]:
    t = columns["t_us"]
    i, j = np.searchsorted(t, start_us), np.searchsorted(t, stop_us)
    return {k: v[i:j] for k, v in columns.items()}


def _extent(columns) -> tuple[int, int] | None:
    return (int(columns["t_us"][0]), int(columns["t_us"][-1])) if len(columns["t_us"]) else None


def _bins(t_us: np.ndarray, x: np.ndarray, start_us: int, stop_us: int, points: int, cadence_s: float):
    """Series thinned for plotting, in ms and values (None breaks the line at a gap): as is if
    short, else min and max per time bin (keeps peaks)."""
    t_ms, values = t_us // 1000, x
    if len(t_us) > points:
        edges = np.linspace(start_us, stop_us, points // 2 + 1)
        k = np.clip(np.searchsorted(edges, t_us, side="right") - 1, 0, points // 2 - 1)
        starts = np.flatnonzero(np.diff(np.concatenate([[-1], k])))
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


def create_app(url: str, *, token: str | None = None) -> FastAPI:
    """The server over the archive at ``url``; ``token`` enables the ingest endpoint."""
    app = FastAPI(title="l4station operations", docs_url=None, redoc_url=None, openapi_url=None)
    local = threading.local()
    cache = ColumnCache()
    if token is not None and read_only(url):
        raise ArchiveError(f"--token turns on ingest, which writes to the archive, but {url} is read-only "
                           "(mode=ro): drop one of them")
    Archive(url, create=not read_only(url)).close()   # create the schema (and fail early on a bad URL)

    def archive() -> Archive:
        if getattr(local, "archive", None) is None:
            local.archive = Archive(url, create=False)
        return local.archive

    def hapi_error(error: hapi.HapiError) -> JSONResponse:
        return JSONResponse(hapi.status(error.code, error.detail), status_code=error.http)

    @app.middleware("http")
    async def cors_and_errors(request: Request, call_next):
        try:
            response = await call_next(request)
        except Exception:       # noqa: BLE001 - a HAPI client must get a HAPI status, never a bare 500
            response = JSONResponse(hapi.status(1500), status_code=500)
        if request.url.path.startswith("/hapi"):
            response.headers["Access-Control-Allow-Origin"] = "*"
            response.headers["Access-Control-Allow-Methods"] = "GET"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        return response

    def query(request: Request) -> dict[str, str]:
        keys = [k for k, _ in request.query_params.multi_items()]
        if len(keys) != len(set(keys)):
            raise hapi.HapiError(1400, "each request parameter may be given once")
        return dict(request.query_params)

    # ---- HAPI ----------------------------------------------------------------------------------

    @app.get("/hapi", response_class=HTMLResponse)
    def landing():
        items = "".join(f"<li><a href='/hapi/info?dataset={n}'>{n}</a>: {p.description}</li>"
                        for n, p in packets.dictionary().items())
        return ("<!doctype html><title>l4station HAPI server</title><h1>l4station HAPI server</h1>"
                f"<p>HAPI {hapi.VERSION}: <a href='/hapi/about'>about</a>, <a href='/hapi/capabilities'>capabilities</a>, "
                f"<a href='/hapi/catalog'>catalog</a>.</p><ul>{items}</ul>")

    @app.get("/hapi/about")
    def about():
        return hapi.status() | {"id": "l4station", "title": "L4 space-weather station (l4station)",
                                "contact": "l4station operations team",
                                "description": "Solar-wind plasma, magnetic field, energetic protons and housekeeping "
                                               "from a station at the Sun-Earth L4 point."}

    @app.get("/hapi/capabilities")
    def capabilities():
        return hapi.status() | {"outputFormats": list(hapi.FORMATS)}

    @app.get("/hapi/catalog")
    def catalog():
        return hapi.status() | {"catalog": [{"id": n, "title": p.description} for n, p in packets.dictionary().items()]}

    @app.get("/hapi/info")
    def info(request: Request):
        try:
            r = hapi.info_request(query(request))
        except hapi.HapiError as error:
            return hapi_error(error)
        extent = _extent(cache.get(archive(), r.dataset.name))
        return hapi.info(r.dataset, r.parameters, extent)

    @app.get("/hapi/data")
    def data(request: Request):
        try:
            q = query(request)
            name = q.get("dataset", q.get("id"))
            extent = _extent(cache.get(archive(), name)) if name in packets.dictionary() else None
            r = hapi.data_request(q, hapi.extent_dates(extent) if extent else None)
        except hapi.HapiError as error:
            return hapi_error(error)
        columns = _slice(cache.get(archive(), r.dataset.name), r.start_us, r.stop_us)
        code = 1200 if len(columns["t_us"]) else 1201
        if r.format == "json":
            return Response(hapi.json_document(r, columns, extent, code), media_type="application/json")
        body = hapi.csv_rows(r, columns) if r.format == "csv" else hapi.binary_rows(r, columns)
        head = hapi.header_lines(r, extent, code) if r.header else b""
        return Response(head + body, media_type="text/csv" if r.format == "csv" else "application/octet-stream",
                        headers={"X-HAPI-Status": str(code)})

    @app.get("/hapi/{endpoint:path}")
    def unknown_endpoint(endpoint: str):
        return JSONResponse(hapi.status(1400, "unknown endpoint; use about, capabilities, catalog, info or data"),
                            status_code=400)

    # ---- SWPC-style products -------------------------------------------------------------------

    def recent(name: str, hours: float) -> dict[str, np.ndarray]:
        columns = cache.get(archive(), name)
        if not len(columns["t_us"]):
            return columns
        stop = int(columns["t_us"][-1]) + 1
        return _slice(columns, stop - int(hours * 3.6e9), stop)

    @app.get("/products/solar-wind/{product}.json")
    def swpc(product: str):
        kind, _, span = product.partition("-")
        if kind not in ("plasma", "mag") or span not in SPANS_H:
            return JSONResponse({"error": f"unknown product {product!r}: plasma-SPAN or mag-SPAN, "
                                          f"SPAN one of {', '.join(SPANS_H)}"}, status_code=404)
        return swpc_table(kind, recent("plasma" if kind == "plasma" else "mag", SPANS_H[span]))

    # ---- dashboard -----------------------------------------------------------------------------

    @app.get("/api/status")
    def status_now():
        now = int(time.time() * 1e6)
        out = {"now": hapi.format_time(now), "datasets": {}}
        for name, p in packets.dictionary().items():
            columns = cache.get(archive(), name)
            last = int(columns["t_us"][-1]) if len(columns["t_us"]) else None
            out["datasets"][name] = {"samples": len(columns["t_us"]), "cadence_s": p.cadence_s,
                                     "last": hapi.format_time(last) if last else None,
                                     "age_s": (now - last) / 1e6 if last else None}
        return out

    @app.get("/api/alerts")
    def alert_list(hours: float = 168.0):
        # the window ends now, or at the newest sample if the data stop earlier (a replay)
        newest = [cache.get(archive(), n)["t_us"] for n in packets.dictionary()]
        end = min(int(time.time() * 1e6), max((int(t[-1]) for t in newest if len(t)), default=2 ** 62))
        since = end - int(hours * 3.6e9)
        return {"alerts": [a | {"start": hapi.format_time(a["start_us"]),
                                "stop": hapi.format_time(a["stop_us"]) if a["stop_us"] else None}
                           for a in alerts.recent(archive(), since)]}

    @app.get("/api/panels")
    def panels(span: str = "1-day"):
        if span not in SPANS_H:
            return JSONResponse({"error": f"unknown span {span!r}: one of {', '.join(SPANS_H)}"}, status_code=400)
        plasma, mag, particles = recent("plasma", SPANS_H[span]), recent("mag", SPANS_H[span]), recent("particles", SPANS_H[span])
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
                             "missing": g.missing} for g in archive().gaps(name, start, stop)]
        return out

    @app.get("/", response_class=HTMLResponse)
    def dashboard():
        return files("l4station.ground").joinpath("dashboard/index.html").read_text()

    @app.get("/dashboard/{name}")
    def static(name: str):
        if name == "plotly.min.js":        # the plotting library, from the installed plotly package
            return Response((Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes(),
                            media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})
        if name not in _STATIC:
            return JSONResponse({"error": "not found"}, status_code=404)
        return Response(files("l4station.ground").joinpath(f"dashboard/{name}").read_bytes(), media_type=_STATIC[name])

    # ---- the write path ------------------------------------------------------------------------

    @app.post("/api/ingest")
    async def ingest_endpoint(request: Request):
        if not token:
            return JSONResponse({"error": "ingest is disabled: start the server with --token"}, status_code=403)
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return JSONResponse({"error": "missing or wrong bearer token"}, status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})
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
        summary, _ = await run_in_threadpool(lambda: ingest.ingest_bytes(archive(), bytes(body), source="api"))
        return summary

    return app


def swpc_table(kind: str, columns: dict[str, np.ndarray]) -> list[list]:
    """NOAA SWPC real-time solar wind JSON: a header row, then rows of strings (null if missing).
    Plasma: time_tag, density (cm^-3), speed (km/s), temperature (K), one row per sample. Mag:
    time_tag, bx_gsm, by_gsm, bz_gsm (nT), lon_gsm, lat_gsm (deg), bt (nT), 1-minute means. The
    station's RTN axes are mapped as at L1 (x = -R, y = -T, z = N); no GSM rotation is applied,
    since the field at L4 has not yet met Earth's dipole."""
    t = columns["t_us"]

    def text(x, places):
        return [None if np.isnan(v) else f"{v:.{places}f}" for v in x]

    if kind == "plasma":
        speed = np.sqrt(columns["vr"] ** 2 + columns["vt"] ** 2 + columns["vn"] ** 2)
        rows = [["time_tag", "density", "speed", "temperature"]]
        times = [hapi.format_time(v).replace("T", " ")[:-1] for v in t]
        return rows + [list(r) for r in zip(times, text(columns["density"], 2), text(speed, 1), text(columns["temperature"], 0))]
    minute = t // 60_000_000
    starts = np.flatnonzero(np.diff(np.concatenate([[-1], minute]))) if len(t) else np.zeros(0, int)
    counts = np.diff(np.concatenate([starts, [len(t)]]))
    mean = {k: np.add.reduceat(np.nan_to_num(columns[k]), starts) / counts if len(t) else np.zeros(0)
            for k in ("br", "bt", "bn")}
    bx, by, bz = -mean["br"], -mean["bt"], mean["bn"]
    bt = np.sqrt(bx ** 2 + by ** 2 + bz ** 2)
    lon = np.degrees(np.arctan2(by, bx)) % 360
    lat = np.degrees(np.arcsin(np.divide(bz, bt, out=np.zeros_like(bt), where=bt > 0)))
    times = [hapi.format_time(int(m) * 60_000_000).replace("T", " ")[:-1] for m in minute[starts]]
    rows = [["time_tag", "bx_gsm", "by_gsm", "bz_gsm", "lon_gsm", "lat_gsm", "bt"]]
    return rows + [list(r) for r in zip(times, text(bx, 2), text(by, 2), text(bz, 2), text(lon, 2), text(lat, 2), text(bt, 2))]

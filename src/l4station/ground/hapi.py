"""The Heliophysics API (HAPI 3.3): request checking, metadata and the three data formats.

Protocol only (no web framework): :mod:`l4station.ground.server` routes requests here. Each
packet type is one dataset; its parameters are the dictionary's fields, all doubles with fill
-1.0E31. Times in and out follow the spec's section 3.7.6: incoming year-month-day or
day-of-year, truncated to any precision, ``Z`` optional; outgoing ``yyyy-mm-ddThh:mm:ss.sssZ``.
CSV and binary rows are formatted by compiled loops (numba) straight into bytes.

Reference: HAPI Data Access Specification 3.3.0 (Weigel et al. 2021, doi:10.1029/2021JA029534;
zenodo 16618741), sections 3 (endpoints) and 4.2 (status codes).

Times as the specification's section 3.7.6 allows them (day of year, truncated, ``Z``), and
as every response writes them:

>>> t_us = parse_time("2026-324T12:00Z", 1402)
>>> t_us, format_time(t_us)
(1795176000000000, '2026-11-20T12:00:00.000Z')
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache

import numba
import numpy as np

from l4station.constants import DAY_US
from l4station.ground import packets
from l4station.radiation import dose

DOSE_SCENARIOS = dict(zip(("suit_bfo", "cabin_bfo", "shelter_bfo", "habitat_bfo"), dose.SCENARIOS))
"""The dose dataset's parameters and the crew scenario of each."""

VERSION = "3.3"
FILL = -1.0e31
FILL_TEXT = "-1.0E31"
TIME_LENGTH = 24
# ASCII codes the compiled text writers put into their byte buffers
DIGIT_0, MINUS, DOT, COLON, COMMA, LETTER_E, LETTER_T, LETTER_Z, NEWLINE = b"0-.:,eTZ\n"
MAX_REQUEST_DAYS = 366           # 1408 beyond this (a year of the finest data, ~3 million records)
FORMATS = ("csv", "binary", "json")
STATUS = {
    1200: (200, "OK"),
    1201: (200, "OK - no data for time range"),
    1400: (400, "Bad request - user input error"),
    1401: (400, "Bad request - unknown API parameter name"),
    1402: (400, "Bad request - syntax error in start time"),
    1403: (400, "Bad request - syntax error in stop time"),
    1404: (400, "Bad request - start equal to or after stop"),
    1405: (400, "Bad request - start < startDate and/or stop > stopDate"),
    1406: (404, "Bad request - unknown dataset id"),
    1407: (404, "Bad request - unknown dataset parameter"),
    1408: (400, "Bad request - too much time or data requested"),
    1409: (400, "Bad request - unsupported output format"),
    1410: (400, "Bad request - unsupported include value"),
    1411: (400, "Bad request - out-of-order or duplicate parameters"),
    1412: (400, "Bad request - unsupported resolve_references value"),
    1500: (500, "Internal server error"),
}
INFO_KEYS = {"dataset", "id", "parameters", "resolve_references"}
DATA_KEYS = {"dataset", "id", "start", "stop", "time.min", "time.max", "parameters", "format", "include"}
_TIME = re.compile(r"^(\d{4})(?:-(\d{2})-(\d{2})|-(\d{3}))?(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?)?Z?$")


class HapiError(Exception):
    """A request the server refuses, with its HAPI status code."""

    def __init__(self, code: int, detail: str = ""):
        self.code = code
        self.detail = detail
        self.http = STATUS[code][0]
        super().__init__(STATUS[code][1] + (f": {detail}" if detail else ""))


def status(code: int = 1200, detail: str = "") -> dict:
    """The status object: the spec's message for ``code``, errors led by "HAPI error NNNN" (as the
    HAPI verifier asks), then ``detail``."""
    text = STATUS[code][1] if code < 1400 else f"HAPI error {code}: {STATUS[code][1]}"
    return {"HAPI": VERSION, "status": {"code": code, "message": text + (f": {detail}" if detail else "")}}


def parse_time(text: str, code: int) -> int:
    """HAPI time string to UTC Unix microseconds; HapiError(code) if it is not one."""
    m = _TIME.match(text or "")
    if not m:
        raise HapiError(code, f"{text!r} is not yyyy-mm-ddThh:mm:ss.sssZ or yyyy-dddThh:mm:ss.sssZ")
    year, month, day, doy, hour, minute, second, fraction = m.groups()
    try:
        if doy is not None:
            days_in_year = int((np.datetime64(f"{int(year) + 1}-01-01") - np.datetime64(f"{year}-01-01")).astype(int))
            if not 1 <= int(doy) <= days_in_year:
                raise ValueError
            date = np.datetime64(f"{year}-01-01") + np.timedelta64(int(doy) - 1, "D")
        else:
            date = np.datetime64(f"{year}-{month or '01'}-{day or '01'}")
        h, mi, s = int(hour or 0), int(minute or 0), int(second or 0)
        if h > 23 or mi > 59 or s > 60:
            raise ValueError
    except ValueError:
        raise HapiError(code, f"{text!r} is not a valid date and time") from None
    days = int((date - np.datetime64("1970-01-01")).astype("timedelta64[D]").astype(np.int64))
    micro = int((fraction or "0").ljust(6, "0")[:6])
    return ((days * 24 + h) * 60 + mi) * 60_000_000 + s * 1_000_000 + micro


def format_time(t_us: int) -> str:
    return bytes(_time_text(np.array([t_us], dtype=np.int64))[0]).decode()


@dataclass(frozen=True)
class Request:
    dataset: packets.PacketType
    parameters: list[str]        # requested fields, in dictionary order
    start_us: int = 0
    stop_us: int = 0
    format: str = "csv"
    header: bool = False


TIME_DECIMALS = -2                # a column of times (Unix us as float64, exact to 2**53 us): written as isotime


def _forecast_field(name: str, description: str) -> packets.Field:
    if name == "issue_time":
        return packets.Field(name, "int", 64, "time", (0.0, 1.0), "UTC", description)
    return packets.Field(name, "int", 16, "linear", (0.0, 0.1), "km/s", description)


FORECAST_TARGETS = {"earth": "Earth", "moon": "the Moon", "mars": "Mars"}


@cache
def datasets() -> dict[str, packets.PacketType]:
    """Every HAPI dataset: the station's packet types, the latest forecast at each target
    (``forecast_earth``, ...: hourly, valid-time ordered), ``forecast_runs`` (every run's
    daily mean Earth speed per lead day, by issue time, for verification) and ``dose_rates``
    (each crew scenario's BFO dose-equivalent rate, computed from the proton channels as read)."""
    out = dict(packets.dictionary())
    for target, title in FORECAST_TARGETS.items():
        out[f"forecast_{target}"] = packets.PacketType(
            f"forecast_{target}", 0, 3600.0, f"Solar-wind forecast at {title}, latest", (
                _forecast_field("vr", "radial speed, ensemble central member"),
                _forecast_field("vr_p10", "radial speed, 10th percentile (calibrated band)"),
                _forecast_field("vr_p50", "radial speed, ensemble median"),
                _forecast_field("vr_p90", "radial speed, 90th percentile (calibrated band)"),
                _forecast_field("issue_time", "issue time of the run")))
    out["forecast_runs"] = packets.PacketType(
        "forecast_runs", 0, 3600.0, "Every forecast run at Earth, daily means", tuple(
            _forecast_field(f"vr_lead{k}", f"mean radial speed at Earth over lead day {k}") for k in range(1, 8)))
    out["dose_rates"] = packets.PacketType(
        "dose_rates", 0, packets.dictionary()["particles"].cadence_s,
        "Crew BFO dose rate by scenario",
        tuple(packets.Field(key, "uint", 16, "log10", (-4.0, 2.0e-4), "mGy-Eq/h",
                            f"BFO dose-equivalent rate: {s.name}, {s.shield_gcm2:g} g/cm2 aluminium")
              for key, s in DOSE_SCENARIOS.items()))
    return out


@dataclass(frozen=True)
class Derived:
    """A dataset computed from a packet type's columns as they are read."""

    source: str
    inputs: tuple[str, ...]
    compute: Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]


def _dose_rates(columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each reading's rates as measured: a reading flagged bad is fill (the running dose holds
    the last good rate over it, :func:`~l4station.radiation.dose.reading_rates`)."""
    flux = dose.station_flux(columns)
    bad = np.asarray(columns["quality"], dtype=float) >= dose.QUALITY_BAD
    return {"t_us": columns["t_us"], **{key: np.where(bad, np.nan, dose.dose_rate(dose.STATION_CHANNELS_MEV, flux, s))
                                        for key, s in DOSE_SCENARIOS.items()}}


DERIVED = {"dose_rates": Derived("particles", (*dose.STATION_CHANNELS, "quality"), _dose_rates)}


def source_of(name: str) -> str:
    """The packet type a dataset's rows come from (itself for the station's own)."""
    return DERIVED[name].source if name in DERIVED else name


def source_request(request: Request) -> Request:
    """The request for the columns a derived dataset is computed from."""
    derived = DERIVED[request.dataset.name]
    return replace(request, dataset=packets.dictionary()[derived.source], parameters=list(derived.inputs))


def derive(request: Request, chunks):
    """A derived dataset's requested columns from its source's chunks."""
    compute = DERIVED[request.dataset.name].compute
    for columns in chunks:
        out = compute(columns)
        yield {k: out[k] for k in ("t_us", *request.parameters)}


def _one(query: dict[str, str], new: str, old: str) -> str | None:
    if new in query and old in query:
        raise HapiError(1400, f"give {new} or the deprecated {old}, not both")
    return query.get(new, query.get(old))


def _dataset_and_parameters(query: dict[str, str], allowed: set[str]) -> tuple[packets.PacketType, list[str]]:
    unknown = sorted(set(query) - allowed)
    if unknown:
        raise HapiError(1401, ", ".join(unknown))
    name = _one(query, "dataset", "id")
    if not name:
        raise HapiError(1400, "the dataset request parameter is required")
    dataset = datasets().get(name)
    if dataset is None:
        raise HapiError(1406, f"{name!r}; the catalog lists {', '.join(datasets())}")
    names = [f.name for f in dataset.fields]
    wanted = [p for p in (query.get("parameters") or "").split(",") if p]
    bad = [p for p in wanted if p not in names and p != "Time"]
    if bad:
        raise HapiError(1407, ", ".join(bad))
    order = [(["Time"] + names).index(p) for p in wanted]
    if order != sorted(set(order)):
        raise HapiError(1411, "parameters must be listed once each, in the order of the info response")
    return dataset, [p for p in wanted if p != "Time"] if wanted else names


def info_request(query: dict[str, str]) -> Request:
    dataset, parameters = _dataset_and_parameters(query, INFO_KEYS)
    if query.get("resolve_references", "true") not in ("true", "false"):
        raise HapiError(1412)
    return Request(dataset, parameters)


def data_request(query: dict[str, str], extent: tuple[int, int] | None) -> Request:
    """Check a /data request against the spec and the dataset's extent (startDate, stopDate)."""
    dataset, parameters = _dataset_and_parameters(query, DATA_KEYS)
    start_text, stop_text = _one(query, "start", "time.min"), _one(query, "stop", "time.max")
    if start_text is None:
        raise HapiError(1402, "start is required")
    if stop_text is None:
        raise HapiError(1403, "stop is required")
    start, stop = parse_time(start_text, 1402), parse_time(stop_text, 1403)
    if start >= stop:
        raise HapiError(1404)
    if extent is not None and (start < extent[0] or stop > extent[1]):
        raise HapiError(1405, f"this dataset runs from {format_time(extent[0])} to {format_time(extent[1])}")
    if stop - start > MAX_REQUEST_DAYS * DAY_US:
        raise HapiError(1408, f"ask for at most {MAX_REQUEST_DAYS} days at a time")
    fmt = query.get("format") or "csv"
    if fmt not in FORMATS:
        raise HapiError(1409, f"{fmt!r}; use csv, binary or json")
    include = query.get("include")
    if include not in (None, "", "header"):
        raise HapiError(1410, f"{include!r}; the only value is header")
    return Request(dataset, parameters, start, stop, fmt, include == "header")


def extent_dates(extent: tuple[int, int]) -> tuple[int, int]:
    """startDate and stopDate for a dataset holding samples from first to last: the start of the
    first sample's day, and the end of the day after the last (the spec's advice for a dataset
    that grows: a stopDate in the future)."""
    day = DAY_US
    return extent[0] // day * day, (extent[1] // day + 2) * day


def info(dataset: packets.PacketType, parameters: list[str], extent: tuple[int, int] | None) -> dict:
    """The info response for a dataset (a subset of parameters if asked)."""
    fields = [dataset.field(name) for name in parameters]
    start, stop = extent_dates(extent) if extent else (0, DAY_US)
    # where a client (the HAPI verifier's default request among them) finds data: the last day held
    sample = {} if not extent else {
        "sampleStartDate": format_time(max(extent[0], extent[1] - DAY_US)),
        "sampleStopDate": format_time(extent[1] + int(dataset.cadence_s * 1e6))}
    return status() | sample | {
        "startDate": format_time(start), "stopDate": format_time(stop),
        "cadence": f"PT{dataset.cadence_s:g}S",
        "maxRequestDuration": f"P{MAX_REQUEST_DAYS}D",
        "description": dataset.description,
        "parameters": [{"name": "Time", "type": "isotime", "units": "UTC", "fill": None, "length": TIME_LENGTH}]
        + [{"name": f.name, "type": "isotime", "units": "UTC", "fill": None, "length": TIME_LENGTH,
            "description": f.description} if f.calibration == "time" else
           {"name": f.name, "type": "double", "units": f.units or None, "fill": FILL_TEXT,
            "description": f.description} for f in fields],
    }


# ---- formatting ----------------------------------------------------------------------------

@numba.njit(cache=True)
def _civil(days):
    """(year, month, day) of days since 1970-01-01 (Hinnant's civil_from_days)."""
    z = days + 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (1 if m <= 2 else 0), m, d


@numba.njit(cache=True)
def _put(out, pos, value, width):
    for k in range(width - 1, -1, -1):
        out[pos + k] = DIGIT_0 + value % 10
        value //= 10


@numba.njit(cache=True)
def _write_time(out, pos, t_us):
    ms = (t_us + 500) // 1000
    days = ms // 86_400_000
    rest = ms - days * 86_400_000
    y, mo, d = _civil(days)
    _put(out, pos, y, 4)
    out[pos + 4] = MINUS
    _put(out, pos + 5, mo, 2)
    out[pos + 7] = MINUS
    _put(out, pos + 8, d, 2)
    out[pos + 10] = LETTER_T
    _put(out, pos + 11, rest // 3_600_000, 2)
    out[pos + 13] = COLON
    _put(out, pos + 14, rest // 60_000 % 60, 2)
    out[pos + 16] = COLON
    _put(out, pos + 17, rest // 1000 % 60, 2)
    out[pos + 19] = DOT
    _put(out, pos + 20, rest % 1000, 3)
    out[pos + 23] = LETTER_Z
    return pos + 24


@numba.njit(cache=True)
def _time_text(t_us):
    out = np.empty((len(t_us), TIME_LENGTH), dtype=np.uint8)
    flat = out.reshape(-1)
    for i in range(len(t_us)):
        _write_time(flat, i * TIME_LENGTH, t_us[i])
    return out


@numba.njit(cache=True)
def _write_digits(out, pos, value):
    """Decimal digits of a non-negative integer; returns the new position."""
    n = 1
    v = value
    while v >= 10:
        v //= 10
        n += 1
    _put(out, pos, value, n)
    return pos + n


@numba.njit(cache=True)
def _write_number(out, pos, x, decimals, fill):
    """x with ``decimals`` places, or in scientific notation with 4 significant digits when
    decimals < 0; NaN as the fill text."""
    if x != x:
        for k in range(len(fill)):
            out[pos + k] = fill[k]
        return pos + len(fill)
    if x < 0:
        out[pos] = MINUS
        pos += 1
        x = -x
    if decimals >= 0:
        scale = 10 ** decimals
        q = np.int64(x * scale + 0.5)
        pos = _write_digits(out, pos, q // scale)
        if decimals > 0:
            out[pos] = DOT
            _put(out, pos + 1, q % scale, decimals)
            pos += 1 + decimals
        return pos
    exponent = 0
    if x > 0:
        exponent = np.int64(np.floor(np.log10(x)))
    mantissa = np.int64(x / 10.0 ** exponent * 1000 + 0.5)
    if mantissa >= 10000:
        mantissa //= 10
        exponent += 1
    out[pos] = DIGIT_0 + mantissa // 1000
    out[pos + 1] = DOT
    _put(out, pos + 2, mantissa % 1000, 3)
    out[pos + 5] = LETTER_E
    pos += 6
    if exponent < 0:
        out[pos] = MINUS
        pos += 1
        exponent = -exponent
    return _write_digits(out, pos, exponent)


@numba.njit(cache=True)
def _csv(t_us, values, decimals, fill):
    n, m = values.shape
    out = np.empty(n * (TIME_LENGTH + 1 + m * (1 + TIME_LENGTH + 1)), dtype=np.uint8)   # a comma and a time or number
    pos = 0
    for i in range(n):
        pos = _write_time(out, pos, t_us[i])
        for j in range(m):
            out[pos] = COMMA
            if decimals[j] == TIME_DECIMALS:
                pos = _write_time(out, pos + 1, np.int64(values[i, j]))
            else:
                pos = _write_number(out, pos + 1, values[i, j], decimals[j], fill)
        out[pos] = NEWLINE
        pos += 1
    return out[:pos]


def decimals_of(field: packets.Field) -> int:
    """Places that show a linear field's resolution; -1 (scientific) for log-scaled fields;
    TIME_DECIMALS for a column of times."""
    if field.calibration == "time":
        return TIME_DECIMALS
    return int(max(0, np.ceil(-np.log10(field.coeffs[1])))) if field.calibration == "linear" else -1


def warm() -> None:
    """Load the compiled writers (from numba's cache: ~0.6 s on their first call)."""
    t_us = np.zeros(1, dtype=np.int64)
    _time_text(t_us)
    _csv(t_us, np.zeros((1, 2)), np.array([1, TIME_DECIMALS], dtype=np.int64),
         np.frombuffer(FILL_TEXT.encode(), dtype=np.uint8))


def csv_rows(request: Request, columns: dict[str, np.ndarray]) -> bytes:
    values = np.column_stack([columns[p] for p in request.parameters]) if request.parameters else \
        np.zeros((len(columns["t_us"]), 0))
    decimals = np.array([decimals_of(request.dataset.field(p)) for p in request.parameters], dtype=np.int64)
    return _csv(columns["t_us"], np.ascontiguousarray(values, dtype=float), decimals,
                np.frombuffer(FILL_TEXT.encode(), dtype=np.uint8)).tobytes()


def binary_rows(request: Request, columns: dict[str, np.ndarray]) -> bytes:
    """Records of 24 ASCII time bytes then little-endian doubles (spec 3.7.4.2)."""
    times = {p for p in request.parameters if request.dataset.field(p).calibration == "time"}
    dtype = np.dtype([("Time", "S24")] + [(p, "S24" if p in times else "<f8") for p in request.parameters])
    records = np.empty(len(columns["t_us"]), dtype=dtype)
    records["Time"] = _time_text(columns["t_us"]).view("S24").ravel()
    for p in request.parameters:
        records[p] = _time_text(columns[p].astype(np.int64)).view("S24").ravel() if p in times else \
            np.where(np.isnan(columns[p]), FILL, columns[p])
    return records.tobytes()


def _json_data(request: Request, columns: dict[str, np.ndarray]) -> list[list]:
    def text(t_us):
        return _time_text(np.asarray(t_us).astype(np.int64)).view("S24").ravel().astype(str).tolist()
    rows = [text(columns["t_us"])] + [text(columns[p]) if request.dataset.field(p).calibration == "time"
                                      else np.where(np.isnan(columns[p]), FILL, columns[p]).tolist()
                                      for p in request.parameters]
    return list(map(list, zip(*rows)))


def json_document(request: Request, columns: dict[str, np.ndarray], extent, code: int) -> bytes:
    """The whole JSON response at once (what :func:`stream` sends piece by piece)."""
    document = info(request.dataset, request.parameters, extent) | status(code) | {"format": "json",
                                                                                    "data": _json_data(request, columns)}
    return json.dumps(document).encode()


def stream(request: Request, chunks, extent, code: int, piece_bytes: int = 2 ** 20):
    """The /data response as pieces of bytes of about ``piece_bytes`` (fewer, larger writes),
    formatted chunk by chunk of columns (in time order), byte for byte the same as formatting all
    rows at once: CSV and binary rows stand alone, and the JSON document is written up to its
    last key, ``data``, whose rows follow chunk by chunk. Memory follows the largest chunk and
    ``piece_bytes``, not the request."""
    pending, size = [], 0
    for text in _formatted(request, chunks, extent, code):
        pending.append(text)
        size += len(text)
        if size >= piece_bytes:
            yield b"".join(pending)
            pending, size = [], 0
    if pending:
        yield b"".join(pending)


def _formatted(request: Request, chunks, extent, code: int):
    if request.format == "json":
        document = info(request.dataset, request.parameters, extent) | status(code) | {"format": "json"}
        yield (json.dumps(document)[:-1] + ', "data": [').encode()
        first = True
        for columns in chunks:
            if len(columns["t_us"]):
                rows = json.dumps(_json_data(request, columns))[1:-1]
                yield (rows if first else ", " + rows).encode()
                first = False
        yield b"]}"
        return
    if request.header:
        yield header_lines(request, extent, code)
    rows = csv_rows if request.format == "csv" else binary_rows
    for columns in chunks:
        if len(columns["t_us"]):
            yield rows(request, columns)


def header_lines(request: Request, extent, code: int) -> bytes:
    """The info header prefixed with '#' on every line, for include=header."""
    text = json.dumps(info(request.dataset, request.parameters, extent) | status(code) | {"format": request.format},
                      indent=1)
    return ("\n".join("#" + line for line in text.splitlines()) + "\n").encode()

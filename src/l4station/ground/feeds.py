"""Feeds: solar-wind observations from other vantage points (L1, L5) into the archive.

Two kinds of source:

* ``rtsw:FILE|URL`` — NOAA SWPC real-time solar wind in its current object form,
  ``json/rtsw/rtsw_wind_1m.json`` and ``rtsw_mag_1m.json`` (which replaced the array-form
  ``products/solar-wind/*.json`` files, NWS Service Change Notice 26-21, 2 March 2026): a JSON
  array of objects, newest first, one per minute per spacecraft, with ``time_tag``, ``source``
  (the spacecraft: SOLAR1, IMAP, ACE, ... never assumed), ``active``, ``overall_quality``
  (0 normal, 1 suspect, 2 error) and -9999 for fill. A folder, or a URL ending in ``/``, stands
  for both files.
* ``hapi:SERVER#DATASET`` — a dataset of any HAPI server, read with ``hapiclient``. Parameters
  are recognised by name (CDAWeb's ``OMNI_HRO2_1MIN``: ``flow_speed``, ``proton_density``, ``T``,
  ``F``, ``BX_GSE``, ``BY_GSM``, ``BZ_GSM``; this project's ``plasma``: ``vr``, ``density``,
  ``temperature``), each with its own fill value from ``/info``.

Rows are keyed by (source, spacecraft, sample time) and inserted only when new: a feed adds
rows, it never alters or deletes one. Each row keeps its quality flag, whether its spacecraft
was the active one, the vantage point and when the archive received it. A value a row lacks
(fill, or outside physical bounds) is stored as missing, and a later row with the same key
may supply it (a minute NOAA fills in late); a stored value is never replaced. Malformed rows
are counted and skipped; flags that are not flags, rows out of time order, repeats and
switches of the active spacecraft are counted too.

>>> rows = parse_rtsw('[{"time_tag": "2026-05-01T00:01:00", "source": "SOLAR1", "active": true,'
...                   ' "proton_speed": 412.5, "proton_density": -9999, "overall_quality": 0}]')
>>> rows.kind, rows.spacecraft, rows.values["speed"].tolist(), rows.counts["fill"]
('wind', ['SOLAR1'], [412.5], 1)
"""
from __future__ import annotations

import contextlib
import http.client
import json
import logging
import math
import sys
import time
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from l4station import logs
from l4station.constants import DAY_US
from l4station.errors import InputError
from l4station.ground.store import Archive, iso

RTSW_FILL = -9999
RTSW_FILES = {"wind": "rtsw_wind_1m.json", "mag": "rtsw_mag_1m.json"}
# archive column: (RTSW field, physical bounds); values outside the bounds are not stored
WIND = {"speed": ("proton_speed", (100.0, 3000.0)), "density": ("proton_density", (0.0, 1000.0)),
        "temperature": ("proton_temperature", (1.0e3, 1.0e8))}
MAG = {"bt": ("bt", (0.0, 1000.0)), "bx_gsm": ("bx_gsm", (-1000.0, 1000.0)),
       "by_gsm": ("by_gsm", (-1000.0, 1000.0)), "bz_gsm": ("bz_gsm", (-1000.0, 1000.0))}
KINDS = {"wind": WIND, "mag": MAG}
# HAPI parameters that mark a dataset of forecasts, as ours (hapi.datasets: forecast_*): never fed as observations
FORECAST_MARKS = {"issue_time", "vr_p10", "vr_p50", "vr_p90", *(f"vr_lead{k}" for k in range(1, 8))}
# archive column: HAPI parameter names that mean it (first found wins)
HAPI_NAMES = {"speed": ("flow_speed", "proton_speed", "vr", "V", "Vp", "speed"),
              "density": ("proton_density", "density", "N", "Np"),
              "temperature": ("T", "proton_temperature", "temperature", "Tp"),
              "bt": ("F", "bt", "B", "Bmag"),
              "bx_gsm": ("BX_GSE", "bx_gsm", "BX_GSM"), "by_gsm": ("BY_GSM", "by_gsm"), "bz_gsm": ("BZ_GSM", "bz_gsm")}
POINTS = ("L1", "L5")
TIMEOUT_S = 30.0


class SourceRefused(InputError):
    """A source that can never be fed, however often it is read (a dataset of forecasts, or one
    without a solar-wind parameter): a polling feed stops instead of retrying."""


class FeedError(InputError):
    """A source that cannot be read at all, said in one line."""


@dataclass
class Rows:
    """Observations of one kind (``wind`` or ``mag``) parsed from a source, time-sorted, with
    counts of what was wrong in it."""

    kind: str
    spacecraft: list[str]
    t_us: np.ndarray
    values: dict[str, np.ndarray]           # archive column -> values, NaN where none
    quality: list[int | None]
    active: list[int | None]
    counts: dict[str, int] = field(default_factory=dict)


def _empty_counts() -> dict[str, int]:
    return {"rows": 0, "malformed": 0, "fill": 0, "out_of_range": 0, "bad_flag": 0, "out_of_order": 0,
            "repeated": 0, "switches": 0, "suspect": 0, "error": 0}


EARLIEST_US = -386_380_800_000_000      # 1957-10-04 (Sputnik 1): nothing observed the solar wind before
LATEST_US = 4_102_444_800_000_000       # 2100-01-01


def parse_time_us(text) -> int:
    """Unix microseconds of an ISO time tag (``2026-05-01T00:01:00``, ``...00.000``, ``...Z``, an
    offset such as ``+05:00``; no offset means UTC), between 1957-10-04 and 2100."""
    if not isinstance(text, str) or not 16 <= len(text) <= 40:
        raise ValueError(text)
    try:
        stamp = datetime.fromisoformat(text.strip().replace(" ", "T"))
    except ValueError:
        raise ValueError(text) from None
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(timezone.utc).replace(tzinfo=None)
    t_us = (stamp - EPOCH) // timedelta(microseconds=1)
    if not EARLIEST_US <= t_us < LATEST_US:
        raise ValueError(text)
    return t_us


EPOCH = datetime(1970, 1, 1)


def _number(value, bounds: tuple[float, float], counts: dict[str, int]) -> float:
    """A field's value, NaN (and counted) for fill, nonsense or a value outside ``bounds``."""
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        counts["out_of_range"] += 1
        return math.nan
    try:
        x = float(value)
    except (ValueError, OverflowError):
        counts["out_of_range"] += 1
        return math.nan
    if x == RTSW_FILL:
        counts["fill"] += 1
        return math.nan
    if not (math.isfinite(x) and bounds[0] <= x <= bounds[1]):
        counts["out_of_range"] += 1
        return math.nan
    return x


def _flag(value, counts: dict[str, int]) -> int | None:
    """A quality (0, 1, 2) or active (true/false) flag: integers, integral numbers and their text
    are read; anything else is None and counted (the forecaster takes rows with known flags only)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        value = {"true": 1, "false": 0}.get(value.strip().lower(), value.strip())
        try:
            value = int(value)
        except ValueError:
            pass
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and 0 <= value <= 2:
        return value
    counts["bad_flag"] += value is not None
    return None


def parse_rtsw(text: str | bytes) -> Rows:
    """Rows of an RTSW wind or mag document (kind told by its fields), time-sorted."""
    try:
        document = json.loads(text)
    except RecursionError:
        raise FeedError("not an RTSW file: JSON nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise FeedError(f"not JSON ({str(error).splitlines()[0]}): an RTSW file is a JSON array of objects") from None
    if not isinstance(document, list):
        raise FeedError("not an RTSW file: expected a JSON array of objects with time_tag and source "
                        "(the old array-of-arrays products were retired in 2026)")
    objects = [row for row in document if isinstance(row, dict)]
    keys = set().union(*objects) if objects else set()
    kind = "wind" if "proton_speed" in keys else "mag" if "bt" in keys else None
    if document and kind is None:
        raise FeedError("neither RTSW wind (proton_speed) nor mag (bt) rows: give rtsw_wind_1m.json or rtsw_mag_1m.json")
    kind = kind or "wind"
    counts = _empty_counts()
    counts["rows"] = len(document)
    counts["malformed"] = len(document) - len(objects)
    columns = KINDS[kind]
    kept: list[tuple] = []
    last: dict[str, int] = {}
    for row in objects:
        spacecraft = row.get("source")
        try:
            t_us = parse_time_us(row.get("time_tag"))
        except ValueError:
            counts["malformed"] += 1
            continue
        if not isinstance(spacecraft, str) or not spacecraft.strip() or len(spacecraft) > 32 \
                or not spacecraft.isprintable() or not spacecraft.isascii():
            counts["malformed"] += 1
            continue
        if spacecraft in last and t_us >= last[spacecraft]:
            counts["out_of_order"] += 1           # newest first is the layout
        last[spacecraft] = t_us
        quality = _flag(row.get("overall_quality"), counts)
        counts["suspect"] += quality == 1
        counts["error"] += quality == 2
        kept.append((t_us, spacecraft.strip(), [_number(row.get(name), bounds, counts) for name, bounds in columns.values()],
                     quality, _flag(row.get("active"), counts)))
    return _rows(kind, kept, counts)


def _rows(kind: str, kept: list[tuple], counts: dict[str, int]) -> Rows:
    """Rows from (t_us, spacecraft, values, quality, active) tuples: time-sorted, repeats dropped,
    switches of the active spacecraft counted."""
    kept.sort(key=lambda r: (r[0], r[1]))
    unique = [r for i, r in enumerate(kept) if i == 0 or r[:2] != kept[i - 1][:2]]
    counts["repeated"] += len(kept) - len(unique)
    active = [r[1] for r in unique if r[4] == 1]
    counts["switches"] += sum(a != b for a, b in zip(active, active[1:]))
    names = list(KINDS[kind])
    table = np.array([r[2] for r in unique], dtype=float).reshape(len(unique), len(names))
    return Rows(kind, [r[1] for r in unique], np.array([r[0] for r in unique], dtype=np.int64),
                {name: table[:, k] for k, name in enumerate(names)}, [r[3] for r in unique], [r[4] for r in unique],
                counts)


MAX_DOCUMENT_BYTES = 64 * 2 ** 20      # NOAA's 7-day RTSW files are ~10 MB
DEADLINE_S = 120.0                     # a whole read, however slowly a source drips


def _read_capped(stream, location: str, deadline: float) -> bytes:
    """Up to MAX_DOCUMENT_BYTES of a stream before the deadline; FeedError beyond either."""
    chunks, size = [], 0
    while True:
        if time.monotonic() > deadline:
            raise FeedError(f"{location} took longer than {DEADLINE_S:g} s to send: giving up this pass")
        chunk = stream.read(2 ** 20) if not hasattr(stream, "read1") else stream.read1(2 ** 20)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_DOCUMENT_BYTES:
            raise FeedError(f"{location} is larger than {MAX_DOCUMENT_BYTES // 2 ** 20} MB: not an RTSW document")
        chunks.append(chunk)


def read_location(location: str, timeout_s: float = TIMEOUT_S) -> bytes:
    """The bytes at a file path or an http(s) URL, at most MAX_DOCUMENT_BYTES within DEADLINE_S;
    FeedError in one line if they cannot be had."""
    deadline = time.monotonic() + DEADLINE_S
    if location.startswith(("http://", "https://")):
        try:
            with urllib.request.urlopen(location, timeout=timeout_s) as response:
                return _read_capped(response, location, deadline)
        except urllib.error.HTTPError as error:
            raise FeedError(f"{location} answered HTTP {error.code} {error.reason}") from None
        except (urllib.error.URLError, TimeoutError, OSError, http.client.HTTPException) as error:
            reason = getattr(error, "reason", error)
            raise FeedError(f"cannot reach {location}: {reason}") from None
        except ValueError as error:          # a malformed URL: an unclosed IPv6 bracket, ...
            raise FeedError(f"bad URL {location!r}: {error}") from None
    try:
        with open(location, "rb") as handle:
            return _read_capped(handle, location, deadline)
    except OSError as error:
        raise FeedError(f"cannot read {location}: {error.strerror or error}; give an RTSW file or URL") from None


def rtsw_locations(location: str) -> list[str]:
    """The RTSW documents a source names: one file or URL, or both files of a folder or URL ending in /."""
    if location.endswith("/") or (not location.startswith(("http://", "https://")) and Path(location).is_dir()):
        base = location if location.endswith("/") else location + "/"
        return [base + name for name in RTSW_FILES.values()]
    return [location]


# ---- HAPI --------------------------------------------------------------------------------------

def _to_hapiclient_log(*values, sep=" ", **_) -> None:
    logging.getLogger("hapiclient").warning(sep.join(map(str, values)))


@contextlib.contextmanager
def _quiet_hapiclient():
    """hapiclient prints some failures to stdout and replaces sys.excepthook: keep both ours.

    Its modules' ``print`` goes to its logger instead. Swapping ``sys.stdout`` would have taken the
    output of every thread (a feed runs in a server's worker thread) and could restore a stale one."""
    import hapiclient.hapitime
    import hapiclient.util
    for module in (hapiclient.util, hapiclient.hapitime):
        module.print = _to_hapiclient_log
    hook = sys.excepthook
    try:
        # urllib3's retry warnings and hapiclient's lines (progress at INFO, failures) are not ours to print
        with logs.quieted("urllib3", "hapiclient"), warnings.catch_warnings():
            warnings.simplefilter("ignore")           # numpy's warnings on a malformed CSV body
            yield
    finally:
        sys.excepthook = hook


def _hapi_failure(error: Exception, what: str) -> FeedError:
    text = str(error).replace("\x1b[0;31m", "").replace("\x1b[0m", "").strip()
    first = text.splitlines()[0] if text else type(error).__name__
    return FeedError(f"{what}: {first}")


def hapi_info(server: str, dataset: str) -> dict:
    from hapiclient import hapi
    with _quiet_hapiclient():
        try:
            return hapi(server, dataset, logging=False)
        except Exception as error:       # hapiclient raises HAPIError and lets urllib3's through
            raise _hapi_failure(error, f"cannot read /info of {dataset} from {server}") from None


def _fill(parameter: dict) -> float | None:
    """A parameter's fill value as a number (None if it has none or it is not a number)."""
    try:
        return float(parameter.get("fill"))
    except (TypeError, ValueError):
        return None


def recognise(parameters) -> dict[str, dict]:
    """Archive column -> the HAPI parameter (its /info entry) that holds it, by name."""
    if not isinstance(parameters, list) or not all(isinstance(p, dict) and isinstance(p.get("name"), str)
                                                    for p in parameters):
        raise FeedError("not a HAPI /info response: parameters must be a list of objects with a name")
    forecast = sorted(p["name"] for p in parameters if p["name"].lower() in FORECAST_MARKS)
    if forecast:
        raise SourceRefused(f"the dataset holds forecasts ({', '.join(forecast)}), not observations: feed a "
                        "dataset of measurements (a forecast stored as one would verify itself)")
    by_name = {p["name"]: p for p in parameters[1:] if p.get("type") == "double" and not p.get("size")}
    found = {}
    for column, names in HAPI_NAMES.items():
        match = next((by_name[n] for n in names if n in by_name), None)
        if match is not None:
            found[column] = match
    return found


def _info_time(info: dict, *keys: str) -> int | None:
    """The first of ``keys`` present in an /info response, as Unix us (HAPI's restricted ISO 8601)."""
    from l4station.ground import hapi as hapi_format
    for key in keys:
        if info.get(key):
            try:
                return hapi_format.parse_time(str(info[key]), 1400)
            except hapi_format.HapiError:
                raise FeedError(f"/info's {key} {info[key]!r} is not a HAPI time") from None
    return None


def _hapi_time_us(tag: str) -> int:
    """A HAPI time (calendar or day-of-year form) as Unix us, within the years parse_time_us allows."""
    from l4station.ground import hapi as hapi_format
    try:
        t_us = hapi_format.parse_time(tag.strip(), 1400)
    except hapi_format.HapiError:
        raise ValueError(tag) from None
    if not EARLIEST_US <= t_us < LATEST_US:
        raise ValueError(tag)
    return t_us


def parse_hapi(data: np.ndarray, chosen: dict[str, dict], spacecraft: str) -> list[Rows]:
    """Rows (wind and/or mag) from hapiclient's structured array; per-parameter fill and bounds."""
    out = []
    times = [t.decode() if isinstance(t, bytes) else str(t) for t in data[data.dtype.names[0]]]
    for kind, columns in KINDS.items():
        mine = {c: chosen[c] for c in columns if c in chosen}
        if not mine:
            continue
        counts = _empty_counts()
        counts["rows"] = len(times)
        kept = []
        last = None
        for i, tag in enumerate(times):
            try:
                t_us = _hapi_time_us(tag)
            except ValueError:
                counts["malformed"] += 1
                continue
            if last is not None and t_us <= last:
                counts["out_of_order"] += 1           # HAPI rows come in time order
            last = t_us
            values = []
            for column, (_, bounds) in columns.items():
                p = mine.get(column)
                if p is None:
                    values.append(math.nan)
                    continue
                x = float(data[p["name"]][i])
                fill = _fill(p)
                if fill is not None and (x == fill or math.isnan(fill) and math.isnan(x)):
                    counts["fill"] += 1
                    values.append(math.nan)
                else:
                    values.append(_number(x, bounds, counts))
            kept.append((t_us, spacecraft, values, 0, 1))
        out.append(_rows(kind, kept, counts))
    return out


def read_hapi(server: str, dataset: str, start_us: int | None, stop_us: int | None) -> list[Rows]:
    """Rows of a HAPI dataset between start and stop (default: its last 7 days)."""
    from hapiclient import hapi

    info = hapi_info(server, dataset)
    if not isinstance(info, dict):
        raise FeedError(f"{server} did not answer /info for {dataset} with a HAPI info object")
    chosen = recognise(info.get("parameters"))
    if not chosen:
        raise SourceRefused(f"{dataset} at {server} has no solar-wind parameter this feed knows "
                        f"(speed as {'/'.join(HAPI_NAMES['speed'])}, ...)")
    first = _info_time(info, "startDate")
    last = _info_time(info, "stopDate")
    if first is None or last is None:
        raise FeedError(f"/info of {dataset} lacks startDate or stopDate: not a HAPI server")
    newest = _info_time(info, "sampleStopDate", "stopDate")
    stop = min(stop_us if stop_us is not None else newest, last)          # inside what the server holds
    start = max(start_us if start_us is not None else stop - 7 * DAY_US, first)
    if start >= stop:
        return [_rows(kind, [], _empty_counts()) for kind in KINDS if any(c in chosen for c in KINDS[kind])]
    wanted = {p["name"] for p in chosen.values()}
    names = ",".join(p["name"] for p in info["parameters"] if p["name"] in wanted)     # in /info's order
    with _quiet_hapiclient():
        try:
            data, _ = hapi(server, dataset, names, iso(start), iso(stop), logging=False, cache=False,
                           usecache=False, format="csv")
        except Exception as error:
            raise _hapi_failure(error, f"cannot read {dataset} from {server}") from None
    return parse_hapi(data, chosen, dataset)


# ---- the source, the archive -------------------------------------------------------------------

@dataclass(frozen=True)
class Source:
    """A parsed ``rtsw:...`` or ``hapi:SERVER#DATASET`` source at a vantage point (L1 or L5)."""

    kind: str            # rtsw or hapi
    location: str        # file, folder or URL; or the HAPI server
    dataset: str = ""
    point: str = "L1"

    @property
    def name(self) -> str:
        """The source's key in the archive: where it reads from, and the point if not L1."""
        where = f"rtsw:{self.location}" if self.kind == "rtsw" else f"hapi:{self.location}#{self.dataset}"
        return where if self.point == "L1" else f"{where}@{self.point}"


def parse_source(text: str, point: str = "L1") -> Source:
    """``rtsw:FILE|URL`` or ``hapi:SERVER#DATASET``, or InputError naming the fix."""
    if point not in POINTS:
        raise InputError(f"--point {point!r}: a feed observes from L1 or L5")
    kind, _, rest = text.partition(":")
    if kind == "rtsw" and rest:
        return Source("rtsw", rest, point=point)
    if kind == "hapi" and rest:
        server, _, dataset = rest.partition("#")
        if server.startswith(("http://", "https://")) and dataset:
            return Source("hapi", server.rstrip("/"), dataset, point)
    raise InputError(f"feed source {text!r} is neither rtsw:FILE|URL nor hapi:SERVER#DATASET "
                     "(e.g. hapi:https://cdaweb.gsfc.nasa.gov/hapi#OMNI_HRO2_1MIN)")


class FeedSummary(dict):
    """What one pass of a feed did, as JSON values; prints itself as one line."""

    def to_json(self) -> dict:
        return dict(self)

    def __str__(self) -> str:
        c = self["counts"]
        wrong = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in c.items() if k != "rows" and n)
        return (f"{self['source']}: {c['rows']} rows read, {self['stored']} stored"
                + (f" ({wrong})" if wrong else "") + f"; latest {self['latest'] or '-'}; "
                + f"{self['elapsed_s']:.2f} s")


def store(archive: Archive, source: Source, parts: list[Rows], received_us: int) -> FeedSummary:
    """Insert the parsed rows (new keys only) in one transaction, with the batch that received them."""
    counts = _empty_counts()
    stored = 0
    latest = None
    with archive.transaction() as cursor:
        batch = archive.new_batch(cursor, f"feed:{source.name}", received_us)
        for rows in parts:
            for key, n in rows.counts.items():
                counts[key] += n
            table = f"feed_{rows.kind}"
            values = [np.where(np.isnan(v), None, v).tolist() for v in rows.values.values()]
            stored += archive.insert_rows(cursor, table, [
                (source.name, sc, int(t), source.point, *vals, q, a, received_us, batch)
                for sc, t, *vals, q, a in zip(rows.spacecraft, rows.t_us.tolist(), *values, rows.quality, rows.active)])
            if len(rows.t_us):
                latest = int(rows.t_us[-1]) if latest is None else max(latest, int(rows.t_us[-1]))
        summary = {"source": source.name, "point": source.point, "stored": stored, "counts": counts,
                   "latest": None if latest is None else iso(latest)}
        archive.finish_batch(cursor, batch, summary)
    return FeedSummary(summary)


def latest_time(archive: Archive, source: Source) -> int | None:
    """Latest sample time stored from a source (either kind), or None."""
    row = archive.query("SELECT MAX(t_us) FROM (SELECT MAX(t_us) AS t_us FROM feed_wind WHERE source = ? "
                        "UNION ALL SELECT MAX(t_us) FROM feed_mag WHERE source = ?) AS latest",
                        (source.name, source.name))
    return None if row[0][0] is None else int(row[0][0])


def run(archive: Archive, source: Source, *, start_us: int | None = None, stop_us: int | None = None,
        now_us: int | None = None) -> FeedSummary:
    """One pass of a feed: read the source, store what is new. FeedError if the source cannot be read."""
    began = time.perf_counter()
    received = now_us if now_us is not None else int(time.time() * 1e6)
    if source.kind == "rtsw":
        parts = [parse_rtsw(read_location(location)) for location in rtsw_locations(source.location)]
    else:
        if start_us is None:
            latest = latest_time(archive, source)
            start_us = None if latest is None else latest + 1
        parts = read_hapi(source.location, source.dataset, start_us, stop_us)
    summary = store(archive, source, parts, received)
    summary["elapsed_s"] = time.perf_counter() - began
    return summary

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
was the active one, the vantage point and when the archive received it. What a source sends
wrong is counted and logged, never stored: malformed rows, fill, values outside physical
bounds; rows out of time order, repeats and switches of the active spacecraft are counted too.

>>> rows = parse_rtsw('[{"time_tag": "2026-05-01T00:01:00", "source": "SOLAR1", "active": true,'
...                   ' "proton_speed": 412.5, "proton_density": -9999, "overall_quality": 0}]')
>>> rows.kind, rows.spacecraft, rows.values["speed"].tolist(), rows.counts["fill"]
('wind', ['SOLAR1'], [412.5], 1)
"""
from __future__ import annotations

import contextlib
import json
import math
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from l4station.errors import InputError
from l4station.ground.store import Archive

RTSW_FILL = -9999
RTSW_FILES = {"wind": "rtsw_wind_1m.json", "mag": "rtsw_mag_1m.json"}
# archive column: (RTSW field, physical bounds); values outside the bounds are not stored
WIND = {"speed": ("proton_speed", (100.0, 3000.0)), "density": ("proton_density", (0.0, 1000.0)),
        "temperature": ("proton_temperature", (1.0e3, 1.0e8))}
MAG = {"bt": ("bt", (0.0, 1000.0)), "bx_gsm": ("bx_gsm", (-1000.0, 1000.0)),
       "by_gsm": ("by_gsm", (-1000.0, 1000.0)), "bz_gsm": ("bz_gsm", (-1000.0, 1000.0))}
KINDS = {"wind": WIND, "mag": MAG}
# archive column: HAPI parameter names that mean it (first found wins)
HAPI_NAMES = {"speed": ("flow_speed", "proton_speed", "vr", "V", "Vp", "speed"),
              "density": ("proton_density", "density", "N", "Np"),
              "temperature": ("T", "proton_temperature", "temperature", "Tp"),
              "bt": ("F", "bt", "B", "Bmag"),
              "bx_gsm": ("BX_GSE", "bx_gsm", "BX_GSM"), "by_gsm": ("BY_GSM", "by_gsm"), "bz_gsm": ("BZ_GSM", "bz_gsm")}
POINTS = ("L1", "L5")
TIMEOUT_S = 30.0


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
    return {"rows": 0, "malformed": 0, "fill": 0, "out_of_range": 0, "out_of_order": 0, "repeated": 0,
            "switches": 0, "suspect": 0, "error": 0}


def _time_us(text) -> int:
    """Unix microseconds of an ISO UTC time tag (``2026-05-01T00:01:00``, ``...00.000``, ``...Z``)."""
    if not isinstance(text, str) or len(text) < 16:
        raise ValueError(text)
    stamp = np.datetime64(text.strip().removesuffix("Z").replace(" ", "T"), "us")
    if np.isnat(stamp):
        raise ValueError(text)
    return int(stamp.astype(np.int64))


def _number(value, bounds: tuple[float, float], counts: dict[str, int]) -> float:
    """A field's value, NaN (and counted) for fill, nonsense or a value outside ``bounds``."""
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        counts["out_of_range"] += 1
        return math.nan
    try:
        x = float(value)
    except ValueError:
        counts["out_of_range"] += 1
        return math.nan
    if x == RTSW_FILL:
        counts["fill"] += 1
        return math.nan
    if not (math.isfinite(x) and bounds[0] <= x <= bounds[1]):
        counts["out_of_range"] += 1
        return math.nan
    return x


def _flag(value) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int) and 0 <= value <= 2:
        return value
    return None


def parse_rtsw(text: str | bytes) -> Rows:
    """Rows of an RTSW wind or mag document (kind told by its fields), time-sorted."""
    try:
        document = json.loads(text)
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
            t_us = _time_us(row.get("time_tag"))
        except ValueError:
            counts["malformed"] += 1
            continue
        if not isinstance(spacecraft, str) or not spacecraft.strip() or len(spacecraft) > 32:
            counts["malformed"] += 1
            continue
        if spacecraft in last and t_us >= last[spacecraft]:
            counts["out_of_order"] += 1           # newest first is the layout
        last[spacecraft] = t_us
        quality = _flag(row.get("overall_quality"))
        counts["suspect"] += quality == 1
        counts["error"] += quality == 2
        kept.append((t_us, spacecraft.strip(), [_number(row.get(name), bounds, counts) for name, bounds in columns.values()],
                     quality, _flag(row.get("active"))))
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


def read_location(location: str, timeout_s: float = TIMEOUT_S) -> bytes:
    """The bytes at a file path or an http(s) URL; FeedError in one line if they cannot be had."""
    if location.startswith(("http://", "https://")):
        try:
            with urllib.request.urlopen(location, timeout=timeout_s) as response:
                return response.read()
        except urllib.error.HTTPError as error:
            raise FeedError(f"{location} answered HTTP {error.code} {error.reason}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise FeedError(f"cannot reach {location}: {reason}") from None
    try:
        return Path(location).read_bytes()
    except OSError as error:
        raise FeedError(f"cannot read {location}: {error.strerror or error}; give an RTSW file or URL") from None


def rtsw_locations(location: str) -> list[str]:
    """The RTSW documents a source names: one file or URL, or both files of a folder or URL ending in /."""
    if location.endswith("/") or (not location.startswith(("http://", "https://")) and Path(location).is_dir()):
        base = location if location.endswith("/") else location + "/"
        return [base + name for name in RTSW_FILES.values()]
    return [location]


# ---- HAPI --------------------------------------------------------------------------------------

@contextlib.contextmanager
def _quiet_hapiclient():
    """hapiclient prints some failures to stdout and replaces sys.excepthook: keep both ours."""
    hook = sys.excepthook
    try:
        with contextlib.redirect_stdout(sys.stderr):
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


def recognise(parameters: list[dict]) -> dict[str, dict]:
    """Archive column -> the HAPI parameter (its /info entry) that holds it, by name."""
    by_name = {p["name"]: p for p in parameters[1:] if p.get("type") == "double" and not p.get("size")}
    found = {}
    for column, names in HAPI_NAMES.items():
        match = next((by_name[n] for n in names if n in by_name), None)
        if match is not None:
            found[column] = match
    return found


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
        for i, tag in enumerate(times):
            try:
                t_us = _time_us(tag)
            except ValueError:
                counts["malformed"] += 1
                continue
            values = []
            for column, (_, bounds) in columns.items():
                p = mine.get(column)
                if p is None:
                    values.append(math.nan)
                    continue
                x = float(data[p["name"]][i])
                fill = p.get("fill")
                if (fill not in (None, "") and (x == float(fill) or math.isnan(float(fill)) and math.isnan(x))):
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
    chosen = recognise(info.get("parameters", []))
    if not chosen:
        raise FeedError(f"{dataset} at {server} has no solar-wind parameter this feed knows "
                        f"(speed as {'/'.join(HAPI_NAMES['speed'])}, ...)")
    last = _time_us(str(info.get("sampleStopDate") or info.get("stopDate")))
    stop = stop_us if stop_us is not None else last
    start = start_us if start_us is not None else stop - 7 * 86_400_000_000
    if start >= stop:
        return [_rows(kind, [], _empty_counts()) for kind in KINDS if any(c in chosen for c in KINDS[kind])]
    wanted = {p["name"] for p in chosen.values()}
    names = ",".join(p["name"] for p in info["parameters"] if p["name"] in wanted)     # in /info's order
    with _quiet_hapiclient():
        try:
            data, _ = hapi(server, dataset, names, _iso(start), _iso(stop), logging=False, cache=False,
                           usecache=False, format="csv")
        except Exception as error:
            raise _hapi_failure(error, f"cannot read {dataset} from {server}") from None
    return parse_hapi(data, chosen, dataset)


def _iso(t_us: int) -> str:
    return str(np.datetime64(int(t_us) // 1_000_000, "s")) + "Z"


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
        return "rtsw" if self.kind == "rtsw" else f"hapi:{self.location}#{self.dataset}"


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
                latest = max(latest or 0, int(rows.t_us[-1]))
        summary = {"source": source.name, "point": source.point, "stored": stored, "counts": counts,
                   "latest": None if latest is None else _iso(latest)}
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

"""Trade-space sweeps: many variants of a mission, each a full study reduced to its figures of
merit (:mod:`l4station.study.merit`), run on a Dask cluster (a local one by default).

A sweep file (TOML) names an optional base mission file, a ``[vary]`` table of config paths to
lists (full factorial; a key naming several paths, "a.b, c.d", varies them together, each value
a list of one value per path) and/or a ``[sample]`` table of config paths to ``[low, high]`` with
``n`` and ``method`` ("sobol" or "lhs", scipy.stats.qmc; Owen-scrambled Sobol', Latin hypercube)
and ``seed`` (a whole-number field is sampled in whole numbers inside the range), and an optional
``[pareto]`` table of figures of merit to "min" or "max" (the front reported; default
OBJECTIVES). Each sampled point is crossed with the factorial grid.
Every variant is validated before any work starts; variants that are the same mission run once. Each finished variant is written at once to
``results.parquet`` and ``results.csv``; a rerun skips the variants whose config digest has a
completed row. A rerun of an edited sweep file keeps the completed rows of the variants it no
longer lists in ``earlier.parquet`` and ``earlier.csv`` (and takes them back if they return).

>>> sweep = parse({"vary": {"mission.target": ["L4", "L5"]}}, "s.toml")
>>> [v.values for v in variants(sweep)]
[{'mission.target': 'L4'}, {'mission.target': 'L5'}]
"""
from __future__ import annotations

import copy
import dataclasses
import datetime
import fcntl
import itertools
import json
import math
import re
import shutil
import time
import tomllib
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from l4station import cluster, config as config_module, textfiles
from l4station.errors import InputError, first_line
from l4station.study import merit, tradespace
from l4station.cache import Cache

METHODS = ("sobol", "lhs")
MAX_VARIANTS = 10_000
# The front reported unless the sweep file names its own [pareto]: figure -> "min" or "max".
OBJECTIVES = {"transfer_dv_kms": "min", "data_returned_gbit_per_day": "max", "forecast_skill_earth_lead1": "max"}
# dotted names, list items as name[0]: ASCII digits without leading zeros, so a path has one spelling
PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[(0|[1-9][0-9]*)\])?(\.[A-Za-z_][A-Za-z0-9_]*(\[(0|[1-9][0-9]*)\])?)*$")


@dataclass(frozen=True)
class Sweep:
    source: str
    base: Path | None
    vary: dict[str, list]
    sample: dict[str, tuple[float, float]] = field(default_factory=dict)
    n: int = 0
    method: str = "sobol"
    seed: int = 0
    objectives: dict[str, str] = field(default_factory=lambda: dict(OBJECTIVES))   # figure -> "min"/"max"


@dataclass(frozen=True)
class Variant:
    id: str
    values: dict                     # config path -> value
    config: config_module.MissionConfig

    @property
    def cells(self) -> dict:
        """The varied values as result-table cells: numbers as floats, dates as ISO 8601, anything
        else as its JSON text (a list of stations), so each column has one type in Parquet and CSV."""
        def cell(v):
            if _number(v):
                return float(v)
            if isinstance(v, str) or hasattr(v, "isoformat"):
                return v if isinstance(v, str) else v.isoformat()
            return json.dumps(v, default=lambda x: x.isoformat())
        return {path: cell(v) for path, v in self.values.items()}


def read(path: str | Path) -> Sweep:
    """A sweep file, checked (one-line InputError naming what is wrong)."""
    path = Path(path)
    try:
        text = textfiles.read(path)
    except OSError as error:
        raise InputError(f"{path}: cannot read it ({error.strerror or error}); give the path of a sweep TOML file") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: is not UTF-8 text; a sweep file is TOML") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"{path}: not valid TOML: {error}") from None
    sweep = parse(document, str(path))
    if sweep.base is not None:
        base = sweep.base.expanduser()
        sweep = dataclasses.replace(sweep, base=base if base.is_absolute() else path.parent / base)
    return sweep


def parse(document: dict, source: str) -> Sweep:
    """A sweep from its TOML document (see the module's docstring)."""
    unknown = set(document) - {"base", "vary", "sample", "pareto"}
    if unknown:
        raise InputError(f"{source}: unknown key {sorted(unknown)[0]!r}; a sweep file has base, [vary], [sample] "
                         "and [pareto]")
    objectives = document.get("pareto", OBJECTIVES)
    names = [m.name for m in merit.MERITS]
    if not isinstance(objectives, dict) or not objectives:
        raise InputError(f"{source}: [pareto] must name figures of merit, each \"min\" or \"max\"")
    for name, sense in objectives.items():
        if name not in names:
            raise InputError(f"{source}: pareto.{name} is not a figure of merit; use one of {', '.join(names)}")
        if sense not in ("min", "max"):
            raise InputError(f"{source}: pareto.{name} = {sense!r}: use \"min\" or \"max\"")
    base = document.get("base")
    if base is not None and not isinstance(base, str):
        raise InputError(f"{source}: base must be the path of a mission file (a string)")
    vary = document.get("vary", {})
    if not isinstance(vary, dict):
        raise InputError(f"{source}: [vary] must be a table of config paths to lists")
    seen: set[str] = set()
    for key, values in vary.items():
        paths = _paths(key)
        for path in paths:
            _path(source, path)
            if path in seen:
                raise InputError(f"{source}: {path} is varied twice; give each config path once")
            seen.add(path)
        if isinstance(values, dict):            # mission.target = [...] unquoted: TOML reads a table
            raise InputError(f"{source}: vary.{key} is a table; write each config path in quotes, "
                             f"\"{key}.{next(iter(values), 'name')}\" = [...]")
        if not isinstance(values, list) or not values:
            raise InputError(f"{source}: vary.{key} must be a non-empty list of values")
        if len(paths) > 1 and not all(isinstance(v, list) and len(v) == len(paths) for v in values):
            raise InputError(f"{source}: vary.\"{key}\" varies {len(paths)} paths together: each value must be a "
                             f"list of {len(paths)} values, one per path")
        for k, path in enumerate(paths):
            column = [v[k] for v in values] if len(paths) > 1 else values
            if any(isinstance(v, float) and not math.isfinite(v) for v in column):
                raise InputError(f"{source}: vary.{path} holds nan or inf; give finite numbers")
            kinds = {"number" if _number(v) else type(v).__name__ for v in column}
            if len(kinds) > 1:
                raise InputError(f"{source}: vary.{path} mixes {' and '.join(sorted(kinds))} values; give one kind")
    if not isinstance(document.get("sample", {}), dict):
        raise InputError(f"{source}: [sample] must be a table of config paths to [low, high], with n, method and seed")
    sample = dict(document.get("sample", {}))
    has_n = "n" in sample
    n = sample.pop("n", 0)
    method = sample.pop("method", "sobol")
    seed = sample.pop("seed", 0)
    ranges = {}
    for key, bounds in sample.items():
        if isinstance(bounds, dict):
            raise InputError(f"{source}: sample.{key} is a table; write each config path in quotes, "
                             f"\"{key}.{next(iter(bounds), 'name')}\" = [low, high]")
        _path(source, key)
        if not (isinstance(bounds, list) and len(bounds) == 2 and all(_number(b) for b in bounds) and bounds[0] < bounds[1]):
            raise InputError(f"{source}: sample.{key} must be [low, high] with low < high, got {bounds!r}")
        if not math.isfinite(bounds[1] - bounds[0]):
            raise InputError(f"{source}: sample.{key} spans {bounds!r}, wider than a float can hold; narrow it")
        if key in seen:
            raise InputError(f"{source}: {key} is both varied and sampled; give it in one table")
        ranges[key] = (float(bounds[0]), float(bounds[1]))
    _check_disjoint(source, [*seen, *ranges])
    if ranges and not (isinstance(n, int) and not isinstance(n, bool) and n >= 1):
        raise InputError(f"{source}: sample.n must be a whole number of samples, at least 1 (got {n!r})")
    if method not in METHODS:
        raise InputError(f"{source}: sample.method {method!r}: use {' or '.join(METHODS)}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise InputError(f"{source}: sample.seed must be a whole number, at least 0")
    if has_n and not ranges:
        raise InputError(f"{source}: sample.n is given but no config path is sampled; add \"path\" = [low, high]")
    if not vary and not ranges:
        raise InputError(f"{source}: nothing to sweep: give [vary] lists or [sample] ranges")
    count = math.prod(len(v) for v in vary.values()) * (n if ranges else 1)
    if count > MAX_VARIANTS:
        raise InputError(f"{source}: {count:,} variants; a sweep runs at most {MAX_VARIANTS:,}")
    return Sweep(source, None if base is None else Path(base), vary, ranges, n if ranges else 0, method, seed,
                 dict(objectives))


def _check_disjoint(source: str, paths: list[str]) -> None:
    """Refuse a path inside another one swept (``a.b`` and ``a.b.c``): whichever is set last would
    win, and the results would record a value that was never studied."""
    for outer in paths:
        for inner in paths:
            if inner.startswith(outer + ".") or inner.startswith(outer + "["):
                raise InputError(f"{source}: {inner} lies inside {outer}, which is swept too; sweep one of them")


def _paths(key: str) -> list[str]:
    """The config paths a [vary] key names: one, or several varied together ("a.b, c.d")."""
    return [part.strip() for part in key.split(",")]


def parameters(sweep: Sweep) -> list[str]:
    """Every config path the sweep sets, in the order of the sweep file."""
    return [*(p for key in sweep.vary for p in _paths(key)), *sweep.sample]


def _number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _path(source: str, key: str) -> None:
    if not PATH.fullmatch(key):
        raise InputError(f"{source}: {key!r} is not a config path (dotted names, list items as name[0])")


def _slot(document: dict, path: str, *, create: bool) -> tuple:
    """The table or list holding the value at a dotted config path (``a.b[0].c``) of a TOML
    document, and its key or index there; KeyError where the path runs through a value that is
    not a table, or to a list item the document lacks. With ``create``, missing tables are made."""
    container, key, node = None, None, document
    for part in path.split("."):
        if not isinstance(node, dict):          # a path through a value that is not a table
            raise KeyError(path)
        name, _, index = part.partition("[")
        if name not in node:
            if not create:
                raise KeyError(path)
            node[name] = {}
        container, key, node = node, name, node[name]
        if index:
            i = int(index[:-1])
            if not isinstance(node, list) or i >= len(node):
                raise KeyError(path)
            container, key, node = node, i, node[i]
    return container, key


def _set(document: dict, path: str, value) -> None:
    """Set ``value`` at a dotted config path of a TOML document; a table is laid over the table
    there (keys it does not name keep their values)."""
    container, key = _slot(document, path, create=True)
    container[key] = _laid(container[key], value)


def _at(document: dict, path: str):
    """The value at a dotted config path of a TOML document (None where there is none)."""
    try:
        container, key = _slot(document, path, create=False)
    except KeyError:
        return None
    return container[key]


def _laid(old, value):
    """``value`` in place of ``old``: a table merges into a table, as in a mission file."""
    return config_module.merge(old, value) if isinstance(value, dict) and isinstance(old, dict) else value


def _points(sweep: Sweep) -> list[dict]:
    """The sampled points (path -> value), or one empty point without [sample]."""
    if not sweep.sample:
        return [{}]
    from scipy.stats import qmc
    d = len(sweep.sample)
    engine = qmc.Sobol(d, scramble=True, seed=sweep.seed) if sweep.method == "sobol" else qmc.LatinHypercube(d, seed=sweep.seed)
    with warnings.catch_warnings():          # Sobol' points balance best at n = 2^k; other n are allowed
        warnings.simplefilter("ignore", UserWarning)
        unit = engine.random(sweep.n)
    low = [b[0] for b in sweep.sample.values()]
    high = [b[1] for b in sweep.sample.values()]
    scaled = qmc.scale(unit, low, high)
    return [{key: float(x) for key, x in zip(sweep.sample, row)} for row in scaled]


def variants(sweep: Sweep, on_checked: Callable[[int, int], None] | None = None) -> list[Variant]:
    """Every variant, validated: an unknown path or a bad value raises InputError naming the
    variant and the field. ``on_checked(k, n)`` after each (for a progress bar: 10,000 variants
    take about 7 s)."""
    try:
        base = config_module.document(sweep.base)
        config_module.parse(copy.deepcopy(base), str(sweep.base or "the default mission"))
    except config_module.ConfigError as error:
        raise InputError(f"{sweep.source}: base {error}") from None
    grid = [{path: value for key, v in zip(sweep.vary, combo)
             for path, value in zip(_paths(key), v if len(_paths(key)) > 1 else [v])}
            for combo in itertools.product(*sweep.vary.values())]
    out = []
    whole = {}                                      # sampled in whole numbers, inside [low, high]
    default = config_module.document()
    for path in sweep.sample:                       # the field's kind as the default mission writes it (a base
        known = _at(default, path)                  # file may write 2 for a float); else as the base does
        if type(known if known is not None else _at(base, path)) is int:
            low, high = math.ceil(sweep.sample[path][0]), math.floor(sweep.sample[path][1])
            if low > high:
                raise InputError(f"{sweep.source}: sample.{path} = {list(sweep.sample[path])} holds no whole number, "
                                 "and the field takes whole numbers; widen it")
            whole[path] = (low, high)
    points = [point | {path: min(max(round(point[path]), low), high) for path, (low, high) in whole.items()}
              for point in _points(sweep)]
    for k, (point, cell) in enumerate(itertools.product(points, grid)):
        values = cell | point
        name = f"v{k:04d}"
        document = copy.deepcopy(base)
        try:
            for path, value in values.items():
                _set(document, path, value)
            config_module.fresh_roles(document, [p.removeprefix("ground.") for p in values if p.startswith("ground.")])
        except (KeyError, ValueError, TypeError):
            raise InputError(f"{sweep.source}: variant {name} ({_show(values)}): no config path {path!r} in the "
                             "mission (list items exist only as far as the base mission has them)") from None
        try:
            mission = config_module.parse(document, f"{sweep.source}: variant {name} ({_show(values)})")
        except config_module.ConfigError as error:
            raise InputError(str(error)) from None
        out.append(Variant(name, values, mission))
        if on_checked is not None:
            on_checked(k + 1, len(points) * len(grid))
    return out


def _show(values: dict) -> str:
    """A variant's values as a sweep file writes them: ``a.b=1.5, c="L4", d=2029-01-01T00:00:00``."""
    return ", ".join(f"{k}={_toml(v)}" for k, v in values.items())


def _toml(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return json.dumps(value) if isinstance(value, (str, bool)) else repr(value)


def figures_of(mission: config_module.MissionConfig, cache: Cache | None = None) -> dict:
    """One variant's study reduced to its figures (what a worker runs), its slow parts kept in ``cache``."""
    from l4station.study import study
    return merit.figures(study.run(mission, cache=cache, draw=False).document)


def evaluate(variant: Variant, cache: Cache | None = None) -> dict:
    """A result row: the variant's figures, or its one-line failure; never raises."""
    began = time.perf_counter()
    try:
        figures = figures_of(variant.config, cache)
    except Exception as exc:                      # one failing variant never stops a sweep
        return failed_row(variant, exc, time.perf_counter() - began)
    return _row(variant, figures, "completed", "", time.perf_counter() - began)


def failed_row(variant: Variant, error: BaseException, elapsed_s: float = 0.0) -> dict:
    """The row of a variant that failed with ``error``: its first line, or its kind's name."""
    return _row(variant, {m.name: None for m in merit.MERITS}, "failed", first_line(error), elapsed_s)


def _row(variant: Variant, figures: dict, status: str, error: str, elapsed_s: float) -> dict:
    return ({"variant": variant.id, **variant.cells, "config_sha256": variant.config.sha256()} | figures
            | {"status": status, "error": error, "elapsed_s": elapsed_s})


PARAMETERS_KEY = b"l4station.sweep.parameters"     # results.parquet's metadata: the config paths varied


def completed(results: Path, paths: list[str] | None = None) -> dict[str, dict]:
    """Rows of a results file already written, and of the ``earlier`` file beside it, completed
    ones with every current figure, by config digest. With ``paths``, a file whose varied columns
    are not exactly ``paths`` (another sweep's results) raises InputError, as does a file that
    cannot be read."""
    out = {}
    for path in (results.with_name(f"{EARLIER}.parquet"), results):
        out |= _completed_rows(path, paths)
    return out


def _completed_rows(results: Path, paths: list[str] | None) -> dict[str, dict]:
    if not results.exists():
        return {}
    import pyarrow.parquet as pq
    try:
        table = pq.read_table(results)
    except (OSError, ValueError) as error:      # pyarrow's ArrowInvalid is a ValueError
        raise InputError(f"{results}: not a readable results file ({_shortened(str(error).splitlines()[0])}); "
                         "move it away or give another --out") from None
    figures = [m.name for m in merit.MERITS]
    stored = (table.schema.metadata or {}).get(PARAMETERS_KEY)
    varied = json.loads(stored) if stored else None
    if paths is not None and (varied is None or set(varied) != set(paths)):
        raise InputError(f"{results.parent} holds the results of another sweep (varying {', '.join(varied or ['?'])}); "
                         "give another --out, or move its results away")
    return {row["config_sha256"]: row for row in table.to_pylist()
            if row.get("status") == "completed" and all(f in row for f in figures)}


POLL_S = 2.0
"""How often (s) a sweep waiting for results looks whether its cluster still has a worker."""


def _finished(client, futures: dict) -> Iterator[tuple[list[Variant], dict]]:
    """(variants, row) of each future of ``futures`` (future -> the variants it studies) as it
    finishes: its result, or a failed row for a future that raised (a worker lost with it on each
    of its tries: KilledWorker), and for every future still waiting once the cluster has had no
    worker for :data:`cluster.WORKER_WAIT_S` (they would wait for ever)."""
    from distributed import wait
    pending, idle_since = set(futures), None
    while pending:
        try:
            done, pending = wait(pending, timeout=POLL_S, return_when="FIRST_COMPLETED")
        except TimeoutError:
            done = set()
        for future in done:
            try:
                row = future.result()
            except Exception as error:
                row = failed_row(futures[future][0], error)
            yield futures[future], row
        if done or client.scheduler_info().get("workers"):
            idle_since = None
            continue
        idle_since = idle_since if idle_since is not None else time.monotonic()
        if time.monotonic() - idle_since >= cluster.WORKER_WAIT_S:
            lost = RuntimeError(f"no Dask worker left for {cluster.WORKER_WAIT_S:g} s")
            for future in pending:
                future.cancel()
                yield futures[future], failed_row(futures[future][0], lost)
            return


def _shortened(text: str, most: int = 120) -> str:
    """``text`` cut at a word to at most ``most`` characters, with an ellipsis where it was cut."""
    return text if len(text) <= most else text[:most].rsplit(" ", 1)[0] + " …"


EARLIER = "earlier"
"""``DIR/earlier.parquet`` (and .csv): completed rows of variants an edited sweep file no longer lists."""


def write(rows: list[dict], out: Path, paths: list[str], name: str = "results") -> None:
    """``name``.parquet (its metadata naming the varied config ``paths``) and ``name``.csv of
    every row so far, written whole, then renamed: a killed sweep leaves the previous complete
    file. No rows and ``name`` not "results": the files are removed."""
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq
    if not rows and name != "results":
        for suffix in ("parquet", "csv"):
            (out / f"{name}.{suffix}").unlink(missing_ok=True)
        return
    table = pa.Table.from_pylist(rows).replace_schema_metadata({PARAMETERS_KEY: json.dumps(paths)})
    for suffix, writer in (("parquet", pq.write_table), ("csv", pcsv.write_csv)):
        partial = out / f".{name}.{suffix}.partial"
        writer(table, partial)
        partial.replace(out / f"{name}.{suffix}")


def pareto(rows: list[dict], objectives: dict[str, str]) -> list[str]:
    """Variants on the Pareto front of ``objectives`` (figure -> "min" or "max"), completed and
    feasible rows (:func:`merit.feasible`: a late or propellant-short design is no choice) with
    every objective known. Figures are compared to 6 significant digits, so that round-off (a
    data volume differing in its ninth digit) neither splits nor thins the front."""
    points = [(r["variant"], [float(f"{r[f] if sense == 'min' else -r[f]:.6g}") for f, sense in objectives.items()])
              for r in rows if r["status"] == "completed" and merit.feasible(r)
              and all(r.get(f) is not None for f in objectives)]
    return [name for name, p in points
            if not any(all(a <= b for a, b in zip(q, p)) and any(a < b for a, b in zip(q, p)) for _, q in points)]


class Summary(dict):
    """What a sweep did (the JSON of ``l4station sweep --json``), and a table for people."""

    def to_json(self) -> dict:
        return dict(self)

    def __rich__(self):
        from l4station import tables
        rows = [[r["variant"], r["error"]] for r in self["failed"]]
        lines = [f"{self['completed']} of {self['variants']} variants completed ({self['computed']} computed now, "
                 f"{self['elapsed_s']:.0f} s); results in {self['results']}; report {self['report']}",
                 f"Pareto front ({', '.join(f'{k} {v}' for k, v in self['objectives'].items())}): "
                 f"{', '.join(self['pareto']) or '—'}"]
        if self.get("infeasible"):
            lines.append(f"Off the front, arriving late or short of propellant: {', '.join(self['infeasible'])}")
        return tables.group(*lines, *([tables.table("Failed variants", ["Variant", "Error"], rows, left=2)] if rows else []))



def run(sweep: Sweep, out: Path, *, scheduler: str | None = None, workers: int | None = None,
        every: list[Variant] | None = None, on_done: Callable[[int, int], None] | None = None) -> dict:
    """Run every variant (``every``, if already validated) not already completed in ``out`` on
    Dask (a LocalCluster of ``workers`` single-threaded processes, or the cluster at
    ``scheduler``), the parts variants share kept in ``out/cache`` (workers on other machines
    must see ``out``); returns the sweep's summary. One sweep at a time writes to ``out``."""
    began = time.perf_counter()
    every = variants(sweep) if every is None else every      # all validated before any work starts
    for name in ("results.parquet", "results.csv", "index.html"):
        if (out / name).is_dir():
            raise InputError(f"{out / name} is a folder; move it away or give another --out")
    made = next((p for p in reversed([out, *out.parents]) if not p.exists()), None)   # the first folder made here
    out.mkdir(parents=True, exist_ok=True)
    try:
        with (out / ".sweep.lock").open("a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)      # per open file: a second run here conflicts too
            except OSError:
                raise InputError(f"another sweep is writing to {out}; wait for it or give another --out") from None
            return _run(sweep, out, every, scheduler, workers, on_done, began)
    except InputError:                           # a mistake (an unreachable scheduler) leaves no folder behind
        if made is not None and {p.name for p in out.iterdir()} <= {".sweep.lock"}:
            shutil.rmtree(made)
        raise


def _run(sweep, out, every, scheduler, workers, on_done, began) -> dict:
    done = completed(out / "results.parquet", parameters(sweep))
    digests = [v.config.sha256() for v in every]
    write(sorted((row for digest, row in done.items() if digest not in set(digests)), key=lambda r: r["variant"]),
          out, parameters(sweep), EARLIER)                # rows an edited sweep file no longer lists: kept
    rows = [done[d] | {"variant": v.id, **v.cells} for v, d in zip(every, digests) if d in done]
    todo: dict[str, list[Variant]] = {}            # variants that are the same mission run once
    for v, d in zip(every, digests):
        if d not in done:
            todo.setdefault(d, []).append(v)
    if todo:
        with cluster.client(scheduler, workers) as client:
            cluster.check_code(client)
            cache = Cache(out.resolve() / "cache")
            futures = {client.submit(evaluate, same[0], cache, key=f"variant-{same[0].id}-{digest[:12]}", retries=2,
                                     pure=False): same for digest, same in todo.items()}
            for k, (same, row) in enumerate(_finished(client, futures), 1):
                rows.extend(row | {"variant": v.id, **v.cells} for v in same)
                write(sorted(rows, key=lambda r: r["variant"]), out, parameters(sweep))
                if on_done is not None:
                    on_done(k, len(todo))
    rows.sort(key=lambda r: r["variant"])
    if not todo:
        write(rows, out, parameters(sweep))
    failed = [{"variant": r["variant"], "error": r["error"]} for r in rows if r["status"] != "completed"]
    summary = {"variants": len(every), "completed": sum(r["status"] == "completed" for r in rows), "failed": failed,
               "infeasible": [r["variant"] for r in rows if r["status"] == "completed" and not merit.feasible(r)],
               "columns": list(rows[0]) if rows else [], "pareto": pareto(rows, sweep.objectives),
               "objectives": sweep.objectives, "results": str(out / "results.parquet"),
               "report": str(out / "index.html"), "computed": len(todo)}
    tradespace.write(out, summary, rows, parameters(sweep), Path(sweep.source).name)
    return summary | {"elapsed_s": round(time.perf_counter() - began, 1)}

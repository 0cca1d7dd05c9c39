"""Store-and-forward delivery of a mission's bundles over a contact plan: the Bundle Protocol
(CCSDS 734.2-B-1) with contact graph routing (CCSDS 734.3-B-1, SABR; Burleigh, "Contact Graph
Routing", IETF draft-burleigh-dtnrg-cgr) and LTP on every hop (CCSDS 734.1-B-1), as one
discrete-event simulation.

The model, per bundle (one row of :class:`Traffic`):

- **Routing.** When a bundle is ready at a node (created there, or arrived), CGR picks the route
  of earliest delivery from that node to its destination, at that time, for its size, over the
  contacts' residual volumes (:class:`~l4station.comms.dtn.cgr.Router`, SABR 3.2.6). The bundle
  is booked on the route's first contact only, as a node does: the contact's residual volume
  drops by its bits, times the expected LTP overhead 1/(1 - p) for a red bundle. With no route it
  waits, retried at the start of each later contact leaving its node, and is dropped ("no route")
  when none is left; a bundle ready after the last contact leaving its node is "undelivered at
  end" (the plan ends before its next contact). Routes only disappear as time passes and volumes are booked (the contact
  graph is FIFO), so a bundle with no route now has none later: the simulation goes straight to
  the last retry.
- **Route lists** (as ION keeps them): each node keeps, per destination and size class (quarter
  octaves of bits), its last route and the earliest delivery D2 of any route *not* through that
  route's first contact. A later bundle reuses the route while the route still carries it and
  still delivers no later than max(D2, t + lambda), lambda being the fastest transit (size / rate
  + light time, summed) of any path: every other route delivers at least that late (arrival over
  a route never decreases with the start time, and residual volumes only shrink), so the reuse is
  exactly CGR's choice. Otherwise CGR runs again (``route_searches`` counts the runs).
- **Queueing.** Bundles booked on a contact are sent one at a time at its rate, from
  max(contact start, ready time), in priority order (0 expedited, 1 normal, 2 bulk), then by
  creation time; a bundle chosen when the link frees is never pre-empted. One that no longer fits
  in what is left of the contact goes back to its node and is routed again.
- **LTP over a contact** with segment loss probability p and segments of ``segment_bits``: the
  bundle's n = ceil(bits / segment_bits) segments each get lost with probability p. Red part
  (reliable): after the first pass, each retransmission round costs a round trip 2 x OWLT (the
  checkpoint out, the report segment back) plus the resent segments' time at the rate; the
  session must end before the contact does, or the bundle is routed again at the contact's end
  (and sent again in full). The link is busy for the first pass and the resent segments; other
  sessions use it while one waits for its report. Green part (best effort): a bundle with any
  segment lost is lost ("green loss").
- **Arrival** at the next node: end of the session + OWLT. A delivery that lands after the plan's
  last contact ended still counts (it was on its way); a bundle held anywhere when the plan ends,
  or reaching a relay after it, is "undelivered at end".
- **Storage.** A node's occupied bits rise when a bundle is created at it or arrives (not at its
  destination) and fall when its session ends (green: end of the first pass), or when it is
  dropped; a bundle that would overfill a node is dropped ("storage full"). Each node's peak, and
  its largest occupancy in each of up to 2,000 equal time bins, are kept.

One contact 1 -> 2 from t = 0 at R bit/s with light time L, bundles of B bits created at t = 0: the
k-th one sent arrives at k B / R + L (``tests/comms/dtn/test_forwarding.py``). Over two hops whose
second contact opens at 50 s (8,000 bit/s, 1 s of light each), six 8,000-bit bundles created
10 s apart all arrive; the first waits at node 2 and arrives at 52 s:

>>> from l4station.comms.dtn import plan
>>> hops = plan.from_ion("a contact +0 +100 1 2 1000\\na contact +50 +200 2 3 1000\\n"
...                      "a range +0 +200 1 2 1\\na range +0 +200 2 3 1\\n")
>>> done = simulate(hops, periodic(1, 3, 0.0, 60.0, 10.0, 8000.0))
>>> done.delivered, done.latency_s["max"]
(6, 52.0)
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from l4station.comms.dtn.cgr import Router, _dijkstra
from l4station.comms.dtn.heap import pop, push
from l4station.comms.dtn.plan import MAX_NODE, ContactPlan
from l4station.constants import DAY_S
from l4station.errors import InputError
from l4station.limits import MAX_SEGMENTS

REASONS = ("storage full", "green loss", "no route", "undelivered at end")
FULL, GREEN, NO_ROUTE, AT_END = range(4)
PRIORITIES = {0: "expedited", 1: "normal", 2: "bulk"}
SEGMENT_BITS = 8000.0                 # LTP segment size (bits), the default
SERIES_POINTS = 2000                  # time bins of each node's storage series
MAX_ROUNDS = 1000                     # LTP retransmission rounds before a session is given up
SIZE_CLASSES_PER_OCTAVE = 4           # route lists are kept per quarter octave of bundle size
MAX_TIME_S = 1e10                     # creation times (s) within this of the plan's epoch: 317 years, to 2 us


@dataclass(frozen=True, eq=False)
class Traffic:
    """Bundles, one row each: ``source`` and ``dest`` node, ``created_s`` (s, plan time), ``bits``,
    ``priority`` (0 expedited, 1 normal, 2 bulk), ``file`` (file id, -1 for none) and ``red``
    (True: LTP red part, reliable; False: green, best effort)."""

    source: np.ndarray
    dest: np.ndarray
    created_s: np.ndarray
    bits: np.ndarray
    priority: np.ndarray
    file: np.ndarray
    red: np.ndarray

    @classmethod
    def of(cls, source, dest, created_s, bits, priority=1, file=-1, red=True) -> "Traffic":
        """Bundles from columns (scalars broadcast), checked and sorted by creation time."""
        try:
            cols = np.broadcast_arrays(*(np.atleast_1d(np.asarray(c)) for c in (source, dest, created_s, bits,
                                                                                 priority, file, red)))
        except ValueError:
            raise InputError("traffic columns must have one value per bundle (or one for all); their lengths differ") \
                from None
        given = cls(*(np.ravel(c) for c in cols))
        given.check()                                   # the values as given, before they are cast
        return cls(*(getattr(given, c).astype(t, copy=False)
                     for c, t in zip(_TRAFFIC_COLUMNS, _TRAFFIC_TYPES))).sorted()

    def __len__(self) -> int:
        return len(self.created_s)

    def sorted(self) -> "Traffic":
        """The same bundles in order of creation (stable)."""
        order = np.argsort(self.created_s, kind="stable")
        if np.all(order[1:] > order[:-1]):
            return self
        return Traffic(*(getattr(self, c)[order] for c in _TRAFFIC_COLUMNS))

    @staticmethod
    def concat(parts: list["Traffic"]) -> "Traffic":
        """Several streams as one, sorted by creation time; file ids renumbered so that no two
        parts share one."""
        parts = list(parts)
        if not parts:
            return Traffic(*(np.zeros(0, t) for t in _TRAFFIC_TYPES))
        files, offset = [], 0
        for p in parts:
            f = np.asarray(p.file, dtype=np.int64)
            files.append(np.where(f >= 0, f + offset, -1))
            offset += int(f.max()) + 1 if f.size and f.max() >= 0 else 0
        cols = {c: np.concatenate([np.asarray(getattr(p, c)) for p in parts]) for c in _TRAFFIC_COLUMNS}
        cols["file"] = np.concatenate(files)
        return Traffic(**cols).sorted()

    def check(self) -> None:
        """Refuse bundles no mission could have, naming the first."""
        n = len(self.created_s)
        for c in _TRAFFIC_COLUMNS:
            if np.shape(getattr(self, c)) != (n,):
                raise InputError(f"traffic column {c} has shape {np.shape(getattr(self, c))} for {n} bundles; "
                                 "give one value per bundle")
        for name, col, lo, what in (("source", self.source, 0, "node number from 0"),
                                    ("dest", self.dest, 0, "node number from 0"),
                                    ("file id", self.file, -1, "number from -1 (not in a file)")):
            bad = _not_whole(col, lo, MAX_NODE)
            if bad.size:
                raise InputError(f"bundle {bad[0]}: {name} {_shown(col[bad[0]])} must be a whole {what} to "
                                 f"{MAX_NODE:,}")
        bad = _not_whole(self.priority, -np.inf, np.inf)
        if bad.size:
            raise InputError(f"bundle {bad[0]}: priority {_shown(self.priority[bad[0]])} must be a whole number")
        bad = np.flatnonzero(~(np.abs(_numbers(self.created_s)) <= MAX_TIME_S))
        if bad.size:
            raise InputError(f"bundle {bad[0]}: creation time {_shown(self.created_s[bad[0]])} must be a finite number "
                             f"of seconds within ±{MAX_TIME_S:g} s of the plan's epoch")
        bits = _numbers(self.bits)
        bad = np.flatnonzero(~(np.isfinite(bits) & (bits > 0)))
        if bad.size:
            raise InputError(f"bundle {bad[0]}: size {_shown(self.bits[bad[0]])} bits must be a positive finite number")
        bad = np.flatnonzero((self.priority < 0) | (self.priority > 2))
        if bad.size:
            raise InputError(f"bundle {bad[0]}: priority {_shown(self.priority[bad[0]])} must be 0 (expedited), "
                             "1 (normal) or 2 (bulk)")
        red = self.red if self.red.dtype == bool else _numbers(self.red)
        bad = np.flatnonzero((red != 0) & (red != 1))
        if bad.size:
            raise InputError(f"bundle {bad[0]}: red {_shown(self.red[bad[0]])} must be True (LTP red, reliable) or "
                             "False (green, best effort)")
        bad = np.flatnonzero(self.source == self.dest)
        if bad.size:
            raise InputError(f"bundle {bad[0]}: source and destination are the same node ({self.source[bad[0]]})")


_TRAFFIC_COLUMNS = ("source", "dest", "created_s", "bits", "priority", "file", "red")
_TRAFFIC_TYPES = (np.int64, np.int64, float, float, np.int64, np.int64, bool)


def _real(x) -> float | None:
    """``x`` as a float when it is one real number (a 0-d array too), else None (text, True/False,
    arrays, None)."""
    if isinstance(x, np.ndarray) and x.ndim == 0:
        x = x[()]
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, float, np.integer, np.floating)):
        return None
    try:
        return float(x)
    except OverflowError:                           # an int beyond a double's range
        return math.copysign(math.inf, x)


def _whole(x) -> bool:
    """``x`` is one whole number (not True/False, not text)."""
    return _real(x) is not None and _real(x).is_integer()


def _numbers(col: np.ndarray) -> np.ndarray:
    """A column as floats, NaN where a value is not a number (text, True/False, None)."""
    if col.dtype.kind in "iuf":
        return col.astype(float, copy=False)
    if col.dtype.kind == "O":
        return np.array([np.nan if _real(v) is None else _real(v) for v in col], dtype=float)
    return np.full(col.shape, np.nan)


def _not_whole(col: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Where a column's values are not whole numbers from ``lo`` to ``hi``."""
    if col.dtype.kind in "iu":
        return np.flatnonzero((col < lo) | (col > hi))
    x = _numbers(col)
    with np.errstate(invalid="ignore"):                 # inf % 1
        return np.flatnonzero(~((x % 1 == 0) & (x >= lo) & (x <= hi)))


def _shown(x) -> str:
    """A value for a one-line message: as typed, an array by its shape."""
    if isinstance(x, np.ndarray) and x.ndim:
        return f"array of shape {x.shape}"
    return repr(x.item() if isinstance(x, (np.generic, np.ndarray)) else x)


def periodic(source: int, dest: int, start_s: float, stop_s: float, every_s: float, bits: float,
             priority: int = 1, red: bool = True, file_bits: float | None = None) -> Traffic:
    """A stream: a bundle of ``bits`` every ``every_s`` seconds from ``start_s`` until before
    ``stop_s`` (an instrument's packets, the beacon). With ``file_bits``, each period makes a
    file of that size instead (an image), cut into bundles of ``bits`` (the last one shorter),
    sharing one file id (0, 1, ... in order). Times are within :data:`MAX_TIME_S` of the plan's epoch."""
    for name, value in (("start", start_s), ("stop", stop_s)):
        if not (_real(value) is not None and abs(value) <= MAX_TIME_S):
            raise InputError(f"stream {name} time {_shown(value)} must be a finite number of seconds within "
                             f"±{MAX_TIME_S:g} s of the plan's epoch")
    if not (np.isfinite(every_s) and every_s > 0):
        raise InputError(f"stream period {every_s} s must be a positive number of seconds")
    if not (np.isfinite(bits) and bits > 0):
        raise InputError(f"stream bundle size {bits} bits must be a positive finite number")
    if file_bits is not None and not (np.isfinite(file_bits) and file_bits > 0):
        raise InputError(f"stream file size {file_bits} bits must be a positive finite number")
    count = max(0.0, float(np.ceil((stop_s - start_s) / every_s)))      # inf for a period of 1e-320 s
    per = 1.0 if file_bits is None else max(1.0, float(np.ceil(file_bits / bits)))     # 5e-324 / 10 is 0
    if max(count, 1.0) * per > 100_000_000:
        raise InputError(f"stream of {max(count, 1.0) * per:,.0f} bundles is more than 100,000,000; lengthen the "
                         "period")
    count, per = int(count), int(per)
    times = start_s + every_s * np.arange(count)
    if np.any(times[1:] <= times[:-1]):
        raise InputError(f"stream period {every_s} s is below the time resolution at "
                         f"{max(abs(start_s), abs(stop_s)):g} s; lengthen it")
    if file_bits is None:
        return Traffic.of(source, dest, times, bits, priority, -1, red)
    sizes = np.full(per, float(bits))
    sizes[-1] = file_bits - bits * (per - 1)
    return Traffic.of(source, dest, np.repeat(times, per), np.tile(sizes, count), priority,
                      np.repeat(np.arange(count), per), red)


@dataclass
class Delivery:
    """What became of a mission's bundles (:func:`simulate`): counts, losses by reason, latency
    (s, delivery minus creation) overall and by path (node numbers joined by ">"), each node's
    storage peak (bits) and series (bin start times, s, and the most bits held in each bin), and
    files (sent, complete, median completion in s: last bundle's delivery minus the file's first
    creation). Per bundle, in the traffic's order: ``delivered_s`` (NaN when not), ``hops``,
    ``reason`` (index into :data:`REASONS`, -1 when delivered), ``ltp_rounds`` (retransmission
    rounds, all hops) and the path (:meth:`path`); per contact, in the plan's order, the volume
    left unbooked, ``residual_bits``."""

    days: int
    bundles: int
    delivered: int
    lost_by_reason: dict[str, int]
    latency_s: dict[str, float | None]
    latency_by_path: dict[str, dict]
    storage_peak_bits: dict[int, float]
    files: dict
    route_searches: int
    route_mismatches: int = 0
    storage_series: dict[int, tuple[np.ndarray, np.ndarray]] = field(repr=False, default_factory=dict)
    delivered_s: np.ndarray = field(repr=False, default=None)
    hops: np.ndarray = field(repr=False, default=None)
    reason: np.ndarray = field(repr=False, default=None)
    ltp_rounds: np.ndarray = field(repr=False, default=None)
    path_codes: np.ndarray = field(repr=False, default=None)
    residual_bits: np.ndarray = field(repr=False, default=None)
    node_ids: np.ndarray = field(repr=False, default=None)
    names: dict[int, str] = field(repr=False, default_factory=dict)

    @property
    def lost(self) -> int:
        return int(sum(self.lost_by_reason.values()))

    def path(self, bundle: int) -> tuple[int, ...]:
        """The nodes bundle ``bundle`` went through, its source first (empty if too long to keep)."""
        return _decode(int(self.path_codes[bundle]), self.node_ids)

    def to_json(self) -> dict:
        return {"days": self.days, "bundles": self.bundles, "delivered": self.delivered, "lost": self.lost,
                "lost_by_reason": dict(self.lost_by_reason), "latency_s": dict(self.latency_s),
                "latency_by_path": {k: dict(v) for k, v in self.latency_by_path.items()},
                "storage_peak_bits": {str(k): v for k, v in self.storage_peak_bits.items()},
                "files": dict(self.files), "route_searches": self.route_searches}

    def __rich__(self):
        from l4station import tables
        name = lambda n: self.names.get(int(n), str(int(n)))             # noqa: E731
        fmt = lambda x, spec=",.1f": "-" if x is None else format(x, spec)  # noqa: E731
        lat = self.latency_s
        summary = tables.table(
            f"Store-and-forward over {self.days} days: {self.delivered:,} of {self.bundles:,} bundles delivered",
            ["Outcome", "Bundles"],
            [["delivered", f"{self.delivered:,}"]] + [[r, f"{n:,}"] for r, n in self.lost_by_reason.items()])
        paths = tables.table(
            f"Latency (s): p50 {fmt(lat['p50'])}, p95 {fmt(lat['p95'])}, max {fmt(lat['max'])}",
            ["Path", "Bundles", "p50 (s)", "p95 (s)"],
            [[" > ".join(name(n) for n in key.split(">")), f"{v['bundles']:,}", fmt(v["p50"]), fmt(v["p95"])]
             for key, v in self.latency_by_path.items()])
        store = tables.table("Storage", ["Node", "Peak (Mbit)"],
                             [[name(n), f"{b / 1e6:,.3f}"] for n, b in self.storage_peak_bits.items()])
        f = self.files
        return tables.group(summary, paths, store,
                            f"Files: {f['complete']:,} of {f['sent']:,} complete, median completion "
                            f"{fmt(f['median_completion_s'])} s; {self.route_searches:,} CGR searches.")


def compile_kernels() -> None:
    """Compile the store-and-forward kernels (about 8 s on first use; numba keeps them on disk
    for every later process) by running a two-hop plan, so that another process can do it while
    this one works."""
    from l4station.comms.dtn.plan import from_ion
    hops = from_ion("a contact +0 +100 1 2 1000\na contact +50 +200 2 3 1000\n"
                    "a range +0 +200 1 2 1\na range +0 +200 2 3 1\n")
    simulate(hops, periodic(1, 3, 0.0, 60.0, 10.0, 8000.0), storage_bits={1: 1e9}, loss={(1, 2): 0.1})


def simulate(plan: ContactPlan, traffic: Traffic, *, storage_bits: dict[int, float] | None = None,
             loss: float | dict[tuple[int, int], float] = 0.0, segment_bits: float = SEGMENT_BITS, seed: int = 0,
             verify_routes: bool = False) -> Delivery:
    """Carry ``traffic`` over ``plan`` by store and forward (see the module's docstring).

    ``storage_bits``: each node's storage (bits); nodes not given have no limit. ``loss``: the
    probability that an LTP segment is lost, one for every contact or per (from, to) pair (pairs
    not given: 0). ``seed``: the random segment losses'. ``verify_routes``: check every reused
    route against a fresh CGR search (slow; for tests), counted in ``route_mismatches``."""
    plan.check()
    router = Router(plan)
    nodes = router.node_ids
    traffic.check()
    for name, col in (("source", traffic.source), ("destination", traffic.dest)):
        bad = np.flatnonzero(~np.isin(col, nodes))
        if bad.size:
            raise InputError(f"bundle {bad[0]}: {name} node {col[bad[0]]} is not in the contact plan "
                             f"(its nodes: {_node_list(nodes)})")
    segment = _real(segment_bits)
    if segment is None or not (np.isfinite(segment) and segment > 0):
        raise InputError(f"LTP segment size {_shown(segment_bits)} bits must be a positive finite number")
    segment_bits = segment
    if not (isinstance(seed, (int, np.integer)) and 0 <= seed < 2 ** 32):
        raise InputError(f"seed {seed!r} must be a whole number from 0 to 2**32 - 1 (the loss draws' generator "
                         "reads 32 bits)")
    most = float(traffic.bits.max()) / float(segment_bits) if len(traffic) else 0.0
    if most > MAX_SEGMENTS:      # the kernel counts segments in int64 and draws their losses one by one
        raise InputError(f"LTP segments of {segment_bits:g} bits cut the largest bundle ({traffic.bits.max():g} bits) "
                         f"into {most:.3g}; at most {MAX_SEGMENTS:,}: give larger segments")
    cap = np.full(len(nodes), np.inf)
    for node, bits in (storage_bits or {}).items():
        if not _whole(node):
            raise InputError(f"storage_bits keys must be whole node numbers, got {_shown(node)}")
        k, held = router.node(node), _real(bits)
        if held is None or not held >= 0:
            raise InputError(f"storage of node {node}: {_shown(bits)} bits must be 0 or more (inf: no limit)")
        cap[k] = held

    def probability(p, where: str = "") -> float:
        q = _real(p)                                # np.array(0.5) as 0.5
        if q is None or not 0 <= q < 1:
            raise InputError(f"segment loss {_shown(p)} {where}must be a probability in [0, 1)")
        return q

    p_loss = np.full(len(plan), 0.0 if isinstance(loss, dict) else probability(loss))
    for pair, p in (loss.items() if isinstance(loss, dict) else ()):
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise InputError(f"segment loss is keyed by (from, to) node pairs, got {pair!r}")
        if not (_whole(pair[0]) and _whole(pair[1])):
            raise InputError(f"segment loss pairs must be whole node numbers, got {pair!r}")
        a, b = router.node(pair[0]), router.node(pair[1])
        p_loss[(router.frm == a) & (router.to == b)] = probability(p, f"from {pair[0]} to {pair[1]} ")

    order = np.argsort(traffic.created_s, kind="stable")
    src = np.searchsorted(nodes, traffic.source[order])
    dst = np.searchsorted(nodes, traffic.dest[order])
    created, bits = traffic.created_s[order].astype(float), traffic.bits[order].astype(float)
    klass = np.floor(np.log2(bits) * SIZE_CLASSES_PER_OCTAVE).astype(np.int64)
    classes, sclass = np.unique(klass, return_inverse=True)
    class_bits = np.full(len(classes), np.inf)
    np.minimum.at(class_bits, sclass, bits)

    n = len(nodes)
    pair_owlt, pair_rate = np.full((n, n), np.inf), np.zeros((n, n))
    np.minimum.at(pair_owlt, (router.frm, router.to), plan.owlt_s)
    np.maximum.at(pair_rate, (router.frm, router.to), plan.rate_bps)
    last_start = np.full(n, -np.inf)
    np.maximum.at(last_start, router.frm, plan.start_s)
    t_end = float(plan.end_s.max())
    t_lo = float(min(plan.start_s.min(), created.min() if created.size else np.inf))
    t_hi = max(t_end + float(plan.owlt_s.max()), float(created.max()) if created.size else t_end)
    bin_s = max((t_hi - t_lo) / SERIES_POINTS, 1e-9) * (1 + 1e-12)

    graph = (router.frm.astype(np.int64), router.to.astype(np.int64), plan.start_s.astype(float),
             plan.end_s.astype(float), plan.rate_bps.astype(float), plan.owlt_s.astype(float), router.residual_bits,
             router.by_sender.astype(np.int64), router.first.astype(np.int64))
    least = _least_transit(pair_owlt, pair_rate, class_bits).ravel()      # by (u * n + d) * classes + s
    out = _simulate(graph, p_loss, last_start, least, src.astype(np.int64), dst.astype(np.int64),
                    created, bits, traffic.priority[order].astype(np.int64), traffic.red[order].astype(np.bool_),
                    sclass.astype(np.int64), class_bits, cap, float(segment_bits), int(seed), t_end, t_lo, bin_s,
                    bool(verify_routes), _work(src.astype(np.int64), len(plan), n, len(classes)))
    delivered_s, reason, hops, rounds, codes, peak, binmax, stats = out
    back = np.empty_like(order)
    back[order] = np.arange(len(order))
    delivered_s, reason, hops, rounds, codes = (a[back] for a in (delivered_s, reason, hops, rounds, codes))

    result = _summary(traffic, nodes, delivered_s, reason, codes, t_end, t_lo)
    times = t_lo + bin_s * np.arange(SERIES_POINTS)
    delivery = Delivery(
        days=result["days"], bundles=len(traffic), delivered=result["delivered"],
        lost_by_reason={r: int(np.sum(reason == k)) for k, r in enumerate(REASONS)},
        latency_s=result["latency"], latency_by_path=result["by_path"],
        storage_peak_bits={int(nodes[k]): float(peak[k]) for k in range(n)}, files=result["files"],
        route_searches=int(stats[0]), route_mismatches=int(stats[1]),
        storage_series={int(nodes[k]): (times, binmax[k]) for k in range(n)}, delivered_s=delivered_s, hops=hops,
        reason=reason, ltp_rounds=rounds, path_codes=codes, residual_bits=router.residual_bits, node_ids=nodes,
        names=dict(plan.names))
    return delivery


def _least_transit(pair_owlt: np.ndarray, pair_rate: np.ndarray, class_bits: np.ndarray) -> np.ndarray:
    """Least transit (s) from each node to each, for each size class's smallest bundle: size /
    rate + light time summed over a path, each pair at its fastest rate and shortest light time,
    waiting ignored (Dijkstra, scipy). A lower bound on any route's delivery minus its start;
    shape (nodes, nodes, classes), inf where no path leads."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    n = len(pair_rate)
    frm, to = np.nonzero(pair_rate > 0)
    least = np.empty((n, n, len(class_bits)))
    for s, bits in enumerate(class_bits):
        edges = csr_matrix((bits / pair_rate[frm, to] + pair_owlt[frm, to], (frm, to)), shape=(n, n))
        least[:, :, s] = dijkstra(edges, directed=True)
    return least


def _work(src: np.ndarray, contacts: int, n: int, classes: int) -> tuple:
    """The arrays :func:`_simulate` fills, made here (numba compiles each kind of allocation
    apart, ~2 s on first use): per bundle (from its source ``src``), per contact, per node, per
    route list (n * n * classes of them), the search counts and the event heap."""
    nb, keys = src.size, n * n * classes
    none = np.full(nb, -1, np.int64)
    bundles = (src.copy(), none.copy(), np.full(nb, np.nan), np.full(nb, -1, np.int8), np.zeros(nb, np.int32),
               np.zeros(nb, np.int32), src + 1, none.copy(), none)
    contact = (np.full(contacts, -1, np.int64), np.zeros(contacts, bool), np.full(contacts, -np.inf),
               np.zeros(contacts, bool))
    node = (np.zeros(n), np.zeros(n, np.int64), np.zeros(n), np.zeros((n, SERIES_POINTS)), np.zeros(n, np.int64),
            np.zeros(n, bool))
    routes = (np.zeros((keys, max(n, 1)), np.int64), np.zeros(keys, np.int64), np.zeros(keys), np.full(keys, np.inf),
              np.full(keys, np.inf))
    return bundles, contact, node, routes, np.zeros(2, np.int64), np.empty((2 * nb + contacts + 1, 4))


def _node_list(nodes) -> str:
    return ", ".join(str(n) for n in nodes[:20]) + (" ..." if len(nodes) > 20 else "")


def _num(x) -> float | None:
    return float(x) if x is not None and np.isfinite(x) else None


def _decode(code: int, node_ids) -> tuple[int, ...]:
    base, out = len(node_ids) + 1, []
    if code < 0:
        return ()
    while code:
        code, digit = divmod(code, base)
        out.append(int(node_ids[digit - 1]))
    return tuple(reversed(out))


def _summary(traffic: Traffic, nodes, delivered_s, reason, codes, t_end, t_lo) -> dict:
    """Latency, latency by path, and files, from the per-bundle outcome."""
    ok = np.isfinite(delivered_s)
    latency = delivered_s[ok] - traffic.created_s[ok]
    stats = {"p50": None, "p95": None, "max": None}
    if latency.size:
        p50, p95 = np.percentile(latency, [50, 95])
        stats = {"p50": float(p50), "p95": float(p95), "max": float(latency.max())}
    by_path = {}
    if latency.size:
        kinds, inverse = np.unique(codes[ok], return_inverse=True)
        order = np.lexsort((latency, inverse))
        bounds = np.searchsorted(inverse[order], np.arange(len(kinds) + 1))
        rows = []
        for k, code in enumerate(kinds):
            chunk = latency[order[bounds[k]:bounds[k + 1]]]
            path = _decode(int(code), nodes)
            key = ">".join(str(n) for n in path) if path else "(longer than kept)"
            p50, p95 = np.percentile(chunk, [50, 95])
            rows.append((-chunk.size, key, {"bundles": int(chunk.size), "p50": float(p50), "p95": float(p95)}))
        by_path = {key: v for _, key, v in sorted(rows, key=lambda r: r[:2])}
    in_file = traffic.file >= 0
    files = {"sent": 0, "complete": 0, "median_completion_s": None}
    if in_file.any():
        ids, inverse = np.unique(traffic.file[in_file], return_inverse=True)
        missing = np.zeros(len(ids), np.int64)
        np.add.at(missing, inverse, ~ok[in_file])
        first = np.full(len(ids), np.inf)
        np.minimum.at(first, inverse, traffic.created_s[in_file])
        last = np.full(len(ids), -np.inf)
        np.maximum.at(last, inverse, np.where(ok[in_file], delivered_s[in_file], -np.inf))
        complete = missing == 0
        files = {"sent": int(len(ids)), "complete": int(complete.sum()),
                 "median_completion_s": float(np.median(last[complete] - first[complete])) if complete.any() else None}
    days = int(math.ceil(max(t_end - t_lo, 0.0) / DAY_S - 1e-9)) if np.isfinite(t_lo) else 0
    return {"days": days, "delivered": int(ok.sum()), "latency": stats, "by_path": by_path, "files": files}


# --- the simulation kernel (plan times in s, sizes in bits, rates in bit/s) --------------------

RELEASE, ARRIVE, CREATE, ROUTE, DROP, SERVE = 0.0, 1.0, 2.0, 3.0, 4.0, 5.0   # event kinds, in their order at
# one instant (floats, as the event heap keeps them)


@njit(cache=True)
def _less(i, j, prio, created):
    """Bundle i goes before bundle j on a contact: priority, then creation time, then order."""
    if prio[i] != prio[j]:
        return prio[i] < prio[j]
    if created[i] != created[j]:
        return created[i] < created[j]
    return i < j


@njit(cache=True)
def _merge(a, b, left, right, prio, created):
    """Merge two skew heaps of bundles (roots a and b, -1 for empty); returns the root."""
    if a < 0:
        return b
    if b < 0:
        return a
    if _less(b, a, prio, created):
        a, b = b, a
    root, x, y = a, a, b
    while True:
        r = right[x]
        if r < 0:
            right[x] = left[x]
            left[x] = y
            break
        if _less(y, r, prio, created):
            z, y = y, r
        else:
            z = r
        right[x] = left[x]
        left[x] = z
        x = z
    return root


@njit(cache=True)
def _store(k, t, delta, occ, held, peak, binmax, cur_bin, t_lo, bin_s):
    """Node k's stored bits change by ``delta`` at time t (s): occupancy, peak and time bins."""
    before = occ[k]
    held[k] += 1 if delta > 0 else -1
    after = before + delta if held[k] > 0 else 0.0
    occ[k] = after
    if after > peak[k]:
        peak[k] = after
    nb = binmax.shape[1]
    b = min(max(int((t - t_lo) / bin_s), 0), nb - 1)
    if b > cur_bin[k]:
        for j in range(cur_bin[k] + 1, b + 1):
            binmax[k, j] = before
        cur_bin[k] = b
    if after > binmax[k, b]:
        binmax[k, b] = after


@njit(cache=True)
def _walk(route, length, t, bits, start, end, rate, owlt, residual):
    """Delivery (s) of ``bits`` ready at ``t`` (s) over the contacts ``route[:length]``; inf when
    a contact has ended, lacks residual volume or time for it (as the CGR search judges).
    ``start``, ``end``, ``owlt`` s, ``rate`` bit/s, ``residual`` bits, per contact."""
    for h in range(length):
        c = route[h]
        if end[c] <= t:
            return np.inf
        begin = max(t, start[c])
        if residual[c] < bits or rate[c] * (end[c] - begin) < bits:
            return np.inf
        t = begin + bits / rate[c] + owlt[c]
    return t


@njit(cache=True)
def _first_hop(u, d, s, bits, t, graph, class_bits, least, cache_route, cache_len, cache_d2, none_t, none_bits,
               no_contact, no_node, stats, verify):
    """The first contact of CGR's best route for a bundle of ``bits`` at node u, to d, at t (-1:
    none), from the route list of (u, d, size class s) when it is still the best (module docstring)."""
    frm, to, start, end, rate, owlt, residual, by_sender, first = graph
    n = first.size - 1
    key = (u * n + d) * class_bits.size + s
    if cache_len[key] > 0:
        delivery = _walk(cache_route[key], cache_len[key], t, bits, start, end, rate, owlt, residual)
        if delivery < np.inf:
            bound = max(cache_d2[key], t + least[key])
            if delivery <= bound + 1e-9 + 1e-13 * abs(bound):
                if verify:
                    path, arrival = _dijkstra(frm, to, start, end, rate, owlt, residual, by_sender, first, u, d, t,
                                              bits, no_contact, no_node)
                    if path.size == 0 or arrival < delivery - 1e-6 - 1e-12 * abs(delivery):
                        stats[1] += 1
                return cache_route[key, 0]
    if t >= none_t[key] and bits >= none_bits[key]:
        if verify:
            path, arrival = _dijkstra(frm, to, start, end, rate, owlt, residual, by_sender, first, u, d, t,
                                      bits, no_contact, no_node)
            if path.size > 0:
                stats[1] += 1
        return -1
    stats[0] += 1
    path, arrival = _dijkstra(frm, to, start, end, rate, owlt, residual, by_sender, first, u, d, t, bits,
                              no_contact, no_node)
    if path.size == 0:
        cache_len[key] = 0
        none_t[key] = t
        none_bits[key] = bits
        return -1
    c0 = path[0]
    no_contact[c0] = True
    other, second = _dijkstra(frm, to, start, end, rate, owlt, residual, by_sender, first, u, d, t, class_bits[s],
                              no_contact, no_node)
    no_contact[c0] = False
    cache_d2[key] = second
    for h in range(path.size):
        cache_route[key, h] = path[h]
    cache_len[key] = path.size
    return c0


@njit(cache=True)
def _lost(n, p):
    """Segments lost of ``n``, each with probability ``p`` (0 < p < 1): a binomial draw by the
    waiting-time method (Devroye, Non-Uniform Random Variate Generation, 1986, sec. X.4.3: the
    gaps between losses are geometric), exact, in time proportional to n p."""
    lost, at = 0, 0.0
    scale = 1.0 / math.log1p(-p)
    while True:
        at += math.floor(math.log(1.0 - np.random.random()) * scale) + 1.0
        if at > n:
            return lost
        lost += 1


@njit(cache=True)
def _simulate(graph, p_loss, last_start, least, src, dst, created, bits, prio, red, sclass,
              class_bits, cap, seg_bits, seed, t_end, t_lo, bin_s, verify, work):
    """The event loop. Bundles in order of creation; node numbers dense. Returns per bundle the
    delivery time (s, NaN), loss reason (-1 none), hops, LTP rounds and path code; per node the
    storage peak and binned series (bits); and [route searches, route mismatches].

    Units: ``created``, ``last_start``, ``t_end``, ``t_lo``, ``bin_s`` s; ``least`` s, the least
    transit by route-list key (:func:`_least_transit`); ``bits``, ``class_bits``, ``cap``,
    ``seg_bits`` bits; ``p_loss`` a probability per LTP segment; ``graph`` the contact arrays as
    :func:`_dijkstra` takes them; ``work`` the arrays it fills, as :func:`_work` lays them out."""
    frm, to, start, end, rate, owlt, residual, by_sender, first = graph
    n = first.size - 1
    nb = src.size
    np.random.seed(seed)
    (node, nxt, delivered, reason, hops, rounds, code, left, right), (root, scheduled, free_at, no_contact), \
        (occ, held, peak, binmax, cur_bin, no_node), (cache_route, cache_len, cache_d2, none_t, none_bits), \
        stats, events = work
    limit = (1 << 62) // (n + 1)
    events[0, 0], events[0, 1], events[0, 2], events[0, 3] = np.inf, 99.0, 0.0, 0.0    # a sentinel that never leaves
    size = np.int64(1)
    ci = 0
    while True:
        top_t, top_kind = events[0, 0], events[0, 1]
        if ci < nb and (created[ci] < top_t or (created[ci] == top_t and CREATE < top_kind)):
            i = ci
            ci += 1
            t = created[i]
            u = src[i]
            if occ[u] + bits[i] > cap[u] * (1 + 1e-12):
                reason[i] = FULL
                continue
            _store(u, t, bits[i], occ, held, peak, binmax, cur_bin, t_lo, bin_s)
        else:
            if top_t == np.inf:
                break
            t, kind, _, x_ = pop(events, size)
            size -= 1
            x = int(x_)
            if kind == RELEASE:
                _store(node[x], t, -bits[x], occ, held, peak, binmax, cur_bin, t_lo, bin_s)
                continue
            if kind == DROP:
                _store(node[x], t, -bits[x], occ, held, peak, binmax, cur_bin, t_lo, bin_s)
                reason[x] = NO_ROUTE
                continue
            if kind == SERVE:
                c = x
                scheduled[c] = False
                if root[c] < 0:
                    continue
                if t >= end[c]:                     # the contact is over: the rest go back to their node
                    while root[c] >= 0:
                        i = root[c]
                        root[c] = _merge(left[i], right[i], left, right, prio, created)
                        left[i] = right[i] = -1
                        events = push(events, size, t, ROUTE, 0.0, i)
                        size += 1
                    continue
                i = root[c]
                root[c] = _merge(left[i], right[i], left, right, prio, created)
                left[i] = right[i] = -1
                b = bits[i]
                if rate[c] * (end[c] - t) < b:      # no longer fits: routed again now
                    events = push(events, size, t, ROUTE, 0.0, i)
                    size += 1
                    free = t
                else:
                    t1 = t + b / rate[c]
                    segments = max(1, int(math.ceil(b / seg_bits)))
                    p = p_loss[c]
                    if red[i]:
                        lost = _lost(segments, p) if p > 0 else 0
                        done, resent, r = t1, 0, 0
                        while lost > 0 and r < MAX_ROUNDS:
                            r += 1
                            resent += lost
                            done += 2.0 * owlt[c] + lost * (b / segments) / rate[c]
                            lost = _lost(lost, p)
                        free = t1 + resent * (b / segments) / rate[c]
                        if lost > 0 or done > end[c]:   # the session cannot finish in this contact
                            events = push(events, size, end[c], ROUTE, 0.0, i)
                            size += 1
                        else:
                            rounds[i] += r
                            nxt[i] = to[c]
                            events = push(events, size, done, RELEASE, 0.0, i)
                            size += 1
                            events = push(events, size, done + owlt[c], ARRIVE, 0.0, i)
                            size += 1
                    else:
                        free = t1
                        events = push(events, size, t1, RELEASE, 0.0, i)
                        size += 1
                        if p == 0 or np.random.random() < (1.0 - p) ** segments:
                            nxt[i] = to[c]
                            events = push(events, size, t1 + owlt[c], ARRIVE, 0.0, i)
                            size += 1
                        else:
                            reason[i] = GREEN
                free_at[c] = free
                if root[c] >= 0:
                    scheduled[c] = True
                    events = push(events, size, max(free, start[c]), SERVE, 0.0, c)
                    size += 1
                continue
            i = x
            if kind == ARRIVE:
                v = nxt[i]
                node[i] = v
                hops[i] += 1
                if code[i] >= 0:
                    code[i] = code[i] * (n + 1) + v + 1 if code[i] < limit else -1
                if v == dst[i]:
                    delivered[i] = t
                    continue
                if occ[v] + bits[i] > cap[v] * (1 + 1e-12):
                    reason[i] = FULL
                    continue
                _store(v, t, bits[i], occ, held, peak, binmax, cur_bin, t_lo, bin_s)
        # bundle i is ready at its node at t: route it and book it on the route's first contact
        u = node[i]
        if t >= t_end:
            reason[i] = AT_END
            continue
        c = _first_hop(u, dst[i], sclass[i], bits[i], t, graph, class_bits, least, cache_route, cache_len, cache_d2,
                       none_t, none_bits, no_contact, no_node, stats, verify)
        if c < 0:
            if last_start[u] > t:
                events = push(events, size, last_start[u], DROP, 0.0, i)
                size += 1
            else:       # its node's contacts are over: it waits past the plan's end (none ever: no route)
                _store(u, t, -bits[i], occ, held, peak, binmax, cur_bin, t_lo, bin_s)
                reason[i] = AT_END if last_start[u] > -np.inf else NO_ROUTE
            continue
        residual[c] -= bits[i] / (1.0 - p_loss[c]) if red[i] else bits[i]
        root[c] = _merge(root[c], i, left, right, prio, created)
        if not scheduled[c]:
            scheduled[c] = True
            events = push(events, size, max(t, start[c], free_at[c]), SERVE, 0.0, c)
            size += 1

    for k in range(n):
        for j in range(cur_bin[k] + 1, binmax.shape[1]):
            binmax[k, j] = occ[k]
    for i in range(nb):
        if reason[i] < 0 and not delivered[i] == delivered[i]:
            reason[i] = AT_END
    return delivered, reason, hops, rounds, code, peak, binmax, stats

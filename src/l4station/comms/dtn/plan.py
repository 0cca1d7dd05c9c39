"""Contact plans: when each node can send to another, at what rate, and with what one-way light
time (OWLT), as delay-tolerant networks schedule them.

A plan is a table of contacts, one row each (``frm``, ``to``, ``start_s``, ``end_s``,
``rate_bps``, ``owlt_s``, ``confidence``), times in seconds from the plan's epoch. Nodes are
numbers, as in ION and HDTN (``ipn:N``). Plans are read and written in both tools' forms:

- **ION** (``ionrc`` / ``ionadmin`` commands, Burleigh 2007): ``a contact +START +END FROM TO
  RATE [CONFIDENCE]`` (RATE in bytes/s) and ``a range +START +END FROM TO OWLT``; a range given
  one way holds both ways, as ION assumes. Times are seconds after the epoch (``+N``) or UTC
  ``yyyy/mm/dd-hh:mm:ss``.
- **HDTN JSON** (``contactPlan.json``): ``{"contacts": [{contact, source, dest, startTime,
  endTime, rateBitsPerSec, owlt}]}`` (HDTN's older files say ``rate``).

Every contact is checked: an end after its start, a rate and an OWLT that are finite and not
negative, whole node numbers from 0 to :data:`MAX_NODE`, and no two contacts of the same pair
overlapping in time.

ION's rate is in bytes/s, ours in bit/s; a range holds over the contacts it spans:

>>> hop = from_ion("a contact +0 +100 1 2 1000\\na range +0 +200 1 2 1\\n")
>>> hop.rate_bps.tolist(), hop.owlt_s.tolist(), hop.volume_bits.tolist()
([8000.0], [1.0], [800000.0])
>>> print(hop.to_ion(), end="")
# l4station contact plan
a contact +0 +100 1 2 1000
a range +0 +100 1 2 1
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from l4station import textfiles
from l4station.errors import InputError

COLUMNS = ("frm", "to", "start_s", "end_s", "rate_bps", "owlt_s", "confidence")


@dataclass(frozen=True, eq=False)
class ContactPlan:
    """Contacts as columns of equal length (see the module's docstring); ``epoch`` is the UTC
    time (ISO 8601) that times count from, when known."""

    frm: np.ndarray
    to: np.ndarray
    start_s: np.ndarray
    end_s: np.ndarray
    rate_bps: np.ndarray
    owlt_s: np.ndarray
    confidence: np.ndarray
    epoch: str | None = None
    names: dict[int, str] = field(default_factory=dict)

    @classmethod
    def of(cls, contacts, epoch: str | None = None, names: dict[int, str] | None = None) -> "ContactPlan":
        """A checked plan from rows ``(frm, to, start_s, end_s, rate_bps, owlt_s[, confidence])``,
        or from a dict of columns."""
        if isinstance(contacts, dict):
            cols = {c: np.asarray(contacts.get(c, np.ones(len(contacts["frm"])) if c == "confidence" else
                                               contacts[c])) for c in COLUMNS}
        else:
            rows = [tuple(r) + ((1.0,) if len(r) == 6 else ()) for r in contacts]
            if any(len(r) != 7 for r in rows):
                raise InputError("a contact is (from, to, start_s, end_s, rate_bps, owlt_s[, confidence])")
            table = np.array(rows, dtype=float).reshape(-1, 7)
            cols = dict(zip(COLUMNS, table.T))
        plan = cls(*(np.asarray(cols[c], dtype=float) for c in COLUMNS), epoch=epoch, names=dict(names or {}))
        plan.check()                                    # node numbers as given, before they become integers
        return replace(plan, frm=plan.frm.astype(np.int64), to=plan.to.astype(np.int64))

    def __len__(self) -> int:
        return len(self.frm)

    @property
    def nodes(self) -> np.ndarray:
        return np.unique(np.concatenate([self.frm, self.to]))

    @property
    def volume_bits(self) -> np.ndarray:
        """Bits each contact can carry: rate x duration."""
        return self.rate_bps * (self.end_s - self.start_s)

    def check(self) -> None:
        """Refuse contacts no network could have, naming the first and how to fix it (whole columns
        at once: a plan of 100,000 contacts in milliseconds)."""
        if not len(self):
            raise InputError("the contact plan holds no contacts; give at least one")
        for c in COLUMNS:
            if np.shape(getattr(self, c)) != (len(self),):
                raise InputError(f"contact plan column {c} has shape {np.shape(getattr(self, c))} for {len(self)} "
                                 "contacts; give one value per contact")
        f, t, s, e, r, o, c = (np.asarray(getattr(self, col)) for col in COLUMNS)
        with np.errstate(invalid="ignore", over="ignore"):
            complaints = (      # in the order they are told: a contact's first only
                (~(np.isfinite(s) & np.isfinite(e)), "start and end must be finite seconds"),
                (~(e > s), "ends at or before it starts (duration {d:g} s); give end > start"),
                (~(np.isfinite(r) & (r > 0)), "rate {r:g} bit/s must be a positive number"),
                (~(np.isfinite(o) & (o >= 0)), "one-way light time {o:g} s must be zero or more"),
                (~((c > 0) & (c <= 1)), "confidence {c:g} must be in (0, 1]"),
                (~np.isfinite(r * (e - s)), "rate x duration overflows; give a shorter contact or a lower rate"),
                (f == t, "a contact joins two different nodes"),
                (~((f % 1 == 0) & (t % 1 == 0) & (np.minimum(f, t) >= 0) & (np.maximum(f, t) <= MAX_NODE)),
                 f"node numbers must be whole numbers from 0 to {MAX_NODE:,} (ipn node numbers)"))
        bad = np.stack([mask for mask, _ in complaints])
        if bad.any():
            k = int(np.argmax(bad.any(axis=0)))
            with np.errstate(invalid="ignore", over="ignore"):
                told = complaints[int(np.argmax(bad[:, k]))][1].format(d=e[k] - s[k], r=r[k], o=o[k], c=c[k])
            raise InputError(f"contact {k} ({f[k]:.16g}->{t[k]:.16g}, {s[k]:g}-{e[k]:g} s): {told}")
        order = np.lexsort((s, t, f))
        same = (f[order][1:] == f[order][:-1]) & (t[order][1:] == t[order][:-1])
        overlap = same & (s[order][1:] < e[order][:-1])
        if overlap.any():
            a, b = order[np.argmax(overlap)], order[np.argmax(overlap) + 1]
            raise InputError(f"contacts {a} and {b} ({f[a]:.16g}->{t[a]:.16g}) overlap in time "
                             f"({s[a]:g}-{e[a]:g} s and {s[b]:g}-{e[b]:g} s); merge them or remove one")

    def name(self, node: int) -> str:
        return self.names.get(int(node), str(int(node)))

    # --- files --------------------------------------------------------------------------------

    def to_hdtn(self) -> dict:
        """The plan as HDTN's contact-plan JSON."""
        names = {"nodeNames": {str(n): name for n, name in sorted(self.names.items())}} if self.names else {}
        return names | {"contacts": [{"contact": k, "source": int(self.frm[k]), "dest": int(self.to[k]),
                              "startTime": float(self.start_s[k]), "endTime": float(self.end_s[k]),
                              "rateBitsPerSec": float(self.rate_bps[k]), "owlt": float(self.owlt_s[k])}
                             for k in range(len(self))]}

    def to_ion(self) -> str:
        """The plan as ION ``ionadmin`` commands (rates in bytes/s, times after the epoch)."""
        lines = [f"# l4station contact plan{f', epoch {self.epoch}' if self.epoch else ''}"]
        lines += [f"# node {n} {name}" for n, name in sorted(self.names.items())]
        for k in range(len(self)):
            span = f"+{self.start_s[k]:.17g} +{self.end_s[k]:.17g} {self.frm[k]} {self.to[k]}"
            conf = "" if self.confidence[k] == 1 else f" {self.confidence[k]:g}"
            lines.append(f"a contact {span} {self.rate_bps[k] / 8:.17g}{conf}")
            lines.append(f"a range {span} {self.owlt_s[k]:.17g}")
        return "\n".join(lines) + "\n"

    def write(self, path) -> None:
        """Write ION commands (``.rc``, ``.ionrc``, ``.txt``) or HDTN JSON (``.json``)."""
        path = Path(path)
        text = json.dumps(self.to_hdtn(), indent=1) if path.suffix == ".json" else self.to_ion()
        path.write_text(text)


def read(path) -> ContactPlan:
    """A plan from an HDTN JSON file (``.json``) or ION commands (anything else)."""
    path = Path(path)
    try:
        text = textfiles.read(path, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read contact plan {path}: {getattr(exc, 'strerror', None) or exc}") from None
    return from_hdtn(text, path.name) if text.lstrip().startswith("{") else from_ion(text, path.name)


def from_hdtn(text: str, source: str = "plan") -> ContactPlan:
    """A plan from HDTN's contact-plan JSON text."""
    try:
        doc = json.loads(text)
        contacts = doc["contacts"]
        names = {_node(int(k)): str(v) for k, v in doc.get("nodeNames", {}).items()} \
            if isinstance(doc.get("nodeNames"), dict) else {}
        rows = []
        for c in contacts:
            rate = c["rateBitsPerSec"] if "rateBitsPerSec" in c else c["rate"]
            rows.append((_node(c["source"]), _node(c["dest"]), _number(c["startTime"], "startTime"),
                         _number(c["endTime"], "endTime"), _number(rate, "rateBitsPerSec"), _number(c["owlt"], "owlt"),
                         _number(c.get("confidence", 1.0), "confidence")))
    except json.JSONDecodeError as exc:
        raise InputError(f"{source}: not JSON ({exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise InputError(f"{source}: JSON nested too deeply to be a contact plan") from None
    except (KeyError, TypeError) as exc:
        raise InputError(f"{source}: each contact needs source, dest, startTime, endTime, rateBitsPerSec and owlt "
                         f"(missing or wrong: {exc})") from None
    except ValueError as exc:
        raise InputError(f"{source}: {exc}") from None
    return ContactPlan.of(rows, names=names)


MAX_NODE = 2 ** 53 - 1                 # node numbers kept exactly (ION allows up to 2^64 - 1)


def _node(value) -> int:
    if isinstance(value, bool) or not float(value).is_integer():
        raise ValueError(f"node {value!r} is not a node number")
    if not 0 <= int(value) <= MAX_NODE:
        raise ValueError(f"node {value} is outside 0 to {MAX_NODE:,} (the node numbers this tool keeps exactly)")
    return int(value)


def _number(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{what} {value!r} is not a number")
    return float(value)


ION_TIME = re.compile(r"(\d{4})/(\d{2})/(\d{2})-(\d{2}):(\d{2}):(\d{2}(?:\.\d*)?)$")


def from_ion(text: str, source: str = "plan") -> ContactPlan:
    """A plan from ION ``a contact`` / ``a range`` commands; other commands and comments are skipped."""
    contacts, ranges, absolute = [], [], []
    epoch, names = None, {}
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split("#", 1)[0].split()
        head = line.strip()
        if head.startswith("#") and "epoch" in head:
            epoch = head.split("epoch", 1)[1].strip(" ,") or None
        named = head[1:].split(None, 2) if head.startswith("#") else []
        if len(named) == 3 and named[0] == "node" and named[1].isdigit():     # "# node N name", as we write them
            names[int(named[1])] = named[2]
        if len(words) < 2 or words[0] != "a" or words[1] not in ("contact", "range"):
            continue
        try:
            start, end = (_ion_time(w, absolute) for w in words[2:4])
            frm, to = _node(words[4]), _node(words[5])
            value = float(words[6])
            if words[1] == "contact":
                conf = float(words[7]) if len(words) > 7 else 1.0
                contacts.append([frm, to, start, end, value * 8, np.nan, conf, number])
            else:
                ranges.append((frm, to, start, end, value))
        except (IndexError, ValueError) as exc:
            raise InputError(f"{source} line {number}: {line.strip()!r} is not 'a {words[1]} +START +END FROM TO "
                             f"{'RATE' if words[1] == 'contact' else 'OWLT'}' ({exc})") from None
    if absolute:                                      # absolute times count from the earliest one
        from astropy.time import Time
        first = min(absolute)
        epoch = epoch or Time(first, format="unix").utc.isot
        for row in contacts:
            row[2:4] = [t - first if isinstance(t, _Absolute) else t for t in row[2:4]]
        ranges = [(f, t, s - first if isinstance(s, _Absolute) else s, e - first if isinstance(e, _Absolute) else e, o)
                  for f, t, s, e, o in ranges]
    by_pair: dict[tuple[int, int], list] = {}
    for f, t, s, e, o in ranges:
        by_pair.setdefault((min(f, t), max(f, t)), []).append((s, e, o, (f, t)))
    for pair, spans in by_pair.items():                 # ranges of a pair that overlap must agree
        spans.sort()
        for (s0, e0, o0, d0), (s1, e1, o1, d1) in zip(spans, spans[1:]):
            if s1 < e0 and o1 != o0 and d0 == d1:
                raise InputError(f"{source}: ranges {d0[0]}->{d0[1]} overlap at +{s1:g} s with different light times "
                                 f"({o0:g} and {o1:g} s); keep one")
    for row in contacts:
        if not row[3] > row[2]:
            raise InputError(f"{source} line {row[7]}: contact {row[0]}->{row[1]} ends at or before it starts "
                             f"(+{row[2]:g} to +{row[3]:g} s); give end > start")
        covering = [(o, d) for s, e, o, d in by_pair.get((min(row[0], row[1]), max(row[0], row[1])), ())
                    if s <= row[2] < e]
        if not covering:
            raise InputError(f"{source} line {row[7]}: no 'a range' covers contact {row[0]}->{row[1]} at "
                             f"+{row[2]:g} s; add one with its one-way light time")
        exact = [o for o, d in covering if d == (row[0], row[1])]
        row[5] = (exact or [o for o, _ in covering])[0]
    return ContactPlan.of([r[:7] for r in contacts], epoch=epoch, names=names)


class _Absolute(float):
    """A time given as a UTC date (seconds since 1970), to be made relative to the plan's first."""


def _ion_time(word: str, absolute: list) -> float:
    if word.startswith("+"):
        return float(word[1:])
    match = ION_TIME.match(word)
    if not match:
        raise ValueError(f"time {word!r} is neither +SECONDS nor yyyy/mm/dd-hh:mm:ss")
    from datetime import datetime, timezone
    y, mo, d, h, mi, s = match.groups()
    stamp = datetime(int(y), int(mo), int(d), int(h), int(mi), tzinfo=timezone.utc).timestamp() + float(s)
    absolute.append(stamp)
    return _Absolute(stamp)

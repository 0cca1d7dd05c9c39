"""Input records: the small, frozen sets of plain values an expensive computation depends on.

A record is a frozen dataclass whose identity is the SHA-256 digest of its fields written as
canonical JSON, every value tagged with its kind so that different values never share a
digest (3.0 is not "3.0", {1: 2} is not {"1": 2}, True is not 1) and equal values always do
(60, 60.0 and ``np.float64(60.0)``; 0.0 and -0.0; 1 km and 1000 m; one instant in any time
scale or time zone). Times are TT Julian-date pairs, floats exact (``hex``). Containers are
frozen and arrays and times copied read-only on construction, so a record cannot change under
its hash. Two records with the same digest ask for the same result, so a result can be cached on it:

>>> @record
... class Grid:
...     start_day: float
...     steps: tuple[int, ...]
>>> Grid(1.0, (2, 3)).digest() == Grid(1.0, (2, 3)).digest() != Grid(1.5, (2, 3)).digest()
True
>>> len({Grid(1.0, (2, 3)), Grid(1.0, (2, 3))})
1
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import numbers
from collections.abc import Mapping, Set
from datetime import datetime, timezone
from typing import Any

import numpy as np

from l4station.errors import InputError


class _Frozen(dict):
    """A dict that refuses changes (a record's mapping field)."""

    def _refuse(self, *args, **kwargs):
        raise TypeError("a record's fields cannot change: build a new record with dataclasses.replace")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = __ior__ = _refuse

    def __hash__(self):
        return hash(digest(self))

    def __reduce__(self):                 # pickle and deepcopy rebuild it whole, not key by key
        return _Frozen, (dict(self),)


def _freeze(value: Any) -> Any:
    """``value`` with every container inside it made immutable (arrays and times copied read-only)."""
    if isinstance(value, Mapping):
        return _Frozen({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, (set, frozenset)):
        return frozenset(_freeze(v) for v in value)
    if isinstance(value, np.ndarray) or (hasattr(value, "jd1") and hasattr(value, "writeable")):
        value = value.copy()
        if isinstance(value, np.ndarray):
            value.flags.writeable = False
        else:
            value.writeable = False
    return value


def _canonical(value: Any) -> Any:
    """``value`` as tagged JSON types, exactly; TypeError for a value with no canonical form."""
    if value is None or isinstance(value, (bool, str, np.bool_)):
        return value if not isinstance(value, np.bool_) else bool(value)
    if isinstance(value, numbers.Real):                       # numbers by value: 60 is 60.0, -0.0 is 0.0
        x = float(value)
        if not math.isfinite(x):
            return ["float", repr(x)]
        if x != value:                                        # not a float exactly (2**53 + 1, 1/3 as a fraction)
            return ["exact", type(value).__name__, str(value)]
        return ["float", (x + 0.0).hex()]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return ["record", type(value).__name__,
                {f.name: _canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}]
    if hasattr(value, "model_dump"):                          # pydantic models (ground stations)
        return ["model", type(value).__name__, _canonical(value.model_dump(mode="python"))]
    if hasattr(value, "jd1") and hasattr(value, "tt"):        # astropy Time, scalar or array
        tt = value.tt
        return ["time", _canonical(np.asarray(tt.jd1).tolist()), _canonical(np.asarray(tt.jd2).tolist())]
    if hasattr(value, "unit") and hasattr(value, "si"):       # astropy Quantity, in SI: 1 km is 1000 m
        si = value.si
        return ["quantity", _canonical(np.asarray(si.value).tolist()), str(si.unit)]
    if isinstance(value, datetime) and value.tzinfo is not None:   # one instant, whatever the zone
        return ["date", "datetime", value.astimezone(timezone.utc).replace(tzinfo=None).isoformat()]
    if hasattr(value, "isoformat"):                           # dates and naive datetimes
        return ["date", type(value).__name__, value.isoformat()]
    if isinstance(value, Mapping):
        items = [[_canonical(k), _canonical(v)] for k, v in value.items()]
        return ["map", sorted(items, key=lambda kv: json.dumps(kv[0], sort_keys=True))]
    if isinstance(value, Set):
        return ["set", sorted((_canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))]
    if isinstance(value, (list, tuple)):
        return ["seq", [_canonical(v) for v in value]]
    if hasattr(value, "tolist"):                              # numpy arrays
        return ["seq" if getattr(value, "ndim", 0) else "scalar", _canonical(value.tolist())]
    raise TypeError(f"a record cannot hold a {type(value).__name__}: use numbers, strings, times, "
                    "tuples, dicts or other records")


def digest(value: Any) -> str:
    """SHA-256 (hex) of ``value`` as canonical JSON."""
    text = json.dumps(_canonical(value), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def record(cls: type) -> type:
    """Make ``cls`` a frozen dataclass whose containers are frozen, hashed and compared by its digest."""
    checks = cls.__dict__.get("__post_init__")

    def __post_init__(self):
        for f in dataclasses.fields(self):
            object.__setattr__(self, f.name, _freeze(getattr(self, f.name)))
        if checks is not None:
            checks(self)

    cls.__post_init__ = __post_init__
    cls = dataclasses.dataclass(frozen=True, eq=False)(cls)
    cls.digest = lambda self: digest(self)
    cls.__hash__ = lambda self: hash(self.digest())
    cls.__eq__ = lambda self, other: type(self) is type(other) and self.digest() == other.digest()
    return cls



def positive(rec, *names: str, zero: bool = False) -> None:
    """Refuse a field of ``rec`` that is not a finite number above zero (or at least zero)."""
    for name in names:
        value = getattr(rec, name)
        ok = (isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
              and (value >= 0 if zero else value > 0))
        if not ok:
            raise InputError(f"{type(rec).__name__}.{name} must be a finite number "
                             f"{'at least' if zero else 'above'} 0, got {value!r}")


def one_of(rec, name: str, options: tuple) -> None:
    """Refuse a field of ``rec`` outside ``options``."""
    value = getattr(rec, name)
    if value not in options:
        raise InputError(f"{type(rec).__name__}.{name} must be one of {', '.join(map(str, options))}, got {value!r}")


def instant(rec, *names: str) -> None:
    """Refuse a field of ``rec`` that is not one astropy Time."""
    for name in names:
        value = getattr(rec, name)
        if not (hasattr(value, "jd1") and hasattr(value, "tt") and value.isscalar):
            raise InputError(f"{type(rec).__name__}.{name} must be one astropy Time, got {value!r}")

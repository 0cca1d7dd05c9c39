"""Input records: the small, frozen sets of plain values an expensive computation depends on.

A record is a frozen dataclass whose identity is the SHA-256 digest of its fields written as
canonical JSON (sorted keys; times as TT Julian-date pairs; floats exactly, as ``repr``).
Two records with the same digest ask for the same result, so a result can be cached on it:

>>> from dataclasses import dataclass
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
from typing import Any


def _plain(value: Any) -> Any:
    """``value`` as JSON types, exactly (no rounding of floats or times)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"type": type(value).__name__,
                **{f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    if hasattr(value, "model_dump"):                       # pydantic models (ground stations)
        return {"type": type(value).__name__, **_plain(value.model_dump(mode="json"))}
    if hasattr(value, "jd1") and hasattr(value, "tt"):     # astropy Time
        tt = value.tt
        return {"tt_jd": [_plain(tt.jd1.tolist()), _plain(tt.jd2.tolist())]}
    if hasattr(value, "isoformat"):                        # dates and datetimes
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return repr(value)
    if hasattr(value, "tolist"):                           # numpy scalars and arrays
        return _plain(value.tolist())
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return repr(value)


def digest(value: Any) -> str:
    """SHA-256 (hex) of ``value`` as canonical JSON."""
    text = json.dumps(_plain(value), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def record(cls: type) -> type:
    """Make ``cls`` a frozen dataclass hashed and compared by its digest."""
    cls = dataclasses.dataclass(frozen=True, eq=False)(cls)
    cls.digest = lambda self: digest(self)
    cls.__hash__ = lambda self: hash(self.digest())
    cls.__eq__ = lambda self, other: type(self) is type(other) and self.digest() == other.digest()
    return cls

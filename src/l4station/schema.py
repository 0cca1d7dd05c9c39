"""Value types for validated inputs (mission files, station catalogues): strict where TOML is loose.

pydantic's plain ``float`` takes ``true`` as 1.0, ``"3"`` as 3.0 and ``inf``/``nan`` as numbers, and plain ``int``
takes ``true`` as 1 and ``2.0`` as 2. These types refuse all of that, so a value that passes
``l4station config check`` is one the computation can use. Bounds are added per field with
``Field(gt=..., le=...)`` next to the type:

>>> from pydantic import BaseModel, Field
>>> class Burn(BaseModel):
...     dv_ms: Real = Field(ge=0.0, le=1e4)
>>> Burn(dv_ms=5).dv_ms
5.0
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BeforeValidator, Field, Strict


def _not_a_flag(value):
    """Refuse booleans and text where a number is expected (``True`` would otherwise read as 1,
    ``"3"`` as 3.0)."""
    if isinstance(value, bool):
        raise ValueError(f"must be a number, not {str(value).lower()}")
    if isinstance(value, str):
        raise ValueError(f"must be a number, not the text {value!r}: drop the quotes")
    return value


Real = Annotated[float, BeforeValidator(_not_a_flag), Field(allow_inf_nan=False)]
"""A finite real number (ints are accepted as their float value; booleans, text, inf and nan
are not)."""

Fraction = Annotated[Real, Field(ge=0.0, le=1.0)]
"""A finite number in [0, 1]."""

def _not_a_number(value):
    """Refuse numbers (and booleans) where a date is expected (pydantic reads them as Unix times)."""
    if isinstance(value, (bool, int, float)):
        raise ValueError(f"must be a date such as 2031-01-01T00:00:00, not {value!r}")
    return value


Instant = Annotated[datetime, BeforeValidator(_not_a_number)]
"""A date and time (a TOML date-time or an ISO string; never a number read as Unix time)."""

Day = Annotated[date, BeforeValidator(_not_a_number)]
"""A calendar day (a TOML date or an ISO string)."""

Integer = Annotated[int, Strict()]
"""A whole number written as one (not ``2.0``, not ``true``, not a string)."""

Flag = Annotated[bool, Strict()]
"""``true`` or ``false`` (not 0/1, not a string)."""

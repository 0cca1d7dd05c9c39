"""Checks of the numbers a user gives the radiation functions: real, finite, in range, and named
in one line when not (:class:`l4station.errors.InputError`), with the number shown to the digit
that matters."""
from __future__ import annotations

import numbers

import numpy as np

from l4station.errors import InputError


def real_numbers(value, what: str, *, scalar: bool = False) -> np.ndarray:
    """``value`` as floats, or an InputError naming it where it is not real numbers (text,
    complex, bool, None) or, with ``scalar``, not one number; for this package's public functions.

    >>> real_numbers([1, 2.5], "energy").tolist()
    [1.0, 2.5]
    """
    if np.ma.isMaskedArray(value) and np.ma.is_masked(value):
        raise InputError(f"{what}: a masked array's masked values would be read as numbers; give "
                         "np.ma.compressed(values) or fill them")
    try:
        array = np.asarray(value)
        if array.dtype.kind == "O" and all(isinstance(v, numbers.Real) and not isinstance(v, bool)
                                           for v in array.flat):
            array = array.astype(float)                  # integers beyond int64, fractions
    except (TypeError, ValueError):                      # ragged lists
        array = np.asarray(None)
    if array.dtype.kind not in "iuf" or (scalar and array.ndim):
        raise InputError(f"{what} must be {'one real number' if scalar else 'real numbers'}, got {brief(value)}")
    return array.astype(float)


def brief(value) -> str:
    """``repr(value)`` on one line, at most 60 characters, for an error message.

    >>> brief("x" * 100)[-5:], brief(np.eye(2))
    ('xx...', 'array([[1., 0.], [0., 1.]])')
    """
    text = " ".join(repr(value).split())
    return text if len(text) <= 60 else text[:57] + "..."


def shown(value: float) -> str:
    """A number to the last digit that tells it apart (Python's shortest repr), without a trailing
    ".0", and in powers of ten from 1e9.

    >>> shown(1e4 * (1 + 1e-12)), shown(20000.0), shown(2e15), shown(float("nan"))
    ('10000.00000001', '20000', '2e+15', 'nan')
    """
    x = float(value)
    if abs(x) >= 1e9 and np.isfinite(x):
        return np.format_float_scientific(x, trim="-")
    text = repr(x)
    return text[:-2] if text.endswith(".0") else text


def checked(value, what: str, unit: str = "", low: float = -np.inf, high: float = np.inf, *,
             above: bool = False, scalar: bool = False) -> np.ndarray:
    """``value`` as floats, or an InputError naming the first that is not finite and in
    [low, high] ((low, high] with ``above``); with ``scalar``, one real number only."""
    x = real_numbers(value, what, scalar=scalar)
    ok = np.isfinite(x) & (x <= high) & ((x > low) if above else (x >= low))
    if not ok.all():
        if high < np.inf:
            bound = f" and in {'(' if above else '['}{low:g}, {high:g}]"
        else:
            bound = "" if low == -np.inf else f" and {'more than' if above else 'at least'} {low:g}"
        unit = f" {unit}" if unit else ""
        raise InputError(f"{what} must be finite{bound}{unit if bound else ''}, got {shown(x[~ok].flat[0])}{unit}")
    return x

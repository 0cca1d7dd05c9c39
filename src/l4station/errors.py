"""The one exception a person's mistake raises: what is wrong and how to fix it, in one line;
and the numbers a person may type.

Commands report it as a one-line message and exit code 2, never as a traceback. Callers that
catch ValueError keep working:

>>> issubclass(InputError, ValueError)
True
"""
import re


class InputError(ValueError):
    """A mistake in the user's input (a mission file, an option, a time outside the ephemeris)."""


def first_line(error: BaseException, most: int = 500) -> str:
    r"""What a one-line report shows of ``error``: its message's first line (its kind's name if it
    has none), at most ``most`` characters.

    >>> first_line(RuntimeError("worker lost\ntraceback ...")), first_line(KeyError())
    ('worker lost', 'KeyError')
    """
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:most]


PLAIN_NUMBER = re.compile(r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)",
                          re.IGNORECASE | re.ASCII)


def plain_number(text: str) -> float:
    """The number ``text`` writes in plain ASCII decimals (or nan, inf), else ValueError: Python's
    float also reads 1_0 and non-ASCII digits, which a file or option should not mean.

    >>> plain_number("-1.5e3"), plain_number("nan")
    (-1500.0, nan)
    """
    if not PLAIN_NUMBER.fullmatch(text):
        raise ValueError(f"not a plain number: {text!r}")
    return float(text)

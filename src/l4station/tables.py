"""How results print themselves for a person: a titled table, built only when printed.

Result types give ``__rich__`` (a table, or several, for :mod:`rich` to draw) and
``to_json()`` (the same numbers for tools); the command line prints one or the other.
"""
from __future__ import annotations


def table(title: str, columns: list[str], rows: list[list[str]], *, left: int = 1):
    """A :class:`rich.table.Table` titled ``title``; the first ``left`` columns are text (left
    aligned), the rest numbers (right aligned)."""
    from rich.table import Table

    out = Table(title=title, title_justify="left")
    for i, column in enumerate(columns):
        out.add_column(column, justify="left" if i < left else "right")
    for row in rows:
        out.add_row(*row)
    return out


def group(*parts):
    """Several tables and lines printed one after another."""
    from rich.console import Group

    return Group(*parts)


def rate_text(bps: float) -> str:
    """A data rate with a unit that suits it.

    >>> rate_text(2.5e6), rate_text(980.0)
    ('2.5 Mbps', '980 bps')
    """
    for unit, scale in (("Gbps", 1e9), ("Mbps", 1e6), ("kbps", 1e3)):
        if bps >= scale:
            return f"{bps / scale:.3g} {unit}"
    return f"{bps:.3g} bps"

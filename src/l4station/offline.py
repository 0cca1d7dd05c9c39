"""Astropy without downloads: Earth orientation and leap seconds from the tables shipped in
astropy-iers-data, however old, never fetched at run time.

Mission epochs lie years past any table: there UT1-UTC is a prediction (|UT1-UTC| < 0.9 s,
under 0.004 deg of Earth rotation, which station visibility tolerates) and no leap second
is announced, so a stale table degrades to a warning, never to a download.

A library call that needs the tables uses :func:`settings` (the host's astropy settings are
left as they were); an application that owns its process (the ``l4station`` command, its
server) calls :func:`configure` once.

Past the leap-second table ERFA also flags UTC as a "dubious year". UTC-TAI for such dates is
a prediction (no new leap seconds) by nature, so :func:`configure` silences that one message
for the process and :func:`future_utc_quiet` within a block; every other ERFA warning shows.
"""
from __future__ import annotations

import contextlib
import functools
import warnings

_SETTINGS = {"auto_download": False, "auto_max_age": None, "iers_degraded_accuracy": "warn"}
FUTURE_UTC = r'ERFA function "\w+" yielded .*dubious year'
"""ERFA's warning for a UTC date past the leap-second table (a mission epoch)."""


@contextlib.contextmanager
def settings():
    """Within the block, astropy reads only its shipped IERS and leap-second tables.

    >>> from astropy.utils import iers
    >>> with settings():
    ...     iers.conf.auto_download
    False
    """
    from astropy.utils import iers

    with contextlib.ExitStack() as stack:
        for name, value in _SETTINGS.items():
            stack.enter_context(iers.conf.set_temp(name, value))
        yield


def configure() -> None:
    """For the rest of the process, astropy reads only its shipped tables (applications only)."""
    from astropy.utils import iers

    for name, value in _SETTINGS.items():
        setattr(iers.conf, name, value)
    warnings.filterwarnings("ignore", message=FUTURE_UTC)


@contextlib.contextmanager
def future_utc_quiet():
    """Within the block, ERFA's "dubious year" warning for future UTC is not shown (library calls
    that work at mission epochs); the host's warning filters are restored after it."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=FUTURE_UTC)
        yield


_MJD_ZERO = 2400000.5   # JD of MJD 0 (astropy's iers.MJD_ZERO)


@functools.cache
def _bulletin_a() -> tuple:
    """The rows astropy keeps from the shipped IERS-A file (``finals2000A.all``, with a UT1-UTC and a
    polar-motion flag): their MJD (d, UTC) and Bulletin A UT1-UTC (s), and the index of the last row
    that has a Bulletin B value too (columns as its ReadMe.finals2000A: MJD bytes 8-15, flag 17,
    UT1-UTC A 59-68, UT1-UTC B 155-165). Its 20,000 lines sliced take 30 ms, where astropy's
    table reader takes two seconds over it and the IERS-B file."""
    import numpy as np
    from astropy_iers_data import IERS_A_FILE

    mjd, dut1, last_b = [], [], -1
    with open(IERS_A_FILE) as file:
        for line in file:
            value = line[58:68].strip()
            if not value or not line[16:17].strip():
                continue
            if line[154:165].strip():
                last_b = len(mjd)
            mjd.append(float(line[7:15]))
            dut1.append(float(value))
    return np.array(mjd), np.array(dut1), last_b


def ut1_minus_utc(jd1, jd2):
    """UT1-UTC (s) at the UTC two-part Julian dates (jd1, jd2) as astropy's offline IERS table gives
    it (``IERS_Auto`` from astropy-iers-data: linear in time between daily rows, the last row's value
    past the end), computed from the Bulletin A rows alone. None if any date needs a row that has
    Bulletin B values (astropy replaces those with the IERS-B file's): ask astropy then.

    Mission epochs lie past the table, where both give its last prediction:

    >>> from astropy.time import Time
    >>> t = Time(["2031-01-01", "2036-06-01"], scale="utc")
    >>> with settings():
    ...     (ut1_minus_utc(t.jd1, t.jd2) == t.delta_ut1_utc).all()
    np.True_
    """
    import numpy as np

    rows_mjd, rows_dut1, last_b = _bulletin_a()
    # astropy's IERS._interpolate, operation for operation.
    jd1, jd2 = np.asarray(jd1, dtype=float), np.asarray(jd2, dtype=float)
    mjd = np.floor(jd1 - _MJD_ZERO + jd2)
    utc = jd1 - (_MJD_ZERO + mjd) + jd2
    i = np.searchsorted(rows_mjd, mjd, side="right")
    i1 = np.clip(i, 1, len(rows_mjd) - 1)
    i0 = i1 - 1
    if np.any(i0 <= last_b):
        return None
    val_0, val_1 = rows_dut1[i0], rows_dut1[i1]
    step = val_1 - val_0
    step -= step.round()              # a leap second between two rows
    value = val_0 + (mjd - rows_mjd[i0] + utc) / (rows_mjd[i1] - rows_mjd[i0]) * step
    value[i == len(rows_mjd)] = rows_dut1[-1]
    return value

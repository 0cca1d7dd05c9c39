"""Astropy without downloads: Earth orientation and leap seconds from the tables shipped in
astropy-iers-data, however old, never fetched at run time.

Mission epochs lie years past any table: there UT1-UTC is a prediction (|UT1-UTC| < 0.9 s,
under 0.004 deg of Earth rotation, which station visibility tolerates) and no leap second
is announced, so a stale table degrades to a warning, never to a download.

A library call that needs the tables uses :func:`settings` (the host's astropy settings are
left as they were); an application that owns its process (the ``l4station`` command, its
server) calls :func:`configure` once.
"""
from __future__ import annotations

import contextlib

_SETTINGS = {"auto_download": False, "auto_max_age": None, "iers_degraded_accuracy": "warn"}


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

"""Third-party libraries' log messages, quieted only while l4station calls them.

>>> import logging
>>> log = logging.getLogger("a.library")
>>> log.setLevel(logging.INFO)
>>> with quieted("a.library"):
...     logging.getLevelName(log.level)
'ERROR'
>>> logging.getLevelName(log.level)
'INFO'
"""
from __future__ import annotations

import contextlib
import logging


@contextlib.contextmanager
def quieted(*names: str, level: int = logging.ERROR):
    """Within the block, the loggers ``names`` pass only ``level`` and above; the host's levels
    are restored after it."""
    logs = [logging.getLogger(name) for name in names]
    before = [log.level for log in logs]
    for log in logs:
        log.setLevel(level)
    try:
        yield
    finally:
        for log, old in zip(logs, before):
            log.setLevel(old)

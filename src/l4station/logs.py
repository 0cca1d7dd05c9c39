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
import threading

_lock = threading.Lock()
_held: dict[str, tuple[int, int]] = {}          # logger name -> (blocks inside, the host's level)


@contextlib.contextmanager
def quieted(*names: str, level: int = logging.ERROR):
    """Within the block, the loggers ``names`` pass only ``level`` and above; the host's levels
    are restored when the last block using each (in any thread) ends."""
    with _lock:
        for name in names:
            inside, host = _held.get(name, (0, logging.getLogger(name).level))
            _held[name] = (inside + 1, host)
            logging.getLogger(name).setLevel(level)
    try:
        yield
    finally:
        with _lock:
            for name in names:
                inside, host = _held[name]
                if inside == 1:
                    del _held[name]
                    logging.getLogger(name).setLevel(host)
                else:
                    _held[name] = (inside - 1, host)

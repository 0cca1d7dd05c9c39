"""Expensive results kept on disk, keyed by exactly the inputs they read and the code.

A study's slow parts (the transfer trade, the station's stay, its visibility from the ground,
the observing-system experiment) are pure functions of small input records
(:mod:`l4station.study.inputs`) and of the code. A :class:`Cache` keeps each result in a folder
under the SHA-256 digest of its kind, those records and this installation's code
(:func:`code_digest`), so sweep variants that share the inputs of a part
share its result, across worker processes and machines that see the folder, and another build
never reads it. One process computes a part while the others that need it wait on its lock
file; the result goes to a private temporary file renamed into place (atomic on POSIX), so a
reader never sees half a result. Each entry carries a SHA-256 checksum of its name and bytes:
a damaged, truncated or renamed entry is computed again and replaced. Entries are pickles, so
a cache folder is trusted as code is: let only the people who run the studies write to it.

:func:`shared` is the user's own cache: model evaluations that are slow only to set up (the
ITU-R maps behind a site's attenuation), which every command reads from it after the first, and
the slow parts of ``l4station study``, so that studying a mission again recomputes only the
parts whose inputs changed. It keeps at most :data:`USER_CACHE_BYTES`, the entries used least
recently going first.

>>> import tempfile
>>> cache = Cache(tempfile.mkdtemp())
>>> cache.get("square", (3,), lambda: 3 ** 2), cache.get("square", (3,), lambda: -1)
(9, 9)
"""
from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import os
import pickle
import re
import stat
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from l4station.errors import InputError
from l4station.records import digest

T = TypeVar("T")


@functools.cache
def code_digest() -> str:
    """SHA-256 of this installation's l4station code and data files (what a result depends on
    besides its inputs), worked out once per process."""
    root = Path(__file__).parent
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".toml", ".html", ".js", ".css")):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


ENTRY_NAME = re.compile(r"[a-z][a-z0-9-]*-[0-9a-f]{32}\.pickle")
"""The names :meth:`Cache.path` gives entries: only files so named are ever evicted."""

USER_CACHE_BYTES = 2e9
"""The most the user's cache keeps (bytes); a study of the default mission keeps ~150 MB."""


class Cache:
    """Results on disk under ``directory`` (created if missing); with ``max_bytes``, at most
    that many, the entries used least recently removed first."""

    def __init__(self, directory: str | Path, max_bytes: float | None = None):
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise InputError(f"cache folder {self.directory}: cannot create it ({error.strerror or error}); "
                             "give a writable folder") from None
        if not os.access(self.directory, os.W_OK | os.X_OK):
            raise InputError(f"cache folder {self.directory}: not writable; give a writable folder")
        self.hits = self.misses = 0

    def path(self, kind: str, key: Any) -> Path:
        """Where the result of ``kind`` for inputs ``key`` (records, numbers, tuples) is kept: the
        digest of both and of this installation's code, so another build never reads it."""
        return self.directory / f"{kind}-{digest((kind, code_digest(), key))[:32]}.pickle"

    def _read(self, path: Path) -> tuple[bool, Any]:
        """(True, value) of an entry whose checksum holds; (False, None) for a missing, damaged
        or misplaced one (the checksum covers the entry's name and its bytes)."""
        try:
            data = path.read_bytes()
        except OSError:
            return False, None
        check, _, payload = data.partition(b"\n")
        if check != _checksum(path.name, payload):
            return False, None
        try:
            value = pickle.loads(payload)
        except Exception:                    # a whole entry that still will not load: compute it again
            return False, None
        with contextlib.suppress(OSError):   # its time of last use, for the eviction
            os.utime(path)
        return True, value

    def get(self, kind: str, key: Any, compute: Callable[[], T]) -> T:
        """The kept result of ``kind`` for ``key``, or ``compute()`` kept for next time. While one
        process computes an entry, others asking for it wait for it (a POSIX lock on a lock file,
        released by the system if that process dies) instead of computing it too."""
        path = self.path(kind, key)
        found, value = self._read(path)
        if not found:
            with path.with_suffix(".lock").open("a") as lock:
                fcntl.lockf(lock, fcntl.LOCK_EX)
                found, value = self._read(path)          # computed while this one waited
                if not found:
                    value = self._store(path, kind, compute())
        if found:
            self.hits += 1
        return value

    def _store(self, path: Path, kind: str, value: T) -> T:
        self.misses += 1
        fd, partial = tempfile.mkstemp(dir=self.directory, prefix=f".{kind}-", suffix=".partial")
        try:
            payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(fd, "wb") as file:
                file.write(_checksum(path.name, payload) + b"\n" + payload)
            os.chmod(partial, 0o644)          # mkstemp's 0600 would hide it from workers run as other users
            os.replace(partial, path)
        except OSError:                       # a full disk costs the saving, never the result
            Path(partial).unlink(missing_ok=True)
        if self.max_bytes is not None:
            self._evict(keep=path)
        return value

    def _evict(self, keep: Path) -> None:
        """Remove the entries used least recently, with their lock files, until the folder holds
        at most ``max_bytes`` (never ``keep``, the entry just written)."""
        entries = []
        for entry in self.directory.glob("*.pickle"):
            if ENTRY_NAME.fullmatch(entry.name) is None:     # not one of ours: a user's file stays
                continue
            with contextlib.suppress(OSError):
                info = entry.lstat()
                if stat.S_ISREG(info.st_mode) or stat.S_ISLNK(info.st_mode):
                    entries.append((info.st_mtime, info.st_size, entry))
        total = sum(size for _, size, _ in entries)
        for _, size, entry in sorted(entries):
            if total <= self.max_bytes:
                break
            if entry != keep:
                with contextlib.suppress(OSError):
                    entry.unlink(missing_ok=True)
                    total -= size
                    entry.with_suffix(".lock").unlink(missing_ok=True)   # (a process waiting on it computes afresh)

    def __reduce__(self):                    # a worker process opens the same folder
        return Cache, (self.directory, self.max_bytes)


def _checksum(name: str, payload: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\0" + payload).hexdigest().encode()


def compute(cache: Cache | None, kind: str, key: Any, work: Callable[[], T]) -> T:
    """``work()`` through ``cache`` when there is one."""
    return work() if cache is None else cache.get(kind, key, work)


@functools.cache
def shared() -> Cache | None:
    """The user's cache: ``$L4STATION_CACHE`` or ``$XDG_CACHE_HOME/l4station`` (by default
    ``~/.cache/l4station``); None (everything computed afresh) when ``L4STATION_CACHE`` is set
    empty or the folder cannot be written (one line on stderr says so when the user named it)."""
    folder = os.environ.get("L4STATION_CACHE")
    named = bool(folder)
    if folder is None:
        folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "l4station"
    try:
        return Cache(folder, USER_CACHE_BYTES) if str(folder) else None
    except InputError as error:
        if named:
            print(f"l4station: L4STATION_CACHE: {error}; computing without it", file=sys.stderr)
        return None

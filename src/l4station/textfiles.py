"""Text files a person names (a mission, a sweep, a contact plan, a spectrum), read only if they
are regular files of bounded size: a device (/dev/zero), a pipe or a huge file is refused with
its reason instead of filling memory or waiting for a writer for ever.

>>> read("/dev/zero", 1000)
Traceback (most recent call last):
...
OSError: [Errno 22] not a regular file (a device or a pipe): '/dev/zero'
"""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

MAX_BYTES = 64 * 2 ** 20
"""The largest mission, sweep or contact-plan file read (bytes): a plan of a million contacts is about 50 MB."""


def read(path: str | Path, limit_bytes: int = MAX_BYTES, encoding: str = "utf-8") -> str:
    """The text of the file at ``path``. OSError whose ``strerror`` says why when it cannot be
    read, is a directory (IsADirectoryError), is not a regular file or holds more than
    ``limit_bytes``; UnicodeDecodeError when it is not ``encoding``."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)    # a FIFO opened so does not wait for a writer
    try:
        info = os.fstat(descriptor)                         # what was opened, not what the name held before
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, "is a directory", str(path))
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file (a device or a pipe)", str(path))
    except OSError:
        os.close(descriptor)
        raise
    too_big = OSError(errno.EFBIG, f"larger than {limit_bytes:,} bytes", str(path))
    with open(descriptor, "rb") as file:
        if info.st_size > limit_bytes:
            raise too_big
        data = file.read(limit_bytes + 1)
    if len(data) > limit_bytes:                           # it grew since
        raise too_big
    return data.decode(encoding)

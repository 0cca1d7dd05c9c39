"""Loaded by the subprocess tests (PYTHONPATH): any outbound connection or astropy download
is written to $L4STATION_NETLOG and refused, so a test can assert the CLI attempted none."""
import os
import socket

_log = os.environ.get("L4STATION_NETLOG")


def _record(what):
    if _log:
        with open(_log, "a") as f:
            f.write(f"{what}\n")


_real_connect = socket.socket.connect


def _connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        if host not in ("127.0.0.1", "::1", "localhost"):
            _record(f"connect {address!r}")
            raise OSError(f"network disabled in tests: {address!r}")
    return _real_connect(self, address)


socket.socket.connect = _connect

try:
    import astropy.utils.data as _data

    _real_download = _data.download_file

    def _download(remote_url, *args, **kwargs):
        _record(f"download {remote_url}")
        raise OSError(f"download disabled in tests: {remote_url}")

    _data.download_file = _download
except ImportError:  # pragma: no cover
    pass

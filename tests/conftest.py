"""Test-suite guards: no test may reach the network (loopback is allowed for local servers)."""
import ipaddress
import os
import socket
import tempfile
from pathlib import Path

import pytest

# The user's cache (l4station.cache.shared) of each test process is its own, never ~/.cache.
os.environ["L4STATION_CACHE"] = tempfile.mkdtemp(prefix="l4station-test-cache-")


def _is_loopback(address) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Fail any test that opens a connection off this machine; record the attempts."""
    attempts = []
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guarded(real):
        def connect(self, address):
            if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
                attempts.append(address)
                raise OSError(f"test tried to reach the network: {address!r}")
            return real(self, address)
        return connect

    monkeypatch.setattr(socket.socket, "connect", guarded(real_connect))
    monkeypatch.setattr(socket.socket, "connect_ex", guarded(real_connect_ex))
    yield attempts


@pytest.fixture(autouse=True, scope="session")
def astropy_offline():
    """The tests' own astropy reference transforms (AltAz, ITRS) read the shipped tables, as
    the ``l4station`` command does (:mod:`l4station.offline`), and never download."""
    from l4station import offline
    with offline.settings():
        yield


SMALL_STUDY = Path(__file__).parent / "data" / "small-trade.toml"


@pytest.fixture(scope="session")
def small_study():
    """The study of ``data/small-trade.toml``, run once for every test that reads it, with every
    download refused and the sections seen by the progress callback recorded.

    Returns ``(result, sections_seen, downloads_attempted)``."""
    import astropy.utils.data

    from l4station import config
    from l4station.study import study

    downloads, seen = [], []

    def refuse(url, *args, **kwargs):
        downloads.append(url)
        raise OSError(f"download attempted: {url}")

    real = astropy.utils.data.download_file
    astropy.utils.data.download_file = refuse
    try:
        result = study.run(config.load(SMALL_STUDY), on_section=lambda index, name: seen.append((index, name)))
    finally:
        astropy.utils.data.download_file = real
    return result, seen, downloads


SLOW_FIXTURES = {"small_study", "replayed", "warm", "ops", "built"}
"""Fixtures that take seconds to build (a whole study, a forecaster replay, a study cache, a
serving archive with forecasts, the mission's contact plan): a test using one is slow."""


def pytest_collection_modifyitems(items):
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)

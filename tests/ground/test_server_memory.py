"""The server's memory does not grow with the archive: a real ``l4station serve`` process over a
60-day archive (518,400 magnetometer samples at 10 s, plasma and protons at 60 s: about 30 MB of
columns, 10 times more as the rows of a JSON response) answers whole-range requests in every
format while its resident set (VmRSS in /proc/PID/status) is watched."""
import sys
import threading
import time

import httpx
import numpy as np
import pytest

from l4station.ground import instruments

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/PID/status")

DAYS = 60
T0_US = 1_767_225_600_000_000                 # 2026-01-01
MARGIN_MB = 64


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


@pytest.fixture(scope="module")
def big_archive(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('memory') / 'big.db'}"
    instruments.noise_archive(url, DAYS, T0_US, source="test")
    return url


@pytest.mark.slow
@pytest.mark.parametrize("cache_mb", [64, 8])
def test_memory_stays_bounded_whatever_the_span(run_server, big_archive, cache_mb):
    """Bound: the server's RSS after start-up and one small request of each format (imports and
    compiled formatters loaded) + the chunk cache (``--cache-mb``) + 64 MB for what is in flight
    (a week of samples read ahead from the archive, one day of rows being formatted, socket
    buffers, and the allocator's slack). With the default 64 MiB this archive's columns (30 MB)
    fit in the cache; with 8 MiB the cache evicts all the time, and the bound is 56 MB lower.

    Measured (2 cores, 60 days): baseline 216 MB, peak 263 MB, bound 347 MB. Before the bounded
    cache (99a5ab8) the server kept every dataset whole and built each response whole: over 90 days,
    baseline 334 MB and peak 707 MB under the same requests: 373 MB of growth, about 250 MB over
    60 days, where this bound allows 128 MB."""
    process, base = run_server(big_archive, "--cache-mb", str(cache_mb))
    stop = f"2026-01-01T00:00:00Z&stop={np.datetime64('2026-01-01') + np.timedelta64(DAYS, 'D')}T00:00:00Z"
    peak, done = [0.0], threading.Event()

    def watch():
        while not done.is_set():
            peak[0] = max(peak[0], _rss_mb(process.pid))
            time.sleep(0.02)

    with httpx.Client(base_url=base, timeout=60) as client:
        for fmt in ("csv", "binary", "json"):
            assert client.get(f"/hapi/data?dataset=plasma&start=2026-01-01T00Z&stop=2026-01-01T01Z"
                              f"&format={fmt}").status_code == 200
        client.get("/api/status")
        baseline = _rss_mb(process.pid)
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            t = time.monotonic()
            for _ in range(2):
                for dataset in ("mag", "plasma", "particles"):
                    for fmt in ("csv", "binary", "json"):
                        size = 0
                        with client.stream("GET", f"/hapi/data?dataset={dataset}&start={stop}&format={fmt}") as r:
                            assert r.status_code == 200
                            for piece in r.iter_bytes():
                                size += len(piece)
                        assert size > DAYS * 1440 * 30
            for span in ("1-day", "7-day"):
                assert client.get(f"/api/panels?span={span}").status_code == 200
            elapsed = time.monotonic() - t
        finally:
            done.set()
            watcher.join(5)
    peak[0] = max(peak[0], _rss_mb(process.pid))
    bound = baseline + cache_mb * 1.048576 + MARGIN_MB
    print(f"cache {cache_mb} MiB: RSS baseline {baseline:.0f} MB, peak {peak[0]:.0f} MB, bound {bound:.0f} MB; requests {elapsed:.1f} s")
    assert peak[0] < bound


@pytest.mark.slow
def test_clients_that_never_read_cannot_grow_the_server(run_server, big_archive):
    """Forty clients ask for a month of 10-s magnetometer data as JSON and never read the answer
    (each stalled stream holds its rows in flight): at most MAX_STREAMS streams are taken, the rest
    wait STREAM_WAIT_S for a slot and then get HAPI 503 "retry", the server stays under baseline + cache + MAX_STREAMS x 16 MB + 64 MB,
    answers others at once, and frees the slots when the clients go."""
    import socket

    from l4station.ground.server import MAX_STREAMS
    process, base = run_server(big_archive, "--cache-mb", "8")
    port = int(base.rsplit(":", 1)[1])
    with httpx.Client(base_url=base, timeout=60) as client:
        assert client.get("/hapi/data?dataset=mag&start=2026-01-01T00Z&stop=2026-01-01T01Z&format=json").status_code == 200
        baseline = _rss_mb(process.pid)
        request = (b"GET /hapi/data?dataset=mag&start=2026-01-01T00:00:00Z&stop=2026-02-01T00:00:00Z&format=json "
                   b"HTTP/1.1\r\nHost: x\r\n\r\n")
        stalled = []
        try:
            for _ in range(40):
                s = socket.create_connection(("127.0.0.1", port), timeout=60)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                s.sendall(request)
                stalled.append(s)
            time.sleep(3)
            peak = _rss_mb(process.pid)
            t = time.monotonic()
            assert client.get("/hapi/about").status_code == 200 and time.monotonic() - t < 5
            status = [s.recv(12)[9:12] for s in stalled]
        finally:
            for s in stalled:
                s.close()
        assert status.count(b"200") == MAX_STREAMS and status.count(b"503") == 40 - MAX_STREAMS
        bound = baseline + 8 * 1.048576 + MAX_STREAMS * 16 + MARGIN_MB
        print(f"stalled clients: RSS baseline {baseline:.0f} MB, peak {peak:.0f} MB, bound {bound:.0f} MB")
        assert peak < bound
        deadline = time.monotonic() + 30
        while client.get("/hapi/data?dataset=mag&start=2026-01-01T00Z&stop=2026-01-06T00Z&format=csv").status_code != 200:
            assert time.monotonic() < deadline, "stream slots not given back"
            time.sleep(0.5)
    # Clients that do read, more of them than slots at once: they wait their turn, none is refused.
    from concurrent.futures import ThreadPoolExecutor

    def fetch(k):
        with httpx.Client(base_url=base, timeout=120) as reader:
            return reader.get(f"/hapi/data?dataset=plasma&start=2026-01-{1 + k:02d}T00Z&stop=2026-01-{8 + k:02d}T00Z").status_code
    with ThreadPoolExecutor(2 * MAX_STREAMS) as pool:
        assert list(pool.map(fetch, range(2 * MAX_STREAMS))) == [200] * (2 * MAX_STREAMS)

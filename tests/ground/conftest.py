"""Archives for the ground tests: SQLite in a temporary folder, and PostgreSQL when the test run
has a server (``L4STATION_TEST_POSTGRES``, started by .ci/services.sh), each test in a fresh
database."""
import os
import uuid
from contextlib import contextmanager

import numpy as np
import pytest
from astropy.time import Time

from l4station.ground import instruments


@pytest.fixture(params=["sqlite", "postgresql"])
def archive_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'archive.db'}"
        return
    server = os.environ.get("L4STATION_TEST_POSTGRES")
    if not server:
        pytest.skip("no PostgreSQL server: run under .ci/run or `source .ci/services.sh`")
    import psycopg
    name = f"l4test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    yield server.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def two_days():
    """48 h of simulated station data (real STEREO-A speeds replayed, a shock and a proton event)."""
    return instruments.simulate(Time("2026-11-20T00:00:00", scale="utc"), 48.0)


def _plasma_stream(seqs, t0_us: int = 1_795_000_000_000_000) -> bytes:
    from l4station.ground import packets
    ptype = packets.dictionary()["plasma"]
    n = len(seqs)
    values = {"density": np.full(n, 5.0), "vr": np.full(n, 400.0), "vt": np.zeros(n), "vn": np.zeros(n),
              "temperature": np.full(n, 1e5), "quality": np.zeros(n)}
    return packets.encode(ptype, t0_us + np.asarray(seqs) * 60_000_000, seqs, values).tobytes()


@pytest.fixture
def plasma_stream():
    """Plasma packets with the given sequence numbers (time = number x 60 s from t0)."""
    return _plasma_stream


@pytest.fixture
def run_server():
    """Start ``l4station serve`` as a real process (this worktree's code) on a free port:
    ``run_server(db_url, *args, env={...})`` returns (process, base URL) once it answers, within
    120 s (a loaded CI machine). Every process started is killed at teardown, whatever the test did."""
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    import httpx

    started = []
    src = str(Path(__file__).parents[2] / "src")

    def start(url: str, *args: str, env: dict | None = None):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        environment = {k: v for k, v in os.environ.items() if not k.startswith("L4STATION_")}
        environment |= {"PYTHONPATH": src} | (env or {})
        process = subprocess.Popen([sys.executable, "-m", "l4station", "serve", "--db", url, "--port", str(port),
                                    *args], env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        started.append(process)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}: {process.stderr.read().decode()}")
            try:
                if httpx.get(f"{base}/hapi/about", timeout=2).status_code == 200:
                    return process, base
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("server did not answer within 120 s")

    yield start
    for process in started:
        process.kill()
        process.wait(10)
        process.stderr.close()


@contextmanager
def serving(archive_url: str, **options):
    """Our server on loopback, in a thread, over the archive at ``archive_url``: its base URL."""
    import socket
    import threading
    import time

    import uvicorn

    from l4station.ground.server import create_app
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(archive_url, **options), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def live_server(archive_url, two_days):
    """Our server on loopback (in a thread) over an archive holding two simulated days:
    (base URL, archive URL)."""
    from l4station.ground import ingest
    from l4station.ground.store import Archive
    with Archive(archive_url) as archive:
        ingest.ingest_bytes(archive, two_days.data, source="test")
    with serving(archive_url, token="t0ken") as base:
        yield base, archive_url

"""Archives for the ground tests: SQLite in a temporary folder, and PostgreSQL when the test run
has a server (``L4STATION_TEST_POSTGRES``, started by .ci/services.sh), each test in a fresh
database."""
import os
import uuid

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

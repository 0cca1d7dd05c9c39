"""Ground segment speed (issue 6): decode, ingest, HAPI CSV and the /data endpoint under load.

    python benchmarks/bench_ground.py [--postgres URL]

- decode: 1 million mixed packets (framing, CRC, ccsdspy decode with calibration, time) against
  ccsdspy alone decoding 1 million packets of one APID (issue: >= 1 M/s; ccsdspy ~4 M/s);
- ingest: the same million end to end into a new SQLite archive (issue: >= 100,000 packets/s),
  and into PostgreSQL when a server URL is given;
- HAPI CSV: one year of 1-minute plasma (525,600 rows) over HTTP on loopback, against the issue's
  1 million rows/s and Python's csv module writing the same rows;
- load: 8 concurrent clients, 25 requests each of one day of plasma CSV, over loopback: p50/p99
  latency and errors (bounded in count and time).
"""
import argparse
import csv
import io
import socket
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import uvicorn
from timing import best_of

from l4station.ground import ingest, packets
from l4station.ground.server import create_app
from l4station.ground.store import Archive

T0_US = 1_767_225_600_000_000          # 2026-01-01


def stream(n_mag: int, n_each: int) -> bytes:
    """A downlink: n_mag magnetometer packets and n_each of the 60-s types, in time order."""
    rng = np.random.default_rng(1)
    parts, times = [], []
    for p in packets.dictionary().values():
        n = n_mag if p.name == "mag" else n_each
        values = {f.name: (10 ** rng.uniform(-1, 3, n) if f.calibration == "log10" else rng.uniform(0, 50, n))
                  for f in p.fields}
        t = T0_US + np.arange(n, dtype=np.int64) * int(p.cadence_s * 1e6)
        parts.append(packets.encode(p, t, np.arange(n), values))
        times.append(t)
    order = np.argsort(np.concatenate(times), kind="stable")
    rows = [r for part in parts for r in part]
    return b"".join(rows[i].tobytes() for i in order)


def bench_decode(data: bytes, n: int):
    packets.decode(data[:10_000])
    ours = best_of(lambda: packets.decode(data), 3)
    plasma = packets.dictionary()["plasma"]
    one = packets.encode(plasma, T0_US + np.arange(n) * 60_000_000, np.arange(n),
                         {f.name: np.ones(n) for f in plasma.fields}).tobytes()
    bare = best_of(lambda: plasma.definition.load(io.BytesIO(one)), 3)
    print(f"decode    ours {n / ours / 1e6:5.2f} M packets/s (mixed APIDs, CRC, calibrated)   "
          f"ccsdspy alone {n / bare / 1e6:5.2f} M/s (one APID, no checks)   ours takes {ours / bare:4.2f}x its time   "
          f"issue >= 1 M/s: {'met' if n / ours >= 1e6 else 'NOT met'}")


def bench_ingest(data: bytes, n: int, url: str, label: str):
    with Archive(url) as archive:
        t = time.perf_counter()
        summary, _ = ingest.ingest_bytes(archive, data, source="bench")
        elapsed = time.perf_counter() - t
    assert summary["stored_rows"] == n
    print(f"ingest    {label:10s} {n / elapsed / 1e3:6.0f} k packets/s end to end ({n} packets, {elapsed:.2f} s)   "
          f"issue >= 100 k/s: ratio {n / elapsed / 1e5:4.2f}")


def serve(url: str):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(url), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def bench_hapi(url: str):
    plasma = packets.dictionary()["plasma"]
    n = 525_600
    rng = np.random.default_rng(2)
    values = {"density": rng.uniform(1, 20, n), "vr": rng.uniform(300, 800, n), "vt": rng.normal(0, 20, n),
              "vn": rng.normal(0, 20, n), "temperature": 10 ** rng.uniform(4, 6, n), "quality": np.zeros(n)}
    year = packets.encode(plasma, T0_US + np.arange(n, dtype=np.int64) * 60_000_000, np.arange(n), values).tobytes()
    with Archive(url) as archive:
        ingest.ingest_bytes(archive, year, source="bench")
    server, base = serve(url)
    query = f"{base}/hapi/data?dataset=plasma&start=2026-01-01T00:00:00Z&stop=2027-01-01T00:00:00Z"
    with httpx.Client(timeout=60) as client:
        first = time.perf_counter()
        body = client.get(query).content
        cold = time.perf_counter() - first
        warm = best_of(lambda: client.get(query).content, 3)
    rows = body.count(b"\n")
    assert rows == n
    t_s = (T0_US + np.arange(n) * 60_000_000) / 1e6

    def python_csv():
        out = io.StringIO()
        writer = csv.writer(out)
        times = np.datetime_as_string(t_s.astype("datetime64[s]").astype("datetime64[ms]"))
        for i in range(n):
            writer.writerow((times[i] + "Z", f"{values['density'][i]:.2f}", f"{values['vr'][i]:.1f}",
                             f"{values['vt'][i]:.1f}", f"{values['vn'][i]:.1f}", f"{values['temperature'][i]:.3e}", "0"))
        return out.getvalue()

    baseline = best_of(python_csv, 1)
    print(f"HAPI csv  {n / warm / 1e6:5.2f} M rows/s over HTTP ({len(body) / 1e6:.0f} MB; first request with the "
          f"archive read {n / cold / 1e6:4.2f} M rows/s)   Python csv module {n / baseline / 1e6:4.2f} M rows/s "
          f"(formatting only)   ratio {baseline / warm:4.1f}x   issue >= 1 M rows/s: {'met' if n / warm >= 1e6 else 'NOT met'}")
    bench_load(base)
    server.should_exit = True


def bench_load(base: str, clients: int = 8, per_client: int = 25):
    latencies, errors = [], 0
    deadline = time.time() + 120

    def worker(k):
        nonlocal errors
        out = []
        with httpx.Client(timeout=30) as client:
            for i in range(per_client):
                if time.time() > deadline:
                    break
                day = (k * per_client + i) % 360
                start = np.datetime64("2026-01-01") + np.timedelta64(day, "D")
                t = time.perf_counter()
                r = client.get(f"{base}/hapi/data?dataset=plasma&start={start}&stop={start + np.timedelta64(1, 'D')}")
                out.append(time.perf_counter() - t)
                if r.status_code != 200 or r.content.count(b"\n") != 1440:
                    errors += 1
        return out

    t = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for result in pool.map(worker, range(clients)):
            latencies += result
    wall = time.perf_counter() - t
    ms = np.array(latencies) * 1e3
    print(f"load      {clients} clients x {per_client} one-day CSV requests: p50 {np.percentile(ms, 50):.1f} ms, "
          f"p99 {np.percentile(ms, 99):.1f} ms, {len(ms) / wall:.0f} requests/s, errors {errors}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", help="PostgreSQL URL of an empty database to benchmark too")
    args = parser.parse_args()
    data = stream(700_000, 100_000)
    n = 1_000_000
    bench_decode(data, n)
    with tempfile.TemporaryDirectory() as folder:
        bench_ingest(data, n, f"sqlite:///{Path(folder) / 'bench.db'}", "SQLite")
        if args.postgres:
            bench_ingest(data, n, args.postgres, "PostgreSQL")
        bench_hapi(f"sqlite:///{Path(folder) / 'year.db'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Chaos probes of the ground segment, with fixed seeds and a time budget: what it must survive.

    python tools/chaos.py [--only flips,insertions,...] [--hours 48] [--budget-s 300] [--json]

- flips: bit flips at rates 1e-5..1e-2 in a simulated stream, ingested in 64-KiB batches:
  no intact packet may be lost (CRC-16 lets a damaged packet through 1 time in 65,536).
- insertions: random bytes inserted inside and between packets, and bytes deleted: the same.
- kill-9: ``l4station ingest tcp://...`` killed with SIGKILL mid-stream, repeatedly: the archive
  stays consistent (SQLite integrity check), what was committed is whole, a re-ingest completes it.
- two-writers: two ``l4station ingest`` processes at once on one archive, odd and even pieces:
  the same archive (rows, gaps, alerts) as one writer in order.
- late-data: the second half of the stream first, then the first half: the same archive.
- requests: a real ``l4station serve`` answers malformed requests (bad numbers, times, datasets,
  methods, paths, tokens, bodies): never a 5xx, every HAPI error as HAPI JSON, still up after.

Exit status 0 when every probe held, 1 otherwise. Each probe prints one line.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
from astropy.time import Time

from l4station.ground import alerts as alerts_module, ingest, instruments, packets
from l4station.ground.store import Archive

START = Time("2026-11-20T00:00:00", scale="utc")
CLI = [sys.executable, "-m", "l4station"]


def _offsets(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Start and end offsets of the packets of a clean stream."""
    found = packets.whole_packets(data)
    return found.start, found.stop


def _stored(url: str) -> set[tuple[str, int]]:
    with Archive(url) as archive:
        return {(name, int(t)) for name in packets.dictionary()
                for t in archive.columns(name, 0, 2 ** 62, ["seq"])["t_us"]}


def _keys(data: bytes) -> list[tuple[str, int]]:
    """(packet type, sample time) of each packet of a clean stream, in stream order."""
    names = {p.apid: p.name for p in packets.dictionary().values()}
    return [(names[apid], t) for apid, t in packets.whole_packets(data).keys()]


def _state(url: str) -> tuple:
    with Archive(url) as archive:
        return (archive.query("SELECT kind, parameter, level, start_us, stop_us, value FROM alerts ORDER BY 1, 2, 3, 4"),
                archive.query("SELECT packet, start_us, stop_us, missing FROM gaps ORDER BY 1, 2"),
                [archive.query(f"SELECT COUNT(*) FROM {name}")[0][0] for name in packets.dictionary()])


def _pieces(data: bytes, n: int) -> list[bytes]:
    offsets, _ = _offsets(data)
    cuts = offsets[np.linspace(0, len(offsets), n + 1).astype(int)[1:-1]]
    return [bytes(p) for p in np.split(np.frombuffer(data, np.uint8), cuts)]


def _lost_intact(work: Path, data: bytes, damaged: bytes, touched: np.ndarray, label: str) -> tuple[int, int]:
    """Intact packets lost (and intact packets in all) when ``damaged`` is ingested in 64-KiB
    batches; ``touched`` marks the packets of ``data`` that were damaged."""
    path = work / f"{label}.bin"
    path.write_bytes(damaged)
    url = f"sqlite:///{work / f'{label}.db'}"
    with Archive(url) as archive:
        ingest.ingest_file(archive, path, chunk_bytes=1 << 16)
    intact = {k for k, hit in zip(_keys(data), touched) if not hit}
    return len(intact - _stored(url)), len(intact)


def probe_flips(work: Path, data: bytes, deadline: float) -> tuple[bool, str]:
    clean = np.frombuffer(data, np.uint8)
    _, ends = _offsets(data)
    rows = []
    for rate in (1e-5, 1e-4, 1e-3, 1e-2):
        for seed in (11, 12):
            if time.monotonic() > deadline:
                break
            rng = np.random.default_rng(seed)
            bits = np.flatnonzero(rng.random(len(clean) * 8) < rate)
            damaged = clean.copy()
            np.bitwise_xor.at(damaged, bits // 8, (1 << (bits % 8)).astype(np.uint8))
            touched = np.zeros(len(ends), bool)
            touched[np.searchsorted(ends, bits // 8, side="right")] = True
            lost, intact = _lost_intact(work, data, damaged.tobytes(), touched, f"flips-{rate:g}-{seed}")
            rows.append((rate, lost, intact))
    table = ", ".join(f"{rate:g}: {lost}/{intact}" for rate, lost, intact in rows)
    return bool(rows) and all(lost == 0 for _, lost, _ in rows), f"intact packets lost by flip rate: {table}"


def probe_insertions(work: Path, data: bytes, deadline: float) -> tuple[bool, str]:
    offsets, ends = _offsets(data)
    rng = np.random.default_rng(21)
    edits = np.sort(rng.choice(len(data), 400, replace=False))
    out, last = [], 0
    touched = np.zeros(len(ends), bool)
    for k, at in enumerate(edits):
        out.append(data[last:at])
        if k % 4 == 3:                                    # a deletion of 1..30 bytes
            last = min(int(at) + int(rng.integers(1, 31)), len(data))
            touched[np.searchsorted(ends, at, side="right"):np.searchsorted(offsets, last, side="left")] = True
        else:                                             # 1..40 random bytes inserted
            out.append(rng.integers(0, 256, int(rng.integers(1, 41)), dtype=np.uint8).tobytes())
            last = int(at)
            inside = np.searchsorted(ends, at, side="right")
            if inside < len(offsets) and offsets[inside] < at:
                touched[inside] = True
    out.append(data[last:])
    lost, intact = _lost_intact(work, data, b"".join(out), touched, "insertions")
    return lost == 0, f"400 edits (300 insertions, 100 deletions): {lost} of {intact} intact packets lost"


def _serve_bytes(data: bytes, chunk: int, pause_s: float) -> tuple[int, threading.Thread]:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def run():
        server.settimeout(60)
        try:
            connection, _ = server.accept()
            with connection:
                for i in range(0, len(data), chunk):
                    connection.sendall(data[i:i + chunk])
                    time.sleep(pause_s)
        except OSError:                                   # the reader was killed, or never came
            pass
        finally:
            server.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return port, thread


def probe_kill_9(work: Path, data: bytes, deadline: float) -> tuple[bool, str]:
    reference = f"sqlite:///{work / 'reference.db'}"
    with Archive(reference) as archive:
        ingest.ingest_bytes(archive, data, source="in order")
    expected = _state(reference)
    results = []
    for k, batches in enumerate((1, 2, 3)):
        if time.monotonic() > deadline:
            break
        url = f"sqlite:///{work / f'kill-{k}.db'}"
        port, thread = _serve_bytes(data, 1_000, 0.05)          # about 20 kB/s: a batch a second
        process = subprocess.Popen(CLI + ["ingest", f"tcp://127.0.0.1:{port}", "--db", url],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        try:
            waited = min(time.monotonic() + 120, max(deadline, time.monotonic() + 10))
            while time.monotonic() < waited and process.poll() is None:
                try:
                    committed = sqlite3.connect(f"file:{work / f'kill-{k}.db'}?mode=ro", uri=True, timeout=5).execute(
                        "SELECT COUNT(*) FROM batches WHERE summary IS NOT NULL").fetchone()[0]
                except sqlite3.Error:
                    committed = 0
                if committed >= batches:
                    break
                time.sleep(0.05)
        finally:
            killed = process.poll() is None
            process.send_signal(signal.SIGKILL)
            process.wait(30)
        thread.join(30)
        with Archive(url) as archive:
            sound = archive.query("PRAGMA integrity_check") == [("ok",)]
            summaries = [json.loads(s) for (s,) in archive.query("SELECT summary FROM batches WHERE summary IS NOT NULL")]
            whole = sum(s["stored_rows"] for s in summaries) == sum(_state(url)[2])
            ingest.ingest_bytes(archive, data, source="replay")
        complete = _state(url) == expected
        results.append(killed and sound and whole and complete and len(summaries) >= 1)
    return len(results) == 3 and all(results), (f"{len(results)} kills mid-stream: archive consistent, committed "
                                                f"batches whole, re-ingest identical to one clean ingest in {sum(results)}")


def probe_two_writers(work: Path, data: bytes, deadline: float) -> tuple[bool, str]:
    pieces = _pieces(data, 8)
    paths = []
    for k, piece in enumerate(pieces):
        paths.append(work / f"piece-{k}.bin")
        paths[-1].write_bytes(piece)
    url = f"sqlite:///{work / 'two-writers.db'}"
    failures = []

    def writer(order):
        for k in order:
            run = subprocess.run(CLI + ["ingest", str(paths[k]), "--db", url, "--json"], capture_output=True,
                                 stdin=subprocess.DEVNULL, timeout=300)
            if run.returncode:
                failures.append(run.stderr.decode(errors="replace").strip()[-200:])

    threads = [threading.Thread(target=writer, args=(order,)) for order in ([7, 5, 3, 1], [0, 2, 4, 6])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(deadline - time.monotonic(), 10))
    if any(thread.is_alive() for thread in threads):
        return False, "the two writers did not finish within the time budget"
    reference = f"sqlite:///{work / 'one-writer.db'}"
    with Archive(reference) as archive:
        for piece in pieces:
            ingest.ingest_bytes(archive, piece, source="in order")
    same = _state(url) == _state(reference)
    return same and not failures, f"8 pieces by two processes at once: archive {'identical' if same else 'DIFFERS'}" + \
        (f"; failures: {failures}" if failures else "")


def _cut_at(data: bytes, at_us: int) -> tuple[bytes, bytes]:
    """The packets sampled before ``at_us`` and those from it on."""
    found = packets.whole_packets(data)
    rows = [(data[a:b], t) for a, b, t in zip(found.start, found.stop, found.t_us)]
    return b"".join(r for r, t in rows if t < at_us), b"".join(r for r, t in rows if t >= at_us)


def probe_late_data(work: Path, data: bytes, deadline: float) -> tuple[bool, str]:
    """Two batches, the later one first and then the earlier, then the later again as pure
    duplicates, cut at the quartiles and a minute either side of where a re-evaluation window's
    edge falls on the shock (7 h from it): the archive of one in-order ingest of everything."""
    whole = packets.decode(data).data
    first, last = int(whole["plasma"]["t_us"][0]), int(whole["plasma"]["t_us"][-1])
    shocks = [a.start_us for a in alerts_module.shock_alerts(whole["plasma"], whole["mag"])]
    cuts = [first + (last - first) * q // 4 for q in (1, 2, 3)]
    cuts += [t + side * (7 * 3600 + d) * 1_000_000 for t in shocks for side in (-1, 1) for d in (-60, 60)]
    cuts = [c for c in cuts if first < c < last]
    found = packets.whole_packets(data)
    particles = packets.dictionary()["particles"].apid
    quiet = b"".join(data[a:b] for a, b, apid in zip(found.start, found.stop, found.apid) if apid != particles)
    differ, alerts = [], 0
    for variant, stream in (("all", data), ("no particles", quiet)):    # no proton event to widen windows
        reference = f"sqlite:///{work / f'reference-{variant}.db'}"
        with Archive(reference) as archive:
            ingest.ingest_bytes(archive, stream, source="in order")
        expected = _state(reference)
        alerts += len(expected[0])
        for k, cut in enumerate(cuts):
            if time.monotonic() > deadline:
                return False, f"time budget spent after {k} cuts"
            head, tail = _cut_at(stream, cut)
            url = f"sqlite:///{work / f'late-{variant}-{k}.db'}"
            with Archive(url) as archive:
                for piece in (tail, head, tail):
                    ingest.ingest_bytes(archive, piece, source="late")
            if _state(url) != expected:
                differ.append(f"{variant} {k}")
    return not differ, (f"{len(cuts)} cuts (quartiles, {len(shocks)} shock's window edges) with and without particles, "
                        f"later part first then again as duplicates: {alerts} alerts, "
                        f"{'identical to in-order' if not differ else f'DIFFERENT at cuts {differ}'}")


def _request(base: str, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    request = urllib.request.Request(base + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.headers.get("content-type", ""), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("content-type", ""), error.read()


def _has_status(content: bytes) -> bool:
    try:
        return "status" in json.loads(content)
    except ValueError:
        return False


def _malformed(rng: np.random.Generator) -> list[tuple[str, str, bytes | None, dict]]:
    numbers = ["nan", "inf", "-inf", "1e300", "-1", "0", "abc", "", "1e-300", "%00", "99999999999999999999"]
    times = ["2026-13-01", "2026-11-20T25:00:00Z", "x", "", "2026-11-20T00:00:00Z%00", "9999-12-31T23:59:59Z",
             "1970-01-01", "2026-11-21", "2026-11-20T00:00:00.000000000001Z"]
    out = [("GET", f"/api/alerts?hours={n}", None, {}) for n in numbers]
    out += [("GET", f"/api/panels?span={n}", None, {}) for n in numbers + ["7-day", "2-hour"]]
    out += [(m, p, None, {}) for m in ("POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
            for p in ("/hapi/about", "/hapi/catalog", "/hapi/info?dataset=plasma", "/hapi/data", "/api/alerts")]
    out += [("GET", p, None, {}) for p in ("/../../etc/passwd", "/dashboard/..%2f..%2fetc%2fpasswd", "/hapi/" + "a" * 5000,
                                          "/hapi/info", "/hapi/info?dataset=", "/hapi/info?dataset=nope",
                                          "/products/solar-wind/plasma-nan-day.json", "/%ff%fe")]
    for _ in range(60):
        start, stop = rng.choice(times, 2)
        dataset = rng.choice(["plasma", "mag", "particles", "housekeeping", "nope", ""])
        extra = rng.choice(["", "&parameters=vr", "&parameters=nope", "&format=xml", "&format=binary", "&include=header",
                            "&parameters=", "&parameters=vr,vr", "&time.min=x"])
        out.append(("GET", f"/hapi/data?dataset={dataset}&start={start}&stop={stop}{extra}", None, {}))
    out += [("POST", "/api/ingest", bytes(rng.integers(0, 256, 500, dtype=np.uint8)), h)
            for h in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}, {"Authorization": "Bearer"})]
    return out


def probe_requests(work: Path, data: bytes, deadline: float) -> tuple[bool, str]:
    url = f"sqlite:///{work / 'served.db'}"
    with Archive(url) as archive:
        ingest.ingest_bytes(archive, data, source="served")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = os.environ | {"L4STATION_TOKEN": "chaos-token", "L4STATION_INGEST_TOKEN": "chaos-token"}
    process = subprocess.Popen(CLI + ["serve", "--db", url, "--port", str(port)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        up = time.monotonic() + 120
        while time.monotonic() < up:
            try:
                if _request(base, "GET", "/hapi/about")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            return False, "the server did not start within 120 s"
        bad = []
        cases = _malformed(np.random.default_rng(31))
        sent = 0
        for method, path, body, headers in cases:
            if time.monotonic() > deadline:
                break
            status, kind, content = _request(base, method, path, body, headers)
            sent += 1
            hapi_error = path.startswith("/hapi/") and status >= 400 and method != "HEAD"
            if status >= 500 or (hapi_error and not (kind.startswith("application/json") and _has_status(content))):
                bad.append(f"{method} {path[:60]} -> {status}")
        good = _request(base, "POST", "/api/ingest", data[:len(data) // 4],
                        {"Authorization": "bearer chaos-token", "Content-Type": "application/octet-stream"})
        if good[0] != 200:
            bad.append(f"POST /api/ingest with the token -> {good[0]}")
        alive = _request(base, "GET", "/hapi/about")[0] == 200
    finally:
        process.kill()
        process.wait(30)
    if sent < len(cases):
        return False, f"time budget spent after {sent} of {len(cases)} requests"
    return not bad and alive, (f"{len(cases)} malformed requests and one good ingest: {len(bad)} bad answers"
                               + (f" ({'; '.join(bad[:5])})" if bad else "") + ("" if alive else "; server DOWN after"))


PROBES = {"flips": probe_flips, "insertions": probe_insertions, "kill-9": probe_kill_9,
          "two-writers": probe_two_writers, "late-data": probe_late_data, "requests": probe_requests}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(PROBES), help="comma-separated probes: " + ", ".join(PROBES))
    parser.add_argument("--hours", type=float, default=48.0, help="hours of simulated station data (default 48)")
    parser.add_argument("--budget-s", type=float, default=300.0, help="time budget for all probes (default 300 s)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    chosen = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = sorted(set(chosen) - set(PROBES))
    if unknown:
        parser.error(f"unknown probe(s) {', '.join(unknown)}: choose from {', '.join(PROBES)}")
    if not chosen:
        parser.error(f"--only names no probe: choose from {', '.join(PROBES)}")
    if not (np.isfinite(args.hours) and 6 <= args.hours <= 168):
        parser.error(f"--hours {args.hours:g}: give 6 to 168 hours of data (the probes cut it in pieces)")
    if not (np.isfinite(args.budget_s) and args.budget_s > 0):
        parser.error(f"--budget-s {args.budget_s:g}: give a positive number of seconds")
    data = instruments.simulate(START, args.hours).data
    deadline = time.monotonic() + args.budget_s
    results = {}
    with tempfile.TemporaryDirectory(prefix="l4station-chaos-") as folder:
        for name in chosen:
            started = time.monotonic()
            work = Path(folder) / name
            work.mkdir()
            if time.monotonic() > deadline:
                ok, detail = False, "not run: the time budget was spent"
            else:
                try:
                    ok, detail = PROBES[name](work, data, deadline)
                except Exception as error:          # noqa: BLE001 - a probe that breaks has failed
                    ok, detail = False, f"broke: {type(error).__name__}: {error}"
            results[name] = {"ok": ok, "detail": detail, "elapsed_s": round(time.monotonic() - started, 1)}
            if not args.json:
                print(f"{'ok  ' if ok else 'FAIL'} {name:12s} {results[name]['elapsed_s']:6.1f} s  {detail}", flush=True)
    if args.json:
        print(json.dumps(results, indent=2))
    return 0 if all(r["ok"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

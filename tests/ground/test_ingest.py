"""Ingest into SQLite and PostgreSQL through the same code: duplicates, order, gaps across the
14-bit sequence wrap, corruption, chunking, TCP, idempotence and a kill -9 in mid-stream."""
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from l4station.ground import ingest, packets
from l4station.ground.store import Archive


def _rows(archive):
    return {name: archive.query(f"SELECT COUNT(*) FROM {name}")[0][0] for name in packets.dictionary()}


@pytest.mark.slow
def test_duplicates_order_and_gaps_across_the_sequence_wrap(archive_url, tmp_path, plasma_stream):
    """Packets 0..40000 minus 100..149 and 16000..16499 (across the wrap at 16384) and a run of
    20000 (longer than the count's whole range: only the time tells), 300 duplicated, all
    shuffled within a few places."""
    seqs = np.arange(60_000)
    lost = np.r_[100:150, 16_000:16_500, 30_000:50_000]
    kept = np.setdiff1d(seqs, lost)
    rng = np.random.default_rng(4)
    sent = np.concatenate([kept, rng.choice(kept, 300, replace=False)])
    sent = sent[np.argsort(np.arange(len(sent)) + rng.uniform(0, 5, len(sent)))]   # shuffled locally
    (tmp_path / "s.bin").write_bytes(plasma_stream(sent))
    with Archive(archive_url) as archive:
        summary = ingest.ingest_file(archive, tmp_path / "s.bin")
        assert summary["valid"] == len(sent) and summary["duplicates"] == 300
        assert summary["stored_rows"] == len(kept) and summary["gaps"] == 3
        gaps = archive.gaps("plasma", 0, 2 ** 62)
        assert [g.missing for g in gaps] == [50, 500, 20_000]
        t = archive.columns("plasma", 0, 2 ** 62)["t_us"]
        assert np.all(np.diff(t) > 0) and len(t) == len(kept)


@pytest.mark.slow
def test_ingesting_the_same_file_twice_changes_nothing(archive_url, tmp_path, two_days):
    path = tmp_path / "day.bin"
    path.write_bytes(two_days.data)
    with Archive(archive_url) as archive:
        first = ingest.ingest_file(archive, path)
        state = (_rows(archive), archive.query("SELECT * FROM gaps ORDER BY packet, start_us"),
                 archive.query("SELECT kind, parameter, level, start_us, stop_us FROM alerts ORDER BY start_us, level"))
        second = ingest.ingest_file(archive, path)
        assert second["stored_rows"] == 0 and second["duplicates"] == second["valid"] == first["valid"]
        assert (_rows(archive), archive.query("SELECT * FROM gaps ORDER BY packet, start_us"),
                archive.query("SELECT kind, parameter, level, start_us, stop_us FROM alerts ORDER BY start_us, level")) == state
        assert sum(state[0].values()) == sum(two_days.packets.values())


@pytest.mark.slow
def test_bit_errors_cost_only_the_packets_they_hit(archive_url, tmp_path, plasma_stream):
    seqs = np.arange(20_000)
    clean = np.frombuffer(plasma_stream(seqs), dtype=np.uint8).copy()
    rng = np.random.default_rng(5)
    flips = rng.integers(0, len(clean) * 8, 300)
    corrupted = clean.copy()
    np.bitwise_xor.at(corrupted, flips // 8, (1 << (flips % 8)).astype(np.uint8))
    octets = packets.dictionary()["plasma"].octets
    hit = np.unique(flips // 8 // octets)
    (tmp_path / "c.bin").write_bytes(corrupted.tobytes())
    with Archive(archive_url) as archive:
        summary = ingest.ingest_file(archive, tmp_path / "c.bin", chunk_bytes=4099)   # odd chunks
        stored = archive.columns("plasma", 0, 2 ** 62, ["seq"])["seq"].astype(int)
    assert np.array_equal(stored, np.setdiff1d(seqs, hit) % packets.SEQUENCE_MODULO)   # in time order
    assert sum(summary["rejected"].values()) >= len(hit) - 5    # a hit run may merge neighbours' rejects
    assert summary["stored_rows"] == 20_000 - len(hit)


def _serve_once(data: bytes, chunk: int, pause_s: float):
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def run():
        connection, _ = server.accept()
        with connection:
            try:
                for i in range(0, len(data), chunk):
                    connection.sendall(data[i:i + chunk])
                    time.sleep(pause_s)
            except OSError:          # the reader was killed
                pass
        server.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return port, thread


def test_tcp_stream_in_odd_chunks(archive_url, two_days):
    port, thread = _serve_once(two_days.data, 9_973, 0.0)
    with Archive(archive_url) as archive:
        summary = ingest.ingest_tcp(archive, "127.0.0.1", port, flush_s=0.05)
        assert summary["stored_rows"] == sum(two_days.packets.values()) == sum(_rows(archive).values())
        assert summary["rejected"] == {"crc": 0, "length": 0, "apid": 0}
    thread.join(5)


@pytest.mark.slow
def test_committed_data_survive_kill_9_of_the_ingest(archive_url, two_days):
    """The ingest process is killed with SIGKILL mid-stream: every batch it committed is whole,
    the archive opens cleanly, and ingesting the stream again completes it."""
    port, thread = _serve_once(two_days.data, 5_000, 0.1)       # about 12 s of stream: killed long before its end
    process = subprocess.Popen([sys.executable, "-m", "l4station", "ingest", f"tcp://127.0.0.1:{port}",
                                "--db", archive_url], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    with Archive(archive_url) as archive:
        deadline = time.time() + 60
        while time.time() < deadline and archive.latest_batch() < 2:
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
        assert process.returncode == -signal.SIGKILL
    with Archive(archive_url) as archive:
        if archive.dialect == "sqlite":
            assert archive.query("PRAGMA integrity_check") == [("ok",)]
        import json
        committed = archive.query("SELECT summary FROM batches WHERE summary IS NOT NULL")
        assert len(committed) >= 2
        stored = sum(json.loads(s)["stored_rows"] for (s,) in committed)
        assert 0 < stored == sum(_rows(archive).values()) < sum(two_days.packets.values())
        ingest.ingest_bytes(archive, two_days.data, source="replay")
        assert sum(_rows(archive).values()) == sum(two_days.packets.values())
    thread.join(10)


def test_latency_is_receipt_minus_sample_time(archive_url, plasma_stream):
    data = plasma_stream(np.arange(10))
    with Archive(archive_url) as archive:
        summary, _ = ingest.ingest_bytes(archive, data, source="t", received_us=1_795_000_000_000_000 + 3_600_000_000)
    assert summary["latency_s"]["max"] == 3600.0
    assert summary["latency_s"]["median"] == pytest.approx(3600 - 4.5 * 60)


def test_missing_values_come_back_as_nan_and_times_exact(archive_url):
    """A value stored as NULL reads back as NaN; microsecond times survive the float64 read."""
    t = 1_795_132_800_000_001 + np.arange(5, dtype=np.int64) * 10_000_000
    with Archive(archive_url) as archive:
        with archive.transaction() as cursor:
            batch = archive.new_batch(cursor, "test", 0)
            archive.insert(cursor, "mag", {"t_us": t, "seq": np.arange(5), "br": np.array([1, np.nan, 3, 4, 5.0]),
                                           "bt": np.ones(5), "bn": np.zeros(5), "quality": np.full(5, np.nan)}, 0, batch)
        read = archive.columns("mag", 0, 2 ** 62)
        assert np.array_equal(read["t_us"], t) and read["t_us"].dtype == np.int64
        assert np.array_equal(read["br"], [1, np.nan, 3, 4, 5], equal_nan=True) and np.isnan(read["quality"]).all()
        assert archive.days_of_batches("mag", 0, batch) == {20_777: 5} and archive.count("mag", batch) == 5
        assert archive.has_samples("mag", int(t[0]), int(t[0]) + 1) and not archive.has_samples("mag", 0, int(t[0]))
        empty = archive.columns("plasma", 0, 2 ** 62)
        assert set(empty) == {"t_us", "density", "vr", "vt", "vn", "temperature", "quality"}
        assert all(len(v) == 0 for v in empty.values())

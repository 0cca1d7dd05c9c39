"""Ingest: packets from a file, a TCP stream or a request body into the archive.

A stream may carry bare Space Packets or CCSDS transfer frames (told apart by the attached sync
marker, :mod:`l4station.ground.frames`): frames are synchronised, checked and counted first,
and the packets whole in them go on as below.

Each batch of bytes is framed and checked (known APID, declared length, CRC), decoded in bulk,
sorted by sample time (undoing any reordering on the link), stripped of duplicates (in the batch
and against the archive: the sample time is the key), stored in one transaction, and its time
span re-examined for gaps. A gap's size comes from the cadence and the 14-bit sequence count
together: the count says how many packets are missing modulo 2^14, the time says which multiple.
A malformed packet is counted and skipped (the framer resynchronises on the next whole valid
packet, across batch boundaries too); it never stops the ingest or costs a valid packet.
"""
from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Callable

import numpy as np

from l4station.ground import alerts, frames, packets
from l4station.ground.store import Archive, Gap

READ_CHUNK = 1 << 20


def find_gaps(name: str, t_us: np.ndarray, seq: np.ndarray, cadence_s: float) -> list[Gap]:
    """Gaps in a time-sorted series of one packet type."""
    if len(t_us) < 2:
        return []
    by_time = np.rint(np.diff(t_us) / (cadence_s * 1e6)).astype(np.int64) - 1
    by_count = (np.diff(seq) - 1) % packets.SEQUENCE_MODULO
    wraps = np.maximum(np.rint((by_time - by_count) / packets.SEQUENCE_MODULO), 0).astype(np.int64)
    missing = by_count + wraps * packets.SEQUENCE_MODULO
    at = np.flatnonzero(missing > 0)
    return [Gap(name, int(t_us[i]), int(t_us[i + 1]), int(missing[i])) for i in at]


class Summary(dict):
    """What an ingest did: counts of packets, rejections, duplicates, gaps and stored rows, and the
    latency; a dict of JSON values (``to_json``) that prints itself as one line.

    >>> print(_summary() | {"packets": 3, "valid": 2, "rejected": {"crc": 1, "length": 0, "apid": 0}})
    3 packets: 2 valid, rejected 1 CRC, 0 length, 0 APID (0 bytes skipped); 0 duplicates; 0 gaps; 0 rows stored in 0.00 s
    """

    def to_json(self) -> dict:
        return dict(self)

    def __or__(self, other: dict) -> "Summary":
        return Summary(dict(self) | other)

    def __str__(self) -> str:
        r = self["rejected"]
        f = self.get("frames")
        framed = (f"{f['frames']} frames ({f['idle']} idle), {f['damaged']} damaged, {f['lost']} lost, "
                  f"{f.get('repeated', 0)} repeated, "
                  f"{f['sync_losses']} sync losses ({f['skipped_octets']} octets searched); " if f else "")
        return (f"{framed}{self['packets']} packets: {self['valid']} valid, rejected {r['crc']} CRC, {r['length']} length, "
                f"{r['apid']} APID ({self['rejected_bytes']} bytes skipped); {self['duplicates']} duplicates; "
                f"{self['gaps']} gaps; {self['stored_rows']} rows stored in {self['elapsed_s']:.2f} s")


def _summary() -> Summary:
    return Summary(packets=0, valid=0, rejected={"crc": 0, "length": 0, "apid": 0}, rejected_bytes=0, duplicates=0,
                   gaps=0, stored_rows=0, elapsed_s=0.0, latency_s=None)


def _add(total: dict, part: dict) -> dict:
    for key in ("packets", "valid", "rejected_bytes", "duplicates", "gaps", "stored_rows"):
        total[key] += part[key]
    for key in total["rejected"]:
        total["rejected"][key] += part["rejected"][key]
    if "frames" in part:
        total["frames"] = {k: total.get("frames", {}).get(k, 0) + v for k, v in part["frames"].items()}
    total["latency_s"] = part["latency_s"] or total["latency_s"]
    return total


def reader(head: bytes, final: bool = True) -> packets.PacketStream | frames.FrameStream | None:
    """How to read a stream that begins with ``head``: as transfer frames when it carries the
    attached sync marker, as bare packets when it starts with a whole valid packet or shows no
    marker in two frames' length; None while too little has come to tell (unless ``final``)."""
    if head[:4] == frames.ASM:
        return frames.FrameStream()
    found = packets.whole_packets(head[:4096])
    if len(found.start) and found.start[0] == 0:
        return packets.PacketStream()
    if len(head) >= 2 * frames.CADU_OCTETS or final:
        return frames.FrameStream() if frames.looks_framed(head) else packets.PacketStream()
    return None


def ingest_bytes(archive: Archive, stream: bytes, *, source: str, final: bool = True,
                 received_us: int | None = None) -> tuple[Summary, int]:
    """Ingest one self-contained batch; returns its summary and the bytes consumed (all, if
    ``final``). For a stream read in pieces use :class:`packets.PacketStream` and
    :func:`ingest_decoded`, which carry a resynchronisation across pieces."""
    decoded = packets.decode(stream, final=final)
    return ingest_decoded(archive, decoded, source=source, received_us=received_us), decoded.consumed


def ingest_decoded(archive: Archive, decoded: packets.Decoded, *, source: str,
                   received_us: int | None = None) -> Summary:
    """Store one decoded batch in one transaction, with its gaps and alerts; returns its summary."""
    started = time.perf_counter()
    received_us = int(time.time() * 1e6) if received_us is None else received_us
    summary = _summary()
    summary |= {"packets": decoded.packets, "valid": decoded.valid, "rejected": decoded.rejected,
                "rejected_bytes": decoded.rejected_bytes}
    if decoded.frames is not None:
        summary["frames"] = dict(decoded.frames)
    latencies = []
    spans = {}
    with archive.transaction() as cursor:
        batch = archive.new_batch(cursor, source, received_us)
        for name, columns in decoded.data.items():
            if len(columns["t_us"]) == 0:
                continue
            t_unique, first_copy = np.unique(columns["t_us"], return_index=True)   # sorted, first copy kept
            sorted_columns = {key: value[first_copy] for key, value in columns.items()}
            summary["stored_rows"] += archive.insert(cursor, name, sorted_columns, received_us, batch)
            spans[name] = archive.neighbours(cursor, name, int(t_unique[0]), int(t_unique[-1]))
            latencies.append((received_us - t_unique) / 1e6)
        summary["duplicates"] = summary["valid"] - summary["stored_rows"]
        if spans:
            # One read of what the archive now holds around the batch serves gaps and alerts.
            held, start, stop = alerts.window(archive, cursor, min(low for low, _ in spans.values()),
                                              max(high for _, high in spans.values()))
            for name, (low, high) in spans.items():
                t, seq = held[name]["t_us"], held[name]["seq"].astype(np.int64)
                inside = slice(np.searchsorted(t, low), np.searchsorted(t, high, side="right"))
                gaps = find_gaps(name, t[inside], seq[inside], packets.dictionary()[name].cadence_s)
                archive.replace_gaps(cursor, name, low, high, gaps)
                summary["gaps"] += len(gaps)
            alerts.replace(archive, cursor, start, stop, alerts.raised(held, None))
            if "particles" in spans:
                alerts.replace_shelter(archive, cursor, start, stop, alerts.shelter_fraction(archive, cursor))
            lat = np.concatenate(latencies)
            summary["latency_s"] = {"median": float(np.median(lat)), "max": float(lat.max())}
        summary["elapsed_s"] = time.perf_counter() - started
        archive.finish_batch(cursor, batch, summary)
    return summary


def ingest_file(archive: Archive, path: str | Path, *, chunk_bytes: int = 64 * READ_CHUNK,
                on_progress: Callable[[float], None] | None = None) -> Summary:
    """Ingest a file of packets, in batches of about ``chunk_bytes``."""
    path = Path(path)
    started = time.perf_counter()
    total = _summary()
    size = path.stat().st_size
    stream = None
    done = 0
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(chunk_bytes)
            stream = stream or reader(chunk)
            final = len(chunk) < chunk_bytes
            if chunk or stream.tail:
                _add(total, ingest_decoded(archive, stream.push(chunk, final), source=str(path)))
            done += len(chunk)
            if on_progress:
                on_progress(done / max(size, 1))
            if final:
                break
    total["elapsed_s"] = time.perf_counter() - started
    return total


def ingest_tcp(archive: Archive, host: str, port: int, *, flush_s: float = 1.0, timeout_s: float = 30.0,
               on_batch: Callable[[Summary], None] | None = None) -> Summary:
    """Connect to a packet server at host:port and ingest what it sends until it closes the
    connection, committing a batch every ``flush_s`` seconds."""
    started = time.perf_counter()
    total = _summary()
    stream = None
    pending = b""
    last_flush = time.monotonic()
    with socket.create_connection((host, port), timeout=timeout_s) as connection:
        connection.settimeout(flush_s)
        while True:
            try:
                chunk = connection.recv(READ_CHUNK)
            except socket.timeout:
                chunk = None
            closed = chunk == b""
            pending += chunk or b""
            stream = stream or reader(pending, final=closed)
            if stream is None:
                continue
            if (pending or (closed and stream.tail)) and (closed or time.monotonic() - last_flush >= flush_s):
                summary = ingest_decoded(archive, stream.push(pending, final=closed), source=f"tcp://{host}:{port}")
                pending = b""
                _add(total, summary)
                last_flush = time.monotonic()
                if on_batch:
                    on_batch(summary)
            if closed:
                break
    total["elapsed_s"] = time.perf_counter() - started
    return total

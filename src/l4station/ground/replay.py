"""Replay: real solar-wind records through the operational code path, as PREDSTORM's ``--historic``.

A folder laid out like the BRaVDA files (default: the packaged copy) becomes what operations
would have received: STEREO-A's hourly speeds as the station's plasma packets (one per minute
holding the hour's value; density from constant dynamic pressure and temperature from the
Lopez & Freeman 1986 T-V relation, as the simulator), OMNI's as an L1 RTSW feed (one row per
minute, spacecraft ``OMNI``) and, if asked, STEREO-B's as an L5 feed, each arriving after its
latency. Every ``every`` hours the data that had arrived are ingested (packets through the
ingest, the feeds through the RTSW parser) and a forecast is issued from them; the stored runs
are then verified.

>>> rows = rtsw_rows(np.array([54684.0]), np.array([420.0]), minutes=2)     # MJD 54684 = 2008-08-06
>>> [(r["time_tag"], r["source"], r["proton_speed"]) for r in rows]
[('2008-08-06T00:01:00', 'OMNI', 420.0), ('2008-08-06T00:00:00', 'OMNI', 420.0)]
"""
from __future__ import annotations

import json
from typing import Callable

import numpy as np

from l4station.constants import DAY_US, HOUR_US
from l4station.ground import feeds, forecaster, ingest, instruments, packets
from l4station.ground.forecaster import us_of_mjd
from l4station.ground.store import Archive
from l4station.heliosphere import corotation
from l4station.heliosphere.insitu import Series

MINUTE_US = 60_000_000


def _minutes(hour_us: np.ndarray, minutes: int = 60) -> np.ndarray:
    return (hour_us[:, None] + np.arange(minutes)[None, :] * MINUTE_US).ravel()


def station_packets(series: Series, start_us: int, stop_us: int) -> bytes:
    """The station's plasma packets for the hours of ``series`` in [start, stop) with a speed."""
    hour_us = us_of_mjd(series.mjd)
    keep = (hour_us >= start_us) & (hour_us < stop_us) & (series.v_kms >= 100.0) & (series.v_kms < 3000.0)
    if not keep.any():
        return b""
    t_us = _minutes(hour_us[keep])
    v = np.repeat(series.v_kms[keep], 60)
    n = len(t_us)
    values = {"density": 6.5 * (400.0 / v) ** 2, "vr": v, "vt": np.zeros(n), "vn": np.zeros(n),
              "temperature": instruments.lopez_freeman_temperature_k(v), "quality": np.zeros(n)}
    seq = (np.rint((t_us - t_us[0]) / MINUTE_US).astype(np.int64)) % packets.SEQUENCE_MODULO
    return packets.encode(packets.dictionary()["plasma"], t_us, seq, values).tobytes()


def rtsw_rows(mjd: np.ndarray, v_kms: np.ndarray, minutes: int = 60, spacecraft: str = "OMNI") -> list[dict]:
    """RTSW wind objects (newest first) for hourly speeds, one per minute; NaN hours left out."""
    keep = np.isfinite(v_kms)
    t_us = _minutes(us_of_mjd(np.asarray(mjd)[keep]), minutes)
    v = np.repeat(np.asarray(v_kms)[keep], minutes)
    return [{"time_tag": str(np.datetime64(int(t), "us"))[:19], "source": spacecraft, "active": True,
             "proton_speed": round(float(s), 1), "proton_density": feeds.RTSW_FILL,
             "proton_temperature": feeds.RTSW_FILL, "overall_quality": 0}
            for t, s in zip(t_us[::-1].tolist(), v[::-1].tolist())]


FEED_SPACECRAFT = {"L1": "OMNI", "L5": "STEREO-B"}     # the feeds a replay sends, by vantage point


def replay(archive: Archive, records: dict[str, Series], start_us: int, stop_us: int, *, every_us: int = 6 * HOUR_US,
           latency_hours: dict[str, float] | None = None, l5: bool = False,
           on_issue: Callable[[float], None] | None = None) -> int:
    """Feed the archive as operations would have been fed, issuing a forecast every ``every_us``
    from ``start_us`` to ``stop_us``; returns the number of runs issued. ``l5``: STEREO-B's
    speeds arrive too, as an L5 feed (a Vigil-like station, placed where STEREO-B really was)."""
    latency = {"L1": 0.1, "L4": 0.5, "L5": 0.5} | (latency_hours or {})
    points = ("L1", "L5") if l5 else ("L1",)
    lag = {point: int(latency[point] * HOUR_US) for point in ("L4", *points)}
    issues = np.arange(start_us, stop_us + 1, every_us)
    arrived = start_us - int(corotation.HISTORY_DAYS * DAY_US) - 2 * DAY_US    # history before the first issue
    tracks = {point: records[point] for point in ("L4", *points)}      # each replayed spacecraft where it really was
    received = forecaster.Received()
    sample_us = {point: us_of_mjd(records[point].mjd) for point in points}
    for k, at in enumerate(issues.tolist()):
        # what arrived in (arrived, at]: samples with sample time + latency in that window (hourly blocks whole)
        stream = station_packets(records["L4"], arrived - lag["L4"] - HOUR_US + 1, at - lag["L4"] - HOUR_US + 1)
        if stream:
            ingest.ingest_bytes(archive, stream, source="replay:L4", received_us=at)
        for point in points:
            series, t_us = records[point], sample_us[point]
            pick = (t_us > arrived - lag[point] - HOUR_US) & (t_us <= at - lag[point] - HOUR_US)
            if pick.any():
                document = json.dumps(rtsw_rows(series.mjd[pick], series.v_kms[pick], spacecraft=FEED_SPACECRAFT[point]))
                feeds.store(archive, feeds.Source("rtsw", "replay", point=point), [feeds.parse_rtsw(document)], at)
        arrived = at
        try:
            forecaster.issue(archive, at, received=received, tracks=tracks)
        except forecaster.InputError:
            pass                        # nothing received yet: no forecast at this issue time
        if on_issue is not None:
            on_issue((k + 1) / len(issues))
    return len(issues)

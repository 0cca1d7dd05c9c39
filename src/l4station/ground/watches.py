"""Watches and warnings in NOAA SWPC's message form, from each forecast run and the latest data.

Three products, each a message as SWPC writes them (``/json/alerts.json``: ``product_id``,
``issue_datetime``, ``message`` whose first lines are "Space Weather Message Code", "Serial
Number" and "Issue Time"):

* ``WATHSS`` — high-speed stream arrival at Earth predicted: the run's Earth speed at or above
  ``HSS_WATCH_KMS`` within the 7-day horizon (from the first to the last such hour, with the peak);
* ``WATCME`` — CME arrival window at Earth: the drag-based ensemble's p10-p90 for a CME analysis
  that hits;
* ``WARSUD`` — sudden impulse expected (SWPC's code): a fast-forward shock at L1 (the shock
  criteria of :mod:`~l4station.ground.alerts` on the L1 feed) reaches Earth after the distance
  from L1 (1.5 million km) at the downstream speed; ``WATSUD`` — a shock at the station: a
  corotating structure reaches Earth about 60 deg / 13.2 deg per day = 4.5 days later (+-12 h).

Each event has a key (the product and what it is about: the stream, the CME's id, the shock's
time). A run that predicts an event already under an active message of the same key and window
issues nothing; a later end issues ``EXTENDED`` with "Extension to Serial Number"; an event an
active watch covers that the new run no longer predicts, before its window began, is cancelled
(``CANCEL`` with "Cancel Serial Number"). Serial numbers count up from 1 per archive.

>>> print(message("WATHSS", 7, 1_800_000_000_000_000, "WATCH: High-speed stream arrival at Earth predicted"))
Space Weather Message Code: WATHSS
Serial Number: 7
Issue Time: 2027 Jan 15 0800 UTC
<BLANKLINE>
WATCH: High-speed stream arrival at Earth predicted
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from l4station.constants import DAY_US, HOUR_US, SYNODIC_PERIOD_DAYS
from l4station.ground import alerts
from l4station.ground.store import FEED_GOOD, Archive

HSS_WATCH_KMS = 600.0
L1_DISTANCE_KM = 1.5e6
COROTATION_LAG_US = int(60.0 / (360.0 / SYNODIC_PERIOD_DAYS) * DAY_US)
SLACK_US = 3 * HOUR_US                # windows within 3 h of each other are the same window
STATION_SHOCK_SPREAD_US = 12 * HOUR_US


def _clock(t_us: int) -> str:
    return str(np.datetime64(int(t_us) // 1_000_000, "s")).replace("T", " ")


def _swpc_time(t_us: int) -> str:
    """SWPC's issue-time form: ``2027 Jan 15 0800 UTC``."""
    stamp = np.datetime64(int(t_us) // 60_000_000, "m").item()
    return stamp.strftime("%Y %b %d %H%M UTC")


def message(code: str, serial: int, issue_us: int, *lines: str) -> str:
    return "\n".join([f"Space Weather Message Code: {code}", f"Serial Number: {serial}",
                      f"Issue Time: {_swpc_time(issue_us)}", "", *lines])


@dataclass(frozen=True)
class Event:
    """Something a message is about: its product, key, valid window and the lines that say it."""

    code: str
    key: str
    start_us: int
    stop_us: int
    lines: tuple[str, ...]


def predicted(run) -> list[Event]:
    """Events a forecast run predicts at Earth: a high-speed stream, CME arrivals."""
    out = []
    earth = run.values.get("earth")
    if earth is not None:
        fast = np.flatnonzero(np.nan_to_num(earth["vr"]) >= HSS_WATCH_KMS)
        if len(fast):
            start, stop = int(earth["t_us"][fast[0]]), int(earth["t_us"][fast[-1]])
            peak = float(np.nanmax(earth["vr"][fast]))
            out.append(Event("WATHSS", "hss", start, stop, (
                "WATCH: High-speed stream arrival at Earth predicted",
                f"Valid From: {_clock(start)} UTC", f"Valid To: {_clock(stop)} UTC",
                f"Solar wind speed above {HSS_WATCH_KMS:.0f} km/s, peak {peak:.0f} km/s (forecast run {run.run_id}).")))
    for cme in run.cmes:
        hit = cme["targets"].get("earth", {})
        if hit.get("hit"):
            start = int(np.datetime64(hit["arrival_p10"].rstrip("Z"), "us").astype(np.int64))
            stop = int(np.datetime64(hit["arrival_p90"].rstrip("Z"), "us").astype(np.int64))
            out.append(Event("WATCME", f"cme:{cme['id']}", start, stop, (
                "WATCH: CME arrival at Earth predicted",
                f"Valid From: {_clock(start)} UTC", f"Valid To: {_clock(stop)} UTC",
                f"CME {cme['id']} ({cme['speed']:.0f} km/s at 21.5 solar radii, {cme['time21_5']}): most likely "
                f"arrival {hit['arrival'][:16].replace('T', ' ')} UTC at {hit['arrival_speed_kms']:.0f} km/s.")))
    return out


def shocks(archive: Archive, at_us: int, lookback_us: int = 6 * 3_600_000_000) -> list[Event]:
    """Sudden impulses ahead: shocks at L1 (feeds) and at the station (its shock alerts) in the
    ``lookback_us`` before ``at_us``, received by then."""
    out = []
    start = at_us - lookback_us
    rows = archive.query(f"SELECT t_us, speed, density, temperature FROM feed_wind WHERE point = 'L1' AND {FEED_GOOD} "
                         "AND received_us <= ? AND t_us >= ? AND t_us <= ? ORDER BY t_us",
                         (at_us, start - 3_600_000_000, at_us))
    mag = archive.query(f"SELECT t_us, bx_gsm, by_gsm, bz_gsm FROM feed_mag WHERE point = 'L1' AND {FEED_GOOD} "
                        "AND received_us <= ? AND t_us >= ? AND t_us <= ? ORDER BY t_us",
                        (at_us, start - 3_600_000_000, at_us))
    plasma = np.array(rows, dtype=float).reshape(-1, 4)
    field = np.array(mag, dtype=float).reshape(-1, 4)
    plasma_columns = {"t_us": plasma[:, 0].astype(np.int64), "vr": plasma[:, 1], "density": plasma[:, 2],
                      "temperature": plasma[:, 3]}
    mag_columns = {"t_us": field[:, 0].astype(np.int64), "br": field[:, 1], "bt": field[:, 2], "bn": field[:, 3]}
    for shock in alerts.shock_alerts(plasma_columns, mag_columns):
        if shock.start_us < start:
            continue
        downstream = float(np.nanmedian(plasma[plasma[:, 0] > shock.start_us, 1][:10]))
        arrival = shock.start_us + int(L1_DISTANCE_KM / downstream * 1e6)
        out.append(Event("WARSUD", f"L1:{shock.start_us}", arrival, arrival + 3_600_000_000, (
            "WARNING: Geomagnetic Sudden Impulse expected",
            f"Valid From: {_clock(arrival)} UTC", f"Valid To: {_clock(arrival + 3_600_000_000)} UTC",
            f"Interplanetary shock observed at L1 at {_clock(shock.start_us)} UTC ({shock.message}).")))
    for kind, parameter, level, t0, _, value, text in archive.query(
            "SELECT kind, parameter, level, start_us, stop_us, value, message FROM alerts WHERE kind = 'shock' "
            "AND start_us >= ? AND start_us <= ?", (start, at_us)):
        middle = t0 + COROTATION_LAG_US
        out.append(Event("WATSUD", f"L4:{t0}", middle - STATION_SHOCK_SPREAD_US, middle + STATION_SHOCK_SPREAD_US, (
            "WATCH: Sudden impulse from a corotating shock possible at Earth",
            f"Valid From: {_clock(middle - STATION_SHOCK_SPREAD_US)} UTC",
            f"Valid To: {_clock(middle + STATION_SHOCK_SPREAD_US)} UTC",
            f"Shock observed at the L4 station at {_clock(t0)} UTC ({text}); a corotating structure reaches "
            "Earth about 4.5 days after L4.")))
    return out


def _latest_by_key(archive: Archive, at_us: int) -> dict[tuple[str, str], tuple]:
    """The latest message of each (product, key) issued by ``at_us``: (serial, start, stop, status)."""
    latest = {}
    for serial, code, key, start, stop, status in archive.query(
            "SELECT serial, product_id, key, start_us, stop_us, status FROM watches WHERE issue_us <= ? "
            "ORDER BY serial", (at_us,)):
        latest[(code, key)] = (serial, start, stop, status)
    return latest


def update(archive: Archive, at_us: int, events: list[Event], *, predicted_codes=("WATHSS", "WATCME")) -> list[dict]:
    """Issue, extend or cancel messages so that the archive's messages follow ``events``; returns
    the messages issued now. An event whose window is over by ``at_us`` is not sent; one already
    sent (the same product and key, not cancelled) is sent again only as EXTENDED, when it ends
    later. Events of ``predicted_codes`` absent from ``events`` cancel their watch if its window
    has not begun. Messages only move forward: an issue earlier than the latest message sends
    none. The whole decision is one transaction under the archive's write lock, so two issuers
    never share a serial number."""
    issued = []
    with archive.transaction() as cursor:
        newest = archive.query("SELECT MAX(issue_us), COALESCE(MAX(serial), 0) FROM watches")[0]
        if newest[0] is not None and at_us < int(newest[0]):
            return []
        serial = int(newest[1])
        latest = _latest_by_key(archive, at_us)

        def emit(code, key, start, stop, status, refers, lines):
            nonlocal serial
            serial += 1
            issued.append((serial, code, key, at_us, start, stop, status, refers, message(code, serial, at_us, *lines)))

        seen = set()
        for event in events:
            seen.add((event.code, event.key))
            if event.stop_us < at_us:
                continue                                     # over already: nothing to watch for
            current = latest.get((event.code, event.key))
            if current is None or current[3] == "cancel":
                emit(event.code, event.key, event.start_us, event.stop_us, "new", None, event.lines)
            elif event.stop_us > current[2] + SLACK_US:
                emit(event.code, event.key, current[1], event.stop_us, "extended", current[0],
                     (f"EXTENDED {event.lines[0]}", f"Extension to Serial Number: {current[0]}", *event.lines[1:]))
        for (code, key), (refers, start, stop, status) in latest.items():
            if code in predicted_codes and (code, key) not in seen and status != "cancel" and start > at_us:
                emit(code, key, start, stop, "cancel", refers,
                     (f"CANCEL WATCH: {code} serial {refers}", f"Cancel Serial Number: {refers}",
                      "The latest forecast no longer predicts this event."))
        if issued:
            archive.insert_rows(cursor, "watches", issued)
    return [{"serial": s, "product_id": c, "status": st, "message": m} for s, c, _, _, _, _, st, _, m in issued]


def recent(archive: Archive, hours: float, now_us: int) -> list[dict]:
    """Messages of the last ``hours`` (up to now, or to the latest message if earlier: a replay),
    newest first, as SWPC's alerts.json rows."""
    if not archive.has("watches"):
        return []                        # an archive from before watches, read-only
    latest = archive.query("SELECT MAX(issue_us) FROM watches")[0][0]
    since = min(now_us, now_us if latest is None else int(latest)) - int(hours * 3.6e9)
    rows = archive.query("SELECT product_id, issue_us, message FROM watches WHERE issue_us >= ? "
                         "ORDER BY serial DESC", (since,))
    return [{"product_id": code, "issue_datetime": _clock(issue) + ".000", "message": text}
            for code, issue, text in rows]

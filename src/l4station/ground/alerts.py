"""Alerts raised from the archived data, re-evaluated over each ingested batch's span.

- Limits: a telemetry point outside its yellow or red range (telemetry dictionary) for
  ``persistence`` consecutive samples (XTCE minViolations).
- Interplanetary shocks at the station: fast-forward shock criteria of the Heliospheric Shock
  Database (Kilpua et al. 2015, Ann. Geophys. 33, 1141; ipshocks.helsinki.fi): over 8-minute means
  upstream and downstream, |B|d/|B|u >= 1.2, Nd/Nu >= 1.2, Td/Tu >= 1/1.2, Vd - Vu >= 20 km/s.
- Solar radiation storms: NOAA S-scale of the >=10 MeV flux, with SWPC's event rule (three
  consecutive readings >= 10 pfu) from :mod:`l4station.radiation.events`.
- Shelter advisories: during a proton event, the crew's projected BFO dose-equivalent in a cabin
  (:data:`SHELTER_SCENARIO`, :mod:`l4station.radiation.dose`) reaches a share of NASA's 30-day
  limit, kept in the archive (:func:`shelter_fraction`: every writer raises the same alerts). The
  projection is the dose of the 30 days before (earlier events count) plus the present rate held
  for SHELTER_HORIZON_H hours (assumed: SEP intensities decay over about a day); new data are
  judged against the advisories of the 30 days after them too (:func:`replace_shelter`).
  NASA's design rule is a shelter ready within 30 minutes of onset, so the advisory comes from
  the first reading that passes.

Alerts are a function of what the archive holds, not of the order data arrive in: after each
batch the alerts of a window around it are computed afresh and replace the stored ones. The window
reaches out (doubling, up to ``REACH_US`` a side) until an hour of quiet data (no sample where a
condition holds) or the end of the archive separates it from the rest, so no run, event or shock
cluster is cut at its edge; a recorder playback of older data can therefore split, join, end or
start alerts, but never leaves one running that the archive shows ended.

Five-minute >=10 MeV readings rising to 150 pfu raise S1 from the event's onset and S2 from the
first reading at 100 pfu (NOAA S-scale, SWPC event rule):

>>> t_us = np.arange(6) * 300_000_000
>>> found = radiation_alerts({"t_us": t_us, "p10": np.array([1.0, 12, 15, 150, 9, 3])})
>>> [(a.level, a.start_us, a.stop_us) for a in found]
[('S1', 300000000, 900000000), ('S2', 900000000, 900000000)]
>>> found[-1].message
'solar radiation storm S2 moderate: >=10 MeV protons 150 pfu'
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from l4station.arrays import runs
from l4station.constants import HOUR_US
from l4station.errors import InputError
from l4station.ground import packets
from l4station.radiation import dose
from l4station.radiation import events as radiation

CONTEXT_US = 6 * HOUR_US               # data either side of a batch looked at again
EDGE_US = HOUR_US                      # quiet data that must separate a window from the rest
REACH_US = 30 * 24 * HOUR_US           # furthest a window reaches out on either side
SHOCK_WINDOW_US = 8 * 60 * 1_000_000
SHOCK_CLUSTER_US = 30 * 60 * 1_000_000   # candidates closer than this are one shock
SHOCK_RATIOS = {"b": 1.2, "density": 1.2, "temperature": 1 / 1.2}
SHOCK_SPEED_JUMP_KMS = 20.0
SHELTER_SCENARIO = dose.SCENARIOS[1]      # Orion-class cabin
SHELTER_FRACTION = 0.5                    # of the 30-day BFO limit, projected
SHELTER_HORIZON_H = 24.0
SHELTER_MEMORY_US = 30 * 24 * HOUR_US     # the limit's 30 days: earlier dose counts in the projection
CHANNELS, CHANNELS_MEV = dose.STATION_CHANNELS, dose.STATION_CHANNELS_MEV


@dataclass(frozen=True)
class Alert:
    kind: str            # "limit", "shock" or "radiation"
    parameter: str       # e.g. "plasma.vr", "station", "particles.p10"
    level: str           # "yellow"/"red", "shock", "S1".."S5"
    start_us: int
    stop_us: int | None  # last sample of the condition; None while it still holds at the end
    value: float
    message: str


def _outside(x: np.ndarray, limits: tuple[float, float]) -> np.ndarray:
    low, high = limits
    return (x < low if np.isfinite(low) else np.zeros(len(x), bool)) | (x > high if np.isfinite(high) else False)


def limit_alerts(name: str, columns: dict[str, np.ndarray]) -> list[Alert]:
    """Yellow and red alarms of one packet type's series."""
    t = columns["t_us"]
    out = []
    for f in packets.dictionary()[name].fields:
        for level in ("yellow", "red"):
            limits = getattr(f, level)
            if limits is None:
                continue
            x = columns[f.name]
            low, high = limits
            for i, stop in runs(_outside(x, limits), f.persistence):
                j = stop - 1
                segment = x[i:stop]
                extreme = segment.max() if np.isfinite(high) and segment.max() > high else segment.min()
                out.append(Alert("limit", f"{name}.{f.name}", level, int(t[i]), None if j == len(t) - 1 else int(t[j]),
                                 float(extreme), f"{f.description} {extreme:.4g} {f.units} outside {level} "
                                 f"limits [{low:g}, {high:g}]".replace("nan", "-")))
    return out


def _window_means(t_us: np.ndarray, x: np.ndarray, at_us: np.ndarray, before: bool) -> np.ndarray:
    """Mean of x over the 8 minutes before (or after) each time (NaN with fewer than 3 samples).
    Each window is summed on its own (``np.add.reduceat``), not as a difference of running sums,
    so a mean does not depend on where the data read begins."""
    good = np.isfinite(x)
    tt, xx = t_us[good], np.append(x[good], 0.0)
    if before:
        lo, hi = np.searchsorted(tt, at_us - SHOCK_WINDOW_US), np.searchsorted(tt, at_us)
    else:
        lo, hi = np.searchsorted(tt, at_us, side="right"), np.searchsorted(tt, at_us + SHOCK_WINDOW_US, side="right")
    n = hi - lo
    if len(at_us) == 0:
        return np.zeros(0)
    sums = np.add.reduceat(xx, np.column_stack([lo, hi]).ravel())[::2]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n >= 3, sums / n, np.nan)


def _shock_jumps(plasma: dict[str, np.ndarray], mag: dict[str, np.ndarray], at_us: np.ndarray | None = None):
    """At every plasma time (or at ``at_us``): whether the shock criteria hold, the speed jump
    (km/s), and the upstream and downstream 8-minute means."""
    t = plasma["t_us"] if at_us is None else at_us
    b = np.sqrt(mag["br"] ** 2 + mag["bt"] ** 2 + mag["bn"] ** 2)
    up, down = ({"b": _window_means(mag["t_us"], b, t, before),
                 "density": _window_means(plasma["t_us"], plasma["density"], t, before),
                 "temperature": _window_means(plasma["t_us"], plasma["temperature"], t, before),
                 "v": _window_means(plasma["t_us"], plasma["vr"], t, before)} for before in (True, False))
    with np.errstate(invalid="ignore", divide="ignore"):
        jump = down["v"] - up["v"]
        hit = jump >= SHOCK_SPEED_JUMP_KMS
        for key, ratio in SHOCK_RATIOS.items():
            hit &= down[key] / up[key] >= ratio
    return hit, jump, up, down


def shock_alerts(plasma: dict[str, np.ndarray], mag: dict[str, np.ndarray]) -> list[Alert]:
    """Fast-forward interplanetary shocks: every plasma time where the jump criteria hold; one
    alert per cluster (candidates less than 30 minutes apart) at its largest speed jump."""
    t = plasma["t_us"]
    if len(t) < 3 or len(mag["t_us"]) < 3:
        return []
    hit, jump, up, down = _shock_jumps(plasma, mag)
    candidates = np.flatnonzero(hit)
    out = []
    for cluster in np.split(candidates, np.flatnonzero(np.diff(t[candidates]) >= SHOCK_CLUSTER_US) + 1):
        if len(cluster) == 0:
            continue
        k = cluster[np.argmax(jump[cluster])]
        out.append(Alert("shock", "station", "shock", int(t[k]), int(t[k]), float(jump[k]),
                         f"interplanetary shock: speed +{jump[k]:.0f} km/s, density x{down['density'][k] / up['density'][k]:.1f}, "
                         f"|B| x{down['b'][k] / up['b'][k]:.1f}"))
    return out


def radiation_alerts(particles: dict[str, np.ndarray]) -> list[Alert]:
    """S-scale alerts: for each proton event (SWPC rule), one alert per S level reached, from the
    first reading at that level."""
    t, flux = particles["t_us"], particles["p10"]
    out = []
    for event in radiation.detect_events(flux):
        segment = flux[event.start:event.end + 1]
        levels = radiation.s_level(segment)
        ongoing = event.end == len(flux) - 1
        for level in range(1, event.level + 1):
            first = event.start + int(np.argmax(levels >= level))
            out.append(Alert("radiation", "particles.p10", f"S{level}", int(t[first]),
                             None if ongoing else int(t[event.end]), float(event.peak_pfu),
                             f"solar radiation storm {radiation.S_NAMES[level]}: >=10 MeV protons "
                             f"{event.peak_pfu:.3g} pfu"))
    return out


def shelter_alerts(particles: dict[str, np.ndarray], fraction: float = SHELTER_FRACTION) -> list[Alert]:
    """One advisory per proton event (SWPC rule) whose projected cabin BFO dose reaches ``fraction``
    of the 30-day limit, from the first reading where it does. The projection at a reading is the
    dose of the 30 days before it (every earlier event and the quiet flux between) plus the present
    rate held for SHELTER_HORIZON_H hours; each reading's dose covers the time to the next (at most
    the packet's cadence: a gap adds nothing). ``particles`` should reach 30 days before the
    events judged."""
    t = particles["t_us"]
    if len(t) == 0:
        return []
    rate = dose.reading_rates(particles, SHELTER_SCENARIO)
    step_h = dose.reading_hours(t, packets.dictionary()["particles"].cadence_s)
    received = np.concatenate([[0.0], np.cumsum(rate * step_h)])           # dose before each reading
    month_ago = np.searchsorted(t, t - SHELTER_MEMORY_US)
    trailing = received[:-1] - received[month_ago]                          # of the 30 days before it
    projected_all = trailing + rate * SHELTER_HORIZON_H
    limit = fraction * dose.LIMIT_BFO_30DAY_MGY_EQ
    out = []
    # the >= 10 MeV flux as the dose reads it: a missing or dead p10 channel does not hide an event
    for event in radiation.detect_events(dose.filled_channels(dose.station_flux(particles))[:, CHANNELS.index("p10")]):
        projected = projected_all[event.start:event.end + 1]
        if not np.any(projected >= limit):
            continue
        first = event.start + int(np.argmax(projected >= limit))
        peak = float(projected.max())
        out.append(Alert("radiation", "dose.cabin_bfo", "shelter", int(t[first]),
                         None if event.end == len(t) - 1 else int(t[event.end]), peak,
                         f"shelter advisory: projected BFO dose-equivalent in the cabin {peak:.0f} mGy-Eq "
                         f"({peak / dose.LIMIT_BFO_30DAY_MGY_EQ:.0%} of the 30-day limit); have the storm "
                         "shelter ready within 30 minutes"))
    return out


def replace_shelter(archive, cursor, start_us: int, stop_us: int, fraction: float) -> None:
    """Shelter advisories again from the archive after samples were stored between ``start_us``
    and ``stop_us``: their dose counts in the 30-day projection of any event up to 30 days later,
    so every advisory starting in [start, stop + 30 days] is judged afresh, on the particle data
    from 30 days before (and, when a proton event follows within 30 days, to its end)."""
    horizon = stop_us + SHELTER_MEMORY_US
    event = radiation.S_THRESHOLDS_PFU[0]

    def event_between(low: int, high: int) -> bool:       # advisories come only in proton events
        # any channel at the threshold: the advisory reads a missing p10 from the channels beside it
        above = " OR ".join(f"{c} >= ?" for c in CHANNELS)
        cursor.execute(archive.sql(f"SELECT 1 FROM particles WHERE t_us >= ? AND t_us <= ? AND ({above}) LIMIT 1"),
                       (low, high, *[event] * len(CHANNELS)))
        return bool(cursor.fetchall())

    later = event_between(stop_us + 1, horizon)
    if not later and not event_between(start_us, stop_us):      # none to judge (a quiet batch: the usual)
        cursor.execute(archive.sql("DELETE FROM alerts WHERE level = 'shelter' AND start_us >= ? AND start_us <= ?"),
                       (start_us, horizon))
        return
    until = horizon + REACH_US if later else stop_us
    data = archive.columns("particles", start_us - SHELTER_MEMORY_US, until + 1, ["quality", *CHANNELS], cursor=cursor)
    found = [a for a in shelter_alerts(data, fraction) if start_us <= a.start_us <= horizon]
    cursor.execute(archive.sql("DELETE FROM alerts WHERE level = 'shelter' AND start_us >= ? AND start_us <= ?"),
                   (start_us, horizon))
    _insert(archive, cursor, found)


def _insert(archive, cursor, found: list[Alert]) -> None:
    if found:
        cursor.executemany(archive.sql(
            "INSERT INTO alerts (kind, parameter, level, start_us, stop_us, value, message) VALUES (?, ?, ?, ?, ?, ?, ?)"),
            [(a.kind, a.parameter, a.level, a.start_us, a.stop_us, a.value, a.message) for a in found])


def raised(data: dict[str, dict[str, np.ndarray]], shelter_fraction: float | None = SHELTER_FRACTION) -> list[Alert]:
    """Every alert that series of every packet type raise (shelter advisories too, unless
    ``shelter_fraction`` is None: :func:`replace_shelter` judges them over their 30-day memory)."""
    out = [a for name, columns in data.items() for a in limit_alerts(name, columns)]
    out += shock_alerts(data["plasma"], data["mag"]) + radiation_alerts(data["particles"])
    return out if shelter_fraction is None else out + shelter_alerts(data["particles"], shelter_fraction)


def shelter_fraction(archive, cursor=None) -> float:
    """The share of the 30-day limit the archive's shelter advisories are raised at (set with
    ``l4station serve/ingest --shelter-fraction``; SHELTER_FRACTION until then)."""
    return float(archive.setting("shelter_fraction", repr(SHELTER_FRACTION), cursor))


def set_shelter_fraction(archive, fraction: float) -> None:
    """Raise shelter advisories at ``fraction`` of the 30-day limit from now on (alerts already
    stored keep the fraction they were raised at until their data are evaluated again)."""
    if not 0.0 < fraction <= 10.0:
        raise InputError(f"--shelter-fraction {fraction:g} must be above 0 and at most 10 (a share of the "
                         "30-day limit, e.g. 0.5)")
    archive.set_setting("shelter_fraction", repr(float(fraction)))


def busy(data: dict[str, dict[str, np.ndarray]], near: list[tuple[int, int]]) -> dict[str, np.ndarray]:
    """Per packet type, the samples where some alert condition holds or may hold: outside any
    limit, >=10 MeV flux at or above the event threshold (or unknown: a gap does not end an
    event), a shock candidate. Shock tests, the costly part, are made only at times within the
    ``near`` intervals [a, b] (the pads a window's edges are judged on)."""
    out = {}
    for name, columns in data.items():
        mask = np.zeros(len(columns["t_us"]), bool)
        for f in packets.dictionary()[name].fields:
            for limits in (f.yellow, f.red):
                if limits is not None:
                    mask |= _outside(columns[f.name], limits)
        out[name] = mask
    out["particles"] |= ~(data["particles"]["p10"] < radiation.S_THRESHOLDS_PFU[0])
    t = data["plasma"]["t_us"]
    if len(t) >= 3 and len(data["mag"]["t_us"]) >= 3:
        judged = np.zeros(len(t), bool)
        for a, b in near:
            judged[np.searchsorted(t, a):np.searchsorted(t, b, side="right")] = True
        out["plasma"][judged] |= _shock_jumps(data["plasma"], data["mag"], t[judged])[0]
    return out


def _settled(t: np.ndarray, engaged: np.ndarray, edge: int, beyond: bool, side: int) -> bool:
    """Whether an hour of quiet samples separates the window's edge from data beyond it."""
    if not beyond:
        return True
    pad = (t >= edge - EDGE_US) & (t < edge) if side < 0 else (t > edge) & (t <= edge + EDGE_US)
    return bool(pad.any()) and not engaged[pad].any()


def window(archive, cursor, low_us: int, high_us: int) -> tuple[dict[str, dict[str, np.ndarray]], int, int]:
    """The archived data that alerts must be re-evaluated over after storing samples between
    ``low_us`` and ``high_us``, and the range [start, stop] that evaluation settles (see the
    module's docstring): from CONTEXT_US before to CONTEXT_US after, reaching out until an hour of
    quiet data or the archive's ends bound it. The data run SHOCK_WINDOW_US beyond the range, so
    every shock test inside it sees its whole upstream and downstream windows."""
    extents = {name: archive.extent(name, cursor) or (None, None) for name in packets.dictionary()}
    reach = [CONTEXT_US, CONTEXT_US]
    while True:
        lo, hi = low_us - reach[0], high_us + reach[1]
        start, stop = lo - EDGE_US, hi + EDGE_US
        held = {name: archive.columns(name, start - SHOCK_WINDOW_US, stop + SHOCK_WINDOW_US + 1,
                                      [f.name for f in p.fields] + ["seq"], cursor=cursor)
                for name, p in packets.dictionary().items()}
        engaged = busy(held, [(start, lo), (hi, stop)])
        settled = [all(_settled(held[n]["t_us"], engaged[n], edge, e[0] is not None and bound(e), side)
                       for n, e in extents.items())
                   for edge, side, bound in ((lo, -1, lambda e: e[0] < start), (hi, 1, lambda e: e[1] > stop))]
        grow = [not ok and r < REACH_US for ok, r in zip(settled, reach)]
        if not any(grow):
            return held, start, stop
        reach = [min(2 * r, REACH_US) if g else r for g, r in zip(grow, reach)]


def replace(archive, cursor, start_us: int, stop_us: int, found: list[Alert]) -> None:
    """Make the stored alerts (but shelter advisories: :func:`replace_shelter`) that overlap
    [start, stop] those of ``found`` that do."""
    def overlaps(start, stop):
        return start <= stop_us and (stop is None or stop >= start_us)

    cursor.execute(archive.sql("DELETE FROM alerts WHERE level <> 'shelter' AND start_us <= ? "
                               "AND (stop_us IS NULL OR stop_us >= ?)"), (stop_us, start_us))
    _insert(archive, cursor, [a for a in found if overlaps(a.start_us, a.stop_us) and a.level != "shelter"])


def recent(archive, since_us: int) -> list[dict]:
    """Stored alerts still running or ended after ``since_us``, newest first, as JSON records."""
    rows = archive.query("SELECT kind, parameter, level, start_us, stop_us, value, message FROM alerts "
                         "WHERE stop_us IS NULL OR stop_us >= ? ORDER BY start_us DESC", (since_us,))
    return [{"kind": k, "parameter": p, "level": lv, "start_us": s, "stop_us": e, "value": v, "message": m}
            for k, p, lv, s, e, v, m in rows]

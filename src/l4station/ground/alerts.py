"""Alerts raised from the archived data, re-evaluated over each ingested batch's span.

- Limits: a telemetry point outside its yellow or red range (telemetry dictionary) for
  ``persistence`` consecutive samples (XTCE minViolations).
- Interplanetary shocks at the station: fast-forward shock criteria of the Heliospheric Shock
  Database (Kilpua et al. 2015, Ann. Geophys. 33, 1141; ipshocks.helsinki.fi): over 8-minute means
  upstream and downstream, |B|d/|B|u >= 1.2, Nd/Nu >= 1.2, Td/Tu >= 1/1.2, Vd - Vu >= 20 km/s.
- Solar radiation storms: NOAA S-scale of the >=10 MeV flux, with SWPC's event rule (three
  consecutive readings >= 10 pfu) from :mod:`l4station.heliosphere.radiation`.

Each alert is one row keyed by (kind, parameter, level, start); re-evaluation extends its stop.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from l4station.ground import packets
from l4station.heliosphere import radiation

CONTEXT_US = 6 * 3600 * 1_000_000        # data before a batch looked at again for running alerts
RUNNING_LOOKBACK_US = 7 * 86400 * 1_000_000   # how far back a still-running alert is followed
SHOCK_WINDOW_US = 8 * 60 * 1_000_000
SHOCK_RATIOS = {"b": 1.2, "density": 1.2, "temperature": 1 / 1.2}
SHOCK_SPEED_JUMP_KMS = 20.0


@dataclass(frozen=True)
class Alert:
    kind: str            # "limit", "shock" or "radiation"
    parameter: str       # e.g. "plasma.vr", "station", "particles.p10"
    level: str           # "yellow"/"red", "shock", "S1".."S5"
    start_us: int
    stop_us: int | None  # last sample of the condition; None while it still holds at the end
    value: float
    message: str


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
            outside = (x < low if np.isfinite(low) else np.zeros(len(x), bool)) | (x > high if np.isfinite(high) else False)
            for i, j in radiation.runs(outside, f.persistence):
                segment = x[i:j + 1]
                extreme = segment.max() if np.isfinite(high) and segment.max() > high else segment.min()
                out.append(Alert("limit", f"{name}.{f.name}", level, int(t[i]), None if j == len(t) - 1 else int(t[j]),
                                 float(extreme), f"{f.description} {extreme:.4g} {f.units} outside {level} "
                                 f"limits [{low:g}, {high:g}]".replace("nan", "-")))
    return out


def _window_means(t_us: np.ndarray, x: np.ndarray, at_us: np.ndarray, before: bool) -> np.ndarray:
    """Mean of x over the 8 minutes before (or after) each time, from cumulative sums."""
    good = np.isfinite(x)
    tt, xx = t_us[good], x[good]
    c = np.concatenate([[0.0], np.cumsum(xx)])
    if before:
        lo, hi = np.searchsorted(tt, at_us - SHOCK_WINDOW_US), np.searchsorted(tt, at_us)
    else:
        lo, hi = np.searchsorted(tt, at_us, side="right"), np.searchsorted(tt, at_us + SHOCK_WINDOW_US, side="right")
    n = hi - lo
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n >= 3, (c[hi] - c[lo]) / n, np.nan)


def shock_alerts(plasma: dict[str, np.ndarray], mag: dict[str, np.ndarray]) -> list[Alert]:
    """Fast-forward interplanetary shocks: every plasma time where the jump criteria hold, one
    alert per 30-minute cluster at its largest speed jump."""
    t = plasma["t_us"]
    if len(t) < 3 or len(mag["t_us"]) < 3:
        return []
    b = np.sqrt(mag["br"] ** 2 + mag["bt"] ** 2 + mag["bn"] ** 2)
    up = {"b": _window_means(mag["t_us"], b, t, True), "density": _window_means(t, plasma["density"], t, True),
          "temperature": _window_means(t, plasma["temperature"], t, True), "v": _window_means(t, plasma["vr"], t, True)}
    down = {"b": _window_means(mag["t_us"], b, t, False), "density": _window_means(t, plasma["density"], t, False),
            "temperature": _window_means(t, plasma["temperature"], t, False), "v": _window_means(t, plasma["vr"], t, False)}
    with np.errstate(invalid="ignore", divide="ignore"):
        jump = down["v"] - up["v"]
        hit = jump >= SHOCK_SPEED_JUMP_KMS
        for key, ratio in SHOCK_RATIOS.items():
            hit &= down[key] / up[key] >= ratio
    out = []
    candidates = np.flatnonzero(hit)
    while len(candidates):
        cluster = candidates[t[candidates] < t[candidates[0]] + 30 * 60 * 1_000_000]
        k = cluster[np.argmax(jump[cluster])]
        out.append(Alert("shock", "station", "shock", int(t[k]), int(t[k]), float(jump[k]),
                         f"interplanetary shock: speed +{jump[k]:.0f} km/s, density x{down['density'][k] / up['density'][k]:.1f}, "
                         f"|B| x{down['b'][k] / up['b'][k]:.1f}"))
        candidates = candidates[len(cluster):]
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


def raised(data: dict[str, dict[str, np.ndarray]]) -> list[Alert]:
    """Every alert that series of every packet type raise."""
    out = [a for name, columns in data.items() for a in limit_alerts(name, columns)]
    return out + shock_alerts(data["plasma"], data["mag"]) + radiation_alerts(data["particles"])


def window(archive, cursor, spans: dict[str, tuple[int, int]]) -> tuple[int, int]:
    """The time range to re-evaluate after ingesting these spans: from CONTEXT_US before them (or
    the start of an alert still running, at most RUNNING_LOOKBACK_US further back) to their end."""
    start = min(low for low, _ in spans.values()) - CONTEXT_US
    stop = max(high for _, high in spans.values())
    cursor.execute(archive.sql("SELECT MIN(start_us) FROM alerts WHERE stop_us IS NULL OR stop_us >= ?"), (start,))
    running = cursor.fetchone()[0]
    if running is not None:
        start = max(min(start, int(running)), start - RUNNING_LOOKBACK_US)
    return start, stop


def store(archive, cursor, found: list[Alert]) -> None:
    """Insert alerts, extending the stop and value of those already stored."""
    if found:
        cursor.executemany(archive.sql(
            "INSERT INTO alerts (kind, parameter, level, start_us, stop_us, value, message) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (kind, parameter, level, start_us) DO UPDATE SET stop_us = excluded.stop_us, "
            "value = excluded.value, message = excluded.message"),
            [(a.kind, a.parameter, a.level, a.start_us, a.stop_us, a.value, a.message) for a in found])


def recent(archive, since_us: int) -> list[dict]:
    """Stored alerts still running or ended after ``since_us``, newest first, as JSON records."""
    rows = archive.query("SELECT kind, parameter, level, start_us, stop_us, value, message FROM alerts "
                         "WHERE stop_us IS NULL OR stop_us >= ? ORDER BY start_us DESC", (since_us,))
    return [{"kind": k, "parameter": p, "level": lv, "start_us": s, "stop_us": e, "value": v, "message": m}
            for k, p, lv, s, e, v, m in rows]

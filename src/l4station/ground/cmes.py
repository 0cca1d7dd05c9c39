"""CME analyses entered by forecasters, and their arrival at Earth, the Moon and Mars.

An analysis is what NASA's DONKI holds for a CME (CCMC's CME Analysis Tool): ``time21_5`` (when
the leading edge reached 21.5 R_sun, ISO UTC), ``latitude`` and ``longitude`` of its direction
(Stonyhurst, deg: longitude 0 towards Earth, positive towards the west limb, which is the side
L4 looks from), ``halfAngle`` (deg), ``speed`` (km/s) and ``type`` (S < 500, C 500-999, O
1000-1999, R 2000-2999, ER >= 3000 km/s). Stored once per id (DONKI's ``associatedCMEID`` or
one made from the time and direction); a stored analysis is never altered.

Arrival: the drag-based ensemble model (:mod:`l4station.heliosphere.cme`, Dumbović et al. 2018)
from 21.5 R_sun with the ambient wind of the forecast at the target, and a speed error that
depends on who saw the CME: the L1 coronagraph's view from Earth combined with the station's
side view from L4, each with the plane-of-sky and direction errors of ``cme.SpeedErrors``. A
CME heading at Earth is a halo from L1 (30 % speed error) but seen 60 deg off its axis from L4: 13 % together.

>>> round(speed_error(0.0, with_l4=False), 2), round(speed_error(0.0, with_l4=True), 2)
(0.3, 0.13)
"""
from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass

import numpy as np

from l4station.constants import DAY_US
from l4station.errors import InputError
from l4station.ground.store import Archive
from l4station.heliosphere import cme as cme_model
from l4station.heliosphere.solarwind import R_SUN_KM

TYPES = ("S", "C", "O", "R", "ER")
FIELDS = ("time21_5", "latitude", "longitude", "halfAngle", "speed", "type")
WINDOW_DAYS = 5.0          # analyses this recent at an issue time are forecast
L4_LONGITUDE_DEG = 60.0


TYPE_SPEEDS_KMS = {"S": (0.0, 500.0), "C": (500.0, 1000.0), "O": (1000.0, 2000.0), "R": (2000.0, 3000.0),
                   "ER": (3000.0, math.inf)}       # DONKI's speed classes: type names the speed's range
ID = re.compile(r"^[A-Za-z0-9:._+-]{1,64}$")       # DONKI ids: 2024-05-10T18:36:00-CME-001


def _us(text) -> int:
    from l4station.ground.feeds import parse_time_us
    try:
        return parse_time_us(text)
    except ValueError:
        raise InputError(f"time21_5 {text!r} is not an ISO UTC time between 1957 and 2100: write e.g. "
                         "2026-05-01T12:30Z") from None


def _number(analysis: dict, name: str, low: float, high: float, *, open_low: bool = False) -> float:
    value = analysis.get(name)
    try:
        number = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan
    except OverflowError:
        number = math.nan
    if not math.isfinite(number) or not (low < number <= high if open_low else low <= number <= high):
        bounds = f"({low:g}, {high:g}]" if open_low else f"[{low:g}, {high:g}]"
        raise InputError(f"{name} must be a number in {bounds}, got {str(value)[:40]}")
    return number


def check(analysis) -> dict:
    """A DONKI-style analysis, checked: the stored row's values, or InputError naming the field."""
    if not isinstance(analysis, dict):
        raise InputError("a CME analysis is a JSON object with " + ", ".join(FIELDS))
    missing = [f for f in FIELDS if f not in analysis]
    if missing:
        raise InputError(f"the CME analysis lacks {', '.join(missing)}: give " + ", ".join(FIELDS))
    kind = analysis["type"]
    if kind not in TYPES:
        raise InputError(f"type must be one of {', '.join(TYPES)} (DONKI's speed classes), got {kind!r}")
    row = {"time21_5_us": _us(analysis["time21_5"]), "latitude": _number(analysis, "latitude", -90, 90),
           "longitude": _number(analysis, "longitude", -180, 180),
           "half_angle": _number(analysis, "halfAngle", 0, 90, open_low=True),
           "speed": _number(analysis, "speed", 50, 5000), "type": kind}
    low, high = TYPE_SPEEDS_KMS[kind]
    if not low <= row["speed"] < high:
        raise InputError(f"type {kind} means {low:g}-{high:g} km/s, but speed is {row['speed']:g}: give the "
                         "type that matches the speed")
    given = analysis.get("associatedCMEID") or analysis.get("id")
    if given is not None and (not isinstance(given, str) or not ID.match(given)):
        raise InputError("associatedCMEID must be 1-64 letters, digits and :._+- (e.g. 2024-05-10T18:36:00-CME-001)")
    row["id"] = given or "CME-" + hashlib.sha256(repr(sorted(row.items())).encode()).hexdigest()[:12]
    return row


@dataclass(frozen=True)
class Stored:
    """Analyses entered (``l4station cme``): each one's id and whether it was new."""

    entries: list[tuple[str, bool]]

    def to_json(self) -> dict:
        return {"cmes": [{"id": i, "new": new} for i, new in self.entries]}

    def __str__(self) -> str:
        return "\n".join(f"{i}: {'stored' if new else 'already in the archive'}" for i, new in self.entries)


def add(archive: Archive, analysis, received_us: int) -> tuple[str, bool]:
    """Store an analysis; (its id, whether it was new)."""
    row = check(analysis)
    if row["time21_5_us"] > received_us + DAY_US:
        raise InputError("time21_5 is after the analysis was received: a CME analysis describes the past")
    with archive.transaction() as cursor:
        added = archive.insert_rows(cursor, "cmes", [(row["id"], row["time21_5_us"], row["latitude"], row["longitude"],
                                                      row["half_angle"], row["speed"], row["type"], received_us)])
    return row["id"], bool(added)


def recent(archive: Archive, at_us: int) -> list[dict]:
    """Analyses received by ``at_us`` whose CME left within WINDOW_DAYS before it."""
    if not archive.has("cmes"):
        return []                        # an archive from before CME analyses, read-only
    rows = archive.query("SELECT id, time21_5_us, latitude, longitude, half_angle, speed, type FROM cmes "
                         "WHERE received_us <= ? AND time21_5_us <= ? AND time21_5_us >= ? ORDER BY time21_5_us, id",
                         (at_us, at_us, at_us - int(WINDOW_DAYS * DAY_US)))
    return [dict(zip(("id", "time21_5_us", "latitude", "longitude", "half_angle", "speed", "type"), r)) for r in rows]


def speed_error(longitude_deg: float, *, with_l4: bool) -> float:
    """Relative 1-sigma error of the CME's speed from the L1 view, and the L4 side view if given."""
    errors = cme_model.SpeedErrors()
    views = [cme_model.view_angle_deg(longitude_deg, 0.0)]
    if with_l4:
        views.append(cme_model.view_angle_deg(longitude_deg, L4_LONGITUDE_DEG))
    return float(errors.combined(np.array(views)))


def arrival(analysis: dict, target_lon_deg: float, target_r_km: float, wind_kms: float, *, with_l4: bool = True,
            members: int = 200, seed: int = 0) -> dict:
    """Arrival of one CME at a target (Earth-relative longitude, distance): median time and
    p10/p90 (Unix us), or None if the target lies outside its cone."""
    sigma = speed_error(analysis["longitude"], with_l4=with_l4)
    rng = np.random.default_rng(seed)
    v = analysis["speed"] * (1 + sigma * rng.standard_normal(members))
    w = np.clip(wind_kms + 50.0 * rng.standard_normal(members), 200.0, None)
    gamma = rng.uniform(0.1e-7, 0.5e-7, members)
    offset = float(np.hypot(cme_model.view_angle_deg(analysis["longitude"], target_lon_deg), analysis["latitude"]))
    t_s, speed = cme_model.arrival(np.clip(v, 100.0, None), w, gamma_per_km=gamma, r_target_km=target_r_km,
                                   offset_deg=offset, half_width_deg=analysis["half_angle"], r0_km=21.5 * R_SUN_KM)
    hit = np.isfinite(t_s)
    if hit.mean() < 0.5:
        return {"id": analysis["id"], "hit": False}
    t = analysis["time21_5_us"] + np.percentile(t_s[hit], [10, 50, 90]) * 1e6
    return {"id": analysis["id"], "hit": True, "speed_error": round(sigma, 3),
            "arrival_us": int(t[1]), "arrival_p10_us": int(t[0]), "arrival_p90_us": int(t[2]),
            "arrival_speed_kms": round(float(np.median(speed[hit])), 0)}

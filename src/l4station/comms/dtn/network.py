"""The mission's delay-tolerant network: its nodes and the contact plan they share, built from
the ground passes, the relays and the planets' geometry.

**Nodes** (ipn node numbers): the station 1; each ground station 10, 11, ... (the mission's
network, in order); the operations centre (the forecasters) 100; the optical relay in
geostationary orbit 20; relay craft at L1 30 and L5 31; a Mars orbiter 40.

**Contacts** (each with its rate and its one-way light time at its midpoint, from DE421):
- **Ground passes**: the daily science passes (at the pass's mean rate) and, on beacon stations in
  view outside them, the real-time beacon (:data:`BEACON_FACTOR` times the real-time instruments'
  output); the uplink over the same windows at :data:`UPLINK_BPS` (LTP reports, CFDP NAKs).
- **The ground network**: every station to the operations centre, always, at
  :data:`GROUND_BPS` with the mission's ground latency.
- **Relays**, when the mission's survey found them: the station to the optical relay and the
  relay's feeder to the ground; cross-links to L1 and L5, whose own links home are taken as
  continuous at :data:`RELAY_HOME_BPS` (assumed: each is its own mission); Mars to the station
  during Mars' solar conjunctions the relay clears, and Mars to the ground directly at
  :data:`MARS_DIRECT_BPS` (assumed, an MRO-class orbiter). A relay at L1 flies a halo orbit that
  keeps it outside the Sun's exclusion zone seen from Earth (as SOHO, ACE and DSCOVR do), so its
  link home is not cut; the exact L1 point lies on the Sun's disc.
- **Solar exclusion**: no contact while the Sun is within ``exclusion_deg`` of the other end,
  as seen from either end (sampled daily: continuous contacts are cut into days).

Nodes are numbered as ION and HDTN number them (``ipn:N``): the station, the operations centre
and the ground stations from :data:`GROUND_FIRST` up.

>>> STATION, MOC, GROUND_FIRST
(1, 100, 10)
"""
from __future__ import annotations

from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.time import Time

from l4station import ephemeris
from l4station.arrays import runs
from l4station.comms.dtn.plan import ContactPlan
from l4station.constants import C_M_S, DAY_S
from l4station.geometry import angle_between

STATION, GROUND_FIRST, MOC, GEO_RELAY, L1_RELAY, L5_RELAY, MARS = 1, 10, 100, 20, 30, 31, 40
GROUND_BPS = 1e8                 # ground network, station to operations centre (assumed)
UPLINK_BPS = 2e3                 # command uplink carrying LTP reports and CFDP NAKs (assumed)
BEACON_FACTOR = 2.0              # beacon rate over the real-time instruments' output
RELAY_HOME_BPS = 1e5             # an L1 or L5 relay's own link home (assumed)
MARS_DIRECT_BPS = 5e5            # a Mars orbiter straight to the DSN (assumed)
GEO_FEEDER_OWLT_S = 36_000e3 / C_M_S


@dataclass(frozen=True)
class Network:
    """The mission's contact plan and its node names."""

    plan: ContactPlan
    names: dict[int, str]

    def to_json(self) -> dict:
        per_pair = {}
        for f, t, s, e, r in zip(self.plan.frm, self.plan.to, self.plan.start_s, self.plan.end_s, self.plan.rate_bps):
            key = f"{self.names[int(f)]}>{self.names[int(t)]}"
            row = per_pair.setdefault(key, {"contacts": 0, "hours": 0.0, "volume_gbit": 0.0})
            row["contacts"] += 1
            row["hours"] += (e - s) / 3600
            row["volume_gbit"] += r * (e - s) / 1e9
        return {"epoch": self.plan.epoch, "nodes": {str(k): v for k, v in sorted(self.names.items())},
                "contacts": len(self.plan), "pairs": per_pair}


def _positions(body: str, times: Time) -> np.ndarray:
    """Heliocentric ecliptic positions (km) of a body or a Lagrange point."""
    if body in ("L1", "L4", "L5"):
        return ephemeris.lagrange_point(body, times)[0].to_value(u.km)
    return ephemeris.position(body, times).to_value(u.km)


def _daily(frm: int, to: int, a: np.ndarray, b: np.ndarray, days: np.ndarray, rate_bps: float, span_s: float,
           keep: np.ndarray | None = None) -> list[tuple]:
    """Day-long contacts frm -> to at ``rate_bps`` (a, b: the two ends' positions in km at each
    day's middle), on the days ``keep`` allows; each day's light time from its distance."""
    owlt = np.linalg.norm(a - b, axis=-1) * 1e3 / C_M_S
    keep = np.ones(len(days), bool) if keep is None else keep
    return [(frm, to, d, min(d + DAY_S, span_s), rate_bps, float(o)) for d, o, k in zip(days, owlt, keep) if k]


def mission_network(passes, *, target: str = "L4", beacon_stations=(), beacon_bps: float, ground_latency_s: float,
                    relay_paths=(), conjunctions=(), exclusion_deg: float = 3.0) -> Network:
    """The contact plan over the span of ``passes`` (a :class:`l4station.comms.contacts.ContactPlan`,
    its ground stations' visibility, science passes, rates and ranges; ``beacon_stations`` those
    receiving the beacon), with the relays of ``relay_paths`` and ``conjunctions``
    (:mod:`l4station.comms.relay`) and solar exclusion."""
    step = passes.step_s
    span_s = len(passes.times) * step
    epoch = passes.times[0]
    names = {STATION: target, MOC: "MOC"} | {GROUND_FIRST + k: n for k, n in enumerate(passes.stations)}
    rows: list[tuple] = []
    owlt_steps = passes.distance_m / C_M_S
    for k, name in enumerate(passes.stations):
        node = GROUND_FIRST + k
        tracked = passes.tracked_by == k
        for a, b in runs(tracked):
            rate = float(passes.rate_bps[a:b].mean())
            if rate > 0:
                rows.append((STATION, node, a * step, b * step, rate, float(owlt_steps[a:b].mean())))
        beacon = passes.visible[k] & ~tracked if name in beacon_stations else np.zeros_like(tracked)
        for a, b in runs(beacon):
            rows.append((STATION, node, a * step, b * step, beacon_bps, float(owlt_steps[a:b].mean())))
        for a, b in runs(tracked | beacon):
            rows.append((node, STATION, a * step, b * step, UPLINK_BPS, float(owlt_steps[a:b].mean())))
        if (tracked | beacon).any():
            rows.append((node, MOC, 0.0, span_s, GROUND_BPS, ground_latency_s))
    days = np.arange(0.0, span_s, DAY_S)
    middle = epoch + (days + np.minimum(DAY_S, span_s - days) / 2) * u.s
    sun = np.zeros((len(days), 3))
    where = {"station": _positions(target, middle), "earth": _positions("earth", middle)}

    def clear(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Days on which neither end sees the Sun within the exclusion angle of the other."""
        return (np.degrees(angle_between(sun - a, b - a)) >= exclusion_deg) & \
               (np.degrees(angle_between(sun - b, a - b)) >= exclusion_deg)

    for path in relay_paths:
        hops = [h.sink for h in path.hops]
        if "GEO relay" in hops:
            names[GEO_RELAY] = "GEO relay"
            rate = path.hops[0].rate_bps
            rows += _daily(STATION, GEO_RELAY, where["station"], where["earth"], days, rate, span_s,
                           clear(where["station"], where["earth"]))
            rows.append((GEO_RELAY, MOC, 0.0, span_s, path.hops[1].rate_bps, GEO_FEEDER_OWLT_S + ground_latency_s))
        for point, node in (("L1", L1_RELAY), ("L5", L5_RELAY)):
            if hops == [point]:
                names[node] = point
                where[point] = _positions(point, middle)
                ok = clear(where["station"], where[point])
                rows += _daily(STATION, node, where["station"], where[point], days, path.hops[0].rate_bps, span_s, ok)
                home = None if point == "L1" else clear(where[point], where["earth"])   # L1: a halo orbit
                rows += _daily(node, MOC, where[point], where["earth"], days, RELAY_HOME_BPS, span_s, home)
    if conjunctions:
        names[MARS] = "Mars"
        mars = _positions("mars", middle)
        rows += _daily(MARS, MOC, mars, where["earth"], days, MARS_DIRECT_BPS, span_s, clear(mars, where["earth"]))
        t_days = epoch + days * u.s
        during = np.zeros(len(days), bool)
        for c in conjunctions:
            if c.relay_clear:
                during |= (t_days >= c.start) & (t_days <= c.end + 1 * u.day)
        rows += _daily(MARS, STATION, mars, where["station"], days, conjunctions[0].relay.hops[0].rate_bps, span_s,
                       during & clear(mars, where["station"]))
    return Network(ContactPlan.of(rows, epoch=epoch.utc.isot, names=names), names)

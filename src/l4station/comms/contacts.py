"""Contacts over the mission: who sees the station when, the daily tracking schedule, the
rates each pass supports, the onboard recorder, and how fresh the real-time data are.

* **Visibility**: elevation of the spacecraft from every station on a regular grid of
  times (:mod:`l4station.comms.visibility`), above each station's floor.
* **Schedule**: one science pass a day (UTC) of ``tracking_hours_per_day`` on the
  tracking station that can give the longest pass that day (ties: the higher
  culmination), centred on culmination; beacon stations receive the real-time beacon
  whenever they see the spacecraft.
* **Rates**: the RF budget (:mod:`l4station.comms.rf`) of each tracking station in the
  spacecraft's best band, tabulated against elevation at 1 au and scaled by 1/d^2.
* **Recorder**: everything the instruments produce is recorded; passes empty it at the
  link rate; overflow is lost data.
* **Real-time latency**: one-way light time plus the ground network while a beacon or
  tracking station is in view; otherwise the data wait for the next one.
"""
from __future__ import annotations

from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.time import Time
from numba import njit

from l4station.arrays import runs
from l4station.comms import rf
from l4station.comms.visibility import elevations
from l4station.constants import AU_M, C_M_S

RATE_ELEVATIONS = np.array([5.5, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 84.9])
"""Elevations (deg) of the rate table: ITU-R P.676's approximate slant-path method (as itur
implements it) holds between 5 and 85 deg; the table is flat beyond its ends."""


def best_band(station, spacecraft_bands) -> str:
    """The highest-frequency band both ends have (Ka before X before S)."""
    for band in ("Ka", "X", "S"):
        if band in station.bands and band in spacecraft_bands:
            return band
    raise ValueError(f"station '{station.name}' shares no band with the spacecraft "
                     f"(station: {', '.join(station.bands)}; spacecraft: {', '.join(spacecraft_bands)})")


def station_downlink(config, station, band: str, elevation_deg: float, distance_m: float,
                     atmosphere: float | None = None) -> rf.LinkBudget:
    """The mission's downlink budget to one station in one band (``atmosphere``: dB, if known)."""
    sc, link = config.spacecraft, config.link
    return rf.downlink(
        station=station.name, band=band, elevation_deg=elevation_deg, distance_m=distance_m,
        tx_power_w=sc.rf.power_w, tx_diameter_m=sc.rf.antenna_diameter_m, tx_efficiency=sc.rf.antenna_efficiency,
        rx_diameter_m=station.diameter_m, rx_efficiency=station.aperture_efficiency(band),
        receiver_noise_k=station.receiver_noise(band), latitude_deg=station.latitude_deg,
        longitude_deg=station.longitude_deg, height_m=station.height_m, availability=link.availability,
        code=link.code, required_margin_db=link.required_margin_db, tx_pointing_deg=link.pointing_error_deg,
        atmosphere=atmosphere)


def network_budgets(config, elevation_deg: float, distance_m: float) -> list[rf.LinkBudget]:
    """Budgets to every station of the network in every band it shares with the spacecraft."""
    return [station_downlink(config, s, band, elevation_deg, distance_m)
            for s in config.ground.network for band in config.spacecraft.rf.bands if band in s.bands]


def rate_table(config, station, band: str) -> np.ndarray:
    """Highest closing data rate (bps) at 1 au for each elevation in RATE_ELEVATIONS."""
    atm = rf.atmosphere_db(station.latitude_deg, station.longitude_deg, station.height_m, band,
                           tuple(float(e) for e in RATE_ELEVATIONS), config.link.availability, station.diameter_m)
    return np.array([station_downlink(config, station, band, el, AU_M, atmosphere=a).data_rate_bps
                     for el, a in zip(RATE_ELEVATIONS, atm)])


@dataclass(frozen=True)
class ContactPlan:
    """Everything the contact study found, on a regular grid of ``step_s`` seconds."""

    times: Time                  # (N,)
    step_s: float
    stations: list[str]          # (S,)
    elevation_deg: np.ndarray    # (S, N) float32
    visible: np.ndarray          # (S, N) bool, above each station's floor
    tracked_by: np.ndarray       # (N,) int, index of the station in a science pass, -1 if none
    rate_bps: np.ndarray         # (N,) science downlink rate when tracked, else 0
    beacon: np.ndarray           # (N,) bool, some beacon or tracking station receives real time
    distance_m: np.ndarray       # (N,)
    recorder_gbit: np.ndarray    # (N,) recorder fill
    recorder_capacity_gbit: float
    produced_gbit: float         # total the instruments produced
    lost_gbit: float
    realtime_latency_s: np.ndarray  # (N,) age of the newest real-time sample reaching the ground

    @property
    def days(self) -> float:
        return len(self.times) * self.step_s / 86400.0

    def hours_per_day(self) -> dict[str, float]:
        return {name: float(self.visible[i].sum() * self.step_s / 3600.0 / self.days)
                for i, name in enumerate(self.stations)}

    def tracked_hours_per_day(self) -> dict[str, float]:
        return {name: float((self.tracked_by == i).sum() * self.step_s / 3600.0 / self.days)
                for i, name in enumerate(self.stations)}

    def daily_capacity_gbit(self) -> float:
        """What the scheduled passes could carry per day."""
        return float(self.rate_bps.sum() * self.step_s / 1e9 / self.days)

    def daily_volume_gbit(self) -> float:
        """What actually came down per day: produced less lost less still on board at the end."""
        return float((self.produced_gbit - self.lost_gbit - self.recorder_gbit[-1]) / self.days)

    def to_json(self) -> dict:
        visible, tracked = self.hours_per_day(), self.tracked_hours_per_day()
        return {
            "days": self.days,
            "stations": [{"name": n, "hours_per_day": visible[n], "tracked_hours_per_day": tracked[n]}
                         for n in self.stations],
            "daily_volume_gbit": self.daily_volume_gbit(),
            "daily_capacity_gbit": self.daily_capacity_gbit(),
            "produced_gbit_per_day": self.produced_gbit / self.days,
            "beacon_coverage": float(self.beacon.mean()),
            "recorder_capacity_gbit": self.recorder_capacity_gbit,
            "recorder_max_fill": float(self.recorder_gbit.max() / self.recorder_capacity_gbit),
            "data_lost_gbit": self.lost_gbit,
            "realtime_latency_s": float(np.median(self.realtime_latency_s)),
            "realtime_latency_p95_s": float(np.percentile(self.realtime_latency_s, 95)),
        }


def _schedule(times: Time, elevation: np.ndarray, visible: np.ndarray, tracking: list[int],
              hours: float, step_s: float) -> np.ndarray:
    """Index of the station in a science pass at each time (-1: none): one pass per UTC day."""
    tracked = np.full(len(times), -1, dtype=np.int64)
    day = np.floor(times.utc.mjd).astype(np.int64)
    starts = np.flatnonzero(np.diff(np.concatenate([[day[0] - 1], day])))
    bounds = list(zip(starts, list(starts[1:]) + [len(times)]))
    length = int(round(hours * 3600.0 / step_s))
    for lo, hi in bounds:
        best = None
        for s in tracking:
            for a, b in runs(visible[s, lo:hi]):
                peak = a + int(np.argmax(elevation[s, lo + a:lo + b]))
                n = min(length, b - a)
                start = int(np.clip(peak - n // 2, a, b - n))
                key = (n, float(elevation[s, lo + peak]))
                if best is None or key > best[0]:
                    best = (key, s, lo + start, lo + start + n)
        if best is not None:
            tracked[best[2]:best[3]] = best[1]
    return tracked


@njit(cache=True)
def _recorder(produce, drain, capacity):
    """Recorder fill after each step (Gbit) and total overflow (Gbit): a clipped running sum."""
    fill = np.empty(drain.shape[0])
    level, lost = 0.0, 0.0
    for k in range(drain.shape[0]):
        level += produce - drain[k]
        if level < 0.0:
            level = 0.0
        elif level > capacity:
            lost += level - capacity
            level = capacity
        fill[k] = level
    return fill, lost


def _latency(beacon: np.ndarray, light_s: np.ndarray, ground_s: float, step_s: float) -> np.ndarray:
    """Age (s) of the newest real-time sample on the ground: light time + ground network when a
    receiver is in view; otherwise data wait for the next time one is (gaps at the end count
    to the end of the plan)."""
    n = len(beacon)
    idx = np.where(beacon, np.arange(n), n)
    next_view = np.minimum.accumulate(idx[::-1])[::-1]
    wait = (np.minimum(next_view, n) - np.arange(n)) * step_s
    return wait + light_s + ground_s


def plan(config, target_bcrs, *, start: Time | None = None, days: float | None = None,
         step_s: float | None = None) -> ContactPlan:
    """Contacts for the mission (or ``days`` of it from ``start``) every ``step_s`` seconds
    (default: the config's ``ground.contact_step_s``).

    ``target_bcrs``: callable giving the spacecraft's barycentric ICRF positions (km) at a
    Time array. Raises ValueError if no station of the network ever sees the spacecraft.
    """
    from l4station import ephemeris
    from l4station.config import MAX_CONTACT_SAMPLES

    m = config.mission
    step_s = step_s or config.ground.contact_step_s
    start = start or m.epoch_time
    days = days if days is not None else m.duration_years * 365.25
    if days <= 0:
        raise ValueError(f"days must be positive, got {days}")
    if days * 86400.0 / step_s > MAX_CONTACT_SAMPLES:
        raise ValueError(f"{days:g} days every {step_s:g} s is {days * 86400.0 / step_s:,.0f} contact-plan samples, "
                         f"more than {MAX_CONTACT_SAMPLES:,}: plan fewer days or raise ground.contact_step_s to at "
                         f"least {days * 86400.0 / MAX_CONTACT_SAMPLES:.3g} s")
    first, last = ephemeris.coverage()
    if start < first or start + days * u.day > last:
        raise ValueError(f"{days:g} days from {start.utc.isot[:10]} run outside DE421's span "
                         f"{first.utc.isot[:10]} .. {last.utc.isot[:10]}: plan fewer days")
    times = start + np.arange(0.0, days * 86400.0, step_s) * u.s
    network = config.ground.network
    names = [s.name for s in network]
    elevation = elevations(times, target_bcrs, network)
    floors = np.array([s.min_elevation_deg for s in network], dtype=np.float32)[:, None]
    visible = elevation >= floors
    if not visible.any():
        raise ValueError("no station of the ground network sees the spacecraft above its minimum elevation "
                         f"in {days:g} days from {start.utc.isot[:10]}: no contact")

    tracking = [names.index(s.name) for s in config.ground.tracking_network]
    tracked = _schedule(times, elevation, visible, tracking, config.ground.tracking_hours_per_day, step_s)

    # Distance at hourly nodes, interpolated.
    hourly = start + np.arange(0.0, days * 86400.0 + 3600.0, 3600.0) * u.s
    earth = ephemeris.position("earth", hourly, center="ssb", frame="icrf").value
    dist_nodes = np.linalg.norm(np.asarray(target_bcrs(hourly)) - earth, axis=-1) * 1000.0
    t_s = np.arange(len(times)) * step_s
    distance = np.interp(t_s, np.arange(len(hourly)) * 3600.0, dist_nodes)

    rate = np.zeros(len(times))
    for s in set(tracking):
        on = tracked == s
        if on.any():
            table = rate_table(config, network[s], best_band(network[s], config.spacecraft.rf.bands))
            rate[on] = np.interp(elevation[s, on], RATE_ELEVATIONS, table) * (AU_M / distance[on]) ** 2

    beacon_idx = [names.index(s.name) for s in config.ground.beacon_network]
    beacon = (tracked >= 0) | (visible[beacon_idx].any(axis=0) if beacon_idx else False)

    # Recorder: fill += (in - out) dt, clipped to [0, capacity]; overflow is lost.
    produce = sum(i.data_rate_bps for i in config.instruments) * step_s / 1e9
    capacity = config.spacecraft.recorder_gbit
    fill, lost = _recorder(produce, rate * step_s / 1e9, capacity)
    latency = _latency(beacon, distance / C_M_S, config.link.ground_latency_s, step_s)
    return ContactPlan(times, step_s, names, elevation, visible, tracked, rate, beacon, distance,
                       fill, capacity, produce * len(times), lost, latency)

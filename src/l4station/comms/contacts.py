"""Contacts over the mission: who sees the station when, the daily tracking schedule, the
rates each pass supports, the onboard recorder, and how fresh the real-time data are.

* **Visibility**: elevation of the spacecraft from every station on a regular grid of
  times (:mod:`l4station.comms.visibility`), above each station's floor.
* **Schedule**: one science pass a day of ``tracking_hours_per_day``, centred on a tracking
  station's culmination (every upper culmination, a station that never loses the spacecraft
  included; near a pole, where no daily dip shows, one per UTC day; the pass belongs to the
  culmination's UTC day and may cross midnight), moved later
  while the previous day's pass is on. The day takes the longest; among equally long ones, the
  pass covering most of the time no beacon station sees the spacecraft (a tracking station
  receives the beacon too), then the higher culmination. Beacon stations receive the real-time
  beacon whenever they see the spacecraft and their link closes at the beacon's rate (the
  real-time instruments' sum); a tracking station in a pass, where its science rate does too.
* **Rates**: the RF budget (:mod:`l4station.comms.rf`) of each tracking station in the
  spacecraft's best band, tabulated against elevation at 1 au and scaled by 1/d^2.
* **Recorder**: everything the instruments produce is recorded; passes empty it at the
  link rate; overflow is lost data.
* **Real-time latency**: one-way light time plus the ground network while a beacon or
  tracking station hears the beacon; otherwise the data wait for the next one.
"""
from __future__ import annotations

from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.time import Time
from numba import njit

from l4station import tables
from l4station.comms import rf
from l4station.comms.visibility import elevations_and_range
from l4station.comms.stations import GroundStation
from l4station.constants import AU_M, C_M_S, DAY_S
from l4station.limits import MAX_CONTACT_SAMPLES
from l4station.errors import InputError
from l4station.records import instant, positive, record

LOWER_CULMINATIONS_APART_H = 6.0
"""A lower culmination is the lowest elevation within this many hours either side (they come a
day apart)."""

RATE_ELEVATIONS = np.array([5.5, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 84.9])
"""Elevations (deg) of the rate table: ITU-R P.676's approximate slant-path method (as itur
implements it) holds between 5 and 85 deg; the table is flat beyond its ends."""


def rate_table(terminal: rf.RadioTerminal, link: rf.LinkSettings, station, band: str) -> np.ndarray:
    """Highest closing data rate (bps) at 1 au for each elevation in RATE_ELEVATIONS."""
    atm = rf.atmosphere_db(station.latitude_deg, station.longitude_deg, station.height_m, band,
                           tuple(float(e) for e in RATE_ELEVATIONS), link.availability, station.diameter_m)
    return np.array([rf.station_downlink(terminal, link, station, band, el, AU_M, atmosphere=a).data_rate_bps
                     for el, a in zip(RATE_ELEVATIONS, atm)])


@record
class ContactInputs:
    """Everything a contact plan depends on besides the spacecraft's track (whose own record
    completes the cache key). Steps and capacities must be finite and positive:

    >>> from dataclasses import replace
    >>> from l4station import config
    >>> from l4station.study import inputs
    >>> replace(inputs.contacts(config.load(), days=1), step_s=0.0)
    Traceback (most recent call last):
    l4station.errors.InputError: ContactInputs.step_s must be a finite number above 0, got 0.0
    """

    start: Time
    days: float
    step_s: float
    network: tuple[GroundStation, ...]   # every station that can see the spacecraft
    tracking: tuple[str, ...]            # stations scheduled for science passes
    beacon: tuple[str, ...]              # stations receiving the real-time beacon
    tracking_hours_per_day: float
    terminal: rf.RadioTerminal
    link: rf.LinkSettings
    production_bps: float                # all instruments together
    recorder_gbit: float
    ground_latency_s: float              # station to forecaster
    beacon_bps: float = 0.0              # the real-time beacon's rate (0: no beacon); heard where a link closes at it

    def __post_init__(self):
        instant(self, "start")
        positive(self, "days", "step_s", "tracking_hours_per_day", "recorder_gbit")
        positive(self, "production_bps", "ground_latency_s", "beacon_bps", zero=True)
        if self.tracking_hours_per_day > 24:
            raise InputError(f"ContactInputs.tracking_hours_per_day must be at most 24, got {self.tracking_hours_per_day}")
        names = [s.name for s in self.network]
        stray = [n for n in (*self.tracking, *self.beacon) if n not in names]
        if not names:
            raise InputError("ContactInputs.network is empty: give at least one ground station")
        if stray:
            raise InputError(f"ContactInputs: tracking and beacon stations must be in the network, not {stray}")
        samples = self.days * DAY_S / self.step_s
        if samples > MAX_CONTACT_SAMPLES:
            raise InputError(f"{self.days:g} days every {self.step_s:g} s is {samples:,.0f} contact-plan samples, "
                             f"more than {MAX_CONTACT_SAMPLES:,}: plan fewer days or raise ground.contact_step_s to "
                             f"at least {self.days * DAY_S / MAX_CONTACT_SAMPLES:.3g} s")


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
        return len(self.times) * self.step_s / DAY_S

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
            "realtime_latency_s": _known(np.median(self.realtime_latency_s)),
            "realtime_latency_p95_s": _known(np.percentile(self.realtime_latency_s, 95)),
        }

    def __rich__(self):
        doc = self.to_json()
        rows = [[row["name"], f"{row['hours_per_day']:.2f}", f"{row['tracked_hours_per_day']:.2f}"]
                for row in doc["stations"]]
        return tables.group(
            tables.table(f"Contacts over {doc['days']:.0f} days", ["Station", "In view (h/day)", "Tracked (h/day)"],
                         rows),
            f"Data: {doc['produced_gbit_per_day']:.2f} Gbit/day produced, {doc['daily_volume_gbit']:.2f} returned "
            f"(pass capacity {doc['daily_capacity_gbit']:.1f}); recorder peak {doc['recorder_max_fill']:.0%} of "
            f"{doc['recorder_capacity_gbit']:g} Gbit, {doc['data_lost_gbit']:.2f} Gbit lost.",
            f"Real time: beacon received {doc['beacon_coverage']:.0%} of the time; latency median "
            f"{seconds(doc['realtime_latency_s'])}, 95th percentile {seconds(doc['realtime_latency_p95_s'])}.")


def _known(seconds_: float) -> float | None:
    """A latency for JSON: None where the beacon is never heard again (infinite)."""
    return float(seconds_) if np.isfinite(seconds_) else None


def seconds(latency_s: float | None) -> str:
    """A latency for people: "496 s", or "never" (no beacon heard)."""
    return "never" if latency_s is None else f"{latency_s:.0f} s"


def _schedule(times: Time, elevation: np.ndarray, visible: np.ndarray, tracking: list[int],
              hours: float, step_s: float, gap: np.ndarray) -> np.ndarray:
    """Index of the station in a science pass at each time (-1: none): one pass per UTC day of
    culmination; ``gap`` marks the times no beacon station sees the spacecraft."""
    length = int(hours * 3600.0 / step_s + 1e-9)          # never more than the allowance
    if length < 1:
        raise InputError(f"a daily pass of {hours:g} h is shorter than the contact plan's {step_s:g} s step; "
                         "allow more hours (ground.tracking_hours_per_day) or a finer step (ground.contact_step_s)")
    tracked = np.full(len(times), -1, dtype=np.int64)
    day = np.floor(times.utc.mjd).astype(np.int64)
    apart = max(1, int(round(LOWER_CULMINATIONS_APART_H * 3600.0 / step_s)))
    _passes(day - day[0], elevation, visible, np.array(tracking, dtype=np.int64), length, gap, tracked, apart)
    return tracked


def _culminations(day, elevation, visible, tracking, apart):
    """Every culmination a tracking station offers: its visible stretches, each cut at its lower
    culminations, and then at midnights where a piece still holds two or more (near a pole the
    spacecraft circles at an elevation that changes too little in a day to show one), so that a
    station that sees the spacecraft for days has one a day. A lower culmination is a sample
    lower than the one before and no higher than the one after, all three in view, and the lowest
    in view within ``apart`` samples either side (a fine step's float32 jitter near an upper
    culmination is not one); of two within ``apart``, the first. Rows (day, station, first, end,
    peak: the first highest sample; end exclusive) and the peak elevations, in station then time
    order."""
    from scipy.ndimage import minimum_filter1d     # here: importing scipy.special adds a warnings filter

    rows, heights = [np.zeros((0, 5), np.int64)], [np.zeros(0)]
    midnights = np.flatnonzero(np.diff(day)) + 1                 # the first sample of each new day
    for station in tracking:
        v, e = visible[station], elevation[station]
        at = np.flatnonzero(v)                                   # the samples in view, in order
        if not at.size:
            continue
        lowest = minimum_filter1d(np.where(v, e, np.inf), 2 * apart + 1, mode="nearest")
        low = np.zeros(len(v), bool)
        low[1:-1] = (v[:-2] & v[1:-1] & v[2:] & (e[1:-1] < e[:-2]) & (e[1:-1] <= e[2:])
                     & (e[1:-1] <= lowest[1:-1]))
        kept, previous = [], -apart - 1
        for k in np.flatnonzero(low).tolist():
            if k - previous > apart:
                kept.append(k)
                previous = k
        starts = np.union1d(at[np.concatenate([[True], np.diff(at) > 1])], np.array(kept, np.int64))   # pieces' firsts
        last = at[np.append(np.searchsorted(at, starts)[1:], at.size) - 1]          # and last ones
        piece = np.searchsorted(starts, midnights, side="right") - 1
        inside = (piece >= 0) & v[midnights]
        inside[inside] &= day[last[piece[inside]]] - day[starts[piece[inside]]] >= 2
        cut = np.zeros(len(v), bool)
        cut[starts] = True
        cut[midnights[inside]] = True
        cut = cut[at]                                            # where each culmination's span begins
        begins = np.flatnonzero(cut)
        lo, hi = at[begins], at[np.concatenate([begins[1:], [at.size]]) - 1] + 1
        height = np.maximum.reduceat(e[at], begins)
        span = np.cumsum(cut) - 1
        peak = np.minimum.reduceat(np.where(e[at] == height[span], at, len(v)), begins)
        rows.append(np.column_stack([day[peak], np.full(lo.size, station), lo, hi, peak]).astype(np.int64))
        heights.append(height.astype(float))
    return np.concatenate(rows), np.concatenate(heights)


def _passes(day, elevation, visible, tracking, length, gap, tracked, apart):
    """The science passes, written into ``tracked``. Each culmination (:func:`_culminations`)
    offers a pass of at most ``length`` samples centred on it inside its stretch, moved later if
    the previous day's pass is still on (then shortened by what the stretch lacks); it belongs to
    the day (``day``: from 0, non-decreasing) of the culmination, so a pass may cross midnight.
    Each day takes the longest pass, ties to the one covering more ``gap`` samples (the real-time
    beacon's gaps), then to the higher culmination, then to the first offered."""
    rows, heights = _culminations(day, elevation, visible, tracking, apart)
    order = np.argsort(rows[:, 0], kind="stable")                  # station, then time, within a day
    covered = np.concatenate([[0], np.cumsum(gap, dtype=np.int64)])
    end, today, best = 0, None, None
    for (d, station, a, b, peak), el in zip(rows[order].tolist() + [[None] * 5], heights[order].tolist() + [0.0]):
        if d != today:                                              # the day before is complete
            if best is not None:
                tracked[best[4]:best[5]] = best[3]
                end = best[5]
            today, best = d, None
        if d is None:
            break
        n = min(length, b - a)
        start = max(min(max(peak - n // 2, a), b - n), end)
        stop = min(start + n, b)
        if stop > start:
            key = (stop - start, int(covered[stop] - covered[start]), el)
            if best is None or key > best[:3]:
                best = (*key, station, start, stop)


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
    receiver hears the beacon; otherwise data wait for the next time one does (inf when none
    does before the plan ends: no latency, however long, is known)."""
    n = len(beacon)
    idx = np.where(beacon, np.arange(n), n)
    next_view = np.minimum.accumulate(idx[::-1])[::-1]
    wait = np.where(next_view < n, (next_view - np.arange(n)) * step_s, np.inf)
    return wait + light_s + ground_s


@dataclass(frozen=True)
class Sky:
    """The spacecraft seen from the network on the plan's grid: what every contact plan of one
    track and network shares, whatever the terminal, link or schedule."""

    times: Time                  # (N,)
    elevation: np.ndarray        # (S, N) deg, float32
    distance: np.ndarray         # (N,) m from the geocentre


def uniform_times(start: Time, offsets_s: np.ndarray) -> Time:
    """``start + offsets_s * u.s`` for many offsets, at a thirtieth of astropy's cost (its sum goes
    through TAI and back for every sample): when the span holds no leap second (the last instant
    falls where plain day counting puts it), the two-part dates are written directly; the same
    instants, to the picosecond.

    >>> t = uniform_times(Time("2031-01-01T00:00:00", scale="utc"), np.array([0.0, 90000.0]))
    >>> t[-1].isot
    '2031-01-02T01:00:00.000'
    """
    whole = np.floor(offsets_s / DAY_S)
    direct = Time(start.jd1 + whole, start.jd2 + (offsets_s - whole * DAY_S) / DAY_S, format="jd", scale=start.scale)
    if len(offsets_s) and abs((direct[-1] - (start + offsets_s[-1] * u.s)).to_value(u.s)) > 1e-6:
        return start + offsets_s * u.s
    direct.format = start.format
    return direct


def sky_key(inputs: ContactInputs) -> tuple:
    """The fields of ``inputs`` :func:`sky` reads (its cache key, with the track's own record)."""
    return inputs.start, inputs.days, inputs.step_s, inputs.network


def sky(inputs: ContactInputs, target_bcrs) -> Sky:
    """Elevation from each station and distance every ``inputs.step_s`` seconds for
    ``inputs.days`` from ``inputs.start``.

    ``target_bcrs``: callable giving the spacecraft's barycentric ICRF positions (km) at a
    Time array."""
    from l4station import ephemeris

    start, days, step_s = inputs.start, inputs.days, inputs.step_s
    first, last = ephemeris.coverage()
    if start < first or start + days * u.day > last:
        raise InputError(f"{days:g} days from {start.utc.isot[:10]} run outside DE421's span "
                         f"{first.utc.isot[:10]} .. {last.utc.isot[:10]}: plan fewer days")
    times = uniform_times(start, np.arange(0.0, days * DAY_S, step_s))
    # The range comes with the elevations: hourly nodes, interpolated.
    elevation, distance_km = elevations_and_range(times, target_bcrs, list(inputs.network))
    return Sky(times, elevation, distance_km * 1000.0)


def plan(inputs: ContactInputs, target_bcrs=None, *, seen: Sky | None = None) -> ContactPlan:
    """Contacts every ``inputs.step_s`` seconds for ``inputs.days`` from ``inputs.start``.

    ``target_bcrs``: callable giving the spacecraft's barycentric ICRF positions (km) at a
    Time array, or ``seen``: its :func:`sky` already worked out. Raises InputError if no
    station of the network ever sees the spacecraft.
    """
    start, days, step_s = inputs.start, inputs.days, inputs.step_s
    seen = seen if seen is not None else sky(inputs, target_bcrs)
    times, elevation, distance = seen.times, seen.elevation, seen.distance
    network = list(inputs.network)
    names = [s.name for s in network]
    floors = np.array([s.min_elevation_deg for s in network], dtype=np.float32)[:, None]
    visible = elevation >= floors
    if not visible.any():
        raise InputError("no station of the ground network sees the spacecraft above its minimum elevation "
                         f"in {days:g} days from {start.utc.isot[:10]}: no contact; add a station that does (ground.stations) "
                         "or plan more days")

    tracking = [names.index(name) for name in inputs.tracking]

    def closing_rate(s: int, on) -> np.ndarray:
        """Station s's highest closing rate (bps) where ``on``: its table at 1 au, scaled by 1/d^2."""
        table = rate_table(inputs.terminal, inputs.link, network[s], rf.best_band(network[s], inputs.terminal.bands))
        return np.interp(elevation[s, on], RATE_ELEVATIONS, table) * (AU_M / distance[on]) ** 2

    def hears(rate_bps: np.ndarray) -> np.ndarray:
        """Where a link of ``rate_bps`` carries the beacon (nowhere at a beacon rate of 0: no beacon)."""
        return (rate_bps > 0) & (rate_bps >= inputs.beacon_bps) & (inputs.beacon_bps > 0)

    beacon_seen = np.zeros(len(times), bool)       # a beacon station in view whose link closes at the beacon's rate
    for s in {names.index(name) for name in inputs.beacon}:
        if visible[s].any():
            beacon_seen[visible[s]] |= hears(closing_rate(s, visible[s]))
    tracked = _schedule(times, elevation, visible, tracking, inputs.tracking_hours_per_day, step_s, ~beacon_seen)

    rate = np.zeros(len(times))
    for s in set(tracking):
        on = tracked == s
        if on.any():
            rate[on] = closing_rate(s, on)

    beacon = hears(rate) | beacon_seen

    # Recorder: fill += (in - out) dt, clipped to [0, capacity]; overflow is lost.
    produce = inputs.production_bps * step_s / 1e9
    capacity = inputs.recorder_gbit
    fill, lost = _recorder(produce, rate * step_s / 1e9, capacity)
    latency = _latency(beacon, distance / C_M_S, inputs.ground_latency_s, step_s)
    return ContactPlan(times, step_s, names, elevation, visible, tracked, rate, beacon, distance,
                       fill, capacity, produce * len(times), lost, latency)

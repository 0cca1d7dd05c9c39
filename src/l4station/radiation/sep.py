"""Forecasts of solar energetic particle (SEP) peak intensity from CME speed and connection angle,
with what several vantage points add.

The model (Richardson et al. 2014, Sol. Phys. 289, 3059, Eq. 2) gives the peak 14-24 MeV proton
intensity (MeV s cm^2 sr)^-1 at an observer whose Parker-spiral footpoint lies phi degrees from
the event's source longitude:

    I = 0.013 exp(0.0036 V - phi^2 / (2 sigma^2)),  sigma = 43 deg, V the CME speed (km/s).

The paper's equation could not be opened here; its constants are checked against what quotes
it. sigma = 43 deg is "the average value found by Richardson et al. (2014)" on CCMC's SEPSTER model
page, which uses this form (Richardson, Mays & Thompson 2018); 0.013 and 0.0036 agree with open
SEP-forecasting code that implements the paper's law (only secondary sources).
Observed events scatter about it: Richardson, Mays & Thompson (2018) find ~75 % within a
factor of 10 for SEPSTER.

What the side view adds:
1. **The CME speed.** An Earth-directed CME is a halo to L1 (30 % speed error) and a limb event
   to L4 (10 %); views combine by inverse variance (:class:`l4station.heliosphere.cme.SpeedErrors`).
2. **The event's own law.** The peaks already seen at better-connected observers fit the event's
   amplitude, and with two or three observers its Gaussian's centre and width too, instead of
   assuming them: log I = log A(V) + log a - (phi - c)^2 / (2 s^2), a maximum a posteriori fit
   (:func:`fit`) about Richardson's law.

**All clear** means a peak below 0.3 (MeV s cm^2 sr)^-1 at 14-24 MeV. That is NOAA's S1 level
(10 pfu at >= 10 MeV) for a power-law spectrum of index 2 to 3: J(>10 MeV) ~ 35 j(19 MeV).

**When.** An event's intensity rises and decays as a diffusive profile (Reid 1964, with Axford's
decay: :class:`Profile`). Its time to peak grows with the connection angle, as the east-west
effect does (Cane, Reames & von Rosenvinge 1988, JGR 93, 9555): 4 h on the footpoint plus 0.3 h
per degree, decaying with a 24 h e-folding. Those three numbers are assumed, set to the scale of
the effect, not fitted. No 14-24 MeV proton arrives before :data:`FIRST_ARRIVAL_H`, the
scatter-free travel time of a 24 MeV proton along the Parker spiral. They time the threshold
crossings, event lengths and fluences of a forecast, and its warning: how long before Earth
crosses the all-clear threshold a forecast first says it will.

Forecasts are written in the SEP Scoreboard's form (the CCMC ``operational-sep`` template).

A 1500 km/s CME from a source on Earth's footpoint gives about 2.9 at 14-24 MeV:

>>> round(float(peak_intensity(1500.0, 0.0)), 1)
2.9
"""
from __future__ import annotations

import numbers
import re
from dataclasses import dataclass, fields
from datetime import datetime, timedelta, timezone

import numpy as np

from l4station.constants import AU_KM, C_KM_S, OBSERVER_LONGITUDES_DEG
from l4station.errors import InputError
from l4station.radiation.events import CONNECTION_SIGMA_DEG
from l4station.radiation.checks import brief, checked, real_numbers
from l4station.radiation.transport import PROTON_MEV

AMPLITUDE = 0.013                      # (MeV s cm^2 sr)^-1, Richardson et al. 2014
SPEED_E_FOLD_KMS = 1 / 0.0036          # km/s
ALL_CLEAR_THRESHOLD = 0.3              # (MeV s cm^2 sr)^-1 at 14-24 MeV ~ NOAA S1 (see above)
UNITS = "1/[MeV cm^2 s sr]"
MAX_SPEED_KMS = 5000.0                 # fastest CME speed taken (the fastest seen are ~3500 km/s)


MAX_ANGLE_DEG = 1e6
"""Largest connection angle accepted (deg): beyond it, wrapping would keep no digit of the angle."""


def _offset_deg(connection_deg, centre_deg=0.0) -> np.ndarray:
    """Observers' angles (deg) from an event's centre, wrapped into [-180, 180)."""
    from l4station.geometry import wrap_degrees
    return wrap_degrees(_angles(connection_deg, "connection angle") - _angles(centre_deg, "centre"))


def _angles(value, what: str, scalar: bool = False) -> np.ndarray:
    """``value`` as angles (deg) within +-:data:`MAX_ANGLE_DEG`, or a one-line InputError."""
    return checked(value, what, "deg", -MAX_ANGLE_DEG, MAX_ANGLE_DEG, scalar=scalar)



def peak_intensity(speed_kms, connection_deg, centre_deg: float = 0.0, sigma_deg: float = CONNECTION_SIGMA_DEG):
    """Peak 14-24 MeV proton intensity (MeV s cm^2 sr)^-1 (Richardson et al. 2014); broadcasts.
    Angles (deg) wrap: 720 is 0."""
    sigma = checked(sigma_deg, "the connection Gaussian's width", "deg", 1.0)
    v = checked(speed_kms, "CME speed", "km/s", 0.0, MAX_SPEED_KMS, above=True)
    phi = _offset_deg(connection_deg, centre_deg)
    return AMPLITUDE * np.exp(v / SPEED_E_FOLD_KMS - phi ** 2 / (2 * sigma ** 2))


MAX_PEAK = 1e12
"""Largest forecast peak accepted, (MeV s cm^2 sr)^-1: some eight decades above the largest events
seen at 14-24 MeV, and small enough that its 5-decade range stays a finite JSON number."""

RISE_H = 4.0                           # h to peak for a source on the observer's footpoint (assumed)
RISE_H_PER_DEG = 0.3                   # h more per degree of connection angle (assumed, see above)
DECAY_H = 24.0                         # h, e-folding of the decay (assumed)
SPEED_MEASURED_H = 1.0                 # h after launch for a coronagraph speed (assumed: a few frames)
MIN_MEASURED_KMS = 50.0                # slowest speed a coronagraph reports (assumed): never 0 or less
PARKER_LENGTH_AU = 1.15
"""Length (au) of the Parker spiral from the Sun to 1 au for a ~400 km/s wind, the value usually
quoted: the arc length of r = (V / Omega) phi (Parker 1958, ApJ 128, 664) is 1.17 au at 400 km/s
and Carrington's sidereal rate, 1.15 at 430 km/s, 1.21 at 350 km/s. The shorter length gives the
earlier, safer floor."""
FIRST_ARRIVAL_H = PARKER_LENGTH_AU * AU_KM / (
    C_KM_S * np.sqrt(1 - (PROTON_MEV / (PROTON_MEV + 24.0)) ** 2)) / 3600.0
"""Hours from launch before any 14-24 MeV proton reaches 1 au: the spiral's length at the speed
of a 24 MeV proton (beta = 0.222, relativistic), scatter-free (~0.72 h)."""


def time_to_peak_h(connection_deg) -> np.ndarray:
    """Hours from a CME's launch to the peak 14-24 MeV intensity at an observer ``connection_deg``
    from the event's centre (the assumed east-west law above; angles wrap); broadcasts."""
    return RISE_H + RISE_H_PER_DEG * np.abs(_offset_deg(connection_deg))


@dataclass(frozen=True)
class Profile:
    """An event's intensity against hours t after the CME's launch: the diffusive profile
    I(t) = A t^-3/2 exp(-beta/t - t/tau) (Reid 1964; the decay after Axford), scaled so that
    it peaks at ``peak`` (MeV s cm^2 sr)^-1 at ``peak_h``: beta = 1.5 t_p + t_p^2 / tau. It is 0
    before :data:`FIRST_ARRIVAL_H`, which the peak may not precede. Fields broadcast."""

    peak: np.ndarray
    peak_h: np.ndarray
    decay_h: float = DECAY_H

    def __post_init__(self):
        checked(self.peak, "peak intensity", "(MeV s cm^2 sr)^-1", 0.0)
        checked(self.peak_h, "time to peak (no sooner than the first protons' travel time, FIRST_ARRIVAL_H)", "h",
                 FIRST_ARRIVAL_H)
        checked(self.decay_h, "decay e-folding time", "h", 0.0, above=True)

    @property
    def beta_h(self) -> np.ndarray:
        t = np.asarray(self.peak_h, dtype=float)
        return 1.5 * t + t ** 2 / self.decay_h

    def _shape(self, t_h) -> np.ndarray:
        """ln of the profile's shape t^-3/2 exp(-beta/t - t/tau), t > 0."""
        t = np.asarray(t_h, dtype=float)
        return -1.5 * np.log(t) - self.beta_h / t - t / self.decay_h

    def intensity(self, t_h) -> np.ndarray:
        """Intensity (MeV s cm^2 sr)^-1 at hours ``t_h`` after launch (0 before the first arrival)."""
        t = np.asarray(t_h, dtype=float)
        before = t < FIRST_ARRIVAL_H
        shape = self._shape(np.where(before, FIRST_ARRIVAL_H, t)) - self._shape(self.peak_h)
        return np.where(before, 0.0, np.asarray(self.peak, dtype=float) * np.exp(shape))

    def crossings_h(self, threshold: float) -> tuple[np.ndarray, np.ndarray]:
        """Hours after launch when the intensity rises through ``threshold`` (MeV s cm^2 sr)^-1 and
        falls back below it (NaN where the peak stays below). Bisection in log time between
        :data:`FIRST_ARRIVAL_H` and the peak (at the first arrival if the profile is above by then),
        and between the peak and 2 t_p + tau (1.5 + ln(peak / threshold)), where the profile is
        surely below: ln I(t) - ln I(t_p) <= beta / t_p - (t - t_p) / tau."""
        level = float(checked(threshold, "threshold", "(MeV s cm^2 sr)^-1", 0.0, above=True, scalar=True))
        peak, peak_h, decay_h = np.broadcast_arrays(*(np.asarray(v, dtype=float)
                                                      for v in (self.peak, self.peak_h, self.decay_h)))
        above = peak >= level
        drop = np.log(level) - np.log(np.where(above, peak, level))     # ln(threshold / peak) <= 0 where above
        ln_ratio = drop + self._shape(peak_h)

        def solve(low, high, rising):
            low, high = np.log(low), np.log(high)
            for _ in range(60):
                mid = (low + high) / 2
                up = (self._shape(np.exp(mid)) < ln_ratio) == rising
                low, high = np.where(up, mid, low), np.where(up, high, mid)
            return np.where(above, np.exp((low + high) / 2), np.nan)

        first = np.full(peak_h.shape, FIRST_ARRIVAL_H)
        rise = np.clip(solve(first, peak_h, True), first, peak_h)
        fall = np.maximum(solve(peak_h, 2 * peak_h + decay_h * (1.5 - drop), False), peak_h)
        return rise, fall

    def fluence(self) -> np.ndarray:
        """Time-integrated intensity (MeV cm^2 sr)^-1: 3600 s/h times the integral in hours.

        From launch, the integral is A sqrt(pi/beta) exp(-2 sqrt(beta/tau)) (Gradshteyn & Ryzhik
        3.471.9); the profile is that times the inverse Gaussian density of mean sqrt(beta tau) and
        shape 2 beta (Chhikara & Folks 1989, The Inverse Gaussian Distribution), so from
        :data:`FIRST_ARRIVAL_H` on it is that times the distribution's survival function there."""
        from scipy.stats import invgauss

        beta = self.beta_h
        mean, shape = np.sqrt(beta * self.decay_h), 2 * beta
        log_total = 0.5 * np.log(np.pi / beta) - 2 * np.sqrt(beta / self.decay_h) - self._shape(self.peak_h)
        later = invgauss.sf(FIRST_ARRIVAL_H, mean / shape, scale=shape)      # scipy's IG(mu/lambda, scale=lambda)
        return np.asarray(self.peak, dtype=float) * np.exp(log_total) * later * 3600.0


@dataclass(frozen=True)
class Prior:
    """What an event's law is before any observer's peak is seen (log-normal about Richardson's
    fit). Assumed, not published:
    - its amplitude within a factor 10^0.35 (1 sigma), which reproduces SEPSTER's spread;
    - its centre within 15 deg of the footpoint;
    - its width within 25 % of 43 deg."""

    amplitude_log10: float = 0.35
    centre_deg: float = 15.0
    width_log: float = 0.25
    measurement_log10: float = 0.1         # an observer's own peak, measured

    def __post_init__(self):
        for field in fields(self):
            checked(getattr(self, field.name), f"Prior.{field.name}", "", 0.0, above=True, scalar=True)


CENTRES_DEG = np.arange(-60.0, 60.5, 3.0)
WIDTHS_DEG = np.geomspace(15.0, 100.0, 20)


def fit(speed_kms, connection_deg, intensity, prior: Prior = Prior()) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The most probable amplitude factor, centre and width (deg) of each event's law given the
    peaks ``intensity`` seen at observers ``connection_deg`` from its source (NaN where an
    observer saw none). Shapes (events, observers) -> three (events,) arrays.

    This is a maximum a posteriori fit under ``prior``: the amplitude in closed form, the centre
    and width on a grid. One observer mostly sets the amplitude; two or three also fix the
    centre and width. Speeds as :func:`peak_intensity` takes them; angles (deg) wrap."""
    v = np.atleast_1d(checked(speed_kms, "CME speed", "km/s", 0.0, MAX_SPEED_KMS, above=True))
    phi = np.atleast_2d(_angles(connection_deg, "connection angle"))
    seen = np.atleast_2d(real_numbers(intensity, "observed peak intensity"))
    checked(np.where(np.isnan(seen), 0.0, seen), "observed peak intensity (NaN where none was seen)",
             "(MeV s cm^2 sr)^-1", 0.0)
    if phi.shape != seen.shape or phi.shape[0] != v.size or not v.size:
        raise InputError(f"connection angles {phi.shape}, peak intensities {seen.shape} and speeds ({v.size},) "
                         "must be one per event (and observer)")
    use = np.isfinite(seen) & (seen > 0)
    seen_any = use.any(axis=1)
    if not seen_any.all():                                 # events no observer saw keep the law as it is
        a, c, s = np.ones(len(v)), np.zeros(len(v)), np.full(len(v), CONNECTION_SIGMA_DEG)
        if seen_any.any():
            a[seen_any], c[seen_any], s[seen_any] = fit(v[seen_any], phi[seen_any], seen[seen_any], prior)
        return a, c, s
    ln10 = np.log(10.0)
    y = np.where(use, np.log(np.where(use, seen, 1.0)), 0.0) - (np.log(AMPLITUDE) + v / SPEED_E_FOLD_KMS)[:, None]
    w = use / (prior.measurement_log10 * ln10) ** 2                                   # (E, O)
    tau2 = (prior.amplitude_log10 * ln10) ** 2
    c = CENTRES_DEG[:, None, None, None]
    s = WIDTHS_DEG[None, :, None, None]
    shape = -_offset_deg(phi[None, None], c) ** 2 / (2 * s ** 2)                     # (C, S, E, O)
    r = y[None, None] - shape
    delta = np.sum(w * r, axis=-1) / (np.sum(w, axis=-1) + 1 / tau2)                  # (C, S, E)
    cost = (np.sum(w * (r - delta[..., None]) ** 2, axis=-1) + delta ** 2 / tau2
            + (c[..., 0] / prior.centre_deg) ** 2
            + (np.log(s[..., 0] / CONNECTION_SIGMA_DEG) / prior.width_log) ** 2)
    flat = cost.reshape(-1, cost.shape[-1]).argmin(axis=0)
    ci, si = np.unravel_index(flat, cost.shape[:2])
    events = np.arange(cost.shape[-1])
    return np.exp(delta[ci, si, events]), CENTRES_DEG[ci], WIDTHS_DEG[si]


ISO_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", re.ASCII)


def _utc(text, what: str) -> datetime:
    """``text``, an ISO 8601 date and time (UTC unless it gives an offset), in UTC."""
    fix = f"{what} must be an ISO 8601 date and time such as 2031-03-01T11:24Z"
    if not isinstance(text, str) or not ISO_DATE_TIME.match(text):
        raise InputError(f"{fix}, got {brief(text)}")
    try:
        moment = datetime.fromisoformat(text)
        return moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    except ValueError:
        raise InputError(f"{fix}, got {brief(text)}") from None
    except OverflowError:
        raise InputError(f"{what} {brief(text)} is past the year 9999 in UTC") from None


def _after(start: datetime, hours: float) -> datetime:
    """``hours`` after ``start``, to the minute."""
    try:
        return start + timedelta(minutes=round(float(hours) * 60))
    except OverflowError:
        raise InputError(f"the forecast's times run past the year 9999 from {_stamp(start)}") from None


def _stamp(moment: datetime) -> str:
    """A UTC time in the Scoreboard's form, 2031-03-01T11:24Z (with seconds if it has them)."""
    spec = "seconds" if moment.second or moment.microsecond else "minutes"
    return moment.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def scoreboard(issue_time: str, window: tuple[str, str], cme: dict, location: str, peak: float,
               sigma_log10: float, model: str = "l4station-sep", connection_deg: float | None = None) -> dict:
    """One forecast in the SEP Scoreboard's JSON form (CCMC ``operational-sep`` template):
    peak 14-24 MeV intensity with its 1-sigma range (``sigma_log10``, 0-5 decades) and the
    all-clear decision. Times are ISO 8601 dates and times (UTC unless they give an offset),
    written back in UTC.

    With the event's ``connection_deg`` from the location (wrapped into [-180, 180)) and the CME's
    ``start_time``, the forecast's :class:`Profile` also gives the peak's time, the threshold
    crossing, the event's length above the threshold and its fluence; without them those lists
    are empty."""
    if not isinstance(cme, dict):
        raise InputError(f"cme must be a dict of the trigger's fields (start_time, speed, ...), got {brief(cme)}")
    peak = float(checked(peak, "the forecast peak", UNITS, 0.0, MAX_PEAK, scalar=True))
    sigma_log10 = float(checked(sigma_log10, "the forecast's uncertainty sigma_log10", "decades", 0.0, 5.0,
                                 scalar=True))
    issued = _utc(issue_time, "issue_time")
    if not (isinstance(window, (tuple, list)) and len(window) == 2):
        raise InputError(f"the prediction window must be two times (start, end), got {brief(window)}")
    start, end = (_utc(t, f"the prediction window's {side}") for t, side in zip(window, ("start", "end")))
    if not start < end:
        raise InputError(f"the prediction window must start before it ends, got {window[0]} to {window[1]}")
    low, high = peak / 10 ** sigma_log10, peak * 10 ** sigma_log10
    threshold = {"threshold": ALL_CLEAR_THRESHOLD, "threshold_units": UNITS}
    peak_doc = {"intensity": peak, "units": UNITS, "uncertainty_low": low, "uncertainty_high": high}
    crossings, lengths, fluences = [], [], []
    if connection_deg is not None:
        angle = _angles(connection_deg, "connection angle", scalar=True)
        launch = _utc(cme.get("start_time"), "the CME's start_time")
        profile = Profile(peak, time_to_peak_h(angle))
        peak_doc["time"] = _stamp(_after(launch, profile.peak_h))
        rise, fall = profile.crossings_h(ALL_CLEAR_THRESHOLD)
        if np.isfinite(rise):
            crossings = [{"crossing_time": _stamp(_after(launch, rise)), **threshold}]
            lengths = [{"start_time": _stamp(_after(launch, rise)), "end_time": _stamp(_after(launch, fall)),
                        **threshold}]
        fluences = [{"fluence": float(profile.fluence()), "units": "1/[MeV cm^2 sr]"}]
    return {"sep_forecast_submission": {
        "model": {"short_name": model},
        "issue_time": _stamp(issued),
        "mode": "forecast",
        "triggers": [{"cme": cme}],
        "forecasts": [{
            "energy_channel": {"min": 14, "max": 24, "units": "MeV"},
            "species": "proton",
            "location": location,
            "prediction_window": {"start_time": _stamp(start), "end_time": _stamp(end)},
            "peak_intensity": peak_doc,
            "all_clear": {"all_clear_boolean": bool(peak < ALL_CLEAR_THRESHOLD), **threshold},
            "threshold_crossings": crossings,
            "event_lengths": lengths,
            "fluences": fluences,
        }],
    }}


FIT_CHUNK = 1000
OBSERVER_SETS = (("L1",), ("L1", "L4"), ("L1", "L5"), ("L1", "L4", "L5"))


def experiment(events: int = 2000, seed: int = 0, wind_kms: float = 400.0, prior: Prior = Prior(),
               latency_h: float = 0.25) -> list[dict]:
    """Skill of the Earth forecast on synthetic events whose truth is known, for each observer set.

    **Each event** has:
    - a source longitude, uniform over the Sun;
    - a CME speed, log-normal about 900 km/s (factor e^0.35);
    - its own law drawn from ``prior`` about Richardson's.

    **Each observer set** (L1 always in) measures the CME speed from its views
    (:class:`~l4station.heliosphere.cme.SpeedErrors`). It fits the event to the peaks already seen
    at its points better connected than Earth (they peak first). Then it forecasts Earth's peak.

    **Its forecasts in time.** The first comes once the speed is measured
    (:data:`SPEED_MEASURED_H` after launch); each side observer's peak, seen at its time to peak
    (:func:`time_to_peak_h`), updates it. Every one reaches the forecaster ``latency_h`` later.

    Returned per set:
    - the mean and RMS of log10(forecast / truth) of the last forecast, and the share within a
      factor 10;
    - POD and FAR of "not all clear" (a peak at or above :data:`ALL_CLEAR_THRESHOLD`);
    - warning: the share of events above the threshold that a forecast said so before Earth's
      intensity crossed it (``warned``), and the median and mean of how long before (h), from
      the earliest such forecast. The median and mean are over the warned events only (None
      when none is), so a longer latency can raise them while the warned share falls: it drops
      the events warned of least in advance.

    ``events`` is a whole number 1 to 1,000,000; ``wind_kms`` the solar wind's speed for the
    Parker spiral, 100-3000 km/s (as a mission file allows); ``latency_h`` 0-240 h.
    """
    from l4station.geometry import wrap_degrees
    from l4station.heliosphere import cme
    from l4station.heliosphere.connectivity import footpoint_deg

    if isinstance(events, bool) or not isinstance(events, numbers.Integral) or not 1 <= events <= 1_000_000:
        raise InputError(f"events must be a whole number from 1 to 1,000,000, got {events!r}")
    events = int(events)
    wind_kms = float(checked(wind_kms, "wind_kms", "km/s", 100.0, 3000.0, scalar=True))   # as the mission file allows
    latency_h = float(checked(latency_h, "latency_h", "h", 0.0, 240.0, scalar=True))
    rng = np.random.default_rng(seed)
    source = rng.uniform(-180.0, 180.0, events)
    speed = np.clip(900.0 * np.exp(0.35 * rng.standard_normal(events)), 300.0, 3500.0)
    amplitude = 10 ** (prior.amplitude_log10 * rng.standard_normal(events))
    centre = prior.centre_deg * rng.standard_normal(events)
    width = np.maximum(CONNECTION_SIGMA_DEG * np.exp(prior.width_log * rng.standard_normal(events)), 1.0)
    names = list(OBSERVER_LONGITUDES_DEG)
    longitude = np.array([OBSERVER_LONGITUDES_DEG[n] for n in names])
    phi = wrap_degrees(source[:, None] - footpoint_deg(longitude, AU_KM, wind_kms)[None, :])     # (E, O)
    truth = amplitude[:, None] * peak_intensity(speed[:, None], phi, centre[:, None], width[:, None])
    seen = truth * 10 ** (prior.measurement_log10 * rng.standard_normal(truth.shape))
    earth = names.index("L1")
    from_centre = np.abs(_offset_deg(phi, centre[:, None]))
    first = from_centre < from_centre[:, [earth]]                                      # peaks before Earth's
    errors = cme.SpeedErrors()
    noise = rng.standard_normal(events)
    peak_at = time_to_peak_h(phi - centre[:, None]) + latency_h                     # (E, O), seen
    crossing = Profile(truth[:, earth], time_to_peak_h(phi[:, earth] - centre)).crossings_h(ALL_CLEAR_THRESHOLD)[0]
    rows = []
    for members in OBSERVER_SETS:
        cols = [names.index(m) for m in members]
        sigma = errors.combined(cme.view_angle_deg(source[:, None], longitude[cols][None, :]))
        # a 30 % error reaches 0 at 3.3 sigma: what a coronagraph reports stays in the law's range
        measured = np.clip(speed * (1 + sigma * noise), MIN_MEASURED_KMS, MAX_SPEED_KMS)
        usable = np.zeros_like(first)
        usable[:, cols] = first[:, cols]
        usable[:, earth] = False
        order = np.argsort(np.where(usable, peak_at, np.inf), axis=1).argsort(axis=1)   # rank of each peak
        stages = []                                    # (when, forecast) as each side peak is seen
        for k in range(usable.sum(axis=1).max() + 1):
            shown = usable & (order < k)
            when = (np.full(events, SPEED_MEASURED_H + latency_h) if k == 0
                    else np.where(shown.sum(axis=1) == k, np.where(shown, peak_at, -np.inf).max(axis=1), np.nan))
            observed = np.where(shown, seen, np.nan)
            chunks = [fit(measured[j:j + FIT_CHUNK], phi[j:j + FIT_CHUNK], observed[j:j + FIT_CHUNK], prior)
                      for j in range(0, events, FIT_CHUNK)]             # the fit's grid bounds its memory
            a, c, s = (np.concatenate(parts) for parts in zip(*chunks))
            stages.append((when, a * peak_intensity(measured, phi[:, earth], c, s)))
        final = usable.sum(axis=1)
        forecast = np.choose(final, [f for _, f in stages])
        warned_at = np.min([np.where((f >= ALL_CLEAR_THRESHOLD) & (when <= crossing), when, np.inf)
                            for when, f in stages], axis=0)
        warning = (crossing - warned_at)[np.isfinite(warned_at) & np.isfinite(crossing)]
        error = np.log10(forecast / truth[:, earth])
        hit = (forecast >= ALL_CLEAR_THRESHOLD) & (truth[:, earth] >= ALL_CLEAR_THRESHOLD)
        miss = (forecast < ALL_CLEAR_THRESHOLD) & (truth[:, earth] >= ALL_CLEAR_THRESHOLD)
        false = (forecast >= ALL_CLEAR_THRESHOLD) & (truth[:, earth] < ALL_CLEAR_THRESHOLD)
        rows.append({"observers": list(members), "events": events,
                     "mean_log10_error": float(error.mean()), "rms_log10_error": float(np.sqrt(np.mean(error ** 2))),
                     "within_factor_10": float(np.mean(np.abs(error) <= 1.0)),
                     "pod": float(hit.sum() / max(hit.sum() + miss.sum(), 1)),
                     "far": float(false.sum() / max(hit.sum() + false.sum(), 1)),
                     "events_above_threshold": int((truth[:, earth] >= ALL_CLEAR_THRESHOLD).sum()),
                     "warned": float(warning.size / max(np.isfinite(crossing).sum(), 1)),
                     "median_warning_h": float(np.median(warning)) if warning.size else None,
                     "mean_warning_h": float(warning.mean()) if warning.size else None})
    return rows

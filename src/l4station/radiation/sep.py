"""Forecasts of solar energetic particle (SEP) peak intensity from CME speed and connection angle,
with what several vantage points add.

The model (Richardson et al. 2014, Sol. Phys. 289, 3059, Eq. 2) gives the peak 14-24 MeV proton
intensity (MeV s cm^2 sr)^-1 at an observer whose Parker-spiral footpoint lies phi degrees from
the event's source longitude:

    I = 0.013 exp(0.0036 V - phi^2 / (2 sigma^2)),  sigma = 43 deg, V the CME speed (km/s).

The constants are the issue's transcription of the paper, which could not be consulted here.
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

Forecasts are written in the SEP Scoreboard's form (the CCMC ``operational-sep`` template).

A 1500 km/s CME from a source on Earth's footpoint gives about 2.9 at 14-24 MeV:

>>> round(float(peak_intensity(1500.0, 0.0)), 1)
2.9
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from l4station.errors import InputError
from l4station.radiation.events import CONNECTION_SIGMA_DEG

AMPLITUDE = 0.013                      # (MeV s cm^2 sr)^-1, Richardson et al. 2014
SPEED_E_FOLD_KMS = 1 / 0.0036          # km/s
ALL_CLEAR_THRESHOLD = 0.3              # (MeV s cm^2 sr)^-1 at 14-24 MeV ~ NOAA S1 (see above)
UNITS = "1/[MeV cm^2 s sr]"


def peak_intensity(speed_kms, connection_deg, centre_deg: float = 0.0, sigma_deg: float = CONNECTION_SIGMA_DEG):
    """Peak 14-24 MeV proton intensity (MeV s cm^2 sr)^-1 (Richardson et al. 2014); broadcasts."""
    if np.any(~(np.asarray(sigma_deg, dtype=float) > 0)):
        raise InputError("the connection Gaussian's width must be positive")
    v = np.asarray(speed_kms, dtype=float)
    if np.any(~(v > 0) | (v > 5000.0)):
        raise InputError("CME speeds must be in 0-5000 km/s")
    phi = np.asarray(connection_deg, dtype=float) - centre_deg
    return AMPLITUDE * np.exp(v / SPEED_E_FOLD_KMS - phi ** 2 / (2 * sigma_deg ** 2))


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


CENTRES_DEG = np.arange(-60.0, 60.5, 3.0)
WIDTHS_DEG = np.geomspace(15.0, 100.0, 20)


def fit(speed_kms, connection_deg, intensity, prior: Prior = Prior()) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The most probable amplitude factor, centre and width (deg) of each event's law given the
    peaks ``intensity`` seen at observers ``connection_deg`` from its source (NaN where an
    observer saw none). Shapes (events, observers) -> three (events,) arrays.

    This is a maximum a posteriori fit under ``prior``: the amplitude in closed form, the centre
    and width on a grid. One observer mostly sets the amplitude; two or three also fix the
    centre and width."""
    v = np.atleast_1d(np.asarray(speed_kms, dtype=float))
    phi = np.atleast_2d(np.asarray(connection_deg, dtype=float))
    seen = np.atleast_2d(np.asarray(intensity, dtype=float))
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
    shape = -(phi[None, None] - c) ** 2 / (2 * s ** 2)                               # (C, S, E, O)
    r = y[None, None] - shape
    delta = np.sum(w * r, axis=-1) / (np.sum(w, axis=-1) + 1 / tau2)                  # (C, S, E)
    cost = (np.sum(w * (r - delta[..., None]) ** 2, axis=-1) + delta ** 2 / tau2
            + (c[..., 0] / prior.centre_deg) ** 2
            + (np.log(s[..., 0] / CONNECTION_SIGMA_DEG) / prior.width_log) ** 2)
    flat = cost.reshape(-1, cost.shape[-1]).argmin(axis=0)
    ci, si = np.unravel_index(flat, cost.shape[:2])
    events = np.arange(cost.shape[-1])
    return np.exp(delta[ci, si, events]), CENTRES_DEG[ci], WIDTHS_DEG[si]


def scoreboard(issue_time: str, window: tuple[str, str], cme: dict, location: str, peak: float,
               sigma_log10: float, model: str = "l4station-sep") -> dict:
    """One forecast in the SEP Scoreboard's JSON form (CCMC ``operational-sep`` template):
    peak 14-24 MeV intensity with its 1-sigma range and the all-clear decision. The template's
    threshold crossings, event lengths and fluences need intensity-time profiles this model
    does not make: they are given empty."""
    if not (np.isfinite(peak) and peak >= 0 and np.isfinite(sigma_log10) and sigma_log10 >= 0):
        raise InputError(f"a forecast needs a finite peak >= 0 and an uncertainty >= 0, got {peak!r} and {sigma_log10!r}")
    low, high = peak / 10 ** sigma_log10, peak * 10 ** sigma_log10
    return {"sep_forecast_submission": {
        "model": {"short_name": model},
        "issue_time": issue_time,
        "mode": "forecast",
        "triggers": [{"cme": cme}],
        "forecasts": [{
            "energy_channel": {"min": 14, "max": 24, "units": "MeV"},
            "species": "proton",
            "location": location,
            "prediction_window": {"start_time": window[0], "end_time": window[1]},
            "peak_intensity": {"intensity": peak, "units": UNITS, "uncertainty_low": low, "uncertainty_high": high},
            "all_clear": {"all_clear_boolean": bool(peak < ALL_CLEAR_THRESHOLD), "threshold": ALL_CLEAR_THRESHOLD,
                          "threshold_units": UNITS},
            "threshold_crossings": [],
            "event_lengths": [],
            "fluences": [],
        }],
    }}


OBSERVER_LONGITUDES_DEG = {"L1": 0.0, "L4": 60.0, "L5": -60.0}
FIT_CHUNK = 1000
OBSERVER_SETS = (("L1",), ("L1", "L4"), ("L1", "L5"), ("L1", "L4", "L5"))


def experiment(events: int = 2000, seed: int = 0, wind_kms: float = 400.0, prior: Prior = Prior()) -> list[dict]:
    """Skill of the Earth forecast on synthetic events whose truth is known, for each observer set.

    **Each event** has:
    - a source longitude, uniform over the Sun;
    - a CME speed, log-normal about 900 km/s (factor e^0.35);
    - its own law drawn from ``prior`` about Richardson's.

    **Each observer set** (L1 always in) measures the CME speed from its views
    (:class:`~l4station.heliosphere.cme.SpeedErrors`). It fits the event to the peaks already seen
    at its points better connected than Earth (they peak first). Then it forecasts Earth's peak.

    Returned per set:
    - the mean and RMS of log10(forecast / truth), and the share within a factor 10;
    - POD and FAR of "not all clear" (a peak at or above :data:`ALL_CLEAR_THRESHOLD`).
    """
    from l4station.constants import AU_KM
    from l4station.geometry import wrap_degrees
    from l4station.heliosphere import cme
    from l4station.heliosphere.connectivity import footpoint_deg

    if not 1 <= events <= 1_000_000:
        raise InputError(f"events must be 1 to 1,000,000, got {events}")
    rng = np.random.default_rng(seed)
    source = rng.uniform(-180.0, 180.0, events)
    speed = np.clip(900.0 * np.exp(0.35 * rng.standard_normal(events)), 300.0, 3500.0)
    amplitude = 10 ** (prior.amplitude_log10 * rng.standard_normal(events))
    centre = prior.centre_deg * rng.standard_normal(events)
    width = CONNECTION_SIGMA_DEG * np.exp(prior.width_log * rng.standard_normal(events))
    names = list(OBSERVER_LONGITUDES_DEG)
    longitude = np.array([OBSERVER_LONGITUDES_DEG[n] for n in names])
    phi = wrap_degrees(source[:, None] - footpoint_deg(longitude, AU_KM, wind_kms)[None, :])     # (E, O)
    truth = amplitude[:, None] * peak_intensity(speed[:, None], phi, centre[:, None], width[:, None])
    seen = truth * 10 ** (prior.measurement_log10 * rng.standard_normal(truth.shape))
    earth = names.index("L1")
    first = np.abs(phi - centre[:, None]) < np.abs(phi[:, [earth]] - centre[:, None])     # peaks before Earth's
    errors = cme.SpeedErrors()
    noise = rng.standard_normal(events)
    rows = []
    for members in OBSERVER_SETS:
        cols = [names.index(m) for m in members]
        sigma = errors.combined(cme.view_angle_deg(source[:, None], longitude[cols][None, :]))
        measured = speed * (1 + sigma * noise)
        usable = np.zeros_like(first)
        usable[:, cols] = first[:, cols]
        usable[:, earth] = False
        observed = np.where(usable, seen, np.nan)
        chunks = [fit(measured[k:k + FIT_CHUNK], phi[k:k + FIT_CHUNK], observed[k:k + FIT_CHUNK], prior)
                  for k in range(0, events, FIT_CHUNK)]                 # the fit's grid bounds its memory
        a, c, s = (np.concatenate(parts) for parts in zip(*chunks))
        forecast = a * peak_intensity(measured, phi[:, earth], c, s)
        error = np.log10(forecast / truth[:, earth])
        hit = (forecast >= ALL_CLEAR_THRESHOLD) & (truth[:, earth] >= ALL_CLEAR_THRESHOLD)
        miss = (forecast < ALL_CLEAR_THRESHOLD) & (truth[:, earth] >= ALL_CLEAR_THRESHOLD)
        false = (forecast >= ALL_CLEAR_THRESHOLD) & (truth[:, earth] < ALL_CLEAR_THRESHOLD)
        rows.append({"observers": list(members), "events": events,
                     "mean_log10_error": float(error.mean()), "rms_log10_error": float(np.sqrt(np.mean(error ** 2))),
                     "within_factor_10": float(np.mean(np.abs(error) <= 1.0)),
                     "pod": float(hit.sum() / max(hit.sum() + miss.sum(), 1)),
                     "far": float(false.sum() / max(hit.sum() + false.sum(), 1)),
                     "events_above_threshold": int((truth[:, earth] >= ALL_CLEAR_THRESHOLD).sum())})
    return rows

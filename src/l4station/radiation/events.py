"""Energetic-proton radiation: the NOAA S-scale and proton-event detection.

NOAA Space Weather Scales (SWPC, "NOAA Space Weather Scales", 2005 onward): the solar radiation
storm level is set by the >=10 MeV integral proton flux, S1 at 10 pfu up to S5 at 10^5 pfu
(1 pfu = 1 particle cm^-2 s^-1 sr^-1). SWPC's proton event (GOES, 5-minute averages) starts at
the first of three consecutive readings at or above 10 pfu and ends at the last reading at or
above it (SWPC, "Solar Proton Events Affecting the Earth Environment", event-list notes).
Which observers a flare's particles reach: see :func:`connected`, on Parker-spiral footpoints.

NOAA's S-scale steps a decade per level from S1 at 10 pfu; an event (SWPC's rule) needs three
consecutive readings at or above 10 pfu:

>>> s_level([5.0, 10.0, 150.0, 2e4, np.nan]).tolist()
[0, 1, 2, 4, -1]
>>> [(e.start, e.end, e.peak_pfu, e.level) for e in detect_events([1.0, 12, 15, 40, 9, 3])]
[(1, 3, 40.0, 1)]
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from l4station.arrays import runs

S_THRESHOLDS_PFU = (10.0, 1e2, 1e3, 1e4, 1e5)   # S1..S5
S_NAMES = ("none", "S1 minor", "S2 moderate", "S3 strong", "S4 severe", "S5 extreme")
CONNECTION_SIGMA_DEG = 43.0   # Gaussian width of SEP peak intensity vs connection angle (Richardson et al. 2014)


def s_level(flux_pfu) -> np.ndarray:
    """S-scale level 0-5 of >=10 MeV flux (pfu); NaN flux gives -1."""
    flux = np.asarray(flux_pfu, dtype=float)
    level = np.searchsorted(np.asarray(S_THRESHOLDS_PFU), np.nan_to_num(flux, nan=-1.0), side="right")
    return np.where(np.isnan(flux), -1, level)


@dataclass(frozen=True)
class ProtonEvent:
    start: int      # sample indices into the series
    end: int
    peak: int
    peak_pfu: float

    @property
    def level(self) -> int:
        return int(s_level(self.peak_pfu))


def detect_events(flux_pfu, *, threshold_pfu: float = 10.0, consecutive: int = 3) -> list[ProtonEvent]:
    """Proton events in a flux series by SWPC's rule: onset at the first of ``consecutive`` readings
    >= threshold, end at the last reading >= threshold before the flux falls below it (missing
    readings, NaN, neither start nor end an event)."""
    flux = np.asarray(flux_pfu, dtype=float)
    valid = np.flatnonzero(np.isfinite(flux))
    events = []
    for first, stop in runs(flux[valid] >= threshold_pfu, consecutive):
        last = stop - 1
        segment = slice(valid[first], valid[last] + 1)
        peak = valid[first] + int(np.nanargmax(flux[segment]))
        events.append(ProtonEvent(int(valid[first]), int(valid[last]), peak, float(flux[peak])))
    return events


def relative_intensity(connection_angle_deg, sigma_deg: float = CONNECTION_SIGMA_DEG) -> np.ndarray:
    """Peak SEP intensity relative to a perfectly connected observer: exp(-angle^2 / (2 sigma^2))
    (Richardson et al. 2014, Sol. Phys. 289, 3059: sigma ~ 43 deg for 14-24 MeV protons)."""
    a = np.asarray(connection_angle_deg, dtype=float)
    return np.exp(-a ** 2 / (2 * sigma_deg ** 2))


def connected(connection_angle_deg, tolerance_deg: float = CONNECTION_SIGMA_DEG) -> np.ndarray:
    """Whether a footpoint within ``tolerance_deg`` of the flare counts as magnetically connected."""
    return np.abs(np.asarray(connection_angle_deg, dtype=float)) <= tolerance_deg

"""Staying at L4: free drift of a spacecraft released at the point, and the yearly
station-keeping delta-v that would hold it there.

The spacecraft starts on the Sun–EMB equilateral point with its velocity
(:func:`l4station.ephemeris.lagrange_point`) and is flown in the full-force model
(Sun, planets, Moon, solar radiation pressure). Its departure from the moving point
is measured as heliocentric ecliptic longitude relative to the ideal +-60 deg from
Earth, and as distance in km. The circular restricted problem gives the libration
periods (:func:`l4station.orbit.cr3bp.triangular_stability`).

Station-keeping estimate (box keeping with yearly resets): each year starts on the
point with its velocity; the velocity drift accumulated relative to the point over
the year is cancelled, and the position error is removed over the following year,
so dv_year = |dv_rel| + |dr_rel| / (1 year). The mean over the years is reported.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import astropy.units as u
import numpy as np
from astropy.time import Time

from l4station import ephemeris, tables
from l4station.constants import DAY_S, JULIAN_YEAR_DAYS, JULIAN_YEAR_S, LAGRANGE_AHEAD_DEG
from l4station.geometry import wrap_degrees
from l4station.orbit.cr3bp import TriangularStability, triangular_stability
from l4station.orbit.propagation import ForceModel, Trajectory, propagate
from l4station.records import instant, one_of, positive, record



def _barycentric_point(target: str, time: Time):
    return tuple(x.value for x in ephemeris.lagrange_point(target, time, frame="icrf", center="ssb"))


@dataclass(frozen=True)
class Stay:
    """A spacecraft left at the target point."""

    target: str
    time: Time                     # (N,) daily samples
    longitude_offset_deg: np.ndarray  # (N,) longitude ahead of Earth minus the ideal +-60 deg
    distance_km: np.ndarray        # (N,) from the moving point
    libration: TriangularStability
    stationkeeping_dv_ms_per_year: float | None   # None for a stay shorter than a year
    trajectory: Trajectory = field(repr=False)

    @property
    def years(self) -> float:
        return float((self.time[-1] - self.time[0]).to_value(u.yr))

    def to_json(self) -> dict:
        return {
            "target": self.target,
            "years": self.years,
            "max_drift_deg": float(np.max(np.abs(self.longitude_offset_deg))),
            "max_drift_km": float(np.max(self.distance_km)),
            "final_drift_deg": float(self.longitude_offset_deg[-1]),
            "libration_period_long_years": self.libration.period_long / (2 * np.pi),
            "libration_period_short_days": self.libration.period_short / (2 * np.pi) * JULIAN_YEAR_DAYS,
            "stationkeeping_dv_ms_per_year": self.stationkeeping_dv_ms_per_year,
        }

    def __rich__(self):
        doc = self.to_json()
        rows = [[label, "— (under a year)" if doc[key] is None else f"{doc[key]:{fmt}}"] for label, key, fmt in (
            ("Years followed", "years", ".1f"), ("Largest longitude drift (deg)", "max_drift_deg", ".3f"),
            ("Largest distance from the point (km)", "max_drift_km", ",.0f"),
            ("Long libration period (years)", "libration_period_long_years", ".1f"),
            ("Short libration period (days)", "libration_period_short_days", ".1f"),
            ("Station keeping (m/s per year)", "stationkeeping_dv_ms_per_year", ".2f"))]
        return tables.table(f"A spacecraft left at {self.target} from {self.time[0].utc.isot[:10]}",
                            ["Quantity", "Value"], rows)


@record
class StayInputs:
    """Everything the stay depends on; a point other than the stable L4 and L5 is refused:

    >>> StayInputs("L3", Time("2031-01-01"), 1.0)
    Traceback (most recent call last):
    l4station.errors.InputError: StayInputs.target must be one of L4, L5, got 'L3'
    """

    target: str                   # "L4" or "L5"
    epoch: Time                   # release on the point
    years: float
    step_days: float = 1.0        # sampling of the track
    cr_area_over_mass: float = 0.0  # Cr A / m, m^2/kg, for solar radiation pressure

    def __post_init__(self):
        one_of(self, "target", ("L4", "L5"))
        positive(self, "years", "step_days")
        positive(self, "cr_area_over_mass", zero=True)
        instant(self, "epoch")


def sample_times(duration_s: float, step_s: float) -> np.ndarray:
    """Every ``step_s`` seconds from 0 to ``duration_s``, the end included when it falls within a
    second of a step (a step rounded past the end becomes the end).

    >>> sample_times(10.0, 4.0).tolist(), sample_times(7.9999999, 4.0).tolist()
    ([0.0, 4.0, 8.0], [0.0, 4.0, 7.9999999])
    """
    return np.minimum(np.arange(0.0, duration_s + 1.0, step_s), duration_s)


def stay(inputs: StayInputs) -> Stay:
    """Release a spacecraft at ``inputs.target`` at ``inputs.epoch`` in the full-force model and
    follow it for ``inputs.years``, sampled every ``inputs.step_days``."""
    target, epoch, years = inputs.target, inputs.epoch, inputs.years
    model = ForceModel(cr_area_over_mass=inputs.cr_area_over_mass)
    step_days = inputs.step_days
    duration = years * JULIAN_YEAR_S
    r0, v0 = _barycentric_point(target, epoch)
    trajectory = propagate(r0, v0, epoch, duration, model=model, t_eval=sample_times(duration, step_days * DAY_S),
                           rtol=1e-11)
    helio = trajectory.heliocentric("ecliptic")[0]
    earth = ephemeris.position("earth", trajectory.time).value
    ideal = LAGRANGE_AHEAD_DEG[target]
    ahead = np.degrees(np.arctan2(helio[:, 1], helio[:, 0]) - np.arctan2(earth[:, 1], earth[:, 0]))
    offset = wrap_degrees(ahead - ideal)
    point = ephemeris.lagrange_point(target, trajectory.time)[0].value
    distance = np.linalg.norm(helio - point, axis=-1)

    # Yearly resets for the station-keeping estimate.
    costs = []
    for k in range(int(np.floor(years + 1e-9))):
        start = epoch + k * JULIAN_YEAR_S * u.s
        rs, vs = _barycentric_point(target, start)
        leg = propagate(rs, vs, start, JULIAN_YEAR_S, model=model, t_eval=[JULIAN_YEAR_S], rtol=1e-11)
        re, ve = _barycentric_point(target, leg.time[-1:])
        costs.append(np.linalg.norm(leg.velocity[-1] - ve[0]) + np.linalg.norm(leg.position[-1] - re[0]) / JULIAN_YEAR_S)
    sk = float(np.mean(costs) * 1000.0) if costs else None
    mu = float(ephemeris.SUN_EMB_MASS_RATIO)
    return Stay(target, trajectory.time, offset, distance, triangular_stability(mu), sk, trajectory)

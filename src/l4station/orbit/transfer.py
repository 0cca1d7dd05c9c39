"""Two-impulse transfers from Earth to the moving L4 (or L5) point, and the free-drift option.

1. **Trade grid** in the ephemeris model: for every departure date in the launch
   window and every time of flight, Lambert arcs (:mod:`l4station.orbit.lambert`)
   from Earth (DE421) to the Lagrange point at arrival, for 0..N revolutions and both
   multi-revolution branches, all in one batch call. Cost of a cell: departure
   v-infinity plus the arrival burn that matches the point's velocity.
2. **Pareto front** of total delta-v against time of flight.
3. **Refinement** of front points in the full-force model
   (:mod:`l4station.orbit.propagation`) by differential correction (Newton on the
   departure velocity, finite-difference Jacobian) until the trajectory reaches the
   Lagrange point within ``tolerance_km``.
4. **Free drift** (STEREO-like): leave Earth slower than Earth so the orbit's shorter
   period carries the spacecraft ahead, with no stop burn; found by a secant search
   on the departure speed in the full-force model.

Units: km, s, km/s in kernels; results carry plain floats named with their unit.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import astropy.units as u
import numpy as np
from astropy.time import Time

from l4station import ephemeris, tables
from l4station.constants import DAY_S, JULIAN_YEAR_DAYS, JULIAN_YEAR_S, LAGRANGE_AHEAD_DEG
from l4station.geometry import wrap_degrees
from l4station.orbit import lambert
from l4station.orbit.propagation import GM, ForceModel, Trajectory, propagate
from l4station.errors import InputError
from l4station.records import instant, one_of, positive, record

MU_SUN = GM["sun"]
MU_EARTH = GM["earth"]
G0 = 9.80665e-3  # standard gravity, km/s^2
PATCH_RADIUS_KM = 3.0e6
"""Distance from Earth (twice Earth's Hill radius, 1.5e6 km) where refined trajectories
hand over from the departure conic to the full-force model; beyond it Earth's pull is a
smooth perturbation that differential correction handles well."""

CORRECTOR_RTOL = 1e-9
"""Integration tolerance inside differential correction: its position error over six years
(~1 km) is far below the 1,000 km arrival requirement and does not slow Newton."""


def propellant_mass(dv_kms, wet_mass_kg: float, isp_s: float):
    """Propellant (kg) for a burn of dv km/s from a wet mass (Tsiolkovsky rocket equation).

    1 km/s from 1000 kg at Isp 300 s: 1000 (1 - exp(-1000 / (300 x 9.80665))) = 288.2 kg.

    >>> round(float(propellant_mass(1.0, 1000.0, 300.0)), 1)
    288.2"""
    return wet_mass_kg * (1.0 - np.exp(-np.asarray(dv_kms) / (isp_s * G0)))


@dataclass(frozen=True)
class TradeGrid:
    """Best transfer per (departure, time of flight) cell; arrays (D, T)."""

    departure: Time          # (D,)
    tof_days: np.ndarray     # (T,)
    vinf_kms: np.ndarray         # km/s, departure hyperbolic excess speed
    arrival_dv_kms: np.ndarray   # km/s
    revs: np.ndarray         # int, full revolutions of the best arc
    low_path: np.ndarray     # bool, branch of the best arc
    v1: np.ndarray           # (D, T, 3) km/s heliocentric ICRF departure velocity
    lambert_solves: int

    @property
    def total(self) -> np.ndarray:
        return self.vinf_kms + self.arrival_dv_kms


def trade_grid(target: str, departures: Time, tof_days: np.ndarray, *, max_revs: int = 6) -> TradeGrid:
    """Solve every Lambert arc of the grid and keep the cheapest per cell."""
    tof_days = np.atleast_1d(np.asarray(tof_days, dtype=float))
    if not (isinstance(departures, Time) and departures.ndim == 1):
        raise InputError(f"departures must be a 1-D astropy Time array, got {type(departures).__name__} "
                         f"{np.shape(departures)}")
    if tof_days.ndim != 1 or not np.all(np.isfinite(tof_days) & (tof_days > 0)):
        raise InputError(f"flight times must be one list of positive, finite days, got {tof_days}")
    if not (isinstance(max_revs, (int, np.integer)) and 0 <= max_revs <= lambert.MAX_REVS):
        raise InputError(f"max_revs {max_revs!r} must be a whole number from 0 to {lambert.MAX_REVS:,}")
    r_e, v_e = (x.value for x in ephemeris.posvel("earth", departures, frame="icrf"))
    # Arrival dates repeat across the grid (equal steps give ~D + T distinct days, not D x T):
    # evaluate the target once per distinct date.
    offsets = ((departures - departures[0]).to_value(u.day)[:, None] + tof_days[None, :]).round(9)
    unique, inverse = np.unique(offsets, return_inverse=True)
    r_u, v_u = (x.value for x in ephemeris.lagrange_point(target, departures[0] + unique * u.day, frame="icrf"))
    r_t, v_t = r_u[inverse].reshape(offsets.shape + (3,)), v_u[inverse].reshape(offsets.shape + (3,))
    tof_s = np.broadcast_to(tof_days * DAY_S, offsets.shape)
    r1 = np.broadcast_to(r_e[:, None, :], r_t.shape)

    shape = offsets.shape
    best = np.full(shape, np.inf)
    vinf_kms = np.full(shape, np.nan)
    dv_arr = np.full(shape, np.nan)
    revs_best = np.zeros(shape, dtype=int)
    low_best = np.ones(shape, dtype=bool)
    v1_best = np.full(shape + (3,), np.nan)
    solves = 0
    families = [(revs, low) for revs in range(max_revs + 1) for low in ((True,) if revs == 0 else (True, False))]
    for revs, low, v1, v2 in lambert.solve_families(r1, r_t, tof_s, MU_SUN, families):
        solves += int(np.prod(shape))
        _keep_cheaper(v1, v2, v_e, v_t, revs, low, best, vinf_kms, dv_arr, revs_best, low_best, v1_best)
    return TradeGrid(departures, tof_days, vinf_kms, dv_arr, revs_best, low_best, v1_best, solves)


def _keep_cheaper(v1, v2, v_dep, v_arr, revs, low, best, vinf, dv, revs_best, low_best, v1_best):
    """Keep, per cell of the (D, T) grid, the arcs of this family (departure and arrival
    velocities v1, v2 (D, T, 3) km/s, NaN where none) that cost less than ``best`` (km/s): the
    departure excess over Earth's velocity v_dep (D, 3) plus the burn to the target's v_arr
    (D, T, 3). Updates best, vinf, dv (km/s), revs_best, low_best and v1_best in place."""
    a, b = v1 - v_dep[:, None, :], v_arr - v2
    vi = np.sqrt(a[..., 0] * a[..., 0] + a[..., 1] * a[..., 1] + a[..., 2] * a[..., 2])
    burn = np.sqrt(b[..., 0] * b[..., 0] + b[..., 1] * b[..., 1] + b[..., 2] * b[..., 2])
    total = np.where(np.isnan(vi), np.inf, vi + burn)
    cheaper = total < best
    best[cheaper], vinf[cheaper], dv[cheaper] = total[cheaper], vi[cheaper], burn[cheaper]
    revs_best[cheaper], low_best[cheaper], v1_best[cheaper] = revs, low, v1[cheaper]


@dataclass(frozen=True)
class Candidate:
    """One transfer: where a cell of the grid sits and what it costs (patched conics)."""

    departure: Time
    tof_days: float
    revs: int
    low_path: bool
    vinf_kms: float          # km/s
    arrival_dv_kms: float    # km/s
    v1: np.ndarray       # km/s heliocentric ICRF

    @property
    def total(self) -> float:
        return self.vinf_kms + self.arrival_dv_kms


def pareto_front(grid: TradeGrid, *, min_gain_kms: float = 0.01, arrive_by: Time | None = None) -> list[Candidate]:
    """Transfers no other beats in both time of flight and total delta-v, shortest first
    (with ``arrive_by``: among those that arrive by then).

    The exact front is a staircase with a step per grid day; a point is kept only if it
    saves at least ``min_gain_kms`` over the last one kept.
    """
    usable = np.isfinite(grid.total)
    if arrive_by is not None:
        usable &= (grid.departure.tdb.jd[:, None] + grid.tof_days[None, :]) <= arrive_by.tdb.jd
    best_dep = np.nanargmin(np.where(usable, grid.total, np.inf), axis=0)  # per TOF
    cols = np.arange(grid.tof_days.size)
    totals = np.where(usable[best_dep, cols], grid.total[best_dep, cols], np.inf)
    front, running = [], np.inf
    for j in np.argsort(grid.tof_days):
        if np.isfinite(totals[j]) and totals[j] < running - min_gain_kms:
            running = totals[j]
            i = best_dep[j]
            front.append(Candidate(grid.departure[i], float(grid.tof_days[j]), int(grid.revs[i, j]),
                                   bool(grid.low_path[i, j]), float(grid.vinf_kms[i, j]),
                                   float(grid.arrival_dv_kms[i, j]), grid.v1[i, j].copy()))
    return front


@dataclass(frozen=True)
class Refined:
    """A transfer flown in the full-force model."""

    candidate: Candidate
    vinf_kms: float               # km/s, patched-conic departure excess of the full-force heliocentric arc
    patch_correction: float   # km/s, velocity change at the patch point once Earth and Moon pull
    arrival_dv_kms: float         # km/s
    arrival_error_km: float
    closest_approach_km: float  # to Earth's centre, flying the refined arc back to departure
    iterations: int
    converged: bool
    trajectory: Trajectory = field(repr=False)

    @property
    def total(self) -> float:
        return self.vinf_kms + self.arrival_dv_kms


def _without_earth_and_moon(model: ForceModel) -> ForceModel:
    return ForceModel(tuple(b for b in model.bodies if b not in ("earth", "moon")), model.cr_area_over_mass)


def _escape(departure: Time, v_excess: np.ndarray, model: ForceModel, max_days: float):
    """The patched-conic escape leg: from Earth's centre at ``departure`` with heliocentric
    excess velocity ``v_excess`` (km/s, ICRF), flown without Earth and Moon until it is
    PATCH_RADIUS_KM from Earth (at most ``max_days``). Returns (time, r km, v km/s),
    barycentric ICRF, where the full-force model takes over."""
    r_e, v_e = (x.value for x in ephemeris.posvel("earth", departure, center="ssb", frame="icrf"))
    days = np.arange(0.0, max(2.0, max_days))
    leg = propagate(r_e, v_e + v_excess, departure, days[-1] * DAY_S, model=_without_earth_and_moon(model),
                    t_eval=days * DAY_S, rtol=1e-10)
    earth = ephemeris.position("earth", leg.time, center="ssb", frame="icrf").value
    beyond = np.linalg.norm(leg.position - earth, axis=-1) >= PATCH_RADIUS_KM
    k = int(np.argmax(beyond)) if beyond.any() else len(days) - 1
    return leg.time[k], leg.position[k], leg.velocity[k]


class _Met(Exception):
    """Raised inside the solver once the miss is within tolerance (stop there, not at its xtol)."""


def _correct(miss, v0, tolerance_km, max_iterations, step=1e-6):
    """Solve miss(v) = 0 (3 equations, km) for v (km/s) with MINPACK's hybrid Powell method
    (``scipy.optimize.root``, method "hybr"; Moré, Garbow & Hillstrom 1980) on a forward-
    difference Jacobian of step ``step`` (km/s); stops as soon as |miss| <= ``tolerance_km``.
    Returns the best velocity, its miss and the number of Jacobians formed."""
    from scipy.optimize import root

    latest, best = {}, {}                 # the latest evaluation is the Jacobian's base point
    jacobians = 0

    def evaluate(v):
        if not latest or not np.array_equal(v, latest["v"]):
            latest["v"], latest["err"] = np.array(v, dtype=float), miss(v)
            if not best or np.linalg.norm(latest["err"]) < np.linalg.norm(best["err"]):
                best.update(latest)
        return latest["err"]

    def fun(v):
        err = evaluate(v)
        if np.linalg.norm(err) <= tolerance_km:
            raise _Met
        return err

    def jac(v):
        nonlocal jacobians
        jacobians += 1
        base = evaluate(v)
        return np.column_stack([(miss(v + step * e) - base) / step for e in np.eye(3)])

    try:
        fun(v0)
        root(fun, best["v"], jac=jac, method="hybr", options={"xtol": 1e-13, "maxfev": 4 * max_iterations})
    except _Met:
        pass
    return best["v"], best["err"], jacobians


def refine(candidate: Candidate, target: str, *, model: ForceModel = ForceModel(),
           tolerance_km: float = 1.0, max_iterations: int = 10) -> Refined:
    """Differential correction so that the full-force trajectory reaches the moving
    Lagrange point at the candidate's arrival time.

    Two stages, each by :func:`_correct`: (1) without Earth and Moon, from Earth's
    centre at departure, where the Lambert arc is nearly exact, correct the
    heliocentric departure velocity; (2) from where that arc crosses PATCH_RADIUS_KM,
    with every body, correct the velocity there; if that fails, switch Earth's and the
    Moon's gravity on in four steps (continuation). ``converged`` says whether the
    miss ended within ``tolerance_km``.
    """
    dep = candidate.departure
    arrival = dep + candidate.tof_days * u.day
    tgt_r, tgt_v = (x.value for x in ephemeris.lagrange_point(target, arrival, frame="icrf", center="ssb"))

    # Stage 1: no Earth or Moon, start at Earth's centre.
    far = _without_earth_and_moon(model)
    r_e, v_e = (x.value for x in ephemeris.posvel("earth", dep, center="ssb", frame="icrf"))
    v_e_helio = ephemeris.posvel("earth", dep, frame="icrf")[1].value
    duration0 = candidate.tof_days * DAY_S

    def miss_far(v):
        return propagate(r_e, v, dep, duration0, model=far, t_eval=[duration0], rtol=CORRECTOR_RTOL).position[-1] - tgt_r

    v_helio, _, it1 = _correct(miss_far, candidate.v1 - v_e_helio + v_e, tolerance_km, max_iterations)

    # Stage 2: every body, from where the stage-1 arc crosses the patch radius.
    start, r0, v0 = _escape(dep, v_helio - v_e, model, min(candidate.tof_days / 2, 400.0))
    duration = (arrival - start).to_value(u.s)

    def miss_scaled(v, scale):
        scaled = ForceModel(model.bodies, model.cr_area_over_mass, scale)
        return propagate(r0, v, start, duration, model=scaled, t_eval=[duration], rtol=CORRECTOR_RTOL).position[-1] - tgt_r

    v_patch, err, it2 = _correct(lambda v: miss_scaled(v, 1.0), v0, tolerance_km, max_iterations)
    if np.linalg.norm(err) > tolerance_km:
        # Continuation: switch Earth and Moon on gradually from the stage-1 solution.
        v_patch = v0
        for scale in (0.25, 0.5, 0.75, 1.0):
            v_patch, err, more = _correct(lambda v: miss_scaled(v, scale), v_patch, tolerance_km, max_iterations)
            it2 += more
    samples = np.linspace(0.0, duration, max(50, int(candidate.tof_days / 5)))
    trajectory = propagate(r0, v_patch, start, duration, model=model, t_eval=samples, rtol=1e-10)
    miss_km = float(np.linalg.norm(trajectory.position[-1] - tgt_r))  # flown again at the finer tolerance
    return Refined(candidate, float(np.linalg.norm(v_helio - v_e)), float(np.linalg.norm(v_patch - v0)),
                   float(np.linalg.norm(tgt_v - trajectory.velocity[-1])), miss_km,
                   _closest_approach(r0, v_patch, start, dep, model), it1 + it2,
                   bool(np.linalg.norm(err) <= tolerance_km), trajectory)


def _closest_approach(r0, v0, start: Time, departure: Time, model: ForceModel) -> float:
    """Closest approach (km) to Earth's centre flying the refined arc back from its patch
    state to the departure date: how nearly it meets a departure from Earth."""
    back = (departure - start).to_value(u.s)
    flown = propagate(r0, v0, start, back, model=model, t_eval=np.linspace(0.0, back, 400), rtol=1e-10)
    earth = ephemeris.position("earth", flown.time, center="ssb", frame="icrf").value
    return float(np.linalg.norm(flown.position - earth, axis=-1).min())


@dataclass(frozen=True)
class FreeDrift:
    """No stop burn: leave Earth slower than Earth and drift ahead through the target's longitude."""

    departure: Time
    vinf_kms: float                    # km/s, opposite Earth's velocity
    arrival: Time                  # when the longitude ahead of Earth first reaches the target's
    drift_rate_deg_per_year: float # mean over the year centred on arrival
    days_within_5deg: float        # time spent within +-5 deg of the target's longitude
    trajectory: Trajectory = field(repr=False)


def _longitude_ahead(trajectory: Trajectory) -> np.ndarray:
    """Heliocentric ecliptic longitude of the spacecraft minus Earth's, deg in [-180, 180)."""
    r = trajectory.heliocentric("ecliptic")[0]
    earth = ephemeris.position("earth", trajectory.time).value
    lon = np.degrees(np.arctan2(r[:, 1], r[:, 0]) - np.arctan2(earth[:, 1], earth[:, 0]))
    return wrap_degrees(lon)


FREE_DRIFT_KMS = (0.05, 3.0)
"""Departure speeds (km/s) searched for a free drift: from 50 m/s (slower departures linger near
Earth for years) to dv/v = 0.1 of Earth's orbital speed, past which the drift is no longer slow
(linear theory, Murray & Dermott 1999, sec. 3.8)."""
FREE_DRIFT_MIN_DAYS = 30.0   # a shorter launch-to-epoch span leaves no time to drift


def free_drift(target: str, departure: Time, arrive_by: Time, *, model: ForceModel = ForceModel()
               ) -> FreeDrift | None:
    """The slowest free drift in FREE_DRIFT_KMS whose longitude ahead of Earth reaches the target's
    by ``arrive_by`` (the slowest searched, if even that one does); None if none does or the span
    is under FREE_DRIFT_MIN_DAYS.

    The furthest the drift gets by ``arrive_by`` (daily samples, unwrapped: a long drift laps the
    Sun) grows with the departure speed; Brent's method (``scipy.optimize.root_scalar``) finds
    the speed where it just reaches the target, to 0.01 deg. Linear theory says what to expect:
    dv/v drifts the longitude at 3 (dv/v) revolutions per revolution (Murray & Dermott 1999,
    sec. 3.8).
    """
    from scipy.optimize import root_scalar

    if target not in ("L4", "L5"):
        raise InputError(f"a free drift goes to L4 or L5, not {target!r}")
    goal = LAGRANGE_AHEAD_DEG[target]
    duration = (arrive_by - departure).to_value(u.s)
    if duration < FREE_DRIFT_MIN_DAYS * DAY_S:
        return None
    v_earth = ephemeris.posvel("earth", departure, frame="icrf")[1].value
    direction = -np.sign(goal) * v_earth / np.linalg.norm(v_earth)
    low, high = FREE_DRIFT_KMS

    def short_deg(vinf_kms):
        """Degrees the drift falls short of (< 0) or passes the target's longitude by ``arrive_by``."""
        start, r0, v0 = _escape(departure, vinf_kms * direction, model, duration / DAY_S / 2)
        span = (arrive_by - start).to_value(u.s)
        tr = propagate(r0, v0, start, span, model=model, t_eval=np.linspace(0.0, span, int(span / DAY_S) + 2),
                       rtol=1e-10)
        furthest = np.max(np.degrees(np.unwrap(np.radians(_longitude_ahead(tr) * np.sign(goal)))))
        if abs(furthest - abs(goal)) < 0.01:
            raise _Met(vinf_kms)
        return furthest - abs(goal)

    try:
        if short_deg(high) < 0:
            return None                        # even the fastest drift arrives late
        vinf_kms = low if short_deg(low) >= 0 else root_scalar(
            short_deg, bracket=(low, high), method="brentq", xtol=1e-5, maxiter=40).root
    except _Met as met:
        vinf_kms = met.args[0]
    # Fly on past the target for as long again, to see how long it stays near (within DE421).
    start, r0, v0 = _escape(departure, vinf_kms * direction, model, duration / DAY_S / 2)
    span = min(2.5 * duration, (ephemeris.coverage()[1] - start).to_value(u.s) - DAY_S)
    samples = np.linspace(0.0, span, int(span / DAY_S) + 1)
    trajectory = propagate(r0, v0, start, span, model=model, t_eval=samples, rtol=1e-10)
    ahead = _longitude_ahead(trajectory) * np.sign(goal)
    reached = ahead >= abs(goal) - 0.01
    k = int(np.argmax(reached)) if reached.any() else len(ahead) - 1
    # Mean rate over the year centred on arrival: the eccentric drift orbit adds an annual
    # wobble of +-2e rad (e ~ 2 dv/v) to the longitude, so an instantaneous rate misleads.
    half = int(round(JULIAN_YEAR_S / 2 / (samples[1] - samples[0])))
    lo, hi = max(0, k - half), min(len(samples) - 1, k + half)
    rate = (ahead[hi] - ahead[lo]) / ((samples[hi] - samples[lo]) / JULIAN_YEAR_S)
    near = np.abs(ahead - abs(goal)) <= 5.0
    return FreeDrift(departure, float(vinf_kms), trajectory.time[k], float(rate),
                     float(np.count_nonzero(near) * (samples[1] - samples[0]) / DAY_S), trajectory)


@dataclass(frozen=True)
class TransferTrade:
    """Everything ``l4station transfer`` reports."""

    target: str
    grid: TradeGrid = field(repr=False)
    front: list[Candidate]            # the whole Pareto staircase
    refined: list[Refined]            # the best of each revolution family on the front
    propellant_kg: list[float]        # for each refined transfer's arrival burn
    propellant_on_board_kg: float     # wet minus dry mass
    free_drift: FreeDrift | None      # None: no slow drift reaches the target by the epoch
    elapsed_s: float

    def to_json(self) -> dict:
        return {
            "target": self.target,
            "pareto": [{
                "departure": r.candidate.departure.utc.isot,
                "tof_days": r.candidate.tof_days,
                "revs": r.candidate.revs,
                "branch": "low" if r.candidate.low_path else "high",
                "departure_vinf_kms": r.vinf_kms,
                "c3_km2s2": r.vinf_kms ** 2,
                "arrival_dv_kms": r.arrival_dv_kms,
                "total_dv_kms": r.total,
                "propellant_kg": p,
                "feasible": p <= self.propellant_on_board_kg,
                "lambert_departure_vinf_kms": r.candidate.vinf_kms,
                "lambert_arrival_dv_kms": r.candidate.arrival_dv_kms,
                "refined_arrival_error_km": r.arrival_error_km,
                "converged": r.converged,
                "patch_correction_kms": r.patch_correction,
                "closest_approach_km": r.closest_approach_km,
            } for r, p in zip(self.refined, self.propellant_kg)],
            "free_drift": None if self.free_drift is None else {
                "departure": self.free_drift.departure.utc.isot,
                "departure_vinf_kms": self.free_drift.vinf_kms,
                "c3_km2s2": self.free_drift.vinf_kms ** 2,
                "reaches_target": self.free_drift.arrival.utc.isot,
                "drift_rate_deg_per_year": self.free_drift.drift_rate_deg_per_year,
                "days_within_5deg": self.free_drift.days_within_5deg,
            },
            "propellant_on_board_kg": self.propellant_on_board_kg,
            "lambert_solves": self.grid.lambert_solves,
            "elapsed_s": self.elapsed_s,
        }

    def free_drift_text(self) -> str:
        """The free-drift option in one sentence."""
        d = self.free_drift
        if d is None:
            return (f"Free drift (no stop burn): none reaches {self.target}'s longitude by the operations epoch "
                    f"at up to {FREE_DRIFT_KMS[1]:g} km/s.")
        return (f"Free drift (no stop burn): leave {d.departure.utc.isot[:10]} with v∞ {d.vinf_kms:.3f} km/s, "
                f"reach {self.target}'s longitude {d.arrival.utc.isot[:10]}, drifting "
                f"{d.drift_rate_deg_per_year:.1f} deg/yr, {d.days_within_5deg:.0f} days within ±5 deg.")

    def __rich__(self):
        doc = self.to_json()
        rows = [[row["departure"][:10], f"{row['tof_days']:.0f}", f"{row['revs']} {row['branch']}",
                 f"{row['departure_vinf_kms']:.3f}", f"{row['c3_km2s2']:.3f}", f"{row['arrival_dv_kms']:.3f}",
                 f"{row['total_dv_kms']:.3f}", f"{row['propellant_kg']:.0f}" + ("" if row["feasible"] else " (!)"),
                 f"{row['refined_arrival_error_km']:.3f}"] for row in doc["pareto"]]
        parts = [tables.table(f"Transfers to {self.target} ({doc['lambert_solves']:,} Lambert arcs, "
                              f"{doc['elapsed_s']:.1f} s)",
                              ["Departure", "TOF (d)", "Revs", "v∞ (km/s)", "C3 (km²/s²)", "Arrival Δv (km/s)",
                               "Total (km/s)", "Propellant (kg)", "Miss (km)"], rows)]
        if not all(row["feasible"] for row in doc["pareto"]):
            parts.append(f"(!) needs more than the {doc['propellant_on_board_kg']:.0f} kg of propellant on board.")
        parts.append(self.free_drift_text())
        return tables.group(*parts)


def family_optima(front: list[Candidate]) -> list[Candidate]:
    """The cheapest front point of each (revolutions, branch) family, shortest flight first:
    the distinct design options, where the staircase between them is grid detail."""
    best: dict[tuple[int, bool], Candidate] = {}
    for c in front:
        key = (c.revs, c.low_path)
        if key not in best or c.total < best[key].total:
            best[key] = c
    return sorted(best.values(), key=lambda c: c.tof_days)


def _refine_task(args):
    candidate, target, model = args
    return refine(candidate, target, model=model)


@record
class TradeInputs:
    """Everything a transfer trade depends on: launch window, grid, spacecraft."""

    target: str                     # "L4" or "L5"
    launch_earliest: Time
    launch_latest: Time
    arrival: Time                   # start of operations (the free-drift option arrives by then)
    departure_step_days: float
    tof_min_years: float
    tof_max_years: float
    tof_step_days: float
    max_revs: int
    wet_mass_kg: float
    dry_mass_kg: float
    isp_s: float
    cr_area_over_mass: float        # Cr A / m, m^2/kg, for solar radiation pressure

    def __post_init__(self):
        one_of(self, "target", ("L4", "L5"))
        instant(self, "launch_earliest", "launch_latest", "arrival")
        positive(self, "departure_step_days", "tof_min_years", "tof_max_years", "tof_step_days", "wet_mass_kg",
                 "dry_mass_kg", "isp_s")
        positive(self, "cr_area_over_mass", "max_revs", zero=True)
        if self.tof_min_years >= self.tof_max_years or self.dry_mass_kg >= self.wet_mass_kg:
            raise InputError("TradeInputs: tof_min_years must be below tof_max_years and dry_mass_kg below wet_mass_kg")
        if self.launch_latest < self.launch_earliest:
            raise InputError("TradeInputs: launch_latest comes before launch_earliest")

    def departures(self) -> Time:
        """Departure dates of the grid."""
        window = (self.launch_latest - self.launch_earliest).to_value(u.day)
        return self.launch_earliest + np.arange(0.0, window + 1e-9, self.departure_step_days) * u.day

    def flight_days(self) -> np.ndarray:
        """Flight times (days) of the grid."""
        return np.arange(self.tof_min_years * JULIAN_YEAR_DAYS, self.tof_max_years * JULIAN_YEAR_DAYS + 1e-9, self.tof_step_days)


def transfer_trade(inputs: TradeInputs, *, workers: int = 2, on_step=None) -> TransferTrade:
    """Run the whole trade: grid, Pareto front, full-force refinement of each family's best
    transfer (``workers`` processes), and the free-drift option.

    ``on_step(name, fraction)`` reports progress."""
    import time
    from concurrent.futures import ProcessPoolExecutor
    import multiprocessing

    began = time.perf_counter()
    step = on_step or (lambda name, fraction: None)
    target = inputs.target
    step("Lambert grid", 0.0)
    grid = trade_grid(target, inputs.departures(), inputs.flight_days(), max_revs=inputs.max_revs)
    front = pareto_front(grid)
    options = family_optima(front)
    # The families' best may all arrive after the epoch (to L5 the fastest arc of the cheapest
    # departure does): the cheapest transfer that arrives in time is refined too.
    timely = pareto_front(grid, arrive_by=inputs.arrival)
    if timely:
        cheapest = min(timely, key=lambda c: c.total)
        if not any(c.departure == cheapest.departure and c.tof_days == cheapest.tof_days for c in options):
            options = sorted([*options, cheapest], key=lambda c: c.tof_days)
    model = ForceModel(cr_area_over_mass=inputs.cr_area_over_mass)
    step("refinement", 0.3)
    tasks = [(c, target, model) for c in options]
    refined = []
    drift_args = (target, inputs.launch_earliest, inputs.arrival)
    # Forked workers: they run only serial numba code, so the parent's thread pool (from the
    # Lambert grid) is never used in them; "spawn" would need a __main__ guard in every caller.
    # The free drift is one more task; the longest flights go first, so that no worker is left
    # alone with a long one at the end. A daemonic process (a sweep's Dask worker) may have no
    # children: it refines in turn.
    if workers > 1 and "fork" in multiprocessing.get_all_start_methods() and not multiprocessing.current_process().daemon:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                 initializer=ephemeris.reopen) as pool:
            longest_first = sorted(range(len(tasks)), key=lambda i: -tasks[i][0].tof_days)
            futures = {i: pool.submit(_refine_task, tasks[i]) for i in longest_first[:1]}
            drifting = pool.submit(free_drift, *drift_args, model=model)
            futures.update({i: pool.submit(_refine_task, tasks[i]) for i in longest_first[1:]})
            for i in range(len(tasks)):
                refined.append(futures[i].result())
                step("refinement", 0.3 + 0.6 * (i + 1) / len(tasks))
            step("free drift", 0.9)
            drift = drifting.result()
    else:
        for i, task in enumerate(tasks):
            refined.append(_refine_task(task))
            step("refinement", 0.3 + 0.6 * (i + 1) / len(tasks))
        step("free drift", 0.9)
        drift = free_drift(*drift_args, model=model)
    propellant = [float(propellant_mass(r.arrival_dv_kms, inputs.wet_mass_kg, inputs.isp_s)) for r in refined]
    step("done", 1.0)
    return TransferTrade(target, grid, front, refined, propellant, inputs.wet_mass_kg - inputs.dry_mass_kg, drift,
                         time.perf_counter() - began)

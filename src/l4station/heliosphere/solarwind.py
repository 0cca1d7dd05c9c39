"""Solar-wind speed in the inner heliosphere: the 1-D upwind kinematic model of the HUXt class.

Along each radial, in the frame that turns with Earth (synodic), the speed obeys the
inviscid Burgers equation with a residual acceleration (Owens et al. 2020, Sol. Phys.
295, 43, "A Computationally Efficient, Time-Dependent Model of the Solar Wind for Use
as a Surrogate to Three-Dimensional Numerical Magnetohydrodynamic Simulations"):

    dv/dt + v dv/dr = v a(r),    v_steady(r) = v0 (1 + alpha (1 - exp(-(r - r0) / r_acc)))

with alpha = 0.15 and r_acc = 50 R_sun (Riley & Lionello 2011, Sol. Phys. 270, 575).
It is solved by HUXt's first-order upwind step (dt = dr / v_max: CFL-stable for every
speed below v_max), the acceleration added per cell from the speed the parcel had at the
inner boundary, r0 = 30 R_sun. Longitudes are independent; corotation enters through
the inner boundary, which turns with the Sun's synodic period (structure moves toward
increasing Earth-relative longitude, 13.2 deg/day).

Kernel units: km, s, km/s. The kernel runs every (member, longitude) in parallel (numba
``prange``) and stores only the radii asked for.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from l4station.constants import AU_KM, DAY_S, SYNODIC_PERIOD_DAYS
from l4station.geometry import wrap_radians

R_SUN_KM = 695700.0
SYNODIC_PERIOD_S = SYNODIC_PERIOD_DAYS * DAY_S
ALPHA = 0.15
R_ACCEL_KM = 50 * R_SUN_KM


@dataclass(frozen=True)
class Grid:
    """Radial grid and time step: r (nr,) km from the inner boundary, dt s."""

    r_km: np.ndarray
    dt_s: float

    @property
    def dr_km(self) -> float:
        return float(self.r_km[1] - self.r_km[0])


def model_grid(r_inner_rsun: float = 30.0, r_outer_rsun: float = 240.0, dr_rsun: float = 1.5,
               v_max_kms: float = 3000.0) -> Grid:
    """HUXt's default grid: 30-240 R_sun in 1.5 R_sun steps, dt = dr / v_max (348 s)."""
    r = np.arange(r_inner_rsun, r_outer_rsun + 1e-9, dr_rsun) * R_SUN_KM
    return Grid(r, dr_rsun * R_SUN_KM / v_max_kms)


def steady_speed(v0_kms, r_km, r_inner_km: float = 30 * R_SUN_KM, *, alpha: float = ALPHA,
                 r_accel_km: float = R_ACCEL_KM):
    """Analytic steady speed at r of wind leaving the inner boundary at v0 (Riley & Lionello 2011)."""
    return np.asarray(v0_kms) * (1 + alpha * (1 - np.exp(-(np.asarray(r_km) - r_inner_km) / r_accel_km)))


@njit(cache=True, fastmath=True)
def _march_one(vb, shift, epoch, cme_index, cme_speed, dtdr, accel, store_from, store_every, store_idx, v_init,
               out):
    """March one radial line.

    vb (E, K) boundary maps over K longitudes (km/s) at E epochs; shift (T,) where the line's
    longitude sits on the map at each step (in map cells); epoch (T,) where each step sits
    between the epochs (fractional index); cme_index (T,) the CME filling the boundary
    (-1: none) and cme_speed (C,) their speeds; writes out (T_out, S).

    ``accel[i]`` (s/km) folds HUXt's per-cell acceleration: dt/dr alpha (e_{i-1} - e_i) /
    (1 + alpha (1 - e_{i-1})), e = exp(-(r - r0) / r_acc), so that the step reads
    v_i <- v_i - dt/dr v_i (v_i - v_{i-1}) + accel_i v_{i-1}^2.
    """
    nr = accel.shape[0]
    n_epochs, n_map = vb.shape
    v = np.full(nr, v_init)
    k = 0
    for t in range(shift.shape[0]):
        if cme_index[t] >= 0:
            v[0] = cme_speed[cme_index[t]]
        else:
            x = shift[t]
            j = int(math.floor(x))
            w = x - j
            j %= n_map
            j1 = (j + 1) % n_map
            e0 = int(epoch[t])
            ew = epoch[t] - e0
            e1 = min(e0 + 1, n_epochs - 1)
            v[0] = ((1.0 - ew) * ((1.0 - w) * vb[e0, j] + w * vb[e0, j1])
                    + ew * ((1.0 - w) * vb[e1, j] + w * vb[e1, j1]))
        # Upwind step from the outside in, so each cell still sees its inner neighbour's old speed.
        for i in range(nr - 1, 0, -1):
            up, dn = v[i], v[i - 1]
            v[i] = up - dtdr * up * (up - dn) + accel[i] * dn * dn
        if t >= store_from and (t - store_from) % store_every == 0 and k < out.shape[0]:
            for s in range(store_idx.shape[0]):
                out[k, s] = v[store_idx[s]]
            k += 1


@njit(parallel=True, cache=True)
def _march(vb, shift, epoch, cme_index, cme_speed, dtdr, accel, store_from, store_every, store_idx, v_init, lines,
           out):
    """Every (member, marched line): vb (M, E, K), shift (L', T), epoch (T,), cme_index (L', T),
    cme_speed (M, C); the L' marched lines are lines (L',) of out (M, L, T_out, S)."""
    n_members, n_lon = vb.shape[0], shift.shape[0]
    for p in prange(n_members * n_lon):
        m, lon = p // n_lon, p % n_lon
        _march_one(vb[m], shift[lon], epoch, cme_index[lon], cme_speed[m], dtdr, accel, store_from, store_every,
                   store_idx, v_init, out[m, lines[lon]])


@dataclass(frozen=True)
class ConeCME:
    """A cone CME at the inner boundary, as HUXt's ``ConeCME`` in the ecliptic plane: a sphere
    of angular width ``width_deg`` launched at ``t_launch_s`` toward Earth-relative longitude
    ``longitude_deg``, threading the boundary for ``duration_s`` at its nose."""

    t_launch_s: float
    longitude_deg: float = 0.0
    v_kms: float = 1000.0
    width_deg: float = 30.0
    duration_s: float = 8.5 * 3600.0

    def mask(self, lon_rad: np.ndarray, t_s: np.ndarray, r_inner_km: float) -> np.ndarray:
        """(L, T) True where the CME fills the inner boundary."""
        radius = r_inner_km * math.tan(math.radians(self.width_deg) / 2)
        v_eff = 2 * radius / self.duration_s
        y = v_eff * (t_s[None, :] - self.t_launch_s)
        inside = (y >= 0) & (y <= 2 * radius)
        x = np.sqrt(np.clip(y * (2 * radius - y), 0.0, None))
        half_angle = np.arctan(x / r_inner_km)
        offset = np.abs(wrap_radians(lon_rad[:, None] - math.radians(self.longitude_deg)))
        return inside & (offset <= half_angle)


def radial_bracket(stored_r_km: np.ndarray, r_km, clamp: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Linear interpolation among stored radii (any order): indices j0, j1 into them and the weight
    of j1 at each r_km, clamped to the stored range (or, without ``clamp``, extrapolating from the
    nearest two radii)."""
    r = np.asarray(r_km, dtype=float)
    order = np.argsort(stored_r_km)
    radii = stored_r_km[order]
    if len(radii) == 1:
        j = np.full(r.shape, order[0])
        return j, j, np.zeros(r.shape)
    k = np.clip(np.searchsorted(radii, r) - 1, 0, len(radii) - 2)
    w = (r - radii[k]) / (radii[k + 1] - radii[k])
    return order[k], order[k + 1], (np.clip(w, 0.0, 1.0) if clamp else w)


@dataclass(frozen=True)
class Solution:
    """Speeds v (M, L, T, S) km/s at times t_s (T,), longitudes lon_rad (L,), radii r_km (S,)."""

    v: np.ndarray
    t_s: np.ndarray
    lon_rad: np.ndarray
    r_km: np.ndarray

    def at(self, lon_deg: float, r_km: float) -> np.ndarray:
        """Speed (M, T) at a fixed Earth-relative longitude (deg) and distance (km), linear in both
        (in longitude only when the lines cover the circle evenly).

        With a single stored radius, ``r_km`` must lie within a grid step of it."""
        lon = math.radians(lon_deg) % (2 * np.pi)
        n = len(self.lon_rad)
        if np.allclose(self.lon_rad, np.arange(n) * 2 * np.pi / n):
            f = lon / (2 * np.pi) * n
            i0, w = int(np.floor(f)) % n, f - np.floor(f)
        else:                      # lines run at chosen longitudes: no interpolation between them
            offset = np.abs(wrap_radians(self.lon_rad - lon))
            i0, w = int(np.argmin(offset)), 0.0
            if offset[i0] > 1e-6:
                raise ValueError(f"no model line at longitude {lon_deg:.2f} deg; run solve() with it in longitudes_deg")
        i1 = (i0 + 1) % n
        if len(self.r_km) == 1 and abs(r_km - self.r_km[0]) > 1.5 * R_SUN_KM:
            raise ValueError(f"speeds were stored at r = {self.r_km[0] / AU_KM:.4f} au only; "
                             f"pass store_r_km=[{r_km:.6g}] to solve()")
        j0, j1, g = radial_bracket(self.r_km, r_km, clamp=False)
        radial = (1 - g) * self.v[..., int(j0)] + g * self.v[..., int(j1)]
        return (1 - w) * radial[:, i0] + w * radial[:, i1]


def solve(boundary_speed, *, duration_s: float, grid: Grid = model_grid(), cmes=(), cme_speeds=None,
          output_every_s: float = 3600.0, store_r_km=None, residual_acceleration: bool = True,
          period_s: float = SYNODIC_PERIOD_S, boundary_times_s=None, longitudes_deg=None, lines=None) -> Solution:
    """Run the model for ``duration_s`` after a spin-up.

    ``boundary_speed``: (K,) or (M, K) km/s, the inner-boundary speed at t = 0 on K evenly spaced
    Earth-relative longitudes from 0 (M ensemble members). The boundary turns with the Sun:
    v_b(lon, t) = boundary_speed(lon - 2 pi t / period). With ``boundary_times_s`` (E,) the maps
    evolve: boundary_speed is (E, K) or (M, E, K), one map per epoch, linear in time between
    epochs and held beyond them. CMEs override the boundary where they thread it; ``cme_speeds``
    (M, len(cmes)) gives each member its own CME speeds (an ensemble over speed uncertainty).

    The model runs the radial lines at ``longitudes_deg`` (Earth-relative; default: the K map
    longitudes). Lines are independent, so a forecast for one target needs only its own line;
    ``lines`` (indices into those longitudes) marches only the ones given and leaves the others
    NaN, the same numbers for a fraction of the work. Speeds (float32) are stored every
    ``output_every_s`` at radii ``store_r_km`` (default: every grid radius).

    >>> s = solve(np.full(8, 400.0), duration_s=DAY_S, store_r_km=[AU_KM])
    >>> float(s.r_km[0] / R_SUN_KM)        # the grid radius nearest 1 au
    214.5
    >>> round(float(s.v[0, 0, -1, 0]))      # steady: 400 (1 + 0.15 (1 - exp(-184.5/50))) = 458.5
    458
    """
    vb = np.asarray(boundary_speed, dtype=float)
    if boundary_times_s is None:
        vb = np.atleast_2d(vb)[:, None, :]
        epochs = np.zeros(1)
    else:
        epochs = np.atleast_1d(np.asarray(boundary_times_s, dtype=float))
        vb = vb[None] if vb.ndim == 2 else vb
        if vb.ndim != 3 or vb.shape[1] != len(epochs):
            raise ValueError(f"boundary_speed must be (E, K) or (M, E, K) with E = {len(epochs)} epochs, "
                             f"got shape {np.shape(boundary_speed)}")
        if np.any(np.diff(epochs) <= 0):
            raise ValueError("boundary_times_s must increase")
    if np.any(~np.isfinite(vb)) or np.any(vb <= 0):
        raise ValueError("boundary speeds must be finite and positive (km/s)")
    v_max = grid.dr_km / grid.dt_s
    top = max([vb.max()] + [c.v_kms for c in cmes] + ([float(np.max(cme_speeds))] if cme_speeds is not None else []))
    if top >= v_max:
        raise ValueError(f"speeds must stay below the CFL limit v_max = {v_max:.0f} km/s of the grid")
    if duration_s <= 0:
        raise ValueError(f"duration_s must be positive, got {duration_s}")
    if cme_speeds is not None:
        if not cmes:
            raise ValueError("cme_speeds given without cmes")
        cme_speeds = np.asarray(cme_speeds, dtype=float).reshape(-1, len(cmes))
        if vb.shape[0] == 1:
            vb = np.repeat(vb, cme_speeds.shape[0], axis=0)  # one map, an ensemble of CME speeds
    m, n_map = vb.shape[0], vb.shape[2]
    lon = (np.arange(n_map) * 2 * np.pi / n_map if longitudes_deg is None
           else np.radians(np.atleast_1d(np.asarray(longitudes_deg, dtype=float))) % (2 * np.pi))
    rrel = grid.r_km - grid.r_km[0]
    # Spin-up: 1.5 transit times of the slowest wind (as HUXt), so t = 0 starts from a settled state.
    spinup = 1.5 * rrel[-1] / vb.min()
    n_spin = int(math.ceil(spinup / grid.dt_s))
    n_steps = n_spin + int(math.floor(duration_s / grid.dt_s)) + 1
    t = (np.arange(n_steps) - n_spin) * grid.dt_s
    # Where each line sits on the boundary map at each step, in map cells; where each step sits among the epochs.
    marched = np.arange(len(lon)) if lines is None else np.unique(np.asarray(lines, dtype=np.int64))
    if len(marched) and (marched[0] < 0 or marched[-1] >= len(lon)):
        raise ValueError(f"lines must index the {len(lon)} model lines, got {marched[0]}..{marched[-1]}")
    shift = np.ascontiguousarray(((lon[marched][:, None] - 2 * np.pi * t[None, :] / period_s) % (2 * np.pi))
                                 / (2 * np.pi) * n_map)
    epoch = np.interp(t, epochs, np.arange(len(epochs), dtype=float))
    cme_index = np.full((len(marched), n_steps), -1, dtype=np.int64)
    for c, cme in enumerate(cmes):   # only the steps while the CME threads the boundary
        lo, hi = np.searchsorted(t, [cme.t_launch_s, cme.t_launch_s + cme.duration_s])
        window = cme_index[:, lo:hi + 1]
        window[cme.mask(lon[marched], t[lo:hi + 1], grid.r_km[0])] = c
    speeds = np.array([[c.v_kms for c in cmes]] * m, dtype=float).reshape(m, len(cmes)) if cmes else np.zeros((m, 1))
    if cme_speeds is not None:
        speeds = np.broadcast_to(cme_speeds, (m, len(cmes))).copy()
    store_r = grid.r_km if store_r_km is None else np.asarray(store_r_km, dtype=float)
    store_idx = np.array([int(np.argmin(np.abs(grid.r_km - r))) for r in np.atleast_1d(store_r)], dtype=np.int64)
    every = max(1, int(round(output_every_s / grid.dt_s)))
    n_out = (n_steps - n_spin - 1) // every + 1
    out = np.empty((m, len(lon), n_out, len(store_idx)), dtype=np.float32)
    out[:, np.setdiff1d(np.arange(len(lon)), marched)] = np.nan
    alpha = ALPHA if residual_acceleration else 0.0
    dtdr = grid.dt_s / grid.dr_km
    e = np.exp(-rrel / R_ACCEL_KM)
    accel = np.zeros_like(rrel)
    accel[1:] = dtdr * alpha * (e[:-1] - e[1:]) / (1.0 + alpha * (1.0 - e[:-1]))
    _march(np.ascontiguousarray(vb), shift, epoch, cme_index, speeds, dtdr, accel, n_spin, every, store_idx,
           float(vb.mean()), marched, out)
    return Solution(out, np.arange(n_out) * every * grid.dt_s, lon, grid.r_km[store_idx])

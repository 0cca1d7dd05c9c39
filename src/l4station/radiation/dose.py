"""Dose to a crew member's organs from a proton event behind aluminium shielding.

Transport: straight ahead in the continuous-slowing-down approximation
(:mod:`l4station.radiation.transport`), primaries only.
- **Shielding:** a spherical aluminium shell of the given areal density around the crew member,
  crossed radially from every direction.
- **The body:** the ICRU sphere (30 cm of tissue-like water, ICRU Report 39). Skin and eye lens
  are points at their depths below the surface: skin 0.007 g/cm^2 (the basal layer, ICRP 103),
  eye lens 0.3 g/cm^2 (ICRP 103, Hp(3)). The blood-forming organs are the active marrow, spread
  over the skeleton as Cristy (1981, Phys. Med. Biol. 26, 389; adult) shares it, each bone site a
  point at a typical depth below the nearest skin (assumed, 0.8 g/cm^2 for the cranium to
  6 g/cm^2 for the lumbar spine; mean 3.8 g/cm^2): the BFO dose is the marrow-weighted mean.
- **Self-shielding:** from direction theta off the outward normal, the path to a point at radius
  r through the body is sqrt(R^2 - r^2 sin^2 theta) - r cos theta. So half the sky reaches it
  through more than its depth, up to the whole body.

Dose (Gy) is the fluence times the water stopping power of what is left of each proton. The
mean over directions is exact for the sphere: the share of directions with path under p is
G(p) = (1 - (R^2 - r^2 - p^2) / (2 r p)) / 2, and over the path that slows a proton from E'
to E' - dE' the stopping power averages dE'/dR (CSDA range R), so no Bragg peak is sampled.
The dose-equivalent uses the proton RBE of 1.5 (NASA-STD-3001 Vol. 1, Gy-Eq). Crew scenarios
state their areal densities. Limits are from NASA-STD-3001 Vol. 1 Rev. B (2022), the 30-day
ones as NCRP Report 132 (2000) set them: 30-day BFO 250 mGy-Eq, eye lens 1000 mGy-Eq, skin
1500 mGy-Eq; career 600 mSv effective dose. The effective dose of an event is taken as the BFO's
absorbed dose times the protons' radiation weighting factor 2 (ICRP 103): the BFO stand for the
body's average, as NASA's SPE assessments use them (an estimate; the organ-weighted sum needs a
full phantom).

**Against published figures.** Wilson et al. (NASA, NTRS 20040100724, "Biological response to
SPE exposures") give the August 1972 event's BFO dose, computed with BRYNTRN and the CAM body,
as 1.6 Gy in a space suit, 1.3 Gy in a pressure vessel and 0.5 Gy in an equipment room. With
King's spectrum this model gives 2.0, 1.6 and 0.52 Gy behind 0.3, 1 and 5 g/cm^2 of aluminium
(thicknesses assumed here; the source gives none): 1.04 to 1.27 times theirs. A single BFO
point 5 g/cm^2 deep in the same sphere gives 0.82, 0.69 and 0.29 Gy (half the marrow is nearer
the skin than that), and the whole body 5 g/cm^2 thick in every direction 2.8, 2.3 and 0.85 Gy.
No HZETRN or OLTARIS figure for this event behind a stated aluminium thickness could be opened
here (Townsend et al. 1991, Radiat. Res. 126, 108, tabulate BRYNTRN skin, lens and marrow doses
behind aluminium). Published doses for "August 1972" also differ by their normalisation: King
puts 7.9e9 protons cm^-2 above 30 MeV, Shea and Smart's 5.0e9 (as Kim and Cucinotta use it) is
1.6 times less.
What it leaves out:
- the secondary protons and neutrons of nuclear reactions in the shield and the body, which
  BRYNTRN and HZETRN transport (here those reactions only remove primaries: a few percent of
  the BFO dose behind thin shields, more behind thick ones), and the target fragments;
- heavy ions, which matter under thin shields in events rich in them;
- the body's real shape: a head or an arm is thinner than the 30 cm sphere behind it.

>>> from l4station.radiation import spectra
>>> doses(spectra.event("king1972"), [0.3, 1.0, 5.0]).bfo_gy.round(2).tolist()
[2.03, 1.58, 0.52]

Behind 10 g/cm^2 of aluminium, the August 1972 event (King 1974) gives the blood-forming
organs about 0.18 Gy:

>>> round(float(doses(spectra.event("king1972"), [10.0]).bfo_gy[0]), 2)
0.18
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from astropy import units as _u

from l4station.errors import InputError
from l4station.radiation import checks, transport
from l4station.radiation.spectra import CHANNELS_MEV, Spectrum

MEV_PER_G_TO_GY = float((_u.MeV / _u.g).to(_u.Gy))   # 1 MeV/g = 1.602e-13 J / 1e-3 kg
PROTON_RBE = 1.5                          # NASA-STD-3001 Vol. 1: Gy-Eq for protons
BODY_RADIUS_GCM2 = 15.0                   # ICRU sphere, 30 cm diameter, 1 g/cm^3
MARROW_SITES = (                          # (bone, share of adult active marrow (Cristy 1981), depth g/cm^2 assumed)
    ("cranium", 0.076, 0.8), ("mandible", 0.008, 1.0), ("scapulae", 0.028, 2.0), ("clavicles", 0.008, 1.0),
    ("sternum", 0.031, 1.5), ("ribs", 0.161, 2.0), ("cervical vertebrae", 0.039, 5.0),
    ("thoracic vertebrae", 0.161, 5.0), ("lumbar vertebrae", 0.123, 6.0), ("sacrum", 0.099, 5.0),
    ("os coxae", 0.175, 4.0), ("femora, upper", 0.067, 5.0), ("humeri, upper", 0.023, 3.0),
)
ORGAN_POINTS = {"skin": ((1.0, 0.007),), "lens": ((1.0, 0.3),),
                "bfo": tuple((share, depth) for _, share, depth in MARROW_SITES)}
"""Each organ as (share of its mass, depth below the body's surface in g/cm^2) points."""
LIMIT_BFO_30DAY_MGY_EQ = 250.0            # NASA-STD-3001 Vol. 1 Rev. B, 30-day BFO
LIMIT_LENS_30DAY_MGY_EQ = 1000.0          # NASA-STD-3001 Vol. 1 Rev. B / NCRP Report 132, 30-day eye lens
LIMIT_SKIN_30DAY_MGY_EQ = 1500.0          # NASA-STD-3001 Vol. 1 Rev. B / NCRP Report 132, 30-day skin
LIMIT_CAREER_MSV = 600.0                  # NASA-STD-3001 Vol. 1 Rev. B, career effective dose
PROTON_WEIGHTING = 2.0                    # ICRP 103 radiation weighting factor of protons (Sv/Gy)
KERNEL_MEV = np.geomspace(transport.TABLE_MEV[0], transport.TABLE_MEV[1], 1200)
"""Energies (MeV) protons reach the body with, on which every organ kernel and dose sum is made."""


@dataclass(frozen=True)
class Scenario:
    """Where a crew member is during the event: the aluminium-equivalent shield around them and
    the share of the sky open to the event (the Moon blocks half of it on its surface)."""

    name: str
    shield_gcm2: float
    sky_fraction: float
    source: str

    def __post_init__(self):
        checks.checked(self.shield_gcm2, f"scenario {self.name!r}: shield", "g/cm^2", 0.0, scalar=True)
        checks.checked(self.sky_fraction, f"scenario {self.name!r}: share of the sky open", "", 0.0, 1.0, scalar=True)


SCENARIOS = (
    Scenario("lunar-surface EVA suit", 0.3, 0.5, "assumed: a suit of ~0.3 g/cm^2; the Moon blocks half the sky"),
    Scenario("Orion-class cabin", 5.0, 1.0, "assumed: ~5 g/cm^2 cabin average; free space"),
    Scenario("storm shelter", 20.0, 1.0, "assumed: ~20 g/cm^2 of stowage and water around the crew; free space"),
    Scenario("lunar-surface habitat", 10.0, 0.5, "assumed: ~10 g/cm^2 habitat wall; the Moon blocks half the sky"),
)
"""Crew scenarios. Their areal densities are assumptions stated here, not values from a cited
vehicle; give others to :func:`scenarios`."""


def path_share_below(path_gcm2, depth_gcm2: float) -> np.ndarray:
    """Share of directions from a point ``depth_gcm2`` below the body's surface whose path
    through the body to the surface is under ``path_gcm2``: from |r + p u| = R,
    cos theta = (R^2 - r^2 - p^2) / (2 r p), so the share is 1/2 - (R^2 - r^2) / (4 r p) + p / (4 r)."""
    p = np.maximum(path_gcm2, 1e-300)
    return _share_below(p, 1 / p, depth_gcm2)


def _share_below(p: np.ndarray, inverse_p: np.ndarray, depth_gcm2: float) -> np.ndarray:
    r = BODY_RADIUS_GCM2 - depth_gcm2
    return np.clip(0.5 - (BODY_RADIUS_GCM2 ** 2 - r ** 2) / (4 * r) * inverse_p + p / (4 * r), 0.0, 1.0)


@functools.cache
def _kernel(points: tuple[tuple[float, float], ...]) -> np.ndarray:
    """Dose per unit fluence at the body's surface (MeV cm^2/g) of a proton arriving at the body
    with each energy of :data:`KERNEL_MEV`, averaged over directions and the organ's ``points``
    ((share, depth g/cm^2), :data:`ORGAN_POINTS`). Summed over the
    residual energy E' the proton has on reaching the organ: the directions whose path lies
    between R(E) - R(E'_j) and R(E) - R(E'_j+1) see the mean stopping power dE'/dR of that cell."""
    path, inverse, survive, mean_stopping = _residual_cells()
    below = sum(weight * _share_below(path, inverse, depth) for weight, depth in points)
    return ((below[:, :-1] - below[:, 1:]) * survive) @ mean_stopping


@functools.cache
def _residual_cells() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """What every organ's kernel shares, on :data:`KERNEL_MEV` (E) and its residual energies
    (E'): the path (g/cm^2 of water) that slows E to each E', its inverse, the primaries
    surviving over each residual-energy cell (0 for cells the proton never reaches) and the
    cells' mean stopping power dE'/dR (MeV cm^2/g)."""
    energy = KERNEL_MEV
    reach = transport.range_of(energy, "water")
    path = np.maximum(reach[:, None] - reach[None, :], 1e-300)      # (E, E'): path that leaves E'
    inside = reach[:, None] >= reach[None, 1:]                       # E'_j+1 <= E: the cell is reached
    survive = np.where(inside, transport.survival((path[:, :-1] + path[:, 1:]) / 2, "water"), 0.0)
    return path, 1 / path, survive, np.diff(energy) / np.diff(reach)


@dataclass(frozen=True)
class Doses:
    """Organ doses (Gy) behind each shield thickness (g/cm^2 of aluminium), whole sky open."""

    shield_gcm2: np.ndarray
    skin_gy: np.ndarray
    lens_gy: np.ndarray
    bfo_gy: np.ndarray

    @property
    def bfo_gy_eq(self) -> np.ndarray:
        return PROTON_RBE * self.bfo_gy

    def to_json(self) -> list[dict]:
        return [{"shield_gcm2": float(t), "skin_gy": float(s), "lens_gy": float(l), "bfo_gy": float(b),
                 "bfo_gy_eq": float(PROTON_RBE * b)}
                for t, s, l, b in zip(self.shield_gcm2, self.skin_gy, self.lens_gy, self.bfo_gy)]


def doses(spectrum: Spectrum, shield_gcm2) -> Doses:
    """Skin, lens and BFO dose (Gy) from ``spectrum`` behind each aluminium thickness (g/cm^2).

    The sum is made over the energy protons reach the body with, on the organ kernels' grid:
    behind thickness t the fluence is phi(E0) S_Al(E0) / S_Al(E), E0 the energy whose range is
    t more than E's (CSDA), so a proton stopping in the shield is never half-counted."""
    if not isinstance(spectrum, Spectrum):
        raise InputError(f"doses are of a Spectrum (l4station.radiation.spectra), got {checks.brief(spectrum)}")
    shield = np.atleast_1d(checks.real_numbers(shield_gcm2, "shield thickness (g/cm^2)")) + 0.0  # -0 as 0
    if shield.ndim != 1:
        raise InputError(f"shield thicknesses must be one list of g/cm^2, got shape {shield.shape}")
    if np.any(~np.isfinite(shield) | (shield < 0)):
        bad = shield[~np.isfinite(shield) | (shield < 0)][0]
        raise InputError(f"shield thickness {checks.shown(bad)} g/cm^2 must be finite and zero or more")
    energy = KERNEL_MEV
    before = transport.energy_for_range(transport.range_of(energy, "aluminum")[None, :] + shield[:, None],
                                        "aluminum")                                             # (T, E)
    with np.errstate(invalid="ignore", divide="ignore"):
        behind = spectrum.at(before) * transport.stopping_of(before, "aluminum") / transport.stopping_of(energy, "aluminum")
    behind = np.where(np.isfinite(before), behind, 0.0) * transport.survival(shield, "aluminum")[:, None]
    weights = np.diff(energy)                             # the trapezoid rule as one product per organ
    trapezoid = np.concatenate([[weights[0]], weights[1:] + weights[:-1], [weights[-1]]]) / 2
    out = {organ: behind @ (trapezoid * _kernel(points)) * MEV_PER_G_TO_GY for organ, points in ORGAN_POINTS.items()}
    return Doses(shield, out["skin"], out["lens"], out["bfo"])


def scenarios(spectrum: Spectrum, chosen=SCENARIOS) -> list[dict]:
    """Each crew scenario's BFO, eye-lens and skin dose (mGy-Eq) and their shares of the 30-day
    limits (``fraction_of_30day_limit`` is the BFO's), and its effective dose (mSv) and share of
    the career limit."""
    rows = []
    for s in chosen:
        d = doses(spectrum, [s.shield_gcm2])
        bfo_gy, lens_gy, skin_gy = (float(gy[0]) * s.sky_fraction for gy in (d.bfo_gy, d.lens_gy, d.skin_gy))
        bfo, lens, skin = (PROTON_RBE * gy * 1000.0 for gy in (bfo_gy, lens_gy, skin_gy))
        effective = PROTON_WEIGHTING * bfo_gy * 1000.0
        rows.append({"name": s.name, "shield_gcm2": s.shield_gcm2,
                     "bfo_mgy_eq": bfo, "fraction_of_30day_limit": bfo / LIMIT_BFO_30DAY_MGY_EQ,
                     "lens_mgy_eq": lens, "fraction_of_30day_lens_limit": lens / LIMIT_LENS_30DAY_MGY_EQ,
                     "skin_mgy_eq": skin, "fraction_of_30day_skin_limit": skin / LIMIT_SKIN_30DAY_MGY_EQ,
                     "effective_msv": effective, "fraction_of_career_limit": effective / LIMIT_CAREER_MSV})
    return rows


_SHARES = (("bfo_mgy_eq", "fraction_of_30day_limit"), ("lens_mgy_eq", "fraction_of_30day_lens_limit"),
           ("skin_mgy_eq", "fraction_of_30day_skin_limit"), ("effective_msv", "fraction_of_career_limit"))
"""Each dose of a scenario row and its share of its limit, as the table shows them."""


@dataclass(frozen=True)
class Assessment:
    """An event behind a set of shields and in each crew scenario (``l4station radiation``)."""

    spectrum: Spectrum
    doses: Doses
    scenarios: list[dict]

    def to_json(self) -> dict:
        return {**self.spectrum.to_json(), "doses": self.doses.to_json(), "scenarios": self.scenarios}

    def __rich__(self):
        from l4station import tables
        fluence = self.spectrum.to_json()["fluence_cm2"]
        return tables.group(
            f"{self.spectrum.name}: fluence " + ", ".join(f"{k} MeV {v:.3g} cm⁻²" for k, v in fluence.items()),
            tables.table("Organ dose behind aluminium (straight ahead, primaries only)",
                         ["Shield (g/cm²)", "Skin (Gy)", "Lens (Gy)", "BFO (Gy)", "BFO (Gy-Eq)"],
                         [[f"{r['shield_gcm2']:g}", f"{r['skin_gy']:.3g}", f"{r['lens_gy']:.3g}", f"{r['bfo_gy']:.3g}",
                           f"{r['bfo_gy_eq']:.3g}"] for r in self.doses.to_json()]),
            tables.table(f"Crew scenarios against the 30-day limits (BFO {LIMIT_BFO_30DAY_MGY_EQ:g}, eye lens "
                         f"{LIMIT_LENS_30DAY_MGY_EQ:g}, skin {LIMIT_SKIN_30DAY_MGY_EQ:g} mGy-Eq) and the career "
                         f"limit ({LIMIT_CAREER_MSV:g} mSv effective): dose (share of the limit)",
                         ["Scenario", "Shield (g/cm²)", "BFO (mGy-Eq)", "Lens (mGy-Eq)", "Skin (mGy-Eq)",
                          "Effective (mSv)"],
                         [[s["name"], f"{s['shield_gcm2']:g}",
                           *(f"{s[key]:.1f} ({s[share]:.0%})" for key, share in _SHARES)] for s in self.scenarios]))


def assess(spectrum: Spectrum, shield_gcm2) -> Assessment:
    """Organ doses from ``spectrum`` behind each thickness, and the crew scenarios."""
    return Assessment(spectrum, doses(spectrum, shield_gcm2), scenarios(spectrum))


STATION_CHANNELS = ("p1", "p5", "p10", "p30", "p50", "p100")
"""The station's integral proton channels in its telemetry (>= 1, 5, 10, 30, 50, 100 MeV)."""
STATION_CHANNELS_MEV = CHANNELS_MEV

CHANNEL_SHAPE_INDEX = 3.0
"""Within each integral channel's bin the differential flux is taken as E^-3 (an integral index of
2, typical of SEP events between 10 and 100 MeV). Above the last channel, to 10 GeV, it follows
the integral index the last two channels show (1 to 10). That power-law tail is harder than an
event's exponential fall: from King's August 1972 spectrum sampled at the channels, the BFO dose
behind 20 g/cm^2 comes out 2.9 times the spectrum's own (behind 5 g/cm^2 0.95 times), on
the safe side for a shelter."""

TAIL_INDICES = np.linspace(1.0, 10.0, 37)


def _bin_dose(low: float, high: float, index: float, shield_gcm2: float) -> float:
    e = np.geomspace(low, high, 200)
    shape = e ** -index
    return doses(Spectrum("bin", e, shape / np.trapezoid(shape, e)), [shield_gcm2]).bfo_gy[0]


@functools.cache
def channel_response(channels_mev: tuple[float, ...], shield_gcm2: float) -> tuple[np.ndarray, np.ndarray]:
    """BFO dose (Gy) per proton cm^-2 in each bin [E_i, E_i+1) of integral channels ``channels_mev``
    behind ``shield_gcm2`` of aluminium, whole sky open, and in the open last bin for each integral
    index of :data:`TAIL_INDICES`. The dose of integral fluences Phi(>E_i) is
    sum_i (Phi(>E_i) - Phi(>E_i+1)) R_i."""
    inner = np.array([_bin_dose(low, high, CHANNEL_SHAPE_INDEX, shield_gcm2)
                      for low, high in zip(channels_mev[:-1], channels_mev[1:])])
    tail = np.array([_bin_dose(channels_mev[-1], transport.SPAN_MEV[1], g + 1.0, shield_gcm2) for g in TAIL_INDICES])
    return inner, tail


def station_flux(columns: dict[str, np.ndarray]) -> np.ndarray:
    """The station's integral proton channels (pfu) of archived particle columns, shape (N, 6)."""
    return np.stack([np.asarray(columns[c], dtype=float) for c in STATION_CHANNELS], axis=-1)


QUALITY_BAD = 2
"""A particle reading's quality flag at or above this is bad (telemetry: 0 good, 1 degraded, 2 bad)."""


def reading_rates(particles: dict[str, np.ndarray], scenario: Scenario) -> np.ndarray:
    """The dose rate (mGy-Eq/h) ``scenario`` sees at each archived particle reading (``t_us``, the
    station's channels and, if given, ``quality``), as the running dose and the shelter advisory
    count it: a reading with no channel, or flagged bad, holds the last good rate (0 before any),
    so a data gap or a flagged stretch neither ends an advisory nor drops the dose it stood for."""
    t = np.asarray(particles["t_us"])
    rate = dose_rate(STATION_CHANNELS_MEV, station_flux(particles), scenario)
    quality = np.asarray(particles.get("quality", np.zeros(len(t))), dtype=float)
    good = np.where(np.isfinite(rate) & ~(quality >= QUALITY_BAD), np.arange(len(t)), -1)
    last = np.maximum.accumulate(good) if len(t) else good
    return np.where(last >= 0, rate[np.maximum(last, 0)], 0.0)


def reading_hours(t_us: np.ndarray, cadence_s: float) -> np.ndarray:
    """Hours each reading's dose rate covers: to the next reading, at most ``cadence_s`` (a gap in
    the data adds no dose)."""
    t = np.asarray(t_us, dtype=np.int64)
    cadence_us = int(cadence_s * 1e6)
    if not len(t):
        return np.zeros(0)
    return np.minimum(np.diff(t, append=t[-1] + cadence_us), cadence_us) / 3.6e9


def filled_channels(flux_pfu) -> np.ndarray:
    """Integral proton fluxes (pfu, shape (..., channels) from the lowest energy up) as the dose
    reads them, always on the safe side: a missing channel (NaN, inf, negative) takes the value
    of the channel below it (the one above it for the lowest), and a channel below one above it
    (a dead, stuck or saturated detector, or counting noise) is raised to it, since an integral
    spectrum never rises. NaN only where every channel is missing.

    >>> filled_channels([[0.0001, 1e4, np.nan, 300, 100, 30]]).tolist()
    [[10000.0, 10000.0, 10000.0, 300.0, 100.0, 30.0]]
    """
    flux = np.array(flux_pfu, dtype=float)
    flux = np.where(np.isfinite(flux) & (flux >= 0), flux, np.nan)
    for k in range(1, flux.shape[-1]):                                   # from below: an upper bound
        flux[..., k] = np.where(np.isnan(flux[..., k]), flux[..., k - 1], flux[..., k])
    for k in range(flux.shape[-1] - 2, -1, -1):                          # the lowest ones from above
        flux[..., k] = np.where(np.isnan(flux[..., k]), flux[..., k + 1], flux[..., k])
    return np.fmax.accumulate(flux[..., ::-1], axis=-1)[..., ::-1]       # each at least every one above it


def dose_rate(channels_mev, flux_pfu, scenario: Scenario) -> np.ndarray:
    """BFO dose-equivalent rate (mGy-Eq/h) in ``scenario`` from integral proton fluxes (pfu,
    cm^-2 s^-1 sr^-1, isotropic), shape (..., channels), as :func:`filled_channels` reads them."""
    energy = tuple(checks.checked(channels_mev, "channel energy", "MeV", *transport.SPAN_MEV).ravel().tolist())
    given = np.shape(flux_pfu)[-1] if np.ndim(flux_pfu) else 0
    if len(energy) < 2 or given != len(energy) or any(b <= a for a, b in zip(energy, energy[1:])) \
            or energy[-1] >= transport.SPAN_MEV[1]:
        raise InputError(f"{len(energy)} channel energies {energy} must rise below {transport.SPAN_MEV[1]:g} MeV, at "
                         f"least two, one for each of the {given} fluxes given per reading")
    flux = 4 * np.pi * filled_channels(flux_pfu)                         # omnidirectional, cm^-2 s^-1
    inner, tail = channel_response(energy, scenario.shield_gcm2)
    with np.errstate(divide="ignore", invalid="ignore"):
        index = np.log(flux[..., -2] / flux[..., -1]) / np.log(energy[-1] / energy[-2])
    last = np.interp(np.clip(np.nan_to_num(index, nan=TAIL_INDICES[-1]), TAIL_INDICES[0], TAIL_INDICES[-1]),
                     TAIL_INDICES, tail)
    gy_per_s = (flux[..., :-1] - flux[..., 1:]) @ inner + flux[..., -1] * last
    return gy_per_s * PROTON_RBE * scenario.sky_fraction * 3.6e6

"""Solar proton event spectra: omnidirectional event fluence as a function of energy.

A :class:`Spectrum` is the differential fluence dPhi/dE (protons cm^-2 MeV^-1) on a log energy grid.
It is built from one of these forms:

- **Band form** in rigidity (Band et al. 1993, as fitted to SEP events by Tylka & Dietrich 2009):
  dJ/dR = C R^-ga exp(-R/R0) for R <= Rb = (gb - ga) R0, and
  C R^-gb [(gb - ga) R0]^(gb - ga) exp(ga - gb) above (R in GV, C per sr; times 4 pi for an
  isotropic omnidirectional fluence).
- **Exponential in energy.**
- **Power law.**
- **Fitted to measured integral channels** (>=E_i fluences, the station's >=1/5/10/30/50/100 MeV).
- **Any file** of energy/integral-fluence pairs.

Reference events (:data:`EVENTS`):

- ``king1972``: August 1972 as King (1974, J. Spacecraft 11, 401),
  Phi(>E) = 7.9e9 exp((30 - E)/26.5) cm^-2.
- ``sapphire-1in10``, ``sapphire-1in100``, ``sapphire-1in1000``: the SAPPHIRE design events as
  Band fits with gb = 5.7 (Jiggens et al. 2018, JSWSC 8, A31, Table 8): the event-integrated
  fluence columns (the peak-flux columns have gb = 5.25). The paper could not be opened here; the
  values match Table 8 as reproduced in an open implementation
  (github.com/drflei/sapphire-event-spectra). C is read as a differential fluence in rigidity:
  the 1-in-100-year event then has 2.1e10 protons cm^-2 above 10 MeV, beside King's 1.7e10 for
  August 1972; read as an integral, it would have 3.7e11, twenty times the largest event measured.

King's August 1972 spectrum puts 7.9e9 protons cm^-2 above 30 MeV:

>>> f"{float(event('king1972').integral(30.0)):.3g}"
'7.9e+09'
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from l4station import textfiles
from l4station.errors import InputError, plain_number
from l4station.radiation.checks import real_numbers, shown
from l4station.radiation.transport import PROTON_MEV, SPAN_MEV

GRID_MEV = np.geomspace(1.0, 1e4, 400)
"""Energies the spectra are tabulated on (MeV): 1 MeV to 10 GeV, 400 log steps."""

CHANNELS_MEV = (1.0, 5.0, 10.0, 30.0, 50.0, 100.0)
"""The station's integral proton channels (>= E MeV)."""

MAX_FLUENCE_CM2 = 1e15
"""Most protons cm^-2 a spectrum may hold above its lowest energy: a Carrington-class event holds
~1e10 above 30 MeV (Cliver & Dietrich 2013, JSWSC 3, A31, for 1859), so more is a mistake of
units or exponent."""

_TOO_MANY = (f"is more than {MAX_FLUENCE_CM2:g} (a Carrington-class event holds ~1e10 above 30 MeV); check the "
             "units and exponents")

MAX_FILE_BYTES = 10_000_000
"""Largest spectrum file read (10 MB: ~500,000 rows)."""

def rigidity_gv(energy_mev) -> np.ndarray:
    """Rigidity (GV) of protons of kinetic energy ``energy_mev``: pc / e."""
    e = np.asarray(energy_mev, dtype=float)
    return np.sqrt(e * (e + 2 * PROTON_MEV)) / 1000.0


@dataclass(frozen=True)
class Spectrum:
    """An event's omnidirectional differential fluence ``fluence`` (cm^-2 MeV^-1) at ``energy_mev``,
    at most :data:`MAX_FLUENCE_CM2` protons cm^-2 in all."""

    name: str
    energy_mev: np.ndarray
    fluence: np.ndarray

    def __post_init__(self):
        e, f = np.array(self.energy_mev, dtype=float), np.array(self.fluence, dtype=float)
        for field_name, values in (("energy_mev", e), ("fluence", f)):    # its own read-only copies
            values.flags.writeable = False
            object.__setattr__(self, field_name, values)
        if e.ndim != 1 or e.shape != f.shape or e.size < 2:
            raise InputError(f"{self.name}: energies and fluences must be two matching lists of two or more")
        if np.any(np.diff(e) < 0) or not np.all(np.isfinite(e)) or e[0] <= 0:
            raise InputError(f"{self.name}: energies must be positive, finite and increasing")
        bad = ~(np.isfinite(f) & (f >= 0))
        if np.any(bad):
            i = int(np.argmax(bad))
            raise InputError(f"{self.name}: differential fluences must be finite and zero or more, got {shown(f[i])} "
                             f"cm^-2 MeV^-1 at {shown(e[i])} MeV")
        with np.errstate(over="ignore"):
            total = float(self.integral(e[0]))
        if not total <= MAX_FLUENCE_CM2:
            text = f"{total:.3g}" if float(f"{total:.3g}") > MAX_FLUENCE_CM2 else shown(total)
            raise InputError(f"{self.name}: the integral fluence above {shown(e[0])} MeV, {text} cm^-2, " + _TOO_MANY)

    def at(self, energy_mev) -> np.ndarray:
        """dPhi/dE (cm^-2 MeV^-1) at ``energy_mev`` (log-log between nodes; 0 outside the spectrum)."""
        e = np.asarray(energy_mev, dtype=float)
        inside = (e >= self.energy_mev[0]) & (e <= self.energy_mev[-1])
        with np.errstate(divide="ignore", invalid="ignore"):
            log_f = np.interp(np.log(np.where(inside, e, self.energy_mev[0])), np.log(self.energy_mev),
                              np.log(self.fluence))
        return np.where(inside, np.exp(log_f), 0.0)

    def integral(self, above_mev) -> np.ndarray:
        """Integral fluence (cm^-2) above ``above_mev`` (broadcasts): the trapezoid in log-log,
        exact for a power law between grid nodes."""
        e, f = self.energy_mev, self.fluence
        # each interval's exact integral of the local power law f = f0 (E/E0)^k, summed from the
        # top down (a steep spectrum's high channels are not the difference of two large sums)
        pieces = _power_law_integral(e[:-1], e[1:], f[:-1], f[1:])
        beyond = np.concatenate([np.cumsum(pieces[::-1])[::-1], [0.0]])     # beyond[i]: from e[i] up
        x = np.clip(np.asarray(above_mev, dtype=float), e[0], e[-1])
        i = np.clip(np.searchsorted(e, x, side="right") - 1, 0, len(e) - 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            k = np.log(f[i + 1] / f[i]) / np.log(e[i + 1] / e[i])
            fx = np.where(x > e[i], f[i] * (x / e[i]) ** k, f[i])
        fx = np.where(np.isfinite(fx), fx, 0.0)
        return beyond[i + 1] + _power_law_integral(x, e[i + 1], fx, f[i + 1])

    def to_json(self) -> dict:
        return {"event": self.name, "fluence_cm2": {f">{e:g}": float(self.integral(e)) for e in (10.0, 30.0, 100.0)}}


def _power_law_integral(e0, e1, f0, f1) -> np.ndarray:
    """Integral of the power law through (e0, f0) and (e1, f1) from e0 to e1."""
    e0, e1, f0, f1 = (np.asarray(v, dtype=float) for v in (e0, e1, f0, f1))
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.log(f1 / f0) / np.log(e1 / e0)
        general = f0 * e0 / (k + 1) * ((e1 / e0) ** (k + 1) - 1)
        at_minus_one = f0 * e0 * np.log(e1 / e0)
        out = np.where(np.abs(k + 1) < 1e-9, at_minus_one, general)
    return np.where((f0 > 0) & (f1 > 0) & (e1 > e0), out, 0.5 * (f0 + f1) * (e1 - e0))


def _scalars(name: str, **values) -> list[float]:
    """Each value as one real number, or an InputError naming the parameter."""
    return [float(real_numbers(v, f"{name}: {key}", scalar=True)) for key, v in values.items()]


def band(name: str, c_per_sr: float, gamma_a: float, gamma_b: float, r0_gv: float) -> Spectrum:
    """Band-form event (rigidity, Tylka & Dietrich 2009), C in cm^-2 sr^-1 GV^-1, isotropic."""
    c_per_sr, gamma_a, gamma_b, r0_gv = _scalars(name, c_per_sr=c_per_sr, gamma_a=gamma_a, gamma_b=gamma_b, r0_gv=r0_gv)
    if not (c_per_sr > 0 and r0_gv > 0 and gamma_b > gamma_a):
        raise InputError(f"{name}: the Band form needs C > 0, R0 > 0 and gamma_b > gamma_a, got C={c_per_sr:g}, "
                         f"R0={r0_gv:g} GV, gamma_a={gamma_a:g}, gamma_b={gamma_b:g}")
    r = rigidity_gv(GRID_MEV)
    rb = (gamma_b - gamma_a) * r0_gv
    with np.errstate(over="ignore"):                               # Spectrum names what overflows
        below = c_per_sr * r ** -gamma_a * np.exp(-r / r0_gv)
        above = c_per_sr * r ** -gamma_b * rb ** (gamma_b - gamma_a) * np.exp(gamma_a - gamma_b)
        dj_dr = np.where(r <= rb, below, above)
        dr_de = (GRID_MEV + PROTON_MEV) / (1000.0 * r * 1000.0)    # GV per MeV
        return Spectrum(name, GRID_MEV, 4 * np.pi * dj_dr * dr_de)


def exponential(name: str, phi_above_cm2: float, above_mev: float, e0_mev: float) -> Spectrum:
    """Phi(>E) = phi_above exp((above - E) / e0): dPhi/dE = Phi(>E) / e0."""
    phi_above_cm2, above_mev, e0_mev = _scalars(name, phi_above_cm2=phi_above_cm2, above_mev=above_mev, e0_mev=e0_mev)
    if not (phi_above_cm2 > 0 and e0_mev > 0 and SPAN_MEV[0] <= above_mev <= SPAN_MEV[1]):
        raise InputError(f"{name}: an exponential spectrum needs a positive fluence and e-folding energy and a "
                         f"reference energy in {SPAN_MEV[0]:g}-{SPAN_MEV[1]:g} MeV")
    with np.errstate(over="ignore"):                               # Spectrum names what overflows
        return _all_below_the_top(Spectrum(name, GRID_MEV, phi_above_cm2 * np.exp((above_mev - GRID_MEV) / e0_mev) / e0_mev),
                                  phi_above_cm2, above_mev)


def power_law(name: str, phi_above_cm2: float, above_mev: float, index: float) -> Spectrum:
    """Phi(>E) = phi_above (E / above)^-index, index > 0."""
    phi_above_cm2, above_mev, index = _scalars(name, phi_above_cm2=phi_above_cm2, above_mev=above_mev, index=index)
    if not (phi_above_cm2 > 0 and index > 0 and SPAN_MEV[0] <= above_mev <= SPAN_MEV[1]):
        raise InputError(f"{name}: a power law needs a positive fluence and index and a reference energy in "
                         f"{SPAN_MEV[0]:g}-{SPAN_MEV[1]:g} MeV")
    with np.errstate(over="ignore"):                               # Spectrum names what overflows
        return _all_below_the_top(Spectrum(name, GRID_MEV, phi_above_cm2 * index / above_mev * (GRID_MEV / above_mev) ** (-index - 1)),
                                  phi_above_cm2, above_mev)


def _all_below_the_top(spectrum: Spectrum, phi_above_cm2: float, above_mev: float) -> Spectrum:
    """``spectrum`` if it holds the fluence asked for above ``above_mev`` (to 1 %): a form so hard
    that more lies beyond the tables' 10 GeV would be silently cut there."""
    kept = float(spectrum.integral(above_mev)) / phi_above_cm2
    if not kept >= 0.99:
        raise InputError(f"{spectrum.name}: {1 - kept:.0%} of the fluence above {above_mev:g} MeV lies beyond "
                         f"{SPAN_MEV[1]:g} MeV, where the tables end: give a softer spectrum")
    return spectrum


MAX_SLOPE = 50.0
MIN_EFOLD_MEV = 10.0
"""Steepest fall of an integral spectrum between two given points: Phi ~ E^-50 and faster than
an e-fold per 10 MeV (King's August 1972 event: 26.5 MeV, so E^-75 at 2 GeV); anything steeper is
points too close together or fluences out of scale."""


def from_integral(name: str, energy_mev, integral_cm2) -> Spectrum:
    """The spectrum through measured integral fluences Phi(>E_i): a power law between channels
    (log Phi linear in log E), nothing below the first (no proton was given there), and above
    the last the Phi(>E_last) protons given, spread to 10 GeV as a power law of the last pair's
    index (at least 1)."""
    e, phi = _checked_pairs(name, energy_mev, integral_cm2)
    # The inner channels are nodes twice: dPhi/dE jumps there (the slope of Phi changes), and
    # each side of the jump is a node of its own.
    grid = GRID_MEV[(GRID_MEV > e[0]) & (GRID_MEV < e[-1])]
    grid = np.sort(np.concatenate([grid, e, e[1:-1]]))
    slopes = np.diff(np.log(phi)) / np.diff(np.log(e))
    segment = np.clip(np.searchsorted(e, grid, side="right") - 1, 0, len(slopes) - 1)
    twin = np.flatnonzero(grid[1:] == grid[:-1])
    segment[twin] -= 1
    log_phi = np.log(phi[segment]) + slopes[segment] * np.log(grid / e[segment])
    inner = np.exp(log_phi) * -slopes[segment] / grid
    # the last segment's end belongs to it; the tail starts afresh at e[-1] (a node of its own)
    index = max(-slopes[-1], 1.0)
    tail_e = np.geomspace(e[-1], SPAN_MEV[1], 100)
    # Phi(>E) = phi_last ((E/E_last)^-index - (top/E_last)^-index) / (1 - (top/E_last)^-index),
    # written relative to E_last so that a steep tail does not underflow
    tail = (phi[-1] * index / e[-1] * (tail_e / e[-1]) ** (-index - 1)
            / (1 - (SPAN_MEV[1] / e[-1]) ** -index))
    return Spectrum(name, np.concatenate([grid, tail_e]), np.concatenate([inner, tail]))


def _checked_pairs(name: str, energy_mev, integral_cm2) -> tuple[np.ndarray, np.ndarray]:
    e, phi = np.asarray(energy_mev, dtype=float).ravel(), np.asarray(integral_cm2, dtype=float).ravel()
    if e.size != phi.size or e.size < 2:
        raise InputError(f"{name}: give at least two energy/fluence pairs, got {min(e.size, phi.size)}")
    for value in e:
        if not SPAN_MEV[0] <= value < SPAN_MEV[1]:
            raise InputError(f"{name}: energy {shown(value)} MeV is outside {SPAN_MEV[0]:g}-{SPAN_MEV[1]:g} MeV (the "
                             "last must be below 10000 MeV, to leave room for the fluence above it)")
    for value in phi:
        if not (np.isfinite(value) and value > 0):
            raise InputError(f"{name}: integral fluence {shown(value)} cm^-2 must be positive and finite")
        if value > MAX_FLUENCE_CM2:
            raise InputError(f"{name}: integral fluence {shown(value)} cm^-2 " + _TOO_MANY)
    if np.any(np.diff(e) <= 0):
        raise InputError(f"{name}: energies must increase ({', '.join(f'{v:g}' for v in e)} MeV)")
    if np.any(np.diff(phi) > 0):
        bad = int(np.argmax(np.diff(phi) > 0)) + 1
        raise InputError(f"{name}: the integral fluence above {e[bad]:g} MeV ({phi[bad]:g}) exceeds the one above "
                         f"{e[bad - 1]:g} MeV ({phi[bad - 1]:g}); an integral spectrum never rises with energy")
    fall = np.diff(np.log(phi))
    steep = (fall / np.diff(np.log(e)) < -MAX_SLOPE) & (np.diff(e) < -fall * MIN_EFOLD_MEV)
    if np.any(steep):
        bad = int(np.argmax(steep))
        raise InputError(f"{name}: the fluence falls from {phi[bad]:g} above {e[bad]:g} MeV to {phi[bad + 1]:g} above "
                         f"{e[bad + 1]:g} MeV, steeper than E^-{MAX_SLOPE:g} and an e-fold per {MIN_EFOLD_MEV:g} "
                         "MeV: check those two points")
    return e, phi


def read(path: str | Path) -> Spectrum:
    """A spectrum from a text file of ``energy_MeV  fluence_above_cm2`` rows (whitespace or comma
    separated, plain ASCII numbers; lines starting with # are comments): a regular file of at most
    :data:`MAX_FILE_BYTES`."""
    path = Path(path)
    try:
        text = textfiles.read(path, MAX_FILE_BYTES, "utf-8-sig")
    except OSError as error:
        raise InputError(f"the spectrum file {path}: {error.strerror or error}; give a text file of energy/fluence "
                         "rows (a few rows)") from None
    except UnicodeDecodeError:
        raise InputError(f"the spectrum file {path} is not UTF-8 text; save it as plain text (UTF-8)") from None
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].replace(",", " ").strip()
        if not line:
            continue
        fields = line.split()
        try:
            if len(fields) != 2:
                raise ValueError
            rows.append((plain_number(fields[0]), plain_number(fields[1])))
        except ValueError:
            raise InputError(f"{path}, line {number}: expected 'energy_MeV fluence_above_cm2', got {line!r}") from None
    if not rows:
        raise InputError(f"{path}: no energy/fluence rows; write one 'energy_MeV fluence_above_cm2' pair a line")
    energy, phi = zip(*rows)
    return from_integral(path.name, energy, phi)


EVENTS = {
    "king1972": lambda: exponential("king1972", 7.9e9, 30.0, 26.5),
    "sapphire-1in10": lambda: band("sapphire-1in10", 1.33e10, 0.85, 5.7, 0.0722),
    "sapphire-1in100": lambda: band("sapphire-1in100", 8.73e10, 0.48, 5.7, 0.0671),
    "sapphire-1in1000": lambda: band("sapphire-1in1000", 2.14e11, 0.315, 5.7, 0.0650),
}


def event(name: str) -> Spectrum:
    """A reference event by name (:data:`EVENTS`) or a spectrum file's path."""
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"no event given; give one of {', '.join(EVENTS)} or a file of energy/fluence pairs")
    if name.strip().lower() in EVENTS:
        return EVENTS[name.strip().lower()]()
    if Path(name).suffix or Path(name).exists():
        return read(name)
    raise InputError(f"unknown event {name!r} (and no file of that name); give one of {', '.join(EVENTS)} or a file "
                     "of energy/fluence pairs")

"""Protons through shielding and tissue: stopping power, CSDA range, residual energy, and the
primaries nuclear interactions remove.

Electronic stopping power from Bethe's formula (ICRU Report 49, 1993, Eq. 2.1-2.4),
L = L0 + L1 + L2, with
- the density effect of Sternheimer, Berger & Seltzer (1984, At. Data Nucl. Data Tables 30, 261);
- shell corrections by Bichsel's method, as ICRU 49 uses it: Walske's K- and L-shell corrections
  (Phys. Rev. 88, 1283, 1952; 101, 940, 1956), the outer (M) shells as the L correction scaled;
- the Barkas (z^3) term L1 of Ashley, Ritchie & Brandt (1972, Phys. Rev. B 5, 2393);
- the Bloch (z^4) term L2.
The shell and Barkas terms follow their implementation in Geant4's G4EmCorrections (ShellCorrection,
BarkasCorrection: its Walske and ARB tables, screening parameters, b values and factor 1.29), with
one repair: the L table's eta = 7 row, which breaks the table's smooth fall, gives way to the
asymptotic form from eta = 5 (see the note above _K_ETA). Water adds them over H2O by Bragg
additivity, per electron (Geant4 averages per atom), under the molecule's I = 75 eV.

Against NIST PSTAR (ICRU 49) from 1 MeV to 1 GeV:
- water within 0.9 % (-0.9 % at 1 MeV, -0.4 % at 3 MeV, within 0.25 % from 4 MeV);
- aluminium within 1 % from 2.5 MeV (-0.6 % at 5 MeV, within 0.5 % from 10 MeV), but -1.1 % at
  2 MeV and -1.7 % at 1 MeV. ICRU 49's shell corrections are semi-empirical, and Walske's theory
  with Geant4's screening parameters and the ARB Barkas term (7 % of L at 1 MeV in Al) does not
  reach them to 1 % there.
It matters little: with PSTAR's values from 1 to 5 MeV, King's August 1972 doses move by at most
0.06 % (skin behind 0.3 g/cm^2), since a proton slowed to 5 MeV has under 0.04 g/cm^2 of range left.

Below 1 MeV, where slowing protons end, PSTAR is ICRU 49's low-energy fit (Ziegler's form with
ICRU 49's coefficients; PSTAR equals it to 0.1 % below 0.1 MeV) joined to Bethe's formula. Here
the fit holds to 0.1 MeV and Bethe from 1 MeV, with a cubic in log-log between matching both
values and slopes: within 2.1 % of PSTAR in water and 2.7 % in aluminium from 1 keV to 1 MeV.
Below 1 keV S ~ E^0.5. The CSDA range is the integral of 1/S, tabulated once per material on a
log grid (1 keV to 10 GeV), and inverted by interpolation in log-log; against PSTAR's CSDA
ranges, water is within 0.8 % from 1.25 MeV and aluminium within 2.4 % from 1 MeV (1 % from
5 MeV). The public functions accept 1 MeV to 10 GeV.

Primaries are removed by nuclear interactions as exp(-x / lambda_I), with the nuclear
interaction lengths of the Particle Data Group (Atomic and Nuclear Properties of Materials):
- water 83.3 g/cm^2;
- aluminium 107.2 g/cm^2.
This is the straight-ahead approximation without secondaries. It leaves out the neutrons and
fragments those interactions make, and the heavy ions of the event.

PSTAR's CSDA range of a 100 MeV proton in water is 7.718 g/cm^2:

>>> round(float(csda_range(100.0, "water")), 2)
7.72
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from astropy import constants as _c, units as _u

from l4station.errors import InputError
from l4station.radiation.checks import real_numbers, shown

ELECTRON_MEV = float((_c.m_e * _c.c ** 2).to_value(_u.MeV))           # CODATA, as astropy ships it
PROTON_MEV = float((_c.m_p * _c.c ** 2).to_value(_u.MeV))
K_MEV_CM2_PER_MOL = float((4 * np.pi * _c.N_A * (_c.e.si ** 2 / (4 * np.pi * _c.eps0 * _c.m_e * _c.c ** 2)) ** 2
                           * _c.m_e * _c.c ** 2).to_value(_u.MeV * _u.cm ** 2 / _u.mol))    # 4 pi N_A r_e^2 m_e c^2
FINE_STRUCTURE = float(_c.alpha.value)
AVOGADRO = float(_c.N_A.value)   # 1/mol
TABLE_MEV = (1e-3, 1e4)        # the internal tables' span (slowing protons reach its low end)
SPAN_MEV = (1.0, 1e4)          # energies the functions here and the spectra accept
FIT_MEV = 0.1                  # ICRU 49's low-energy fit up to here ...
BETHE_MEV = 1.0                # ... Bethe's formula from here, a cubic in log-log between
PROTON_AMU = 1.007276467       # the proton's mass (u): the fit's energies are per atomic mass unit


@dataclass(frozen=True)
class Material:
    """A stopping medium: electrons per nucleon mass Z/A, mean excitation energy I (eV), the
    Sternheimer density-effect parameters, the nuclear interaction length (g/cm^2) and its atoms
    as (Z, atoms per molecule), over which the shell and Barkas corrections add (Bragg), and the
    coefficients of ICRU 49's low-energy fit with the molar mass (g/mol) they are per."""

    name: str
    z_over_a: float
    i_ev: float
    minus_c: float
    x0: float
    x1: float
    a: float
    m: float
    delta0: float
    interaction_length_gcm2: float
    atoms: tuple[tuple[int, int], ...]
    low_fit: tuple[float, float, float, float, float]
    molar_mass: float

    @property
    def electrons(self) -> int:
        """Electrons per molecule."""
        return sum(z * n for z, n in self.atoms)


MATERIALS = {
    # ICRU 49 / PSTAR I-values; Sternheimer, Berger & Seltzer (1984) Table 1; PDG interaction lengths
    "water": Material("water", 0.555087, 75.0, 3.5017, 0.2400, 2.8004, 0.09116, 3.4773, 0.0, 83.3,
                      ((1, 2), (8, 1)), (4.015, 4.542, 3955.0, 484.7, 7.904e-3), 18.0152),
    "aluminum": Material("aluminum", 13 / 26.9815385, 166.0, 4.2395, 0.1708, 3.0127, 0.08024, 3.6345, 0.12, 107.2,
                         ((13, 1),), (4.154, 4.739, 2766.0, 164.5, 2.023e-2), 26.9815385),
}
# low_fit: ICRU 49's coefficients A1-A5 of its low-energy proton formula (Ziegler's form, Andersen & Ziegler
# 1977) for the H2O molecule and the Al atom, as Geant4's G4BraggModel lists them; molar_mass in g/mol.


def material_named(name: str) -> Material:
    """The material called ``name`` ("water" or "aluminum"), or an InputError naming them."""
    found = MATERIALS.get(str(name).lower().replace("aluminium", "aluminum"))
    if found is None:
        raise InputError(f"unknown material {name!r}; known: {', '.join(MATERIALS)}")
    return found


def _density_effect(beta_gamma: np.ndarray, mat: Material) -> np.ndarray:
    x = np.log10(beta_gamma)
    ln10 = np.log(10.0)
    return np.where(x >= mat.x1, 2 * ln10 * x - mat.minus_c,
                    np.where(x >= mat.x0, 2 * ln10 * x - mat.minus_c + mat.a * (mat.x1 - x) ** mat.m,
                             mat.delta0 * 10.0 ** (2 * (x - mat.x0))))


# Walske's shell corrections (K: Walske 1952, Phys. Rev. 88, 1283; L: Walske 1956, Phys. Rev. 101, 940; tables
# of Khandelwal 1968, Nucl. Phys. A116, 97), as Geant4's G4EmCorrections carries them (Initialise): C(eta) =
# S ln(eta) + T - b(eta) for the K shell and S ln(eta) + T - b_s(eta) - 3 b_l(eta) for the L shell, at
# eta = beta^2 / (alpha Z_shell)^2, on the rows below (from eta = 0.2 for K and 0.4 for L: protons from 1 MeV in
# H, O and Al need no lower); beyond the last row, C = (U + V / eta + W / eta^2) / eta with V (L) or W (K) set for
# continuity. Geant4's L table has a row at eta = 7 whose every column sits ~0.8 above the fall of the rows to
# 5 and of the asymptote; with it the L correction beyond eta = 5 is too large (3.5 times the asymptote's
# at eta = 7), and water's stopping power 1.5 % low at 4 MeV. We take the asymptote from eta = 5.
_K_ETA = np.array([0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0, 1.2, 1.4, 1.5, 1.7, 2.0, 3.0, 5.0, 7.0, 10.0])
_K_SHELL = {  # theta_K: (S, T, U, V, b at _K_ETA); G4EmCorrections' bk2 (theta 0.70, 0.72) and bk1 (0.95) columns
    0.70: (1.8137, 2.4608, 2.0662, 8.3247, np.array([
        0.10232, 0.238022, 0.4029, 0.58247, 0.7678, 0.953454, 1.13615, 1.48582, 1.80983, 2.10727, 2.24644,
        2.50703, 2.85052, 3.7717, 4.92217, 5.65226, 6.39903])),
    0.72: (1.7754, 2.4388, 2.0817, 8.3219, np.array([
        0.0966589, 0.227689, 0.388089, 0.563515, 0.745041, 0.927198, 1.10667, 1.45057, 1.76954, 2.06251, 2.19963,
        2.45641, 2.79481, 3.70268, 4.83543, 5.55344, 6.28715])),
    0.95: (1.4772, 2.1686, 2.1271, 8.3320, np.array([
        0.0504022, 0.138018, 0.256001, 0.392181, 0.537913, 0.68747, 0.837159, 1.1285, 1.40232, 1.65584, 1.77496,
        1.99863, 2.29325, 3.08887, 4.07599, 4.69647, 5.3259])),
}
_L_ETA = np.array([0.4, 0.5, 0.6, 0.7, 0.8, 1.0, 1.2, 1.4, 1.5, 1.7, 2.0, 3.0, 5.0])
_L_SHELL = (5.9792, 19.8546, 2.0028,  # theta_L = 0.66: S, T, U; b_s and b_l (bls1, bll1) at _L_ETA
            np.array([2.0173, 2.3932, 2.7091, 2.9742, 3.2222, 3.669, 3.9819, 4.2745, 4.4047, 4.6383, 4.9369, 5.6514,
                      6.4665]),
            np.array([2.75, 3.2033, 3.6038, 3.9106, 4.179, 4.6344, 4.9787, 5.2688, 5.3966, 5.6255, 5.917, 6.621,
                      7.462]))

# Per atom, as G4EmCorrections::ShellCorrection has them: (K electrons, theta_K, L electrons, Z_L, outer
# electrons, Barkas b). K: Z_K = Z - 0.3 (1 for H); theta_K 0.95 up to Z = 11 (G4's hydrogenic value, at
# its table's edge), else its theta_K(Z) table (0.7172 at Z = 13). L: Z_L = Z - 3.53 (O), Z - 4.15 (from Ne),
# theta_L 0.66 (G4's value for Z <= 15, its table's edge). Outer (M) shells: Bichsel's scaling of the L
# correction, (n_M / 8) C_L(H_M eta_L), with G4's H_M = 12 at Z = 13. b: G4EmCorrections::BarkasCorrection.
_ATOMS = {1: (1, 0.95, 0, 1.0, 0, 1.8), 8: (2, 0.95, 6, 8 - 3.53, 0, 1.8), 13: (2, 0.7172, 8, 13 - 4.15, 3, 1.4)}
_OUTER_H = 12.0

# Ashley, Ritchie & Brandt (1972, Phys. Rev. B 5, 2393) F(W), W = b / sqrt(x), as G4EmCorrections lists it
_ARB_W = np.array([0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0,
                   1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9, 2.0, 2.1, 2.4, 3.0, 3.08, 3.1, 3.3, 3.5, 3.8, 4.0, 4.1,
                   4.8, 5.0, 5.1, 6.0, 6.5, 7.0, 7.1, 8.0, 9.0, 10.0])
_ARB_F = np.array([21.5, 20.0, 18.0, 15.6, 15.0, 14.0, 13.5, 13.0, 12.2, 9.25, 7.0, 6.0, 4.5, 3.5, 3.0, 2.5, 2.0, 1.7,
                   1.2, 1.0, 0.86, 0.7, 0.61, 0.52, 0.5, 0.43, 0.42, 0.3, 0.2, 0.13, 0.1, 0.09, 0.08, 0.07, 0.06,
                   0.051, 0.04, 0.03, 0.024, 0.02, 0.013, 0.01, 0.009, 0.008, 0.006, 0.0032, 0.0025])
_ARB_SCALE = 1.29             # G4EmCorrections' factor on the ARB term


def _walske_k(eta: np.ndarray, theta: float) -> np.ndarray:
    """Walske's K-shell correction (both K electrons) at ``eta``, linear in theta between the tabled columns."""
    lo = max(t for t in _K_SHELL if t <= theta)
    hi = min(t for t in _K_SHELL if t >= theta)
    w = 0.0 if hi == lo else (theta - lo) / (hi - lo)
    s, t, u, v, b = ((1 - w) * np.asarray(p) + w * np.asarray(q) for p, q in zip(_K_SHELL[lo], _K_SHELL[hi]))
    c = s * np.log(_K_ETA) + t - b
    end = _K_ETA[-1]
    tail = end * (end ** 2 * c[-1] - end * u - v)
    return np.where(eta < end, np.interp(eta, _K_ETA, c), (u + v / eta + tail / eta ** 2) / eta)


def _walske_l(eta: np.ndarray) -> np.ndarray:
    """Walske's L-shell correction (all 8 L electrons) at ``eta``, theta_L = 0.66."""
    s, t, u, b_s, b_l = _L_SHELL
    c = s * np.log(_L_ETA) + t - b_s - 3 * b_l
    end = _L_ETA[-1]
    v = end * (end * c[-1] - u)
    return np.where(eta < end, np.interp(eta, _L_ETA, c), (u + v / eta) / eta)


def _shell_correction(ba2: np.ndarray, z: int) -> np.ndarray:
    """Shell correction C of an atom of atomic number ``z`` (Bichsel's method, as ICRU 49 uses it, with
    Walske's K and L corrections) for protons of beta^2 / alpha^2 = ``ba2``."""
    k_electrons, theta_k, l_electrons, z_l, outer, _ = _ATOMS[z]
    c = k_electrons / 2 * _walske_k(ba2 / (1.0 if z == 1 else (z - 0.3) ** 2), theta_k)
    if l_electrons:
        c = c + l_electrons / 8 * _walske_l(ba2 / z_l ** 2)
    if outer:
        c = c + outer / 8 * _walske_l(_OUTER_H * ba2 / z_l ** 2)
    return c


def _barkas(ba2: np.ndarray, z: int) -> np.ndarray:
    """Barkas term L1 per electron of an atom ``z``: 1.29 F(b / x^0.5) / (Z^0.5 x^1.5), x = ba2 / Z
    (Ashley, Ritchie & Brandt 1972, as G4EmCorrections::BarkasCorrection has it)."""
    x = ba2 / z
    w = _ATOMS[z][5] / np.sqrt(x)
    f = np.interp(w, _ARB_W, _ARB_F) * np.minimum(1.0, _ARB_W[-1] / w)
    return _ARB_SCALE * f / (np.sqrt(z * x) * x)


def _bethe(energy_mev: np.ndarray, mat: Material) -> np.ndarray:
    """Electronic stopping power (MeV cm^2/g): ICRU 49 Eq. 2.1-2.4, L = L0 + L1 + L2 with shell,
    density-effect, Barkas and Bloch terms, the per-atom ones by Bragg additivity (electron-weighted)."""
    gamma = 1.0 + energy_mev / PROTON_MEV
    beta2 = 1.0 - 1.0 / gamma ** 2
    bg2 = beta2 * gamma ** 2
    ratio = ELECTRON_MEV / PROTON_MEV
    t_max = 2 * ELECTRON_MEV * bg2 / (1 + 2 * gamma * ratio + ratio ** 2)
    i_mev = mat.i_ev * 1e-6
    ba2 = beta2 / FINE_STRUCTURE ** 2
    y2 = 1.0 / ba2
    bloch = np.zeros_like(y2)                  # -y^2 sum 1/(n (n^2 + y^2)) to n = 63 (ICRU 49 Eq. 2.6)
    for n in range(1, 64):
        bloch -= y2 / (n * (n * n + y2))
    shell = sum(k * _shell_correction(ba2, z) for z, k in mat.atoms) / mat.electrons            # C/Z
    barkas = sum(k * z * _barkas(ba2, z) for z, k in mat.atoms) / mat.electrons
    number = (0.5 * np.log(2 * ELECTRON_MEV * bg2 * t_max / i_mev ** 2) - beta2
              - _density_effect(np.sqrt(bg2), mat) / 2 - shell + barkas + bloch)
    return K_MEV_CM2_PER_MOL * mat.z_over_a / beta2 * number


def stopping_power(energy_mev, material_name: str) -> np.ndarray:
    """Electronic mass stopping power (MeV cm^2/g) of protons of ``energy_mev`` (broadcasts);
    from 1 MeV Bethe's formula with its corrections (below it ICRU 49's low-energy fit).

    >>> round(float(stopping_power(10.0, "aluminum")), 1)   # PSTAR: 33.76
    33.6
    """
    mat = material_named(material_name)
    e = real_numbers(energy_mev, "proton energy (MeV)")
    _check_energies(e)
    return stopping(e, mat)


def stopping(e: np.ndarray, mat: Material) -> np.ndarray:
    """:func:`stopping_power` (MeV cm^2/g) of protons of ``e`` MeV in ``mat``, on the internal
    tables' span (down to 1 keV), unchecked (for this package)."""
    e = np.asarray(e, dtype=float)
    x0, x1 = np.log(FIT_MEV), np.log(BETHE_MEV)
    y0, y1, d0, d1 = _joint(mat)
    t = (np.log(np.clip(e, FIT_MEV, BETHE_MEV)) - x0) / (x1 - x0)
    between = np.exp((2 * t ** 3 - 3 * t ** 2 + 1) * y0 + (t ** 3 - 2 * t ** 2 + t) * (x1 - x0) * d0
                     + (3 * t ** 2 - 2 * t ** 3) * y1 + (t ** 3 - t ** 2) * (x1 - x0) * d1)    # cubic Hermite
    return np.where(e >= BETHE_MEV, _bethe(np.maximum(e, BETHE_MEV), mat),
                    np.where(e <= FIT_MEV, _low_energy(np.minimum(e, FIT_MEV), mat), between))


@functools.cache
def _joint(mat: Material) -> tuple[float, float, float, float]:
    """log S at FIT_MEV and BETHE_MEV (the fit's and Bethe's) and their slopes d log S / d log E:
    the ends of the cubic between them."""
    x0, x1 = np.log(FIT_MEV), np.log(BETHE_MEV)
    ends = np.exp([x0 - 1e-4, x0 + 1e-4, x1 - 1e-4, x1 + 1e-4])
    lo, hi = np.log(_low_energy(ends[:2], mat)), np.log(_bethe(ends[2:], mat))
    return float(lo.mean()), float(hi.mean()), float(lo[1] - lo[0]) / 2e-4, float(hi[1] - hi[0]) / 2e-4


def _low_energy(e: np.ndarray, mat: Material) -> np.ndarray:
    """ICRU 49's low-energy proton stopping power (MeV cm^2/g; Ziegler's form): 1/S = 1/S_low +
    1/S_high, S_low = A2 T^0.45, S_high = (A3 / T) ln(1 + A4 / T + A5 T), and below 10 keV
    S = A1 T^0.5 (proportional to the velocity), with T in keV per u and S in eV per 1e15
    molecules/cm^2."""
    a1, a2, a3, a4, a5 = mat.low_fit
    t = np.maximum(np.asarray(e, dtype=float), 1e-12) * 1e3 / PROTON_AMU
    tt = np.maximum(t, 10.0)
    s_low, s_high = a2 * tt ** 0.45, a3 / tt * np.log(1 + a4 / tt + a5 * tt)
    s = np.where(t < 10.0, a1 * np.sqrt(t), s_low * s_high / (s_low + s_high))
    return s * 1e-21 * AVOGADRO / mat.molar_mass          # eV per 1e15/cm^2 to MeV cm^2/g


@functools.cache
def _stopping_table(name: str) -> tuple[np.ndarray, np.ndarray]:
    energy = np.geomspace(*TABLE_MEV, 2000)
    return np.log(energy), np.log(stopping(energy, material_named(name)))


def stopping_of(energy_mev: np.ndarray, name: str) -> np.ndarray:
    """:func:`stopping_power` from its table (log-log, 2,000 nodes: within 1e-4 of the formula),
    unchecked, for the many evaluations of this package."""
    log_e, log_s = _stopping_table(name)
    return np.exp(np.interp(np.log(np.clip(energy_mev, *TABLE_MEV)), log_e, log_s))


@functools.cache
def _table(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(log E, log R): the CSDA range (g/cm^2) on 2,000 log-spaced energies over TABLE_MEV."""
    energy = np.geomspace(*TABLE_MEV, 2000)
    s = stopping(energy, material_named(name))
    first = 2 * energy[0] / s[0]                      # below the grid S ~ E^0.5 (ICRU 49), so R = 2 E / S
    steps = np.diff(energy) * 0.5 * (1 / s[1:] + 1 / s[:-1])
    # trapezoid in 1/S on a 0.46 % log step: < 1e-5 relative error in R
    ranges = first + np.concatenate([[0.0], np.cumsum(steps)])
    return np.log(energy), np.log(ranges)


def _check_energies(energy_mev: np.ndarray, low_mev: float = SPAN_MEV[0]) -> None:
    bad = energy_mev[~((energy_mev >= low_mev) & (energy_mev <= SPAN_MEV[1]))]
    if bad.size:
        raise InputError(f"proton energy {shown(bad.flat[0])} MeV is outside the transport tables' "
                         f"{low_mev:g}-{SPAN_MEV[1]:g} MeV")


def _check_depths(depth_gcm2: np.ndarray) -> None:
    bad = depth_gcm2[~(np.isfinite(depth_gcm2) & (depth_gcm2 >= 0))]
    if bad.size:
        raise InputError(f"depth {shown(bad.flat[0])} g/cm^2 must be zero or more")


def csda_range(energy_mev, material: str) -> np.ndarray:
    """CSDA range (g/cm^2) of protons of ``energy_mev`` (broadcasts) in ``material``
    ("water" or "aluminum")."""
    e = real_numbers(energy_mev, "proton energy (MeV)")
    _check_energies(e)
    return range_of(e, material_named(material).name)


def residual_energy(energy_mev, depth_gcm2, material: str) -> np.ndarray:
    """Energy (MeV) left after ``depth_gcm2`` of ``material`` (0 where the proton stops); broadcasts.
    Energies from 0 (what it returns) to 10 GeV."""
    e, depth = real_numbers(energy_mev, "proton energy (MeV)"), real_numbers(depth_gcm2, "depth (g/cm^2)")
    _check_energies(e, 0.0)
    _check_depths(depth)
    try:
        np.broadcast_shapes(e.shape, depth.shape)
    except ValueError:
        raise InputError(f"energies of shape {e.shape} and depths of shape {depth.shape} do not broadcast; give "
                         "one depth, one energy, or arrays numpy can pair") from None
    return slowed(e, depth, material_named(material).name)


def slowed(e: np.ndarray, depth: np.ndarray, name: str) -> np.ndarray:
    """:func:`residual_energy` (MeV) of protons of ``e`` MeV after ``depth`` g/cm^2 of material
    ``name``, on the internal tables' span, unchecked (for this package)."""
    left = range_of(e, name) - depth
    return np.where(left > 0, np.minimum(energy_for_range(left, name), e), 0.0)


def energy_for_range(range_gcm2: np.ndarray, name: str) -> np.ndarray:
    """The energy (MeV) whose CSDA range is ``range_gcm2`` (inf beyond the tables; below them
    R ~ E^0.5), unchecked."""
    log_e, log_r = _table(name)
    r = np.asarray(range_gcm2, dtype=float)
    with np.errstate(divide="ignore"):
        x = np.log(np.maximum(r, 0.0))
        out = np.exp(np.where(x < log_r[0], log_e[0] + 2 * (x - log_r[0]), np.interp(x, log_r, log_e)))
    return np.where(r > np.exp(log_r[-1]), np.inf, out)


def range_of(energy_mev: np.ndarray, name: str) -> np.ndarray:
    """CSDA range (g/cm^2) on the internal tables' span (below it R ~ E^0.5), unchecked (for
    this package)."""
    log_e, log_r = _table(name)
    with np.errstate(divide="ignore"):
        x = np.log(np.maximum(energy_mev, 0.0))
    return np.exp(np.where(x < log_e[0], log_r[0] + 0.5 * (x - log_e[0]), np.interp(x, log_e, log_r)))


def survival(depth_gcm2, material: str) -> np.ndarray:
    """Fraction of primaries not removed by nuclear interactions over ``depth_gcm2``."""
    depth = real_numbers(depth_gcm2, "depth (g/cm^2)")
    _check_depths(depth)
    return np.exp(-depth / material_named(material).interaction_length_gcm2)

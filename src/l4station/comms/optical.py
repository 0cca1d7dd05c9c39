"""Optical downlink: pulse-position modulation on the photon-counting (Poisson) channel.

Photon budget (Hemmati 2006, *Deep Space Optical Communications*, ch. 4):
    detected signal photons/s = P_tx G_tx (lambda / 4 pi d)^2 G_rx L / (h c / lambda),
with diffraction-limited gains G = (pi D / lambda)^2 and L the product of the
transmit and receive optics, pointing, atmosphere and detector efficiencies.
Background photons come from the sky radiance in the receiver's field of view and
filter band.

Channel: M-ary PPM with slot width T_s (CCSDS 142.0-B-1, High Photon Efficiency optical
communications). Its capacity with Ks signal and Kb background photons per slot is
(Moision & Hamkins 2003, IPN Progress Report 42-154, eq. 9)

    C = log2 M - E[ log2 sum_j exp((k_j - k_1) ln(1 + Ks/Kb)) ]  bits/PPM symbol,

k_1 ~ Poisson(Ks + Kb) in the pulsed slot, k_j ~ Poisson(Kb) elsewhere; with no background
it is the erasure channel (1 - exp(-Ks)) log2 M. The code (SCPPM) is taken a fixed gap in
dB from capacity, and the rate is the best over the waveform's PPM orders and code rates.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from l4station.constants import C_M_S
from l4station.errors import InputError
from l4station.records import positive, record

H = 6.62607015e-34   # J s
NIGHT_ATMOSPHERE_1550NM = 0.7   # clear-night transmission at 1550 nm, one factor of default.toml's efficiency


def ppm_capacity(m: int, ks, kb, *, samples: int = 40000, seed: int = 0) -> np.ndarray:
    """Capacity (bits per PPM symbol) of M-PPM with ``ks`` signal and ``kb`` background photons
    per slot (broadcast over ks, kb). Monte Carlo for kb > 0 (fixed seed: deterministic,
    standard error < 0.01 bit at the default sample count).

    >>> round(float(ppm_capacity(16, 1.0, 0.0)), 3)   # noiseless: (1 - e^-1) log2 16
    2.528
    """
    from scipy.special import gammaln, xlogy

    ks, kb = np.broadcast_arrays(np.asarray(ks, float), np.asarray(kb, float))
    out = np.empty(ks.shape)
    rng = np.random.default_rng(seed)
    for idx in np.ndindex(ks.shape):
        s, b = ks[idx], kb[idx]
        if b <= 0.0:
            out[idx] = (1.0 - math.exp(-s)) * math.log2(m)
            continue
        k1 = rng.poisson(s + b, samples)
        # The M - 1 empty slots are i.i.d. Poisson(b): only how many hold 0, 1, 2, ... photons
        # matters, a multinomial over the counts (the same law, M times cheaper to draw).
        top_count = int(b + 10 * math.sqrt(b) + 12)
        counts = np.arange(top_count + 1)
        pmf = np.clip(np.exp(xlogy(counts, b) - gammaln(counts + 1) - b), 0, 1)   # as scipy.stats.poisson.pmf
        pmf[-1] += max(0.0, 1.0 - pmf.sum())
        n = rng.multinomial(m - 1, pmf / pmf.sum(), size=samples)           # (samples, V + 1)
        out[idx] = math.log2(m) - np.mean(_log2_sum_of_ratios(k1, n, math.log1p(s / b)))
    return out


@njit(cache=True)
def _log2_sum_of_ratios(k1, n, gain):
    """Per sample, log2 of sum_j exp(gain (k_j - k_1)) over every slot (the pulsed one included as
    exp(0) = 1), from the pulsed slot's count k1 (S,) and how many empty slots hold 0, 1, 2, ...
    photons, n (S, V + 1); ``gain`` = ln(1 + Ks/Kb). Each term is taken relative to the largest
    present, exp(gain (j - k1) - top) with top = max(0, gain (j_max - k1)), and summed as numpy
    sums a row (8 running sums). A term depends only on (k1, j_max, j): each is worked out once
    (while the table of them stays under 16 MB)."""
    samples, values = n.shape
    top_k1 = 0
    for k in k1:
        top_k1 = max(top_k1, k)
    memo = (top_k1 + 1) * values * (values + 1) <= 2_000_000
    ratio = np.full((top_k1 + 1 if memo else 1, values, values + 1), np.nan)   # [k1, j_max, j]; [..., values]: exp(-top)
    out = np.empty(samples)
    terms = np.empty(values)
    for s in range(samples):
        k, j_max = k1[s], values - 1
        while n[s, j_max] == 0:              # the largest count present (M - 1 > 0 slots lie somewhere)
            j_max -= 1
        top = max(gain * (j_max - k), 0.0)
        table = ratio[k if memo else 0, j_max]
        if not memo or math.isnan(table[values]):
            for j in range(values):
                table[j] = math.exp(gain * (j - k) - top)
            table[values] = math.exp(-top)
        for j in range(values):             # an empty count adds 0 (exp is finite: j - k1 < values)
            terms[j] = n[s, j] * table[j] if n[s, j] > 0 else 0.0
        out[s] = (top + math.log(table[values] + _row_sum(terms))) / math.log(2)
    return out


@njit(cache=True)
def _row_sum(a) -> float:
    """Sum of a contiguous row in numpy's order (pairwise_sum: eight running sums, then the rest),
    so that results match numpy's bit for bit."""
    n = a.shape[0]
    if n < 8:
        total = -0.0
        for i in range(n):
            total += a[i]
        return total
    r0, r1, r2, r3, r4, r5, r6, r7 = a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]
    i = 8
    while i < n - n % 8:
        r0, r1, r2, r3 = r0 + a[i], r1 + a[i + 1], r2 + a[i + 2], r3 + a[i + 3]
        r4, r5, r6, r7 = r4 + a[i + 4], r5 + a[i + 5], r6 + a[i + 6], r7 + a[i + 7]
        i += 8
    total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        total += a[i]
        i += 1
    return total


@dataclass(frozen=True)
class Waveform:
    """What the terminal can transmit: PPM orders, slot width, guard slots, code rates."""

    orders: tuple[int, ...] = (16, 32, 64, 128)
    slot_widths_s: tuple[float, ...] = (0.5e-9, 1e-9, 2e-9, 4e-9, 8e-9, 16e-9, 32e-9)
    guard_fraction: float = 0.25     # guard slots per symbol, as a fraction of M (CCSDS 142.0-B: M/4)
    code_rates: tuple[float, ...] = (1 / 3, 1 / 2, 2 / 3)
    code_gap_db: float = 1.0         # SCPPM decoding threshold above capacity (Moision & Hamkins 2005)


@dataclass(frozen=True)
class OpticalLink:
    """Result of an optical budget."""

    distance_m: float
    signal_photons_per_s: float   # detected
    background_photons_per_s: float
    order: int
    slot_s: float
    code_rate: float
    rate_bps: float
    capacity_bps: float           # of the chosen waveform at the gap-reduced signal level
    photons_per_bit: float

    @property
    def closes(self) -> bool:
        return self.rate_bps > 0

    def to_json(self) -> dict:
        return {**self.__dict__, "closes": self.closes}


def signal_photon_rate(*, power_w, wavelength_m, tx_aperture_m, rx_aperture_m, distance_m,
                       efficiency) -> float:
    """Detected signal photons per second (diffraction-limited apertures, total ``efficiency``)."""
    g_tx = (math.pi * tx_aperture_m / wavelength_m) ** 2
    g_rx = (math.pi * rx_aperture_m / wavelength_m) ** 2
    space = (wavelength_m / (4 * math.pi * distance_m)) ** 2
    return power_w * g_tx * space * g_rx * efficiency / (H * C_M_S / wavelength_m)


def background_photon_rate(*, sky_radiance_w_m2_sr_um, field_of_view_rad, filter_nm, rx_aperture_m,
                           wavelength_m, efficiency) -> float:
    """Detected background photons per second from a sky of the given spectral radiance
    (W m^-2 sr^-1 um^-1) filling a circular field of view of full angle ``field_of_view_rad``."""
    solid_angle = math.pi * (field_of_view_rad / 2) ** 2
    area = math.pi * (rx_aperture_m / 2) ** 2
    power = sky_radiance_w_m2_sr_um * (filter_nm / 1000.0) * solid_angle * area * efficiency
    return power / (H * C_M_S / wavelength_m)


def downlink(*, power_w: float, wavelength_m: float, tx_aperture_m: float, rx_aperture_m: float,
             distance_m: float, efficiency: float, background_photons_per_s: float = 0.0,
             waveform: Waveform = Waveform()) -> OpticalLink:
    """Highest information rate over the waveform's PPM orders and code rates.

    For each slot width T_s and order M the code rate r is usable if r log2 M bits per symbol
    stay below the capacity at the signal level reduced by the code gap; the rate is
    r log2 M per symbol time M T_s (1 + guard). ``rate_bps`` is 0 only if no combination
    closes (``closes`` is then False).
    """
    for name, value in (("power_w", power_w), ("distance_m", distance_m), ("tx_aperture_m", tx_aperture_m),
                        ("rx_aperture_m", rx_aperture_m), ("wavelength_m", wavelength_m)):
        if not value > 0:
            raise ValueError(f"{name} must be positive, got {value}")
    if not 0 < efficiency <= 1:
        raise ValueError(f"efficiency must be in (0, 1], got {efficiency}")
    signal = signal_photon_rate(power_w=power_w, wavelength_m=wavelength_m, tx_aperture_m=tx_aperture_m,
                                rx_aperture_m=rx_aperture_m, distance_m=distance_m, efficiency=efficiency)
    w = waveform
    gap = 10 ** (-w.code_gap_db / 10)
    best = None
    for slot in sorted(w.slot_widths_s):
        for m in w.orders:
            symbol_s = m * slot * (1 + w.guard_fraction)
            ceiling = max(w.code_rates) * math.log2(m) / symbol_s
            if best is not None and best[0] > 0 and ceiling <= best[0]:
                continue  # even the strongest code rate could not beat the best so far
            # The pulse carries all the symbol's signal photons; background arrives in every slot.
            ks = signal * symbol_s
            kb = background_photons_per_s * slot
            capacity = float(ppm_capacity(m, ks * gap, kb))
            usable = [r for r in w.code_rates if r * math.log2(m) <= capacity]
            rate = max(usable) * math.log2(m) / symbol_s if usable else 0.0
            candidate = (rate, capacity / symbol_s, m, slot, max(usable) if usable else 0.0)
            if best is None or candidate[:2] > best[:2]:
                best = candidate
    rate, cap, m, slot, r = best
    return OpticalLink(distance_m, signal, background_photons_per_s, m, slot, r, rate, cap,
                       signal / rate if rate > 0 else math.inf)


def site_diversity(cloud_free: dict[str, float]) -> float:
    """Probability that at least one site has a cloud-free line of sight, sites independent
    (the usual first-order model; correlated weather makes it optimistic)."""
    p_all_cloudy = 1.0
    for p in cloud_free.values():
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"cloud-free probability must be in [0, 1], got {p}")
        p_all_cloudy *= 1.0 - p
    return 1.0 - p_all_cloudy


@record
class LaserTerminal:
    """The spacecraft's laser downlink terminal."""

    aperture_m: float
    laser_power_w: float
    wavelength_nm: float

    def __post_init__(self):
        positive(self, "aperture_m", "laser_power_w", "wavelength_nm")


@record
class Telescope:
    """A ground telescope receiving the laser downlink."""

    name: str
    aperture_m: float
    cloud_free: float            # probability of a cloud-free line of sight

    def __post_init__(self):
        positive(self, "aperture_m")
        positive(self, "cloud_free", zero=True)
        if self.cloud_free > 1:
            raise InputError(f"Telescope.cloud_free is a probability, at most 1; got {self.cloud_free}")


@record
class GroundOptics:
    """The receiving side shared by every telescope: losses, backgrounds and the telescopes."""

    efficiency: float                  # product of all optical losses, night atmosphere included
    night_background_per_s: float      # detector dark + night-sky counts
    day_sky_radiance_w_m2_sr_um: float
    field_of_view_urad: float
    filter_nm: float
    telescopes: tuple[Telescope, ...]

    def __post_init__(self):
        positive(self, "efficiency", "field_of_view_urad", "filter_nm")
        positive(self, "night_background_per_s", "day_sky_radiance_w_m2_sr_um", zero=True)
        if self.efficiency > 1:
            raise InputError(f"GroundOptics.efficiency is a fraction, at most 1; got {self.efficiency}")


def station_links(terminal: LaserTerminal, ground: GroundOptics, distance_m: float) -> list[dict]:
    """Night and day rates from ``terminal`` to each telescope at ``distance_m``, with its
    cloud-free probability."""
    wavelength = terminal.wavelength_nm * 1e-9
    rows = []
    for st in ground.telescopes:
        common = dict(power_w=terminal.laser_power_w, wavelength_m=wavelength,
                      tx_aperture_m=terminal.aperture_m, rx_aperture_m=st.aperture_m,
                      distance_m=distance_m, efficiency=ground.efficiency)
        day_background = ground.night_background_per_s + background_photon_rate(
            sky_radiance_w_m2_sr_um=ground.day_sky_radiance_w_m2_sr_um,
            field_of_view_rad=ground.field_of_view_urad * 1e-6, filter_nm=ground.filter_nm,
            rx_aperture_m=st.aperture_m, wavelength_m=wavelength, efficiency=ground.efficiency)
        night = downlink(background_photons_per_s=ground.night_background_per_s, **common)
        day = downlink(background_photons_per_s=day_background, **common)
        rows.append({"station": st.name, "aperture_m": st.aperture_m, "rate_bps": night.rate_bps,
                     "day_rate_bps": day.rate_bps, "closes": night.closes, "ppm_order": night.order,
                     "slot_ns": night.slot_s * 1e9, "code_rate": night.code_rate,
                     "photons_per_bit": night.photons_per_bit, "availability": st.cloud_free})
    return rows

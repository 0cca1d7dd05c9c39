"""Radio-frequency link budget for the deep-space downlink (X and Ka band).

The chain, every term in dB (DSN Telecommunications Link Design Handbook 810-005,
module 201; Yuen 1983, *Deep Space Telecommunications Systems Engineering*, ch. 1):

    C/N0 = EIRP - L_space - L_atm - L_point - L_pol + G/T - 10 log10(k)
    R_max = C/N0 - (Eb/N0)_required - margin          (in dB-bit/s)

Atmospheric attenuation (gases, clouds, rain, scintillation) comes from the ``itur``
package (ITU-R P.618-13, P.676, P.840, P.837) at the station for a chosen percentage of
time exceeded; the sky noise it adds follows from the same attenuation (ITU-R P.618-13,
sec. 3: T_sky = T_mr (1 - 10^(-A/10)) + T_cosmic 10^(-A/10), T_mr = 275 K).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from l4station.constants import AU_M, C_M_S
from l4station.errors import InputError
from l4station.records import positive, record

BOLTZMANN_DBW = -228.5991        # 10 log10(k), dBW/(K Hz), k = 1.380649e-23 J/K (SI 2019)
T_MEAN_RADIATING_K = 275.0       # ITU-R P.618-13 sec. 3 (clear-sky default)
T_COSMIC_K = 2.725               # cosmic microwave background

BAND_FREQUENCY_HZ = {"S": 2.295e9, "X": 8.42e9, "Ka": 32.0e9}
"""Deep-space (category B) downlink centre frequencies: 2290-2300, 8400-8450 and
31800-32300 MHz (ITU Radio Regulations art. 5; 810-005 module 101)."""


def free_space_loss_db(distance_m, frequency_hz):
    """Free-space path loss 20 log10(4 pi d f / c), dB (CCSDS 401.0-B; Friis 1946).

    >>> round(float(free_space_loss_db(149597870700.0, 8.42e9)), 2)
    274.45
    """
    return 20.0 * np.log10(4.0 * np.pi * np.asarray(distance_m) * np.asarray(frequency_hz) / C_M_S)


def antenna_gain_dbi(diameter_m, frequency_hz, efficiency):
    """Gain of a circular aperture, 10 log10(eta (pi D f / c)^2), dBi (Balanis 2016, eq. 15-21).

    >>> round(float(antenna_gain_dbi(70.0, 8.42e9, 0.687)), 2)  # DSN 70 m at X band
    74.18
    """
    return 10.0 * np.log10(efficiency * (np.pi * np.asarray(diameter_m) * np.asarray(frequency_hz) / C_M_S) ** 2)


def pointing_loss_db(error_deg, diameter_m, frequency_hz):
    """Gaussian-beam pointing loss 12 (theta / theta_3dB)^2 dB with theta_3dB = 70 lambda / D deg
    (Maral & Bousquet 2009, eq. 2.10)."""
    beamwidth = 70.0 * (C_M_S / np.asarray(frequency_hz)) / np.asarray(diameter_m)
    return 12.0 * (np.asarray(error_deg) / beamwidth) ** 2


def sky_noise_temperature_k(attenuation_db):
    """Noise the atmosphere adds at the antenna for a given total attenuation (ITU-R P.618-13, sec. 3)."""
    transmission = 10.0 ** (-np.asarray(attenuation_db) / 10.0)
    return T_MEAN_RADIATING_K * (1.0 - transmission) + T_COSMIC_K * transmission


def bpsk_required_ebn0_db(bit_error_rate: float) -> float:
    """Uncoded coherent BPSK: BER = Q(sqrt(2 Eb/N0)) solved for Eb/N0, dB (Proakis 2008, eq. 4.3-13),
    with the normal quantile of the standard library (Wichura 1988, AS 241: 1e-16 relative)."""
    ebn0 = NormalDist().inv_cdf(bit_error_rate) ** 2 / 2.0
    return 10.0 * math.log10(ebn0)


@dataclass(frozen=True)
class Code:
    """A CCSDS telemetry code and the Eb/N0 it needs."""

    name: str
    rate: float
    required_ebn0_db: float
    reference: str


# Thresholds read off the performance curves of CCSDS 130.1-G-2 (TM Synchronization and Channel
# Coding, Summary of Concept and Rationale, 2012) at frame error rate 1e-4 (block codes) or bit error
# rate 1e-6 (convolutional), reading accuracy +-0.2 dB; uncoded BPSK computed exactly.
CODES = {
    "uncoded": Code("uncoded", 1.0, round(bpsk_required_ebn0_db(1e-6), 2), "BPSK, BER 1e-6, exact"),
    "conv-7-1/2": Code("conv-7-1/2", 0.5, 5.0, "130.1-G-2 fig. 5-2, BER 1e-6"),
    "rs-conv": Code("rs-conv", 0.5 * 223 / 255, 2.5, "130.1-G-2 fig. 6-11, RS(255,223)+CC(7,1/2), I=5"),
    "turbo-1/2": Code("turbo-1/2", 1 / 2, 1.0, "130.1-G-2 fig. 7-9, k=8920"),
    "turbo-1/3": Code("turbo-1/3", 1 / 3, 0.5, "130.1-G-2 fig. 7-9, k=8920"),
    "turbo-1/4": Code("turbo-1/4", 1 / 4, 0.3, "130.1-G-2 fig. 7-9, k=8920"),
    "turbo-1/6": Code("turbo-1/6", 1 / 6, 0.1, "130.1-G-2 fig. 7-9, k=8920"),
    "ldpc-1/2": Code("ldpc-1/2", 1 / 2, 1.2, "130.1-G-2 fig. 8-4, AR4JA k=1024"),
    "ldpc-7/8": Code("ldpc-7/8", 7136 / 8160, 4.0, "130.1-G-2 fig. 8-13, (8160,7136)"),
}


@record
class RadioTerminal:
    """The spacecraft's RF downlink terminal."""

    power_w: float
    antenna_diameter_m: float
    antenna_efficiency: float
    bands: tuple[str, ...]        # bands it transmits in

    def __post_init__(self):
        positive(self, "power_w", "antenna_diameter_m", "antenna_efficiency")
        if self.antenna_efficiency > 1 or not self.bands or not set(self.bands) <= set(BAND_FREQUENCY_HZ):
            raise InputError(f"RadioTerminal: efficiency must be at most 1 and bands among "
                             f"{', '.join(BAND_FREQUENCY_HZ)}, got {self.antenna_efficiency}, {self.bands}")


@record
class LinkSettings:
    """How a downlink is operated: code, margin, weather availability and pointing."""

    code: str = "turbo-1/6"
    required_margin_db: float = 3.0
    availability: float = 0.95     # fraction of time the link must close (ITU-R P.618)
    pointing_error_deg: float = 0.1

    def __post_init__(self):
        positive(self, "required_margin_db", "pointing_error_deg", zero=True)
        positive(self, "availability")
        if self.code not in CODES or not 0.95 <= self.availability <= 0.99999:
            raise InputError(f"LinkSettings: code must be one of {', '.join(CODES)} and availability within "
                             f"0.95-0.99999 (ITU-R P.618), got {self.code!r}, {self.availability}")


def best_band(station, spacecraft_bands) -> str:
    """The highest-frequency band both ends have (Ka before X before S)."""
    for band in ("Ka", "X", "S"):
        if band in station.bands and band in spacecraft_bands:
            return band
    raise ValueError(f"station '{station.name}' shares no band with the spacecraft "
                     f"(station: {', '.join(station.bands)}; spacecraft: {', '.join(spacecraft_bands)})")


@dataclass(frozen=True)
class LinkBudget:
    """One downlink, term by term (dB unless named otherwise)."""

    station: str
    band: str
    elevation_deg: float
    distance_m: float
    eirp_dbw: float
    path_loss_db: float
    atmosphere_db: float
    pointing_loss_db: float
    polarization_loss_db: float
    gt_dbk: float
    system_noise_k: float
    cn0_dbhz: float
    code: str
    required_ebn0_db: float
    required_margin_db: float
    data_rate_bps: float       # highest rate that closes with the required margin

    @property
    def margin_db(self) -> float:
        """Margin at ``data_rate_bps``: the required one, since that rate is chosen to leave it."""
        return self.required_margin_db

    def to_json(self) -> dict:
        fields = {k: (float(v) if isinstance(v, (float, np.floating)) else v) for k, v in self.__dict__.items()}
        return {**fields, "margin_db": self.margin_db}

    def __str__(self) -> str:
        rows = [("EIRP", self.eirp_dbw, "dBW"), ("Free-space loss", -self.path_loss_db, "dB"),
                ("Atmosphere", -self.atmosphere_db, "dB"), ("Pointing", -self.pointing_loss_db, "dB"),
                ("Polarization", -self.polarization_loss_db, "dB"), ("G/T", self.gt_dbk, "dB/K"),
                ("Boltzmann", -BOLTZMANN_DBW, "dB"), ("C/N0", self.cn0_dbhz, "dB-Hz"),
                (f"Eb/N0 required ({self.code})", -self.required_ebn0_db, "dB"),
                ("Margin", -self.margin_db, "dB"), ("Data rate", 10 * math.log10(self.data_rate_bps), "dB-bps")]
        lines = [f"{self.station} {self.band}-band at {self.elevation_deg:.1f} deg elevation, "
                 f"{self.distance_m / AU_M:.3f} au"]
        lines += [f"  {name:<32} {value:+9.2f} {unit}" for name, value, unit in rows]
        lines.append(f"  {'= ' + format(self.data_rate_bps, ',.0f') + ' bps':>44}")
        return "\n".join(lines)


def budget(*, station: str, band: str, elevation_deg: float, distance_m: float,
           tx_power_w: float, tx_diameter_m: float, tx_efficiency: float,
           rx_diameter_m: float, rx_efficiency: float, system_noise_k: float, atmosphere_db: float = 0.0,
           code: str = "turbo-1/6", required_margin_db: float = 3.0, tx_pointing_deg: float = 0.1,
           rx_pointing_deg: float = 0.0, polarization_loss_db: float = 0.1,
           circuit_loss_db: float = 1.0) -> LinkBudget:
    """Budget of any link (ground or space receiver) given the receiver's system noise
    temperature and the atmospheric loss; returns the highest rate that closes.

    ``circuit_loss_db``: transmitter waveguide and radome losses (estimated 1 dB).
    """
    if band not in BAND_FREQUENCY_HZ:
        raise ValueError(f"unknown band '{band}'; known: {', '.join(BAND_FREQUENCY_HZ)}")
    if code not in CODES:
        raise ValueError(f"unknown code '{code}'; known: {', '.join(CODES)}")
    for name, value in (("tx_power_w", tx_power_w), ("distance_m", distance_m), ("tx_diameter_m", tx_diameter_m),
                        ("rx_diameter_m", rx_diameter_m), ("system_noise_k", system_noise_k)):
        if not value > 0:
            raise ValueError(f"{name} must be positive, got {value}")
    f = BAND_FREQUENCY_HZ[band]
    eirp = 10 * math.log10(tx_power_w) + float(antenna_gain_dbi(tx_diameter_m, f, tx_efficiency)) - circuit_loss_db
    pointing = float(pointing_loss_db(tx_pointing_deg, tx_diameter_m, f) + pointing_loss_db(rx_pointing_deg, rx_diameter_m, f))
    path = float(free_space_loss_db(distance_m, f))
    gt = float(antenna_gain_dbi(rx_diameter_m, f, rx_efficiency)) - 10 * math.log10(system_noise_k)
    cn0 = eirp - path - atmosphere_db - pointing - polarization_loss_db + gt - BOLTZMANN_DBW
    required = CODES[code].required_ebn0_db
    rate_db = cn0 - required - required_margin_db
    return LinkBudget(station, band, float(elevation_deg), float(distance_m), eirp, path, atmosphere_db, pointing,
                      polarization_loss_db, gt, system_noise_k, cn0, code, required, required_margin_db,
                      10 ** (rate_db / 10))


@functools.lru_cache(maxsize=256)
def atmosphere_db(latitude_deg: float, longitude_deg: float, height_m: float, band: str,
                  elevations_deg: tuple[float, ...], availability: float, diameter_m: float) -> np.ndarray:
    """Total atmospheric attenuation (dB) at a site for each elevation, exceeded a fraction
    1 - ``availability`` of the time (ITU-R P.618-13 with P.676, P.840, P.837 via ``itur``;
    one vectorised call, kept in this process and in the user's cache, :func:`l4station.cache.shared`:
    loading the ITU maps takes seconds, reading the kept numbers milliseconds)."""
    from importlib.metadata import version

    from l4station import cache

    inputs = (latitude_deg, longitude_deg, height_m, band, elevations_deg, availability, diameter_m)
    atm = cache.compute(cache.shared(), "itu-atmosphere", (inputs, version("itur")),
                        lambda: _itu_atmosphere_db(*inputs))
    atm.flags.writeable = False
    return atm


POLE_OFFSET_LAT_DEG = 89.99
"""ITU maps are read at most this far from the equator: itur gives NaN at exactly 90 S, where its
grid folds; 0.01 deg (1 km) from the pole its maps give the same attenuation to 1e-4 dB."""


def _itu_atmosphere_db(latitude_deg, longitude_deg, height_m, band, elevations_deg, availability, diameter_m):
    import itur  # imported here: loading its ITU maps takes a second

    p_exceed = round(100.0 * (1.0 - availability), 9)  # 0.95 -> 5 %, not 5.000000000000004
    latitude = min(max(latitude_deg, -POLE_OFFSET_LAT_DEG), POLE_OFFSET_LAT_DEG)
    with np.errstate(invalid="ignore"):  # itur's scintillation term warns on some sites; checked below
        atm = np.atleast_1d(itur.atmospheric_attenuation_slant_path(
            latitude, longitude_deg, BAND_FREQUENCY_HZ[band] / 1e9, np.array(elevations_deg), p_exceed,
            diameter_m, hs=height_m / 1000.0).value).astype(float)
    if not np.all(np.isfinite(atm)):
        raise InputError(f"ITU-R P.618 gives no attenuation at latitude {latitude_deg}, longitude {longitude_deg} "
                         f"for elevations {elevations_deg} deg; check the station's coordinates")
    return atm


def downlink(*, station: str, band: str, elevation_deg: float, distance_m: float,
             tx_power_w: float, tx_diameter_m: float, tx_efficiency: float,
             rx_diameter_m: float, rx_efficiency: float, receiver_noise_k: float,
             latitude_deg: float, longitude_deg: float, height_m: float = 0.0,
             availability: float = 0.99, atmosphere: float | None = None, **kwargs) -> LinkBudget:
    """Budget of one spacecraft-to-ground-station downlink: the ITU-R atmosphere at the site for
    the ``availability`` (fraction of time the link must close) and the sky noise it adds to the
    receiver's ``receiver_noise_k``; other keywords as :func:`budget`. ``atmosphere`` (dB): the
    attenuation if already known (from :func:`atmosphere_db`)."""
    if band not in BAND_FREQUENCY_HZ:
        raise ValueError(f"unknown band '{band}'; known: {', '.join(BAND_FREQUENCY_HZ)}")
    if not 0.95 <= availability <= 0.99999:
        raise ValueError(f"availability must be between 0.95 and 0.99999 (ITU-R P.618 holds for "
                         f"0.001-5% of the time), got {availability}")
    if not 0.0 < elevation_deg <= 90.0:
        raise ValueError(f"elevation must be above the horizon, got {elevation_deg} deg; "
                         "the station does not see the spacecraft")
    atm = atmosphere if atmosphere is not None else float(atmosphere_db(
        latitude_deg, longitude_deg, height_m, band, (float(elevation_deg),), availability, rx_diameter_m)[0])
    return budget(station=station, band=band, elevation_deg=elevation_deg, distance_m=distance_m,
                  tx_power_w=tx_power_w, tx_diameter_m=tx_diameter_m, tx_efficiency=tx_efficiency,
                  rx_diameter_m=rx_diameter_m, rx_efficiency=rx_efficiency,
                  system_noise_k=receiver_noise_k + float(sky_noise_temperature_k(atm)), atmosphere_db=atm, **kwargs)


def station_downlink(terminal: RadioTerminal, link: LinkSettings, station, band: str, elevation_deg: float,
                     distance_m: float, atmosphere: float | None = None) -> LinkBudget:
    """Downlink budget from ``terminal`` to one ground station (a
    :class:`~l4station.comms.stations.GroundStation`) in one band (``atmosphere``: dB, if known)."""
    return downlink(
        station=station.name, band=band, elevation_deg=elevation_deg, distance_m=distance_m,
        tx_power_w=terminal.power_w, tx_diameter_m=terminal.antenna_diameter_m,
        tx_efficiency=terminal.antenna_efficiency, rx_diameter_m=station.diameter_m,
        rx_efficiency=station.aperture_efficiency(band), receiver_noise_k=station.receiver_noise(band),
        latitude_deg=station.latitude_deg, longitude_deg=station.longitude_deg, height_m=station.height_m,
        availability=link.availability, code=link.code, required_margin_db=link.required_margin_db,
        tx_pointing_deg=link.pointing_error_deg, atmosphere=atmosphere)


def network_budgets(terminal: RadioTerminal, link: LinkSettings, stations, elevation_deg: float,
                    distance_m: float) -> list[LinkBudget]:
    """Budgets to every station in every band it shares with ``terminal``."""
    return [station_downlink(terminal, link, s, band, elevation_deg, distance_m)
            for s in stations for band in terminal.bands if band in s.bands]

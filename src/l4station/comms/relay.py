"""Relayed paths for the L4 station's data, and the L4 station as a relay for Mars.

A path is a chain of hops; its rate is the slowest hop's and its latency the sum of the
hops' light times plus a store-and-forward delay at each relay node (Yuen 1983, ch. 1;
CCSDS 734.0-G-1, Delay-Tolerant Networking, for the store-and-forward model).

Paths built for a mission (:func:`mission_paths`), at the mission's greatest Earth range:
* L4 -> ground, RF (best tracking station, best band, 20 deg elevation);
* L4 -> ground, optical (best telescope, night);
* L4 -> optical relay in geostationary orbit (no atmosphere, no clouds) -> ground feeder;
* L4 -> L1 and L4 -> L5 cross-links (RF, the station's own terminal at both ends);
* Mars orbiter -> L4 -> ground, through each Mars solar conjunction of the mission.
"""
from __future__ import annotations

from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.time import Time

from l4station import ephemeris
from l4station.arrays import runs
from l4station.comms import optical, rf
from l4station.constants import AU_M, C_M_S, JULIAN_YEAR_DAYS
from l4station.geometry import angle_between
from l4station.records import positive, record

GEO_RADIUS_M = 42164e3
RELAY_ANTENNA_EFFICIENCY = 0.55   # a relay craft's high-gain antenna, as typical deep-space HGAs (default.toml)


@dataclass(frozen=True)
class Hop:
    source: str
    sink: str
    distance_m: float
    rate_bps: float

    @property
    def light_s(self) -> float:
        return self.distance_m / C_M_S


@dataclass(frozen=True)
class Path:
    """Hops in a chain. One hop of 1 au (IAU 2012) takes 499.005 s of light time:

    >>> round(Path([Hop("L4", "Earth", 149597870700.0, 1e6)], relay_delay_s=1.0).latency_s, 3)
    499.005
    """

    hops: list[Hop]
    relay_delay_s: float

    @property
    def nodes(self) -> list[str]:
        return [self.hops[0].source] + [h.sink for h in self.hops]

    @property
    def rate_bps(self) -> float:
        return min(h.rate_bps for h in self.hops)

    @property
    def latency_s(self) -> float:
        return sum(h.light_s for h in self.hops) + self.relay_delay_s * (len(self.hops) - 1)

    def to_json(self) -> dict:
        return {"path": self.nodes, "rate_bps": self.rate_bps, "latency_s": self.latency_s,
                "hops": [{"from": h.source, "to": h.sink, "distance_au": h.distance_m / AU_M, "rate_bps": h.rate_bps}
                         for h in self.hops]}


@record
class RelaySettings:
    """Relay assumptions: an optical relay in Earth orbit, cross-links, a Mars orbiter."""

    geo_aperture_m: float        # telescope of the relay above the clouds
    geo_feeder_bps: float        # relay-to-ground feeder
    spacecraft_noise_k: float    # receiver system noise of a spacecraft
    relay_delay_s: float         # store-and-forward per relay node
    mars_power_w: float          # Mars orbiter X-band transmitter
    mars_antenna_m: float        # Mars orbiter high-gain antenna
    conjunction_deg: float       # Sun-Earth-probe angle below which a link is lost

    def __post_init__(self):
        positive(self, "geo_aperture_m", "geo_feeder_bps", "spacecraft_noise_k", "mars_power_w", "mars_antenna_m",
                 "conjunction_deg")
        positive(self, "relay_delay_s", zero=True)


def _space_link(terminal: rf.RadioTerminal, link: rf.LinkSettings, relay: RelaySettings, distance_m: float, *,
                tx_power_w: float, tx_diameter_m: float, band: str = "X") -> float:
    """Rate (bps) of a spacecraft-to-spacecraft RF link into ``terminal`` (no atmosphere)."""
    return rf.budget(station="space", band=band, elevation_deg=90.0, distance_m=distance_m, tx_power_w=tx_power_w,
                     tx_diameter_m=tx_diameter_m, tx_efficiency=RELAY_ANTENNA_EFFICIENCY,
                     rx_diameter_m=terminal.antenna_diameter_m, rx_efficiency=terminal.antenna_efficiency,
                     system_noise_k=relay.spacecraft_noise_k, code=link.code,
                     required_margin_db=link.required_margin_db, tx_pointing_deg=link.pointing_error_deg,
                     rx_pointing_deg=link.pointing_error_deg).data_rate_bps


@dataclass(frozen=True)
class Conjunction:
    """A Mars solar conjunction seen from Earth, and whether the station (at L4 or L5) bridges it as a relay."""

    start: Time
    end: Time
    min_sun_earth_mars_deg: float
    min_sun_station_mars_deg: float  # Sun-station-Mars angle (deg) at the station (L4 or L5)
    relay_clear: bool
    relay: Path

    def to_json(self) -> dict:
        return {"start": self.start.utc.isot[:10], "end": self.end.utc.isot[:10],
                "min_sun_earth_mars_deg": self.min_sun_earth_mars_deg,
                "min_sun_station_mars_deg": self.min_sun_station_mars_deg, "relay_clear": self.relay_clear,
                **{k: v for k, v in self.relay.to_json().items() if k != "hops"}}


def mars_conjunctions(target: str, epoch: Time, years: float, relay: RelaySettings, terminal: rf.RadioTerminal,
                      link: rf.LinkSettings, ground_rate_bps: float) -> list[Conjunction]:
    """Mars solar conjunctions in ``years`` from ``epoch`` (Sun-Earth-Mars angle below
    ``relay.conjunction_deg``) and the Mars -> ``target`` -> Earth relay through each."""
    t = epoch + np.arange(0.0, years * JULIAN_YEAR_DAYS + 1, 1.0) * u.day
    earth = ephemeris.position("earth", t).value
    mars = ephemeris.position("mars", t).value
    point = ephemeris.lagrange_point(target, t)[0].value
    sem = np.degrees(angle_between(-earth, mars - earth))
    ssm = np.degrees(angle_between(-point, mars - point))

    out = []
    for a, b in runs(sem < relay.conjunction_deg):
        k = slice(a, b)
        worst = int(a + np.argmin(ssm[k]))
        d_mars_station = float(np.linalg.norm(mars[worst] - point[worst])) * 1e3
        d_station_earth = float(np.linalg.norm(point[worst] - earth[worst])) * 1e3
        up = _space_link(terminal, link, relay, d_mars_station, tx_power_w=relay.mars_power_w,
                         tx_diameter_m=relay.mars_antenna_m)
        path = Path([Hop("Mars", target, d_mars_station, up), Hop(target, "Earth", d_station_earth, ground_rate_bps)],
                    relay.relay_delay_s)
        out.append(Conjunction(t[a], t[b - 1], float(sem[k].min()), float(ssm[k].min()),
                               bool(ssm[k].min() > relay.conjunction_deg), path))
    return out


def mission_paths(target: str, epoch: Time, distance_m: float, *, terminal: rf.RadioTerminal, link: rf.LinkSettings,
                  tracking, relay: RelaySettings, laser: optical.LaserTerminal | None = None,
                  optics: optical.GroundOptics | None = None, optical_rows: list[dict] | None = None) -> list[Path]:
    """The station's own relay options at Earth range ``distance_m`` (see module docstring):
    ``tracking`` the ground stations scheduled for passes; the optical paths need ``laser`` and
    telescopes in ``optics``. ``optical_rows``: :func:`l4station.comms.optical.station_links` at
    that range, if at hand."""
    rf_best = max((rf.station_downlink(terminal, link, s, rf.best_band(s, terminal.bands), 20.0, distance_m)
                   for s in tracking), key=lambda b: b.data_rate_bps)
    paths = [Path([Hop(target, rf_best.station, distance_m, rf_best.data_rate_bps)], relay.relay_delay_s)]
    if laser is not None and optics is not None and optics.telescopes:
        rows = optical_rows if optical_rows is not None else optical.station_links(laser, optics, distance_m)
        best = max(rows, key=lambda row: row["rate_bps"])
        paths.append(Path([Hop(target, best["station"], distance_m, best["rate_bps"])], relay.relay_delay_s))
        above_clouds = optics.efficiency / optical.NIGHT_ATMOSPHERE_1550NM   # no atmosphere on GEO's path
        geo = optical.downlink(power_w=laser.laser_power_w, wavelength_m=laser.wavelength_nm * 1e-9,
                               tx_aperture_m=laser.aperture_m, rx_aperture_m=relay.geo_aperture_m,
                               distance_m=distance_m, efficiency=min(1.0, above_clouds),
                               background_photons_per_s=optics.night_background_per_s)
        paths.append(Path([Hop(target, "GEO relay", distance_m, geo.rate_bps),
                           Hop("GEO relay", "ground", GEO_RADIUS_M - 6378e3, relay.geo_feeder_bps)],
                          relay.relay_delay_s))
    point = ephemeris.lagrange_point(target, epoch)[0].value
    for other in ("L1", "L5") if target == "L4" else ("L1", "L4"):
        d = float(np.linalg.norm(ephemeris.lagrange_point(other, epoch)[0].value - point)) * 1e3
        rate = _space_link(terminal, link, relay, d, tx_power_w=terminal.power_w,
                           tx_diameter_m=terminal.antenna_diameter_m)
        paths.append(Path([Hop(target, other, d, rate)], relay.relay_delay_s))
    return paths

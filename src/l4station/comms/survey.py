"""Every way the data can come home, at one Earth range: RF budgets to each station, laser
links to each telescope, relay paths, and Mars relayed through its solar conjunctions."""
from __future__ import annotations

from dataclasses import dataclass

import astropy.units as u
from astropy.time import Time

from l4station import ephemeris, tables
from l4station.comms import rf
from l4station.comms.optical import GroundOptics, LaserTerminal, site_diversity, station_links
from l4station.comms.relay import Conjunction, Path, RelaySettings, mars_conjunctions, mission_paths
from l4station.comms.stations import GroundStation
from l4station.constants import AU_M
from l4station.records import instant, one_of, positive, record


@record
class SurveyInputs:
    """Everything a link survey depends on besides the range and elevation."""

    target: str
    epoch: Time                          # start of operations
    years: float                         # of operations (Mars conjunctions within them)
    terminal: rf.RadioTerminal
    link: rf.LinkSettings
    network: tuple[GroundStation, ...]
    tracking: tuple[GroundStation, ...]
    laser: LaserTerminal | None
    optics: GroundOptics
    relay: RelaySettings

    def __post_init__(self):
        one_of(self, "target", ("L4", "L5"))
        positive(self, "years")
        instant(self, "epoch")


@dataclass(frozen=True)
class LinkSurvey:
    distance_m: float
    elevation_deg: float
    budgets: list[rf.LinkBudget]
    optical: list[dict]
    optical_site_diversity: float
    paths: list[Path]
    conjunctions: list[Conjunction]
    inputs: SurveyInputs

    def to_json(self) -> dict:
        return {"distance_au": self.distance_m / AU_M, "elevation_deg": self.elevation_deg,
                "links": [b.to_json() for b in self.budgets], "optical": self.optical,
                "optical_site_diversity": self.optical_site_diversity,
                "relays": [p.to_json() for p in self.paths],
                "mars_conjunctions": [c.to_json() for c in self.conjunctions]}

    def __rich__(self):
        link = self.inputs.link
        parts = [tables.table(
            f"Downlinks at {self.distance_m / AU_M:.4f} au, {self.elevation_deg:g} deg elevation, {link.code}, "
            f"{link.required_margin_db:g} dB margin, {link.availability:.0%} availability",
            ["Station", "Band", "EIRP (dBW)", "Path (dB)", "Atm. (dB)", "G/T (dB/K)", "C/N0 (dB-Hz)", "Rate (kbps)"],
            [[b.station, b.band, f"{b.eirp_dbw:.2f}", f"{b.path_loss_db:.2f}", f"{b.atmosphere_db:.2f}",
              f"{b.gt_dbk:.2f}", f"{b.cn0_dbhz:.2f}", f"{b.data_rate_bps / 1e3:,.1f}"] for b in self.budgets],
            left=2)]
        if self.optical:
            parts.append(tables.table(
                f"Laser downlinks (PPM, photon counting); one site or more clear {self.optical_site_diversity:.0%} "
                "of the time",
                ["Telescope", "Aperture (m)", "Night (Mbps)", "Day (Mbps)", "PPM", "Slot (ns)", "Code", "Clear sky"],
                [[r["station"], f"{r['aperture_m']:g}",
                  f"{r['rate_bps'] / 1e6:.2f}" if r["closes"] else "does not close",
                  f"{r['day_rate_bps'] / 1e6:.2f}" if r["day_rate_bps"] > 0 else "does not close",
                  str(r["ppm_order"]), f"{r['slot_ns']:g}", f"{r['code_rate']:.2f}", f"{r['availability']:.0%}"]
                 for r in self.optical]))
        rows = [[" → ".join(p.nodes), tables.rate_text(p.rate_bps), f"{p.latency_s:.1f}"] for p in self.paths]
        rows += [[f"Mars → {self.inputs.target} → Earth, conjunction {c.start.utc.isot[:10]}..{c.end.utc.isot[:10]} "
                  f"({'clear' if c.relay_clear else 'blocked'}, {c.min_sun_station_mars_deg:.0f}° from the Sun)",
                  tables.rate_text(c.relay.rate_bps), f"{c.relay.latency_s:.0f}"] for c in self.conjunctions]
        parts.append(tables.table("Paths for the data", ["Path", "Rate", "Latency (s)"], rows))
        return tables.group(*parts)


def greatest_range_m(target: str, epoch: Time, duration: u.Quantity) -> float:
    """Greatest Earth–``target`` distance (m) over ``duration`` from ``epoch``, sampled every
    5 days: the design case. L4 shares Earth's orbit, 1 au of chord at 60 deg, so over a year it
    reaches Earth's aphelion distance, 1.0167 au (Astronomical Almanac):

    >>> round(greatest_range_m("L4", Time("2031-01-01"), 1 * u.yr) / AU_M, 4)
    1.0167
    """
    from l4station.geometry import geometry_timeline, mission_times

    t = mission_times(epoch, duration, 5 * u.day)
    return float(geometry_timeline(t, ephemeris.lagrange_point(target, t)[0]).earth_range.to_value(u.m).max())


def survey(inputs: SurveyInputs, distance_m: float, elevation_deg: float = 20.0) -> LinkSurvey:
    """All links at ``distance_m``; ground stations at ``elevation_deg``."""
    i = inputs
    budgets = rf.network_budgets(i.terminal, i.link, i.network, elevation_deg, distance_m)
    optical_rows = station_links(i.laser, i.optics, distance_m) if i.laser is not None else []
    diversity = site_diversity({r["station"]: r["availability"] for r in optical_rows})
    paths = mission_paths(i.target, i.epoch, distance_m, terminal=i.terminal, link=i.link, tracking=i.tracking,
                          relay=i.relay, laser=i.laser, optics=i.optics, optical_rows=optical_rows)
    return LinkSurvey(distance_m, elevation_deg, budgets, optical_rows, diversity, paths,
                      mars_conjunctions(i.target, i.epoch, i.years, i.relay, i.terminal, i.link, paths[0].rate_bps), i)

"""Every way the data can come home, at one Earth range: RF budgets to each station, laser
links to each telescope, relay paths, and Mars relayed through its solar conjunctions."""
from __future__ import annotations

from dataclasses import dataclass

import astropy.units as u

from l4station import ephemeris
from l4station.comms.contacts import network_budgets
from l4station.comms.optical import site_diversity, station_links
from l4station.comms.relay import Conjunction, Path, mars_conjunctions, mission_paths
from l4station.comms.rf import LinkBudget
from l4station.constants import AU_M



@dataclass(frozen=True)
class LinkSurvey:
    distance_m: float
    elevation_deg: float
    budgets: list[LinkBudget]
    optical: list[dict]
    optical_site_diversity: float
    paths: list[Path]
    conjunctions: list[Conjunction]

    def to_json(self) -> dict:
        return {"distance_au": self.distance_m / AU_M, "elevation_deg": self.elevation_deg,
                "links": [b.to_json() for b in self.budgets], "optical": self.optical,
                "optical_site_diversity": self.optical_site_diversity,
                "relays": [p.to_json() for p in self.paths],
                "mars_conjunctions": [c.to_json() for c in self.conjunctions]}


def greatest_range_m(config) -> float:
    """The mission's greatest Earth–target distance (m), sampled every 5 days: the design case."""
    from l4station.geometry import geometry_timeline, mission_times

    m = config.mission
    t = mission_times(m.epoch_time, m.duration, 5 * u.day)
    return float(geometry_timeline(t, ephemeris.lagrange_point(m.target, t)[0]).earth_range.to_value(u.m).max())


def survey(config, distance_m: float, elevation_deg: float = 20.0) -> LinkSurvey:
    """All links at ``distance_m``; ground stations at ``elevation_deg``."""
    budgets = network_budgets(config, elevation_deg, distance_m)
    optical_rows = station_links(config, distance_m) if config.spacecraft.optical else []
    diversity = site_diversity({r["station"]: r["availability"] for r in optical_rows})
    paths = mission_paths(config, distance_m, optical_rows)
    return LinkSurvey(distance_m, elevation_deg, budgets, optical_rows, diversity, paths,
                      mars_conjunctions(config, paths[0].rate_bps))

"""Ground stations: the DSN and KDSA catalogue, and partner stations from a mission file.

The catalogue (``stations.toml`` beside this module) cites its sources line by line.

The catalogue holds the 15 DSN antennas of 810-005 module 301 and KDSA; DSS-14 is Goldstone's 70 m:

>>> stations = catalogue()
>>> len(stations), stations["DSS-14"].diameter_m
(16, 70.0)
"""
from __future__ import annotations

import functools
import tomllib
from importlib import resources
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from l4station.schema import Real

Band = Literal["S", "X", "Ka"]

GENERIC_EFFICIENCY = 0.55
"""Aperture efficiency assumed for a station that does not state its own (estimated)."""

GENERIC_RECEIVER_NOISE_K = {"S": 80.0, "X": 100.0, "Ka": 150.0}
"""Receiver and antenna zenith noise assumed for a station that does not state its own
(estimated, uncooled low-noise amplifiers)."""


class GroundStation(BaseModel):
    """A receiving antenna: WGS 84 geodetic position, aperture, bands and elevation floor."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    complex: str = ""
    kind: str = ""
    latitude_deg: Real = Field(ge=-90.0, le=90.0)
    longitude_deg: Real = Field(ge=-180.0, le=360.0)
    height_m: Real = Field(ge=-500.0, le=9000.0)
    diameter_m: Real = Field(gt=0.0, le=200.0)
    bands: list[Band] = Field(min_length=1)
    min_elevation_deg: Real = Field(default=10.0, ge=0.0, lt=90.0)
    efficiency: dict[Band, Annotated[Real, Field(gt=0.0, le=1.0)]] = {}
    receiver_noise_k: dict[Band, Annotated[Real, Field(gt=0.0, le=5000.0)]] = {}

    def aperture_efficiency(self, band: str) -> float:
        """Aperture efficiency in ``band``: the station's own, else GENERIC_EFFICIENCY (estimated)."""
        self._check_band(band)
        return self.efficiency.get(band, GENERIC_EFFICIENCY)

    def receiver_noise(self, band: str) -> float:
        """Zenith noise temperature (K) of antenna and receiver without the atmosphere: the
        station's own, else GENERIC_RECEIVER_NOISE_K (estimated)."""
        self._check_band(band)
        return self.receiver_noise_k.get(band, GENERIC_RECEIVER_NOISE_K[band])

    def _check_band(self, band: str) -> None:
        if band not in self.bands:
            raise ValueError(f"station '{self.name}' does not receive {band} band; it has {', '.join(self.bands)}")

    @property
    def location(self):
        """Astropy :class:`~astropy.coordinates.EarthLocation` (WGS 84) of the antenna."""
        import astropy.units as u
        from astropy.coordinates import EarthLocation

        return EarthLocation.from_geodetic(self.longitude_deg * u.deg, self.latitude_deg * u.deg,
                                           self.height_m * u.m, ellipsoid="WGS84")


@functools.cache
def catalogue() -> dict[str, GroundStation]:
    """Stations shipped with l4station, by name (DSS-14, ..., KDSA)."""
    text = (resources.files("l4station.comms") / "stations.toml").read_text()
    return {s["name"]: GroundStation(**s) for s in tomllib.loads(text)["station"]}

"""Mission configuration: a TOML file validated by a pydantic schema.

A mission file is laid over the embedded default (``missions/default.toml``):
tables merge key by key, arrays replace whole, so a file need hold only what
differs. A file that sets ``ground.stations`` starts its tracking and beacon roles
afresh (every station tracks, none is a beacon station) unless it sets them too. Unknown keys, wrong types and impossible values are refused with a
:class:`ConfigError` that names the file, the field and the fix.

Every number is finite and bounded by what is physical for this mission (the bounds stand next
to each field: the mission lasts at most 30 years, the timeline step is a minute or more, masses
are at most 100 t, ...), booleans are not numbers and counts are whole (:mod:`l4station.schema`),
and the sizes of the work a file asks for are capped (timeline samples, transfer grid), so that
a file that passes ``config check`` runs.
"""
from __future__ import annotations

import difflib
import functools
import hashlib
import json
import math
import tomllib
import types
import typing
from datetime import date, datetime, timedelta, timezone
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

import astropy.units as u
import tomli_w
from astropy.time import Time
from pydantic import (BaseModel, ConfigDict, Field, ValidationError, ValidationInfo,
                      field_validator, model_validator)

from l4station import ephemeris, textfiles
from l4station.comms.stations import GroundStation, catalogue
from l4station.constants import DAY_S, JULIAN_YEAR_DAYS, JULIAN_YEAR_S
from l4station.errors import InputError
from l4station.limits import MAX_CONTACT_SAMPLES, MAX_TIMELINE_SAMPLES, MAX_TRADE_GRID
from l4station.schema import Day, Flag, Fraction, Instant, Integer, Real

DEFAULT_MISSION = "default.toml"
MINUTE_DAYS = 1.0 / 1440.0


class ConfigError(InputError):
    """A mission file that cannot be used; ``source`` and ``field`` say where."""

    def __init__(self, source: str, field: str, problem: str):
        self.source, self.field, self.problem = source, field, problem
        where = f"{source}: {field}: " if field else f"{source}: "
        super().__init__(where + problem)

    def __reduce__(self):            # raised in a worker process, it crosses back whole
        return type(self), (self.source, self.field, self.problem)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _utc(value: datetime) -> datetime:
    """TOML local date-times are taken as UTC; offsets are converted to UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


EPHEMERIS_MARGIN = timedelta(days=1)
"""How far inside DE421's ends a study must stay: the propagator reads the planets a few hours
beyond the times it is asked for, and TDB - UTC is about a minute."""


@functools.cache
def _ephemeris_span() -> tuple[datetime, datetime]:
    """DE421's span as UTC datetimes (to the minute), without building a Time per check."""
    start, stop = ephemeris.coverage()
    j2000 = datetime(2000, 1, 1, 12, tzinfo=timezone.utc)
    return (j2000 + timedelta(days=float(start.jd - 2451545.0)),
            j2000 + timedelta(days=float(stop.jd - 2451545.0)))


def _later(start: datetime, days: float) -> datetime:
    """``start`` plus ``days``, or the last datetime there is when that is past year 9999."""
    try:
        return start + timedelta(days=days)
    except OverflowError:
        return datetime.max.replace(tzinfo=timezone.utc)


def _inside_ephemeris(first: datetime, last: datetime, what: str, fix: str = "") -> None:
    """Raise ValueError unless [first, last] lies EPHEMERIS_MARGIN inside DE421's span; ``what``
    names the work that ends at ``last``, ``fix`` how to bring it in."""
    low, high = (t + m for t, m in zip(_ephemeris_span(), (EPHEMERIS_MARGIN, -EPHEMERIS_MARGIN)))
    if first < low or last > high:
        raise ValueError(f"launch {first.date().isoformat()} to {what} {last.date().isoformat()} must lie inside "
                         f"DE421's span, a day in from its ends ({low.date().isoformat()} .. "
                         f"{high.date().isoformat()}){fix}")


class LaunchWindow(_Model):
    """Departure dates the transfer trade may use (UTC)."""

    earliest: Instant
    latest: Instant

    _dates_in_utc = field_validator("earliest", "latest")(_utc)

    @model_validator(mode="after")
    def _ordered(self):
        if self.latest <= self.earliest:
            raise ValueError(f"latest ({self.latest:%Y-%m-%d}) must be after earliest "
                             f"({self.earliest:%Y-%m-%d})")
        return self


class TransferTrade(_Model):
    """Grid of the Earth-to-L4 transfer trade (l4station transfer)."""

    departure_step_days: Real = Field(default=2.0, ge=0.1, le=366.0)
    tof_min_years: Real = Field(default=0.5, ge=0.05, le=20.0)
    tof_max_years: Real = Field(default=6.0, gt=0.05, le=20.0)
    tof_step_days: Real = Field(default=2.0, ge=0.1, le=366.0)
    max_revs: Integer = Field(default=6, ge=0, le=20)

    @model_validator(mode="after")
    def _ordered(self):
        if self.tof_max_years <= self.tof_min_years:
            raise ValueError(f"tof_max_years ({self.tof_max_years:g}) must exceed tof_min_years "
                             f"({self.tof_min_years:g})")
        return self

    def tof_count(self) -> int:
        """Number of flight times in the grid."""
        return int((self.tof_max_years - self.tof_min_years) * JULIAN_YEAR_DAYS / self.tof_step_days) + 1


class Mission(_Model):
    """What is flown, where, and for how long."""

    name: str = Field(min_length=1)
    target: Literal["L4", "L5"]
    epoch: Instant  # start of science operations at the target, UTC
    duration_years: Real = Field(gt=0.0, le=30.0)      # years of operations at the target
    timeline_step_days: Real = Field(default=1.0, ge=MINUTE_DAYS, le=366.0)  # one minute to a year
    launch: LaunchWindow
    transfer: TransferTrade = TransferTrade()

    _epoch_in_utc = field_validator("epoch")(_utc)

    @property
    def epoch_time(self) -> Time:
        return Time(self.epoch, scale="utc")

    @property
    def duration(self) -> u.Quantity:
        return self.duration_years * u.yr

    @model_validator(mode="after")
    def _inside_ephemeris(self):
        end = _later(self.epoch, self.duration_years * JULIAN_YEAR_DAYS)
        _inside_ephemeris(self.launch.earliest, end, "end of mission")
        arrival = _later(self.launch.latest, self.transfer.tof_max_years * JULIAN_YEAR_DAYS)
        _inside_ephemeris(self.launch.earliest, arrival, "the transfer trade's last arrival",
                          "; make launch.latest earlier or transfer.tof_max_years shorter")
        if self.launch.earliest >= self.epoch:
            raise ValueError(f"launch.earliest ({self.launch.earliest:%Y-%m-%d}) must be before "
                             f"the operations epoch ({self.epoch:%Y-%m-%d})")
        return self

    @model_validator(mode="after")
    def _bounded_work(self):
        """The timeline and the transfer grid a file asks for fit in memory and in a run."""
        samples = self.duration_years * JULIAN_YEAR_DAYS / self.timeline_step_days
        if samples > MAX_TIMELINE_SAMPLES:
            raise ValueError(f"timeline_step_days ({self.timeline_step_days:g}) gives {samples:,.0f} timeline samples "
                             f"over {self.duration_years:g} years; use a step of at least "
                             f"{self.duration_years * JULIAN_YEAR_DAYS / MAX_TIMELINE_SAMPLES:.3g} days")
        window = (self.launch.latest - self.launch.earliest).total_seconds() / DAY_S
        grid = (int(window / self.transfer.departure_step_days) + 1) * self.transfer.tof_count()
        if grid > MAX_TRADE_GRID:
            raise ValueError(f"transfer grid of {grid:,} departure dates x flight times exceeds "
                             f"{MAX_TRADE_GRID:,}; raise transfer.departure_step_days or tof_step_days")
        return self


class RFTerminal(_Model):
    """Spacecraft radio: bands, transmitter RF power and high-gain antenna."""

    bands: list[Literal["X", "Ka"]] = Field(min_length=1)
    power_w: Real = Field(gt=0.0, le=10_000.0)          # RF output; flown amplifiers are below 1 kW
    antenna_diameter_m: Real = Field(gt=0.0, le=30.0)
    antenna_efficiency: Real = Field(default=0.55, gt=0.0, le=1.0)


class OpticalTerminal(_Model):
    """Spacecraft laser terminal."""

    aperture_m: Real = Field(gt=0.0, le=10.0)
    laser_power_w: Real = Field(gt=0.0, le=10_000.0)
    wavelength_nm: Real = Field(gt=200.0, lt=20000.0)


class Spacecraft(_Model):
    wet_mass_kg: Real = Field(gt=0.0, le=100_000.0)     # up to a heavy launcher's payload (100 t)
    dry_mass_kg: Real = Field(gt=0.0, le=100_000.0)
    isp_s: Real = Field(gt=0.0, le=20_000.0)             # chemical ~300 s, electric up to ~10,000 s
    power_w: Real = Field(gt=0.0, le=1.0e6)
    recorder_gbit: Real = Field(default=32.0, gt=0.0, le=1.0e7)
    srp_area_m2: Real = Field(default=8.0, gt=0.0, le=10_000.0)
    reflectivity_cr: Real = Field(default=1.3, ge=1.0, le=2.0)
    rf: RFTerminal
    optical: OpticalTerminal | None = None

    @property
    def cr_area_over_mass(self) -> float:
        """Cr * A / m on station (dry mass), m^2/kg, for solar radiation pressure."""
        return self.reflectivity_cr * self.srp_area_m2 / self.dry_mass_kg

    @model_validator(mode="after")
    def _propellant(self):
        if self.dry_mass_kg >= self.wet_mass_kg:
            raise ValueError(f"dry_mass_kg ({self.dry_mass_kg:g}) must be less than wet_mass_kg "
                             f"({self.wet_mass_kg:g})")
        return self


class Link(_Model):
    """How the downlink is operated."""

    code: str = "turbo-1/6"
    required_margin_db: Real = Field(default=3.0, ge=0.0, le=20.0)
    availability: Real = Field(default=0.95, ge=0.95, le=0.99999)  # ITU-R P.618: 0.001-5% exceedance
    pointing_error_deg: Real = Field(default=0.1, ge=0.0, le=5.0)  # spacecraft HGA
    ground_latency_s: Real = Field(default=5.0, ge=0.0, le=DAY_S)  # station to forecaster (estimated), at most a day

    @field_validator("code")
    @classmethod
    def _known_code(cls, code: str) -> str:
        from l4station.comms.rf import CODES
        if code not in CODES:
            raise ValueError(f"unknown code '{code}'; known: {', '.join(CODES)}")
        return code


class OpticalStation(_Model):
    """A ground telescope receiving the laser downlink."""

    name: str = Field(min_length=1)
    latitude_deg: Real = Field(ge=-90.0, le=90.0)
    longitude_deg: Real = Field(ge=-180.0, le=360.0)
    height_m: Real = Field(default=0.0, ge=-500.0, le=9000.0)
    aperture_m: Real = Field(gt=0.0, le=50.0)
    cloud_free: Fraction  # probability of a cloud-free line of sight


class OpticalGround(_Model):
    """Laser downlink ground segment and link assumptions."""

    efficiency: Real = Field(default=0.0588, gt=0.0, le=1.0)  # product of all optical losses
    night_background_per_s: Real = Field(default=1.0e6, ge=0.0, le=1.0e12)  # detector dark + night sky counts
    day_sky_radiance_w_m2_sr_um: Real = Field(default=0.5, ge=0.0, le=1000.0)
    field_of_view_urad: Real = Field(default=20.0, gt=0.0, le=1.0e5)
    filter_nm: Real = Field(default=1.0, gt=0.0, le=1000.0)
    stations: list[OpticalStation] = []


class Relay(_Model):
    """Relay assumptions: an optical relay in Earth orbit, cross-links, a Mars orbiter."""

    geo_aperture_m: Real = Field(default=1.0, gt=0.0, le=20.0)         # telescope of the relay above the clouds
    geo_feeder_bps: Real = Field(default=1.2e9, gt=0.0, le=1.0e12)     # relay-to-ground feeder
    spacecraft_noise_k: Real = Field(default=300.0, gt=0.0, le=1.0e5)  # receiver system noise of a spacecraft
    relay_delay_s: Real = Field(default=1.0, ge=0.0, le=DAY_S)      # store-and-forward per relay node, <= a day
    mars_power_w: Real = Field(default=100.0, gt=0.0, le=10_000.0)     # Mars orbiter X-band transmitter
    mars_antenna_m: Real = Field(default=3.0, gt=0.0, le=30.0)         # Mars orbiter high-gain antenna
    conjunction_deg: Real = Field(default=3.0, gt=0.0, le=30.0)        # Sun-Earth-probe angle below which a link is lost


class Instrument(_Model):
    name: str = Field(min_length=1)
    data_rate_bps: Real = Field(gt=0.0, le=1.0e11)
    realtime: Flag = False  # part of the low-rate real-time space-weather beacon


class Ground(_Model):
    """Stations by name: catalogue names (DSS-14, KDSA, ...) or ``custom`` entries."""

    custom: list[GroundStation] = []  # declared first: the check of ``stations`` reads it
    stations: list[str] = Field(min_length=1)
    tracking: list[str] = []          # stations scheduled for science passes (default: all)
    beacon: list[str] = []            # stations receiving the real-time beacon whenever they see it
    tracking_hours_per_day: Real = Field(default=8.0, gt=0.0, le=24.0)
    contact_step_s: Real = Field(default=60.0, ge=1.0, le=3600.0)  # time step of the contact plan

    @field_validator("stations")
    @classmethod
    def _known(cls, stations: list[str], info: ValidationInfo) -> list[str]:
        known = list(dict.fromkeys([*catalogue(), *(s.name for s in info.data.get("custom", []))]))
        for name in stations:
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f"did you mean '{close[0]}'? " if close else ""
                raise ValueError(f"unknown station '{name}'; {hint}known: {', '.join(known)} "
                                 "(or define it under [[ground.custom]])")
        twice = sorted({name for name in stations if stations.count(name) > 1})
        if twice:
            raise ValueError(f"{', '.join(twice)} listed more than once: list each station once")
        return stations

    @model_validator(mode="after")
    def _roles_in_network(self):
        for role in ("tracking", "beacon"):
            for name in getattr(self, role):
                if name not in self.stations:
                    raise ValueError(f"{role}: '{name}' is not in ground.stations; add it there first")
        if self.tracking_hours_per_day * 3600.0 < self.contact_step_s:
            raise ValueError(f"a daily pass of {self.tracking_hours_per_day:g} h is shorter than the contact plan's "
                             f"{self.contact_step_s:g} s step (contact_step_s); allow more hours or a finer step")
        return self

    @property
    def tracking_network(self) -> list[GroundStation]:
        names = self.tracking or self.stations
        return [s for s in self.network if s.name in names]

    @property
    def beacon_network(self) -> list[GroundStation]:
        return [s for s in self.network if s.name in self.beacon]

    @property
    def network(self) -> list[GroundStation]:
        """The stations in use, resolved to their full definitions."""
        known = {**catalogue(), **{s.name: s for s in self.custom}}
        return [known[name] for name in self.stations]


ForecastTarget = Literal["earth", "L1", "L4", "L5", "mars"]


Observer = Literal["L1", "L4", "L5"]


class Forecast(_Model):
    """Forecast experiments: targets, leads, the real-data window and the synthetic nature run."""

    targets: list[ForecastTarget] = Field(min_length=1)
    lead_days: list[Annotated[Real, Field(ge=0.0, le=27.0)]] = Field(default=[1.0, 3.0, 7.0], min_length=1)
    cadence_days: Real = Field(default=1.0, ge=1.0 / 24.0, le=7.0)   # forecasts issued this often (hourly data)
    real_start: Day = date(2008, 7, 1)       # real-data window (STEREO-A 32-86 deg ahead, B 27-90 behind)
    real_stop: Day = date(2011, 1, 1)
    synthetic_days: Integer = Field(default=365, ge=90, le=3650)
    seed: Integer = Field(default=1, ge=0, le=2**32 - 2)
    latency_hours: dict[Observer, Annotated[Real, Field(ge=0.0, le=240.0)]] = {"L1": 0.1, "L4": 0.5, "L5": 0.5}
    data_loss: dict[Observer, Annotated[Real, Field(ge=0.0, lt=1.0)]] = {"L1": 0.02, "L4": 0.05, "L5": 0.05}
    cme_count: Integer = Field(default=300, ge=10, le=100000)
    connectivity_wind_kms: Real = Field(default=400.0, ge=100.0, le=3000.0)  # observed solar wind: 250-900 km/s
    flare_longitude_deg: Real = Field(default=60.0, ge=-180.0, le=180.0)

    @model_validator(mode="after")
    def _window(self):
        if self.real_stop <= self.real_start:
            raise ValueError("real_stop must come after real_start")
        return self


class MissionConfig(_Model):
    """A whole mission: the input of every study."""

    mission: Mission
    spacecraft: Spacecraft
    instruments: list[Instrument] = Field(min_length=1)
    ground: Ground
    link: Link = Link()
    optical: OpticalGround = OpticalGround()
    relay: Relay = Relay()
    forecast: Forecast
    source: str = Field(default="<default>", exclude=True)

    @model_validator(mode="after")
    def _bounded_contact_plan(self):
        """The contact plan over the whole mission fits in memory."""
        samples = self.mission.duration_years * JULIAN_YEAR_S / self.ground.contact_step_s
        if samples > MAX_CONTACT_SAMPLES:
            raise ValueError(f"ground.contact_step_s ({self.ground.contact_step_s:g}) gives {samples:,.0f} contact-plan "
                             f"samples over {self.mission.duration_years:g} years, more than {MAX_CONTACT_SAMPLES:,}; use "
                             f"a step of at least {samples * self.ground.contact_step_s / MAX_CONTACT_SAMPLES:.3g} s")
        return self

    @model_validator(mode="after")
    def _stations_hear_the_spacecraft(self):
        """Every tracking and beacon station receives a band the spacecraft sends."""
        sent = set(self.spacecraft.rf.bands)
        roles = {"tracking": {s.name for s in self.ground.tracking_network}, "beacon": set(self.ground.beacon)}
        for station in self.ground.network:
            for role, names in roles.items():
                if station.name in names and not sent & set(station.bands):
                    raise ValueError(f"ground.{role}: station '{station.name}' receives {', '.join(station.bands)}, "
                                     f"the spacecraft sends {', '.join(sorted(sent))}; give it a band the spacecraft "
                                     f"sends or drop it from ground.{role}"
                                     + (" (without ground.tracking, every station tracks)"
                                        if role == "tracking" and not self.ground.tracking else ""))
        return self

    @model_validator(mode="after")
    def _forecast_run_inside_ephemeris(self):
        """The synthetic forecast experiment runs its nature run from the epoch (a day past it)."""
        _inside_ephemeris(self.mission.launch.earliest,
                          _later(self.mission.epoch, self.forecast.synthetic_days + 1),
                          "the end of the synthetic forecast run",
                          "; make forecast.synthetic_days shorter or mission.epoch earlier")
        return self

    def to_dict(self) -> dict:
        """Plain dict (JSON types; dates as ISO strings)."""
        return self.model_dump(mode="json")

    def to_toml(self) -> str:
        """The resolved config as a mission file (loads back to the same config)."""
        return tomli_w.dumps(self.model_dump(mode="python", exclude_none=True))

    def sha256(self) -> str:
        """Digest of the resolved config: two studies with the same digest had the same input."""
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


# ---------------------------------------------------------------------------------- loading


def merge(base: dict, over: dict) -> dict:
    """Deep merge: tables merge key by key, everything else (arrays included) replaces."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _default_document() -> dict:
    text = (resources.files("l4station.missions") / DEFAULT_MISSION).read_text()
    return tomllib.loads(text)


def _fields_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """Field names of the model reached by following ``loc`` from ``model`` (for hints)."""
    node: typing.Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(node, "model_fields", {})
        if part not in fields:
            break
        node = fields[part].annotation
        while typing.get_origin(node) in (list, typing.Union, types.UnionType):
            node = next(a for a in typing.get_args(node) if a is not type(None))
    return list(getattr(node, "model_fields", {}))


_BOUNDS = {"greater_than": ("gt", "greater than"), "greater_than_equal": ("ge", "greater than or equal to"),
           "less_than": ("lt", "less than"), "less_than_equal": ("le", "less than or equal to")}
"""pydantic's bound errors: the key of the limit in the error's context, and its words."""


def _describe(error: dict) -> tuple[str, str]:
    """(field path, one-line problem) for a pydantic error."""
    loc = tuple(error["loc"])
    field = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")
    kind = error["type"]
    if kind == "extra_forbidden":
        known = [k for k in _fields_at(MissionConfig, loc[:-1]) if k != "source"]
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        return field, f"unknown key; {hint}expected one of: {', '.join(known)}"
    if kind == "missing":
        return field, "missing; add it to the file"
    message = error["msg"].removeprefix("Value error, ")
    value = error.get("input")
    if isinstance(value, float) and not math.isfinite(value):
        message = "Input should be a finite number"    # not "less than 30": inf and nan compare with nothing
    elif kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        message = f"Input should be {words} {error['ctx'][key]:g}"   # 0.000694444, not 0.0006944444444444445
    if "input" in error and kind != "value_error" and not isinstance(error["input"], dict):
        value = error["input"]
        message += f" (got {str(value).lower() if isinstance(value, bool) else repr(value)})"
    return field, message


def parse(document: dict, source: str = "<default>") -> MissionConfig:
    """Validate a TOML document (already merged over the default) into a MissionConfig."""
    try:
        return MissionConfig(**document, source=source)
    except RecursionError:
        raise ConfigError(source, "", "nested too deeply to check; a mission file needs a few levels") from None
    except ValidationError as exc:
        errors = exc.errors()
        field, problem = _describe(errors[0])
        if len(errors) > 1:
            problem += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
        raise ConfigError(source, field, problem) from None


def load(path: str | Path | None = None) -> MissionConfig:
    """The default mission, or the mission file at ``path`` laid over it.

    >>> mission = load()
    >>> mission.mission.target, mission.mission.duration_years, mission.ground.network[0].name
    ('L4', 5.0, 'DSS-24')
    """
    return parse(document(path), f"<default {DEFAULT_MISSION}>" if path is None else str(path))


def document(path: str | Path | None = None) -> dict:
    """The TOML document :func:`load` validates: the default mission, with the file at ``path``
    (if any) laid over it."""
    document = _default_document()
    if path is None:
        return document
    path = Path(path)
    try:
        text = textfiles.read(path)
    except FileNotFoundError:
        raise ConfigError(str(path), "", "no such file; give the path of a mission TOML file") from None
    except IsADirectoryError:
        raise ConfigError(str(path), "", "is a directory; give the path of a mission TOML file") from None
    except UnicodeDecodeError:
        raise ConfigError(str(path), "", "is not UTF-8 text; a mission file is TOML") from None
    except OSError as exc:                 # name too long, a path through a file, no permission, ...
        raise ConfigError(str(path), "", f"cannot read it ({exc.strerror}); give the path of a mission "
                                         "TOML file") from None
    try:
        override = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "", f"not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(str(path), "", "nested too deeply to read; a mission file needs a few levels") from None
    ground = override.get("ground")
    fresh_roles(document, ground if isinstance(ground, dict) else ())
    return merge(document, override)


def fresh_roles(document: dict, given) -> None:
    """A new network starts its roles afresh: when the keys ``given`` under ``ground`` (a mission
    file's, a sweep variant's) name ``stations`` but not ``tracking`` or ``beacon``, those roles
    are dropped from ``document`` (they named the earlier network's stations)."""
    if "stations" in given:
        for role in ("tracking", "beacon"):
            if role not in given:
                document.get("ground", {}).pop(role, None)

"""From the mission config to the plain input records of each computation.

This is the one place that reads a :class:`~l4station.config.MissionConfig` on behalf of the
domain packages (``orbit``, ``comms``, ``heliosphere``): each function here returns the small,
hashable record an expensive result is a pure function of, so that result can be cached on the
record's digest:

>>> from l4station import config
>>> stay(config.load()) == stay(config.load()), len(stay(config.load()).digest())
(True, 64)
"""
from __future__ import annotations

from astropy.time import Time

from l4station.comms import optical, rf
from l4station.comms.contacts import ContactInputs
from l4station.comms.dtn.mission import DeliveryInputs
from l4station.comms.relay import RelaySettings
from l4station.comms.survey import SurveyInputs
from l4station.config import MissionConfig
from l4station.constants import JULIAN_YEAR_DAYS
from l4station.heliosphere.osse import ExperimentInputs
from l4station.orbit.stationkeeping import StayInputs
from l4station.orbit.transfer import TradeInputs


def radio_terminal(config: MissionConfig) -> rf.RadioTerminal:
    r = config.spacecraft.rf
    return rf.RadioTerminal(r.power_w, r.antenna_diameter_m, r.antenna_efficiency, tuple(r.bands))


def link_settings(config: MissionConfig) -> rf.LinkSettings:
    k = config.link
    return rf.LinkSettings(k.code, k.required_margin_db, k.availability, k.pointing_error_deg)


def trade(config: MissionConfig, target: str | None = None) -> TradeInputs:
    """The transfer trade to ``target`` (default: the mission's)."""
    m, sc, g = config.mission, config.spacecraft, config.mission.transfer
    return TradeInputs(target or m.target, Time(m.launch.earliest, scale="utc"), Time(m.launch.latest, scale="utc"),
                       m.epoch_time, g.departure_step_days, g.tof_min_years, g.tof_max_years, g.tof_step_days,
                       g.max_revs, sc.wet_mass_kg, sc.dry_mass_kg, sc.isp_s, sc.cr_area_over_mass)


def stay(config: MissionConfig, target: str | None = None, years: float | None = None,
         step_days: float | None = None) -> StayInputs:
    """The station left at ``target`` (default: the mission's) for ``years`` (default: the
    mission's), sampled every ``step_days`` (default: the timeline step)."""
    m = config.mission
    return StayInputs(target or m.target, m.epoch_time, years if years is not None else m.duration_years,
                      step_days if step_days is not None else m.timeline_step_days,
                      config.spacecraft.cr_area_over_mass)


def contacts(config: MissionConfig, days: float | None = None, start: Time | None = None,
             step_s: float | None = None) -> ContactInputs:
    """The contact plan for ``days`` from ``start`` (default: the whole mission from its epoch)
    every ``step_s`` (default: ``ground.contact_step_s``)."""
    m, g = config.mission, config.ground
    return ContactInputs(
        start=start if start is not None else m.epoch_time,
        days=days if days is not None else m.duration_years * JULIAN_YEAR_DAYS,
        step_s=step_s if step_s is not None else g.contact_step_s, network=tuple(g.network),
        tracking=tuple(s.name for s in g.tracking_network), beacon=tuple(s.name for s in g.beacon_network),
        tracking_hours_per_day=g.tracking_hours_per_day, terminal=radio_terminal(config), link=link_settings(config),
        production_bps=sum(i.data_rate_bps for i in config.instruments),
        recorder_gbit=config.spacecraft.recorder_gbit, ground_latency_s=config.link.ground_latency_s,
        beacon_bps=sum(i.data_rate_bps for i in config.instruments if i.realtime))


def survey(config: MissionConfig) -> SurveyInputs:
    """Every way home: RF, laser, relays, Mars."""
    m, sc, o, r = config.mission, config.spacecraft, config.optical, config.relay
    laser = (optical.LaserTerminal(sc.optical.aperture_m, sc.optical.laser_power_w, sc.optical.wavelength_nm)
             if sc.optical is not None else None)
    optics = optical.GroundOptics(o.efficiency, o.night_background_per_s, o.day_sky_radiance_w_m2_sr_um,
                                  o.field_of_view_urad, o.filter_nm,
                                  tuple(optical.Telescope(s.name, s.aperture_m, s.cloud_free) for s in o.stations))
    relay = RelaySettings(r.geo_aperture_m, r.geo_feeder_bps, r.spacecraft_noise_k, r.relay_delay_s,
                          r.mars_power_w, r.mars_antenna_m, r.conjunction_deg)
    return SurveyInputs(m.target, m.epoch_time, m.duration_years, radio_terminal(config), link_settings(config),
                        tuple(config.ground.network), tuple(config.ground.tracking_network), laser, optics, relay)


def experiment(config: MissionConfig) -> ExperimentInputs:
    """The observing-system experiment."""
    f = config.forecast
    return ExperimentInputs(tuple(f.targets), tuple(f.lead_days), f.cadence_days, f.real_start, f.real_stop,
                            config.mission.epoch_time, f.synthetic_days, f.seed, dict(f.latency_hours),
                            dict(f.data_loss), f.cme_count)


def delivery(config: MissionConfig) -> DeliveryInputs:
    """The mission's bundles and where they may wait (its passes and link survey complete it)."""
    return DeliveryInputs(config.mission.target, tuple(s.name for s in config.ground.beacon_network),
                          sum(i.data_rate_bps for i in config.instruments if i.realtime),
                          sum(i.data_rate_bps for i in config.instruments if not i.realtime),
                          config.link.ground_latency_s, config.relay.conjunction_deg, config.spacecraft.recorder_gbit * 1e9)

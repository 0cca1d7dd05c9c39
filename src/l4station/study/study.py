"""The study: every section of the report run on one mission config.

A section is a function ``(StudyContext) -> Section``; the study is the list
:func:`sections`. Sections share expensive intermediate results through the context
(each computed once, on first use, or read from a :class:`~l4station.cache.Cache`),
and never call one another.
"""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.time import Time

import l4station
from l4station import ephemeris, offline, tables
from l4station.comms.contacts import ContactPlan, plan, sky, sky_key
from l4station.config import MissionConfig
from l4station.geometry import GeometryTimeline, geometry_timeline
from l4station.heliosphere.insitu import packaged
from l4station.heliosphere.osse import Experiment, experiment, real_cases, real_window
from l4station.orbit.stationkeeping import Stay, stay
from l4station.orbit.transfer import TransferTrade, transfer_trade
from l4station.study import inputs, merit, report
from l4station.cache import Cache, compute
from l4station.study.report import Section


PR_SET_PDEATHSIG = 1
"""prctl(2): the signal a process gets when its parent ends (Linux)."""


def _point_bcrs(point: str, time: Time) -> np.ndarray:
    """Barycentric ICRF position (km) of the Sun-Earth Lagrange ``point`` at ``time`` (DE421)."""
    return (ephemeris.lagrange_point(point, time, frame="icrf")[0].to_value(u.km)
            + ephemeris.position("sun", time, center="ssb", frame="icrf").to_value(u.km))


class StudyContext:
    """The config and the intermediate results sections share (kept in ``cache`` if given);
    ``draw``: whether sections draw their figures (a sweep's variants need only the numbers)."""

    def __init__(self, config: MissionConfig, cache: Cache | None = None, draw: bool = True):
        self.config = config
        self.cache = cache
        self.draw = draw

    @cached_property
    def stay(self) -> Stay:
        """The station left at its target over the mission (full force, no station keeping),
        sampled every ``mission.timeline_step_days``."""
        record = inputs.stay(self.config)
        return compute(self.cache, "stay", record, lambda: stay(record))

    @cached_property
    def times(self) -> Time:
        """Timeline samples over the mission."""
        return self.stay.time

    @cached_property
    def station_track(self) -> u.Quantity:
        """Heliocentric ecliptic positions (N, 3) km of the station over the mission."""
        return self.stay.trajectory.heliocentric("ecliptic")[0] * u.km

    @cached_property
    def geometry(self) -> GeometryTimeline:
        return geometry_timeline(self.times, self.station_track)

    def station_bcrs(self, time: Time) -> np.ndarray:
        """Barycentric ICRF position (km) of the drifting station at any time in the mission: its
        target point (DE421) plus its offset from the point, interpolated between the stay
        trajectory's samples (the offset changes over months; the point moves 1 deg a day, which
        interpolating positions would cut across at coarse timeline steps)."""
        (first1, first2), t_nodes, offset = self._track_offset
        jd1, jd2 = ephemeris.tdb_jd(time)
        t = (jd1 - first1) + (jd2 - first2)
        return (_point_bcrs(self.config.mission.target, time)
                + np.stack([np.interp(t, t_nodes, offset[:, k]) for k in range(3)], axis=-1))

    @cached_property
    def _track_offset(self) -> tuple[tuple[float, float], np.ndarray, np.ndarray]:
        """The stay's first TDB date (two parts), its sample times (days from it) and its
        offsets (km) from the target point, for :meth:`station_bcrs`."""
        track = self.stay.trajectory
        node1, node2 = ephemeris.tdb_jd(track.time)
        offset = track.position - _point_bcrs(self.config.mission.target, track.time)
        return (node1[0], node2[0]), (node1 - node1[0]) + (node2 - node2[0]), offset

    @cached_property
    def contacts(self) -> ContactPlan:
        """Contact plan over the mission for the drifting station."""
        record = inputs.contacts(self.config)
        # The sky is what plans differing in terminal, link or schedule share; the plan itself is
        # quick from it, and not kept (tens of MB a variant).
        seen = compute(self.cache, "visibility", (sky_key(record), inputs.stay(self.config)),
                       lambda: sky(record, self.station_bcrs))
        return plan(record, seen=seen)

    @cached_property
    def links(self):
        """Every way home (RF, laser, relays, Mars) at the mission's greatest Earth range, ground
        stations at 20 deg elevation (:func:`l4station.comms.survey.survey`)."""
        from l4station.comms.survey import survey
        return survey(inputs.survey(self.config), float(self.geometry.earth_range.to_value(u.m).max()), 20.0)

    @cached_property
    def osse(self) -> Experiment:
        """The observing-system experiment (real data from the packaged BRaVDA files); its real
        part, which depends only on its window, is kept apart too (variants of latency and loss
        share it)."""
        record, records = inputs.experiment(self.config), packaged()

        def work() -> Experiment:
            real = compute(self.cache, "osse-real", real_window(record), lambda: real_cases(record, records))
            return experiment(record, records, real=real)
        return compute(self.cache, "osse", record, work)

    @cached_property
    def sep_skill(self) -> list[dict]:
        """The SEP forecast's skill on synthetic events, for the connectivity wind speed (the same
        for every variant that keeps it)."""
        from l4station.radiation import sep
        wind = self.config.forecast.connectivity_wind_kms
        return compute(self.cache, "sep-skill", (SEP_EVENTS, wind), lambda: sep.experiment(SEP_EVENTS, wind_kms=wind))

    @cached_property
    def transfer(self) -> TransferTrade:
        """The transfer trade to the mission's target (the slow part of a study)."""
        record = inputs.trade(self.config)
        return compute(self.cache, "transfer", record, lambda: transfer_trade(record))


BACKGROUND = ("spaceweather", "radiation")
"""Sections that need nothing another section computes, built in a second process."""

SEP_EVENTS = 1000
"""Synthetic events the SEP forecast's skill is measured on."""


def _build_alone(build: Callable[[StudyContext], Section], config: MissionConfig, cache: Cache | None,
                 draw: bool) -> Section:
    with offline.future_utc_quiet():
        return build(StudyContext(config, cache, draw))


def _compile_ahead() -> None:
    """Compile, in the spare process, the kernels the communications and delivery sections use
    while the main process works on the first sections; numba keeps them on disk, where the main
    process then finds them (on a fresh install, 8-10 s of compiling it would otherwise do)."""
    from l4station.comms.dtn.forwarding import compile_kernels
    from l4station.comms.optical import ppm_capacity
    compile_kernels()
    ppm_capacity(4, 1.0, 0.1, samples=10)


def _start_spare() -> None:
    """The spare process's start: its own handle on DE421, and on Linux it is ended with its
    parent (a study killed mid-run left it computing, then waiting, for ever)."""
    ephemeris.reopen()
    if sys.platform.startswith("linux"):
        import ctypes
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() == 1:            # the parent died before that took effect
            os._exit(1)


def _start_method() -> multiprocessing.context.BaseContext:
    """Fork while numba's thread pool has not started (the child keeps the imports, ~2 s of CPU
    a spawned child spends again); spawn after, when forking is unsafe."""
    from numba.np.ufunc import parallel
    forkable = "fork" in multiprocessing.get_all_start_methods() and not getattr(parallel, "_is_initialized", True)
    return multiprocessing.get_context("fork" if forkable else "spawn")


def sections() -> list[Callable[[StudyContext], Section]]:
    """The report's sections, in order."""
    from l4station.study.sections import (communications, delivery, geometry, mission, radiation, spaceweather,
                                          stability, transfer)
    return [mission.section, geometry.section, transfer.section, stability.section, communications.section,
            delivery.section, spaceweather.section, radiation.section]


@dataclass(frozen=True)
class StudyResult:
    document: dict          # the content of study.json
    sections: list[Section]
    config: MissionConfig

    def write(self, out_dir: Path) -> Path:
        """Write index.html and study.json; returns the path of index.html."""
        return report.write(Path(out_dir), self.document, self.sections, self.config.to_toml())

    def to_json(self) -> dict:
        return self.document

    def __rich__(self):
        geometry = self.document["geometry"]
        rows = [[label, f"{geometry[key]['min']:{fmt}}", f"{geometry[key]['max']:{fmt}}"]
                for label, key, fmt in (("Earth range (au)", "earth_range_au", ".4f"),
                                        ("Sun–Earth–probe (deg)", "sun_earth_probe_deg", ".3f"),
                                        ("One-way light time (s)", "light_time_s", ".1f"))]
        return tables.group(tables.table(self.config.mission.name, ["Quantity", "Min", "Max"], rows),
                            merit.table(self.document["figures"]),
                            f"Sections: {', '.join(self.document['sections'])}")


def run(config: MissionConfig, *, cache: Cache | None = None, draw: bool = True,
        on_section: Callable[[int, str], None] | None = None) -> StudyResult:
    """Run every section on ``config``, keeping the expensive intermediates in ``cache`` if given;
    without ``draw`` the sections carry no figures (the numbers, study.json, are the same).

    ``on_section(index, name)`` is called as each section starts (for a progress bar).
    """
    with offline.future_utc_quiet():
        return _run(config, cache, draw, on_section)


def _run(config: MissionConfig, cache: Cache | None, draw: bool,
         on_section: Callable[[int, str], None] | None) -> StudyResult:
    context = StudyContext(config, cache, draw)
    steps = sections()
    names = [build.__module__.rsplit(".", 1)[-1] for build in steps]
    built: dict[str, Future | Section] = {}
    # Sections in BACKGROUND share nothing with the others: they are built from the start in a
    # second process (the forecast experiment overlaps the sections here; the transfer trade keeps
    # both cores busy only briefly). A daemonic process (a sweep's Dask worker) may have no
    # children: it builds them in turn.
    daemon = multiprocessing.current_process().daemon
    spare = None if daemon else ProcessPoolExecutor(1, mp_context=_start_method(), initializer=_start_spare)
    with spare or contextlib.nullcontext() as pool:
        if pool is not None:
            pool.submit(_compile_ahead)
            built = {name: pool.submit(_build_alone, build, config, cache, draw)
                     for name, build in zip(names, steps) if name in BACKGROUND}
        for index, (name, build) in enumerate(zip(names, steps)):
            if on_section is not None:
                on_section(index, name)
            if name not in built:
                built[name] = build(context)
        built = {name: b.result() if isinstance(b, Future) else b for name, b in built.items()}
    built = [built[name] for name in names]
    document = {
        "l4station_version": l4station.__version__,
        "config_sha256": config.sha256(),
        **{s.name: s.data for s in built},
        "sections": [s.name for s in built],
    }
    document["figures"] = merit.figures(document)
    return StudyResult(document, built, config)

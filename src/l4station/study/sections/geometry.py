"""Geometry section: where the station sits relative to Sun and Earth over the mission."""
from __future__ import annotations

import astropy.units as u
import numpy as np
from astropy.constants import c

from l4station.study import figures
from l4station.study.report import Figure, Section, Table


def _plot(context) -> Figure:
    g = context.geometry
    target = context.config.mission.target
    fig = figures.blank((11, 4.8))
    grid = fig.add_gridspec(2, 2, width_ratios=[1, 1.35], hspace=0.08)
    top = fig.add_subplot(grid[:, 0])
    rng = fig.add_subplot(grid[0, 1])
    ang = fig.add_subplot(grid[1, 1], sharex=rng)

    # Sun–Earth rotating frame: Earth on +x, longitudes measured from Earth, distances in au.
    r_station = np.linalg.norm(g.station.to_value(u.au), axis=-1)
    lon = g.longitude_from_earth.to_value(u.rad)
    theta = np.linspace(0, 2 * np.pi, 361)
    top.plot(np.cos(theta), np.sin(theta), color="0.8", lw=0.8, label="1 au")
    top.plot(0, 0, "o", color="#fca311", ms=14, label="Sun")
    top.plot(1, 0, "o", color="#1f77b4", ms=7, label="Earth")
    for name, ang_deg in (("L4", 60), ("L5", -60), ("L3", 180)):
        a = np.deg2rad(ang_deg)
        top.plot(np.cos(a), np.sin(a), "+", color="0.4")
        top.annotate(name, (np.cos(a), np.sin(a)), textcoords="offset points", xytext=(6, 6), color="0.3")
    top.plot(r_station * np.cos(lon), r_station * np.sin(lon), "o-", color="#d62728", ms=4, lw=1.2,
             label=f"station ({target})")
    top.set_aspect("equal")
    top.set_xlim(-1.25, 1.25)
    top.set_ylim(-1.25, 1.25)
    top.set_xlabel("x toward Earth (au)")
    top.set_ylabel("y along Earth's motion (au)")
    top.set_title("Sun–Earth rotating frame (ecliptic)")
    top.legend(loc="lower left", fontsize=8, framealpha=0.9)

    years = g.time.decimalyear
    au_light_s = (1 * u.au / c).to_value(u.s)
    rng.plot(years, g.earth_range.to_value(u.au), color="#1f77b4")
    rng.set_ylabel("Earth–station (au)")
    rng.secondary_yaxis("right", functions=(lambda x: x * au_light_s, lambda s: s / au_light_s)) \
        .set_ylabel("light time (s)")
    rng.set_title("Range and angles over the mission")
    ang.plot(years, g.sun_earth_probe.to_value(u.deg), color="#d62728", lw=0.8, label="Sun–Earth–probe")
    ang.plot(years, g.longitude_from_earth.to_value(u.deg), color="#2ca02c", lw=0.8,
             label="longitude ahead of Earth")
    ang.ticklabel_format(axis="y", useOffset=False)
    ang.set_ylabel("deg")
    ang.set_xlabel("year (UTC)")
    ang.legend(fontsize=8, loc="upper right", framealpha=0.9)
    for axis in (rng, ang):
        axis.grid(alpha=0.3)
    rng.tick_params(labelbottom=False)
    return Figure.from_matplotlib(
        fig, f"Left: the station at Sun–Earth {target} in the frame rotating with Earth. Right: "
             "Earth–station range and one-way light time, which follow Earth's own distance from the "
             "Sun (0.983–1.017 au); the Sun–Earth–probe angle and the station's longitude ahead of "
             "Earth, whose monthly wobble is Earth's 4,700 km swing about the Earth–Moon barycentre.")


def section(context) -> Section:
    g = context.geometry
    data = g.summary()
    rows = [
        ["Earth–station range", "au", f"{data['earth_range_au']['min']:.4f}", f"{data['earth_range_au']['max']:.4f}"],
        ["Sun–Earth–probe angle", "deg", f"{data['sun_earth_probe_deg']['min']:.3f}", f"{data['sun_earth_probe_deg']['max']:.3f}"],
        ["Sun–probe–Earth angle", "deg", f"{data['sun_probe_earth_deg']['min']:.3f}", f"{data['sun_probe_earth_deg']['max']:.3f}"],
        ["Longitude ahead of Earth", "deg", f"{data['longitude_from_earth_deg']['min']:.3f}", f"{data['longitude_from_earth_deg']['max']:.3f}"],
        ["One-way light time", "s", f"{data['light_time_s']['min']:.1f}", f"{data['light_time_s']['max']:.1f}"],
    ]
    step = context.config.mission.timeline_step_days
    return Section(
        "geometry", "Geometry", data,
        summary=f"The station's geometry from Earth, sampled every {step:g} day(s) over "
                f"{len(g.time)} samples, from JPL DE421 (positions geometric, heliocentric ecliptic J2000).",
        tables=[Table("Extremes over the mission", ["Quantity", "Unit", "Min", "Max"], rows)],
        figures=[_plot(context)] if context.draw else [],
    )

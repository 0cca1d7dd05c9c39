"""Communications section: link budgets, rate against elevation, the contact timeline and the recorder."""
from __future__ import annotations

import numpy as np

from l4station.comms.contacts import RATE_ELEVATIONS, rate_table, seconds
from l4station.constants import AU_M, DAY_S
from l4station.study import figures, inputs
from l4station.study.report import Figure, Section, Table



def _rates_figure(config) -> Figure:
    fig, ax = figures.subplots(figsize=(8.5, 4.2))
    terminal, link = inputs.radio_terminal(config), inputs.link_settings(config)
    for s in config.ground.network:
        for band in (b for b in terminal.bands if b in s.bands):
            ax.plot(RATE_ELEVATIONS, rate_table(terminal, link, s, band) / 1e3, marker="o", ms=3,
                    ls="-" if band == "Ka" else "--", label=f"{s.name} {band}")
    ax.set_yscale("log")
    ax.set_xlabel("elevation (deg)")
    ax.set_ylabel("highest closing rate at 1 au (kbps)")
    ax.set_title("Downlink rate by station, band and elevation")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, ncol=3)
    return Figure.from_matplotlib(fig, f"Rates that close with {config.link.required_margin_db:g} dB margin "
                                       f"({config.link.code}, weather at {config.link.availability:.0%} availability, "
                                       "ITU-R P.618). Ka band (solid) gains aperture but loses more to the atmosphere "
                                       "at low elevation than X band (dashed).")


def _timeline_figure(plan) -> Figure:
    week = slice(0, int(7 * DAY_S / plan.step_s))
    days = (np.arange(len(plan.times))[week] * plan.step_s) / DAY_S
    fig, ax = figures.subplots(figsize=(10, 0.45 * len(plan.stations) + 1.2))
    for i, name in enumerate(plan.stations):
        vis = plan.visible[i, week]
        ax.fill_between(days, i - 0.35, i + 0.35, where=vis, color="#9ecae1", step="mid", lw=0, rasterized=True)
        ax.fill_between(days, i - 0.35, i + 0.35, where=plan.tracked_by[week] == i, color="#08519c", step="mid",
                        lw=0, rasterized=True)
    ax.fill_between(days, -1.0, -0.6, where=plan.beacon[week], color="#31a354", step="mid", lw=0, rasterized=True)
    ax.set_yticks(list(range(-1, len(plan.stations))), ["beacon"] + plan.stations)
    ax.set_xlabel(f"days from {plan.times[0].utc.isot[:10]}")
    ax.set_title("First week: in view (light), science pass (dark), real-time beacon received (green)")
    ax.set_xlim(0, days[-1])
    return Figure.from_matplotlib(fig, "Contact timeline over the first week of operations.")


def _recorder_figure(plan) -> Figure:
    fig, ax = figures.subplots(figsize=(10, 3.2))
    step = max(1, len(plan.times) // 20000)
    years = plan.times[::step].decimalyear
    ax.plot(years, plan.recorder_gbit[::step], color="#d62728", lw=0.6, rasterized=True)
    ax.axhline(plan.recorder_capacity_gbit, color="k", ls=":", lw=1, label="capacity")
    ax.set_ylabel("recorder fill (Gbit)")
    ax.set_xlabel("year (UTC)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return Figure.from_matplotlib(fig, "Onboard recorder over the mission: filled by the instruments, emptied "
                                       "by each day's science pass.")


def section(context) -> Section:
    config, plan = context.config, context.contacts
    doc = plan.to_json()
    links = context.links
    distance = links.distance_m
    doc.update(links.to_json())
    budgets, optical_rows, paths, conjunctions = links.budgets, links.optical, links.paths, links.conjunctions
    rows = [[b.station, b.band, f"{b.eirp_dbw:.2f}", f"{b.path_loss_db:.2f}", f"{b.atmosphere_db:.2f}",
             f"{b.gt_dbk:.2f}", f"{b.cn0_dbhz:.2f}", f"{b.data_rate_bps / 1e3:,.1f}"] for b in budgets]
    stations = [[row["name"], f"{row['hours_per_day']:.2f}", f"{row['tracked_hours_per_day']:.2f}"]
                for row in doc["stations"]]
    optical_table = [[r["station"], f"{r['aperture_m']:g}",
                      f"{r['rate_bps'] / 1e6:.2f}" if r["closes"] else "does not close",
                      f"{r['ppm_order']}-PPM, {r['slot_ns']:g} ns, rate {r['code_rate']:.2f}",
                      f"{r['availability']:.0%}"] for r in optical_rows]
    relay_table = [[" → ".join(p.nodes), f"{p.rate_bps / 1e3:,.3g}", f"{p.latency_s:.1f}"] for p in paths]
    relay_table += [[f"Mars → {config.mission.target} → Earth ({c.start.utc.isot[:10]}..{c.end.utc.isot[:10]}, "
                     f"{'clear' if c.relay_clear else 'blocked'})", f"{c.relay.rate_bps / 1e3:,.3g}",
                     f"{c.relay.latency_s:.0f}"] for c in conjunctions]
    return Section(
        "communications", "Bringing the data home", doc,
        summary=(f"{doc['produced_gbit_per_day']:.2f} Gbit/day produced, {doc['daily_volume_gbit']:.2f} Gbit/day "
                 f"returned by one {config.ground.tracking_hours_per_day:g}-hour pass a day (capacity "
                 f"{doc['daily_capacity_gbit']:.1f} Gbit/day); recorder peak {doc['recorder_max_fill']:.0%}, "
                 f"{doc['data_lost_gbit']:.2f} Gbit lost. Real-time beacon received {doc['beacon_coverage']:.0%} "
                 f"of the time, median latency {seconds(doc['realtime_latency_s'])}."),
        tables=[Table(f"Downlink budgets at the greatest range ({distance / AU_M:.4f} au), 20° elevation",
                      ["Station", "Band", "EIRP (dBW)", "Path (dB)", "Atm. (dB)", "G/T (dB/K)", "C/N0 (dB-Hz)",
                       "Rate (kbps)"], rows),
                Table("Contacts", ["Station", "In view (h/day)", "Science pass (h/day)"], stations),
                Table(f"Laser downlinks at night (one site or more clear {doc['optical_site_diversity']:.0%} of the "
                      "time; DSOC check: 266.7 Mb/s at 0.21 au against 267 achieved, 43.8 Mb/s at 1.5 au against "
                      "25 achieved, +2.4 dB)", ["Telescope", "Aperture (m)", "Rate (Mbps)", "Waveform", "Clear sky"],
                      optical_table),
                Table("Paths for the data, and Mars through solar conjunction",
                      ["Path", "Rate (kbps)", "Latency (s)"], relay_table)],
        figures=[_rates_figure(config), _timeline_figure(plan), _recorder_figure(plan)] if context.draw else [],
    )

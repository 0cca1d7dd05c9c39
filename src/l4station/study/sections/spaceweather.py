"""Space-weather section: what the station's observations are worth for forecasts."""
from __future__ import annotations

import numpy as np
from astropy.time import Time

from l4station.heliosphere import connectivity
from l4station.study import figures
from l4station.study.report import Figure, Section, Table

SETS_COLOURS = {"L1": "#7f7f7f", "L1+L4": "#d62728", "L1+L5": "#1f77b4", "L1+L4+L5": "#2ca02c"}


def _pick(cases, source, target, observers, lead):
    for c in cases:
        if (c.source, c.target, "+".join(c.observers), c.forecast.lead_days) == (source, target, observers, lead):
            return c.forecast
    return None


def _series_plot(cases, source: str, targets: list[str], lead: float, days: float = 81.0) -> Figure | None:
    rows = [t for t in targets if _pick(cases, source, t, "L1", lead) is not None]
    if not rows:
        return None
    fig, axes = figures.subplots(len(rows), 1, figsize=(11, 2.4 * len(rows) + 0.6), sharex=True, squeeze=False)
    for ax, target in zip(axes[:, 0], rows):
        base = _pick(cases, source, target, "L1", lead)
        ok = np.isfinite(base.forecast_kms)
        t0 = base.mjd[ok][0] if ok.any() else base.mjd[0]
        window = (base.mjd >= t0) & (base.mjd < t0 + days)
        x = Time(base.mjd[window], format="mjd").datetime64
        if np.isfinite(base.observed_kms[window]).any():
            ax.plot(x, base.observed_kms[window], color="black", lw=1.0, label="truth")
        for obs in ("L1", "L1+L4", "L1+L4+L5"):
            f = _pick(cases, source, target, obs, lead)
            ax.plot(x, f.forecast_kms[window], color=SETS_COLOURS[obs], lw=0.9, label=f"forecast from {obs}")
        ax.set_ylabel(f"{target} (km/s)")
        ax.grid(alpha=0.3)
    axes[0, 0].legend(loc="upper right", fontsize=8, ncol=4)
    axes[0, 0].set_title(f"Solar-wind speed, {source} data, lead {lead:g}–{lead + base.cadence_days:g} days")
    fig.autofmt_xdate()
    return Figure.from_matplotlib(fig, f"Forecast against truth ({source}), first {days:.0f} days of the window: "
                                       "observed speed (black) and the assimilated forecast from each observer set.")


def _skill_plot(cases, leads) -> Figure:
    sources = sorted({c.source for c in cases})
    targets = list(dict.fromkeys(c.target for c in cases))
    fig, axes = figures.subplots(len(sources), len(targets), figsize=(11, 2.8 * len(sources)), squeeze=False, sharey=True)
    width = 0.8 / len(SETS_COLOURS)
    for i, source in enumerate(sources):
        for j, target in enumerate(targets):
            ax = axes[i, j]
            for k, (obs, colour) in enumerate(SETS_COLOURS.items()):
                skill = []
                for lead in leads:
                    f = _pick(cases, source, target, obs, lead)
                    s = None if f is None else f.metrics()["skill_vs_persistence"]
                    skill.append(np.nan if s is None else s)
                ax.bar(np.arange(len(leads)) + (k - 1.5) * width, skill, width, color=colour, label=obs)
            ax.axhline(0, color="black", lw=0.6)
            ax.set_xticks(np.arange(len(leads)), [f"{x:g} d" for x in leads])
            ax.set_title(f"{target} ({source})", fontsize=9)
            ax.grid(alpha=0.3, axis="y")
            if all(_pick(cases, source, target, "L1", lead) is None for lead in leads):
                ax.set_visible(False)
        axes[i, 0].set_ylabel("skill vs persistence")
    axes[0, 0].legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return Figure.from_matplotlib(fig, "Skill against 27-day persistence (1 − MSE/MSE_persistence) by target, lead "
                                       "and observer set; above zero beats recurrence.")


def _plots(config, cases, conns) -> list[Figure]:
    f, when = config.forecast, config.mission.epoch_time
    plots = [fig for fig in (_series_plot(cases, "real", [t for t in f.targets if t != "mars"], f.lead_days[0]),
                             _series_plot(cases, "synthetic", list(f.targets), f.lead_days[0]))
             if fig is not None]
    plots.append(_skill_plot(cases, f.lead_days))
    plots.append(Figure.from_matplotlib(
        figures.connectivity(conns, flare_lon_deg=f.flare_longitude_deg,
                             title=f"Parker-spiral connectivity on {when.utc.isot[:10]} ({f.connectivity_wind_kms:.0f} km/s)"),
        "Magnetic connectivity (Parker spirals, Solar-MACH convention): where each observer's field line meets "
        "the Sun, and a flare at the configured longitude."))
    return plots


def section(context) -> Section:
    config = context.config
    f = config.forecast
    experiment = context.osse
    doc = experiment.to_json()
    when = config.mission.epoch_time
    conns = connectivity.connections(["earth", config.mission.target, "mars"], when, f.connectivity_wind_kms,
                                     flare_lon_deg=f.flare_longitude_deg)
    skill_rows = [[c["source"], c["target"], "+".join(c["observers"]), f"{c['lead_days']:g}",
                   *("—" if c[k] is None else f"{c[k]:.{p}f}" for k, p in
                     (("mae_kms", 1), ("rmse_kms", 1), ("corr", 3), ("skill_vs_persistence", 3)))]
                  for c in doc["cases"]]
    cme_rows = [["+".join(c["observers"]), f"{c['speed_error_percent']:.0f}%", f"{c['arrival_mae_hours']:.1f}"]
                for c in doc["cme"]]
    conn_rows = [[c.name, f"{c.lon_deg:+.1f}", f"{c.r_au:.3f}", c.limb, f"{c.flare_separation_deg:+.0f}"] for c in conns]
    doc["connectivity"] = [{"observer": c.name, "longitude_deg": c.lon_deg, "r_au": c.r_au,
                            "footpoint_deg": c.footpoint_deg, "flare_separation_deg": c.flare_separation_deg}
                           for c in conns]
    earth = {("+".join(c["observers"]), c["lead_days"]): c for c in doc["cases"]
             if c["source"] == "real" and c["target"] == "earth"}
    lead = f.lead_days[0]
    summary = "CME arrival MAE " + ", ".join(f"{r[0]} {r[2]} h" for r in cme_rows) + "."
    if ("L1", lead) in earth and ("L1+L4+L5", lead) in earth and earth[("L1", lead)]["rmse_kms"]:
        a, b = earth[("L1", lead)], earth[("L1+L4+L5", lead)]
        summary = (f"On real data at Earth ({f.real_start}–{f.real_stop}, lead {lead:g} d), adding the L4 and L5 "
                   f"stand-ins to L1 cuts the RMSE from {a['rmse_kms']:.0f} to {b['rmse_kms']:.0f} km/s "
                   f"({100 * (1 - b['rmse_kms'] / a['rmse_kms']):.0f}%); " + summary)
    return Section("spaceweather", "What the station's observations are worth", doc, summary=summary,
                   tables=[Table("Forecast skill (real: OMNI/STEREO; synthetic: nature run)",
                                 ["Source", "Target", "Observers", "Lead (d)", "MAE (km/s)", "RMSE (km/s)", "Corr.",
                                  "Skill vs persistence"], skill_rows),
                           Table("CME arrival at Earth, drag-based ensemble on the speed each observer set measures",
                                 ["Observers", "Speed error (1σ)", "Arrival MAE (h)"], cme_rows),
                           Table("Magnetic connectivity at the operations epoch",
                                 ["Observer", "Longitude from Earth (deg)", "Distance (au)", "Footpoint",
                                  "From the flare (deg)"], conn_rows)],
                   figures=_plots(config, experiment.cases, conns) if context.draw else [])

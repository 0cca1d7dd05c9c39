"""Radiation-safety section: the reference events behind shielding, crews against NASA's limits,
and which source longitudes Earth, L4 and L5 are magnetically connected to."""
from __future__ import annotations

import numpy as np

from l4station.heliosphere import connectivity
from l4station.radiation import dose, sep, spectra
from l4station.radiation.events import CONNECTION_SIGMA_DEG
from l4station.study import figures
from l4station.study.report import Figure, Section, Table

SHIELDS_GCM2 = (0.3, 0.5, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 15.0, 20.0, 30.0)
EVENT_COLOURS = {"king1972": "#d62728", "sapphire-1in10": "#2ca02c", "sapphire-1in100": "#1f77b4",
                 "sapphire-1in1000": "#9467bd"}
SOURCE_LONGITUDES_DEG = np.arange(-180.0, 180.0, 1.0)


def _dose_figure(events: dict) -> Figure:
    fig, ax = figures.subplots(figsize=(8.5, 4.4))
    for name, d in events.items():
        ax.semilogy(d.shield_gcm2, 1000 * d.bfo_gy_eq, "o-", color=EVENT_COLOURS[name], label=name, ms=3)
    ax.axhline(dose.LIMIT_BFO_30DAY_MGY_EQ, color="k", ls="--", lw=1)
    ax.text(SHIELDS_GCM2[-1], dose.LIMIT_BFO_30DAY_MGY_EQ * 1.1, "30-day BFO limit", ha="right", va="bottom", fontsize=8)
    ax.set_xlabel("aluminium shield (g/cm²)")
    ax.set_ylabel("BFO dose-equivalent (mGy-Eq)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return Figure.from_matplotlib(fig, "Blood-forming-organ dose of each reference event behind an aluminium shell "
                                       "(straight-ahead proton transport, primaries only, whole sky open), against "
                                       "NASA-STD-3001's 30-day limit.")


def _skill_figure(skill: list[dict]) -> Figure:
    fig, (left, right) = figures.subplots(1, 2, figsize=(9.5, 3.6))
    labels = ["+".join(r["observers"]) for r in skill]
    x = np.arange(len(skill))
    for k, (key, name) in enumerate([("within_factor_10", "peak within x10"), ("pod", "POD"),
                                     ("warned", "warned before crossing")]):
        left.bar(x + (k - 1) * 0.27, [100 * r[key] for r in skill], 0.27, label=name)
    left.set_xticks(x, labels, fontsize=8)
    left.set_ylabel("% of events")
    left.set_ylim(0, 118)
    left.legend(fontsize=7, loc="upper left", ncol=3)
    right.bar(x, [r["median_warning_h"] or 0.0 for r in skill], 0.5, color="#7f7f7f")   # None: none warned
    right.set_xticks(x, labels, fontsize=8)
    right.set_ylabel("median warning (h)")
    for ax in (left, right):
        ax.grid(alpha=0.3, axis="y")
    return Figure.from_matplotlib(fig, "SEP forecast at Earth on synthetic events, by observer set: how often the "
                                       "peak is within a factor 10, events above the all-clear threshold detected "
                                       "and warned of before Earth crosses it, and how long before.")


def _coverage(footpoints: dict) -> dict:
    """Share of source longitudes within the connection width of at least one observer, for Earth
    alone and with each added point."""
    def connected(names):
        seps = [np.abs(connectivity.separation_deg(footpoints[n], SOURCE_LONGITUDES_DEG)) for n in names]
        return float(np.mean(np.min(seps, axis=0) <= CONNECTION_SIGMA_DEG))
    sets = {"earth": ["earth"], "earth+L4": ["earth", "L4"], "earth+L5": ["earth", "L5"],
            "earth+L4+L5": ["earth", "L4", "L5"]}
    return {label: connected(names) for label, names in sets.items()}


def section(context) -> Section:
    config = context.config
    events = {name: dose.doses(spectra.event(name), SHIELDS_GCM2) for name in spectra.EVENTS}
    crews = {name: dose.scenarios(spectra.event(name)) for name in spectra.EVENTS}
    conns = connectivity.connections(["earth", "L4", "L5"], config.mission.epoch_time,
                                     config.forecast.connectivity_wind_kms)
    footpoints = {c.name: c.footpoint_deg for c in conns}
    coverage = _coverage(footpoints)
    skill = context.sep_skill
    doc = {
        "events": [{**spectra.event(name).to_json(), "doses": d.to_json()} for name, d in events.items()],
        "scenarios": [{"event": name, **row} for name, rows in crews.items() for row in rows],
        "limits": {"bfo_30day_mgy_eq": dose.LIMIT_BFO_30DAY_MGY_EQ, "career_msv": dose.LIMIT_CAREER_MSV},
        "connectivity": [{"observer": c.name, "footpoint_deg": c.footpoint_deg,
                          "connected_from_deg": c.footpoint_deg - CONNECTION_SIGMA_DEG,
                          "connected_to_deg": c.footpoint_deg + CONNECTION_SIGMA_DEG} for c in conns],
        "source_longitudes_connected": coverage,
        "sep_forecast": {"threshold": sep.ALL_CLEAR_THRESHOLD, "units": sep.UNITS, "cases": skill},
    }
    names = list(spectra.EVENTS)
    scenario_rows = [[s.name, f"{s.shield_gcm2:g}",
                      *(f"{next(r for r in crews[n] if r['name'] == s.name)['fraction_of_30day_limit']:.0%}"
                        for n in names)] for s in dose.SCENARIOS]
    fluence_rows = [[n, *(f"{v:.3g}" for v in spectra.event(n).to_json()["fluence_cm2"].values()),
                     f"{1000 * events[n].bfo_gy_eq[SHIELDS_GCM2.index(5.0)]:.0f}"] for n in names]
    conn_rows = [[c.name, c.limb, f"{c.footpoint_deg - CONNECTION_SIGMA_DEG:+.0f} to "
                                  f"{c.footpoint_deg + CONNECTION_SIGMA_DEG:+.0f}"] for c in conns]
    career_rows = [[s.name, *(f"{next(r for r in crews[n] if r['name'] == s.name)['effective_msv']:.0f} mSv "
                              f"({next(r for r in crews[n] if r['name'] == s.name)['fraction_of_career_limit']:.0%})"
                              for n in names)] for s in dose.SCENARIOS]
    skill_rows = [["+".join(r["observers"]), f"{r['rms_log10_error']:.2f}", f"{r['within_factor_10']:.0%}",
                   f"{r['pod']:.0%}", f"{r['far']:.0%}", f"{r['warned']:.0%}",
                   "none warned" if r["median_warning_h"] is None else f"{r['median_warning_h']:.1f} h"]
                  for r in skill]
    skill_rows += [["published: SEPSTER (Richardson, Mays & Thompson 2018), real events", "", "~75%", "", "", "", ""],
                   ["published: UMASEP-10 (Núñez), solar cycle 24", "", "", "91%", "13%", "", "2.8 h (mean)"]]
    worst = max(crews["sapphire-1in100"], key=lambda r: r["fraction_of_30day_limit"])
    return Section(
        "radiation", "Radiation safety", doc,
        summary=(f"A 1-in-100-year event (SAPPHIRE) gives a crew {worst['bfo_mgy_eq']:.0f} mGy-Eq to the "
                 f"blood-forming organs in the worst scenario ({worst['name']}, "
                 f"{worst['fraction_of_30day_limit']:.0%} of the 30-day limit). Earth alone is magnetically "
                 f"connected to {coverage['earth']:.0%} of solar source longitudes; with L4 "
                 f"{coverage['earth+L4']:.0%}, with L4 and L5 {coverage['earth+L4+L5']:.0%}. On synthetic events, "
                 f"the side views bring the SEP peak forecast at Earth within a factor 10 "
                 f"{skill[-1]['within_factor_10']:.0%} of the time (L1 alone {skill[0]['within_factor_10']:.0%}) "
                 f"and warn of {skill[-1]['warned']:.0%} of threshold crossings before they happen "
                 f"(L1 alone {skill[0]['warned']:.0%})."),
        tables=[Table("Reference events: fluence (cm⁻²) and BFO dose-equivalent behind 5 g/cm² of aluminium",
                      ["Event", ">10 MeV", ">30 MeV", ">100 MeV", "BFO at 5 g/cm² (mGy-Eq)"], fluence_rows),
                Table("Crew scenarios: share of the 30-day BFO limit (250 mGy-Eq)",
                      ["Scenario", "Shield (g/cm²)", *names], scenario_rows),
                Table(f"Crew scenarios: effective dose and share of the career limit ({dose.LIMIT_CAREER_MSV:g} mSv; "
                      f"BFO dose x {dose.PROTON_WEIGHTING:g} Sv/Gy, ICRP 103)", ["Scenario", *names], career_rows),
                Table(f"Magnetic connectivity at the operations epoch (within ±{CONNECTION_SIGMA_DEG:g}° of the "
                      "footpoint, Richardson et al. 2014)", ["Observer", "Footpoint", "Connected sources (deg)"],
                      conn_rows),
                Table(f"SEP peak forecast at Earth (14-24 MeV, Richardson et al. 2014) on {skill[0]['events']:,} synthetic "
                      f"events: error of log10 peak, and not-all-clear (peak >= {sep.ALL_CLEAR_THRESHOLD:g} "
                      "(MeV s cm² sr)⁻¹) detection, and the share of threshold crossings warned of and how "
                      "long before (the warning's timing model is assumed: see l4station.radiation.sep)",
                      ["Observers", "RMS log10 error", "Within x10", "POD", "FAR", "Warned", "Median warning"],
                      skill_rows)],
        figures=[_dose_figure(events), _skill_figure(skill)] if context.draw else [],
    )

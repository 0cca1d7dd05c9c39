"""Transfer section: the Pareto front of the trade and the chosen transfer in the rotating frame."""
from __future__ import annotations

import astropy.units as u
import numpy as np

from l4station import ephemeris
from l4station.constants import AU_KM, JULIAN_YEAR_DAYS
from l4station.study import figures
from l4station.study.report import Figure, Section, Table



CHOICE = {"in_time": "the cheapest the propellant allows that arrives by the operations epoch",
          "late": "no transfer the propellant allows arrives by the operations epoch: the cheapest it allows, "
                  "arriving late",
          "over_budget": "no transfer fits the propellant on board: the cheapest"}


def chosen(trade, arrive_by):
    """(refined transfer, why) of the cheapest refined transfer that the propellant allows and
    that arrives by ``arrive_by``; failing that, the cheapest the propellant allows ("late");
    failing that, the cheapest ("over_budget")."""
    feasible = [r for r, p in zip(trade.refined, trade.propellant_kg) if p <= trade.propellant_on_board_kg]
    in_time = [r for r in feasible if r.candidate.departure + r.candidate.tof_days * u.day <= arrive_by]
    why = "in_time" if in_time else "late" if feasible else "over_budget"
    return min(in_time or feasible or trade.refined, key=lambda r: r.total), why


def _pareto_figure(trade) -> Figure:
    fig, ax = figures.subplots(figsize=(8.5, 4.4))
    tof = np.array([c.tof_days for c in trade.front]) / JULIAN_YEAR_DAYS
    total = np.array([c.total for c in trade.front])
    ax.step(tof, total, where="post", color="0.6", lw=1, label="Pareto front (Lambert, DE421)")
    revs = np.array([r.candidate.revs for r in trade.refined])
    sc = ax.scatter([r.candidate.tof_days / JULIAN_YEAR_DAYS for r in trade.refined], [r.total for r in trade.refined],
                    c=revs, cmap="viridis", s=40, zorder=3, edgecolor="k", lw=0.5,
                    label="refined in the full-force model")
    fig.colorbar(sc, ax=ax, label="revolutions")
    ax.axhline(0.0, color="none")
    ax.set_yscale("log")
    ax.set_xlabel("time of flight (years)")
    ax.set_ylabel("total Δv: departure v∞ + arrival burn (km/s)")
    ax.set_title(f"Earth to {trade.target}: Δv against time of flight")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return Figure.from_matplotlib(fig, "Cheapest transfer for each time of flight over the launch window "
                                       "(staircase) and the best of each revolution family refined with every "
                                       "planet, the Moon and solar radiation pressure (dots). The valleys are the "
                                       "near-resonant phasing orbits that gain 60° in one more revolution than Earth.")


def _rotating_figure(best, target) -> Figure:
    tr = best.trajectory
    r = tr.heliocentric("ecliptic")[0] / AU_KM
    earth = ephemeris.position("earth", tr.time).value / AU_KM
    theta = np.arctan2(earth[:, 1], earth[:, 0])
    c, s = np.cos(-theta), np.sin(-theta)
    x, y = c * r[:, 0] - s * r[:, 1], s * r[:, 0] + c * r[:, 1]
    fig, ax = figures.subplots(figsize=(6, 6))
    circle = np.linspace(0, 2 * np.pi, 361)
    ax.plot(np.cos(circle), np.sin(circle), color="0.85", lw=0.8)
    ax.plot(0, 0, "o", color="#fca311", ms=12, label="Sun")
    ax.plot(1, 0, "o", color="#1f77b4", ms=6, label="Earth")
    ang = np.deg2rad(60 if target == "L4" else -60)
    ax.plot(np.cos(ang), np.sin(ang), "+", color="k", ms=10, label=target)
    ax.plot(x, y, color="#d62728", lw=1.2, label="transfer")
    ax.plot(x[-1], y[-1], "o", color="#d62728", ms=4)
    ax.set_aspect("equal")
    lim = 1.15 * max(1.0, np.abs(np.concatenate([x, y])).max())
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_xlabel("x toward Earth (au)")
    ax.set_ylabel("y along Earth's motion (au)")
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title("Chosen transfer, Sun–Earth rotating frame")
    cand = best.candidate
    return Figure.from_matplotlib(
        fig, f"Chosen transfer: departure {cand.departure.utc.isot[:10]}, {cand.tof_days:.0f} days, "
             f"{cand.revs} revolution(s); the full-force trajectory from 3 million km out to arrival.")


def section(context) -> Section:
    trade = context.transfer
    doc = trade.to_json()
    del doc["elapsed_s"]  # the report stays byte-for-byte reproducible
    best, why = chosen(trade, context.config.mission.epoch_time)
    rows = [[p["departure"][:10], f"{p['tof_days']:.0f}", f"{p['revs']} {p['branch']}",
             f"{p['departure_vinf_kms']:.3f}", f"{p['arrival_dv_kms']:.3f}", f"{p['total_dv_kms']:.3f}",
             f"{p['propellant_kg']:.0f}" + ("" if p["feasible"] else " (too much)"),
             f"{p['refined_arrival_error_km']:.3f}"] for p in doc["pareto"]]
    d = doc["free_drift"]
    drift = ("No free drift reaches the target by the operations epoch." if d is None else
             f"Free drift with no stop burn needs v∞ {d['departure_vinf_kms']:.3f} km/s and passes "
             f"{trade.target} drifting {d['drift_rate_deg_per_year']:.1f}°/yr, {d['days_within_5deg']:.0f} days "
             "within ±5°.")
    doc["chosen"], doc["chosen_because"] = trade.refined.index(best), why
    return Section(
        "transfer", "Getting to " + trade.target, doc,
        summary=(f"{doc['lambert_solves']:,} Lambert arcs over the launch window; every revolution family's best "
                 f"transfer flown in the full-force model to within {max(p['refined_arrival_error_km'] for p in doc['pareto']):.2f} km "
                 f"of {trade.target}, and the cheapest that arrives in time. Chosen ({CHOICE[why]}): "
                 f"{best.candidate.tof_days:.0f} days, total {best.total:.3f} km/s. " + drift),
        tables=[Table("Best transfer of each revolution family (full-force refined)",
                      ["Departure", "TOF (d)", "Revs", "v∞ (km/s)", "Arrival Δv (km/s)", "Total (km/s)",
                       "Propellant (kg)", "Miss (km)"], rows)],
        figures=[_pareto_figure(trade), _rotating_figure(best, trade.target)] if context.draw else [],
    )

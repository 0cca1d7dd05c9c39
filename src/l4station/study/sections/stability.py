"""Stability section: how far the station drifts from its point over the mission."""
from __future__ import annotations

from l4station.study import figures
from l4station.study.report import Figure, Section, Table


def _drift_figure(s) -> Figure:
    fig, (lon, dist) = figures.subplots(2, 1, figsize=(9, 4.6), sharex=True)
    years = s.time.decimalyear
    lon.plot(years, s.longitude_offset_deg, color="#d62728")
    lon.set_ylabel("longitude offset (deg)")
    lon.ticklabel_format(axis="y", useOffset=False)
    dist.plot(years, s.distance_km / 1e3, color="#1f77b4")
    dist.set_ylabel("distance (1000 km)")
    dist.set_xlabel("year (UTC)")
    for axis in (lon, dist):
        axis.grid(alpha=0.3)
    lon.set_title(f"Drift of a station left at {s.target} (no station keeping)")
    return Figure.from_matplotlib(
        fig, f"Heliocentric longitude of the station relative to the ideal {s.target} (top) and its distance "
             "from the moving point (bottom), with every planet, the Moon and solar radiation pressure.")


def section(context) -> Section:
    s = context.stay
    doc = s.to_json()
    sk = doc["stationkeeping_dv_ms_per_year"]
    holding = "" if sk is None else f"; holding it costs about {sk:.1f} m/s a year"
    rows = [["Largest longitude drift", f"{doc['max_drift_deg']:.3f} deg"],
            ["Largest distance from the point", f"{doc['max_drift_km']:,.0f} km"],
            ["Long (tadpole) libration period", f"{doc['libration_period_long_years']:.1f} years"],
            ["Short (epicyclic) libration period", f"{doc['libration_period_short_days']:.1f} days"],
            ["Station-keeping estimate", "— (stay under a year)" if sk is None else f"{sk:.2f} m/s per year"]]
    return Section("stability", f"Staying at {s.target}", doc,
                   summary=f"Over {doc['years']:.1f} years the station drifts at most {doc['max_drift_deg']:.3f}° "
                           f"from {s.target}{holding}.",
                   tables=[Table("Station at " + s.target, ["Quantity", "Value"], rows)],
                   figures=[_drift_figure(s)] if context.draw else [])

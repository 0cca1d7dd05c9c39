"""Figures of merit: a study reduced to one flat record of named numbers with units, the row a
trade study compares design points by (the figures of merit of a concurrent-engineering study,
e.g. ESA CDF reports: cost drivers, margins and performance, one number each).

Every figure is read from the study document (``study.json``) as written, so a figure and the
section it comes from never disagree; a figure the study could not produce (no feasible
transfer, a section without that case) is None.

>>> doc = {"mission": {"target": "L4"}, "stability": {"max_drift_deg": 0.098}}
>>> figures(doc)["drift_max_deg"], figures(doc)["transfer_dv_kms"]
(0.098, None)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from l4station import tables
from l4station.constants import DAY_S, JULIAN_YEAR_S


@dataclass(frozen=True)
class Merit:
    name: str
    unit: str
    description: str
    read: Callable[[dict], float | None]


def _chosen(doc: dict) -> dict | None:
    """The transfer the study chose (its Pareto row), if any."""
    transfer = doc.get("transfer") or {}
    index = transfer.get("chosen")
    pareto = transfer.get("pareto") or []
    return pareto[index] if isinstance(index, int) and 0 <= index < len(pareto) else None


def _margin(doc: dict) -> float | None:
    chosen = _chosen(doc)
    on_board = (doc.get("transfer") or {}).get("propellant_on_board_kg")
    return None if chosen is None or on_board is None else on_board - chosen["propellant_kg"]


def _arrival_margin(doc: dict) -> float | None:
    chosen = _chosen(doc)
    if chosen is None:
        return None
    from datetime import datetime, timezone
    stamp = lambda text: datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()   # noqa: E731
    return (stamp(doc["mission"]["epoch"]) - stamp(chosen["departure"])) / DAY_S - chosen["tof_days"]


def _best_rate(doc: dict, band: str) -> float | None:
    rates = [link["data_rate_bps"] for link in (doc.get("communications") or {}).get("links", [])
             if link.get("band") == band]
    return max(rates) / 1e3 if rates else None


def _skill(doc: dict, lead_days: float, source: str = "real", alone: bool = False) -> float | None:
    """Skill against persistence at Earth of the forecast from L1 and the mission's own point (or
    from L1 ``alone``), on the real records or the synthetic nature run."""
    observers = ["L1"] if alone else sorted(["L1", doc["mission"]["target"]])
    for case in (doc.get("spaceweather") or {}).get("cases", []):
        if (sorted(case["observers"]) == observers and case["target"] == "earth" and case["source"] == source
                and case["lead_days"] == lead_days):
            return case["skill_vs_persistence"]
    return None


def _value(doc: dict, lead_days: float) -> float | None:
    """What the point's observations add to L1's forecast skill at Earth on the synthetic run,
    observed with the mission's latency and losses."""
    both, alone = _skill(doc, lead_days, "synthetic"), _skill(doc, lead_days, "synthetic", alone=True)
    return None if both is None or alone is None else both - alone


def _cme_mae(doc: dict) -> float | None:
    observers = sorted(["L1", doc["mission"]["target"]])
    for row in (doc.get("spaceweather") or {}).get("cme", []):
        if sorted(row["observers"]) == observers:
            return row["arrival_mae_hours"]
    return None


def _get(section: str, key: str, scale: float = 1.0) -> Callable[[dict], float | None]:
    def read(doc: dict) -> float | None:
        value = (doc.get(section) or {}).get(key)
        return None if value is None else value * scale
    return read


MERITS = (
    Merit("transfer_dv_kms", "km/s", "delta-v of the chosen transfer (departure v-infinity + arrival)",
          lambda d: None if _chosen(d) is None else _chosen(d)["total_dv_kms"]),
    Merit("transfer_tof_years", "yr", "time of flight of the chosen transfer",
          lambda d: None if _chosen(d) is None else _chosen(d)["tof_days"] * DAY_S / JULIAN_YEAR_S),
    Merit("arrival_margin_days", "d", "operations epoch minus the chosen transfer's arrival (negative: late)",
          _arrival_margin),
    Merit("propellant_margin_kg", "kg", "propellant on board minus what the chosen transfer burns", _margin),
    Merit("drift_max_deg", "deg", "largest drift from the point, left uncontrolled", _get("stability", "max_drift_deg")),
    Merit("stationkeeping_ms_per_year", "m/s/yr", "station keeping with yearly resets",
          _get("stability", "stationkeeping_dv_ms_per_year")),
    Merit("data_returned_gbit_per_day", "Gbit/day", "data brought down per day, mean over the mission",
          _get("communications", "daily_volume_gbit")),
    Merit("data_lost_gbit", "Gbit", "data overwritten on a full recorder", _get("communications", "data_lost_gbit")),
    Merit("recorder_peak_fraction", "", "recorder's peak fill, of its capacity", _get("communications", "recorder_max_fill")),
    Merit("beacon_coverage", "", "share of the time a station hears the real-time beacon",
          _get("communications", "beacon_coverage")),
    Merit("latency_median_s", "s", "median age of the newest real-time sample on the ground",
          _get("communications", "realtime_latency_s")),
    Merit("best_x_rate_kbps", "kbit/s", "highest X-band rate over the network", lambda d: _best_rate(d, "X")),
    Merit("forecast_skill_earth_lead1", "", "skill against 27-day persistence at Earth, 1 day ahead, L1 + the point",
          lambda d: _skill(d, 1.0)),
    Merit("forecast_skill_earth_lead7", "", "skill against 27-day persistence at Earth, 7 days ahead, L1 + the point",
          lambda d: _skill(d, 7.0)),
    Merit("cme_arrival_mae_h", "h", "CME arrival-time mean absolute error at Earth, L1 + the point", _cme_mae),
    Merit("forecast_value_synthetic_lead1", "", "skill the point adds to L1 alone at Earth, 1 day ahead, on the "
          "synthetic run with the mission's data latency and loss", lambda d: _value(d, 1.0)),
    Merit("forecast_value_synthetic_lead7", "", "skill the point adds to L1 alone at Earth, 7 days ahead, on the "
          "synthetic run with the mission's data latency and loss", lambda d: _value(d, 7.0)),
)

REQUIRED = {"arrival_margin_days": 0.0, "propellant_margin_kg": 0.0}
"""Figures a design must hold at least to fly: arriving before operations start, carrying the
propellant its transfer burns."""


def feasible(figures: dict) -> bool:
    """Whether a variant's ``figures`` meet :data:`REQUIRED` (a figure not known does not count against it)."""
    return all(figures.get(name) is None or figures[name] >= least for name, least in REQUIRED.items())


def figures(document: dict) -> dict[str, float | None]:
    """Every figure of merit of a study document, by name (units in :data:`MERITS`)."""
    return {m.name: m.read(document) for m in MERITS}


def table(values: dict[str, float | None], title: str = "Figures of merit"):
    """The figures as a table a person reads."""
    def cell(x):
        return "—" if x is None else f"{x:.4g}"
    return tables.table(title, ["Figure", "Meaning", "Unit", "Value"],
                        [[m.name, m.description, m.unit, cell(values.get(m.name))] for m in MERITS], left=3)

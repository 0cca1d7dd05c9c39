"""Delivery section: the mission's bundles carried home by store and forward over its contact
plan (:mod:`l4station.comms.dtn.mission`), with its relays and with the ground stations alone,
over the first :data:`DAYS` days of operations.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from l4station.cache import compute
from l4station.comms.dtn import forwarding
from l4station.comms.dtn.mission import SPACE_NODES, deliver
from l4station.constants import DAY_S
from l4station.study import figures, inputs
from l4station.study.report import Figure, Section, Table

DAYS = 30                         # the study's delivery run, from the operations epoch
CDF_POINTS = 500


def first_days(passes, days: float):
    """The contact study's plan cut to its first ``days``."""
    n = min(len(passes.times), int(round(days * DAY_S / passes.step_s)))
    cut = {f.name: getattr(passes, f.name) for f in dataclasses.fields(passes)}
    for name in ("times", "tracked_by", "rate_bps", "beacon", "distance_m", "recorder_gbit", "realtime_latency_s"):
        cut[name] = cut[name][:n]
    for name in ("elevation_deg", "visible"):
        cut[name] = cut[name][:, :n]
    return type(passes)(**cut)


def _latency_figure(runs: dict) -> Figure:
    fig, ax = figures.subplots(figsize=(8.5, 4.2))
    for (label, run), style in zip(runs.items(), ("-", "--")):
        done = np.isfinite(run.result.delivered_s)
        for code, colour in ((0, "#1f77b4"), (2, "#2ca02c"), (1, "#d62728")):
            mine = done & (run.traffic.priority == code)
            if mine.sum() < 2:
                continue
            share = np.linspace(0, 1, min(int(mine.sum()), CDF_POINTS))
            lat = np.quantile(run.result.delivered_s[mine] - run.traffic.created_s[mine], share) / 3600
            ax.plot(lat, share, style, color=colour,
                    label=f"{forwarding.PRIORITIES[code]} ({label})")
    ax.set_xscale("log")
    ax.set_xlabel("latency (h)")
    ax.set_ylabel("share of bundles delivered within")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    return Figure.from_matplotlib(fig, "Latency of the beacon (expedited), the Mars lander's data (normal) and the "
                                       "imager's files (bulk), with the relays (solid) and with ground stations "
                                       "alone (dashed).")


def _storage_figure(runs: dict) -> Figure:
    fig, ax = figures.subplots(figsize=(8.5, 3.4))
    for (label, run), style in zip(runs.items(), ("-", "--")):
        for node, (t, bits) in run.result.storage_series.items():
            if np.max(bits, initial=0) > 0 and int(node) in SPACE_NODES:
                ax.step(np.asarray(t) / DAY_S, np.asarray(bits) / 1e9, style, where="post", lw=0.8,
                        label=f"{run.network.names.get(int(node), str(node))} ({label})")
    ax.set_yscale("symlog", linthresh=1e-3)
    ax.set_xlabel("days from the operations epoch")
    ax.set_ylabel("held (Gbit)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    return Figure.from_matplotlib(fig, "Bundles held aboard over time: with ground stations alone (dashed) the "
                                       "station's store fills between passes and empties in each; the relays "
                                       "(solid) keep it nearly empty.")


def section(context) -> Section:
    config = context.config
    passes = first_days(context.contacts, DAYS)
    mission = inputs.delivery(config)
    key = (mission, inputs.contacts(config), inputs.stay(config), inputs.survey(config), DAYS)
    runs = compute(context.cache, "delivery", key,
                   lambda: {label: deliver(mission, passes, context.links, relays=relays)
                            for label, relays in (("with relays", True), ("ground only", False))})
    results = {label: run.result for label, run in runs.items()}
    with_relays, ground = results["with relays"], results["ground only"]
    names = runs["with relays"].network.names
    doc = {"days": DAYS, "network": runs["with relays"].network.to_json(),
           **{label.replace(" ", "_"): r.to_json() for label, r in results.items()}}
    fmt = lambda x: "-" if x is None else f"{x:,.0f}"          # noqa: E731
    rows = [[label, f"{r.bundles:,}", f"{r.delivered:,}", f"{r.lost:,}", fmt(r.latency_s["p50"]),
             fmt(r.latency_s["p95"]), fmt(r.latency_s["max"]), f"{r.files['complete']:,} / {r.files['sent']:,}"]
            for label, r in results.items()]
    paths = [[" → ".join(names.get(int(n), n) for n in key.split(">")), f"{v['bundles']:,}", fmt(v["p50"]),
              fmt(v["p95"])] for key, v in with_relays.latency_by_path.items()]
    peaks = [[names.get(int(n), str(n)), f"{b / 1e9:,.3f}"] for n, b in with_relays.storage_peak_bits.items() if b > 0]
    return Section(
        "delivery", "Delivery", doc,
        summary=(f"Over {DAYS} days, store and forward over the contact plan delivers "
                 f"{with_relays.delivered:,} of {with_relays.bundles:,} bundles with the relays (median latency "
                 f"{fmt(with_relays.latency_s['p50'])} s, 95th percentile {fmt(with_relays.latency_s['p95'])} s) "
                 f"against {ground.delivered:,} with ground stations alone (95th percentile "
                 f"{fmt(ground.latency_s['p95'])} s)."),
        tables=[Table("What a relay buys: bundles and latency (s)",
                      ["Network", "Bundles", "Delivered", "Lost", "p50", "p95", "Max", "Files complete"], rows),
                Table("Latency by path, with the relays (s)", ["Path", "Bundles", "p50", "p95"], paths),
                Table("Storage peaks, with the relays (Gbit)", ["Node", "Peak"], peaks)],
        figures=[_latency_figure(runs), _storage_figure(runs)] if context.draw else [],
    )

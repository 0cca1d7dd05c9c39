"""Store-and-forward: a year of the station's bundles over a 10-node plan (target: at least
1,000,000 bundles simulated in under 60 s).

The plan: the station (1) has a daily 8-hour pass with each of three ground stations (100-102,
eight hours apart with up to 15 minutes of jitter, so passes overlap or leave gaps; 500 kbit/s,
499 s of light time) and continuous crosslinks to two relays near Earth (11 at 64 kbit/s, 12 at
32 kbit/s, 500 and 505 s), which reach the operations centre (200) without a break, as the ground
stations do; the centre feeds the forecast centre (201), the science archive (202) and the partner
agency's centre (300). Continuous links are published as one contact a day. The traffic: a 2-kbit
beacon every minute (priority 0, green, to 201), a 64-kbit science bundle every 30 s (priority 1,
red, to 202) and a 4-Mbit image every hour as a file of 64-kbit bundles (priority 2, red, to
300). LTP segments are lost at 1 % on the passes and 2 % on the crosslinks.

    python benchmarks/bench_forwarding.py
"""
import time

import numpy as np

from l4station.comms.dtn import forwarding, plan as plans

TARGET_S = 60.0
DAY_S = 86400.0
STATION, RELAYS, GROUND, MOC, FORECAST, ARCHIVE, PARTNER = 1, (11, 12), (100, 101, 102), 200, 201, 202, 300


def year_plan(days=365, seed=0) -> plans.ContactPlan:
    rng = np.random.default_rng(seed)
    rows = []
    for day in range(days):
        t = day * DAY_S
        for k, g in enumerate(GROUND):                      # 8-hour passes, up to 15 min of jitter a day
            start = t + k * DAY_S / 3 + rng.uniform(0, 900)
            rows.append((STATION, g, start, start + 8 * 3600.0, 500e3, 499.0))
        continuous = [(STATION, 11, 64e3, 500.0), (STATION, 12, 32e3, 505.0), (11, MOC, 10e6, 0.15),
                      (12, MOC, 10e6, 0.15), (MOC, FORECAST, 1e9, 0.01), (MOC, ARCHIVE, 1e9, 0.01),
                      (MOC, PARTNER, 1e8, 0.05)]
        continuous += [(g, MOC, 100e6, 0.05) for g in GROUND]
        rows += [(a, b, t, t + DAY_S, rate, owlt) for a, b, rate, owlt in continuous]
    names = {STATION: "L4", 11: "relay-A", 12: "relay-B", 100: "DSS-14", 101: "DSS-43", 102: "DSS-63",
             MOC: "MOC", FORECAST: "SWPC", ARCHIVE: "archive", PARTNER: "partner"}
    return plans.ContactPlan.of(rows, names=names)


def year_traffic(days=365) -> forwarding.Traffic:
    stop = days * DAY_S
    return forwarding.Traffic.concat([
        forwarding.periodic(STATION, FORECAST, 0.0, stop, 60.0, 2e3, priority=0, red=False),
        forwarding.periodic(STATION, ARCHIVE, 7.0, stop, 30.0, 64e3, priority=1, red=True),
        forwarding.periodic(STATION, PARTNER, 11.0, stop, 3600.0, 64e3, priority=2, red=True, file_bits=4e6),
    ])


def run(days=365):
    plan, traffic = year_plan(days), year_traffic(days)
    loss = {(STATION, g): 0.01 for g in GROUND} | {(STATION, r): 0.02 for r in RELAYS}
    storage = {STATION: 8e9, 11: 2e9, 12: 2e9} | {g: 1e11 for g in GROUND}
    return plan, traffic, forwarding.simulate(plan, traffic, storage_bits=storage, loss=loss)


def main():
    run(days=2)                                                          # compile (cached after the first run)
    began = time.perf_counter()
    plan, traffic, result = run()
    ours = time.perf_counter() - began
    doc = result.to_json()
    print(f"plan: {len(plan):,} contacts, {len(plan.nodes)} nodes, {doc['days']} days; {len(traffic):,} bundles")
    print(f"delivered {doc['delivered']:,}, lost {doc['lost_by_reason']}; latency p50 {doc['latency_s']['p50']:.1f} s, "
          f"p95 {doc['latency_s']['p95']:.1f} s; files {doc['files']}; {doc['route_searches']:,} CGR searches")
    print(f"simulated in {ours:.1f} s (plan, traffic and simulation); target {TARGET_S:.0f} s "
          f"(ratio {TARGET_S / ours:.1f}x)")


if __name__ == "__main__":
    main()

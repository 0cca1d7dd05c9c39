"""Contact graph routing: best-route queries on a 50-node plan of about 7,000 contacts (target:
at least 1,000 queries/s), beside a plain-Python contact-graph Dijkstra written from the CGR
tutorial (tests/comms/dtn/plain_cgr.py), on the same queries; and Yen's 10 best routes.

    python benchmarks/bench_routing.py
"""
import sys
import time
from pathlib import Path

import numpy as np

from timing import best_of

from l4station.comms.dtn import cgr, plan as plans

sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "comms" / "dtn"))
from plain_cgr import best_delivery  # noqa: E402

TARGET_QPS = 1000.0
NODES, CONTACTS, WEEK_S = 50, 7000, 7 * 86400.0


def synthetic_plan(seed=0) -> plans.ContactPlan:
    """50 nodes; each of 140 directed pairs gets 50 passes of 20-64 min over a week, one-way light
    times from 0.01 s to 20 min (Earth orbit to deep space)."""
    rng = np.random.default_rng(seed)
    pairs = set()
    while len(pairs) < CONTACTS // 50:
        a, b = rng.integers(1, NODES + 1, 2)
        if a != b:
            pairs.add((int(a), int(b)))
    rows = []
    for a, b in sorted(pairs):
        owlt = float(10 ** rng.uniform(-2, np.log10(1200)))
        rate = float(10 ** rng.uniform(3, 8))
        slots = np.sort(rng.choice(np.arange(50 * 3) * WEEK_S / 150, 50, replace=False))
        for start in slots:
            rows.append((a, b, start, start + rng.uniform(0.3, 0.95) * WEEK_S / 150, rate, owlt))
    return plans.ContactPlan.of(rows)


def main():
    plan = synthetic_plan()
    router = cgr.Router(plan)
    rng = np.random.default_rng(1)
    nodes = plan.nodes
    queries = [(int(a), int(b), float(t)) for a, b, t in zip(rng.choice(nodes, 3000), rng.choice(nodes, 3000),
                                                              rng.uniform(0, WEEK_S / 2, 3000)) if a != b]
    router.best_route(*queries[0][:2])                                   # compile
    ours = best_of(lambda: [router.best_route(a, b, t) for a, b, t in queries], repeat=3) / len(queries)
    tuples = [tuple(float(x) for x in row) + (float(v),) for row, v in
              zip(zip(plan.frm, plan.to, plan.start_s, plan.end_s, plan.rate_bps, plan.owlt_s), plan.volume_bits)]
    sample = queries[:20]
    began = time.perf_counter()
    plain = [best_delivery(tuples, a, b, t) for a, b, t in sample]
    theirs = (time.perf_counter() - began) / len(sample)
    mine = [(r.delivery_s if r else np.inf) for r in (router.best_route(a, b, t) for a, b, t in sample)]
    assert np.allclose(plain, mine), "the two routers disagree"
    yen = best_of(lambda: [router.routes(a, b, t, k=10) for a, b, t in queries[:100]], repeat=1) / 100
    print(f"plan: {len(plan)} contacts, {len(nodes)} nodes")
    print(f"best route: {1 / ours:,.0f} queries/s ({ours * 1e6:.0f} us); target {TARGET_QPS:,.0f} "
          f"(ratio {1 / ours / TARGET_QPS:.1f}x)")
    print(f"plain-Python contact-graph Dijkstra: {1 / theirs:,.1f} queries/s ({theirs * 1e3:.0f} ms); "
          f"ours is {theirs / ours:,.0f}x faster, same delivery times on {len(sample)} queries")
    print(f"Yen's 10 best routes: {1 / yen:,.0f} queries/s ({yen * 1e3:.1f} ms)")


if __name__ == "__main__":
    main()

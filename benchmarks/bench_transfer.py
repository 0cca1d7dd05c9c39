"""The whole ``l4station transfer`` on the default mission, as a user runs it, against
its 60 s budget on 2 cores.

    python benchmarks/bench_transfer.py
"""
import json
import subprocess
import sys
import time

BUDGET_S = 60.0


def main():
    runs = []
    for _ in range(2):
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "l4station", "transfer", "--json"],
                             check=True, capture_output=True, text=True).stdout
        runs.append(time.perf_counter() - t0)
    doc = json.loads(out)
    print(f"l4station transfer (default mission): {doc['lambert_solves']:,} Lambert arcs, "
          f"{len(doc['pareto'])} transfers refined in the full-force model")
    print(f"  command, first run   {runs[0]:6.1f} s (numba cache warm after the first ever run)")
    print(f"  command, best        {min(runs):6.1f} s   budget {BUDGET_S:.0f} s   ratio {BUDGET_S / min(runs):4.1f}x under")
    print(f"  of which the trade   {doc['elapsed_s']:6.1f} s")


if __name__ == "__main__":
    main()

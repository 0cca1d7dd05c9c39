"""Radiation:
- organ doses from an event spectrum behind 100 shield thicknesses x 3 organs (target: under
  50 ms), beside the first call, which also builds the organ kernels (the direction-averaged dose
  per proton reaching the body, 1,200 energies x 2,048 directions each);
- the operational dose update, the cabin's BFO dose rate and the shelter advisory from a day of
  1-minute particle channels (target: under 100 ms).

    python benchmarks/bench_radiation.py
"""
import time

import numpy as np

from timing import best_of

from l4station.ground import alerts
from l4station.radiation import dose, spectra

TARGET_S = 0.050


def main():
    event = spectra.event("sapphire-1in100")
    shields = np.linspace(0.1, 50.0, 100)
    began = time.perf_counter()
    dose.doses(event, shields)
    first = time.perf_counter() - began
    ours = best_of(lambda: dose.doses(event, shields), repeat=20)
    print(f"100 thicknesses x 3 organs: {ours * 1e3:.1f} ms; target {TARGET_S * 1e3:.0f} ms (ratio {ours / TARGET_S:.2f}); "
          f"first call with the kernels built {first * 1e3:.0f} ms ({first / ours:.0f}x)")

    minutes = np.arange(1440)
    size = np.where(minutes >= 120, 1e4 * np.exp(-(minutes - 120) / 600.0), 1e-3)
    shape = (6.0, 2.5, 1.0, 0.25, 0.12, 0.04)
    day = {"t_us": minutes * 60_000_000, **{c: k * size for c, k in zip(alerts.CHANNELS, shape)}}
    alerts.shelter_alerts(day)                                  # the channel responses, once
    update = best_of(lambda: alerts.shelter_alerts(day), repeat=20)
    print(f"a day of 1-minute channels to dose rates and the shelter advisory: {update * 1e3:.1f} ms; target 100 ms "
          f"(ratio {update / 0.100:.3f})")


if __name__ == "__main__":
    main()

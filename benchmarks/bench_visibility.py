"""Elevations of the L4 station from 15 ground stations, 5 years at 1-minute steps, against
astropy's AltAz transform on the same times (required: seconds, not minutes; agreement 0.01 deg).

    python benchmarks/bench_visibility.py

astropy is timed on a 10-day slice for every station and scaled to 5 years (its cost is
linear in the number of times); agreement is measured on that slice.
"""
import warnings

import astropy.units as u
import numpy as np
from astropy.coordinates import ICRS, AltAz, CartesianRepresentation, SkyCoord
from astropy.time import Time
from timing import best_of

from l4station import config, ephemeris
from l4station.comms import contacts
from l4station.comms.stations import catalogue
from l4station.comms.visibility import elevations
from l4station.study import inputs


def l4_bcrs(t):
    return ephemeris.lagrange_point("L4", t, frame="icrf", center="ssb")[0].value


def main():
    warnings.simplefilter("ignore")
    stations = list(catalogue().values())[:15]
    full = Time("2031-01-01") + np.arange(0, 5 * 365.25 * 1440) * u.min
    ours = best_of(lambda: elevations(full, l4_bcrs, stations), repeat=2)
    n = len(full) * len(stations)
    print(f"{len(stations)} stations x {len(full):,} times (5 years at 1 min) = {n:,} elevations")
    print(f"  l4station           {ours:8.2f} s   {n / ours:14,.0f} elevations/s")

    slice_ = full[: 10 * 1440]
    target = SkyCoord(CartesianRepresentation(l4_bcrs(slice_).T * u.km), frame=ICRS())
    theirs_el = []

    def astropy_slice():
        theirs_el.clear()
        for s in stations:
            aa = target.transform_to(AltAz(obstime=slice_, location=s.location, pressure=0 * u.hPa))
            theirs_el.append(aa.alt.deg)
    t_slice = best_of(astropy_slice, repeat=1)
    scaled = t_slice * len(full) / len(slice_)
    print(f"  astropy AltAz       {scaled:8.1f} s   {n / scaled:14,.0f} elevations/s  (10-day slice x {len(full) / len(slice_):.0f})")
    print(f"  ratio               {scaled / ours:8.1f}x faster")
    ours_slice = elevations(slice_, l4_bcrs, stations)
    print(f"  agreement on the slice: max |diff| {np.max(np.abs(ours_slice - np.array(theirs_el))):.5f} deg (limit 0.01)")

    # The whole contact plan (schedule, rate tables, recorder, latency) for the same 15 stations.
    mission = config.parse({**config._default_document(),
                            "ground": {"stations": [s.name for s in stations], "contact_step_s": 60.0,
                                       "tracking_hours_per_day": 8.0}})
    whole = best_of(lambda: contacts.plan(inputs.contacts(mission), l4_bcrs), repeat=1)
    print(f"  whole contact plan, 15 stations, 5 years at 1 min: {whole:.1f} s")


if __name__ == "__main__":
    main()

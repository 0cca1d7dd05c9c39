"""JPL SPK type-2 segments (Chebyshev series of position) evaluated in compiled code.

A type-2 segment holds, for each interval of ``intlen`` seconds from ``init`` (TDB seconds past
J2000), Chebyshev coefficients of x, y, z (km); the velocity is the series' derivative (Acton
1996, *Planet. Space Sci.* 44, 65; NAIF "SPK Required Reading", type 2). This is jplephem's
``Segment.generate`` (the Clenshaw recurrences for the value and its derivative) operation for
operation in one compiled loop, so positions equal jplephem's bit for bit at a fraction of the
cost; :mod:`l4station.ephemeris` sums segments with it.

Units: dates as two-part TDB Julian dates; positions km, velocities km/day.

A segment whose x is 2 T1(s) + T0(s) (s from -1 to 1 over one 2-day interval from J2000), y = 5
and z = -3 km: half a day in, s = -0.5, so x = 0 km, moving at 2 km/day:

>>> table = np.array([[[2.0, 1.0], [0.0, 5.0], [0.0, -3.0]]])     # (intervals, xyz, highest order first)
>>> position, velocity = np.zeros((1, 3)), np.zeros((1, 3))
>>> add_state(0.0, 2 * DAY_S, table, np.array([T0]), np.array([0.5]), position, velocity)
True
>>> position.tolist(), velocity.tolist()
([[0.0, 5.0, -3.0]], [[2.0, 0.0, 0.0]])
"""
from __future__ import annotations

import numpy as np
from numba import njit

from l4station.constants import DAY_S

T0 = 2451545.0        # JD of J2000 (TDB), jplephem's T0


def coefficients(segment) -> tuple[float, float, np.ndarray] | None:
    """(init s, intlen s, coefficients (n, 3, C), highest order first) of a jplephem type-2
    segment, read into memory with each interval's together; None for another type."""
    if segment.data_type != 2:
        return None
    init, intlen, table = segment._data       # jplephem's own reading: (C, 3, n)
    return float(init), float(intlen), np.ascontiguousarray(np.transpose(table, (2, 1, 0)), dtype=float)


@njit(cache=True)
def add_state(init, intlen, table, jd1, jd2, position, velocity) -> bool:
    """Adds the segment's position (km) and velocity (km/day) at TDB dates jd1 + jd2 (N,) to
    ``position`` and ``velocity`` (N, 3). Returns False, adding nothing more, at the first date
    outside the segment."""
    n = table.shape[0]
    last = table.shape[2] - 1
    for i in range(jd1.shape[0]):
        # Whole intervals and the fraction kept apart, for precision (jplephem).
        index1, offset1 = divmod((jd1[i] - T0) * DAY_S - init, intlen)
        index2, offset2 = divmod(jd2[i] * DAY_S, intlen)
        index3, offset = divmod(offset1 + offset2, intlen)
        index = int(index1 + index2 + index3)
        if index < 0 or index > n:
            return False
        if index == n:                            # the segment's very end
            index -= 1
            offset += intlen
        s = 2.0 * offset / intlen - 1.0
        s2 = 2.0 * s
        for k in range(3):
            w0 = w1 = dw0 = dw1 = 0.0
            for j in range(last):                 # Clenshaw, value and derivative together
                w2 = w1
                w1 = w0
                w0 = table[index, k, j] + (s2 * w1 - w2)
                dw2 = dw1
                dw1 = dw0
                dw0 = 2.0 * w1 + dw1 * s2 - dw2
            position[i, k] += table[index, k, last] + (s * w0 - w1)
            rate = w0 + s * dw0 - dw1
            rate /= intlen
            rate *= 2.0
            rate *= DAY_S
            velocity[i, k] += rate
    return True

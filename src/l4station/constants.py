"""Physical and astronomical constants, each defined once.

The astronomical unit (IAU 2012 Resolution B2) and the speed of light (SI, exact) come from
``astropy.constants``, read when first asked for (so that the command's ``--help`` loads no
astropy); the Sun's sidereal rotation is Carrington's 25.38 days (Carrington 1863), the
convention of Solar-MACH and of Parker-spiral connectivity work, and its synodic rotation seen
from Earth HUXt's 27.2753 days (Owens et al. 2020).

>>> from l4station.constants import AU_KM, C_KM_S
>>> AU_KM, C_KM_S
(149597870.7, 299792.458)
"""
from __future__ import annotations

import math

DAY_S = 86400.0                                 # s in a day of UTC/TDB
DAY_US = 86_400_000_000                         # the archive's microseconds in a day
HOUR_US = 3_600_000_000                         # and in an hour
JULIAN_YEAR_DAYS = 365.25
JULIAN_YEAR_S = JULIAN_YEAR_DAYS * DAY_S
EARTH_MEAN_ORBITAL_SPEED_KMS = 29.78            # NASA Earth fact sheet (2 pi au / sidereal year)
SUN_SIDEREAL_PERIOD_DAYS = 25.38                # Carrington rotation, sidereal
SUN_SIDEREAL_RAD_S = 2 * math.pi / (SUN_SIDEREAL_PERIOD_DAYS * DAY_S)
SYNODIC_PERIOD_DAYS = 27.2753                   # Carrington rotation seen from Earth (HUXt's constant)
LAGRANGE_AHEAD_DEG = {"L4": 60.0, "L5": -60.0}  # the triangular points lead (L4) or trail (L5) Earth by 60 deg (Lagrange 1772)
OBSERVER_LONGITUDES_DEG = {"L1": 0.0, **LAGRANGE_AHEAD_DEG}   # heliographic longitude from Earth's, deg

_FROM_ASTROPY = {"AU_M": ("au", 1.0), "AU_KM": ("au", 1e3), "C_M_S": ("c", 1.0), "C_KM_S": ("c", 1e3)}   # divisors


def __getattr__(name: str) -> float:
    """AU_M, AU_KM (exact by definition) and C_M_S, C_KM_S (exact) from astropy.constants."""
    if name not in _FROM_ASTROPY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from astropy import constants
    quantity, divisor = _FROM_ASTROPY[name]
    value = float(getattr(constants, quantity).value) / divisor
    globals()[name] = value
    return value

"""Physical and astronomical constants, each defined once.

The astronomical unit (IAU 2012 Resolution B2) and the speed of light (SI, exact) come from
``astropy.constants``; the Sun's sidereal rotation is Carrington's 25.38 days (Carrington 1863),
the convention of Solar-MACH and of Parker-spiral connectivity work.

>>> AU_KM, C_KM_S
(149597870.7, 299792.458)
"""
from __future__ import annotations

import math

from astropy import constants as _astropy

AU_M = float(_astropy.au.value)                 # m, exact by definition
AU_KM = AU_M / 1e3
C_M_S = float(_astropy.c.value)                 # m/s, exact by definition
C_KM_S = C_M_S / 1e3
DAY_S = 86400.0                                 # s in a day of UTC/TDB
JULIAN_YEAR_DAYS = 365.25
JULIAN_YEAR_S = JULIAN_YEAR_DAYS * DAY_S
EARTH_MEAN_ORBITAL_SPEED_KMS = 29.78            # NASA Earth fact sheet (2 pi au / sidereal year)
SUN_SIDEREAL_PERIOD_DAYS = 25.38                # Carrington rotation, sidereal
SUN_SIDEREAL_RAD_S = 2 * math.pi / (SUN_SIDEREAL_PERIOD_DAYS * DAY_S)

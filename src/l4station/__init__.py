"""l4station: mission design and space-weather operations for a Sun–Earth L4 observatory."""
import warnings as _warnings

from astropy.utils import iers as _iers
from erfa import ErfaWarning as _ErfaWarning

# Nothing is downloaded at run time: astropy uses the IERS and leap-second tables
# shipped in astropy-iers-data, and Earth orientation beyond them degrades to a warning.
# Mission epochs lie years past any table: there UT1-UTC is unknowable (|UT1-UTC| < 0.9 s,
# under 0.004 deg of Earth rotation), which station visibility tolerates.
_iers.conf.auto_download = False
_iers.conf.auto_max_age = None  # use the shipped predictions however old; never fetch newer ones
_iers.conf.iers_degraded_accuracy = "warn"

# Mission epochs lie years ahead, past the leap-second table: ERFA then flags UTC as a
# "dubious year". UTC-TAI for such dates is a prediction (no new leap seconds) by
# nature, so that one message is silenced; every other ERFA warning still shows.
_warnings.filterwarnings("ignore", message=r'ERFA function "\w+" yielded .*dubious year',
                         category=_ErfaWarning)

__version__ = "0.1.0"

"""l4station: mission design and space-weather operations for a Sun–Earth L4 observatory.

Importing the package loads nothing heavy and changes no setting of its host: Earth
orientation (UT1) is read from the IERS tables shipped in astropy-iers-data, without a
download, inside the one function that needs it (:mod:`l4station.comms.visibility`).
"""
import warnings as _warnings

# Mission epochs lie years ahead, past the leap-second table: ERFA then flags UTC as a
# "dubious year". UTC-TAI for such dates is a prediction (no new leap seconds) by
# nature, so that one message is silenced; every other ERFA warning still shows.
_warnings.filterwarnings("ignore", message=r'ERFA function "\w+" yielded .*dubious year')

__version__ = "0.1.0"
